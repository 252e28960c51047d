"""The ``trade-imbalance`` command line.

Exit codes: 0 success (or nothing new), 1 failed (nothing published; the previous warehouse is
intact), 2 usage error, 3 partial (published, but at least one source was not refreshed).
"""

from __future__ import annotations

import os
from datetime import date
from typing import Annotated

import typer

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")

app = typer.Typer(
    help="Trade-imbalance monitoring from official customs statistics "
    "(GACC, UN Comtrade, US Census, IMF IMTS, Eurostat) into warehouse/trade.duckdb.",
    no_args_is_help=True,
    add_completion=False,
)


def _month(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        year, month = text.split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a month like 2025-03", param_hint=option) from None


def _parameters(pairs: list[str]):
    from flows.parameters import ModelParameters

    values: dict[str, object] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or name not in ModelParameters.model_fields:
            known = ", ".join(ModelParameters.model_fields)
            raise typer.BadParameter(f"{pair!r}: expected name=value with name in: {known}",
                                     param_hint="--param")
        values[name] = value.split(",") if name == "peer_set" else value
    try:
        return ModelParameters(**values)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--param") from None


def _run(**kwargs) -> None:
    from flows.flow import monthly_refresh

    try:
        summary = monthly_refresh(**kwargs)
    except Exception as exc:  # noqa: BLE001 - the flow already logged details
        typer.echo(f"FAILED: {type(exc).__name__}: {exc}", err=True)
        typer.echo("The published warehouse was left as it was.", err=True)
        raise typer.Exit(1) from None
    typer.echo("")
    for line in summary["lines"]:
        typer.echo(line)
    raise typer.Exit(summary["exit_code"])


@app.command()
def refresh(
    source: Annotated[list[str] | None, typer.Option(
        "--source", "-s", help="Publisher to refresh (repeatable): gacc, comtrade, imf, census, "
        "eurostat, ecb. Default: all.")] = None,
    reporter: Annotated[list[str] | None, typer.Option(
        "--reporter", "-r", help="Reporter ISO3 (repeatable). Default: CHN USA VNM IND EU27_2020.")] = None,
    partner: Annotated[list[str] | None, typer.Option(
        "--partner", "-p", help="Partner ISO3 (repeatable), where a publisher needs a list.")] = None,
    from_month: Annotated[str | None, typer.Option(
        "--from", help="First month, YYYY-MM. Default: 23 months before --to.")] = None,
    to_month: Annotated[str | None, typer.Option(
        "--to", help="Last month, YYYY-MM. Default: last month.")] = None,
    offline: Annotated[bool, typer.Option(
        "--offline", help="No network: rebuild the warehouse from the raw archive only.")] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="Re-fetch what the archive already holds, and rebuild.")] = False,
    comtrade_frequency: Annotated[str, typer.Option(
        "--comtrade-frequency", help="UN Comtrade frequency: M (monthly) or A (annual).")] = "M",
    param: Annotated[list[str] | None, typer.Option(
        "--param", help="Model parameter name=value (repeatable), e.g. cif_fob_factor=1.05.")] = None,
) -> None:
    """Fetch new releases, rebuild the warehouse, test it and publish it atomically.

    Prints one line per source; a publisher that cannot be reached is reported and its previous
    data is kept (exit code 3).
    """
    from flows.flow import Source
    from flows.scope import DEFAULT_PARTNERS, DEFAULT_REPORTERS

    try:
        sources = [Source(s.lower()) for s in source] if source else list(Source)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--source") from None
    if comtrade_frequency not in ("M", "A"):
        raise typer.BadParameter("must be M or A", param_hint="--comtrade-frequency")
    _run(
        sources=sources,
        reporters=[r.upper() for r in reporter] if reporter else list(DEFAULT_REPORTERS),
        partners=[p.upper() for p in partner] if partner else list(DEFAULT_PARTNERS),
        period_start=_month(from_month, "--from"),
        period_end=_month(to_month, "--to"),
        force=force,
        offline=offline,
        parameters=_parameters(param or []),
        comtrade_frequency=comtrade_frequency,
    )


@app.command()
def rebuild(
    param: Annotated[list[str] | None, typer.Option(
        "--param", help="Model parameter name=value (repeatable).")] = None,
) -> None:
    """Rebuild the warehouse from the raw archive alone (no network), then publish it."""
    _run(offline=True, force=True, parameters=_parameters(param or []))


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="A SQL query, run read-only against the warehouse.")],
    limit: Annotated[int, typer.Option(help="Rows shown at most.")] = 50,
) -> None:
    """Run a read-only SQL query against warehouse/trade.duckdb and print a table."""
    import duckdb

    from flows.settings import get_settings

    database = get_settings().database_path
    if not database.exists():
        typer.echo(f"no warehouse at {database}: run `trade-imbalance refresh` first", err=True)
        raise typer.Exit(1)
    con = duckdb.connect(str(database), read_only=True)
    try:
        relation = con.sql(sql)
        if relation is None:
            typer.echo("statement returned no rows")
            return
        typer.echo(relation.limit(limit).pl())
    except duckdb.Error as exc:
        typer.echo(f"query failed: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        con.close()


@app.command()
def status() -> None:
    """Coverage per source and reporter (first/latest period, vintage) and the last build."""
    import duckdb

    from flows.settings import get_settings

    database = get_settings().database_path
    if not database.exists():
        typer.echo(f"no warehouse at {database}: run `trade-imbalance refresh` first", err=True)
        raise typer.Exit(1)
    con = duckdb.connect(str(database), read_only=True)
    try:
        built = con.execute("SELECT built_at FROM meta.build_info").fetchone()
        typer.echo(f"warehouse: {database} (built {built[0]:%Y-%m-%d %H:%M} UTC)")
        coverage = con.sql(
            """SELECT source, reporter, min(period_start) AS first_period,
                      max(period_end) AS latest_period, max(vintage) AS latest_vintage,
                      count(*) AS observations
               FROM raw.observations GROUP BY ALL ORDER BY source, reporter"""
        ).pl()
        typer.echo(coverage)
    finally:
        con.close()


def main() -> None:  # pragma: no cover - console entry point
    app()
