"""Mirror statistics (issue 14): valuation from the Comtrade record, observed freight margins,
marts.reconciled_flows and the China–US plausibility bands.

Figures come from three kinds of input, each labelled where used:

* MADE-UP payloads in the publishers' own formats (``tests/fixtures/comtrade/
  valuation_bases_made_up.json``, ``tests/fixtures/census/imports_cif_margins_made_up.json``),
  whose expected results can be worked out by hand from the numbers in the files;
* MADE-UP observations written with :mod:`tests.sql_harness` (exporters' side of the mirrors,
  the synthetic panel with known true flows and known reporter noise);
* the recorded real payloads (``real_data`` fixture; skipped without ``shared/``): UN Comtrade
  China's exports to the US (vignette2 CSV) against US Census imports from China.
"""

from __future__ import annotations

import csv
import json
import math
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from pytest import approx

from flows.parameters import ModelParameters
from flows.schema import add_months
from flows.sources import census, comtrade
from flows.sources.base import FetchRequest
from flows.warehouse import load_observations
from tests.sql_harness import (
    FETCHED_AT,
    build,
    data_test_rows,
    frame,
    load,
    observation,
    one,
    rows,
    warehouse,
)

FIXTURES = Path(__file__).parent / "fixtures"
COMTRADE_BASE = "https://comtradeapi.un.org"
CENSUS_BASE = "https://api.census.gov/data/timeseries/intltrade"
MAR, APR = date(2024, 3, 1), date(2024, 4, 1)


def comtrade_request(reporter: str, freq: str, start: date, end: date) -> FetchRequest:
    return FetchRequest(source="comtrade", url=f"{COMTRADE_BASE}/data/v1/get/C/{freq}/HS",
                        params={"cmdCode": "TOTAL"}, expect="json", reporter=reporter,
                        period_start=start, period_end=end, meta={"freq": freq})


def census_request(direction: str, month: date) -> FetchRequest:
    return FetchRequest(source="census", url=f"{CENSUS_BASE}/{direction}/hs", params={},
                        expect="json", reporter="USA", period_start=month, period_end=month)


def valuation_bases() -> pl.DataFrame:
    """The MADE-UP Comtrade fixture parsed (USA imports, 2024-03 and 2024-04)."""
    body = (FIXTURES / "comtrade" / "valuation_bases_made_up.json").read_bytes()
    return comtrade.parse(body, comtrade_request("USA", "M", MAR, APR))


def load_frame(con, parsed: pl.DataFrame, sha: str) -> None:
    load_observations(con, parsed, sha, FETCHED_AT)


def exports_to_usa(values: dict[str, float], months=(MAR, APR)) -> list[dict]:
    """MADE-UP exporters' side: each exporter's (gacc-style FOB) exports to the USA."""
    return [observation(source="imf", reporter=exporter, partner="USA", flow="X", start=month,
                        value=value) for exporter, value in values.items() for month in months]


def mirror(con, exporter: str, importer_source: str, start: date = MAR) -> dict:
    return one(con, """SELECT * FROM marts.mirror_gaps WHERE exporter = ? AND importer = 'USA'
                       AND importer_source = ? AND period_start = ?""",
               [exporter, importer_source, start])


# --- valuation from the record ------------------------------------------------------------


def test_comtrade_valuation_comes_from_the_record():
    parsed = valuation_bases().filter(pl.col("period_start") == MAR)
    got = {(r["partner"], r["valuation"]): (r["value"], r["release"].endswith("(second valuation basis)"))
           for r in parsed.iter_rows(named=True)}
    assert got == {
        ("CHN", "CIF"): (1060.0, False), ("CHN", "FOB"): (1000.0, True),  # primaryValue = cifvalue
        ("JPN", "FOB"): (2000.0, False), ("JPN", "CIF"): (2100.0, True),  # compiled FOB
        ("KOR", "CIF"): (3000.0, False),  # fobvalue 0.0 = not given: no FOB row
        ("DEU", "CIF"): (1300.0, False), ("DEU", "FOB"): (1000.0, True),
    }
    april_deu = valuation_bases().filter((pl.col("period_start") == APR) & (pl.col("partner") == "DEU"))
    assert april_deu.select("valuation", "value").rows() == [("CIF", 1300.0)]  # fobvalue null


def test_recorded_us_comtrade_imports_keep_fobvalue_only_where_given(real_data):
    """vignette1 CSV (real): USA imports from France, 2018 fobvalue 0.0 and 2019 a real value."""
    name = "comtradr_vignette1_get_C_A_HS_r842_M_p276-251-392-484_2018-2023_TOTAL.csv"
    path = real_data / "comtrade" / name
    records = [_v1_from_comtradr(r) for r in csv.DictReader(path.open(encoding="utf-8"))]
    france = [r for r in records if r["partnerCode"] == 251 and r["period"] in ("2018", "2019")]
    body = json.dumps({"count": len(france), "data": france, "error": ""}).encode()
    parsed = comtrade.parse(body, comtrade_request("USA", "A", date(2018, 1, 1), date(2019, 12, 1)))
    got = sorted((r["period_start"].year, r["valuation"], r["value"]) for r in parsed.iter_rows(named=True))
    assert got == [(2018, "CIF", 53621601767.0),
                   (2019, "CIF", 58491722749.0), (2019, "FOB", 57505986930.0)]


def test_mirror_gaps_use_published_fob_and_never_deflate_fob_compiled_imports():
    con = warehouse()
    load_frame(con, valuation_bases(), "made-up-comtrade-valuation")
    load(con, exports_to_usa({"CHN": 1010, "JPN": 1990, "KOR": 2900, "DEU": 1100}))
    build(con)
    chn = mirror(con, "CHN", "comtrade")
    assert (chn["imports_valuation"], chn["imports_usd"], chn["imports_fob_usd"]) == ("CIF", 1060, 1000)
    assert chn["imports_fob_basis"] == "published FOB beside CIF" and chn["gap_usd"] == -10
    assert chn["cif_fob_factor"] == approx(1.06)
    assert chn["freight_margin_basis"] == "observed: comtrade cifvalue / fobvalue"
    assert chn["freight_margin"] == approx(0.06)
    jpn = mirror(con, "JPN", "comtrade")
    assert (jpn["imports_valuation"], jpn["cif_fob_factor"], jpn["imports_fob_usd"]) == ("FOB", 1.0, 2000)
    assert jpn["imports_fob_basis"] == "published FOB" and jpn["freight_margin"] == approx(0.05)
    kor = mirror(con, "KOR", "comtrade")  # no FOB given: the parameter (1.06) deflates the CIF
    assert kor["freight_margin_basis"] == "parameter cif_fob_factor"
    assert kor["imports_fob_usd"] == approx(3000 / 1.06) and kor["cif_fob_factor"] == approx(1.06)
    # Germany: observed margin 1300/1000 − 1 = 0.30 is clamped to 0.20; March uses the published
    # FOB 1000, April (no fobvalue) is deflated by 1.20.
    margin = one(con, """SELECT * FROM intermediate.freight_margins
                         WHERE importer = 'USA' AND exporter = 'DEU'""")
    assert margin["freight_margin_unclamped"] == approx(0.30) and margin["freight_margin"] == 0.20
    assert margin["periods_observed"] == 1
    assert mirror(con, "DEU", "comtrade", MAR)["imports_fob_usd"] == 1000
    april = mirror(con, "DEU", "comtrade", APR)
    assert april["imports_fob_basis"] == "CIF / (1 + freight_margin)"
    assert april["imports_fob_usd"] == approx(1300 / 1.2)
    # headline imports stay the primaryValue figures (trade balance marts unchanged)
    assert one(con, """SELECT imports FROM marts.bilateral_balance_monthly WHERE source = 'comtrade'
                       AND partner = 'JPN' AND period_start = ?""", [MAR])["imports"] == 2000


def test_census_observed_margins_on_us_rows():
    """MADE-UP Census payload: GEN_CIF_MO ÷ GEN_VAL_MO − 1 = 0.06 (China), 0.05 (Japan), 0.30 →
    0.20 (Mexico); the customs value is never deflated; Census outranks Comtrade's pair."""
    body = (FIXTURES / "census" / "imports_cif_margins_made_up.json").read_bytes()
    con = warehouse()
    load_frame(con, census.parse(body, census_request("imports", MAR)), "made-up-census-cif")
    load_frame(con, valuation_bases(), "made-up-comtrade-valuation")
    load(con, exports_to_usa({"CHN": 390_000, "JPN": 1990, "MEX": 95_000}, months=(MAR,)))
    build(con)
    china = mirror(con, "CHN", "census")
    assert (china["imports_valuation"], china["imports_usd"]) == ("CUSTOMS", 400_000)
    assert china["cif_fob_factor"] == 1.0
    assert china["imports_fob_basis"] == "customs value (ex freight)"
    assert china["freight_margin"] == approx(0.06)
    assert china["freight_margin_basis"] == "observed: census GEN_CIF_MO / GEN_VAL_MO"
    assert mirror(con, "JPN", "census")["freight_margin"] == approx(0.05)  # not Comtrade's 0.05 by chance:
    assert mirror(con, "JPN", "comtrade")["freight_margin_basis"].startswith("observed: census")
    mexico = mirror(con, "MEX", "census")
    assert mexico["freight_margin"] == 0.20 and mexico["imports_fob_usd"] == 100_000
    basis = rows(con, "SELECT DISTINCT freight_margin_basis FROM marts.mirror_gaps")
    assert all(r["freight_margin_basis"] for r in basis)


def test_census_requests_gen_cif_mo_by_default():
    from flows.settings import Settings
    from flows.sources.base import PlanContext

    def ctx(**options):
        return PlanContext(settings=Settings(), reporters=("USA",), partners=(), period_start=MAR,
                           period_end=MAR, fetch=lambda _r: None, options=options)

    imports = [r for r in census.plan(ctx()) if r.url.endswith("/imports/hs")]
    assert imports[0].params["get"] == "CTY_CODE,CTY_NAME,GEN_VAL_MO,GEN_CIF_MO"
    off = [r for r in census.plan(ctx(census_cif=False)) if r.url.endswith("/imports/hs")]
    assert off[0].params["get"] == "CTY_CODE,CTY_NAME,GEN_VAL_MO"


# --- reconciled flows ---------------------------------------------------------------------

#: MADE-UP: four reporters trading with each other, 2023, as UN Comtrade annual and monthly rows.
SMALL = ("CHN", "USA", "JPN", "DEU")


def _small_panel() -> list[dict]:
    rng = np.random.default_rng(14)
    out = []
    for exporter in SMALL:
        for importer in SMALL:
            if exporter == importer:
                continue
            monthly_x = [float(round(1000 * rng.uniform(50, 150))) for _ in range(12)]
            noise = 1.0 + (0.3 if exporter == "CHN" else 0.02)  # CHN's export figures are noisy
            monthly_m = [round(x * noise * 1.05 * rng.uniform(0.97, 1.03)) for x in monthly_x]
            for offset, (x, m) in enumerate(zip(monthly_x, monthly_m, strict=True)):
                month = add_months(date(2023, 1, 1), offset)
                out.append(observation(reporter=exporter, partner=importer, flow="X", start=month, value=x))
                out.append(observation(reporter=importer, partner=exporter, flow="M", start=month, value=m))
            out.append(observation(reporter=exporter, partner=importer, flow="X", start=date(2023, 1, 1),
                                   end=date(2023, 12, 1), value=sum(monthly_x)))
            out.append(observation(reporter=importer, partner=exporter, flow="M", start=date(2023, 1, 1),
                                   end=date(2023, 12, 1), value=sum(monthly_m)))
    return out


def test_reconciled_flows_invariants_and_monthly_sums():
    con = warehouse()
    load(con, _small_panel())
    build(con, ModelParameters(cif_fob_factor=1.05, reliability_min_partners=3))
    flows = rows(con, "SELECT * FROM marts.reconciled_flows")
    assert len(flows) == 12 * 13  # 12 pairs × (12 months + the year)
    for r in flows:
        assert 0 <= r["exporter_weight"] <= 1 and 0 <= r["freight_margin"] <= 0.20
        low, high = sorted((r["exports_usd"], r["imports_fob_usd"]))
        assert low - 1e-6 <= r["reconciled_usd"] <= high + 1e-6
        assert r["weight_flag"] == "reliability weights" and r["method_version"] == "reconcile-v1"
        assert r["iterations"] == 25 and r["min_partners"] == 3
    assert not data_test_rows(con, "reconciled_flows_invariants")
    sums = rows(con, """SELECT exporter, importer,
            sum(reconciled_usd) FILTER (WHERE period_type = 'month') AS months,
            sum(reconciled_usd) FILTER (WHERE period_type = 'year') AS year
        FROM marts.reconciled_flows GROUP BY ALL""")
    for r in sums:
        assert r["months"] == approx(r["year"], rel=1e-9)
    # the noisy exporter (CHN) gets less weight than the others
    weights = {r["exporter"]: r["exporter_weight"] for r in flows if r["period_type"] == "year"}
    assert weights["CHN"] < min(weights[c] for c in ("USA", "JPN", "DEU"))


def test_too_few_partner_pairs_give_half_weight_and_a_flag():
    con = warehouse()
    load(con, _small_panel())
    build(con)  # default minimum: 10 partner pairs; each reporter has 3
    flows = rows(con, """SELECT DISTINCT exporter_weight, weight_flag, min_partners
                         FROM marts.reconciled_flows""")
    assert flows == [{"exporter_weight": 0.5, "min_partners": 10,
                      "weight_flag": "w = 0.5: too few partner pairs (exporter and importer)"}]
    reliability = one(con, "SELECT * FROM marts.reporter_reliability WHERE reporter = 'CHN'")
    assert reliability["exporter_partners"] == 3 and reliability["partners_sufficient"] is False


def _synthetic_panel(seed: int = 2024, countries: int = 40, years=(2021, 2022, 2023)):
    """MADE-UP synthetic panel (docs/methods.md §B4): true flows lognormal, 30 % of pairs absent,
    each reporter's log-noise SD drawn from U(0.02, 0.5) separately as exporter and as importer,
    imports CIF = 1.05 × FOB (known margin). Returns observations and the truth."""
    import pycountry

    rng = np.random.default_rng(seed)
    codes = sorted(c.alpha_3 for c in pycountry.countries)[:countries]
    sd_x = dict(zip(codes, rng.uniform(0.02, 0.5, countries), strict=True))
    sd_m = dict(zip(codes, rng.uniform(0.02, 0.5, countries), strict=True))
    records, truth = [], {}
    for year in years:
        for exporter in codes:
            for importer in codes:
                if exporter == importer or rng.uniform() < 0.3:
                    continue
                true = float(np.exp(rng.normal(20, 1.5)))
                x = true * math.exp(rng.normal(0, sd_x[exporter]))
                m_cif = 1.05 * true * math.exp(rng.normal(0, sd_m[importer]))
                truth[(exporter, importer, year)] = (true, x, m_cif / 1.05, sd_x[exporter], sd_m[importer])
                start, end = date(year, 1, 1), date(year, 12, 1)
                records.append(observation(reporter=exporter, partner=importer, flow="X",
                                           start=start, end=end, value=round(x)))
                records.append(observation(reporter=importer, partner=exporter, flow="M",
                                           start=start, end=end, value=round(m_cif)))
    return records, truth


def test_synthetic_panel_reconciliation_beats_the_simple_average():
    """On a MADE-UP panel with known true flows and known reporter noise, the median
    |ln(V / true)| of the reconciled value is below the simple average's and within 1.25× of
    the ideal (inverse-variance) weights (docs/methods.md §B4, §B6 R4)."""
    records, truth = _synthetic_panel()
    con = warehouse()
    con.execute("SET threads TO 4")
    load_observations(con, frame(records), "made-up-synthetic-panel", FETCHED_AT)
    build(con, ModelParameters(cif_fob_factor=1.05), data_tests=False)
    found = rows(con, """SELECT exporter, importer, year(period_start) AS year, exports_usd,
        imports_fob_usd, exporter_weight, reconciled_usd, weight_flag FROM marts.reconciled_flows""")
    assert len(found) == len(truth)
    errors = {"reconciled": [], "average": [], "oracle": [], "exporter": [], "importer": []}
    for r in found:
        true, _x, _m, sx, sm = truth[(r["exporter"], r["importer"], r["year"])]
        x, m = r["exports_usd"], r["imports_fob_usd"]
        oracle_w = sm**2 / (sx**2 + sm**2)
        for name, value in (("reconciled", r["reconciled_usd"]), ("average", (x + m) / 2),
                            ("oracle", oracle_w * x + (1 - oracle_w) * m),
                            ("exporter", x), ("importer", m)):
            errors[name].append(abs(math.log(value / true)))
    median = {name: float(np.median(v)) for name, v in errors.items()}
    print("synthetic panel median |ln(V/true)|:", {k: round(v, 4) for k, v in median.items()})
    assert all(r["weight_flag"] == "reliability weights" for r in found)
    assert median["reconciled"] < median["average"]
    assert median["reconciled"] <= min(median["exporter"], median["importer"])
    assert median["reconciled"] <= 1.25 * median["oracle"]


# --- China–US plausibility bands (warnings) -----------------------------------------------


def _bands_panel(us_imports: dict[int, float], cn_exports: dict[int, float]) -> list[dict]:
    """MADE-UP annual figures: US Census imports from China spread over 12 equal months, China's
    exports to the US as one UN Comtrade annual figure."""
    out = []
    for year, total in us_imports.items():
        for month in range(1, 13):
            out.append(observation(source="census", reporter="USA", partner="CHN", flow="M",
                                   start=date(year, month, 1), value=total / 12))
    for year, total in cn_exports.items():
        out.append(observation(reporter="CHN", partner="USA", flow="X", start=date(year, 1, 1),
                               end=date(year, 12, 1), value=total))
    return out


def test_china_us_bands_warn_on_made_up_annual_figures():
    con = warehouse()
    # MADE UP: 2015 ln(1.50) = 0.405 > 0.22 (outside); 2021 ln(0.90) = −0.105 (inside [−0.20, 0.05]);
    # 2019 ln(1.25) = 0.223 > 0.15 (outside).
    load(con, _bands_panel({2015: 150e9, 2019: 125e9, 2021: 90e9},
                           {2015: 100e9, 2019: 100e9, 2021: 100e9}))
    warnings: list[str] = []
    results = build(con, warnings=warnings)  # a warning, never a failure
    assert results["china_us_mirror_bands"] == 2
    assert any("china_us_mirror_bands" in w for w in warnings)
    flagged = sorted((r["year"], round(r["log_ratio"], 3), r["band_low"], r["band_high"])
                     for r in data_test_rows(con, "china_us_mirror_bands"))
    assert flagged == [(2015, 0.405, 0.12, 0.22), (2019, 0.223, 0.03, 0.15)]


def _v1_from_comtradr(row: dict[str, str]) -> dict:
    """A comtradr-format CSV row (snake_case) as a v1 API record (the fields the parser reads)."""
    def num(text: str) -> float | None:
        return float(text) if text not in ("", "NA") else None

    return {
        "typeCode": row["type_code"], "freqCode": row["freq_code"], "refYear": int(row["ref_year"]),
        "refMonth": int(row["ref_month"]), "period": row["period"],
        "reporterCode": int(row["reporter_code"]), "reporterISO": row["reporter_iso"],
        "flowCode": row["flow_code"], "partnerCode": int(row["partner_code"]),
        "partnerISO": row["partner_iso"], "partner2Code": int(row["partner2code"] or 0),
        "classificationCode": row["classification_code"],
        "classificationSearchCode": row["classification_search_code"], "cmdCode": row["cmd_code"],
        "customsCode": row["customs_code"], "motCode": int(row["mot_code"]),
        "cifvalue": num(row["cifvalue"]), "fobvalue": num(row["fobvalue"]),
        "primaryValue": num(row["primary_value"]),
        "legacyEstimationFlag": int(row["legacy_estimation_flag"]),
        "isReported": row["is_reported"] == "True",
    }  # fmt: skip


def test_china_us_bands_on_the_recorded_years(real_data):
    """Real: UN Comtrade China→US exports (vignette2, 2012–2022) against US Census imports from
    China summed over 2013–2024 months; the overlapping years 2013–2022 all lie inside their bands
    (docs/methods.md §C2 measured 0.16…0.18, 0.117, 0.069, −0.045, −0.135, −0.083)."""
    from tests.builders.census import census_json

    con = warehouse()
    path = real_data / "comtrade" / "comtradr_vignette2_get_C_A_HS_r156_X_p410-842-484_2012-2023_TOTAL.csv"
    records = [_v1_from_comtradr(r) for r in csv.DictReader(path.open(encoding="utf-8"))
               if r["partner_code"] == "842"]
    body = json.dumps({"count": len(records), "data": records, "error": ""}).encode()
    load_frame(con, comtrade.parse(body, comtrade_request("CHN", "A", date(2012, 1, 1), date(2023, 12, 1))),
               "recorded-comtrade-vignette2")
    imports = (real_data / "census"
               / "intltrade_imports_hs_cty_GEN_VAL_MO_allcountries_2013-01_2024-12_rdataframe.csv")
    for year in range(2013, 2023):
        for month in range(1, 13):
            parsed = census.parse(census_json(imports, year, month, "GEN_VAL_MO"),
                                  census_request("imports", date(year, month, 1)))
            load_frame(con, parsed.filter(pl.col("partner") == "CHN"), f"recorded-census-{year}-{month}")
    build(con)
    ratios = {r["year"]: r["log_ratio"] for r in rows(con, """
        SELECT year(period_start) AS year, ln(sum(value_usd) FILTER (WHERE source = 'census')
            / sum(value_usd) FILTER (WHERE source = 'comtrade')) AS log_ratio
        FROM intermediate.observations WHERE partner IN ('CHN', 'USA') AND commodity = 'TOTAL'
            AND ((source = 'census' AND flow = 'M') OR (source = 'comtrade' AND flow = 'X'))
        GROUP BY ALL HAVING count(*) FILTER (WHERE source = 'census') = 12""")}
    assert sorted(ratios) == list(range(2013, 2023))
    assert ratios[2018] == approx(math.log(538.514 / 479.279), abs=0.002)  # methods.md §B6 R6
    assert ratios[2020] < 0 < ratios[2019]  # the sign change
    assert data_test_rows(con, "china_us_mirror_bands") == []


def test_reliability_scope_is_one_call_away():
    from flows.reconcile import RELIABILITY_REPORTERS, reliability_scope
    from flows.sources.comtrade.codes import comtrade_code

    scope = reliability_scope(2021, 2023)
    assert scope.sources == ("comtrade",) and scope.options == {"comtrade_frequency": "A"}
    assert (scope.period_start, scope.period_end) == (date(2021, 1, 1), date(2023, 12, 1))
    # every reporter can reach the default minimum of 10 partner pairs among the others
    assert len(RELIABILITY_REPORTERS) - 1 >= ModelParameters().reliability_min_partners
    assert all(comtrade_code(code, kind="reporter") for code in scope.reporters)
    with pytest.raises(ValueError):
        reliability_scope(2023, 2021)
