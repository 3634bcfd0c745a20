"""The one export helper (selfcare/exports.py): formula cells, numbers, Excel's conventions per language."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.utils import translation
from openpyxl import load_workbook

from selfcare.exports import Column, export_response

COLUMNS = [
    Column("Name", lambda row: row["name"]),
    Column("Amount", lambda row: row["amount"]),
    Column("Count", lambda row: row["count"]),
    Column("When", lambda row: row["when"]),
    Column("Day", lambda row: row["day"]),
]
ROWS = [
    {"name": "=HYPERLINK(\"http://evil.example\")", "amount": Decimal("-1234.50"), "count": -3,
     "when": datetime(2026, 6, 30, 22, 30, tzinfo=UTC), "day": date(2026, 7, 1)},
    {"name": "-2+3", "amount": Decimal("0.25"), "count": 7, "when": None, "day": None},
    {"name": "@SUM(A1)", "amount": 1.5, "count": 0, "when": None, "day": None},
    {"name": "+45 20 11 22 33", "amount": None, "count": None, "when": None, "day": None},
    {"name": "\tTab", "amount": None, "count": None, "when": None, "day": None},
    {"name": "\rReturn", "amount": None, "count": None, "when": None, "day": None},
    {"name": "Ærø, Øster & Åse", "amount": None, "count": None, "when": None, "day": None},
]


def _csv(language):
    with translation.override(language):
        response = export_response(export_format="csv", columns=COLUMNS, rows=iter(ROWS), filename="list")
        content = b"".join(response.streaming_content).decode("utf-8")
    return response, content


def _xlsx():
    response = export_response(export_format="xlsx", columns=COLUMNS, rows=iter(ROWS), filename="list",
                               sheet_title="List: 2026/07")
    return response, load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]


@pytest.mark.parametrize("language", ["da", "sv"])
def test_danish_and_swedish_csv_uses_semicolons_and_decimal_commas(language):
    response, content = _csv(language)
    assert response["Content-Disposition"] == 'attachment; filename="list.csv"'
    assert content.startswith("\ufeffName;Amount;Count;When;Day\r\n")
    rows = list(csv.reader(io.StringIO(content[1:]), delimiter=";"))
    # Negative numbers stay plain numbers (no quote prefix), with the decimal comma Excel expects there.
    assert rows[1][1:] == ["-1234,50", "-3", "2026-07-01 00:30:00", "2026-07-01"]  # Copenhagen summer time
    assert rows[2][1:3] == ["0,25", "7"] and rows[3][1] == "1,5"
    assert rows[7][0] == "Ærø, Øster & Åse"


def test_english_csv_uses_commas_and_decimal_points():
    _response, content = _csv("en")
    rows = list(csv.reader(io.StringIO(content[1:])))
    assert rows[0] == ["Name", "Amount", "Count", "When", "Day"]
    assert rows[1][1:3] == ["-1234.50", "-3"] and rows[2][1] == "0.25"
    assert rows[7][0] == "Ærø, Øster & Åse"  # quoted: the comma is inside the cell


def test_csv_neutralises_every_formula_trigger():
    _response, content = _csv("en")
    names = [row[0] for row in csv.reader(io.StringIO(content[1:]))][1:]
    assert names[:6] == ["'=HYPERLINK(\"http://evil.example\")", "'-2+3", "'@SUM(A1)", "'+45 20 11 22 33",
                         "'\tTab", "'\rReturn"]


def test_xlsx_keeps_numbers_and_dates_and_never_writes_a_formula():
    response, sheet = _xlsx()
    assert response["Content-Disposition"] == 'attachment; filename="list.xlsx"'
    assert sheet.title == "List 202607"
    rows = list(sheet.iter_rows())
    assert [cell.value for cell in rows[0]] == ["Name", "Amount", "Count", "When", "Day"]
    amount, count = rows[1][1], rows[1][2]
    assert amount.data_type == "n" and amount.value == Decimal("-1234.5") and amount.number_format == "0.00"
    assert count.data_type == "n" and count.value == -3
    assert rows[1][3].value == datetime(2026, 7, 1, 0, 30) and rows[1][3].is_date  # the reader's time zone
    assert rows[1][4].value.date() == date(2026, 7, 1) and rows[1][4].is_date
    for row, text in zip(rows[1:7], [row["name"] for row in ROWS], strict=False):
        cell = row[0]
        # The text exactly as it was, stored as text with Excel's quote prefix: shown, never run.
        # (XML reads a carriage return back as a line feed.)
        assert (cell.value, cell.data_type, cell.quotePrefix) == (text.replace("\r", "\n"), "s", True)
    assert rows[7][0].value == "Ærø, Øster & Åse" and not rows[7][0].quotePrefix
    assert all(cell.data_type != "f" for row in rows for cell in row)


@pytest.mark.parametrize("export_format", ["csv", "xlsx"])
def test_a_background_job_writes_the_same_file(export_format):
    from selfcare.exports import export_write

    with translation.override("da"):
        response = export_response(export_format=export_format, columns=COLUMNS, rows=iter(ROWS), filename="list")
        file = io.BytesIO()
        export_write(file, export_format=export_format, columns=COLUMNS, rows=iter(ROWS))
    streamed = b"".join(response.streaming_content)
    if export_format == "csv":
        assert file.getvalue() == streamed
    else:
        read = [[cell.value for cell in row] for row in load_workbook(file).worksheets[0].iter_rows()]
        assert read == [[cell.value for cell in row]
                        for row in load_workbook(io.BytesIO(streamed)).worksheets[0].iter_rows()]


def test_the_streamed_csv_keeps_the_readers_language_after_the_view_has_returned():
    with translation.override("da"):
        response = export_response(export_format="csv", columns=[Column("Amount", lambda row: row)],
                                   rows=iter([Decimal("-1.5")]), filename="list")
    with translation.override("en"):  # the server iterates the body later, in whatever state
        content = b"".join(response.streaming_content).decode("utf-8")
    assert content == "\ufeffAmount\r\n-1,5\r\n"
