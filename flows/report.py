"""Run summaries: the console lines and the markdown artifact of each refresh."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from flows.fetch import SourceOutcome


@dataclass
class RunResult:
    """The outcome of one refresh.

    ``status`` is ``ok`` (all sources refreshed, warehouse published), ``unchanged`` (nothing new:
    the published warehouse already reflects the archive), ``partial`` (published, but some source
    failed or was unreachable) or ``failed`` (nothing published; the previous warehouse is intact).
    """

    status: str = "ok"
    outcomes: list[SourceOutcome] = field(default_factory=list)
    rows_by_source: dict[str, int] = field(default_factory=dict)
    models: list[str] = field(default_factory=list)
    data_tests: dict[str, int] = field(default_factory=dict)
    published: bool = False
    database: str = ""
    error: str | None = None

    #: Process exit codes of ``trade-imbalance refresh`` (documented in the README).
    EXIT_CODES = {"ok": 0, "unchanged": 0, "failed": 1, "partial": 3}

    @property
    def exit_code(self) -> int:
        return self.EXIT_CODES[self.status]

    def lines(self) -> list[str]:
        """One line per source, then the outcome."""
        out = [o.line() for o in self.outcomes]
        if self.error:
            out.append(f"FAILED: {self.error}")
        elif self.status == "unchanged":
            out.append(f"nothing new: {self.database} already reflects the archive")
        elif self.published:
            loaded = ", ".join(f"{s} {n}" for s, n in sorted(self.rows_by_source.items())) or "none"
            out.append(f"published {self.database} (rows loaded: {loaded})")
        if self.status == "partial":
            out.append(
                "PARTIAL: some requests failed or publishers were unreachable (see above); "
                "what they would have replaced is kept as it was"
            )
        return out


def headline_rows(database: Path, reporter: str, limit: int = 6) -> list[dict]:
    """The latest rows of ``marts.trade_balance_monthly`` for ``reporter`` (newest first)."""
    if not database.exists():
        return []
    con = duckdb.connect(str(database), read_only=True)
    try:
        cursor = con.execute(
            """SELECT source, currency, period_start, period_end, months, exports, imports, balance,
                      exports_yoy, imports_yoy, growth_gap
               FROM marts.trade_balance_monthly WHERE reporter = ?
               ORDER BY period_end DESC, source, currency LIMIT ?""",
            [reporter, limit],
        )
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    except duckdb.Error:
        return []
    finally:
        con.close()


def _money(value: float | None) -> str:
    return "–" if value is None else f"{value / 1e9:,.1f} bn"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:+.1f} %"


def summary_markdown(result: RunResult, database: Path, reporter: str) -> str:
    """Markdown for the run artifact: sources, rows loaded, data tests and headline figures."""
    parts = [f"# Trade-imbalance refresh: {result.status}", ""]
    parts += ["## Sources", "", "| source | outcome |", "|---|---|"]
    parts += [f"| {o.source} | {o.line().split(': ', 1)[1]} |" for o in result.outcomes] or [
        "| (offline) | rebuilt from the raw archive |"
    ]
    parts += ["", "## Rows loaded", ""]
    parts += [f"- {s}: {n:,}" for s, n in sorted(result.rows_by_source.items())] or ["- none"]
    if result.data_tests:
        parts += ["", "## Data tests", ""]
        parts += [f"- {name}: {'pass' if n == 0 else f'{n} offending rows'}"
                  for name, n in sorted(result.data_tests.items())]
    if result.error:
        parts += ["", f"**Failed:** {result.error}"]
    rows = headline_rows(database, reporter)
    if rows:
        parts += ["", f"## Latest trade balance, {reporter}", "",
                  "| source | currency | period | exports | imports | balance | exports YoY "
                  "| imports YoY | gap |", "|---|---|---|---|---|---|---|---|---|"]
        for r in rows:
            period = f"{r['period_start']:%Y-%m}" + (
                f"–{r['period_end']:%m}" if r["period_end"] != r["period_start"] else ""
            )
            parts.append(
                f"| {r['source']} | {r['currency']} | {period} | {_money(r['exports'])} | "
                f"{_money(r['imports'])} | {_money(r['balance'])} | {_pct(r['exports_yoy'])} | "
                f"{_pct(r['imports_yoy'])} | {_pct(r['growth_gap'])} |"
            )
    return "\n".join(parts) + "\n"
