"""End to end: ``monthly_refresh`` against a loopback server serving the real recorded payloads.

Figures asserted are printed in the pages themselves (``shared/data/real/gacc_html``):

* March 2026, table (4) in CNY, unit "CNY 100 Million", row "United States (US)": export month
  2,045.0, import month 876.1; row "Total": export 22,297.0, import 18,749.4.
* January–February 2025 (one combined release), same table and unit, row "United States (US)":
  export 5,431.3, import 1,905.4; "Total": export 38,812.1 (+3.4 %), import 26,551.5 (−7.3 %).
* US Census, 2024-10…2024-12 (the sample bundled in ``tests/fixtures/census/sample/``, public
  domain, or the recording when ``shared/`` is present): imports from China 2024-12
  ``5700,CHINA,37553745287,2024,12``, exports to China ``5700,CHINA,12295207536,2024,12``. This
  run needs nothing outside the repository.

The GACC test needs ``shared/`` and skips without it.

These tests start Prefect's ephemeral API in-process (about 10 s each run): keep them few.
"""

from __future__ import annotations

import socket
from datetime import date

import duckdb
import pytest

from flows.flow import Source, run_refresh
from flows.settings import get_settings
from tests.recorded_server import RecordedPublishers, point_publishers_at

pytestmark = pytest.mark.flow

SOURCES = ("gacc", "comtrade", "imf", "census", "eurostat", "ecb")


@pytest.fixture
def recorded(httpserver, recordings, monkeypatch):
    """Every publisher's base URL pointed at the strict double (recordings, else the bundled
    samples)."""
    handler = RecordedPublishers(recordings)
    point_publishers_at(httpserver, handler, monkeypatch)
    yield handler
    get_settings.cache_clear()


def _marts(database) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return {
            table: con.execute(f"SELECT * FROM marts.{table} ORDER BY ALL").fetchall()
            for table in ("trade_balance_monthly", "bilateral_balance_monthly")
        }
    finally:
        con.close()


def _one(database, sql, params) -> tuple:
    con = duckdb.connect(str(database), read_only=True)
    try:
        rows = con.execute(sql, params).fetchall()
    finally:
        con.close()
    assert len(rows) == 1, rows
    return rows[0]


def test_refresh_builds_marts_from_recorded_payloads(real_data, recorded, monkeypatch):
    run = dict(
        sources=[Source.GACC, Source.COMTRADE, Source.ECB],
        reporters=["CHN"],
        period_start=date(2025, 1, 1),
        period_end=date(2026, 3, 1),
    )
    _, first = run_refresh(**run)
    database = get_settings().database_path
    # The 2026 index also links the February tables and the March USD table, which were not
    # recorded: the server answers 404 and the run says it is partial, but still publishes.
    assert first["published"] and first["status"] == "partial", first["lines"]
    assert any("HTTP 404" in line for line in first["lines"] if line.startswith("gacc"))

    bilateral = """SELECT exports, imports, balance, months, period_type
                   FROM marts.bilateral_balance_monthly
                   WHERE source = 'gacc' AND reporter = 'CHN' AND partner = 'USA'
                     AND currency = 'CNY' AND period_start = ? AND period_end = ?"""
    # March 2026: 2,045.0 and 876.1 (CNY 100 million)
    assert _one(database, bilateral, [date(2026, 3, 1), date(2026, 3, 1)]) == (
        204_500_000_000.0, 87_610_000_000.0, 116_890_000_000.0, 1, "month"
    )
    # January–February 2025, one combined two-month period: 5,431.3 and 1,905.4
    assert _one(database, bilateral, [date(2025, 1, 1), date(2025, 2, 1)]) == (
        543_130_000_000.0, 190_540_000_000.0, 352_590_000_000.0, 2, "combined"
    )
    world = """SELECT exports, imports, balance FROM marts.trade_balance_monthly
               WHERE source = 'gacc' AND reporter = 'CHN' AND currency = 'CNY'
                 AND period_start = ? AND period_end = ?"""
    assert _one(database, world, [date(2026, 3, 1), date(2026, 3, 1)]) == (
        2_229_700_000_000.0, 1_874_940_000_000.0, 354_760_000_000.0
    )
    assert _one(database, world, [date(2025, 1, 1), date(2025, 2, 1)]) == (
        3_881_210_000_000.0, 2_655_150_000_000.0, 1_226_060_000_000.0
    )
    before = _marts(database)

    # A second identical run changes nothing.
    _, second = run_refresh(**run)
    assert _marts(database) == before, second["lines"]

    # Offline: rebuilt from the raw archive alone, with no server behind the base URLs.
    for source in SOURCES:
        monkeypatch.setenv(f"TRADE_IMBALANCE_{source.upper()}_BASE_URL", "http://127.0.0.1:9/none")
    get_settings.cache_clear()
    _, offline = run_refresh(**run, offline=True, force=True)
    assert offline["status"] == "ok" and offline["published"], offline["lines"]
    assert _marts(database) == before


def test_unreachable_publishers_keep_the_previous_warehouse(recorded, monkeypatch):
    run = dict(
        sources=[Source.CENSUS], reporters=["USA"], period_start=date(2024, 10, 1),
        period_end=date(2024, 12, 1),
    )
    _, first = run_refresh(**run)
    database = get_settings().database_path
    assert first["status"] == "ok" and first["published"], first["lines"]
    assert first["lines"][0].startswith("census: 6 requests, 6 fetched"), first["lines"]
    # US imports from (customs value) and exports to (f.a.s.) China, 2024-12, whole USD.
    pair = """SELECT imports, exports, balance FROM marts.bilateral_balance_monthly
              WHERE source = 'census' AND reporter = 'USA' AND partner = ? AND period_start = ?
                AND months = 1"""
    assert _one(database, pair, ["CHN", date(2024, 12, 1)]) == (
        37_553_745_287.0, 12_295_207_536.0, -25_258_537_751.0
    )
    # The "-" TOTAL rows: imports 284911220759, exports 165358300606.
    world = """SELECT imports, exports FROM marts.trade_balance_monthly
               WHERE source = 'census' AND reporter = 'USA' AND period_start = ? AND months = 1"""
    assert _one(database, world, [date(2024, 12, 1)]) == (284_911_220_759.0, 165_358_300_606.0)
    before = _marts(database)

    # A second identical run changes nothing; an offline rebuild from the archive gives the same.
    _, second = run_refresh(**run)
    assert second["status"] in ("ok", "unchanged") and _marts(database) == before, second["lines"]
    _, offline = run_refresh(**run, offline=True, force=True)
    assert offline["status"] == "ok" and offline["published"], offline["lines"]
    assert _marts(database) == before
    stamp = database.stat().st_mtime_ns

    # Nothing listens on the closed port: every source says so on one line.
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    for source in SOURCES:
        monkeypatch.setenv(f"TRADE_IMBALANCE_{source.upper()}_BASE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("TRADE_IMBALANCE_MAX_RETRIES", "1")
    get_settings.cache_clear()
    try:
        # GACC publishes China's figures only: CHN is added so that it has something to ask.
        state, result = run_refresh(
            **{**run, "sources": [Source.CENSUS, Source.GACC], "reporters": ["USA", "CHN"]}
        )
    finally:
        closed.close()
    # No publisher answered and the archive holds nothing new: nothing is published, exit 1.
    assert result["status"] == "failed" and result["exit_code"] == 1, "\n".join(result["lines"])
    assert state.is_failed() and state.name == "Failed" and not result["published"]
    unreachable = [line for line in result["lines"] if "NOT REFRESHED" in line]
    assert [line.split(":")[0] for line in unreachable] == ["census", "gacc"]
    assert all("Connection refused" in line for line in unreachable)
    # The archive did not change, so the published file was not even rebuilt.
    assert database.stat().st_mtime_ns == stamp
    assert _marts(database) == before
