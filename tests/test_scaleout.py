"""Partitioned detail ingest (:mod:`flows.scaleout`) on the default runner and on Dask.

The bulk files are SYNTHETIC (:mod:`bench.synthetic`), archived as if downloaded. The flow test
starts Prefect's in-process API and a local Dask cluster of two workers (threads, to stay light).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from prefect.task_runners import ThreadPoolTaskRunner

from bench.synthetic import synthetic_request, write_bulk_file
from flows import detail, scaleout
from flows.archive import Archive
from flows.settings import get_settings
from flows.sources.base import Fetched

#: (reporter code, period, rows) of the synthetic files.
FILES = ((156, "202501", 2500), (156, "202502", 1800), (842, "202501", 1200))


def _archive_files(warehouse: Path, tmp_path: Path) -> Archive:
    """Put the synthetic files in ``warehouse``'s bulk archive, as the download step does."""
    archive = Archive(warehouse / "raw" / scaleout.BULK_ARCHIVE_DIR)
    for code, period, rows in FILES:
        path = write_bulk_file(tmp_path / f"{code}-{period}.txt.gz", rows, reporter_code=code,
                               period=period, partners=20, chapters=3)  # fmt: skip
        request = synthetic_request(reporter_code=code, period=period)
        archive.store(Fetched(request, path.read_bytes(), 200, "application/TSV"))
    return archive


def _use_warehouse(monkeypatch, warehouse: Path, runner: str) -> None:
    monkeypatch.setenv("TRADE_IMBALANCE_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("TRADE_IMBALANCE_DETAIL_RUNNER", runner)
    monkeypatch.setenv("TRADE_IMBALANCE_DASK_PROCESSES", "false")
    monkeypatch.setenv("TRADE_IMBALANCE_DASK_WORKERS", "2")
    get_settings.cache_clear()


def test_runner_is_selected_by_setting(monkeypatch):
    monkeypatch.setenv("TRADE_IMBALANCE_DETAIL_CONCURRENCY", "3")
    runner = scaleout.make_task_runner(scaleout.ScaleOutSettings())
    assert isinstance(runner, ThreadPoolTaskRunner) and runner._max_workers == 3
    from prefect_dask import DaskTaskRunner

    monkeypatch.setenv("TRADE_IMBALANCE_DETAIL_RUNNER", "dask")
    monkeypatch.setenv("TRADE_IMBALANCE_DASK_PROCESSES", "false")
    local = scaleout.make_task_runner(scaleout.ScaleOutSettings())
    assert isinstance(local, DaskTaskRunner)
    assert local.cluster_kwargs["n_workers"] == 2 and local.cluster_kwargs["processes"] is False
    monkeypatch.setenv("TRADE_IMBALANCE_DASK_ADDRESS", "tcp://scheduler.example:8786")
    remote = scaleout.make_task_runner(scaleout.ScaleOutSettings())
    assert remote.address == "tcp://scheduler.example:8786"


def test_archived_inputs_pick_the_window(tmp_path):
    archive = _archive_files(tmp_path / "wh", tmp_path)
    chosen = scaleout.archived_inputs(archive, {156}, {"202502", "202503"}, "M", "HS")
    assert [e.request.meta["period"] for e in chosen] == ["202502"]
    both = scaleout.archived_inputs(archive, {156, 842}, {"202501", "202502"}, "M", "HS")
    assert [(e.request.reporter, e.request.meta["period"]) for e in both] == [
        ("CHN", "202501"), ("CHN", "202502"), ("USA", "202501"),
    ]


@pytest.mark.flow
def test_dask_cluster_gives_the_same_partitions_as_the_default_runner(tmp_path, monkeypatch):
    run = dict(
        reporters=["CHN", "USA"], period_start=date(2025, 1, 1), period_end=date(2025, 2, 1),
        offline=True,
    )  # fmt: skip
    results = {}
    for runner in ("threads", "dask"):
        warehouse = tmp_path / runner
        _archive_files(warehouse, tmp_path / f"files-{runner}")
        _use_warehouse(monkeypatch, warehouse, runner)
        summary = scaleout.run_comtrade_bulk_detail(**run)
        assert summary["partitions"] == {"written": 3}, summary
        assert summary["rows"] == sum(rows for _, _, rows in FILES) and not summary["errors"]
        results[runner] = detail.scan_detail(warehouse).sort(
            ["reporter", "period", "partner_code", "flow", "mot_code", "commodity"]
        ).collect()

    assert results["threads"].height == 5500
    assert_frame_equal(results["dask"], results["threads"])
    counts = results["dask"].group_by("reporter", "period").len().sort("reporter", "period")
    assert counts.rows() == [
        ("CHN", "202501", 2500), ("CHN", "202502", 1800), ("USA", "202501", 1200),
    ]
    # a second run on the same archive rewrites nothing
    again = scaleout.run_comtrade_bulk_detail(**run)
    assert again["partitions"] == {"unchanged": 3}
    assert pl.Series([p.name for p in detail.partitions(tmp_path / "dask")]).to_list() == [
        "period=202501", "period=202502", "period=202501",
    ]
