"""RouteChecks for the overview's quick actions, the shortcuts and the global search (tests/tenancy.py).

The shortcut routes with an id are the login's own rows, which a RouteCheck's members (other logins by
design) can never open: tests/accounts/test_shortcuts.py proves them, including that another login's
shortcut is a 404 (listed in tests/test_url_coverage.py)."""

from django.urls import reverse

from accounts.models import AuditEvent, Shortcut
from accounts.permissions import Permission
from subscriptions.models import ChangeRequest, SimCard
from tests.factories import SimCardFactory, SubscriptionFactory, iccid
from tests.tenancy import RouteCheck, TenantRouteTests, marker

_serials = iter(range(700_000, 800_000))


def _line(company, account):
    number = f"+45 2{next(_serials):07d}"
    line = SubscriptionFactory(company=company, account=account, number=number)
    SimCardFactory(company=company, subscription=line, status=SimCard.Status.ACTIVE)
    return line


def sim_swap_data(company, account):
    """A line of the company and a spare SIM card of the company: the quick SIM swap's form."""
    line = _line(company, account)
    spare = SimCardFactory(company=company, iccid=iccid(next(_serials)), status=SimCard.Status.SPARE)
    return {"sim-number": line.number, "sim-iccid": spare.iccid}


def _sim_change_asked(case):
    return ChangeRequest.objects.filter(company=case.company, action=ChangeRequest.Action.CHANGE_SIM,
                                        requested_by=case.user).exists()


def puk_data(company, account):
    return {"puk-number": _line(company, account).number}


def _puk_shown_and_audited(case):
    return (b"12345678" in case.response.content and case.response["Cache-Control"] == "private, no-store"
            and AuditEvent.objects.filter(action=AuditEvent.Action.PUK_VIEWED, company=case.company,
                                          actor=case.user).exists())


def _shortcut_saved(case):
    return Shortcut.objects.filter(user=case.user, company=case.company, path="/overview/?from=test").exists()


class TestOverviewAccess(TenantRouteTests):
    routes = [
        RouteCheck("overview_sim_swap", Permission.MANAGE_SUBSCRIPTIONS, method="post", make_data=sim_swap_data,
                   effect=_sim_change_asked),
        RouteCheck("overview_puk", Permission.VIEW_PUK, method="post", make_data=puk_data,
                   effect=_puk_shown_and_audited),
        RouteCheck("accounts:shortcuts", None),
        RouteCheck("accounts:shortcut_create", None, method="post",
                   make_data=lambda company, account: {"name": marker("Shortcut"), "path": "/overview/?from=test"},
                   ok_status=(302,), expect_location=lambda case: reverse("overview"), effect=_shortcut_saved),
        RouteCheck("search", None),
        RouteCheck("search_suggestions", None),
    ]
