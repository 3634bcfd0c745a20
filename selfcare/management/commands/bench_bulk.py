"""``manage.py bench_bulk --lines 10000``: a bulk block through the provisioning simulator, timed
(``selfcare.bench.bulk``). Exits with 1 when it takes longer than the target (60 s)."""

from django.core.management.base import BaseCommand, CommandError

from selfcare.bench.bulk import TARGET_SECONDS, bench_bulk


class Command(BaseCommand):
    help = "Time a bulk block of N lines through the provisioning simulator, with the progress seen."

    def add_arguments(self, parser):
        parser.add_argument("--lines", type=int, default=10_000)
        parser.add_argument("--failing", type=int, default=10,
                            help="How many of the lines the simulator refuses (numbers ending in its suffix).")
        parser.add_argument("--external-worker", action="store_true",
                            help="Use the Celery worker already running instead of starting one for the run.")
        parser.add_argument("--timeout", type=float, default=600)

    def handle(self, *args, lines, failing, external_worker, timeout, **options):
        result = bench_bulk(lines=lines, failing=failing, external_worker=external_worker, timeout=timeout,
                            report=self.stdout.write)
        self.stdout.write("Progress seen (seconds: lines done): " + ", ".join(
            f"{seconds:g}: {processed}" for seconds, processed in result.progress))
        self.stdout.write(f"Change requests: {result.outcomes}")
        self.stdout.write(
            f"Bulk block of {result.lines} lines: {result.seconds} s (target {TARGET_SECONDS:g} s), "
            f"job {result.status}, "
            f"{result.succeeded} succeeded, {result.failed} failed, simulator delay {result.delay:g} s"
        )
        if not result.within_target:
            raise CommandError(f"slower than the target of {TARGET_SECONDS:g} s, or not finished")
