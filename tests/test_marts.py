"""SQL unit tests of the imbalance models (issue 4; rules of DESIGN.md §4).

Every number loaded in the tests below is MADE UP (hand-made inputs chosen so that each rule can
be worked out by hand; the arithmetic is in the comments), except in the last section, which loads
China customs' real table (4) pages from ``../shared/data/real/gacc_html/`` and asserts figures
printed on them (row and column named at each assertion).

Each test builds a fresh in-memory warehouse: made-up rows go through the real loader
(``flows.warehouse.load_observations``), then every model and every data test runs
(``tests.sql_harness.build``), so a rule broken in any model or a data test that fires fails here.
"""

from __future__ import annotations

import statistics
from datetime import date, datetime

import pytest

from flows.models import DataTestFailure
from flows.parameters import ModelParameters
from flows.schema import add_months
from flows.sources import gacc
from flows.sources.base import FetchRequest
from flows.warehouse import load_observations
from tests.conftest import real_file
from tests.sql_harness import (
    build,
    data_test_rows,
    load,
    load_rates,
    observation,
    one,
    row_at,
    rows,
    series,
    warehouse,
)

approx = pytest.approx
D = date


def month(year: int, number: int) -> date:
    return date(year, number, 1)


def months_of(year: int) -> list[date]:
    return [month(year, m) for m in range(1, 13)]


# ------------------------------------------------------------------------------------------
# marts.trade_balance_monthly: levels and year-on-year growth of the period
# ------------------------------------------------------------------------------------------


def test_levels_and_period_growth():
    con = warehouse()
    # made up: March 2024 X 200, M 150; March 2025 X 230, M 140
    load(con, series("comtrade", "CHN", "USD", month(2024, 3), exports=[200], imports=[150])
         + series("comtrade", "CHN", "USD", month(2025, 3), exports=[230], imports=[140]))
    build(con)
    row = row_at(con, "trade_balance_monthly", month(2025, 3))
    assert (row["exports"], row["imports"]) == (230, 140)
    assert (row["balance"], row["total_trade"]) == (90, 370)
    assert (row["months"], row["period_type"], row["period_start"]) == (1, "month", month(2025, 3))
    assert row["exports_yoy"] == approx(0.15)  # 230 / 200 - 1
    assert row["imports_yoy"] == approx(140 / 150 - 1)
    assert row["growth_gap"] == approx(0.15 - (140 / 150 - 1))
    assert row["balance_yoy"] == approx(0.8)  # 90 / 50 - 1, both balances positive
    assert row["balance_change"] == 40
    assert row["total_trade_yoy"] == approx(370 / 350 - 1)
    assert row["import_cover"] == approx(140 / 230)
    assert row["balance_share"] == approx(90 / 370)
    assert row["exports_usd"] == 230 and row["usd_rate_source"] == "published in USD"
    # the year-earlier row has no base of its own
    base = row_at(con, "trade_balance_monthly", month(2024, 3))
    assert base["exports_yoy"] is None and base["balance_yoy"] is None
    assert base["balance_change"] is None


def test_zero_and_negative_bases_give_null_never_inf():
    con = warehouse()
    load(con, series(
        "comtrade", "CHN", "USD", month(2024, 1),
        # made up: Jan X 0 M 50 (deficit); Feb X 0 M 0; Mar X 50 M 100 (deficit)
        exports=[0, 0, 50], imports=[50, 0, 100],
    ) + series(
        "comtrade", "CHN", "USD", month(2025, 1),
        # made up: Jan X 40 M 30 (surplus); Feb X 10 M 10; Mar X 60 M 120 (deficit)
        exports=[40, 10, 60], imports=[30, 10, 120],
    ))
    build(con)  # includes the data tests growth_is_finite and marts_ratios_are_finite
    jan = row_at(con, "trade_balance_monthly", month(2025, 1))
    assert jan["exports_yoy"] is None  # base 0
    assert jan["imports_yoy"] == approx(-0.4)  # 30 / 50 - 1
    assert jan["growth_gap"] is None
    assert jan["balance_yoy"] is None  # base balance -50 is not positive
    assert jan["balance_change"] == 60  # 10 - (-50): the level change is still reported
    feb = row_at(con, "trade_balance_monthly", month(2025, 2))
    assert feb["imports_yoy"] is None and feb["total_trade_yoy"] is None  # bases 0
    assert feb["balance_yoy"] is None and feb["balance_change"] == 0
    mar = row_at(con, "trade_balance_monthly", month(2025, 3))
    # both balances negative (-50 then -60): no "growth" of a deficit, only the level change
    assert mar["balance_yoy"] is None and mar["balance_change"] == -10
    assert mar["exports_yoy"] == approx(0.2)
    jan_base = row_at(con, "trade_balance_monthly", month(2024, 1))
    assert jan_base["import_cover"] is None  # exports 0
    assert jan_base["balance_share"] == approx(-1.0)  # -50 / 50
    assert row_at(con, "trade_balance_monthly", month(2024, 2))["balance_share"] is None  # total 0
    # year to date (sum of months) with a zero base: 2025 Jan–Feb X 50 against 2024 Jan–Feb X 0
    assert feb["exports_ytd"] == 50 and feb["exports_ytd_yoy"] is None
    assert feb["imports_ytd_yoy"] == approx(40 / 50 - 1)
    infinite = one(con, """SELECT count(*) AS n FROM marts.trade_balance_monthly
                           WHERE isinf(exports_yoy) OR isnan(exports_yoy) OR isinf(import_cover)
                              OR isinf(balance_share) OR isnan(balance_share)""")
    assert infinite["n"] == 0


def test_year_to_date_and_rolling_sums_with_a_missing_month():
    con = warehouse()
    # made up: 2024 month m: X 100 + m, M 50 + m; 2025 month m: X 120 + m, M 60 + m, m = 1..6,
    # April 2025 not published (missing, not zero)
    x2024 = [100 + m for m in range(1, 13)]
    m2024 = [50 + m for m in range(1, 13)]
    x2025 = [121, 122, 123, None, 125, 126]
    m2025 = [61, 62, 63, None, 65, 66]
    load(con, series("comtrade", "CHN", "USD", month(2024, 1), exports=x2024, imports=m2024)
         + series("comtrade", "CHN", "USD", month(2025, 1), exports=x2025, imports=m2025))
    build(con)

    def at(year, number):
        return row_at(con, "trade_balance_monthly", month(year, number))

    mar = at(2025, 3)
    assert (mar["ytd_basis"], mar["ytd_months"]) == ("sum of months", 3)
    assert (mar["exports_ytd"], mar["imports_ytd"]) == (366, 186)  # 121+122+123, 61+62+63
    assert mar["balance_ytd"] == 180 and mar["total_trade_ytd"] == 552
    assert mar["exports_ytd_yoy"] == approx(366 / 306 - 1)  # 2024: 101+102+103
    assert mar["imports_ytd_yoy"] == approx(186 / 156 - 1)
    assert mar["growth_gap_ytd"] == approx((366 / 306 - 1) - (186 / 156 - 1))
    assert mar["balance_ytd_yoy"] == approx(180 / 150 - 1)
    # rolling 3 months Jan–Mar 2025 = the year to date here
    assert (mar["exports_3m"], mar["imports_3m"], mar["balance_3m"]) == (366, 186, 180)
    assert mar["exports_3m_yoy"] == approx(366 / 306 - 1)
    assert mar["growth_gap_3m"] == approx((366 / 306 - 1) - (186 / 156 - 1))
    # 12 months April 2024 – March 2025: 104..112 and 121..123
    assert mar["exports_12m"] == sum(range(104, 113)) + 366
    assert mar["exports_12m_yoy"] is None  # no 12-month window a year earlier
    # February 2025: December 2024 + January + February 2025; its base (Dec 2023 …) is missing
    feb = at(2025, 2)
    assert feb["exports_3m"] == 112 + 121 + 122 and feb["exports_3m_yoy"] is None
    dec = at(2024, 12)
    assert dec["exports_12m"] == sum(x2024) and dec["exports_ytd"] == sum(x2024)
    assert dec["imports_12m"] == sum(m2024)
    # the missing April: no row, and every window containing it is NULL
    assert not rows(con, "SELECT 1 FROM marts.trade_balance_monthly WHERE period_end = ?",
                    [month(2025, 4)])
    may = at(2025, 5)
    assert may["exports_yoy"] == approx(125 / 105 - 1)  # the month itself still compares
    assert may["exports_ytd"] is None and may["ytd_basis"] is None and may["ytd_months"] is None
    assert may["exports_3m"] is None and may["exports_12m"] is None
    assert at(2025, 6)["exports_3m"] is None  # April–June
    assert may["exports_ytd_yoy"] is None and may["growth_gap_3m"] is None


# ------------------------------------------------------------------------------------------
# Combined January–February periods (China customs publishes them as one period)
# ------------------------------------------------------------------------------------------


def _combined_fixture(published_2025: tuple[float, float] = (0.15, 0.067)) -> list[dict]:
    """Made-up GACC-style CNY series: 2023 with separate January and February, 2024 and 2025
    with one combined January–February period, a printed year-to-date table for Jan–Mar 2025
    that differs from the sum of its months (as a revised cumulative would)."""
    def obs(flow, start, value, end=None, **kw):
        return observation(source="gacc", flow=flow, start=start, end=end, value=value,
                           currency="CNY", **kw)

    out = [obs("X", month(2023, 1), 90), obs("M", month(2023, 1), 70),
           obs("X", month(2023, 2), 80), obs("M", month(2023, 2), 60)]
    # the February 2023 table also printed the cumulative January–February (ytd, two months)
    out += [obs("X", month(2023, 1), 170, month(2023, 2), period_type="ytd"),
            obs("M", month(2023, 1), 130, month(2023, 2), period_type="ytd")]
    out += [obs(f, month(2023, m), v) for m in range(3, 13) for f, v in (("X", 100), ("M", 80))]
    out += [obs("X", month(2024, 1), 200, month(2024, 2), published_yoy=0.176),
            obs("M", month(2024, 1), 150, month(2024, 2), published_yoy=0.154)]
    out += [obs(f, month(2024, m), v) for m in range(3, 13) for f, v in (("X", 110), ("M", 85))]
    x_yoy, m_yoy = published_2025
    out += [obs("X", month(2025, 1), 230, month(2025, 2), published_yoy=x_yoy),
            obs("M", month(2025, 1), 160, month(2025, 2), published_yoy=m_yoy)]
    out += [obs("X", month(2025, 3), 121), obs("M", month(2025, 3), 85),
            obs("X", month(2025, 4), 121), obs("M", month(2025, 4), 86),
            obs("X", month(2025, 5), 125), obs("M", month(2025, 5), 90)]
    # printed cumulative Jan–Mar 2025: 352 (not 230 + 121 = 351) and 245, YoY 0.135 and 0.043
    # (computed: 352 / 310 - 1 = 0.1355 and 245 / 235 - 1 = 0.0426)
    out += [obs("X", month(2025, 1), 352, month(2025, 3), period_type="ytd", published_yoy=0.135),
            obs("M", month(2025, 1), 245, month(2025, 3), period_type="ytd", published_yoy=0.043)]
    return out


def test_combined_january_february_is_compared_with_combined_only():
    con = warehouse()
    load(con, _combined_fixture())
    build(con)

    def gacc(end):
        return row_at(con, "trade_balance_monthly", end, source="gacc", currency="CNY")

    jf25 = gacc(month(2025, 2))
    assert (jf25["period_start"], jf25["months"], jf25["period_type"]) == (month(2025, 1), 2,
                                                                           "combined")
    assert jf25["exports_yoy"] == approx(0.15)  # 230 / 200 - 1, combined against combined
    assert jf25["imports_yoy"] == approx(160 / 150 - 1)
    assert jf25["exports_yoy_published"] == approx(0.15)
    # 2024's combined period has no combined base: 2023 published January and February apart
    # (and a two-month year-to-date column, which is not a combined period either)
    jf24 = gacc(month(2024, 2))
    assert jf24["exports_yoy"] is None and jf24["exports_yoy_published"] == approx(0.176)
    assert jf24["exports_3m_yoy"] is None  # no December 2022
    # no January row exists for a combined year, and nothing was booked in February alone
    assert not rows(con, """SELECT 1 FROM marts.trade_balance_monthly WHERE source = 'gacc'
                            AND period_end = ? AND period_start = period_end""", [month(2025, 2)])


def test_combined_period_in_year_to_date_and_rolling_windows():
    con = warehouse()
    load(con, _combined_fixture())
    build(con)

    def gacc(end):
        return row_at(con, "trade_balance_monthly", end, source="gacc", currency="CNY")

    jf25, mar25, apr25, may25 = (gacc(month(2025, m)) for m in (2, 3, 4, 5))
    # the combined period is itself the printed year to date through February
    assert (jf25["ytd_basis"], jf25["exports_ytd"], jf25["ytd_months"]) == ("published", 230, 2)
    assert jf25["exports_ytd_yoy"] == approx(230 / 200 - 1)
    # 2024's combined cumulative against the printed Jan–Feb 2023 cumulative (the same months)
    assert gacc(month(2024, 2))["exports_ytd_yoy"] == approx(200 / 170 - 1)
    feb23 = gacc(month(2023, 2))
    assert (feb23["period_type"], feb23["exports"]) == ("month", 80)
    assert (feb23["ytd_basis"], feb23["exports_ytd"], feb23["imports_ytd"]) == ("published", 170, 130)
    # March 2025: the printed cumulative (352) wins over the sum of months (351)
    assert mar25["ytd_basis"] == "published"
    assert (mar25["exports_ytd"], mar25["imports_ytd"]) == (352, 245)
    assert mar25["exports_ytd_yoy"] == approx(352 / 310 - 1)  # 2024: combined 200 + March 110
    assert mar25["exports_ytd_yoy_published"] == approx(0.135)
    mar24 = gacc(month(2024, 3))
    assert (mar24["ytd_basis"], mar24["exports_ytd"]) == ("sum of months", 310)
    # May 2025 year to date: combined (2 months) + March + April + May = 5 months
    assert (may25["ytd_basis"], may25["exports_ytd"], may25["ytd_months"]) == (
        "sum of months", 230 + 121 + 121 + 125, 5)

    # rolling 3 months: February = December + combined Jan–Feb
    assert jf25["exports_3m"] == 110 + 230
    assert jf25["exports_3m_yoy"] == approx(340 / 300 - 1)  # Dec 2023 100 + combined 2024 200
    # March = combined + March; its base in 2024 also combined + March
    assert mar25["exports_3m"] == 351 and mar25["exports_3m_yoy"] == approx(351 / 310 - 1)
    # March 2024 (combined + March) against January + February + March 2023 (same months)
    assert mar24["exports_3m_yoy"] == approx(310 / 270 - 1)
    # April: February–April cannot be formed when only a combined Jan–Feb was published
    assert apr25["exports_3m"] is None and apr25["exports_3m_yoy"] is None
    assert may25["exports_3m"] == 367 and may25["exports_3m_yoy"] == approx(367 / 330 - 1)
    # 12 months ending February 2025: March–December 2024 + combined 2025
    assert jf25["exports_12m"] == 10 * 110 + 230
    assert jf25["exports_12m_yoy"] == approx(1330 / 1200 - 1)  # 10 × 100 + combined 200
    dec24 = gacc(month(2024, 12))
    assert dec24["exports_12m"] == 1300 and dec24["exports_12m_yoy"] == approx(1300 / 1170 - 1)


def test_overlapping_periods_in_one_series_fail_a_data_test():
    con = warehouse()
    # made up: a combined Jan–Feb 2025 and a February 2025 month in the same series
    load(con, [observation(source="gacc", start=month(2025, 1), end=month(2025, 2), value=200,
                           currency="CNY"),
               observation(source="gacc", start=month(2025, 2), value=90, currency="CNY")])
    with pytest.raises(DataTestFailure, match="series_periods_do_not_overlap"):
        build(con)


# ------------------------------------------------------------------------------------------
# Published-YoY cross-check
# ------------------------------------------------------------------------------------------


def test_published_yoy_within_rounding_passes():
    con = warehouse()
    # computed 0.15 and 0.0667 against printed 0.1505 and 0.067: within ± 0.0015
    load(con, _combined_fixture(published_2025=(0.1505, 0.067)))
    results = build(con)
    assert results["published_yoy_cross_check"] == 0
    compared = one(con, """SELECT count(*) AS n FROM marts.trade_balance_monthly
                           WHERE exports_yoy IS NOT NULL AND exports_yoy_published IS NOT NULL""")
    assert compared["n"] == 1  # the combined 2025 period is the one comparable pair


def test_published_yoy_beyond_rounding_is_reported_but_does_not_block_publishing():
    con = warehouse()
    # printed 0.153 against a computed 0.15: off by 0.003, more than rounding
    load(con, _combined_fixture(published_2025=(0.153, 0.067)))
    warnings: list[str] = []
    results = build(con, warnings=warnings)  # a publisher restatement must not stop a run
    assert results["published_yoy_cross_check"] == 2
    assert len(warnings) == 1 and "published_yoy_cross_check" in warnings[0]
    offending = data_test_rows(con, "published_yoy_cross_check")
    # the combined period is both the period and the year to date through February
    assert sorted((r["measure"], r["period_end"]) for r in offending) == [
        ("exports_yoy", month(2025, 2)), ("exports_ytd_yoy", month(2025, 2))]
    assert {round(r["difference"], 6) for r in offending} == {-0.003}


def test_published_yoy_cross_check_covers_year_to_date_and_skips_aggregates():
    con = warehouse()
    records = _combined_fixture()
    # printed cumulative YoY 0.140 against computed 352 / 310 - 1 = 0.1355: beyond rounding
    for r in records:
        if r["period_type"] == "ytd" and r["flow"] == "X":
            r["published_yoy"] = 0.140
    # an aggregate partner with a restated base (printed +50 %, computed +10 %) is not checked
    for year, value, printed in ((2024, 100, None), (2025, 110, 0.5)):
        records.append(observation(source="gacc", partner="EU27_2020", start=month(year, 3),
                                   value=value, currency="CNY", published_yoy=printed))
    load(con, records)
    build(con)
    offending = data_test_rows(con, "published_yoy_cross_check")
    assert {(r["mart"], r["partner"], r["measure"]) for r in offending} == {
        ("trade_balance_monthly", "WLD", "exports_ytd_yoy")}


# ------------------------------------------------------------------------------------------
# Revisions
# ------------------------------------------------------------------------------------------


def test_revised_month_replaces_the_value_and_is_listed_in_revisions():
    con = warehouse()
    first = series("comtrade", "CHN", "USD", month(2025, 1), exports=[100, 120, 130],
                   imports=[80, 90, 95], vintage=D(2025, 4, 20))
    load(con, first, sha="made-up-vintage-1")
    # made up: the next release revises February exports 120 -> 125, nothing else
    second = series("comtrade", "CHN", "USD", month(2025, 1), exports=[100, 125, 130],
                    imports=[80, 90, 95], vintage=D(2025, 5, 20))
    load(con, second, sha="made-up-vintage-2")
    build(con)
    assert row_at(con, "trade_balance_monthly", month(2025, 2))["exports"] == 125
    assert row_at(con, "trade_balance_monthly", month(2025, 3))["exports_3m"] == 355
    revised = rows(con, "SELECT * FROM marts.revisions")
    assert len(revised) == 1
    r = revised[0]
    assert (r["flow"], r["period_start"], r["partner"], r["commodity"]) == (
        "X", month(2025, 2), "WLD", "TOTAL")
    assert (r["first_value"], r["first_vintage"]) == (120, D(2025, 4, 20))
    assert (r["latest_value"], r["latest_vintage"]) == (125, D(2025, 5, 20))
    assert r["change"] == 5 and r["change_ratio"] == approx(5 / 120)
    assert (r["vintages"], r["distinct_values"], r["value_changes"]) == (2, 2, 1)

    # re-loading the same payload changes nothing
    before = rows(con, "SELECT * FROM marts.trade_balance_monthly ORDER BY ALL")
    load(con, second, sha="made-up-vintage-2")
    build(con)
    assert rows(con, "SELECT * FROM marts.trade_balance_monthly ORDER BY ALL") == before
    assert len(rows(con, "SELECT * FROM marts.revisions")) == 1

    # a third release restores 120: still listed (it did change), with change 0
    third = series("comtrade", "CHN", "USD", month(2025, 1), exports=[100, 120, 130],
                   imports=[80, 90, 95], vintage=D(2025, 6, 20))
    load(con, third, sha="made-up-vintage-3")
    build(con)
    r = one(con, "SELECT * FROM marts.revisions")
    assert (r["first_value"], r["latest_value"], r["change"]) == (120, 120, 0)
    assert (r["vintages"], r["distinct_values"], r["value_changes"]) == (3, 2, 2)
    assert r["latest_vintage"] == D(2025, 6, 20)


# ------------------------------------------------------------------------------------------
# marts.bilateral_balance_monthly: shares and contributions
# ------------------------------------------------------------------------------------------


def test_partner_shares_and_contributions_use_the_same_source_currency_and_period():
    con = warehouse()

    def obs(partner, flow, year, value, currency="CNY"):
        return observation(source="gacc", partner=partner, flow=flow, start=month(year, 3),
                           value=value, currency=currency)

    # made up (CNY edition): March 2024 and March 2025
    cny = {"WLD": ((1000, 800), (1100, 820)), "USA": ((150, 50), (120, 55)),
           "DEU": ((40, 30), (50, 35)), "EU27_2020": ((160, 100), (170, 105))}
    records = [obs(p, f, y, v) for p, years in cny.items()
               for y, (x, m) in zip((2024, 2025), years, strict=True)
               for f, v in (("X", x), ("M", m))]
    # made up (USD edition) March 2025 only; and a USA row in April 2025 with no world total
    records += [obs("WLD", "X", 2025, 155, "USD"), obs("WLD", "M", 2025, 115, "USD"),
                obs("USA", "X", 2025, 17, "USD"), obs("USA", "M", 2025, 8, "USD"),
                observation(source="gacc", partner="USA", start=month(2025, 4), value=130,
                            currency="CNY")]
    load(con, records)
    build(con)

    usa = row_at(con, "bilateral_balance_monthly", month(2025, 3), source="gacc", currency="CNY",
                 partner="USA")
    assert (usa["world_exports"], usa["world_imports"]) == (1100, 820)
    assert usa["exports_share"] == approx(120 / 1100)
    assert usa["imports_share"] == approx(55 / 820)
    assert usa["exports_contribution"] == approx((120 - 150) / 1000)  # -3 percentage points
    assert usa["imports_contribution"] == approx((55 - 50) / 800)
    assert usa["exports_yoy"] == approx(-0.2) and usa["balance"] == 65
    # the USD edition's shares use the USD world total, never the CNY one
    usa_usd = row_at(con, "bilateral_balance_monthly", month(2025, 3), source="gacc",
                     currency="USD", partner="USA")
    assert usa_usd["exports_share"] == approx(17 / 155)
    assert usa_usd["exports_contribution"] is None  # no USD edition a year earlier
    eu = row_at(con, "bilateral_balance_monthly", month(2025, 3), source="gacc", currency="CNY",
                partner="EU27_2020")
    assert eu["partner_kind"] == "aggregate" and eu["exports_share"] == approx(170 / 1100)
    april = row_at(con, "bilateral_balance_monthly", month(2025, 4), source="gacc",
                   currency="CNY", partner="USA")
    assert april["world_exports"] is None and april["exports_share"] is None
    assert april["exports_contribution"] is None


def test_country_contributions_add_up_to_headline_growth():
    con = warehouse()
    # made up, comtrade USD, January–March of 2024 and 2025; the world is exactly USA + DEU + JPN
    partners = {"USA": ([30, 32, 34], [33, 30, 40]), "DEU": ([20, 21, 22], [19, 25, 26]),
                "JPN": ([10, 10, 12], [14, 12, 11])}
    records = []
    for partner, (x24, x25) in partners.items():
        records += series("comtrade", "CHN", "USD", month(2024, 1), exports=x24, imports=x24,
                          partner=partner)
        records += series("comtrade", "CHN", "USD", month(2025, 1), exports=x25, imports=x24,
                          partner=partner)
    world24 = [sum(p[0][i] for p in partners.values()) for i in range(3)]
    world25 = [sum(p[1][i] for p in partners.values()) for i in range(3)]
    records += series("comtrade", "CHN", "USD", month(2024, 1), exports=world24, imports=world24)
    records += series("comtrade", "CHN", "USD", month(2025, 1), exports=world25, imports=world24)
    load(con, records)
    build(con)
    world = row_at(con, "trade_balance_monthly", month(2025, 3))
    parts = rows(con, """SELECT partner, exports_contribution, exports_ytd_contribution,
                                exports_ytd_share
                         FROM marts.bilateral_balance_monthly
                         WHERE period_end = ? AND partner_kind = 'country'""", [month(2025, 3)])
    assert {p["partner"] for p in parts} == set(partners)
    assert sum(p["exports_contribution"] for p in parts) == approx(world["exports_yoy"])
    assert sum(p["exports_ytd_contribution"] for p in parts) == approx(world["exports_ytd_yoy"])
    assert sum(p["exports_ytd_share"] for p in parts) == approx(1.0)
    usa = next(p for p in parts if p["partner"] == "USA")
    # USA year to date: 2025 33+30+40 = 103 against 96; world base 2024 = 60+63+68 = 191
    assert usa["exports_ytd_contribution"] == approx((103 - 96) / 191)


# ------------------------------------------------------------------------------------------
# marts.mirror_gaps
# ------------------------------------------------------------------------------------------


def _mirror_records() -> list[dict]:
    mar = month(2025, 3)

    def obs(source, reporter, partner, flow, value, currency="USD", start=mar, end=None, **kw):
        return observation(source=source, reporter=reporter, partner=partner, flow=flow,
                           start=start, end=end, value=value, currency=currency, **kw)

    return [
        # made up: China's exports to the US, March 2025 (GACC in both editions, Comtrade)
        obs("gacc", "CHN", "USA", "X", 40_000),
        obs("gacc", "CHN", "USA", "X", 290_000, "CNY"),
        obs("comtrade", "CHN", "USA", "X", 39_000),
        # the US side: Census customs value (ex freight) and Comtrade CIF
        obs("census", "USA", "CHN", "M", 42_000),
        obs("comtrade", "USA", "CHN", "M", 42_400),
        # reverse direction: US exports (FAS) against China's imports (CIF, USD edition)
        obs("census", "USA", "CHN", "X", 12_000),
        obs("gacc", "CHN", "USA", "M", 13_780),
        # imports already valued FOB are not deflated
        obs("imf", "CHN", "VNM", "X", 4_900),
        obs("imf", "VNM", "CHN", "M", 5_000, valuation="FOB"),
        # the EU's imports from China in EUR (CIF), converted at 1.08 USD per EUR
        obs("gacc", "CHN", "EU27_2020", "X", 52_000),
        obs("eurostat", "EU27_2020", "CHN", "M", 50_000, "EUR"),
        # a combined Jan–Feb export figure never meets single-month import figures
        obs("gacc", "CHN", "USA", "X", 70_000, start=month(2025, 1), end=month(2025, 2)),
        obs("census", "USA", "CHN", "M", 36_000, start=month(2025, 1)),
        obs("census", "USA", "CHN", "M", 35_000, start=month(2025, 2)),
    ]


def _mirror(con, exporter, importer, exporter_source, importer_source):
    return one(con, """SELECT * FROM marts.mirror_gaps WHERE exporter = ? AND importer = ?
                       AND exporter_source = ? AND importer_source = ?""",
               [exporter, importer, exporter_source, importer_source])


def test_mirror_gaps_on_fob_basis():
    con = warehouse()
    load(con, _mirror_records())
    load_rates(con, {("USD", month(2025, 3)): 1.08})  # made up: USD per EUR, March 2025
    build(con)
    # customs value is not deflated
    census = _mirror(con, "CHN", "USA", "gacc", "census")
    assert (census["imports_valuation"], census["cif_fob_factor"]) == ("CUSTOMS", 1.0)
    assert census["exports_currency"] == "USD" and census["exports_value"] == 40_000  # USD edition
    assert census["imports_fob_usd"] == 42_000 and census["gap_usd"] == 2_000
    assert census["gap_ratio"] == approx(0.05)
    assert (census["period_start"], census["months"], census["period_type"]) == (
        month(2025, 3), 1, "month")
    # CIF is divided by the default factor 1.06; raw and adjusted both on the row
    cif = _mirror(con, "CHN", "USA", "gacc", "comtrade")
    assert (cif["imports_valuation"], cif["cif_fob_factor"]) == ("CIF", 1.06)
    assert cif["imports_usd"] == 42_400 and cif["imports_fob_usd"] == approx(40_000)
    assert cif["gap_usd"] == approx(0, abs=1e-6) and cif["gap_usd_unadjusted"] == 2_400
    both_comtrade = _mirror(con, "CHN", "USA", "comtrade", "comtrade")
    assert both_comtrade["gap_ratio"] == approx(40_000 / 39_000 - 1)
    # reverse direction: US exports (FAS, as published) against China's CIF imports
    reverse = _mirror(con, "USA", "CHN", "census", "gacc")
    assert (reverse["exports_valuation"], reverse["exports_usd"]) == ("FAS", 12_000)
    assert reverse["imports_fob_usd"] == approx(13_000) and reverse["gap_usd"] == approx(1_000)
    # FOB imports: factor 1
    fob = _mirror(con, "CHN", "VNM", "imf", "imf")
    assert (fob["cif_fob_factor"], fob["imports_fob_usd"], fob["gap_usd"]) == (1.0, 5_000, 100)
    # EUR converted first (50,000 × 1.08 = 54,000), then deflated
    eu = _mirror(con, "CHN", "EU27_2020", "gacc", "eurostat")
    assert (eu["imports_currency"], eu["imports_value"]) == ("EUR", 50_000)
    assert eu["imports_usd"] == approx(54_000)
    assert eu["imports_fob_usd"] == approx(54_000 / 1.06)
    assert "ECB" in eu["imports_usd_rate_source"]
    # every pair of sources, and nothing across different spans
    pairs = rows(con, """SELECT exporter_source, importer_source FROM marts.mirror_gaps
                         WHERE exporter = 'CHN' AND importer = 'USA' ORDER BY ALL""")
    assert [(p["exporter_source"], p["importer_source"]) for p in pairs] == [
        ("comtrade", "census"), ("comtrade", "comtrade"), ("gacc", "census"), ("gacc", "comtrade")]
    assert one(con, "SELECT count(*) AS n FROM marts.mirror_gaps WHERE period_end < ?",
               [month(2025, 3)])["n"] == 0
    vintages = _mirror(con, "CHN", "USA", "gacc", "census")
    assert vintages["exporter_vintage"] is not None and vintages["importer_vintage"] is not None


def test_mirror_factor_is_a_parameter():
    con = warehouse()
    load(con, _mirror_records())
    build(con, ModelParameters(cif_fob_factor=1.10))
    cif = _mirror(con, "CHN", "USA", "gacc", "comtrade")
    assert cif["cif_fob_factor"] == 1.10 and cif["imports_fob_usd"] == approx(42_400 / 1.10)
    assert _mirror(con, "CHN", "USA", "gacc", "census")["cif_fob_factor"] == 1.0
    # no EUR rate loaded: the EU pair is still shown, with NULL US-dollar values (missing ≠ 0)
    eu = _mirror(con, "CHN", "EU27_2020", "gacc", "eurostat")
    assert eu["imports_usd"] is None and eu["gap_usd"] is None and eu["gap_ratio"] is None


# ------------------------------------------------------------------------------------------
# marts.peer_comparison
# ------------------------------------------------------------------------------------------

# made up: 2025 export and import YoY by month for Vietnam (varying, so that a correlation exists)
VNM_X_GROWTH = [0.10, 0.12, 0.08, 0.15, 0.11, 0.09, 0.14, 0.13, 0.07, 0.12, 0.10, 0.16]
VNM_M_GROWTH = [0.05, 0.09, 0.02, 0.12, 0.06, 0.04, 0.10, 0.11, 0.01, 0.08, 0.07, 0.13]


def _peer_records() -> list[dict]:
    def flat(source, reporter, currency, x24, x25, m24, m25):
        return (series(source, reporter, currency, month(2024, 1), exports=[x24] * 12,
                       imports=[m24] * 12)
                + series(source, reporter, currency, month(2025, 1), exports=[x25] * 12,
                         imports=[m25] * 12))

    records = flat("gacc", "CHN", "USD", 100, 110, 80, 80)  # +10 % / 0 %
    records += flat("comtrade", "CHN", "USD", 100, 130, 80, 80)  # lower priority: not used
    records += flat("comtrade", "IND", "USD", 30, 31.2, 40, 38)  # +4 % / -5 %
    records += flat("comtrade", "DEU", "USD", 10, 20, 10, 10)  # not in the peer set
    records += flat("eurostat", "EU27_2020", "EUR", 200, 220, 200, 200)  # EUR, converted
    records += series("comtrade", "VNM", "USD", month(2024, 1), exports=[50] * 12,
                      imports=[40] * 12)
    records += series("comtrade", "VNM", "USD", month(2025, 1),
                      exports=[50 * (1 + g) for g in VNM_X_GROWTH],
                      imports=[40 * (1 + g) for g in VNM_M_GROWTH])
    return records


def _peer_rates() -> dict:
    # made up: 1.00 USD per EUR through 2024, 1.10 in 2025
    return {("USD", m): (1.0 if m.year == 2024 else 1.1) for m in months_of(2024) + months_of(2025)}


def test_peer_comparison_growth_ranks_and_synchronicity():
    con = warehouse()
    load(con, _peer_records())
    load_rates(con, _peer_rates())
    build(con)
    dec = {r["reporter"]: r for r in rows(
        con, "SELECT * FROM marts.peer_comparison WHERE period_end = ?", [month(2025, 12)])}
    assert set(dec) == {"CHN", "VNM", "IND", "EU27_2020"}  # DEU is not a peer
    assert {r["peers_in_period"] for r in dec.values()} == {4}
    chn = dec["CHN"]
    assert (chn["source"], chn["usd_basis"]) == ("gacc", "published in USD")
    assert chn["exports_12m_yoy"] == approx(0.10) and chn["imports_12m_yoy"] == approx(0.0)
    assert chn["exports_3m_yoy"] == approx(0.10) and chn["growth_gap_3m"] == approx(0.10)
    assert chn["balance_share_12m"] == approx((1320 - 960) / (1320 + 960))
    eu = dec["EU27_2020"]
    assert (eu["source"], eu["published_currency"], eu["usd_basis"]) == (
        "eurostat", "EUR", "converted at ECB reference rates")
    assert eu["exports_12m_yoy"] == approx(220 * 1.1 / 200 - 1)  # 0.21 in US dollars
    assert eu["growth_gap_12m"] == approx(0.21 - 0.10)
    ind = dec["IND"]
    assert ind["growth_gap_12m"] == approx(0.04 + 0.05)
    vnm = dec["VNM"]
    vnm_x = sum(50 * (1 + g) for g in VNM_X_GROWTH) / 600 - 1
    vnm_m = sum(40 * (1 + g) for g in VNM_M_GROWTH) / 480 - 1
    assert vnm["growth_gap_12m"] == approx(vnm_x - vnm_m)
    # ranks: 1 = largest gap
    gaps = sorted(dec, key=lambda r: dec[r]["growth_gap_12m"], reverse=True)
    assert [dec[r]["growth_gap_12m_rank"] for r in gaps] == [1, 2, 3, 4]
    assert gaps[0] == "EU27_2020"
    # imports: EU +10 % (in US dollars), VNM about +7 %, CHN 0 %, IND -5 %
    assert [dec[r]["imports_12m_yoy_rank"] for r in ("EU27_2020", "VNM", "CHN", "IND")] == [
        1, 2, 3, 4]
    # synchronicity: Vietnam's imports grew in all 12 months alongside exports
    assert vnm["sync_periods_12m"] == 12 and vnm["both_grow_share_12m"] == 1.0
    assert vnm["yoy_correlation_12m"] == approx(
        statistics.correlation(VNM_X_GROWTH, VNM_M_GROWTH), rel=1e-6)
    assert ind["both_grow_share_12m"] == 0.0  # imports fell every month
    assert chn["yoy_correlation_12m"] is None  # constant growth: no correlation (never NaN)
    # VNM and the EU both grew imports alongside exports in every month: a tie for first
    assert [dec[r]["both_grow_share_12m_rank"] for r in ("VNM", "EU27_2020", "CHN", "IND")] == [
        1, 1, 3, 3]
    # fewer than 6 periods with both growth rates: no synchronicity measure
    may = one(con, "SELECT * FROM marts.peer_comparison WHERE reporter = 'VNM' AND period_end = ?",
              [month(2025, 5)])
    assert may["sync_periods_12m"] == 5 and may["both_grow_share_12m"] is None
    assert may["yoy_correlation_12m"] is None and may["both_grow_share_12m_rank"] is None
    # 2024 rows exist but have no growth: ranks NULL, not 1
    early = one(con, """SELECT * FROM marts.peer_comparison
                        WHERE reporter = 'CHN' AND period_end = ?""", [month(2024, 12)])
    assert early["exports_12m_yoy"] is None and early["exports_12m_yoy_rank"] is None


def test_peer_set_is_a_parameter():
    con = warehouse()
    load(con, _peer_records())
    load_rates(con, _peer_rates())
    build(con, ModelParameters(peer_set=["IND", "DEU"]))
    dec = rows(con, """SELECT reporter, growth_gap_12m_rank, peers_in_period
                       FROM marts.peer_comparison WHERE period_end = ? ORDER BY reporter""",
               [month(2025, 12)])
    # DEU: +100 % exports, flat imports: gap 1.0 ranks first
    assert dec == [{"reporter": "DEU", "growth_gap_12m_rank": 1, "peers_in_period": 2},
                   {"reporter": "IND", "growth_gap_12m_rank": 2, "peers_in_period": 2}]


# ------------------------------------------------------------------------------------------
# marts.imbalance_signals
# ------------------------------------------------------------------------------------------

# made up: target 3-month growth gap for each month of 2025, and the 3-month import sums (against
# 300 a year earlier). March's gap is exactly 3 points (exports 313, imports 304 against 300 each),
# which in floating point computes as 0.02999999999999980: at the threshold, so it must count.
SIGNAL_GAPS = [0.00, 0.05, 0.03, 0.04, 0.0299, 0.06, 0.06, 0.00, 0.04, 0.05, 0.06, 0.07]
SIGNAL_IMPORT_SUMS = [300, 300, 304, 300, 300, 300, 300, 300, 300, 300, 300, 300]


def _from_sums(sums: list[float]) -> list[float]:
    """Monthly values after two months of 100 whose rolling 3-month sums are ``sums``:
    x_t = S_t − x_{t−1} − x_{t−2}."""
    history = [100.0, 100.0]
    for total in sums:
        history.append(total - history[-1] - history[-2])
    assert all(x > 0 for x in history)
    return history[2:]


def _signal_records() -> list[dict]:
    """Exports and imports 100 a month from November 2023 to December 2024; 2025 months chosen
    so that the 3-month sums give :data:`SIGNAL_GAPS` (see :func:`_from_sums`)."""
    export_sums = [m + 300 * gap for m, gap in zip(SIGNAL_IMPORT_SUMS, SIGNAL_GAPS, strict=True)]
    assert export_sums[2] == 313
    return (series("comtrade", "CHN", "USD", month(2023, 11), exports=[100] * 14,
                   imports=[100] * 14)
            + series("comtrade", "CHN", "USD", month(2025, 1), exports=_from_sums(export_sums),
                     imports=_from_sums(SIGNAL_IMPORT_SUMS)))


def _signals(con, reporter="CHN"):
    return rows(con, "SELECT * FROM marts.imbalance_signals WHERE reporter = ? ORDER BY run_start",
                [reporter])


def test_signal_runs_with_threshold_edges():
    con = warehouse()
    load(con, _signal_records())
    build(con)
    gaps = rows(con, """SELECT period_end, growth_gap_3m FROM marts.trade_balance_monthly
                        WHERE period_end >= ? ORDER BY period_end""", [month(2025, 1)])
    assert [g["growth_gap_3m"] for g in gaps] == approx(SIGNAL_GAPS)
    assert gaps[2]["growth_gap_3m"] < 0.03  # the floating-point edge: 313/300 − 304/300
    found = _signals(con)
    # Feb–Apr (0.05, 0.03 at the threshold, 0.04); May at 0.0299 breaks the run;
    # Jun–Jul is only 2 months; Sep–Dec runs 4 months to the latest period
    assert [(s["run_start"], s["run_end"], s["length_months"], s["periods"]) for s in found] == [
        (month(2025, 2), month(2025, 4), 3, 3), (month(2025, 9), month(2025, 12), 4, 4)]
    first, last = found
    assert first["mean_gap"] == approx(0.04) and first["min_gap"] == approx(0.03)
    assert first["latest_gap"] == approx(0.04) and not first["ongoing"]
    assert first["latest_exports_3m_yoy"] == approx(0.04) and first["latest_imports_3m_yoy"] == 0
    # a surplus (3-month balance 312 − 300 = 12) up from 0 a year earlier: widening
    assert first["latest_balance_3m"] == approx(12)
    assert first["latest_balance_3m_change"] == approx(12)
    assert first["surplus_widening"] is True
    assert last["mean_gap"] == approx((0.04 + 0.05 + 0.06 + 0.07) / 4) and last["ongoing"] is True
    assert (last["signal_threshold"], last["signal_min_months"]) == (0.03, 3)


def test_signal_parameters():
    con = warehouse()
    load(con, _signal_records())
    build(con, ModelParameters(signal_min_months=2))
    assert [(s["run_start"], s["length_months"]) for s in _signals(con)] == [
        (month(2025, 2), 3), (month(2025, 6), 2), (month(2025, 9), 4)]
    build(con, ModelParameters(signal_threshold=0.05))
    # at 5 points: Feb alone, Jun–Jul, Oct–Dec; only Oct–Dec lasts 3 months
    assert [(s["run_start"], s["run_end"]) for s in _signals(con)] == [
        (month(2025, 10), month(2025, 12))]


def test_signal_with_a_deficit_is_not_a_widening_surplus():
    con = warehouse()
    # made up: exports 100 -> 110 (+10 %), imports 200 -> 204 (+2 %): gap 8 points, but a deficit
    load(con, series("imf", "IND", "USD", month(2024, 1), exports=[100] * 12, imports=[200] * 12)
         + series("imf", "IND", "USD", month(2025, 1), exports=[110] * 6, imports=[204] * 6))
    build(con)
    (signal,) = _signals(con, "IND")
    assert (signal["run_start"], signal["run_end"], signal["length_months"]) == (
        month(2025, 3), month(2025, 6), 4)
    assert signal["latest_gap"] == approx(0.08)
    assert signal["latest_balance_3m"] == approx(330 - 612)
    assert signal["latest_balance_3m_change"] == approx(18)  # deficit narrowing
    assert signal["surplus_widening"] is False


def test_signal_runs_through_a_combined_period_and_stop_at_the_unsplittable_april():
    con = warehouse()

    def obs(flow, start, value, end=None):
        return observation(source="gacc", flow=flow, start=start, end=end, value=value,
                           currency="CNY")

    # made up: 2023 and 2024 combined Jan–Feb 200, other months 100; exports 110 from Oct 2024,
    # combined 2025 220; imports 100 a month (200 combined) throughout
    records = []
    for year in (2023, 2024, 2025):
        records += [obs("X", month(year, 1), 220 if year == 2025 else 200, month(year, 2)),
                    obs("M", month(year, 1), 200, month(year, 2))]
        last = 12 if year < 2025 else 5
        for m in range(3, last + 1):
            x = 110 if (year == 2024 and m >= 10) or year == 2025 else 100
            records += [obs("X", month(year, m), x), obs("M", month(year, m), 100)]
    load(con, records)
    build(con)
    found = _signals(con)
    # Oct, Nov, Dec 2024, combined Jan–Feb 2025 (2 months), Mar 2025: 6 months in 5 periods;
    # April 2025 has no 3-month window (February alone is unknown): the run ends in March;
    # May 2025 alone is too short
    assert [(s["run_start"], s["run_end"], s["length_months"], s["periods"]) for s in found] == [
        (month(2024, 10), month(2025, 3), 6, 5)]
    gaps = [10 / 300, 20 / 300, 30 / 300, 30 / 300, 30 / 300]
    weights = [1, 1, 1, 2, 1]
    expected = sum(g * w for g, w in zip(gaps, weights, strict=True)) / 6
    assert found[0]["mean_gap"] == approx(expected) and found[0]["latest_gap"] == approx(0.1)
    build(con, ModelParameters(signal_min_months=7))
    assert _signals(con) == []


# ------------------------------------------------------------------------------------------
# marts.commodity_drivers
# ------------------------------------------------------------------------------------------


def test_commodity_contributions_never_mix_levels():
    con = warehouse()

    def obs(commodity, year, value, flow="M"):
        return observation(source="census", reporter="USA", flow=flow, start=month(year, 6),
                           value=value, commodity=commodity)

    # made up: US imports from the world, June 2024 and June 2025: the total and HS chapters
    # (84 + 85 + 01 = 1,000 in 2024; 84 + 85 + 01 + 99 = 1,100 in 2025, chapter 99 being new),
    # and heading 8517, which sits inside chapter 85
    data = {"TOTAL": (1000, 1100), "84": (400, 330), "85": (500, 600), "01": (100, 120),
            "8517": (200, 260)}
    records = [obs(c, y, v) for c, pair in data.items()
               for y, v in zip((2024, 2025), pair, strict=True)]
    records.append(obs("99", 2025, 50))
    # made up: exports of chapter 85 without any TOTAL row loaded
    records += [obs("85", 2024, 70, "X"), obs("85", 2025, 77, "X")]
    load(con, records)
    build(con)
    got = {r["commodity"]: r for r in rows(
        con, "SELECT * FROM marts.commodity_drivers WHERE flow = 'M' AND period_end = ?",
        [month(2025, 6)])}
    assert set(got) == {"84", "85", "01", "8517", "99"}
    c85 = got["85"]
    assert (c85["hs_level"], c85["value"], c85["value_prev_year"]) == (2, 600, 500)
    assert c85["change"] == 100
    assert c85["yoy"] == approx(0.2)
    assert (c85["total"], c85["total_prev_year"]) == (1100, 1000)
    assert c85["total_yoy"] == approx(0.1)
    assert c85["contribution"] == approx(0.1)  # +100 on a total base of 1,000
    assert c85["share_of_change"] == approx(1.0)  # +100 of the total's +100
    assert c85["share_of_total"] == approx(600 / 1100)
    assert got["84"]["contribution"] == approx(-0.07)
    assert got["84"]["share_of_change"] == approx(-0.7)
    assert got["01"]["contribution"] == approx(0.02)
    # missing is not zero: the new chapter has no base, so no change and no contribution, and
    # its 50 (5 points of the total's growth) stay unexplained rather than counted as growth
    assert got["99"]["change"] is None and got["99"]["contribution"] is None
    assert got["99"]["share_of_total"] == approx(50 / 1100)
    chapters = [r["contribution"] for r in got.values()
                if r["hs_level"] == 2 and r["contribution"] is not None]
    assert sum(chapters) == approx(c85["total_yoy"] - 50 / 1000)
    assert [got[c]["contribution_rank"] for c in ("85", "84", "01")] == [1, 2, 3]
    # the heading is ranked among headings only, never against chapters
    assert (got["8517"]["hs_level"], got["8517"]["contribution_rank"]) == (4, 1)
    assert got["8517"]["contribution"] == approx(0.06)
    exports = one(con, "SELECT * FROM marts.commodity_drivers WHERE flow = 'X' AND period_end = ?",
                  [month(2025, 6)])
    assert exports["yoy"] == approx(0.1) and exports["total"] is None
    assert exports["contribution"] is None and exports["contribution_rank"] is None


# ------------------------------------------------------------------------------------------
# Real China customs pages (../shared/data/real/gacc_html; values as printed)
# ------------------------------------------------------------------------------------------

MAR_2026 = "gacc_html/release_section4_by_country_mar2026_cny.html"
JANFEB_2025 = "gacc_html/release_section4_by_country_janfeb2025_cny.html"
HUNDRED_MILLION = 100_000_000  # the pages' unit line: "Unit: CNY 100 Million"


def _gacc_request(year: int, number: int) -> FetchRequest:
    return FetchRequest(source="gacc", url="http://127.0.0.1:8765/gacc-mirror/Statics/page.html",
                        expect="html", reporter="CHN",
                        meta={"section": 4, "currency": "CNY", "year": year, "month": number})


@pytest.fixture
def real_gacc(real_data):
    con = warehouse()
    for relative, (year, number), sha in ((JANFEB_2025, (2025, 2), "real-janfeb2025"),
                                          (MAR_2026, (2026, 3), "real-mar2026")):
        body = real_file(real_data, relative).read_bytes()
        frame = gacc.parse(body, _gacc_request(year, number))
        load_observations(con, frame, sha, datetime(2026, 4, 10))
    build(con)
    return con


def _cny(value: float) -> float:
    return round(value * HUNDRED_MILLION)


def test_real_gacc_march_2026_values_as_printed(real_gacc):
    row = row_at(real_gacc, "trade_balance_monthly", month(2026, 3), source="gacc", currency="CNY")
    # row "Total": Export "3" 22,297.0; Import "3" 18,749.4; Export & Import "3" 41,046.4
    assert row["exports"] == _cny(22_297.0) and row["imports"] == _cny(18_749.4)
    assert row["total_trade"] == _cny(41_046.4)
    # "1- to-3" columns: Export 68,466.7, Import 49,913.3, Export & Import 118,380.0
    assert (row["ytd_basis"], row["ytd_months"]) == ("published", 3)
    assert row["exports_ytd"] == _cny(68_466.7) and row["imports_ytd"] == _cny(49_913.3)
    assert row["total_trade_ytd"] == _cny(118_380.0)
    # "1-to-3 Total Year-on-Year (±%)": Export 11.9, Import 19.6 (the cross-check columns)
    assert row["exports_ytd_yoy_published"] == approx(0.119)
    assert row["imports_ytd_yoy_published"] == approx(0.196)
    assert row["exports_yoy_published"] is None  # the page prints no single-month YoY
    # no January–March 2025 is loaded: nothing to compare the printed YoY with
    assert row["exports_ytd_yoy"] is None and row["exports_yoy"] is None
    # row "United States (US)": Export "3" 2,045.0 of the Total's 22,297.0; "1- to-3" 6,777.6 of
    # 68,466.7; Import "3" 876.1
    usa = row_at(real_gacc, "bilateral_balance_monthly", month(2026, 3), source="gacc",
                 currency="CNY", partner="USA")
    assert (usa["exports"], usa["imports"]) == (_cny(2_045.0), _cny(876.1))
    assert usa["exports_share"] == approx(2_045.0 / 22_297.0)
    assert usa["exports_ytd"] == _cny(6_777.6)
    assert usa["exports_ytd_share"] == approx(6_777.6 / 68_466.7)
    assert usa["exports_ytd_yoy_published"] == approx(-0.183)  # YoY Export -18.3


def test_real_gacc_january_february_2025_is_one_combined_period(real_gacc):
    row = row_at(real_gacc, "trade_balance_monthly", month(2025, 2), source="gacc", currency="CNY")
    # row "Total": "1-to-2" Export 38,812.1, Import 26,551.5, Export & Import 65,363.6;
    # YoY Export 3.4, Import -7.3
    assert (row["period_start"], row["months"], row["period_type"]) == (month(2025, 1), 2,
                                                                        "combined")
    assert row["exports"] == _cny(38_812.1) and row["imports"] == _cny(26_551.5)
    assert row["total_trade"] == _cny(65_363.6)
    assert row["exports_yoy_published"] == approx(0.034)
    assert row["imports_yoy_published"] == approx(-0.073)
    assert (row["ytd_basis"], row["exports_ytd"]) == ("published", _cny(38_812.1))
    # no January–February 2024 loaded: no computed YoY, so no comparison is possible here
    assert row["exports_yoy"] is None and row["exports_ytd_yoy"] is None
    # and no rolling window (no December 2024)
    assert row["exports_3m"] is None


def test_real_gacc_pages_give_no_comparable_pair_and_every_mart_has_china(real_gacc):
    # The recorded pages are January–February 2025 and March 2026: no period one year apart,
    # so the cross-check finds nothing to compare (the comparison rule itself is tested on
    # made-up data above: test_published_yoy_*).
    pairs = one(real_gacc, """
        SELECT count(*) FILTER (WHERE exports_yoy IS NOT NULL AND exports_yoy_published IS NOT NULL)
             + count(*) FILTER (WHERE exports_ytd_yoy IS NOT NULL
                                  AND exports_ytd_yoy_published IS NOT NULL) AS n,
               count(*) FILTER (WHERE exports_yoy_published IS NOT NULL
                                   OR exports_ytd_yoy_published IS NOT NULL) AS printed
        FROM marts.bilateral_balance_monthly""")
    assert pairs["n"] == 0 and pairs["printed"] == 2 * 30 - 2  # 29 partners on each page
    for table in ("trade_balance_monthly", "bilateral_balance_monthly", "peer_comparison"):
        found = one(real_gacc, f"SELECT count(*) AS n FROM marts.{table} WHERE reporter = 'CHN'")
        assert found["n"] > 0, table
    # every loaded value reaches the marts unchanged: month and combined figures in the
    # bilateral and world marts equal raw.observations (the parser's reading of the pages)
    mismatched = one(real_gacc, """
        SELECT count(*) AS n
        FROM raw.observations AS o
        LEFT JOIN (SELECT partner, period_start, period_end, exports, imports
                   FROM marts.bilateral_balance_monthly
                   UNION ALL
                   SELECT 'WLD', period_start, period_end, exports, imports
                   FROM marts.trade_balance_monthly) AS m
            ON m.partner = o.partner AND m.period_start = o.period_start
            AND m.period_end = o.period_end
        WHERE o.period_type IN ('month', 'combined')
            AND o.value IS DISTINCT FROM CASE o.flow WHEN 'X' THEN m.exports ELSE m.imports END""")
    assert mismatched["n"] == 0


def _gacc_editions(con, usd: dict[str, float]) -> None:
    """Made-up GACC March 2026 exports by partner in both editions, and made-up ECB rates:
    CNY 7.80 and USD 1.08 per EUR → 0.138462 USD per CNY."""
    cny = {"USA": 100e9, "VNM": 50e9, "KOR": 5e9, "JPN": 20e9}
    load_rates(con, {("CNY", month(2026, 3)): 7.80, ("USD", month(2026, 3)): 1.08})
    load(con, [observation(source="gacc", partner=p, flow="X", start=month(2026, 3), value=v,
                           currency=c) for c, values in (("CNY", cny), ("USD", usd))
               for p, v in values.items()])


def test_gacc_cny_edition_at_the_ecb_rate_is_checked_against_the_usd_edition():
    consistent = {"USA": 13.80e9,  # 13.846e9 at the ECB rate: 0.3 % apart (GACC's own rate)
                  "VNM": 6.90e9,   # 6.923e9 at the ECB rate: 0.3 % apart
                  "KOR": 0.60e9,   # 0.692e9: 13 % apart, but under USD 1 billion: not compared
                  "JPN": 2.80e9}   # 2.769e9: 1.1 % apart, within 2 %
    con = warehouse()
    _gacc_editions(con, consistent)
    assert build(con)["gacc_cny_usd_editions"] == 0
    con = warehouse()
    _gacc_editions(con, {**consistent, "VNM": 690e9})  # one USD value 100 × too large
    warnings: list[str] = []
    build(con, warnings=warnings)  # reported, never blocking
    offending = data_test_rows(con, "gacc_cny_usd_editions")
    assert [(r["partner"], round(r["gap_ratio"], 4)) for r in offending] == [("VNM", -0.99)]
    assert round(offending[0]["cny_edition_at_ecb_rate_usd"] / 1e6, 1) == 6923.1
    assert len(warnings) == 1 and "gacc_cny_usd_editions" in warnings[0]


# ------------------------------------------------------------------------------------------
# The whole build
# ------------------------------------------------------------------------------------------


def test_rebuilding_changes_nothing_and_every_mart_is_documented():
    con = warehouse()
    load(con, _combined_fixture() + _mirror_records() + _signal_records())
    build(con)
    tables = ("trade_balance_monthly", "bilateral_balance_monthly", "mirror_gaps",
              "peer_comparison", "imbalance_signals", "commodity_drivers", "revisions")
    before = {t: rows(con, f"SELECT * FROM marts.{t} ORDER BY ALL") for t in tables}
    build(con)
    assert {t: rows(con, f"SELECT * FROM marts.{t} ORDER BY ALL") for t in tables} == before
    relations = """(SELECT schema_name, table_name, comment FROM duckdb_tables()
        UNION ALL SELECT schema_name, view_name, comment FROM duckdb_views())"""
    undocumented = rows(con, f"""
        SELECT t.table_name, c.column_name
        FROM {relations} AS t
        JOIN duckdb_columns() AS c USING (schema_name, table_name)
        WHERE t.schema_name = 'marts' AND (t.comment IS NULL OR c.comment IS NULL
                                           OR c.comment = '')""")
    assert undocumented == []
    assert set(tables) <= {r["table_name"] for r in rows(
        con, f"SELECT table_name FROM {relations} WHERE schema_name = 'marts'")}


def test_windows_do_not_leak_across_series():
    con = warehouse()
    # made up: two reporters and two currencies interleaved in time; each 3-month sum must use
    # its own series only
    start = month(2025, 1)
    load(con, series("comtrade", "CHN", "USD", start, exports=[1, 2, 3], imports=[1, 1, 1])
         + series("comtrade", "VNM", "USD", start, exports=[10, 20, 30], imports=[1, 1, 1])
         + series("gacc", "CHN", "CNY", start, exports=[100, 200, 300], imports=[1, 1, 1])
         + series("gacc", "CHN", "USD", add_months(start, 1), exports=[7, 8], imports=[1, 1]))
    build(con)
    sums = {(r["source"], r["reporter"], r["currency"]): r["exports_3m"] for r in rows(
        con, "SELECT * FROM marts.trade_balance_monthly WHERE period_end = ?", [month(2025, 3)])}
    assert sums == {("comtrade", "CHN", "USD"): 6, ("comtrade", "VNM", "USD"): 60,
                    ("gacc", "CHN", "CNY"): 600, ("gacc", "CHN", "USD"): None}


def test_two_valuations_of_one_flow_use_the_headline_one():
    # made-up figures: US imports from China printed at customs value (400) and CIF (424)
    con = warehouse()
    load(con, [
        observation(source="census", reporter="USA", partner="CHN", flow="M", start=month(2024, 3),
                    value=400, valuation="CUSTOMS"),
        observation(source="census", reporter="USA", partner="CHN", flow="M", start=month(2024, 3),
                    value=424, valuation="CIF"),
        observation(source="census", reporter="USA", partner="CHN", flow="X", start=month(2024, 3),
                    value=100),
    ])
    build(con)
    assert one(con, """SELECT imports, imports_valuation FROM marts.bilateral_balance_monthly
                       WHERE source = 'census'""") == {"imports": 400.0, "imports_valuation": "CUSTOMS"}
    assert one(con, "SELECT count(*) AS n FROM raw.observations WHERE flow = 'M'") == {"n": 2}


def test_a_hundredfold_revision_is_reported_as_a_warning():
    # made-up figures: the same observation first loaded as 2,229.7 bn, then as 22.297 bn
    con = warehouse()
    load(con, [observation(source="gacc", start=month(2026, 3), value=2_229_700_000_000,
                           currency="CNY")], sha="a" * 64, fetched_at=datetime(2026, 4, 8))
    load(con, [observation(source="gacc", start=month(2026, 3), value=22_297_000_000,
                           currency="CNY")], sha="b" * 64, fetched_at=datetime(2026, 4, 9))
    warnings: list[str] = []
    results = build(con, warnings=warnings)
    assert results["large_revisions"] == 1
    assert any("large_revisions" in w for w in warnings)
    (row,) = data_test_rows(con, "large_revisions")
    assert (row["first_value"], row["latest_value"]) == (2_229_700_000_000, 22_297_000_000)
