"""The quarantine (flows/quarantine.py): implausible new vintages are archived, not loaded, and
reported until their content changes or a person accepts them.

Every figure here is MADE UP (labelled fixtures of tests/fixtures/gacc/ and frames written
below); the tests check which payloads are held back and why, never real statistics.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from flows.archive import Archive
from flows.build import build_warehouse
from flows.fetch import fetch_source
from flows.quarantine import implausible
from flows.schema import OBSERVATION_SCHEMA
from flows.scope import RunScope
from flows.settings import Settings
from tests.double import StrictPublishers

FIXTURES = Path(__file__).parent / "fixtures" / "gacc"
JUN_2025_UUID = "00000000-0000-4000-8000-000000202506"


def _frame(values: dict[tuple[str, str], float]) -> pl.DataFrame:
    """Made-up monthly CHN observations: {(partner, flow): value} for 2026-03."""
    rows = [
        {"source": "gacc", "reporter": "CHN", "partner": partner,
         "partner_kind": "world" if partner == "WLD" else "country", "flow": flow,
         "period_start": date(2026, 3, 1), "period_end": date(2026, 3, 1), "months": 1,
         "period_type": "month", "commodity": "TOTAL", "value": value, "currency": "CNY",
         "valuation": "FOB" if flow == "X" else "CIF", "status": "reported",
         "published_yoy": None, "release": "made up", "vintage": None}
        for (partner, flow), value in values.items()
    ]
    return pl.DataFrame(rows, schema=OBSERVATION_SCHEMA)


OLD = {("WLD", "X"): 2000.0, ("WLD", "M"): 1500.0, ("USA", "X"): 300.0, ("USA", "M"): 100.0,
       ("VNM", "X"): 150.0, ("VNM", "M"): 80.0}


def test_a_revision_of_a_few_percent_passes():
    new = {k: v * 1.02 for k, v in OLD.items()}
    assert implausible(_frame(new), _frame(OLD)) is None


def test_a_scale_change_is_caught():
    new = {k: v / 10_000 for k, v in OLD.items()}  # "CNY 100 Million" read as "CNY 10 Thousand"
    reason = implausible(_frame(new), _frame(OLD))
    assert reason.startswith("scale: 6 of 6 values changed by ×5 or more")


def test_swapped_exports_and_imports_are_caught():
    new = {(p, "X" if f == "M" else "M"): v for (p, f), v in OLD.items()}
    reason = implausible(_frame(new), _frame(OLD))
    assert reason.startswith("swap: for 3 of 3 keys the new exports equal the old imports")


def test_a_world_total_moved_beyond_the_bound_is_caught():
    new = dict(OLD)
    new[("WLD", "X")] = 2000.0 * 1.4
    reason = implausible(_frame(new), _frame(OLD))
    assert reason.startswith("total moved: CHN→WLD X 2026-03 changed by +40.0%")
    assert implausible(_frame(new), _frame(OLD), max_total_revision=0.5) is None


def _page(*, unit: str | None = None, swap: bool = False) -> bytes:
    text = (FIXTURES / "section4_jun2025_cny_made_up.html").read_text(encoding="utf-8")
    if unit is not None:
        text = text.replace("Unit: CNY 100 Million", unit)
    if swap:  # swap the Export and Import column headers: the columns' figures trade places
        text = re.sub(r"<b>(Export|Import)</b>",
                      lambda m: "<b>Import</b>" if m.group(1) == "Export" else "<b>Export</b>", text)
    return text.encode("utf-8")


@pytest.fixture
def gacc(httpserver, tmp_path):
    publishers = StrictPublishers()
    double = publishers.handlers["gacc"]
    double.indexes[2025] = (FIXTURES / "preliminary2025_index_jun_made_up.html").read_bytes()
    double.pages[JUN_2025_UUID] = _page()
    httpserver.expect_request(re.compile(".*")).respond_with_handler(publishers)
    settings = Settings(warehouse=tmp_path, gacc_base_url=httpserver.url_for("/gacc"),
                        requests_per_minute=60_000.0, backoff_factor=0.01)
    scope = RunScope(sources=("gacc",), reporters=("CHN",), period_start=date(2025, 6, 1),
                     period_end=date(2025, 6, 1), options={"gacc_current_year": 2026}).resolved()
    archive = Archive(settings.raw_dir)

    def run():
        return fetch_source("gacc", scope, settings, archive)

    return double, run, archive, settings


def _world_exports(archive: Archive, tmp_path: Path) -> float:
    database = tmp_path / "check.duckdb"
    build_warehouse(archive, database)
    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.execute(
            """SELECT value FROM raw.observations WHERE source = 'gacc' AND partner = 'WLD'
               AND flow = 'X' AND period_type = 'month'"""
        ).fetchone()[0]
    finally:
        con.close()


@pytest.mark.parametrize(
    ("edit", "reason"),
    [({"unit": "Unit: CNY 10 Thousand"}, "scale:"), ({"swap": True}, "swap:")],
    ids=["unit-change", "swapped-columns"],
)
def test_an_implausible_vintage_is_quarantined_until_accepted(gacc, tmp_path, monkeypatch, edit,
                                                               reason):
    double, run, archive, settings = gacc
    first = run()
    assert first.ok, first.line()
    # fixture row "Total", Export "6": 3,000.0 (CNY 100 Million; a made-up figure)
    assert _world_exports(archive, tmp_path) == 300_000_000_000

    double.pages[JUN_2025_UUID] = _page(**edit)
    second = run()
    assert not second.ok and len(second.quarantined) == 1, second.line()
    assert f"quarantined: {reason}" in second.quarantined[0]
    assert len(second.new_quarantines) == 1
    assert _world_exports(archive, tmp_path) == 300_000_000_000  # not loaded
    third = run()  # re-fetched, still held, reported as unchanged and not as new
    assert "unchanged since" in third.quarantined[0] and third.new_quarantines == []

    from flows.cli import app

    monkeypatch.setenv("TRADE_IMBALANCE_WAREHOUSE", str(settings.warehouse))
    from flows.settings import get_settings

    get_settings.cache_clear()
    sha = second.new_quarantines[0]
    accepted = CliRunner().invoke(app, ["accept", sha[:12]])
    assert accepted.exit_code == 0, accepted.output
    assert f"accepted {sha[:12]}" in accepted.stdout
    expected = 30_000_000 if "unit" in edit else 250_000_000_000  # fixture: Import "6" 2,500.0
    assert _world_exports(archive, tmp_path) == expected
    fourth = run()
    assert fourth.ok and fourth.quarantined == []  # the accepted vintage is now the one loaded


def test_accept_refuses_what_it_cannot_accept(gacc, monkeypatch):
    _double, run, _archive, settings = gacc
    run()
    from flows.cli import app
    from flows.settings import get_settings

    monkeypatch.setenv("TRADE_IMBALANCE_WAREHOUSE", str(settings.warehouse))
    get_settings.cache_clear()
    for prefix, message in (("abc", "at least 8"), ("ffffffffffff", "no archived payload")):
        result = CliRunner().invoke(app, ["accept", prefix])
        assert result.exit_code == 2 and message in result.output
    loaded = next(e for e in Archive(settings.raw_dir).entries() if e.request.role == "data")
    result = CliRunner().invoke(app, ["accept", loaded.sha256[:12]])
    assert result.exit_code == 2 and "not quarantined" in result.output
