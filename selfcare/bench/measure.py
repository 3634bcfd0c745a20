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
from django.test.utils import CaptureQueriesContext


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
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = getattr(client, method)(url, data, **extra) if data is not None else \
                getattr(client, method)(url, **extra)
            if response.streaming:  # an export: the time to produce the whole file counts
                self.bytes = sum(len(chunk) for chunk in response.streaming_content)
            self.seconds += time.perf_counter() - start
        self.queries += len(queries.captured_queries)
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


@dataclass
class Result:
    key: str
    label: str
    iterations: int
    warmup: int
    requests: int  # per iteration
    timings_ms: list[float] = field(repr=False)
    queries: list[int] = field(repr=False)

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


def run_scenario(scenario: Scenario) -> Result:
    for _ in range(scenario.warmup):
        scenario.iteration(Probe())
    gc.collect()
    timings, queries, requests = [], [], 0
    for _ in range(scenario.iterations):
        probe = Probe()
        scenario.iteration(probe)
        timings.append(probe.seconds * 1000)
        queries.append(probe.queries)
        requests = probe.requests
    return Result(key=scenario.key, label=scenario.label, iterations=scenario.iterations, warmup=scenario.warmup,
                  requests=requests, timings_ms=timings, queries=queries)


def format_table(results: list[Result], reference: Result | None) -> str:
    header = f"{'scenario':<52} {'median ms':>10} {'p95 ms':>9} {'queries':>8} {'requests':>8} {'x ref':>7}"
    lines = [header, "-" * len(header)]
    for result in results:
        ratio = f"{result.median_ms / reference.median_ms:.1f}" if reference and reference.median_ms else "-"
        lines.append(
            f"{result.label:<52} {result.median_ms:>10.2f} {result.p95_ms:>9.2f} {result.queries_label:>8} "
            f"{result.requests:>8} {ratio:>7}"
        )
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
