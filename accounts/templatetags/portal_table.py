"""``{% responsive_table %}``: the one table component every list uses.

Wrap a plain ``<table>`` (``<thead>`` with one header row, ``<tbody>``) in the tag::

    {% load portal_table %}
    {% responsive_table %}<table class="table">...</table>{% endresponsive_table %}

The tag labels every body cell with its column header (``data-label``) and wraps the cell's content,
so that under 40rem (a phone) the stylesheet shows each row as a card of "label: value" lines
instead of a table cut off at the screen's edge. Cells spanning several columns (the "nothing found"
row) stay unlabelled. Explicit ARIA table roles are added because some browsers drop a table's
semantics once its display is changed. Sortable columns (headers holding a link) stay reachable on a
phone as a "Sort by" row above the cards.
"""

from html.parser import HTMLParser

from django import template
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

register = template.Library()

ROLES = {"table": "table", "thead": "rowgroup", "tbody": "rowgroup", "tfoot": "rowgroup", "tr": "row"}


class _TableLabeller(HTMLParser):
    """Finds where to insert attributes and wrappers; ``labelled()`` applies them to the source."""

    def __init__(self, source: str):
        super().__init__(convert_charrefs=True)
        self.source = source
        self.line_offsets = [0]
        for line in source.splitlines(keepends=True):
            self.line_offsets.append(self.line_offsets[-1] + len(line))
        self.inserts: list[tuple[int, int, str]] = []  # (offset, order, text)
        self.section = None
        self.headers: list[str] = []
        self.header_text: list[str] | None = None
        self.sortable = False
        self.header_row_offset = None
        self.column = 0
        self.cell_depth = 0
        self.open_cell = None

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.line_offsets[line - 1] + column

    def _add_attributes(self, tag: str, attributes: str):
        self.inserts.append((self._offset() + 1 + len(tag), 0, attributes))

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in ("thead", "tbody", "tfoot"):
            self.section = tag
        if tag in ROLES:
            extra = f' role="{ROLES[tag]}"'
            if tag == "table":
                classes = attributes.get("class")
                if classes is None:
                    extra += ' class="table--cards"'
                else:  # add to the existing class attribute: the browser keeps only the first one
                    start = self._offset()
                    text = self.get_starttag_text()
                    value_at = text.find(classes, text.lower().find("class"))
                    self.inserts.append((start + value_at + len(classes), 0, " table--cards"))
            if tag == "tr":
                self.column = 0
                if self.section == "thead":
                    self.headers = []
                    self.header_row_offset = self._offset() + 1 + len(tag)
            self._add_attributes(tag, extra)
        elif tag in ("th", "td"):
            span = int(attributes.get("colspan") or 1)
            if self.section == "thead":
                self._add_attributes(tag, ' role="columnheader"')
                self.header_text = []
                self.cell_depth = 1
            else:
                role = "rowheader" if tag == "th" else "cell"
                extra = f' role="{role}"'
                if span == 1 and self.column < len(self.headers) and self.headers[self.column]:
                    extra += f' data-label="{escape(self.headers[self.column])}"'
                    end_of_tag = self._offset() + len(self.get_starttag_text())
                    self.inserts.append((end_of_tag, 1, '<div class="table__value">'))
                    self.open_cell = tag
                self._add_attributes(tag, extra)
            self.column += span
        elif tag == "a" and self.header_text is not None:
            self.sortable = True

    def handle_endtag(self, tag):
        if tag in ("th", "td"):
            if self.header_text is not None:
                self.headers.append(" ".join(" ".join(self.header_text).split()))
                self.header_text = None
            elif self.open_cell == tag:
                self.inserts.append((self._offset(), -1, "</div>"))
                self.open_cell = None
        elif tag in ("thead", "tbody", "tfoot"):
            self.section = None

    def handle_data(self, data):
        if self.header_text is not None:
            self.header_text.append(data)

    def labelled(self) -> str:
        self.feed(self.source)
        self.close()
        if self.sortable and self.header_row_offset is not None:
            self.inserts.append((self.header_row_offset, 0, f' data-sort-label="{escape(gettext("Sort by"))}"'))
        result, last = [], 0
        for offset, _order, text in sorted(self.inserts, key=lambda insert: (insert[0], insert[1])):
            result.append(self.source[last:offset])
            result.append(text)
            last = offset
        result.append(self.source[last:])
        return "".join(result)


class ResponsiveTableNode(template.Node):
    def __init__(self, nodelist):
        self.nodelist = nodelist

    def render(self, context):
        table = _TableLabeller(self.nodelist.render(context)).labelled()
        return render_to_string("components/table.html", {"table": mark_safe(table)})


@register.tag
def responsive_table(parser, token):
    nodelist = parser.parse(("endresponsive_table",))
    parser.delete_first_token()
    return ResponsiveTableNode(nodelist)
