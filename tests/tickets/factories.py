import factory
from django.utils import timezone

from tests.factories import CompanyFactory, SubscriptionFactory
from tickets.models import CaseMessage, FaultReport, OperationalNotice, SupportCase


class SupportCaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupportCase

    company = factory.SubFactory(CompanyFactory)
    area = "mobile"
    service = "general"
    subject = factory.Sequence(lambda n: f"Question {n}")
    description = "Please help."
    contact_name = "Kim Kontakt"
    contact_email = "kim@example.com"
    status = SupportCase.Status.SUBMITTED
    submitted_at = factory.LazyFunction(timezone.now)


class FaultReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FaultReport

    subscription = factory.SubFactory(SubscriptionFactory)
    company = factory.SelfAttribute("subscription.company")
    account = factory.SelfAttribute("subscription.account")
    area = "mobile"
    reference = factory.SelfAttribute("subscription.number")
    symptom = "calls"
    description = "No calls since this morning."
    contact_name = "Kim Kontakt"
    contact_email = "kim@example.com"


class CaseMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaseMessage

    case = factory.SubFactory(SupportCaseFactory)
    company = factory.SelfAttribute("case.company")
    account = factory.SelfAttribute("case.account")
    author_label = "Operator"
    from_operator = True
    body = "We are looking into it."


class NoticeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OperationalNotice

    title = factory.Sequence(lambda n: f"Disruption {n}")
    description = "Fibre cut."
    area = "data"
    cities = factory.LazyFunction(lambda: ["Aarhus"])
    starts_at = factory.LazyFunction(lambda: timezone.now() - timezone.timedelta(hours=1))
