"""Seasonal adjustment (issue 13): regressors checked by hand, X-13 errors, working-day fallback,
combined January–February, the spec cache, the build step and ``trade-imbalance adjust``.

``tests/fixtures/seasonal/made_up_cny_monthly.csv`` is a MADE-UP series (see the README beside
it): 2010-01…2021-12, level 1000 growing 0.4 % a month, a fixed seasonal pattern, a New Year
effect of +0.08 × pre-10 and −0.25 × post-20 regressors and 1.5 % noise. Runs use a fixed spec
(no window grid) to stay fast; the full grid is in ``bench/seasonal.py``.
"""

from __future__ import annotations

import csv
import functools
import json
import math
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from flows.seasonal import adjust as adj
from flows.seasonal import calendar as cal
from flows.seasonal import x13
from flows.seasonal.cache import SpecCache

FIXTURE = Path(__file__).parent / "fixtures" / "seasonal" / "made_up_cny_monthly.csv"
FIXED = adj.SeasonalSpec("cny", 10, 20, 0, "none", chosen_on="2025-06-01", chosen_months=144)


def made_up() -> dict[date, float]:
    with FIXTURE.open() as f:
        return {
            date(int(r["month"][:4]), int(r["month"][5:]), 1): float(r["value"]) for r in csv.DictReader(f)
        }


# -- regressors, by hand -----------------------------------------------------------------------


def test_new_year_2024_window_shares_by_hand():
    assert cal.holiday_dates("cny")[2024] == date(2024, 2, 10)
    pre, post = cal.windows(10, 20)
    assert (pre.first, pre.last, post.first, post.last) == (-10, -1, 0, 19)
    shares = cal.raw_shares("cny", pre, range(2024, 2025))
    # 10 days before 10 Feb: 31 Jan (1 day in January) and 1–9 Feb (9 days).
    assert shares[(2024, 1)] == pytest.approx(0.1) and shares[(2024, 2)] == pytest.approx(0.9)
    post_shares = cal.raw_shares("cny", post, range(2024, 2025))
    # 10–29 Feb 2024 (a leap year): all 20 days in February.
    assert post_shares[(2024, 2)] == pytest.approx(1.0) and post_shares[(2024, 3)] == 0.0
    # Centred: minus each calendar month's mean over 1950–2049.
    means = cal._calendar_means("cny", pre)
    centred = cal.holiday_regressor("cny", pre, date(2024, 1, 1), 3)
    assert centred == pytest.approx([0.1 - means[0], 0.9 - means[1], 0.0 - means[2]])
    assert sum(means) == pytest.approx(1.0)  # the window always lies somewhere


def test_shipping_lag_moves_the_window_into_march():
    post = cal.Window("post", 0, 19, lag=21)  # 2 Mar … 21 Mar 2024
    shares = cal.raw_shares("cny", post, range(2024, 2025))
    assert shares[(2024, 2)] == 0.0 and shares[(2024, 3)] == pytest.approx(1.0)


def test_tet_dates_differ_from_chinese_new_year_exactly_in_1985_2007_2030():
    # methods.md §A2 compared 1980-2030; outside that range the two calendars differ in other years too.
    cny, tet = cal.holiday_dates("cny"), cal.holiday_dates("tet")
    differ = sorted(y for y in range(1980, 2031) if cny[y] != tet[y])
    assert differ == [1985, 2007, 2030]
    assert (tet[1985], cny[1985]) == (date(1985, 1, 21), date(1985, 2, 20))


def test_china_working_days_february_2024_by_hand():
    # 21 weekdays − 5 holiday weekdays (12–16 Feb) + 2 make-up Sundays (4 and 18 Feb) = 18.
    assert cal._working_days(2024, 2) == 18


def test_working_day_fallback_when_the_calendar_does_not_cover_the_span():
    covered = cal.covered_years()
    assert covered.start == 2004
    with pytest.raises(cal.CalendarNotCovered):
        cal.china_working_days(date(covered.stop - 1, 1, 1), 24)
    inside = adj.Series(date(2010, 1, 1), [1.0] * 120)
    assert adj.resolve_trading_day(inside, "cn") == ("cn", [])
    # The forecast span (12 months past the end) leaves the covered years: td and a warning.
    late = adj.Series(date(covered.stop - 5, 1, 1), [1.0] * 60)
    mode, notes = adj.resolve_trading_day(late, "cn")
    assert mode == "td" and "does not cover" in notes[0]
    early = adj.Series(date(2000, 1, 1), [1.0] * 168)
    assert adj.resolve_trading_day(early, "cn")[0] == "td"
    regs, use_td, warnings = adj.regressors(adj.SeasonalSpec("cny", 10, 0, 0, "cn"), date(2000, 1, 1), 180)
    assert use_td and [r.name for r in regs] == ["pre"] and "td used instead" in warnings[0]


# -- X-13 -------------------------------------------------------------------------------------


def test_spec_lines_fit_and_a_spec_error_in_err_is_a_failure():
    values = list(made_up().values())
    start = date(2010, 1, 1)
    post = cal.holiday_regressor("cny", cal.windows(0, 20)[0], start, len(values) + 12)
    text = x13.write_spec(values, start, x13.Spec(td=True), [x13.Regressor("post", "holiday", post)])
    assert max(len(line) for line in text.splitlines()) <= x13.MAX_LINE
    assert "usertype=(holiday)" in text
    # Two identical regressors: X-13 exits 0 but writes the error to .err.
    twins = [x13.Regressor("a", "holiday", post), x13.Regressor("b", "holiday", post)]
    with pytest.raises(x13.X13Error, match="singular"):
        x13.run(values, start, x13.Spec(), twins)
    with pytest.raises(x13.X13Error, match="needed"):
        x13.run(values, start, x13.Spec(), [x13.Regressor("post", "holiday", post[: len(values)])])


def test_fixed_spec_removes_the_made_up_new_year_effect():
    out = adj.adjust(adj.from_months(made_up()), FIXED, seats_check=False)
    assert len(out.rows) == 144 and all(r.value_sa for r in out.rows)
    est = out.diagnostics["holiday_estimates"]
    assert est["post"]["estimate"] == pytest.approx(-0.25, abs=0.05)  # the made-up effect
    assert out.diagnostics["residual_holiday_t"]["reference"] < 2
    # The holiday factors of February and March 2015 (CNY 19 Feb) against the made-up truth.
    start, n = date(2010, 1, 1), 144
    pre, post = (cal.holiday_regressor("cny", w, start, n) for w in cal.windows(10, 20))
    rows = {r.period: r for r in out.rows}
    for month in (2, 3):
        i = (2015 - 2010) * 12 + month - 1
        truth = math.exp(0.08 * pre[i] - 0.25 * post[i])
        assert rows[date(2015, month, 1)].holiday_factor == pytest.approx(truth, rel=0.03)
    assert rows[date(2015, 2, 1)].jan_feb == "separate" and rows[date(2015, 3, 1)].jan_feb is None


def test_too_short_series_is_not_adjusted_and_says_why():
    short = adj.from_months({d: v for d, v in made_up().items() if d < date(2012, 6, 1)})
    with pytest.raises(adj.AdjustmentFailed, match="at least 36"):
        adj.adjust(short, FIXED)


def test_combined_january_february_gets_one_level_from_the_combined_factors():
    months = made_up()
    full = adj.adjust(adj.from_months(months), FIXED, seats_check=False)
    combined = {y: months[date(y, 1, 1)] + months[date(y, 2, 1)] for y in (2020, 2021)}
    cut = {d: v for d, v in months.items() if not (d.year in combined and d.month <= 2)}
    out = adj.adjust(adj.from_months(cut, combined), FIXED, seats_check=False)
    rows = {r.period: r for r in out.rows}
    by_full = {r.period: r for r in full.rows}
    for year in combined:
        jan, feb = rows[date(year, 1, 1)], rows[date(year, 2, 1)]
        assert jan.jan_feb == feb.jan_feb == "combined" and jan.value is None
        assert jan.value_sa == feb.value_sa
        mean_full = (by_full[date(year, 1, 1)].value_sa + by_full[date(year, 2, 1)].value_sa) / 2
        assert abs(jan.value_sa / mean_full - 1) < 0.03
        assert not jan.low_confidence  # 10 years of separate months
    assert adj.separate_jan_feb_years(adj.from_months(cut, combined)) == 10


def test_other_sources_split_the_combined_total_for_x13():
    months = {date(2020, m, 1): 10.0 for m in range(3, 13)}
    series = adj.from_months(months, {2021: 30.0}, history={date(2021, 1, 1): 2.0, date(2021, 2, 1): 1.0})
    assert series.values[10:12] == pytest.approx([20.0, 10.0]) and series.combined == {2021: 30.0}


# -- cache ------------------------------------------------------------------------------------


def test_spec_cache_reselects_yearly_or_after_12_new_months(tmp_path):
    cache = SpecCache(tmp_path / "seasonal" / "specs.json")
    key = ("census", "USA", "CHN", "M", "USD")
    cache.put(key, FIXED)
    cache.save()
    again = SpecCache(tmp_path / "seasonal" / "specs.json")
    assert again.get(key, 150, date(2026, 1, 1)) == FIXED
    assert again.get(key, 156, date(2026, 1, 1)) is None  # 12 new months
    assert again.get(key, 150, date(2026, 6, 1)) is None  # a year old
    assert json.loads((tmp_path / "seasonal" / "specs.json").read_text())["census|USA|CHN|M|USD"]


# -- the build step ---------------------------------------------------------------------------


def test_build_step_writes_the_commented_mart(tmp_path):
    from flows.seasonal.warehouse import build_seasonal
    from tests.sql_harness import build, load, series, warehouse

    values = list(made_up().values())
    con = warehouse()
    load(
        con,
        series(
            "census",
            "USA",
            "USD",
            date(2010, 1, 1),
            partner="CHN",
            exports=[v * 1e6 for v in values],
            imports=[v * 3e6 for v in values],
        )
        + series(
            "census",
            "USA",
            "USD",
            date(2010, 1, 1),
            partner="JPN",
            exports=[v * 1e6 for v in values[:24]],
            imports=[v * 1e6 for v in values[:24]],
        ),
    )
    build(con)
    cache = SpecCache(tmp_path / "seasonal" / "specs.json")  # fixed specs: no grid in the test
    for flow in ("X", "M"):
        cache.put(("census", "USA", "CHN", flow, "USD"), FIXED)
    cache.save()
    built = build_seasonal(con, tmp_path, today=date(2025, 12, 1), workers=2)
    assert built == ["intermediate.seasonal_adjustment", "marts.seasonally_adjusted"]
    got = con.execute(
        """SELECT flow, count(*), count(value_sa), any_value(spec), any_value(spec_chosen_on)
           FROM marts.seasonally_adjusted WHERE partner = 'CHN' GROUP BY flow ORDER BY flow"""
    ).fetchall()
    assert got == [
        ("M", 144, 144, FIXED.label(), date(2025, 6, 1)),
        ("X", 144, 144, FIXED.label(), date(2025, 6, 1)),
    ]
    x, m, bal, mom = con.execute("""
        SELECT max(value_sa) FILTER (WHERE flow = 'X'), max(value_sa) FILTER (WHERE flow = 'M'),
               max(balance_sa), max(mom) FILTER (WHERE flow = 'X')
        FROM marts.seasonally_adjusted WHERE partner = 'CHN' AND period = '2015-06-01'""").fetchone()
    assert bal == pytest.approx(x - m)
    prev = con.execute("""SELECT value_sa FROM marts.seasonally_adjusted
                          WHERE partner = 'CHN' AND flow = 'X' AND period = '2015-05-01'""").fetchone()[0]
    assert mom == pytest.approx(x / prev - 1)
    short = con.execute("""SELECT count(value_sa), any_value(note) FROM marts.seasonally_adjusted
                           WHERE partner = 'JPN'""").fetchone()
    assert short[0] == 0 and "at least 36" in short[1]
    undocumented = con.execute("""SELECT column_name FROM duckdb_columns()
                                  WHERE schema_name = 'marts' AND table_name = 'seasonally_adjusted'
                                    AND comment IS NULL""").fetchall()
    assert undocumented == []


# -- the adjusted-rows cache ------------------------------------------------------------------


def _balances(exports: list[float], imports: list[float]):
    """An in-memory warehouse with ``intermediate.balances`` over US trade with China (MADE-UP
    values from the fixture)."""
    from flows.models import run_models
    from flows.parameters import ModelParameters, write_parameters
    from tests.sql_harness import load, series, warehouse

    con = warehouse()
    load(con, series("census", "USA", "USD", date(2010, 1, 1), partner="CHN",
                     exports=exports, imports=imports))
    write_parameters(con, ModelParameters())
    run_models(con)  # the models only: the seasonal step runs in each test
    return con


def _fixed_specs(folder: Path) -> None:
    cache = SpecCache(folder / "seasonal" / "specs.json")  # fixed specs: no grid in the test
    for flow in ("X", "M"):
        cache.put(("census", "USA", "CHN", flow, "USD"), FIXED)
    cache.save()


@pytest.fixture
def x13_calls(monkeypatch):
    """Counts X-13 runs ({"runs": n, "adjust": [flow of each final adjustment]})."""
    calls = {"runs": 0, "adjust": []}
    run, adjust = x13.run, adj.adjust

    def counted_run(*args, **kwargs):
        calls["runs"] += 1
        return run(*args, **kwargs)

    def counted_adjust(series, spec, **kwargs):
        calls["adjust"].append(series.values[0])
        return adjust(series, spec, **kwargs)

    monkeypatch.setattr(x13, "run", counted_run)
    monkeypatch.setattr(adj, "adjust", counted_adjust)
    return calls


def _seasonal(con, folder: Path):
    """(rows of intermediate.seasonal_adjustment in table order, of the mart, progress lines)."""
    from flows.seasonal.warehouse import build_seasonal

    lines: list[str] = []
    build_seasonal(con, folder, today=date(2025, 12, 1), workers=2, progress=lines.append)
    table = con.sql("SELECT * FROM intermediate.seasonal_adjustment").pl()
    mart = con.sql("SELECT * FROM marts.seasonally_adjusted ORDER BY ALL").pl()
    return table, mart, lines


def test_unchanged_series_reuse_their_adjusted_rows_without_x13(tmp_path, x13_calls):
    values = list(made_up().values())
    exports, imports = [v * 1e6 for v in values], [v * 3e6 for v in values]
    _fixed_specs(tmp_path)
    first, first_mart, lines = _seasonal(_balances(exports, imports), tmp_path)
    assert len(x13_calls["adjust"]) == 2 and x13_calls["runs"] >= 2
    assert "2 series adjusted, 0 reused from cache" in lines[0]
    assert first.filter(pl.col("value_sa").is_not_null()).height == 288  # both flows adjusted
    assert (tmp_path / "seasonal" / "results.parquet").exists()
    x13_calls["runs"], x13_calls["adjust"] = 0, []
    again, again_mart, lines = _seasonal(_balances(exports, imports), tmp_path)  # a rebuild
    assert x13_calls == {"runs": 0, "adjust": []}
    assert "0 series adjusted, 2 reused from cache" in lines[0]
    assert again.equals(first) and again_mart.equals(first_mart)  # same rows, same order, nulls too

    # One changed month in the imports: only the imports are adjusted again, and their rows equal
    # those of a build without any cached rows.
    imports[100] *= 1.05
    changed, _, lines = _seasonal(_balances(exports, imports), tmp_path)
    assert len(x13_calls["adjust"]) == 1 and x13_calls["adjust"][0] == imports[0]
    assert "1 series adjusted, 1 reused from cache" in lines[0]
    cold_folder = tmp_path / "cold"
    _fixed_specs(cold_folder)
    cold, _, _ = _seasonal(_balances(exports, imports), cold_folder)
    assert changed.equals(cold)
    assert changed.filter(pl.col("flow") == "X").equals(first.filter(pl.col("flow") == "X"))
    assert not changed.filter(pl.col("flow") == "M").equals(first.filter(pl.col("flow") == "M"))


def test_a_corrupt_result_cache_is_ignored_and_rewritten(tmp_path, x13_calls):
    values = list(made_up().values())
    exports, imports = [v * 1e6 for v in values], [v * 3e6 for v in values]
    _fixed_specs(tmp_path)
    first, _, _ = _seasonal(_balances(exports, imports), tmp_path)
    results = tmp_path / "seasonal" / "results.parquet"
    results.write_bytes(results.read_bytes()[: results.stat().st_size // 2])  # a torn file
    x13_calls["adjust"] = []
    again, _, lines = _seasonal(_balances(exports, imports), tmp_path)
    assert len(x13_calls["adjust"]) == 2 and "2 series adjusted, 0 reused" in lines[0]
    assert again.equals(first)
    assert pl.read_parquet(results).height == first.height  # written whole again


def test_result_cache_keeps_the_latest_build_keys_and_hashes_every_input(tmp_path):
    from flows.seasonal.cache import ResultCache, result_digest
    from flows.seasonal.warehouse import COLUMNS

    path = tmp_path / "results.parquet"
    series = adj.from_months({date(2020, m, 1): float(m) for m in range(3, 13)}, {2021: 30.0})
    plan = ("cny", (0,), "td")
    digest = result_digest(("a",), series, None, FIXED, plan)
    other_inputs = [
        (("b",), series, None, FIXED, plan),
        (("a",), adj.from_months({date(2020, m, 1): float(m) for m in range(3, 13)}, {2021: 31.0}),
         None, FIXED, plan),
        (("a",), series, "imf", FIXED, plan),
        (("a",), series, None, adj.SeasonalSpec("cny", 10, 15, 0, "none", "2025-06-01", 144), plan),
        (("a",), series, None, FIXED, ("tet", (0,), "td")),
    ]
    assert len({digest, *(result_digest(*args) for args in other_inputs)}) == 1 + len(other_inputs)
    rows = pl.DataFrame([{"source": "made-up", "period": date(2020, 3, 1), "value": 3.0}], schema=COLUMNS)
    cache = ResultCache(path, COLUMNS)
    cache.put(("a",), digest, rows)
    cache.put(("b",), "other", rows)
    cache.save()
    again = ResultCache(path, COLUMNS)
    assert again.get(("a",), digest).equals(rows) and again.get(("a",), "stale") is None
    again.save()  # only ("a",) asked for: ("b",) is dropped
    assert pl.read_parquet(path).get_column("_series").to_list() == ["a"]
    path.write_bytes(b"not parquet")
    assert ResultCache(path, COLUMNS).get(("a",), digest) is None


# -- trade-imbalance adjust -------------------------------------------------------------------


@pytest.fixture
def small_grid(monkeypatch):
    """The command's AICc grid cut to two window pairs (the full grid runs in the benchmark)."""
    monkeypatch.setattr(
        adj, "select_spec", functools.partial(adj.select_spec, pre_grid=(10,), post_grid=(0, 20))
    )


def _run(args):
    from flows.cli import app

    return CliRunner().invoke(app, ["adjust", *args])


def test_adjust_command_on_a_plain_csv(tmp_path, small_grid):
    out = tmp_path / "sa.csv"
    result = _run(
        [
            str(FIXTURE),
            "--date-column",
            "month",
            "--value-column",
            "value",
            "--holiday",
            "cny",
            "--output",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    assert "spec: cny pre 10 / post 20" in result.output and "residual holiday t" in result.output
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0])[:6] == ["period", "value", "value_sa", "seasonal_factor", "holiday_factor", "trend"]
    assert len(rows) == 144 and rows[0]["period"] == "2010-01" and rows[0]["value"] == "931.37"


def test_adjust_command_with_combined_january_february(tmp_path, small_grid):
    months = made_up()
    src = tmp_path / "in.csv"
    with src.open("w") as f:
        f.write("month,exports\n")
        for d, v in months.items():
            if d.year == 2021 and d.month == 1:
                f.write(f"2021-01/02,{v + months[date(2021, 2, 1)]:.2f}\n")
            elif not (d.year == 2021 and d.month == 2):
                f.write(f"{d:%Y-%m},{v}\n")
    out = tmp_path / "sa.csv"
    result = _run([str(src), "--date-column", "month", "--value-column", "exports", "--output", str(out)])
    assert result.exit_code == 0, result.output
    rows = {r["period"]: r for r in csv.DictReader(out.open())}
    jan, feb = rows["2021-01"], rows["2021-02"]
    assert (
        jan["jan_feb"] == feb["jan_feb"] == "combined"
        and jan["value"] == ""
        and jan["value_sa"] == feb["value_sa"]
    )
    assert float(jan["value_combined"]) == pytest.approx(
        months[date(2021, 1, 1)] + months[date(2021, 2, 1)], abs=0.01
    )


def test_adjust_command_refuses_a_bad_month(tmp_path):
    src = tmp_path / "bad.csv"
    src.write_text("m,v\n2024/01,3\n")
    result = _run([str(src), "--date-column", "m", "--value-column", "v"])
    assert result.exit_code == 2 and "not a month" in result.output


# -- the benchmark's inputs (real recorded series) --------------------------------------------


def test_china_exports_fixed_spec_leave_no_new_year_effect(real_data):
    from bench.seasonal import customs, residual_t

    spec = adj.SeasonalSpec("cny", 10, 20, 0, "td")
    out = adj.adjust(adj.from_months(customs(real_data, "exports_100m_usd")), spec, seats_check=False)
    sa = {r.period: r.value_sa for r in out.rows}
    assert out.rows[-1].value == pytest.approx(207742.0)  # 2013-12: 2,077.42 × USD 100 million
    assert residual_t(sa) < 2


def test_the_run_report_charts_published_vs_adjusted_for_the_focus_reporter(tmp_path):
    """A made-up adjusted series in marts.seasonally_adjusted → the report draws its chart."""
    import duckdb

    from flows.report import write_report

    database = tmp_path / "trade.duckdb"
    con = duckdb.connect(str(database))
    con.execute("CREATE SCHEMA marts")
    con.execute(
        """CREATE TABLE marts.seasonally_adjusted AS
           SELECT 'gacc' AS source, 'CHN' AS reporter, 'WLD' AS partner, flow, 'USD' AS currency,
                  (DATE '2020-01-01' + INTERVAL (i) MONTH)::DATE AS period,
                  100e9 + i * 1e9 AS value, NULL::DOUBLE AS value_combined,
                  101e9 + i * 1e9 AS value_sa
           FROM range(36) t(i), (VALUES ('X'), ('M')) f(flow)"""  # made-up figures
    )
    con.close()
    files = write_report(None, database, "CHN", [], tmp_path / "reports")
    charts = list((tmp_path / "reports").glob("seasonal-*.png"))
    assert len(charts) == 1 and charts[0].stat().st_size > 1000
    assert charts[0].name in files.html.read_text(encoding="utf-8")
    assert "Published vs seasonally adjusted (CHN with the world)" in files.markdown


def test_recorded_census_2021_2024_us_trade_with_china_is_adjusted(httpserver, real_data, tmp_path):
    """Done-when of the issue: a build over the recorded US Census 2021–2024 monthly data adjusts
    US exports to and imports from China; the imports' New Year window is shifted by a shipping
    lag (chosen by AICc from 0–42 days). Asserts which series are adjusted and how, not values."""
    import re as _re
    from datetime import date as _date

    import duckdb

    from flows.archive import Archive
    from flows.build import build_warehouse
    from flows.fetch import fetch_source
    from flows.scope import RunScope
    from flows.settings import Settings
    from tests.double import StrictPublishers

    httpserver.expect_request(_re.compile(".*")).respond_with_handler(StrictPublishers(real_data))
    settings = Settings(warehouse=tmp_path, census_base_url=httpserver.url_for("/census"),
                        requests_per_minute=60_000.0)
    archive = Archive(settings.raw_dir)
    scope = RunScope(sources=("census",), reporters=("USA",), period_start=_date(2021, 1, 1),
                     period_end=_date(2024, 12, 1), options={"census_cif": False})
    outcome = fetch_source("census", scope.resolved(_date(2026, 12, 1)), settings, archive)
    assert outcome.ok, outcome.line()
    build_warehouse(archive, tmp_path / "trade.duckdb")
    con = duckdb.connect(str(tmp_path / "trade.duckdb"), read_only=True)
    try:
        rows = {
            flow: (adjusted, holiday, lag)
            for flow, adjusted, holiday, lag in con.execute(
                """SELECT flow, count(value_sa), any_value(holiday), any_value(lag_days)
                   FROM marts.seasonally_adjusted
                   WHERE source = 'census' AND reporter = 'USA' AND partner = 'CHN'
                   GROUP BY flow"""
            ).fetchall()
        }
    finally:
        con.close()
    assert rows["X"][0] == 48 and rows["M"][0] == 48  # every month of 2021–2024 adjusted
    assert rows["M"][1] == "cny" and rows["M"][2] > 0  # New Year window shifted by a lag
