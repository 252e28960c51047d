"""The run report's chart: exports vs imports year-on-year growth for a reporter and its peers.

Drawn with matplotlib's Agg backend (no display, no global pyplot state) from
``marts.trade_balance_monthly``. One panel per reporter; each panel shows one publisher's series
(the source and currency with the most year-on-year figures, US dollars preferred on a tie), since
mixing publishers in one line would mix valuations and revisions. Monthly and combined
January–February periods are plotted at their last month; annual rows are left out.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


@dataclass
class GrowthSeries:
    """One reporter's growth series from one publisher.

    ``points`` are ``(period_end, months, exports_yoy, imports_yoy)``; growth as ratios
    (0.059 = +5.9 %), None where the base is missing (DESIGN.md §4).
    """

    reporter: str
    source: str | None = None
    currency: str | None = None
    points: list[tuple[date, int, float | None, float | None]] = field(default_factory=list)


def growth_series(database: Path, reporters: list[str]) -> list[GrowthSeries]:
    """The chosen growth series of each reporter (empty ``points`` when it has none).

    Reads ``marts.trade_balance_monthly`` (read-only); raises ``duckdb.Error`` when the warehouse
    cannot be read.
    """
    con = duckdb.connect(str(database), read_only=True)
    try:
        rows = con.execute(
            """SELECT reporter, source, currency, period_end, months, exports_yoy, imports_yoy
               FROM marts.trade_balance_monthly
               WHERE reporter IN (SELECT unnest(?::VARCHAR[])) AND months IN (1, 2)
                 AND (exports_yoy IS NOT NULL OR imports_yoy IS NOT NULL)
               ORDER BY reporter, source, currency, period_end""",
            [list(reporters)],
        ).fetchall()
    finally:
        con.close()
    grouped: dict[tuple[str, str, str], list] = {}
    for reporter, source, currency, period_end, months, x_yoy, m_yoy in rows:
        grouped.setdefault((reporter, source, currency), []).append((period_end, months, x_yoy, m_yoy))
    out = []
    for reporter in reporters:
        candidates = [(key, pts) for key, pts in grouped.items() if key[0] == reporter]
        if not candidates:
            out.append(GrowthSeries(reporter))
            continue
        (_, source, currency), points = max(
            candidates, key=lambda c: (len(c[1]), c[0][2] == "USD", c[0][1])
        )
        out.append(GrowthSeries(reporter, source, currency, points))
    return out


def _percent(value: float | None) -> float:
    return math.nan if value is None else value * 100


def growth_chart(database: Path, reporters: list[str], path: Path) -> Path | None:
    """Draw the exports-vs-imports growth chart for ``reporters`` into the PNG ``path``.

    One panel per reporter with figures; reporters without any are named under the panels.
    Returns ``path``, or None (and writes nothing) when no reporter has any year-on-year figure.
    The file is written to a temporary name and renamed into place.
    """
    series = growth_series(database, reporters)
    drawn = [s for s in series if s.points]
    if not drawn:
        return None
    missing = [s.reporter for s in series if not s.points]
    ncols = 1 if len(drawn) == 1 else 2
    nrows = math.ceil(len(drawn) / ncols)
    fig = Figure(figsize=(6.0 * ncols, 3.2 * nrows + (0.4 if missing else 0)), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, s in zip(axes, drawn, strict=False):
        when = [p[0] for p in s.points]
        ax.axhline(0, color="0.6", linewidth=0.8)
        ax.plot(when, [_percent(p[2]) for p in s.points], marker="o", markersize=3, label="exports")
        ax.plot(
            when, [_percent(p[3]) for p in s.points], marker="s", markersize=3, linestyle="--",
            label="imports",
        )
        ax.set_title(f"{s.reporter} ({s.source}, {s.currency})", fontsize=10)
        ax.set_ylabel("year-on-year, %")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="best")
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    for ax in axes[len(drawn):]:
        ax.set_axis_off()
    fig.suptitle("Exports vs imports: year-on-year growth (%), by period end")
    if missing:
        fig.supxlabel(f"No year-on-year figures yet for: {', '.join(missing)}", fontsize=9)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        fig.savefig(tmp, format="png", dpi=110)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def seasonal_chart(database: Path, reporter: str, path: Path) -> Path | None:
    """Draw adjusted vs unadjusted exports and imports of ``reporter`` with the world (the
    publisher with the most adjusted months, US dollars preferred on a tie) from
    ``marts.seasonally_adjusted`` into the PNG ``path``.

    Values in billions of the series' currency; combined January–February releases are plotted
    as the mean of the two months (the published two-month total / 2). Returns ``path``, or None
    (and writes nothing) when the reporter has no adjusted series. Raises ``duckdb.Error`` when
    the warehouse cannot be read.
    """
    con = duckdb.connect(str(database), read_only=True)
    try:
        exists = con.execute(
            """SELECT count(*) FROM duckdb_tables()
               WHERE schema_name = 'marts' AND table_name = 'seasonally_adjusted'"""
        ).fetchone()[0]
        if not exists:
            return None
        rows = con.execute(
            """SELECT source, currency, flow, period,
                      coalesce(value, value_combined / 2) AS value, value_sa
               FROM marts.seasonally_adjusted
               WHERE reporter = ? AND partner = 'WLD' AND flow IN ('X', 'M')
               ORDER BY source, currency, flow, period""",
            [reporter],
        ).fetchall()
    finally:
        con.close()
    grouped: dict[tuple[str, str], dict[str, list]] = {}
    for source, currency, flow, period, value, value_sa in rows:
        grouped.setdefault((source, currency), {}).setdefault(flow, []).append(
            (period, value, value_sa)
        )
    adjusted = {
        key: flows for key, flows in grouped.items()
        if any(p[2] is not None for points in flows.values() for p in points)
    }
    if not adjusted:
        return None
    (source, currency), flows = max(
        adjusted.items(),
        key=lambda item: (sum(p[2] is not None for pts in item[1].values() for p in pts),
                          item[0][1] == "USD"),
    )
    fig = Figure(figsize=(9.0, 3.6), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    for flow, label in (("X", "exports"), ("M", "imports")):
        points = flows.get(flow, [])
        when = [p[0] for p in points]
        ax.plot(when, [math.nan if p[1] is None else p[1] / 1e9 for p in points], linewidth=0.8,
                alpha=0.5, label=f"{label}, published")
        ax.plot(when, [math.nan if p[2] is None else p[2] / 1e9 for p in points], linewidth=1.6,
                label=f"{label}, seasonally adjusted")
    ax.set_title(f"{reporter} with the world ({source}, {currency}): published vs seasonally "
                 "adjusted (X-13, Lunar New Year handled)", fontsize=10)
    ax.set_ylabel(f"billion {currency} a month")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        fig.savefig(tmp, format="png", dpi=110)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
