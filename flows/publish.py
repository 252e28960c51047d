"""Safe publishing for readers: one writer, atomic replacement, Parquet exports.

A refresh never writes into the published file. It builds a complete new warehouse beside it
(:func:`staging_path`), runs the data tests, checkpoints and closes it, and only then renames it
over ``trade.duckdb`` (:func:`publish`). A failure anywhere before the rename — a data test, an
archived payload that no longer parses, a killed process — leaves the published file byte for byte
as it was; the next refresh deletes what a killed one left behind (:func:`remove_stale_builds`).

* :func:`writer_lock` — a file lock (``<warehouse>/.refresh.lock``) so only one refresh writes
  at a time; a second one waits up to ``timeout`` seconds (0 by default: it does not wait), then
  raises :class:`WriterBusy` with a clear message. Deployments add a Prefect concurrency limit of 1
  (``prefect.yaml``), so scheduled and UI runs queue instead of colliding.
* :func:`publish` — ``os.replace`` is atomic on POSIX file systems: readers that opened the old
  file keep reading it; readers that open after the rename see the new one; nobody ever sees a
  half-built warehouse and no reader is blocked (readers open with ``read_only=True``).
* :func:`export_marts` — every ``marts`` table to ``exports/<table>.parquet``, each written to a
  temporary name and renamed into place; exports of marts that no longer exist are deleted.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from filelock import FileLock, Timeout

from flows.faults import kill_point

LOCK_NAME = ".refresh.lock"


class WriterBusy(RuntimeError):
    """Another refresh holds the writer lock."""


@contextmanager
def writer_lock(warehouse: Path, timeout: float = 0) -> Iterator[None]:
    """Hold the single-writer lock of ``warehouse`` for the duration of the block.

    The lock is an OS file lock (released by the kernel if the holder is killed). Raises
    :class:`WriterBusy` when another process holds it for longer than ``timeout`` seconds.
    """
    warehouse.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(warehouse / LOCK_NAME))
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        raise WriterBusy(
            f"another refresh is writing to {warehouse} (lock {lock.lock_file} is held); "
            + (f"waited {timeout:g} s; " if timeout else "")
            + "nothing was done — run it again when that refresh has finished"
        ) from None
    try:
        yield
    finally:
        lock.release()


def staging_path(database: Path) -> Path:
    """The path a refresh builds into before publishing (beside the published file).

    Same folder as ``database``, so the final rename is atomic; the name carries the process id
    (``.trade.building-<pid>.duckdb``) and starts with a dot so readers' globs skip it.
    """
    return database.with_name(f".{database.stem}.building-{os.getpid()}{database.suffix}")


def _leftovers(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + ".wal"), path.with_name(path.name + ".tmp")]


def _remove(path: Path) -> None:
    """Delete a file, or a folder with its content (DuckDB's spill folder ``<build>.tmp``)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def remove_stale_builds(database: Path) -> list[Path]:
    """Delete build files and export temporaries that a killed refresh left behind.

    Call it only while holding :func:`writer_lock`: then no other refresh is building, so every
    ``.<stem>.building-*`` file (and its ``.wal`` and spill folder ``.tmp``) beside ``database`` and every
    ``exports/.*.parquet.tmp-*`` file is stale. Returns the paths removed.
    """
    removed = []
    candidates = list(database.parent.glob(f".{database.stem}.building-*"))
    candidates += list((database.parent / "exports").glob(".*.parquet.tmp-*"))
    for path in sorted(candidates):
        _remove(path)
        removed.append(path)
    return removed


@contextmanager
def building(database: Path) -> Iterator[Path]:
    """The staging path of a new build; whatever is left of it is removed when the block ends.

    After a successful :func:`publish` the file has been renamed away, so only leftovers of a
    failed build (the file, its write-ahead log) are deleted.
    """
    path = staging_path(database)
    for leftover in _leftovers(path):
        _remove(leftover)
    try:
        yield path
    finally:
        for leftover in _leftovers(path):
            _remove(leftover)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(built: Path, database: Path) -> None:
    """Atomically replace ``database`` with the closed, checkpointed file ``built``.

    The new file is flushed to disk before the rename and the folder after it, so a crash leaves
    either the old or the new warehouse, never a mix. Raises ``RuntimeError`` when ``built`` still
    has a write-ahead log (it was not checkpointed and closed) or lives in another folder.
    """
    wal = built.with_name(built.name + ".wal")
    if wal.exists():
        raise RuntimeError(f"{built} still has a write-ahead log; checkpoint and close it first")
    if built.parent.resolve() != database.parent.resolve():
        raise RuntimeError(f"{built} must be beside {database} for an atomic rename")
    _fsync(built)
    kill_point("publish:before-rename")
    os.replace(built, database)
    kill_point("publish:after-rename")
    _fsync(database.parent)


def export_marts(database: Path, exports: Path) -> list[Path]:
    """Write every ``marts`` table and view of ``database`` to ``exports/<table>.parquet`` (a view
    such as ``marts.commodity_drivers`` is computed here, once, under the build's memory limit and
    spilling to ``exports/.spill-<pid>``); return the paths.

    Each file is written to ``.<table>.parquet.tmp-<pid>`` and renamed into place, so a reader
    opens either the previous or the new complete file. ``*.parquet`` files of marts that no longer
    exist are deleted. Parquet (zstd) opens in DuckDB, polars, pandas/pyarrow, Spark and R arrow.
    """
    from flows.build import build_memory_limit  # flows.build imports this module
    from flows.models import relations

    exports.mkdir(parents=True, exist_ok=True)
    written = []
    spill = exports / f".spill-{os.getpid()}"
    con = duckdb.connect(str(database), read_only=True)
    try:
        # a view over tens of millions of detail rows is computed here: bounded like the build
        con.execute(f"SET memory_limit = '{build_memory_limit()}'")
        con.execute(f"SET temp_directory = '{str(spill).replace(chr(39), chr(39) * 2)}'")
        tables = [name for name, _comment, _kind in relations(con, "marts")]
        for table in tables:
            target = exports / f"{table}.parquet"
            tmp = exports / f".{table}.parquet.tmp-{os.getpid()}"
            try:
                con.execute(f"COPY marts.{table} TO '{tmp}' (FORMAT parquet, COMPRESSION zstd)")
                kill_point("export:file")
                os.replace(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)
            written.append(target)
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)
    current = {path.name for path in written}
    for stale in exports.glob("*.parquet"):
        if stale.name not in current:
            stale.unlink(missing_ok=True)
    return written


def rebuild_and_publish(
    archive,
    database: Path,
    *,
    sql_dir: Path | None = None,
    parameters=None,
    lock_timeout: float = 0,
    progress=lambda _msg: None,
):
    """Rebuild from the raw archive and publish, without Prefect: the flow's load → models →
    data tests → publish → export steps in one call (for scripts and tests).

    Under :func:`writer_lock`: removes stale builds, builds into :func:`building`, publishes and
    exports the marts. Returns the :class:`flows.build.BuildStats`. Raises :class:`WriterBusy`,
    :class:`flows.build.BuildError`, :class:`flows.models.ModelError` or
    :class:`flows.models.DataTestFailure`; the published file is then untouched.
    """
    from flows.build import build_warehouse
    from flows.models import SQL_DIR

    with writer_lock(database.parent, timeout=lock_timeout):
        remove_stale_builds(database)
        with building(database) as path:
            stats = build_warehouse(
                archive, path, sql_dir=sql_dir or SQL_DIR, parameters=parameters, progress=progress
            )
            publish(path, database)
        export_marts(database, database.parent / "exports")
    return stats


def published_fingerprint(database: Path) -> str | None:
    """The fingerprint recorded in the published warehouse, or None if absent/unreadable."""
    if not database.exists():
        return None
    try:
        con = duckdb.connect(str(database), read_only=True)
    except duckdb.Error:
        return None
    try:
        row = con.execute("SELECT fingerprint FROM meta.build_info").fetchone()
        return row[0] if row else None
    except duckdb.Error:
        return None
    finally:
        con.close()
