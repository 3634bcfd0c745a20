"""Gapless number series (invoices, credit notes): see ``invoices.models.NumberSequence``.

``series_lock`` must be called inside the transaction that issues the documents; the caller writes
``series_advance`` in the same transaction, so a rollback gives the numbers back and a concurrent
issuer waits on the row until then.
"""

from django.db import connection


def series_lock(name: str) -> int:
    """Lock the series ``name`` (creating it at 0 the first time) and return its last number issued."""
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO invoices_numbersequence (name, last_number) VALUES (%s, 0) "
                       "ON CONFLICT (name) DO NOTHING", [name])
        cursor.execute("SELECT last_number FROM invoices_numbersequence WHERE name = %s FOR UPDATE", [name])
        return cursor.fetchone()[0]


def series_advance(name: str, last_number: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE invoices_numbersequence SET last_number = %s WHERE name = %s", [last_number, name])
