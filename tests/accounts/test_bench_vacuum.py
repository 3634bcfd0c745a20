"""The benchmark vacuums what rolled-back scenarios leave behind (this server runs without autovacuum)."""

import pytest
from django.db import connection, transaction

from accounts.models import AuditEvent
from selfcare.bench.measure import Scenario, run_scenario, vacuum_dead_rows


def _dead(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
    with connection.cursor() as cursor:
        cursor.execute("SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = %s", [table])
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_rows_of_a_rolled_back_scenario_are_vacuumed_before_the_next_one(company):
    table = AuditEvent._meta.db_table

    def rolled_back_insert(probe):
        try:
            with transaction.atomic():
                AuditEvent.objects.bulk_create([AuditEvent(company=company, action=AuditEvent.Action.SIGN_IN)
                                                for _ in range(1500)])
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass

    run_scenario(Scenario("dirty", "writes and rolls back", rolled_back_insert, iterations=1, warmup=0))
    assert _dead(table) >= 1500
    # The next scenario starts on vacuumed tables.
    seen = []
    run_scenario(Scenario("next", "reads", lambda probe: seen.append(_dead(table)), iterations=1, warmup=0))
    assert seen == [0]
    # Nothing left to do: the table is not vacuumed again.
    assert table not in vacuum_dead_rows()
