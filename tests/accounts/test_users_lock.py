"""The company lock in the user services, proven with two administrators on two connections at once."""

import pytest
from django.utils import translation

from accounts.models import Membership
from accounts.permissions import ROLE_PRESETS, Role
from accounts.services.users import Access, AccessRefused, login_access_change
from tests.concurrency import run_held_at
from tests.conftest import make_member
from tests.factories import CompanyFactory


@pytest.mark.django_db(transaction=True)
def test_two_superusers_demoting_each_other_one_succeeds_and_the_other_is_told_why():
    company = CompanyFactory()
    anna, bo = make_member(company, Role.SUPERUSER), make_member(company, Role.SUPERUSER)
    read_only = Access(frozenset(ROLE_PRESETS[Role.READ_ONLY]), all_accounts=True)

    def demote(actor, target):
        def change():
            with translation.override("en"):
                return login_access_change(actor_membership=actor, membership=target, access=read_only)
        return change

    # Each change is held right before it writes, after its checks (and after the company lock).
    run = run_held_at("accounts.services.users._save_access", demote(anna, bo), demote(bo, anna))

    assert run.second_while_held == "lock", "the second change went ahead while the first held the company"
    assert run.first.ok
    assert isinstance(run.second.error, AccessRefused)
    assert run.second.error.messages == ["You may not manage users in this company."]
    superusers = Membership.objects.filter(company=company, role=Role.SUPERUSER, is_active=True)
    assert list(superusers.values_list("pk", flat=True)) == [anna.pk]
