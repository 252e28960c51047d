"""Helpers for SQL unit tests of the models in ``sql/``: a fresh in-memory warehouse, hand-made
observations in the canonical shape, and one call that runs the models and the data tests.

Numbers that tests put through these helpers are made up unless the test says otherwise.

Typical use::

    con = warehouse()
    load(con, series("comtrade", "CHN", "USD", date(2024, 1, 1), exports=[...], imports=[...]))
    build(con)                       # meta.parameters, every model, every data test
    rows(con, "SELECT * FROM marts.trade_balance_monthly")
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import duckdb
import polars as pl

from flows.models import SQL_DIR, run_data_tests, run_models
from flows.parameters import ModelParameters, write_parameters
from flows.reference import partner_kind
from flows.schema import FX_SCHEMA, OBSERVATION_SCHEMA, WORLD, add_months, conform
from flows.warehouse import create_raw_tables, load_fx_rates, load_observations

#: When made-up payloads are "fetched" unless a test says otherwise (UTC, naive).
FETCHED_AT = datetime(2026, 4, 10, 8, 0, 0)

#: Valuation each source gives a flow (DESIGN.md §4 and flows/sources/*): exports, imports.
VALUATIONS = {
    "gacc": ("FOB", "CIF"),
    "comtrade": ("FOB", "CIF"),
    "imf": ("FOB", "CIF"),
    "census": ("FAS", "CUSTOMS"),
    "eurostat": ("FOB", "CIF"),
}


def warehouse() -> duckdb.DuckDBPyConnection:
    """A new in-memory DuckDB with the ``raw`` and ``meta`` tables of :mod:`flows.warehouse`."""
    con = duckdb.connect(":memory:")
    create_raw_tables(con)
    return con


def observation(
    *,
    source: str = "comtrade",
    reporter: str = "CHN",
    partner: str = WORLD,
    flow: str = "X",
    start: date,
    end: date | None = None,
    value: float,
    currency: str = "USD",
    commodity: str = "TOTAL",
    period_type: str | None = None,
    valuation: str | None = None,
    published_yoy: float | None = None,
    vintage: date | None = None,
    status: str = "reported",
) -> dict[str, Any]:
    """One canonical observation (:data:`OBSERVATION_SCHEMA`) as a dict.

    ``end`` defaults to ``start`` (one month); ``period_type`` defaults to ``month`` for one month,
    ``combined`` for a two-month span starting in January, ``year`` for twelve months; the
    valuation defaults to the source's usual one for the flow (:data:`VALUATIONS`).
    """
    end = end or start
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    if period_type is None:
        period_type = {1: "month", 2: "combined", 12: "year"}[months]
    if valuation is None:
        exports_val, imports_val = VALUATIONS[source]
        valuation = exports_val if flow in ("X", "RX") else imports_val
    return {
        "source": source,
        "reporter": reporter,
        "partner": partner,
        "partner_kind": partner_kind(partner),
        "flow": flow,
        "period_start": start,
        "period_end": end,
        "months": months,
        "period_type": period_type,
        "commodity": commodity,
        "value": float(value),
        "currency": currency,
        "valuation": valuation,
        "status": status,
        "published_yoy": published_yoy,
        "release": f"made-up {source} test release",
        "vintage": vintage,
    }


def series(
    source: str,
    reporter: str,
    currency: str,
    first_month: date,
    *,
    exports: Sequence[float | None],
    imports: Sequence[float | None],
    partner: str = WORLD,
    commodity: str = "TOTAL",
    vintage: date | None = None,
) -> list[dict[str, Any]]:
    """Consecutive single-month observations from ``first_month``; ``None`` leaves a month out
    (missing, not zero). ``exports`` and ``imports`` must have the same length."""
    assert len(exports) == len(imports), "exports and imports need one value per month"
    out = []
    for offset, (x, m) in enumerate(zip(exports, imports, strict=True)):
        month = add_months(first_month, offset)
        for flow, value in (("X", x), ("M", m)):
            if value is not None:
                out.append(
                    observation(source=source, reporter=reporter, partner=partner, flow=flow,
                                start=month, value=value, currency=currency,
                                commodity=commodity, vintage=vintage)
                )
    return out


def frame(records: Iterable[dict[str, Any]]) -> pl.DataFrame:
    """Records as a frame with exactly :data:`OBSERVATION_SCHEMA`, checked by :func:`conform`."""
    data = pl.DataFrame(list(records), schema=OBSERVATION_SCHEMA)
    return conform(data, context="made-up test rows")


def load(
    con: duckdb.DuckDBPyConnection,
    records: Iterable[dict[str, Any]],
    *,
    sha: str = "made-up-payload-1",
    fetched_at: datetime = FETCHED_AT,
) -> int:
    """Load ``records`` as one payload through :func:`flows.warehouse.load_observations`."""
    return load_observations(con, frame(records), sha, fetched_at)


def load_rates(
    con: duckdb.DuckDBPyConnection, rates: dict[tuple[str, date], float], *, sha: str = "made-up-fx"
) -> int:
    """Load ECB-style rates ``{(currency, month): units of currency per EUR}`` into raw.fx_rates."""
    records = [
        {
            "source": "ecb",
            "currency": currency,
            "base": "EUR",
            "period_start": month,
            "rate": rate,
            "series": f"EXR.M.{currency}.EUR.SP00.A",
            "vintage": None,
        }
        for (currency, month), rate in rates.items()
    ]
    return load_fx_rates(con, pl.DataFrame(records, schema=FX_SCHEMA), sha, FETCHED_AT)


def build(
    con: duckdb.DuckDBPyConnection,
    parameters: ModelParameters | None = None,
    *,
    data_tests: bool = True,
    warnings: list[str] | None = None,
) -> dict[str, int]:
    """Write ``meta.parameters``, run every model and (by default) every data test.

    Returns the data-test results ({test: offending rows}); raises
    :class:`flows.models.DataTestFailure` when an error-severity data test finds offending rows.
    Warning-severity findings are appended to ``warnings`` when given.
    """
    write_parameters(con, parameters or ModelParameters())
    run_models(con)
    import tempfile
    from pathlib import Path

    from flows.seasonal.warehouse import build_seasonal

    with tempfile.TemporaryDirectory() as folder:  # as every build does (flows/build.py)
        build_seasonal(con, Path(folder))
    sink = warnings.append if warnings is not None else (lambda _msg: None)
    return run_data_tests(con, warn=sink) if data_tests else {}


def data_test_rows(con: duckdb.DuckDBPyConnection, name: str) -> list[dict[str, Any]]:
    """The offending rows of ``sql/tests/<name>.sql``."""
    return rows(con, (SQL_DIR / "tests" / f"{name}.sql").read_text(encoding="utf-8"))


def rows(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()
) -> list[dict[str, Any]]:
    """Every row of ``sql`` as a dict."""
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def one(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> dict[str, Any]:
    """The single row of ``sql`` (fails the test when there is not exactly one)."""
    found = rows(con, sql, params)
    assert len(found) == 1, f"expected one row, got {len(found)}: {found[:3]}"
    return found[0]


def row_at(
    con: duckdb.DuckDBPyConnection,
    table: str,
    period_end: date,
    *,
    source: str = "comtrade",
    reporter: str = "CHN",
    currency: str = "USD",
    partner: str | None = None,
) -> dict[str, Any]:
    """The single row of ``marts.<table>`` for one series and period end."""
    sql = (f"SELECT * FROM marts.{table} WHERE source = ? AND reporter = ? AND currency = ? "
           "AND period_end = ?")
    params: list[Any] = [source, reporter, currency, period_end]
    if partner is not None:
        sql += " AND partner = ?"
        params.append(partner)
    return one(con, sql, params)
