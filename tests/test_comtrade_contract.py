"""UN Comtrade's request and answer contract, through the strict double (:mod:`tests.double.comtrade`).

* :func:`flows.sources.comtrade.interpret` on every error shape: the quota 403 (wording from
  live_contracts §5, ids 21258530624 / 71578361064), the recorded 401
  (``comtrade/error_401_missing_subscription_key.json``), 429 (comtradeapicall issue #3 wording),
  400 and the legacy ``validation`` block ("Maximum resultset is: 10000"; layout of the recorded
  ``comtrade/legacy_api_get_r8_ps2014_TOTAL_trimmed.json``). Bodies other than the recorded 401
  are written here from the quoted wording (made up around it). Without ``shared/`` the recorded
  bodies give way to the double's reconstruction of the 401 and the MADE-UP stand-ins
  (``tests/fixtures/comtrade/*_made_up*``, same layouts) of the others.
* memo flows from the MADE-UP fixture ``tests/fixtures/comtrade/memo_flows_made_up.json``;
* runs against the strict double: a malformed request fails with Comtrade's message, the quota
  stops the source with its wait, a 429 with ``Retry-After`` is retried, the preview is split one
  period per call, and a keyed China monthly refresh 2025-01..2026-03 sends no refused request
  (the double answers it with MADE-UP values, labelled ``X-Test-Double: made-up values``).
"""

from __future__ import annotations

import importlib
import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import requests
from requests.structures import CaseInsensitiveDict

import flows.schema
from flows.archive import Archive
from flows.fetch import client_for, fetch_source
from flows.scope import RunScope
from flows.settings import Settings, get_settings
from flows.sources import comtrade
from flows.sources.base import (
    Answer,
    AuthError,
    FetchRequest,
    ParseError,
    PublisherUnreachable,
    QuotaExceeded,
    RequestRefused,
)
from tests.conftest import REAL, recording_or_sample
from tests.double.comtrade import missing_key_body
from tests.recorded_server import RecordedPublishers, point_publishers_at

FIXTURES = Path(__file__).parent / "fixtures" / "comtrade"
REQ = FetchRequest(
    source="comtrade", url="https://comtradeapi.un.org/data/v1/get/C/M/HS",
    params={"reporterCode": "156", "period": "202501", "cmdCode": "TOTAL"}, expect="json",
    reporter="CHN", period_start=date(2025, 1, 1), period_end=date(2025, 1, 1),
    meta={"freq": "M"},
)
QUOTA = "Out of call volume quota. Quota will be replenished in 03:14:17."


def answer(status: int, body: bytes | dict, **headers: str) -> Answer:
    raw = json.dumps(body).encode() if isinstance(body, dict) else body
    return Answer(REQ, REQ.describe(), status, CaseInsensitiveDict(headers), raw)


# ------------------------------------------------------------------------------------------
# interpret: every answer shape keeps the publisher's sentence


def test_quota_403_is_quota_exceeded_with_the_wait():
    error = comtrade.interpret(answer(403, {"statusCode": 403, "message": QUOTA}, **{"Retry-After": "11657"}))
    assert isinstance(error, QuotaExceeded) and isinstance(error, PublisherUnreachable)
    assert error.wait == "03:14:17"
    assert QUOTA in str(error) and "Retry-After 11657" in str(error)


def test_missing_and_invalid_keys_are_auth_errors_with_the_publishers_sentence():
    missing = comtrade.interpret(answer(401, missing_key_body(REAL)))
    assert isinstance(missing, AuthError)
    assert "Access denied due to missing subscription key" in str(missing)  # the recorded message
    invalid = comtrade.interpret(answer(403, {
        "statusCode": 403,
        "message": "Access denied due to invalid subscription key. Make sure to provide a valid key "
                   "for an active subscription.",
    }))
    assert isinstance(invalid, AuthError) and not isinstance(invalid, QuotaExceeded)
    assert "invalid subscription key" in str(invalid)


def test_429_after_the_retries_stops_the_source_with_the_message():
    error = comtrade.interpret(answer(
        429, {"statusCode": 429, "message": "Rate limit is exceeded. Try again in 2 seconds."},
        **{"Retry-After": "2"},
    ))
    assert type(error) is PublisherUnreachable
    assert "Rate limit is exceeded. Try again in 2 seconds." in str(error)


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        # v1 envelope with its error field (shape of the recorded get_S_A_EB_r156_2010_empty.json)
        (400, {"elapsedTime": "0.01 secs", "count": 0, "data": [], "error": "Invalid period."},
         "Invalid period."),
        (400, {"statusCode": 400, "message": "Bad period"}, "Bad period"),
        (400, b"<html><body><h1>Request URL Too Long</h1></body></html>", "Request URL Too Long"),
        (200, {"elapsedTime": "0.01 secs", "count": 0, "data": [], "error": "Invalid flowCode."},
         "Invalid flowCode."),
        # legacy API: validation block with a message, no data
        (200, {"validation": {"status": {"name": "Invalid", "value": 5003, "category": 0,
                                         "description": "Result too large"},
                              "message": "Maximum resultset is: 10000"}, "dataset": []},
         "Maximum resultset is: 10000"),
    ],
)
def test_refusals_keep_the_publishers_message(status, body, message):
    error = comtrade.interpret(answer(status, body))
    assert isinstance(error, RequestRefused)
    assert (error.status, error.message) == (status, message)
    assert message in str(error)


def test_good_answers_and_server_errors_are_left_to_the_http_layer():
    good = recording_or_sample("comtrade/get_S_A_EB_r156_2010_empty.json").read_bytes()
    legacy_ok = recording_or_sample("comtrade/legacy_api_get_r8_ps2014_TOTAL_trimmed.json").read_bytes()
    assert comtrade.interpret(answer(200, good)) is None
    assert comtrade.interpret(answer(200, legacy_ok)) is None  # validation status Ok, message null
    assert comtrade.interpret(answer(503, b"Service Unavailable")) is None


def test_parse_keeps_the_legacy_validation_message():
    body = json.dumps({"validation": {"status": {"value": 5003}, "message": "Maximum resultset is: 10000"}})
    with pytest.raises(ParseError, match="Maximum resultset is: 10000"):
        comtrade.parse(body.encode(), REQ)


# ------------------------------------------------------------------------------------------
# pacing and memo flows


def test_pacing_is_10_a_minute_keyed_and_slower_keyless_but_not_on_loopback():
    assert comtrade.min_interval(Settings(comtrade_api_key="k")) == 6.0  # comtradr: 10 a minute
    assert comtrade.min_interval(Settings()) == 12.0
    assert comtrade.min_interval(Settings(comtrade_base_url="http://127.0.0.1:8765/comtrade")) == 0.0
    assert comtrade.min_interval(Settings(comtrade_base_url="http://localhost:1/comtrade")) == 0.0
    assert comtrade.RETRY_AFTER_STATUSES == (403,)


def test_memo_flows_are_their_own_flows_never_added_to_exports_or_imports(monkeypatch):
    # flows.schema.FLOWS holds X, M, RX, RM today; the memo flows need it widened (reported).
    monkeypatch.setattr(flows.schema, "FLOWS", flows.schema.FLOWS | set(comtrade.FLOW_CODES))
    body = (FIXTURES / "memo_flows_made_up.json").read_bytes()
    req = FetchRequest(
        source="comtrade", url="https://comtradeapi.un.org/data/v1/get/C/M/HS",
        params={"cmdCode": "TOTAL"}, expect="json", reporter="HKG",
        period_start=date(2024, 3, 1), period_end=date(2024, 3, 1), meta={"freq": "M"},
    )
    frame = comtrade.parse(body, req)
    rows = {r["flow"]: r for r in frame.to_dicts()}
    assert set(rows) == {"X", "M", "RX", "RM", "DX", "FM", "MIP", "MOP", "XIP", "XOP"}
    # MADE-UP values of the fixture: X stays 1000 although DX (100) + RX (900) are beside it.
    assert rows["X"]["value"] == 1000.0 and rows["DX"]["value"] == 100.0
    assert rows["RX"]["value"] == 900.0 and rows["M"]["value"] == 1200.0
    assert {f for f, r in rows.items() if r["valuation"] == "CIF"} == {"M", "RM", "FM", "MIP", "MOP"}
    assert {r["partner"] for r in rows.values()} == {"CHN"}
    assert comtrade.MEMO_FLOWS == set(rows) - {"X", "M"}


# ------------------------------------------------------------------------------------------
# through the strict double


@pytest.fixture
def publishers(httpserver, recordings, monkeypatch, tmp_path):
    handler = RecordedPublishers(recordings)
    point_publishers_at(httpserver, handler, monkeypatch)
    monkeypatch.setenv("TRADE_IMBALANCE_WAREHOUSE", str(tmp_path))
    monkeypatch.delenv("TRADE_IMBALANCE_COMTRADE_API_KEY", raising=False)
    get_settings.cache_clear()
    yield handler
    get_settings.cache_clear()


def keyed(monkeypatch) -> Settings:
    monkeypatch.setenv("TRADE_IMBALANCE_COMTRADE_API_KEY", "test-key")
    get_settings.cache_clear()
    return get_settings()


def run(scope: RunScope, settings: Settings):
    return fetch_source("comtrade", scope.resolved(), settings, Archive(settings.raw_dir))


CHN_2025 = RunScope(
    sources=("comtrade",), reporters=("CHN",), period_start=date(2025, 1, 1),
    period_end=date(2026, 3, 1),
)


def test_the_double_refuses_what_comtrade_refuses(publishers, httpserver):
    base = httpserver.url_for("/comtrade")
    ok_params = {"reportercode": "156", "period": "202501", "partnerCode": "0", "flowCode": "X"}
    keyless = requests.get(f"{base}/data/v1/get/C/M/HS", params=ok_params, timeout=10)
    assert keyless.status_code == 401
    assert "missing subscription key" in keyless.json()["message"]  # the recorded body
    two = requests.get(f"{base}/public/v1/preview/C/M/HS",
                       params={**ok_params, "period": "202501,202502"}, timeout=10)
    assert two.status_code == 400 and "one period" in two.json()["error"]
    big = requests.get(f"{base}/public/v1/preview/C/M/HS", params={**ok_params, "maxRecords": "501"},
                       timeout=10)
    assert big.status_code == 400
    unknown = requests.get(f"{base}/public/v1/preview/C/M/HS", params={**ok_params, "rtCode": "156"},
                           timeout=10)
    assert unknown.status_code == 400 and "rtcode" in unknown.json()["error"]
    # A period in the other frequency's syntax: Comtrade answers an empty 200 (issue #18).
    annual = requests.get(f"{base}/public/v1/preview/C/A/HS", params=ok_params, timeout=10)
    assert annual.status_code == 200 and annual.json()["count"] == 0
    assert requests.get(f"{base}/data/v2/get/C/M/HS", timeout=10).status_code == 404
    good = requests.get(f"{base}/public/v1/preview/C/M/HS", params=ok_params, timeout=10)
    assert good.status_code == 200
    assert len(publishers.refused) == 6 and all(r[0] == "comtrade" for r in publishers.refused)


def test_a_malformed_request_fails_the_run_with_comtrades_message(publishers, monkeypatch):
    planning = importlib.import_module("flows.sources.comtrade.planning")
    monkeypatch.setattr(planning, "PREVIEW_PERIODS_PER_CALL", 12)  # the old, refused plan
    outcome = run(CHN_2025, get_settings())
    assert outcome.planned == 2 and outcome.fetched == 0 and not outcome.ok
    assert len(outcome.errors) == 2
    assert "HTTP 400" in outcome.errors[0]
    assert "The preview accepts one period per call." in outcome.errors[0]  # the 400's sentence
    assert [reason for _, _, reason in publishers.refused] == [
        "preview with 12 periods", "preview with 3 periods"
    ]


def test_the_keyless_preview_is_asked_one_period_per_call(publishers):
    outcome = run(CHN_2025, get_settings())
    assert outcome.planned == 15 and outcome.fetched == 15, outcome.line()
    assert publishers.refused == []
    asked = [p for p in publishers.requests if p.startswith("/comtrade/")]
    periods = [p.split("period=")[1].split("&")[0] for p in asked]
    assert periods == [f"2025{m:02d}" for m in range(1, 13)] + ["202601", "202602", "202603"]
    # The double has no recording for the preview here and answers count 0: the run reports
    # the months the release calendar expects as missing, never as data.
    assert outcome.rows_parsed == 0 and all("missing" in e for e in outcome.errors)


def test_a_keyed_chn_monthly_refresh_sends_no_refused_request(publishers, monkeypatch, httpserver):
    outcome = run(CHN_2025, keyed(monkeypatch))
    assert outcome.ok and outcome.planned == 2 and outcome.fetched == 2, outcome.line()
    assert publishers.refused == []
    headers = [entry[0].headers for entry in httpserver.log if "/comtrade/" in entry[0].path]
    assert all(h.get("Ocp-Apim-Subscription-Key") == "test-key" for h in headers)
    # MADE-UP answer: World + the run's 8 default partners other than China (the reporter is
    # never its own partner) × X, M × 15 months
    assert outcome.rows_parsed == 9 * 2 * 15
    assert all(entry[1].headers.get("X-Test-Double") == "made-up values"
               for entry in httpserver.log if "/comtrade/" in entry[0].path)


def test_the_quota_403_stops_comtrade_with_the_wait(publishers, monkeypatch):
    publishers.handlers["comtrade"].quota_exhausted = True
    settings = keyed(monkeypatch)
    (request, *_) = comtrade.plan(_context(settings))
    client = client_for(comtrade, settings)
    try:
        with pytest.raises(QuotaExceeded) as info:
            client.get(request)
    finally:
        client.close()
    assert info.value.wait == "03:14:17" and QUOTA in str(info.value)
    outcome = run(CHN_2025, settings)
    assert outcome.unreachable and "replenished in 03:14:17" in outcome.unreachable
    assert outcome.fetched == 0


def test_a_429_with_retry_after_is_retried(publishers, monkeypatch):
    double = publishers.handlers["comtrade"]
    double.rate_limited_calls, double.retry_after_seconds = 1, 1
    monkeypatch.setenv("TRADE_IMBALANCE_MAX_RETRIES", "2")
    settings = keyed(monkeypatch)
    (request, *_) = comtrade.plan(_context(settings))
    client = client_for(comtrade, settings)
    try:
        fetched = client.get(request)
    finally:
        client.close()
    assert fetched.status == 200 and double.rate_limited_calls == 0
    assert len([p for p in publishers.requests if p.startswith("/comtrade/")]) == 2
    frame = comtrade.parse(fetched.body, request)
    assert isinstance(frame, pl.DataFrame) and frame.height == 14 * 2 * 12  # MADE-UP 2025 answer:
    # World + the 13 Comtrade default partners other than China × X, M × 12 months


def _context(settings):
    from flows.sources.base import PlanContext

    return PlanContext(
        settings=settings, reporters=("CHN",), partners=(), period_start=date(2025, 1, 1),
        period_end=date(2026, 3, 1), fetch=lambda r: None, options={},
    )
