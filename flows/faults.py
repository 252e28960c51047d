"""Deterministic kill points for fault-injection trials (issue 12, ``tests/faults/soak.py``).

A refresh calls :func:`kill_point` at each named step (:data:`STEPS`). When the environment
variable ``TRADE_IMBALANCE_KILL_AT`` names that step, the process kills itself with ``SIGKILL``
(as ``kill -9`` would: no ``finally`` block, no ``atexit``, no flush) the first time the step is
reached, or the ``N``-th time with ``<step>#N``. Unset (always, in production), a kill point is a
dictionary lookup and nothing else.

Example: ``TRADE_IMBALANCE_KILL_AT=publish:before-rename trade-imbalance rebuild`` dies between
the staging build's fsync and its rename over ``trade.duckdb``.
"""

from __future__ import annotations

import os
import signal

ENV = "TRADE_IMBALANCE_KILL_AT"

#: Every named step, in the order a refresh reaches them (where each is called).
STEPS: dict[str, str] = {
    "archive:body-written": "flows.archive.Archive.store: payload file written, manifest line not yet",
    "archive:manifest-written": "flows.archive.Archive.store: manifest line appended",
    "flow:fetched": "flows.flow.monthly_refresh: every source fetched, nothing built yet",
    "load:payload": "flows.build.load_archive: one archived payload loaded into the staging file",
    "load:done": "flows.build.load_archive: raw tables loaded and checkpointed",
    "models:done": "flows.build.build_models: SQL models built, before their checkpoint",
    "tests:done": "flows.build.check_data: data tests passed",
    "publish:before-rename": "flows.publish.publish: staging file fsynced, not yet renamed",
    "publish:after-rename": "flows.publish.publish: renamed over trade.duckdb, folder not fsynced",
    "export:file": "flows.publish.export_marts: one mart's Parquet written to its temporary name",
    "flow:published": "flows.flow.monthly_refresh: published, run report not yet written",
}

_hits: dict[str, int] = {}


def kill_point(name: str) -> None:
    """``SIGKILL`` this process when ``TRADE_IMBALANCE_KILL_AT`` is ``name`` (first time) or
    ``name#N`` (the ``N``-th time ``name`` is reached); otherwise return at once."""
    wanted = os.environ.get(ENV)
    if not wanted or not wanted.startswith(name):
        return
    step, _, count = wanted.partition("#")
    if step != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] >= int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
