"""Invoice and credit note PDFs with WeasyPrint.

WeasyPrint lays one huge table out in more than linear time (a 10,000-row table takes about 50 s), so
the specification is rendered in chunks: the first pages (parties, amounts, VAT summary) are one
HTML document, the specification is cut into documents of ``CHUNK_ROWS`` rows each, every chunk is
laid out on its own (fast, and the worker reports progress after each), and the pages of all of them
are joined into one PDF (``Document.copy``). The chunks use ``table-layout: fixed``, plain class
selectors and the system's DejaVu fonts, which keep the layout cheap. The text is the same as one
big table's (the bench and tests/invoices/test_documents_pdf.py compare pdftotext of both).

Amounts are formatted in the company's language, not the reader's: "1.234,56 kr." in Danish,
"1 234,56 kr" in Swedish.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.template.loader import render_to_string
from django.utils import translation

# A page's content is 265 mm high and a specification row 5 mm (templates/invoices/pdf/head.html): 50 rows
# leave room to spare. One chunk is one page: WeasyPrint's table layout costs grow with the rows left to
# place on each page, so pages of their own are the cheapest.
ROWS_PER_PAGE = 50
CHUNK_ROWS = ROWS_PER_PAGE
FIRST_CHUNK_ROWS = ROWS_PER_PAGE - 4  # the first page also has the heading and the column names
# Up to this many rows the table is short enough for WeasyPrint's layout to stay linear: no chunks.
SINGLE_DOCUMENT_ROWS = 250
LANGUAGE_BY_COUNTRY = {"DK": "da", "SE": "sv"}


def format_money(amount: Decimal, language: str, currency: str = "DKK") -> str:
    """"1.234,56 kr." (da), "1 234,56 kr" (sv), "DKK 1,234.56" (en)."""
    amount = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    whole, cents = f"{abs(amount):.2f}".split(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    if language == "da":
        return f"{sign}{'.'.join(groups)},{cents} kr."
    if language == "sv":
        return f"{sign}{' '.join(groups)},{cents} kr"
    return f"{sign}{currency} {','.join(groups)}.{cents}"


def format_date(day: date | None, language: str) -> str:
    if day is None:
        return ""
    formats = {"sv": "%Y-%m-%d", "da": "%d.%m.%Y"}
    return day.strftime(formats.get(language, "%d %b %Y"))


@dataclass
class SpecificationRow:
    """One row of the specification: a subscription's heading (with its subtotal), or one of its lines."""

    kind: str  # "group" | "line"
    text: str
    detail: str = ""
    amount: str = ""


@dataclass
class PdfContent:
    """Everything the PDF shows, already formatted in the document's language."""

    language: str
    title: str  # "Faktura 1001" / "Kreditnota 17"
    seller_lines: list[str]
    buyer_lines: list[str]
    facts: list[tuple[str, str]]  # (label, value): number, dates, account, EAN, payment reference ...
    totals: list[tuple[str, str]]  # net, VAT, total
    vat_rows: list[tuple[str, str, str, str]]  # category, rate, taxable, VAT
    notice: str = ""
    rows: list[SpecificationRow] = field(default_factory=list)


def _html_head(content: PdfContent, naive: bool = False) -> str:
    return render_to_string("invoices/pdf/head_naive.html" if naive else "invoices/pdf/head.html", {"content": content})


def _header_html(content: PdfContent, *, with_specification: bool, naive: bool = False) -> str:
    with translation.override(content.language):
        return render_to_string("invoices/pdf/document.html", {
            "content": content, "head": _html_head(content, naive),
            "rows": content.rows if with_specification else None, "chunked": not with_specification,
        })


def _chunk_html(content: PdfContent, rows: list[SpecificationRow], first: bool) -> str:
    with translation.override(content.language):
        return render_to_string("invoices/pdf/specification.html", {
            "content": content, "head": _html_head(content), "rows": rows, "first": first,
        })


# WeasyPrint matches every element against its whole HTML5 user-agent stylesheet (hundreds of rules);
# these documents use a handful of elements, so they get a user-agent stylesheet of just those.
LEAN_USER_AGENT_CSS = """
html, body, div, h1, h2, p { display: block }
head, style, title, meta { display: none }
table { display: table; border-collapse: separate; box-sizing: border-box; text-indent: initial }
tbody { display: table-row-group; vertical-align: middle } thead { display: table-header-group }
colgroup { display: table-column-group } col { display: table-column }
tr { display: table-row; vertical-align: inherit } td, th { display: table-cell; vertical-align: inherit }
th { font-weight: bold } br::before { content: "\\A"; white-space: pre-line }
"""
_lean_classes = {}


def _html_class(lean: bool):
    """``lean``: the small user-agent stylesheet, and the templates (well-formed XHTML) parsed by
    expat instead of WeasyPrint's pure-Python HTML5 parser, which is a fifth of a chunk's time."""
    from weasyprint import CSS, HTML

    if not lean:
        return HTML
    if "lean" not in _lean_classes:
        import xml.etree.ElementTree as ET

        import cssselect2
        from weasyprint.urls import URLFetcher

        stylesheet = CSS(string=LEAN_USER_AGENT_CSS)

        class LeanHTML(HTML):
            def __init__(self, string, base_url=None):
                try:
                    root = ET.fromstring(string)
                except ET.ParseError:  # not well-formed after all: the HTML5 parser copes
                    super().__init__(string=string, base_url=base_url)
                    return
                self.base_url, self.url_fetcher, self.media_type = base_url, URLFetcher(), "print"
                self.wrapper_element = cssselect2.ElementWrapper.from_html_root(root, content_language=None)
                self.etree_element = self.wrapper_element.etree_element

            def _ua_stylesheets(self, forms=False):
                return [stylesheet]

        _lean_classes["lean"] = LeanHTML
    return _lean_classes["lean"]


def _layout(html: str, lean: bool = True):
    return _html_class(lean)(string=html, base_url=None).render()


def render_pdf(content: PdfContent, *, chunk_rows: int = CHUNK_ROWS,
               progress: Callable[[int, int], None] | None = None) -> bytes:
    """The PDF, the specification laid out ``chunk_rows`` rows at a time; ``progress(done, total)``
    after each part. Python's cyclic garbage collector is paused meanwhile: the pages of a long
    specification are millions of live objects, and its passes over them grow with every page
    (a fifth of the time at 4,000 lines); one collection afterwards frees the cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _render_pdf(content, chunk_rows=chunk_rows, progress=progress)
    finally:
        if enabled:
            gc.enable()
        gc.collect()


def _render_pdf(content: PdfContent, *, chunk_rows: int, progress) -> bytes:
    rows = content.rows
    if len(rows) <= SINGLE_DOCUMENT_ROWS and chunk_rows == CHUNK_ROWS:
        # A short specification: one document costs less than several (each has its own set-up).
        data = _layout(_header_html(content, with_specification=True)).write_pdf()
        if progress:
            progress(1, 1)
        return data
    first_rows = min(chunk_rows, FIRST_CHUNK_ROWS) if chunk_rows == CHUNK_ROWS else chunk_rows
    chunks = [rows[:first_rows]] if rows else []
    chunks += [rows[start:start + chunk_rows] for start in range(first_rows, len(rows), chunk_rows)]
    total = 1 + len(chunks)
    first = _layout(_header_html(content, with_specification=False))
    pages = list(first.pages)
    if progress:
        progress(1, total)
    for number, chunk in enumerate(chunks, start=1):
        pages.extend(_layout(_chunk_html(content, chunk, first=number == 1)).pages)
        if progress:
            progress(1 + number, total)
    return first.copy(pages).write_pdf()


def render_pdf_naive(content: PdfContent) -> bytes:
    """The same document as one HTML page with the whole specification in one plain table (WeasyPrint's
    defaults, templates/invoices/pdf/head_naive.html): what the rendering above is measured against
    (bench_pdf, the tests compare their text)."""
    return _layout(_header_html(content, with_specification=True, naive=True), lean=False).write_pdf()


def rows_from_groups(groups: Iterable[tuple[str, list[tuple[str, str, str]], str]]) -> list[SpecificationRow]:
    """(heading, [(text, detail, amount)], subtotal) per subscription → the specification's rows: the
    subscription's heading with its subtotal, then its lines."""
    rows = []
    for heading, lines, subtotal in groups:
        rows.append(SpecificationRow("group", heading, amount=subtotal))
        rows.extend(SpecificationRow("line", text, detail, amount) for text, detail, amount in lines)
    return rows
