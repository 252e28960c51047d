"""Commodity detail as immutable hive-partitioned Parquet under the warehouse folder.

Layout (one partition per published bulk file; ``reporter`` is the ISO3 key, ``period`` is
Comtrade's ``YYYYMM`` for monthly files and ``YYYY`` for annual ones)::

    <warehouse>/detail/source=comtrade/reporter=CHN/period=202503/
        part-00000.parquet ...       rows of :data:`flows.sources.comtrade_bulk.DETAIL_SCHEMA`
        _input.json                  the input: payload sha256, listing entry, rows, format

Rules:

* **Streaming.** :func:`ingest_bulk_file` reads the gzipped file in bounded blocks
  (:func:`flows.sources.comtrade_bulk.iter_blocks`) and sinks each block's normalised rows to
  its own Parquet part (zstd): memory stays bounded whatever the file size.
* **Checked before it is visible.** A partition is written to a staging folder outside
  ``detail/`` (``<warehouse>/.detail-staging/``), checked
  (:func:`flows.sources.comtrade_bulk.check_detail` over the written parts) and only then
  renamed into place; a failed file leaves the previous partition untouched.
* **Immutable, idempotent.** A partition is never rewritten unless its input changed: when
  ``_input.json`` already names the same payload sha256 and :data:`FORMAT_VERSION`, ingestion
  is a no-op. A revised file (new sha256) replaces the partition: the old folder is renamed
  aside, the new one renamed in, the old one deleted (readers scanning at that instant may miss
  the partition for the duration of two renames, never see half of one).
* **DuckDB reads it in place.** :func:`attach_detail` creates a view over the Parquet files; no
  detail row is copied into the database file. The DuckDB writer stays single and only reads.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import polars as pl

from flows.archive import Archive, ManifestEntry
from flows.sources import comtrade_bulk as bulk
from flows.sources.base import FetchRequest, parse_error

DETAIL_DIR = "detail"
STAGING_DIR = ".detail-staging"
INPUT_FILE = "_input.json"
#: Bumped when the normalisation changes, so unchanged inputs are re-ingested once.
FORMAT_VERSION = 1
#: The DuckDB view :func:`attach_detail` creates.
DETAIL_VIEW = "staging.comtrade_detail"

_DUCK_TYPES = {
    pl.String(): "VARCHAR", pl.Date(): "DATE", pl.Int16(): "SMALLINT", pl.Int32(): "INTEGER",
    pl.Float64(): "DOUBLE", pl.Boolean(): "BOOLEAN",
}  # fmt: skip


@dataclass(frozen=True)
class PartitionResult:
    """What ingesting one bulk file did: ``status`` is ``written``, ``replaced`` or
    ``unchanged``; ``rows`` the partition's rows; ``seconds`` the time taken."""

    source: str
    reporter: str
    period: str
    path: str
    status: str
    rows: int
    seconds: float
    payload_sha256: str

    def to_json(self) -> dict:
        return asdict(self)


def detail_root(warehouse: Path) -> Path:
    """``<warehouse>/detail``."""
    return Path(warehouse) / DETAIL_DIR


def partition_path(warehouse: Path, source: str, reporter: str, period: str) -> Path:
    """``<warehouse>/detail/source=<source>/reporter=<reporter>/period=<period>``."""
    for name, value in (("source", source), ("reporter", reporter), ("period", period)):
        if not value or "/" in value or "=" in value or value.startswith("."):
            raise ValueError(f"{name} {value!r} cannot name a partition folder")
    return detail_root(warehouse) / f"source={source}" / f"reporter={reporter}" / f"period={period}"


def read_input(partition: Path) -> dict | None:
    """The ``_input.json`` of a partition folder, or None when there is none."""
    path = Path(partition) / INPUT_FILE
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def file_sha256(path: Path) -> str:
    """sha256 of a file, read in 1 MiB pieces."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while piece := handle.read(1 << 20):
            digest.update(piece)
    return digest.hexdigest()


def ingest_bulk_file(
    path: Path,
    request: FetchRequest,
    warehouse: Path,
    *,
    sha256: str | None = None,
    block_bytes: int = bulk.DEFAULT_BLOCK_BYTES,
) -> PartitionResult:
    """Normalise the gzipped bulk file at ``path`` into its partition under ``warehouse``.

    ``request`` is the download the file came from (:func:`comtrade_bulk.file_request`; its
    meta names reporter, period and publication). ``sha256`` is the file's hash (computed when
    not given). Returns a :class:`PartitionResult`. Raises :class:`ParseError` /
    :class:`UnknownCodeError` for a bad file (see :func:`comtrade_bulk.iter_blocks`,
    :func:`comtrade_bulk.check_detail`); the partition is then left as it was.
    """
    started = time.perf_counter()
    bulk_file = bulk.BulkFile.from_request(request)
    sha256 = sha256 or file_sha256(path)
    target = partition_path(warehouse, bulk.NAME, bulk_file.reporter, bulk_file.period)
    previous = read_input(target)
    if previous and previous.get("payload_sha256") == sha256 and previous.get("format") == FORMAT_VERSION:
        return PartitionResult(
            bulk.NAME, bulk_file.reporter, bulk_file.period, str(target), "unchanged",
            int(previous.get("rows", 0)), time.perf_counter() - started, sha256,
        )  # fmt: skip
    staging = Path(warehouse) / STAGING_DIR / f"{uuid.uuid4().hex}"
    staging.mkdir(parents=True)
    try:
        parts = 0
        for block in bulk.iter_blocks(Path(path), request, block_bytes):
            frame = bulk.scan_block(block, request, sha256)
            try:
                frame.sink_parquet(staging / f"part-{parts:05d}.parquet", compression="zstd")
            except pl.exceptions.PolarsError as exc:
                raise parse_error(
                    request, f"unreadable bulk rows in block {parts}: {bulk.polars_message(exc)}"
                ) from exc
            parts += 1
        if parts == 0:
            raise parse_error(request, "the bulk file has a header but no data rows")
        rows = bulk.check_detail(
            pl.scan_parquet(staging / "part-*.parquet"),
            request,
            raw=lambda: (bulk.scan_raw(b) for b in bulk.iter_blocks(Path(path), request, block_bytes)),
        )
        (staging / INPUT_FILE).write_text(
            json.dumps(
                {
                    "format": FORMAT_VERSION,
                    "payload_sha256": sha256,
                    "rows": rows,
                    "parts": parts,
                    "request": request.to_json(),
                    "ingested_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                },
                indent=2,
                sort_keys=True,
            ),
            encoding="utf-8",
        )
        status = _swap_in(staging, target, warehouse)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return PartitionResult(
        bulk.NAME, bulk_file.reporter, bulk_file.period, str(target), status, rows,
        time.perf_counter() - started, sha256,
    )  # fmt: skip


def ingest_archived(
    archive: Archive, entry: ManifestEntry, warehouse: Path, *, block_bytes: int = bulk.DEFAULT_BLOCK_BYTES
) -> PartitionResult:
    """:func:`ingest_bulk_file` for an archived download (read in place from the archive)."""
    return ingest_bulk_file(
        archive.path_of(entry.sha256), entry.request, warehouse, sha256=entry.sha256,
        block_bytes=block_bytes,
    )  # fmt: skip


def _swap_in(staging: Path, target: Path, warehouse: Path) -> str:
    """Rename ``staging`` to ``target`` (replacing an older partition); return the status."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(staging, target)
        return "written"
    except OSError:
        if not target.exists():
            raise
    aside = Path(warehouse) / STAGING_DIR / f"old-{uuid.uuid4().hex}"
    os.rename(target, aside)
    try:
        os.rename(staging, target)
    except OSError:
        os.rename(aside, target)  # put the old partition back
        raise
    shutil.rmtree(aside, ignore_errors=True)
    return "replaced"


def partitions(warehouse: Path) -> list[Path]:
    """Every partition folder holding an ``_input.json`` (sorted)."""
    root = detail_root(warehouse)
    return sorted(p.parent for p in root.glob(f"source=*/reporter=*/period=*/{INPUT_FILE}"))


def detail_glob(warehouse: Path) -> str:
    """The absolute glob of every detail Parquet file."""
    return str(detail_root(warehouse).resolve() / "source=*" / "reporter=*" / "period=*" / "*.parquet")


def scan_detail(warehouse: Path) -> pl.LazyFrame:
    """All detail rows as a polars LazyFrame (:data:`comtrade_bulk.DETAIL_SCHEMA`), empty when
    nothing has been ingested."""
    if not partitions(warehouse):
        return pl.LazyFrame(schema=bulk.DETAIL_SCHEMA)
    return pl.scan_parquet(detail_glob(warehouse), hive_partitioning=False).select(
        list(bulk.DETAIL_SCHEMA)
    )


def attach_detail(
    con: duckdb.DuckDBPyConnection, warehouse: Path, *, view: str = DETAIL_VIEW, temporary: bool = False
) -> str:
    """Create (or replace) the DuckDB view ``view`` over the detail Parquet files; return it.

    Columns: :data:`comtrade_bulk.DETAIL_SCHEMA` (canonical observation columns, then
    ``period``, ``classification``, ``aggr_level``, ``is_leaf``, ``breakdown_total``, breakdown
    codes, quantities and ``payload_sha256``). Nothing is copied: the view reads
    ``read_parquet('<warehouse>/detail/source=*/reporter=*/period=*/*.parquet',
    hive_partitioning = true)`` with the warehouse's **absolute** path (a view is stored as SQL
    and a relative path would resolve against each reader's working directory), so filters on
    source, reporter and period prune whole folders. With no partition yet, the view is empty
    (same columns) — call again after ingesting. ``temporary=True`` makes a session-only view,
    for read-only connections.

    Sum only within one ``aggr_level`` and over ``breakdown_total`` rows: HS levels and
    breakdowns (partner2, customs procedure, mode of transport) overlap.
    """
    schema_name, _, _ = view.rpartition(".")
    columns = ", ".join(bulk.DETAIL_SCHEMA)
    if partitions(warehouse):
        glob = detail_glob(warehouse).replace("'", "''")
        body = (
            f"SELECT {columns} FROM read_parquet('{glob}', hive_partitioning = true, "
            "hive_types = {'source': VARCHAR, 'reporter': VARCHAR, 'period': VARCHAR})"
        )
    else:
        nulls = ", ".join(
            f"CAST(NULL AS {_DUCK_TYPES[dtype]}) AS {name}" for name, dtype in bulk.DETAIL_SCHEMA.items()
        )
        body = f"SELECT {nulls} WHERE false"
    if schema_name and not temporary:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema_name}")
    name = view.rpartition(".")[2] if temporary else view
    kind = "TEMPORARY VIEW" if temporary else "VIEW"
    con.execute(f"CREATE OR REPLACE {kind} {name} AS {body}")
    if not temporary:
        con.execute(
            f"COMMENT ON VIEW {view} IS 'UN Comtrade bulk detail: every published row (all HS "
            "levels and breakdowns), read in place from Parquet under the warehouse detail/ "
            "folder. Whole USD. Sum only within one aggr_level and over breakdown_total rows.'"
        )
    return name
