"""The large data set the benchmarks use (``manage.py bench`` runs this when the data is missing).

One big Danish company with N subscriptions over 250 billing accounts, 200 small companies with a
couple of accounts and a few subscriptions each, and the bench logins. Bench rows are recognisable
("BENCH …" companies, "BENCH-…" account numbers, "…@bench.example" logins) and are deleted and
written again on every run, so running it twice never fails or duplicates anything.
"""

import argparse
import time

from django.contrib.auth.hashers import get_hasher
from django.core.management.base import BaseCommand, CommandError

from selfcare.bench import data as bench


def _sizes(value: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in value.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"comma-separated numbers of subscriptions, please, not {value!r}") from None
    if not sizes or min(sizes) < 0:
        raise argparse.ArgumentTypeError("at least one size, none negative")
    return sizes


class Command(BaseCommand):
    help = "Replace the benchmark data set (bulk inserts) and print the bench logins."

    def add_arguments(self, parser):
        parser.add_argument("--subscriptions", type=int, default=bench.DEFAULT_SUBSCRIPTIONS,
                            help="subscriptions of the big company (default %(default)s)")
        parser.add_argument("--sizes", type=_sizes, default=None,
                            help="one big company per size, e.g. 50000,500000 (the same pages measured at "
                                 "both sizes in one bench run); the first is the big company of --subscriptions")
        parser.add_argument("--accounts", type=int, default=bench.DEFAULT_ACCOUNTS,
                            help="billing accounts of the big company (default %(default)s)")
        parser.add_argument("--small-companies", type=int, default=bench.DEFAULT_SMALL_COMPANIES,
                            help="small companies besides the big one (default %(default)s)")
        parser.add_argument("--restricted-accounts", type=int, default=bench.DEFAULT_RESTRICTED_ACCOUNTS,
                            help="accounts the restricted login may see (default %(default)s)")
        parser.add_argument("--colleagues", type=int, default=bench.DEFAULT_COLLEAGUES,
                            help="more logins of the big company, for the users page (default %(default)s)")
        parser.add_argument("--audit-events", type=int, default=bench.DEFAULT_AUDIT_EVENTS,
                            help="audit events of the big company, for the log page (default %(default)s)")
        parser.add_argument("--orders", type=int, default=None,
                            help="orders of the big company, five timeline events each (default 5,000)")
        parser.add_argument("--seed", type=int, default=bench.DEFAULT_SEED, help="random seed (default %(default)s)")
        parser.add_argument("--delete", action="store_true", help="only delete the bench data, create nothing")

    def handle(self, *args, **options):
        if options["delete"]:
            try:
                deleted = bench.bench_data_delete()
            except RuntimeError as error:
                raise CommandError(str(error)) from None
            self.stdout.write(self.style.SUCCESS(f"Deleted the bench data ({sum(deleted.values()):,} rows)."))
            return

        sizes = options["sizes"] or [options["subscriptions"]]
        self.stdout.write(f"Seeding the bench data: {' + '.join(f'{size:,}' for size in sizes)} subscriptions ...")
        started = time.perf_counter()
        try:
            result = bench.bench_data_seed(
                subscriptions=options["subscriptions"], accounts=options["accounts"],
                small_companies=options["small_companies"], restricted_accounts=options["restricted_accounts"],
                colleagues=options["colleagues"], audit_events=options["audit_events"],
                orders=options["orders"], seed=options["seed"], sizes=sizes, log=self.stdout.write,
            )
        except (ValueError, RuntimeError) as error:
            raise CommandError(str(error)) from None
        elapsed = time.perf_counter() - started
        big = result.timings["big_company"]
        counts = result.counts
        rate = counts["big_companies_subscriptions"] / big if big else 0
        self.stdout.write(self.style.SUCCESS(
            f"Bench data ready in {elapsed:.1f} s: {counts['companies']:,} companies, {counts['accounts']:,} "
            f"accounts, {counts['subscriptions']:,} subscriptions, {counts['logins']:,} logins, "
            f"{counts['audit_events']:,} audit events. "
            f"{'The big company' + chr(39) + 's' if len(sizes) == 1 else 'The big companies' + chr(39)} "
            f"{counts['big_companies_subscriptions']:,} subscriptions took {big:.1f} s "
            f"({rate:,.0f} rows/s)."
        ))
        hasher = get_hasher()
        for company, size in zip(result.companies, sizes, strict=True):
            self.stdout.write(f"Big company: {company.name} (CVR {company.registration_number}), {size:,} subscriptions")
        self.stdout.write(f"Bench logins (password: {bench.BENCH_PASSWORD}, hashed with {hasher.algorithm}):")
        self.stdout.write(f"  {bench.SUPERUSER_EMAIL:<28} Superuser, all accounts, mobile {bench.SUPERUSER_MOBILE}")
        self.stdout.write(f"  {bench.RESTRICTED_EMAIL:<28} Read-only, {options['restricted_accounts']} accounts, "
                          f"mobile {bench.RESTRICTED_MOBILE}")
        self.stdout.write(f"  {bench.STAFF_EMAIL:<28} Back office (staff), mobile {bench.STAFF_MOBILE}")
