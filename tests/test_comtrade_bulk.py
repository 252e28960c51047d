"""Tests of the UN Comtrade bulk-file module (:mod:`flows.sources.comtrade_bulk`).

Real payloads (``shared/data/real/comtrade``, see its PROVENANCE.md):

* ``bulk_get_C_A_listing_r32_1962.json`` — a byte copy of a ``bulk/v1/get`` answer (comtradr
  fixture): one file, Argentina (32), 1962, classification S1, ``publicationDate``
  2003-04-29T11:24:10Z, ``fileSize`` "183.34 KB", ``rowKey``/``fileUrl`` b07f98ee….
* ``comtradr_vignette10_bulk_C_A_H0_r32_2000_first100.csv`` — the first 100 rows of
  Argentina's annual H0 bulk file for 2000, written out from comtradr's R frame: the values are
  the file's, but the header is comtradr's snake_case and the separator a comma. The test puts
  it back into the bulk layout (tab-separated, the API's field names in the same order,
  gzipped) and parses that. Values asserted are read off the CSV (line numbers count the
  header as line 1).

Without ``shared/`` (a plain clone) both give way to their MADE-UP stand-ins
(``tests/fixtures/comtrade/comtradr_vignette10_bulk_C_A_H0_r32_2000_made_up.csv`` and
``bulk_get_C_A_listing_r32_1962_made_up.json``, same layouts, written by
``tests/builders/comtrade.py``) and the tests assert the made-up figures (second value of each
``(recorded, made up)`` pair).

Everything else is made up and says so: the listing entry (publication date, hash) of that
sample file, and the small malformed files of the bad-input tests.
"""

from __future__ import annotations

import csv
import gzip
import json
from datetime import date

import polars as pl
import pytest

from flows.archive import Archive
from flows.http import HttpClient
from flows.reference import UnknownCodeError
from flows.schema import OBSERVATION_SCHEMA, conform
from flows.settings import get_settings
from flows.sources import comtrade_bulk as bulk
from flows.sources.base import Fetched, FetchRequest, ParseError
from tests.builders import comtrade as comtrade_builder
from tests.conftest import recording_or_sample
from tests.double import is_made_up

BASE = "https://comtrade.example.test"
SAMPLE = "comtrade/comtradr_vignette10_bulk_C_A_H0_r32_2000_first100.csv"
LISTING = "comtrade/bulk_get_C_A_listing_r32_1962.json"

#: comtradr's column names in the recorded sample, in file order, and the bulk file's names.
COMTRADR_NAMES = (
    "dataset_code", "type_code", "freq_code", "ref_period_id", "ref_year", "ref_month", "period",
    "reporter_code", "flow_code", "partner_code", "partner2code", "classification_search_code",
    "classification_code", "is_original_classification", "cmd_code", "customs_code", "mos_code",
    "mot_code", "qty_unit_code", "qty", "is_qty_estimated", "alt_qty_unit_code", "alt_qty",
    "is_alt_qty_estimated", "net_wgt", "is_net_wgt_estimated", "gross_wgt",
    "is_gross_wgt_estimated", "cifvalue", "fobvalue", "primary_value", "legacy_estimation_flag",
    "is_reported", "is_aggregate",
)  # fmt: skip

#: Made-up listing entry for the sample (the sample's own listing was not recorded).
SAMPLE_FILE = bulk.BulkFile(
    type_code="C", freq="A", search="H0", classification="H0", reporter_code=32, period="2000",
    publication_date="2020-06-30T00:00:00Z", row_key="madeup0sample0hash", file_size="made up",
)  # fmt: skip


def sample_as_bulk_file() -> bytes:
    """The recorded sample (or its MADE-UP stand-in) back in the bulk layout: gzipped TSV with
    the API's field names."""
    with open(recording_or_sample(SAMPLE), newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == COMTRADR_NAMES  # the positional renaming below is exact
    lines = ["\t".join(bulk.BULK_COLUMNS)] + ["\t".join(row) for row in rows[1:]]
    return gzip.compress(("\n".join(lines) + "\n").encode())


def sample_request() -> FetchRequest:
    return bulk.file_request(BASE, SAMPLE_FILE)


def made_up_file(lines: list[list[str]], header: list[str] | None = None) -> bytes:
    """A MADE-UP bulk file: the sample's first data row as a template, with edits."""
    text = "\t".join(header or bulk.BULK_COLUMNS) + "\n"
    return gzip.compress((text + "".join("\t".join(line) + "\n" for line in lines)).encode())


TEMPLATE = [
    "20032200001052000", "C", "A", "20000101", "2000", "52", "2000", "32", "X", "0", "0", "H0",
    "H0", "0", "TOTAL", "C00", "0", "0", "-1", "", "0", "-1", "", "0", "", "0", "", "0", "",
    "26341029193.0", "26341029193.0", "0", "1", "0",
]  # fmt: skip  (line 2 of the recorded sample)


def edited(**changes: str) -> list[str]:
    row = list(TEMPLATE)
    for name, value in changes.items():
        row[list(bulk.BULK_COLUMNS).index(name)] = value
    return row


# ------------------------------------------------------------------------------------------
# the real bulk sample


#: (recorded, MADE-UP stand-in) figures of the sample: rows, and primary_value by partner code.
SAMPLE_FIGURES = {
    "rows": (100, len(comtrade_builder.BULK_2000)),
    # line 2: partner_code 0, primary_value 26341029193.0 (Argentina's exports to the world, 2000)
    0: (26341029193.0, 30e9),
    # line 3: partner_code 12 (Algeria), primary_value 69888036.0
    12: (69888036.0, 50e6),
    # partner_code 490 "Other Asia, nes" is Taiwan (DESIGN.md §4), primary_value 64397680.0
    490: (64397680.0, 60e6),
    # partner_code 76 (Brazil): primary_value 6990801568.0
    76: (6990801568.0, 7e9),
}  # fmt: skip


def test_bulk_sample_parses_to_detail_rows():
    which = is_made_up(recording_or_sample(SAMPLE))
    frame = bulk.parse(sample_as_bulk_file(), sample_request())

    assert frame.schema == pl.Schema(bulk.DETAIL_SCHEMA)
    assert frame.height == SAMPLE_FIGURES["rows"][which]  # every row kept
    conform(frame.select(list(OBSERVATION_SCHEMA)), context="sample")  # canonical shape holds
    by_partner = {row["partner_code"]: row for row in frame.iter_rows(named=True)}
    world = by_partner[0]
    assert (world["partner"], world["partner_kind"]) == ("WLD", "world")
    assert world["value"] == SAMPLE_FIGURES[0][which]
    assert (world["reporter"], world["flow"], world["valuation"], world["currency"]) == (
        "ARG", "X", "FOB", "USD",
    )
    assert (world["period_start"], world["period_end"], world["months"], world["period_type"]) == (
        date(2000, 1, 1), date(2000, 12, 1), 12, "year",
    )
    assert world["release"] == "UN Comtrade bulk v1 C/A/H0 (classification H0)"
    assert world["vintage"] == date(2020, 6, 30)  # the made-up listing entry's publicationDate
    for code, iso in ((12, "DZA"), (490, "TWN"), (76, "BRA")):
        assert (by_partner[code]["partner"], by_partner[code]["value"]) == (
            iso, SAMPLE_FIGURES[code][which],
        )
    # every row: cmd_code TOTAL, customs C00, partner2code 0, mot_code 0, flags is_reported 1,
    # legacy_estimation_flag 0, is_original_classification 0, is_aggregate 0; qty empty
    assert frame.get_column("commodity").unique().to_list() == ["TOTAL"]
    assert frame.get_column("aggr_level").unique().to_list() == [0]
    assert not frame.get_column("is_leaf").any()
    assert frame.get_column("breakdown_total").all()
    assert frame.get_column("status").unique().to_list() == ["reported"]
    assert not frame.get_column("is_original_classification").any()
    assert not frame.get_column("is_aggregate").any()
    assert frame.get_column("qty").null_count() == frame.height
    assert frame.get_column("period").unique().to_list() == ["2000"]


def test_bulk_sample_header_names_are_checked():
    with open(recording_or_sample(SAMPLE), newline="", encoding="utf-8") as handle:
        raw = handle.read()
    # The converted R frame itself (comma-separated, snake_case) is not a bulk file.
    with pytest.raises(ParseError) as info:
        bulk.parse(gzip.compress(raw.encode()), sample_request())
    assert info.value.source == "comtrade"
    assert "/bulk/v1/file/32/madeup0sample0hash" in info.value.request
    assert "unexpected bulk file columns" in info.value.problem


# ------------------------------------------------------------------------------------------
# the listing


def listing_request_1962() -> FetchRequest:
    # the recorded request: GET .../bulk/v1/get/C/A/HS?reporterCode=32&period=1962
    return bulk.listing_request(
        BASE, freq="A", classification="HS", reporter_code=32, periods=["1962"]
    )


def test_listing_gives_publication_date_and_file_hash():
    path = recording_or_sample(LISTING)
    files = bulk.parse_listing(path.read_bytes(), listing_request_1962())

    assert len(files) == 1
    (entry,) = files
    # fields of data[0] in bulk_get_C_A_listing_r32_1962.json (else in its MADE-UP stand-in)
    published, day, row_key, size = (
        ("2004-05-17T09:30:00Z", date(2004, 5, 17), comtrade_builder.LISTING_ROW_KEY, "120.00 KB")
        if is_made_up(path) else
        ("2003-04-29T11:24:10Z", date(2003, 4, 29),
         "b07f98ee4cfb477c5b86923bbf159d48ca519ccb35c35865b3578b075fc918fb", "183.34 KB")
    )  # fmt: skip
    assert (entry.publication_date, entry.vintage, entry.row_key) == (published, day, row_key)
    assert (entry.reporter_code, entry.reporter, entry.period) == (32, "ARG", "1962")
    assert (entry.type_code, entry.freq, entry.classification, entry.file_size) == (
        "C", "A", "S1", size,
    )
    request = bulk.file_request(BASE, entry)
    assert request.url == f"{BASE}/bulk/v1/file/32/{entry.row_key}"  # fileUrl is that hash
    assert (request.period_start, request.period_end) == (date(1962, 1, 1), date(1962, 12, 1))
    # 1962 predates HS: the file is SITC (S1), listed but never downloaded for HS detail.
    wanted, skipped = bulk.plan_downloads(BASE, files, [])
    assert wanted == [] and skipped == files


def test_listing_request_shape():
    request = bulk.listing_request(
        BASE + "/", freq="M", reporter_code=156, periods=["202501", "202502"]
    )
    assert request.url == f"{BASE}/bulk/v1/get/C/M/HS"
    assert request.params == {"reporterCode": "156", "period": "202501,202502"}
    assert (request.role, request.expect) == ("index", "json")
    requests = bulk.listing_requests(BASE, [156, 842], date(2024, 1, 1), date(2025, 3, 1), freq="M")
    assert [r.params["reporterCode"] for r in requests] == ["156", "156", "842", "842"]
    assert requests[0].params["period"].split(",")[0] == "202401"
    assert requests[1].params["period"] == "202501,202502,202503"
    with pytest.raises(ValueError):
        bulk.listing_request(BASE, freq="M", classification="S1")
    with pytest.raises(ValueError):
        bulk.listing_request(BASE, freq="M", periods=["2025"])


def _listing(entries: list[dict]) -> bytes:
    return json.dumps({"elapsedTime": "0.1 secs", "count": len(entries), "data": entries,
                       "error": ""}).encode()  # fmt: skip


def _entry(**changes) -> dict:
    """A MADE-UP monthly listing entry in the recorded listing's shape."""
    entry = {
        "fileUrl": "https://comtradeapi.un.org/bulk/v1/file/156/aa11", "fileSize": "1.00 MB",
        "isOriginalClassification": True, "reporterCode": 156, "freqCode": "M", "typeCode": "C",
        "classificationCode": "H6", "refPeriodId": 20250101, "period": 202501,
        "publicationDate": "2025-02-20T08:00:00Z", "partitionKey": "156", "rowKey": "aa11",
        "timestamp": "2025-02-20T08:00:01+00:00", "eTag": "W/x",
    }  # fmt: skip
    entry.update(changes)
    return entry


def test_only_new_or_revised_files_are_planned(tmp_path):
    request = bulk.listing_request(BASE, freq="M", reporter_code=156, periods=["202501", "202502"])
    listed = bulk.parse_listing(
        _listing([_entry(), _entry(period=202502, rowKey="bb22", fileUrl="bb22")]), request
    )
    archive = Archive(tmp_path / "bulk")
    wanted, _ = bulk.plan_downloads(BASE, listed, archive.entries())
    assert [r.url for r in wanted] == [
        f"{BASE}/bulk/v1/file/156/aa11", f"{BASE}/bulk/v1/file/156/bb22",
    ]
    for planned in wanted:  # archive both (bodies are made-up gzip bytes)
        archive.store(Fetched(planned, gzip.compress(planned.url.encode()), 200, "application/TSV"))
    assert bulk.plan_downloads(BASE, listed, archive.entries())[0] == []
    # January revised (new rowKey and publicationDate): only January is fetched again.
    revised = bulk.parse_listing(
        _listing([_entry(rowKey="cc33", fileUrl="cc33", publicationDate="2025-03-20T08:00:00Z"),
                  _entry(period=202502, rowKey="bb22", fileUrl="bb22")]),
        request,
    )  # fmt: skip
    again, _ = bulk.plan_downloads(BASE, revised, archive.entries())
    assert [r.url for r in again] == [f"{BASE}/bulk/v1/file/156/cc33"]
    assert again[0].meta["publicationDate"] == "2025-03-20T08:00:00Z"
    # A download rejected by its parser (an error page, say) does not count as held.
    march = bulk.parse_listing(
        _listing([_entry(period=202503, rowKey="dd44", fileUrl="dd44")]),
        bulk.listing_request(BASE, freq="M", reporter_code=156, periods=["202503"]),
    )
    (planned,) = bulk.plan_downloads(BASE, march, archive.entries())[0]
    archive.store(Fetched(planned, b"<html>oops</html>", 200, "text/html"), parse_error="not gzip")
    assert [r.url for r in bulk.plan_downloads(BASE, march, archive.entries())[0]] == [
        f"{BASE}/bulk/v1/file/156/dd44"
    ]


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (b"<html>gateway</html>", "listing is not JSON"),
        (json.dumps({"data": [], "error": "quota exceeded"}).encode(), "quota exceeded"),
        (json.dumps({"count": 2, "data": [_entry()], "error": ""}).encode(), "'count' is 2"),
        (_listing([_entry(fileUrl="https://x/bulk/v1/file/156/zz")]), "does not end with rowKey"),
        (_listing([_entry(freqCode="A", period=2025)]), "freqCode 'A'"),
        (_listing([_entry(reporterCode=842)]), "reporter 842"),
        (_listing([_entry(period=2025)]), "does not fit frequency"),
        (_listing([_entry(publicationDate="yesterday")]), "not an ISO 8601"),
        (_listing([{k: v for k, v in _entry().items() if k != "rowKey"}]), "lacks ['rowKey']"),
    ],
)
def test_bad_listing_raises_parse_error(payload, problem):
    request = bulk.listing_request(BASE, freq="M", reporter_code=156, periods=["202501"])
    with pytest.raises(ParseError) as info:
        bulk.parse_listing(payload, request)
    assert info.value.source == "comtrade"
    assert "/bulk/v1/get/C/M/HS" in info.value.request
    assert problem in info.value.problem


def test_listing_and_file_through_the_http_layer(httpserver, monkeypatch, tmp_path):
    monkeypatch.setenv("TRADE_IMBALANCE_COMTRADE_BASE_URL", httpserver.url_for("/comtrade"))
    monkeypatch.setenv("TRADE_IMBALANCE_COMTRADE_API_KEY", "test-key")
    monkeypatch.setenv("TRADE_IMBALANCE_REQUESTS_PER_MINUTE", "60000")
    monkeypatch.setenv("TRADE_IMBALANCE_MAX_RETRIES", "0")
    get_settings.cache_clear()
    settings = get_settings()
    base = settings.base_url("comtrade")
    httpserver.expect_request(
        "/comtrade/bulk/v1/get/C/M/HS",
        query_string={"reporterCode": "156", "period": "202501"},
        headers={"Ocp-Apim-Subscription-Key": "test-key"},
    ).respond_with_data(_listing([_entry()]), content_type="application/json")
    made_up = made_up_file([edited(freqCode="M", refPeriodId="20250101", refYear="2025",
                                   refMonth="1", period="202501", reporterCode="156",
                                   classificationCode="H6")])  # fmt: skip
    httpserver.expect_request("/comtrade/bulk/v1/file/156/aa11").respond_with_data(
        made_up, content_type="application/TSV"
    )
    httpserver.expect_request("/comtrade/bulk/v1/file/156/bb22").respond_with_data(
        "Service unavailable", status=503
    )
    client = HttpClient(settings, "comtrade", {"Ocp-Apim-Subscription-Key": "test-key"})
    try:
        listing = bulk.listing_request(base, freq="M", reporter_code=156, periods=["202501"])
        files = bulk.parse_listing(client.get(listing).body, listing)
        wanted, _ = bulk.plan_downloads(base, files, [])
        fetched = client.get(wanted[0])
        bulk.check_gzip(fetched.body, wanted[0])
        frame = bulk.parse(fetched.body, wanted[0])
        assert (frame.height, frame["reporter"][0], frame["period_start"][0]) == (
            1, "CHN", date(2025, 1, 1),
        )
        assert frame["vintage"][0] == date(2025, 2, 20)  # the listing's publicationDate
        other = bulk.BulkFile.from_meta({**wanted[0].meta, "rowKey": "bb22"})
        failing = bulk.file_request(base, other)
        with pytest.raises(Exception) as info:
            client.get(failing)
        assert "HTTP 503" in str(info.value) and "comtrade" in str(info.value)
    finally:
        client.close()


# ------------------------------------------------------------------------------------------
# bad bulk files


def test_truncated_gzip_is_a_parse_error():
    body = sample_as_bulk_file()
    with pytest.raises(ParseError) as info:
        bulk.parse(body[: len(body) // 2], sample_request())
    assert info.value.source == "comtrade"
    assert "madeup0sample0hash" in info.value.request
    assert "gzip" in info.value.problem


def test_error_page_instead_of_gzip_is_a_parse_error():
    with pytest.raises(ParseError) as info:
        bulk.parse(b"<!DOCTYPE html><html>Quota exceeded</html>", sample_request())
    assert "expected a gzipped bulk file" in info.value.problem


@pytest.mark.parametrize(
    ("lines", "header", "problem"),
    [
        ([TEMPLATE], [*bulk.BULK_COLUMNS][:-1] + ["isAggregated"], "missing ['isAggregate']"),
        ([TEMPLATE], [*bulk.BULK_COLUMNS][:33], "missing ['isAggregate']"),
        ([], None, "no data rows"),
        ([edited(cmdCode="101")], None, "leading zeros lost"),
        ([edited(period="2001", refYear="2001")], None, "period is '2001', expected '2000'"),
        ([edited(reporterCode="76")], None, "reporterCode is 76, expected 32"),
        ([edited(isReported="2")], None, "isReported"),
        ([edited(primaryValue="")], None, "primaryValue"),
        ([edited(primaryValue="-5")], None, "negative"),
        ([edited(partnerCode="ARG")], None, "unreadable bulk rows"),
        ([TEMPLATE, TEMPLATE[:20]], None, "empty or non-0/1"),
        ([TEMPLATE[:20]], None, "unreadable bulk rows"),
    ],
)
def test_malformed_bulk_file_raises_parse_error(lines, header, problem):
    with pytest.raises(ParseError) as info:
        bulk.parse(made_up_file(lines, header), sample_request())
    assert info.value.source == "comtrade"
    assert "/bulk/v1/file/32/" in info.value.request
    assert problem in info.value.problem


@pytest.mark.parametrize(("field", "value"), [("partnerCode", "998"), ("flowCode", "ZZ")])
def test_unknown_codes_raise(field, value):
    with pytest.raises(UnknownCodeError) as info:
        bulk.parse(made_up_file([TEMPLATE, edited(**{field: value})]), sample_request())
    assert info.value.source == "comtrade" and info.value.code == value


def test_hs_levels_and_breakdowns_stay_apart():
    # MADE-UP rows: one total and its breakdown by mode of transport (sea), HS levels 2/4/6,
    # and heading 0509, a leaf in H6 (reference/comtrade_HS.json: isLeaf "1", aggrLevel 4).
    h6 = dict(classificationCode="H6")
    lines = [
        edited(cmdCode="TOTAL", **h6),
        edited(cmdCode="TOTAL", motCode="2100", primaryValue="100.0", **h6),
        edited(cmdCode="05", primaryValue="30.0", **h6),
        edited(cmdCode="0509", primaryValue="10.0", **h6),
        edited(cmdCode="0506", primaryValue="20.0", **h6),
        edited(cmdCode="050610", primaryValue="20.0", **h6),
    ]
    h6_file = bulk.BulkFile.from_meta({**SAMPLE_FILE.meta(), "classification": "H6"})
    request = bulk.file_request(BASE, h6_file)
    frame = bulk.parse(made_up_file(lines), request)
    got = {(r["commodity"], r["mot_code"]): (r["aggr_level"], r["is_leaf"], r["breakdown_total"])
           for r in frame.iter_rows(named=True)}  # fmt: skip
    assert got == {
        ("TOTAL", 0): (0, False, True),
        ("TOTAL", 2100): (0, False, False),
        ("05", 0): (2, False, True),
        ("0509", 0): (4, True, True),
        ("0506", 0): (4, False, True),
        ("050610", 0): (6, True, True),
    }
    leaves = frame.filter(pl.col("is_leaf") & pl.col("breakdown_total"))
    assert leaves.get_column("value").sum() == 30.0  # = chapter 05: leaves never double count
