"""Tests of the UN Comtrade API v1 module (:mod:`flows.sources.comtrade`).

Real payloads are read from ``shared/data/real/comtrade/`` (see its PROVENANCE.md); the values
asserted are printed in those files (file and field named at each assertion). One JSON response
is rebuilt here from the real rows of ``get_C_M_HS_allreporters_X_p0_TOTAL_2021-01_2021-12_pandas.csv``
(values real, envelope reconstructed). Without ``shared/`` (a plain clone) the same tests run on
the recordings' MADE-UP stand-ins (``tests/fixtures/comtrade/*_made_up*``, same layouts, written by
``tests/builders/comtrade.py``) and assert the made-up figures (the second value of each
``(recorded, made up)`` pair below). Other payloads that are made up say so: the fixture
``tests/fixtures/comtrade/breakdowns_mixed_made_up.json`` and the generated cap payloads.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from flows.http import HttpClient
from flows.reference import UnknownCodeError
from flows.schema import OBSERVATION_SCHEMA
from flows.settings import Settings, get_settings
from flows.sources import comtrade
from flows.sources.base import AuthError, FetchRequest, ParseError, PlanContext
from tests.builders import comtrade as comtrade_builder
from tests.builders.comtrade import monthly_records
from tests.conftest import REAL, recording_or_sample
from tests.double import is_made_up
from tests.double.comtrade import missing_key_body

FIXTURES = Path(__file__).parent / "fixtures" / "comtrade"
BASE = "https://comtrade.example.test/api"


# ------------------------------------------------------------------------------------------
# helpers


def _no_fetch(request: FetchRequest):
    raise AssertionError(f"comtrade.plan must not fetch index pages ({request.url})")


def env_settings(monkeypatch, base: str = BASE, key: str | None = None) -> Settings:
    """Settings read from the environment, as a run reads them."""
    monkeypatch.setenv("TRADE_IMBALANCE_COMTRADE_BASE_URL", base)
    if key is not None:
        monkeypatch.setenv("TRADE_IMBALANCE_COMTRADE_API_KEY", key)
    monkeypatch.setenv("TRADE_IMBALANCE_REQUESTS_PER_MINUTE", "60000")
    monkeypatch.setenv("TRADE_IMBALANCE_MAX_RETRIES", "0")
    get_settings.cache_clear()
    return get_settings()


def context(settings, reporters=("CHN",), partners=(), start=date(2021, 1, 1),
            end=date(2021, 12, 1), **options) -> PlanContext:
    return PlanContext(
        settings=settings,
        reporters=tuple(reporters),
        partners=tuple(partners),
        period_start=start,
        period_end=end,
        fetch=_no_fetch,
        options=options,
    )


def request(url: str, freq: str, start: date, end: date, reporter: str | None = None,
            **params: str) -> FetchRequest:
    return FetchRequest(
        source="comtrade",
        url=url,
        params={"cmdCode": "TOTAL", **params},
        expect="json",
        reporter=reporter,
        period_start=start,
        period_end=end,
        meta={"freq": freq},
    )


def rows_by(frame: pl.DataFrame, *keys: str) -> dict:
    """Rows keyed by the given columns (a tuple, or the value itself for one column); the keys
    must be unique."""
    rows = {
        tuple(r[k] for k in keys) if len(keys) > 1 else r[keys[0]]: r for r in frame.to_dicts()
    }
    assert len(rows) == frame.height, f"rows are not unique by {keys}"
    return rows


def recorded(name: str) -> tuple[bytes, bool]:
    """The recording ``comtrade/<name>`` (or, without ``shared/``, its MADE-UP stand-in) and
    whether it is the stand-in."""
    path = recording_or_sample(f"comtrade/{name}")
    return path.read_bytes(), is_made_up(path)


def made_up() -> dict:
    """The MADE-UP breakdown fixture (illustrative numbers, real v1 layout)."""
    return json.loads((FIXTURES / "breakdowns_mixed_made_up.json").read_text())


MADE_UP_REQUEST = request(
    f"{BASE}/data/v1/get/C/M/HS", "M", date(2021, 3, 1), date(2021, 3, 1), reporter="CHN"
)


def parse_made_up(payload: dict, req: FetchRequest = MADE_UP_REQUEST) -> pl.DataFrame:
    return comtrade.parse(json.dumps(payload).encode(), req)


# ------------------------------------------------------------------------------------------
# headers and plan


def test_headers_carry_the_key_only_when_set():
    assert comtrade.headers(Settings()) == {}
    assert comtrade.headers(Settings(comtrade_api_key="k-123")) == {
        "Ocp-Apim-Subscription-Key": "k-123"
    }


def test_plan_with_key_uses_the_data_api_and_pins_totals(monkeypatch):
    settings = env_settings(monkeypatch, key="k-123")
    reqs = comtrade.plan(context(settings, partners=("USA", "IND", "TWN")))
    assert len(reqs) == 1
    req = reqs[0]
    assert req.url == f"{BASE}/data/v1/get/C/M/HS"
    assert comtrade.headers(settings) == {"Ocp-Apim-Subscription-Key": "k-123"}
    assert "k-123" not in json.dumps(req.to_json())  # the key never goes into params/meta
    assert req.params == {
        "reporterCode": "156",
        "partnerCode": "0,842,699,490",  # World first; USA 842, India 699, Taiwan 490
        "partner2Code": "0",
        "period": ",".join(f"2021{m:02d}" for m in range(1, 13)),
        "cmdCode": "TOTAL",
        "flowCode": "X,M",
        "motCode": "0",
        "customsCode": "C00",
        "includeDesc": "true",
        "breakdownMode": "classic",
    }
    assert (req.expect, req.reporter, req.role) == ("json", "CHN", "data")
    assert (req.period_start, req.period_end) == (date(2021, 1, 1), date(2021, 12, 1))
    assert req.meta["freq"] == "M"


def test_plan_without_key_uses_the_public_preview(monkeypatch):
    settings = env_settings(monkeypatch, base=BASE + "/")  # trailing slash is dropped
    reqs = comtrade.plan(context(settings, reporters=("USA", "FRA", "CHE"), partners=("CHN",)))
    assert comtrade.headers(settings) == {}
    assert [r.url for r in reqs] == [f"{BASE}/public/v1/preview/C/M/HS"] * 36
    # One reporter × 12 months → 12 calls each: the preview takes one period per call.
    assert len(reqs) == 36
    # ``reportercode``, as Comtrade's own client (PreviewGet.py) and the recorded preview send it
    assert [r.params["reportercode"] for r in reqs[::12]] == ["842", "251", "757"]
    assert "reporterCode" not in reqs[0].params
    assert [r.reporter for r in reqs[::12]] == ["USA", "FRA", "CHE"]
    assert all(r.params["maxRecords"] == "500" for r in reqs)
    assert all(r.params["partnerCode"] == "0,156" for r in reqs)
    assert [r.params["period"] for r in reqs[:12]] == [f"2021{m:02d}" for m in range(1, 13)]


def test_plan_24_months_makes_two_calls_of_twelve(monkeypatch):
    settings = env_settings(monkeypatch, key="k")
    reqs = comtrade.plan(
        context(settings, partners=("USA",), start=date(2021, 1, 1), end=date(2022, 12, 1))
    )
    assert len(reqs) == 2
    assert all(r.url.startswith(BASE + "/") for r in reqs)
    periods = [r.params["period"].split(",") for r in reqs]
    assert periods == [
        [f"2021{m:02d}" for m in range(1, 13)],
        [f"2022{m:02d}" for m in range(1, 13)],
    ]
    assert [(r.period_start, r.period_end) for r in reqs] == [
        (date(2021, 1, 1), date(2021, 12, 1)),
        (date(2022, 1, 1), date(2022, 12, 1)),
    ]


def test_plan_annual_calls_hold_at_most_twelve_years(monkeypatch):
    settings = env_settings(monkeypatch, key="k")
    reqs = comtrade.plan(
        context(settings, partners=("ARG", "DEU"), start=date(2010, 1, 1),
                end=date(2023, 12, 1), comtrade_frequency="A")
    )
    assert [r.url for r in reqs] == [f"{BASE}/data/v1/get/C/A/HS"] * 2
    assert [r.params["period"] for r in reqs] == [
        ",".join(str(y) for y in range(2010, 2022)),
        "2022,2023",
    ]
    assert reqs[0].params["partnerCode"] == "0,32,276"
    assert [(r.period_start, r.period_end) for r in reqs] == [
        (date(2010, 1, 1), date(2021, 12, 1)),
        (date(2022, 1, 1), date(2023, 12, 1)),
    ]
    assert all(r.meta["freq"] == "A" for r in reqs)


def test_plan_default_partners_are_world_plus_a_fixed_set_without_the_reporter(monkeypatch):
    settings = env_settings(monkeypatch)
    china, india = comtrade.plan(
        context(settings, reporters=("CHN", "IND"), end=date(2021, 1, 1))
    )
    china_partners = china.params["partnerCode"].split(",")
    india_partners = india.params["partnerCode"].split(",")
    assert china_partners[0] == "0" and india_partners[0] == "0"
    assert "156" not in china_partners and "156" in india_partners
    assert "699" in china_partners and "699" not in india_partners
    assert {"842", "490", "344"} <= set(china_partners)  # USA, Taiwan (490), Hong Kong


def test_plan_hs_detail_shrinks_period_chunks_below_the_cap(monkeypatch):
    settings = env_settings(monkeypatch, key="k")
    codes = ["0306", "01", "850440", "TOTAL", "27", "84", "85", "87", "90", "94"]
    partners = [p for p in comtrade.DEFAULT_PARTNERS if p != "CHN"]
    reqs = comtrade.plan(context(settings, partners=partners, comtrade_cmd_codes=codes))
    assert len(reqs) == 1  # 14 partner codes × 2 flows × 10 commodities × 12 months < 100 000
    assert reqs[0].params["cmdCode"] == ",".join(codes)
    # keyless: 499 // (2 flows × 10 commodities) = 24 partner codes per call, one month per call
    monkeypatch.delenv("TRADE_IMBALANCE_COMTRADE_API_KEY")
    get_settings.cache_clear()
    keyless = get_settings()
    many = ["USA", "JPN", "KOR", "VNM", "DEU", "IND", "AUS", "RUS", "MYS", "BRA", "NLD", "FRA",
            "ITA", "GBR", "CAN", "MEX", "THA", "IDN", "SGP", "PHL", "SAU", "ARE", "TUR", "ZAF",
            "CHL", "ARG"]  # fmt: skip
    reqs = comtrade.plan(context(keyless, partners=many, end=date(2021, 2, 1),
                                 comtrade_cmd_codes=codes))
    assert [len(r.params["partnerCode"].split(",")) for r in reqs] == [24, 24, 3, 3]
    assert [r.params["period"] for r in reqs] == ["202101", "202102", "202101", "202102"]


def test_plan_rejects_bad_options_and_unknown_reporters(monkeypatch):
    settings = env_settings(monkeypatch)
    with pytest.raises(ValueError, match="comtrade_frequency"):
        comtrade.plan(context(settings, comtrade_frequency="Q"))
    with pytest.raises(ValueError, match="leading zeros"):
        comtrade.plan(context(settings, comtrade_cmd_codes=[306]))
    with pytest.raises(ValueError, match="2/4/6-digit"):
        comtrade.plan(context(settings, comtrade_cmd_codes="AG2"))
    with pytest.raises(UnknownCodeError, match="ATL"):
        comtrade.plan(context(settings, reporters=("ATL",)))


# ------------------------------------------------------------------------------------------
# area codes


@pytest.mark.parametrize(
    ("code", "iso", "expected"),
    [
        (0, "W00", ("WLD", "world")),
        (842, "USA", ("USA", "country")),
        (699, "IND", ("IND", "country")),
        (251, "FRA", ("FRA", "country")),
        (757, "CHE", ("CHE", "country")),
        (579, "NOR", ("NOR", "country")),
        (490, "S19", ("TWN", "country")),
        (276, "DEU", ("DEU", "country")),
        (156, None, ("CHN", "country")),
        # Former Fed. Rep. of Germany: Comtrade prints "DEU", kept apart from today's Germany.
        (280, "DEU", ("COMTRADE_280", "aggregate")),
        (840, "USA", ("COMTRADE_840", "aggregate")),
        (568, "E19", ("COMTRADE_568", "aggregate")),
        (837, "X1 ", ("COMTRADE_837", "aggregate")),  # padded ISO alias
        (97, "EUR", ("COMTRADE_97", "aggregate")),
    ],
)
def test_comtrade_area_codes(code, iso, expected):
    assert comtrade.comtrade_area(code, iso) == expected


def test_comtrade_area_unknown_code_and_contradicting_iso():
    with pytest.raises(UnknownCodeError, match="comtrade: unknown partner code '999'"):
        comtrade.comtrade_area(999)
    with pytest.raises(ValueError, match="expected"):
        comtrade.comtrade_area(842, "CAN")


@pytest.mark.parametrize(
    ("key", "code"),
    [("USA", 842), ("IND", 699), ("FRA", 251), ("CHE", 757), ("NOR", 579), ("TWN", 490),
     ("WLD", 0), ("CHN", 156), ("VNM", 704), ("COMTRADE_97", 97)],
)
def test_comtrade_code_for_plan(key, code):
    assert comtrade.comtrade_code(key) == code


# ------------------------------------------------------------------------------------------
# real payloads


#: China 2010 primaryValue by (partner, flow): (recorded, MADE-UP stand-in).
CHINA_2010 = {("ARG", "M"): (6804128143.0, 5e9), ("ARG", "X"): (6115764185.0, 4e9),
              ("DEU", "M"): (74251272075.0, 60e9), ("DEU", "X"): (68047133397.0, 50e9)}  # fmt: skip


def test_parse_china_2010_annual_with_argentina_and_germany():
    body, made_up_values = recorded("get_C_A_HS_r156_p32-280-276_2010_TOTAL.json")
    # The recorded request (PROVENANCE.md): data/v1/get/C/A/HS, reporter 156, partners 32,280,276.
    req = request(
        "https://comtradeapi.un.org/data/v1/get/C/A/HS", "A", date(2010, 1, 1), date(2010, 12, 1),
        reporter="CHN", partnerCode="32,280,276", reporterCode="156", period="2010",
        motCode="0", partner2Code="0", customsCode="C00", includeDesc="TRUE",
    )
    frame = comtrade.parse(body, req)
    assert frame.schema == pl.Schema(OBSERVATION_SCHEMA)
    assert frame.height == 4  # partner 280 (former FRG) returns no record
    rows = rows_by(frame, "partner", "flow")
    # primaryValue of each record in the file:
    assert {key: row["value"] for key, row in rows.items()} == {
        key: pair[made_up_values] for key, pair in CHINA_2010.items()
    }
    assert rows[("ARG", "M")]["valuation"] == "CIF" and rows[("DEU", "M")]["valuation"] == "CIF"
    assert rows[("ARG", "X")]["valuation"] == "FOB" and rows[("DEU", "X")]["valuation"] == "FOB"
    first = rows[("ARG", "M")]
    assert first["reporter"] == "CHN" and first["partner_kind"] == "country"
    assert (first["period_start"], first["period_end"]) == (date(2010, 1, 1), date(2010, 12, 1))
    assert (first["months"], first["period_type"]) == (12, "year")
    assert (first["commodity"], first["currency"]) == ("TOTAL", "USD")
    assert first["status"] == "reported"  # isReported true, legacyEstimationFlag 0
    assert first["release"] == "UN Comtrade API v1 C/A/HS (classification H3)"
    assert first["vintage"] is None and first["published_yoy"] is None


@pytest.mark.parametrize(
    ("name", "partner", "kind", "values"),
    [
        # primaryValue in each file (recorded, MADE-UP stand-in); partner 0 ("W00") and 842 ("USA")
        ("preview_C_A_HS_ind_699_X_2022_TOTAL_world.json", "WLD", "world",
         (452684213646.747, 400000000000.5)),
        ("preview_C_A_HS_ind_699_X_2022_TOTAL_partner842.json", "USA", "country",
         (80230193279.727, 75000000000.25)),
    ],
)
def test_parse_india_2022_preview(name, partner, kind, values):
    raw, made_up_values = recorded(name)
    recorded_url = json.loads(raw)["url"]  # the SDK's wrapper key, tolerated by parse
    req = request(
        "https://comtradeapi.un.org/public/v1/preview/C/A/HS", "A", date(2022, 1, 1),
        date(2022, 12, 1), reporter="IND", maxRecords="5",
        partnerCode=recorded_url.split("partnerCode=")[1].split("&")[0],
    )
    (row,) = comtrade.parse(raw, req).to_dicts()
    assert (row["reporter"], row["partner"], row["partner_kind"]) == ("IND", partner, kind)
    assert (row["flow"], row["valuation"], row["value"]) == ("X", "FOB", values[made_up_values])
    # isReported false, legacyEstimationFlag 4
    assert row["status"] == "estimated"
    assert row["release"] == "UN Comtrade API v1 C/A/HS (classification H6)"


def test_parse_trade_matrix_germany_to_france():
    body, made_up_values = recorded("getTradeMatrix_C_A_TM_r280-276_p251-250_X_2023_TOTAL.json")
    req = request(
        "https://comtradeapi.un.org/data/v1/getTradeMatrix/C/A/TM", "A", date(2023, 1, 1),
        date(2023, 12, 1), flowCode="X", partnerCode="251,250", reporterCode="280,276",
    )
    (row,) = comtrade.parse(body, req).to_dicts()
    # reporterCode 276 "DEU", partnerCode 251 "FRA" (France with Monaco), primaryValue in the file
    value = (130336161906.531, 100000000000.125)[made_up_values]
    assert (row["reporter"], row["partner"]) == ("DEU", "FRA")
    assert (row["flow"], row["valuation"], row["value"]) == ("X", "FOB", value)
    assert row["status"] == "estimated"  # isReported false (converted to SS)
    assert row["release"] == "UN Comtrade API v1 C/A/SS (classification SS)"


def test_parse_empty_answer_is_an_empty_frame():
    body, _ = recorded("get_S_A_EB_r156_2010_empty.json")
    req = request(
        "https://comtradeapi.un.org/data/v1/get/S/A/EB", "A", date(2010, 1, 1), date(2010, 12, 1),
        reporter="CHN",
    )
    frame = comtrade.parse(body, req)
    assert frame.height == 0
    assert frame.schema == pl.Schema(OBSERVATION_SCHEMA)


def test_missing_key_401_is_an_auth_error_and_a_parse_error(httpserver, monkeypatch):
    body = missing_key_body(REAL)  # recorded, else the double's reconstruction of the sentence
    settings = env_settings(monkeypatch, base=httpserver.url_for("/comtrade"))  # no key
    # The recorded exchange (PROVENANCE.md): GET data/v1/get/C/A/HS?cmdCode=TOTAL&reporterCode=156
    # &period=2020 without a key answered 401 with this body.
    req = request(
        f"{settings.base_url('comtrade')}/data/v1/get/C/A/HS", "A", date(2020, 1, 1),
        date(2020, 12, 1), reporter="CHN", reporterCode="156", period="2020",
    )
    httpserver.expect_request("/comtrade/data/v1/get/C/A/HS").respond_with_data(
        body, status=401, content_type="application/json",
        headers={"WWW-Authenticate": 'AzureApiManagementKey realm="comtradeapi"'},
    )
    client = HttpClient(settings, comtrade.NAME, headers=comtrade.headers(settings))
    try:
        with pytest.raises(AuthError, match="HTTP 401"):
            client.get(req)
    finally:
        client.close()
    assert "Ocp-Apim-Subscription-Key" not in httpserver.log[0][0].headers
    with pytest.raises(ParseError, match="subscription key") as info:
        comtrade.parse(body, req)
    assert "TRADE_IMBALANCE_COMTRADE_API_KEY" in str(info.value)


def test_keyed_fetch_through_the_http_layer(httpserver, monkeypatch):
    body, made_up_values = recorded("get_C_A_HS_r156_p32-280-276_2010_TOTAL.json")
    settings = env_settings(monkeypatch, base=httpserver.url_for("/comtrade"), key="test-key")
    (req,) = comtrade.plan(
        context(settings, partners=("ARG", "DEU"), start=date(2010, 1, 1), end=date(2010, 12, 1),
                comtrade_frequency="A")
    )
    assert req.url == httpserver.url_for("/comtrade/data/v1/get/C/A/HS")
    httpserver.expect_request(
        "/comtrade/data/v1/get/C/A/HS",
        query_string=req.params,
        headers={"Ocp-Apim-Subscription-Key": "test-key"},
    ).respond_with_data(body, content_type="application/json")
    client = HttpClient(settings, comtrade.NAME, headers=comtrade.headers(settings))
    try:
        fetched = client.get(req)
    finally:
        client.close()
    httpserver.check_assertions()
    rows = rows_by(comtrade.parse(fetched.body, req), "partner", "flow")
    # primaryValue, China imports from ARG
    assert rows[("ARG", "M")]["value"] == CHINA_2010[("ARG", "M")][made_up_values]


# ------------------------------------------------------------------------------------------
# monthly: real rows in a reconstructed v1 envelope (MADE-UP rows without shared/)

#: (recorded, MADE-UP stand-in) values checked in the monthly file.
MONTHLY_2021 = {
    "rows": (1202, 60),  # every record is a total; none dropped (made up: 5 reporters × 12)
    # China (156) primaryValue: 202101 = 263633235503.0, 202102 = 204513895257.0 (separate
    # months here, unlike GACC's combined Jan-Feb)
    ("CHN", 1): (263633235503.0, 201e9), ("CHN", 2): (204513895257.0, 202e9),
    ("IND", 1): (27500549438.864, 25100000000.5),  # reporterCode 699
    ("VNM", 1): (28545770525.0, 28010000000.0),  # 704
    ("USA", 1): (127476378280.0, 120500000000.0),  # 842
}  # fmt: skip


def test_monthly_2021_rebuilt_from_real_rows():
    path = recording_or_sample(comtrade_builder.MONTHLY_2021)
    which = is_made_up(path)
    records = list(monthly_records(path))
    # Values real (or made up); the envelope is reconstructed (the CSV kept only the records).
    payload = {"elapsedTime": "reconstructed", "count": len(records), "data": records, "error": ""}
    req = request(
        "https://comtradeapi.un.org/data/v1/get/C/M/HS", "M", date(2021, 1, 1), date(2021, 12, 1),
        flowCode="X", partnerCode="0", breakdownMode="classic", includeDesc="True",
        period=",".join(f"2021{m:02d}" for m in range(1, 13)),
    )
    frame = comtrade.parse(json.dumps(payload).encode(), req)
    assert frame.height == MONTHLY_2021["rows"][which]
    assert set(frame["partner"]) == {"WLD"} and set(frame["flow"]) == {"X"}
    rows = rows_by(frame, "reporter", "period_start")
    for reporter, month in (k for k in MONTHLY_2021 if k != "rows"):
        assert rows[(reporter, date(2021, month, 1))]["value"] == MONTHLY_2021[(reporter, month)][which]
    assert ("NOR", date(2021, 1, 1)) in rows  # reporterCode 579 (ISO numeric would be 578)
    china = frame.filter(pl.col("reporter") == "CHN").sort("period_start")
    assert china["period_start"].to_list() == [date(2021, m, 1) for m in range(1, 13)]
    assert china["period_end"].to_list() == china["period_start"].to_list()
    assert set(china["months"]) == {1} and set(china["period_type"]) == {"month"}
    assert set(china["status"]) == {"estimated"}  # isReported False, legacyEstimationFlag 4
    assert set(china["release"]) == {"UN Comtrade API v1 C/M/HS (classification H5)"}


def test_made_up_stand_ins_are_current_and_consistent():
    """The files in tests/fixtures/comtrade/ are what tests/builders/comtrade.py writes, every
    record has exactly a real record's keys, and the totals hold together."""
    real_keys = list(comtrade_builder.made_up_record(156, 0, "X", "2010", 1.0))
    for name, (_recording, build) in comtrade_builder.FIXTURES.items():
        body = (comtrade_builder.FIXTURE_DIR / name).read_bytes()
        assert body == build(), f"{name} is stale: run uv run python -m tests.builders.comtrade"
        assert "_made_up" in name
        if name.endswith(".json") and b'"typeCode"' in body and b"rowKey" not in body:
            payload = json.loads(body)
            assert payload["count"] == len(payload["data"]) > 0
            assert all(list(record) == real_keys for record in payload["data"]), name
            assert {r["reporterDesc"] for r in payload["data"]} == {"made up"}
    india = comtrade_builder.INDIA_2022
    assert india[842] < india[0]  # the USA below the World
    bulk = comtrade_builder.BULK_2000
    assert bulk[0] >= sum(v for partner, v in bulk.items() if partner != 0)


# ------------------------------------------------------------------------------------------
# totals, breakdowns and duplicates (MADE-UP fixture)


def test_breakdowns_beside_totals_keep_only_the_totals():
    frame = parse_made_up(made_up())
    rows = rows_by(frame, "flow")
    assert frame.height == 4
    # The X total is 1000 (made up); its breakdowns (300 + 700 + 400 + 50) are not added.
    assert rows["X"]["value"] == 1000.0 and rows["X"]["valuation"] == "FOB"
    assert rows["M"]["value"] == 800.0 and rows["M"]["valuation"] == "CIF"
    assert rows["RX"]["value"] == 20.0 and rows["RX"]["valuation"] == "FOB"
    assert rows["RM"]["value"] == 5.0 and rows["RM"]["valuation"] == "CIF"
    assert set(frame["partner"]) == {"USA"}
    assert set(frame["period_start"]) == {date(2021, 3, 1)}


def test_two_total_records_for_one_key_are_a_duplicate():
    payload = made_up()
    extra = copy.deepcopy(payload["data"][0])
    extra["primaryValue"] = extra["fobvalue"] = 999.0
    payload["data"].append(extra)
    payload["count"] += 1
    with pytest.raises(ParseError, match="duplicate total records"):
        parse_made_up(payload)


def test_breakdowns_without_their_total_are_an_error():
    payload = made_up()
    payload["data"] = [r for r in payload["data"] if not (r["flowCode"] == "X" and r["motCode"] == 0
                                                         and r["customsCode"] == "C00"
                                                         and r["partner2Code"] == 0)]
    payload["count"] = len(payload["data"])
    with pytest.raises(ParseError, match="no total record"):
        parse_made_up(payload)


# ------------------------------------------------------------------------------------------
# row caps (generated, MADE-UP payloads)


def _generated_rows(n: int) -> list[dict]:
    template = made_up()["data"][0]
    rows = []
    for i in range(n):
        row = dict(template, partnerCode=i % 2, partnerISO=None)
        rows.append(row)
    return rows


def test_preview_with_500_records_hit_the_cap():
    rows = _generated_rows(500)  # made up: the content does not matter, the count does
    req = request(f"{BASE}/public/v1/preview/C/M/HS", "M", date(2021, 3, 1), date(2021, 3, 1))
    body = json.dumps({"elapsedTime": "0", "count": 500, "data": rows, "error": ""}).encode()
    with pytest.raises(ParseError, match="row cap reached: result possibly truncated"):
        comtrade.parse(body, req)


def test_data_api_with_100000_records_hit_the_cap():
    body = json.dumps({"count": 100000, "data": [{}] * 100000, "error": ""}).encode()  # made up
    with pytest.raises(ParseError, match="row cap reached"):
        comtrade.parse(body, MADE_UP_REQUEST)


def test_max_records_param_is_a_cap():
    payload = made_up()  # 9 records
    req = request(MADE_UP_REQUEST.url, "M", date(2021, 3, 1), date(2021, 3, 1), maxRecords="9")
    with pytest.raises(ParseError, match="row cap reached"):
        parse_made_up(payload, req)


# ------------------------------------------------------------------------------------------
# malformed payloads (MADE-UP)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"<html>not json</html>", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"count": 0, "error": ""}', "no 'data' list"),
        (b'{"count": 0, "data": [], "error": "Bad request (made up)"}', "publisher reported"),
        (b'{"statusCode": 500, "message": "made up"}', "statusCode 500"),
        (b'{"count": 3, "data": [], "error": ""}', "'count' is 3"),
    ],
)
def test_malformed_bodies_raise_parse_error(body, problem):
    with pytest.raises(ParseError, match=problem) as info:
        comtrade.parse(body, MADE_UP_REQUEST)
    assert info.value.source == "comtrade" and "data/v1/get/C/M/HS" in info.value.request


def _with_first(changes: dict, index: int = 0) -> dict:
    """The made-up fixture with record ``index`` (default: the X total) changed."""
    payload = made_up()
    payload["data"][index].update(changes)
    return payload


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"flowCode": "ZZ"}, "unexpected flowCode 'ZZ'"),
        ({"cmdCode": "0306"}, "was not requested"),
        ({"cmdCode": 306}, "not a string"),
        ({"primaryValue": None}, "primaryValue is None"),
        ({"primaryValue": -5.0}, "negative"),
        ({"refMonth": 4}, "inconsistent"),
        ({"refMonth": 4, "period": "202104", "refPeriodId": 20210401}, "outside the requested"),
        ({"freqCode": "A"}, "freqCode"),
        ({"reporterCode": 704, "reporterISO": "VNM"}, "request was for CHN"),
        ({"partnerISO": "CAN"}, "expected"),
        ({"isReported": None}, "lacks 'isReported'"),
        ({"motCode": None}, "lacks 'motCode'"),
    ],
)
def test_bad_records_raise_parse_error(changes, problem):
    with pytest.raises(ParseError, match=problem):
        parse_made_up(_with_first(changes))


def test_unknown_partner_code_raises_unknown_code_error():
    with pytest.raises(UnknownCodeError, match="'999'"):
        parse_made_up(_with_first({"partnerCode": 999, "partnerISO": None}))


def test_former_west_germany_is_kept_apart_from_germany():
    rx = 7  # the RX total, which has no breakdown records
    assert made_up()["data"][rx]["flowCode"] == "RX"
    frame = parse_made_up(_with_first({"partnerCode": 280, "partnerISO": "DEU"}, index=rx))
    rows = rows_by(frame, "flow")
    assert (rows["RX"]["partner"], rows["RX"]["partner_kind"]) == ("COMTRADE_280", "aggregate")
    assert rows["X"]["partner"] == "USA"


def test_plan_skips_aggregate_reporters_of_other_publishers():
    requests = comtrade.plan(context(Settings(), reporters=("EU27_2020", "CHN")))
    assert {r.reporter for r in requests} == {"CHN"}
