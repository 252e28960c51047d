"""The Prefect flow ``monthly-refresh``: plan → fetch → load → models → tests → publish → report.

Tasks do one thing each and call the plain functions of :mod:`flows.fetch`, :mod:`flows.build`
and :mod:`flows.publish`; tests call those functions directly. The flow runs in-process from the
CLI (no server needed), from a deployment (``prefect.yaml``) or from ``trade-imbalance serve``.
"""

from __future__ import annotations

import logging
from datetime import date
from enum import StrEnum
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.exceptions import MissingContextError

from flows.archive import Archive
from flows.build import build_models, check_data, fingerprint, load_archive
from flows.fetch import SourceOutcome, fetch_source
from flows.parameters import ModelParameters
from flows.publish import (
    WriterBusy,
    export_marts,
    publish,
    published_fingerprint,
    staging_path,
    writer_lock,
)
from flows.report import RunResult, summary_markdown
from flows.scope import DEFAULT_PARTNERS, DEFAULT_REPORTERS, RunScope
from flows.settings import get_settings
from flows.sources import SOURCE_NAMES

Source = StrEnum("Source", {name.upper(): name for name in SOURCE_NAMES})
Source.__doc__ = "A publisher key."


def _logger() -> logging.Logger:
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("trade_imbalance")


@task(name="fetch-source", task_run_name="fetch-{name}")
def fetch_task(name: str, scope: RunScope) -> SourceOutcome:
    """Plan and fetch one publisher into the raw archive (never raises for publisher problems)."""
    settings = get_settings()
    log = _logger()
    outcome = fetch_source(name, scope, settings, Archive(settings.raw_dir), progress=log.info)
    (log.warning if not outcome.ok else log.info)(outcome.line())
    return outcome


@task(name="load")
def load_task(path: Path, parameters: ModelParameters) -> dict[str, int]:
    """Replay the archive into a new warehouse file; returns rows loaded per source."""
    settings = get_settings()
    stats = load_archive(Archive(settings.raw_dir), path, parameters=parameters, progress=_logger().info)
    return stats.rows_by_source


@task(name="models")
def models_task(path: Path) -> list[str]:
    """Build the SQL models (staging → intermediate → marts) in the new file."""
    return build_models(path)


@task(name="data-tests")
def tests_task(path: Path) -> dict[str, int]:
    """Run sql/tests; fails the run on any offending row."""
    return check_data(path)


@task(name="publish")
def publish_task(path: Path, database: Path) -> list[str]:
    """Swap the new file in atomically and refresh the Parquet exports."""
    publish(path, database)
    return [str(p) for p in export_marts(database, database.parent / "exports")]


@flow(name="monthly-refresh", log_prints=True)
def monthly_refresh(
    sources: list[Source] = list(Source),  # noqa: B006, B008 - defaults render in the Prefect UI form
    reporters: list[str] = list(DEFAULT_REPORTERS),  # noqa: B006, B008
    partners: list[str] = list(DEFAULT_PARTNERS),  # noqa: B006, B008
    period_start: date | None = None,
    period_end: date | None = None,
    force: bool = False,
    offline: bool = False,
    parameters: ModelParameters = ModelParameters(),  # noqa: B008
    comtrade_frequency: str = "M",
) -> dict:
    """Refresh the warehouse: fetch what is new, rebuild, test and publish atomically.

    Args:
        sources: Publishers to refresh (ecb = ECB exchange rates for USD conversion).
        reporters: Reporters, ISO 3166-1 alpha-3 (EU27_2020 for the European Union).
        partners: Partners asked for where a publisher needs an explicit list (WLD = world).
        period_start: First month of the window (default: 23 months before period_end).
        period_end: Last month of the window (default: last month).
        force: Re-fetch everything, even what the raw archive already holds, and rebuild.
        offline: No network: rebuild the warehouse from the raw archive only.
        parameters: Model parameters (CIF/FOB factor, signal thresholds, peer set, focus reporter).
        comtrade_frequency: UN Comtrade frequency, M (monthly) or A (annual).

    Returns a summary dict (``status``: ok / unchanged / partial / failed, ``exit_code``,
    per-source ``lines``, ``rows_by_source``). Raises when the build, models or data tests fail;
    the published warehouse is then left exactly as it was.
    """
    settings = get_settings()
    log = _logger()
    scope = RunScope(
        sources=tuple(Source(s).value for s in sources),
        reporters=tuple(reporters),
        partners=tuple(partners),
        period_start=period_start,
        period_end=period_end,
        force=force,
        offline=offline,
        options={"comtrade_frequency": comtrade_frequency},
    ).resolved()
    database = settings.database_path
    result = RunResult(database=str(database))
    archive = Archive(settings.raw_dir)
    try:
        with writer_lock(settings.warehouse, timeout=0):
            if not offline:
                log.info(
                    "refreshing %s for %s, %s to %s",
                    ", ".join(scope.sources), ", ".join(scope.reporters),
                    f"{scope.period_start:%Y-%m}", f"{scope.period_end:%Y-%m}",
                )
                result.outcomes = [fetch_task(name, scope) for name in scope.sources]
            fp = fingerprint(archive, parameters=parameters)
            if not force and database.exists() and published_fingerprint(database) == fp:
                result.status = "unchanged"
            else:
                path = staging_path(database)
                try:
                    result.rows_by_source = load_task(path, parameters)
                    result.models = models_task(path)
                    result.data_tests = tests_task(path)
                    publish_task(path, database)
                    result.published = True
                finally:
                    for leftover in (path, path.with_name(path.name + ".wal")):
                        leftover.unlink(missing_ok=True)
            if not all(o.ok for o in result.outcomes):
                result.status = "partial"
    except WriterBusy as exc:
        result.status, result.error = "failed", str(exc)
    except Exception as exc:
        result.status, result.error = "failed", f"{type(exc).__name__}: {exc}"
        _artifact(result, database, parameters.focus_reporter)
        raise
    for line in result.lines():
        (log.warning if result.status in ("partial", "failed") else log.info)(line)
    _artifact(result, database, parameters.focus_reporter)
    return {
        "status": result.status,
        "exit_code": result.exit_code,
        "lines": result.lines(),
        "rows_by_source": result.rows_by_source,
        "published": result.published,
        "database": str(database),
    }


def _artifact(result: RunResult, database: Path, reporter: str) -> None:
    try:
        create_markdown_artifact(
            key="trade-imbalance-refresh",
            markdown=summary_markdown(result, database, reporter),
            description=f"Refresh {result.status}",
        )
    except Exception as exc:  # noqa: BLE001 - a report must never fail the data run
        _logger().warning("could not create the run artifact: %s", exc)
