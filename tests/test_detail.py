"""Tests of the detail partitions (:mod:`flows.detail`) on SYNTHETIC bulk files.

The files come from :mod:`bench.synthetic` (the benchmark's generator): the bulk layout exactly,
made-up figures. What is asserted is that the streaming path (blocks → Parquet partition) gives
the same rows as the in-memory parser, that partitions are immutable and idempotent, and that
DuckDB reads them in place. Memory bounds are measured by the benchmark, not here.
"""

from __future__ import annotations

import gzip
import json

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from bench.synthetic import synthetic_request, write_bulk_file
from flows import detail
from flows.sources import comtrade_bulk as bulk
from flows.sources.base import ParseError

ORDER = ["partner_code", "flow", "mot_code", "commodity"]


@pytest.fixture
def small_file(tmp_path):
    """3 000 synthetic rows: 4 chapters of codes at every level, 12 partners, 4 flows, 4 modes."""
    path = write_bulk_file(tmp_path / "C_M_156_202301_H6.txt.gz", 3000, partners=12, chapters=4)
    return path, synthetic_request(reporter_code=156, period="202301")


def test_streaming_path_equals_in_memory_path(small_file, tmp_path):
    path, request = small_file
    in_memory = bulk.parse(path.read_bytes(), request)
    # 64 KiB blocks: the file is read in dozens of blocks, each sunk to its own part
    result = detail.ingest_bulk_file(path, request, tmp_path / "wh", block_bytes=64 << 10)

    assert result.status == "written" and result.rows == 3000 == in_memory.height
    partition = detail.partition_path(tmp_path / "wh", "comtrade", "CHN", "202301")
    assert result.path == str(partition)
    parts = sorted(partition.glob("part-*.parquet"))
    assert len(parts) > 5
    streamed = detail.scan_detail(tmp_path / "wh").collect()
    assert streamed.schema == pl.Schema(bulk.DETAIL_SCHEMA)
    assert_frame_equal(streamed, in_memory)  # same rows, same order
    # and the levels are all there (made-up codes shaped like HS)
    assert sorted(streamed.get_column("aggr_level").unique().to_list()) == [0, 2, 4, 6]
    assert streamed.filter(pl.col("commodity") == "0102").height > 0
    written = detail.read_input(partition)
    assert written["payload_sha256"] == detail.file_sha256(path) == result.payload_sha256
    assert (written["rows"], written["parts"]) == (3000, len(parts))
    assert written["format"] == detail.FORMAT_VERSION


def test_partition_is_immutable_until_its_input_changes(small_file, tmp_path):
    path, request = small_file
    warehouse = tmp_path / "wh"
    first = detail.ingest_bulk_file(path, request, warehouse)
    partition = detail.partition_path(warehouse, "comtrade", "CHN", "202301")
    stamps = {p.name: p.stat().st_mtime_ns for p in partition.iterdir()}

    again = detail.ingest_bulk_file(path, request, warehouse)
    assert again.status == "unchanged" and again.rows == first.rows
    assert {p.name: p.stat().st_mtime_ns for p in partition.iterdir()} == stamps  # untouched

    revised = write_bulk_file(tmp_path / "revised.txt.gz", 1500, partners=12, chapters=4)
    replaced = detail.ingest_bulk_file(revised, request, warehouse)
    assert replaced.status == "replaced" and replaced.rows == 1500
    assert detail.scan_detail(warehouse).select(pl.len()).collect().item() == 1500
    assert detail.read_input(partition)["payload_sha256"] == detail.file_sha256(revised)
    assert not list((warehouse / detail.STAGING_DIR).iterdir())  # nothing left behind


def test_a_bad_revision_leaves_the_partition_as_it_was(small_file, tmp_path):
    path, request = small_file
    warehouse = tmp_path / "wh"
    detail.ingest_bulk_file(path, request, warehouse)
    before = detail.scan_detail(warehouse).collect()
    body = path.read_bytes()
    truncated = tmp_path / "truncated.txt.gz"
    truncated.write_bytes(body[: len(body) * 2 // 3])

    with pytest.raises(ParseError) as info:
        detail.ingest_bulk_file(truncated, request, warehouse, block_bytes=16 << 10)
    assert info.value.source == "comtrade"
    assert "/bulk/v1/file/156/" in info.value.request
    assert "truncated gzip" in info.value.problem
    assert_frame_equal(detail.scan_detail(warehouse).collect(), before)
    assert not list((warehouse / detail.STAGING_DIR).iterdir())


def test_wrong_columns_in_a_large_file_are_rejected_before_any_row(tmp_path):
    request = synthetic_request(reporter_code=156, period="202301")
    bad = tmp_path / "bad.txt.gz"
    header = "\t".join(bulk.BULK_COLUMNS).replace("primaryValue", "tradeValue")
    bad.write_bytes(gzip.compress((header + "\n" + "x\t" * 33 + "x\n").encode()))
    with pytest.raises(ParseError) as info:
        detail.ingest_bulk_file(bad, request, tmp_path / "wh")
    assert "missing ['primaryValue'], unexpected ['tradeValue']" in info.value.problem
    assert detail.partitions(tmp_path / "wh") == []


def test_duckdb_reads_the_partitions_in_place(small_file, tmp_path):
    path, request = small_file
    warehouse = tmp_path / "wh"
    other = write_bulk_file(tmp_path / "usa.txt.gz", 800, partners=5, chapters=2, reporter_code=842,
                            period="202302")
    detail.ingest_bulk_file(path, request, warehouse)
    detail.ingest_bulk_file(other, synthetic_request(reporter_code=842, period="202302"), warehouse)
    expected = detail.scan_detail(warehouse).collect()

    database = tmp_path / "trade.duckdb"
    con = duckdb.connect(str(database))
    try:
        assert detail.attach_detail(con, warehouse) == detail.DETAIL_VIEW
        rows = con.execute(
            "SELECT reporter, period, count(*), sum(value) FILTER (WHERE commodity = 'TOTAL' "
            "AND breakdown_total AND partner = 'WLD') FROM staging.comtrade_detail "
            "GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        world = expected.filter(
            (pl.col("commodity") == "TOTAL")
            & pl.col("breakdown_total")
            & (pl.col("partner") == "WLD")
        )
        by_reporter = dict(world.group_by("reporter").agg(pl.col("value").sum()).iter_rows())
        assert rows == [
            ("CHN", "202301", 3000, pytest.approx(by_reporter["CHN"])),
            ("USA", "202302", 800, pytest.approx(by_reporter["USA"])),
        ]
        columns = con.execute("DESCRIBE staging.comtrade_detail").fetchall()
        assert [c[0] for c in columns] == list(bulk.DETAIL_SCHEMA)
        assert {c[0]: c[1] for c in columns}["period"] == "VARCHAR"
        # a view, not a table: nothing copied into the database file
        assert con.execute("SELECT count(*) FROM duckdb_tables()").fetchone()[0] == 0
        assert con.execute(
            "SELECT count(*) FROM duckdb_views() WHERE view_name = 'comtrade_detail'"
        ).fetchone()[0] == 1
        # partition pruning by folder: only the USA file is opened
        plan = "\n".join(
            r[1] for r in con.execute(
                "EXPLAIN ANALYZE SELECT count(*) FROM staging.comtrade_detail "
                "WHERE reporter = 'USA'"
            ).fetchall()
        )  # fmt: skip
        assert "reporter=USA" in plan and "reporter=CHN" not in plan
    finally:
        con.close()
    # the view works from another working directory (absolute path) and read-only
    reader = duckdb.connect(str(database), read_only=True)
    try:
        assert reader.execute("SELECT count(*) FROM staging.comtrade_detail").fetchone()[0] == 3800
    finally:
        reader.close()


def test_empty_detail_gives_an_empty_view_with_the_columns(tmp_path):
    con = duckdb.connect()
    try:
        detail.attach_detail(con, tmp_path / "wh")
        assert con.execute("SELECT count(*) FROM staging.comtrade_detail").fetchone()[0] == 0
        described = con.execute("DESCRIBE staging.comtrade_detail").fetchall()
        assert [c[0] for c in described] == list(bulk.DETAIL_SCHEMA)
        detail.attach_detail(con, tmp_path / "wh", temporary=True)
        assert con.execute("SELECT count(*) FROM comtrade_detail").fetchone()[0] == 0
    finally:
        con.close()


def test_input_json_records_the_request(small_file, tmp_path):
    path, request = small_file
    detail.ingest_bulk_file(path, request, tmp_path / "wh")
    (partition,) = detail.partitions(tmp_path / "wh")
    written = json.loads((partition / detail.INPUT_FILE).read_text())
    assert written["request"]["meta"]["publicationDate"] == "2024-01-31T00:00:00Z"
    assert written["request"]["meta"]["fileSize"] == "SYNTHETIC"
