"""Invoice and credit note PDFs with WeasyPrint.

WeasyPrint's cost is per box and per line it lays out and draws, and one huge table costs more than
linearly (a 10,000-row table takes about 50 s), so the specification is shaped for it:

- Pages of their own. The rows have one fixed height, so which rows go on which page is known
  beforehand (``ROWS_PER_PAGE``). The first pages (parties, amounts, VAT summary) are one HTML document
  and every specification page another, laid out on its own (the worker reports progress after each);
  the pages of all of them are joined into one PDF (``Document.copy``). A short specification is one
  document.
- A page is one table row of three cells, a column each, and every row of the specification is one
  line of the cell's preformatted text (``white-space: pre``): a handful of boxes per page instead of
  ten per row. The period column holds only the lines that have a period (a line charged for part of
  the month, rare), each run of them pushed down to its row by a spacer.
- One stylesheet, parsed once per process; one font configuration per PDF; a small user-agent
  stylesheet and the expat parser (``LeanHTML``).
- Two processes for a long one (``PARALLEL_PAGES``): a forked child lays out the second half of the
  pages meanwhile, and the two PDFs are joined (pypdf). On a busy machine it gains little; a child that
  fails costs nothing but time (this process renders its pages).

The text is the same as one plain table's, row by row (the bench and tests/invoices/test_documents_pdf.py
compare pdftotext of both; the naive table is ``render_pdf_naive``).

Amounts are formatted in the company's language, not the reader's: "1.234,56 kr." in Danish,
"1 234,56 kr" in Swedish.
"""

from __future__ import annotations

import gc
import io
import logging
import os
import signal
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

# A page's content is 265 mm high and a specification row 5 mm: 50 rows leave room to spare, and the
# first specification page also has the heading and the column names.
ROW_HEIGHT_MM = 5
ROWS_PER_PAGE = 50
FIRST_PAGE_ROWS = ROWS_PER_PAGE - 4
# Up to this many rows, one document costs less than several (each has its own set-up).
SINGLE_DOCUMENT_ROWS = 250
# From this many specification pages on, two processes lay the pages out (the workers have two cores):
# the second half in a forked child whose PDF is joined to the first's (pypdf). Shorter ones gain less
# than the fork and the join cost.
PARALLEL_PAGES = 40
RENDER_PROCESSES = 2
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


@dataclass
class SpecificationPage:
    """One page of the specification, its three columns as preformatted text (escaped HTML, a line per
    row): descriptions (subscription headings in bold), periods as (rows to skip, lines) runs, amounts."""

    first: bool
    descriptions: str
    periods: list[tuple[int, str]]
    amounts: str


def _line(text: str, bold: bool = False) -> str:
    # One row is one line: line breaks and tabs in the data would move the columns apart.
    text = escape(" ".join(text.splitlines()).replace("\t", " "))
    return f"<b>{text}</b>" if bold else text


def specification_pages(rows: list[SpecificationRow]) -> list[SpecificationPage]:
    """The specification cut into pages: ``FIRST_PAGE_ROWS`` rows on the first (after the column
    names, in the active language), ``ROWS_PER_PAGE`` on each other."""
    cuts = [0, *range(FIRST_PAGE_ROWS, len(rows), ROWS_PER_PAGE), len(rows)]
    pages = []
    for start, end in pairwise(cuts):
        first = start == 0
        descriptions, amounts, periods = [], [], []  # periods: [row on the page, [lines]]
        if first:
            descriptions.append(_line(_("Description"), bold=True))
            amounts.append(_line(_("Amount excl. VAT"), bold=True))
            periods.append([0, [_line(_("Period"), bold=True)]])
        for row in rows[start:end]:
            if row.detail:
                if periods and periods[-1][0] + len(periods[-1][1]) == len(descriptions):
                    periods[-1][1].append(_line(row.detail))
                else:
                    periods.append([len(descriptions), [_line(row.detail)]])
            descriptions.append(_line(row.text, bold=row.kind == "group"))
            amounts.append(_line(row.amount, bold=row.kind == "group"))
        runs, below = [], 0
        for at, lines in periods:
            runs.append((at - below, mark_safe("\n".join(lines))))
            below = at + len(lines)
        pages.append(SpecificationPage(first, mark_safe("\n".join(descriptions)), runs,
                                       mark_safe("\n".join(amounts))))
    return pages


def _stylesheet():
    """The PDFs' stylesheet (templates/invoices/pdf/document.css), parsed once per process."""
    if "document" not in _stylesheets:
        from weasyprint import CSS

        millimetres = lambda rows: f"{rows * ROW_HEIGHT_MM}mm"  # noqa: E731
        _stylesheets["document"] = CSS(string=render_to_string("invoices/pdf/document.css", {
            "row_height": millimetres(1),
            "skips": [(rows, millimetres(rows)) for rows in range(1, ROWS_PER_PAGE + 1)],
        }))
    return _stylesheets["document"]


_stylesheets = {}


def _header_html(content: PdfContent, pages: list[SpecificationPage]) -> str:
    with translation.override(content.language):
        return render_to_string("invoices/pdf/document.html", {"content": content, "pages": pages})


def _page_html(content: PdfContent, page: SpecificationPage) -> str:
    with translation.override(content.language):
        return render_to_string("invoices/pdf/specification.html", {"content": content, "page": page})


# WeasyPrint matches every element against its whole HTML5 user-agent stylesheet (hundreds of rules);
# these documents use a handful of elements, so they get a user-agent stylesheet of just those.
LEAN_USER_AGENT_CSS = """
html, body, div, h1, h2, p { display: block }
head, style, title, meta { display: none }
table { display: table; border-collapse: separate; box-sizing: border-box; text-indent: initial }
tbody { display: table-row-group; vertical-align: middle } thead { display: table-header-group }
colgroup { display: table-column-group } col { display: table-column }
tr { display: table-row; vertical-align: inherit } td, th { display: table-cell; vertical-align: inherit }
th, b { font-weight: bold } br::before { content: "\\A"; white-space: pre-line }
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


def _layout(html: str, font_config):
    return _html_class(lean=True)(string=html, base_url=None).render(
        stylesheets=[_stylesheet()], font_config=font_config)


def render_pdf(content: PdfContent, *, single_document_rows: int = SINGLE_DOCUMENT_ROWS,
               processes: int = RENDER_PROCESSES, progress: Callable[[int, int], None] | None = None) -> bytes:
    """The PDF; a specification of more than ``single_document_rows`` rows is laid out a page at a
    time (by ``processes`` processes from ``PARALLEL_PAGES`` pages on), ``progress(done, total)`` after
    each part. Python's cyclic garbage collector is paused meanwhile: the pages of a long specification
    are millions of live objects, and its passes over them grow with every page. The cycles it leaves
    are all among the objects made meanwhile (the youngest generations): collecting those frees them,
    without a pass over the whole process (a third of a short invoice's time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _render_pdf(content, single_document_rows=single_document_rows, processes=processes,
                           progress=progress)
    finally:
        if enabled:
            gc.enable()
        gc.collect(1)


def _render_pdf(content: PdfContent, *, single_document_rows: int, processes: int, progress) -> bytes:
    with translation.override(content.language):
        pages = specification_pages(content.rows) if content.rows else []
    if len(content.rows) <= single_document_rows:
        data = _layout(_header_html(content, pages), _font_config()).write_pdf()
        if progress:
            progress(1, 1)
        return data
    total = 1 + len(pages)
    own = len(pages)
    helper = None
    if processes > 1 and len(pages) >= PARALLEL_PAGES:
        own = (len(pages) + 1) // 2  # this process also lays out the header's pages
        helper = _PagesInChild(content, pages[own:])

    def report(done: int) -> None:  # parts of this process's share; the child keeps pace with it
        if progress:
            progress(done * total // (1 + own) if helper else done, total)

    try:
        font_config = _font_config()
        first = _layout(_header_html(content, []), font_config)
        laid_out = list(first.pages)
        report(1)
        for number, page in enumerate(pages[:own], start=2):
            laid_out.extend(_layout(_page_html(content, page), font_config).pages)
            report(number)
        data = first.copy(laid_out).write_pdf()
        if helper:
            data = _join([data, helper.result() or _pages_pdf(content, pages[own:])])
    finally:
        if helper:
            helper.stop()
    return data


def _font_config():
    """One font configuration for all the parts of a PDF: each new one loads and measures the fonts again."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def _pages_pdf(content: PdfContent, pages: list[SpecificationPage]) -> bytes:
    font_config = _font_config()
    documents = [_layout(_page_html(content, page), font_config) for page in pages]
    return documents[0].copy([laid_out for document in documents for laid_out in document.pages]).write_pdf()


def _join(parts: list[bytes]) -> bytes:
    """One PDF of the parts' pages, with the first part's metadata and language."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject

    readers = [PdfReader(io.BytesIO(part)) for part in parts]
    writer = PdfWriter()
    for reader in readers:
        writer.append(reader)
    writer.add_metadata(readers[0].metadata)
    if "/Lang" in readers[0].root_object:
        writer.root_object[NameObject("/Lang")] = readers[0].root_object["/Lang"]
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


class _PagesInChild:
    """The PDF of some specification pages, made by a forked child while this process does the rest.
    The child only renders (the content is already read from the database; it touches no connection)
    and hands the PDF back through a pipe; it dies with its parent. ``result()`` is None if it failed:
    the caller then renders the pages itself, so a failed child never fails the invoice."""

    def __init__(self, content: PdfContent, pages: list[SpecificationPage]):
        read, write = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(read)
            self._child(content, pages, write)
        os.close(write)
        self.pipe = os.fdopen(read, "rb")

    @staticmethod
    def _child(content, pages, write) -> None:
        status = 1
        try:
            for number in (signal.SIGTERM, signal.SIGINT):  # not the worker's handlers: just stop
                signal.signal(number, signal.SIG_DFL)
            _die_with_parent()
            data = _pages_pdf(content, pages)
            with os.fdopen(write, "wb") as pipe:
                pipe.write(data)
            status = 0
        except BaseException:  # noqa: BLE001 - reported here, the parent renders these pages itself
            traceback.print_exc()
        finally:
            os._exit(status)

    def result(self) -> bytes | None:
        data = self.pipe.read()
        self.pipe.close()
        _pid, status = os.waitpid(self.pid, 0)
        self.pid = 0
        if status != 0 or not data.startswith(b"%PDF"):
            logger.warning("the PDF's helper process failed (status %s): rendering its pages here", status)
            return None
        return data

    def stop(self) -> None:
        if self.pid:  # this process failed first: the child's work is of no use
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.pipe.close()
            self.pid = 0


def _die_with_parent() -> None:
    """The child gets SIGKILL when its parent ends (a worker killed at its time limit): Linux's prctl."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def render_pdf_naive(content: PdfContent) -> bytes:
    """The same document as one HTML page with the whole specification in one plain table (WeasyPrint's
    defaults, templates/invoices/pdf/head_naive.html): what the rendering above is measured against
    (bench_pdf, the tests compare their text)."""
    with translation.override(content.language):
        html = render_to_string("invoices/pdf/document.html", {
            "content": content, "head": render_to_string("invoices/pdf/head_naive.html"), "rows": content.rows})
    return _html_class(lean=False)(string=html, base_url=None).render().write_pdf()


def rows_from_groups(groups: Iterable[tuple[str, list[tuple[str, str, str]], str]]) -> list[SpecificationRow]:
    """(heading, [(text, detail, amount)], subtotal) per subscription → the specification's rows: the
    subscription's heading with its subtotal, then its lines."""
    rows = []
    for heading, lines, subtotal in groups:
        rows.append(SpecificationRow("group", heading, amount=subtotal))
        rows.extend(SpecificationRow("line", text, detail, amount) for text, detail, amount in lines)
    return rows
