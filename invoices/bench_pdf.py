"""The PDF benchmarks (``manage.py bench_pdf``, part of ``make bench``).

1. Rendering: a 100-line and a 10,000-line specification, each rendered the way the worker does
   (``invoices.pdf.render_pdf``: chunks, joined pages) and as one naive WeasyPrint table
   (``render_pdf_naive``), in the same run. Each rendering runs in a forked child process, so its peak
   memory (the child's maximum resident set) is its own, and a long specification's helper process
   (``invoices.pdf.PARALLEL_PAGES``) is reported beside it; each child renders a one-line invoice first
   (untimed), as a worker that has loaded its fonts. Wall time is what the ratio compares; the CPU time
   (with the helper's) and the load average are printed beside it, since the machine is shared. The two
   PDFs' text (pdftotext -layout, blank lines and page breaks aside) must be the same, or the figures
   are meaningless and the bench fails.
2. The download of a stored PDF through the scoped view (target ≤ 50 ms), on the seeded data.

The rows are made in memory, shaped like an invoice's specification (a heading, four lines and a
subtotal per subscription), so the rendering figures do not depend on the data set.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import subprocess
import tempfile
import time
from dataclasses import dataclass
from decimal import Decimal

from pypdf import PdfReader

from invoices import pdf

# Issue 11: the rendering at least this many times faster than the naive table, with the same text.
TARGET_RATIO = 3


def bench_content(lines: int) -> pdf.PdfContent:
    groups, money = [], (lambda amount: pdf.format_money(amount, "da"))
    for subscription in range((lines + 3) // 4):
        count = min(4, lines - subscription * 4)
        # Every tenth subscription started mid-month: its lines show the days charged.
        period = "12.10.2026–31.10.2026" if subscription % 10 == 0 else ""
        items = [(f"Mobil Fri 50 GB, linje {subscription * 4 + index}", period,
                  money(Decimal("149.00") + index)) for index in range(count)]
        groups.append((f"Medarbejder {subscription:05d} – +45 2{subscription:07d}", items,
                       money(sum(Decimal("149.00") + index for index in range(count)))))
    return pdf.PdfContent(
        language="da", title="Faktura 1000001", seller_lines=["Selfcare Telecom A/S", "Teglholmsgade 1"],
        buyer_lines=["Nordlys A/S", "Testvej 1", "2100 København Ø"],
        facts=[("Fakturanummer", "1000001"), ("Forfaldsdato", "01.12.2026"),
               ("Betalingsreference", "+71<000001000001+")],
        totals=[("Beløb ekskl. moms", "1.490.000,00 kr."), ("Moms", "372.500,00 kr."), ("I alt", "1.862.500,00 kr.")],
        vat_rows=[("Standardsats", "25 %", "1.490.000,00 kr.", "372.500,00 kr.")],
        rows=pdf.rows_from_groups(groups),
    )


@dataclass
class Rendering:
    label: str
    lines: int
    seconds: float
    cpu_seconds: float  # this process's and its helper's
    peak_mb: float
    helper_peak_mb: float  # 0 without a helper process
    pages: int
    path: str


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def _child(way: str, lines: int, path: str, pipe) -> None:
    render = pdf.render_pdf if way == "chunked" else pdf.render_pdf_naive
    render(bench_content(1))  # warm: fonts loaded once per worker process, not per invoice
    content = bench_content(lines)
    start, cpu = time.perf_counter(), _cpu_seconds()
    data = render(content)
    seconds, cpu = time.perf_counter() - start, _cpu_seconds() - cpu
    with open(path, "wb") as file:
        file.write(data)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # The largest child's peak: the helper's, when this rendering had one.
    helper = way == "chunked" and pdf.RENDER_PROCESSES > 1 and len(content.rows) > pdf.SINGLE_DOCUMENT_ROWS and (
        len(pdf.specification_pages(content.rows)) >= pdf.PARALLEL_PAGES)
    helper_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 if helper else 0
    pipe.send((seconds, cpu, peak, helper_peak, len(PdfReader(path).pages)))
    pipe.close()


def render_in_child(way: str, lines: int, directory: str) -> Rendering:
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    path = os.path.join(directory, f"{way}-{lines}.pdf")
    process = context.Process(target=_child, args=(way, lines, path, send))
    process.start()
    figures = receive.recv()
    process.join()
    return Rendering(way, lines, *figures, path)


def content_lines(path: str) -> list[str]:
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", "-layout", path, "-"], check=True,
                          capture_output=True).stdout.decode("utf-8")
    return [" ".join(row.split()) for row in text.replace("\f", "\n").splitlines() if row.strip()]


def bench_rendering(sizes=(100, 10_000), write=print) -> list[tuple[Rendering, Rendering, bool]]:
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-pdf-") as directory:
        for lines in sizes:
            chunked = render_in_child("chunked", lines, directory)
            naive = render_in_child("naive", lines, directory)
            same = content_lines(chunked.path) == content_lines(naive.path)
            results.append((chunked, naive, same))
            write(report_line(chunked, naive, same))
    return results


def report_line(chunked: Rendering, naive: Rendering, same: bool) -> str:
    def figures(rendering: Rendering) -> str:
        helper = f" + helper {rendering.helper_peak_mb:.0f} MB" if rendering.helper_peak_mb else ""
        return (f"{rendering.seconds:6.2f} s (CPU {rendering.cpu_seconds:6.2f} s), {rendering.pages} pages, "
                f"peak {rendering.peak_mb:.0f} MB{helper}")

    ratio = naive.seconds / chunked.seconds
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (f"PDF {chunked.lines:>6} lines: rendered {figures(chunked)} | naive table {figures(naive)} | "
            f"{ratio:.1f}x faster ({'meets' if ratio >= TARGET_RATIO else 'MISSES'} the target >= {TARGET_RATIO:g}x) | "
            f"same text: {'yes' if same else 'NO'} | load average {load}")


def bench_download(iterations: int = 50, write=print) -> dict | None:
    """The download of a stored PDF through the scoped view: the smallest invoice of a company with a
    superuser on the seeded data; its PDF is rendered first if it is not current."""
    from django.conf import settings
    from django.db import transaction
    from django.test import override_settings

    from accounts.models import Membership
    from accounts.permissions import Role
    from invoices.documents import document_render, schedule_documents
    from invoices.documents_models import InvoiceDocument
    from invoices.models import Invoice
    from selfcare.bench.measure import percentile
    from selfcare.management.commands.bench import verified_client

    # A Superuser with a mobile (the bench signs in with its SMS device; some bench owners have none) of a
    # company with invoices, and that company's smallest invoice.
    membership = (Membership.objects.filter(role=Role.SUPERUSER, all_accounts=True,
                                            company__in=Invoice.objects.values("company_id"))
                  .exclude(user__mobile="").select_related("user").order_by("pk").first())
    invoices = Invoice.objects.filter(company_id=membership.company_id) if membership else Invoice.objects.none()
    invoice = invoices.order_by("line_count", "pk").first()
    if invoice is None:
        write("PDF download: no invoice with a superuser in the data (run seed_bench)")
        return None
    with transaction.atomic():
        schedule_documents([invoice.pk])
    document = InvoiceDocument.objects.get(invoice=invoice, credit_note=None, kind="pdf")
    document_render(document_id=document.pk)
    client = verified_client(membership.user, company=invoice.company)
    url = f"/invoices/{invoice.pk}/documents/pdf/"
    with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):  # as manage.py bench does
        times, size = _timed_downloads(client, url, document, iterations)
    result = {"median_ms": percentile(times, 50), "p95_ms": percentile(times, 95), "bytes": size}
    write(f"PDF download (stored, {size} bytes): median {result['median_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms "
          f"(target ≤ 50 ms)")
    return result


def _timed_downloads(client, url, document, iterations):
    """Milliseconds per download, and the size of the file last (checked against the stored one)."""
    times, size = [], 0
    for _ in range(iterations):
        start = time.perf_counter()
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: {response.status_code}")
        size = sum(len(chunk) for chunk in response.streaming_content)
        times.append((time.perf_counter() - start) * 1000)
        if size != document.__class__.objects.get(pk=document.pk).size:
            raise RuntimeError(f"GET {url}: {size} bytes, not the stored file's")
    return times, size
