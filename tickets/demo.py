"""Demo rows for ``make run`` (``manage.py seed_demo``): a few support cases in several statuses with a
thread, a fault report with the operator's answer, and one active disruption in a demo company's city.
Idempotent: nothing is added when the holding company already has cases."""

import uuid

from django.db import transaction
from django.utils import timezone

from accounts.models import Membership, User
from subscriptions.models import Connection, Subscription
from tickets.models import FaultReport, OperationalNotice, OperationalNoticeUpdate, SupportCase
from tickets.services import (
    case_operator_reply,
    case_reply,
    case_save,
    fault_report_create,
    fault_report_operator_update,
)

DISRUPTION_TITLE = "Fiberbrud i Aarhus C"


@transaction.atomic
def demo_ensure(companies: dict, *, staff: User) -> None:
    holding = companies["holding"]
    if not SupportCase.objects.filter(company=holding).exists():
        _cases(holding, staff)
    if not FaultReport.objects.filter(company=holding).exists():
        _fault_report(holding, staff)
    _disruption(companies, staff)


def _member(company, email):
    return Membership.objects.select_related("user", "company").get(company=company, user__email=email)


def _case(member, submit=True, **data):
    defaults = {"contact_name": member.user.full_name, "contact_email": member.user.email,
                "contact_phone": member.user.mobile, "contact_method": "email"}
    case, _created = case_save(membership=member, data={**defaults, **data}, submit=submit,
                               idempotency_key=uuid.uuid4())
    return case


def _cases(company, staff):
    orderer = _member(company, "orderer@nordlys.example")
    superuser = _member(company, "superuser@nordlys.example")
    line = Subscription.objects.filter(company=company, type="mobile", status="active").order_by("pk").first()
    roaming = _case(orderer, area="mobile", service="roaming", subject="Roaming i Norge",
                    description="Dækker vores aftale opkald og data i Norge?",
                    subscription=line.pk if line else None, extra_contact_email="it@nordlys.example")
    case_operator_reply(staff=staff, case_id=roaming.pk, to=SupportCase.Status.IN_PROGRESS,
                        body="Tak for din henvendelse. Hvilken prisplan har medarbejderen?")
    case_operator_reply(staff=staff, case_id=roaming.pk, to=SupportCase.Status.WAITING,
                        body="Vi mangler oplysning om hvor længe medarbejderen er i Norge.")
    case_operator_reply(staff=staff, case_id=roaming.pk, internal=True,
                        body="Intern note: kunden har rammeaftale 2024-17, tjek rabat.")

    invoice = _case(superuser, area="fixed", service="invoice", subject="Spørgsmål til faktura",
                    description="Hvorfor er der et gebyr for nummerflytning på fakturaen?",
                    on_behalf_of=orderer.user_id)
    case_operator_reply(staff=staff, case_id=invoice.pk, to=SupportCase.Status.RESOLVED,
                        body="Gebyret var en fejl og krediteres på næste faktura.")

    vpn = _case(orderer, area="data", service="vpn", subject="Ny lokation på IP VPN",
                description="Vi åbner kontor i Odense og vil have det på vores IP VPN.")
    case_operator_reply(staff=staff, case_id=vpn.pk, to=SupportCase.Status.IN_PROGRESS,
                        body="Tak. Hvornår skal lokationen være klar?")
    case_reply(membership=orderer, case_id=vpn.pk, body="Kontoret åbner 1. marts.")

    _case(orderer, submit=False, area="mobile", service="sim", subject="eSIM til ny medarbejder",
          description="Kladde: skal vi bestille eSIM eller fysisk SIM?")
    closed = _case(superuser, area="mobile", service="other", subject="Ændring af kontaktperson",
                   description="Vores kontaktperson er nu Lars Nielsen.")
    case_operator_reply(staff=staff, case_id=closed.pk, to=SupportCase.Status.CLOSED,
                        body="Kontaktpersonen er opdateret.")


def _fault_report(company, staff):
    orderer = _member(company, "orderer@nordlys.example")
    connection = Connection.objects.filter(company=company).order_by("pk").first()
    if connection is None:
        return
    report, _created = fault_report_create(membership=orderer, idempotency_key=uuid.uuid4(), data={
        "connection": connection.pk, "symptom": "slow", "description": "Forbindelsen er langsom om eftermiddagen.",
        "started_at": timezone.now() - timezone.timedelta(days=1), "equipment_restarted": True,
        "contact_email": orderer.user.email, "contact_name": orderer.user.full_name})
    fault_report_operator_update(staff=staff, report_id=report.pk, to=FaultReport.Status.WAITING,
                                 body="Vi ser pakketab på linjen. Kan I sende en traceroute?")


def _disruption(companies, staff):
    if OperationalNotice.objects.filter(title=DISRUPTION_TITLE, resolved_at__isnull=True).exists():
        return
    city = companies["energi"].city  # Aarhus C: the energy company's connections are touched
    notice = OperationalNotice.objects.create(
        kind=OperationalNotice.Kind.DISRUPTION, title=DISRUPTION_TITLE, area="data", cities=[city, "Aarhus N"],
        description="Et gravearbejde har beskadiget et fiberkabel. Internet og IP VPN kan være ustabilt.",
        starts_at=timezone.now() - timezone.timedelta(hours=2),
        expected_end_at=timezone.now() + timezone.timedelta(hours=6), created_by=staff)
    OperationalNoticeUpdate.objects.create(notice=notice, author=staff,
                                           body="Teknikere er på stedet; reparationen er i gang.")



