"""IMF IMTS (SDMX 3.0) publisher module: plan, parser, SCALE trap, staging model.

Real payloads (read from ../shared/data/real, never copied):
* ``imf/imts_sdmx3_data_USA_XG_FOB_USD_G001+G998_A_2023-2024.xml`` — SDMX-ML 3.0
  StructureSpecificData, US exports FOB to G001 and G998, annual 2023–2024;
* ``imf/dot_compactdata_A_US_TXG_FOB_USD_W00+B0_2020-2023.json`` — the retired DOT API, same
  figures in millions of USD (``@UNIT_MULT="6"``).
Without ``shared/`` (a plain clone) the same tests run on their MADE-UP stand-ins
(``tests/fixtures/imf/*_made_up*``, the recordings' exact layouts, written by
``tests/builders/imf.py``) and assert the made-up figures instead (:class:`Annual`).
The monthly fixture ``tests/fixtures/imf/imts_sdmx3_monthly_CHN_ILLUSTRATIVE.xml`` is hand-written
with MADE-UP numbers (it says so in its header comment).
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import duckdb
import polars as pl
import pytest
import requests

from flows.archive import Archive
from flows.fetch import SourceOutcome, fetch_source
from flows.http import HttpClient
from flows.reference import UnknownCodeError
from flows.schema import OBSERVATION_SCHEMA
from flows.scope import RunScope
from flows.settings import Settings, get_settings
from flows.sources import imf
from flows.sources.base import (
    Answer,
    FetchError,
    FetchRequest,
    MissingRelease,
    NotYetReleased,
    ParseError,
    PlanContext,
    RequestRefused,
)
from flows.warehouse import create_raw_tables, load_observations
from tests.builders import imf as imf_builder
from tests.conftest import ROOT, recording_or_sample
from tests.double import StrictPublishers, is_made_up
from tests.double import imf as imf_double
from tests.recorded_server import point_publishers_at

IMTS_XML = "imf/imts_sdmx3_data_USA_XG_FOB_USD_G001+G998_A_2023-2024.xml"
DOT_JSON = "imf/dot_compactdata_A_US_TXG_FOB_USD_W00+B0_2020-2023.json"
MONTHLY_FIXTURE = ROOT / "tests" / "fixtures" / "imf" / "imts_sdmx3_monthly_CHN_ILLUSTRATIVE.xml"
STAGING_SQL = ROOT / "sql" / "staging" / "imf_observations.sql"

REQUEST = FetchRequest(
    source="imf",
    url="https://api.imf.org/external/sdmx/3.0/data/dataflow/IMF.STA/IMTS/+/"
    "USA.XG_FOB_USD.G001+G998.A",
    params={"c[TIME_PERIOD]": "ge:2023-01-01+le:2026-01-01", "detail": "full"},
    expect="xml",
)


def _no_fetch(request):  # plan() must build URLs without fetching anything
    raise AssertionError(f"imf.plan fetched {request.url}")


def _ctx(**kw) -> PlanContext:
    values = {
        "settings": get_settings(),
        "reporters": ("USA",),
        "partners": (),
        "period_start": date(2023, 1, 1),
        "period_end": date(2024, 12, 1),
        "fetch": _no_fetch,
        "options": {},
    }
    values.update(kw)
    return PlanContext(**values)


def _by_key(frame: pl.DataFrame) -> dict[tuple, dict]:
    return {
        (r["reporter"], r["partner"], r["flow"], r["period_start"]): r
        for r in frame.iter_rows(named=True)
    }


WORLD_2023 = ("USA", "WLD", "X", date(2023, 1, 1))
WORLD_2024 = ("USA", "WLD", "X", date(2024, 1, 1))
EU_2023 = ("USA", "EU27_2020", "X", date(2023, 1, 1))
EU_2024 = ("USA", "EU27_2020", "X", date(2024, 1, 1))
#: Values read off the recorded XML: <Series COUNTRY="USA" INDICATOR="XG_FOB_USD"
#: COUNTERPART_COUNTRY="G001" …><Obs OBS_VALUE="2019551635133" … TIME_PERIOD="2023"/>
#: <Obs OBS_VALUE="2065411250609" … TIME_PERIOD="2024"/>, and for G998 369756760426 (2023)
#: and 371064529410 (2024); <message:Prepared>2025-12-16T05:16:36.306712826Z</message:Prepared>.
RECORDED = {WORLD_2023: 2019551635133.0, WORLD_2024: 2065411250609.0,
            EU_2023: 369756760426.0, EU_2024: 371064529410.0}  # fmt: skip
#: The MADE-UP OBS_VALUEs of the stand-in (tests/fixtures/imf/…_made_up.xml); Prepared 2026-01-20.
MADE_UP = {WORLD_2023: 1912345678901.0, WORLD_2024: 1987654321098.0,
           EU_2023: 345678901234.0, EU_2024: 356789012345.0}  # fmt: skip


@dataclass(frozen=True)
class Annual:
    """The annual IMTS message (US exports to G001 and G998, 2023–2024): the recording, or
    without ``shared/`` its MADE-UP stand-in; ``values`` and ``vintage`` are what each holds."""

    body: bytes
    made_up: bool

    @property
    def values(self) -> dict[tuple, float]:
        return MADE_UP if self.made_up else RECORDED

    @property
    def vintage(self) -> date:
        return date(2026, 1, 20) if self.made_up else date(2025, 12, 16)

    def obs_value(self, key: tuple) -> bytes:
        """The ``OBS_VALUE="…"`` attribute of one observation, as written in the message."""
        return b'OBS_VALUE="%d"' % self.values[key]


@pytest.fixture(scope="module")
def annual() -> Annual:
    path = recording_or_sample(IMTS_XML)
    return Annual(path.read_bytes(), is_made_up(path))


@pytest.fixture()
def imts_bytes(annual: Annual) -> bytes:
    return annual.body


# ------------------------------------------------------------------------------ real payload
def test_parse_imts_values(annual: Annual):
    frame = imf.parse(annual.body, REQUEST)
    assert frame.schema == OBSERVATION_SCHEMA
    rows = _by_key(frame)
    # Whole USD: SCALE="6" is NOT applied (values: RECORDED / MADE_UP above).
    assert {k: r["value"] for k, r in rows.items()} == annual.values
    world = rows[WORLD_2023]
    assert world["partner_kind"] == "world"
    assert world["period_end"] == date(2023, 12, 1)
    assert (world["months"], world["period_type"]) == (12, "year")
    assert (world["currency"], world["valuation"], world["commodity"]) == ("USD", "FOB", "TOTAL")
    assert world["release"] == "IMF IMTS (SDMX 3.0) IMF.STA/IMTS"
    # every Obs has DERIVATION_TYPE="M" (mixed: partly derived by the IMF)
    assert set(frame["status"]) == {"estimated"}
    assert set(frame["vintage"]) == {annual.vintage}  # the header's Prepared
    assert rows[("USA", "EU27_2020", "X", date(2024, 1, 1))]["partner_kind"] == "aggregate"
    assert frame["published_yoy"].null_count() == frame.height


def test_scale_trap_matches_retired_dot_millions(annual: Annual):
    """IMTS OBS_VALUE (SCALE="6") equals the DOT figure in millions × 10^6: it is whole USD.
    (On the made-up stand-ins the DOT file was written to agree: the test then checks the parser
    reads OBS_VALUE unscaled, not the IMF's practice.)"""
    imts_bytes = annual.body
    assert b'COUNTERPART_COUNTRY="G001" FREQUENCY="A" OVERLAP="OL" SCALE="6"' in imts_bytes
    dot_path = recording_or_sample(DOT_JSON)
    assert is_made_up(dot_path) == annual.made_up
    dot = json.loads(dot_path.read_text())
    dot_2023 = {}
    for series in dot["CompactData"]["DataSet"]["Series"]:
        assert series["@UNIT_MULT"] == "6"  # millions of USD in the old API
        for obs in series["Obs"]:
            if obs["@TIME_PERIOD"] == "2023":
                dot_2023[series["@COUNTERPART_AREA"]] = Decimal(obs["@OBS_VALUE"])
    # recorded 2019551.635133 (made up: 1912345.678901)
    assert dot_2023["W00"] == Decimal(annual.values[WORLD_2023]) / 10**6

    rows = _by_key(imf.parse(imts_bytes, REQUEST))
    world = rows[WORLD_2023]["value"]
    eu = rows[EU_2023]["value"]
    assert Decimal(world) == dot_2023["W00"] * 10**6  # 2019551635133, exactly
    # and the G998 → EU27_2020 inference: G998 2023 equals DOT B0 (European Union) 2023
    assert Decimal(eu) == dot_2023["B0"] * 10**6  # 369756760426


def test_scale_guard_rejects_values_written_in_millions(annual: Annual):
    # hand-edited copy of the message: the 2023 World figure written in millions, as DOT did
    # (recorded 2019551635133 → 2019551.635133; made up 1912345678901 → 1912345.678901)
    millions = f"{annual.values[WORLD_2023] / 10**6:.6f}"
    edited = annual.body.replace(annual.obs_value(WORLD_2023), f'OBS_VALUE="{millions}"'.encode())
    assert edited != annual.body
    with pytest.raises(ParseError, match=rf"SCALE=6 .*{re.escape(millions)}.*whole USD"):
        imf.parse(edited, REQUEST)


def test_scale_guard_rejects_implausibly_large_values(annual: Annual):
    # hand-edited: the figure multiplied by 10^6 (what applying SCALE would produce)
    old = annual.obs_value(WORLD_2023)
    edited = annual.body.replace(old, old[:-1] + b'000000"')
    assert edited != annual.body
    with pytest.raises(ParseError, match="implausibly large"):
        imf.parse(edited, REQUEST)


# ------------------------------------------------------------------ made-up monthly fixture
def test_monthly_illustrative_fixture():
    frame = imf.parse(MONTHLY_FIXTURE.read_bytes(), REQUEST)
    rows = _by_key(frame)
    # All numbers below are the MADE-UP values of the illustrative fixture.
    assert len(rows) == 6 and frame.height == 6  # TBG_USD and the empty 2025-M04 Obs give no row
    jan = rows[("CHN", "WLD", "X", date(2025, 1, 1))]
    assert (jan["value"], jan["status"], jan["months"], jan["period_type"]) == (
        300000000000.0,
        "reported",  # DERIVATION_TYPE="O"
        1,
        "month",
    )
    assert jan["period_end"] == date(2025, 1, 1)
    assert rows[("CHN", "WLD", "X", date(2025, 2, 1))]["status"] == "estimated"  # "SE"
    assert rows[("CHN", "WLD", "X", date(2025, 3, 1))]["status"] == "reported"  # no attribute
    assert ("CHN", "WLD", "X", date(2025, 4, 1)) not in rows  # placeholder, not a zero
    residual = rows[("CHN", "IMF_TX898", "M", date(2025, 1, 1))]
    assert (residual["partner_kind"], residual["valuation"], residual["value"]) == (
        "aggregate",
        "CIF",
        1234567.0,
    )
    assert rows[("CHN", "IMF_GX405", "X", date(2025, 1, 1))]["partner_kind"] == "aggregate"
    usa = rows[("CHN", "USA", "M", date(2025, 1, 1))]  # TIME_PERIOD "2025-01" form
    assert (usa["partner_kind"], usa["value"]) == ("country", 12000000000.5)
    assert set(frame["flow"]) == {"X", "M"}
    assert set(frame["vintage"]) == {date(2026, 1, 20)}


# ----------------------------------------------------------------------------- bad payloads
def test_malformed_xml_names_the_request(imts_bytes: bytes):
    with pytest.raises(ParseError) as info:
        imf.parse(imts_bytes[: len(imts_bytes) // 2], REQUEST)
    message = str(info.value)
    assert message.startswith("imf: GET https://api.imf.org/external/sdmx/3.0/data/dataflow/")
    assert "not well-formed XML" in message


def test_other_sdmx_messages_are_rejected():
    # the ECB recording, or its bundled sample (tests/fixtures/ecb/sample/)
    generic = recording_or_sample(
        "ecb/exr_M.USD.EUR.SP00.A_sdmxml21_generic_1999-01_2019-12.xml"
    ).read_bytes()
    with pytest.raises(ParseError, match="expected SDMX-ML 3.0 StructureSpecificData.*GenericData"):
        imf.parse(generic, REQUEST)
    with pytest.raises(ParseError, match="JSON .*SDMX-JSON 2.0.*Accept: application/xml"):
        imf.parse(b'{"data": []}', REQUEST)


def test_message_without_series_is_an_error(imts_bytes: bytes):
    empty = re.sub(rb"<Series .*?</Series>", b"", imts_bytes)
    assert b"<Series" not in empty
    with pytest.raises(ParseError, match="no Series"):
        imf.parse(empty, REQUEST)


@pytest.mark.parametrize(
    ("old", "new", "error", "pattern"),
    [
        (b'INDICATOR="MG_CIF_USD" COUNTERPART_COUNTRY="USA"',
         b'INDICATOR="MG_FOB_XDC" COUNTERPART_COUNTRY="USA"', ParseError, "unknown INDICATOR"),
        (b'COUNTERPART_COUNTRY="USA"', b'COUNTERPART_COUNTRY="ZZZ"', UnknownCodeError, "'ZZZ'"),
        (b'DERIVATION_TYPE="SE"', b'DERIVATION_TYPE="XYZ"', ParseError, "DERIVATION_TYPE"),
        (b'COUNTERPART_COUNTRY="TX898" FREQUENCY="M"', b'COUNTERPART_COUNTRY="TX898" FREQUENCY="Q"',
         ParseError, "FREQUENCY 'Q' is not supported"),
        (b'TIME_PERIOD="2025-M03"', b'TIME_PERIOD="2025"', ParseError, "does not match FREQUENCY"),
        (b'OBS_VALUE="1234567"', b'OBS_VALUE="-1234567"', ParseError, "negative"),
        (b'OBS_VALUE="1234567"', b'OBS_VALUE="1,234,567"', ParseError, "is not a number"),
        (b"<Value>CIF</Value>", b"<Value>FOB</Value>", ParseError, "VALUATION is 'FOB'"),
        (b' COUNTRY="CHN" INDICATOR="MG_CIF_USD" COUNTERPART_COUNTRY="USA"',
         b' INDICATOR="MG_CIF_USD" COUNTERPART_COUNTRY="USA"', ParseError, r"lacks key .*COUNTRY"),
    ],
)
def test_unexpected_content_in_fixture(old, new, error, pattern):
    body = MONTHLY_FIXTURE.read_bytes()
    assert old in body
    with pytest.raises(error, match=pattern):
        imf.parse(body.replace(old, new, 1), REQUEST)


def test_sdmx_error_message_is_reported():
    body = (
        b'<?xml version="1.0"?><message:Error xmlns:message="http://www.sdmx.org/resources/'
        b'sdmxml/schemas/v3_0/message"><message:ErrorMessage code="100"><common:Text '
        b'xmlns:common="x">No Results Found</common:Text></message:ErrorMessage></message:Error>'
    )
    with pytest.raises(ParseError, match="No Results Found"):
        imf.parse(body, REQUEST)


# ------------------------------------------------------------------------------- code mapping
@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("G001", ("WLD", "world")),
        ("G998", ("EU27_2020", "aggregate")),
        ("G163", ("IMF_G163", "aggregate")),
        ("GX405", ("IMF_GX405", "aggregate")),
        ("TX126", ("IMF_TX126", "aggregate")),
        ("GAB", ("GAB", "country")),  # Gabon: a G… code that is a country
        ("TWN", ("TWN", "country")),  # a counterpart in the availability file
        ("KOS", ("XKX", "country")),
        ("WBG", ("PSE", "country")),
    ],
)
def test_area_codes(code, expected):
    assert imf.area(code) == expected


def test_unknown_area_code_raises():
    with pytest.raises(UnknownCodeError, match="imf: unknown partner code 'YAR'"):
        imf.area("YAR")


# ---------------------------------------------------------------------------------------- plan
def test_plan_builds_the_recorded_request_shape(monkeypatch):
    monkeypatch.setenv("TRADE_IMBALANCE_IMF_BASE_URL", "http://127.0.0.1:9/imf-mirror/sdmx/3.0/")
    monkeypatch.setenv("TRADE_IMBALANCE_TODAY", "2026-12-01")  # every month of 2025 expected
    get_settings.cache_clear()
    requests = imf.plan(
        _ctx(
            reporters=("CHN", "USA"),
            partners=("USA", "VNM", "WLD"),
            period_start=date(2025, 1, 1),
            period_end=date(2025, 9, 1),
        )
    )
    assert len(requests) == 1
    request = requests[0]
    assert request.url == (
        "http://127.0.0.1:9/imf-mirror/sdmx/3.0/data/dataflow/IMF.STA/IMTS/+/"
        "CHN+USA.XG_FOB_USD+MG_CIF_USD.G001+USA+VNM.M"
    )
    assert request.params == {
        "c[TIME_PERIOD]": "ge:2025-01-01+le:2025-09-30",
        "dimensionAtObservation": "TIME_PERIOD",
        "detail": "full",
        "includeHistory": "false",
    }
    assert request.headers == {"Accept": "application/xml"}
    assert (request.source, request.expect, request.role) == ("imf", "xml", "data")
    assert (request.period_start, request.period_end) == (date(2025, 1, 1), date(2025, 9, 1))
    assert request.reporter is None  # several reporters in one request
    assert request.meta["frequency"] == "M"


def test_plan_annual_frequency_and_aggregate_partners():
    (request,) = imf.plan(
        _ctx(partners=("EU27_2020",), options={"imf_frequency": "A"}, period_end=date(2024, 2, 1))
    )
    assert request.url.endswith("/IMF.STA/IMTS/+/USA.XG_FOB_USD+MG_CIF_USD.G001+G998.A")
    assert request.url.startswith("https://api.imf.org/external/sdmx/3.0/")
    assert request.params["c[TIME_PERIOD]"] == "ge:2023-01-01+le:2024-02-29"
    assert request.reporter == "USA"


def test_plan_rejects_bad_options():
    with pytest.raises(ValueError, match="imf_frequency"):
        imf.plan(_ctx(options={"imf_frequency": "Q"}))
    with pytest.raises(ValueError, match="at least one reporter"):
        imf.plan(_ctx(reporters=()))
    with pytest.raises(UnknownCodeError, match="'XXX'"):
        imf.plan(_ctx(partners=("XXX",)))


# ------------------------------------------------------------------------- through loopback HTTP
def test_plan_fetch_parse_through_loopback(httpserver, monkeypatch, annual: Annual):
    monkeypatch.setenv("TRADE_IMBALANCE_IMF_BASE_URL", httpserver.url_for("/external/sdmx/3.0"))
    get_settings.cache_clear()
    (request,) = imf.plan(
        _ctx(partners=("EU27_2020",), options={"imf_frequency": "A"}, period_end=date(2024, 12, 1))
    )
    httpserver.expect_request(
        "/external/sdmx/3.0/data/dataflow/IMF.STA/IMTS/+/USA.XG_FOB_USD+MG_CIF_USD.G001+G998.A",
        query_string={
            "c[TIME_PERIOD]": "ge:2023-01-01+le:2024-12-31",
            "dimensionAtObservation": "TIME_PERIOD",
            "detail": "full",
            "includeHistory": "false",
        },
        headers={"Accept": "application/xml"},
    ).respond_with_data(annual.body, content_type="application/xml")
    client = HttpClient(get_settings(), "imf")
    try:
        fetched = client.get(request)
    finally:
        client.close()
    rows = _by_key(imf.parse(fetched.body, fetched.request))
    # recorded 2065411250609 and 369756760426; made up 1987654321098 and 345678901234
    assert rows[WORLD_2024]["value"] == annual.values[WORLD_2024]
    assert rows[EU_2023]["value"] == annual.values[EU_2023]


# ------------------------------------------------------------------------------ staging model
def test_staging_model_selects_imf_rows_with_raw_columns(annual: Annual):
    frame = imf.parse(annual.body, REQUEST)
    con = duckdb.connect()
    try:
        create_raw_tables(con)
        load_observations(con, frame, "b" * 64, datetime(2025, 12, 16, 5, 16))
        # another source's rows (the same figures relabelled) must not leak into the IMF model
        other = frame.with_columns(pl.lit("gacc").alias("source"))
        load_observations(con, other, "c" * 64, datetime(2025, 12, 16, 5, 17))
        raw_columns = [r[0] for r in con.execute("DESCRIBE raw.observations").fetchall()]
        result = con.sql(STAGING_SQL.read_text()).pl()
    finally:
        con.close()
    assert result.columns == raw_columns == [*OBSERVATION_SCHEMA, "payload_sha256", "fetched_at"]
    assert set(result["source"]) == {"imf"} and result.height == 4
    assert set(result["payload_sha256"]) == {"b" * 64}
    values = {
        (r["partner"], r["period_start"].year): r["value"] for r in result.iter_rows(named=True)
    }
    assert values[("WLD", 2023)] == annual.values[WORLD_2023]  # the OBS_VALUE, unscaled
    assert values[("EU27_2020", 2024)] == annual.values[EU_2024]


def test_plan_leaves_out_aggregates_imts_does_not_publish():
    (request,) = imf.plan(_ctx(reporters=("USA", "EA20"), partners=("EA20", "CHN")))
    assert "EA20" not in request.url and "USA." in request.url and "G001+CHN" in request.url
    assert imf.plan(_ctx(reporters=("EA20",))) == []


# --------------------------------------------------------------- request contract, answers
def _settings(**kw) -> Settings:
    return Settings(**kw)


def test_plan_splits_monthly_windows_at_the_release_calendar():
    # Rule "imf": about 90 days after the month. On 2026-05-15 January 2026 (expected 1 May) is
    # expected, February (29 May) is not: two requests, the second for the months not yet out.
    first, rest = imf.plan(
        _ctx(settings=_settings(today=date(2026, 5, 15)), reporters=("CHN", "USA"),
             period_start=date(2025, 1, 1), period_end=date(2026, 3, 1))
    )
    assert (first.period_start, first.period_end) == (date(2025, 1, 1), date(2026, 1, 1))
    assert first.params["c[TIME_PERIOD]"] == "ge:2025-01-01+le:2026-01-31"
    assert (rest.period_start, rest.period_end) == (date(2026, 2, 1), date(2026, 3, 1))
    assert rest.params["c[TIME_PERIOD]"] == "ge:2026-02-01+le:2026-03-31"
    assert first.headers == rest.headers == {"Accept": "application/xml"}
    # annual runs are never split
    (annual,) = imf.plan(_ctx(settings=_settings(today=date(2024, 3, 1)),
                              options={"imf_frequency": "A"}))
    assert annual.params["c[TIME_PERIOD]"] == "ge:2023-01-01+le:2024-12-31"


def test_optional_key_header():
    assert imf.headers(_settings()) == {}
    assert imf.headers(_settings(imf_api_key="k-123")) == {"Ocp-Apim-Subscription-Key": "k-123"}


def _answer(status: int, body: bytes, *, content_type="application/xml", today=date(2026, 5, 15),
            start=date(2026, 2, 1), end=date(2026, 3, 1), frequency="M") -> Answer:
    request = FetchRequest(source="imf", url=REQUEST.url, expect="xml", period_start=start,
                           period_end=end, meta={"frequency": frequency},
                           headers={"Accept": "application/xml"})
    return Answer(request, request.describe(), status, {"Content-Type": content_type}, body,
                  today=today)


SDMX_ERROR_100 = (
    b'<?xml version="1.0"?><message:Error xmlns:message="http://www.sdmx.org/resources/sdmxml/'
    b'schemas/v3_0/message" xmlns:common="http://www.sdmx.org/resources/sdmxml/schemas/v3_0/'
    b'common"><message:ErrorMessage code="100"><common:Text>No Results Found</common:Text>'
    b"</message:ErrorMessage></message:Error>"
)


def test_interpret_no_data_before_and_after_the_release_calendar(imts_bytes: bytes):
    empty = re.sub(rb"<Series .*?</Series>", b"", imts_bytes)
    for status, body in ((404, SDMX_ERROR_100), (404, b""), (200, empty), (200, SDMX_ERROR_100),
                         (200, b'{"errors": [{"code": 100, "title": "NoResultsFound"}]}')):
        # February 2026 is expected ~29 May 2026 (+15 days' grace): not yet on 15 May ...
        error = imf.interpret(_answer(status, body))
        assert isinstance(error, NotYetReleased), (status, body[:40])
        assert error.period == date(2026, 2, 1)
        # ... but missing on 1 July
        assert isinstance(imf.interpret(_answer(status, body, today=date(2026, 7, 1))),
                          MissingRelease)


def test_interpret_json_body_is_never_parsed_as_xml():
    body = b'{"meta": {}, "data": {"dataSets": [], "structures": []}}'
    error = imf.interpret(_answer(200, body, content_type="application/json"))
    assert isinstance(error, FetchError) and not isinstance(error, RequestRefused)
    assert "SDMX-JSON 2.0" in str(error) and "application/xml" in str(error)


def test_interpret_keeps_the_imfs_own_message():
    body = SDMX_ERROR_100.replace(b'code="100"', b'code="150"').replace(
        b"No Results Found", b"Code 'XX' is not valid for dimension COUNTRY")
    error = imf.interpret(_answer(400, body))
    assert isinstance(error, RequestRefused)
    assert (error.status, error.code) == (400, "150")
    assert error.message == "Code 'XX' is not valid for dimension COUNTRY"
    in_200 = imf.interpret(_answer(200, body))  # an SDMX error message inside a 200
    assert isinstance(in_200, RequestRefused) and in_200.code == "150"
    assert imf.interpret(_answer(429, b"")) is None  # back-off: the generic retry handles it
    assert imf.interpret(_answer(200, b"<x/>")) is None  # a body for the parser to judge


# ------------------------------------------------------------------------- the strict double
@pytest.fixture
def strict(httpserver, monkeypatch):
    """The strict publisher double on a loopback server; IMF base URL pointed at it."""
    handler = StrictPublishers()
    point_publishers_at(httpserver, handler, monkeypatch)
    handler.handlers["imf"].today = TODAY
    yield handler
    get_settings.cache_clear()


TODAY = date(2026, 5, 15)


def _fetch(scope: RunScope, tmp_path, **settings) -> SourceOutcome:
    archive = Archive(tmp_path / "raw")
    return fetch_source("imf", scope, get_settings().model_copy(update={"today": TODAY, **settings}),
                        archive)


MONTHLY = RunScope(reporters=("CHN", "USA"), partners=("USA", "VNM"),
                   period_start=date(2025, 1, 1), period_end=date(2026, 3, 1))


def test_monthly_refresh_against_the_strict_double(strict, tmp_path):
    outcome = _fetch(MONTHLY, tmp_path)
    assert strict.refused == []
    assert outcome.ok, outcome.line()
    imf_requests = [r for r in strict.requests if r.startswith("/imf/")]
    assert len(imf_requests) == 2  # expected months, then the months not yet out
    # MADE-UP values of the double: CHN to G001/USA/VNM and USA to G001/VNM (no USA→USA), two
    # indicators, January 2025–January 2026 (13 months): 10 series × 13 months.
    assert outcome.rows_parsed == 10 * 13
    assert outcome.not_released == ["2026-02"]
    assert "not yet released: 2026-02" in outcome.line()


def test_made_up_answer_is_labelled(strict, httpserver):
    (request, _) = imf.plan(_ctx(settings=get_settings().model_copy(update={"today": TODAY}),
                                 reporters=("CHN",), period_start=date(2025, 1, 1),
                                 period_end=date(2026, 3, 1)))
    response = requests.get(request.url, params=request.params, headers=request.headers,
                            timeout=10)
    assert response.status_code == 200
    assert response.headers["X-Test-Double"] == "made-up values"
    assert b"MADE-UP" in response.content
    frame = imf.parse(response.content, request)
    jan = frame.filter((pl.col("partner") == "WLD") & (pl.col("flow") == "X")
                       & (pl.col("period_start") == date(2025, 1, 1)))
    assert jan["value"].to_list() == [float(imf_double.made_up_value(0, 0, 0, 2025, 1))]


def test_not_yet_released_and_missing_months(strict, tmp_path):
    late = RunScope(reporters=("CHN",), partners=(), period_start=date(2026, 2, 1),
                    period_end=date(2026, 3, 1))
    outcome = _fetch(late, tmp_path)
    assert outcome.ok and outcome.rows_parsed == 0, outcome.line()
    assert outcome.not_released == ["2026-02"]
    # The double's coverage now lags far behind the calendar: December 2025 is due but absent.
    strict.handlers["imf"].lag_days = 200
    due = RunScope(reporters=("CHN",), partners=(), period_start=date(2025, 12, 1),
                   period_end=date(2025, 12, 1))
    outcome = _fetch(due, tmp_path / "b")
    assert not outcome.ok and outcome.not_released == []
    assert "release calendar says is out" in outcome.errors[0]
    assert "No Results Found" in outcome.errors[0]


@pytest.mark.parametrize("accept", [None, "*/*"])
def test_without_xml_accept_the_run_fails_naming_the_format(strict, tmp_path, monkeypatch, accept):
    original = imf.plan

    def plan_without_accept(ctx):
        out = []
        for request in original(ctx):
            headers = {} if accept is None else {"Accept": accept}
            out.append(dataclasses.replace(request, headers=headers))
        return out

    monkeypatch.setattr(imf, "plan", plan_without_accept)
    outcome = _fetch(MONTHLY, tmp_path)
    assert not outcome.ok and outcome.rows_parsed == 0
    assert all("answered SDMX-JSON 2.0" in error for error in outcome.errors), outcome.errors
    assert strict.refused and all("SDMX-JSON 2.0" in reason for _, _, reason in strict.refused)


def test_malformed_key_fails_the_run_with_the_imfs_message(strict, tmp_path, monkeypatch):
    # a typo in an indicator code: the double refuses the key as the IMF would (HTTP 400)
    monkeypatch.setattr(imf, "INDICATORS", {"XG_FOB": ("X", "FOB"), **imf.INDICATORS})
    outcome = _fetch(MONTHLY, tmp_path)
    assert not outcome.ok
    assert strict.refused and strict.refused[0][2].startswith("HTTP 400 (150)")
    assert "the IMF refused the request: Code 'XG_FOB' is not valid for dimension INDICATOR" in (
        outcome.errors[0]
    )


def test_double_refuses_bad_requests(strict):
    base = get_settings().base_url("imf") + "/data/dataflow/IMF.STA/IMTS/+/"
    xml = {"Accept": "application/xml"}
    cases = [
        (base + "CHN.XG_FOB_USD.G001", {}, 400, "has 3 dimensions"),
        (base + "CHN.XG_FOB_USD.G001.W", {}, 400, "'W' is not valid for dimension FREQUENCY"),
        (base + "CN.XG_FOB_USD.G001.M", {}, 400, "'CN' is not valid for dimension COUNTRY"),
        (base + "CHN.XG_FOB_USD.G001.M", {"startPeriod": "2025"}, 400, "Unknown query parameter"),
        (base + "CHN.XG_FOB_USD.G001.M", {"c[TIME_PERIOD]": "2025-01"}, 400, "c[TIME_PERIOD]"),
    ]
    for url, params, status, text in cases:
        response = requests.get(url, params=params, headers=xml, timeout=10)
        assert response.status_code == status, url
        assert text in response.text
    assert len(strict.refused) == len(cases)


def test_double_serves_the_recording_reduced_to_the_request(strict, annual: Annual):
    base = get_settings().base_url("imf") + "/data/dataflow/IMF.STA/IMTS/+/"
    response = requests.get(base + "USA.XG_FOB_USD.G001.A", timeout=10,
                            headers={"Accept": "application/xml"},
                            params={"c[TIME_PERIOD]": "ge:2023-01-01+le:2023-12-31"})
    label = "made-up values" if annual.made_up else "recorded values"
    assert response.headers["X-Test-Double"] == label
    # US exports to G001, 2023 (recording, else its stand-in); G998 and 2024 were not asked for
    assert annual.obs_value(WORLD_2023) in response.content
    assert b"G998" not in response.content and b'TIME_PERIOD="2024"' not in response.content
    assert strict.refused == []


def test_made_up_stand_ins_are_current_labelled_and_consistent():
    """The files in tests/fixtures/imf/ are what tests/builders/imf.py writes and say they are
    made up; their numbers hold together (EU below World; DOT 2023 = IMTS ÷ 10^6) and the
    parser reads the stand-in as MADE_UP (also when the recordings are present)."""
    for name, (_recording, build) in imf_builder.FIXTURES.items():
        body = (imf_builder.FIXTURE_DIR / name).read_bytes()
        assert body == build(), f"{name} is stale: run uv run python -m tests.builders.imf"
        assert b"MADE-UP" in body and "_made_up" in name
    rows = _by_key(imf.parse(imf_builder.annual_made_up(), REQUEST))
    assert {k: r["value"] for k, r in rows.items()} == MADE_UP
    assert MADE_UP[EU_2023] < MADE_UP[WORLD_2023] and MADE_UP[EU_2024] < MADE_UP[WORLD_2024]
    dot = imf_builder.DOT_MADE_UP
    assert all(Decimal(dot["B0"][year]) < Decimal(dot["W00"][year]) for year in dot["W00"])
    assert Decimal(dot["W00"]["2023"]) * 10**6 == Decimal(MADE_UP[WORLD_2023])
    assert Decimal(dot["B0"]["2023"]) * 10**6 == Decimal(MADE_UP[EU_2023])
