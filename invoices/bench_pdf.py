"""The PDF benchmarks (``manage.py bench_pdf``, part of ``make bench``).

1. Rendering: a 100-line and a 10,000-line specification, each rendered the way the worker does
   (``invoices.pdf.render_pdf``: chunks, joined pages) and as one naive WeasyPrint table
   (``render_pdf_naive``), in the same run. Each rendering runs in a forked child process, so its peak
   memory (the child's maximum resident set) is its own; each child renders a one-line invoice first
   (untimed), as a worker that has loaded its fonts. The two PDFs' text (pdftotext -layout, blank
   lines and page breaks aside) must be the same, or the figures are meaningless and the bench fails.
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

from invoices import pdf


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
    peak_mb: float
    pages: int
    path: str


def _child(way: str, lines: int, path: str, pipe) -> None:
    render = pdf.render_pdf if way == "chunked" else pdf.render_pdf_naive
    render(bench_content(1))  # warm: fonts loaded once per worker process, not per invoice
    content = bench_content(lines)
    start = time.perf_counter()
    data = render(content)
    seconds = time.perf_counter() - start
    with open(path, "wb") as file:
        file.write(data)
    pipe.send((seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, data.count(b"/Type /Page\n")))
    pipe.close()


def render_in_child(way: str, lines: int, directory: str) -> Rendering:
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    path = os.path.join(directory, f"{way}-{lines}.pdf")
    process = context.Process(target=_child, args=(way, lines, path, send))
    process.start()
    seconds, peak_mb, pages = receive.recv()
    process.join()
    return Rendering(way, lines, seconds, peak_mb, pages, path)


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
            write(f"PDF {lines:>6} lines: chunked {chunked.seconds:7.2f} s, peak {chunked.peak_mb:6.0f} MB | "
                  f"naive table {naive.seconds:7.2f} s, peak {naive.peak_mb:6.0f} MB | "
                  f"{naive.seconds / chunked.seconds:5.1f}x faster | same text: {'yes' if same else 'NO'}")
    return results


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
