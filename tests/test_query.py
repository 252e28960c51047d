"""The `query` sandbox (:mod:`flows.query`): every escape found by the hostile-input trials of
issue 12 is refused with exit code 2 and writes nothing; the warehouse's views, including the
view over the commodity-detail Parquet, still read.

The warehouse here is MADE UP: a SYNTHETIC UN Comtrade bulk file (:mod:`bench.synthetic`, 600
rows, every figure invented) ingested into ``<warehouse>/detail`` and a one-row
``marts.made_up`` table; the ``.env`` and "secret" files hold fake values. Nothing here needs
the recorded payloads.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from bench.synthetic import synthetic_request, write_bulk_file
from flows import detail
from flows.cli import app
from flows.query import QueryFailed, QueryRefused, run_query
from flows.settings import get_settings

runner = CliRunner()
FAKE_SECRET = "FAKE-SECRET-VALUE-0000"


@pytest.fixture
def warehouse(tmp_path) -> Path:
    """A published-looking warehouse: detail partition + view, a made-up mart, a fake .env."""
    root = get_settings().warehouse
    bulk_file = write_bulk_file(tmp_path / "C_M_156_202301_H6.txt.gz", 600, partners=6, chapters=2)
    detail.ingest_bulk_file(bulk_file, synthetic_request(reporter_code=156, period="202301"), root)
    (root / "raw").mkdir(exist_ok=True)
    (root / "raw" / "manifest.jsonl").write_text('{"made_up": true}\n')
    (root / ".env").write_text(f"TRADE_IMBALANCE_CENSUS_API_KEY={FAKE_SECRET}\n")
    con = duckdb.connect(str(root / "trade.duckdb"))
    try:
        con.execute("CREATE SCHEMA marts")
        con.execute("CREATE TABLE marts.made_up AS SELECT 'CHN' AS reporter, 1.5 AS value")
        detail.attach_detail(con, root)
    finally:
        con.close()
    return root


def invoke(*args: str):
    return runner.invoke(app, ["query", *args])


def test_views_over_the_detail_parquet_still_read(warehouse):
    result = invoke("--format", "csv",
                    "SELECT reporter, period, count(*) AS n FROM staging.comtrade_detail GROUP BY ALL")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["reporter,period,n", "CHN,202301,600"]
    explained = invoke("EXPLAIN ANALYZE SELECT count(*) FROM staging.comtrade_detail")
    assert explained.exit_code == 0, explained.output
    for sql in ("SHOW TABLES", "DESCRIBE marts.made_up", "SUMMARIZE marts.made_up",
                "FROM marts.made_up", "WITH m AS (SELECT * FROM marts.made_up) SELECT * FROM m"):
        assert invoke(sql).exit_code == 0, sql


def _targets(warehouse: Path, tmp_path: Path) -> dict[str, Path]:
    return {
        "detail": warehouse / "detail" / "planted.csv",  # inside the allowed directory
        "manifest": warehouse / "raw" / "manifest.jsonl",
        "outside": tmp_path / "stolen.csv",
    }


ESCAPES = [
    # (name, SQL with {detail}/{manifest}/{outside}/{warehouse} placeholders, phrase in the message)
    ("explain-analyze-copy-into-detail",
     "EXPLAIN ANALYZE COPY (SELECT 'x' AS a) TO '{detail}'", "EXPLAIN of a COPY statement"),
    ("explain-analyze-copy-over-manifest",
     "EXPLAIN ANALYZE COPY (SELECT 'x' AS a) TO '{manifest}' (FORMAT csv)",
     "EXPLAIN of a COPY statement"),
    ("explain-options-copy",
     "EXPLAIN (FORMAT json) COPY (SELECT 1) TO '{detail}'", "EXPLAIN of a COPY statement"),
    ("explain-commented-copy",
     "/* hi */ EXPLAIN -- x\n ANALYZE COPY (SELECT 1) TO '{detail}'", "EXPLAIN of a COPY statement"),
    ("explain-create", "EXPLAIN CREATE TABLE marts.x AS SELECT 1", "EXPLAIN of a CREATE statement"),
    ("read-text-environ", "SELECT * FROM read_text('/proc/self/environ')", "read_text()"),
    ("read-csv-passwd", "SELECT * FROM read_csv('/etc/passwd', sep = ':')", "read_csv()"),
    ("glob-root", "SELECT * FROM glob('/root/*')", "glob()"),
    ("read-text-env-file", "SELECT content FROM read_text('{warehouse}/.env')", "read_text()"),
    ("traversal-from-detail", "SELECT content FROM read_text('{warehouse}/detail/../.env')",
     "read_text()"),
    ("replacement-scan-env-file", "FROM '{warehouse}/.env'", "names a file"),
    ("read-csv-http", "SELECT * FROM read_csv('http://127.0.0.1:9/x.csv')", "read_csv()"),
    ("read-parquet-direct", "SELECT * FROM read_parquet('{warehouse}/detail/**/*.parquet')",
     "read_parquet()"),
    ("sql-in-a-string", "SELECT * FROM query('SELECT * FROM read_text(''/etc/passwd'')')",
     "query()"),
    ("scalar-subquery-glob", "SELECT (SELECT count(*) FROM glob('/etc/*')) AS n", "glob()"),
    ("copy", "COPY marts.made_up TO '{outside}'", "COPY statements are not allowed"),
    ("copy-into-detail", "COPY marts.made_up TO '{detail}'", "COPY statements are not allowed"),
    ("attach", "ATTACH '{outside}.duckdb' AS other", "ATTACH statements are not allowed"),
    ("set", "SET enable_external_access = true", "SET statements are not allowed"),
    ("reset", "RESET lock_configuration", "SET statements are not allowed"),
    ("pragma", "PRAGMA enable_profiling", "PRAGMA statements are not allowed"),
    ("install", "INSTALL httpfs", "INSTALL/LOAD statements are not allowed"),
    ("load", "LOAD httpfs", "INSTALL/LOAD statements are not allowed"),
    ("call", "CALL pragma_version()", "CALL statements are not allowed"),
    ("export", "EXPORT DATABASE '{outside}'", "EXPORT statements are not allowed"),
    ("two-statements", "SELECT 1; COPY marts.made_up TO '{outside}'", "exactly one statement"),
]


@pytest.mark.parametrize(("name", "sql", "phrase"), ESCAPES, ids=[e[0] for e in ESCAPES])
def test_every_escape_exits_2_and_writes_nothing(warehouse, tmp_path, name, sql, phrase):
    targets = _targets(warehouse, tmp_path)
    manifest_before = targets["manifest"].read_bytes()
    text = sql.format(warehouse=warehouse, **targets)
    result = invoke(text)
    assert result.exit_code == 2, (name, result.output)
    assert phrase in result.stderr, result.stderr
    assert FAKE_SECRET not in result.output
    assert not targets["detail"].exists() and not targets["outside"].exists()
    assert not Path(f"{targets['outside']}.duckdb").exists()
    assert targets["manifest"].read_bytes() == manifest_before


def test_the_engine_refuses_what_the_check_cannot_see(warehouse, tmp_path):
    """A view stored in the file that reads outside detail/ passes the statement check (it names
    a view); the engine's own sandbox refuses it, and that refusal also exits 2."""
    secret = tmp_path / "secret.txt"
    secret.write_text(FAKE_SECRET)
    con = duckdb.connect(str(warehouse / "trade.duckdb"))
    try:
        con.execute(f"CREATE VIEW marts.leak AS SELECT content FROM read_text('{secret}')")
    finally:
        con.close()
    result = invoke("SELECT * FROM marts.leak")
    assert result.exit_code == 2, result.output
    assert "refused by the sandbox: Permission Error" in result.stderr
    assert FAKE_SECRET not in result.output


def test_no_extension_is_installed_for_a_url(warehouse, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with pytest.raises(QueryRefused):
        run_query(warehouse / "trade.duckdb", "SELECT * FROM 'http://127.0.0.1:9/x.parquet'")
    assert not (tmp_path / "home").exists()  # no ~/.duckdb/extensions written


def test_the_connection_is_locked_down(warehouse):
    columns, rows = run_query(
        warehouse / "trade.duckdb",
        "SELECT current_setting('enable_external_access'), current_setting('lock_configuration'), "
        "current_setting('autoinstall_known_extensions'), current_setting('autoload_known_extensions'), "
        "current_setting('threads'), current_setting('allowed_directories')",
        threads=1,
    )
    (external, locked, autoinstall, autoload, threads, allowed), = rows
    assert (external, locked, autoinstall, autoload, threads) == (False, True, False, False, 1)
    assert allowed == [str((warehouse / "detail").resolve()) + "/"]


def test_time_limit_interrupts_a_long_query(warehouse):
    with pytest.raises(QueryFailed, match="stopped after the 1 s time limit"):
        run_query(warehouse / "trade.duckdb",
                  "SELECT count(*) FROM range(1000000000000) r WHERE r % 7 = 3", timeout=1)


def test_sql_errors_exit_1(warehouse):
    broken = invoke("SELECT * FROM marts.no_such_mart")
    assert broken.exit_code == 1 and "query failed:" in broken.stderr
    syntax = invoke("SELEC 1")
    assert syntax.exit_code == 1 and "query failed: Parser Error" in syntax.stderr


def test_other_connections_keep_their_settings(warehouse):
    """The sandbox is its own in-memory instance: a connection to the same file opened before
    it keeps external access (the sandbox's SETs do not leak into the shared instance)."""
    other = duckdb.connect(str(warehouse / "trade.duckdb"), read_only=True)
    try:
        run_query(warehouse / "trade.duckdb", "SELECT 1")
        assert other.execute("SELECT current_setting('enable_external_access')").fetchone()[0] is True
    finally:
        other.close()


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc")
def test_environment_is_not_readable_through_any_listed_path(warehouse, monkeypatch):
    monkeypatch.setenv("TRADE_IMBALANCE_CENSUS_API_KEY", FAKE_SECRET)
    for sql in ("SELECT * FROM read_text('/proc/self/environ')",
                "SELECT * FROM read_blob('/proc/self/environ')",
                "FROM '/proc/self/environ'"):
        with pytest.raises(QueryRefused):
            run_query(warehouse / "trade.duckdb", sql)
