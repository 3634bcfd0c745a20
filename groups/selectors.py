"""Reading groups: the company's categories and groups, and which group a line is in for a given month.

The rule everything reads ("the current group"): in a category, a subscription is in the group it was
added to for that month; without one of its own, it is in its account's group for that month. The
month defaults to this month (``groups.months.this_month``, i.e. ``timezone.now``), so a move entered
for next month shows nowhere today and everywhere on the 1st, with no job in between.
"""

from collections import defaultdict
from datetime import date

from django.db.models import BooleanField, Exists, Expression, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404

from groups.models import Group, GroupCategory, GroupMembership
from groups.months import this_month


def categories_for(*, membership):
    return GroupCategory.objects.for_membership(membership).order_by("name", "pk")


def groups_for(*, membership):
    return Group.objects.for_membership(membership).select_related("category").order_by("category__name", "name", "pk")


def access_category(*, membership, pk) -> GroupCategory:
    """The company's category, or 404 (for a missing one and another company's alike)."""
    category = categories_for(membership=membership).filter(pk=pk).first()
    if category is None:
        raise Http404
    return category


def access_group(*, membership, pk) -> Group:
    group = groups_for(membership=membership).filter(pk=pk).first()
    if group is None:
        raise Http404
    return group


def group_choice_label(group: Group) -> str:
    return f"{group.category.name}:{group.name}"


def group_tree(*, membership) -> list[dict]:
    """Categories with their groups, for the groups page (two queries)."""
    groups = defaultdict(list)
    for group in groups_for(membership=membership):
        groups[group.category_id].append(group)
    return [{"category": category, "groups": groups[category.pk]} for category in categories_for(membership=membership)]


# The current group -------------------------------------------------------------------------------

def _in_month(month: date) -> Q:
    return Q(period__contains=month)


def _own(month: date, **filters):
    return GroupMembership.objects.filter(_in_month(month), subscription=OuterRef("pk"), **filters)


def _account_in(month: date, **filters):
    return GroupMembership.objects.filter(_in_month(month), account=OuterRef("account_id"), **filters)


# The subscriptions in any of some groups (of one category) in a month: their own memberships, and
# their accounts' where they have none of their own in the category. Written in one of two shapes, by
# what the query reads (``LinesInGroups``):
# - from the ids: the set is read first and the planner joins its lines by primary key. Right for a
#   count, an export, and a page of a small group (a few thousand ids are read in milliseconds).
# - walking the page's order: for a page (LIMIT) of a large group, the lines are read in the list's
#   sort order (its index) and each is checked against the set, hashed once, until the page is full.
#   A cost centre of 25,000 of 500,000 lines fills a page of 50 after ~1,000 lines, where reading
#   all 25,000 by id and sorting them took 290 ms. For a small group the walk would read the whole
#   company before the page was full, so it is only used where the group is dense enough.
OWN_LINES_SQL = """
    SELECT m.subscription_id FROM groups_groupmembership m
    WHERE m.group_id = ANY(%s) AND m.period @> %s::date AND m.subscription_id IS NOT NULL
"""
INHERITED_LINES_SQL = """
    SELECT s.id FROM subscriptions_subscription s
    WHERE s.account_id = ANY(%s::bigint[])
      AND NOT EXISTS (SELECT 1 FROM groups_groupmembership o
                      WHERE o.category_id = %s AND o.subscription_id = s.id AND o.period @> %s::date)
"""

# A page is read by walking its order when the groups are dense: with n of the company's N lines in
# them, a page of 50 is full after about 51 * N / n lines walked, against n lines read by id; the walk
# wins when n * n > WALK_FACTOR * N. Groups of several categories: n_1 * ... * n_k / N^(k-1) lines meet
# all of them (as if independent), read by id from the smallest.
WALK_FACTOR = 51


class LinesInGroups(Expression):
    """A condition: ``column`` (a subscription id) is one of the lines of the chosen groups in ``month``:
    in each category of ``categories`` (``[(category id, group ids, account ids in them)]``) in one of
    its groups. Its SQL shape depends on the query it is compiled into (see above): a sliced query (a
    page, ``exists()``) walks when the groups are ``dense``; anything else reads the ids, with
    the categories' sets intersected before the lines are joined (42,000 office lines and 50,000 of two
    cost centres meet in 5,000, the lines joined for those only)."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, column, *, month, categories, dense: bool):
        super().__init__(output_field=BooleanField())
        self.column, self.month, self.categories, self.dense = column, month, categories, dense

    def get_source_expressions(self):
        return [self.column]

    def set_source_expressions(self, exprs):
        (self.column,) = exprs

    def _sets(self):
        """Per category: its (SQL, params) parts, the own lines and (with accounts) the inherited."""
        for category_id, group_ids, account_ids in self.categories:
            parts = [(OWN_LINES_SQL, [list(group_ids), self.month])]
            if account_ids:
                parts.append((INHERITED_LINES_SQL, [list(account_ids), category_id, self.month]))
            yield parts

    def as_sql(self, compiler, connection):
        column, column_params = compiler.compile(self.column)
        if compiler.query.is_sliced and self.dense:
            # Each set a hashed filter (OR keeps them filters rather than joins), checked on each line.
            conditions, params = [], []
            for parts in self._sets():
                conditions.append("(" + " OR ".join(f"{column} IN ({sql})" for sql, _ in parts) + ")")
                for _sql, part_params in parts:
                    params += [*column_params, *part_params]
            return "(" + " AND ".join(conditions) + ")", params
        ids, params = self.ids_sql()
        return f"{column} IN ({ids})", [*column_params, *params]

    def ids_sql(self) -> tuple[str, list]:
        """The lines' ids: each category's set, intersected. No line is in a category's set twice (a line
        has at most one group of its own in a category in a month, and inherits only without one)."""
        selects, params = [], []
        for parts in self._sets():
            selects.append("(" + " UNION ALL ".join(sql for sql, _ in parts) + ")")
            params += [value for _sql, part_params in parts for value in part_params]
        return " INTERSECT ".join(selects), params


def _is_dense(*, lines_in_groups: int | list[int], company_lines: int) -> bool:
    sizes = [lines_in_groups] if isinstance(lines_in_groups, int) else lines_in_groups
    if not sizes or company_lines <= 0:
        return False
    meeting = company_lines
    for size in sizes:
        meeting = meeting * size / company_lines
    return meeting * min(sizes) > WALK_FACTOR * company_lines


def subscriptions_in_groups(queryset, groups, *, month: date | None = None, subscription_path: str = ""):
    """``queryset`` narrowed to the lines in any of ``groups`` in ``month`` (default: this month).

    Within one category the chosen groups are alternatives ("2010 or 2020"); chosen groups of several
    categories must all hold ("Cost centre 2010 and Office Aarhus"). ``subscription_path``: the path
    from the queryset's model to its subscription (``"subscription"`` for invoice lines), empty for
    subscriptions themselves.
    """
    field = f"{subscription_path}_id" if subscription_path else "pk"
    condition = lines_in_groups(groups, month=month, column=F(field))
    return queryset if condition is None else queryset.filter(condition)


def lines_in_groups_count(groups, *, month: date | None = None) -> int:
    """How many lines are in ``groups`` in ``month`` (the rule of ``subscriptions_in_groups``), counted
    from the groups' sets alone: every id in them is a line of the groups' company, so for a login that
    sees the whole company this is the count of its list narrowed by these groups, without joining the
    lines (a cost centre of 25,000 lines: 5 ms instead of 50)."""
    from django.db import connection

    month = month or this_month()
    categories, _company_id = _chosen_categories(groups, month)
    if not categories:
        raise ValueError("no groups to count the lines of")
    ids, params = LinesInGroups(F("pk"), month=month, categories=categories, dense=False).ids_sql()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ({ids}) AS ids", params)
        return cursor.fetchone()[0]


def _chosen_categories(groups, month: date) -> tuple[list, int | None]:
    """([(category id, its chosen group ids, the accounts in them in ``month``)], the company)."""
    by_category, company_id = defaultdict(list), None
    for group in groups:
        by_category[group.category_id].append(group.pk)
        company_id = group.company_id
    categories = []
    for category_id, group_ids in by_category.items():
        # The accounts in the groups are read first (a handful of ids): given as a list, the planner
        # reaches their lines through the account index; joined in SQL, a misestimate of how many there
        # are made it scan every subscription of every company (1.7 s at 50,000 lines for three groups).
        account_ids = list(GroupMembership.objects.filter(
            _in_month(month), group_id__in=group_ids, account__isnull=False,
        ).order_by().values_list("account_id", flat=True).distinct())
        categories.append((category_id, group_ids, account_ids))
    return categories, company_id


def lines_in_groups(groups, *, month: date | None = None, column) -> "LinesInGroups | None":
    """The condition "``column`` is a line in any of ``groups`` in ``month``" (None without groups)."""
    from subscriptions.models import SubscriptionCount

    month = month or this_month()
    categories, company_id = _chosen_categories(groups, month)
    if not categories:
        return None
    counts = SubscriptionCount.objects.filter(company_id=company_id)
    company_lines = counts.aggregate(n=Sum("count"))["n"] or 0
    sizes = []
    for _category_id, group_ids, account_ids in categories:
        # How many lines the groups hold, about (an account's lines with their own group elsewhere
        # are counted too): decides how a page is read, never what it shows.
        lines = GroupMembership.objects.filter(
            _in_month(month), group_id__in=group_ids, subscription__isnull=False).order_by().count()
        if account_ids:
            lines += counts.filter(account_id__in=account_ids).aggregate(n=Sum("count"))["n"] or 0
        sizes.append(lines)
    return LinesInGroups(column, month=month, categories=categories,
                         dense=_is_dense(lines_in_groups=sizes, company_lines=company_lines))


def accounts_in_groups(queryset, groups, *, month: date | None = None):
    """Account numbers in any of ``groups`` in ``month`` (same and/or rule as for subscriptions)."""
    month = month or this_month()
    by_category = defaultdict(list)
    for group in groups:
        by_category[group.category_id].append(group.pk)
    for group_ids in by_category.values():
        queryset = queryset.filter(Exists(GroupMembership.objects.filter(
            _in_month(month), account=OuterRef("pk"), group_id__in=group_ids)))
    return queryset


def current_group_annotations(categories, *, month: date | None = None) -> dict:
    """For a subscription queryset: ``{"group_<category id>": the group's name this month, or ""}``."""
    month = month or this_month()
    annotations = {}
    for category in categories:
        own = _own(month, category_id=category.pk).values("group__name")[:1]
        inherited = _account_in(month, category_id=category.pk).values("group__name")[:1]
        annotations[f"group_{category.pk}"] = Coalesce(Subquery(own), Subquery(inherited), Value(""))
    return annotations


def account_group_annotations(categories, *, month: date | None = None) -> dict:
    month = month or this_month()
    return {
        f"group_{category.pk}": Coalesce(Subquery(GroupMembership.objects.filter(
            _in_month(month), account=OuterRef("pk"), category_id=category.pk).values("group__name")[:1]), Value(""))
        for category in categories
    }


def line_memberships(*, membership, account=None, subscription=None):
    """A line's memberships over time (the line's page): its own, and for a subscription its account's."""
    memberships = GroupMembership.objects.for_membership(membership).select_related("group", "category")
    if account is not None:
        return list(memberships.filter(account=account).order_by("category__name", "period"))
    return list(memberships.filter(Q(subscription=subscription) | Q(account_id=subscription.account_id))
                .order_by("category__name", "period"))


def line_current_groups(*, membership, subscription, month: date | None = None) -> dict[int, Group]:
    """{category id: the subscription's group this month} (its own, else its account's)."""
    month = month or this_month()
    found = {}
    rows = (GroupMembership.objects.filter(_in_month(month), company_id=membership.company_id)
            .filter(Q(subscription=subscription) | Q(account_id=subscription.account_id))
            .select_related("group__category").annotate(own=Q(subscription__isnull=False)))
    for row in sorted(rows, key=lambda row: not row.own):
        found.setdefault(row.category_id, row.group)
    return found


def group_member_counts(*, membership, month: date | None = None) -> dict[int, dict]:
    """{group id: {"subscriptions": n, "accounts": n}} of memberships in force this month, in the login's scope."""
    month = month or this_month()
    counts = defaultdict(lambda: {"subscriptions": 0, "accounts": 0})
    rows = (GroupMembership.objects.for_membership(membership).filter(_in_month(month))
            .values("group_id").annotate(subscriptions=_count("subscription"), accounts=_count("account")))
    for row in rows:
        counts[row["group_id"]] = {"subscriptions": row["subscriptions"], "accounts": row["accounts"]}
    return counts


def _count(field):
    from django.db.models import Count

    return Count(field)


def group_members(*, membership, group, month: date | None = None):
    """The memberships of ``group`` in force in ``month`` (the group's page), in the login's scope."""
    month = month or this_month()
    return (GroupMembership.objects.for_membership(membership).filter(_in_month(month), group=group)
            .select_related("account", "subscription", "subscription__account")
            .order_by(F("subscription__employee_name").asc(nulls_first=True), "account__number", "pk"))


def group_upcoming(*, membership, group, month: date | None = None):
    """Memberships of ``group`` that begin after ``month``: the moves entered ahead."""
    month = month or this_month()
    return (GroupMembership.objects.for_membership(membership).filter(group=group, period__fully_gt=_month_range(month))
            .select_related("account", "subscription").order_by("period", "pk"))


def _month_range(month: date):
    from psycopg.types.range import Range

    from groups.months import month_after

    return Range(month, month_after(month), "[)")


def invoices_in_groups(queryset, groups):
    """Invoices with a charge of ``groups`` in the invoice's own month: the account was in one of them,
    or a line's subscription was (its own group of the category, else its account's). Same and/or rule
    as for subscriptions."""
    from invoices.models import InvoiceLine

    by_category = defaultdict(list)
    for group in groups:
        by_category[group.category_id].append(group.pk)
    for group_ids in by_category.values():
        account_in = GroupMembership.objects.filter(account=OuterRef("account_id"), group_id__in=group_ids,
                                                    period__contains=OuterRef("period"))
        own = GroupMembership.objects.filter(subscription=OuterRef("subscription_id"), group_id__in=group_ids,
                                             period__contains=OuterRef(OuterRef("period")))
        line_in = InvoiceLine.objects.filter(Exists(own), invoice=OuterRef("pk"))
        queryset = queryset.filter(Q(Exists(account_in)) | Q(Exists(line_in)))
    return queryset
