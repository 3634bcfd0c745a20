"""The invoices area's background jobs (found by ``selfcare.jobs.apps.JobsConfig.ready``)."""

import csv
import io
from datetime import date

from selfcare.jobs.registry import job_runner

BILLING_RUN = "invoices.billing_run"


@job_runner(BILLING_RUN)
def billing_run_job(job, progress):
    """The operator's billing run for ``params["period"]`` (an operator job: beat on the 1st, or staff
    in the back office). Progress counts accounts; the result is a one-line report of what was issued.
    Each batch commits on its own, so a failure or an interruption keeps what was issued, and running
    the month again issues only the rest (``invoices.billing.billing_run``)."""
    from invoices.billing import billing_run

    period = date.fromisoformat(job.params["period"])
    reported = 0

    def report(done, total):
        nonlocal reported
        if total != job.total:
            progress.set_total(total)
        progress.advance(ok=done - reported)
        reported = done

    result = billing_run(period=period, progress=report)
    first = min((low for low, _high in result.numbers), default="")
    last = max((high for _low, high in result.numbers), default="")
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["month", "accounts", "invoices", "lines", "first number", "last number"])
    writer.writerow([f"{period:%Y-%m}", result.accounts, result.invoices, result.lines, first, last])
    progress.store_result(f"billing-run-{period:%Y-%m}.csv", out.getvalue().encode())
