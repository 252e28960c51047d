"""Loading parsed frames into DuckDB: the ``raw`` and ``meta`` schemas.

Tables (all created by :func:`create_raw_tables`):

``raw.observations``
    The current value of every observation (:data:`flows.schema.OBSERVATION_SCHEMA` plus
    ``payload_sha256 VARCHAR`` and ``fetched_at TIMESTAMP``): one row per
    :data:`flows.schema.OBSERVATION_KEY`, the latest vintage.
``raw.observation_history``
    Every vintage ever loaded: the same columns, one row per (key, payload_sha256). A revision is
    a key with more than one distinct value here (``marts.revisions``).
``raw.fx_rates``
    Exchange rates (:data:`flows.schema.FX_SCHEMA` plus ``payload_sha256``), latest per
    (currency, base, period_start).
``raw.manifest``
    The raw archive's manifest (one row per fetch).
``meta.load_log``
    One row per payload loaded: source, sha256, rows, partitions.

Load rule (DESIGN.md §2): each payload is applied in one transaction as a delete-and-insert of
the keys (:data:`flows.schema.OBSERVATION_KEY`) it holds — so a payload for some partners never
deletes others, and the payload applied last wins. Loading the same payload twice changes
nothing. A rebuild applies many payloads at once with :func:`load_observation_payloads`, which
gives the same rows as applying them one by one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

import duckdb
import numpy as np
import polars as pl

from flows.archive import ManifestEntry
from flows.schema import FX_SCHEMA, OBSERVATION_KEY, OBSERVATION_SCHEMA

_DUCK_TYPES = {
    pl.String(): "VARCHAR",
    pl.Date(): "DATE",
    pl.Int16(): "SMALLINT",
    pl.Float64(): "DOUBLE",
}


def _columns_ddl(schema: dict[str, pl.DataType]) -> str:
    return ",\n    ".join(f"{name} {_DUCK_TYPES[dtype]}" for name, dtype in schema.items())


def create_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the ``raw`` and ``meta`` schemas and tables if absent, and (re)write
    ``meta.release_calendar`` (:mod:`flows.release_calendar`)."""
    obs_cols = _columns_ddl(OBSERVATION_SCHEMA)
    fx_cols = _columns_ddl(FX_SCHEMA)
    key = ", ".join(OBSERVATION_KEY)
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute("CREATE SCHEMA IF NOT EXISTS meta")
    con.execute(
        f"""CREATE TABLE IF NOT EXISTS raw.observations (
    {obs_cols},
    payload_sha256 VARCHAR NOT NULL,
    fetched_at TIMESTAMP NOT NULL,
    PRIMARY KEY ({key}))"""
    )
    con.execute(
        f"""CREATE TABLE IF NOT EXISTS raw.observation_history (
    {obs_cols},
    payload_sha256 VARCHAR NOT NULL,
    fetched_at TIMESTAMP NOT NULL,
    PRIMARY KEY ({key}, payload_sha256))"""
    )
    con.execute(
        f"""CREATE TABLE IF NOT EXISTS raw.fx_rates (
    {fx_cols},
    payload_sha256 VARCHAR NOT NULL,
    PRIMARY KEY (currency, base, period_start))"""
    )
    con.execute(
        """CREATE TABLE IF NOT EXISTS raw.manifest (
    sha256 VARCHAR, source VARCHAR, url VARCHAR, role VARCHAR, request JSON,
    fetched_at TIMESTAMP, status INTEGER, bytes BIGINT, content_type VARCHAR,
    parse_error VARCHAR, quarantine VARCHAR, accepted_by VARCHAR)"""
    )
    con.execute(
        """CREATE TABLE IF NOT EXISTS meta.load_log (
    source VARCHAR, payload_sha256 VARCHAR, target VARCHAR, rows BIGINT, partitions BIGINT,
    fetched_at TIMESTAMP)"""
    )
    # The release calendar is reference data of every warehouse (marts.release_calendar).
    from flows.release_calendar import write_release_calendar

    write_release_calendar(con)


#: Columns of ``raw.manifest`` as a frame (:func:`load_manifest`).
_MANIFEST = {
    "sha256": pl.String(), "source": pl.String(), "url": pl.String(), "role": pl.String(),
    "request": pl.String(), "fetched_at": pl.Datetime("us"), "status": pl.Int32(),
    "bytes": pl.Int64(), "content_type": pl.String(), "parse_error": pl.String(),
    "quarantine": pl.String(), "accepted_by": pl.String(),
}  # fmt: skip


def load_manifest(
    con: duckdb.DuckDBPyConnection, entries: list[ManifestEntry], accepted: dict | None = None
) -> None:
    """Replace ``raw.manifest`` with ``entries`` (one statement); ``accepted`` maps a quarantined
    payload's sha256 to its acceptance record (``who``, ``at``)."""
    accepted = accepted or {}
    con.execute("DELETE FROM raw.manifest")
    rows = [
        (
            e.sha256,
            e.source,
            e.url,
            e.request.role,
            json.dumps(e.request.to_json(), sort_keys=True),
            e.fetched_at.replace(tzinfo=None),
            e.status,
            e.bytes,
            e.content_type,
            e.parse_error,
            e.quarantine,
            (
                f"{accepted[e.sha256]['who']} at {accepted[e.sha256]['at']}"
                if e.quarantine and e.sha256 in accepted else None
            ),
        )
        for e in entries
    ]
    if rows:
        con.register("manifest_rows", pl.DataFrame(rows, schema=_MANIFEST, orient="row").to_arrow())
        try:
            con.execute("INSERT INTO raw.manifest SELECT * FROM manifest_rows")
        finally:
            con.unregister("manifest_rows")


def _stamped(frame: pl.DataFrame, sha256: str, fetched_at: datetime) -> pl.DataFrame:
    """``frame`` as loaded: null vintages filled with the fetch date, the payload and fetch time
    added (the columns of ``raw.observations``)."""
    return frame.with_columns(
        pl.col("vintage").fill_null(pl.lit(fetched_at.date())),
        pl.lit(sha256).alias("payload_sha256"),
        pl.lit(fetched_at.replace(tzinfo=None)).cast(pl.Datetime("us")).alias("fetched_at"),
    )


def _log_row(batch: pl.DataFrame, sha256: str, fetched_at: datetime) -> list:
    """The ``meta.load_log`` row of one stamped payload."""
    partitions = batch.select("source", "reporter", "period_start", "period_end").n_unique()
    return [batch["source"][0], sha256, batch.height, partitions, fetched_at.replace(tzinfo=None)]


_LOG_INSERT = "INSERT INTO meta.load_log VALUES (?, ?, 'observations', ?, ?, ?)"


def load_observations(
    con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, sha256: str, fetched_at: datetime
) -> int:
    """Apply one parsed payload to ``raw.observations`` and ``raw.observation_history``.

    ``frame`` has :data:`OBSERVATION_SCHEMA`; rows with a null ``vintage`` get the fetch date.
    Returns the number of rows loaded. Runs in one transaction (rolled back on error).
    """
    if frame.is_empty():
        return 0
    batch = _stamped(frame, sha256, fetched_at)
    on = " AND ".join(f"o.{c} = b.{c}" for c in OBSERVATION_KEY)
    with _batch_transaction(con, batch):
        con.execute(f"DELETE FROM raw.observations o USING batch b WHERE {on}")
        con.execute("INSERT INTO raw.observations SELECT * FROM batch")
        con.execute(
            f"""INSERT INTO raw.observation_history SELECT b.* FROM batch b
            WHERE NOT EXISTS (SELECT 1 FROM raw.observation_history o
                              WHERE {on} AND o.payload_sha256 = b.payload_sha256)"""
        )
        con.execute(_LOG_INSERT, _log_row(batch, sha256, fetched_at))
    return batch.height


#: Columns of ``raw.observations`` (a stamped payload's, in table order).
_LOADED = {
    **OBSERVATION_SCHEMA,
    "payload_sha256": pl.String(),
    "fetched_at": pl.Datetime("us"),
}


def load_observation_payloads(
    con: duckdb.DuckDBPyConnection, payloads: Sequence[tuple[pl.DataFrame, str, datetime]]
) -> list[int]:
    """Apply parsed payloads ``(frame, sha256, fetched_at)`` in order with set-based SQL, in one
    transaction: the same ``raw.observations``, ``raw.observation_history`` and
    ``meta.load_log`` rows (in the same order) as :func:`load_observations` once per payload.

    That is: per key, the row of the last payload that has it replaces the current one; per
    (key, payload) the first row loaded enters the history unless the history has it already;
    one log row per non-empty payload. Returns the rows loaded per payload (0 for an empty
    frame). A frame :func:`load_observations` would refuse (a null or repeated key, other
    columns) makes the whole call load payload by payload, so it fails as that function does.
    """
    counts = [frame.height for frame, _, _ in payloads]
    kept = [i for i, n in enumerate(counts) if n]
    if not kept:
        return counts
    if any(dict(payloads[i][0].schema) != OBSERVATION_SCHEMA for i in kept):
        return [load_observations(con, *item) for item in payloads]
    # One frame in load order, stamped as _stamped stamps each payload: _payload is the payload's
    # position, _row the row's position in it.
    position = np.repeat(np.arange(len(kept), dtype=np.int32), [counts[i] for i in kept])
    starts = np.cumsum([0] + [counts[i] for i in kept[:-1]])
    stamps = pl.DataFrame(
        {
            "sha": [payloads[i][1] for i in kept],
            "at": [payloads[i][2].replace(tzinfo=None) for i in kept],
            "day": [payloads[i][2].date() for i in kept],
        },
        schema={"sha": pl.String(), "at": pl.Datetime("us"), "day": pl.Date()},
    )[position]
    rows = pl.concat([payloads[i][0] for i in kept]).with_columns(
        pl.col("vintage").fill_null(stamps["day"]),
        stamps["sha"].alias("payload_sha256"),
        stamps["at"].alias("fetched_at"),
        pl.Series("_payload", position),
        pl.Series("_row", np.arange(len(position), dtype=np.int64) - starts[position]),
    )
    key = list(OBSERVATION_KEY)
    refused = rows.select(key).null_count().sum_horizontal().item()
    if refused or rows.select(*key, "_payload").is_duplicated().any():  # as the upsert would refuse
        return [load_observations(con, *item) for item in payloads]
    log = rows.group_by("_payload", maintain_order=True).agg(
        pl.col("source").first(),
        pl.len().alias("rows"),
        pl.struct("source", "reporter", "period_start", "period_end").n_unique().alias("partitions"),
    )
    keys, columns = ", ".join(key), ", ".join(_LOADED)
    on = " AND ".join(f"o.{c} = b.{c}" for c in key)
    with _batch_transaction(con, rows):
        con.execute(f"DELETE FROM raw.observations o USING (SELECT DISTINCT {keys} FROM batch) b WHERE {on}")
        con.execute(
            f"""INSERT INTO raw.observations SELECT {columns} FROM batch
            QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY _payload DESC) = 1
            ORDER BY _payload, _row"""
        )
        con.execute(
            f"""INSERT INTO raw.observation_history SELECT {columns} FROM (
                SELECT * FROM batch
                QUALIFY row_number() OVER (PARTITION BY {keys}, payload_sha256 ORDER BY _payload) = 1
            ) b
            WHERE NOT EXISTS (SELECT 1 FROM raw.observation_history o
                              WHERE {on} AND o.payload_sha256 = b.payload_sha256)
            ORDER BY _payload, _row"""
        )
        con.executemany(
            _LOG_INSERT,
            [
                [source, payloads[kept[j]][1], n, parts, payloads[kept[j]][2].replace(tzinfo=None)]
                for j, source, n, parts in log.iter_rows()
            ],
        )
    return counts


def load_fx_rates(
    con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, sha256: str, fetched_at: datetime
) -> int:
    """Upsert exchange rates (:data:`FX_SCHEMA`) into ``raw.fx_rates``; returns rows loaded."""
    if frame.is_empty():
        return 0
    batch = frame.with_columns(
        pl.col("vintage").fill_null(pl.lit(fetched_at.date())),
        pl.lit(sha256).alias("payload_sha256"),
    )
    with _batch_transaction(con, batch):
        con.execute(
            """DELETE FROM raw.fx_rates o USING batch b WHERE o.currency = b.currency
            AND o.base = b.base AND o.period_start = b.period_start"""
        )
        con.execute("INSERT INTO raw.fx_rates SELECT * FROM batch")
        con.execute(
            "INSERT INTO meta.load_log VALUES (?, ?, 'fx_rates', ?, ?, ?)",
            [batch["source"][0], sha256, batch.height, batch["currency"].n_unique(),
             fetched_at.replace(tzinfo=None)],
        )
    return batch.height


@contextmanager
def _batch_transaction(con: duckdb.DuckDBPyConnection, batch: pl.DataFrame) -> Iterator[None]:
    """One transaction with ``batch`` registered as the view ``batch``; rolled back on error."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.register("batch", batch.to_arrow())
        yield
        con.unregister("batch")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
