"""A small, realistic demo: an operator, a Danish corporate group with two subsidiaries, a Swedish
company, a login for each role, and a handful of accounts and subscriptions. Safe to run again."""

import random

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from stdnum import luhn

from accounts.models import AccessApplication, Company, Membership, User
from accounts.permissions import ROLE_PRESETS, Role
from subscriptions.catalogue import catalogue_ensure
from subscriptions.models import (
    AddOn,
    BillingAccount,
    Connection,
    SimCard,
    Subscription,
    SubscriptionEvent,
    UsageRecord,
)

DEMO_PASSWORD = "Selfcare-demo-2026"

COMPANIES = [
    # key, name, country, registration number, street, postal code, city, parent key
    ("holding", "Nordlys Holding A/S", "DK", "25800001", "Havnegade 12", "1058", "København K", None),
    ("energi", "Nordlys Energi ApS", "DK", "25800028", "Vestergade 3", "8000", "Aarhus C", "holding"),
    ("service", "Nordlys Service A/S", "DK", "25800036", "Algade 40", "9000", "Aalborg", "holding"),
    ("fjallvind", "Fjällvind AB", "SE", "5566778899", "Drottninggatan 21", "111 51", "Stockholm", None),
]

# e-mail, name, mobile, language, [(company key, role, restricted to the first N accounts or None)]
LOGINS = [
    ("superuser@nordlys.example", "Mette Sørensen", "+4520112233", "da",
     [("holding", Role.SUPERUSER, None), ("energi", Role.SUPERUSER, None), ("service", Role.SUPERUSER, None)]),
    ("admin@nordlys.example", "Lars Nielsen", "+4520112244", "da", [("holding", Role.ADMINISTRATOR, None)]),
    ("orderer@nordlys.example", "Sofie Jensen", "+4520112255", "en", [("holding", Role.ORDERER, None)]),
    ("approver@nordlys.example", "Anders Holm", "+4520112266", "da", [("holding", Role.APPROVER, None)]),
    ("readonly@nordlys.example", "Ida Madsen", "+4520112277", "da", [("holding", Role.READ_ONLY, 1)]),
    ("superuser@fjallvind.example", "Karin Lindqvist", "+46701234567", "sv", [("fjallvind", Role.SUPERUSER, None)]),
]
STAFF = ("staff@operator.example", "Olivia Operator", "+4520110000", "en")

FIRST_NAMES = ["Anna", "Peter", "Maria", "Jens", "Louise", "Henrik", "Camilla", "Søren", "Emma", "Mikkel",
               "Freja", "Rasmus", "Astrid", "Nils", "Elsa", "Oskar", "Ingrid", "Johan", "Sara", "Erik"]
LAST_NAMES = ["Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Rasmussen", "Petersen", "Johansson",
              "Karlsson", "Nilsson", "Eriksson", "Berg", "Lund", "Dahl", "Kjær"]


class Command(BaseCommand):
    help = "Load the demo data (idempotent) and print the demo logins."

    @transaction.atomic
    def handle(self, *args, **options):
        rng = random.Random(2026)
        self.catalogue = catalogue_ensure()
        companies = {}
        for key, name, country, number, street, postal_code, city, parent in COMPANIES:
            company, _ = Company.objects.update_or_create(
                country=country, registration_number=number,
                defaults=dict(name=name, street=street, postal_code=postal_code, city=city,
                              parent=companies.get(parent)),
            )
            companies[key] = company
            self._accounts_and_subscriptions(company, rng)
            self._estate(company, rng)

        staff = self._user(*STAFF)
        if not staff.is_staff:
            staff.is_staff = staff.is_superuser = True
            staff.save(update_fields=["is_staff", "is_superuser"])

        for email, name, mobile, language, grants in LOGINS:
            user = self._user(email, name, mobile, language)
            for company_key, role, restricted_to in grants:
                company = companies[company_key]
                membership, created = Membership.objects.get_or_create(
                    user=user, company=company,
                    defaults=dict(role=role, permissions=sorted(ROLE_PRESETS[role]), all_accounts=restricted_to is None),
                )
                if created and restricted_to:
                    membership.accounts.set(BillingAccount.objects.filter(company=company).order_by("number")[:restricted_to])

        # The product catalogue, and a one-step mobile approval chain for the holding company.
        from orders.catalogue import demo_chain, products_ensure

        products_ensure()
        demo_chain(company=companies["holding"], approvers=[User.objects.get(email="approver@nordlys.example")])

        __import__("invoices.demo").demo.demo_ensure(list(companies.values()))  # twelve months of invoices

        # A company waiting for access, for staff to approve in the back office.
        AccessApplication.objects.get_or_create(
            country="DK", registration_number="25800044", email="karen@vindkraft.example",
            defaults=dict(company_name="Vindkraft Nord ApS", applicant_name="Karen Holm", mobile="+4526155511"),
        )

        self.stdout.write(self.style.SUCCESS("Demo data ready. Sign in with any of these (password: %s):" % DEMO_PASSWORD))
        for email, name, _mobile, _language, grants in [(*STAFF, [])] + LOGINS:
            roles = ", ".join(f"{companies[c].name}: {Role(r).label}" for c, r, _ in grants) or "operator staff (back office)"
            self.stdout.write(f"  {email:<30} {roles}")
        self.stdout.write("The SMS code arrives on the developer inbox page: /dev/inbox/")
        self.stdout.write("An application for access from Vindkraft Nord ApS waits in the back office (staff login).")
        self.stdout.write("Changes to a number ending in 9999 fail in the provisioning simulator, to show a failure.")

    def _user(self, email, name, mobile, language):
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email, DEMO_PASSWORD, full_name=name, mobile=mobile, language=language)
        return user

    def _accounts_and_subscriptions(self, company, rng):
        if BillingAccount.objects.filter(company=company).exists():
            return
        prefix = company.registration_number[-4:]
        accounts = [
            BillingAccount.objects.create(
                company=company, number=f"{prefix}{index:04d}", name=label,
                email=f"faktura{index}@{company.name.split()[0].lower()}.example",
            )
            for index, label in enumerate(["Hovedkonto", "Salg", "Udvikling"], start=1)
        ]
        phone_prefix = "+46 70" if company.country == "SE" else "+45 2"
        subscriptions = []
        for index in range(14):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            type_ = rng.choices(["mobile", "telephony", "internet", "circuit"], weights=[8, 2, 2, 1])[0]
            subscriptions.append(Subscription(
                company=company, account=accounts[index % len(accounts)], type=type_,
                number=f"{phone_prefix}{rng.randint(1000000, 9999999)}",
                employee_name=f"{first} {last}", employee_email=f"{first}.{last}@example.com".lower(),
                plan_id=rng.choice(self.catalogue["plans"][type_]),
                status=rng.choices(["active", "blocked", "terminated"], weights=[10, 1, 1])[0],
            ))
        Subscription.objects.bulk_create(subscriptions)

    def _estate(self, company, rng):
        """SIM cards (and spare ones, an eSIM among them), add-ons, this month's usage, connections and
        some history: what the employee page and the lists show. Once per company."""
        if SimCard.objects.filter(company=company).exists():
            return
        country = "46" if company.country == "SE" else "45"
        serials = iter(range(1, 10_000))

        def new_iccid():
            base = f"89{country}01{company.pk:04d}{next(serials):08d}"
            return base + luhn.calc_check_digit(base)

        def sim(**fields):
            card = SimCard(company=company, iccid=new_iccid(), **fields)
            card.set_puk_codes(f"{rng.randint(0, 99_999_999):08d}", f"{rng.randint(0, 99_999_999):08d}")
            return card

        subscriptions = list(Subscription.objects.filter(company=company).order_by("pk"))
        mobile = [line for line in subscriptions if line.type == Subscription.Type.MOBILE]
        if mobile:  # one line whose changes the simulator refuses (PROVISIONING_SIMULATOR_FAIL_SUFFIXES)
            failing = mobile[-1]
            failing.number = failing.number[:-4] + "9999"
            failing.save(update_fields=["number"])
        cards = [sim(subscription=line, status=SimCard.Status.ACTIVE, is_esim=index % 4 == 3)
                 for index, line in enumerate(mobile) if line.status != Subscription.Status.TERMINATED]
        cards += [sim(is_esim=index == 0) for index in range(3)]  # spare cards for a SIM change
        SimCard.objects.bulk_create(cards)

        add_ons = {type_: list(AddOn.objects.filter(pk__in=ids)) for type_, ids in self.catalogue["add_ons"].items()}
        period = timezone.localdate().replace(day=1)
        usage = []
        for line in mobile:
            if add_ons.get(line.type) and rng.random() < 0.5:
                line.add_ons.add(rng.choice(add_ons[line.type]))
            if line.status == Subscription.Status.ACTIVE:
                usage.append(UsageRecord(
                    company=company, subscription=line, period=period, data_mb=rng.randint(200, 40_000),
                    voice_minutes=rng.randint(0, 900), sms_count=rng.randint(0, 200),
                ))
        UsageRecord.objects.bulk_create(usage)

        accounts = list(BillingAccount.objects.filter(company=company).order_by("number"))
        streets = [("Havnegade 12", "1058", "København K"), ("Søndergade 4", "8000", "Aarhus C"),
                   ("Vestergade 20", "5000", "Odense C")]
        if company.country == "SE":
            streets = [("Drottninggatan 50", "111 21", "Stockholm"), ("Kungsgatan 8", "411 19", "Göteborg"),
                       ("Storgatan 3", "211 42", "Malmö")]
        Connection.objects.bulk_create([
            Connection(
                company=company, account=accounts[index % len(accounts)],
                circuit_id=f"C{company.pk:04d}-{index + 1:03d}", service_type=service, capacity_mbps=capacity,
                street=street, postal_code=postal_code, city=city, services=services,
                contact_name="Driftsvagt", contact_phone="+4570101010" if country == "45" else "+46101010101",
                contact_email=f"drift@{company.name.split()[0].lower()}.example",
            )
            for index, ((street, postal_code, city), (service, capacity, services)) in enumerate(zip(
                streets, [("fibre", 1000, "Internet, fast IP"), ("mpls", 100, "IP VPN, QoS"), ("coax", 500, "Internet")],
                strict=True,
            ))
        ])

        # A little history: an invoice note set and a line blocked earlier, by the first Superuser-to-be.
        for line in subscriptions[:3]:
            SubscriptionEvent.objects.create(
                company=company, subscription=line, action="invoice_note", actor_label="Selfcare demo",
                before={"invoice_note": ""}, after={"invoice_note": line.invoice_note or "Afd. 1"},
            )
        for line in subscriptions:
            if line.status == Subscription.Status.BLOCKED:
                line.block_reason = "lost"
                line.save(update_fields=["block_reason"])
                SubscriptionEvent.objects.create(
                    company=company, subscription=line, action="block", actor_label="Selfcare demo",
                    before={"status": "active", "block_reason": ""}, after={"status": "blocked", "block_reason": "lost"},
                )
