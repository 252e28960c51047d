"""``trade-imbalance adjust``: seasonally adjust any monthly series an analyst brings.

Input: a CSV with a date column (``YYYY-MM``; a combined January–February release written
``YYYY-01/02``) and a value column (numbers; empty = missing). The spec is selected by AICc as in
the refresh (:func:`flows.seasonal.adjust.select_spec`, no cache), then the final X-11 run.
Output CSV columns: ``period, value, value_sa, seasonal_factor, holiday_factor, trend`` plus
``jan_feb`` and ``value_combined`` (the two-month total on both rows of a combined release,
whose ``value`` is empty). The diagnostics (model, windows, AICc gain, residual holiday
t-statistic, sliding spans, warnings) are printed to stderr; without ``--output`` the table goes
to stdout. Exit 1 when the series cannot be adjusted (too short, X-13 error, failed diagnostics),
2 on a malformed input.
"""

from __future__ import annotations

import csv
import re
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

_MONTH = re.compile(r"^\s*(\d{4})-(\d{2})\s*$")
_COMBINED = re.compile(r"^\s*(\d{4})-01/(?:\d{4}-)?02\s*$")


class Holiday(StrEnum):
    cny = "cny"
    tet = "tet"
    none = "none"


class TradingDay(StrEnum):
    auto = "auto"
    cn = "cn"
    td = "td"
    none = "none"


def read_series(path: Path, date_column: str, value_column: str):
    """A :class:`flows.seasonal.adjust.Series` from the CSV; raises ``typer.BadParameter``."""
    from flows.seasonal.adjust import from_months

    months: dict[date, float] = {}
    combined: dict[int, float] = {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        for column in (date_column, value_column):
            if column not in (reader.fieldnames or []):
                raise typer.BadParameter(f"no column {column!r} in {path} (columns: {reader.fieldnames})")
        for line, row in enumerate(reader, start=2):
            text, raw = row[date_column] or "", (row[value_column] or "").strip().replace(",", "")
            try:
                value = float(raw) if raw else None
            except ValueError:
                raise typer.BadParameter(f"line {line}: {raw!r} is not a number") from None
            if m := _COMBINED.match(text):
                if value is not None:
                    combined[int(m.group(1))] = value
            elif m := _MONTH.match(text):
                if value is not None:
                    months[date(int(m.group(1)), int(m.group(2)), 1)] = value
            else:
                raise typer.BadParameter(f"line {line}: {text!r} is not a month like 2024-02 (or 2024-01/02)")
    if not months and not combined:
        raise typer.BadParameter(f"{path} holds no values")
    return from_months(months, combined)


def _fmt(value: float | None) -> str:
    return "" if value is None else format(value, ".10g")


def adjust(
    input: Annotated[
        Path,
        typer.Argument(help="CSV file with a month column and a value column.", exists=True, dir_okay=False),
    ],
    date_column: Annotated[
        str,
        typer.Option(
            "--date-column",
            help="Column with months YYYY-MM (YYYY-01/02 for a combined January–February value).",
        ),
    ],
    value_column: Annotated[str, typer.Option("--value-column", help="Column with the values.")],
    holiday: Annotated[
        Holiday,
        typer.Option("--holiday", help="Moving holiday: cny (Chinese New Year), tet (Vietnam) or none."),
    ] = Holiday.cny,
    trading_day: Annotated[
        TradingDay,
        typer.Option(
            "--trading-day",
            help="Working days: cn (China's official "
            "calendar), td (X-13 day-of-week), none; auto = cn with --holiday cny, else td.",
        ),
    ] = TradingDay.auto,
    shipping_lag: Annotated[
        bool,
        typer.Option(
            "--shipping-lag/--no-shipping-lag",
            help="Also search a shift of the windows by 0–42 days (imports from China or Vietnam).",
        ),
    ] = False,
    output: Annotated[
        Path | None, typer.Option("--output", help="Write the table here (default stdout).")
    ] = None,
) -> None:
    """Seasonally adjust a monthly series with X-13ARIMA-SEATS, Lunar New Year handled."""
    from flows.seasonal import adjust as adj

    series = read_series(input, date_column, value_column)
    td = trading_day.value if trading_day != TradingDay.auto else ("cn" if holiday == Holiday.cny else "td")
    try:
        spec, notes = adj.select_spec(
            series, holiday.value, trading_day=td, lags=adj.LAG_GRID if shipping_lag else (0,)
        )
        outcome = adj.adjust(series, spec)
    except adj.AdjustmentFailed as exc:
        typer.echo(f"not adjusted: {exc}", err=True)
        raise typer.Exit(1) from exc
    d = outcome.diagnostics
    lines = [
        f"model: {outcome.model} (X-13 X-11; automdl, AO/LS/TC outliers)",
        f"spec: {spec.label()} (AICc gain of the holiday terms {spec.aicc_gain}; {spec.runs} X-13 runs)",
        f"AICc: {d.get('aicc')}",
        f"holiday estimates: {d.get('holiday_estimates')}",
        f"residual holiday t (|t| < 2 = none left): {d.get('residual_holiday_t')}",
        f"QS p (residual seasonality, adjusted series): {d.get('qs_p_sa')}",
        "sliding spans, unstable seasonal factors %: "
        + str(d.get("sliding_spans_unstable_pct", "n/a (< 8 years)")),
        "SEATS cross-check, mean |SEATS/X-11 - 1| %: "
        + str(d.get("seats_mean_abs_gap_pct", d.get("seats_check"))),
    ]
    lines += [f"warning: {w}" for w in dict.fromkeys(notes + outcome.warnings)]
    typer.echo("\n".join(lines), err=True)
    handle = output.open("w", newline="", encoding="utf-8") if output else sys.stdout
    try:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(
            [
                "period",
                "value",
                "value_sa",
                "seasonal_factor",
                "holiday_factor",
                "trend",
                "jan_feb",
                "value_combined",
            ]
        )
        for r in outcome.rows:
            comb = series.combined.get(r.period.year) if r.jan_feb == "combined" else None
            writer.writerow(
                [
                    r.period.strftime("%Y-%m"),
                    "" if comb is not None else _fmt(r.value),
                    _fmt(r.value_sa),
                    _fmt(r.seasonal_factor),
                    _fmt(r.holiday_factor),
                    _fmt(r.trend),
                    r.jan_feb or "",
                    _fmt(comb),
                ]
            )
    finally:
        if output:
            handle.close()
