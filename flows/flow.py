"""The Prefect flow ``monthly-refresh``: plan → fetch → load → models → tests → publish → report.

Tasks do one thing each and call the plain functions of :mod:`flows.fetch`, :mod:`flows.build`
and :mod:`flows.publish`; tests call those functions directly. The flow runs in-process from the
CLI (no server needed), from a deployment (``prefect.yaml``) or from ``trade-imbalance serve``
(:func:`deployments`). Its parameters are typed (enums of publishers and ISO3 codes, dates,
booleans, a pydantic model) so the Prefect UI renders them as a form.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Literal

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.exceptions import MissingContextError
from prefect.states import Cancelled, Completed, Failed, State

from flows.archive import Archive
from flows.build import build_models, check_data, effective_entries, fingerprint, load_archive
from flows.faults import kill_point
from flows.fetch import SourceOutcome, fetch_source
from flows.http import run_budget
from flows.parameters import ModelParameters
from flows.publish import (
    WriterBusy,
    building,
    export_marts,
    publish,
    published_fingerprint,
    remove_stale_builds,
    writer_lock,
)
from flows.report import (
    RunResult,
    read_last_run,
    summary_markdown,
    write_last_run,
    write_report,
)
from flows.schema import add_months
from flows.scope import DEFAULT_PARTNERS, DEFAULT_REPORTERS, Partner, Reporter, RunScope
from flows.settings import get_settings
from flows.sources import SOURCE_NAMES

#: Key of the markdown artifact of every run (keyed, so the UI compares runs).
ARTIFACT_KEY = "trade-imbalance-refresh"

Source = StrEnum("Source", {name.upper(): name for name in SOURCE_NAMES})
Source.__doc__ = "A publisher key."


#: A progress listener gets (message, kind): kind ``step`` (a stage starts), ``detail`` (one
#: request) or ``done`` (a source or stage finished; the message is its summary line).
ProgressListener = Callable[[str, str], None]
_listeners: list[ProgressListener] = []


@contextmanager
def progress_listener(listener: ProgressListener) -> Iterator[None]:
    """Send the flow's progress messages to ``listener`` while the block runs (the CLI's display)."""
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)


def _progress(message: str, kind: str = "step") -> None:
    for listener in list(_listeners):
        try:
            listener(message, kind)
        except Exception:  # noqa: BLE001 - a display must never break a run
            pass


def _logger() -> logging.Logger:
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("trade_imbalance")


@task(name="fetch-source", task_run_name="fetch-{name}")
def fetch_task(name: str, scope: RunScope, history: RunScope | None = None) -> SourceOutcome:
    """Plan and fetch one publisher into the raw archive (never raises for publisher problems).

    ``history``: an older window for the focus reporter (the backfill, see
    :func:`history_scope`); what the archive already holds of it is reused, not fetched again.
    """
    settings = get_settings()
    log = _logger()

    def progress(message: str) -> None:
        log.info(message)
        _progress(message, "detail")

    _progress(f"{name}: planning requests")
    archive = Archive(settings.raw_dir)
    outcome = fetch_source(name, scope, settings, archive, progress=progress)
    if history is not None and outcome.unreachable is None:
        older = fetch_source(name, history, settings, archive, progress=progress)
        outcome.absorb(older)
    (log.warning if not outcome.ok else log.info)(outcome.line())
    _progress(outcome.line(), "done")
    _announce_quarantines(outcome)
    return outcome


#: Months of monthly history the default refresh keeps for the focus reporter (seasonal
#: adjustment needs long series: issue "Seasonally adjusted"); fetched once, then reused.
HISTORY_MONTHS = 120


def history_scope(scope: RunScope, parameters: ModelParameters, settings) -> RunScope | None:
    """The backfill window of a default refresh: the focus reporter (``focus_reporter``, and the
    US for the US Census's mirror of it) from :data:`HISTORY_MONTHS` before the window's end to
    the month before the window. Archived months outside the revision window are reused, so after
    the first run this sends no request."""
    start = add_months(scope.period_end, -(HISTORY_MONTHS - 1))
    if start >= scope.period_start:
        return None
    reporters = tuple(dict.fromkeys([str(parameters.focus_reporter), "USA"]))
    return RunScope(
        sources=scope.sources, reporters=reporters, partners=scope.partners,
        period_start=start, period_end=add_months(scope.period_start, -1),
        force=False, offline=False, options=dict(scope.options),
    )


def _history_for(name: str, history: RunScope | None, settings) -> RunScope | None:
    """The backfill of one source: every source (the ECB too, for the USD conversion of those
    months) but UN Comtrade without a key, whose keyless preview takes one period a call at 12 s
    each: ten years would take hours and its quota."""
    if name == "comtrade" and settings.comtrade_api_key is None:
        return None
    return history


def _announce_quarantines(outcome: SourceOutcome) -> None:
    """Emit the event ``trade-imbalance.payload.quarantined`` once per payload quarantined (or
    rejected) for the first time, so an alert fires once, not on every run that re-fetches it."""
    if not outcome.new_quarantines:
        return
    try:
        from prefect.events import emit_event

        for sha in outcome.new_quarantines:
            line = next((q for q in outcome.quarantined if q.startswith(sha[:12])), "")
            emit_event(
                event="trade-imbalance.payload.quarantined",
                resource={"prefect.resource.id": f"trade-imbalance.payload.{sha}",
                          "prefect.resource.name": f"{outcome.source} payload {sha[:12]}"},
                payload={"source": outcome.source, "reason": line[:1000]},
            )
    except Exception as exc:  # noqa: BLE001 - an event must never fail the data run
        _logger().warning("could not emit the quarantine event: %s", exc)


@task(name="load")
def load_task(path: Path, parameters: ModelParameters) -> dict[str, int]:
    """Replay the archive into a new warehouse file; returns its rows per source."""
    settings = get_settings()
    log = _logger()

    def progress(message: str) -> None:
        log.info(message)
        _progress(message)

    stats = load_archive(Archive(settings.raw_dir), path, parameters=parameters, progress=progress)
    return stats.rows_by_source


@task(name="models")
def models_task(path: Path) -> list[str]:
    """Build the SQL models (staging → intermediate → marts) in the new file."""
    _progress("models: running the SQL models")
    return build_models(path)


@task(name="data-tests")
def tests_task(path: Path) -> dict[str, int]:
    """Run sql/tests; fails the run on any offending row."""
    _progress("data tests: running sql/tests")
    return check_data(path)


@task(name="publish")
def publish_task(path: Path, database: Path) -> list[str]:
    """Swap the new file in atomically and refresh the Parquet exports."""
    _progress(f"publish: replacing {database}")
    publish(path, database)
    return [str(p) for p in export_marts(database, database.parent / "exports")]


@flow(name="monthly-refresh", log_prints=True)
def monthly_refresh(
    sources: list[Source] = list(Source),  # noqa: B006, B008 - defaults render in the Prefect UI form
    reporters: list[Reporter] = list(DEFAULT_REPORTERS),  # noqa: B006, B008
    partners: list[Partner] = list(DEFAULT_PARTNERS),  # noqa: B006, B008
    period_start: date | None = None,
    period_end: date | None = None,
    force: bool = False,
    offline: bool = False,
    parameters: ModelParameters = ModelParameters(),  # noqa: B008
    comtrade_frequency: Literal["M", "A"] = "M",
    imf_frequency: Literal["M", "A"] = "M",
) -> State:
    """Refresh the warehouse: fetch what is new, rebuild, test and publish atomically.

    Args:
        sources: Publishers to refresh (ecb = ECB exchange rates for USD conversion).
        reporters: Reporters, ISO 3166-1 alpha-3 (EU27_2020 for the European Union, EA20 for the
            euro area).
        partners: Partners asked for where a publisher needs an explicit list (WLD = world).
        period_start: First month of the window, e.g. 2025-01-01 (default: 23 months before
            period_end).
        period_end: Last month of the window, e.g. 2026-03-01 (default: last month).
        force: Re-fetch everything, even what the raw archive already holds, and rebuild.
        offline: No network: rebuild the warehouse from the raw archive only.
        parameters: Model parameters (CIF/FOB factor, signal thresholds, peer set, focus reporter).
        comtrade_frequency: UN Comtrade frequency, M (monthly) or A (annual).
        imf_frequency: IMF IMTS frequency, M (monthly) or A (annual).

    Ends in the state :func:`final_state` chooses, whose data is a summary dict (``status``: ok /
    unchanged / partial / busy / failed, ``exit_code``, per-source ``lines``, ``rows_by_source``,
    ``published``, ``database``, ``report``); call it with ``return_state=True`` (or use
    :func:`run_refresh`) to read it whatever the state. Raises when the build, models or data
    tests fail; the published warehouse is then left exactly as it was. When no source can be
    refreshed and the archive holds nothing new, nothing is published (``failed``). When another
    refresh holds the writer lock it does nothing (``busy``).
    """
    settings = get_settings()
    log = _logger()
    scope = RunScope(
        sources=tuple(Source(s).value for s in sources),
        reporters=tuple(str(r) for r in reporters),
        partners=tuple(str(p) for p in partners),
        period_start=period_start,
        period_end=period_end,
        force=force,
        offline=offline,
        options={"comtrade_frequency": comtrade_frequency, "imf_frequency": imf_frequency},
    ).resolved(settings.run_date())
    database = settings.database_path
    result = RunResult(database=str(database))
    archive = Archive(settings.raw_dir)
    try:
        with writer_lock(settings.warehouse, timeout=0):
            for stale in remove_stale_builds(database):
                log.warning("removed %s, left behind by an interrupted refresh", stale)
            if not offline:
                log.info(
                    "refreshing %s for %s, %s to %s",
                    ", ".join(scope.sources), ", ".join(scope.reporters),
                    f"{scope.period_start:%Y-%m}", f"{scope.period_end:%Y-%m}",
                )
                history = history_scope(scope, parameters, settings) if period_start is None else None
                with run_budget(settings.run_budget):  # then every source stops fetching
                    result.outcomes = [
                        fetch_task(name, scope, _history_for(name, history, settings))
                        for name in scope.sources
                    ]
                kill_point("flow:fetched")
            fp = fingerprint(archive, parameters=parameters)
            published_fp = published_fingerprint(database) if database.exists() else None
            archive_has_news = (
                published_fp != fp if published_fp is not None else bool(effective_entries(archive))
            )
            if result.outcomes and not any(o.ok for o in result.outcomes) and not archive_has_news:
                # Never publish less than before without saying so: no publisher answered and
                # the archive holds nothing new, so the published warehouse stays as it was.
                result.status = "failed"
                result.error = (
                    "no source could be refreshed; nothing was published and "
                    f"{database} was left as it was"
                )
            elif not force and published_fp == fp:
                result.status = "unchanged"
            else:
                with building(database) as path:
                    result.rows_by_source = load_task(path, parameters)
                    result.models = models_task(path)
                    result.data_tests = tests_task(path)
                    publish_task(path, database)
                    result.published = True
                    kill_point("flow:published")
            if result.status != "failed" and not all(o.ok for o in result.outcomes):
                result.status = "partial"
    except WriterBusy as exc:
        result.status, result.error = "busy", str(exc)
    except Exception as exc:
        result.status, result.error = "failed", f"{type(exc).__name__}: {exc}"
        _report(result, database, parameters)
        raise
    for line in result.lines():
        (log.warning if result.status in ("partial", "failed", "busy") else log.info)(line)
    report = _report(result, database, parameters)
    summary = {
        "status": result.status,
        "exit_code": result.exit_code,
        "lines": result.lines(),
        "rows_by_source": result.rows_by_source,
        "published": result.published,
        "database": str(database),
        "report": report,
    }
    return final_state(result, summary)


def final_state(result: RunResult, summary: dict) -> State:
    """The flow run's final Prefect state, chosen so the UI and automations tell the truth.

    * ``ok`` / ``unchanged`` → ``Completed`` (type COMPLETED, green).
    * ``partial`` → a state **named** ``Partial`` of type **FAILED**: something the run was
      asked for did not arrive (a source failed, a payload was quarantined). Type FAILED, not
      COMPLETED, so the UI shows it red and dashboards count it; being custom-named, Prefect
      emits the event ``prefect.flow-run.Partial`` (not ``prefect.flow-run.Failed``), so alerts
      match on that name (``automations.yaml``).
    * ``failed`` (nothing could be refreshed, nothing published) → ``Failed`` (type FAILED,
      event ``prefect.flow-run.Failed``). A build or data-test failure raises instead, which
      Prefect also records as ``Failed``.
    * ``busy`` → a state named ``Busy`` of type **CANCELLED**: the run did nothing because
      another refresh holds the writer lock — neither success nor a data failure; grey in the
      UI, event ``prefect.flow-run.Busy``.

    The state's data is the run summary (``status``, ``exit_code``, ``lines``, ...).
    """
    missing = [o.source for o in result.outcomes if not o.ok]
    message = "; ".join(summary["lines"][-2:])
    if missing:
        message = f"not refreshed: {', '.join(missing)}; {message}"
    message = message[:500]
    if result.status in ("ok", "unchanged"):
        return Completed(message=message, data=summary)
    if result.status == "partial":
        return Failed(name="Partial", message=message, data=summary)
    if result.status == "busy":
        return Cancelled(name="Busy", message=message, data=summary)
    return Failed(message=message, data=summary)


def run_refresh(**kwargs) -> tuple[State, dict]:
    """Run :func:`monthly_refresh` in-process and return ``(final state, summary)``.

    The summary is the flow's (see :func:`final_state`); when the flow raised (build, models or
    data tests failed), a summary with status ``failed``, exit code 1 and the error line.
    """
    state = monthly_refresh(**kwargs, return_state=True)
    data = state.result(raise_on_failure=False)
    if isinstance(data, dict) and "exit_code" in data:
        return state, data
    error = data if isinstance(data, BaseException) else state.message
    line = f"FAILED: {type(error).__name__}: {error}" if isinstance(error, BaseException) else (
        f"FAILED: {error}"
    )
    return state, {
        "status": "failed",
        "exit_code": RunResult.EXIT_CODES["failed"],
        "lines": [line, "The published warehouse was left as it was."],
        "published": False,
        "report": None,
    }


def _report(result: RunResult, database: Path, parameters: ModelParameters) -> str | None:
    """Write the HTML report and chart, the last-run record and the keyed artifact.

    A run that changed nothing (``unchanged``) reuses the last report (:func:`_unchanged_report`).
    Never raises: a report must not fail the data run. Returns the HTML report's path.
    """
    log = _logger()
    reports = database.parent / "reports"
    # Nothing changed: the last report still describes the published warehouse; not redrawn.
    page, markdown = _unchanged_report(result, reports)
    if page is None:
        _progress("report: writing the run report")
        try:
            files = write_report(
                result, database, parameters.focus_reporter, list(parameters.peer_set), reports
            )
            page, markdown = files.html, files.markdown
            if files.chart_error:
                log.warning("run report: %s", files.chart_error)
        except Exception as exc:  # noqa: BLE001 - a report must never fail the data run
            log.warning("could not write the run report: %s: %s", type(exc).__name__, exc)
    try:
        write_last_run(result, reports, page)
    except Exception as exc:  # noqa: BLE001
        log.warning("could not record the run: %s: %s", type(exc).__name__, exc)
    try:
        create_markdown_artifact(
            key=ARTIFACT_KEY,
            markdown=markdown or summary_markdown(
                result, database, parameters.focus_reporter, chart_error="the report failed"
            ),
            description=f"Refresh {result.status}",
        )
    except Exception as exc:  # noqa: BLE001 - a report must never fail the data run
        log.warning("could not create the run artifact: %s", exc)
    return str(page) if page else None


def _unchanged_report(result: RunResult, reports: Path) -> tuple[Path | None, str | None]:
    """The last report and a short markdown artifact when the run changed nothing, else (None, None).

    ``unchanged`` means the published warehouse is the one the last report was drawn from, so
    drawing the chart and the page again would reproduce them: the run reuses the report the last
    run record names (when it still exists) and its artifact says so, without opening the
    warehouse.
    """
    if result.status != "unchanged" or result.error:
        return None, None
    last = read_last_run(reports)
    previous = Path(last["report"]) if last and last.get("report") else None
    if previous is None or not previous.is_file():
        return None, None
    lines = "\n".join(f"- {line}" for line in result.lines())
    markdown = (
        f"# Trade-imbalance refresh: {result.status}\n\n{lines}\n\n"
        "Nothing new since the last build: the published warehouse, its report and chart are "
        f"unchanged.\n\nFull report (on the machine that ran the flow): `{previous.resolve()}`\n"
    )
    return previous, markdown


def deployments():
    """The ``monthly-refresh`` and ``rebuild`` deployments for ``trade-imbalance serve``.

    Same names, schedules, parameters and concurrency limit as ``prefect.yaml``
    (:mod:`flows.schedules` is the one source of truth), without a work pool: the serving process
    runs them itself.
    """
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy

    from flows import schedules

    def limit() -> ConcurrencyLimitConfig:
        return ConcurrencyLimitConfig(
            limit=schedules.CONCURRENCY_LIMIT, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE
        )

    return [
        monthly_refresh.to_deployment(
            name=schedules.MONTHLY_REFRESH_DEPLOYMENT,
            schedules=[spec.to_prefect() for spec in schedules.MONTHLY_REFRESH_SCHEDULES],
            concurrency_limit=limit(),
            tags=["trade-imbalance"],
            description="Monthly refresh after the publishers' release days: fetch what is new, "
            "rebuild, test and publish warehouse/trade.duckdb atomically.",
        ),
        monthly_refresh.to_deployment(
            name=schedules.REBUILD_DEPLOYMENT,
            parameters=dict(schedules.REBUILD_PARAMETERS),
            concurrency_limit=limit(),
            tags=["trade-imbalance"],
            description="Rebuild warehouse/trade.duckdb from the raw archive alone (no network).",
        ),
    ]
