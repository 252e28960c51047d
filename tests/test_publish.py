"""Safe publishing: a failed or killed refresh leaves the published file byte for byte as it was,
stale builds are cleaned up, one writer at a time, and readers are never blocked or shown a
half-built warehouse.

The warehouse is built from real US Census payloads served on loopback by the strict double, from
the sample bundled with the repository (``tests/fixtures/census/sample/``, public domain; the same
rows as the recording in ``shared/data/real/census/`` when that is present): 2024-10…2024-12, US
general imports from China (5700) in 2024-12 ``GEN_VAL_MO`` 37,553,745,287 USD (customs value),
exports to China ``ALL_VAL_MO`` 12,295,207,536 USD (f.a.s.). One test also checks the UN Comtrade
China 2010 recording (``comtrade/get_C_A_HS_r156_p32-280-276_2010_TOTAL.json``: imports from
Argentina 6,804,128,143 USD), and skips without ``shared/``.
Most tests call :mod:`flows.build` / :mod:`flows.publish` directly (fast); one runs the Prefect
flow (marked ``flow``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest
from werkzeug.wrappers import Response

from flows.archive import Archive
from flows.fetch import fetch_source
from flows.models import SQL_DIR, DataTestFailure
from flows.publish import (
    WriterBusy,
    building,
    export_marts,
    rebuild_and_publish,
    remove_stale_builds,
    staging_path,
    writer_lock,
)
from flows.scope import RunScope
from flows.settings import get_settings
from tests.recorded_server import RecordedPublishers, point_publishers_at

ROOT = Path(__file__).resolve().parents[1]
#: Made-up garbage a broken publisher might send with HTTP 200.
GARBAGE = b"\x00\x01 this is not JSON {{{"
#: US Census, three months the bundled sample holds.
CENSUS_Q4_2024 = dict(
    sources=("census",), reporters=("USA",), period_start=date(2024, 10, 1),
    period_end=date(2024, 12, 1),
)
#: US imports from / exports to ``partner`` in one month (whole USD).
PAIR = """SELECT imports, exports FROM marts.bilateral_balance_monthly
          WHERE source = 'census' AND reporter = 'USA' AND partner = ? AND period_start = ?
            AND months = 1"""
DEC_2024 = date(2024, 12, 1)
#: imports sample: ``5700,CHINA,37553745287,2024,12``; exports sample: ``5700,CHINA,12295207536,2024,12``
CHINA_DEC_2024 = (37_553_745_287.0, 12_295_207_536.0)
COMTRADE_2010 = dict(
    sources=("comtrade",), reporters=("CHN",), period_start=date(2010, 1, 1),
    period_end=date(2010, 12, 1), options={"comtrade_frequency": "A"},
)
COMTRADE_PAIR = """SELECT imports, exports FROM marts.bilateral_balance_monthly
                   WHERE source = 'comtrade' AND reporter = 'CHN' AND partner = ? AND months = 12"""


class _PublishersWithGarbage(RecordedPublishers):
    """The recorded publishers, plus ``/garbage/...`` answering 200 with bytes no parser accepts."""

    def __call__(self, request):
        if request.path.startswith("/garbage/"):
            self.requests.append(request.full_path)
            return Response(GARBAGE, status=200, content_type="application/json")
        return super().__call__(request)


@pytest.fixture
def recorded(httpserver, recordings, monkeypatch):
    """Every publisher's base URL pointed at the strict double (recordings, else the bundled
    samples)."""
    point_publishers_at(httpserver, _PublishersWithGarbage(recordings), monkeypatch)
    yield httpserver
    get_settings.cache_clear()


@pytest.fixture
def published(recorded):
    """A warehouse published from the real Census payloads of 2024-10…2024-12 (bundled sample);
    returns the settings."""
    settings = get_settings()
    archive = Archive(settings.raw_dir)
    outcome = fetch_source("census", RunScope(**CENSUS_Q4_2024).resolved(), settings, archive)
    assert outcome.ok and outcome.fetched == 6, outcome.line()  # 3 months × exports, imports
    rebuild_and_publish(archive, settings.database_path)
    return settings


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one(database: Path, sql: str, params: list) -> tuple:
    con = duckdb.connect(str(database), read_only=True)
    try:
        rows = con.execute(sql, params).fetchall()
    finally:
        con.close()
    assert len(rows) == 1, rows
    return rows[0]


def leftovers(warehouse: Path) -> list[str]:
    return sorted(p.name for p in warehouse.glob(".*building*")) + sorted(
        p.name for p in (warehouse / "exports").glob(".*tmp*")
    )


def test_published_warehouse_holds_the_recorded_figures(published):
    database = published.database_path
    assert one(database, PAIR, ["CHN", DEC_2024]) == CHINA_DEC_2024
    # imports sample: 5520,VIETNAM,11753711838,2024,12
    assert one(database, PAIR, ["VNM", DEC_2024])[0] == 11_753_711_838.0
    parquet = published.warehouse / "exports" / "bilateral_balance_monthly.parquet"
    exported = duckdb.execute(
        f"""SELECT imports FROM read_parquet('{parquet}')
            WHERE source = 'census' AND partner = 'CHN' AND period_start = DATE '2024-12-01'
              AND months = 1"""
    ).fetchall()
    assert exported == [(37_553_745_287.0,)]
    assert leftovers(published.warehouse) == []


def test_published_warehouse_holds_the_recorded_comtrade_figures(httpserver, real_data, monkeypatch):
    """The same publish path on the UN Comtrade China 2010 recording (needs ``shared/``)."""
    point_publishers_at(httpserver, RecordedPublishers(real_data), monkeypatch)
    settings = get_settings()
    archive = Archive(settings.raw_dir)
    outcome = fetch_source("comtrade", RunScope(**COMTRADE_2010).resolved(), settings, archive)
    assert outcome.ok and outcome.fetched == 1, outcome.line()
    rebuild_and_publish(archive, settings.database_path)
    assert one(settings.database_path, COMTRADE_PAIR, ["ARG"])[0] == 6_804_128_143.0
    assert one(settings.database_path, COMTRADE_PAIR, ["DEU"])[1] == 68_047_133_397.0
    get_settings.cache_clear()


def test_data_test_failure_leaves_the_published_file_byte_identical(published, tmp_path):
    database = published.database_path
    before = digest(database)
    exports = {p.name: digest(p) for p in (published.warehouse / "exports").glob("*.parquet")}
    sql_dir = tmp_path / "sql"
    shutil.copytree(SQL_DIR, sql_dir)
    (sql_dir / "tests" / "zz_always_fails.sql").write_text(
        "-- made up for this test: one offending row, always\nSELECT 'illustrative failure' AS reason\n"
    )
    with pytest.raises(DataTestFailure, match="zz_always_fails"):
        rebuild_and_publish(Archive(published.raw_dir), database, sql_dir=sql_dir)
    assert digest(database) == before
    assert {p.name: digest(p) for p in (published.warehouse / "exports").glob("*.parquet")} == exports
    assert leftovers(published.warehouse) == []


KILLED_BUILD = """
import os, sys, time
from pathlib import Path
from flows.archive import Archive
from flows.publish import rebuild_and_publish

raw, database, marker = map(Path, sys.argv[1:4])

def progress(message):
    if message.startswith("load:"):  # the new file is open and being written
        marker.write_text(str(os.getpid()))
        time.sleep(600)

rebuild_and_publish(Archive(raw), database, progress=progress)
"""


def test_killed_refresh_leaves_the_published_file_and_the_next_run_cleans_up(published, tmp_path):
    database = published.database_path
    before = digest(database)
    marker = tmp_path / "building"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_BUILD, str(published.raw_dir), str(database), str(marker)],
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, "the build ended before it could be killed"
            assert time.monotonic() < deadline, "the build never started"
            time.sleep(0.05)
        stale = staging_path(database).with_name(f".trade.building-{proc.pid}.duckdb")
        assert stale.exists()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert digest(database) == before
    assert stale.name in leftovers(published.warehouse)

    # The kernel released the dead writer's lock; the next run removes what it left and publishes.
    rebuild_and_publish(Archive(published.raw_dir), database)
    assert leftovers(published.warehouse) == []
    assert one(database, PAIR, ["CHN", DEC_2024]) == CHINA_DEC_2024


def test_a_second_writer_is_refused_with_a_clear_message(published):
    database = published.database_path
    before = digest(database)
    with writer_lock(published.warehouse):
        with pytest.raises(WriterBusy, match="another refresh is writing") as busy:
            rebuild_and_publish(Archive(published.raw_dir), database)
    assert "run it again when that refresh has finished" in str(busy.value)
    assert digest(database) == before


def test_remove_stale_builds_removes_only_build_leftovers(tmp_path):
    database = tmp_path / "trade.duckdb"
    database.write_bytes(b"published")
    (tmp_path / "exports").mkdir()
    stale = [
        tmp_path / ".trade.building-4242.duckdb",
        tmp_path / ".trade.building-4242.duckdb.wal",
        tmp_path / "exports" / ".trade_balance_monthly.parquet.tmp-4242",
    ]
    kept = [database, tmp_path / "exports" / "trade_balance_monthly.parquet", tmp_path / "notes.txt"]
    for path in stale + kept[1:]:
        path.write_bytes(b"x")
    assert remove_stale_builds(database) == sorted(stale)
    assert [p.exists() for p in stale] == [False] * 3
    assert [p.exists() for p in kept] == [True] * 3


def test_building_removes_a_failed_build_and_its_log(tmp_path):
    database = tmp_path / "trade.duckdb"
    with pytest.raises(RuntimeError, match="model broke"), building(database) as path:
        con = duckdb.connect(str(path))
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
        con.close()
        raise RuntimeError("model broke")
    assert list(tmp_path.iterdir()) == []


def test_exports_of_removed_marts_are_deleted(published):
    exports = published.warehouse / "exports"
    gone = exports / "a_mart_that_was_dropped.parquet"
    gone.write_bytes(b"old export")
    written = export_marts(published.database_path, exports)
    assert not gone.exists()
    con = duckdb.connect(str(published.database_path), read_only=True)
    try:
        marts = {r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' UNION ALL "
            "SELECT view_name FROM duckdb_views() WHERE schema_name = 'marts'").fetchall()}
    finally:
        con.close()
    assert {p.stem for p in written} == marts == {p.stem for p in exports.glob("*.parquet")}


READER = """
import json, sys, time
from pathlib import Path
import duckdb

database, exports, expected, stop = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), Path(sys.argv[4])
reads, errors, mismatches, builds = 0, [], [], set()
while reads == 0 or not stop.exists():
    try:
        con = duckdb.connect(database, read_only=True)
        try:
            info = con.execute("SELECT fingerprint, built_at FROM meta.build_info").fetchall()
            counts = {t: con.execute(f"SELECT count(*) FROM marts.{t}").fetchone()[0]
                      for t in expected["marts"]}
            marts = sorted(r[0] for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts'").fetchall())
            raw = con.execute("SELECT count(*) FROM raw.observations").fetchone()[0]
        finally:
            con.close()
        parquet = duckdb.execute(
            f"SELECT count(*) FROM read_parquet('{exports}/bilateral_balance_monthly.parquet')"
        ).fetchone()[0]
        seen = {"info_rows": len(info), "marts": counts, "tables": marts, "raw": raw,
                "parquet": parquet}
        want = {"info_rows": 1, "marts": expected["marts"], "tables": sorted(expected["marts"]),
                "raw": expected["raw"], "parquet": expected["marts"]["bilateral_balance_monthly"]}
        if seen != want:
            mismatches.append(seen)
        builds.add(str(info[0][1]))
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
    reads += 1
print(json.dumps({"reads": reads, "errors": errors[:5], "error_count": len(errors),
                  "mismatches": mismatches[:3], "builds": sorted(builds)}))
"""


def test_readers_are_never_blocked_nor_shown_a_half_built_warehouse(published, tmp_path):
    database = published.database_path
    con = duckdb.connect(str(database), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' ORDER BY 1").fetchall()]
        expected = {
            "marts": {t: con.execute(f"SELECT count(*) FROM marts.{t}").fetchone()[0] for t in tables},
            "raw": con.execute("SELECT count(*) FROM raw.observations").fetchone()[0],
        }
    finally:
        con.close()
    assert expected["marts"]["bilateral_balance_monthly"] > 0 and expected["raw"] > 0

    # A reader that keeps its connection open across a publish keeps reading the old file.
    held = duckdb.connect(str(database), read_only=True)
    old_build = held.execute("SELECT built_at FROM meta.build_info").fetchone()[0]

    stop = tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(database), str(published.warehouse / "exports"),
         json.dumps(expected), str(stop)],
        stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )
    try:
        cycles = 3
        for _ in range(cycles):
            rebuild_and_publish(Archive(published.raw_dir), database)
        stop.touch()
        out, _ = reader.communicate(timeout=120)
    finally:
        if reader.poll() is None:
            reader.kill()
            reader.wait()
    report = json.loads(out)
    assert report["error_count"] == 0, report["errors"]
    assert report["mismatches"] == []
    assert report["reads"] >= cycles
    assert len(report["builds"]) >= 2, report  # the reader saw several publishes go by

    assert held.execute("SELECT built_at FROM meta.build_info").fetchone()[0] == old_build
    assert held.execute(PAIR, ["CHN", DEC_2024]).fetchone() == CHINA_DEC_2024
    held.close()


@pytest.mark.flow
def test_a_refresh_that_fails_half_way_leaves_the_published_warehouse_exactly_as_it_was(
    recorded, published, monkeypatch, tmp_path
):
    import flows.flow
    from flows.build import check_data
    from flows.flow import Source, run_refresh
    from flows.report import read_last_run

    settings = published
    database = settings.database_path
    run = dict(sources=[Source.CENSUS], reporters=["USA"], period_start=date(2024, 10, 1),
               period_end=date(2024, 12, 1))
    before = digest(database)

    # A publisher answers garbage: the payload is rejected, nothing is rebuilt or published.
    with monkeypatch.context() as patch:
        patch.setenv("TRADE_IMBALANCE_CENSUS_BASE_URL", recorded.url_for("/garbage"))
        get_settings.cache_clear()
        state, garbage = run_refresh(**run)
    get_settings.cache_clear()
    # The only source answered garbage (rejected: a 200 whose body is not the JSON asked for)
    # and the archive holds nothing new: nothing is published, the run is Failed (exit 1).
    assert garbage["status"] == "failed" and garbage["exit_code"] == 1, garbage["lines"]
    assert state.is_failed() and not garbage["published"]
    assert garbage["lines"][0].startswith("census: 6 requests, 0 fetched"), garbage["lines"]
    assert "6 failed" in garbage["lines"][0] and "does not parse" in garbage["lines"][0]
    assert digest(database) == before

    # The data tests fail on the new build: the run raises, the published file is untouched.
    sql_dir = tmp_path / "sql"
    shutil.copytree(SQL_DIR, sql_dir)
    (sql_dir / "tests" / "zz_always_fails.sql").write_text(
        "-- made up for this test: one offending row, always\nSELECT 'illustrative failure' AS reason\n"
    )
    with monkeypatch.context() as patch:
        patch.setattr(flows.flow, "check_data", lambda path: check_data(path, sql_dir=sql_dir))
        state, failed = run_refresh(**run, offline=True, force=True)
    assert state.is_failed() and failed["exit_code"] == 1
    assert isinstance(state.result(raise_on_failure=False), DataTestFailure)
    assert digest(database) == before
    assert leftovers(settings.warehouse) == []
    assert read_last_run(settings.warehouse / "reports")["status"] == "failed"

    # Another refresh holds the lock: this one does nothing and says so (exit code 4).
    with writer_lock(settings.warehouse):
        state, busy = run_refresh(**run, offline=True, force=True)
    assert busy["status"] == "busy" and busy["exit_code"] == 4
    assert state.is_cancelled() and state.name == "Busy"
    assert busy["lines"][-1].startswith("BUSY: another refresh is writing")
    assert digest(database) == before

    # A build left behind by a killed run is removed by the next one, which publishes.
    stale = database.with_name(".trade.building-999999.duckdb")
    stale.write_bytes(b"half a warehouse")
    state, rebuilt = run_refresh(**run, offline=True, force=True)
    assert state.is_completed()
    assert rebuilt["status"] == "ok" and rebuilt["published"], rebuilt["lines"]
    assert not stale.exists()
    assert one(database, PAIR, ["CHN", DEC_2024]) == CHINA_DEC_2024
