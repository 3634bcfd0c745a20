"""The monthly billing run: one invoice per billing account with charges in the month.

Set-based: the lines of a batch of accounts are computed by a few INSERT … SELECT statements into a
temporary table, the invoices are written from it with their totals, and the lines copied to the
invoice lines table, in ONE transaction per batch. So an invoice is never written without its lines
and totals, and a failure loses only the batch it happened in (a later run issues it).

Gapless numbers: the batch locks the invoice number series (``NumberSequence``, SELECT … FOR UPDATE)
before it looks at which accounts still lack an invoice for the month, and advances the series by
exactly the number of invoices it writes, in the same transaction. A second run at the same time
waits on that lock, then sees the first run's invoices (READ COMMITTED: each statement sees what was
committed before it began) and issues nothing for those accounts. Running a month twice issues
nothing new (and the unique (account, period) constraint would refuse it anyway).

What a line is charged for (from the subscriptions' history):

- start: ``Subscription.activated_on`` (added for billing; when empty, the day it was created);
- end: the day of its cancellation or transfer (its ``SubscriptionEvent``), charged up to the day before;
  a terminated line without such an event (imported data) is not charged;
- moves: each ``move_account`` event (before/after account numbers) splits the month, and each part
  is charged on the invoice of the account it was on, pro-rated by days (``invoices.pricing``);
- price plans and add-ons: each ``PlanChange`` / ``AddOnChange`` (recorded when the change is carried
  out, with the day it took effect) splits the month like a move: the days before at the plan (with the
  add-ons) it had, the days from it at the new one, each part pro-rated by days; a line without such a
  change is charged its current plan and add-ons;
- usage beyond the allowances of the plan it had on its last day of the month (``UsageRecord`` of the
  month), charged to the account the line is on at the month's end; a line in a usage pool draws its data on the pool's allowance instead, and
  the pool's overage is one line on the pool's account;
- one-off charges: every completed order (quantity × unit price) not yet on an invoice, completed by the
  month's end, charged exactly once (a partial unique index on the invoice line's order).

The arithmetic (rounding once per line, VAT on each category's total rounded once) is the one of
``invoices.pricing``, written in SQL; tests check the two agree. ``billing_preview`` runs the same
statements for any month without writing anything (the groups' budget estimates).
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Company
from invoices import pricing
from invoices.documents import schedule_documents
from invoices.models import CURRENCY_BY_COUNTRY, Invoice, NumberSequence
from invoices.numbering import series_advance, series_lock
from invoices.references import payment_reference

logger = logging.getLogger(__name__)

PAYMENT_TERMS_DAYS = 30
# Accounts per transaction: bounded by the subscriptions they hold, so a batch is a few seconds of work.
BATCH_SUBSCRIPTIONS = 40_000
BATCH_ACCOUNTS = 2_000


@dataclass
class BillingResult:
    period: date
    invoices: int = 0
    lines: int = 0
    accounts: int = 0
    batches: int = 0
    numbers: list[tuple[int, int]] = field(default_factory=list)  # (first, last) per batch


def previous_month(today: date) -> date:
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def _batches(company_ids: list[int] | None) -> list[list[int]]:
    """Account ids in batches of about BATCH_SUBSCRIPTIONS subscriptions, in account order."""
    condition = "WHERE a.company_id = ANY(%s)" if company_ids is not None else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT a.id, COALESCE(c.n, 0) FROM subscriptions_billingaccount a
                LEFT JOIN (SELECT account_id, count(*) AS n FROM subscriptions_subscription GROUP BY account_id) c
                       ON c.account_id = a.id
                {condition} ORDER BY a.company_id, a.number""",
            [company_ids] if company_ids is not None else [],
        )
        rows = cursor.fetchall()
    batches, current, size = [], [], 0
    for account_id, subscriptions in rows:
        if current and (size + subscriptions > BATCH_SUBSCRIPTIONS or len(current) >= BATCH_ACCOUNTS):
            batches.append(current)
            current, size = [], 0
        current.append(account_id)
        size += subscriptions
    if current:
        batches.append(current)
    return batches


def _prepare_run_tables(cursor, period: date, company_ids: list[int] | None) -> None:
    """The subscriptions' history the whole run needs, read once: ends and account moves."""
    tz = settings.TIME_ZONE
    company_filter = "AND e.company_id = ANY(%(companies)s)" if company_ids is not None else ""
    cursor.execute("DROP TABLE IF EXISTS billing_ends; DROP TABLE IF EXISTS billing_moves")
    cursor.execute(
        f"""CREATE TEMP TABLE billing_ends AS
            SELECT e.subscription_id, min((e.at AT TIME ZONE %(tz)s)::date) AS ends_on
            FROM subscriptions_subscriptionevent e
            WHERE e.action IN ('cancel', 'transfer') {company_filter}
            GROUP BY e.subscription_id""",
        {"tz": tz, "companies": company_ids},
    )
    cursor.execute("CREATE UNIQUE INDEX ON billing_ends (subscription_id)")
    cursor.execute(
        f"""CREATE TEMP TABLE billing_moves AS
            SELECT e.subscription_id, e.at, (e.at AT TIME ZONE %(tz)s)::date AS day,
                   f.id AS from_account, t.id AS to_account
            FROM subscriptions_subscriptionevent e
            JOIN subscriptions_billingaccount f ON f.number = e.before ->> 'account'
            JOIN subscriptions_billingaccount t ON t.number = e.after ->> 'account'
            WHERE e.action = 'move_account' AND (e.at AT TIME ZONE %(tz)s)::date > %(start)s {company_filter}""",
        {"tz": tz, "start": period, "companies": company_ids},
    )
    cursor.execute("CREATE INDEX ON billing_moves (subscription_id)")
    cursor.execute("ANALYZE billing_ends; ANALYZE billing_moves")


def _descriptions(country: str) -> dict[str, str]:
    language = "sv" if country == "SE" else "da"
    with translation.override(language):
        return {
            "data": _("Data beyond the allowance (GB)"),
            "voice": _("Calls beyond the allowance (minutes)"),
            "sms": _("SMS beyond the allowance"),
            "pool": _("Shared data beyond the pool's allowance (GB)"),
            "order": _("Order %(number)s"),
        }


LINES_TABLE = """CREATE TEMP TABLE billing_lines (
    account_id bigint NOT NULL, company_id bigint NOT NULL, subscription_id bigint, employee_name text NOT NULL,
    subscription_number text NOT NULL, kind text NOT NULL, description text NOT NULL, quantity numeric NOT NULL,
    unit_price numeric NOT NULL, net_amount numeric NOT NULL, vat_category text NOT NULL, vat_rate numeric NOT NULL,
    starts_on date, ends_on date, order_id bigint, usage_pool_id bigint, sort_kind int NOT NULL
) ON COMMIT DROP"""


def _collect_plan_and_add_on_history(cursor, params: dict) -> None:
    """The parts of the month each charged line had a plan (billing_plans) and each add-on it added or
    removed that month or later (billing_add_ons, ``present`` or not), from the dated history
    (``PlanChange``, ``AddOnChange``); a line or add-on without such a change keeps its current one all
    month. Like the moves: a change splits the month on its day (on the 1st: no split), the state before
    the month's first change is that change's "before", so changes after the month are read too."""
    cursor.execute(
        """CREATE TEMP TABLE billing_plans ON COMMIT DROP AS
           WITH changes AS (
               SELECT pc.id, pc.subscription_id, pc.changed_on, pc.plan_before_id, pc.plan_after_id
               FROM subscriptions_planchange pc
               WHERE pc.changed_on > %(start)s AND pc.subscription_id IN (SELECT subscription_id FROM billing_charged)
           ),
           boundaries AS (
               (SELECT DISTINCT ON (subscription_id) subscription_id, %(start)s::date AS day, 0::bigint AS id,
                       plan_before_id AS plan_id
                FROM changes ORDER BY subscription_id, changed_on, id)
               UNION ALL
               SELECT subscription_id, changed_on, id, plan_after_id FROM changes WHERE changed_on <= %(end)s
           ),
           parts AS (
               SELECT subscription_id, plan_id, day AS from_day, COALESCE(lead(day) OVER w - 1, %(end)s::date) AS to_day
               FROM boundaries WINDOW w AS (PARTITION BY subscription_id ORDER BY day, id)
           )
           SELECT * FROM parts WHERE to_day >= from_day""",
        params,
    )
    cursor.execute(
        """CREATE TEMP TABLE billing_add_ons ON COMMIT DROP AS
           WITH changes AS (
               SELECT ac.id, ac.subscription_id, ac.add_on_id, ac.changed_on, ac.added
               FROM subscriptions_addonchange ac
               WHERE ac.changed_on > %(start)s AND ac.subscription_id IN (SELECT subscription_id FROM billing_charged)
           ),
           boundaries AS (
               (SELECT DISTINCT ON (subscription_id, add_on_id) subscription_id, add_on_id, %(start)s::date AS day,
                       0::bigint AS id, NOT added AS present
                FROM changes ORDER BY subscription_id, add_on_id, changed_on, id)
               UNION ALL
               SELECT subscription_id, add_on_id, changed_on, id, added FROM changes WHERE changed_on <= %(end)s
           ),
           parts AS (
               SELECT subscription_id, add_on_id, present, day AS from_day,
                      COALESCE(lead(day) OVER w - 1, %(end)s::date) AS to_day
               FROM boundaries WINDOW w AS (PARTITION BY subscription_id, add_on_id ORDER BY day, id)
           )
           SELECT * FROM parts WHERE to_day >= from_day""",
        params,
    )
    cursor.execute("CREATE INDEX ON billing_plans (subscription_id); CREATE INDEX ON billing_add_ons (subscription_id)")


def _collect_lines(cursor, *, period: date, accounts: list[int], country_descriptions: dict[str, dict],
                   preview_subscriptions: list[int] | None = None) -> None:
    """Fill billing_lines with the charges of ``accounts`` (those without an invoice for ``period``).

    ``preview_subscriptions`` (a list, maybe empty): the preview's mode instead (``billing_preview``):
    the charges of ``accounts`` whether invoiced or not, and of these lines wherever they were that month;
    one-off charges are the orders not on another month's invoice."""
    preview = preview_subscriptions is not None
    end = period.replace(day=pricing.days_in_month(period))
    params = {
        "start": period, "end": end, "dim": pricing.days_in_month(period), "accounts": accounts,
        "subscriptions": preview_subscriptions or [],
        "tz": settings.TIME_ZONE, "vat": pricing.STANDARD_VAT_RATE,
        "data_price": pricing.DATA_PRICE_PER_GB, "voice_price": pricing.VOICE_PRICE_PER_MINUTE,
        "sms_price": pricing.SMS_PRICE, "mb": pricing.MB_PER_GB,
    }
    for country in ("DK", "SE"):
        for key, text in country_descriptions[country].items():
            params[f"{country}_{key}"] = text
    cursor.execute("DROP TABLE IF EXISTS billing_lines; DROP TABLE IF EXISTS billing_accounts; "
                   "DROP TABLE IF EXISTS billing_charged; DROP TABLE IF EXISTS billing_plans; "
                   "DROP TABLE IF EXISTS billing_add_ons")
    cursor.execute(LINES_TABLE)
    # The accounts still to invoice (read after the number series' lock: see the module docstring).
    # A preview: the accounts, and those its lines were on that month.
    cursor.execute(
        """CREATE TEMP TABLE billing_accounts ON COMMIT DROP AS
           SELECT a.id, a.company_id, c.country FROM subscriptions_billingaccount a
           JOIN accounts_company c ON c.id = a.company_id
           WHERE a.id = ANY(%(accounts)s)
             AND NOT EXISTS (SELECT 1 FROM invoices_invoice i WHERE i.account_id = a.id AND i.period = %(start)s)"""
        if not preview else
        """CREATE TEMP TABLE billing_accounts ON COMMIT DROP AS
           SELECT a.id, a.company_id, c.country FROM subscriptions_billingaccount a
           JOIN accounts_company c ON c.id = a.company_id
           WHERE a.id = ANY(%(accounts)s)
              OR a.id IN (SELECT s.account_id FROM subscriptions_subscription s WHERE s.id = ANY(%(subscriptions)s)
                          UNION ALL SELECT m.from_account FROM billing_moves m
                          WHERE m.subscription_id = ANY(%(subscriptions)s)
                          UNION ALL SELECT m.to_account FROM billing_moves m
                          WHERE m.subscription_id = ANY(%(subscriptions)s))""",
        params,
    )
    cursor.execute("CREATE UNIQUE INDEX ON billing_accounts (id)")
    # The parts of the month each subscription was charged on one of these accounts.
    lines_condition = (
        """s.account_id IN (SELECT id FROM billing_accounts)
           OR s.id IN (SELECT m.subscription_id FROM billing_moves m
                       WHERE m.from_account IN (SELECT id FROM billing_accounts)
                          OR m.to_account IN (SELECT id FROM billing_accounts))"""
        if not preview else
        """s.account_id = ANY(%(accounts)s) OR s.id = ANY(%(subscriptions)s)
           OR s.id IN (SELECT m.subscription_id FROM billing_moves m
                       WHERE m.from_account = ANY(%(accounts)s) OR m.to_account = ANY(%(accounts)s))"""
    )
    cursor.execute(
        f"""CREATE TEMP TABLE billing_charged ON COMMIT DROP AS
        WITH subs AS (
            SELECT s.id, s.company_id, s.account_id, s.plan_id, s.employee_name, s.number,
                   COALESCE(s.activated_on, (s.created_at AT TIME ZONE %(tz)s)::date) AS starts_on, e.ends_on
            FROM subscriptions_subscription s
            LEFT JOIN billing_ends e ON e.subscription_id = s.id
            WHERE ({lines_condition})
              AND s.plan_id IS NOT NULL
              AND COALESCE(s.activated_on, (s.created_at AT TIME ZONE %(tz)s)::date) <= %(end)s
              AND (e.ends_on IS NULL OR e.ends_on > %(start)s)
              AND (s.status <> 'terminated' OR e.ends_on IS NOT NULL)
        ),
        firsts AS (
            SELECT DISTINCT ON (m.subscription_id) m.subscription_id, m.from_account
            FROM billing_moves m JOIN subs s ON s.id = m.subscription_id
            ORDER BY m.subscription_id, m.at
        ),
        boundaries AS (
            SELECT s.id AS subscription_id, %(start)s::date AS seg_start,
                   COALESCE(f.from_account, s.account_id) AS account_id, NULL::timestamptz AS at
            FROM subs s LEFT JOIN firsts f ON f.subscription_id = s.id
            UNION ALL
            SELECT m.subscription_id, m.day, m.to_account, m.at
            FROM billing_moves m JOIN subs s ON s.id = m.subscription_id
            WHERE m.day <= %(end)s
        ),
        segments AS (
            SELECT b.subscription_id, b.account_id, b.seg_start,
                   COALESCE(lead(b.seg_start) OVER w - 1, %(end)s::date) AS seg_end,
                   lead(b.seg_start) OVER w IS NULL AS is_last
            FROM boundaries b
            WINDOW w AS (PARTITION BY b.subscription_id ORDER BY b.seg_start, b.at NULLS FIRST)
        )
        SELECT sg.subscription_id, sg.account_id, s.company_id, s.plan_id, s.employee_name, s.number,
               GREATEST(sg.seg_start, s.starts_on) AS from_day, LEAST(sg.seg_end, s.ends_on - 1) AS to_day,
               LEAST(sg.seg_end, s.ends_on - 1) - GREATEST(sg.seg_start, s.starts_on) + 1 AS days, sg.is_last
        FROM segments sg JOIN subs s ON s.id = sg.subscription_id
        WHERE sg.account_id IN (SELECT id FROM billing_accounts)
          AND LEAST(sg.seg_end, s.ends_on - 1) >= GREATEST(sg.seg_start, s.starts_on)""",
        params,
    )
    _collect_plan_and_add_on_history(cursor, params)
    # Fees and add-ons, pro-rated by days: round(fee × days / days in month) once per line. A line is
    # charged per part of the month it was on an account (billing_charged) and had a plan or add-on.
    prorated = """
        CASE WHEN x.days >= %(dim)s THEN 1 ELSE x.days END,
        CASE WHEN x.days >= %(dim)s THEN {fee} ELSE round({fee} / %(dim)s, 4) END,
        round({fee} * LEAST(x.days, %(dim)s) / %(dim)s, 2),
        'S', %(vat)s, x.from_day, x.to_day"""
    overlap = """GREATEST(c.from_day, h.from_day) AS from_day, LEAST(c.to_day, h.to_day) AS to_day,
                 LEAST(c.to_day, h.to_day) - GREATEST(c.from_day, h.from_day) + 1 AS days"""
    cursor.execute(
        f"""INSERT INTO billing_lines
            SELECT x.account_id, x.company_id, x.subscription_id, x.employee_name, x.number, 'fee', p.name,
                   {prorated.format(fee="p.monthly_fee")}, NULL, NULL, 1
            FROM (SELECT c.account_id, c.company_id, c.subscription_id, c.employee_name, c.number,
                         CASE WHEN h.subscription_id IS NULL THEN c.plan_id ELSE h.plan_id END AS plan_id,
                         {overlap}
                  FROM billing_charged c
                  LEFT JOIN billing_plans h ON h.subscription_id = c.subscription_id
                                           AND h.from_day <= c.to_day AND h.to_day >= c.from_day) x
            JOIN subscriptions_priceplan p ON p.id = x.plan_id""",
        params,
    )
    cursor.execute(
        f"""INSERT INTO billing_lines
            SELECT x.account_id, x.company_id, x.subscription_id, x.employee_name, x.number, 'add_on', a.name,
                   {prorated.format(fee="a.monthly_fee")}, NULL, NULL, 2
            FROM (SELECT c.account_id, c.company_id, c.subscription_id, c.employee_name, c.number, h.add_on_id,
                         {overlap}
                  FROM billing_charged c
                  JOIN (SELECT sa.subscription_id, sa.addon_id AS add_on_id, %(start)s::date AS from_day,
                               %(end)s::date AS to_day
                        FROM subscriptions_subscription_add_ons sa
                        WHERE NOT EXISTS (SELECT 1 FROM billing_add_ons b WHERE b.subscription_id = sa.subscription_id
                                                                          AND b.add_on_id = sa.addon_id)
                        UNION ALL
                        SELECT subscription_id, add_on_id, from_day, to_day FROM billing_add_ons WHERE present
                  ) h ON h.subscription_id = c.subscription_id AND h.from_day <= c.to_day AND h.to_day >= c.from_day
            ) x
            JOIN subscriptions_addon a ON a.id = x.add_on_id""",
        params,
    )
    # Usage beyond the allowances of the plan it had on its last day of the month, on the account the line
    # is on at the month's end.
    cursor.execute(
        """INSERT INTO billing_lines
           SELECT c.account_id, c.company_id, c.subscription_id, c.employee_name, c.number, 'usage',
                  CASE WHEN ba.country = 'SE' THEN
                      CASE x.what WHEN 'data' THEN %(SE_data)s WHEN 'voice' THEN %(SE_voice)s ELSE %(SE_sms)s END
                  ELSE
                      CASE x.what WHEN 'data' THEN %(DK_data)s WHEN 'voice' THEN %(DK_voice)s ELSE %(DK_sms)s END
                  END,
                  x.quantity, x.price, round(x.quantity * x.price, 2), 'S', %(vat)s, %(start)s, %(end)s, NULL, NULL,
                  3
           FROM billing_charged c
           JOIN billing_accounts ba ON ba.id = c.account_id
           JOIN subscriptions_usagerecord u ON u.subscription_id = c.subscription_id AND u.period = %(start)s
           LEFT JOIN billing_plans h ON h.subscription_id = c.subscription_id
                                    AND c.to_day BETWEEN h.from_day AND h.to_day
           JOIN subscriptions_priceplan p ON p.id = CASE WHEN h.subscription_id IS NULL THEN c.plan_id ELSE h.plan_id END
           LEFT JOIN invoices_usagepoolmember pm ON pm.subscription_id = c.subscription_id
           CROSS JOIN LATERAL (VALUES
               ('data', CASE WHEN pm.id IS NULL AND p.data_gb IS NOT NULL
                             THEN ceil(GREATEST(0, u.data_mb - p.data_gb::bigint * %(mb)s)::numeric / %(mb)s)
                             ELSE 0 END, %(data_price)s::numeric),
               ('voice', CASE WHEN p.voice_minutes IS NOT NULL THEN GREATEST(0, u.voice_minutes - p.voice_minutes)
                              ELSE 0 END, %(voice_price)s::numeric),
               ('sms', CASE WHEN p.sms_count IS NOT NULL THEN GREATEST(0, u.sms_count - p.sms_count) ELSE 0 END,
                %(sms_price)s::numeric)
           ) AS x(what, quantity, price)
           WHERE c.is_last AND x.quantity > 0""",
        params,
    )
    # A usage pool's overage: its members' data of the month against the pool's allowance.
    cursor.execute(
        """INSERT INTO billing_lines
           SELECT pool.account_id, pool.company_id, NULL, '', '', 'usage',
                  (CASE WHEN ba.country = 'SE' THEN %(SE_pool)s ELSE %(DK_pool)s END) || ': ' || pool.name,
                  x.gigabytes, %(data_price)s, round(x.gigabytes * %(data_price)s, 2), 'S', %(vat)s,
                  %(start)s, %(end)s, NULL, pool.id, 5
           FROM invoices_usagepool pool
           JOIN billing_accounts ba ON ba.id = pool.account_id
           CROSS JOIN LATERAL (
               SELECT ceil(GREATEST(0, COALESCE(sum(u.data_mb), 0) - pool.data_gb::bigint * %(mb)s)::numeric
                           / %(mb)s) AS gigabytes
               FROM invoices_usagepoolmember pm
               JOIN subscriptions_usagerecord u ON u.subscription_id = pm.subscription_id AND u.period = %(start)s
               WHERE pm.pool_id = pool.id
           ) x
           WHERE x.gigabytes > 0""",
        params,
    )
    # One-off charges: completed orders not yet on any invoice, completed by the month's end (a preview:
    # not on another month's invoice, so a month's own orders count in its preview after it is invoiced).
    invoiced_elsewhere = "AND i.period <> %(start)s" if preview else ""
    cursor.execute(
        f"""INSERT INTO billing_lines
           SELECT o.account_id, o.company_id, o.subscription_id, o.employee_name, COALESCE(s.number, ''), 'one_off',
                  pr.name || ' · ' || replace(CASE WHEN ba.country = 'SE' THEN %(SE_order)s ELSE %(DK_order)s END,
                                              '%%(number)s', lpad(o.id::text, 6, '0')),
                  o.quantity, o.unit_price, round(o.quantity * o.unit_price, 2), 'S', %(vat)s,
                  NULL, NULL, o.id, NULL, 4
           FROM orders_order o
           JOIN billing_accounts ba ON ba.id = o.account_id
           JOIN orders_product pr ON pr.id = o.product_id
           LEFT JOIN subscriptions_subscription s ON s.id = o.subscription_id
           WHERE o.status = 'completed' AND o.is_quote = false
             AND (COALESCE(o.status_changed_at, o.created_at) AT TIME ZONE %(tz)s)::date <= %(end)s
             AND NOT EXISTS (SELECT 1 FROM invoices_invoiceline l JOIN invoices_invoice i ON i.id = l.invoice_id
                             WHERE l.order_id = o.id AND l.kind = 'one_off' {invoiced_elsewhere})""",
        params,
    )
    cursor.execute("DROP TABLE billing_plans; DROP TABLE billing_add_ons")


def _issue_batch(*, period: date, accounts: list[int], issue_date: date, descriptions: dict) -> tuple[int, int, tuple]:
    """Issue the invoices of one batch of accounts, all in one transaction. Returns (invoices, lines,
    (first number, last number))."""
    with transaction.atomic(), connection.cursor() as cursor:
        # The lock that makes numbers gapless and runs take turns (see the module docstring).
        last_number = series_lock(NumberSequence.Name.INVOICE)
        numbering_point()
        _collect_lines(cursor, period=period, accounts=accounts, country_descriptions=descriptions)
        cursor.execute(
            """SELECT l.account_id, ba.country FROM billing_lines l JOIN billing_accounts ba ON ba.id = l.account_id
               JOIN subscriptions_billingaccount a ON a.id = l.account_id
               GROUP BY l.account_id, ba.country, a.number ORDER BY a.number"""
        )
        invoiced = cursor.fetchall()
        if not invoiced:
            return 0, 0, ()
        first = last_number + 1
        numbers = list(range(first, first + len(invoiced)))
        references = [payment_reference(number, country)
                      for number, (_account, country) in zip(numbers, invoiced, strict=True)]
        due = issue_date + timedelta(days=PAYMENT_TERMS_DAYS)
        cursor.execute(
            """WITH categories AS (
                   SELECT account_id, vat_category, vat_rate, sum(net_amount) AS taxable, count(*) AS lines
                   FROM billing_lines GROUP BY account_id, vat_category, vat_rate
               ),
               totals AS (
                   SELECT account_id, sum(taxable) AS net,
                          sum(CASE WHEN vat_category = 'S' THEN round(taxable * vat_rate / 100, 2) ELSE 0 END) AS vat,
                          sum(lines) AS lines
                   FROM categories GROUP BY account_id
               )
               INSERT INTO invoices_invoice (company_id, account_id, period, number, issue_date, due_date,
                   payment_reference, currency, net_total, vat_total, gross_total, line_count, status, created_at)
               SELECT a.company_id, v.account_id, %(period)s, v.number, %(issue)s, %(due)s, v.reference,
                      CASE WHEN c.country = 'SE' THEN 'SEK' ELSE 'DKK' END,
                      t.net, t.vat, t.net + t.vat, t.lines, 'open', now()
               FROM unnest(%(accounts)s::bigint[], %(numbers)s::bigint[], %(references)s::text[])
                    AS v(account_id, number, reference)
               JOIN totals t ON t.account_id = v.account_id
               JOIN subscriptions_billingaccount a ON a.id = v.account_id
               JOIN accounts_company c ON c.id = a.company_id""",
            {"period": period, "issue": issue_date, "due": due, "accounts": [row[0] for row in invoiced],
             "numbers": numbers, "references": references},
        )
        cursor.execute(
            """INSERT INTO invoices_invoiceline (company_id, invoice_id, position, subscription_id, employee_name,
                   subscription_number, kind, description, quantity, unit_price, net_amount, vat_category, vat_rate,
                   starts_on, ends_on, order_id, usage_pool_id)
               SELECT l.company_id, i.id,
                      row_number() OVER (PARTITION BY l.account_id
                                         ORDER BY l.sort_kind >= 4, l.employee_name, l.subscription_number,
                                                  l.subscription_id, l.sort_kind, l.starts_on, l.description,
                                                  l.order_id),
                      l.subscription_id, l.employee_name, l.subscription_number, l.kind, left(l.description, 200),
                      l.quantity, l.unit_price, l.net_amount, l.vat_category, l.vat_rate, l.starts_on, l.ends_on,
                      l.order_id, l.usage_pool_id
               FROM billing_lines l
               JOIN invoices_invoice i ON i.account_id = l.account_id AND i.period = %(period)s""",
            {"period": period},
        )
        lines = cursor.rowcount
        subscription_totals_write(cursor, invoice_condition="i.period = %(period)s AND i.account_id IN "
                                  "(SELECT account_id FROM billing_lines)", params={"period": period})
        series_advance(NumberSequence.Name.INVOICE, numbers[-1])
        schedule_documents(Invoice.objects.filter(period=period, number__in=numbers).values_list("pk", flat=True))
        cursor.execute("DROP TABLE billing_lines; DROP TABLE billing_accounts; DROP TABLE billing_charged")
        return len(invoiced), lines, (numbers[0], numbers[-1])


def subscription_totals_write(cursor, *, invoice_condition: str, params: dict) -> None:
    """The "per user" rows of the invoices matching ``invoice_condition`` (SQL on ``i``), from their lines."""
    cursor.execute(
        f"""INSERT INTO invoices_invoicesubscriptiontotal (company_id, invoice_id, subscription_id, employee_name,
                subscription_number, line_count, net_amount)
            SELECT l.company_id, l.invoice_id, l.subscription_id, l.employee_name, l.subscription_number, count(*),
                   sum(l.net_amount)
            FROM invoices_invoiceline l JOIN invoices_invoice i ON i.id = l.invoice_id
            WHERE {invoice_condition}
            GROUP BY l.company_id, l.invoice_id, l.subscription_id, l.employee_name, l.subscription_number""",
        params,
    )


def numbering_point() -> None:
    """Where a batch holds the number series' lock (tests hold two runs here: tests/concurrency.py)."""


def billing_run(*, period: date, company_ids: list[int] | None = None, issue_date: date | None = None,
                progress=None) -> BillingResult:
    """Issue the invoices of ``period`` (a month's first day) for every account (of ``company_ids``)
    that has charges and no invoice for it yet. ``progress(done_accounts, total_accounts)`` is called
    before the first batch and after each."""
    period = period.replace(day=1)
    issue_date = issue_date or timezone.localdate()
    descriptions = {country: _descriptions(country) for country in ("DK", "SE")}
    batches = _batches(company_ids)
    result = BillingResult(period=period, accounts=sum(len(batch) for batch in batches))
    with connection.cursor() as cursor:
        _prepare_run_tables(cursor, period, company_ids)
    try:
        done = 0
        if progress is not None:
            progress(0, result.accounts)  # the total is known before the first batch
        for accounts in batches:
            invoices, lines, numbers = _issue_batch(period=period, accounts=accounts, issue_date=issue_date,
                                                    descriptions=descriptions)
            result.invoices += invoices
            result.lines += lines
            result.batches += 1
            if numbers:
                result.numbers.append(numbers)
            done += len(accounts)
            if progress is not None:
                progress(done, result.accounts)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS billing_ends; DROP TABLE IF EXISTS billing_moves")
    logger.info("billing run %s: %s invoices, %s lines", period, result.invoices, result.lines)
    return result


@contextmanager
def billing_preview(*, period: date, accounts: list[int], subscriptions: list[int] = ()):
    """The charges the billing run makes for ``period`` (a month's first day), computed now and written
    nowhere: yields a cursor on which the temporary table ``billing_lines`` holds them (one row per
    invoice line, ``account_id`` the account it is charged to). For ``accounts`` (every line on them that
    month, their pools and orders) and the lines ``subscriptions`` wherever they were that month; an
    invoiced month is computed again, the same way. Before the month ends, a line that is still active
    is charged to the month's end and usage is the usage so far: the month's estimate (groups.budgets)."""
    period = period.replace(day=1)
    descriptions = {country: _descriptions(country) for country in ("DK", "SE")}
    with transaction.atomic(), connection.cursor() as cursor:
        try:
            cursor.execute("SELECT company_id FROM subscriptions_billingaccount WHERE id = ANY(%(accounts)s) UNION "
                           "SELECT company_id FROM subscriptions_subscription WHERE id = ANY(%(subscriptions)s)",
                           {"accounts": list(accounts), "subscriptions": list(subscriptions)})
            _prepare_run_tables(cursor, period, [row[0] for row in cursor.fetchall()])
            _collect_lines(cursor, period=period, accounts=list(accounts), country_descriptions=descriptions,
                           preview_subscriptions=list(subscriptions))
            yield cursor
        finally:
            transaction.set_rollback(True)  # the temporary tables go with it


def invoices_mark_overdue(*, today: date | None = None) -> int:
    """Open invoices past their due date become overdue (the daily beat task)."""
    today = today or timezone.localdate()
    return Invoice.objects.filter(status=Invoice.Status.OPEN, due_date__lt=today).update(
        status=Invoice.Status.OVERDUE)


def company_currency(company: Company) -> str:
    return CURRENCY_BY_COUNTRY.get(company.country, "DKK")
