"""The groups' part of the benchmark data set and of ``manage.py bench``.

Seeded (``bench_groups_seed``, a phase of ``selfcare.bench.data``) for the largest big company (500,000
lines in ``make bench``): 40 groups in 3 categories and two years of memberships, written with COPY:

- "Cost centre" (20 groups): every subscription from 24 months ago; a tenth of them moved once, at a
  month in those two years (two rows), up to this month;
- "Office" (12 groups): every account number from 24 months ago (its subscriptions inherit it);
- "Department" (8 groups): every account number from 12 months ago.

At 500,000 lines that is ~550,000 memberships. Each row is checked by the exclusion constraints' GiST
index as it is written (~30-80 µs a row here, most of the phase); the table's other indexes and its
foreign keys are built and checked once after the COPY (``_indexes_built_afterwards``).

The months before this one are marked applied (``GroupMonth``), as a running portal would have them,
so the monthly job measures one month's work: the moves beginning this month.

Scenarios (``group_scenarios``): the subscription list filtered by one and by three groups, the cost
report for 12 months, an upload of 50,000 assignment rows checked and applied (rolled back), and the
monthly job over all bench companies (rolled back).
"""

from __future__ import annotations

import io
import random
import time
from datetime import UTC, datetime

from django.db import transaction

from groups.models import Group, GroupCategory, GroupMembership, GroupMonth
from groups.months import add_months, this_month

CATEGORIES = [("Cost centre", 20), ("Office", 12), ("Department", 8)]
MOVED_SHARE = 10  # one line in this many moved cost centre once
UPLOAD_ROWS = 50_000
COLUMNS = ["company_id", "category_id", "group_id", "subscription_id", "account_id", "period", "created_at"]

SCENARIOS = ["groups_filter_one", "groups_filter_three", "groups_cost_report", "groups_upload", "groups_monthly_job"]


def _range(lower, upper) -> str:
    return f"[{lower},{upper or ''})"


def bench_groups_seed(*, company, rng: random.Random, copy_rows) -> dict[str, int]:
    now = datetime.now(UTC)
    month = this_month()
    start, department_start = add_months(month, -24), add_months(month, -12)
    groups = {}
    for name, count in CATEGORIES:
        category = GroupCategory.objects.create(company=company, name=name)
        groups[name] = Group.objects.bulk_create([
            Group(company=company, category=category, name=f"{name[:4].upper()}-{index:02d}",
                  monthly_budget=None) for index in range(1, count + 1)])
    lines = list(company_lines(company))
    accounts = sorted({account_id for _pk, account_id in lines})

    def rows():
        centres, offices, departments = groups["Cost centre"], groups["Office"], groups["Department"]
        for index, (pk, _account_id) in enumerate(lines):
            centre = centres[index % len(centres)]
            if rng.random() < 1 / MOVED_SHARE:
                moved = add_months(start, rng.randint(1, 24))  # up to this month
                after = centres[(index + 1) % len(centres)]
                yield (company.pk, centre.category_id, centre.pk, pk, None, _range(start, moved), now)
                yield (company.pk, after.category_id, after.pk, pk, None, _range(moved, None), now)
            else:
                yield (company.pk, centre.category_id, centre.pk, pk, None, _range(start, None), now)
        for index, account_id in enumerate(accounts):
            office, department = offices[index % len(offices)], departments[index % len(departments)]
            yield (company.pk, office.category_id, office.pk, None, account_id, _range(start, None), now)
            yield (company.pk, department.category_id, department.pk, None, account_id,
                   _range(department_start, None), now)

    written = copy_rows(GroupMembership, COLUMNS, rows())
    # The months before this one were applied by the job while the portal ran.
    GroupCategory.objects.filter(company=company).update(created_at=datetime(start.year, start.month, 1, tzinfo=UTC))
    applied = GroupMonth.objects.bulk_create([GroupMonth(company=company, month=add_months(start, offset))
                                              for offset in range(24)])
    return {"groups": sum(len(items) for items in groups.values()), "group_memberships": written,
            "group_months": len(applied)}


def company_lines(company):
    from subscriptions.models import Subscription

    return Subscription.objects.filter(company=company).order_by("pk").values_list("pk", "account_id").iterator(
        chunk_size=20_000)


# Scenarios ----------------------------------------------------------------------------------------------

class _RolledBack(Exception):
    pass


def _rolled_back(function):
    """Run ``function`` in a transaction that is rolled back afterwards (the bench data stays as seeded)."""
    try:
        with transaction.atomic():
            function()
            raise _RolledBack
    except _RolledBack:
        pass


def upload_workbook(company, rows: int = UPLOAD_ROWS) -> bytes:
    """``rows`` assignment rows: the company's first subscriptions by id into other cost centres from the month
    after next (each one a move: its current membership ends the month before)."""
    from openpyxl import Workbook

    from groups.months import format_month
    from subscriptions.models import Subscription

    centres = list(Group.objects.filter(company=company, category__name="Cost centre").order_by("name"))
    month = format_month(add_months(this_month(), 2))
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["Account number", "Subscription number", "Subscription id", "Category", "Group", "Start month",
                  "End month"])
    ids = Subscription.objects.filter(company=company).order_by("pk").values_list("pk", flat=True)[:rows]
    for index, pk in enumerate(ids.iterator(chunk_size=10_000)):
        sheet.append(["", "", pk, "Cost centre", centres[(index + 3) % len(centres)].name, month, ""])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload_iteration(company, membership, content: bytes):
    """An iteration: the workbook stored, checked and applied (all of it, the real functions), rolled back."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from groups import uploads

    def iteration(probe):
        def run():
            upload = uploads.upload_create(membership=membership, kind="assignments",
                                           file=SimpleUploadedFile("bench.xlsx", content))
            # The check and the apply are two requests (or jobs) of the portal: the check's plan is not
            # kept for the apply, which checks again.
            if uploads.check(membership=membership, upload=upload) is None or upload.refused:
                from selfcare.bench.measure import BenchError

                raise BenchError(f"the bench workbook was refused: {upload.problem or upload.report[:3]}")
            upload.report = None
            uploads.apply(membership=membership, upload=upload)
            upload.file.delete(save=False)

        start = time.perf_counter()
        _rolled_back(run)
        probe.seconds += time.perf_counter() - start
        probe.requests += 1
    return iteration


def monthly_job_iteration(company):
    """An iteration: the monthly job over every company, this month not yet applied (rolled back)."""
    from groups.services import group_months_apply

    def iteration(probe):
        def run():
            GroupMonth.objects.filter(month=this_month()).delete()
            group_months_apply()

        start = time.perf_counter()
        _rolled_back(run)
        probe.seconds += time.perf_counter() - start
        probe.requests += 1
    return iteration


def group_scenarios(*, company, size: int, superuser, get, options, client, heavy: bool = True) -> list:
    """The groups' scenarios for ``manage.py bench`` in ``company`` of ``size`` lines (see the module
    docstring): the filters and the cost report; with ``heavy`` also the upload and the monthly job."""
    from django.urls import reverse

    from accounts.models import Membership
    from selfcare.bench import measure

    groups = list(Group.objects.filter(company=company).select_related("category").order_by("category__name", "name"))
    if not groups:
        return []
    iterations, warmup = options["iterations"], options["warmup"]
    centres = [group for group in groups if group.category.name == "Cost centre"]
    offices = [group for group in groups if group.category.name == "Office"]
    subscriptions = reverse("subscriptions:list")
    one = f"{subscriptions}?groups={centres[0].pk}"
    three = f"{subscriptions}?groups={centres[0].pk}&groups={centres[1].pk}&groups={offices[0].pk}"
    category = GroupCategory.objects.get(company=company, name="Cost centre")
    scenarios = [
        measure.Scenario(f"groups_filter_one@{size}", "subscription list filtered by one group", get(client, one),
                         iterations, warmup, size=size),
        measure.Scenario(f"groups_filter_three@{size}", "subscription list filtered by three groups (2 categories)",
                         get(client, three), iterations, warmup, size=size),
        measure.Scenario(f"groups_cost_report@{size}", "cost per group, 12 months",
                         get(client, reverse("groups:costs_category", args=[category.pk])), iterations, warmup,
                         size=size),
    ]
    if not heavy:
        return scenarios
    membership = Membership.objects.select_related("company", "user").get(company=company, user=superuser)
    started = time.perf_counter()
    content = upload_workbook(company, min(UPLOAD_ROWS, size))
    print(f"  (the bench workbook of {min(UPLOAD_ROWS, size):,} rows was written in "
          f"{time.perf_counter() - started:.1f} s, {len(content) / 1e6:.1f} MB)")
    return [
        *scenarios,
        measure.Scenario(f"groups_upload@{size}", f"upload of {min(UPLOAD_ROWS, size):,} assignment rows, "
                         "checked and applied (rolled back)", upload_iteration(company, membership, content), 1, 0,
                         memory=True, size=size),
        measure.Scenario("groups_monthly_job", "monthly group job, all bench companies (rolled back)",
                         monthly_job_iteration(company), 1, 0, size=measure.ALL_COMPANIES),
    ]
