"""Writing groups: categories, groups, memberships and moves; the monthly job; budgets.

Every write is atomic and recorded in the audit log in the same transaction. The limits (10 categories,
50 groups) are checked under a lock on the company's row, so two colleagues creating the 50th group at
once make one. Overlapping periods are refused with a message naming the clash; the database's
exclusion constraints refuse them too (a race, a bulk path, raw SQL).
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Min, Q
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from psycopg.types.range import Range

from accounts.models import AuditEvent, Company, Membership
from accounts.permissions import Role
from accounts.services.audit import audit_diff, audit_record
from groups.models import MAX_CATEGORIES, MAX_GROUPS, Group, GroupCategory, GroupMembership, GroupMonth
from groups.months import add_months, format_month, month_after, month_before, month_of, months_between, this_month
from selfcare.outbox.services import outbox_enqueue_email
from subscriptions.models import Subscription

logger = logging.getLogger(__name__)

Action = AuditEvent.Action

# How far ahead a membership may start (the seed: "within a year from now").
MONTHS_AHEAD = 12


def _lock_company(company_id: int) -> None:
    Company.objects.select_for_update().filter(pk=company_id).values_list("pk", flat=True).get()


def _name(value: str) -> str:
    return " ".join((value or "").split())


# Categories and groups ---------------------------------------------------------------------------

def category_create(*, membership, name: str, description: str = "") -> GroupCategory:
    name = _name(name)
    with transaction.atomic():
        _lock_company(membership.company_id)
        existing = GroupCategory.objects.filter(company_id=membership.company_id)
        if existing.count() >= MAX_CATEGORIES:
            raise ValidationError(_("The company has %(max)s group categories already, the most there can be.")
                                  % {"max": MAX_CATEGORIES})
        if existing.filter(name__iexact=name).exists():
            raise ValidationError({"name": _("There is a category called “%(name)s” already.") % {"name": name}})
        category = GroupCategory.objects.create(company_id=membership.company_id, name=name,
                                                description=description.strip())
        audit_record(action=Action.GROUPS_CHANGED, actor=membership.user, company=membership.company,
                     changes={"category": [None, category.name]})
    return category


def category_update(*, membership, category: GroupCategory, name: str, description: str) -> GroupCategory:
    name = _name(name)
    with transaction.atomic():
        category = GroupCategory.objects.select_for_update().get(pk=category.pk, company_id=membership.company_id)
        if GroupCategory.objects.filter(company_id=category.company_id, name__iexact=name).exclude(pk=category.pk).exists():
            raise ValidationError({"name": _("There is a category called “%(name)s” already.") % {"name": name}})
        before = {"name": category.name, "description": category.description}
        category.name, category.description = name, description.strip()
        category.save(update_fields=["name", "description"])
        changes = audit_diff(before, {"name": category.name, "description": category.description})
        if changes:
            audit_record(action=Action.GROUPS_CHANGED, actor=membership.user, company=membership.company,
                         changes={"category": [before["name"], category.name], **changes})
    return category


# What deleting takes with it: asked first on the page and shown per row in an upload's preview (the same words).
CATEGORY_DELETE_CONSEQUENCE = gettext_lazy("Its %(groups)s groups and their %(members)s memberships (all months) "
                                           "are deleted too.")
CATEGORY_DELETE_EMPTY = gettext_lazy("It has no groups.")
GROUP_DELETE_CONSEQUENCE = gettext_lazy("Its %(members)s memberships (all months) are deleted too: the lines are "
                                        "then in no group of %(category)s for those months, also in the cost reports.")
GROUP_DELETE_EMPTY = gettext_lazy("It has no members.")


def category_delete_consequence(*, groups: int, members: int) -> str:
    if not groups:
        return str(CATEGORY_DELETE_EMPTY)
    return str(CATEGORY_DELETE_CONSEQUENCE) % {"groups": groups, "members": members}


def group_delete_consequence(*, members: int, category: str) -> str:
    if not members:
        return str(GROUP_DELETE_EMPTY)
    return str(GROUP_DELETE_CONSEQUENCE) % {"members": members, "category": category}


def category_delete(*, membership, category: GroupCategory) -> None:
    """Deletes the category with its groups and their memberships (the page asked first)."""
    with transaction.atomic():
        category = GroupCategory.objects.select_for_update().get(pk=category.pk, company_id=membership.company_id)
        GroupMembership.objects.filter(category=category).delete()
        Group.objects.filter(category=category).delete()
        audit_record(action=Action.GROUPS_CHANGED, actor=membership.user, company=membership.company,
                     changes={"category": [category.name, None]})
        category.delete()


def group_create(*, membership, category: GroupCategory, name: str, description: str = "",
                 monthly_budget=None, contact_email: str = "") -> Group:
    name = _name(name)
    with transaction.atomic():
        _lock_company(membership.company_id)
        if Group.objects.filter(company_id=membership.company_id).count() >= MAX_GROUPS:
            raise ValidationError(_("The company has %(max)s groups already, the most there can be.")
                                  % {"max": MAX_GROUPS})
        if Group.objects.filter(category=category, name__iexact=name).exists():
            raise ValidationError({"name": _("There is a group called “%(name)s” in %(category)s already.")
                                   % {"name": name, "category": category.name}})
        group = Group.objects.create(company_id=membership.company_id, category=category, name=name,
                                     description=description.strip(), monthly_budget=monthly_budget,
                                     contact_email=contact_email)
        audit_record(action=Action.GROUPS_CHANGED, actor=membership.user, company=membership.company,
                     changes={"group": [None, group.label]})
    return group


def group_update(*, membership, group: Group, name: str, description: str, monthly_budget=None,
                 contact_email: str = "") -> Group:
    name = _name(name)
    with transaction.atomic():
        group = Group.objects.select_for_update().select_related("category").get(
            pk=group.pk, company_id=membership.company_id)
        if Group.objects.filter(category_id=group.category_id, name__iexact=name).exclude(pk=group.pk).exists():
            raise ValidationError({"name": _("There is a group called “%(name)s” in %(category)s already.")
                                   % {"name": name, "category": group.category.name}})
        fields = ("name", "description", "monthly_budget", "contact_email")
        before = {field: getattr(group, field) for field in fields}
        label = group.label
        group.name, group.description = name, description.strip()
        group.monthly_budget, group.contact_email = monthly_budget, contact_email
        group.save(update_fields=list(fields))
        changes = audit_diff(before, {field: getattr(group, field) for field in fields})
        if changes:
            audit_record(action=Action.GROUPS_CHANGED, actor=membership.user, company=membership.company,
                         changes={"group": [label, group.label], **changes})
    return group


def group_delete(*, membership, group: Group) -> int:
    """Deletes the group and its memberships (the page said how many first); returns how many."""
    with transaction.atomic():
        group = Group.objects.select_for_update().select_related("category").get(
            pk=group.pk, company_id=membership.company_id)
        count = GroupMembership.objects.filter(group=group).count()
        audit_record(action=Action.GROUPS_CHANGED, actor=membership.user, company=membership.company,
                     changes={"group": [group.label, None], "rows": [count, 0]})
        group.delete()
    return count


# Memberships -------------------------------------------------------------------------------------

def line_label(line) -> str:
    if isinstance(line, Subscription):
        return f"{line.number} {line.employee_name}"
    return line.number


def opening_months(account_ids) -> dict[int, date]:
    """{account id: the month it was opened}: its first subscription's month (an account without
    subscriptions opens this month)."""
    found = dict(Subscription.objects.filter(account_id__in=account_ids).values("account_id")
                 .annotate(first=Min("created_at")).values_list("account_id", "first"))
    from django.utils import timezone

    return {account_id: month_of(timezone.localtime(found[account_id]).date()) if account_id in found else this_month()
            for account_id in account_ids}


def start_window(account_id: int) -> tuple[date, date]:
    """The months a membership of this account's lines may start in: from its opening month to a year ahead."""
    opening = opening_months([account_id])[account_id]
    return opening, add_months(this_month(), MONTHS_AHEAD)


def period_range(start: date, end: date | None) -> Range:
    return Range(start, month_after(end) if end else None, "[)")


def _line_filter(line) -> Q:
    return Q(subscription=line) if isinstance(line, Subscription) else Q(account=line)


def _clash_message(clash: GroupMembership) -> str:
    until = format_month(clash.end_month) if clash.end_month else _("open-ended")
    return _("The period overlaps %(group)s from %(start)s until %(until)s. A line can be in one group of a "
             "category at a time.") % {"group": clash.group.label, "start": format_month(clash.start_month),
                                       "until": until}


def clashes(*, line, category_id: int, start: date, end: date | None, exclude_pk=None):
    query = (GroupMembership.objects.filter(_line_filter(line), category_id=category_id,
                                            period__overlap=period_range(start, end))
             .select_related("group__category").order_by("period"))
    if exclude_pk:
        query = query.exclude(pk=exclude_pk)
    return list(query)


def check_window(*, line, start: date, end: date | None) -> None:
    account_id = line.account_id if isinstance(line, Subscription) else line.pk
    first, last = start_window(account_id)
    if not first <= start <= last:
        raise ValidationError({"start_month": _("Choose a month from %(first)s to %(last)s.")
                               % {"first": format_month(first), "last": format_month(last)}})
    if end is not None and end < start:
        raise ValidationError({"end_month": _("The end month cannot be before the start month.")})


def _line_kwargs(line) -> dict:
    if isinstance(line, Subscription):
        return {"subscription": line, "account": None}
    return {"account": line, "subscription": None}


def _record_membership(*, membership, line, before: dict, after: dict) -> None:
    audit_record(action=Action.GROUP_MEMBERSHIP_CHANGED, actor=membership.user, company=membership.company,
                 changes={"line": [None, line_label(line)], **audit_diff(before, after)})


def membership_add(*, membership, line, group: Group, start: date, end: date | None = None) -> GroupMembership:
    """Adds the line to ``group`` from ``start`` (a month) until ``end`` (included), or open-ended."""
    check_window(line=line, start=start, end=end)
    with transaction.atomic():
        found = clashes(line=line, category_id=group.category_id, start=start, end=end)
        if found:
            raise ValidationError(_clash_message(found[0]))
        try:
            with transaction.atomic():
                created = GroupMembership.objects.create(
                    company_id=membership.company_id, category_id=group.category_id, group=group,
                    period=period_range(start, end), created_by=membership.user, **_line_kwargs(line))
        except IntegrityError as error:  # a colleague's overlapping period won the race
            raise ValidationError(_("The period overlaps another group of the same category. Reload the page "
                                    "to see it.")) from error
        _record_membership(membership=membership, line=line, before={},
                           after={"group": group.label, "start_month": format_month(start),
                                  "end_month": format_month(end)})
    return created


def membership_move(*, membership, line, group: Group, month: date) -> GroupMembership:
    """The line changes to ``group`` from ``month``: its membership of the category that covers ``month``
    ends the month before, and the new one runs as long as the old one would have."""
    check_window(line=line, start=month, end=None)
    with transaction.atomic():
        current = (GroupMembership.objects.select_for_update().select_related("group__category")
                   .filter(_line_filter(line), category_id=group.category_id, period__contains=month).first())
        end = None
        if current is not None:
            if current.group_id == group.pk:
                raise ValidationError(_("The line is in %(group)s in %(month)s already.")
                                      % {"group": group.label, "month": format_month(month)})
            end = current.end_month
            if current.start_month == month:
                current.delete()
            else:
                current.period = period_range(current.start_month, month_before(month))
                current.save(update_fields=["period"])
        found = clashes(line=line, category_id=group.category_id, start=month, end=end)
        if found:
            raise ValidationError(_clash_message(found[0]))
        created = GroupMembership.objects.create(
            company_id=membership.company_id, category_id=group.category_id, group=group,
            period=period_range(month, end), created_by=membership.user, **_line_kwargs(line))
        _record_membership(membership=membership, line=line,
                           before={"group": current.group.label if current else None},
                           after={"group": group.label, "start_month": format_month(month)})
    return created


def membership_end(*, membership, pk: int, end: date | None) -> GroupMembership:
    """Sets (or clears, with None) the last month of a membership in the login's scope."""
    with transaction.atomic():
        row = (GroupMembership.objects.for_membership(membership).select_for_update(of=("self",))
               .select_related("group__category", "account", "subscription").filter(pk=pk).first())
        if row is None:
            from django.http import Http404

            raise Http404
        if end is not None and end < row.start_month:
            raise ValidationError({"end_month": _("The end month cannot be before the start month.")})
        before = format_month(row.end_month)
        found = clashes(line=row.subscription or row.account, category_id=row.category_id, start=row.start_month,
                        end=end, exclude_pk=row.pk)
        if found:
            raise ValidationError(_clash_message(found[0]))
        row.period = period_range(row.start_month, end)
        row.save(update_fields=["period"])
        _record_membership(membership=membership, line=row.subscription or row.account,
                           before={"group": row.group.label, "end_month": before},
                           after={"group": row.group.label, "end_month": format_month(end)})
    return row


def membership_remove(*, membership, pk: int) -> None:
    with transaction.atomic():
        row = (GroupMembership.objects.for_membership(membership).select_for_update(of=("self",))
               .select_related("group__category", "account", "subscription").filter(pk=pk).first())
        if row is None:
            from django.http import Http404

            raise Http404
        _record_membership(membership=membership, line=row.subscription or row.account,
                           before={"group": row.group.label, "start_month": format_month(row.start_month),
                                   "end_month": format_month(row.end_month)}, after={})
        row.delete()


# The monthly job -------------------------------------------------------------------------------------

@dataclass
class MonthApplied:
    company_id: int
    month: date
    moves: int


def _advisory_lock(*parts) -> None:
    key = int.from_bytes(hashlib.sha1(":".join(str(part) for part in parts).encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _months_due(company_id: int, today: date) -> list[date]:
    last = GroupMonth.objects.filter(company_id=company_id).order_by("-month").values_list("month", flat=True).first()
    if last is not None:
        first = month_after(last)
    else:
        created = (GroupCategory.objects.filter(company_id=company_id).order_by("created_at")
                   .values_list("created_at", flat=True).first())
        if created is None:
            return []
        from django.utils import timezone

        first = month_of(timezone.localtime(created).date())
    return months_between(first, today)


def group_months_apply(*, today: date | None = None) -> list[MonthApplied]:
    """Apply every company's months that have begun and are not applied yet (this month, and any the
    job missed while it was stopped), oldest first. Safe to run twice, also at the same time: each
    company-month is applied under a lock and recorded once (``GroupMonth``)."""
    month = this_month(today)
    applied = []
    company_ids = GroupCategory.objects.values_list("company_id", flat=True).distinct()
    for company_id in company_ids:
        for due in _months_due(company_id, month):
            result = group_month_apply(company_id=company_id, month=due)
            if result is not None:
                applied.append(result)
    return applied


def group_month_apply(*, company_id: int, month: date) -> MonthApplied | None:
    """Record the moves of one company-month in the audit log and mail the Superusers one summary.
    Returns None when another run applied it already."""
    with transaction.atomic():
        _advisory_lock("groups.month", company_id, month)
        if GroupMonth.objects.filter(company_id=company_id, month=month).exists():
            return None
        starting = list(GroupMembership.objects.filter(company_id=company_id, period__startswith=month)
                        .select_related("group__category", "account", "subscription"))
        ending = list(GroupMembership.objects.filter(company_id=company_id, period__endswith=month)
                      .select_related("group__category", "account", "subscription"))
        before = {(row.category_id, row.subscription_id, row.account_id): row for row in ending}
        moves = []
        for row in starting:
            previous = before.pop((row.category_id, row.subscription_id, row.account_id), None)
            moves.append((row.subscription or row.account, previous.group.label if previous else None, row.group.label))
        for row in before.values():
            moves.append((row.subscription or row.account, row.group.label, None))
        company = Company.objects.get(pk=company_id)
        AuditEvent.objects.bulk_create([
            AuditEvent(action=Action.GROUP_MOVE_IN_FORCE, company=company, actor_label="",
                       changes={"line": [None, line_label(line)], "group": [old, new], "start_month": [None, format_month(month)]})
            for line, old, new in moves
        ], batch_size=2000)
        GroupMonth.objects.create(company=company, month=month, moves=len(moves))
        if moves:
            _mail_month_summary(company=company, month=month, moves=moves)
    return MonthApplied(company_id, month, len(moves))


SUMMARY_LINES = 50


def superuser_recipients(company_id: int) -> list[tuple[str, str]]:
    """(e-mail, language) of the company's active Superusers."""
    return list(Membership.objects.filter(company_id=company_id, role=Role.SUPERUSER, is_active=True,
                                          user__is_active=True).values_list("user__email", "user__language"))


def _mail_month_summary(*, company, month: date, moves: list) -> None:
    link = settings.SITE_URL.rstrip("/") + reverse("groups:index")
    for email, language in superuser_recipients(company.pk):
        with translation.override(language or settings.LANGUAGE_CODE):
            lines = []
            for line, old, new in moves[:SUMMARY_LINES]:
                lines.append(_("%(line)s: %(old)s → %(new)s") % {
                    "line": line_label(line), "old": old or _("no group"), "new": new or _("no group")})
            if len(moves) > SUMMARY_LINES:
                lines.append(_("… and %(count)s more (see the audit log).") % {"count": len(moves) - SUMMARY_LINES})
            subject = _("Group changes in force from %(month)s") % {"month": format_month(month)}
            body = "\n".join([
                _("From %(month)s, %(count)s group changes are in force in %(company)s:")
                % {"month": format_month(month), "count": len(moves), "company": company.name},
                "", *lines, "", _("The groups: %(link)s") % {"link": link},
            ])
        outbox_enqueue_email(to=email, subject=subject, body=body)
