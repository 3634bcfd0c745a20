"""The Support area's part of the benchmark data set (``manage.py seed_bench``, selfcare.bench.data).

The big company gets ``cases`` support cases and ``fault_reports`` fault reports (spread over two
years, its accounts and every status; a tenth of each open), so that the overview's open cases and
the lists are measured against a realistic history.
"""

import random
import uuid
from datetime import UTC, datetime

from django.db.models import F

from tickets.catalogue import CASE_SERVICES, FAULT_SYMPTOMS, SUBSCRIPTION_AREA
from tickets.models import FaultReport, SupportCase

DEFAULT_CASES = 20_000
DEFAULT_FAULT_REPORTS = 5_000
BATCH_SIZE = 2_000
CASE_STATUSES = [SupportCase.Status.CLOSED] * 6 + [SupportCase.Status.RESOLVED] * 3 + [
    SupportCase.Status.SUBMITTED, SupportCase.Status.IN_PROGRESS, SupportCase.Status.WAITING]
FAULT_STATUSES = [FaultReport.Status.CLOSED] * 9 + [FaultReport.Status.SUBMITTED, FaultReport.Status.IN_PROGRESS]


def bench_tickets_seed(*, company, accounts, superuser, rng: random.Random, cases: int = DEFAULT_CASES,
                       fault_reports: int = DEFAULT_FAULT_REPORTS) -> dict[str, int]:
    from subscriptions.models import Subscription

    now = datetime.now(tz=UTC).timestamp()

    def when():
        return datetime.fromtimestamp(now - rng.random() * 2 * 365 * 86400, tz=UTC)

    areas = list(CASE_SERVICES)
    rows = []
    for index in range(cases):
        area = areas[index % len(areas)]
        created = when()
        status = CASE_STATUSES[index % len(CASE_STATUSES)]
        rows.append(SupportCase(
            company=company, account=accounts[index % len(accounts)], area=area,
            service=CASE_SERVICES[area][index % len(CASE_SERVICES[area])][0],
            subject=f"Bench sag {index:05d}", description="Spørgsmål fra benchmark-data.",
            contact_name="Bench Kontakt", contact_email="kontakt@storkunde.example", status=status,
            created_by=superuser, idempotency_key=uuid.uuid4(), submitted_at=created, status_changed_at=created,
            resolved_at=created if status == SupportCase.Status.RESOLVED else None,
            awaiting_operator_since=created if status == SupportCase.Status.SUBMITTED else None,
        ))
    SupportCase.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    # auto_now_add overwrote created_at: put the spread back.
    SupportCase.objects.filter(company=company).update(created_at=F("submitted_at"))

    lines = list(Subscription.objects.filter(company=company).order_by("pk")
                 .values_list("pk", "account_id", "number", "type")[:fault_reports])
    reports = []
    for index in range(min(fault_reports, len(lines))):
        pk, account_id, number, type_ = lines[index]
        area = SUBSCRIPTION_AREA[type_]
        created = when()
        status = FAULT_STATUSES[index % len(FAULT_STATUSES)]
        reports.append(FaultReport(
            company=company, subscription_id=pk, account_id=account_id, area=area, reference=number,
            symptom=FAULT_SYMPTOMS[area][index % len(FAULT_SYMPTOMS[area])][0], description="Benchmark-fejl.",
            started_at=created, location="Aarhus C" if area == "mobile" else "",
            equipment_restarted=True if area == "data" else None, contact_name="Bench Kontakt",
            contact_email="kontakt@storkunde.example", status=status, created_by=superuser,
            idempotency_key=uuid.uuid4(), status_changed_at=created,
            closed_at=created if status == FaultReport.Status.CLOSED else None,
        ))
    FaultReport.objects.bulk_create(reports, batch_size=BATCH_SIZE)
    FaultReport.objects.filter(company=company).update(created_at=F("started_at"))
    return {"support_cases": len(rows), "fault_reports": len(reports)}
