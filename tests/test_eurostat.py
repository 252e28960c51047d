"""Tests of the Eurostat module (:mod:`flows.sources.eurostat`) and its strict double.

Real values: the Comext DS-045409 SDMX-CSV in ``shared/data/real/eurostat/comext_…_pandas.csv``
is parsed as it is (pandas rewrote whole numbers as ``1381885.0``; PROVENANCE.md second pass), and
the tidied R table ``ext_st_easitc_…_2020-2025.csv`` is put back into SDMX-CSV by
:func:`tests.builders.eurostat.sdmx_csv_from_tidy`. Expected figures quote the file and line.
``tests/fixtures/eurostat/flags_made_up_sdmxcsv.csv`` is MADE UP (see its README) and only tests
the flag rules; the ``EXT_ST_*`` structure files there are RECONSTRUCTIONS (README), served by the
strict double :mod:`tests.double.eurostat`, which answers series the recordings lack with
labelled made-up values — no test asserts those values.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from flows.archive import Archive
from flows.fetch import client_for, fetch_source
from flows.reference import UnknownCodeError
from flows.schema import OBSERVATION_SCHEMA
from flows.scope import RunScope
from flows.settings import Settings
from flows.sources import eurostat
from flows.sources.base import (
    Answer,
    Fetched,
    FetchError,
    FetchRequest,
    MissingRelease,
    NotYetReleased,
    ParseError,
    PlanContext,
    RequestRefused,
    SourceError,
)
from tests.builders.eurostat import sdmx_csv_from_tidy
from tests.conftest import ROOT, real_file, recording_or_sample
from tests.double import StrictPublishers
from tests.double import eurostat as double

COMEXT = (
    "eurostat/comext_DS-045409_sdmxcsv_M_EU27-reporters_WORLD-EU27-CN_CN8-39201081_2023-01_2025-12"
    "_pandas.csv"
)
EXT_ST = (
    "eurostat/ext_st_easitc_M_IMP_TRD_VAL_EA20_partners_CN_X_HK-US-VN-EU27_2020_NEA20_SITC5-8"
    "_2020-2025.csv"
)
FIXTURES = Path(__file__).parent / "fixtures" / "eurostat"
FLAGS = FIXTURES / "flags_made_up_sdmxcsv.csv"
BASE = "https://ec.europa.eu/eurostat/api/dissemination"
SITC = "TOTAL+SITC0+SITC1+SITC2+SITC3+SITC4+SITC5+SITC6+SITC7+SITC8+SITC9"
REQUEST = FetchRequest(
    source="eurostat",
    url=f"{BASE}/sdmx/2.1/data/ext_st_eu27_2020sitc/M.EXP+IMP.TRD_VAL.CN_X_HK.TOTAL.EU27_2020",
    params={"format": "SDMX-CSV"},
    expect="csv",
)
HEADER = "DATAFLOW,LAST UPDATE,freq,stk_flow,indic_et,partner,sitc06,geo,TIME_PERIOD,OBS_VALUE"
LINE = "ESTAT:EXT_ST_EU27_2020SITC(1.0),15/01/25 23:00:00,M,IMP,TRD_VAL,CN_X_HK,TOTAL,EU27_2020"


def one_value(frame: pl.DataFrame, **match) -> float:
    rows = frame
    for column, wanted in match.items():
        rows = rows.filter(pl.col(column) == wanted)
    assert rows.height == 1, rows
    return rows.item(0, "value")


def structure_fetch(replace: dict[str, bytes] | None = None, seen: list | None = None):
    """A ``ctx.fetch`` serving the reconstructed structure files (or ``replace[<file name>]``)."""

    def fetch(request: FetchRequest) -> Fetched:
        resource, ident = request.url.split("/")[-3], request.url.split("/")[-1]
        name = f"{ident}_{resource}.xml"
        if seen is not None:
            seen.append((request.role, request.url))
        body = (replace or {}).get(name) or (FIXTURES / name).read_bytes()
        return Fetched(request, body, 200, "application/xml")

    return fetch


def context(reporters=("EU27_2020",), partners=(), start=date(2024, 11, 1), end=date(2025, 2, 1),
            fetch=None, options=None, settings=None):
    return PlanContext(
        settings=settings or Settings(),
        reporters=reporters,
        partners=partners,
        period_start=start,
        period_end=end,
        fetch=fetch or structure_fetch(),
        options=options or {},
    )


def answer(status: int, body: bytes | str, request: FetchRequest = REQUEST, today=date(2026, 3, 25)):
    body = body.encode() if isinstance(body, str) else body
    return Answer(request, request.describe(), status, {}, body, today=today)


# --- plan: structure first, key in DSD order ----------------------------------------------------


def test_plan_reads_the_structure_once_and_keys_follow_the_dsd(caplog):
    seen: list = []
    with caplog.at_level(logging.WARNING, logger="flows.sources.eurostat"):
        requests = eurostat.plan(context(fetch=structure_fetch(seen=seen)))
    assert seen == [
        ("index", f"{BASE}/sdmx/2.1/datastructure/ESTAT/EXT_ST_EU27_2020SITC"),
        ("index", f"{BASE}/sdmx/2.1/contentconstraint/ESTAT/EXT_ST_EU27_2020SITC"),
    ]
    # freq.stk_flow.indic_et.partner.sitc06.geo, as the (reconstructed) DSD positions say
    key = f"M.EXP+IMP.TRD_VAL.CN_X_HK+EXT_EU27_2020+IN+US.{SITC}.EU27_2020"
    assert [r.url for r in requests] == [f"{BASE}/sdmx/2.1/data/ext_st_eu27_2020sitc/{key}"] * 2
    assert [r.params for r in requests] == [
        {"format": "SDMX-CSV", "startPeriod": "2024-11", "endPeriod": "2024-12"},
        {"format": "SDMX-CSV", "startPeriod": "2025-01", "endPeriod": "2025-02"},
    ]
    assert all(r.expect == "csv" and r.reporter == "EU27_2020" for r in requests)
    assert requests[0].meta == {"dimensions": "freq.stk_flow.indic_et.partner.sitc06.geo"}
    # VN is not in the EU27 constraint: dropped with a warning, not sent
    assert "does not carry partner VN with geo EU27_2020" in caplog.text


def test_a_different_dsd_order_gives_a_different_key():
    name = "EXT_ST_EU27_2020SITC_datastructure.xml"
    text = (FIXTURES / name).read_text()
    swapped = text.replace('id="partner" position="4"', 'id="partner" position="9"')
    swapped = swapped.replace('id="geo" position="6"', 'id="geo" position="4"')
    swapped = swapped.replace('id="partner" position="9"', 'id="partner" position="6"')
    [request, *_] = eurostat.plan(context(fetch=structure_fetch({name: swapped.encode()})))
    assert request.url.endswith(f"/M.EXP+IMP.TRD_VAL.EU27_2020.{SITC}.CN_X_HK+EXT_EU27_2020+IN+US")
    assert request.meta["dimensions"] == "freq.stk_flow.indic_et.geo.sitc06.partner"


def test_a_dsd_dimension_the_plan_cannot_fill_fails_the_plan():
    name = "EXT_ST_EU27_2020SITC_datastructure.xml"
    text = (FIXTURES / name).read_text()
    extra = text.replace('<s:TimeDimension', '<s:Dimension id="unit" position="7"/><s:TimeDimension')
    with pytest.raises(SourceError, match=r"unit.*no code"):
        eurostat.plan(context(fetch=structure_fetch({name: extra.encode()})))
    with pytest.raises(ParseError, match="not well-formed"):
        eurostat.plan(context(fetch=structure_fetch({name: b"<broken"})))


def test_euro_area_compositions_come_from_the_constraint(caplog):
    with caplog.at_level(logging.WARNING, logger="flows.sources.eurostat"):
        requests = eurostat.plan(context(
            reporters=("EA20", "EA21", "CHN"), partners=("WLD", "CHN", "BGR", "POL"),
            start=date(2025, 6, 1), end=date(2026, 3, 1),
        ))
    got = [(r.reporter, r.params["startPeriod"], r.params["endPeriod"], r.url.split("/")[-1])
           for r in requests]
    assert got == [
        # EA20 stops at 2025-12 in the constraint (replaced by EA21): never asked for 2026
        ("EA20", "2025-06", "2025-12", f"M.EXP+IMP.TRD_VAL.CN_X_HK+EXT_EA20.{SITC}.EA20"),
        ("EA21", "2025-06", "2025-12", f"M.EXP+IMP.TRD_VAL.CN_X_HK+EXT_EA21.{SITC}.EA21"),
        # months after the dataset's latest (2026-01) stay: they may be not yet released
        ("EA21", "2026-01", "2026-03", f"M.EXP+IMP.TRD_VAL.CN_X_HK+EXT_EA21.{SITC}.EA21"),
    ]
    assert "has EA20 only up to 2025-12" in caplog.text
    # BGR is a partner of EA20 but a member of EA21; POL is carried by neither region here
    assert "does not carry partner BG, PL with geo EA20" in caplog.text
    assert "does not carry partner PL with geo EA21" in caplog.text


def test_a_geo_the_constraint_lacks_is_not_requested(caplog):
    name = "EXT_ST_EASITC_contentconstraint.xml"
    text = (FIXTURES / name).read_text()
    only_ea21 = re.sub(r'<s:CubeRegion include="true">(?:(?!</s:CubeRegion>).)*<c:Value>EA20</c:Value>'
                       r'</c:KeyValue>.*?</s:CubeRegion>', "", text, count=1, flags=re.S)
    assert "<c:Value>EA20</c:Value></c:KeyValue>" not in only_ea21
    with caplog.at_level(logging.WARNING, logger="flows.sources.eurostat"):
        requests = eurostat.plan(context(reporters=("EA20", "EA21"),
                                         fetch=structure_fetch({name: only_ea21.encode()})))
    assert {r.reporter for r in requests} == {"EA21"}
    assert "ext_st_easitc does not carry geo EA20" in caplog.text


def test_plan_reporters_partners_and_options():
    assert eurostat.plan(context(reporters=("CHN", "USA"), fetch=lambda _r: 1 / 0)) == []
    assert eurostat.plan(context(reporters=("EUU",)))[0].reporter == "EU27_2020"
    [request, _] = eurostat.plan(context(partners=("USA", "DEU"), options={"eurostat_sitc": "total"}))
    assert request.url.endswith("/M.EXP+IMP.TRD_VAL.US.TOTAL.EU27_2020")  # DEU is intra-EU
    with pytest.raises(UnknownCodeError):
        eurostat.plan(context(partners=("XYZ",)))
    assert eurostat.eurostat_partner("WLD", "EA21") == "EXT_EA21"
    assert eurostat.eurostat_partner("BGR", "EA20") == "BG"
    assert eurostat.eurostat_partner("BGR", "EA21") is None
    assert eurostat.eurostat_partner("GBR") == "UK"


# --- revise and interpret ---------------------------------------------------------------------


def refused(code, values, message="made-up message"):
    return RequestRefused("eurostat", "GET x", "p", status=400, code=code, message=message,
                          values=values)


def test_revise_drops_the_partners_a_fault_150_names():
    [request, _] = eurostat.plan(context())
    revised = eurostat.revise(request, refused("150", (("PARTNER", "IN"),)))
    assert revised.url.endswith(f"/M.EXP+IMP.TRD_VAL.CN_X_HK+EXT_EU27_2020+US.{SITC}.EU27_2020")
    assert revised.params == request.params
    assert eurostat.revise(request, refused("150", (("GEO", "EU27_2020"),))) is None
    assert eurostat.revise(request, refused("140", ())) is None
    assert eurostat.revise(request, refused("150", (("PARTNER", "XX"),))) is None  # nothing dropped


FAULT = ('<?xml version="1.0" encoding="UTF-8"?><S:Fault xmlns:S="http://schemas.xmlsoap.org/soap/'
         'envelope/"><faultcode>{}</faultcode><faultstring>{}</faultstring></S:Fault>')
DUE = FetchRequest("eurostat", REQUEST.url, REQUEST.params, "csv", period_start=date(2025, 12, 1),
                   period_end=date(2025, 12, 1))
NOT_DUE = FetchRequest("eurostat", REQUEST.url, REQUEST.params, "csv",
                       period_start=date(2026, 2, 1), period_end=date(2026, 3, 1))


def test_interpret_refusals_keep_eurostats_message():
    text = ("INVALID_QUERY_DIMENSION_VALUE: Query is invalid as per its structure&apos;s definition. "
            "The following values for dimension are not allowed: PARTNER=XX, GEO=EA20.")
    error = eurostat.interpret(answer(400, FAULT.format(150, text)))
    assert isinstance(error, RequestRefused)
    assert (error.status, error.code, error.values) == (400, "150", (("PARTNER", "XX"), ("GEO", "EA20")))
    assert error.message.startswith("INVALID_QUERY_DIMENSION_VALUE: Query is invalid as per its st")
    assert "structure's definition" in error.message
    nb_filters = "INVALID_QUERY_NB_FILTERS: Incorrect number of filters"
    error = eurostat.interpret(answer(400, FAULT.format(140, nb_filters)))
    assert isinstance(error, RequestRefused) and error.code == "140" and error.values == ()


@pytest.mark.parametrize(
    ("status", "body", "request_", "kind", "words"),
    [
        (404, FAULT.format(100, "ERR_NOT_FOUND_2: DATA_SET:X is not available for dissemination."),
         REQUEST, FetchError, "wrong or retired dataset"),
        (413, FAULT.format(413, "EXTRACTION_TOO_BIG: The requested extraction is too big"), REQUEST,
         FetchError, "split the request"),
        (200, double.QUEUED_ENVELOPE, REQUEST, FetchError, "queued the extraction"),
        (200, '<?xml version="1.0"?><m:GenericData/>', REQUEST, FetchError, "answered XML"),
        (400, FAULT.format(100, "No results found"), NOT_DUE, NotYetReleased, "not yet released"),
        (400, FAULT.format(100, "No results found"), DUE, MissingRelease, "expected by 2026-02-15"),
        (200, HEADER + "\n", NOT_DUE, NotYetReleased, "header with no data rows"),
        (200, HEADER + "\n", DUE, MissingRelease, "missing"),
    ],
)
def test_interpret_answers(status, body, request_, kind, words):
    error = eurostat.interpret(answer(status, body, request_))
    assert type(error) is kind and words in str(error), error
    if kind is NotYetReleased:
        assert error.period == date(2026, 2, 1)


def test_interpret_lets_data_and_structures_through():
    assert eurostat.interpret(answer(200, f"{HEADER}\n{LINE},2024-01,1")) is None
    index = FetchRequest("eurostat", f"{BASE}/sdmx/2.1/datastructure/ESTAT/X", expect="xml", role="index")
    body = (FIXTURES / "EXT_ST_EASITC_datastructure.xml").read_bytes()
    assert eurostat.interpret(answer(200, body, index)) is None


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


def test_ext_st_values_are_million_eur_scaled_exactly():
    # the recording, or its bundled sample (tests/fixtures/eurostat/sample/: the lines of
    # 2020-01, 2024-12, 2025-10 and 2025-11, 16 series each); the line numbers are the recording's
    path = recording_or_sample(EXT_ST)
    frame = eurostat.parse(sdmx_csv_from_tidy(path), REQUEST)
    assert frame.height == (16 * 4 if path.name.endswith("_sample.csv") else 1136)
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


def test_flags_stay_on_each_observation_and_confidential_cells_are_null_rows():
    frame = eurostat.read_observations(FLAGS.read_bytes(), REQUEST)
    rows = frame.iter_rows(named=True)
    got = {(r["partner"], r["flow"]): (r["value"], r["status"]) for r in rows}
    assert got == {
        ("CHN", "M"): (100_500_000.0, "provisional"),
        ("CHN", "X"): (20_250_000.0, "reported"),
        ("USA", "M"): (None, "confidential"),  # flag c, no value: kept, NULL, not zero
        ("USA", "X"): (None, "confidential"),  # CONF_STATUS C, no value
        ("VNM", "M"): (7_125_000.0, "confidential"),  # c with a value: kept
        ("VNM", "X"): (3_000_000.0, "estimated+provisional"),
        ("EXT_EU27_2020", "M"): (1.0, "flag:x"),
        ("GRC", "X"): (1_500_000.0, "reported"),  # EL = Greece; CONF_STATUS F = free
    }
    assert set(frame.get_column("vintage")) == {date(2025, 1, 15)}
    kinds = dict(frame.select("partner", "partner_kind").unique().iter_rows())
    assert kinds["EXT_EU27_2020"] == "aggregate" and kinds["CHN"] == "country"


def test_parse_keeps_confidential_null_rows_when_the_schema_admits_them():
    frame = eurostat.parse(FLAGS.read_bytes(), REQUEST)
    us = frame.filter(pl.col("partner") == "USA")
    if eurostat.null_values_allowed():
        assert us.get_column("value").to_list() == [None, None]
        assert set(us.get_column("status")) == {"confidential"}
    else:  # flows.schema.conform rejects a NULL value: the withheld cells are left out, logged
        assert us.height == 0
    assert frame.height == 6 + us.height


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


# --- against the strict double (loopback HTTP) --------------------------------------------------


@pytest.fixture
def publishers(httpserver):
    """The strict double of every publisher behind a loopback server; ``run(scope, today)`` fetches
    Eurostat into a fresh archive and returns its outcome."""
    handler = StrictPublishers()
    httpserver.expect_request(re.compile(".*")).respond_with_handler(handler)

    def run(tmp, scope: RunScope, today: date, **double_options):
        if double_options:
            handler.handlers["eurostat"] = double.Double(handler.real, **double_options)
        settings = Settings(
            warehouse=tmp, requests_per_minute=60000, backoff_factor=0.01, today=today,
            eurostat_base_url=httpserver.url_for("/eurostat"),
        )
        archive = Archive(settings.raw_dir)
        return fetch_source("eurostat", scope.resolved(today), settings, archive), archive

    handler.run = run
    return handler


def scope(reporters, start, end, partners=()):
    return RunScope(sources=("eurostat",), reporters=reporters, partners=partners,
                    period_start=start, period_end=end)


def test_refresh_of_both_euro_areas_and_the_eu_sends_nothing_the_double_refuses(publishers, tmp_path):
    outcome, archive = publishers.run(
        tmp_path, scope(("EA20", "EA21", "EU27_2020"), date(2025, 1, 1), date(2026, 3, 1)),
        today=date(2026, 3, 25),
    )
    assert publishers.refused == []
    assert outcome.ok and not outcome.errors and not outcome.not_released, outcome.line()
    data = [e.request for e in archive.entries() if e.request.role == "data"]
    assert sorted((r.reporter, r.params["startPeriod"]) for r in data) == [
        ("EA20", "2025-01"), ("EA21", "2025-01"), ("EA21", "2026-01"),
        ("EU27_2020", "2025-01"), ("EU27_2020", "2026-01"),
    ]
    assert outcome.rows_parsed > 0
    assert any("/sdmx/2.1/contentconstraint/ESTAT/EXT_ST_EASITC" in p for p in publishers.requests)


def test_a_malformed_request_fails_the_run_with_eurostats_own_message(publishers, tmp_path,
                                                                      monkeypatch):
    def old_order_plan(ctx):  # the key order the product sent before issue 10
        url = ctx.settings.base_url("eurostat") + "/sdmx/2.1/data/ext_st_easitc/"
        return [FetchRequest("eurostat", url + "M.TRD_VAL.EXP+IMP.TOTAL.CN_X_HK.EA20",
                             {"format": "SDMX-CSV", "startPeriod": "2025-01", "endPeriod": "2025-01"},
                             "csv", reporter="EA20", period_start=date(2025, 1, 1),
                             period_end=date(2025, 1, 1))]

    monkeypatch.setattr(eurostat, "plan", old_order_plan)
    outcome, _ = publishers.run(tmp_path, scope(("EA20",), date(2025, 1, 1), date(2025, 1, 1)),
                                today=date(2026, 3, 25))
    assert not outcome.ok
    [error] = outcome.errors
    assert "HTTP 400: Eurostat fault 150: INVALID_QUERY_DIMENSION_VALUE" in error
    assert "STK_FLOW=TRD_VAL, INDIC_ET=EXP, INDIC_ET=IMP, PARTNER=TOTAL, SITC06=CN_X_HK" in error
    assert [reason for _, _, reason in publishers.refused] == [
        "fault 150: STK_FLOW=TRD_VAL, INDIC_ET=EXP, INDIC_ET=IMP, PARTNER=TOTAL, SITC06=CN_X_HK"
    ]


def test_the_double_refuses_what_eurostat_refuses(publishers, httpserver):
    client = client_for(eurostat, Settings(requests_per_minute=60000, max_retries=0))
    base = httpserver.url_for("/eurostat/sdmx/2.1/data")
    month = {"format": "SDMX-CSV", "startPeriod": "2026-01", "endPeriod": "2026-01"}
    key = "M.EXP.TRD_VAL.US.TOTAL.EA20"
    cases = [
        (f"{base}/ext_st_easitc/M.EXP.TRD_VAL.US.TOTAL", month, "INVALID_QUERY_NB_FILTERS"),
        (f"{base}/ext_st_easitc/{key}", month, "not allowed: GEO=EA20"),  # EA20 in 2026
        (f"{base}/ext_st_easitc/{key.replace('US', 'TW')}", month, "not allowed: PARTNER=TW\\.$"),
        (f"{base}/ext_st_easitc/{key}", {**month, "startPeriod": "2026-M01"}, "TIME_PERIOD_FILTER"),
        (f"{base}/ext_st_easitc/{key}", {**month, "geo": "EA20"}, "unknown parameter"),
        (f"{base}/ext_st_easitc/{key}", {**month, "format": "TSV"}, "SDMX-CSV only"),
    ]
    try:
        for url, params, words in cases:
            with pytest.raises(RequestRefused, match=words):
                client.get(FetchRequest("eurostat", url, params, "csv"))
        with pytest.raises(FetchError, match=r"HTTP 404: Eurostat fault 100: ERR_NOT_FOUND_2"):
            client.get(FetchRequest("eurostat", f"{base}/ext_st_nosuch/{key}", month, "csv"))
    finally:
        client.close()
    assert len(publishers.refused) == len(cases) + 1
    assert {rule.confidence for rule in double.RULES} <= {"confirmed", "consistent", "unverified"}


def test_a_partner_refused_at_run_time_is_dropped_with_a_warning(publishers, tmp_path):
    outcome, archive = publishers.run(
        tmp_path, scope(("EU27_2020",), date(2025, 1, 1), date(2025, 2, 1), partners=("CHN", "IND")),
        today=date(2026, 3, 25), withdrawn={"partner": {"IN"}},
    )
    assert outcome.ok and outcome.rows_parsed > 0, outcome.line()
    [warning] = outcome.warnings
    assert "not allowed: PARTNER=IN" in warning and "CN_X_HK.TOTAL" in warning
    assert [reason for _, _, reason in publishers.refused] == ["fault 150: PARTNER=IN"]
    [data] = [e.request for e in archive.entries() if e.request.role == "data"]
    assert ".CN_X_HK." in data.url and "IN" not in data.url.split("/")[-1].split(".")[3]


def test_months_after_the_latest_release_are_not_yet_released(publishers, tmp_path):
    window = scope(("EA21",), date(2026, 2, 1), date(2026, 3, 1))
    outcome, _ = publishers.run(tmp_path, window, today=date(2026, 3, 25))
    assert outcome.ok and outcome.not_released == ["2026-02"], outcome.line()
    assert "not yet released: 2026-02" in outcome.line()
    late, _ = publishers.run(tmp_path / "late", window, today=date(2026, 6, 30))
    assert not late.ok and "missing: Eurostat has no data for 2026-02..2026-03" in late.errors[0]
    assert [reason for _, _, reason in publishers.refused] == ["empty result", "empty result"]


def test_double_serves_recorded_values_in_dsd_order(publishers, httpserver):
    recording_or_sample(EXT_ST)  # the double reads the recording, else the bundled sample
    settings = Settings(eurostat_base_url=httpserver.url_for("/eurostat"), requests_per_minute=6e4)
    client = client_for(eurostat, settings)
    try:
        ctx = context(reporters=("EA20",), start=date(2025, 10, 1), end=date(2025, 11, 1),
                      fetch=client.get, settings=settings)
        [request] = eurostat.plan(ctx)
        fetched = client.get(request)
    finally:
        client.close()
    header = fetched.body.decode().splitlines()[0]
    assert header == ("DATAFLOW,LAST UPDATE,freq,stk_flow,indic_et,partner,sitc06,geo,TIME_PERIOD,"
                      "OBS_VALUE,OBS_FLAG,CONF_STATUS")
    frame = eurostat.parse(fetched.body, request)
    # line 1108: M,IMP,TRD_VAL,CN_X_HK,SITC7,EA20,2025-10-01,21586.7
    assert one_value(frame, partner="CHN", flow="M", commodity="SITC7",
                     period_start=date(2025, 10, 1)) == 21_586_700_000
    assert publishers.refused == []


# --- staging --------------------------------------------------------------------------------


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
