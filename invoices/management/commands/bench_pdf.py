from django.core.management.base import BaseCommand, CommandError

from invoices.bench_pdf import bench_download, bench_rendering


class Command(BaseCommand):
    help = ("PDF rendering of a 100- and a 10,000-line specification, chunked beside one naive WeasyPrint table "
            "(time, peak memory, same text), and the download of a stored PDF.")

    def add_arguments(self, parser):
        parser.add_argument("--sizes", default="100,10000", help="specification lines, comma-separated")
        parser.add_argument("--no-download", action="store_true", help="skip the download scenario (no data)")

    def handle(self, *args, sizes, no_download, **options):
        results = bench_rendering(tuple(int(size) for size in sizes.split(",")), write=self.stdout.write)
        if not no_download:
            bench_download(write=self.stdout.write)
        if not all(same for _c, _n, same in results):
            raise CommandError("the chunked PDF's text differs from the naive table's")
