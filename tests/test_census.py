"""Tests of the US Census international trade API module (:mod:`flows.sources.census`).

Real values come from ``shared/data/real/census/intltrade_*_rdataframe.csv`` (the API's rows for
2013-01…2024-12 saved as R data frames, PROVENANCE.md second pass), rebuilt into the API's JSON
array-of-arrays by :func:`tests.builders.census.census_json`; expected figures quote the file and
line, or PROVENANCE.md's check values, or the independent Census "Trade in goods with China"
table ``timeseries/usa-china-trade-monthly-2001-2019.csv`` (million USD). Payloads under
``tests/fixtures/census/`` are MADE UP (see its README) and only test the rules.
"""

from __future__ import annotations

import calendar
import csv
import json
import re
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
from pydantic import SecretStr

from flows.archive import Archive
from flows.fetch import fetch_source
from flows.http import HttpClient
from flows.reference import UnknownCodeError
from flows.schema import OBSERVATION_SCHEMA
from flows.scope import RunScope
from flows.settings import Settings
from flows.sources import census
from flows.sources.base import (
    Answer,
    AuthError,
    FetchRequest,
    MissingRelease,
    NotYetReleased,
    ParseError,
    PlanContext,
    RequestRefused,
)
from tests.builders.census import MADE_UP_ROWS, census_body, census_json
from tests.conftest import REAL, ROOT, real_file, recording_or_sample
from tests.double import StrictPublishers
from tests.double import census as census_double

EXPORTS = "census/intltrade_exports_hs_cty_ALL_VAL_MO_allcountries_2013-01_2024-12_rdataframe.csv"
IMPORTS = "census/intltrade_imports_hs_cty_GEN_VAL_MO_allcountries_2013-01_2024-12_rdataframe.csv"
IMPORTS_HS2 = (
    "census/intltrade_imports_hs_HS2_cty_GEN_VAL_MO_allcountries_2023-01_2024-12_rdataframe.csv.gz"
)
C5700 = "timeseries/usa-china-trade-monthly-2001-2019.csv"
FIXTURES = Path(__file__).parent / "fixtures" / "census"
BASE = "https://api.census.gov/data/timeseries/intltrade"


def request_for(direction: str, year: int, month: int, base: str = BASE, **params) -> FetchRequest:
    """The request :func:`census.plan` makes for one month (so parse sees the same request)."""
    return FetchRequest(
        source="census",
        url=f"{base}/{direction}/hs",
        params=params,
        expect="json",
        reporter="USA",
        period_start=date(year, month, 1),
        period_end=date(year, month, 1),
    )


def census_file(direction: str) -> Path:
    """The recorded data frame of ``direction``, or without ``shared/`` its bundled sample
    (``tests/fixtures/census/sample/``: the same rows, 2024-10…2024-12 only)."""
    return recording_or_sample(EXPORTS if direction == "exports" else IMPORTS)


def parse_month(direction: str, year: int, month: int) -> pl.DataFrame:
    """One month parsed from :func:`census_file` (tests asking for months outside the sample
    take the ``real_data`` fixture, so they skip without ``shared/``)."""
    field = "ALL_VAL_MO" if direction == "exports" else "GEN_VAL_MO"
    body = census_json(census_file(direction), year, month, field)
    return census.parse(body, request_for(direction, year, month))


def value_of(frame: pl.DataFrame, partner: str, **match) -> float:
    rows = frame.filter(pl.col("partner") == partner)
    for column, wanted in match.items():
        rows = rows.filter(pl.col(column) == wanted)
    assert rows.height == 1, rows
    return rows.item(0, "value")


def context(settings: Settings, reporters=("USA",), **options) -> PlanContext:
    def no_fetch(_request):
        raise AssertionError("census.plan must not fetch index pages")

    return PlanContext(
        settings=settings,
        reporters=reporters,
        partners=(),
        period_start=date(2024, 11, 1),
        period_end=date(2025, 1, 1),
        fetch=no_fetch,
        options=options,
    )


# --- plan -------------------------------------------------------------------------------------


def test_plan_one_exports_and_one_imports_request_per_month():
    requests = census.plan(context(Settings()))
    assert [(r.url, r.params["YEAR"], r.params["MONTH"]) for r in requests] == [
        (f"{BASE}/exports/hs", "2024", "11"),
        (f"{BASE}/imports/hs", "2024", "11"),
        (f"{BASE}/exports/hs", "2024", "12"),
        (f"{BASE}/imports/hs", "2024", "12"),
        (f"{BASE}/exports/hs", "2025", "01"),
        (f"{BASE}/imports/hs", "2025", "01"),
    ]
    assert requests[0].params["get"] == "CTY_CODE,CTY_NAME,ALL_VAL_MO"
    # CIF imports beside the customs value by default: the observed freight margin (issue 14)
    assert requests[1].params["get"] == "CTY_CODE,CTY_NAME,GEN_VAL_MO,GEN_CIF_MO"
    assert all(r.expect == "json" and r.reporter == "USA" for r in requests)
    assert not any("key" in r.params for r in requests)
    assert requests[2].period_start == requests[2].period_end == date(2024, 12, 1)
    assert census.headers(Settings()) == {}


def test_plan_uses_the_configured_base_url_and_skips_runs_without_usa():
    settings = Settings(census_base_url="http://127.0.0.1:9/mirror/intltrade/")
    assert census.plan(context(settings))[0].url == "http://127.0.0.1:9/mirror/intltrade/exports/hs"
    assert census.plan(context(settings, reporters=("CHN", "EU27_2020"))) == []


def test_plan_leaves_cif_out_only_when_asked():
    requests = census.plan(context(Settings(), census_cif=False))
    assert requests[1].params["get"] == "CTY_CODE,CTY_NAME,GEN_VAL_MO"
    assert requests[0].params["get"] == "CTY_CODE,CTY_NAME,ALL_VAL_MO"


def test_api_key_is_sent_as_a_query_parameter_but_never_stored(httpserver, tmp_path):
    secret = "0123456789abcdef0123456789abcdef01234567"  # a made-up 40-character key
    settings = Settings(census_api_key=SecretStr(secret), census_base_url=httpserver.url_for("/c"))
    assert census.secret_params(settings) == {"key": secret}
    assert census.secret_params(Settings()) == {}
    request = census.plan(context(settings))[1]
    assert "key" not in request.params and secret not in request.describe()
    body = (FIXTURES / "imports_customs_and_cif_made_up.json").read_bytes()
    httpserver.expect_request(
        "/c/imports/hs", query_string={**request.params, "key": secret}
    ).respond_with_data(body, content_type="application/json")
    client = HttpClient(settings, "census", secret_params=census.secret_params(settings))
    try:
        fetched = client.get(request)  # only answered when the key reached the server
    finally:
        client.close()
    entry = Archive(tmp_path).store(fetched)
    assert secret not in Archive(tmp_path).manifest_path.read_text() and secret not in entry.url


# --- parse: real values -----------------------------------------------------------------------


def test_imports_december_2024_real_values():
    frame = parse_month("imports", 2024, 12)
    assert frame.schema == OBSERVATION_SCHEMA
    assert frame.height == 253  # rows of 2024-12 in the imports CSV
    # imports CSV line 36185: 5700,CHINA,37553745287,2024,12
    assert value_of(frame, "CHN") == 37_553_745_287
    # line 36173: 5520,VIETNAM,11753711838,2024,12
    assert value_of(frame, "VNM") == 11_753_711_838
    # line 36026: -,TOTAL FOR ALL COUNTRIES,284911220759,2024,12
    assert value_of(frame, "WLD", partner_kind="world") == 284_911_220_759
    # line 36027: 0003,EUROPEAN UNION,50059806483 — a named aggregate, not EU27_2020
    assert value_of(frame, "CENSUS_0003", partner_kind="aggregate") == 50_059_806_483
    # line 36028: 0014,PACIFIC RIM COUNTRIES,87496055020; line 36192: 5XXX,ASIA,116446694324
    assert value_of(frame, "PACIFIC_RIM", partner_kind="aggregate") == 87_496_055_020
    assert value_of(frame, "CENSUS_5XXX", partner_kind="aggregate") == 116_446_694_324
    assert set(frame.get_column("flow")) == {"M"}
    assert set(frame.get_column("valuation")) == {"CUSTOMS"}
    assert set(frame.get_column("currency")) == {"USD"}
    assert set(frame.get_column("status")) == {"reported"}
    assert set(frame.get_column("commodity")) == {"TOTAL"}
    assert set(frame.get_column("release")) == {"US Census international trade API imports/hs"}
    first = frame.row(0, named=True)
    assert (first["period_start"], first["period_end"], first["months"], first["period_type"]) == (
        date(2024, 12, 1), date(2024, 12, 1), 1, "month",
    )
    assert first["reporter"] == "USA" and first["vintage"] is None


def test_exports_december_2024_real_values():
    frame = parse_month("exports", 2024, 12)
    # exports CSV line 36187: 5700,CHINA,12295207536,2024,12 (the export rows are not sorted)
    assert value_of(frame, "CHN") == 12_295_207_536
    # line 36242: -,TOTAL FOR ALL COUNTRIES,165358300606,2024,12
    assert value_of(frame, "WLD") == 165_358_300_606
    assert set(frame.get_column("valuation")) == {"FAS"}
    assert set(frame.get_column("flow")) == {"X"}


@pytest.mark.parametrize("direction", ["exports", "imports"])
def test_world_total_equals_the_sum_of_schedule_c_areas(direction):
    """The '-' total equals the sum over 4-digit Schedule C rows (countries and the non-ISO
    areas kept as CENSUS_<code>), and groupings are kept apart — so no country row is lost."""
    # every month of 2024 from the recording; 2024-10..2024-12 from the bundled sample
    for month in range(1, 13) if (REAL / EXPORTS).is_file() else range(10, 13):
        frame = parse_month(direction, 2024, month)
        areas = frame.filter(
            (pl.col("partner_kind") == "country")
            | pl.col("partner").is_in(["CENSUS_5082", "CENSUS_5083", "CENSUS_8220"])
        )
        assert areas.get_column("value").sum() == value_of(frame, "WLD")
        assert frame.filter(pl.col("partner_kind") == "aggregate").height >= 20


def annual(real_data: Path, direction: str, year: int) -> pl.DataFrame:
    return pl.concat([parse_month(direction, year, m) for m in range(1, 13)])


def test_annual_sums_match_provenance_check_values(real_data):
    imports_2024 = annual(real_data, "imports", 2024)
    totals = imports_2024.group_by("partner").agg(pl.col("value").sum())
    total = dict(totals.iter_rows())
    # PROVENANCE.md (second pass, census/): China 2024 = 438 741 998 078 (HS2 cross-check, exact)
    assert total["CHN"] == 438_741_998_078
    # Vietnam 2024 = 136.501 bn, India 87.338 bn, TOTAL 3 266.410 bn
    assert round(total["VNM"] / 1e9, 3) == 136.501
    assert round(total["IND"] / 1e9, 3) == 87.338
    assert round(total["WLD"] / 1e9, 3) == 3266.410
    exports_2018 = annual(real_data, "exports", 2018)
    exports = dict(exports_2018.group_by("partner").agg(pl.col("value").sum()).iter_rows())
    assert round(exports["CHN"] / 1e9, 3) == 120.281  # exports to China 2018 = 120.281 bn


def test_china_months_match_the_census_c5700_table(real_data):
    """Every month 2013–2019: API exports to / imports from China (5700), in million USD rounded
    to one decimal, equal the Census "Trade in goods with China" table (c5700)."""
    published = {}
    lines = real_file(real_data, C5700).read_text(encoding="utf-8").splitlines()
    for line in lines[1:]:
        month, exports, imports, _balance = line.split(";")
        published[month] = (float(exports.replace(",", "")), float(imports.replace(",", "")))
    checked = 0
    for year in range(2013, 2020):
        for month in range(1, 13):
            label = f"{calendar.month_name[month]} {year}"
            for index, direction in enumerate(("exports", "imports")):
                frame = parse_month(direction, year, month)
                assert round(value_of(frame, "CHN") / 1e6, 1) == published[label][index], label
                checked += 1
    assert checked == 168


def test_unnamed_code_8220_is_kept_apart_from_countries():
    """8220 comes with a null CTY_NAME; it is an area of its own (in the world total), never a
    country. MADE-UP payload in the recorded layout; the real row too when shared/ is there."""
    header = ["CTY_CODE", "CTY_NAME", "ALL_VAL_MO", "YEAR", "MONTH"]
    body = census_body(header, [
        ["-", "TOTAL FOR ALL COUNTRIES (MADE UP)", "1000000", "2013", "07"],
        ["5700", "CHINA (MADE UP)", "990000", "2013", "07"],
        ["8220", None, "10000", "2013", "07"],
    ])
    frame = census.parse(body, request_for("exports", 2013, 7))
    assert value_of(frame, "CENSUS_8220", partner_kind="aggregate") == 10_000
    assert frame.filter(pl.col("partner_kind") == "country").get_column("partner").to_list() == ["CHN"]
    if REAL.is_dir():
        frame = parse_month("exports", 2013, 7)
        # exports CSV: 8220,,7476126,2013,07 — CTY_NAME is null in the API answer
        assert value_of(frame, "CENSUS_8220", partner_kind="aggregate") == 7_476_126


def test_imports_by_hs_chapter_keep_leading_zeros_made_up():
    """The recorded HS2 file's layout (commodity code and names, echoed COMM_LVL), MADE-UP values."""
    body = (FIXTURES / "imports_hs2_chapters_made_up.json").read_bytes()
    frame = census.parse(body, request_for("imports", 2024, 12, COMM_LVL="HS2"))
    china = frame.filter(pl.col("partner") == "CHN")
    assert dict(china.select("commodity", "value").iter_rows()) == {
        "85": 600_000, "01": 1_000, "17": 20_000,
    }
    assert set(frame.get_column("partner")) == {"WLD", "CAN", "CHN"}
    world = frame.filter(pl.col("partner") == "WLD").sort("commodity")
    countries = frame.filter(pl.col("partner") != "WLD").group_by("commodity").agg(pl.col("value").sum())
    assert world.select("commodity", "value").rows() == countries.sort("commodity").rows()


def test_imports_by_hs_chapter_keep_leading_zeros(real_data):
    path = real_file(real_data, IMPORTS_HS2)
    body = census_json(path, 2024, 12, "GEN_VAL_MO")
    frame = census.parse(body, request_for("imports", 2024, 12, COMM_LVL="HS2"))
    china = frame.filter(pl.col("partner") == "CHN")
    # HS2 file: 17,SUGARS AND SUGAR CONFECTIONARY,...,5700,CHINA,21771257,2024,12,HS2
    assert value_of(china, "CHN", commodity="17") == 21_771_257
    assert "01" in set(frame.get_column("commodity"))
    assert all(len(c) == 2 for c in frame.get_column("commodity"))
    # PROVENANCE: the chapters sum to the country-level file exactly (imports CSV line 36185)
    assert china.get_column("value").sum() == 37_553_745_287


# --- parse: rules on made-up payloads ---------------------------------------------------------


def test_year_to_date_fields_are_never_monthly_values():
    body = (FIXTURES / "exports_ytd_only_made_up.json").read_bytes()
    with pytest.raises(ParseError, match="year-to-date"):
        census.parse(body, request_for("exports", 2024, 3))


def test_payload_without_header_row_is_rejected():
    body = (FIXTURES / "imports_no_header_made_up.json").read_bytes()
    with pytest.raises(ParseError, match="header") as caught:
        census.parse(body, request_for("imports", 2024, 3))
    assert caught.value.source == "census" and "imports/hs" in caught.value.request


def test_unknown_country_code_raises():
    body = (FIXTURES / "imports_unknown_code_made_up.json").read_bytes()
    with pytest.raises(UnknownCodeError) as caught:
        census.parse(body, request_for("imports", 2024, 3))
    assert (caught.value.source, caught.value.code) == ("census", "9999")


@pytest.mark.parametrize("code", ["0099", "8XXX", "570", "57000"])
def test_unlisted_group_or_malformed_codes_raise(code):
    with pytest.raises(UnknownCodeError):
        census.partner_code(code)


def test_schedule_c_overrides_and_groups():
    assert [census.partner_code(c) for c in ("5700", "5520", "5330", "5830", "5820")] == [
        ("CHN", "country"), ("VNM", "country"), ("IND", "country"), ("TWN", "country"),
        ("HKG", "country"),
    ]
    assert census.partner_code("-") == ("WLD", "world")
    assert census.partner_code("0020") == ("USMCA", "aggregate")
    assert census.partner_code("0027") == ("ASEAN", "aggregate")
    assert census.partner_code("4099") == ("DNK", "country")  # Denmark, except Greenland
    assert census.partner_code("4803") == ("XKX", "country")  # Kosovo
    assert census.partner_code("5082") == ("CENSUS_5082", "aggregate")  # Gaza Strip


def test_cif_and_customs_imports_are_two_observations():
    body = (FIXTURES / "imports_customs_and_cif_made_up.json").read_bytes()
    frame = census.parse(body, request_for("imports", 2024, 3))
    china = frame.filter(pl.col("partner") == "CHN").sort("valuation")
    assert china.select("valuation", "value").rows() == [("CIF", 424_000.0), ("CUSTOMS", 400_000.0)]
    totals = frame.filter(pl.col("partner") == "WLD").sort("valuation")
    assert totals.select("valuation", "value").rows() == [("CIF", 1_050_000.0), ("CUSTOMS", 1_000_000.0)]
    assert frame.height == 2 * 4  # world, China, Japan, Mexico, each valued both ways


def test_time_column_and_commodity_codes():
    body = (FIXTURES / "imports_hs2_time_made_up.json").read_bytes()
    frame = census.parse(body, request_for("imports", 2024, 3))
    assert frame.select("commodity", "value").rows() == [
        ("TOTAL", 900_000.0), ("03", 150_000.0), ("85", 750_000.0),
    ]
    assert set(frame.get_column("partner")) == {"VNM"}
    assert set(frame.get_column("period_start")) == {date(2024, 3, 1)}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"<html>not json</html>", "not JSON"),
        (b'{"error": "x"}', "array of arrays"),
        (b'[["CTY_CODE","CTY_NAME","GEN_VAL_MO","YEAR","MONTH"]]', "no data rows"),
        (b'[["CTY_CODE","GEN_VAL_MO","YEAR","MONTH"],["5700","1","2024"]]', "row 2 has 3"),
        (b'[["CTY_CODE","GEN_VAL_MO","YEAR","MONTH"],["5700","1.5","2024","03"]]', "whole"),
        (b'[["CTY_CODE","GEN_VAL_MO","YEAR","MONTH"],["5700","-1","2024","03"]]', "whole"),
        (b'[["CTY_CODE","GEN_VAL_MO","YEAR","MONTH"],["5700",null,"2024","03"]]', "expected"),
        (b'[["CTY_CODE","GEN_VAL_MO","YEAR","MONTH"],["5700","1","2024","04"]]', "outside"),
        (b'[["CTY_CODE","GEN_VAL_MO","YEAR","MONTH"],["5700","1","2024","13"]]', "bad period"),
        (b'[["CTY_CODE","GEN_VAL_MO"],["5700","1"]]', "no period column"),
        (b'[["CTY_CODE","CON_VAL_MO","YEAR","MONTH"],["5700","1","2024","03"]]', "no monthly"),
        (b'[["CTY_CODE","ALL_VAL_MO","YEAR","MONTH"],["5700","1","2024","03"]]', "endpoint"),
        (b'[["CTY_CODE","GEN_VAL_MO","YEAR","MONTH"],["5700","1","2024","03"],'
         b'["5700","2","2024","03"]]', "share a load key"),
    ],
)
def test_malformed_payloads_raise_parse_error(body, problem):
    with pytest.raises(ParseError, match=problem):
        census.parse(body, request_for("imports", 2024, 3))


# --- truncation: Schedule C rows against the world total ------------------------------------


def made_up_answer(rows=MADE_UP_ROWS, field="GEN_VAL_MO", month="03") -> bytes:
    """An all-partner answer in the recorded layout from MADE-UP (code, name, value) rows."""
    header = ["CTY_CODE", "CTY_NAME", field, "YEAR", "MONTH"]
    return census_body(header, [[code, name, str(value), "2024", month] for code, name, value in rows])


@pytest.mark.parametrize("direction", ["exports", "imports"])
def test_rows_cut_after_the_world_total_are_rejected(direction):
    """The real answer (bundled sample, 2024-12) re-closed after half its rows, world row kept."""
    field = "ALL_VAL_MO" if direction == "exports" else "GEN_VAL_MO"
    header, *rows = json.loads(census_json(census_file(direction), 2024, 12, field))
    world = [r for r in rows if r[0] == "-"]
    others = [r for r in rows if r[0] != "-"]
    kept = world + others[: len(others) // 2]
    request = request_for(direction, 2024, 12)
    assert census.parse(census_body(header, rows), request).height == len(rows)  # whole: passes
    cut = r"truncated or partial: .* 2024-12 .* short of the CTY_CODE"
    with pytest.raises(ParseError, match=cut) as caught:
        census.parse(census_body(header, kept), request)
    assert caught.value.source == "census" and f"GET {BASE}/{direction}/hs" in caught.value.request
    assert "tolerance 0.001%" in caught.value.problem


def test_groupings_are_not_summed_and_a_lost_country_is_seen():
    """MADE-UP rows: the EU grouping (250,000) is beside its members; counting it would exceed the
    total by 25 %. One country row dropped (Vietnam, 10 %) is caught; so is one altered upwards."""
    assert census.parse(made_up_answer(), request_for("imports", 2024, 3)).height == len(MADE_UP_ROWS)
    without_vietnam = [r for r in MADE_UP_ROWS if r[0] != "5520"]
    with pytest.raises(ParseError, match=r"the 5 Schedule C area rows of 2024-03 \(M CUSTOMS\) add up to "
                                         r"900,000 USD, short of .* 1,000,000 by 100,000 \(10.0000%"):
        census.parse(made_up_answer(without_vietnam), request_for("imports", 2024, 3))
    more = [(c, n, v + 20 if c == "5700" else v) for c, n, v in MADE_UP_ROWS]
    with pytest.raises(ParseError, match="more than the CTY_CODE"):
        census.parse(made_up_answer(more), request_for("imports", 2024, 3))


def test_cif_total_is_checked_apart_from_the_customs_total():
    body = (FIXTURES / "imports_customs_and_cif_made_up.json").read_bytes()
    header, *rows = json.loads(body)
    rows[1][3] = str(int(rows[1][3]) - 50_000)  # China's CIF only: 374,000 < its 400,000 customs
    with pytest.raises(ParseError, match=r"\(M CIF\) add up to 1,000,000 USD, short of"):
        census.parse(census_body(header, rows), request_for("imports", 2024, 3))


def test_answers_for_some_partners_are_not_checked_against_the_world_total():
    """A CTY_CODE predicate asks some partners: the rows then miss the world total (or it is
    absent) by design, and nothing is raised."""
    china_and_world = [r for r in MADE_UP_ROWS if r[0] in ("-", "5700")]
    frame = census.parse(made_up_answer(china_and_world), request_for("imports", 2024, 3, CTY_CODE="5700"))
    assert sorted(frame.get_column("partner")) == ["CHN", "WLD"]
    only_china = [r for r in MADE_UP_ROWS if r[0] == "5700"]
    frame = census.parse(made_up_answer(only_china), request_for("imports", 2024, 3, CTY_CODE="5700"))
    assert frame.get_column("value").to_list() == [300_000]
    with pytest.raises(ParseError, match="truncated: no CTY_CODE"):  # the same rows, all asked
        census.parse(made_up_answer(only_china), request_for("imports", 2024, 3))


# --- loopback HTTP and staging ----------------------------------------------------------------


def test_planned_requests_fetched_from_a_loopback_server(httpserver):
    """plan → HttpClient → parse, against a loopback server answering with rebuilt payloads."""
    exports = census_json(census_file("exports"), 2024, 12, "ALL_VAL_MO")
    imports = census_json(census_file("imports"), 2024, 12, "GEN_VAL_MO")
    for direction, body, field in (("exports", exports, "ALL"), ("imports", imports, "GEN")):
        query = {"get": f"CTY_CODE,CTY_NAME,{field}_VAL_MO", "YEAR": "2024", "MONTH": "12"}
        expected = httpserver.expect_request(f"/intltrade/{direction}/hs", query_string=query)
        expected.respond_with_data(body, content_type="application/json;charset=utf-8")
    settings = Settings(
        census_base_url=httpserver.url_for("/intltrade"), requests_per_minute=60_000.0
    )
    ctx = PlanContext(
        settings=settings,
        reporters=("USA",),
        partners=(),
        period_start=date(2024, 12, 1),
        period_end=date(2024, 12, 1),
        fetch=lambda _r: None,
        options={"census_cif": False},  # the recorded payloads hold no GEN_CIF_MO
    )
    client = HttpClient(settings, "census", census.headers(settings))
    try:
        frames = [census.parse(client.get(r).body, r) for r in census.plan(ctx)]
    finally:
        client.close()
    frame = pl.concat(frames)
    assert value_of(frame, "CHN", flow="X") == 12_295_207_536
    assert value_of(frame, "CHN", flow="M") == 37_553_745_287


def test_staging_model_selects_census_rows_with_the_raw_columns():
    sql = (ROOT / "sql" / "staging" / "census_observations.sql").read_text(encoding="utf-8")
    body = (FIXTURES / "imports_hs2_time_made_up.json").read_bytes()
    frame = census.parse(body, request_for("imports", 2024, 3)).with_columns(
        pl.lit("ab" * 32).alias("payload_sha256"),
        pl.lit("2024-05-06 07:08:09").str.to_datetime().alias("fetched_at"),
    )
    other = frame.with_columns(pl.lit("comtrade").alias("source"))
    con = duckdb.connect()
    con.execute("CREATE SCHEMA raw")
    con.register("parsed", pl.concat([frame, other]).to_arrow())
    con.execute("CREATE TABLE raw.observations AS SELECT * FROM parsed")
    result = con.sql(sql).pl()
    assert result.columns == [*OBSERVATION_SCHEMA, "payload_sha256", "fetched_at"]
    assert result.height == 3 and set(result.get_column("source")) == {"census"}


def test_schedule_c_csv_agrees_with_the_recorded_census_list(real_data):
    """Every code of the scraped Census ISO list is in the CSV with the same ISO2."""
    listed = json.loads(
        real_file(real_data, "reference/census_schedule_c_country_codes_iso2.json").read_text()
    )
    text = (ROOT / "flows" / "data" / "census_schedule_c.csv").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    rows = {r["code"]: r for r in csv.DictReader(lines)}
    assert all(rows[code]["iso2"] == item["iso2"] for code, item in listed.items())
    assert set(rows) - set(listed) == {"7370", "8220"}


# --- the answer contract: 204 / no rows, 400 text, key page ---------------------------------

def answer(status: int, body: bytes, month: date, today: date, content_type="application/json"):
    request = request_for("imports", month.year, month.month)
    return Answer(request, request.describe(), status, {"Content-Type": content_type}, body, today)


@pytest.mark.parametrize("body", [b"", b"[]", b'[["CTY_CODE","CTY_NAME","GEN_VAL_MO","YEAR","MONTH"]]'])
def test_no_rows_for_a_month_not_yet_due_is_not_yet_released(body):
    status = 204 if body == b"" else 200
    # 2026-11 is expected 35 days after 30 Nov 2026 (4 Jan 2027): not due on 1 Dec 2026
    error = census.interpret(answer(status, body, date(2026, 11, 1), date(2026, 12, 1)))
    assert isinstance(error, NotYetReleased) and error.period == date(2026, 11, 1)
    assert "not yet released" in error.problem and "2026-11" in error.problem


def test_204_for_a_month_that_should_be_out_is_missing():
    error = census.interpret(answer(204, b"", date(2025, 1, 1), date(2026, 12, 1)))
    assert isinstance(error, MissingRelease)
    assert error.problem.startswith(
        "Census answered 204 No Content for 2025-01, which the FT-900 calendar expects by 2025-03-07"
    )


def test_400_keeps_the_census_sentence():
    body = b"error: unknown variable 'XYZ'"
    error = census.interpret(answer(400, body, date(2024, 3, 1), date(2026, 12, 1), "text/plain"))
    assert isinstance(error, RequestRefused) and error.status == 400
    assert error.message == "error: unknown variable 'XYZ'" and error.values == (("get", "XYZ"),)
    body = b"error: unknown predicate variable: 'FOO'"
    error = census.interpret(answer(400, body, date(2024, 3, 1), date(2026, 12, 1), "text/plain"))
    assert error.values == (("predicate", "FOO"),) and "unknown predicate variable" in str(error)


def test_key_page_is_an_auth_error_and_data_is_left_to_the_parser():
    page = b"<html>You included a key with this request, however, it is not valid.</html>"
    error = census.interpret(answer(200, page, date(2024, 3, 1), date(2026, 12, 1), "text/html"))
    assert isinstance(error, AuthError) and "not valid" in str(error)
    body = (FIXTURES / "imports_customs_and_cif_made_up.json").read_bytes()
    assert census.interpret(answer(200, body, date(2024, 3, 1), date(2026, 12, 1))) is None


# --- runs against the strict double -----------------------------------------------------------


@pytest.fixture
def publishers(httpserver):
    handler = StrictPublishers()
    httpserver.expect_request(re.compile(".*")).respond_with_handler(handler)
    return handler


def census_run(httpserver, tmp_path, start: date, end: date, today: date, **options):
    settings = Settings(
        warehouse=tmp_path, census_base_url=httpserver.url_for("/census"), today=today,
        requests_per_minute=60_000.0, backoff_factor=0.01, revision_window_months=1,
    )
    scope = RunScope(sources=("census",), reporters=("USA",), period_start=start,
                     period_end=end, options=options).resolved()
    return fetch_source("census", scope, settings, Archive(settings.raw_dir))


def test_window_ending_on_an_unreleased_month_is_ok_and_names_it(httpserver, tmp_path, publishers):
    """Run date 1 Dec 2026, window 2026-09..2026-11: the double pretends 2026-09 and 2026-10 are
    out (made-up rows, labelled) and answers 204 for 2026-11."""
    publishers.handlers["census"].published_through = "2026-10"
    outcome = census_run(httpserver, tmp_path, date(2026, 9, 1), date(2026, 11, 1), date(2026, 12, 1))
    assert outcome.ok and outcome.errors == []
    assert set(outcome.not_released) == {"2026-11"}
    assert outcome.fetched == 4 and outcome.planned == 6
    assert "not yet released: 2026-11" in outcome.line()
    assert publishers.refused == []


def test_204_for_an_old_month_is_reported_missing(httpserver, tmp_path, publishers):
    outcome = census_run(httpserver, tmp_path, date(2025, 1, 1), date(2025, 1, 1), date(2026, 12, 1))
    assert not outcome.ok and outcome.not_released == [] and len(outcome.errors) == 2
    assert all(
        "Census answered 204 No Content for 2025-01, which the FT-900 calendar expects by "
        "2025-03-07" in e for e in outcome.errors
    )


def test_malformed_request_fails_the_run_with_the_census_message(
    httpserver, tmp_path, publishers, monkeypatch
):
    real_plan = census.plan

    def bad_plan(ctx):  # the planned exports request, asking for a variable Census lacks
        request = real_plan(ctx)[0]
        return [replace(request, params={**request.params, "get": "CTY_CODE,XYZ"})]

    monkeypatch.setattr(census, "plan", bad_plan)
    outcome = census_run(httpserver, tmp_path, date(2024, 12, 1), date(2024, 12, 1), date(2026, 12, 1))
    assert not outcome.ok and len(outcome.errors) == 1
    assert "HTTP 400, Census refused the request: error: unknown variable 'XYZ'" in outcome.errors[0]
    assert [reason for _, _, reason in publishers.refused] == ["unknown get XYZ"]


def test_a_normal_usa_refresh_is_never_refused(httpserver, tmp_path, publishers):
    """All of 2024 from the recording; without shared/, the bundled sample's 2024-10..2024-12."""
    first = 1 if (REAL / EXPORTS).is_file() else 10
    outcome = census_run(httpserver, tmp_path, date(2024, first, 1), date(2024, 12, 1),
                         date(2025, 3, 1), census_cif=True)
    assert outcome.ok, outcome.line()
    months = 13 - first
    assert publishers.refused == [] and outcome.fetched == 2 * months and outcome.not_released == []
    assert outcome.rows_parsed > 0


def test_double_labels_made_up_cif_values():
    from werkzeug.test import Client

    client = Client(StrictPublishers().wsgi)
    response = client.get(
        "/census/imports/hs?get=CTY_CODE,CTY_NAME,GEN_VAL_MO,GEN_CIF_MO&YEAR=2024&MONTH=12&key=k"
    )
    assert response.status_code == 200
    assert response.headers["X-Test-Double"] == "made-up values"
    header, *rows = response.get_json()
    assert header == ["CTY_CODE", "CTY_NAME", "GEN_VAL_MO", "GEN_CIF_MO", "YEAR", "MONTH"]
    china = next(r for r in rows if r[0] == "5700")
    assert china[2] == "37553745287"  # the recorded customs value (imports CSV line 36185)
    recorded = client.get("/census/imports/hs?get=CTY_CODE,CTY_NAME,GEN_VAL_MO&YEAR=2024&MONTH=12")
    assert "X-Test-Double" not in recorded.headers


@pytest.mark.parametrize(
    ("query", "status", "body"),
    [
        ("/census/exports/hs?get=CTY_CODE,XYZ&YEAR=2024&MONTH=12", 400, "error: unknown variable 'XYZ'"),
        ("/census/exports/hs?get=CTY_CODE,GEN_VAL_MO&YEAR=2024&MONTH=12", 400,
         "error: unknown variable 'GEN_VAL_MO'"),
        ("/census/imports/hs?get=CTY_CODE,GEN_VAL_MO&YEAR=2024&MONTH=12&COUNTRY=5700", 400,
         "error: unknown predicate variable: 'COUNTRY'"),
        ("/census/imports/hs?YEAR=2024&MONTH=12", 400, "error: missing 'get' argument"),
        ("/census/imports/hs?get=CTY_CODE,GEN_VAL_MO", 400, "one month"),
        ("/census/imports/naics?get=CTY_CODE,GEN_VAL_MO&YEAR=2024&MONTH=12", 404, "unknown dataset"),
        ("/census/imports/hs?get=CTY_CODE,GEN_VAL_MO&time=2031-01", 204, ""),
    ],
)
def test_double_refuses_what_census_refuses(query, status, body):
    from werkzeug.test import Client

    publishers = StrictPublishers()
    response = Client(publishers.wsgi).get(query)
    assert response.status_code == status and body in response.get_data(as_text=True)
    assert bool(publishers.refused) is (status != 204)
    assert all(r.publisher == "census" and r.confidence in {"confirmed", "consistent", "unverified"}
               for r in census_double.RULES)


# --- the June annual revision -----------------------------------------------------------------


def test_annual_revision_date_and_months():
    # April 2026 is due 4 June (+7 days' grace = 11 June): the assumed day 15 June is later
    assert census.annual_revision_date(2026) == date(2026, 6, 15)
    assert census.revised_months(2026) == (date(2023, 1, 1), date(2026, 3, 1))


@pytest.mark.parametrize(
    ("month", "today", "expected"),
    [
        (date(2023, 5, 1), date(2026, 6, 14), datetime(2025, 6, 15, tzinfo=UTC)),
        (date(2023, 5, 1), date(2026, 6, 15), datetime(2026, 6, 15, tzinfo=UTC)),
        (date(2022, 12, 1), date(2026, 6, 15), None),  # older than the 2026 revision's range
        (date(2026, 3, 1), date(2026, 7, 1), datetime(2026, 6, 15, tzinfo=UTC)),
        (date(2026, 4, 1), date(2026, 7, 1), None),  # published with the revision, not revised
    ],
)
def test_stale_before(month, today, expected):
    request = request_for("exports", month.year, month.month)
    assert census.stale_before(request, Settings(today=today)) == expected


def test_june_revision_refetches_the_prior_years_once(httpserver, tmp_path, publishers, monkeypatch):
    """Archived months of 2024 (the bundled sample's) are reused until the 2027 June revision,
    re-fetched once after."""
    import flows.archive

    clock = {"now": datetime(2026, 6, 1, 12, tzinfo=UTC)}

    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):
            return clock["now"]

    monkeypatch.setattr(flows.archive, "datetime", Clock)

    def run(today: date):
        clock["now"] = datetime.combine(today, datetime.min.time(), tzinfo=UTC)
        # window 2024-10..2024-12, revision_window_months=1: 2024-10 can be reused
        return census_run(httpserver, tmp_path, date(2024, 10, 1), date(2024, 12, 1), today)

    assert run(date(2027, 6, 1)).fetched == 6
    before = run(date(2027, 6, 10))
    assert (before.reused, before.fetched) == (2, 4)
    after = run(date(2027, 6, 20))  # the 2027 revision (15 June) re-publishes 2024
    assert (after.reused, after.fetched) == (0, 6) and after.ok
    again = run(date(2027, 6, 21))
    assert (again.reused, again.fetched) == (2, 4)


@pytest.mark.flow
def test_census_only_refresh_ending_on_an_unreleased_month_exits_0(httpserver, monkeypatch):
    """``trade-imbalance refresh`` (Prefect in-process): run date 20 Jan 2025, window
    2024-11..2024-12; the double has 2024-11 (recorded) and answers 204 for 2024-12, which the
    FT-900 calendar expects on 4 Feb 2025. Exit 0, and the line names the month."""
    from typer.testing import CliRunner

    from flows.cli import app
    from tests.recorded_server import point_publishers_at

    handler = StrictPublishers()  # the recording, or the bundled sample (2024-10..2024-12)
    handler.handlers["census"].published_through = "2024-11"
    point_publishers_at(httpserver, handler, monkeypatch)
    monkeypatch.setenv("TRADE_IMBALANCE_TODAY", "2025-01-20")
    monkeypatch.setenv("PREFECT_LOGGING_LEVEL", "WARNING")
    result = CliRunner().invoke(
        app, ["refresh", "--source", "census", "--reporter", "USA", "--from", "2024-11", "--to", "2024-12"]
    )
    assert result.exit_code == 0, result.output
    assert "not yet released: 2024-12" in result.output
    assert handler.refused == []
