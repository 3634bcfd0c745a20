"""In-process benchmarks of the busiest pages against the seed_bench data (``make bench``).

Every request goes through the full middleware stack with Django's test ``Client`` (no network, no
web server): warm-up iterations first, then timed ones (time.perf_counter around each request) with
the SQL queries counted (CaptureQueriesContext). The reference scenario is a bare view with one
trivial query, served under a bench-only URLconf (selfcare.bench.urls); the "x ref" column is each
scenario's median over the reference median.

Results go to the terminal and, with machine information, to bench-results/bench.json.
"""

import logging
import os
import time

from django.conf import settings
from django.contrib.auth.hashers import get_hasher
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY

from accounts.middleware import SESSION_COMPANY_KEY
from accounts.models import SMSDevice
from accounts.services import sms_device_for
from groups.bench import SCENARIOS as GROUP_SCENARIOS
from invoices.bench import INVOICE_SCENARIOS
from selfcare.bench import data as bench_data
from selfcare.bench import measure
from selfcare.bench.urls import REFERENCE_PATH

SCENARIOS = [
    "reference", "reference_signed_in", "overview_superuser", "overview_restricted", "login_flow",
    "users_superuser", "audit_superuser", "audit_filtered", "audit_last_page",
    "subscriptions_superuser", "subscriptions_restricted",
    "subscriptions_name_fragment", "subscriptions_number_fragment", "subscriptions_no_match",
    "subscriptions_sort_email", "subscriptions_filtered", "subscriptions_last_page", "subscriptions_htmx",
    "employee_page", "subscriptions_export_csv", "subscriptions_export_xlsx",
    "orders_employee_search", "orders_open", "orders_open_filtered", "order_approval_page",
    "global_search_fragment", "global_search_number", "global_search_page",
    *INVOICE_SCENARIOS,
    *GROUP_SCENARIOS,
]


# Workbooks are exported (and measured) up to this many lines; the target is for 50,000.
XLSX_UP_TO = 100_000

# The columns of the subscription list's export, as the database holds them, in the list's order.
COPY_SQL = """
    SELECT s.employee_name, s.type, s.employee_email, s.number, COALESCE(p.name, ''), a.number, s.status, s.id
    FROM subscriptions_subscription s
    JOIN subscriptions_billingaccount a ON a.id = s.account_id
    LEFT JOIN subscriptions_priceplan p ON p.id = s.plan_id
    WHERE s.company_id = {company} ORDER BY s.employee_name, s.number, s.id
"""


def verified_client(user, company=None) -> Client:
    """Signed in with password and a verified second factor, as after the real sign-in; in ``company``
    when given (as after choosing it in the company switch)."""
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = sms_device_for(user).persistent_id
    if company is not None:
        session[SESSION_COMPANY_KEY] = company.pk
    session.save()
    return client


def psql_copy(company):
    """An iteration: ``psql -c "\\copy (the export's columns) TO STDOUT CSV"`` of the company's lines, run
    as a subprocess against the same database (the output counted, not kept); psycopg's COPY TO in this
    process where there is no psql."""
    import shutil
    import subprocess

    from django.db import connection

    sql = " ".join(COPY_SQL.format(company=int(company.pk)).split())
    db = settings.DATABASES["default"]
    psql = shutil.which("psql")
    env = {**os.environ, "PGHOST": db.get("HOST") or "", "PGPORT": str(db.get("PORT") or ""),
           "PGUSER": db.get("USER") or "", "PGPASSWORD": db.get("PASSWORD") or "", "PGDATABASE": db["NAME"]}

    def iteration(probe):
        start = time.perf_counter()
        if psql:
            done = subprocess.run([psql, "-X", "-q", "-c", f"\\copy ({sql}) TO STDOUT WITH (FORMAT csv, HEADER)"],
                                  env=env, capture_output=True, check=False)
            if done.returncode:
                raise measure.BenchError(f"psql \\copy failed: {done.stderr.decode()[:200]}")
            probe.bytes = len(done.stdout)
        else:
            with connection.cursor() as cursor, \
                    cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER)") as copy:
                probe.bytes = sum(len(block) for block in copy)
        probe.seconds += time.perf_counter() - start
        probe.queries += 1
        probe.requests += 1
    return iteration


class Command(BaseCommand):
    help = "Benchmark the overview, sign-in and subscription list against the seed_bench data."

    def add_arguments(self, parser):
        parser.add_argument("--iterations", type=int, default=50, help="timed iterations per scenario (default 50)")
        parser.add_argument("--warmup", type=int, default=5, help="untimed iterations first (default 5)")
        parser.add_argument("--login-iterations", type=int, default=None,
                            help="timed iterations of the login flow (default: --iterations); each one hashes "
                                 "the password with the real hasher")
        parser.add_argument("--subscriptions", type=int, default=None,
                            help="subscriptions of the big company; seeds again when the data has another "
                                 f"count (default: use what is there, or seed {bench_data.DEFAULT_SUBSCRIPTIONS:,})")
        parser.add_argument("--sizes", default=None,
                            help="sizes of the big companies, e.g. 50000,500000 (make bench): the list pages and "
                                 "exports are measured in each, side by side; seeds again when the data differs")
        parser.add_argument("--admin-iterations", type=int, default=None,
                            help="timed iterations of the back office's pages beside ours (default: --iterations)")
        parser.add_argument("--reseed", action="store_true", help="run seed_bench first in any case")
        parser.add_argument("--scenario", action="append", choices=SCENARIOS, dest="scenarios",
                            help="run only this scenario (repeatable; the reference always runs)")
        parser.add_argument("--output", default=os.path.join(settings.BASE_DIR, "bench-results", "bench.json"),
                            help="where to write the JSON results (default bench-results/bench.json)")

    def handle(self, *args, **options):
        if options["iterations"] < 1 or options["warmup"] < 0:
            raise CommandError("--iterations must be at least 1 and --warmup at least 0")
        status = self._ensure_data(options)
        hasher = get_hasher()
        hasher_label = hasher.algorithm
        if hasattr(hasher, "iterations"):
            hasher_label += f", {hasher.iterations:,} iterations"
        settings_module = settings.SETTINGS_MODULE

        sizes = " and ".join(f"{entry.company.name} ({entry.subscriptions:,})" for entry in status.companies)
        self.stdout.write(
            f"Benchmark: {sizes or status.company.name} subscriptions; settings {settings_module} "
            f"(DEBUG={settings.DEBUG}); {options['iterations']} iterations after {options['warmup']} warm-up."
        )
        self.stdout.write(
            f"The login flow checks the password with the real hasher of these settings ({hasher_label}); "
            f"that hash dominates its time."
        )
        if settings.DEBUG:
            self.stdout.write("DEBUG is on (query logging, debug templates); DJANGO_DEBUG=0 measures without it.")
        load = measure.load_average()
        if load is not None and load[0] > (os.cpu_count() or 1) / 2:
            self.stdout.write(self.style.WARNING(
                f"The machine is busy (load average {load[0]:.1f} on {os.cpu_count()} CPUs): expect noisy figures."
            ))

        hosts = [*settings.ALLOWED_HOSTS, "testserver"]
        started_at = measure.utc_now()
        # "user … signed in" for every login flow would bury the output; warnings still show.
        security_log = logging.getLogger("selfcare.security")
        log_level = security_log.level
        security_log.setLevel(max(log_level, logging.WARNING))
        try:
            with override_settings(ALLOWED_HOSTS=hosts, ROOT_URLCONF="selfcare.bench.urls"):
                results = self._run(status, options)
        finally:
            security_log.setLevel(log_level)

        reference = results[0]
        self.stdout.write("")
        self.stdout.write(measure.format_table(results, reference))
        self.stdout.write(
            "Times per iteration, around the test Client calls (whole handler and middleware, no network); queries\n"
            "and requests per iteration; x ref = median / reference median. The login flow is GET /login/,\n"
            "POST e-mail + password, POST the SMS code (the code is read from the database in between, untimed).\n"
            "Beside each list page: the back office's Subscription changelist (staff login, same company and\n"
            "search); beside each export: psql \\copy of the same columns and order. MB = the process's peak\n"
            "resident memory growth during the export (VmHWM after resetting it through /proc/self/clear_refs)."
        )

        payload = {
            "started_at": started_at,
            "finished_at": measure.utc_now(),
            "machine": measure.machine_info(),
            "settings": {"module": settings_module, "debug": settings.DEBUG, "password_hasher": hasher_label,
                         "session_engine": settings.SESSION_ENGINE},
            "data": {"company": status.company.name, "subscriptions": status.subscriptions,
                     "sizes": [{"company": entry.company.name, "subscriptions": entry.subscriptions}
                               for entry in status.companies],
                     "restricted_accounts": status.restricted_accounts,
                     "seeded_in_this_run_seconds": self.seed_seconds},
            "options": {"iterations": options["iterations"], "warmup": options["warmup"],
                        "login_iterations": options["login_iterations"] or options["iterations"]},
            "reference_median_ms": round(reference.median_ms, 3),
            "scenarios": [result.as_dict(reference.median_ms) for result in results],
        }
        measure.write_json(options["output"], payload)
        self.stdout.write(self.style.SUCCESS(f"Results written to {options['output']}"))

    # ----------------------------------------------------------------------------------------------

    def _ensure_data(self, options):
        self.seed_seconds = None
        status = bench_data.bench_data_status()
        wanted = None
        if options["sizes"]:
            try:
                wanted = [int(part.replace("_", "")) for part in options["sizes"].split(",") if part.strip()]
            except ValueError:
                raise CommandError(f"--sizes: comma-separated numbers, please, not {options['sizes']!r}") from None
        elif options["subscriptions"] is not None:
            wanted = [options["subscriptions"]]
        differs = wanted is not None and (status is None or sorted(status.sizes) != sorted(wanted))
        if options["reseed"] or status is None or differs or status.staff is None:
            reason = "as asked" if options["reseed"] else ("no bench data yet" if status is None else
                                                           f"it has {' + '.join(f'{n:,}' for n in status.sizes)} "
                                                           "subscriptions" if differs else "no staff login yet")
            self.stdout.write(f"Running seed_bench ({reason}) ...")
            started = time.perf_counter()
            call_command("seed_bench", sizes=wanted or [bench_data.DEFAULT_SUBSCRIPTIONS], stdout=self.stdout)
            self.seed_seconds = round(time.perf_counter() - started, 2)
            status = bench_data.bench_data_status()
            if status is None:
                raise CommandError("seed_bench did not produce the bench data")
        return status

    def _run(self, status, options):
        from axes.utils import reset as axes_reset

        iterations, warmup = options["iterations"], options["warmup"]
        login_iterations = options["login_iterations"] or iterations
        superuser = status.superuser
        overview = reverse("overview")
        login, verify = reverse("accounts:login"), reverse("accounts:verify")

        anonymous = Client()
        superuser_client = verified_client(superuser, company=status.company)
        superuser_device = sms_device_for(superuser)

        def get(client, url, *, contains=None, hx=False):
            extra = {"HTTP_HX_REQUEST": "true"} if hx else {}

            def iteration(probe):
                response = probe.request(client, "get", url, **extra)
                if contains is not None and contains not in response.content:
                    raise measure.BenchError(f"GET {url}: the page does not show {contains!r}")
            return iteration

        def login_flow(probe):
            client = Client()
            probe.request(client, "get", login)
            response = probe.request(client, "post", login,
                                     {"username": superuser.email, "password": bench_data.BENCH_PASSWORD}, expect=302)
            next_url = response["Location"]
            if not next_url.startswith(verify):
                raise measure.BenchError(f"POST {login}: sent to {next_url}, not to the code step")
            # Harness work, not timed or counted: the code the SMS would carry.
            token = SMSDevice.objects.filter(pk=superuser_device.pk).values_list("token", flat=True).get()
            if not token:
                raise measure.BenchError("no SMS code was generated by the password step")
            response = probe.request(client, "post", next_url, {"token": token, "method": "sms"}, expect=302)
            if response["Location"] != overview:
                raise measure.BenchError(f"POST {verify}: sent to {response['Location']}, not to {overview}")

        scenarios = [
            measure.Scenario("reference", "reference: bare view, SELECT 1 (anonymous)",
                             get(anonymous, REFERENCE_PATH), iterations, warmup),
            measure.Scenario("reference_signed_in", "reference: bare view, SELECT 1 (signed in)",
                             get(superuser_client, REFERENCE_PATH), iterations, warmup),
            measure.Scenario("login_flow", "login flow: password + SMS code", login_flow, login_iterations,
                             min(warmup, 2)),
            measure.Scenario("users_superuser", "users page p.1, Superuser",
                             get(superuser_client, reverse("accounts:users")), iterations, warmup),
            measure.Scenario("audit_superuser", "audit log p.1, Superuser",
                             get(superuser_client, reverse("accounts:audit_log")), iterations, warmup),
            measure.Scenario("audit_filtered", "audit log filtered (what + who)",
                             get(superuser_client,
                                 reverse("accounts:audit_log") + "?action=access_changed&q=colleague-00"),
                             iterations, warmup),
            measure.Scenario("audit_last_page", "audit log, last page",
                             get(superuser_client, reverse("accounts:audit_log") + "?last=1"), iterations, warmup),
        ]
        from orders.models import Order, OrderApproval

        waiting = (OrderApproval.objects.filter(company=status.company, approver=superuser, status="pending")
                   .values_list("order_id", flat=True).first())
        waiting = waiting or Order.objects.filter(company=status.company).values_list("pk", flat=True).first()
        scenarios += [
            measure.Scenario("orders_employee_search", "order form: employee suggestions, 3-letter fragment",
                             get(superuser_client, reverse("orders:employee_suggestions") + "?employee_search=ans",
                                 hx=True), iterations, warmup),
            measure.Scenario("orders_open", "open orders p.1, Superuser",
                             get(superuser_client, reverse("orders:index")), iterations, warmup),
            measure.Scenario("orders_open_filtered", "open orders, filtered by status and area",
                             get(superuser_client, reverse("orders:index") + "?status=in_progress&area=mobile"),
                             iterations, warmup),
        ]
        if waiting is not None:  # bench data seeded before the orders app has none: seed_bench --reseed
            scenarios.append(measure.Scenario(
                "order_approval_page", "an order awaiting the Superuser's approval",
                get(superuser_client, reverse("orders:detail", args=[waiting])), iterations, warmup))
        else:
            self.stdout.write("No orders in the bench data (seeded before the orders app): the approval page is "
                              "not measured; `manage.py bench --reseed` adds them.")
        companies = status.companies or [bench_data.BenchCompany(status.company, status.subscriptions)]
        # The overview and the global search in the top bar (issue 13) in each big company.
        for entry in companies:
            scenarios += self._overview_scenarios(entry, status, get, options)
        # The invoices app's scenarios (invoices/bench.py): list, page, Specified of the largest, billing run.
        from invoices.bench import invoice_scenarios

        # They run in the first big company (its first account has the largest invoice); the billing run
        # covers every bench company.
        for scenario in invoice_scenarios(status=status, get=get, options=options, client=superuser_client,
                                          name_prefix=bench_data.BENCH_NAME_PREFIX):
            if scenario.size is None:
                scenario.size = measure.ALL_COMPANIES if scenario.key == "billing_run" else status.subscriptions
            scenarios.append(scenario)
        # The groups' scenarios (groups/bench.py): filters and cost report in each big company; the
        # 50,000-row upload in the largest, and the monthly job over all bench companies.
        from groups.bench import group_scenarios

        largest = max(companies, key=lambda entry: entry.subscriptions)
        for entry in companies:
            scenarios += group_scenarios(company=entry.company, size=entry.subscriptions, superuser=superuser,
                                         get=get, options=options,
                                         client=verified_client(superuser, company=entry.company),
                                         heavy=entry is largest)
        for entry in companies:
            scenarios += self._list_scenarios(entry, status, get, options)
        wanted = set(options["scenarios"] or SCENARIOS) | {"reference"}
        scenarios = [scenario for scenario in scenarios if scenario.key.split("@")[0] in wanted
                     or (scenario.beside or "").split("@")[0] in wanted]

        results = []
        started_at = timezone.now()
        try:
            for scenario in scenarios:
                if scenario.key == "login_flow":
                    axes_reset(username=superuser.email)  # earlier failed runs must not lock the login out
                self.stdout.write(f"  {scenario.label} ...", ending="")
                self.stdout.flush()
                started = time.perf_counter()
                try:
                    result = measure.run_scenario(scenario)
                except measure.BenchError as error:
                    raise CommandError(
                        f"{scenario.label}: {error}. Is the bench data intact? Try `manage.py bench --reseed`."
                    ) from None
                self.stdout.write(f" {time.perf_counter() - started:.1f} s")
                results.append(result)
        finally:
            self._forget_sms(started_at)
        return results

    def _overview_scenarios(self, entry, status, get, options) -> list:
        """The overview (Superuser and restricted) and the global search's suggestions and results page in
        one big company. Nothing of the overview is cached between visits, so every visit is a first one."""
        from urllib.parse import quote

        from subscriptions.models import Subscription

        iterations, warmup = options["iterations"], options["warmup"]
        company, size = entry.company, entry.subscriptions
        client = verified_client(status.superuser, company=company)
        restricted_client = verified_client(status.restricted, company=company)
        overview, search = reverse("overview"), reverse("search_suggestions")
        name = company.name.encode()
        whole_number = (Subscription.objects.filter(company=company, type="mobile")
                        .order_by("pk").values_list("number", flat=True).first() or "+45 20000000")

        def scenario(key, label, iteration):
            return measure.Scenario(f"{key}@{size}", label, iteration, iterations, warmup, size=size)

        return [
            scenario("overview_superuser", "overview, Superuser (all accounts)",
                     get(client, overview, contains=name)),
            scenario("overview_restricted", f"overview, restricted ({status.restricted_accounts} accounts)",
                     get(restricted_client, overview, contains=name)),
            scenario("global_search_fragment", "global search: suggestions, 3-letter fragment",
                     get(client, search + "?q=ans", hx=True, contains=b'role="option"')),
            scenario("global_search_number", "global search: suggestions, a whole number",
                     get(client, search + "?q=" + quote(whole_number), hx=True, contains=b'role="option"')),
            scenario("global_search_page", "global search: results page (no JS), 3-letter fragment",
                     get(client, reverse("search") + "?q=ans", contains=b"search-results")),
        ]

    def _list_scenarios(self, entry, status, get, options) -> list:
        """The subscription list, the employee page and the exports in one big company, each with the
        back office's changelist with the same search (or psql's \\copy of the same columns) beside it."""
        from subscriptions.models import Subscription

        iterations, warmup = options["iterations"], options["warmup"]
        admin_iterations = options["admin_iterations"] or iterations
        company, size = entry.company, entry.subscriptions
        client = verified_client(status.superuser, company=company)
        restricted_client = verified_client(status.restricted, company=company)
        staff_client = verified_client(status.staff) if status.staff is not None else None
        subscriptions = reverse("subscriptions:list")
        admin = reverse("admin:subscriptions_subscription_changelist") + f"?company__id__exact={company.pk}"
        lines = Subscription.objects.filter(company=company)
        first_line = lines.order_by("employee_name", "number", "pk").values_list("pk", flat=True).first()
        plan_id = lines.values_list("plan_id", flat=True).first()
        admin_last = max(0, (size - 1) // 100)  # the changelist shows 100 a page, counted from 0

        def scenario(key, label, url, admin_url, admin_label="back office, same search", hx=False):
            items = [measure.Scenario(f"{key}@{size}", label, get(client, url, hx=hx), iterations, warmup, size=size)]
            if admin_url is not None and staff_client is not None:
                items.append(measure.Scenario(f"admin_{key}@{size}", admin_label, get(staff_client, admin_url),
                                              admin_iterations, min(warmup, 2), size=size, beside=f"{key}@{size}"))
            return items

        items = [
            *scenario("subscriptions_superuser", "subscription list p.1, Superuser", subscriptions, admin,
                      "back office, p.1"),
            measure.Scenario(f"subscriptions_restricted@{size}", "subscription list p.1, restricted",
                             get(restricted_client, subscriptions), iterations, warmup, size=size),
            *scenario("subscriptions_name_fragment", "subscription list, 3-letter name fragment",
                      subscriptions + "?q=ans", admin + "&q=ans"),
            *scenario("subscriptions_number_fragment", "subscription list, number fragment",
                      subscriptions + "?q=2345", admin + "&q=2345"),
            *scenario("subscriptions_no_match", "subscription list, a term that matches nothing",
                      subscriptions + "?q=zzqqxx", admin + "&q=zzqqxx"),
            # The changelist cannot sort by e-mail (not one of its columns): by number, the nearest.
            *scenario("subscriptions_sort_email", "subscription list sorted by e-mail",
                      subscriptions + "?sort=email", admin + "&o=2", "back office, by number"),
            # Its filters are type and status: status alone.
            *scenario("subscriptions_filtered", "subscription list filtered by plan and status",
                      subscriptions + f"?plan={plan_id}&status=active", admin + "&status__exact=active",
                      "back office, by status"),
            *scenario("subscriptions_last_page", "subscription list, last page",
                      subscriptions + "?last=1", admin + f"&p={admin_last}", "back office, last page"),
            *scenario("subscriptions_htmx", "subscription list, htmx fragment (search)",
                      subscriptions + "?q=ans", admin + "&q=ans", hx=True),
            *scenario("employee_page", "employee page", reverse("subscriptions:detail", args=[first_line]),
                      reverse("admin:subscriptions_subscription_change", args=[first_line]),
                      "back office, change page"),
        ]
        export_iterations = max(1, min(iterations // 10, 5 if size <= XLSX_UP_TO else 2))
        items += [
            measure.Scenario(f"subscriptions_export_csv@{size}", f"export CSV, all {size:,} lines",
                             get(client, reverse("subscriptions:list_export")), export_iterations,
                             1 if size <= XLSX_UP_TO else 0, size=size, memory=True),
            measure.Scenario(f"psql_copy_csv@{size}", "psql \\copy, same columns", psql_copy(company),
                             export_iterations, 1, size=size, beside=f"subscriptions_export_csv@{size}"),
        ]
        # The workbook's target is for 50,000 lines; a bigger one would take minutes and prove nothing new.
        if size <= XLSX_UP_TO:
            xlsx_iterations = max(1, min(iterations // 25, 3))
            items += [
                measure.Scenario(f"subscriptions_export_xlsx@{size}", f"export .xlsx, all {size:,} lines",
                                 get(client, reverse("subscriptions:list_export_xlsx")), xlsx_iterations, 0,
                                 size=size, memory=True),
                measure.Scenario(f"psql_copy_xlsx@{size}", "psql \\copy, same columns", psql_copy(company),
                                 xlsx_iterations, 0, size=size, beside=f"subscriptions_export_xlsx@{size}"),
            ]
        # Bulk actions: selfcare/bench/bulk.py (another branch) adds its scenarios per size here.
        return items

    def _forget_sms(self, since):
        """The login flow queued an SMS per iteration: drop those outbox rows again (a worker that
        still gets their task finds nothing to send)."""
        from selfcare.outbox.models import OutboxMessage

        OutboxMessage.objects.filter(recipient=bench_data.SUPERUSER_MOBILE, created_at__gte=since).delete()
