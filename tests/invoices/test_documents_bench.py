"""The PDF bench's scenarios run (on tiny sizes here; `make bench` runs 100 and 10,000 lines)."""

import pytest

from invoices.bench_pdf import bench_download, bench_rendering
from tests.factories import BillingAccountFactory
from tests.invoices.documents_helpers import invoice_with


def test_rendering_scenario_compares_chunked_and_naive_text():
    lines = []
    ((chunked, naive, same),) = bench_rendering(sizes=(120,), write=lines.append)
    assert same and chunked.seconds > 0 and naive.seconds > 0 and chunked.peak_mb > 0
    assert "same text: yes" in lines[0]


@pytest.mark.django_db
def test_download_scenario_serves_the_stored_pdf(company, superuser):
    invoice_with(BillingAccountFactory(company=company))
    lines = []
    result = bench_download(iterations=5, write=lines.append)
    assert result["bytes"] > 1000 and result["p95_ms"] > 0
    print(lines[0])  # times are reported, not asserted
