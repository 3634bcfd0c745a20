"""The rows of a page's tables as a reader sees them: one dict per row, each cell's label → its text."""

from html.parser import HTMLParser


class _Rows(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self._row, self._label, self._text = [], None, None, []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "tr":
            self._row = {}
        elif tag == "td" and self._row is not None and attributes.get("data-label"):
            self._label, self._text = attributes["data-label"], []

    def handle_endtag(self, tag):
        if tag == "td" and self._label is not None:
            self._row[self._label] = " ".join("".join(self._text).split())
            self._label = None
        elif tag == "tr" and self._row is not None:
            if self._row:
                self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._label is not None:
            self._text.append(data)


def table_rows(html: str) -> list[dict[str, str]]:
    """Every body row of every ``{% responsive_table %}`` in ``html`` (cells carry ``data-label``)."""
    parser = _Rows()
    parser.feed(html)
    return parser.rows
