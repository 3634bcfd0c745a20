"""Every CSV and .xlsx file the portal writes goes through here.

A list declares its columns (a header and a getter) and hands over its rows; this module turns them
into a streamed CSV or a real .xlsx workbook::

    columns = [Column(_("Number"), lambda row: row.number), Column(_("Price"), lambda row: row.price)]
    return export_response(export_format="xlsx", columns=columns, rows=queryset.iterator(), filename="subscriptions")

What it guarantees, so no list has to remember it:

- text that a spreadsheet would run as a formula (a cell beginning with ``=``, ``+``, ``-``, ``@``, a tab
  or a carriage return; OWASP's "CSV injection") is neutralised: in CSV it gets a leading single
  quote, in .xlsx it is stored as a text cell marked with Excel's own "quote prefix" (the apostrophe
  Excel adds when one types ``'=…``), so it shows exactly as typed and never runs;
- numbers (int, Decimal, float) stay numbers, negative ones too: a number cell in .xlsx, a plain
  number in CSV;
- CSV follows the reader's language as Excel expects it there: ``;`` between cells and ``,`` as the
  decimal mark in Danish and Swedish, ``,`` and ``.`` in English; always UTF-8 with a byte-order mark
  so Excel reads æ, ø and å;
- times are shown in the reader's time zone (the active one), dates and times as real date cells in .xlsx;
- nothing sits in memory: CSV streams row by row; .xlsx is written here (``xlsx_write``, a minimal
  SpreadsheetML package compressed as it is written) to a temporary file that the response then streams.

``export_write`` writes the same file to a file object, for an export that runs as a background job.
"""

import csv
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

EXPORT_FORMATS = ("csv", "xlsx")

# Characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

# Excel's CSV conventions per language: (separator, decimal mark).
CSV_CONVENTIONS = {"da": (";", ","), "sv": (";", ",")}
CSV_DEFAULT_CONVENTION = (",", ".")

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
DATE_FORMAT = "%Y-%m-%d"


@dataclass(frozen=True)
class Column:
    """One column of an export: its header (translated when the file is written) and how to get a
    row's value. The value may be text, a number, a date or a time, a bool, or None (empty)."""

    label: Any
    value: Callable[[Any], Any]
    # Excel's width in characters for the .xlsx sheet; None leaves Excel's default.
    width: int | None = None


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS)


def neutralise(text: str) -> str:
    """Text made safe for a CSV cell: a leading single quote when a spreadsheet would run it."""
    return f"'{text}" if is_formula_like(text) else text


def _is_number(value) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _local(value):
    """Aware times in the reader's time zone; dates and naive times as they are."""
    if isinstance(value, datetime) and timezone.is_aware(value):
        return timezone.localtime(value)
    return value


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return str(value)


def export_response(*, export_format: str, columns: list[Column], rows: Iterable, filename: str,
                    sheet_title: str = ""):
    """The download of ``rows`` as ``filename.csv`` or ``filename.xlsx``.

    The file is written in the language and time zone active now (the reader's), even though a
    streamed CSV is produced after the view has returned.
    """
    if export_format == "csv":
        return csv_response(columns=columns, rows=rows, filename=f"{filename}.csv")
    if export_format == "xlsx":
        return xlsx_response(columns=columns, rows=rows, filename=f"{filename}.xlsx", sheet_title=sheet_title)
    raise ValueError(f"unknown export format {export_format!r}")


def export_write(file, *, export_format: str, columns: list[Column], rows: Iterable, sheet_title: str = "") -> None:
    """The same file written to a binary file object instead of a response: for an export that runs
    as a background job (``selfcare.jobs``, ``progress.store_result``)."""
    if export_format == "csv":
        for line in csv_lines(columns=columns, rows=rows):
            file.write(line.encode("utf-8"))
    elif export_format == "xlsx":
        xlsx_write(file, columns=columns, rows=rows, sheet_title=sheet_title)
    else:
        raise ValueError(f"unknown export format {export_format!r}")


# CSV --------------------------------------------------------------------------------------------

class _Echo:
    """A file-like object whose write() hands the line back, so csv.writer can feed a stream."""

    def write(self, value):
        return value


def csv_convention(language: str | None = None) -> tuple[str, str]:
    """(separator, decimal mark) for the language (the active one when None)."""
    language = (language or translation.get_language() or "").split("-")[0]
    return CSV_CONVENTIONS.get(language, CSV_DEFAULT_CONVENTION)


def csv_cell(value, *, decimal_mark: str = ".") -> str:
    if type(value) is str:  # most cells: straight to the formula check (400,000 calls in a 50,000-line export)
        return f"'{value}" if value.startswith(FORMULA_TRIGGERS) else value
    if _is_number(value):
        if isinstance(value, float):
            value = Decimal(repr(value))  # no exponent notation, no binary noise
        return format(value, "f").replace(".", decimal_mark) if isinstance(value, Decimal) else str(value)
    value = _local(value)
    if isinstance(value, datetime):
        return value.strftime(DATETIME_FORMAT)
    if isinstance(value, date):
        return value.strftime(DATE_FORMAT)
    return neutralise(_text(value))


def csv_lines(*, columns: list[Column], rows: Iterable, language: str | None = None):
    """The CSV file, line by line (the byte-order mark first)."""
    language = language or translation.get_language()
    separator, decimal_mark = csv_convention(language)
    writer = csv.writer(_Echo(), delimiter=separator)
    with translation.override(language):
        yield "\ufeff"  # so Excel opens the UTF-8 file with æ, ø, å intact
        yield writer.writerow([neutralise(str(column.label)) for column in columns])
        for row in rows:
            yield writer.writerow([csv_cell(column.value(row), decimal_mark=decimal_mark) for column in columns])


def _with_timezone(lines, zone):
    with timezone.override(zone):
        yield from lines


CSV_LINES_PER_BLOCK = 500


def _in_blocks(lines, size: int = CSV_LINES_PER_BLOCK):
    """The lines handed to the response ``size`` at a time, encoded: one chunk per line cost the
    response's per-chunk work (charset lookup, encoding) 500,000 times for 500,000 lines."""
    block = []
    for line in lines:
        block.append(line)
        if len(block) >= size:
            yield "".join(block).encode("utf-8")
            block = []
    if block:
        yield "".join(block).encode("utf-8")


def csv_response(*, columns: list[Column], rows: Iterable, filename: str) -> StreamingHttpResponse:
    # The body is produced after the view has returned: fix the language and time zone now.
    lines = _with_timezone(csv_lines(columns=columns, rows=rows, language=translation.get_language()),
                           timezone.get_current_timezone())
    response = StreamingHttpResponse(_in_blocks(lines), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


# .xlsx ------------------------------------------------------------------------------------------

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# The workbook is written here, not cell by cell through openpyxl: its write-only sheet built a cell object,
# a type check and an element tree per value, which was ~85% of a 50,000-line export (8.4 s on a quiet
# machine, 19 s under load). The package is the minimal SpreadsheetML one (what openpyxl itself writes):
# one worksheet with inline strings, a style sheet, the workbook and their relationships. Files are read
# back with openpyxl in the tests.

_SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_HEADER = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
# Characters XML 1.0 cannot hold (openpyxl refused them with IllegalCharacterError): left out of a cell.
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_XLSX_ROWS_PER_BLOCK = 500
DATETIME_NUMBER_FORMAT = "yyyy-mm-dd hh:mm:ss"
DATE_NUMBER_FORMAT = "yyyy-mm-dd"


def _xml_text(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _ILLEGAL_XML.sub("", text) if _ILLEGAL_XML.search(text) else text


def _xml_attribute(text: str) -> str:
    return _xml_text(text).replace('"', "&quot;")


class _XlsxStyles:
    """The cell formats a sheet uses (number format, bold, Excel's quote prefix), numbered as they come."""

    def __init__(self):
        self.formats: dict[str, int] = {}  # custom number format code -> numFmtId (from 164, Excel's first)
        self.xfs: dict[tuple[int, bool, bool], int] = {(0, False, False): 0}

    def index(self, number_format: str | None = None, *, bold: bool = False, quote_prefix: bool = False) -> int:
        format_id = 0
        if number_format:
            format_id = self.formats.setdefault(number_format, 164 + len(self.formats))
        return self.xfs.setdefault((format_id, bold, quote_prefix), len(self.xfs))

    def xml(self) -> str:
        formats = "".join(f'<numFmt numFmtId="{format_id}" formatCode="{_xml_attribute(code)}"/>'
                          for code, format_id in self.formats.items())
        xfs = []
        for format_id, bold, quote_prefix in self.xfs:
            extra = (' applyNumberFormat="1"' if format_id else "") + (' applyFont="1"' if bold else "") + (
                ' quotePrefix="1"' if quote_prefix else "")
            xfs.append(f'<xf numFmtId="{format_id}" fontId="{int(bold)}" fillId="0" borderId="0" xfId="0"{extra}/>')
        font = '<sz val="11"/><name val="Calibri"/><family val="2"/>'
        number_formats = f'<numFmts count="{len(self.formats)}">{formats}</numFmts>' if self.formats else ""
        return (f'{_XML_HEADER}<styleSheet xmlns="{_SHEET_NS}">{number_formats}'
                f'<fonts count="2"><font>{font}</font><font><b/>{font}</font></fonts>'
                '<fills count="2"><fill><patternFill patternType="none"/></fill>'
                '<fill><patternFill patternType="gray125"/></fill></fills>'
                '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
                '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
                f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
                '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
                "</styleSheet>")


def _style_attribute(style: int) -> str:
    return f' s="{style}"' if style else ""


def _xlsx_cell(reference: str, value, styles: _XlsxStyles, *, bold: bool = False) -> str:
    """One ``<c>`` element: a number, a date or time cell, or always a text cell (never a formula)."""
    if type(value) is str and value:  # most cells: a non-empty text
        text = value
    elif _is_number(value):
        number_format = None
        if isinstance(value, Decimal) and value.as_tuple().exponent < 0:
            number_format = "0." + "0" * -value.as_tuple().exponent
        style = styles.index(number_format, bold=bold)
        return f'<c r="{reference}"{_style_attribute(style)}><v>{value}</v></c>'
    elif isinstance(value := _local(value), datetime | date):
        from openpyxl.utils.datetime import to_excel

        # Excel has no time zones: the reader's local time, as shown on the page.
        is_datetime = isinstance(value, datetime)
        serial = to_excel(value.replace(tzinfo=None) if is_datetime else value)
        style = styles.index(DATETIME_NUMBER_FORMAT if is_datetime else DATE_NUMBER_FORMAT, bold=bold)
        return f'<c r="{reference}" s="{style}"><v>{serial}</v></c>'
    else:
        text = _text(value)
        if not text:  # an empty cell, as openpyxl wrote it (read back as None)
            return f'<c r="{reference}"{_style_attribute(styles.index(bold=bold))}/>'
    # Always a text cell; one a spreadsheet would run gets Excel's quote prefix: shown, never run.
    style = styles.index(bold=bold, quote_prefix=is_formula_like(text))
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return (f'<c r="{reference}" t="inlineStr"{_style_attribute(style)}>'
            f"<is><t{space}>{_xml_text(text)}</t></is></c>")


def _sheet_title(title: str) -> str:
    title = "".join(char for char in str(title) if char not in "[]:*?/\\").strip()
    return title[:31] or "Export"


def xlsx_write(file, *, columns: list[Column], rows: Iterable, sheet_title: str = "") -> None:
    """Write the workbook to ``file`` (a binary file object), one row at a time: the sheet is compressed
    into the package as it is written, so nothing but the current block of rows is held in memory."""
    import zipfile

    from openpyxl.utils import get_column_letter

    styles = _XlsxStyles()
    letters = [get_column_letter(index) for index in range(1, len(columns) + 1)]
    getters = [column.value for column in columns]
    widths = "".join(f'<col min="{index}" max="{index}" width="{column.width}" customWidth="1"/>'
                     for index, column in enumerate(columns, start=1) if column.width)
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED) as package:
        with package.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write((
                f'{_XML_HEADER}<worksheet xmlns="{_SHEET_NS}" xmlns:r="{_REL_NS}">'
                '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft"'
                ' state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
                f'<sheetFormatPr defaultRowHeight="15"/>{"<cols>" + widths + "</cols>" if widths else ""}<sheetData>'
                '<row r="1">'
                + "".join(_xlsx_cell(f"{letter}1", str(column.label), styles, bold=True)
                          for letter, column in zip(letters, columns, strict=True))
                + "</row>").encode("utf-8"))
            block = []
            for number, row in enumerate(rows, start=2):
                cells = "".join(_xlsx_cell(f"{letter}{number}", getter(row), styles)
                                for letter, getter in zip(letters, getters, strict=True))
                block.append(f'<row r="{number}">{cells}</row>')
                if len(block) >= _XLSX_ROWS_PER_BLOCK:
                    sheet.write("".join(block).encode("utf-8"))
                    block = []
            sheet.write(("".join(block) + "</sheetData></worksheet>").encode("utf-8"))
        package.writestr("xl/styles.xml", styles.xml())
        package.writestr("xl/workbook.xml", (
            f'{_XML_HEADER}<workbook xmlns="{_SHEET_NS}" xmlns:r="{_REL_NS}"><bookViews><workbookView/></bookViews>'
            f'<sheets><sheet name="{_xml_attribute(_sheet_title(sheet_title))}" sheetId="1" r:id="rId1"/></sheets>'
            "</workbook>"))
        package.writestr("xl/_rels/workbook.xml.rels", (
            f'{_XML_HEADER}<Relationships xmlns="{_PACKAGE_REL_NS}">'
            f'<Relationship Id="rId1" Type="{_REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{_REL_NS}/styles" Target="styles.xml"/></Relationships>'))
        package.writestr("_rels/.rels", (
            f'{_XML_HEADER}<Relationships xmlns="{_PACKAGE_REL_NS}">'
            f'<Relationship Id="rId1" Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        main = "application/vnd.openxmlformats-officedocument.spreadsheetml"
        package.writestr("[Content_Types].xml", (
            f'{_XML_HEADER}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{main}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{main}.worksheet+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{main}.styles+xml"/></Types>'))


def xlsx_response(*, columns: list[Column], rows: Iterable, filename: str, sheet_title: str = "") -> FileResponse:
    # The workbook is a zip whose directory comes last, so it cannot be streamed as it is made:
    # write it to a temporary file (rows go to disk as they come) and stream that file.
    file = tempfile.TemporaryFile()
    try:
        xlsx_write(file, columns=columns, rows=rows, sheet_title=sheet_title)
    except BaseException:
        file.close()
        raise
    file.seek(0)
    return FileResponse(file, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE)
