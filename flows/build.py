"""Build a warehouse file from the raw archive alone (DESIGN.md §2, second half).

The warehouse is a pure function of the archive and the SQL models: :func:`build_warehouse`
replays every accepted data payload in fetch order into a *new* DuckDB file, runs the models and
the data tests, and returns; :mod:`flows.publish` then swaps it in atomically. Rebuilding from an
unchanged archive gives identical tables (a payload's rows carry the time its content was first
fetched, so re-fetching identical bytes changes nothing).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from flows.archive import Archive, ManifestEntry, accepted_data_entries, effective_entries  # noqa: F401
from flows.detail import attach_detail
from flows.faults import kill_point
from flows.fetch import parse_payload
from flows.models import SQL_DIR, run_data_tests, run_models
from flows.parameters import ModelParameters, write_parameters
from flows.reference_table import write_partner_codes
from flows.seasonal.warehouse import build_seasonal
from flows.sources import get_source, target_of
from flows.sources.base import SourceError
from flows.warehouse import create_raw_tables, load_fx_rates, load_manifest, load_observation_payloads

Progress = Callable[[str], None]

#: DuckDB storage version written, so readers with older DuckDB releases (1.1.0 and newer; 1.0.x
#: cannot read the primary-key constraints) can open the file.
STORAGE_COMPATIBILITY = "v1.0.0"


#: DuckDB's memory limit on the connection that runs the models by default
#: (``Settings.build_memory_limit``, ``TRADE_IMBALANCE_BUILD_MEMORY_LIMIT``). Beyond it DuckDB
#: spills to the folder ``<build file>.tmp`` instead of growing: the models over 20 million rows
#: in ``raw.observations`` then stay under about 2 GiB of resident memory (bench/RESULTS.md).
BUILD_MEMORY_LIMIT = "1GB"


def build_memory_limit() -> str:
    """The memory limit for build and export connections: the ``build_memory_limit`` setting
    (``TRADE_IMBALANCE_BUILD_MEMORY_LIMIT``, default :data:`BUILD_MEMORY_LIMIT`). Raises
    :class:`BuildError` naming the invalid settings when they cannot be read (e.g. a value that
    is not a DuckDB size)."""
    from pydantic import ValidationError

    from flows.settings import get_settings

    try:
        return get_settings().build_memory_limit
    except ValidationError as exc:
        names = ", ".join(".".join(str(p) for p in e.get("loc", ())) for e in exc.errors())
        raise BuildError(f"invalid settings ({names}): e.g. not a DuckDB memory size") from None


def spill_beside(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Let DuckDB spill to the folder ``<path>.tmp`` (removed with the build's leftovers by
    :func:`flows.publish.building`)."""
    quoted = str(path.with_name(path.name + ".tmp")).replace("'", "''")
    con.execute(f"SET temp_directory = '{quoted}'")


def configure_build(con: duckdb.DuckDBPyConnection, path: Path) -> duckdb.DuckDBPyConnection:
    """Bound the models connection's memory: ``memory_limit`` (:func:`build_memory_limit`),
    spilling to ``<path>.tmp`` (:func:`spill_beside`), and no insertion order kept where a
    statement does not ask for one (large ``CREATE TABLE AS`` then stream instead of buffering).

    Not for the load: inserting into ``raw.observations`` maintains its primary-key index, which
    DuckDB keeps in memory (it cannot spill), so a tight limit would fail a large load rather
    than slow it; the load connection only gets the spill folder. Returns ``con``.
    """
    limit = build_memory_limit()
    if not limit.replace(".", "").replace(" ", "").isalnum():
        raise BuildError(f"not a DuckDB memory size: {limit!r}")
    con.execute(f"SET memory_limit = '{limit}'")
    spill_beside(con, path)
    con.execute("SET preserve_insertion_order = false")
    return con


#: Observation rows applied together when replaying the archive (whole payloads, in fetch order;
#: a batch closes at the first payload that reaches it). Bounds the memory of one set-based step.
LOAD_BATCH_ROWS = 1_000_000


class BuildError(RuntimeError):
    """The warehouse could not be built; nothing is published."""


@dataclass
class BuildStats:
    """What a build loaded."""

    rows_by_source: dict[str, int] = field(default_factory=dict)
    payloads_by_source: dict[str, int] = field(default_factory=dict)
    models: list[str] = field(default_factory=list)
    data_tests: dict[str, int] = field(default_factory=dict)
    fingerprint: str = ""


def fingerprint(
    archive: Archive, sql_dir: Path = SQL_DIR, parameters: ModelParameters | None = None
) -> str:
    """A hash of what the warehouse is a function of: the accepted payloads, the SQL models, the
    parameters and the pipeline's own code (a parser fix must trigger a rebuild)."""
    digest = hashlib.sha256()
    digest.update((parameters or ModelParameters()).model_dump_json().encode())
    for entry in effective_entries(archive):
        digest.update(entry.sha256.encode())
        digest.update(entry.request.key().encode())
    code_dir = Path(__file__).resolve().parent
    files = [
        *sorted(sql_dir.rglob("*.sql")),
        *sorted(code_dir.rglob("*.py")),
        *sorted(code_dir.rglob("*.csv")),
        *sorted(code_dir.rglob("*.sql")),  # models kept beside their Python step (seasonal)
    ]
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def connect_new(path: Path) -> duckdb.DuckDBPyConnection:
    """A connection to a new DuckDB file at ``path`` (removed first if it exists)."""
    for stale in (path, path.with_name(path.name + ".wal")):
        stale.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(path), config={"storage_compatibility_version": STORAGE_COMPATIBILITY})


def load_archive(
    archive: Archive,
    path: Path,
    *,
    sql_dir: Path = SQL_DIR,
    parameters: ModelParameters | None = None,
    progress: Progress = lambda _msg: None,
) -> BuildStats:
    """Create a new warehouse file at ``path`` and replay every accepted archived payload into it.

    Observation payloads are applied in fetch order in batches of about :data:`LOAD_BATCH_ROWS`
    rows, each one set-based transaction giving the rows one upsert per payload would; an
    exchange-rate payload is applied on its own between them. Raises :class:`BuildError` when an
    archived payload that was accepted before no longer parses or its archive object is missing
    (naming the payload).
    """
    parameters = parameters or ModelParameters()
    stats = BuildStats(fingerprint=fingerprint(archive, sql_dir, parameters))
    entries = list(archive.entries())
    first_seen: dict[str, object] = {}
    for entry in entries:
        first_seen.setdefault(entry.sha256, entry.fetched_at)
    data = effective_entries(archive)
    con = connect_new(path)
    try:
        spill_beside(con, path)
        create_raw_tables(con)
        load_manifest(con, entries, archive.accepted())
        frames: dict[tuple[str, str], pl.DataFrame] = {}
        pending: list[tuple[ManifestEntry, pl.DataFrame]] = []
        pending_rows = 0

        def flush() -> None:
            """Apply the pending observation payloads in one set-based step (same rows as one
            upsert per payload: :func:`flows.warehouse.load_observation_payloads`)."""
            nonlocal pending_rows
            load_observation_payloads(
                con, [(frame, e.sha256, first_seen[e.sha256]) for e, frame in pending]
            )
            for e, _ in pending:
                kill_point("load:payload")
                stats.payloads_by_source[e.source] = stats.payloads_by_source.get(e.source, 0) + 1
            pending.clear()
            pending_rows = 0

        progress(f"load: replaying {len(data)} archived payloads")
        for entry in data:
            module = get_source(entry.source)
            cache_key = (entry.sha256, entry.request.key())
            if cache_key not in frames:
                try:
                    frames[cache_key] = parse_payload(module, archive.fetched(entry))
                except SourceError as exc:
                    raise BuildError(
                        f"archived payload {entry.sha256[:12]} no longer parses: {exc}"
                    ) from exc
                except FileNotFoundError as exc:
                    raise BuildError(f"archive object missing for {entry.url}: {exc}") from exc
            frame = frames[cache_key]
            if target_of(module) != "fx_rates":
                pending.append((entry, frame))
                pending_rows += frame.height
                if pending_rows >= LOAD_BATCH_ROWS:
                    flush()
                continue
            flush()  # the observations fetched before it first, as in fetch order
            load_fx_rates(con, frame, entry.sha256, first_seen[entry.sha256])
            kill_point("load:payload")
            stats.payloads_by_source[entry.source] = stats.payloads_by_source.get(entry.source, 0) + 1
        flush()
        # Per-payload counts overlap (upserts), so rows per source are counted after the loop.
        stats.rows_by_source = dict(
            con.execute(
                """SELECT source, count(*) FROM raw.observations GROUP BY source
                   UNION ALL SELECT source, count(*) FROM raw.fx_rates GROUP BY source
                   ORDER BY 1"""
            ).fetchall()
        )
        write_parameters(con, parameters)
        write_partner_codes(con)
        write_build_info(con, stats.fingerprint, parameters)
        con.execute("CHECKPOINT")
        kill_point("load:done")
    finally:
        con.close()
    return stats


def build_models(path: Path, *, sql_dir: Path = SQL_DIR) -> list[str]:
    """Run the SQL models in the warehouse at ``path``; return the tables built."""
    con = duckdb.connect(str(path))
    try:
        configure_build(con, path)
        built = run_models(con, sql_dir)
        built += build_seasonal(con, path.parent)  # X-13 step after the models (issue 13)
        # HS-level detail stays in its immutable Parquet partitions (flows.detail); the view
        # staging.comtrade_detail reads them in place, nothing is copied into the file.
        built.append(attach_detail(con, path.parent))
        kill_point("models:done")
        con.execute("CHECKPOINT")
        return built
    finally:
        con.close()


def check_data(
    path: Path, *, sql_dir: Path = SQL_DIR, warn: Progress = lambda _msg: None
) -> dict[str, int]:
    """Run the data tests on the warehouse at ``path`` (raises DataTestFailure)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        counts = run_data_tests(con, sql_dir, warn=warn)
        kill_point("tests:done")
        return counts
    finally:
        con.close()


def build_warehouse(
    archive: Archive,
    path: Path,
    *,
    sql_dir: Path = SQL_DIR,
    parameters: ModelParameters | None = None,
    progress: Progress = lambda _msg: None,
) -> BuildStats:
    """Load, model and test a complete new warehouse at ``path`` (see the three steps above)."""
    stats = load_archive(archive, path, sql_dir=sql_dir, parameters=parameters, progress=progress)
    progress("models: running SQL models")
    stats.models = build_models(path, sql_dir=sql_dir)
    progress("tests: running data tests")
    stats.data_tests = check_data(path, sql_dir=sql_dir, warn=progress)
    return stats


def write_build_info(
    con: duckdb.DuckDBPyConnection, fp: str, parameters: ModelParameters
) -> None:
    """Record the build's fingerprint and parameters in ``meta.build_info``."""
    con.execute(
        """CREATE OR REPLACE TABLE meta.build_info AS
        SELECT ?::VARCHAR AS fingerprint, current_timestamp AS built_at, ?::JSON AS parameters""",
        [fp, parameters.model_dump_json()],
    )
