"""Correctness of the performance changes of issue 15 (never timed: bench/ measures time).

* ``intermediate.observations`` ranks rows for ``is_headline`` only where a flow has two
  valuations, with the same result as ranking every row;
* ``marts.revisions`` restricted first to keys whose value changed returns exactly the rows of
  the query as shipped before (kept here as :data:`REVISIONS_AS_SHIPPED`);
* models built as views (staging, marts.commodity_drivers) give the same rows as tables;
* the models connection has DuckDB's memory limit and a spill folder;
* a bulk download streamed to disk has the same bytes and SHA-256 as the in-memory path, and
  archives to the same object.

All figures are MADE UP (tests/sql_harness.py and the bodies below).
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from pytest_httpserver import HTTPServer

from flows import build
from flows.archive import Archive
from flows.http import HttpClient
from flows.models import SQL_DIR, discover
from flows.settings import Settings, get_settings
from flows.sources.base import FetchError, FetchRequest
from tests.sql_harness import build as build_models
from tests.sql_harness import load, load_rates, observation, series, warehouse

#: The SELECT of sql/marts/revisions.sql as shipped before issue 15 (window and aggregates over
#: every key of raw.observation_history), the reference the restricted query must equal.
REVISIONS_AS_SHIPPED = """
WITH history AS (
    SELECT
        source, reporter, partner, flow, period_start, period_end, commodity, currency, valuation,
        period_type, months, value, vintage, fetched_at, payload_sha256,
        CASE WHEN lag(value) OVER w <> value THEN 1 ELSE 0 END AS changed
    FROM raw.observation_history
    WINDOW w AS (
        PARTITION BY source, reporter, partner, flow, period_start, period_end, commodity, currency,
            valuation
        ORDER BY vintage, fetched_at, payload_sha256
    )
),
keyed AS (
    SELECT
        source, reporter, partner, flow, period_start, period_end, commodity, currency, valuation,
        arg_max(period_type, (vintage, fetched_at, payload_sha256)) AS period_type,
        arg_max(months, (vintage, fetched_at, payload_sha256)) AS months,
        arg_min(value, (vintage, fetched_at, payload_sha256)) AS first_value,
        min(vintage) AS first_vintage,
        arg_min(fetched_at, (vintage, fetched_at, payload_sha256)) AS first_fetched_at,
        arg_max(value, (vintage, fetched_at, payload_sha256)) AS latest_value,
        max(vintage) AS latest_vintage,
        arg_max(fetched_at, (vintage, fetched_at, payload_sha256)) AS latest_fetched_at,
        count(*) AS vintages,
        count(DISTINCT value) AS distinct_values,
        sum(changed) AS value_changes
    FROM history
    GROUP BY source, reporter, partner, flow, period_start, period_end, commodity, currency, valuation
    HAVING count(DISTINCT value) > 1
)
SELECT
    source, reporter, partner, flow, period_start, period_end, commodity, currency, valuation,
    period_type, months,
    first_value, first_vintage, first_fetched_at,
    latest_value, latest_vintage, latest_fetched_at,
    latest_value - first_value AS change,
    CASE WHEN first_value > 0 THEN latest_value / first_value - 1 END AS change_ratio,
    CAST(vintages AS INTEGER) AS vintages,
    CAST(distinct_values AS INTEGER) AS distinct_values,
    CAST(value_changes AS INTEGER) AS value_changes
FROM keyed
"""

JAN = date(2024, 1, 1)


def _sorted(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return sorted(con.execute(sql).fetchall(), key=repr)


def _vintages(con: duckdb.DuckDBPyConnection) -> None:
    """Five made-up payloads of the same months: revised, restored, unchanged, NULL (withheld)
    and single-vintage keys, one payload fetched out of release order."""
    payloads = [  # (vintage, fetched day, exports Jan..Apr, imports Jan..Apr)
        (date(2024, 5, 1), 2, [100.0, 200.0, 300.0, 400.0], [50.0, 60.0, 70.0, 80.0]),
        (date(2024, 6, 1), 3, [110.0, 200.0, None, 400.0], [50.0, 61.0, 70.0, 80.0]),
        (date(2024, 7, 1), 4, [100.0, 200.0, 330.0, 400.0], [50.0, 61.0, 70.0, 80.0]),
        (date(2024, 4, 20), 5, [90.0, 200.0, 300.0, 400.0], [50.0, 60.0, 70.0, 80.0]),
    ]
    for number, (vintage, day, exports, imports) in enumerate(payloads, start=1):
        load(con, series("comtrade", "CHN", "USD", JAN, exports=exports, imports=imports,
                         vintage=vintage),
             sha=f"made-up-vintage-{number}", fetched_at=datetime(2024, 8, day))  # fmt: skip
    withheld = observation(source="eurostat", reporter="EU27_2020", flow="M", start=JAN,
                           value=1.0, currency="EUR")  # fmt: skip
    load(con, [withheld], sha="made-up-eurostat-1")
    load(con, [{**withheld, "value": None, "status": "confidential"}], sha="made-up-eurostat-2")
    load(con, [observation(source="gacc", start=date(2024, 5, 1), value=7.0)], sha="made-up-once")


def test_revisions_restricted_to_changed_keys_are_the_rows_as_shipped():
    con = warehouse()
    _vintages(con)
    build_models(con, data_tests=False)
    shipped = _sorted(con, REVISIONS_AS_SHIPPED)
    assert _sorted(con, "SELECT * FROM marts.revisions") == shipped
    # the made-up history has revised keys (Jan exports revised and restored, Mar exports with a
    # withheld vintage, Feb imports) and unchanged ones, so the comparison is not vacuous
    listed = {(r[3], r[4].month): r for r in shipped}
    assert set(listed) == {("X", 1), ("X", 3), ("M", 2)}
    assert listed[("X", 1)][-1] >= 2  # value_changes: 90 -> 100 -> 110 -> 100


def test_headline_ranked_only_where_a_flow_has_two_valuations_is_the_row_number_rule():
    """is_headline of intermediate.observations equals the rule over every row: the first of
    (not the second valuation basis, FOB, FAS, CUSTOMS, other) per observation and currency."""
    con = warehouse()
    _vintages(con)  # comtrade X FOB and M CIF only: never two rows of one observation
    census = series("census", "USA", "USD", JAN, exports=[5.0, 6.0], imports=[7.0, 8.0])
    cif = [{**r, "valuation": "CIF", "value": r["value"] * 1.05} for r in census if r["flow"] == "M"]
    load(con, census + cif, sha="made-up-census")
    primary = series("comtrade", "VNM", "USD", JAN, exports=[1.0, 2.0], imports=[3.0, 4.0])
    second = [{**r, "valuation": "FOB", "value": r["value"] * 0.95,
               "release": "made-up comtrade release (second valuation basis)"}
              for r in primary if r["flow"] == "M"]  # fmt: skip
    load(con, primary + second, sha="made-up-comtrade-two-bases")
    build_models(con, data_tests=False)
    pairs = con.execute(
        """SELECT source, reporter, flow, valuation, is_headline,
                  row_number() OVER (
                      PARTITION BY source, reporter, partner, flow, period_start, period_end,
                          commodity, currency
                      ORDER BY release LIKE '%(second valuation basis)',
                          CASE valuation WHEN 'FOB' THEN 1 WHEN 'FAS' THEN 2
                              WHEN 'CUSTOMS' THEN 3 ELSE 4 END) = 1 AS expected
           FROM intermediate.observations"""
    ).fetchall()
    assert pairs and all(row[4] == row[5] for row in pairs)
    flags = {(r[0], r[1], r[2], r[3]): r[4] for r in pairs}
    assert flags[("census", "USA", "M", "CUSTOMS")] and not flags[("census", "USA", "M", "CIF")]
    assert flags[("comtrade", "VNM", "M", "CIF")] and not flags[("comtrade", "VNM", "M", "FOB")]
    assert flags[("comtrade", "CHN", "M", "CIF")] and flags[("comtrade", "CHN", "X", "FOB")]


def _with_tables(tmp_path: Path) -> Path:
    """A copy of sql/ whose every model is a table (the materialisation headers removed)."""
    copy = tmp_path / "sql"
    shutil.copytree(SQL_DIR, copy)
    for path in copy.glob("*/*.sql"):
        text = path.read_text(encoding="utf-8")
        path.write_text(
            "\n".join(x for x in text.splitlines() if not x.startswith("-- materialized:")) + "\n",
            encoding="utf-8",
        )
    return copy


def test_views_give_the_same_rows_as_tables(tmp_path):
    shipped = {m.qualified: m.materialized for m in discover()}
    assert {n for n, kind in shipped.items() if kind == "view"} == {
        f"staging.{p.stem}" for p in (SQL_DIR / "staging").glob("*.sql")
    } | {"marts.commodity_drivers"}

    from flows.models import run_models
    from flows.parameters import ModelParameters, write_parameters

    results = []
    for sql_dir in (SQL_DIR, _with_tables(tmp_path)):
        con = warehouse()
        _vintages(con)
        for commodity, scale in (("TOTAL", 10.0), ("85", 3.0), ("8517", 1.0)):  # made up
            load(con, series("comtrade", "VNM", "USD", date(2023, 1, 1), commodity=commodity,
                             exports=[scale * (100 + 3 * i) for i in range(16)],
                             imports=[scale * (90 + i) for i in range(16)]), sha=f"made-up-{commodity}")
        load(con, series("eurostat", "EU27_2020", "EUR", date(2023, 1, 1),
                         exports=[float(10 + i) for i in range(16)],
                         imports=[float(20 + i) for i in range(16)]), sha="made-up-eur")  # fmt: skip
        load_rates(con, {("USD", date(2023 + i // 12, i % 12 + 1, 1)): 1.1 for i in range(16)})
        write_parameters(con, ModelParameters())
        built = run_models(con, sql_dir)
        kinds = dict(con.execute(
            "SELECT schema_name || '.' || table_name, 'table' FROM duckdb_tables() "
            "UNION ALL SELECT schema_name || '.' || view_name, 'view' FROM duckdb_views() "
            "WHERE NOT internal"
        ).fetchall())  # fmt: skip
        tables = {name: _sorted(con, f"SELECT * FROM {name}") for name in built}
        results.append((kinds, tables))
    (views_kinds, with_views), (tables_kinds, with_tables) = results
    assert views_kinds["staging.comtrade_observations"] == "view"
    assert tables_kinds["staging.comtrade_observations"] == "table"
    assert with_views == with_tables
    assert with_views["marts.trade_balance_monthly"]  # rows to compare, not an empty build
    assert views_kinds["marts.commodity_drivers"] == "view"
    assert tables_kinds["marts.commodity_drivers"] == "table"
    assert len(with_views["marts.commodity_drivers"]) == 2 * 2 * 16  # 2 codes × X/M × 16 months


def test_models_connection_has_a_memory_limit_and_a_spill_folder(tmp_path, monkeypatch):
    path = tmp_path / "build.duckdb"
    seen = {}

    def capture(con, _sql_dir):
        values = con.execute(
            "SELECT current_setting('memory_limit'), current_setting('temp_directory'), "
            "current_setting('preserve_insertion_order')"
        ).fetchone()
        seen.update(zip(("memory_limit", "temp_directory", "order"), values, strict=True))
        raise RuntimeError("captured")

    duckdb.connect(str(path)).close()
    monkeypatch.setattr(build, "run_models", capture)
    monkeypatch.setenv("TRADE_IMBALANCE_BUILD_MEMORY_LIMIT", "300MB")
    get_settings.cache_clear()
    with pytest.raises(RuntimeError, match="captured"):
        build.build_models(path)
    assert seen["memory_limit"] in ("286.1 MiB", "300.0 MB")  # DuckDB prints 300MB in MiB
    assert seen["temp_directory"] == str(tmp_path / "build.duckdb.tmp")
    assert seen["order"] is False
    monkeypatch.delenv("TRADE_IMBALANCE_BUILD_MEMORY_LIMIT")
    get_settings.cache_clear()
    assert build.build_memory_limit() == build.BUILD_MEMORY_LIMIT == "1GB"
    monkeypatch.setenv("TRADE_IMBALANCE_BUILD_MEMORY_LIMIT", "1GB'; ATTACH 'x")
    get_settings.cache_clear()
    with pytest.raises(build.BuildError, match="build_memory_limit"):
        build.build_models(path)


#: A MADE-UP gzip body larger than the streaming chunk, so the file is written in pieces.
MADE_UP_GZIP = gzip.compress(
    b"".join(b"made-up line %d\tvalue %d\n" % (i, i * 7 % 1000) for i in range(60_000)), 1
)


def _client() -> HttpClient:
    settings = Settings(connect_timeout=0.5, read_timeout=2.0, max_retries=0,
                        requests_per_minute=60_000.0)  # fmt: skip
    return HttpClient(settings, "comtrade")


def test_streamed_download_hashes_and_archives_like_the_in_memory_path(
    httpserver: HTTPServer, tmp_path
):
    httpserver.expect_request("/bulk/v1/file/156/made-up").respond_with_data(
        MADE_UP_GZIP, content_type="application/gzip", headers={"X-Test-Double": "made-up values"}
    )
    request = FetchRequest(source="comtrade", url=httpserver.url_for("/bulk/v1/file/156/made-up"),
                           expect="any", meta={"kind": "bulk-file"})  # fmt: skip
    client = _client()
    try:
        in_memory = client.get(request)
        archive = Archive(tmp_path / "archive")
        streamed = client.get_to_file(request, archive.incoming())
    finally:
        client.close()
    assert len(MADE_UP_GZIP) > 64 << 10
    assert streamed.sha256 == hashlib.sha256(in_memory.body).hexdigest()
    assert streamed.size == len(in_memory.body) and streamed.path.read_bytes() == in_memory.body
    assert streamed.head == in_memory.body[: len(streamed.head)] and streamed.head[:2] == b"\x1f\x8b"
    entry = archive.store_file(request, streamed.path, sha256=streamed.sha256,
                               status=streamed.status, content_type=streamed.content_type)  # fmt: skip
    reference = Archive(tmp_path / "reference").store(in_memory)
    assert (entry.sha256, entry.bytes, entry.status) == (reference.sha256, reference.bytes, 200)
    assert archive.read(entry.sha256) == MADE_UP_GZIP
    assert not streamed.path.exists() and list(archive.incoming().iterdir()) == []
    # the same content streamed again is not stored twice: the temporary file is deleted
    again = _client()
    try:
        second = again.get_to_file(request, archive.incoming())
    finally:
        again.close()
    assert archive.store_file(request, second.path, sha256=second.sha256).sha256 == entry.sha256
    assert list(archive.incoming().iterdir()) == []
    # hashing a file already in place (no sha256 given) gives the same entry
    assert archive.store_file(request, archive.path_of(entry.sha256)).sha256 == entry.sha256


def test_streamed_download_that_fails_leaves_no_file(httpserver: HTTPServer, tmp_path):
    httpserver.expect_request("/bulk/v1/file/156/missing").respond_with_data(
        b"made-up not found page", status=404
    )
    request = FetchRequest(source="comtrade", url=httpserver.url_for("/bulk/v1/file/156/missing"),
                           expect="any", meta={"kind": "bulk-file"})  # fmt: skip
    client = _client()
    try:
        with pytest.raises(FetchError, match="404"):
            client.get_to_file(request, tmp_path / "incoming")
    finally:
        client.close()
    assert list((tmp_path / "incoming").iterdir()) == []
