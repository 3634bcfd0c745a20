"""Reads of support cases, fault reports and notices.

``access_*`` look a row up within a membership's scope and raise ``Http404`` for a missing row and a
foreign one alike. Lists take their querysets from ``case_list`` / ``fault_report_list``.
"""

from django.db.models import Exists, Prefetch, Q
from django.http import Http404
from django.utils import timezone

from orders.models import ProductArea
from subscriptions.models import Connection, Subscription, SubscriptionType
from tickets.models import Attachment, FaultReport, OperationalNotice, SupportCase

# Which subscription types a notice of a product area touches.
AREA_SUBSCRIPTION_TYPES = {
    ProductArea.MOBILE: (SubscriptionType.MOBILE,),
    ProductArea.FIXED: (SubscriptionType.TELEPHONY,),
    ProductArea.DATA: (SubscriptionType.INTERNET, SubscriptionType.CIRCUIT),
}


def visible_cases(*, membership):
    """The cases a login sees: the company's (within its account scope), except colleagues' drafts."""
    user_id = membership.user_id
    return (SupportCase.objects.for_membership(membership)
            .filter(~Q(status=SupportCase.Status.DRAFT) | Q(created_by_id=user_id) | Q(on_behalf_of_id=user_id)))


def case_list(*, membership, history: bool = False):
    statuses = SupportCase.HISTORY if history else SupportCase.OPEN
    return visible_cases(membership=membership).filter(status__in=statuses)


def fault_report_list(*, membership, history: bool = False):
    statuses = FaultReport.HISTORY if history else FaultReport.OPEN
    return FaultReport.objects.for_membership(membership).filter(status__in=statuses)


def access_case(*, membership, pk, for_update: bool = False) -> SupportCase:
    queryset = visible_cases(membership=membership).select_related(
        "subscription", "connection", "account", "created_by", "on_behalf_of")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    try:
        return queryset.get(pk=pk)
    except (SupportCase.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def access_fault_report(*, membership, pk, for_update: bool = False) -> FaultReport:
    queryset = FaultReport.objects.for_membership(membership).select_related(
        "subscription", "connection", "account", "created_by")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    try:
        return queryset.get(pk=pk)
    except (FaultReport.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def customer_thread(item):
    """The messages a customer sees (never the operator's internal notes), with their attachments."""
    attachments = Prefetch("attachments", queryset=Attachment.objects.filter(internal=False))
    return list(item.messages.filter(internal=False).select_related("author").prefetch_related(attachments))


def customer_attachments(item):
    """Attachments given with the case or fault report itself (not with a message)."""
    return list(item.attachments.filter(message__isnull=True, internal=False))


def access_attachment(*, membership, pk) -> Attachment:
    """An attachment the login may download: of a case or fault report it may see, never internal."""
    cases = visible_cases(membership=membership)
    reports = FaultReport.objects.for_membership(membership)
    queryset = Attachment.objects.filter(company_id=membership.company_id, internal=False).filter(
        Q(case__in=cases.values("pk")) | Q(fault_report__in=reports.values("pk")))
    try:
        attachment = queryset.select_related("fault_report").get(pk=pk)
    except (Attachment.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    return attachment


def open_cases(company, *, user=None, limit=None, membership=None):
    """The company's open cases, newest first (without anyone's drafts); with ``user``, that login's
    own: raised by them or on their behalf (their drafts included). ``membership`` narrows to a
    restricted login's account scope."""
    queryset = (SupportCase.objects.for_membership(membership) if membership is not None
                else SupportCase.objects.filter(company=company))
    queryset = queryset.filter(company=company, status__in=SupportCase.OPEN)
    if user is not None:
        queryset = queryset.filter(Q(created_by=user) | Q(on_behalf_of=user))
    else:
        queryset = queryset.exclude(status=SupportCase.Status.DRAFT)
    queryset = queryset.select_related("subscription").order_by("-created_at", "-pk")
    return list(queryset[:limit]) if limit is not None else queryset


def open_fault_reports(company, *, limit=None, membership=None):
    queryset = (FaultReport.objects.for_membership(membership) if membership is not None
                else FaultReport.objects.filter(company=company))
    queryset = queryset.filter(company=company, status__in=FaultReport.OPEN).order_by("-created_at", "-pk")
    return list(queryset[:limit]) if limit is not None else queryset


def current_notices(*, kinds=None, now=None):
    """Published notices that have begun and are not resolved (an operator message also ends at its
    expected end), newest first."""
    now = now or timezone.now()
    queryset = OperationalNotice.objects.filter(published=True, resolved_at__isnull=True, starts_at__lte=now).exclude(
        kind=OperationalNotice.Kind.OPERATOR_MESSAGE, expected_end_at__lt=now)
    if kinds is not None:
        queryset = queryset.filter(kind__in=kinds)
    return queryset.prefetch_related("updates").order_by("-starts_at", "-pk")


def active_notices(company=None, *, now=None):
    """The active notices (a list). For a company each one says whether it touches the company:
    ``affected_cities`` (the cities of its connections the notice names, compared without case),
    ``affects_subscriptions`` (it has live subscriptions in the notice's product area) and
    ``affects_company`` (either). At most three queries whatever the data size."""
    notices = list(current_notices(now=now))
    for notice in notices:
        notice.affected_cities = []
        notice.affects_subscriptions = False
        notice.affects_company = False
    if company is None or not notices:
        return notices
    cities = {city.casefold() for notice in notices for city in notice.cities}
    company_cities = set()
    if cities:
        # Cities compared without case; a company has few connections (the index is company, city).
        company_cities = {city.casefold(): city for city in Connection.objects.filter(company=company)
                          .values_list("city", flat=True).distinct()}
    areas = {notice.area for notice in notices if notice.area}
    area_flags = {}
    if areas:
        annotations = {
            area: Exists(Subscription.objects.filter(company=company, type__in=AREA_SUBSCRIPTION_TYPES[area])
                         .exclude(status=Subscription.Status.TERMINATED))
            for area in areas
        }
        flags = type(company).objects.filter(pk=company.pk).annotate(**annotations).values(*annotations).first()
        area_flags = flags or {}
    for notice in notices:
        notice.affected_cities = [company_cities[city.casefold()] for city in notice.cities
                                  if city.casefold() in company_cities]
        notice.affects_subscriptions = bool(area_flags.get(notice.area))
        notice.affects_company = bool(notice.affected_cities) or notice.affects_subscriptions
    return notices


def connection_has_open_fault(connection) -> bool:
    return FaultReport.objects.filter(connection=connection, status__in=FaultReport.OPEN).exists()

