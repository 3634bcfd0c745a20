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

from accounts.models import SMSDevice
from accounts.services import sms_device_for
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
]


def verified_client(user) -> Client:
    """Signed in with password and a verified second factor, as after the real sign-in."""
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = sms_device_for(user).persistent_id
    session.save()
    return client


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

        self.stdout.write(
            f"Benchmark: {status.company.name}, {status.subscriptions:,} subscriptions; settings {settings_module} "
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
            "POST e-mail + password, POST the SMS code (the code is read from the database in between, untimed)."
        )

        payload = {
            "started_at": started_at,
            "finished_at": measure.utc_now(),
            "machine": measure.machine_info(),
            "settings": {"module": settings_module, "debug": settings.DEBUG, "password_hasher": hasher_label,
                         "session_engine": settings.SESSION_ENGINE},
            "data": {"company": status.company.name, "subscriptions": status.subscriptions,
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
        wanted = options["subscriptions"]
        if options["reseed"] or status is None or (wanted is not None and status.subscriptions != wanted):
            reason = "as asked" if options["reseed"] else ("no bench data yet" if status is None else
                                                           f"it has {status.subscriptions:,} subscriptions")
            self.stdout.write(f"Running seed_bench ({reason}) ...")
            started = time.perf_counter()
            call_command("seed_bench", subscriptions=wanted or bench_data.DEFAULT_SUBSCRIPTIONS, stdout=self.stdout)
            self.seed_seconds = round(time.perf_counter() - started, 2)
            status = bench_data.bench_data_status()
            if status is None:
                raise CommandError("seed_bench did not produce the bench data")
        return status

    def _run(self, status, options):
        from axes.utils import reset as axes_reset

        iterations, warmup = options["iterations"], options["warmup"]
        login_iterations = options["login_iterations"] or iterations
        superuser, restricted = status.superuser, status.restricted
        company_name = status.company.name.encode()
        overview, subscriptions = reverse("overview"), reverse("subscriptions:list")
        login, verify = reverse("accounts:login"), reverse("accounts:verify")

        anonymous = Client()
        superuser_client = verified_client(superuser)
        restricted_client = verified_client(restricted)
        superuser_device = sms_device_for(superuser)

        from subscriptions.models import Subscription

        first_line = Subscription.objects.filter(company=status.company).order_by("employee_name", "pk").values_list(
            "pk", flat=True).first()
        plan_id = Subscription.objects.filter(company=status.company).values_list("plan_id", flat=True).first()

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
            measure.Scenario("overview_superuser", "overview, Superuser (all accounts)",
                           get(superuser_client, overview, contains=company_name), iterations, warmup),
            measure.Scenario("overview_restricted", f"overview, restricted ({status.restricted_accounts} accounts)",
                           get(restricted_client, overview, contains=company_name), iterations, warmup),
            measure.Scenario("login_flow", "login flow: password + SMS code", login_flow, login_iterations,
                           min(warmup, 2)),
            measure.Scenario("subscriptions_superuser", "subscription list p.1, Superuser",
                           get(superuser_client, subscriptions), iterations, warmup),
            measure.Scenario("subscriptions_restricted", "subscription list p.1, restricted",
                           get(restricted_client, subscriptions), iterations, warmup),
            measure.Scenario("subscriptions_name_fragment", "subscription list, 3-letter name fragment",
                           get(superuser_client, subscriptions + "?q=ans"), iterations, warmup),
            measure.Scenario("subscriptions_number_fragment", "subscription list, number fragment",
                           get(superuser_client, subscriptions + "?q=2345"), iterations, warmup),
            measure.Scenario("subscriptions_no_match", "subscription list, a term that matches nothing",
                           get(superuser_client, subscriptions + "?q=zzqqxx"), iterations, warmup),
            measure.Scenario("subscriptions_sort_email", "subscription list sorted by e-mail",
                           get(superuser_client, subscriptions + "?sort=email"), iterations, warmup),
            measure.Scenario("subscriptions_filtered", "subscription list filtered by plan and status",
                           get(superuser_client, subscriptions + f"?plan={plan_id}&status=active"), iterations, warmup),
            measure.Scenario("subscriptions_last_page", "subscription list, last page",
                           get(superuser_client, subscriptions + "?last=1"), iterations, warmup),
            measure.Scenario("subscriptions_htmx", "subscription list, htmx fragment (search)",
                           get(superuser_client, subscriptions + "?q=ans", hx=True), iterations, warmup),
            measure.Scenario("employee_page", "employee page",
                           get(superuser_client, reverse("subscriptions:detail", args=[first_line])), iterations,
                           warmup),
            measure.Scenario("subscriptions_export_csv", f"export CSV, all {status.subscriptions:,} lines",
                           get(superuser_client, reverse("subscriptions:list_export")),
                           max(1, iterations // 10), 1),
            measure.Scenario("subscriptions_export_xlsx", f"export .xlsx, all {status.subscriptions:,} lines",
                           get(superuser_client, reverse("subscriptions:list_export_xlsx")),
                           max(1, iterations // 25), 0),
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
            measure.Scenario("order_approval_page", "an order awaiting the Superuser's approval",
                             get(superuser_client, reverse("orders:detail", args=[waiting])), iterations, warmup),
        ]
        wanted = set(options["scenarios"] or SCENARIOS) | {"reference"}
        scenarios = [scenario for scenario in scenarios if scenario.key in wanted]

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

    def _forget_sms(self, since):
        """The login flow queued an SMS per iteration: drop those outbox rows again (a worker that
        still gets their task finds nothing to send)."""
        from selfcare.outbox.models import OutboxMessage

        OutboxMessage.objects.filter(recipient=bench_data.SUPERUSER_MOBILE, created_at__gte=since).delete()
