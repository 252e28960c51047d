"""Safe publishing for readers: one writer, atomic replacement, Parquet exports.

* :func:`writer_lock` — a file lock (``<warehouse>/.refresh.lock``) so only one refresh writes
  at a time; a second one waits up to ``timeout`` seconds, then fails with a clear message.
* :func:`staging_path` — where a refresh builds its new file (same folder, so the final rename is
  atomic on POSIX file systems).
* :func:`publish` — atomically replaces ``trade.duckdb`` with the new, checkpointed and closed
  file. Readers that opened the old file keep reading it; new readers see the new one. They never
  see a half-built warehouse.
* :func:`export_marts` — every ``marts`` table to ``exports/<table>.parquet`` (each written to a
  temporary name and renamed into place).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from filelock import FileLock, Timeout


class WriterBusy(RuntimeError):
    """Another refresh holds the writer lock."""


@contextmanager
def writer_lock(warehouse: Path, timeout: float = 0) -> Iterator[None]:
    """Hold the single-writer lock of ``warehouse`` for the duration of the block.

    Raises :class:`WriterBusy` when another process holds it for longer than ``timeout`` s.
    """
    warehouse.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(warehouse / ".refresh.lock"))
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        raise WriterBusy(
            f"another refresh is writing to {warehouse} (lock {lock.lock_file}); "
            f"waited {timeout:g} s — try again when it has finished"
        ) from None
    try:
        yield
    finally:
        lock.release()


def staging_path(database: Path) -> Path:
    """The path a refresh builds into before publishing (beside the published file)."""
    return database.with_name(f".{database.stem}.building-{os.getpid()}{database.suffix}")


def publish(built: Path, database: Path) -> None:
    """Atomically replace ``database`` with the closed, checkpointed file ``built``."""
    wal = built.with_name(built.name + ".wal")
    if wal.exists():
        raise RuntimeError(f"{built} still has a write-ahead log; checkpoint and close it first")
    os.replace(built, database)


def export_marts(database: Path, exports: Path) -> list[Path]:
    """Write every ``marts`` table of ``database`` to ``exports/<table>.parquet``; return paths."""
    exports.mkdir(parents=True, exist_ok=True)
    written = []
    con = duckdb.connect(str(database), read_only=True)
    try:
        tables = [
            row[0]
            for row in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' ORDER BY 1"
            ).fetchall()
        ]
        for table in tables:
            target = exports / f"{table}.parquet"
            tmp = exports / f".{table}.parquet.tmp-{os.getpid()}"
            con.execute(f"COPY marts.{table} TO '{tmp}' (FORMAT parquet, COMPRESSION zstd)")
            os.replace(tmp, target)
            written.append(target)
    finally:
        con.close()
    return written


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
