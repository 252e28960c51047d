"""Fixtures of the fault-injection suite: one loopback server, clean baselines per source, and
the figures printed at the end of the run (``uv run pytest -m faults tests/faults``)."""

from __future__ import annotations

import collections

import pytest

from tests.faults.harness import Loopback, baseline_rows

RESULTS: list = []


@pytest.fixture(scope="session")
def loopback():
    server = Loopback()
    yield server
    server.close()


@pytest.fixture(scope="session")
def baselines(loopback, tmp_path_factory):
    cache: dict[str, set] = {}

    def get(source: str) -> set:
        if source not in cache:
            cache[source] = baseline_rows(source, loopback, tmp_path_factory.mktemp(f"base-{source}"))
        return cache[source]

    return get


def pytest_terminal_summary(terminalreporter):
    if not RESULTS:
        return
    counts = collections.Counter(r.outcome for r in RESULTS)
    sources = collections.Counter(r.kind.split("-", 1)[0] for r in RESULTS)
    slowest = max(RESULTS, key=lambda r: r.seconds)
    terminalreporter.section("fault injection figures")
    terminalreporter.write_line(f"kinds tried: {len(RESULTS)} ({dict(sorted(sources.items()))})")
    for outcome, number in sorted(counts.items()):
        terminalreporter.write_line(f"  {outcome}: {number}")
    terminalreporter.write_line(f"  longest fetch: {slowest.seconds:.2f} s ({slowest.kind})")
    for source in sorted(sources):
        per = collections.Counter(r.outcome for r in RESULTS if r.kind.split("-", 1)[0] == source)
        terminalreporter.write_line(f"  {source}: {dict(sorted(per.items()))}")
