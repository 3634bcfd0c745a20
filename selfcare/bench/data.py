"""The benchmark data set (``manage.py seed_bench``); the measurements live in ``selfcare.bench.measure``.

Bench rows are recognisable and never mixed with anything else:

* companies are named ``BENCH …`` (one big Danish company and many small ones);
* their billing account numbers start with ``BENCH-``;
* bench logins have e-mail addresses ``…@bench.example``.

``bench_data_seed`` deletes the previous bench rows first, so seeding again never fails and never
duplicates. Rows are written in bulk (COPY for the big company's subscriptions, ``bulk_create`` in
batches for the rest), never one ``save()`` per row.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import ProtectedError, RestrictedError

from accounts.models import AuditEvent, Company, Membership, User
from accounts.permissions import ROLE_PRESETS, Role
from accounts.tenancy import TenantModel
from subscriptions.catalogue import catalogue_ensure
from subscriptions.models import BillingAccount, Subscription

# --------------------------------------------------------------------------------------------------
# The data set
# --------------------------------------------------------------------------------------------------

BENCH_NAME_PREFIX = "BENCH "
BENCH_ACCOUNT_PREFIX = "BENCH-"
BENCH_EMAIL_DOMAIN = "bench.example"
BENCH_PASSWORD = "Selfcare-bench-2026"

BIG_COMPANY_NAME = "BENCH Storkunde A/S"
SUPERUSER_EMAIL = f"superuser@{BENCH_EMAIL_DOMAIN}"
SUPERUSER_MOBILE = "+4529990001"
RESTRICTED_EMAIL = f"restricted@{BENCH_EMAIL_DOMAIN}"
RESTRICTED_MOBILE = "+4529990002"

# Bench CVR numbers are taken from here upwards (valid modulus-11 numbers only, skipping any number
# a real company already has). The test factories count from 30000000, seed_demo uses 258000xx.
BENCH_CVR_START = 89000000

DEFAULT_SUBSCRIPTIONS = 50_000
DEFAULT_ACCOUNTS = 250
DEFAULT_SMALL_COMPANIES = 200
DEFAULT_RESTRICTED_ACCOUNTS = 3
DEFAULT_SEED = 2026
DEFAULT_COLLEAGUES = 300
DEFAULT_AUDIT_EVENTS = 100_000
BATCH_SIZE = 5_000

FIRST_NAMES = [
    "Anna", "Peter", "Maria", "Jens", "Louise", "Henrik", "Camilla", "Søren", "Emma", "Mikkel", "Freja",
    "Rasmus", "Astrid", "Nils", "Ida", "Oskar", "Ingrid", "Johan", "Sara", "Erik", "Mette", "Lars", "Sofie",
    "Anders", "Karen", "Niels", "Hanne", "Thomas", "Julie", "Martin", "Line", "Christian", "Pia", "Jesper",
    "Lone", "Morten", "Signe", "Frederik", "Maja", "Kasper",
]
LAST_NAMES = [
    "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Rasmussen", "Petersen", "Jensen", "Nielsen",
    "Sørensen", "Madsen", "Kristensen", "Olsen", "Thomsen", "Poulsen", "Johansen", "Møller", "Mortensen",
    "Knudsen", "Jakobsen", "Mikkelsen", "Frederiksen", "Laursen", "Henriksen", "Lund", "Holm", "Schmidt",
    "Eriksen", "Kristiansen", "Simonsen", "Clausen", "Svendsen", "Andreasen", "Iversen", "Jeppesen",
    "Vestergaard", "Dahl", "Kjær", "Berg", "Bach",
]
TYPES = ["mobile", "telephony", "internet", "circuit"]
TYPE_WEIGHTS = [8, 2, 2, 1]
STATUSES = ["active", "blocked", "terminated"]
STATUS_WEIGHTS = [10, 1, 1]
ACCOUNT_LABELS = ["Hovedkonto", "Salg", "Udvikling", "Service", "Lager", "Ledelse", "Marketing", "Kundeservice"]
CITIES = [("1058", "København K"), ("8000", "Aarhus C"), ("5000", "Odense C"), ("9000", "Aalborg"),
          ("6700", "Esbjerg"), ("7100", "Vejle"), ("4000", "Roskilde"), ("2800", "Kongens Lyngby")]
_ASCII = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "Ae", "Ø": "Oe", "Å": "Aa"})


def bench_companies():
    return Company.objects.filter(name__startswith=BENCH_NAME_PREFIX)


def bench_users():
    return User.objects.filter(email__endswith=f"@{BENCH_EMAIL_DOMAIN}")


def big_company() -> Company | None:
    return Company.objects.filter(name=BIG_COMPANY_NAME).first()


def _batched(iterable: Iterable, size: int) -> Iterator[list]:
    batch = []
    for item in iterable:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _bulk_insert(model, objects: Iterable) -> int:
    """Insert many rows fast: PostgreSQL COPY (psycopg 3), else bulk_create in batches.

    Values are prepared by the model's own fields (defaults, auto_now_add, foreign keys), as
    bulk_create would; no signals are sent, as with bulk_create. Returns the number of rows.
    """
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    count = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor
        if connection.vendor != "postgresql" or not hasattr(raw, "copy") or any(f.has_db_default() for f in fields):
            for batch in _batched(objects, BATCH_SIZE):
                model.objects.bulk_create(batch)
                count += len(batch)
            return count
        columns = ", ".join(quote(f.column) for f in fields)
        with raw.copy(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN") as copy:
            for obj in objects:
                copy.write_row([f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields])
                count += 1
    return count


def _tenant_models() -> list:
    """Every concrete model with a company (subscriptions, accounts, and whatever later apps add)."""
    return [model for model in apps.get_models() if issubclass(model, TenantModel) and not model._meta.abstract]


@transaction.atomic
def bench_data_delete() -> dict[str, int]:
    """Remove every bench row (and nothing else). Returns the number of rows deleted per model."""
    company_ids = list(bench_companies().values_list("pk", flat=True))
    deleted: dict[str, int] = {}

    def add(counts):
        for label, count in counts.items():
            deleted[label] = deleted.get(label, 0) + count

    if company_ids:
        # Tenant rows first. They may protect each other (an invoice protects its account, a
        # subscription protects its account): delete in passes until nothing is left.
        pending = _tenant_models()
        for _pass in range(len(pending) + 1):
            blocked = []
            for model in pending:
                try:
                    with transaction.atomic():
                        add(model._base_manager.filter(company_id__in=company_ids).delete()[1])
                except (ProtectedError, RestrictedError):
                    blocked.append(model)
            if not blocked:
                break
            if len(blocked) == len(pending):
                labels = ", ".join(model._meta.label for model in blocked)
                raise RuntimeError(f"bench rows of {labels} are protected by rows outside the bench data")
            pending = blocked
    # The audit log keeps its rows when a company goes (SET_NULL): bench events are removed explicitly.
    add(AuditEvent.objects.filter(company_id__in=company_ids).delete()[1])
    add(bench_users().delete()[1])
    add(Company.objects.filter(pk__in=company_ids).delete()[1])
    return {label: count for label, count in deleted.items() if count}


def _free_cvr_numbers(count: int) -> list[str]:
    """``count`` valid CVR numbers from BENCH_CVR_START upwards that no company has yet."""
    from stdnum.dk import cvr

    taken = set(
        Company.objects.filter(country="DK", registration_number__gte=str(BENCH_CVR_START))
        .values_list("registration_number", flat=True)
    )
    numbers: list[str] = []
    candidate = BENCH_CVR_START
    while len(numbers) < count:
        if candidate > 99_999_999:
            raise RuntimeError("no free CVR numbers left in the bench range")
        value = str(candidate)
        if value not in taken and cvr.is_valid(value):
            numbers.append(value)
        candidate += 1
    return numbers


def _subscriptions(company: Company, accounts: list[BillingAccount], count: int, rng: random.Random,
                   domain: str, plans: dict[str, list[int]]) -> Iterator[Subscription]:
    """``count`` subscriptions spread evenly over ``accounts`` (round robin)."""
    for index in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        type_ = rng.choices(TYPES, weights=TYPE_WEIGHTS)[0]
        if type_ in ("mobile", "telephony"):
            number = f"+45 {'2' if type_ == 'mobile' else '7'}{rng.randint(0, 9_999_999):07d}"
        else:
            number = f"{'FIB' if type_ == 'internet' else 'ETH'}-{rng.randint(0, 99_999_999):08d}"
        yield Subscription(
            company=company, account=accounts[index % len(accounts)], type=type_, number=number,
            employee_name=f"{first} {last}",
            employee_email=f"{first}.{last}.{index}@{domain}".lower().translate(_ASCII),
            plan_id=rng.choice(plans[type_]),
            status=rng.choices(STATUSES, weights=STATUS_WEIGHTS)[0],
            invoice_note=f"Afd. {rng.randint(1, 40)}" if rng.random() < 0.3 else "",
        )


@dataclass
class SeedResult:
    company: Company
    superuser: User
    restricted: User
    counts: dict[str, int]
    deleted: dict[str, int]
    timings: dict[str, float]  # phase -> seconds

    @property
    def total_seconds(self) -> float:
        return sum(self.timings.values())


def bench_data_seed(
    *,
    subscriptions: int = DEFAULT_SUBSCRIPTIONS,
    accounts: int = DEFAULT_ACCOUNTS,
    small_companies: int = DEFAULT_SMALL_COMPANIES,
    restricted_accounts: int = DEFAULT_RESTRICTED_ACCOUNTS,
    colleagues: int = DEFAULT_COLLEAGUES,
    audit_events: int = DEFAULT_AUDIT_EVENTS,
    orders: int | None = None,
    seed: int = DEFAULT_SEED,
    log: Callable[[str], None] = lambda message: None,
) -> SeedResult:
    """Replace the bench data: one big company, ``small_companies`` small ones and the bench logins."""
    if subscriptions < 0 or accounts < 1 or small_companies < 0:
        raise ValueError("subscriptions >= 0, accounts >= 1 and small_companies >= 0, please")
    if not 1 <= restricted_accounts <= accounts:
        raise ValueError("restricted_accounts must be between 1 and the number of accounts")
    rng = random.Random(seed)
    if orders is None:
        from orders.bench import DEFAULT_ORDERS

        orders = DEFAULT_ORDERS
    timings: dict[str, float] = {}
    counts: dict[str, int] = {}

    def phase(name):
        timings[name] = time.perf_counter()

    def done(name, message):
        timings[name] = time.perf_counter() - timings[name]
        log(f"  {message} in {timings[name]:.2f} s")

    with transaction.atomic():
        phase("delete")
        deleted = bench_data_delete()
        done("delete", f"deleted the previous bench data ({sum(deleted.values())} rows)")

        cvr_numbers = _free_cvr_numbers(1 + small_companies)
        plans = catalogue_ensure()["plans"]  # the operator's catalogue is shared, never bench-only

        # The big company: its accounts and subscriptions.
        phase("big_company")
        company = Company.objects.create(
            name=BIG_COMPANY_NAME, country="DK", registration_number=cvr_numbers[0],
            street="Storkundevej 1", postal_code="8000", city="Aarhus C",
        )
        big_accounts = BillingAccount.objects.bulk_create(
            [
                BillingAccount(
                    company=company, number=f"{BENCH_ACCOUNT_PREFIX}000-{index:04d}",
                    name=f"{ACCOUNT_LABELS[index % len(ACCOUNT_LABELS)]} {index:03d}",
                    email=f"faktura{index}@storkunde.example",
                )
                for index in range(1, accounts + 1)
            ],
            batch_size=BATCH_SIZE,
        )
        created = _bulk_insert(
            Subscription, _subscriptions(company, big_accounts, subscriptions, rng, "storkunde.example", plans)
        )
        done("big_company", f"big company: {accounts:,} accounts and {created:,} subscriptions")

        # The small companies: a couple of accounts and a few subscriptions each, and one login each.
        phase("small_companies")
        small = Company.objects.bulk_create(
            [
                Company(
                    name=f"{BENCH_NAME_PREFIX}Småfirma {index:03d} ApS", country="DK",
                    registration_number=cvr_numbers[index], street=f"Småvej {index}",
                    postal_code=CITIES[index % len(CITIES)][0], city=CITIES[index % len(CITIES)][1],
                )
                for index in range(1, small_companies + 1)
            ],
            batch_size=BATCH_SIZE,
        )
        small_accounts: dict[int, list[BillingAccount]] = {}
        rows = []
        for index, small_company in enumerate(small, start=1):
            for number in range(1, rng.randint(2, 3) + 1):
                rows.append(BillingAccount(
                    company=small_company, number=f"{BENCH_ACCOUNT_PREFIX}{index:03d}-{number:04d}",
                    name=ACCOUNT_LABELS[number - 1], email=f"faktura@smaafirma{index}.example",
                ))
        for account in BillingAccount.objects.bulk_create(rows, batch_size=BATCH_SIZE):
            small_accounts.setdefault(account.company_id, []).append(account)
        small_subscriptions = [
            subscription
            for index, small_company in enumerate(small, start=1)
            for subscription in _subscriptions(small_company, small_accounts[small_company.pk], rng.randint(3, 8),
                                               rng, f"smaafirma{index}.example", plans)
        ]
        Subscription.objects.bulk_create(small_subscriptions, batch_size=BATCH_SIZE)
        done("small_companies", f"{len(small)} small companies: {len(rows)} accounts and "
                                f"{len(small_subscriptions)} subscriptions")

        # Logins. One password hash (the real hasher of the settings in use), shared by every bench login.
        phase("logins")
        password = make_password(BENCH_PASSWORD)
        superuser = User(email=SUPERUSER_EMAIL, full_name="Bench Superbruger", mobile=SUPERUSER_MOBILE,
                         language="da", password=password)
        restricted = User(email=RESTRICTED_EMAIL, full_name="Bench Afdelingsleder", mobile=RESTRICTED_MOBILE,
                          language="da", password=password)
        owners = [
            User(email=f"owner-{index:03d}@{BENCH_EMAIL_DOMAIN}", full_name=f"Bench Ejer {index:03d}",
                 language="da", password=password)
            for index in range(1, small_companies + 1)
        ]
        User.objects.bulk_create([superuser, restricted, *owners], batch_size=BATCH_SIZE)
        superuser_permissions = sorted(ROLE_PRESETS[Role.SUPERUSER])
        memberships = [
            Membership(user=superuser, company=company, role=Role.SUPERUSER, permissions=superuser_permissions),
            Membership(user=restricted, company=company, role=Role.READ_ONLY,
                       permissions=sorted(ROLE_PRESETS[Role.READ_ONLY]), all_accounts=False),
            *(Membership(user=owner, company=small_company, role=Role.SUPERUSER, permissions=superuser_permissions)
              for owner, small_company in zip(owners, small, strict=True)),
        ]
        Membership.objects.bulk_create(memberships, batch_size=BATCH_SIZE)
        restricted_membership = memberships[1]
        restricted_membership.accounts.set(big_accounts[:restricted_accounts])
        done("logins", f"{2 + len(owners)} logins")

        # The big company's colleagues (the users page) and years of its audit log (the log page).
        phase("colleagues")
        roles = [Role.ADMINISTRATOR, Role.ORDERER, Role.APPROVER, Role.READ_ONLY]
        colleague_users = User.objects.bulk_create(
            [
                User(email=f"colleague-{index:04d}@{BENCH_EMAIL_DOMAIN}", full_name=f"Bench Kollega {index:04d}",
                     mobile=f"+45261{index:05d}", language="da", password=password)
                for index in range(1, colleagues + 1)
            ],
            batch_size=BATCH_SIZE,
        )
        colleague_memberships = Membership.objects.bulk_create(
            [
                Membership(user=user, company=company, role=roles[index % len(roles)],
                           permissions=sorted(ROLE_PRESETS[roles[index % len(roles)]]), all_accounts=index % 3 != 0)
                for index, user in enumerate(colleague_users)
            ],
            batch_size=BATCH_SIZE,
        )
        Through = Membership.accounts.through
        Through.objects.bulk_create(
            [
                Through(membership_id=membership.pk, billingaccount_id=big_accounts[(index + offset) % len(big_accounts)].pk)
                for index, membership in enumerate(colleague_memberships) if not membership.all_accounts
                for offset in (0, 1)
            ],
            batch_size=BATCH_SIZE,
        )
        actions = [AuditEvent.Action.SIGN_IN] * 6 + [AuditEvent.Action.SIGN_IN_FAILED, AuditEvent.Action.ACCESS_CHANGED,
                                                     AuditEvent.Action.SIGN_OUT, AuditEvent.Action.PROFILE_CHANGED]
        now = time.time()
        logged = _bulk_insert(AuditEvent, (
            AuditEvent(
                created_at=datetime.fromtimestamp(now - rng.random() * 2 * 365 * 86400, tz=UTC),
                actor_id=(actor := rng.choice(colleague_users or [superuser])).pk, actor_label=actor.email,
                company=company, action=rng.choice(actions), target_user_id=actor.pk, target_label=actor.email,
                changes={}, ip_address="192.0.2.10",
            )
            for _index in range(audit_events)
        ))
        done("colleagues", f"{len(colleague_users)} colleagues and {logged:,} audit events in the big company")

        # The orders app's share: orders with their timelines, and a chain (orders/bench.py).
        phase("orders")
        from orders.bench import bench_orders_seed

        order_counts = bench_orders_seed(company=company, accounts=big_accounts, superuser=superuser, rng=rng,
                                         count=orders, bulk_insert=_bulk_insert)
        done("orders", f"{order_counts['orders']:,} orders with {order_counts['order_events']:,} timeline events")

    counts = {
        "companies": 1 + len(small),
        "accounts": accounts + len(rows),
        "subscriptions": created + len(small_subscriptions),
        "big_company_subscriptions": created,
        "logins": 2 + len(owners) + len(colleague_users),
        "audit_events": logged,
        **order_counts,
    }
    # Fresh statistics (and, outside a transaction, the visibility map for index-only scans), as a
    # long-running database would have them; otherwise the first plans are made on stale estimates.
    phase("analyze")
    from orders.models import Order, OrderEvent

    tables = [model._meta.db_table for model in (Company, BillingAccount, Subscription, Membership, User, AuditEvent,
                                                 Order, OrderEvent)]
    with connection.cursor() as cursor:
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
        for table in tables:
            cursor.execute(f"{command} {connection.ops.quote_name(table)}")
    done("analyze", f"{command.lower()} of {len(tables)} tables")
    return SeedResult(company=company, superuser=superuser, restricted=restricted, counts=counts,
                      deleted=deleted, timings=timings)


@dataclass
class BenchDataStatus:
    company: Company
    subscriptions: int
    superuser: User
    restricted: User
    restricted_accounts: int


def bench_data_status() -> BenchDataStatus | None:
    """The seeded bench data, or None when it is missing or incomplete."""
    company = big_company()
    superuser = User.objects.filter(email=SUPERUSER_EMAIL).first()
    restricted = User.objects.filter(email=RESTRICTED_EMAIL).first()
    if company is None or superuser is None or restricted is None:
        return None
    memberships = {m.user_id: m for m in Membership.objects.filter(user__in=[superuser, restricted], company=company)}
    if superuser.pk not in memberships or restricted.pk not in memberships:
        return None
    restricted_accounts = memberships[restricted.pk].accounts.count()
    if memberships[restricted.pk].all_accounts or not restricted_accounts:
        return None
    return BenchDataStatus(company=company, subscriptions=Subscription.objects.filter(company=company).count(),
                           superuser=superuser, restricted=restricted, restricted_accounts=restricted_accounts)
