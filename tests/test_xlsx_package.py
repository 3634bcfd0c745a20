"""The .xlsx package selfcare/exports.py writes itself (no longer cell by cell through openpyxl): read back
with openpyxl, it is the sheet the list asked for (title, bold frozen header, widths, formats), for any text."""

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal

from openpyxl import load_workbook

from selfcare.exports import Column, export_write


def written(columns, rows, title="Subscriptions"):
    file = io.BytesIO()
    export_write(file, export_format="xlsx", columns=columns, rows=iter(rows), sheet_title=title)
    return file


def test_header_widths_frozen_pane_and_formats_read_back():
    columns = [Column("Name <&>", lambda row: row[0], width=30), Column("Price", lambda row: row[1]),
               Column("Day", lambda row: row[2]), Column("When", lambda row: row[3])]
    rows = [("  padded  ", Decimal("12.500"), date(2026, 1, 31), datetime(2026, 1, 31, 23, 59, 58)),
            ("Ærø & <Øst>", 3, None, None)]
    sheet = load_workbook(written(columns, rows, "Lines: 2026/01")).worksheets[0]
    assert sheet.title == "Lines 202601" and sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["A"].width == 30
    header = list(sheet.iter_rows(max_row=1))[0]
    assert [cell.value for cell in header] == ["Name <&>", "Price", "Day", "When"] and all(c.font.b for c in header)
    first, second = list(sheet.iter_rows(min_row=2))
    assert first[0].value == "  padded  " and not first[0].font.b  # spaces kept, body not bold
    assert first[1].value == Decimal("12.5") and first[1].number_format == "0.000"
    assert first[2].value == datetime(2026, 1, 31) and first[2].is_date and first[2].number_format == "yyyy-mm-dd"
    assert first[3].value == datetime(2026, 1, 31, 23, 59, 58) and first[3].number_format == "yyyy-mm-dd hh:mm:ss"
    assert [cell.value for cell in second] == ["Ærø & <Øst>", 3, None, None] and second[1].data_type == "n"


def test_characters_xml_cannot_hold_are_left_out_instead_of_failing_the_export():
    sheet = load_workbook(written([Column("Note", lambda row: row)], ["bell\x07 and\x1b escape"])).worksheets[0]
    assert sheet["A2"].value == "bell and escape"


def test_a_big_sheet_is_one_package_with_the_parts_excel_needs():
    file = written([Column("Number", lambda row: row), Column("Text", lambda row: f"=line {row}")], range(3000))
    parts = set(zipfile.ZipFile(file).namelist())
    assert {"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
            "xl/styles.xml", "xl/worksheets/sheet1.xml"} <= parts
    sheet = load_workbook(file, read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 3001 and rows[-1] == (2999, "=line 2999")
