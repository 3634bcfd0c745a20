"""The public disruption page (no sign-in) and the notices as the overview reads them."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import ConnectionFactory
from tests.tickets.factories import NoticeFactory
from tickets.models import OperationalNotice, OperationalNoticeUpdate

pytestmark = pytest.mark.django_db


def test_anyone_sees_the_current_disruptions_without_signing_in(company):
    ConnectionFactory(company=company, city="Aarhus")  # a company touched by it: nothing of it is shown
    now = timezone.now()
    current = NoticeFactory(title="Fibre cut in Aarhus", cities=["Aarhus", "Skanderborg"],
                            expected_end_at=now + timezone.timedelta(hours=3))
    OperationalNoticeUpdate.objects.create(notice=current, body="Repair crew on site.")
    planned = NoticeFactory(title="Planned work in Odense", kind=OperationalNotice.Kind.PLANNED_WORK, area="fixed",
                            cities=["Odense"])
    NoticeFactory(title="Resolved one", resolved_at=now)
    NoticeFactory(title="Not yet begun", starts_at=now + timezone.timedelta(days=1))
    NoticeFactory(title="Unpublished draft", published=False)
    NoticeFactory(title="Price change next month", kind=OperationalNotice.Kind.OPERATOR_MESSAGE, area="", cities=[])
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get(reverse("tickets:disruptions"))
    assert response.status_code == 200
    page = response.content.decode()
    for shown in (current.title, "Aarhus, Skanderborg", "Repair crew on site.", planned.title, "Planned work"):
        assert shown in page
    for hidden in ("Resolved one", "Not yet begun", "Unpublished draft", "Price change next month", company.name):
        assert hidden not in page


def test_the_page_says_when_there_is_nothing(db):
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get(reverse("tickets:disruptions")).content.decode()
    assert "There are no disruptions right now." in page


def test_an_operator_message_ends_at_its_expected_end(db):
    from tickets.selectors import current_notices

    now = timezone.now()
    NoticeFactory(kind=OperationalNotice.Kind.OPERATOR_MESSAGE, title="Old news",
                  starts_at=now - timezone.timedelta(days=3), expected_end_at=now - timezone.timedelta(days=1))
    # A disruption past its expected end is still on until staff resolve it.
    late = NoticeFactory(title="Taking longer", starts_at=now - timezone.timedelta(days=3),
                         expected_end_at=now - timezone.timedelta(days=1))
    assert list(current_notices()) == [late]
