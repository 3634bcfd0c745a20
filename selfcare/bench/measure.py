"""The measurements of ``manage.py bench``: timing and counting the queries of request scenarios, the
results table and the machine facts printed beside it. The data set lives in ``selfcare.bench.data``."""

from __future__ import annotations

import gc
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import connection

ALL_COMPANIES = "all"  # the size of a scenario over every bench company (a billing run, a monthly job)


class BenchError(Exception):
    """A scenario did not get the response it expects (so its figures would be meaningless)."""


class Probe:
    """Times and counts the queries of the requests of one iteration, and nothing in between."""

    def __init__(self):
        self.seconds = 0.0
        self.queries = 0
        self.requests = 0
        self.bytes = 0

    def request(self, client, method: str, url: str, data=None, *, expect: int = 200, **extra):
        # Counted by an execute wrapper, not CaptureQueriesContext: its log holds 9,000 queries, after
        # which (and after each request's reset of the log) its counts came out as 0.
        executed = [0]

        def count(execute, sql, params, many, context):
            executed[0] += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            start = time.perf_counter()
            response = getattr(client, method)(url, data, **extra) if data is not None else \
                getattr(client, method)(url, **extra)
            if response.streaming:  # an export: the time to produce the whole file counts
                self.bytes = sum(len(chunk) for chunk in response.streaming_content)
            self.seconds += time.perf_counter() - start
        self.queries += executed[0]
        self.requests += 1
        if response.status_code != expect:
            where = f" -> {response['Location']}" if response.has_header("Location") else ""
            raise BenchError(f"{method.upper()} {url}: expected {expect}, got {response.status_code}{where}")
        return response


@dataclass
class Scenario:
    key: str
    label: str
    iteration: Callable[[Probe], None]
    iterations: int
    warmup: int
    # Subscriptions of the company it runs in; ALL_COMPANIES for a job over every bench company; None
    # where the size does not matter (the references, the login flow).
    size: int | str | None = None
    beside: str | None = None  # the key of the scenario this one is the comparison for (admin, psql)
    memory: bool = False  # measure the process's peak memory growth during each iteration


@dataclass
class Result:
    key: str
    label: str
    iterations: int
    warmup: int
    requests: int  # per iteration
    timings_ms: list[float] = field(repr=False)
    queries: list[int] = field(repr=False)
    size: int | str | None = None
    beside: str | None = None
    memory_mb: list[float] = field(default_factory=list, repr=False)  # peak RSS growth per iteration

    @property
    def median_ms(self) -> float:
        return percentile(self.timings_ms, 50)

    @property
    def p95_ms(self) -> float:
        return percentile(self.timings_ms, 95)

    @property
    def queries_label(self) -> str:
        low, high = min(self.queries), max(self.queries)
        return str(low) if low == high else f"{low}-{high}"

    def as_dict(self, reference_median: float | None) -> dict:
        timings = sorted(self.timings_ms)
        return {
            "key": self.key,
            "label": self.label,
            "iterations": self.iterations,
            "warmup": self.warmup,
            "requests_per_iteration": self.requests,
            "median_ms": round(self.median_ms, 3),
            "p95_ms": round(self.p95_ms, 3),
            "mean_ms": round(sum(timings) / len(timings), 3),
            "min_ms": round(timings[0], 3),
            "max_ms": round(timings[-1], 3),
            "queries_per_iteration": {"min": min(self.queries), "max": max(self.queries),
                                      "median": percentile(self.queries, 50)},
            "ratio_to_reference": round(self.median_ms / reference_median, 2) if reference_median else None,
            "size": self.size,
            "beside": self.beside,
            "peak_memory_growth_mb": round(max(self.memory_mb), 1) if self.memory_mb else None,
        }


def percentile(values, pct: float) -> float:
    """Nearest-rank percentile (the median of an even count is the mean of the middle two)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    if pct == 50:
        middle = len(ordered) // 2
        return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    rank = max(1, -(-len(ordered) * pct // 100))  # ceil
    return ordered[int(rank) - 1]


class PeakMemory:
    """The growth of this process's peak resident memory over a block, in MB (Linux).

    The kernel's high-water mark (VmHWM in /proc/self/status) is reset by writing "5" to
    /proc/self/clear_refs; the growth is the new mark minus the resident size at the start. Unlike
    tracemalloc this sees every allocation (psycopg's buffers, the C parts of the xlsx writer), costs
    nothing while the block runs and does not slow it down. ``mb`` stays None where it is unavailable.
    """

    def __init__(self):
        self.mb: float | None = None

    @staticmethod
    def _status_kb(name: str) -> int | None:
        try:
            with open("/proc/self/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith(name + ":"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None

    def __enter__(self):
        gc.collect()
        try:
            with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
                clear.write("5")
            self._start = self._status_kb("VmRSS")
        except OSError:
            self._start = None
        return self

    def __exit__(self, *exc):
        peak = self._status_kb("VmHWM")
        if self._start is not None and peak is not None:
            self.mb = max(0, peak - self._start) / 1024
        return False


def vacuum_dead_rows(min_dead: int = 1000) -> list[str]:
    """VACUUM (ANALYZE) the tables with at least ``min_dead`` dead rows; returns their names.

    The rolled-back scenarios (an upload of 50,000 memberships, a billing run of 170,000 invoice lines)
    leave their rows behind as dead tuples, and this server runs without autovacuum: the scenarios after
    them, and the next ``make bench`` on the same data, then read through them (the group filter's
    index-only count of a cost centre took 32 ms instead of 7 after four uploads). Run before each
    scenario, so each one starts from the data as seeded; the time is not measured."""
    if connection.in_atomic_block:
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")  # this session's own writes counted first
    with connection.cursor() as cursor:
        cursor.execute("SELECT schemaname, relname FROM pg_stat_user_tables WHERE n_dead_tup >= %s", [min_dead])
        tables = cursor.fetchall()
        for schema, table in tables:
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(schema)}.{connection.ops.quote_name(table)}")
    return [table for _schema, table in tables]


def run_scenario(scenario: Scenario) -> Result:
    vacuum_dead_rows()
    for _ in range(scenario.warmup):
        scenario.iteration(Probe())
    gc.collect()
    timings, queries, requests, memory = [], [], 0, []
    for _ in range(scenario.iterations):
        probe = Probe()
        if scenario.memory:
            with PeakMemory() as peak:
                scenario.iteration(probe)
            if peak.mb is not None:
                memory.append(peak.mb)
        else:
            scenario.iteration(probe)
        timings.append(probe.seconds * 1000)
        queries.append(probe.queries)
        requests = probe.requests
    return Result(key=scenario.key, label=scenario.label, iterations=scenario.iterations, warmup=scenario.warmup,
                  requests=requests, timings_ms=timings, queries=queries, size=scenario.size,
                  beside=scenario.beside, memory_mb=memory)


def format_table(results: list[Result], reference: Result | None) -> str:
    """One line per scenario (with its size), and beside it the comparison measured for it in the same
    run (the back office's changelist with the same search, or psql's \\copy of the same columns)."""
    compared = {result.beside: result for result in results if result.beside}
    header = (f"{'scenario':<48} {'size':>8} {'median ms':>10} {'p95 ms':>9} {'queries':>7} {'x ref':>6} {'MB':>6}"
              f" | {'beside it':<22} {'median ms':>10} {'p95 ms':>9} {'queries':>7}")
    lines = [header, "-" * len(header)]

    def ratio(result):
        return f"{result.median_ms / reference.median_ms:.1f}" if reference and reference.median_ms else "-"

    for result in results:
        if result.beside:
            continue
        size = f"{result.size:,}" if isinstance(result.size, int) else (result.size or "")
        memory = f"{max(result.memory_mb):.0f}" if result.memory_mb else ""
        line = (f"{result.label[:48]:<48} {size:>8} {result.median_ms:>10.1f} {result.p95_ms:>9.1f} "
                f"{result.queries_label:>7} {ratio(result):>6} {memory:>6}")
        other = compared.get(result.key)
        if other is not None:
            line += (f" | {other.label[:22]:<22} {other.median_ms:>10.1f} {other.p95_ms:>9.1f} "
                     f"{other.queries_label:>7}")
        lines.append(line)
    return "\n".join(lines)


def load_average() -> tuple[float, float, float] | None:
    try:
        return os.getloadavg()
    except (AttributeError, OSError):
        return None


def machine_info() -> dict:
    import django
    import psycopg

    cpu_model = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            cpu_model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")),
                             cpu_model)
    except OSError:
        pass
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "django": django.get_version(),
        "psycopg": psycopg.__version__,
        "postgresql": postgres,
        "load_average": load_average(),
    }


def write_json(path, payload: dict) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as out:
        json.dump(payload, out, indent=2, ensure_ascii=False, default=str)
        out.write("\n")


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
