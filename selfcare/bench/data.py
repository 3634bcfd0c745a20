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
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

try:
    from psycopg.types.json import Jsonb
except ImportError:  # not PostgreSQL: bulk_create gets a dict
    Jsonb = None
from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.db import DatabaseError, IntegrityError, connection, transaction
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
# The operator's employee (is_staff, Django superuser) who opens the back office's lists beside ours.
STAFF_EMAIL = f"staff@{BENCH_EMAIL_DOMAIN}"
STAFF_MOBILE = "+4529990003"

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


def big_company_name(position: int) -> str:
    """The first big company is "BENCH Storkunde A/S"; the ones of further sizes are numbered."""
    return BIG_COMPANY_NAME if position == 0 else f"{BENCH_NAME_PREFIX}Storkunde {position + 1} A/S"


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
    fields = [f for f in model._meta.concrete_fields if not f.primary_key and not f.generated]
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


def _copy_rows(model, columns: list[str], rows: Iterable[tuple]) -> int:
    """Insert many rows fast: PostgreSQL COPY (psycopg 3) of plain tuples, else bulk_create in batches.

    ``columns`` are column names (``company_id``, not ``company``) and every row gives them in that
    order, already as the database stores them. No model instance is built per row (at 500,000 rows
    building and preparing instances took most of the seed's time); no signals, as with bulk_create.
    Returns the number of rows.
    """
    quote = connection.ops.quote_name
    count = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor
        if connection.vendor != "postgresql" or not hasattr(raw, "copy"):
            for batch in _batched(rows, BATCH_SIZE):
                model.objects.bulk_create([model(**dict(zip(columns, row, strict=True))) for row in batch])
                count += len(batch)
            return count
        names = ", ".join(quote(column) for column in columns)
        with raw.copy(f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
    return count


# From this many rows on, the table's secondary indexes are dropped for the COPY and built again after
# it (in the same transaction): building a trigram index once is ~10x faster than updating it per row.
REBUILD_INDEXES_FROM = 100_000


@contextmanager
def _indexes_built_afterwards(model, rows: int, log: Callable[[str], None]):
    """Inside: ``model``'s table without its secondary indexes (those behind no constraint) and its foreign
    keys, which are created again, exactly as pg_get_indexdef and pg_get_constraintdef describe them,
    when the block ends. All of it happens in
    the caller's transaction, so a failure leaves the indexes as they were. For fewer than
    REBUILD_INDEXES_FROM rows (or not on PostgreSQL) nothing is dropped."""
    if connection.vendor != "postgresql" or rows < REBUILD_INDEXES_FROM or not connection.in_atomic_block:
        yield
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        # Deferred foreign key checks of rows written earlier in the transaction run now: a table with
        # pending trigger events can be neither altered nor indexed.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            """
            SELECT index.relname, pg_get_indexdef(i.indexrelid)
            FROM pg_index i JOIN pg_class index ON index.oid = i.indexrelid
            WHERE i.indrelid = %s::regclass AND NOT i.indisprimary AND NOT i.indisunique
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
            ORDER BY index.relname
            """,
            [model._meta.db_table],
        )
        definitions = cursor.fetchall()
        for name, _definition in definitions:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        # Its foreign keys too: checked row by row they cost more than the COPY (an index probe per key
        # per row); added again, each is checked in one join.
        cursor.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f' "
                       "AND conrelid = %s::regclass ORDER BY conname", [model._meta.db_table])
        foreign_keys = cursor.fetchall()
        for name, _definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {quote(model._meta.db_table)} DROP CONSTRAINT {quote(name)}")
    yield
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # Any deferred foreign key checks run now: an index cannot be built on a table with pending
        # trigger events.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for name, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {quote(model._meta.db_table)} ADD CONSTRAINT {quote(name)} {definition}")
        checked = time.perf_counter()
        for _name, definition in definitions:
            cursor.execute(definition)
    log(f"  {len(foreign_keys)} foreign keys checked in {checked - started:.2f} s, {len(definitions)} indexes of "
        f"{model._meta.db_table} built again in {time.perf_counter() - checked:.2f} s")


def _children_first(models: list) -> list | None:
    """``models`` ordered so that a model comes before every model it refers to; None for a cycle."""
    remaining, ordered = list(models), []
    while remaining:
        for model in remaining:
            referred = any(field.is_relation and field.related_model is model
                           for other in remaining if other is not model for field in other._meta.concrete_fields)
            if not referred:
                ordered.append(model)
                remaining.remove(model)
                break
        else:
            return None
    return ordered


def _raw_delete_tenant_rows(company_ids: list[int]) -> dict[str, int] | None:
    """The companies' tenant rows (and their many-to-many rows) in one DELETE per table, children first.

    Django's delete() would first load every row (hundreds of thousands) to cascade by hand. Here the
    database's foreign keys, checked at once (SET CONSTRAINTS ALL IMMEDIATE), say whether anything outside
    refers to these rows: then nothing is deleted and None returned, for the ORM's delete to name it.
    """
    ordered = _children_first(_tenant_models())
    if connection.vendor != "postgresql" or ordered is None:
        return None
    deleted: dict[str, int] = {}
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    try:
        with transaction.atomic():
            for model in ordered:
                rows = model._base_manager.filter(company_id__in=company_ids)
                # Many-to-many rows of these rows, from either side (a subscription's add-ons, the
                # accounts a restricted membership may see).
                for through in _link_tables():
                    for link in through._meta.concrete_fields:
                        if link.is_relation and link.related_model is model:
                            links = through._base_manager.filter(**{f"{link.name}__in": rows.values("pk")})
                            deleted[through._meta.label] = (deleted.get(through._meta.label, 0)
                                                            + links._raw_delete(links.db))
                with _references_checked_afterwards(model, rows.count()):
                    deleted[model._meta.label] = rows._raw_delete(rows.db)
    except IntegrityError:
        return None
    return deleted


def _truncate_tenant_rows(company_ids: list[int]) -> dict[str, int] | None:
    """When every row of every tenant table is a bench row (a database kept for the benchmarks), all of
    them in one TRUNCATE, with the many-to-many rows that link to them; None otherwise (the rows are then
    deleted by company). Deleted rows would stay in the tables until a vacuum, in the same transaction
    as the new ones: the new subscriptions' 13 indexes were built over twice the rows (39.8 s instead of
    ~20) and deleting 1.6 million rows took 14 s. If anything else refers to these tables (TRUNCATE
    refuses), nothing is truncated and None is returned."""
    if connection.vendor != "postgresql":
        return None
    quote = connection.ops.quote_name
    tenant = _tenant_models()
    links = [through for through in _link_tables()
             if any(field.is_relation and field.related_model in tenant for field in through._meta.concrete_fields)]
    counts: dict[str, int] = {}
    with connection.cursor() as cursor:
        for model in tenant:
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {quote(model._meta.db_table)} "
                           "WHERE company_id IS NULL OR company_id <> ALL(%s))", [company_ids])
            if cursor.fetchone()[0]:
                return None
        for model in [*tenant, *links]:
            cursor.execute(f"SELECT count(*) FROM {quote(model._meta.db_table)}")
            counts[model._meta.label] = cursor.fetchone()[0]
        try:
            with transaction.atomic():
                cursor.execute("TRUNCATE " + ", ".join(quote(model._meta.db_table) for model in [*tenant, *links]))
        except DatabaseError:  # a table outside refers to one of these
            return None
    return {label: count for label, count in counts.items() if count}


CHECK_REFERENCES_AFTER_FROM = 10_000


@contextmanager
def _references_checked_afterwards(model, rows: int):
    """Inside: ``model``'s table without the foreign keys that refer to it, which are added again, exactly
    as pg_get_constraintdef describes them, when the block ends; adding one checks every row referring to
    the table in one join (an IntegrityError when a row outside refers to a deleted one). For fewer than
    CHECK_REFERENCES_AFTER_FROM rows nothing is dropped. Deleting 550,000 lines otherwise checks ~23
    references per row, one index probe each (minutes); 24,000 invoices took 23 s."""
    if rows < CHECK_REFERENCES_AFTER_FROM:
        yield
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND confrelid = %s::regclass ORDER BY conrelid::regclass::text, conname",
            [model._meta.db_table],
        )
        references = cursor.fetchall()
        for table, name, _definition in references:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
    yield
    with connection.cursor() as cursor:
        for table, name, definition in references:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}")


def _link_tables() -> list:
    """The auto-created through tables of every many-to-many relation."""
    return [field.remote_field.through for model in apps.get_models() for field in model._meta.local_many_to_many
            if field.remote_field.through._meta.auto_created]


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

    fast = (_truncate_tenant_rows(company_ids) or _raw_delete_tenant_rows(company_ids)) if company_ids else None
    if fast is not None:
        add(fast)
    elif company_ids:
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


SUBSCRIPTION_COLUMNS = ["company_id", "account_id", "type", "number", "employee_name", "employee_email",
                        "plan_id", "status", "invoice_note", "block_reason", "created_at"]


def _subscription_rows(company_id: int, account_ids: list[int], count: int, rng: random.Random, domain: str,
                       plans: dict[str, list[int]], created_at: datetime) -> Iterator[tuple]:
    """``count`` subscriptions (tuples in SUBSCRIPTION_COLUMNS order) spread evenly over the accounts."""
    choice, randint, uniform = rng.choice, rng.randint, rng.random
    # rng.choices with weights, unrolled: the same distribution, a fifth of the cost per row.
    types = [type_ for type_, weight in zip(TYPES, TYPE_WEIGHTS, strict=True) for _ in range(weight)]
    statuses = [status for status, weight in zip(STATUSES, STATUS_WEIGHTS, strict=True) for _ in range(weight)]
    plans_by_type = {type_: plans[type_] for type_ in TYPES}
    accounts = len(account_ids)
    for index in range(count):
        first, last = choice(FIRST_NAMES), choice(LAST_NAMES)
        type_ = choice(types)
        if type_ == "mobile":
            number = f"+45 2{randint(0, 9_999_999):07d}"
        elif type_ == "telephony":
            number = f"+45 7{randint(0, 9_999_999):07d}"
        else:
            number = f"{'FIB' if type_ == 'internet' else 'ETH'}-{randint(0, 99_999_999):08d}"
        yield (
            company_id, account_ids[index % accounts], type_, number, f"{first} {last}",
            f"{first}.{last}.{index}@{domain}".lower().translate(_ASCII),
            choice(plans_by_type[type_]), choice(statuses),
            f"Afd. {randint(1, 40)}" if uniform() < 0.3 else "", "", created_at,
        )


def _subscriptions(company: Company, accounts: list[BillingAccount], count: int, rng: random.Random,
                   domain: str, plans: dict[str, list[int]]) -> Iterator[Subscription]:
    """The same as model instances (for the small companies' few rows)."""
    for row in _subscription_rows(company.pk, [account.pk for account in accounts], count, rng, domain, plans,
                                  datetime.now(UTC)):
        yield Subscription(**dict(zip(SUBSCRIPTION_COLUMNS, row, strict=True)))


@dataclass
class SeedResult:
    company: Company
    superuser: User
    restricted: User
    counts: dict[str, int]
    deleted: dict[str, int]
    timings: dict[str, float]  # phase -> seconds
    companies: list[Company] = field(default_factory=list)  # the big companies, one per size
    staff: User | None = None

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
    sizes: Sequence[int] | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> SeedResult:
    """Replace the bench data: one big company per size in ``sizes`` (default: one of ``subscriptions``),
    ``small_companies`` small ones and the bench logins."""
    sizes = list(sizes) if sizes else [subscriptions]
    if min(sizes) < 0 or accounts < 1 or small_companies < 0:
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

        cvr_numbers = _free_cvr_numbers(len(sizes) + small_companies)
        plans = catalogue_ensure()["plans"]  # the operator's catalogue is shared, never bench-only

        # The big companies (one per size): their accounts and subscriptions. The first one is "the"
        # big company (colleagues, audit log); the others are there to measure the same pages at
        # another size in the same run.
        phase("big_company")
        big_companies: list[Company] = []
        accounts_of: dict[int, list[BillingAccount]] = {}
        created_by_company: dict[int, int] = {}
        created_at = datetime.now(UTC)
        with _indexes_built_afterwards(Subscription, sum(sizes), log):
            for position, size in enumerate(sizes):
                big = Company.objects.create(
                    name=big_company_name(position), country="DK", registration_number=cvr_numbers[position],
                    street="Storkundevej 1", postal_code="8000", city="Aarhus C",
                )
                big_companies.append(big)
                accounts_of[big.pk] = BillingAccount.objects.bulk_create(
                    [
                        BillingAccount(
                            company=big, number=f"{BENCH_ACCOUNT_PREFIX}{'' if position == 0 else f'S{position}-'}"
                                                f"000-{index:04d}",
                            name=f"{ACCOUNT_LABELS[index % len(ACCOUNT_LABELS)]} {index:03d}",
                            email=f"faktura{index}@storkunde{position or ''}.example",
                        )
                        for index in range(1, accounts + 1)
                    ],
                    batch_size=BATCH_SIZE,
                )
                created_by_company[big.pk] = _copy_rows(Subscription, SUBSCRIPTION_COLUMNS, _subscription_rows(
                    big.pk, [account.pk for account in accounts_of[big.pk]], size, rng,
                    f"storkunde{position or ''}.example", plans, created_at,
                ))
        company = big_companies[0]
        big_accounts = accounts_of[company.pk]
        created = created_by_company[company.pk]
        sizes_label = " + ".join(f"{count:,}" for count in created_by_company.values())
        done("big_company", f"{len(big_companies)} big compan{'y' if len(big_companies) == 1 else 'ies'}: "
                            f"{accounts:,} accounts each and {sizes_label} subscriptions")

        # The small companies: a couple of accounts and a few subscriptions each, and one login each.
        phase("small_companies")
        small = Company.objects.bulk_create(
            [
                Company(
                    name=f"{BENCH_NAME_PREFIX}Småfirma {index:03d} ApS", country="DK",
                    registration_number=cvr_numbers[len(sizes) - 1 + index], street=f"Småvej {index}",
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
        staff = User(email=STAFF_EMAIL, full_name="Bench Driftsmedarbejder", mobile=STAFF_MOBILE, language="da",
                     password=password, is_staff=True, is_superuser=True)
        User.objects.bulk_create([superuser, restricted, staff, *owners], batch_size=BATCH_SIZE)
        superuser_permissions = sorted(ROLE_PRESETS[Role.SUPERUSER])
        memberships = [
            membership
            for big in big_companies
            for membership in (
                Membership(user=superuser, company=big, role=Role.SUPERUSER, permissions=superuser_permissions),
                Membership(user=restricted, company=big, role=Role.READ_ONLY,
                           permissions=sorted(ROLE_PRESETS[Role.READ_ONLY]), all_accounts=False),
            )
        ]
        memberships += [
            Membership(user=owner, company=small_company, role=Role.SUPERUSER, permissions=superuser_permissions)
            for owner, small_company in zip(owners, small, strict=True)
        ]
        Membership.objects.bulk_create(memberships, batch_size=BATCH_SIZE)
        for position, big in enumerate(big_companies):
            memberships[2 * position + 1].accounts.set(accounts_of[big.pk][:restricted_accounts])
        done("logins", f"{3 + len(owners)} logins")

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
        audit_columns = ["created_at", "actor_id", "actor_label", "company_id", "action", "target_user_id",
                         "target_label", "changes", "ip_address"]
        actors = [(user.pk, user.email) for user in colleague_users or [superuser]]
        empty = Jsonb({}) if Jsonb is not None and connection.vendor == "postgresql" else {}
        with _indexes_built_afterwards(AuditEvent, audit_events, log):
            logged = _copy_rows(AuditEvent, audit_columns, (
                (datetime.fromtimestamp(now - rng.random() * 2 * 365 * 86400, tz=UTC), actor[0], actor[1], company.pk,
                 rng.choice(actions), actor[0], actor[1], empty, "192.0.2.10")
                for actor in (rng.choice(actors) for _index in range(audit_events))
            ))
        done("colleagues", f"{len(colleague_users)} colleagues and {logged:,} audit events in the big company")

        # The orders app's share: orders with their timelines, and a chain (orders/bench.py).
        phase("orders")
        from orders.bench import bench_orders_seed

        order_counts = bench_orders_seed(company=company, accounts=big_accounts, superuser=superuser, rng=rng,
                                         count=orders, bulk_insert=_bulk_insert)
        done("orders", f"{order_counts['orders']:,} orders with {order_counts['order_events']:,} timeline events")

        # The Support area's share: support cases and fault reports in each big company (tickets/bench.py),
        # so the overview and the search are measured at every size.
        phase("tickets")
        from tickets.bench import bench_tickets_seed

        ticket_counts: dict[str, int] = {}
        for big in big_companies:
            for key, value in bench_tickets_seed(company=big, accounts=accounts_of[big.pk], superuser=superuser,
                                                 rng=rng).items():
                ticket_counts[key] = ticket_counts.get(key, 0) + value
        order_counts.update(ticket_counts)
        done("tickets", f"{order_counts['support_cases']:,} support cases, {order_counts['fault_reports']:,} fault "
                        f"reports in {len(big_companies)} big compan{'y' if len(big_companies) == 1 else 'ies'}")

        # The invoices app's share: 24 months of invoices, the largest with 50,000 lines (invoices/bench.py).
        phase("invoices")
        from invoices.bench import bench_invoices_seed

        invoice_counts = bench_invoices_seed(big_company=company, name_prefix=BENCH_NAME_PREFIX)
        done("invoices", f"{invoice_counts['invoices']:,} invoices with {invoice_counts['invoice_lines']:,} lines")

        # The groups app's share: 40 groups in 3 categories, two years of memberships, in the largest big
        # company (groups/bench.py; its scenarios run there).
        phase("groups")
        from groups.bench import bench_groups_seed
        from groups.models import GroupMembership

        largest = max(big_companies, key=lambda big: created_by_company[big.pk])
        with _indexes_built_afterwards(GroupMembership, created_by_company[largest.pk], log):
            group_counts = bench_groups_seed(company=largest, rng=rng, copy_rows=_copy_rows)
        done("groups", f"{group_counts['groups']} groups with {group_counts['group_memberships']:,} memberships in "
                       f"{largest.name}")

    counts = {
        "companies": len(big_companies) + len(small),
        "accounts": accounts * len(big_companies) + len(rows),
        "subscriptions": sum(created_by_company.values()) + len(small_subscriptions),
        "big_company_subscriptions": created,
        "big_companies_subscriptions": sum(created_by_company.values()),
        "logins": 3 + len(owners) + len(colleague_users),
        "audit_events": logged,
        **order_counts,
        **invoice_counts,
        **group_counts,
    }
    # Fresh statistics (and, outside a transaction, the visibility map for index-only scans), as a
    # long-running database would have them; otherwise the first plans are made on stale estimates.
    phase("analyze")
    from orders.models import Order, OrderEvent
    from tickets.models import FaultReport, SupportCase

    tables = [model._meta.db_table for model in (Company, BillingAccount, Subscription, Membership, User, AuditEvent,
                                                 Order, OrderEvent, SupportCase, FaultReport)] + ["groups_groupmembership"]
    with connection.cursor() as cursor:
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
        for table in tables:
            cursor.execute(f"{command} {connection.ops.quote_name(table)}")
    done("analyze", f"{command.lower()} of {len(tables)} tables")
    return SeedResult(company=company, superuser=superuser, restricted=restricted, counts=counts,
                      deleted=deleted, timings=timings, companies=big_companies, staff=staff)


@dataclass
class BenchCompany:
    company: Company
    subscriptions: int


@dataclass
class BenchDataStatus:
    company: Company
    subscriptions: int
    superuser: User
    restricted: User
    restricted_accounts: int
    companies: list[BenchCompany] = field(default_factory=list)  # every big company, smallest first
    staff: User | None = None

    @property
    def sizes(self) -> list[int]:
        return [entry.subscriptions for entry in self.companies]


def bench_data_status() -> BenchDataStatus | None:
    """The seeded bench data, or None when it is missing or incomplete."""
    company = big_company()
    superuser = User.objects.filter(email=SUPERUSER_EMAIL).first()
    restricted = User.objects.filter(email=RESTRICTED_EMAIL).first()
    if company is None or superuser is None or restricted is None:
        return None
    names = [big_company_name(position) for position in range(1, 20)]
    others = list(Company.objects.filter(name__in=names))
    others.sort(key=lambda other: names.index(other.name))
    companies = []
    restricted_accounts = 0
    for big in [company, *others]:
        memberships = {m.user_id: m for m in Membership.objects.filter(user__in=[superuser, restricted], company=big)}
        if superuser.pk not in memberships or restricted.pk not in memberships:
            return None
        scope = memberships[restricted.pk].accounts.count()
        if memberships[restricted.pk].all_accounts or not scope:
            return None
        if big is company:
            restricted_accounts = scope
        companies.append(BenchCompany(big, Subscription.objects.filter(company=big).count()))
    first = companies[0].subscriptions
    companies.sort(key=lambda entry: entry.subscriptions)
    return BenchDataStatus(company=company, subscriptions=first, superuser=superuser, restricted=restricted,
                           restricted_accounts=restricted_accounts, companies=companies,
                           staff=User.objects.filter(email=STAFF_EMAIL, is_staff=True).first())
