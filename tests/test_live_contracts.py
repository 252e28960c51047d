"""Issue "Live publishers", done-when: a refresh for CHN, USA, EA20/EA21 (2025–2026), EU27_2020
and a keyed UN Comtrade run sends no request the strict double refuses, and every publisher is
asked; one malformed request per publisher fails with the publisher's own message (those tests
live beside each publisher: tests/test_<publisher>.py and tests/test_comtrade_contract.py).

The double (tests/double/) checks each request against the publisher's contract; where the
recordings lack what a correct request asks for it answers values it labels as MADE UP, so this
file asserts requests and outcomes, never figures.
"""

from __future__ import annotations

from datetime import date

import pytest

from flows.archive import Archive
from flows.fetch import fetch_source
from flows.scope import RunScope
from flows.settings import Settings
from flows.sources import SOURCE_NAMES
from tests.double import StrictPublishers, all_rules
from tests.recorded_server import point_publishers_at

TODAY = date(2026, 12, 1)
SCOPE = RunScope(
    reporters=("CHN", "USA", "EA20", "EA21", "EU27_2020"),
    period_start=date(2025, 1, 1),
    period_end=date(2026, 10, 1),
    options={"comtrade_frequency": "M", "imf_frequency": "M"},
)


@pytest.fixture
def double(httpserver, monkeypatch):
    publishers = StrictPublishers()
    for name in ("imf", "ecb"):
        publishers.handlers[name].today = TODAY
    point_publishers_at(httpserver, publishers, monkeypatch)
    monkeypatch.setenv("TRADE_IMBALANCE_COMTRADE_API_KEY", "FAKE-COMTRADE-KEY-FOR-TESTS")
    monkeypatch.setenv("TRADE_IMBALANCE_TODAY", TODAY.isoformat())
    return publishers


def test_a_refresh_of_every_publisher_sends_nothing_the_double_refuses(double, tmp_path):
    settings = Settings(warehouse=tmp_path)
    archive = Archive(settings.raw_dir)
    outcomes = {
        name: fetch_source(name, SCOPE.resolved(TODAY), settings, archive) for name in SOURCE_NAMES
    }
    assert double.refused == [], double.refused
    asked = {path.lstrip("/").split("/")[0] for path in double.requests}
    assert asked == set(SOURCE_NAMES)
    # Every publisher that has these periods answered them; none was unreachable.
    for outcome in outcomes.values():
        assert outcome.unreachable is None, outcome.line()
    # Months the calendar does not expect by 1 December 2026 are named, not failed: e.g. the
    # US Census's October 2026 (30 November + 35 days = 5 December).
    assert "2026-10" in outcomes["census"].not_released, outcomes["census"].line()
    # Both euro-area compositions and the EU were asked for, each in the dataset that has it.
    eurostat = [p for p in double.requests if p.startswith("/eurostat/sdmx/2.1/data/")]
    assert any(".EA20?" in p for p in eurostat) and any(".EA21?" in p for p in eurostat)
    assert any(".EU27_2020?" in p for p in eurostat)
    # The keyed Comtrade endpoint, never the keyless preview, when a key is configured.
    comtrade = [p for p in double.requests if p.startswith("/comtrade/")]
    assert comtrade and all(p.startswith("/comtrade/data/v1/get/C/M/HS?") for p in comtrade)
    # IMF: SDMX-ML was asked for (the double refuses anything else, so no refusal proves it).
    assert any(p.startswith("/imf/data/dataflow/IMF.STA/IMTS/") for p in double.requests)


def test_every_rule_of_the_double_names_its_evidence_and_confidence():
    rules = all_rules()
    assert {r.publisher for r in rules} == set(SOURCE_NAMES)
    for rule in rules:
        assert rule.evidence.strip() and rule.name.strip(), rule
        assert rule.confidence in ("confirmed", "consistent", "unverified"), rule
