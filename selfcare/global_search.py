"""The global search in the top bar: a number, an employee's name, an account number, an order or
case id, an invoice number; answered grouped by kind, each hit leading to its page.

Each kind (``SEARCH_KINDS``) says which permission shows it and how it finds its rows, always from the
membership's scope (its company and account numbers), so the search never suggests what the login could
not open. Each kind is one query with a LIMIT, chosen so that PostgreSQL answers it from an index: the
subscriptions' trigram indexes (UPPER(column) gin_trgm_ops, what ``icontains`` compares) for a part of
a name, an e-mail or a number; the primary key for an id. Nothing is counted: a kind with more hits than
shown links to its list with the same search instead.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import phonenumbers
from django.db.models import Q
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.permissions import Permission
from accounts.views_base import membership_holds

SEARCH_MAX_LENGTH = 100
# Fewer characters than this find nothing by text (an id or a number is found from its first digit).
TEXT_MIN_LENGTH = 2
SUGGESTIONS_PER_KIND = 5
RESULTS_PER_KIND = 20
ID_MAX_DIGITS = 9  # fits an integer primary key
WHOLE_MAX_DIGITS = 18  # fits a bigint (invoice numbers)
ID_PREFIXES = ("S", "F")  # SupportCase.number, FaultReport.number


@dataclass(frozen=True)
class SearchHit:
    label: str
    detail: str
    url: str


@dataclass
class SearchGroup:
    key: str
    title: str
    hits: list[SearchHit]
    # Where the whole list with this search is, when the group has more hits than shown.
    more_url: str | None = None


@dataclass(frozen=True)
class SearchQuery:
    """What was typed, and what it can mean: text, and (when it looks like one) a number or an id."""

    text: str
    digits: str  # a phone number's national digits, or "" when the text is not a number
    id: int | None  # an id (an order's number), or None
    whole: int | None = None  # the text as one whole number (an invoice number), or None
    # An id written with its kind's letter, as the portal shows it: "S000123" (a case), "F000042".
    prefixed: tuple[str, int] | None = None

    @property
    def searches_text(self) -> bool:
        return len(self.text) >= TEXT_MIN_LENGTH


NUMBER_CHARACTERS = set("0123456789+ -()/.#")


def search_query(text: str) -> SearchQuery:
    text = " ".join((text or "").split())[:SEARCH_MAX_LENGTH]
    digits, identifier = "", None
    if text and set(text) <= NUMBER_CHARACTERS and any(char.isdigit() for char in text):
        digits = "".join(char for char in text if char.isdigit())
        if text.startswith("+") or text.startswith("00"):
            # With its country code: the national number is what every stored form contains
            # ("+45 21234567", "+4521234567").
            try:
                digits = str(phonenumbers.parse("+" + digits.removeprefix("00"), None).national_number)
            except phonenumbers.NumberParseException:
                pass
        elif digits.startswith("0"):
            digits = digits[1:]  # a Swedish trunk prefix ("070-123 45 67"): stored as +46 70 123 45 67
        bare = text.lstrip("#").strip()
        if bare.isdigit() and len(bare) <= ID_MAX_DIGITS:
            identifier = int(bare)
    whole = int(text) if text.isdigit() and len(text) <= WHOLE_MAX_DIGITS else None
    prefixed = None
    if len(text) > 1 and text[0].upper() in ID_PREFIXES and text[1:].isdigit() and len(text) <= ID_MAX_DIGITS + 1:
        prefixed = (text[0].upper(), int(text[1:]))
    return SearchQuery(text=text, digits=digits, id=identifier, whole=whole, prefixed=prefixed)


@dataclass(frozen=True)
class SearchKind:
    key: str
    title: object  # lazy translation
    permission: object  # as views declare it: one, a tuple meaning "any of these", or None
    find: Callable  # (membership, query, limit) -> list[SearchHit]
    more: Callable | None = None  # (query) -> the URL of the list with this search, or None
    applies: Callable = field(default=lambda query: query.searches_text)


def _list_url(name: str, query: SearchQuery) -> str:
    # A number as the list's search finds it: its digits ("+45 21 23 45 67" is stored "+45 21234567").
    return f"{reverse(name)}?{urlencode({'q': query.digits or query.text})}"


# Subscriptions: an employee's name or e-mail, or a number --------------------------------------------

def _subscriptions(membership, query: SearchQuery, limit: int) -> list[SearchHit]:
    from accounts.templatetags.portal import phone
    from subscriptions.models import Subscription

    if query.digits:
        if len(query.digits) < 3:
            return []
        condition = Q(number__icontains=query.digits)
    else:
        condition = Q(employee_name__icontains=query.text) | Q(employee_email__icontains=query.text)
    # Read in number order, shown in name order. In name order a common fragment ("ans") is found only
    # where names with it begin in the alphabet (at 500,000 lines ~100 ms deep into the name index); in
    # number order, which has nothing to do with the names, the first hits come within a few hundred
    # index entries (~4 ms), and a rare fragment goes to the trigram indexes (~1 ms).
    rows = (Subscription.objects.for_membership(membership).filter(condition).select_related("account")
            .only("pk", "employee_name", "number", "status", "account__number")
            .order_by("number", "pk")[:limit])
    rows = sorted(rows, key=lambda row: (row.employee_name, row.number, row.pk))
    statuses = dict(Subscription.Status.choices)
    return [SearchHit(label=row.employee_name,
                      detail=" · ".join([phone(row.number), row.account.number, str(statuses.get(row.status, ""))]),
                      url=reverse("subscriptions:detail", args=[row.pk])) for row in rows]


# Account numbers: the number or the account's name ----------------------------------------------------

def _accounts(membership, query: SearchQuery, limit: int) -> list[SearchHit]:
    from subscriptions.models import BillingAccount

    rows = (BillingAccount.objects.for_membership(membership)
            .filter(Q(number__icontains=query.text) | Q(name__icontains=query.text))
            .only("pk", "number", "name").order_by("number", "pk")[:limit])
    return [SearchHit(label=row.number, detail=row.name, url=reverse("subscriptions:account_detail", args=[row.pk]))
            for row in rows]


# Orders: by their number (the id) ---------------------------------------------------------------------

def _orders(membership, query: SearchQuery, limit: int) -> list[SearchHit]:
    from orders.models import Order
    from orders.services import orders_visible

    rows = (orders_visible(membership).filter(pk=query.id).select_related("product")
            .only("pk", "status", "employee_name", "product__name")[:limit])
    statuses = dict(Order.Status.choices)
    return [SearchHit(label=_("Order %(number)s") % {"number": row.number},
                      detail=" · ".join([row.product.name, row.employee_name, str(statuses.get(row.status, ""))]),
                      url=reverse("orders:detail", args=[row.pk])) for row in rows]


# Support cases and fault reports: by their number ("S000123", "F000042") or the bare id -----------------

def _ticket_id(query: SearchQuery, prefix: str) -> int | None:
    if query.prefixed is not None:
        return query.prefixed[1] if query.prefixed[0] == prefix else None
    return query.id


def _cases(membership, query: SearchQuery, limit: int) -> list[SearchHit]:
    from tickets.models import SupportCase
    from tickets.selectors import visible_cases

    rows = (visible_cases(membership=membership).filter(pk=_ticket_id(query, "S"))
            .only("pk", "subject", "status")[:limit])
    statuses = dict(SupportCase.Status.choices)
    return [SearchHit(label=row.number, detail=" · ".join([row.subject, str(statuses.get(row.status, ""))]),
                      url=reverse("tickets:case_detail", args=[row.pk])) for row in rows]


def _fault_reports(membership, query: SearchQuery, limit: int) -> list[SearchHit]:
    from tickets.models import FaultReport

    rows = (FaultReport.objects.for_membership(membership).filter(pk=_ticket_id(query, "F"))
            .only("pk", "reference", "status")[:limit])
    statuses = dict(FaultReport.Status.choices)
    return [SearchHit(label=row.number, detail=" · ".join([row.reference, str(statuses.get(row.status, ""))]),
                      url=reverse("tickets:fault_detail", args=[row.pk])) for row in rows]


# Invoices: by their whole number ------------------------------------------------------------------------

def _invoices(membership, query: SearchQuery, limit: int) -> list[SearchHit]:
    from invoices.models import Invoice

    rows = (Invoice.objects.for_membership(membership).filter(number=query.whole).select_related("account")
            .only("pk", "number", "period", "status", "gross_total", "currency", "account__number")[:limit])
    statuses = dict(Invoice.Status.choices)
    return [SearchHit(label=_("Invoice %(number)s") % {"number": row.number},
                      detail=" · ".join([row.account.number, f"{row.gross_total} {row.currency}",
                                         str(statuses.get(row.status, ""))]),
                      url=reverse("invoices:detail", args=[row.pk])) for row in rows]


SEARCH_KINDS: list[SearchKind] = [
    SearchKind("subscriptions", gettext_lazy("Subscriptions"), Permission.VIEW_SUBSCRIPTIONS, _subscriptions,
               more=lambda query: _list_url("subscriptions:list", query),
               applies=lambda query: query.searches_text or len(query.digits) >= 3),
    SearchKind("accounts", gettext_lazy("Account numbers"), Permission.VIEW_SUBSCRIPTIONS, _accounts,
               more=lambda query: _list_url("subscriptions:accounts", query)),
    SearchKind("orders", gettext_lazy("Orders"), (Permission.ORDER_PRODUCTS, Permission.APPROVE_ORDERS), _orders,
               applies=lambda query: query.id is not None),
    # Every login of the company sees its cases (seed 004); fault reports need their permission.
    SearchKind("cases", gettext_lazy("Support cases"), None, _cases,
               applies=lambda query: _ticket_id(query, "S") is not None),
    SearchKind("fault_reports", gettext_lazy("Fault reports"), Permission.CREATE_FAULT_REPORTS, _fault_reports,
               applies=lambda query: _ticket_id(query, "F") is not None),
    SearchKind("invoices", gettext_lazy("Invoices"), Permission.VIEW_INVOICES, _invoices,
               applies=lambda query: query.whole is not None),
]


def global_search(*, membership, text: str, limit: int = SUGGESTIONS_PER_KIND) -> list[SearchGroup]:
    """The groups of hits for ``text`` that the membership may see (a kind without hits is left out).
    One query per kind that applies, whatever the data's size."""
    query = search_query(text)
    groups = []
    for kind in SEARCH_KINDS:
        if not membership_holds(membership, kind.permission) or not kind.applies(query):
            continue
        hits = kind.find(membership, query, limit + 1)  # one more: is there more than is shown?
        if hits:
            more = kind.more(query) if kind.more is not None and len(hits) > limit else None
            groups.append(SearchGroup(kind.key, str(kind.title), hits[:limit], more_url=more))
    return groups
