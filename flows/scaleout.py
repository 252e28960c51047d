"""Partitioned detail ingestion on Prefect: concurrent per (source, reporter, period), on threads
or on a Dask cluster, with one rate limit per publisher.

The flow :func:`comtrade_bulk_detail` (Prefect name ``comtrade-bulk-detail``):

1. lists UN Comtrade bulk files for each reporter over the window (skipped when ``offline``);
2. downloads only new or revised files (:func:`flows.sources.comtrade_bulk.plan_downloads`)
   into the bulk raw archive ``<warehouse>/raw/comtrade_bulk/`` (content-addressed, with its
   own manifest, apart from the API archive so the API build never replays bulk files);
3. ingests every archived file of the window into its immutable partition
   (:func:`flows.detail.ingest_archived`), one Prefect task per partition; unchanged
   partitions are no-ops.

Concurrency and scale-out (settings :class:`ScaleOutSettings`, environment
``TRADE_IMBALANCE_*``):

* ``detail_runner=threads`` (default): a :class:`ThreadPoolTaskRunner` of
  ``detail_concurrency`` threads on this machine;
* ``detail_runner=dask``: ``prefect_dask.DaskTaskRunner`` — on an existing cluster when
  ``dask_address`` is set (``tcp://scheduler:8786``), else a local cluster of ``dask_workers``
  workers (``dask_processes=false`` runs them as threads in this process).
* Every listing and download call first takes a slot of the Prefect global concurrency limit
  ``comtrade-bulk-requests`` (a rate limit: slots decay at ``bulk_requests_per_minute / 60``
  per second; created or updated by :func:`ensure_rate_limit`). The limit lives in the Prefect
  server, so it holds across threads, processes and machines.

What stays single: the DuckDB writer. Tasks write only their own Parquet partition (staged,
checked, renamed); the warehouse build reads the partitions through
:func:`flows.detail.attach_detail` and never copies them. Publisher problems never raise out of
a task: they are counted in the returned summary (as the API refresh does).

:func:`run_comtrade_bulk_detail` picks the task runner from the settings and runs the flow.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any, Literal

from prefect import flow, get_run_logger, task
from prefect.concurrency.sync import rate_limit
from prefect.exceptions import MissingContextError
from prefect.task_runners import ThreadPoolTaskRunner
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from flows.archive import Archive, ManifestEntry
from flows.detail import PartitionResult, ingest_archived
from flows.http import HttpClient
from flows.reference import UnknownCodeError
from flows.schema import add_months
from flows.settings import Settings, get_settings
from flows.sources import comtrade, comtrade_bulk
from flows.sources.base import FetchRequest, PublisherUnreachable, SourceError

#: Name of the Prefect global concurrency limit (rate limit) shared by bulk listing/downloads.
RATE_LIMIT_NAME = "comtrade-bulk-requests"
#: Folder of the bulk raw archive under the raw archive folder.
BULK_ARCHIVE_DIR = "comtrade_bulk"


class ScaleOutSettings(BaseSettings):
    """How the partitioned ingest runs. Field ``x`` is read from ``TRADE_IMBALANCE_X``."""

    model_config = SettingsConfigDict(env_prefix="TRADE_IMBALANCE_", env_file=".env", extra="ignore")

    detail_runner: Literal["threads", "dask"] = Field(
        default="threads", description="Task runner: threads on this machine, or Dask."
    )
    detail_concurrency: int = Field(
        default=2, ge=1, description="Partitions ingested at once by the thread runner."
    )
    dask_address: str | None = Field(
        default=None, description="Scheduler of an existing Dask cluster, e.g. tcp://host:8786."
    )
    dask_workers: int = Field(default=2, ge=1, description="Workers of a local Dask cluster.")
    dask_threads_per_worker: int = Field(default=1, ge=1)
    dask_processes: bool = Field(
        default=True, description="Local Dask workers as processes (false: threads)."
    )
    bulk_requests_per_minute: float = Field(
        default=10.0, gt=0, description="Bulk listing/download calls per minute, all workers."
    )
    detail_block_mb: int = Field(
        default=128, ge=1, description="Decompressed block size read at once, MiB."
    )


def make_task_runner(config: ScaleOutSettings):
    """The task runner ``config`` selects (see the module docstring)."""
    if config.detail_runner == "dask":
        from prefect_dask import DaskTaskRunner  # imported only when selected

        if config.dask_address:
            return DaskTaskRunner(address=config.dask_address)
        return DaskTaskRunner(
            cluster_kwargs={
                "n_workers": config.dask_workers,
                "threads_per_worker": config.dask_threads_per_worker,
                "processes": config.dask_processes,
                "dashboard_address": None,
            }
        )
    return ThreadPoolTaskRunner(max_workers=config.detail_concurrency)


def bulk_archive(settings: Settings) -> Archive:
    """The bulk raw archive, ``<warehouse>/raw/comtrade_bulk``."""
    return Archive(settings.raw_dir / BULK_ARCHIVE_DIR)


def ensure_rate_limit(per_minute: float, name: str = RATE_LIMIT_NAME) -> None:
    """Create or update the Prefect global concurrency limit ``name`` as a rate limit of
    ``per_minute`` calls (one slot, decaying at ``per_minute / 60`` per second)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import (
        GlobalConcurrencyLimitCreate,
        GlobalConcurrencyLimitUpdate,
    )
    from prefect.exceptions import ObjectNotFound

    decay = per_minute / 60.0
    with get_client(sync_client=True) as client:
        try:
            current = client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            client.create_global_concurrency_limit(
                GlobalConcurrencyLimitCreate(name=name, limit=1, slot_decay_per_second=decay)
            )
            return
        if current.limit != 1 or current.slot_decay_per_second != decay or not current.active:
            client.update_global_concurrency_limit(
                name,
                GlobalConcurrencyLimitUpdate(limit=1, slot_decay_per_second=decay, active=True),
            )


def _logger() -> logging.Logger:
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("trade_imbalance.detail")


def _client(settings: Settings) -> HttpClient:
    return HttpClient(settings, comtrade.NAME, comtrade.headers(settings))


# --------------------------------------------------------------------------------------------
# tasks (plain functions inside; each returns JSON-able dicts)


@task(name="bulk-listing", task_run_name="bulk-listing-{label}")
def listing_task(label: str, request: dict) -> dict:
    """Fetch and archive one listing; ``{"files": [...], "error": None | str}``."""
    settings = get_settings()
    fetch_request = FetchRequest.from_json(request)
    rate_limit(RATE_LIMIT_NAME, strict=True)
    client = _client(settings)
    try:
        fetched = client.get(fetch_request)
    except SourceError as exc:
        return {"files": [], "error": str(exc)}
    finally:
        client.close()
    archive = bulk_archive(settings)
    try:
        files = comtrade_bulk.parse_listing(fetched.body, fetch_request)
    except SourceError as exc:
        archive.store(fetched, parse_error=str(exc))
        return {"files": [], "error": str(exc)}
    archive.store(fetched)
    return {"files": [f.meta() for f in files], "error": None}


@task(name="bulk-download", task_run_name="bulk-download-{label}")
def download_task(label: str, request: dict) -> dict:
    """Download and archive one bulk file; ``{"entry": manifest entry | None, "error": ...}``.

    Each call takes a slot of the publisher's rate limit first. A body that is not gzip is
    archived with its parse error (evidence) and reported, never ingested.
    """
    settings = get_settings()
    fetch_request = FetchRequest.from_json(request)
    rate_limit(RATE_LIMIT_NAME, strict=True)
    archive = bulk_archive(settings)
    client = _client(settings)
    try:  # streamed to disk and hashed on the way: memory stays bounded whatever the file size
        fetched = client.get_to_file(fetch_request, archive.incoming())
    except PublisherUnreachable as exc:
        return {"entry": None, "error": str(exc), "unreachable": True}
    except SourceError as exc:
        return {"entry": None, "error": str(exc)}
    finally:
        client.close()
    stored = dict(
        sha256=fetched.sha256, status=fetched.status, content_type=fetched.content_type
    )  # fmt: skip
    try:
        comtrade_bulk.check_gzip(fetched.head, fetch_request)
    except SourceError as exc:
        archive.store_file(fetch_request, fetched.path, parse_error=str(exc), **stored)
        return {"entry": None, "error": str(exc)}
    return {"entry": archive.store_file(fetch_request, fetched.path, **stored).to_json(), "error": None}


@task(name="detail-partition", task_run_name="detail-{label}")
def ingest_task(label: str, entry: dict | None, block_mb: int) -> dict:
    """Ingest one archived bulk file into its partition (:func:`flows.detail.ingest_archived`).

    ``entry`` may be a download result (``{"entry": ..., "error": ...}``) or a manifest entry.
    A rejected file is re-archived with its parse error (so it is not taken as held) and
    reported as ``{"status": "rejected", "error": ...}``.
    """
    if entry is not None and "entry" in entry and "sha256" not in entry:
        if entry["entry"] is None:
            return {"label": label, "status": "not-downloaded", "error": entry.get("error")}
        entry = entry["entry"]
    if entry is None:
        return {"label": label, "status": "not-downloaded", "error": None}
    settings = get_settings()
    archive = bulk_archive(settings)
    manifest_entry = ManifestEntry.from_json(entry)
    try:
        result: PartitionResult = ingest_archived(
            archive, manifest_entry, settings.warehouse, block_bytes=block_mb << 20
        )
    except (SourceError, UnknownCodeError) as exc:
        archive.store_file(  # a new manifest line for the object in place, never read whole
            manifest_entry.request, archive.path_of(manifest_entry.sha256),
            sha256=manifest_entry.sha256, status=manifest_entry.status,
            content_type=manifest_entry.content_type, parse_error=str(exc),
        )  # fmt: skip
        return {"label": label, "status": "rejected", "error": str(exc)}
    return {"label": label, **result.to_json(), "error": None}


# --------------------------------------------------------------------------------------------
# flow


def _window(period_start: date | None, period_end: date | None, freq: str) -> tuple[date, date]:
    today = date.today()
    end = period_end or add_months(date(today.year, today.month, 1), -1)
    start = period_start or (date(end.year, 1, 1) if freq == "A" else add_months(end, -11))
    return date(start.year, start.month, 1), date(end.year, end.month, 1)


def _label(bulk_file: comtrade_bulk.BulkFile) -> str:
    return f"{bulk_file.reporter}-{bulk_file.period}"


def archived_inputs(
    archive: Archive, reporter_codes: set[int], periods: set[str], freq: str, search: str
) -> list[ManifestEntry]:
    """The latest accepted archived file per dataset for these reporters, periods, frequency
    and listing classification, in a stable order."""
    chosen = []
    for entry in comtrade_bulk.held_files(archive.entries()).values():
        bulk_file = comtrade_bulk.BulkFile.from_request(entry.request)
        if (
            bulk_file.reporter_code in reporter_codes
            and bulk_file.period in periods
            and bulk_file.freq == freq
            and bulk_file.search == search
        ):
            chosen.append(entry)
    return sorted(chosen, key=lambda e: (e.request.reporter or "", e.request.meta["period"]))


@flow(name="comtrade-bulk-detail", log_prints=True)
def comtrade_bulk_detail(
    reporters: list[str],
    period_start: date | None = None,
    period_end: date | None = None,
    frequency: Literal["M", "A"] = "M",
    classification: str = "HS",
    offline: bool = False,
) -> dict[str, Any]:
    """List, download (new or revised files only) and ingest UN Comtrade bulk detail.

    Args:
        reporters: Reporters, ISO 3166-1 alpha-3 (Comtrade codes via
            :func:`flows.sources.comtrade.comtrade_code`).
        period_start: First month (annual: its year); default 11 months before period_end
            (annual: January of period_end's year).
        period_end: Last month; default last month.
        frequency: M (monthly files) or A (annual files).
        classification: HS (each reporter's own edition) or one edition H0…H6.
        offline: No network: ingest what the bulk archive holds.

    Returns ``{"listed", "skipped_not_hs", "downloads", "download_errors", "partitions":
    {status: count}, "rows", "errors": [...]}``.
    """
    settings = get_settings()
    config = ScaleOutSettings()
    log = _logger()
    freq = frequency.upper()
    start, end = _window(period_start, period_end, freq)
    periods = comtrade_bulk.window_periods(start, end, freq)
    codes = {r.upper(): comtrade.comtrade_code(r, kind="reporter") for r in reporters}
    archive = bulk_archive(settings)
    summary: dict[str, Any] = {
        "listed": 0, "skipped_not_hs": 0, "downloads": 0, "download_errors": 0,
        "partitions": {}, "rows": 0, "errors": [],
    }  # fmt: skip
    ingests = []
    downloaded: set[str] = set()
    if not offline:
        ensure_rate_limit(config.bulk_requests_per_minute)
        base = settings.base_url(comtrade.NAME)
        requests = comtrade_bulk.listing_requests(
            base, codes.values(), start, end, freq=freq, classification=classification
        )
        listings = [
            listing_task.submit(f"{r.params.get('reporterCode')}-{i}", r.to_json())
            for i, r in enumerate(requests)
        ]
        listed: list[comtrade_bulk.BulkFile] = []
        for future in listings:
            result = future.result()
            if result["error"]:
                summary["errors"].append(result["error"])
            for meta in result["files"]:
                bulk_file = comtrade_bulk.BulkFile.from_meta(meta)
                if bulk_file.period in periods:
                    listed.append(bulk_file)
        summary["listed"] = len(listed)
        wanted, skipped = comtrade_bulk.plan_downloads(base, listed, archive.entries())
        summary["skipped_not_hs"] = len(skipped)
        for request in wanted:
            bulk_file = comtrade_bulk.BulkFile.from_request(request)
            label = _label(bulk_file)
            download = download_task.submit(label, request.to_json())
            ingests.append(ingest_task.submit(label, download, config.detail_block_mb))
            downloaded.add(label)
        summary["downloads"] = len(wanted)
    for entry in archived_inputs(archive, set(codes.values()), set(periods), freq, classification):
        label = _label(comtrade_bulk.BulkFile.from_request(entry.request))
        if label not in downloaded:  # held already: ingest is a no-op unless the partition changed
            ingests.append(ingest_task.submit(label, entry.to_json(), config.detail_block_mb))
    for future in ingests:
        result = future.result()
        status = result["status"]
        summary["partitions"][status] = summary["partitions"].get(status, 0) + 1
        summary["rows"] += result.get("rows", 0) if status != "rejected" else 0
        if status == "not-downloaded" and result.get("error"):
            summary["download_errors"] += 1
        if result.get("error"):
            summary["errors"].append(f"{result['label']}: {result['error']}")
    for line in summary["errors"]:
        log.warning(line)
    log.info("comtrade bulk detail: %s", {k: v for k, v in summary.items() if k != "errors"})
    return summary


def run_comtrade_bulk_detail(config: ScaleOutSettings | None = None, **parameters: Any) -> dict:
    """Run :func:`comtrade_bulk_detail` with the task runner ``config`` selects."""
    config = config or ScaleOutSettings()
    return comtrade_bulk_detail.with_options(task_runner=make_task_runner(config))(**parameters)
