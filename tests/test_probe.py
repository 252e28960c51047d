"""``trade-imbalance probe`` (:mod:`flows.probe`) against the strict double of the publishers.

"Today" is pinned to 2026-04-10, so the release calendar makes the probe ask for: GACC 2026-03
(the real March 2026 table (4), needs ``shared/data/real``), UN Comtrade 2025-12, IMF 2025-12,
US Census 2026-02, Eurostat 2026-01, ECB 2026-03. Those months (except GACC's) are answered by the
double with values it labels as MADE UP (``X-Test-Double: made-up values``): these tests assert
what the probe reports (statuses, row counts, periods, check outcomes), never the figures.
"""

from __future__ import annotations

import json
import socket
from datetime import date

import pytest
from werkzeug.wrappers import Request, Response

from flows.probe import LIVE_CHECKS, exit_code, format_results, run_probe
from flows.settings import Settings
from tests.double import StrictPublishers, all_rules
from tests.recorded_server import point_publishers_at

TODAY = date(2026, 4, 10)
#: The month the release calendar expects last by TODAY, per publisher.
MONTHS = {"gacc": "2026-03", "comtrade": "2025-12", "imf": "2025-12", "census": "2026-02",
          "eurostat": "2026-01", "ecb": "2026-03"}
#: Requests of the live checks the double refuses (that is what they check).
REFUSING_CHECKS = {"comtrade": 1, "imf": 1, "eurostat": 2, "census": 0, "ecb": 0, "gacc": 0}


def _double() -> StrictPublishers:
    publishers = StrictPublishers()
    publishers.handlers["census"].published_through = "2026-02"  # made-up rows for 2026-02
    publishers.handlers["imf"].today = TODAY
    publishers.handlers["ecb"].today = TODAY
    return publishers


@pytest.fixture
def double(httpserver, monkeypatch):
    publishers = _double()
    point_publishers_at(httpserver, publishers, monkeypatch)
    return publishers


def _by_source(results):
    return {r.source: r for r in results}


@pytest.mark.parametrize("source", ["comtrade", "imf", "census", "eurostat", "ecb"])
def test_each_publisher_probe_passes_against_the_double(double, monkeypatch, source):
    monkeypatch.setenv("TRADE_IMBALANCE_COMTRADE_API_KEY", "FAKEKEY123")  # keyed: made-up rows
    [result] = run_probe(Settings(), sources=[source], today=TODAY)

    assert result.passed, format_results([result])
    assert (result.reachable, result.accepted, result.status) == (True, True, 200)
    assert f"{result.month:%Y-%m}" == MONTHS[source]
    assert result.rows and result.rows > 0
    assert result.latest_period == MONTHS[source]
    assert result.seconds >= 0
    refused = [r for r in double.refused if r[0] == source]
    assert len(refused) == REFUSING_CHECKS[source], refused  # only the checks' own requests
    assert exit_code([result]) == 0


def test_gacc_probe_reads_the_index_then_one_table(double, real_data):
    [result] = run_probe(Settings(), sources=["gacc"], today=TODAY)

    assert result.passed, format_results([result])
    assert result.requests == 2  # the 2026 index page, then the March CNY table (4)
    assert result.request.endswith("/Statics/2e61c8a1-17b2-4074-b909-c039ccf8c8fb.html")
    assert result.latest_period == "2026-03"
    assert not double.refused


def test_every_publisher_in_one_run(double, real_data):
    results = run_probe(Settings(), today=TODAY)

    assert [r.source for r in results] == ["gacc", "comtrade", "imf", "census", "eurostat", "ecb"]
    assert all(r.passed for r in results), "\n".join(format_results(results))
    assert exit_code(results) == 0
    lines = format_results(results)
    assert lines[-1] == "6/6 publishers passed; 0 double rule(s) contradicted by the live service"
    comtrade = _by_source(results)["comtrade"]
    assert comtrade.rows == 0  # keyless preview: the double has nothing for CHN 2025-12
    assert "/public/v1/preview/C/M/HS" in comtrade.request


def test_a_publisher_answering_500_fails_the_probe(httpserver, monkeypatch):
    publishers = _double()

    def handler(request: Request) -> Response:
        if request.path.startswith("/census/"):
            return Response("Internal Server Error", status=500, content_type="text/plain")
        return publishers(request)

    point_publishers_at(httpserver, handler, monkeypatch)
    results = run_probe(Settings(), sources=["census", "ecb"], today=TODAY)
    census, ecb = results

    assert ecb.passed
    assert not census.passed
    assert (census.reachable, census.accepted, census.status, census.rows) == (True, False, 500, None)
    assert "HTTP 500" in census.message
    assert all(c.outcome == "not checked" for c in census.checks)
    assert exit_code(results) == 1
    lines = format_results(results)
    assert lines[0].startswith("census: FAIL — reachable yes; accepted no (HTTP 500)")
    assert lines[-1].startswith("1/2 publishers passed")


def test_an_unreachable_publisher_fails_the_probe(double, monkeypatch):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("TRADE_IMBALANCE_ECB_BASE_URL", f"http://127.0.0.1:{port}/ecb")
    [result] = run_probe(Settings(max_retries=0, connect_timeout=2), sources=["ecb"], today=TODAY)

    assert (result.reachable, result.accepted, result.status) == (False, False, None)
    assert "unreachable" in result.message
    assert exit_code([result]) == 1
    assert format_results([result])[0].startswith("ecb: FAIL — reachable no; accepted no (no answer)")


def test_record_writes_every_reply_and_no_secret(httpserver, monkeypatch, tmp_path):
    publishers = _double()

    def handler(request: Request) -> Response:
        if request.path.startswith("/census/") and request.args.get("MONTH") == "04":
            # a publisher echoing the query string (with the key) in an error page
            return Response(f"error: cannot answer {request.full_path}", status=400,
                            content_type="text/plain")
        return publishers(request)

    point_publishers_at(httpserver, handler, monkeypatch)
    keys = {"COMTRADE": "FAKEKEY123", "CENSUS": "FAKECENSUS456", "IMF": "FAKEIMF789"}
    for name, value in keys.items():
        monkeypatch.setenv(f"TRADE_IMBALANCE_{name}_API_KEY", value)
    folder = tmp_path / "probe"
    results = run_probe(Settings(), sources=["comtrade", "census", "imf"], record=folder, today=TODAY)

    assert any("key=FAKECENSUS456" in path for path in publishers.requests)  # sent at send time
    index = json.loads((folder / "index.json").read_text("utf-8"))
    files = sorted(p.name for p in folder.iterdir())
    assert sorted(e["file"] for e in index) + ["index.json"] == files
    assert sum(r.requests for r in results) == len(index)
    labels = {(e["publisher"], e["label"]) for e in index}
    assert {("comtrade", "data"), ("comtrade", "preview-two-periods"), ("census", "data"),
            ("census", "keyless"), ("census", "no-rows-this-month"), ("imf", "data"),
            ("imf", "accept-any")} <= labels
    census_echo = next(e for e in index if e["label"] == "no-rows-this-month")
    assert census_echo["status"] == 400
    assert "key=REDACTED" in (folder / census_echo["file"]).read_text("utf-8")
    imf_data = next(e for e in index if (e["publisher"], e["label"]) == ("imf", "data"))
    assert imf_data["request_headers"] == {"Accept": "application/xml"}
    assert imf_data["status"] == 200 and imf_data["headers"]["X-Test-Double"] == "made-up values"
    for path in folder.iterdir():
        data = path.read_bytes()
        for value in keys.values():
            assert value.encode() not in data, f"{value} written to {path.name}"
    printed = "\n".join(format_results(results))
    assert not any(value in printed for value in keys.values())


def test_unverified_rule_checks_run_and_report(double):
    results = run_probe(Settings(), sources=["comtrade", "imf", "census", "eurostat"], today=TODAY)

    outcomes = {(c.publisher, c.rule): c for r in results for c in r.checks}
    assert set(outcomes) == {(c.publisher, c.rule) for c in LIVE_CHECKS}
    assert {c.outcome for c in outcomes.values()} == {"confirmed"}, outcomes
    two = outcomes[("comtrade", "preview: exactly one period per call; more → 400")]
    assert "period=202511,202512" in two.request
    assert "/public/v1/preview/" in two.request
    ea20 = outcomes[("eurostat", "a composition asked for after its last month (EA20 in 2026) → "
                                 "400 fault 150 GEO=EA20")]
    assert ea20.observed.startswith("HTTP 400 fault 150") and "GEO=EA20" in ea20.observed
    constraint = outcomes[("eurostat", "structure queries: /sdmx/2.1/datastructure|"
                                       "contentconstraint/ESTAT/<id>")]
    assert "CN_X_HK" in constraint.observed and "latest month 2026-01" in constraint.observed
    lines = format_results(results)
    assert sum(line.startswith("  check [confirmed]") for line in lines) == len(LIVE_CHECKS)


def test_a_contradicted_rule_fails_the_probe(httpserver, monkeypatch):
    publishers = _double()

    def handler(request: Request) -> Response:
        if request.path.startswith("/imf/") and request.headers.get("Accept") == "*/*":
            return Response("<?xml version='1.0'?><message:StructureSpecificData/>",
                            status=200, content_type="application/xml")  # not what the double says
        return publishers(request)

    point_publishers_at(httpserver, handler, monkeypatch)
    [result] = run_probe(Settings(), sources=["imf"], today=TODAY)

    [contradicted] = result.contradicted
    assert contradicted.rule == "without an XML Accept the API answers SDMX-JSON 2.0 (HTTP 200)"
    assert contradicted.observed.startswith("HTTP 200 'application/xml'")
    assert result.accepted and result.rows and not result.passed
    assert exit_code([result]) == 1
    assert "1 double rule(s) contradicted" in format_results([result])[-1]


def test_every_check_names_a_rule_of_the_double():
    names = {(rule.publisher, rule.name) for rule in all_rules()}
    for check in LIVE_CHECKS:
        assert (check.publisher, check.rule) in names, f"{check.publisher}: {check.rule!r}"


def test_an_unknown_source_is_refused_before_any_request(double):
    with pytest.raises(KeyError, match="unknown source 'nope'"):
        run_probe(Settings(), sources=["census", "nope"], today=TODAY)
    assert double.requests == []


def test_probe_asks_for_the_latest_month_the_calendar_expects(double):
    [census] = run_probe(Settings(today=TODAY), sources=["census"])
    assert "?MONTH=02&YEAR=2026&get=CTY_CODE,CTY_NAME,ALL_VAL_MO" in census.request
    assert census.month == date(2026, 2, 1)


def test_a_used_up_quota_stops_the_publisher_without_checks(double, monkeypatch):
    double.handlers["comtrade"].quota_exhausted = True
    [result] = run_probe(Settings(), sources=["comtrade"], today=TODAY)

    assert not result.passed and not result.accepted
    assert result.checks == [] and result.requests == 1  # nothing more is sent
    assert (result.reachable, result.status) == (True, 403)
    assert result.message.startswith("quota: ") and "Out of call volume quota" in result.message
    assert "reachable yes; accepted no (HTTP 403)" in format_results([result])[0]


def test_checks_keep_the_publisher_pacing():
    from flows.probe import _interval
    from flows.sources import comtrade

    live = Settings(comtrade_base_url="https://comtradeapi.un.org")
    assert _interval(comtrade, live) == comtrade.PREVIEW_MIN_INTERVAL  # keyless preview check
    keyed = live.model_copy(update={"comtrade_api_key": "FAKEKEY123"})
    assert _interval(comtrade, keyed) == comtrade.KEYED_MIN_INTERVAL


def test_the_cli_probe_prints_each_publisher_and_exits_by_the_result(double, monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from flows.cli import app

    monkeypatch.setenv("TRADE_IMBALANCE_TODAY", TODAY.isoformat())
    runner = CliRunner()
    passed = runner.invoke(app, ["probe", "--source", "ecb", "--record", str(tmp_path / "rec")])
    assert passed.exit_code == 0, passed.output
    assert "ecb" in passed.stdout and MONTHS["ecb"] in passed.stdout
    assert (tmp_path / "rec" / "index.json").is_file()

    monkeypatch.setenv("TRADE_IMBALANCE_ECB_BASE_URL", "http://127.0.0.1:9/none")
    monkeypatch.setenv("TRADE_IMBALANCE_MAX_RETRIES", "0")
    from flows.settings import get_settings

    get_settings.cache_clear()
    failed = runner.invoke(app, ["probe", "--source", "ecb"])
    assert failed.exit_code == 1, failed.output
    refused = runner.invoke(app, ["probe", "--source", "nope"])
    assert refused.exit_code == 2 and "unknown source" in refused.output
