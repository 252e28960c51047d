"""The read-only SQL sandbox behind ``trade-imbalance query``.

:func:`run_query` runs one statement against the published warehouse and returns its columns
and rows. Two independent walls keep it read-only and inside the warehouse:

1. **The statement is checked on DuckDB's own parse tree before it runs.** Exactly one
   statement, of type ``SELECT`` (which covers ``WITH``, ``FROM``-first, ``VALUES``, ``SHOW``,
   ``DESCRIBE``, ``SUMMARIZE``) or ``EXPLAIN [ANALYZE]`` of such a statement
   (``DuckDBPyConnection.extract_statements``). The select tree (``json_serialize_sql``) is walked
   and a statement is refused when it calls a function that reads files or runs SQL held in a
   string (:data:`REFUSED_FUNCTIONS`, names starting with :data:`REFUSED_PREFIXES`), or names a
   file as a table (``FROM '/etc/passwd'``, a replacement scan). This check is essential: the
   engine lets ``EXPLAIN ANALYZE COPY … TO`` write into an allowed directory, and
   ``read_text('<allowed>/../file')`` walks out of one.
2. **The connection is locked down** (DuckDB "Securing DuckDB", configuration reference, DuckDB
   2.0.1 as locked in ``uv.lock``): an in-memory database (its own instance, so nothing here
   changes another connection's settings) attaches the warehouse ``READ_ONLY`` and ``USE``\\ s it;
   then, in this order — ``allowed_directories`` can only be set while external access is still
   on, and every setting must precede the lock — ``temp_directory = ''`` (no spill folder, which
   DuckDB would otherwise add to the allowed directories), ``allowed_directories`` = the
   warehouse's ``detail/`` folder (what ``staging.comtrade_detail`` reads, see
   :mod:`flows.detail`), ``enable_external_access = false`` (no other file, no network, no
   ``ATTACH``/``COPY``/``INSTALL``/``LOAD``, no Python replacement scans),
   ``autoinstall_known_extensions = false``, ``autoload_known_extensions = false``,
   ``memory_limit``, ``threads``, ``lock_configuration = true`` (no later ``SET``). A timer thread
   interrupts the connection after ``timeout`` seconds.

Errors: :class:`QueryRefused` (the CLI's exit 2) for anything refused, by the check or by the
engine (``PermissionException``, a locked setting); :class:`QueryFailed` (exit 1) for SQL errors,
the time limit and the memory limit.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import duckdb

from flows.detail import DETAIL_DIR

#: Statement types ``query`` runs (``extract_statements`` types; SHOW/DESCRIBE/SUMMARIZE are SELECT).
READ_ONLY_STATEMENTS = ("SELECT", "EXPLAIN")

#: Functions refused anywhere in a statement: they read files, list folders, reach other
#: databases or run SQL held in a string (which the parse-tree check cannot see).
REFUSED_FUNCTIONS = frozenset({
    "glob", "sniff_csv", "query", "query_table", "json_execute_serialized_sql",
    "parquet_scan", "from_csv_auto", "arrow_scan", "arrow_scan_dumb", "scan_arrow_ipc",
    "st_read", "st_read_meta", "getenv", "load_aws_credentials",
})
#: Function-name prefixes refused (``read_csv``, ``read_text``, ``read_parquet``, ``read_json*``,
#: ``read_blob``, ``parquet_metadata``, ``iceberg_scan``, ``delta_scan``, ``sqlite_scan``, ...).
REFUSED_PREFIXES = ("read_", "parquet_", "iceberg_", "delta_", "sqlite_", "postgres_", "mysql_",
                    "excel_", "ducklake_")

#: Characters that make a table name a file path (a replacement scan such as ``FROM 'x.csv'``).
_PATH_CHARS = set("/\\:.*~")

DEFAULT_MEMORY_LIMIT = "1GB"
DEFAULT_THREADS = 2
DEFAULT_TIMEOUT = 120.0


class QueryRefused(Exception):
    """The statement is not allowed in ``query`` (checked before it runs, or refused by the
    engine's sandbox). The message says what and why."""


class QueryFailed(Exception):
    """The statement was allowed but did not run to the end (SQL error, time or memory limit)."""


def run_query(
    database: Path,
    sql: str,
    limit: int | None = None,
    *,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    threads: int = DEFAULT_THREADS,
    timeout: float = DEFAULT_TIMEOUT,
) -> tuple[list[str], list[tuple]]:
    """Run one read-only statement against ``database`` (the published ``trade.duckdb``).

    Returns ``(columns, rows)``; with ``limit``, at most ``limit + 1`` rows are fetched (so a
    caller can tell that more exist). ``memory_limit`` is a DuckDB size (``"1GB"``), ``threads``
    a count, ``timeout`` seconds of wall time for running and fetching. Raises
    :class:`QueryRefused` or :class:`QueryFailed` (see the module docstring).
    """
    con = sandbox(Path(database), memory_limit=memory_limit, threads=threads)
    try:
        check_statement(con, sql)
        timer = threading.Timer(timeout, con.interrupt)
        timer.daemon = True
        timer.start()
        try:
            cursor = con.execute(sql)
            columns = [d[0] for d in cursor.description]
            rows = cursor.fetchmany(limit + 1) if limit is not None else cursor.fetchall()
        except duckdb.InterruptException:
            raise QueryFailed(
                f"query failed: stopped after the {timeout:g} s time limit of `query`"
            ) from None
        except duckdb.PermissionException as exc:
            raise QueryRefused(f"refused by the sandbox: {_first_line(exc)}") from None
        except duckdb.InvalidInputException as exc:
            if "configuration has been locked" in str(exc):
                raise QueryRefused(f"refused by the sandbox: {_first_line(exc)}") from None
            raise QueryFailed(f"query failed: {exc}") from None
        except duckdb.Error as exc:
            raise QueryFailed(f"query failed: {exc}") from None
        finally:
            timer.cancel()
    finally:
        con.close()
    return columns, rows


def sandbox(database: Path, *, memory_limit: str = DEFAULT_MEMORY_LIMIT,
            threads: int = DEFAULT_THREADS) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with ``database`` attached read-only as the default
    catalog, locked down as the module docstring describes. Raises :class:`QueryFailed` when
    the file cannot be opened."""
    database = Path(database).resolve()
    detail = database.parent / DETAIL_DIR
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"ATTACH {_literal(str(database))} AS trade (READ_ONLY)")
        con.execute("USE trade")
        con.execute("SET temp_directory = ''")
        con.execute(f"SET allowed_directories = [{_literal(str(detail) + '/')}]")
        con.execute("SET enable_external_access = false")
        con.execute("SET autoinstall_known_extensions = false")
        con.execute("SET autoload_known_extensions = false")
        con.execute(f"SET memory_limit = {_literal(memory_limit)}")
        con.execute(f"SET threads = {int(threads)}")
        con.execute("SET lock_configuration = true")
    except duckdb.Error as exc:
        con.close()
        raise QueryFailed(f"query failed: cannot open {database} read-only: {exc}") from None
    return con


def check_statement(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Refuse ``sql`` unless it is one plain read (see the module docstring).

    Raises :class:`QueryRefused` naming the statement type, function or table that is not
    allowed; :class:`QueryFailed` when the text does not parse.
    """
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryFailed(f"query failed: {exc}") from None
    if len(statements) != 1:
        raise QueryRefused(f"give exactly one statement (got {len(statements)})")
    kind = statements[0].type.name
    if kind not in READ_ONLY_STATEMENTS:
        kind = "INSTALL/LOAD" if kind == "LOAD" else kind
        raise QueryRefused(
            f"refused: {kind} statements are not allowed; `query` is read-only "
            "(SELECT, WITH, FROM, SHOW, DESCRIBE, SUMMARIZE, EXPLAIN)"
        )
    if kind == "EXPLAIN":
        inner = _explained(sql)
        try:
            inner_statements = con.extract_statements(inner) if inner is not None else []
        except duckdb.Error:
            inner_statements = []
        if len(inner_statements) != 1 or inner_statements[0].type.name != "SELECT":
            shown = (
                f"a {inner_statements[0].type.name} statement" if len(inner_statements) == 1
                else "anything but one plain read"
            )
            raise QueryRefused(
                f"refused: EXPLAIN of {shown}; `query` explains plain reads only "
                "(EXPLAIN [ANALYZE] SELECT ...)"
            )
        sql = inner
    tree = json.loads(con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
    if tree.get("error"):
        raise QueryRefused(
            f"refused: the statement could not be checked ({tree.get('error_message')})"
        )
    for kind_, name in _references(tree):
        if kind_ == "function" and _refused_function(name):
            raise QueryRefused(
                f"refused: {name}() reads files or runs SQL from a string; `query` reads the "
                "warehouse's tables and views only"
            )
        if kind_ == "table" and _PATH_CHARS & set(name):
            raise QueryRefused(
                f"refused: {name!r} names a file; `query` reads the warehouse's tables and "
                "views only"
            )


def _refused_function(name: str) -> bool:
    name = name.lower()
    return name in REFUSED_FUNCTIONS or name.startswith(REFUSED_PREFIXES)


def _references(node) -> Iterator[tuple[str, str]]:
    """Every function name and table name in a ``json_serialize_sql`` tree."""
    if isinstance(node, dict):
        if isinstance(node.get("function_name"), str):
            yield "function", node["function_name"]
        if node.get("type") in ("BASE_TABLE", "SHOW_REF") and node.get("table_name"):
            yield "table", str(node["table_name"]).strip('"')
        for value in node.values():
            yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def _explained(sql: str) -> str | None:
    """The statement an ``EXPLAIN [ANALYZE] [(FORMAT x, ANALYZE)]`` explains, or None when the
    prefix cannot be read from DuckDB's own tokens (then the statement is refused)."""
    tokens = list(duckdb.tokenize(sql))
    ends = [pos for pos, _ in tokens[1:]] + [len(sql)]
    words = [
        (pos, sql[pos:end].strip())
        for (pos, kind), end in zip(tokens, ends, strict=True)
        if kind.name != "comment"
    ]
    i = 0
    if not words or words[0][1].upper() != "EXPLAIN":
        return None
    i = 1
    if i < len(words) and words[i][1].upper() in ("ANALYZE", "ANALYSE"):
        i += 1
    if i < len(words) and words[i][1].startswith("("):
        close = next((j for j in range(i, len(words)) if words[j][1].startswith(")")), None)
        if close is None:
            return None
        options = " ".join(w for _, w in words[i:close + 1])
        if not _EXPLAIN_OPTIONS.fullmatch(options):
            return None
        i = close + 1
    if i >= len(words):
        return None
    return sql[words[i][0]:]


#: ``(FORMAT json)``, ``(ANALYZE, FORMAT text)``: the only EXPLAIN options read; anything else
#: in parentheses after EXPLAIN is refused rather than guessed.
_EXPLAIN_OPTIONS = re.compile(
    r"\(\s*(?:ANALY[SZ]E|FORMAT \w+)(?:\s*,\s*(?:ANALY[SZ]E|FORMAT \w+))*\s*\)", re.IGNORECASE
)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0]
