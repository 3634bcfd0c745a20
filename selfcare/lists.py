"""The list machinery: every list page is configuration of this one implementation.

In the way of NetBox's generic ``ObjectListView``, a list states what it shows and gets the rest::

    class SubscriptionListView(FilteredListView):
        required_permission = Permission.VIEW_SUBSCRIPTIONS
        model = Subscription                      # rows come from the membership's scope, always
        filterset_class = SubscriptionFilterSet   # django-filter; its form is the filter bar
        search_fields = ["employee_name", "number", "employee_email"]
        columns = [ListColumn("employee", _("Employee"), sort=("employee_name", "number"), ...), ...]
        default_sort = "employee"
        export_name = "subscriptions"

and the URLconf gets both routes from ``list_urls``. What every list then does, the same way:

- **search** (``q``: any part of any of ``search_fields``; with ``search_document``, one stored column holding
  them all, see ``search_document_expression``), **filters** (the filterset, validated: a bad
  value is a field error on the form, not a crash) and **sorting** by a column heading (``sort=key`` or
  ``sort=-key``; an unknown column is said so and the default sort is used);
- **keyset paging**: the next and previous pages are found from a signed cursor holding the boundary
  row's sort values (``after`` / ``before``), never with OFFSET, so the last page costs what the first
  does; a tampered or stale cursor is said so and the first page is shown;
- **the count** of matching rows (with ``search_count_limit``, a search's count stops there and the page says
  "more than N lines match"), and the **URL keeps the whole state** (search, filters, sort, cursor):
  back button, bookmarks and shared links work, and so does the page without JavaScript (a plain GET form);
- **the htmx fragment**: with ``HX-Request`` only the results (count, table, paging, export links) are
  rendered, and the form pushes the URL;
- **exports**: exactly the filtered, sorted rows (all of them, not a page) as a streamed CSV or a real
  .xlsx through ``selfcare.exports`` (formula cells neutralised, the reader's separators). An export whose
  filters are refused is never silently wider: it sends the reader to the list, which says what is wrong
  (``export_refused``). A column with ``show=False`` is in the export only.
- **selection for bulk actions** (``bulk_actions`` and ``bulk_url_name``): a checkbox per row, the choice
  of "the ticked lines", "every line on this page" or "all N lines that match", and the action, in a
  plain GET form that takes them to the bulk route (its confirmation page) with the list's state;
  ``bulk_matching`` gives that route the rows "all that match" means, by the list's own search and
  filters within the login's scope (see ``subscriptions.bulk`` for a bulk action built on it).

Templates: the page extends ``components/list_page.html`` (or includes ``components/list_results.html``
where the results go); cells are plain values, links, or a small template per column.
"""

from collections.abc import Callable
from copy import copy
from dataclasses import dataclass, field
from typing import Any

from django.core import signing
from django.db.models import F, Q
from django.http import Http404, QueryDict
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.views_base import TenantListView
from selfcare.exports import EXPORT_FORMATS, Column, export_response
from selfcare.search import SEARCH_DOCUMENT_SEPARATOR, SearchDocumentContains, search_document_expression  # noqa: F401

SEARCH_MAX_LENGTH = 100
CURSOR_SALT = "selfcare.lists.cursor"
# Parameters that describe a position in the list; changing what the list shows resets them.
POSITION_PARAMS = ("after", "before", "last")


@dataclass(frozen=True)
class ListColumn:
    """A column of a list and of its export.

    ``sort``: what the rows are ordered by when this column is the sort (field names or expressions,
    never NULL: wrap a nullable one in Coalesce); empty when the column cannot be sorted.
    ``value``: the cell's value for a row (shown, and exported); ``link``: the URL the cell links to;
    ``template``: a template rendering the cell instead (it gets ``row`` and ``column``).
    """

    key: str
    label: Any
    value: Callable[[Any], Any]
    sort: tuple = ()
    link: Callable[[Any], str] | None = None
    template: str | None = None
    export: bool = True
    export_value: Callable[[Any], Any] | None = None
    # For a choice field: ``value`` returns the stored key, and the cell shows its label. The labels are
    # translated once per page or export, not once per row (get_FOO_display per row dominates a big export).
    choices: tuple | list | None = None
    # ``show=False``: in the export only (e.g. the audit log's IP address); ``export_width``: the .xlsx width.
    show: bool = True
    export_width: int | None = None

    @property
    def sortable(self) -> bool:
        return bool(self.sort)

    def getter(self, *, export: bool = False) -> Callable[[Any], Any]:
        """What a cell shows: the value, or its choice label (translated now, in the active language)."""
        value = (self.export_value or self.value) if export else self.value
        if self.choices is None:
            return value
        labels = {key: str(label) for key, label in self.choices}
        return lambda row: labels.get(value(row), value(row))

    def export_column(self) -> Column:
        return Column(self.label, self.getter(export=True), width=self.export_width)


class ListFiltersRefused(Exception):
    """The list's filters in a bulk request do not validate, so "all that match" means nothing yet."""


@dataclass(frozen=True)
class ListBulkAction:
    """An action the list offers for several rows at once; shown to a member with ``permission``."""

    key: str
    label: Any
    permission: str | None = None


# The selection's own parameters (the action, which lines); every other parameter is the list's state.
BULK_PREFIX = "bulk_"


def bulk_list_state(params: QueryDict) -> QueryDict:
    """The list's state (search, filters, sort) from a bulk request, without the selection and position."""
    state = QueryDict(mutable=True)
    for key, values in params.lists():
        if not key.startswith(BULK_PREFIX) and key not in POSITION_PARAMS:
            state.setlist(key, values)
    return state


@dataclass
class ListPage:
    """One page of rows, with what the template needs to move on from it."""

    rows: list
    count: int
    has_next: bool
    has_previous: bool
    first_cursor: str | None = None
    last_cursor: str | None = None
    notices: list[str] = field(default_factory=list)
    # The count stopped at the list's ``search_count_limit``: more than ``count`` rows match.
    count_capped: bool = False


class FilteredListView(TenantListView, abstract=True):
    """A list page; see the module's docstring. Subclasses set the class attributes below."""

    columns: list[ListColumn] = []
    default_sort: str = ""
    filterset_class = None
    search_fields: list[str] = []
    # A stored column holding ``search_fields`` as ``search_document_expression(*search_fields)`` makes
    # them (see there): the search then reads that one column. Empty: ``icontains`` on each field.
    search_document = ""
    # A search's count stops after this many rows, and the page says "more than N lines match" (None:
    # always exact). PostgreSQL reads every matching row to count it: a 3-letter term matching 37,000
    # of 500,000 lines cost most of the page's time in its count alone.
    search_count_limit: int | None = None
    search_label = ""
    export_name = ""
    paginate_by = 50
    template_name = "components/list_page.html"
    results_template_name = "components/list_results.html"
    title = ""
    empty_message = ""

    # Bulk actions: what can be done to several rows, and the route (GET) that confirms it.
    bulk_actions: list[ListBulkAction] = []
    bulk_url_name = ""

    # The fields the export's columns read (``QuerySet.only``, related ones as ``account__number``);
    # empty: every field. At 500,000 lines loading the others cost a third of the export's time.
    export_only: tuple = ()

    # Set per request.
    export_format: str | None = None

    # --- the rows --------------------------------------------------------------------------------

    def scoped_queryset(self):
        """The membership's rows (``TenantListView``'s scope); extend to add select_related etc."""
        return super().get_queryset()

    def get_queryset(self):
        queryset = self.scoped_queryset()
        self.filterset = None
        if self.filterset_class is not None:
            self.filterset = self.filterset_class(self.request.GET or None, queryset=queryset, request=self.request)
            queryset = self.filterset.qs
        self.search = " ".join(self.request.GET.get("q", "").split())[:SEARCH_MAX_LENGTH]
        if self.search and self.search_fields:
            queryset = queryset.filter(self.search_condition(self.search) | self.search_fields_condition(self.search))
        return queryset

    def search_fields_condition(self, search: str):
        """Rows with ``search`` in any of ``search_fields`` (case-insensitive)."""
        if self.search_document and SEARCH_DOCUMENT_SEPARATOR not in search:
            return Q(SearchDocumentContains(F(self.search_document), search))
        condition = Q()
        for name in self.search_fields:
            condition |= Q(**{f"{name}__icontains": search})
        return condition

    def search_condition(self, search: str) -> Q:
        """More rows the search finds besides ``search_fields``' substrings (e.g. an exact id)."""
        return Q()

    def sort_column(self) -> tuple[ListColumn, bool]:
        """The column to sort by and whether ascending; an unknown one is said, and the default used."""
        wanted = self.request.GET.get("sort", "") or self.default_sort
        key, ascending = (wanted[1:], False) if wanted.startswith("-") else (wanted, True)
        by_key = {column.key: column for column in self.columns if column.sortable}
        if key not in by_key:
            self.notices.append(_("The list cannot be sorted by “%(sort)s”, so it is in its usual order.")
                                % {"sort": wanted[:40]})
            default = self.default_sort
            key, ascending = (default[1:], False) if default.startswith("-") else (default, True)
        return by_key[key], ascending

    def _ordered(self, queryset, column: ListColumn, ascending: bool):
        """The queryset with the sort values annotated as _s0, _s1, ... and ordered by them and pk."""
        names = []
        for index, expression in enumerate(column.sort):
            name = f"_s{index}"
            queryset = queryset.annotate(**{name: F(expression) if isinstance(expression, str) else expression})
            names.append(name)
        names.append("pk")
        self._sort_names = names
        self._ascending = ascending
        return queryset.order_by(*[name if ascending else f"-{name}" for name in names])

    def _cursor(self, row) -> str:
        values = [getattr(row, name) if name != "pk" else row.pk for name in self._sort_names]
        return signing.dumps([value if isinstance(value, (str, int, float, bool)) or value is None else str(value)
                              for value in values], salt=CURSOR_SALT, compress=True)

    def _read_cursor(self, token: str) -> list | None:
        try:
            values = signing.loads(token, salt=CURSOR_SALT)
        except signing.BadSignature:
            values = None
        if not isinstance(values, list) or len(values) != len(self._sort_names):
            self.notices.append(_("The link to this page was out of date or had been changed, so the list starts "
                                  "from the beginning."))
            return None
        return values

    def _beyond(self, values: list, forward: bool) -> Q:
        """Rows after (forward) or before the cursor's row in the list's order: the keyset condition."""
        condition = Q()
        for index, name in enumerate(self._sort_names):
            ahead = forward == self._ascending
            step = Q(**{f"{name}__{'gt' if ahead else 'lt'}": values[index]})
            for earlier in range(index):
                step &= Q(**{self._sort_names[earlier]: values[earlier]})
            condition |= step
        # The same rows, with the first sort value's bound stated on its own: PostgreSQL cannot take an
        # index range from the OR above, so without it a page deep in a long list reads every row before it.
        first = self._sort_names[0]
        return condition & Q(**{f"{first}__{'gte' if forward == self._ascending else 'lte'}": values[0]})

    def page(self, queryset) -> ListPage:
        size = self.paginate_by
        column, ascending = self.sort_column()
        self.sort_key, self.sort_ascending = column.key, ascending
        ordered = self._ordered(queryset, column, ascending)
        count, capped = self.count_rows(queryset)
        params = self.request.GET
        reverse = [f"-{name}" if ascending else name for name in self._sort_names]
        if "last" in params:
            rows = list(ordered.order_by(*reverse)[:size])[::-1]
            page = ListPage(rows, count, has_next=False, has_previous=count > size)
        elif params.get("before") and (values := self._read_cursor(params["before"])) is not None:
            rows = list(ordered.filter(self._beyond(values, forward=False)).order_by(*reverse)[:size + 1])
            page = ListPage(rows[:size][::-1], count, has_next=True, has_previous=len(rows) > size)
        elif params.get("after") and (values := self._read_cursor(params["after"])) is not None:
            rows = list(ordered.filter(self._beyond(values, forward=True))[:size + 1])
            page = ListPage(rows[:size], count, has_next=len(rows) > size, has_previous=True)
        else:
            rows = list(ordered[:size + 1])
            page = ListPage(rows[:size], count, has_next=len(rows) > size, has_previous=False)
        if page.rows:
            page.first_cursor, page.last_cursor = self._cursor(page.rows[0]), self._cursor(page.rows[-1])
        page.notices = self.notices
        page.count_capped = capped
        return page

    def count_rows(self, queryset) -> tuple[int, bool]:
        """(the count, whether it stopped at ``search_count_limit``): exact unless the list is searched
        and more rows than the limit match (``SELECT COUNT(*) FROM (... LIMIT limit + 1)``)."""
        limit = self.search_count_limit
        if not (getattr(self, "search", "") and limit):
            return queryset.count(), False
        count = queryset.order_by()[:limit + 1].count()  # unordered: the first rows found will do
        return (limit, True) if count > limit else (count, False)

    def filters_invalid(self) -> bool:
        """Whether a filter was refused (a bad date, a reversed period): the page says so beside the field."""
        return self.filterset is not None and self.filterset.is_bound and not self.filterset.is_valid()

    def export_refused(self):
        """The answer to an export whose filters are refused: the file would silently hold more rows than
        asked for, so the reader is sent to the list with the same query, which says what is wrong."""
        list_path = self.request.path.rsplit("/", 1)[0] + "/"  # list_urls: <list>/export.<format>
        return redirect(list_path + self.query())

    def _filters_applied(self) -> bool:
        if self.filterset is None or not self.filterset.is_bound:
            return False
        cleaned = getattr(self.filterset.form, "cleaned_data", {})
        return any(not _no_value(value) for value in cleaned.values())

    # --- URLs that keep the state ------------------------------------------------------------------

    def query(self, **changes) -> str:
        """The current query string with ``changes`` (None removes a key); always starts with ``?``."""
        query = QueryDict(mutable=True)
        for key, values in self.request.GET.lists():
            query.setlist(key, values)
        for key, value in changes.items():
            query.pop(key, None)
            if value is not None:
                query[key] = value
        encoded = query.urlencode()
        return f"?{encoded}" if encoded else "?"

    def _without_position(self, **changes) -> str:
        return self.query(**{**{name: None for name in POSITION_PARAMS}, **changes})

    # --- the view ---------------------------------------------------------------------------------

    def get(self, request, *args, **kwargs):
        self.notices = []
        if self.export_format is not None:  # set by list_urls for the export routes
            if self.export_format not in EXPORT_FORMATS or not self.export_name:
                raise Http404
            queryset = self.get_queryset()
            if self.filters_invalid():
                return self.export_refused()
            return self.export(queryset)
        self.object_list = self.get_queryset()
        return self.render_to_response(self.get_context_data())

    def export(self, queryset):
        column, ascending = self.sort_column()
        if self.export_only:  # only what the export's columns read: fewer values to load per row
            queryset = queryset.only(*self.export_only)
        rows = self._ordered(queryset, column, ascending).iterator(chunk_size=2000)
        columns = [column.export_column() for column in self.columns if column.export]
        filename = f"{self.export_name}-{timezone.localdate():%Y-%m-%d}"
        return export_response(export_format=self.export_format, columns=columns, rows=rows, filename=filename,
                               sheet_title=str(self.title))

    def get_template_names(self):
        if self.request.htmx and not self.request.htmx.boosted:
            return [self.results_template_name]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        page = self.page(self.object_list)
        shown = [column for column in self.columns if column.show]
        headers = []
        for column in shown:
            header = {"column": column, "sorted": None, "url": None}
            if column.sortable:
                current = column.key == self.sort_key
                header["sorted"] = ("ascending" if self.sort_ascending else "descending") if current else None
                next_sort = f"-{column.key}" if current and self.sort_ascending else column.key
                header["url"] = self._without_position(sort=next_sort)
            headers.append(header)
        paging = {
            "first": self._without_position() if page.has_previous else None,
            "previous": self.query(after=None, last=None, before=page.first_cursor) if page.has_previous else None,
            "next": self.query(before=None, last=None, after=page.last_cursor) if page.has_next else None,
            "last": self._without_position(last="1") if page.has_next else None,
        }
        exports = []
        if self.export_name:
            view_name = self.request.resolver_match.view_name
            for export_format in EXPORT_FORMATS:
                url = reverse(export_route_name(view_name, export_format), kwargs=self.kwargs or None)
                exports.append({"format": export_format, "url": url + self._without_position()})
        return {
            "view": self,
            "title": self.title,
            "list_page": page,
            "headers": headers,
            "sortable_headers": any(header["url"] for header in headers),
            "columns": shown,
            "paging": paging,
            "exports": exports,
            "search": self.search,
            "search_label": self.search_label,
            "has_search": bool(self.search_fields),
            "filter_form": self.filterset.form if self.filterset is not None else None,
            "filtered": bool(self.search) or self._filters_applied(),
            "empty_message": self.empty_message,
            "list_url": self.request.path,
            "bulk": self.bulk_context(page),
            **kwargs,
        }

    # --- selection for bulk actions ------------------------------------------------------------------

    def bulk_row_label(self, row) -> str:
        """What the row's checkbox is called for a screen reader ("Select …")."""
        return str(row)

    def bulk_context(self, page: ListPage) -> dict | None:
        """The selection form's content, or None when the list (or this member) has no bulk actions."""
        actions = [action for action in self.bulk_actions
                   if action.permission is None or self.membership.has_permission(action.permission)]
        if not actions or not self.bulk_url_name:
            return None
        state = bulk_list_state(self.request.GET)
        return {
            "url": reverse(self.bulk_url_name),
            "actions": actions,
            "state": [(key, value) for key, values in state.lists() for value in values],
            "labels": {row.pk: self.bulk_row_label(row) for row in page.rows},
        }

    @classmethod
    def bulk_matching(cls, request, params: QueryDict):
        """The rows "all that match" means for the list state in ``params``: the list's own search and
        filters, within the request's membership scope (the same queryset the list counts)."""
        view = cls()
        listing = copy(request)
        listing.GET = bulk_list_state(params)
        view.setup(listing)
        view.membership = request.tenant.membership
        view.notices = []
        queryset = view.get_queryset()
        if view.filters_invalid():
            # A refused filter is ignored by the list (it says so beside the field): "all that match"
            # must not silently become more lines than the reader asked for.
            raise ListFiltersRefused
        return queryset


def _no_value(value) -> bool:
    return value in (None, "", [], ()) or (hasattr(value, "exists") and not value.exists())


def export_route_name(name: str, export_format: str) -> str:
    """``<name>_export`` for the CSV, ``<name>_export_xlsx`` for the workbook (as the audit log's)."""
    return f"{name}_export" if export_format == "csv" else f"{name}_export_{export_format}"


def list_urls(route: str, view: type[FilteredListView], name: str) -> list:
    """The list's page and its exports: ``…/export.csv`` (``<name>_export``) and ``…/export.xlsx``
    (``<name>_export_xlsx``)."""
    prefix = route if not route or route.endswith("/") else f"{route}/"
    return [
        path(prefix, view.as_view(), name=name),
        *(path(f"{prefix}export.{export_format}", view.as_view(export_format=export_format),
               name=export_route_name(name, export_format)) for export_format in EXPORT_FORMATS),
    ]
