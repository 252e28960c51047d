"""All six sources through the real HTTP path, archive, build and models — without Prefect.

A loopback server (:mod:`tests.recorded_server`) answers with the real recorded payloads; each
source is fetched for a window the recordings cover, then the warehouse is built from the archive.
Figures asserted are read off the recorded files:

* IMF IMTS ``imts_sdmx3_data_USA_XG_FOB_USD_G001+G998_A_2023-2024.xml``: US exports to G001
  (world) 2023, OBS_VALUE 2019551635133 (whole USD).
* US Census ``intltrade_imports_hs_cty_GEN_VAL_MO_…csv``: imports from China (5700), 2024-12,
  GEN_VAL_MO 37553745287; the "-" TOTAL row 284911220759.
* Eurostat ``ext_st_easitc_…csv``: EA20 imports from CN_X_HK, SITC7, 2020-01, 14986.6 (million EUR).
* GACC March 2026 CNY table (4): "Total" export month 22,297.0 (CNY 100 million).
* UN Comtrade ``get_C_A_HS_r156_p32-280-276_2010_TOTAL.json``: China imports from Argentina
  2010, primaryValue 6804128143.
* ECB ``ecb_cny_eur_monthly.json``: CNY per EUR 2026-03 = 7.970263636363637.
"""

from __future__ import annotations

import re
from datetime import date

import duckdb
import pytest

from flows.archive import Archive
from flows.build import build_warehouse
from flows.fetch import fetch_source
from flows.scope import RunScope
from flows.settings import Settings
from tests.recorded_server import RecordedPublishers

WINDOWS = {
    "gacc": RunScope(reporters=("CHN",), period_start=date(2026, 3, 1), period_end=date(2026, 3, 1)),
    "comtrade": RunScope(
        reporters=("CHN",), period_start=date(2010, 1, 1), period_end=date(2010, 12, 1),
        options={"comtrade_frequency": "A"},
    ),
    "imf": RunScope(
        reporters=("USA",), partners=("WLD",), period_start=date(2023, 1, 1),
        period_end=date(2024, 12, 1), options={"imf_frequency": "A"},
    ),
    "census": RunScope(reporters=("USA",), period_start=date(2024, 12, 1), period_end=date(2024, 12, 1)),
    "eurostat": RunScope(
        reporters=("EA20",), period_start=date(2020, 1, 1), period_end=date(2020, 1, 1)
    ),
    "ecb": RunScope(period_start=date(2026, 3, 1), period_end=date(2026, 3, 1)),
}


@pytest.fixture
def warehouse(httpserver, real_data, tmp_path):
    httpserver.expect_request(re.compile(".*")).respond_with_handler(RecordedPublishers(real_data))
    settings = Settings(
        warehouse=tmp_path,
        requests_per_minute=60000,
        backoff_factor=0.01,
        **{f"{s}_base_url": httpserver.url_for(f"/{s}") for s in WINDOWS},
    )
    archive = Archive(settings.raw_dir)
    outcomes = {s: fetch_source(s, WINDOWS[s].resolved(), settings, archive) for s in WINDOWS}
    database = tmp_path / "trade.duckdb"
    build_warehouse(archive, database)
    con = duckdb.connect(str(database), read_only=True)
    yield con, outcomes
    con.close()


def test_every_publisher_loads_and_is_covered(warehouse):
    con, outcomes = warehouse
    for outcome in outcomes.values():
        assert outcome.rows_parsed > 0, outcome.line()
    # The March 2026 USD table was not recorded: the one failure is that 404.
    assert outcomes["gacc"].errors and all("HTTP 404" in e for e in outcomes["gacc"].errors)
    assert all(o.ok for s, o in outcomes.items() if s != "gacc")
    covered = dict(con.execute("SELECT source, latest_period FROM marts.source_coverage").fetchall())
    assert covered == {
        "gacc": date(2026, 3, 1),
        "comtrade": date(2010, 12, 1),
        "imf": date(2024, 12, 1),
        "census": date(2024, 12, 1),
        "eurostat": date(2020, 1, 1),
        "ecb": date(2026, 4, 1),  # the recorded ECB file runs to 2026-04 whatever the window
    }


def test_figures_match_the_recorded_documents(warehouse):
    con, _ = warehouse

    def one(sql, *params):
        rows = con.execute(sql, list(params)).fetchall()
        assert len(rows) == 1, rows
        return rows[0]

    # IMF: whole USD despite SCALE="6"; published in USD so value_usd is the value itself.
    assert one(
        """SELECT exports, exports_usd, months FROM marts.trade_balance_monthly
           WHERE source = 'imf' AND reporter = 'USA' AND period_start = DATE '2023-01-01'"""
    ) == (2_019_551_635_133.0, 2_019_551_635_133.0, 12)
    # Census: imports from China at customs value (ex freight), and the world total row.
    assert one(
        """SELECT imports, imports_usd FROM marts.bilateral_balance_monthly
           WHERE source = 'census' AND partner = 'CHN' AND period_start = DATE '2024-12-01'"""
    ) == (37_553_745_287.0, 37_553_745_287.0)
    assert one(
        """SELECT value, valuation FROM intermediate.observations WHERE source = 'census'
           AND partner = 'WLD' AND flow = 'M' AND period_start = DATE '2024-12-01'
           AND valuation = 'CUSTOMS'"""
    ) == (284_911_220_759.0, "CUSTOMS")
    # Eurostat: million EUR scaled to whole EUR; no USD/EUR rate recorded for 2020 → NULL.
    assert one(
        """SELECT value, currency, value_usd FROM intermediate.observations
           WHERE source = 'eurostat' AND partner = 'CHN' AND commodity = 'SITC7' AND flow = 'M'
             AND period_start = DATE '2020-01-01'"""
    ) == (14_986_600_000.0, "EUR", None)
    # GACC in CNY, and the ECB rate it would be converted with.
    assert one(
        """SELECT exports FROM marts.trade_balance_monthly WHERE source = 'gacc'
           AND currency = 'CNY' AND period_start = DATE '2026-03-01' AND months = 1"""
    ) == (2_229_700_000_000.0,)
    assert one(
        "SELECT rate FROM raw.fx_rates WHERE currency = 'CNY' AND period_start = DATE '2026-03-01'"
    ) == (7.970263636363637,)
    assert one(
        """SELECT imports FROM marts.bilateral_balance_monthly
           WHERE source = 'comtrade' AND reporter = 'CHN' AND partner = 'ARG'"""
    ) == (6_804_128_143.0,)
