"""The seasonal-adjustment step of a build: read the warehouse's balances, adjust, write the mart.

One direction (DESIGN §2): after the SQL models, :func:`build_seasonal` reads
``intermediate.balances`` (basis 'published', month and combined periods, partner WLD and
:data:`MAIN_PARTNERS`), adjusts every (source, reporter, partner, flow, currency) series with
:mod:`flows.seasonal.adjust`, writes ``intermediate.seasonal_adjustment`` and builds
``marts.seasonally_adjusted`` from ``seasonally_adjusted.sql`` beside this module (its comment
lines become ``COMMENT ON``, as for every model).

Holiday per series: Tết when Vietnam is the reporter or partner, else the Chinese New Year;
imports of a reporter other than China/Vietnam search the shipping lag over
:data:`flows.seasonal.adjust.LAG_GRID`; China's own series use China's working-day calendar.
Specs are cached in ``<warehouse folder>/seasonal/specs.json`` and each series' adjusted rows in
``<warehouse folder>/seasonal/results.parquet`` under a hash of their inputs, so a build whose
series and spec are unchanged runs no X-13 (:mod:`flows.seasonal.cache`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from flows.seasonal import adjust as adj
from flows.seasonal.cache import ResultCache, SpecCache, result_digest

SQL_FILE = Path(__file__).with_name("seasonally_adjusted.sql")
#: The adjusted rows of the latest build, beside ``specs.json`` (:class:`ResultCache`).
RESULTS_FILE = "results.parquet"
MART = "marts.seasonally_adjusted"
#: Partners adjusted besides the world total (the focus economies' main partners).
MAIN_PARTNERS = ("CHN", "USA", "EU27_2020", "JPN", "KOR", "VNM", "IND", "DEU", "HKG", "MEX", "CAN")

COLUMNS = {
    "source": pl.Utf8,
    "reporter": pl.Utf8,
    "partner": pl.Utf8,
    "flow": pl.Utf8,
    "currency": pl.Utf8,
    "period": pl.Date,
    "value": pl.Float64,
    "value_combined": pl.Float64,
    "value_sa": pl.Float64,
    "seasonal_factor": pl.Float64,
    "holiday_factor": pl.Float64,
    "calendar_factor": pl.Float64,
    "trend": pl.Float64,
    "method": pl.Utf8,
    "model": pl.Utf8,
    "spec": pl.Utf8,
    "holiday": pl.Utf8,
    "window_pre": pl.Int32,
    "window_post": pl.Int32,
    "lag_days": pl.Int32,
    "trading_day": pl.Utf8,
    "spec_chosen_on": pl.Date,
    "aicc_gain": pl.Float64,
    "jan_feb": pl.Utf8,
    "separate_jan_feb_years": pl.Int32,
    "low_confidence": pl.Boolean,
    "jan_feb_history": pl.Utf8,
    "sliding_spans_unstable_pct": pl.Float64,
    "residual_holiday_t": pl.Float64,
    "note": pl.Utf8,
}


#: Economies whose output stops for the Lunar New Year (Chinese New Year; Tết in Vietnam).
LUNAR_NEW_YEAR = frozenset({"CHN", "HKG", "TWN", "SGP", "KOR", "MYS", "VNM"})


def holiday_plan(reporter: str, partner: str, flow: str) -> tuple[str, tuple[int, ...], str]:
    """(holiday, lag grid, working-day preference) for a series.

    A New Year term is a candidate only where the holiday can move the trade: a reporter or
    partner that observes it (:data:`LUNAR_NEW_YEAR`), or a reporter's trade with the world
    (which carries its trade with them). US trade with Canada or Mexico gets no candidate, so
    a chance AICc gain on a short series cannot put one there."""
    if not ({reporter, partner} & LUNAR_NEW_YEAR) and partner != "WLD":
        return "none", (0,), "cn" if reporter == "CHN" else "td"
    holiday = "tet" if "VNM" in (reporter, partner) else "cny"
    own = reporter in ("CHN", "VNM")
    lags = adj.LAG_GRID if flow == "M" and not own else (0,)
    return holiday, lags, "cn" if reporter == "CHN" else "td"


def _load(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    partners = ", ".join(f"'{p}'" for p in ("WLD", *MAIN_PARTNERS))
    cursor = con.execute(f"""
        SELECT source, reporter, partner, currency, period_type, period_start, period_end, 'X' AS flow,
               exports AS value FROM intermediate.balances
        WHERE basis = 'published' AND period_type IN ('month', 'combined') AND partner IN ({partners})
              AND exports IS NOT NULL
        UNION ALL
        SELECT source, reporter, partner, currency, period_type, period_start, period_end, 'M',
               imports FROM intermediate.balances
        WHERE basis = 'published' AND period_type IN ('month', 'combined') AND partner IN ({partners})
              AND imports IS NOT NULL
    """)
    names = [d[0] for d in cursor.description]
    return pl.DataFrame(
        [dict(zip(names, row, strict=True)) for row in cursor.fetchall()],
        schema={
            n: (
                pl.Date
                if n.startswith("period_") and n != "period_type"
                else pl.Float64
                if n == "value"
                else pl.Utf8
            )
            for n in names
        },
    )


def _series_inputs(frame: pl.DataFrame) -> list[tuple[tuple, adj.Series, str | None]]:
    """(key, series, history sources) per (source, reporter, partner, flow, currency)."""
    months: dict[tuple, dict[date, float]] = {}
    combined: dict[tuple, dict[int, float]] = {}
    for r in frame.iter_rows(named=True):
        key = (r["source"], r["reporter"], r["partner"], r["flow"], r["currency"])
        if r["period_type"] == "month":
            months.setdefault(key, {})[r["period_start"]] = float(r["value"])
        elif r["period_start"].month == 1 and r["period_end"].month == 2:
            combined.setdefault(key, {})[r["period_start"].year] = float(r["value"])
    out = []
    for key in sorted(set(months) | set(combined)):
        history: dict[date, float] = {}
        used: set[str] = set()
        for year in combined.get(key, {}):
            for other, values in months.items():
                if other[1:] == key[1:] and other[0] != key[0]:
                    jan, feb = date(year, 1, 1), date(year, 2, 1)
                    if jan in values and feb in values and jan not in history:
                        history[jan], history[feb] = values[jan], values[feb]
                        used.add(other[0])
        series = adj.from_months(months.get(key, {}), combined.get(key), history)
        out.append((key, series, ", ".join(sorted(used)) or None))
    return out


def _adjust_one(
    item, specs: SpecCache, results: ResultCache, today: date
) -> tuple[pl.DataFrame, bool, bool]:
    """(rows, whether a spec was selected, whether the rows were reused from ``results``)."""
    key, series, history = item
    source, reporter, partner, flow, currency = key
    base = {
        "source": source,
        "reporter": reporter,
        "partner": partner,
        "flow": flow,
        "currency": currency,
        "jan_feb_history": history,
        "separate_jan_feb_years": adj.separate_jan_feb_years(series),
    }
    selected, digest = False, None
    try:
        plan = holiday_plan(reporter, partner, flow)
        holiday, lags, td = plan
        adj.check_length(series)
        spec = specs.get(key, len(series.values), today)
        if spec is None:
            spec, notes = adj.select_spec(series, holiday, trading_day=td, lags=lags, today=today)
            specs.put(key, spec)
            selected = True
        digest = result_digest(key, series, history, spec, plan)
        reused = results.get(key, digest)
        if reused is not None:
            return reused, selected, True
        if not selected:  # the working-day note: a function of the series, plan and calendar
            notes = adj.resolve_trading_day(series, td)[1]
        outcome = adj.adjust(series, spec)
    except (adj.AdjustmentFailed, Exception) as exc:  # a failed series is reported, never fatal
        reason = str(exc) if isinstance(exc, adj.AdjustmentFailed) else f"adjustment failed: {exc}"
        rows = []
        for d, v in zip(series.months(), series.values, strict=True):
            comb = series.combined.get(d.year) if d.month in (1, 2) else None
            rows.append(
                {
                    **base,
                    "period": d,
                    "value": None if comb else v,
                    "value_combined": comb,
                    "note": f"not adjusted: {reason}",
                }
            )
        frame = pl.DataFrame(rows, schema=COLUMNS)
        # A run failing its diagnostics fails again on the same inputs; X-13 rejecting or not
        # completing a run (an error with a cause) and unexpected errors are retried next build.
        if digest is not None and isinstance(exc, adj.AdjustmentFailed) and exc.__cause__ is None:
            results.put(key, digest, frame)
        return frame, selected, False
    s = outcome.spec
    d = outcome.diagnostics
    note = "; ".join(dict.fromkeys(notes + outcome.warnings)) or None
    common = {
        **base,
        "method": "X-13 X-11",
        "model": outcome.model,
        "spec": s.label(),
        "holiday": s.holiday if (s.pre or s.post) else "none",
        "window_pre": s.pre,
        "window_post": s.post,
        "lag_days": s.lag,
        "trading_day": s.trading_day,
        "spec_chosen_on": date.fromisoformat(s.chosen_on),
        "aicc_gain": s.aicc_gain,
        "sliding_spans_unstable_pct": d.get("sliding_spans_unstable_pct"),
        "residual_holiday_t": (d.get("residual_holiday_t") or {}).get("reference"),
        "note": note,
    }
    rows = []
    for r in outcome.rows:
        comb = series.combined.get(r.period.year) if r.jan_feb == "combined" else None
        rows.append(
            {
                **common,
                "period": r.period,
                "value": None if comb else r.value,
                "value_combined": comb,
                "value_sa": r.value_sa,
                "seasonal_factor": r.seasonal_factor,
                "holiday_factor": r.holiday_factor,
                "calendar_factor": r.calendar_factor,
                "trend": r.trend,
                "jan_feb": r.jan_feb,
                "low_confidence": r.low_confidence,
            }
        )
    frame = pl.DataFrame(rows, schema=COLUMNS)
    results.put(key, digest, frame)
    return frame, selected, False


def build_seasonal(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    *,
    today: date | None = None,
    workers: int | None = None,
    progress: Callable[[str], None] = lambda _msg: None,
) -> list[str]:
    """Adjust every series and build :data:`MART` in ``con``; the spec cache lives under ``folder``
    (the warehouse folder). Returns the tables built ([] when the warehouse has no
    ``intermediate.balances``, e.g. a test's own model folder)."""
    from flows.models import Model, _apply_comments, _docs

    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'intermediate' AND table_name = 'balances'"
    ).fetchone()[0]
    if not exists:
        return []
    began = time.monotonic()
    today = today or _today()
    specs = SpecCache(folder / "seasonal" / "specs.json")
    cached = ResultCache(folder / "seasonal" / RESULTS_FILE, COLUMNS)
    inputs = _series_inputs(_load(con))
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2) as pool:
        results = list(pool.map(lambda item: _adjust_one(item, specs, cached, today), inputs))
    specs.save()
    cached.save()
    frame = pl.concat([f for f, _, _ in results]) if results else pl.DataFrame(schema=COLUMNS)
    con.execute("CREATE SCHEMA IF NOT EXISTS intermediate")
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    con.register("seasonal_rows", frame.to_arrow())
    con.execute("CREATE OR REPLACE TABLE intermediate.seasonal_adjustment AS SELECT * FROM seasonal_rows")
    con.unregister("seasonal_rows")
    con.execute(
        "COMMENT ON TABLE intermediate.seasonal_adjustment IS 'X-13 output per series and month, "
        "written by flows.seasonal (see marts.seasonally_adjusted for the columns)'"
    )
    sql = SQL_FILE.read_text(encoding="utf-8").strip().rstrip(";")
    table_doc, column_docs = _docs(sql)
    model = Model("marts", "seasonally_adjusted", SQL_FILE, sql, set(), table_doc, column_docs)
    con.execute(f"CREATE OR REPLACE TABLE {MART} AS {sql}")
    _apply_comments(con, model)
    selected = sum(sel for _, sel, _ in results)
    reused = sum(hit for _, _, hit in results)
    progress(
        f"seasonal: {len(inputs) - reused} series adjusted, {reused} reused from cache "
        f"({selected} spec selections) in {time.monotonic() - began:.1f} s"
    )
    return ["intermediate.seasonal_adjustment", MART]


def _today() -> date:
    try:
        from flows.settings import Settings

        return Settings().run_date()
    except Exception:  # settings unreadable: the real date
        return date.today()
