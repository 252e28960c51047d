"""The ``trade-imbalance`` command line.

Commands: ``refresh`` (fetch, rebuild, test, publish; progress on stderr), ``rebuild`` (offline),
``status`` (coverage and staleness per source, last run), ``report`` (the latest report),
``query "SQL"`` (read-only), ``serve`` (the scheduled deployments in one process).

Exit codes (:data:`EXIT_CODES`): 0 success (or nothing new), 1 failed (nothing published; the
previous warehouse is intact), 2 usage error (bad option, a query that would write), 3 partial
(published, but at least one source was not refreshed), 4 busy (another refresh is writing;
nothing was done).
"""

from __future__ import annotations

import logging
import os
import re
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from flows.seasonal.cli import adjust

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")  # nor Prefect's client-side telemetry
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")

#: Exit codes of every command (also in the README and ``trade-imbalance --help``).
EXIT_CODES = {
    0: "success (or nothing new to publish)",
    1: "failed: nothing was published, the previous warehouse is intact",
    2: "usage error (unknown option or value, a query that would write)",
    3: "partial: published, but at least one source was not refreshed",
    4: "busy: another refresh is writing the warehouse; nothing was done",
}
_EPILOG = "Exit codes:\n\n\b\n" + "\n".join(f"  {code}  {text}" for code, text in EXIT_CODES.items())

app = typer.Typer(
    help="Trade-imbalance monitoring from official customs statistics "
    "(GACC, UN Comtrade, US Census, IMF IMTS, Eurostat) into warehouse/trade.duckdb. "
    "Settings come from TRADE_IMBALANCE_* environment variables or .env (see the README).",
    epilog=_EPILOG,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


# -- helpers ----------------------------------------------------------------------------------


def _month(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    if not re.fullmatch(r"(19|20)\d\d-\d\d", text.strip()):
        raise typer.BadParameter(f"{text!r} is not a month like 2025-03", param_hint=option)
    year, month = text.strip().split("-")
    try:
        return date(int(year), int(month), 1)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a month like 2025-03", param_hint=option) from None


def _codes(values: list[str] | None, default: tuple[str, ...], enum_name: str, option: str) -> list[str]:
    from flows import flow

    known = getattr(flow, enum_name)
    codes = [v.upper() for v in values] if values else list(default)
    unknown = [c for c in codes if c not in known.__members__]
    if unknown:
        raise typer.BadParameter(
            f"unknown code(s) {', '.join(unknown)}: use ISO 3166-1 alpha-3 (e.g. CHN, USA), "
            "EU27_2020" + (", EA20, EA21" if enum_name == "Reporter" else " or WLD"),
            param_hint=option,
        )
    return codes


def _parameters(pairs: list[str]):
    from flows.parameters import ModelParameters

    values: dict[str, object] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or name not in ModelParameters.model_fields:
            known = ", ".join(ModelParameters.model_fields)
            raise typer.BadParameter(f"{pair!r}: expected name=value with name in: {known}",
                                     param_hint="--param")
        if name == "peer_set":
            values[name] = [c.strip().upper() for c in value.strip().strip("[]").split(",")]
        elif name == "focus_reporter":
            values[name] = value.strip().upper()
        else:
            values[name] = value
    try:
        return ModelParameters(**values)
    except ValueError as exc:
        errors = getattr(exc, "errors", lambda: [])()
        text = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors
        ) or str(exc)
        if any(e["loc"][0] in ("peer_set", "focus_reporter") for e in errors):
            text = text.split(": Input should be")[0] + ": not a reporter code (ISO 3166-1 alpha-3, " \
                "EU27_2020, EA20 or EA21)"
        raise typer.BadParameter(text[:600], param_hint="--param") from None


def _quiet_prefect(verbose: bool) -> None:
    """Prefect's run logs only with --verbose; the command prints its own progress and summary.

    Must run before Prefect is imported (its logging is configured on import).
    """
    os.environ["PREFECT_LOGGING_LEVEL"] = "INFO" if verbose else "ERROR"
    # urllib3 logs every retry as a warning; the per-source summary line already says what failed.
    logging.getLogger("urllib3").setLevel(logging.DEBUG if verbose else logging.ERROR)


class _Progress:
    """Progress on stderr: a spinner with the current step on a terminal, else one line a step."""

    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console(stderr=True)
        self.live = self.console.is_terminal
        self.status = None

    def __enter__(self) -> _Progress:
        message = "starting Prefect (its in-process API can take up to a minute to start)"
        if self.live:
            self.status = self.console.status(message)
            self.status.start()
        else:
            typer.echo(message, err=True)
        return self

    def __call__(self, message: str, kind: str) -> None:
        if self.status is not None:
            self.status.update(message)
        elif kind == "step":
            typer.echo(message, err=True)

    def __exit__(self, *exc) -> None:
        if self.status is not None:
            self.status.stop()


def _run(**kwargs) -> None:
    """Run the flow, print its lines and exit with the code its final state maps to."""
    from flows.flow import progress_listener, run_refresh

    with _Progress() as progress, progress_listener(progress):
        state, summary = run_refresh(**kwargs)
    failed_to_build = summary["status"] == "failed" and not summary.get("database")
    for line in summary["lines"]:
        typer.echo(line, err=failed_to_build)
    if summary.get("report"):
        typer.echo(f"report: {summary['report']}")
    raise typer.Exit(exit_code_of(state, summary))


def exit_code_of(state, summary: dict) -> int:
    """The CLI exit code of a run's final state: Completed → 0, ``Partial`` → 3, ``Busy`` → 4,
    any other Failed/Crashed/Cancelled → 1 (the summary's own code, when the flow wrote one,
    must agree)."""
    by_name = {"Completed": 0, "Partial": 3, "Busy": 4}
    if state.is_completed():
        return 0
    return by_name.get(state.name, 1)


def _settings():
    from flows.settings import get_settings

    return get_settings()


def _require_warehouse() -> Path:
    database = _settings().database_path
    if not database.exists():
        typer.echo(f"no warehouse at {database}: run `trade-imbalance refresh` first", err=True)
        raise typer.Exit(1)
    return database


def _console():
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        console = Console(width=200)
    return console


def _cell(value: object) -> object:
    """A query result cell for the table view: floats with thousands separators and no
    exponent (``204,500,000,000``; ``0.059``), everything else as it is. csv/json stay exact."""
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        if value.is_integer() and abs(value) >= 1e4:
            return f"{value:,.0f}"
        return f"{value:,.6g}" if abs(value) < 1e4 else f"{value:,.2f}"
    return value


def _table(title: str | None, columns: list[str], rows: list[list[object]]):
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("NULL" if v is None else str(v) for v in row))
    return table


# -- commands ---------------------------------------------------------------------------------


@app.command()
def refresh(
    source: Annotated[list[str] | None, typer.Option(
        "--source", "-s", metavar="NAME",
        help="Publisher to refresh (repeatable): gacc, comtrade, imf, census, eurostat, ecb. "
        "Default: all.")] = None,
    reporter: Annotated[list[str] | None, typer.Option(
        "--reporter", "-r", metavar="ISO3",
        help="Reporter ISO3 (repeatable). Default: CHN USA VNM IND EU27_2020.")] = None,
    partner: Annotated[list[str] | None, typer.Option(
        "--partner", "-p", metavar="ISO3",
        help="Partner ISO3 (repeatable), where a publisher needs a list; WLD = world.")] = None,
    from_month: Annotated[str | None, typer.Option(
        "--from", metavar="YYYY-MM", help="First month, YYYY-MM. Default: 23 months before --to.")] = None,
    to_month: Annotated[str | None, typer.Option(
        "--to", metavar="YYYY-MM", help="Last month, YYYY-MM. Default: last month.")] = None,
    offline: Annotated[bool, typer.Option(
        "--offline", help="No network: rebuild the warehouse from the raw archive only.")] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="Re-fetch what the archive already holds, and rebuild.")] = False,
    comtrade_frequency: Annotated[str, typer.Option(
        "--comtrade-frequency", metavar="M|A",
        help="UN Comtrade frequency: M (monthly) or A (annual).")] = "M",
    imf_frequency: Annotated[str, typer.Option(
        "--imf-frequency", metavar="M|A",
        help="IMF IMTS frequency: M (monthly) or A (annual).")] = "M",
    scope: Annotated[str, typer.Option(
        "--scope", metavar="default|reliability",
        help="reliability: instead of the reporters above, UN Comtrade annual totals among 32 "
        "large traders for the --from/--to years, the scope marts.reconciled_flows needs for "
        "meaningful reporter weights (a key is advised).")] = "default",
    param: Annotated[list[str] | None, typer.Option(
        "--param", metavar="NAME=VALUE",
        help="Model parameter name=value (repeatable), e.g. cif_fob_factor=1.05.")] = None,
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="Show Prefect's run logs instead of the progress display.")] = False,
) -> None:
    """Fetch new releases, rebuild the warehouse, test it and publish it atomically.

    Shows progress on stderr, then prints one line per source and the outcome. A publisher that
    cannot be reached is named with the reason and its previous data is kept (exit code 3). If
    anything fails before publishing, warehouse/trade.duckdb is left exactly as it was (exit 1).
    A second refresh while one is running does nothing and exits with code 4.
    """
    _quiet_prefect(verbose)
    from flows.flow import Source
    from flows.scope import DEFAULT_PARTNERS, DEFAULT_REPORTERS

    try:
        sources = [Source(s.lower()) for s in source] if source else list(Source)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--source") from None
    comtrade_frequency, imf_frequency = comtrade_frequency.upper(), imf_frequency.upper()
    if comtrade_frequency not in ("M", "A"):
        raise typer.BadParameter("must be M or A", param_hint="--comtrade-frequency")
    if imf_frequency not in ("M", "A"):
        raise typer.BadParameter("must be M or A", param_hint="--imf-frequency")
    period_start, period_end = _month(from_month, "--from"), _month(to_month, "--to")
    if period_start and period_end and period_start > period_end:
        raise typer.BadParameter(f"{from_month} is after --to {to_month}", param_hint="--from")
    if scope not in ("default", "reliability"):
        raise typer.BadParameter("must be default or reliability", param_hint="--scope")
    if scope == "reliability":
        from flows.reconcile import reliability_scope

        wide = reliability_scope((period_start or date(date.today().year - 5, 1, 1)).year,
                                 (period_end or date(date.today().year - 2, 12, 1)).year)
        source, reporter, partner = ["comtrade"], list(wide.reporters), list(wide.partners)
        period_start, period_end, comtrade_frequency = wide.period_start, wide.period_end, "A"
        sources = [Source("comtrade")]
    _run(
        sources=sources,
        reporters=_codes(reporter, DEFAULT_REPORTERS, "Reporter", "--reporter"),
        partners=_codes(partner, DEFAULT_PARTNERS, "Partner", "--partner"),
        period_start=period_start,
        period_end=period_end,
        force=force,
        offline=offline,
        parameters=_parameters(param or []),
        comtrade_frequency=comtrade_frequency,
        imf_frequency=imf_frequency,
    )


@app.command()
def rebuild(
    param: Annotated[list[str] | None, typer.Option(
        "--param", metavar="NAME=VALUE", help="Model parameter name=value (repeatable).")] = None,
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="Show Prefect's run logs instead of the progress display.")] = False,
) -> None:
    """Rebuild the warehouse from the raw archive alone (no network), test it and publish it.

    Same as `refresh --offline --force`: use it after changing SQL models or --param values.
    """
    _quiet_prefect(verbose)
    _run(offline=True, force=True, parameters=_parameters(param or []))


@app.command()
def probe(
    source: Annotated[list[str] | None, typer.Option(
        "--source", "-s", metavar="NAME",
        help="Publisher to probe (repeatable): gacc, comtrade, imf, census, eurostat, ecb. "
        "Default: all six.")] = None,
    record: Annotated[Path | None, typer.Option(
        "--record", metavar="DIR",
        help="Save every reply (one file per request, plus index.json) to DIR, to turn into "
        "test fixtures; no key is written.")] = None,
) -> None:
    """Check each live publisher with one cheap request, as a refresh sends it.

    Per publisher: reachable, request accepted, payload parsed, latest period available, time
    taken; then live checks of the test double's unverified rules (confirmed / contradicted /
    not checked). Respects each publisher's pacing and Retry-After. Exit 0 only when every
    probed publisher passes, else 1.
    """
    from flows.probe import exit_code, format_results, run_probe

    try:
        results = run_probe(_settings(), sources=[s.lower() for s in source] if source else None,
                            record=record)
    except KeyError as exc:
        raise typer.BadParameter(str(exc.args[0]), param_hint="--source") from None
    for line in format_results(results):
        typer.echo(line)
    raise typer.Exit(exit_code(results))


@app.command()
def accept(
    payload: Annotated[str, typer.Argument(
        metavar="PAYLOAD_HASH", help="The quarantined payload's sha256 (at least 8 characters), "
        "as the refresh line or raw.manifest shows it.")],
) -> None:
    """Accept one quarantined payload: the next refresh or rebuild loads it.

    A payload is quarantined when it parses but is implausible against the vintage it would
    replace (most values ×5 or ÷5, exports and imports swapped, a world total moved beyond
    max_total_revision). Accepting records who and when in warehouse/raw/accepted.jsonl and in
    raw.manifest.accepted_by. A payload its parser rejected cannot be accepted.
    """
    import getpass

    from flows.archive import Archive

    archive = Archive(_settings().raw_dir)
    try:
        record = archive.accept(payload, who=getpass.getuser())
    except LookupError as exc:
        typer.echo(f"cannot accept: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(
        f"accepted {record['sha256'][:12]} ({record['reason']}) by {record['who']} at "
        f"{record['at']}; run `trade-imbalance rebuild` (or the next refresh) to load it"
    )


@app.command()
def automations(
    block_id: Annotated[str | None, typer.Option(
        "--block-id", metavar="UUID",
        help="Id of your Prefect notification block (prefect block ls / inspect). Default: the "
        "placeholder of the shipped automations.yaml.")] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", metavar="FILE", help="Write the YAML here instead of stdout.")] = None,
) -> None:
    """Print the Prefect automations that notify on Partial and Failed runs and when no run has
    succeeded for 34 days; load them with `prefect automation create --from-file FILE`."""
    import uuid

    from flows.automations import PLACEHOLDER_BLOCK_ID, automations_yaml

    if block_id is not None:
        try:
            block_id = str(uuid.UUID(block_id))
        except ValueError:
            raise typer.BadParameter(
                f"{block_id!r} is not a block id (UUID)", param_hint="--block-id"
            ) from None
    text = automations_yaml(block_id or PLACEHOLDER_BLOCK_ID)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}; load it with: prefect automation create --from-file {output}")


@app.command()
def status() -> None:
    """Coverage and staleness per source, the published build and the last run.

    Staleness compares each source's latest period with the latest month its publisher should
    have released by today, from the release calendar (flows/release_calendar.py, README). A
    source is behind only once the next month's expected release date has passed.
    """
    from flows.report import read_last_run, staleness_rows

    database = _require_warehouse()
    console = _console()
    import duckdb

    con = duckdb.connect(str(database), read_only=True)
    try:
        built_at, fp = con.execute("SELECT built_at, fingerprint FROM meta.build_info").fetchone()
    finally:
        con.close()
    console.print(f"warehouse: {database} (built {built_at:%Y-%m-%d %H:%M} UTC, fingerprint {fp[:12]})")
    settings = _settings()
    files = str(settings.release_dates_file) if settings.release_dates_file else None
    rows = staleness_rows(database, today=settings.run_date(), overrides_file=files)
    console.print(_table(
        "Coverage and staleness per source",
        ["source", "reporters/currencies", "first period", "latest period", "rows", "days since",
         "next release expected", "calendar", "expected latest", "state"],
        [[r["source"], r.get("series", "–"), _fmt_month(r.get("first_period")),
          _fmt_month(r.get("latest_period")), r.get("rows", 0), r["days_since"] if r["days_since"]
          is not None else "–", r["next_release"] or "–", r["basis"], _fmt_month(r["expected"]),
          r["state"]] for r in rows],
    ))
    last = read_last_run(database.parent / "reports")
    if last is None:
        console.print("last run: none recorded")
    else:
        console.print(f"last run: {last['status']} at {last['finished_at']} (exit code {last['exit_code']})")
        for line in last["lines"]:
            console.print(f"  {line}", highlight=False, markup=False)
        if last.get("report"):
            console.print(f"  report: {last['report']}", highlight=False, markup=False)


def _fmt_month(value) -> str:
    return "–" if value is None else f"{value:%Y-%m}"


@app.command()
def report(
    reporter: Annotated[str | None, typer.Option(
        "--reporter", "-r", metavar="ISO3",
        help="Focus reporter (ISO3). Default: focus_reporter of the build.")] = None,
) -> None:
    """Write the report of the published warehouse and print it.

    Writes warehouse/reports/report-<time>.html (and latest.html) with the coverage, revisions,
    the focus reporter's latest trade balance and the exports-vs-imports growth chart
    (growth-<time>.png) for it and its peers; prints the same report as markdown.
    """
    import duckdb

    from flows.report import write_report

    database = _require_warehouse()
    con = duckdb.connect(str(database), read_only=True)
    try:
        params = dict(con.execute("SELECT name, value FROM meta.parameters").fetchall())
    except duckdb.Error:
        params = {}
    finally:
        con.close()
    focus = (reporter or params.get("focus_reporter") or "CHN").upper()
    peers = [p for p in (params.get("peer_set") or "").split(",") if p]
    files = write_report(None, database, focus, peers, database.parent / "reports")
    typer.echo(files.markdown)
    typer.echo(f"HTML report: {files.html}")
    if files.chart:
        typer.echo(f"chart: {files.chart}")


@app.command()
def query(
    sql: Annotated[str, typer.Argument(
        help="One SQL query (SELECT, WITH, FROM, SHOW, DESCRIBE, SUMMARIZE, EXPLAIN).")],
    limit: Annotated[int, typer.Option(metavar="N", help="Rows shown at most (table format).")] = 50,
    output: Annotated[str, typer.Option(
        "--format", "-f", metavar="table|csv|json",
        help="Output format: table, csv or json (csv/json print every row).")] = "table",
) -> None:
    """Run one read-only SQL query against warehouse/trade.duckdb and print the result.

    The file is opened read-only, so queries never block a running refresh and a refresh never
    blocks them. The query runs in a sandbox: no other file, no network, no extension, limited
    memory, threads and time. Statements that would write or read outside the warehouse
    (INSERT, CREATE, COPY, ATTACH, SET, PRAGMA, INSTALL, read_csv(), EXPLAIN of a write, ...)
    are refused with exit code 2.

    \b
    Example:
      trade-imbalance query "SELECT * FROM marts.trade_balance_monthly
                             WHERE reporter = 'CHN' ORDER BY period_end DESC"
    """
    from flows.query import QueryFailed, QueryRefused, run_query

    if output not in ("table", "csv", "json"):
        raise typer.BadParameter("must be table, csv or json", param_hint="--format")
    database = _require_warehouse()
    try:
        settings = _settings()
        columns, rows = run_query(
            database, sql, limit if output == "table" else None,
            memory_limit=settings.query_memory_limit, threads=settings.query_threads,
            timeout=settings.query_timeout,
        )
    except QueryRefused as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    except QueryFailed as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    if output == "csv":
        import csv
        import sys

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
    elif output == "json":
        import json

        typer.echo(json.dumps([dict(zip(columns, r, strict=True)) for r in rows], default=str, indent=1))
    else:
        more = len(rows) > limit
        _console().print(_table(None, columns, [[_cell(v) for v in r] for r in rows[:limit]]))
        typer.echo(f"{min(len(rows), limit)} row(s)" + (f" shown (more exist; --limit {limit})"
                                                        if more else ""))


app.command(name="adjust")(adjust)


@app.command()
def serve() -> None:
    """Serve the monthly-refresh and rebuild deployments, with their schedules, in this process.

    For users who do not want a work pool and a worker: this one process registers the
    deployments (same names, schedules, parameters and concurrency limit as prefect.yaml) with
    the Prefect server at PREFECT_API_URL and runs their scheduled and UI-triggered runs, one at
    a time, until stopped with Ctrl+C. Start the server first: `uv run prefect server start`.
    """
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        typer.echo(
            "PREFECT_API_URL is not set: start a server (`uv run prefect server start`) and run\n"
            "  uv run prefect config set PREFECT_API_URL=http://127.0.0.1:4200/api\n"
            "(or export PREFECT_API_URL) so the deployments show up in its UI.",
            err=True,
        )
        raise typer.Exit(2)
    from prefect import serve as prefect_serve
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    from flows.flow import deployments, monthly_refresh

    served = deployments()
    with get_client(sync_client=True) as client:
        for deployment in served:
            name = f"{monthly_refresh.name}/{deployment.name}"
            try:
                existing = client.read_deployment_by_name(name)
            except ObjectNotFound:
                continue
            if existing.work_pool_name:
                typer.echo(
                    f"{name} is already deployed to work pool {existing.work_pool_name!r} "
                    "(prefect deploy): its runs go to a worker. Serving it too would break them.\n"
                    f"Either run a worker (`uv run prefect worker start --pool "
                    f"{existing.work_pool_name}`) or delete the deployments first:\n"
                    + "".join(f"  uv run prefect deployment delete "
                              f"{monthly_refresh.name}/{d.name}\n" for d in served),
                    err=True,
                )
                raise typer.Exit(2)
    prefect_serve(*served, limit=1)


def main() -> None:  # pragma: no cover - console entry point
    app()
