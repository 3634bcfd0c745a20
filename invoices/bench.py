"""The invoices' part of the benchmark data set and of ``manage.py bench``.

Seeded (``bench_invoices_seed``, a phase of ``selfcare.bench.data``), in a few set-based statements:

- every bench subscription billed from 2020 (``activated_on``), so a billing run charges whole months;
- ``MONTHS`` (24) months of invoices, up to last month, for every bench account (big and small companies):
  about 24 × 750 = 18,000 invoices, numbered from the invoice series;
- ``LINES_PER_INVOICE`` (8) lines on each, except the largest: the big company's first account's last
  month, with ``LARGEST_LINES`` (50,000) lines (two per subscription, cycling through the company's
  subscriptions when it has fewer than 25,000), so the specification is measured at 50,000 lines;
- totals computed from the lines by the one rule (VAT per category total, rounded once), and the
  "per user" rows written the billing run's way.

Everything is at most ~600,000 rows; the lines of ordinary invoices are fewer than a real month would
have (a line per subscription would be 24 × 550,000), which the pages do not depend on: they read one
invoice's lines by index.

Scenarios (``invoice_scenarios``): the invoice list, the largest invoice's page, its Specified (every
line, and per user) first page and last page, and the billing run of this month for every bench company,
measured inside a transaction that is rolled back (so the data and the number series stay as seeded).
"""

from __future__ import annotations

import time

from django.db import connection, transaction
from django.utils import timezone

from invoices.billing import billing_run, subscription_totals_write
from invoices.models import Invoice, NumberSequence
from invoices.numbering import series_advance, series_lock
from invoices.selectors import months_back
from subscriptions.models import BillingAccount

MONTHS = 24
LINES_PER_INVOICE = 8
LARGEST_LINES = 50_000


def _bench_company_ids(prefix: str) -> list[int]:
    from accounts.models import Company

    return list(Company.objects.filter(name__startswith=prefix).order_by("pk").values_list("pk", flat=True))


def bench_invoices_seed(*, big_company, name_prefix: str, log=lambda message: None) -> dict[str, int]:
    company_ids = _bench_company_ids(name_prefix)
    periods = months_back(timezone.localdate().replace(day=1), MONTHS + 1)[:-1]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE subscriptions_subscription SET activated_on = DATE '2020-01-01' "
                       "WHERE company_id = ANY(%s)", [company_ids])
        cursor.execute("SELECT id FROM subscriptions_billingaccount WHERE company_id = ANY(%s) "
                       "ORDER BY company_id, number", [company_ids])
        accounts = [row[0] for row in cursor.fetchall()]
        count = len(accounts) * len(periods)
        last = series_lock(NumberSequence.Name.INVOICE)
        # The invoices: account × month, numbered in (month, account) order from the series.
        cursor.execute(
            """INSERT INTO invoices_invoice (company_id, account_id, period, number, issue_date, due_date,
                   payment_reference, currency, net_total, vat_total, gross_total, line_count, status, paid_at,
                   created_at)
               SELECT b.company_id, a.id, p.period, %(last)s + row_number() OVER (ORDER BY p.period, a.ord),
                      (p.period + interval '1 month')::date, (p.period + interval '1 month' + interval '30 days')::date,
                      '', CASE WHEN c.country = 'SE' THEN 'SEK' ELSE 'DKK' END, 0, 0, 0, 0,
                      CASE WHEN p.period = %(latest)s THEN 'open'
                           WHEN p.period = %(before)s AND a.ord %% 10 = 0 THEN 'overdue' ELSE 'paid' END,
                      CASE WHEN p.period < %(before)s THEN now() END, now()
               FROM unnest(%(accounts)s::bigint[]) WITH ORDINALITY AS a(id, ord)
               JOIN subscriptions_billingaccount b ON b.id = a.id
               JOIN accounts_company c ON c.id = b.company_id
               CROSS JOIN unnest(%(periods)s::date[]) AS p(period)""",
            {"last": last, "accounts": accounts, "periods": periods, "latest": periods[-1], "before": periods[-2]},
        )
        series_advance(NumberSequence.Name.INVOICE, last + count)
        # Payment references with their check digits (the billing run's own function).
        from invoices.references import payment_reference

        cursor.execute("SELECT i.id, i.number, c.country FROM invoices_invoice i JOIN accounts_company c "
                       "ON c.id = i.company_id WHERE i.number > %s AND i.number <= %s", [last, last + count])
        rows = cursor.fetchall()
        cursor.execute(
            "UPDATE invoices_invoice i SET payment_reference = v.reference FROM unnest(%s::bigint[], %s::text[]) "
            "AS v(id, reference) WHERE i.id = v.id",
            [[row[0] for row in rows], [payment_reference(row[1], row[2]) for row in rows]],
        )
        first_account = (BillingAccount.objects.filter(company=big_company).order_by("number")
                         .values_list("pk", flat=True).first())
        largest_id = (Invoice.objects.filter(account_id=first_account, period=periods[-1])
                      .values_list("pk", flat=True).first())
        # The ordinary invoices' lines: a few fee lines each, from the account's own subscriptions.
        cursor.execute(
            """INSERT INTO invoices_invoiceline (company_id, invoice_id, position, subscription_id, employee_name,
                   subscription_number, kind, description, quantity, unit_price, net_amount, vat_category, vat_rate,
                   starts_on, ends_on)
               SELECT i.company_id, i.id, s.position, s.id, s.employee_name, s.number,
                      CASE WHEN s.position %% 4 = 0 THEN 'add_on' ELSE 'fee' END,
                      CASE WHEN s.position %% 4 = 0 THEN 'Roaming EU+' ELSE 'Mobil Fri 50 GB' END, 1,
                      CASE WHEN s.position %% 4 = 0 THEN 49.00 ELSE 149.00 END,
                      CASE WHEN s.position %% 4 = 0 THEN 49.00 ELSE 149.00 END, 'S', 25,
                      i.period, (i.period + interval '1 month' - interval '1 day')::date
               FROM invoices_invoice i
               CROSS JOIN LATERAL (
                   SELECT sub.id, sub.employee_name, sub.number, row_number() OVER (ORDER BY sub.id) AS position
                   FROM subscriptions_subscription sub WHERE sub.account_id = i.account_id
                   ORDER BY sub.id LIMIT %(lines)s
               ) s
               WHERE i.number > %(first)s AND i.number <= %(last)s AND i.id <> %(largest)s""",
            {"lines": LINES_PER_INVOICE, "first": last, "last": last + count, "largest": largest_id or 0},
        )
        # The largest invoice: LARGEST_LINES lines, two per subscription of the company, cycling.
        if largest_id is not None:
            cursor.execute(
                """WITH subs AS (
                       SELECT sub.id, sub.employee_name, sub.number, row_number() OVER (ORDER BY sub.employee_name,
                              sub.id) - 1 AS n, count(*) OVER () AS total
                       FROM subscriptions_subscription sub
                       WHERE sub.company_id = (SELECT company_id FROM invoices_invoice WHERE id = %(invoice)s)
                       ORDER BY sub.employee_name, sub.id LIMIT %(half)s
                   )
                   INSERT INTO invoices_invoiceline (company_id, invoice_id, position, subscription_id, employee_name,
                       subscription_number, kind, description, quantity, unit_price, net_amount, vat_category,
                       vat_rate, starts_on, ends_on)
                   SELECT i.company_id, i.id, g, s.id, s.employee_name, s.number,
                          CASE WHEN g %% 2 = 0 THEN 'add_on' ELSE 'fee' END,
                          CASE WHEN g %% 2 = 0 THEN 'Roaming EU+' ELSE 'Mobil Fri 50 GB' END, 1,
                          CASE WHEN g %% 2 = 0 THEN 49.00 ELSE 149.00 END,
                          CASE WHEN g %% 2 = 0 THEN 49.00 ELSE 149.00 END, 'S', 25,
                          i.period, (i.period + interval '1 month' - interval '1 day')::date
                   FROM invoices_invoice i
                   CROSS JOIN generate_series(1, %(lines)s) AS g
                   JOIN subs s ON s.n = ((g - 1) / 2) %% (SELECT max(total) FROM subs)
                   WHERE i.id = %(invoice)s""",
                {"invoice": largest_id, "lines": LARGEST_LINES, "half": LARGEST_LINES // 2},
            )
        # Totals from the lines, by the one rule (VAT on the category total, rounded once).
        cursor.execute(
            """UPDATE invoices_invoice i SET net_total = t.net, vat_total = t.vat, gross_total = t.net + t.vat,
                      line_count = t.lines
               FROM (SELECT invoice_id, sum(net) AS net, sum(vat) AS vat, sum(lines) AS lines FROM (
                         SELECT invoice_id, sum(net_amount) AS net, count(*) AS lines,
                                CASE WHEN vat_category = 'S' THEN round(sum(net_amount) * vat_rate / 100, 2)
                                     ELSE 0 END AS vat
                         FROM invoices_invoiceline l
                         WHERE l.invoice_id IN (SELECT id FROM invoices_invoice WHERE number > %(first)s
                                                AND number <= %(last)s)
                         GROUP BY invoice_id, vat_category, vat_rate) c GROUP BY invoice_id) t
               WHERE i.id = t.invoice_id""",
            {"first": last, "last": last + count},
        )
        subscription_totals_write(cursor, invoice_condition="i.number > %(first)s AND i.number <= %(last)s",
                                  params={"first": last, "last": last + count})
        cursor.execute("SELECT count(*) FROM invoices_invoiceline l JOIN invoices_invoice i ON i.id = l.invoice_id "
                       "WHERE i.number > %s AND i.number <= %s", [last, last + count])
        lines = cursor.fetchone()[0]
        for table in ("invoices_invoice", "invoices_invoiceline", "invoices_invoicesubscriptiontotal"):
            cursor.execute(f"ANALYZE {table}")
    log(f"  {count:,} invoices over {len(periods)} months with {lines:,} lines (the largest {LARGEST_LINES:,})")
    return {"invoices": count, "invoice_lines": lines}


def largest_invoice(company) -> Invoice | None:
    return Invoice.objects.filter(company=company).order_by("-line_count", "pk").first()


def billing_run_iteration(company_ids: list[int]):
    """One billing run of this month for ``company_ids``, rolled back afterwards (so it can be repeated
    and leaves the number series as it was)."""
    from selfcare.bench import measure

    class Rollback(Exception):
        pass

    def iteration(probe):
        start = time.perf_counter()
        try:
            with transaction.atomic():
                result = billing_run(period=timezone.localdate().replace(day=1), company_ids=company_ids)
                probe.seconds += time.perf_counter() - start
                probe.requests += 1
                probe.result = result
                if not result.invoices:
                    raise measure.BenchError("the billing run issued no invoices")
                raise Rollback
        except Rollback:
            pass
    return iteration


def invoice_scenarios(*, status, get, options, name_prefix: str, client) -> list:
    """The invoices' scenarios for ``manage.py bench`` (see the module docstring)."""
    from django.urls import reverse

    from selfcare.bench import measure

    iterations, warmup = options["iterations"], options["warmup"]
    invoice = largest_invoice(status.company)
    if invoice is None:
        return []
    number = str(invoice.number).encode()
    lines, users = reverse("invoices:lines", args=[invoice.pk]), reverse("invoices:users", args=[invoice.pk])
    return [
        measure.Scenario("invoices_list", "invoice list p.1, Superuser", get(client, reverse("invoices:index")),
                         iterations, warmup),
        measure.Scenario("invoices_list_filtered", "invoice list, overdue",
                         get(client, reverse("invoices:index") + "?status=overdue"), iterations, warmup),
        measure.Scenario("invoice_page", f"invoice page ({invoice.line_count:,} lines)",
                         get(client, reverse("invoices:detail", args=[invoice.pk]), contains=number),
                         iterations, warmup),
        measure.Scenario("invoice_specified", f"Specified, every line p.1 ({invoice.line_count:,})",
                         get(client, lines), iterations, warmup),
        measure.Scenario("invoice_specified_last", "Specified, every line, last page",
                         get(client, lines + "?last=1"), iterations, warmup),
        measure.Scenario("invoice_specified_search", "Specified, search an employee",
                         get(client, lines + "?q=ans"), iterations, warmup),
        measure.Scenario("invoice_specified_users", "Specified, per user p.1", get(client, users), iterations, warmup),
        measure.Scenario("billing_run", "billing run, all bench companies (rolled back)",
                         billing_run_iteration(_bench_company_ids(name_prefix)), 1, 0),
    ]


INVOICE_SCENARIOS = ["invoices_list", "invoices_list_filtered", "invoice_page", "invoice_specified",
                     "invoice_specified_last", "invoice_specified_search", "invoice_specified_users", "billing_run"]

