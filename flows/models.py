"""Runs the SQL models in ``sql/`` and the data tests in ``sql/tests/``.

Conventions (DESIGN.md §2):

* one plain SELECT per ``.sql`` file, runnable by hand in the DuckDB CLI;
* the file name is the table name and the folder is the schema
  (``sql/marts/trade_balance_monthly.sql`` → ``marts.trade_balance_monthly``);
* the run order is derived by parsing each SELECT with sqlglot and reading the tables it
  references — never from numeric prefixes;
* documentation lives in the file's leading comment lines, applied as ``COMMENT ON``::

      -- table: Exports, imports and trade balance per source, reporter, currency and period.
      -- column exports: Exports in whole units of `currency`.

* a model is materialised as a table unless its leading comments say ``-- materialized: view``
  (a one-to-one filter of a raw table, where a table would only cost a copy of its rows);
* ``sql/tests/*.sql`` each return the offending rows of a rule; any row fails the run, except
  in a test marked ``-- severity: warn`` (reported, not failing).
"""

from __future__ import annotations

import graphlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import sqlglot
from sqlglot import exp

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
MODEL_SCHEMAS = ("staging", "intermediate", "marts")

_TABLE_DOC = re.compile(r"^--\s*table:\s*(.+)$")
_SEVERITY_WARN = re.compile(r"^--\s*severity:\s*warn\s*$", re.MULTILINE | re.IGNORECASE)
_MATERIALIZED = re.compile(r"^--\s*materialized:\s*(table|view)\b", re.MULTILINE | re.IGNORECASE)
_COLUMN_DOC = re.compile(r"^--\s*column\s+([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.+)$")


class ModelError(RuntimeError):
    """A model failed to parse or run; the message names the model file."""


class DataTestFailure(RuntimeError):
    """One or more data tests returned offending rows."""

    def __init__(self, failures: dict[str, list[dict]]):
        self.failures = failures
        lines = [
            f"{name}: {len(rows)} offending row(s), e.g. {rows[0]}" for name, rows in failures.items()
        ]
        super().__init__("data tests failed:\n  " + "\n  ".join(lines))


@dataclass
class Model:
    """One SQL model file."""

    schema: str
    name: str
    path: Path
    sql: str
    depends_on: set[str] = field(default_factory=set)
    table_doc: str | None = None
    column_docs: dict[str, str] = field(default_factory=dict)
    #: ``table`` or ``view`` (from a ``-- materialized: view`` line in the leading comments).
    materialized: str = "table"

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


def _docs(sql: str) -> tuple[str | None, dict[str, str]]:
    table_doc = None
    columns: dict[str, str] = {}
    for line in sql.splitlines():
        line = line.strip()
        if not line.startswith("--"):
            if line:
                break
            continue
        if m := _TABLE_DOC.match(line):
            table_doc = m.group(1).strip()
        elif m := _COLUMN_DOC.match(line):
            columns[m.group(1)] = m.group(2).strip()
    return table_doc, columns


def _materialization(sql: str) -> str:
    header = []
    for line in sql.splitlines():
        if line.strip() and not line.strip().startswith("--"):
            break
        header.append(line.strip())
    match = _MATERIALIZED.search("\n".join(header))
    return match.group(1).lower() if match else "table"


def _references(sql: str, path: Path) -> set[str]:
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise ModelError(f"{path}: SQL does not parse: {exc}") from exc
    if not isinstance(tree, exp.Query):
        raise ModelError(f"{path}: a model must be a single SELECT statement")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    refs = set()
    for table in tree.find_all(exp.Table):
        if table.db:
            refs.add(f"{table.db}.{table.name}")
        elif table.name not in ctes:
            refs.add(table.name)
    return refs


def discover(sql_dir: Path = SQL_DIR) -> list[Model]:
    """Every model under ``sql_dir/{staging,intermediate,marts}``, in dependency order.

    Raises :class:`ModelError` on unparsable SQL or a dependency cycle.
    """
    models: dict[str, Model] = {}
    for schema in MODEL_SCHEMAS:
        for path in sorted((sql_dir / schema).glob("*.sql")):
            sql = path.read_text(encoding="utf-8").strip().rstrip(";")
            table_doc, column_docs = _docs(sql)
            model = Model(schema, path.stem, path, sql, _references(sql, path), table_doc, column_docs,
                          _materialization(sql))
            models[model.qualified] = model
    graph = {
        name: {dep for dep in model.depends_on if dep in models} for name, model in models.items()
    }
    try:
        order = list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        raise ModelError(f"dependency cycle between models: {exc.args[1]}") from exc
    return [models[name] for name in order]


def run_models(con: duckdb.DuckDBPyConnection, sql_dir: Path = SQL_DIR) -> list[str]:
    """Build every model in dependency order, as a table or (``-- materialized: view``) a view;
    return the qualified names built."""
    built = []
    for schema in MODEL_SCHEMAS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for model in discover(sql_dir):
        try:
            con.execute(
                f"CREATE OR REPLACE {model.materialized.upper()} {model.qualified} AS {model.sql}"
            )
        except duckdb.Error as exc:
            raise ModelError(f"{model.path.relative_to(sql_dir.parent)}: {exc}") from exc
        _apply_comments(con, model)
        built.append(model.qualified)
    return built


def relations(con: duckdb.DuckDBPyConnection, schema: str) -> list[tuple[str, str | None, str]]:
    """Every table and view of ``schema`` in ``con`` as (name, comment, ``table`` or ``view``),
    by name: what the models built there, whichever way each is materialised."""
    return con.execute(
        "SELECT table_name, comment, 'table' FROM duckdb_tables() WHERE schema_name = ? "
        "UNION ALL SELECT view_name, comment, 'view' FROM duckdb_views() "
        "WHERE schema_name = ? AND NOT internal ORDER BY 1",
        [schema, schema],
    ).fetchall()


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _apply_comments(con: duckdb.DuckDBPyConnection, model: Model) -> None:
    if model.table_doc:
        kind = model.materialized.upper()
        con.execute(f"COMMENT ON {kind} {model.qualified} IS {_quote(model.table_doc)}")
    existing = {
        row[0]
        for row in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?",
            [model.schema, model.name],
        ).fetchall()
    }
    for column, doc in model.column_docs.items():
        if column not in existing:
            raise ModelError(f"{model.path}: documents column {column!r}, which the model lacks")
        con.execute(f"COMMENT ON COLUMN {model.qualified}.{column} IS {_quote(doc)}")


def run_data_tests(
    con: duckdb.DuckDBPyConnection,
    sql_dir: Path = SQL_DIR,
    warn: Callable[[str], None] = lambda _msg: None,
) -> dict[str, int]:
    """Run ``sql/tests/*.sql``; return {test name: offending rows}.

    A test whose leading comments contain ``-- severity: warn`` only reports its offending rows
    through ``warn`` (for checks against the publisher's own printed figures, which a
    restatement can legitimately break); every other test is an error.

    Raises :class:`DataTestFailure` listing every failing error-severity test with example rows.
    """
    results: dict[str, int] = {}
    failures: dict[str, list[dict]] = {}
    for path in sorted((sql_dir / "tests").glob("*.sql")):
        sql = path.read_text(encoding="utf-8").strip().rstrip(";")
        cursor = con.execute(sql)
        columns = [d[0] for d in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchmany(5)]
        count = len(rows) + len(cursor.fetchall())
        results[path.stem] = count
        if not count:
            continue
        if _SEVERITY_WARN.search(sql):
            warn(f"data test {path.stem} (warning): {count} row(s), e.g. {rows[0]}")
        else:
            failures[path.stem] = rows
    if failures:
        raise DataTestFailure(failures)
    return results
