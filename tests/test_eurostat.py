"""Tests of the Eurostat module (:mod:`flows.sources.eurostat`).

Real values: the Comext DS-045409 SDMX-CSV in ``shared/data/real/eurostat/comext_…_pandas.csv``
is parsed as it is (pandas rewrote whole numbers as ``1381885.0``; PROVENANCE.md second pass), and
the tidied R table ``ext_st_easitc_…_2020-2025.csv`` is put back into SDMX-CSV by
:func:`tests.builders.eurostat.sdmx_csv_from_tidy`. Expected figures quote the file and line.
``tests/fixtures/eurostat/flags_made_up_sdmxcsv.csv`` is MADE UP (see its README) and only tests
the flag rules.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from flows.http import HttpClient
from flows.reference import UnknownCodeError
from flows.schema import OBSERVATION_SCHEMA
from flows.settings import Settings
from flows.sources import eurostat
from flows.sources.base import FetchError, FetchRequest, ParseError, PlanContext
from tests.builders.eurostat import sdmx_csv_from_tidy
from tests.conftest import ROOT, real_file

COMEXT = (
    "eurostat/comext_DS-045409_sdmxcsv_M_EU27-reporters_WORLD-EU27-CN_CN8-39201081_2023-01_2025-12"
    "_pandas.csv"
)
EXT_ST = (
    "eurostat/ext_st_easitc_M_IMP_TRD_VAL_EA20_partners_CN_X_HK-US-VN-EU27_2020_NEA20_SITC5-8"
    "_2020-2025.csv"
)
FLAGS = Path(__file__).parent / "fixtures" / "eurostat" / "flags_made_up_sdmxcsv.csv"
BASE = "https://ec.europa.eu/eurostat/api/dissemination"
REQUEST = FetchRequest(
    source="eurostat",
    url=f"{BASE}/sdmx/2.1/data/ext_st_eu27_2020sitc/M.TRD_VAL.EXP+IMP.TOTAL.CN_X_HK.EU27_2020",
    params={"format": "SDMX-CSV"},
    expect="csv",
)
HEADER = "DATAFLOW,LAST UPDATE,freq,indic_et,stk_flow,sitc06,partner,geo,TIME_PERIOD,OBS_VALUE"
LINE = "ESTAT:EXT_ST_EU27_2020SITC(1.0),15/01/25 23:00:00,M,TRD_VAL,IMP,TOTAL,CN_X_HK,EU27_2020"


def one_value(frame: pl.DataFrame, **match) -> float:
    rows = frame
    for column, wanted in match.items():
        rows = rows.filter(pl.col(column) == wanted)
    assert rows.height == 1, rows
    return rows.item(0, "value")


def context(reporters=("EU27_2020",), partners=(), start=date(2024, 11, 1), end=date(2025, 2, 1)):
    def no_fetch(_request):
        raise AssertionError("eurostat.plan must not fetch index pages")

    return PlanContext(
        settings=Settings(),
        reporters=reporters,
        partners=partners,
        period_start=start,
        period_end=end,
        fetch=no_fetch,
    )


# --- plan -------------------------------------------------------------------------------------


def test_plan_one_request_per_calendar_year_with_the_default_partners():
    requests = eurostat.plan(context())
    key = "M.TRD_VAL.EXP+IMP.TOTAL.CN_X_HK+US+VN+IN+EXT_EU27_2020.EU27_2020"
    assert [r.url for r in requests] == [f"{BASE}/sdmx/2.1/data/ext_st_eu27_2020sitc/{key}"] * 2
    assert [r.params for r in requests] == [
        {"format": "SDMX-CSV", "startPeriod": "2024-11", "endPeriod": "2024-12"},
        {"format": "SDMX-CSV", "startPeriod": "2025-01", "endPeriod": "2025-02"},
    ]
    assert [(r.period_start, r.period_end) for r in requests] == [
        (date(2024, 11, 1), date(2024, 12, 1)), (date(2025, 1, 1), date(2025, 2, 1)),
    ]
    assert all(r.expect == "csv" and r.reporter == "EU27_2020" for r in requests)


def test_plan_reporters_and_partners():
    assert eurostat.plan(context(reporters=("CHN", "USA"))) == []
    assert eurostat.plan(context(reporters=("EUU",)))[0].reporter == "EU27_2020"
    requests = eurostat.plan(
        context(reporters=("EA20",), partners=("WLD", "CHN", "USA", "DEU", "GBR", "VNM", "EA20"))
    )
    # DEU is an EU member (intra-EU trade), the reporter itself is not its own partner
    key = "M.TRD_VAL.EXP+IMP.TOTAL.CN_X_HK+EXT_EU27_2020+UK+US+VN.EA20"
    assert requests[0].url == f"{BASE}/sdmx/2.1/data/ext_st_easitc/{key}"
    with pytest.raises(UnknownCodeError):
        eurostat.plan(context(partners=("XYZ",)))


# --- parse: Comext SDMX-CSV (real) ------------------------------------------------------------


@pytest.fixture(scope="module")
def comext(real_data) -> pl.DataFrame:
    return eurostat.parse(real_file(real_data, COMEXT).read_bytes(), REQUEST)


def test_comext_values_read_off_the_file(comext):
    assert comext.schema == OBSERVATION_SCHEMA
    # line 2111: ...,M,DE,CN,39201081,1,VALUE_IN_EUROS,2025-07,200683.0
    assert one_value(
        comext, reporter="DEU", partner="CHN", flow="M", period_start=date(2025, 7, 1)
    ) == 200_683
    # line 2823: ...,M,DE,WORLD,39201081,1,VALUE_IN_EUROS,2025-07,1386107.0
    assert one_value(
        comext, reporter="DEU", partner="WLD", flow="M", period_start=date(2025, 7, 1)
    ) == 1_386_107
    # line 5389: ...,M,GR,CN,39201081,1,VALUE_IN_EUROS,2025-03,76.0 (Greece written GR)
    assert one_value(
        comext, reporter="GRC", partner="CHN", flow="M", period_start=date(2025, 3, 1)
    ) == 76
    # line 674: ...,M,BE,CN,39201081,2,VALUE_IN_EUROS,2023-01,4070.0 (flow 2 = export, FOB)
    row = comext.filter(
        (pl.col("reporter") == "BEL") & (pl.col("partner") == "CHN") & (pl.col("flow") == "X")
        & (pl.col("period_start") == date(2023, 1, 1))
    ).row(0, named=True)
    assert (row["value"], row["valuation"], row["currency"]) == (4070.0, "FOB", "EUR")


def test_comext_rules(comext):
    # 10 950 rows: 5 475 VALUE_IN_EUROS and 5 475 QUANTITY_IN_100KG; quantities are skipped
    assert comext.height == 5475
    assert set(comext.get_column("commodity")) == {"39201081"}
    assert set(comext.get_column("vintage")) == {date(2026, 2, 13)}  # LAST UPDATE 13/02/26 11:00:00
    assert set(comext.get_column("release")) == {"Eurostat ESTAT:DS-045409(1.0)"}
    assert set(comext.get_column("status")) == {"reported"}
    assert comext.get_column("reporter").n_unique() == 27
    china = comext.filter(pl.col("partner") == "CHN")
    # PROVENANCE: 284 rows with partner CN (274 imports, 10 exports), half of them values
    flows = china.get_column("flow").to_list()
    assert (flows.count("M"), flows.count("X")) == (137, 5)
    assert set(comext.filter(pl.col("partner") == "WLD").get_column("partner_kind")) == {"world"}
    assert set(comext.filter(pl.col("flow") == "M").get_column("valuation")) == {"CIF"}


# --- parse: ext_st SDMX-CSV rebuilt from the tidied table (real values) -------------------------


def test_ext_st_values_are_million_eur_scaled_exactly(real_data):
    body = sdmx_csv_from_tidy(real_file(real_data, EXT_ST))
    frame = eurostat.parse(body, REQUEST)
    assert frame.height == 1136
    sitc7_china = {"reporter": "EA20", "partner": "CHN", "flow": "M", "commodity": "SITC7"}
    # line 4: M,IMP,TRD_VAL,CN_X_HK,SITC7,EA20,2020-01-01,14986.6 (million EUR)
    assert one_value(frame, **sitc7_china, period_start=date(2020, 1, 1)) == 14_986_600_000
    # line 1124: M,IMP,TRD_VAL,CN_X_HK,SITC7,EA20,2025-11-01,22964.3
    assert one_value(frame, **sitc7_china, period_start=date(2025, 11, 1)) == 22_964_300_000
    # line 960: M,IMP,TRD_VAL,VN,SITC7,EA20,2024-12-01,1744.4
    assert one_value(
        frame, partner="VNM", commodity="SITC7", period_start=date(2024, 12, 1)
    ) == 1_744_400_000
    # line 950: M,IMP,TRD_VAL,EU27_2020_NEA20,SITC5,EA20,2024-12-01,4454.6
    assert one_value(
        frame, partner="EU27_2020_NEA20", partner_kind="aggregate", commodity="SITC5",
        period_start=date(2024, 12, 1),
    ) == 4_454_600_000
    assert set(frame.get_column("partner")) == {"CHN", "USA", "VNM", "EU27_2020_NEA20"}
    assert set(frame.get_column("valuation")) == {"CIF"}
    assert frame.get_column("vintage").null_count() == frame.height  # no LAST UPDATE recorded


# --- parse: flags (made-up fixture) -----------------------------------------------------------


def test_flags_map_to_status_and_confidential_empty_cells_are_skipped():
    frame = eurostat.parse(FLAGS.read_bytes(), REQUEST)
    rows = frame.iter_rows(named=True)
    got = {(r["partner"], r["flow"]): (r["value"], r["status"]) for r in rows}
    assert got == {
        ("CHN", "M"): (100_500_000.0, "provisional"),
        ("CHN", "X"): (20_250_000.0, "reported"),
        ("VNM", "M"): (7_125_000.0, "confidential"),  # c with a value: kept
        ("VNM", "X"): (3_000_000.0, "estimated+provisional"),
        ("EXT_EU27_2020", "M"): (1.0, "flag:x"),
        ("GRC", "X"): (1_500_000.0, "reported"),  # EL = Greece; CONF_STATUS F = free
    }
    # the two US cells (flag c / CONF_STATUS C, no value) are withheld, not zero
    assert frame.filter(pl.col("partner") == "USA").height == 0
    assert set(frame.get_column("vintage")) == {date(2025, 1, 15)}
    kinds = dict(frame.select("partner", "partner_kind").unique().iter_rows())
    assert kinds["EXT_EU27_2020"] == "aggregate" and kinds["CHN"] == "country"


# --- parse: malformed payloads ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("freq,geo,TIME_PERIOD,OBS_VALUE\nM,EU27_2020,2024-01,1", "required columns"),
        ("DATAFLOW,freq,geo,TIME_PERIOD,OBS_VALUE\nX,M,EU27_2020,2024-01,1", "unknown SDMX-CSV"),
        (HEADER + "\n", "no data rows"),
        (HEADER + "\n" + LINE + ",2024-01,", "empty OBS_VALUE"),
        (HEADER + "\n" + LINE + ",2024-01,12a", "not a number"),
        (HEADER + "\n" + LINE + ",2024-01,-3", "negative"),
        (HEADER + "\n" + LINE + ",2024-Q1,3", "YYYY-MM"),
        (HEADER + "\n" + LINE + ",2024-01", "number of fields"),
        (HEADER + "\n" + LINE.replace(",IMP,", ",BAL_RT,") + ",2024-01,3", "stk_flow"),
        (HEADER + "\n" + LINE.replace("TRD_VAL", "TRD_VAL_SCA") + ",2024-01,3", "indic_et"),
        (HEADER + "\n" + LINE.replace(",M,", ",A,") + ",2024,3", "freq"),
        (HEADER + "\n" + LINE.replace("15/01/25", "2025.01.15") + ",2024-01,3", "LAST UPDATE"),
        (HEADER + "\n" + LINE + ",2024-01,3\n" + LINE + ",2024-01,4", "share a load key"),
        (
            "DATAFLOW,LAST UPDATE,freq,reporter,partner,product,flow,indicators,TIME_PERIOD,"
            "OBS_VALUE\nESTAT:DS-045409(1.0),13/02/26 11:00:00,M,DE,CN,39201081,1,"
            "QUANTITY_IN_100KG,2025-07,515.24",
            "no value rows",
        ),
        (
            "DATAFLOW,LAST UPDATE,freq,reporter,partner,product,flow,indicators,TIME_PERIOD,"
            "OBS_VALUE\nESTAT:DS-045409(1.0),13/02/26 11:00:00,M,DE,CN,39201081,3,"
            "VALUE_IN_EUROS,2025-07,1.0",
            "flow",
        ),
        (
            "DATAFLOW,LAST UPDATE,freq,reporter,partner,product,flow,indicators,TIME_PERIOD,"
            "OBS_VALUE\nESTAT:DS-045409(1.0),13/02/26 11:00:00,M,DE,CN,39201081,1,"
            "VALUE_IN_DOLLARS,2025-07,1.0",
            "indicator",
        ),
    ],
)
def test_malformed_payloads_raise_parse_error(body, problem):
    with pytest.raises(ParseError, match=problem) as caught:
        eurostat.parse(body.encode(), REQUEST)
    assert caught.value.source == "eurostat"


@pytest.mark.parametrize("code", ["CN_X_HK_MO", "EU27", "ZZ", "EXT_EA19"])
def test_unknown_area_codes_raise(code):
    body = f"{HEADER}\n{LINE.replace('CN_X_HK', code)},2024-01,1".encode()
    with pytest.raises(UnknownCodeError) as caught:
        eurostat.parse(body, REQUEST)
    assert (caught.value.source, caught.value.code) == ("eurostat", code)


def test_area_codes():
    assert eurostat.area_code("CN_X_HK") == ("CHN", "country")
    assert eurostat.area_code("WORLD") == ("WLD", "world")
    assert eurostat.area_code("EXT_EU27_2020") == ("EXT_EU27_2020", "aggregate")
    assert eurostat.area_code("EU28") == ("EU28", "aggregate")
    assert eurostat.area_code("EL") == eurostat.area_code("GR") == ("GRC", "country")
    assert eurostat.area_code("UK") == ("GBR", "country")


# --- loopback HTTP and staging ----------------------------------------------------------------


def test_planned_request_fetched_from_a_loopback_server(real_data, httpserver):
    body = sdmx_csv_from_tidy(
        real_file(real_data, EXT_ST),
        where={"TIME_PERIOD": {"2025-10-01", "2025-11-01"}},
    )
    settings = Settings(eurostat_base_url=httpserver.url_for("/eurostat"), requests_per_minute=6e4)
    ctx = PlanContext(
        settings=settings,
        reporters=("EA20",),
        partners=(),
        period_start=date(2025, 10, 1),
        period_end=date(2025, 11, 1),
        fetch=lambda _r: None,
    )
    [request] = eurostat.plan(ctx)
    path = "/eurostat/sdmx/2.1/data/ext_st_easitc/"
    path += "M.TRD_VAL.EXP+IMP.TOTAL.CN_X_HK+US+VN+IN+EXT_EU27_2020.EA20"
    httpserver.expect_request(
        path, query_string={"format": "SDMX-CSV", "startPeriod": "2025-10", "endPeriod": "2025-11"}
    ).respond_with_data(body, content_type="application/vnd.sdmx.data+csv;version=1.0.0")
    httpserver.expect_request("/eurostat/broken").respond_with_data(
        "<!DOCTYPE html><html><body>made-up error page</body></html>", content_type="text/html"
    )
    client = HttpClient(settings, "eurostat")
    try:
        frame = eurostat.parse(client.get(request).body, request)
        with pytest.raises(FetchError, match="HTML"):
            broken = httpserver.url_for("/eurostat/broken")
            client.get(FetchRequest("eurostat", broken, expect="csv"))
    finally:
        client.close()
    # line 1108: M,IMP,TRD_VAL,CN_X_HK,SITC7,EA20,2025-10-01,21586.7
    assert one_value(
        frame, partner="CHN", commodity="SITC7", period_start=date(2025, 10, 1)
    ) == 21_586_700_000


def test_staging_model_selects_eurostat_rows_with_the_raw_columns():
    sql = (ROOT / "sql" / "staging" / "eurostat_observations.sql").read_text(encoding="utf-8")
    frame = eurostat.parse(FLAGS.read_bytes(), REQUEST).with_columns(
        pl.lit("cd" * 32).alias("payload_sha256"),
        pl.lit("2025-01-20 10:00:00").str.to_datetime().alias("fetched_at"),
    )
    con = duckdb.connect()
    con.execute("CREATE SCHEMA raw")
    con.register("parsed", pl.concat([frame, frame.with_columns(source=pl.lit("imf"))]).to_arrow())
    con.execute("CREATE TABLE raw.observations AS SELECT * FROM parsed")
    result = con.sql(sql).pl()
    assert result.columns == [*OBSERVATION_SCHEMA, "payload_sha256", "fetched_at"]
    assert result.height == frame.height and set(result.get_column("source")) == {"eurostat"}
