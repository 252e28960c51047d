"""ECB EXR monthly reference rates: plan, SDMX-JSON and SDMX-ML 2.1 parsers, USD conversion rule.

Real payloads (read from ../shared/data/real, or without it from their byte copies bundled in
``tests/fixtures/ecb/sample/``: ECB statistics, reuse with attribution, see the NOTICE there):
* ``gacc_html/ecb_cny_eur_monthly.json`` — SDMX-JSON, ``M.CNY.EUR.SP00.A``, 2025-10 … 2026-04
  (described in docs/gacc_pages.md §5);
* ``ecb/exr_M.USD.EUR.SP00.A_sdmxml21_generic_1999-01_2019-12.xml`` — SDMX-ML 2.1 GenericData,
  USD per EUR, 1999-01 … 2019-12 (PROVENANCE.md, ecb/).
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest
import requests

from flows.archive import Archive
from flows.fetch import SourceOutcome, fetch_source
from flows.http import HttpClient
from flows.schema import FX_SCHEMA
from flows.scope import RunScope
from flows.settings import get_settings
from flows.sources import ecb, target_of
from flows.sources.base import (
    Answer,
    FetchRequest,
    MissingRelease,
    NotYetReleased,
    ParseError,
    PlanContext,
    RequestRefused,
)
from tests.conftest import real_file, recording_or_sample
from tests.double import StrictPublishers
from tests.double import ecb as ecb_double
from tests.recorded_server import point_publishers_at

CNY_JSON = "gacc_html/ecb_cny_eur_monthly.json"
USD_XML = "ecb/exr_M.USD.EUR.SP00.A_sdmxml21_generic_1999-01_2019-12.xml"

REQUEST = FetchRequest(
    source="ecb",
    url="https://data-api.ecb.europa.eu/service/data/EXR/M.CNY.EUR.SP00.A",
    params={"format": "jsondata", "startPeriod": "2025-10", "endPeriod": "2026-04"},
    expect="json",
)
#: The request the recorded USD file answers (its key is ``M.USD.EUR.SP00.A``).
USD_REQUEST = FetchRequest(
    source="ecb",
    url="https://data-api.ecb.europa.eu/service/data/EXR/M.USD.EUR.SP00.A",
    params={"format": "jsondata", "startPeriod": "1999-01", "endPeriod": "2019-12"},
    expect="json",
)


@pytest.fixture()
def cny_json() -> bytes:
    """The recording, or its byte copy bundled in ``tests/fixtures/ecb/sample/``."""
    return recording_or_sample(CNY_JSON).read_bytes()


@pytest.fixture()
def usd_xml() -> bytes:
    """The recording, or its byte copy bundled in ``tests/fixtures/ecb/sample/``."""
    return recording_or_sample(USD_XML).read_bytes()


def _rates(frame: pl.DataFrame, currency: str) -> dict[date, float]:
    return {
        r["period_start"]: r["rate"]
        for r in frame.filter(pl.col("currency") == currency).iter_rows(named=True)
    }


# ------------------------------------------------------------------------------ SDMX-JSON
def test_parse_real_json_cny_per_eur(cny_json: bytes):
    frame = ecb.parse(cny_json, REQUEST)
    assert frame.schema == FX_SCHEMA
    rates = _rates(frame, "CNY")
    # dataSets[0].series["0:0:0:0:0"].observations["0".."6"][0] in the recorded file, with
    # TIME_PERIOD structure.dimensions.observation[0].values[0..6] = 2025-10 … 2026-04
    assert rates == {
        date(2025, 10, 1): 8.281034782608698,
        date(2025, 11, 1): 8.214915,
        date(2025, 12, 1): 8.249061904761906,
        date(2026, 1, 1): 8.180647619047619,
        date(2026, 2, 1): 8.16815,
        date(2026, 3, 1): 7.970263636363637,
        date(2026, 4, 1): 8.000470000000002,
    }
    # the same figures rounded half-up to 5 decimals are the table in docs/gacc_pages.md §5
    five = Decimal("0.00001")
    assert [str(Decimal(str(rates[d])).quantize(five, ROUND_HALF_UP)) for d in sorted(rates)] == [
        "8.28103", "8.21492", "8.24906", "8.18065", "8.16815", "7.97026", "8.00047",
    ]
    assert set(frame["series"]) == {"EXR.M.CNY.EUR.SP00.A"}
    assert set(frame["base"]) == {"EUR"} and set(frame["source"]) == {"ecb"}
    assert frame["vintage"].null_count() == frame.height


def _edit_json(body: bytes, edit) -> bytes:
    data = json.loads(body)
    edit(data)
    return json.dumps(data).encode()


def _series_dim(data: dict, dim_id: str) -> dict:
    return next(d for d in data["structure"]["dimensions"]["series"] if d["id"] == dim_id)


def test_json_wrong_denominator_is_rejected(cny_json: bytes):
    # hand-edited copy of the real file: CURRENCY_DENOM EUR → USD (a CNY per USD series)
    def edit(data):
        _series_dim(data, "CURRENCY_DENOM")["values"][0]["id"] = "USD"

    with pytest.raises(ParseError, match="CURRENCY_DENOM is 'USD', expected 'EUR'") as info:
        ecb.parse(_edit_json(cny_json, edit), REQUEST)
    assert str(info.value).startswith("ecb: GET https://data-api.ecb.europa.eu/service/data/EXR/")


@pytest.mark.parametrize(
    ("dim_id", "value"), [("FREQ", "D"), ("EXR_TYPE", "EN00"), ("EXR_SUFFIX", "E")]
)
def test_json_other_series_are_rejected(cny_json: bytes, dim_id: str, value: str):
    def edit(data):
        _series_dim(data, dim_id)["values"][0]["id"] = value

    with pytest.raises(ParseError, match=f"{dim_id} is '{value}'"):
        ecb.parse(_edit_json(cny_json, edit), REQUEST)


def test_json_unit_multiplier_must_be_units(cny_json: bytes):
    def edit(data):
        attributes = data["structure"]["attributes"]["series"]
        unit_mult = next(a for a in attributes if a["id"] == "UNIT_MULT")
        unit_mult["values"][0]["id"] = "3"

    with pytest.raises(ParseError, match="UNIT_MULT is '3'"):
        ecb.parse(_edit_json(cny_json, edit), REQUEST)


@pytest.mark.parametrize("bad", [0, -8.2, "abc"])
def test_json_non_positive_or_non_numeric_rate_is_rejected(cny_json: bytes, bad):
    def edit(data):
        data["dataSets"][0]["series"]["0:0:0:0:0"]["observations"]["5"][0] = bad

    with pytest.raises(ParseError, match="2026-03: rate"):
        ecb.parse(_edit_json(cny_json, edit), REQUEST)


def test_json_missing_value_gives_no_row(cny_json: bytes):
    def edit(data):
        data["dataSets"][0]["series"]["0:0:0:0:0"]["observations"]["5"][0] = None

    rates = _rates(ecb.parse(_edit_json(cny_json, edit), REQUEST), "CNY")
    assert date(2026, 3, 1) not in rates and len(rates) == 6


def test_json_structural_problems(cny_json: bytes):
    def bad_index(data):
        series = data["dataSets"][0]["series"]
        series["0:0:0:0:0"]["observations"]["9"] = [8.0, 0, 0, None, None]

    with pytest.raises(ParseError, match="not a TIME_PERIOD index"):
        ecb.parse(_edit_json(cny_json, bad_index), REQUEST)

    def no_series(data):
        data["dataSets"][0]["series"] = {}

    with pytest.raises(ParseError, match="no exchange-rate observations"):
        ecb.parse(_edit_json(cny_json, no_series), REQUEST)
    with pytest.raises(ParseError, match="not valid JSON"):
        ecb.parse(cny_json[:200], REQUEST)
    with pytest.raises(ParseError, match="not an SDMX-JSON data message"):
        ecb.parse(b'{"error": "nope"}', REQUEST)
    with pytest.raises(ParseError, match="neither SDMX-JSON nor SDMX-ML"):
        ecb.parse(b"No results found.", REQUEST)


# ------------------------------------------------------------------- SDMX-ML 2.1 GenericData
def test_parse_real_generic_xml_usd_per_eur(usd_xml: bytes):
    frame = ecb.parse(usd_xml, USD_REQUEST)
    assert frame.schema == FX_SCHEMA
    rates = _rates(frame, "USD")
    assert frame.height == len(rates) == 252  # 1999-01 … 2019-12, every month once
    assert min(rates) == date(1999, 1, 1) and max(rates) == date(2019, 12, 1)
    # <generic:ObsDimension value="1999-01"/><generic:ObsValue value="1.16078"/>, etc.
    assert rates[date(1999, 1, 1)] == 1.16078
    assert rates[date(1999, 3, 1)] == 1.088295652173913  # full precision despite DECIMALS=4
    assert rates[date(2019, 12, 1)] == 1.111345
    assert set(frame["series"]) == {"EXR.M.USD.EUR.SP00.A"}


@pytest.mark.parametrize(
    ("old", "new", "pattern"),
    [
        (b'id="CURRENCY_DENOM" value="EUR"', b'id="CURRENCY_DENOM" value="GBP"',
         "CURRENCY_DENOM is 'GBP'"),
        (b'id="UNIT_MULT" value="0"', b'id="UNIT_MULT" value="6"', "UNIT_MULT is '6'"),
        (b'id="EXR_SUFFIX" value="A"', b'id="EXR_SUFFIX" value="E"', "EXR_SUFFIX is 'E'"),
        (b'<generic:ObsValue value="1.111345"/>', b'<generic:ObsValue value="-1.111345"/>',
         "2019-12: rate"),
        (b'<generic:ObsDimension value="2019-12"/>', b'<generic:ObsDimension value="2019-12-31"/>',
         "not a month"),
    ],
)
def test_generic_xml_bad_inputs(usd_xml: bytes, old: bytes, new: bytes, pattern: str):
    assert old in usd_xml  # hand-edited copies of the real file
    with pytest.raises(ParseError, match=pattern):
        ecb.parse(usd_xml.replace(old, new, 1), USD_REQUEST)


def test_generic_xml_nan_is_missing_not_zero(usd_xml: bytes):
    edited = usd_xml.replace(
        b'<generic:ObsValue value="1.111345"/>', b'<generic:ObsValue value="NaN"/>'
    )
    rates = _rates(ecb.parse(edited, USD_REQUEST), "USD")
    assert len(rates) == 251 and date(2019, 12, 1) not in rates


def test_other_xml_is_rejected(usd_xml: bytes, real_data: Path):
    with pytest.raises(ParseError, match="not well-formed XML"):
        ecb.parse(usd_xml[:5000], USD_REQUEST)
    imts = real_file(real_data, "imf/imts_sdmx3_data_USA_XG_FOB_USD_G001+G998_A_2023-2024.xml")
    with pytest.raises(ParseError, match="expected SDMX-ML 2.1 GenericData"):
        ecb.parse(imts.read_bytes(), USD_REQUEST)


# ---------------------------------------------------------------------------------------- plan
def _ctx(**kw) -> PlanContext:
    def no_fetch(request):
        raise AssertionError(f"ecb.plan fetched {request.url}")

    values = {
        "settings": get_settings(),
        "reporters": ("CHN",),
        "partners": (),
        "period_start": date(2025, 10, 1),
        "period_end": date(2026, 4, 1),
        "fetch": no_fetch,
        "options": {},
    }
    values.update(kw)
    return PlanContext(**values)


def test_plan_url_from_configured_base(monkeypatch):
    monkeypatch.setenv("TRADE_IMBALANCE_ECB_BASE_URL", "http://127.0.0.1:9/ecb/service/")
    get_settings.cache_clear()
    usd, cny = ecb.plan(_ctx())
    assert usd.url == "http://127.0.0.1:9/ecb/service/data/EXR/M.USD.EUR.SP00.A"
    assert cny.url == "http://127.0.0.1:9/ecb/service/data/EXR/M.CNY.EUR.SP00.A"
    request = usd
    assert request.params == {
        "format": "jsondata",
        "startPeriod": "2025-10",
        "endPeriod": "2026-04",
    }
    assert (request.source, request.expect) == ("ecb", "any")
    assert ecb.TARGET == target_of(ecb) == "fx_rates"


def test_plan_currency_option():
    requests = ecb.plan(_ctx(options={"fx_currencies": ["cny", "INR", "CNY", "VND"]}))
    assert [r.url.rsplit("/", 1)[1] for r in requests] == [
        "M.CNY.EUR.SP00.A", "M.INR.EUR.SP00.A", "M.VND.EUR.SP00.A"
    ]
    with pytest.raises(ValueError, match="base currency"):
        ecb.plan(_ctx(options={"fx_currencies": ["USD", "EUR"]}))
    with pytest.raises(ValueError, match="not an ISO 4217"):
        ecb.plan(_ctx(options={"fx_currencies": ["US$"]}))


def test_plan_fetch_parse_through_loopback(httpserver, monkeypatch, cny_json: bytes):
    monkeypatch.setenv("TRADE_IMBALANCE_ECB_BASE_URL", httpserver.url_for("/service"))
    get_settings.cache_clear()
    (request,) = ecb.plan(_ctx(options={"fx_currencies": ["CNY"]}))
    httpserver.expect_request(
        "/service/data/EXR/M.CNY.EUR.SP00.A",
        query_string={"format": "jsondata", "startPeriod": "2025-10", "endPeriod": "2026-04"},
    ).respond_with_data(cny_json, content_type="application/json")
    client = HttpClient(get_settings(), "ecb")
    try:
        fetched = client.get(request)
    finally:
        client.close()
    rates = _rates(ecb.parse(fetched.body, fetched.request), "CNY")
    assert rates[date(2026, 3, 1)] == 7.970263636363637


# ------------------------------------------------------------------- USD conversion (DuckDB)
def test_usd_conversion_sql_rule(usd_xml: bytes, cny_json: bytes):
    fx = pl.concat([ecb.parse(usd_xml, USD_REQUEST), ecb.parse(cny_json, REQUEST)])
    # MADE-UP USD per EUR rate for 2026-03, only to exercise the non-EUR branch: the recorded
    # USD file ends in 2019-12, so no real USD/EUR rate exists for that month here.
    made_up = pl.DataFrame(
        [{"source": "ecb", "currency": "USD", "base": "EUR", "period_start": date(2026, 3, 1),
          "rate": 1.25, "series": "MADE-UP", "vintage": None}],
        schema=FX_SCHEMA,
    )
    # MADE-UP observation values (illustrative), one per branch of the rule
    observations = pl.DataFrame(
        {
            "key": ["eur", "usd", "cny_no_rate", "cny"],
            "value": [1_000_000.0, 5_000.0, 7_000.0, 7_970_263.636363637],
            "currency": ["EUR", "USD", "CNY", "CNY"],
            "period_start": [date(2019, 12, 1)] * 3 + [date(2026, 3, 1)],
        }
    )
    con = duckdb.connect()
    try:
        con.execute("CREATE SCHEMA raw")
        con.register("fx_frame", pl.concat([fx, made_up]).to_arrow())
        con.execute("CREATE TABLE raw.fx_rates AS SELECT *, 'x' AS payload_sha256 FROM fx_frame")
        con.register("o", observations.to_arrow())
        result = con.sql(
            f"""
            SELECT o.key, {ecb.USD_CONVERSION_SQL} AS value_usd
            FROM o
            LEFT JOIN (SELECT period_start, rate AS usd_per_eur FROM raw.fx_rates
                       WHERE currency = 'USD' AND base = 'EUR') u USING (period_start)
            LEFT JOIN (SELECT period_start, currency, rate AS ccy_per_eur FROM raw.fx_rates
                       WHERE base = 'EUR') c USING (period_start, currency)
            """
        ).fetchall()
    finally:
        con.close()
    usd = dict(result)
    # EUR 1,000,000 (made up) in 2019-12 at the REAL 1.111345 USD per EUR = USD 1,111,345
    assert usd["eur"] == pytest.approx(1_111_345.0, rel=1e-12)
    assert usd["usd"] == 5_000.0  # USD passes through unchanged
    assert usd["cny_no_rate"] is None  # no CNY rate for 2019-12 in the recorded files: NULL
    # CNY 7,970,263.64 (made up) / real 7.970263636363637 CNY per EUR × made-up 1.25 USD per EUR
    assert usd["cny"] == pytest.approx(1_000_000.0 * 1.25, rel=1e-12)


# ------------------------------------------------------------------ answers (interpret)
NO_RESULTS = (  # the ECB's 404 body as quoted in expersso/ecb issue #7 (2025-05-27)
    b'{"type":"/service/data/EXR/M.USD.EUR.SP00.A","title":"Not Found","status":404,'
    b'"detail":"No results found.","instance":"/service/data/EXR/M.USD.EUR.SP00.A"}'
)


def _answer(status: int, body: bytes, today: date) -> Answer:
    request = dataclasses.replace(REQUEST, period_start=date(2026, 4, 1),
                                  period_end=date(2026, 4, 1))
    return Answer(request, request.describe(), status, {"Content-Type": "application/json"},
                  body, today=today)


def test_interpret_no_results_by_the_release_calendar():
    # April 2026's average is expected 3 May (+2 days' grace): not yet on 4 May, missing on 10 May
    for status, body in ((404, NO_RESULTS), (200, b"")):
        early = ecb.interpret(_answer(status, body, date(2026, 5, 4)))
        assert isinstance(early, NotYetReleased) and early.period == date(2026, 4, 1)
        late = ecb.interpret(_answer(status, body, date(2026, 5, 10)))
        assert isinstance(late, MissingRelease)
    assert "No results found." in str(ecb.interpret(_answer(404, NO_RESULTS, date(2026, 5, 10))))
    assert ecb.interpret(_answer(200, b"{}", date(2026, 5, 10))) is None  # for the parser


def test_interpret_keeps_the_ecbs_message():
    body = b'{"status":400,"title":"Bad Request","detail":"Invalid value for format: json"}'
    error = ecb.interpret(_answer(400, body, date(2026, 5, 10)))
    assert isinstance(error, RequestRefused) and error.status == 400
    assert error.message == "Invalid value for format: json"
    spring = b'{"timestamp":"2025-03-03T11:46:26","status":404,"error":"Not Found","path":"/x/"}'
    error = ecb.interpret(_answer(404, spring, date(2026, 5, 10)))
    assert isinstance(error, RequestRefused) and error.message == "Not Found"
    assert ecb.interpret(_answer(503, b"", date(2026, 5, 10))) is None


# ------------------------------------------------------------------------- the strict double
TODAY = date(2026, 5, 15)


@pytest.fixture
def strict(httpserver, monkeypatch):
    handler = StrictPublishers()
    point_publishers_at(httpserver, handler, monkeypatch)
    handler.handlers["ecb"].today = TODAY
    yield handler
    get_settings.cache_clear()


def _fetch(scope: RunScope, tmp_path) -> SourceOutcome:
    settings = get_settings().model_copy(update={"today": TODAY})
    return fetch_source("ecb", scope, settings, Archive(tmp_path / "raw"))


def test_refresh_against_the_strict_double(strict, tmp_path):
    outcome = _fetch(RunScope(period_start=date(2025, 1, 1), period_end=date(2026, 3, 1)),
                     tmp_path)
    assert strict.refused == []
    assert outcome.ok, outcome.line()
    # USD: MADE-UP rates for 2025-01..2026-03 (15 months; the recording ends in 2019);
    # CNY: the recorded JSON as recorded (7 months, 2025-10..2026-04).
    assert outcome.rows_parsed == 15 + 7


def test_made_up_rates_are_labelled(strict):
    url = get_settings().base_url("ecb") + "/data/EXR/M.USD.EUR.SP00.A"
    response = requests.get(url, params={"format": "jsondata", "startPeriod": "2026-03",
                                         "endPeriod": "2026-03"}, timeout=10)
    assert response.headers["X-Test-Double"] == "made-up values"
    assert b"MADE-UP" in response.content
    rates = _rates(ecb.parse(response.content, USD_REQUEST), "USD")
    assert rates == {date(2026, 3, 1): ecb_double.made_up_rate("USD", 2026, 3)}


def test_double_reencodes_recorded_usd_rates_as_json(strict):
    url = get_settings().base_url("ecb") + "/data/EXR/M.USD.EUR.SP00.A"
    response = requests.get(url, params={"format": "jsondata", "startPeriod": "1999-01",
                                         "endPeriod": "1999-03"}, timeout=10)
    assert response.headers["X-Test-Double"] == "recorded values, re-encoded"
    rates = _rates(ecb.parse(response.content, USD_REQUEST), "USD")
    # real ECB values of the recorded SDMX-ML file (PROVENANCE.md: 1999-01 = 1.16078)
    assert rates[date(1999, 1, 1)] == 1.16078
    assert rates[date(1999, 3, 1)] == 1.088295652173913


def test_month_not_yet_released(strict, tmp_path):
    outcome = _fetch(RunScope(period_start=date(2026, 5, 1), period_end=date(2026, 5, 1),
                              options={"fx_currencies": ["USD"]}), tmp_path)
    assert outcome.ok and outcome.rows_parsed == 0, outcome.line()
    assert outcome.not_released == ["2026-05"]
    assert strict.refused == []


def test_malformed_request_fails_with_the_ecbs_message(strict, tmp_path, monkeypatch):
    original = ecb.plan

    def plan_with_short_key(ctx):  # drops EXR_SUFFIX: four positions instead of five
        return [dataclasses.replace(r, url=r.url.removesuffix(".A")) for r in original(ctx)]

    monkeypatch.setattr(ecb, "plan", plan_with_short_key)
    outcome = _fetch(RunScope(period_start=date(2026, 1, 1), period_end=date(2026, 3, 1),
                              options={"fx_currencies": ["USD"]}), tmp_path)
    assert not outcome.ok
    assert "HTTP 400: the ECB refused the request: The key M.USD.EUR.SP00 has 4 dimensions" in (
        outcome.errors[0]
    )
    assert len(strict.refused) == 1


def test_double_refuses_unknown_parameters_and_codes(strict):
    base = get_settings().base_url("ecb") + "/data/EXR/"
    cases = [
        ("M.USD.EUR.SP00.A", {"start": "2025-01"}, "Unknown parameter: start"),
        ("M.USD.EUR.SP00.A", {"startPeriod": "Jan 2025"}, "Invalid value for startPeriod: Jan 2025"),
        ("M.USD.EUR.SP00.A", {"format": "json"}, "Invalid value for format: json"),
        ("M.US.EUR.SP00.A", {}, "Invalid code US for dimension CURRENCY"),
    ]
    for key, params, detail in cases:
        response = requests.get(base + key, params=params, timeout=10)
        assert response.status_code == 400
        assert response.json()["detail"] == detail
    assert len(strict.refused) == len(cases)


def test_an_answer_for_another_currency_is_rejected(cny_json: bytes):
    """Issue 12: the recorded CNY answer served for a USD request must not load as USD rates."""
    with pytest.raises(ParseError, match=r"series M\.CNY\.EUR\.SP00\.A: CURRENCY is 'CNY', "
                                         r"expected 'USD' \(the request's key\)"):
        ecb.parse(cny_json, dataclasses.replace(REQUEST, url=USD_REQUEST.url))
    assert ecb.requested_key(REQUEST)["CURRENCY"] == frozenset({"CNY"})
