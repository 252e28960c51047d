"""Run reports: the console lines, the markdown artifact, the HTML report and the last-run record.

A report is a list of blocks (headings, paragraphs, tables) rendered twice from the same data:
as markdown for the keyed Prefect artifact (:func:`summary_markdown`) and as a small HTML page
beside the chart under ``<warehouse>/reports/`` (:func:`write_report`). Sections: outcome per
source, rows loaded, coverage per source, revisions found, data-test results, the focus
reporter's latest trade balance, and the exports-vs-imports growth chart (:mod:`flows.chart`).

Every reader here opens the published warehouse read-only and tolerates a missing or unreadable
file (a report never fails a run).
"""

from __future__ import annotations

import html
import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from flows import release_calendar
from flows.schema import OBSERVATION_KEY, add_months
from flows.sources import SOURCE_NAMES

if TYPE_CHECKING:  # not imported at run time: `status` reads reports without the fetch stack
    from flows.fetch import SourceOutcome

#: Name of the JSON record of the latest run, under ``<warehouse>/reports/``.
LAST_RUN = "last_run.json"
#: Reports kept under ``<warehouse>/reports/`` (older ones are deleted).
KEEP_REPORTS = 36


@dataclass
class RunResult:
    """The outcome of one refresh.

    ``status`` is ``ok`` (all sources refreshed, warehouse published), ``unchanged`` (nothing new:
    the published warehouse already reflects the archive), ``partial`` (published, but some source
    failed or was unreachable), ``busy`` (another refresh holds the writer lock; nothing was done)
    or ``failed`` (nothing published; the previous warehouse is intact).
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
    EXIT_CODES = {"ok": 0, "unchanged": 0, "failed": 1, "partial": 3, "busy": 4}

    @property
    def exit_code(self) -> int:
        return self.EXIT_CODES[self.status]

    def lines(self) -> list[str]:
        """One line per source, then the outcome."""
        out = [o.line() for o in self.outcomes]
        if self.status == "busy":
            out.append(f"BUSY: {self.error}")
        elif self.error:
            out.append(f"FAILED: {self.error}")
        elif self.status == "unchanged":
            out.append(f"nothing new: {self.database} already reflects the archive")
        elif self.published:
            loaded = ", ".join(f"{s} {n}" for s, n in sorted(self.rows_by_source.items())) or "none"
            out.append(f"published {self.database} (rows per source: {loaded})")
        if self.status == "partial":
            out.append(
                "PARTIAL: some requests failed or publishers were unreachable (see above); "
                "what they would have replaced is kept as it was"
            )
        return out


# -- reading the published warehouse ----------------------------------------------------------


def _query(database: Path, sql: str, params: list | None = None) -> list[dict]:
    """Rows of ``sql`` as dicts, or [] when the warehouse is missing or lacks the tables."""
    if not database.exists():
        return []
    try:
        con = duckdb.connect(str(database), read_only=True)
    except duckdb.Error:
        return []
    try:
        cursor = con.execute(sql, params or [])
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    except duckdb.Error:
        return []
    finally:
        con.close()


def coverage_rows(database: Path) -> list[dict]:
    """Coverage per source: ``source``, ``series`` (reporters, or currencies for exchange rates),
    ``first_period``/``latest_period`` (DATE, first day of the month), ``rows``, ``latest_vintage``.

    From ``raw.observations`` (latest vintage of each figure) and ``raw.fx_rates``.
    """
    return _query(
        database,
        """SELECT source, count(DISTINCT reporter) AS series, min(period_start) AS first_period,
                  max(period_end) AS latest_period, count(*) AS rows, max(vintage) AS latest_vintage
           FROM raw.observations GROUP BY source
           UNION ALL
           SELECT source, count(DISTINCT currency), min(period_start), max(period_start), count(*),
                  max(vintage)
           FROM raw.fx_rates GROUP BY source
           ORDER BY source""",
    )


def revisions_by_source(database: Path) -> dict[str, int]:
    """Revisions found per source: observation keys (:data:`~flows.schema.OBSERVATION_KEY`) with
    more than one distinct value in ``raw.observation_history`` (every vintage ever loaded)."""
    key = ", ".join(OBSERVATION_KEY)
    rows = _query(
        database,
        f"""SELECT source, count(*) AS revised FROM (
                SELECT {key} FROM raw.observation_history GROUP BY {key}
                HAVING count(DISTINCT value) > 1)
            GROUP BY source ORDER BY source""",
    )
    return {r["source"]: r["revised"] for r in rows}


def headline_rows(database: Path, reporter: str, limit: int = 6) -> list[dict]:
    """The latest rows of ``marts.trade_balance_monthly`` for ``reporter`` (newest first)."""
    return _query(
        database,
        """SELECT source, currency, period_start, period_end, months, exports, imports, balance,
                  exports_yoy, imports_yoy, growth_gap
           FROM marts.trade_balance_monthly WHERE reporter = ?
           ORDER BY period_end DESC, source, currency LIMIT ?""",
        [reporter, limit],
    )


def staleness_rows(
    database: Path, today: date | None = None, overrides_file: str | None = None
) -> list[dict]:
    """Coverage per source with its staleness against the release calendar.

    Keys: those of :func:`coverage_rows` plus ``days_since`` (days from the end of the latest
    period to ``today``), ``next_release`` (the expected release date of the month after the
    latest period, :func:`flows.release_calendar.expected_release`), ``basis`` (``documented``
    or ``assumed``), ``expected`` (the latest month that should be out by ``today``,
    :func:`flows.release_calendar.latest_expected_month`) and ``state`` (``up to date``,
    ``behind N month(s)`` or ``no data``). A source is behind only once the next month's
    expected date has passed. Every known source gets a row.
    """
    today = today or datetime.now(UTC).date()
    by_source = {r["source"]: r for r in coverage_rows(database)}
    out = []
    for source in SOURCE_NAMES:
        row = dict(by_source.get(source) or {"source": source})
        expected = release_calendar.latest_expected_month(
            source, today, overrides_file=overrides_file
        )
        row["basis"] = release_calendar.RULES[source].basis
        row["expected"] = expected
        latest_period = row.get("latest_period")
        row["next_release"] = (
            release_calendar.expected_release(
                source, add_months(latest_period, 1), overrides_file=overrides_file
            )
            if latest_period is not None
            else None
        )
        latest = row.get("latest_period")
        if latest is None:
            row["days_since"], row["state"] = None, "no data"
        else:
            row["days_since"] = (today - (add_months(latest, 1) - timedelta(days=1))).days
            behind = (
                0 if expected is None
                else (expected.year - latest.year) * 12 + expected.month - latest.month
            )
            row["state"] = "up to date" if behind <= 0 else f"behind {behind} month(s)"
        out.append(row)
    return out


# -- report blocks ----------------------------------------------------------------------------


@dataclass
class Table:
    """A titled table of already formatted cells."""

    title: str
    columns: list[str]
    rows: list[list[str]]
    note: str | None = None


def _money(value: float | None) -> str:
    return "–" if value is None else f"{value / 1e9:,.1f} bn"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:+.1f} %"


def _points(value: float | None) -> str:
    """A difference of two growth ratios in percentage points (0.012 → ``+1.2 pp``)."""
    return "–" if value is None else f"{value * 100:+.1f} pp"


def _month(value: date | None) -> str:
    return "–" if value is None else f"{value:%Y-%m}"


def _period(row: dict) -> str:
    text = f"{row['period_start']:%Y-%m}"
    if row["period_end"] != row["period_start"]:
        text += f"–{row['period_end']:%Y-%m}"
    return text


def report_tables(result: RunResult | None, database: Path, reporter: str) -> list[Table]:
    """The report's tables for one run (``result``) or for the published warehouse alone."""
    tables = []
    if result is not None:
        tables.append(Table(
            "Sources", ["source", "outcome"],
            [[o.source, o.line().split(": ", 1)[1]] for o in result.outcomes]
            or [["(offline)", "rebuilt from the raw archive"]],
        ))
        tables.append(Table(
            "Rows loaded", ["source", "rows"],
            [[s, f"{n:,}"] for s, n in sorted(result.rows_by_source.items())],
            note=None if result.rows_by_source else "nothing was loaded in this run",
        ))
    tables.append(Table(
        "Coverage", ["source", "reporters/currencies", "first period", "latest period", "rows",
                     "latest vintage"],
        [[r["source"], str(r["series"]), _month(r["first_period"]), _month(r["latest_period"]),
          f"{r['rows']:,}", str(r["latest_vintage"] or "–")] for r in coverage_rows(database)],
        note=None if database.exists() else f"no warehouse at {database}",
    ))
    revisions = revisions_by_source(database)
    tables.append(Table(
        "Revisions found", ["source", "revised figures"],
        [[s, f"{n:,}"] for s, n in revisions.items()],
        note="figures (one key: source, reporter, partner, flow, period, commodity, currency) with "
        "more than one published value in raw.observation_history"
        + ("" if revisions else "; none so far"),
    ))
    if result is not None and result.data_tests:
        tables.append(Table(
            "Data tests", ["test", "result"],
            [[name, "pass" if n == 0 else f"{n} offending rows"]
             for name, n in sorted(result.data_tests.items())],
        ))
    rows = headline_rows(database, reporter)
    tables.append(Table(
        f"Latest trade balance, {reporter}",
        ["source", "currency", "period", "exports", "imports", "balance", "exports YoY",
         "imports YoY", "gap (pp)"],
        [[r["source"], r["currency"], _period(r), _money(r["exports"]), _money(r["imports"]),
          _money(r["balance"]), _pct(r["exports_yoy"]), _pct(r["imports_yoy"]),
          _points(r["growth_gap"])] for r in rows],
        note=None if rows else f"no figures for {reporter} in marts.trade_balance_monthly",
    ))
    return tables


def _title(result: RunResult | None) -> str:
    return f"Trade-imbalance refresh: {result.status}" if result else "Trade-imbalance warehouse"


def summary_markdown(
    result: RunResult | None,
    database: Path,
    reporter: str,
    *,
    chart: Path | None = None,
    html_report: Path | None = None,
    chart_error: str | None = None,
) -> str:
    """Markdown for the run artifact (or ``trade-imbalance report`` when ``result`` is None)."""
    parts = [f"# {_title(result)}", ""]
    if result is not None and result.error:
        parts += [f"**{'Busy' if result.status == 'busy' else 'Failed'}:** {result.error}", ""]
    for table in report_tables(result, database, reporter):
        parts += [f"## {table.title}", ""]
        if table.rows:
            parts += ["| " + " | ".join(table.columns) + " |",
                      "|" + "---|" * len(table.columns)]
            parts += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |"
                      for row in table.rows]
        if table.note:
            parts += ["", f"_{table.note}_"] if table.rows else [f"_{table.note}_"]
        parts.append("")
    parts += ["## Growth chart", ""]
    if chart is not None:
        # A path, not a file:// link: the Prefect UI (a browser) cannot open local files.
        parts.append(f"Exports vs imports year-on-year growth: `{chart.resolve()}`")
    else:
        parts.append(f"_no chart: {chart_error or 'no year-on-year figures for these reporters yet'}_")
    if html_report is not None:
        parts += ["", f"Full report (on the machine that ran the flow): `{html_report.resolve()}`"]
    return "\n".join(parts) + "\n"


_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}"
    "table{border-collapse:collapse;margin-bottom:.5em}"
    "th,td{border:1px solid #ccc;padding:.2em .6em;text-align:right}"
    "th:first-child,td:first-child{text-align:left}.note{color:#555;font-style:italic}"
)


def report_html(
    result: RunResult | None,
    database: Path,
    reporter: str,
    *,
    chart: Path | None = None,
    chart_error: str | None = None,
    generated: datetime | None = None,
) -> str:
    """A small self-contained HTML page of the same tables; the chart is linked by file name."""
    generated = generated or datetime.now(UTC)
    esc = html.escape
    parts = [
        "<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(_title(result))}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(_title(result))}</h1>",
        f"<p>Warehouse <code>{esc(str(database))}</code>, report generated "
        f"{generated:%Y-%m-%d %H:%M} UTC.</p>",
    ]
    if result is not None:
        parts += [f"<p>{esc(line)}</p>" for line in result.lines()[len(result.outcomes):]]
    for table in report_tables(result, database, reporter):
        parts.append(f"<h2>{esc(table.title)}</h2>")
        if table.rows:
            parts.append("<table><tr>" + "".join(f"<th>{esc(c)}</th>" for c in table.columns) + "</tr>")
            parts += ["<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in table.rows]
            parts.append("</table>")
        if table.note:
            parts.append(f'<p class="note">{esc(table.note)}</p>')
    parts.append("<h2>Exports vs imports, year-on-year growth</h2>")
    if chart is not None:
        parts.append(f'<img src="{esc(chart.name)}" alt="exports vs imports year-on-year growth" '
                     'style="max-width:100%">')
    else:
        parts.append(f'<p class="note">no chart: '
                     f"{esc(chart_error or 'no year-on-year figures for these reporters yet')}</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# -- files under <warehouse>/reports ----------------------------------------------------------


@dataclass
class ReportFiles:
    """What :func:`write_report` wrote: the HTML page, the chart (None if not drawn) and why not."""

    html: Path
    chart: Path | None = None
    chart_error: str | None = None
    markdown: str = ""


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_report(
    result: RunResult | None,
    database: Path,
    reporter: str,
    peers: list[str],
    reports: Path,
    *,
    now: datetime | None = None,
) -> ReportFiles:
    """Write ``report-<UTC stamp>.html`` and ``growth-<stamp>.png`` under ``reports`` (plus a
    copy of the page as ``latest.html``) and return them with the artifact's markdown.

    The chart shows ``reporter`` and ``peers``. A chart that cannot be drawn is reported in the
    page (``chart_error``), never raised. Only the newest :data:`KEEP_REPORTS` reports are kept.
    """
    from flows.chart import growth_chart, seasonal_chart

    now = now or datetime.now(UTC)
    stamp = f"{now:%Y%m%dT%H%M%SZ}"
    reports.mkdir(parents=True, exist_ok=True)
    reporters = [reporter] + [p for p in peers if p != reporter]
    chart, chart_error = None, None
    try:
        chart = growth_chart(database, reporters, reports / f"growth-{stamp}.png")
    except Exception as exc:  # noqa: BLE001 - a chart must never fail the run
        chart_error = f"the chart could not be drawn ({type(exc).__name__}: {exc})"
    seasonal = None
    try:
        seasonal = seasonal_chart(database, reporter, reports / f"seasonal-{stamp}.png")
    except Exception:  # noqa: BLE001 - a chart must never fail the run
        seasonal = None
    page = reports / f"report-{stamp}.html"
    text = report_html(result, database, reporter, chart=chart, chart_error=chart_error, generated=now)
    if seasonal is not None:
        figure = (
            f'<h2>Seasonally adjusted, {html.escape(reporter)}</h2>\n<p><img src="{seasonal.name}" '
            'alt="published vs seasonally adjusted exports and imports"></p>\n'
        )
        text = text.replace("</body>", figure + "</body>") if "</body>" in text else text + figure
    _write_text(page, text)
    _write_text(reports / "latest.html", text)
    for pattern in ("report-*.html", "growth-*.png", "seasonal-*.png"):
        for old in sorted(reports.glob(pattern))[:-KEEP_REPORTS]:
            old.unlink(missing_ok=True)
    markdown = summary_markdown(
        result, database, reporter, chart=chart, html_report=page, chart_error=chart_error
    )
    if seasonal is not None:
        markdown += (
            f"\nPublished vs seasonally adjusted ({reporter} with the world): "
            f"`{seasonal.resolve()}`\n"
        )
    return ReportFiles(page, chart, chart_error, markdown)


def write_last_run(result: RunResult, reports: Path, report: Path | None = None) -> Path:
    """Record the run's outcome in ``reports/last_run.json`` (read by ``trade-imbalance status``)."""
    reports.mkdir(parents=True, exist_ok=True)
    record = {
        "status": result.status,
        "exit_code": result.exit_code,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "published": result.published,
        "lines": result.lines(),
        "report": str(report) if report else None,
        "outcomes": [asdict(o) for o in result.outcomes],
    }
    path = reports / LAST_RUN
    _write_text(path, json.dumps(record, indent=2, default=str))
    return path


def read_last_run(reports: Path) -> dict | None:
    """The record written by :func:`write_last_run`, or None when there is none (or unreadable)."""
    try:
        return json.loads((reports / LAST_RUN).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
