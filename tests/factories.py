import itertools
from decimal import Decimal

import factory
from stdnum import luhn

from accounts.models import Company, Membership, User
from accounts.permissions import ROLE_PRESETS, Role
from subscriptions.crypto import encrypt
from subscriptions.models import AddOn, BillingAccount, Connection, PricePlan, SimCard, Subscription

_cvr_numbers = itertools.count(30000000)


def next_cvr() -> str:
    """A fresh CVR number with a valid modulus-11 check."""
    from stdnum.dk import cvr

    while True:
        candidate = str(next(_cvr_numbers))
        if cvr.is_valid(candidate):
            return candidate


def orgnr(base: str) -> str:
    return base + luhn.calc_check_digit(base)


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Firma {n} A/S")
    country = "DK"
    registration_number = factory.LazyFunction(next_cvr)
    street = "Testvej 1"
    postal_code = "2100"
    city = "København Ø"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"login{n}@example.com")
    full_name = factory.Faker("name", locale="da_DK")
    mobile = factory.Sequence(lambda n: f"+45261{n % 100000:05d}")  # a valid Danish mobile range
    language = "en"
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    company = factory.SubFactory(CompanyFactory)
    role = Role.SUPERUSER
    permissions = factory.LazyAttribute(lambda o: sorted(ROLE_PRESETS.get(o.role, ())))
    all_accounts = True


class BillingAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BillingAccount

    company = factory.SubFactory(CompanyFactory)
    number = factory.Sequence(lambda n: f"{7000000 + n}")
    name = factory.Sequence(lambda n: f"Konto {n}")


class PricePlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PricePlan
        django_get_or_create = ("code",)

    code = "test-mobil-50"
    name = "Mobil Fri 50 GB"
    type = "mobile"
    monthly_fee = Decimal("149.00")
    data_gb = 50


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    account = factory.SubFactory(BillingAccountFactory)
    company = factory.SelfAttribute("account.company")
    type = Subscription.Type.MOBILE
    number = factory.Sequence(lambda n: f"+45 4{n:07d}")
    employee_name = factory.Faker("name", locale="da_DK")
    employee_email = factory.Sequence(lambda n: f"employee{n}@example.com")
    # Created even by .build(): the catalogue plan is shared, and bulk_create needs it saved.
    plan = factory.LazyFunction(lambda: PricePlanFactory.create())


class StaffUserFactory(UserFactory):
    is_staff = True
    is_superuser = True


class AddOnFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AddOn
        django_get_or_create = ("code",)

    code = "test-roaming"
    name = "Roaming EU+"
    type = "mobile"
    monthly_fee = Decimal("49.00")


def iccid(serial: int) -> str:
    """A valid ICCID (89 + 45 + issuer + serial, Luhn check digit)."""
    base = f"894501{serial:012d}"
    return base + luhn.calc_check_digit(base)


class SimCardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SimCard
        skip_postgeneration_save = True

    company = factory.SubFactory(CompanyFactory)
    iccid = factory.Sequence(lambda n: iccid(n))
    puk1_encrypted = factory.LazyFunction(lambda: encrypt("12345678"))
    puk2_encrypted = factory.LazyFunction(lambda: encrypt("87654321"))


class ConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Connection

    account = factory.SubFactory(BillingAccountFactory)
    company = factory.SelfAttribute("account.company")
    circuit_id = factory.Sequence(lambda n: f"C-{n:06d}")
    service_type = "fibre"
    capacity_mbps = 1000
    street = "Havnegade 12"
    postal_code = "1058"
    city = "København K"
    contact_name = "Driftsvagt"
