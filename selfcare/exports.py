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
- nothing sits in memory: CSV streams row by row; .xlsx is written by openpyxl's write-only workbook
  to a temporary file that the response then streams.

``export_write`` writes the same file to a file object, for an export that runs as a background job.
"""

import csv
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


def _xlsx_cell(sheet, value):
    from openpyxl.cell import WriteOnlyCell

    if _is_number(value):
        cell = WriteOnlyCell(sheet, value=value)
        if isinstance(value, Decimal) and value.as_tuple().exponent < 0:
            cell.number_format = "0." + "0" * -value.as_tuple().exponent
        return cell
    value = _local(value)
    if isinstance(value, datetime):
        # Excel has no time zones: the reader's local time, as shown on the page.
        cell = WriteOnlyCell(sheet, value=value.replace(tzinfo=None))
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    text = _text(value)
    cell = WriteOnlyCell(sheet, value=text)
    # Always a text cell: openpyxl would otherwise store "=..." as a formula.
    cell.data_type = "s"
    if is_formula_like(text):
        cell.quotePrefix = True
    return cell


def _sheet_title(title: str) -> str:
    title = "".join(char for char in str(title) if char not in "[]:*?/\\").strip()
    return title[:31] or "Export"


def xlsx_write(file, *, columns: list[Column], rows: Iterable, sheet_title: str = "") -> None:
    """Write the workbook to ``file`` (a binary file object), one row at a time."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_title(sheet_title))
    for index, column in enumerate(columns, start=1):
        if column.width:
            sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = _xlsx_cell(sheet, str(column.label))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in rows:
        sheet.append([_xlsx_cell(sheet, column.value(row)) for column in columns])
    workbook.save(file)


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
