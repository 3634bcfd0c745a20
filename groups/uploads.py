"""Bulk upload from Excel ("Hantera flera"): categories and groups, or assignments of lines to groups.

Every row is checked before anything is written, and the preview says per row what will be created,
changed or left as it is, or why it is refused. Applying checks the whole file again against the data
as it is then, under a lock on the company, and writes all of it in one transaction or nothing.

Limits: a workbook of at most ``MAX_ROWS`` rows (below the headings) and ``MAX_BYTES`` bytes; a bigger
one is refused whole, with a message saying so. Small files are checked and applied in the request;
bigger ones in a background job with progress (``selfcare.jobs``).
"""

import io
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import AuditEvent
from accounts.services.audit import audit_record
from groups import services
from groups.models import MAX_CATEGORIES, MAX_GROUPS, Group, GroupCategory, GroupMembership, GroupUpload
from groups.months import add_months, format_month, month_after, month_before, parse_month, this_month
from groups.services import MONTHS_AHEAD, _lock_company, opening_months
from subscriptions.models import BillingAccount, Subscription

logger = logging.getLogger(__name__)

MAX_ROWS = 50_000
MAX_BYTES = 20 * 1024 * 1024
# Up to this size a workbook is checked and applied while the page waits; above it, in a job.
SYNC_MAX_BYTES = 100 * 1024
LOOKUP_CHUNK = 5_000

JOB_CHECK = "groups.upload_check"
JOB_APPLY = "groups.upload_apply"

# Outcomes of a row.
CREATED, CHANGED, UNCHANGED, DELETED, REFUSED = "created", "changed", "unchanged", "deleted", "refused"
OUTCOME_LABELS = {
    CREATED: gettext_lazy("Created"), CHANGED: gettext_lazy("Changed"), UNCHANGED: gettext_lazy("No change"),
    DELETED: gettext_lazy("Deleted"), REFUSED: gettext_lazy("Refused"),
}
# Before applying, a deletion is what will happen (the preview asks first, as the page does).
PLANNED_LABELS = {**OUTCOME_LABELS, DELETED: gettext_lazy("Will be deleted")}


def outcome_label(outcome: str, *, applied: bool):
    return (OUTCOME_LABELS if applied else PLANNED_LABELS)[outcome]


# The structure workbook's "Action" column: empty creates or changes; this word (in any of the site's
# languages, any case) deletes. Nothing is ever deleted because it is missing from the workbook.
ACTION_DELETE = gettext_lazy("Delete")

# The columns (key, heading in the template). Headings are matched case-insensitively, in English or
# in the reader's language.
COLUMNS = {
    GroupUpload.Kind.STRUCTURE: [
        ("category", gettext_lazy("Category"), True),
        ("category_description", gettext_lazy("Category description"), False),
        ("group", gettext_lazy("Group"), True),
        ("group_description", gettext_lazy("Group description"), False),
        ("action", gettext_lazy("Action"), False),
    ],
    GroupUpload.Kind.ASSIGNMENTS: [
        ("account", gettext_lazy("Account number"), True),
        ("subscription", gettext_lazy("Subscription number"), True),
        ("subscription_id", gettext_lazy("Subscription id"), False),
        ("category", gettext_lazy("Category"), True),
        ("group", gettext_lazy("Group"), True),
        ("start", gettext_lazy("Start month"), True),
        ("end", gettext_lazy("End month"), True),
    ],
}

# Why a file is refused whole, and why a row is refused (or what a change is): codes stored on the
# upload, shown in the reader's language.
FILE_PROBLEMS = {
    "not_a_workbook": gettext_lazy("The file is not an Excel workbook (.xlsx). Save it as an Excel workbook and "
                                   "upload it again."),
    "too_large": gettext_lazy("The file is larger than %(max)s MB."),
    "missing_columns": gettext_lazy("The first sheet lacks the columns: %(columns)s. Download the template to see "
                                    "the columns it needs."),
    "too_many_rows": gettext_lazy("The workbook has more than %(max)s rows. Split it into workbooks of at most "
                                  "%(max)s rows each; nothing was written."),
    "empty": gettext_lazy("The workbook has no rows below the headings."),
    "changed_meanwhile": gettext_lazy("The data changed since the check: the rows are checked again below. "
                                      "Nothing was written."),
}
REASONS = {
    "": "",
    "no_number": gettext_lazy("Give an account number or a subscription number."),
    "both_numbers": gettext_lazy("Give an account number or a subscription number, not both."),
    "unknown_number": gettext_lazy("Unknown number: %(number)s."),
    "ambiguous_number": gettext_lazy("Several subscriptions have the number %(number)s: give the subscription id."),
    "outside_scope": gettext_lazy("%(number)s is outside the account numbers you have access to."),
    "no_category": gettext_lazy("The category is missing."),
    "no_group": gettext_lazy("The group is missing."),
    "unknown_category": gettext_lazy("There is no category called “%(category)s”."),
    "unknown_group": gettext_lazy("There is no group called “%(group)s” in %(category)s."),
    "bad_month": gettext_lazy("“%(value)s” is not a month; write YYYY-MM."),
    "no_start": gettext_lazy("The start month is missing."),
    "end_before_start": gettext_lazy("The end month is before the start month."),
    "outside_window": gettext_lazy("The start month must be from %(first)s to %(last)s."),
    "overlap_row": gettext_lazy("Overlaps row %(row)s: a line is in one group of a category at a time."),
    "overlap_existing": gettext_lazy("Overlaps %(group)s from %(start)s until %(until)s: a line is in one group of "
                                     "a category at a time."),
    "moves": gettext_lazy("Moves from %(group)s, which ends %(until)s."),
    "end_changed": gettext_lazy("The end month changes."),
    "description_changed": gettext_lazy("The description changes."),
    "group_twice": gettext_lazy("The group is in the file twice (row %(row)s)."),
    "category_limit": gettext_lazy("Over the limit of %(max)s categories."),
    "group_limit": gettext_lazy("Over the limit of %(max)s groups."),
    "too_long": gettext_lazy("A name is longer than %(max)s characters."),
    "bad_action": gettext_lazy("“%(value)s” is not an action: write %(delete)s to delete, or leave it empty."),
    "category_deleted": gettext_lazy("The category is deleted by row %(row)s: nothing else can be done with it in "
                                     "the same workbook."),
    "delete_category": services.CATEGORY_DELETE_CONSEQUENCE,
    "delete_category_empty": services.CATEGORY_DELETE_EMPTY,
    "delete_group": services.GROUP_DELETE_CONSEQUENCE,
    "delete_group_empty": services.GROUP_DELETE_EMPTY,
}


def reason_text(code: str, values: dict) -> str:
    text = str(REASONS.get(code, code))
    values = dict(values or {})
    if values.get("until") == "":
        values["until"] = _("further notice")
    try:
        return text % values if values else text
    except (KeyError, TypeError, ValueError):
        return text


def file_problem_text(problem: dict) -> str:
    if not problem:
        return ""
    text = str(FILE_PROBLEMS.get(problem.get("code"), problem.get("code")))
    values = problem.get("values") or {}
    return text % values if values else text


class WorkbookRefused(Exception):
    def __init__(self, code: str, **values):
        super().__init__(code)
        self.code, self.values = code, values


# Reading -------------------------------------------------------------------------------------------

def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, date):
        return format_month(value.replace(day=1) if not hasattr(value, "date") else value.date().replace(day=1))
    return " ".join(str(value).split())


def _headings(kind) -> dict[str, str]:
    """Every accepted heading (lower case) → column key."""
    from django.utils import translation

    found = {}
    for key, label, _required in COLUMNS[kind]:
        found[str(label).lower()] = key
        with translation.override("en"):
            found[str(label).lower()] = key
        found[key] = key
    return found


class RowValues(tuple):
    """A row's cells in the order of its kind's ``COLUMNS`` (a tuple, read by key with ``get``): 50,000
    rows as dicts of their columns held 40 MB, as tuples of shared texts a fifth of that."""

    __slots__ = ()
    index: dict[str, int] = {}

    def get(self, key, default=""):
        position = self.index.get(key)
        return self[position] if position is not None else default


class StructureValues(RowValues):
    __slots__ = ()
    index = {key: position for position, (key, _label, _needed) in enumerate(COLUMNS[GroupUpload.Kind.STRUCTURE])}


class AssignmentValues(RowValues):
    __slots__ = ()
    index = {key: position for position, (key, _label, _needed) in enumerate(COLUMNS[GroupUpload.Kind.ASSIGNMENTS])}


ROW_VALUES = {GroupUpload.Kind.STRUCTURE: StructureValues, GroupUpload.Kind.ASSIGNMENTS: AssignmentValues}


def read_rows(file, kind, *, progress=None) -> list[tuple[int, RowValues]]:
    """(row number, the row's texts by column) of every non-empty row below the headings of the first sheet."""
    from openpyxl import load_workbook

    try:
        file.seek(0)
        workbook = load_workbook(file, read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        heading_row = next(rows, None)
    except Exception as error:  # noqa: BLE001 - a zip that is no workbook, a CSV renamed, a broken file
        logger.info("group upload refused as no workbook: %r", error)
        raise WorkbookRefused("not_a_workbook") from error
    known = _headings(kind)
    positions = {}
    for index, heading in enumerate(heading_row or ()):
        key = known.get(_cell(heading).lower())
        if key and key not in positions:
            positions[key] = index
    required = [(key, label) for key, label, needed in COLUMNS[kind] if needed]
    missing = [str(label) for key, label in required if key not in positions]
    if missing:
        workbook.close()
        raise WorkbookRefused("missing_columns", columns=", ".join(missing))
    row_class = ROW_VALUES[kind]
    picks = [positions.get(key) for key, _label, _needed in COLUMNS[kind]]
    shared = {"": ""}  # one text object per distinct text: 50,000 rows repeat the same category, group, months
    result = []
    try:
        for number, values in enumerate(rows, start=2):
            if values is None or all(value is None or _cell(value) == "" for value in values):
                continue
            if len(result) >= MAX_ROWS:
                raise WorkbookRefused("too_many_rows", max=f"{MAX_ROWS:,}".replace(",", " "))
            width = len(values)
            cells = []
            for index in picks:
                text = _cell(values[index]) if index is not None and index < width else ""
                cells.append(shared.setdefault(text, text))
            result.append((number, row_class(cells)))
    except WorkbookRefused:
        raise
    except Exception as error:  # noqa: BLE001 - a sheet that breaks halfway
        raise WorkbookRefused("not_a_workbook") from error
    finally:
        workbook.close()
    if not result:
        raise WorkbookRefused("empty")
    return result


# Checking --------------------------------------------------------------------------------------------

NO_VALUES: dict = {}


@dataclass(slots=True)
class RowResult:
    row: int
    outcome: str
    code: str = ""
    values: dict | None = None  # shared between rows with the same reason (never changed once made)

    def as_list(self):
        return [self.row, self.outcome, self.code, self.values if self.values is not None else NO_VALUES]


@dataclass
class Plan:
    """What applying writes: the rows' results and the writes themselves."""

    results: list[RowResult]
    new_categories: list = field(default_factory=list)  # (name, description)
    category_descriptions: dict = field(default_factory=dict)  # category id → description
    new_groups: list = field(default_factory=list)  # (category name, group name, description)
    group_descriptions: dict = field(default_factory=dict)  # group id → description
    deleted_categories: list = field(default_factory=list)  # category ids (their groups go with them)
    deleted_groups: list = field(default_factory=list)  # group ids
    # (category id, group id, "a"/"s", line id, first month, month after the last or None): plain tuples, as
    # 50,000 unsaved GroupMembership instances held 60 MB.
    new_memberships: list = field(default_factory=list)
    new_periods: dict = field(default_factory=dict)  # membership id → (first month, month after the last or None)

    def counts(self) -> dict:
        counts = {CREATED: 0, CHANGED: 0, UNCHANGED: 0, DELETED: 0, REFUSED: 0}
        for result in self.results:
            counts[result.outcome] += 1
        return counts


def _delete_words() -> set[str]:
    from django.conf import settings
    from django.utils import translation

    words = set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            words.add(str(ACTION_DELETE).lower())
    return words


def check_structure(*, membership, rows) -> Plan:
    """Categories and groups: created when new, described when the description differs, deleted when the
    row's Action says so (a row with a group deletes the group, one without the category with its groups)."""
    from django.db.models import Count

    categories = {c.name.lower(): c for c in GroupCategory.objects.filter(company_id=membership.company_id)}
    groups = {(g.category_id, g.name.lower()): g for g in Group.objects.filter(company_id=membership.company_id)}
    plan = Plan(results=[])
    delete_words = _delete_words()

    # The deletions first: what they free counts for the limits, and a deleted category takes no other rows.
    deleting = {}  # row number → the category or group deleted
    deleted_categories = {}  # category id → row
    for number, values in rows:
        action = values.get("action", "")
        if action.lower() not in delete_words:
            continue
        category = categories.get(values.get("category", "").lower())
        group_name = values.get("group", "")
        if category is not None and not group_name:
            deleted_categories.setdefault(category.pk, number)
            deleting[number] = category
        elif category is not None and (category.pk, group_name.lower()) in groups:
            deleting[number] = groups[(category.pk, group_name.lower())]
    members = {}
    if deleting:
        members = dict(GroupMembership.objects.filter(company_id=membership.company_id).values("group_id")
                       .annotate(count=Count("pk")).values_list("group_id", "count"))
    gone_groups = {group.pk for group in groups.values() if group.category_id in deleted_categories}
    gone_groups |= {item.pk for item in deleting.values() if isinstance(item, Group)}
    category_count = len(categories) - len(deleted_categories)
    group_count = len(groups) - len(gone_groups)

    new_categories: dict[str, int] = {}  # lower name → row
    seen_groups: dict[tuple, int] = {}
    described = {}
    for number, values in rows:
        name, group_name = values.get("category", ""), values.get("group", "")
        action = values.get("action", "")
        if not name:
            plan.results.append(RowResult(number, REFUSED, "no_category"))
            continue
        if len(name) > 60 or len(group_name) > 60:
            plan.results.append(RowResult(number, REFUSED, "too_long", {"max": 60}))
            continue
        if action and action.lower() not in delete_words:
            plan.results.append(RowResult(number, REFUSED, "bad_action",
                                          {"value": action, "delete": str(ACTION_DELETE)}))
            continue
        category = categories.get(name.lower())
        if category is not None and category.pk in deleted_categories and deleted_categories[category.pk] != number:
            plan.results.append(RowResult(number, REFUSED, "category_deleted",
                                          {"row": deleted_categories[category.pk]}))
            continue
        if action:  # a deletion
            if category is None:
                plan.results.append(RowResult(number, REFUSED, "unknown_category", {"category": name}))
                continue
            if not group_name:
                count = sum(members.get(group.pk, 0) for group in groups.values() if group.category_id == category.pk)
                in_category = sum(1 for group in groups.values() if group.category_id == category.pk)
                plan.deleted_categories.append(category.pk)
                plan.results.append(RowResult(number, DELETED, "delete_category" if in_category else
                                              "delete_category_empty", {"groups": in_category, "members": count}))
                continue
            key = (category.pk, group_name.lower())
            if key in seen_groups:
                plan.results.append(RowResult(number, REFUSED, "group_twice", {"row": seen_groups[key]}))
                continue
            seen_groups[key] = number
            group = groups.get(key)
            if group is None:
                plan.results.append(RowResult(number, REFUSED, "unknown_group",
                                              {"group": group_name, "category": category.name}))
                continue
            count = members.get(group.pk, 0)
            plan.deleted_groups.append(group.pk)
            plan.results.append(RowResult(number, DELETED, "delete_group" if count else "delete_group_empty",
                                          {"members": count, "category": category.name}))
            continue
        outcome, code = UNCHANGED, ""
        description = values.get("category_description", "")
        if category is None and name.lower() not in new_categories:
            if category_count >= MAX_CATEGORIES:
                plan.results.append(RowResult(number, REFUSED, "category_limit", {"max": MAX_CATEGORIES}))
                continue
            category_count += 1
            new_categories[name.lower()] = number
            plan.new_categories.append((name, description))
            outcome = CREATED
        elif category is not None and description and description != described.get(category.pk, category.description):
            described[category.pk] = description
            plan.category_descriptions[category.pk] = description
            outcome, code = CHANGED, "description_changed"
        if group_name:
            key = (category.pk if category else name.lower(), group_name.lower())
            if key in seen_groups:
                plan.results.append(RowResult(number, REFUSED, "group_twice", {"row": seen_groups[key]}))
                continue
            seen_groups[key] = number
            group = groups.get(key) if category else None
            group_description = values.get("group_description", "")
            if group is None:
                if group_count >= MAX_GROUPS:
                    plan.results.append(RowResult(number, REFUSED, "group_limit", {"max": MAX_GROUPS}))
                    continue
                group_count += 1
                plan.new_groups.append((name, group_name, group_description))
                outcome, code = CREATED, ""
            elif group_description and group_description != group.description:
                plan.group_descriptions[group.pk] = group_description
                if outcome != CREATED:
                    outcome, code = CHANGED, "description_changed"
        plan.results.append(RowResult(number, outcome, code))
    return plan


def _chunks(values, size=LOOKUP_CHUNK):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]


@dataclass(frozen=True, slots=True)
class Line:
    """An account number or a subscription of the file, as little as the check needs (50,000 of them)."""

    kind: str  # "a" (account) or "s" (subscription)
    pk: int
    account_id: int


def _resolve_lines(membership, rows):
    """{number: account} and {number: [subscriptions]} / {id: subscription} for the numbers in the file,
    within the company (another company's numbers are unknown, the same as numbers that do not exist)."""
    account_numbers = {values.get("account") for _number, values in rows if values.get("account")}
    subscription_numbers = {values.get("subscription") for _number, values in rows
                            if values.get("subscription") and not values.get("subscription_id")}
    subscription_ids = {int(values.get("subscription_id")) for _number, values in rows
                        if values.get("subscription_id").isdigit() and len(values.get("subscription_id")) < 12}
    accounts = {}
    for pk, number in _values_any(BillingAccount, ("id", "number"), "number", account_numbers, membership.company_id):
        accounts[number] = Line("a", pk, pk)
    by_number = defaultdict(list)
    for pk, number, account_id in _values_any(Subscription, ("id", "number", "account_id"), "number",
                                              subscription_numbers, membership.company_id):
        by_number[number].append(Line("s", pk, account_id))
    by_id = {}
    for pk, account_id in _values_any(Subscription, ("id", "account_id"), "id", subscription_ids,
                                      membership.company_id):
        by_id[pk] = Line("s", pk, account_id)
    return accounts, by_number, by_id


def _values_any(model, columns, column, values, company_id):
    """The company's rows of ``model`` whose ``column`` is one of ``values``: as tuples of ``columns``, a
    chunk at a time, the values given as one array (thousands of placeholders cost more than the query)."""
    from django.db import connection

    table = connection.ops.quote_name(model._meta.db_table)
    sql = (f"SELECT {', '.join(columns)} FROM {table} WHERE company_id = %s AND {column} = ANY(%s)")
    with connection.cursor() as cursor:
        for chunk in _chunks(values, 10_000):
            cursor.execute(sql, [company_id, chunk])
            yield from cursor.fetchall()


class _Shared(dict):
    """One object per distinct value (months, a reason's values): 50,000 rows moving from the same
    groups in the same month share them instead of holding 50,000 copies."""

    def __missing__(self, key):
        value = self[key] = self.make(key)
        return value

    def __init__(self, make):
        super().__init__()
        self.make = make


def check_assignments(*, membership, rows, tick=None) -> Plan:
    """``tick(plan)`` is called now and then while rows are decided (the job's progress)."""
    plan = Plan(results=[])
    results = plan.results
    categories = {c.name.lower(): c for c in GroupCategory.objects.filter(company_id=membership.company_id)}
    groups = {(g.category_id, g.name.lower()): g
              for g in Group.objects.filter(company_id=membership.company_id).select_related("category")}
    labels = {group.pk: group.label for group in groups.values()}
    accounts, by_number, by_id = _resolve_lines(membership, rows)
    scope = None if membership.all_accounts else set(membership.accounts.values_list("pk", flat=True))
    latest_start = add_months(this_month(), MONTHS_AHEAD)
    months = _Shared(parse_month)
    shared_values = _Shared(lambda items: dict(items))

    def refuse(row, code, **values):
        results.append(RowResult(row, REFUSED, code, shared_values[tuple(values.items())] if values else None))

    parsed = []  # (row, line, group, start, end)
    for number, values in rows:
        account_number, subscription_number = values.get("account"), values.get("subscription")
        subscription_id = values.get("subscription_id")
        if not account_number and not subscription_number and not subscription_id:
            refuse(number, "no_number")
            continue
        if account_number and (subscription_number or subscription_id):
            refuse(number, "both_numbers")
            continue
        shown = account_number or subscription_number or subscription_id
        if account_number:
            line = accounts.get(account_number)
        elif subscription_id:
            line = by_id.get(int(subscription_id)) if subscription_id.isdigit() and len(subscription_id) < 12 else None
        else:
            found = by_number.get(subscription_number, ())
            if len(found) > 1:
                refuse(number, "ambiguous_number", number=shown)
                continue
            line = found[0] if found else None
        if line is None:
            refuse(number, "unknown_number", number=shown)
            continue
        if scope is not None and line.account_id not in scope:
            refuse(number, "outside_scope", number=shown)
            continue
        category_name, group_name = values.get("category"), values.get("group")
        if not category_name:
            refuse(number, "no_category")
            continue
        category = categories.get(category_name.lower())
        if category is None:
            refuse(number, "unknown_category", category=category_name)
            continue
        if not group_name:
            refuse(number, "no_group")
            continue
        group = groups.get((category.pk, group_name.lower()))
        if group is None:
            refuse(number, "unknown_group", group=group_name, category=category.name)
            continue
        start_text, end_text = values.get("start"), values.get("end")
        if not start_text:
            refuse(number, "no_start")
            continue
        start = months[start_text]
        end = months[end_text] if end_text else None
        if start is None or (end_text and end is None):
            refuse(number, "bad_month", value=start_text if start is None else end_text)
            continue
        if end is not None and end < start:
            refuse(number, "end_before_start")
            continue
        parsed.append((number, line, group, start, end))
    del accounts, by_number, by_id
    if tick is not None:
        tick(plan)

    openings = opening_months({line.account_id for _n, line, _g, _s, _e in parsed}) if parsed else {}
    window = _Shared(lambda first: {"first": format_month(first), "last": format_month(latest_start)})
    # One (category, line) at a time, earliest start first: each row is checked against what the rows
    # before it leave.
    by_line = defaultdict(list)
    for item in parsed:
        number, line, group, start, _end = item
        first = openings[line.account_id]
        if not first <= start <= latest_start:
            results.append(RowResult(number, REFUSED, "outside_window", window[first]))
            continue
        by_line[(group.category_id, line.kind, line.pk)].append(item)
    del parsed, openings
    # The lines' memberships are read a chunk of lines at a time, and dropped once those lines are checked.
    for keys in _chunks(by_line, LOOKUP_CHUNK):
        existing = _existing_memberships(keys)
        for key in keys:
            _check_line(plan, by_line[key], existing.get(key, ()), labels, shared_values)
        if tick is not None:
            tick(plan)
    results.sort(key=lambda result: result.row)
    return plan


def _check_line(plan, items, existing, labels, shared_values):
    """The file's rows of one line in one category, earliest start first, against its memberships there."""
    current = [[pk, group_id, lower, upper] for pk, group_id, lower, upper in existing]
    accepted = []  # (row number, start, end exclusive)
    results = plan.results
    for number, line, group, start, end in sorted(items, key=lambda item: (item[3], item[0])):
        upper = month_after(end) if end else None
        clash_row = next((n for n, s, u in accepted if _overlaps(s, u, start, upper)), None)
        if clash_row is not None:
            results.append(RowResult(number, REFUSED, "overlap_row", shared_values[(("row", clash_row),)]))
            continue
        overlapping = [entry for entry in current if _overlaps(entry[2], entry[3], start, upper)]
        result = None
        if not overlapping:
            result = RowResult(number, CREATED)
        elif len(overlapping) == 1:
            entry = overlapping[0]
            pk, group_id, lower, existing_upper = entry
            if group_id == group.pk and lower == start and existing_upper == upper:
                result = RowResult(number, UNCHANGED)
            elif group_id == group.pk and lower == start:
                plan.new_periods[pk] = (start, upper)
                entry[3] = upper
                accepted.append((number, start, upper))
                results.append(RowResult(number, CHANGED, "end_changed"))
                continue
            elif lower < start and (existing_upper is None or existing_upper > start):
                later = [e for e in current if e is not entry and _overlaps(e[2], e[3], start, upper)]
                if not later:
                    plan.new_periods[pk] = (lower, start)
                    entry[3] = start
                    result = RowResult(number, CHANGED, "moves", shared_values[
                        (("group", labels.get(group_id, "")), ("until", format_month(month_before(start))))])
        if result is None:
            _pk, group_id, lower, existing_upper = overlapping[0]
            result = RowResult(number, REFUSED, "overlap_existing", shared_values[(
                ("group", labels.get(group_id, "")), ("start", format_month(lower)),
                ("until", format_month(month_before(existing_upper)) if existing_upper else ""))])
        elif result.outcome != UNCHANGED:
            plan.new_memberships.append((group.category_id, group.pk, line.kind, line.pk, start, upper))
        if result.outcome != REFUSED:
            accepted.append((number, start, upper))
        results.append(result)


def _overlaps(lower_a, upper_a, lower_b, upper_b) -> bool:
    return (upper_b is None or lower_a < upper_b) and (upper_a is None or lower_b < upper_a)


def _existing_memberships(keys):
    """{(category id, "a"/"s", line id): [(pk, group id, first month, month after the last or None)]} of
    these lines (plain tuples, the months shared). The ids go as one array each, not as thousands of
    placeholders."""
    from django.db import connection

    months = _Shared(lambda month: month)
    found = defaultdict(list)
    with connection.cursor() as cursor:
        for kind, line_field in (("s", "subscription_id"), ("a", "account_id")):
            ids = [pk for _category_id, line_kind, pk in keys if line_kind == kind]
            if not ids:
                continue
            cursor.execute(f"SELECT id, category_id, group_id, lower(period), upper(period), {line_field} "
                           f"FROM groups_groupmembership WHERE {line_field} = ANY(%s)", [ids])
            for pk, category_id, group_id, lower, upper, line_id in cursor.fetchall():
                found[(category_id, kind, line_id)].append(
                    (pk, group_id, months[lower], months[upper] if upper else None))
    return found


def check(*, membership, upload: GroupUpload, progress=None) -> Plan | None:
    """Read and check the upload's workbook; store the per-row report. None when the file is refused whole."""
    try:
        rows = _parsed_rows(upload, progress)
    except WorkbookRefused as refused:
        _store(upload, None, problem={"code": refused.code, "values": refused.values}, status=GroupUpload.Status.REFUSED)
        return None
    decided = [0]

    def tick(plan):
        """The rows decided so far, as the job's progress."""
        if progress is not None:
            progress.advance(ok=len(plan.results) - decided[0])
        decided[0] = len(plan.results)

    if progress is not None:
        progress.set_total(len(rows))
    if upload.kind == GroupUpload.Kind.STRUCTURE:
        plan = check_structure(membership=membership, rows=rows)
    else:
        plan = check_assignments(membership=membership, rows=rows, tick=tick)
    del rows
    tick(plan)
    _store(upload, plan, status=GroupUpload.Status.CHECKED)
    return plan


def _rows_cache_key(upload) -> str:
    return f"groups.upload.{upload.pk}.rows"


def _parsed_rows(upload, progress=None):
    """The workbook's rows: parsed from the stored file, or (when applying right after the check) the
    rows that check parsed, kept for an hour in the cache; parsing 50,000 rows twice cost a third of
    the whole. The stored file stays the source: a cache miss parses it again."""
    from django.core.cache import cache

    rows = cache.get(_rows_cache_key(upload))
    if rows is not None:
        return rows
    if upload.file.size > MAX_BYTES:
        raise WorkbookRefused("too_large", max=MAX_BYTES // (1024 * 1024))
    with upload.file.open("rb") as stored:
        rows = read_rows(io.BytesIO(stored.read()), upload.kind, progress=progress)
    try:
        cache.set(_rows_cache_key(upload), rows, 3600)
    except Exception:  # noqa: BLE001 - a cache that is down costs a second parse, nothing else
        logger.warning("the parsed rows of upload %s were not cached", upload.pk)
    return rows


def _store(upload, plan, *, status, problem=None):
    counts = plan.counts() if plan is not None else dict.fromkeys(OUTCOME_LABELS, 0)
    upload.status = status
    upload.problem = problem or {}
    upload.rows = len(plan.results) if plan is not None else 0
    upload.created, upload.changed = counts[CREATED], counts[CHANGED]
    upload.unchanged, upload.refused = counts[UNCHANGED], counts[REFUSED]
    upload.deleted = counts[DELETED]
    upload.report = [result.as_list() for result in plan.results] if plan is not None else []
    upload.save(update_fields=["status", "problem", "rows", "created", "changed", "unchanged", "deleted", "refused",
                               "report"])


# Applying -----------------------------------------------------------------------------------------------

class UploadNotApplied(Exception):
    """The check found refused rows (or the file went bad): nothing was written."""


def apply(*, membership, upload: GroupUpload, progress=None) -> GroupUpload:
    """Check the workbook again against the data as it is now and write all of it, or nothing."""
    with transaction.atomic():
        _lock_company(membership.company_id)
        # Not the report of the check before: it is made again (50,000 rows of it held 15 MB).
        upload = GroupUpload.objects.select_for_update().defer("report").get(pk=upload.pk)
        if upload.status == GroupUpload.Status.APPLIED:
            return upload  # applied already (a double click, a redelivered job)
        plan = check(membership=membership, upload=upload, progress=progress)
        if plan is None or upload.refused:
            if plan is not None:
                upload.problem = {"code": "changed_meanwhile", "values": {}}
                upload.save(update_fields=["problem"])
            return upload
        if upload.kind == GroupUpload.Kind.STRUCTURE:
            _write_structure(membership, plan)
        else:
            _write_assignments(membership, plan)
        upload.status, upload.applied_at = GroupUpload.Status.APPLIED, timezone.now()
        upload.save(update_fields=["status", "applied_at"])
        audit_record(action=AuditEvent.Action.GROUP_UPLOAD_APPLIED, actor=membership.user, company=membership.company,
                     changes={"upload": [None, upload.file_name], "rows": [None, upload.rows]})
    return upload


def _write_structure(membership, plan: Plan):
    # The deletions first (they free names and places under the limits), through the same services as
    # the page's delete buttons: the memberships go with them, each recorded in the audit log.
    for group in Group.objects.filter(pk__in=plan.deleted_groups, company_id=membership.company_id):
        services.group_delete(membership=membership, group=group)
    for category in GroupCategory.objects.filter(pk__in=plan.deleted_categories, company_id=membership.company_id):
        services.category_delete(membership=membership, category=category)
    created = {}
    for name, description in plan.new_categories:
        created[name.lower()] = GroupCategory.objects.create(company_id=membership.company_id, name=name,
                                                             description=description)
    for pk, description in plan.category_descriptions.items():
        GroupCategory.objects.filter(pk=pk).update(description=description)
    categories = {c.name.lower(): c for c in GroupCategory.objects.filter(company_id=membership.company_id)}
    Group.objects.bulk_create([
        Group(company_id=membership.company_id, category=categories[category_name.lower()], name=name,
              description=description)
        for category_name, name, description in plan.new_groups
    ])
    for pk, description in plan.group_descriptions.items():
        Group.objects.filter(pk=pk).update(description=description)


def _write_assignments(membership, plan: Plan):
    """The cuts in one UPDATE … FROM unnest(arrays) per chunk, the new memberships with COPY (the exclusion
    constraints check every row as it goes in)."""
    from django.db import connection

    def period(lower, upper):
        return f"[{lower},{upper or ''})"

    with connection.cursor() as cursor:
        for chunk in _chunks(plan.new_periods.items(), 10_000):
            cursor.execute("UPDATE groups_groupmembership AS m SET period = v.period::daterange "
                           "FROM unnest(%s::bigint[], %s::text[]) AS v(id, period) WHERE m.id = v.id",
                           [[pk for pk, _period in chunk], [period(*bounds) for _pk, bounds in chunk]])
        if not plan.new_memberships:
            return
        now, company_id, user_id = timezone.now(), membership.company_id, membership.user_id
        columns = "company_id, category_id, group_id, subscription_id, account_id, period, created_by_id, created_at"
        with connection.wrap_database_errors, cursor.cursor.copy(
                f"COPY groups_groupmembership ({columns}) FROM STDIN") as copy:
            for category_id, group_id, kind, line_id, lower, upper in plan.new_memberships:
                copy.write_row((company_id, category_id, group_id, line_id if kind == "s" else None,
                                line_id if kind == "a" else None, period(lower, upper), user_id, now))


def upload_create(*, membership, kind: str, file) -> GroupUpload:
    name = (getattr(file, "name", "") or "workbook.xlsx").rsplit("/", 1)[-1][:200]
    upload = GroupUpload(company_id=membership.company_id, created_by=membership.user, kind=kind, file_name=name)
    upload.file.save(name, file, save=False)
    upload.save()
    return upload


def refused_rows(upload: GroupUpload, limit: int = 200) -> list[dict]:
    return _shown(upload, lambda outcome: outcome == REFUSED, limit)


def other_rows(upload: GroupUpload, limit: int = 200) -> list[dict]:
    return _shown(upload, lambda outcome: outcome != REFUSED, limit)


def _shown(upload, wanted, limit):
    rows = []
    for number, outcome, code, values in upload.report:
        if wanted(outcome):
            rows.append({"row": number, "outcome": outcome,
                         "label": outcome_label(outcome, applied=upload.status == GroupUpload.Status.APPLIED),
                         "reason": reason_text(code, values)})
            if len(rows) >= limit:
                break
    return rows


def report_rows(upload: GroupUpload):
    """The workbook's rows with each one's outcome and reason (the downloadable result)."""
    outcomes = {number: (outcome, code, values) for number, outcome, code, values in upload.report}
    applied = upload.status == GroupUpload.Status.APPLIED
    with upload.file.open("rb") as stored:
        content = io.BytesIO(stored.read())
    try:
        rows = read_rows(content, upload.kind)
    except WorkbookRefused:
        rows = []
    for number, values in rows:
        outcome, code, reason_values = outcomes.get(number, (UNCHANGED, "", {}))
        yield number, values, outcome_label(outcome, applied=applied), reason_text(code, reason_values)


def template_workbook(kind: str) -> bytes:
    """The template: the headings, an example row and a sheet of instructions."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = str(_("Rows"))[:31]
    sheet.append([str(label) for _key, label, _required in COLUMNS[kind]])
    month = format_month(this_month())
    if kind == GroupUpload.Kind.STRUCTURE:
        sheet.append([str(_("Cost centre")), "", "2010", "", ""])
    else:
        sheet.append(["", "+45 20000000", "", str(_("Cost centre")), "2010", month, ""])
    for column in "ABCDEFG":
        sheet.column_dimensions[column].width = 22
    help_sheet = workbook.create_sheet(str(_("Instructions"))[:31])
    for text in _instructions(kind):
        help_sheet.append([text])
    help_sheet.column_dimensions["A"].width = 110
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _instructions(kind) -> list[str]:
    common = [
        _("Fill in the first sheet, one row per line, below the headings. Keep the headings as they are."),
        _("At most %(max)s rows in one workbook. Every row is checked first; nothing is written until you "
          "apply, and then all of it or nothing.") % {"max": f"{MAX_ROWS:,}".replace(",", " ")},
    ]
    if kind == GroupUpload.Kind.STRUCTURE:
        return common + [
            _("Category: the category's name (created if it is new). Group: a group in it (created if it is "
              "new); empty for a category without groups."),
            _("At most %(categories)s categories and %(groups)s groups in all.")
            % {"categories": MAX_CATEGORIES, "groups": MAX_GROUPS},
            _("Action: empty to create or change the row's category and group. Write %(delete)s to delete: with a "
              "group, the group and its memberships (all months); without a group, the category with all its groups "
              "and their memberships. Nothing is deleted because it is left out of the workbook.")
            % {"delete": str(ACTION_DELETE)},
            _("The check shows each deletion as “Will be deleted” with what goes with it; nothing is deleted until "
              "you apply. The lines of a deleted group are then in no group of its category for those months, also "
              "in the cost reports."),
        ]
    return common + [
        _("Account number or Subscription number (or Subscription id, from the subscription list's export): "
          "one of them per row."),
        _("Category and Group: as they are named in Selfcare. Start month and End month: YYYY-MM; an empty end "
          "month means until further notice."),
        _("A line is in one group of a category at a time. A row that starts after the line's current group "
          "in the category began moves it: the old membership ends the month before."),
    ]


def check_now(upload: GroupUpload) -> bool:
    """Whether the workbook is small enough to be checked and applied while the page waits."""
    return upload.file.size <= SYNC_MAX_BYTES


def upload_start_job(*, membership, upload: GroupUpload, kind: str, return_url: str):
    from selfcare.jobs.services import job_create

    title = _("Check the workbook %(name)s") if kind == JOB_CHECK else _("Apply the workbook %(name)s")
    with transaction.atomic():
        job = job_create(membership=membership, kind=kind, title=title % {"name": upload.file_name},
                         params={"upload_id": upload.pk, "membership_id": membership.pk}, return_url=return_url)
        status = GroupUpload.Status.CHECKING if kind == JOB_CHECK else GroupUpload.Status.APPLYING
        GroupUpload.objects.filter(pk=upload.pk).update(job=job, status=status)
    return job


def validate_kind(kind: str) -> str:
    if kind not in GroupUpload.Kind.values:
        raise ValidationError(_("Choose what the workbook holds."))
    return kind
