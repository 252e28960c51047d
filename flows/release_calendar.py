"""One release calendar: when each publisher is expected to have released a reference period.

Every part of the pipeline that asks "should this month be out yet?" reads this module: a
publisher's "no data" answer is *not yet released* before the expected date and *missing* after
it (plus the source's grace days), ``status`` and ``marts.source_coverage`` call a source
*behind* only past that date, the schedules run after it.

Rules (:data:`RULES`; ``basis`` says how sure each one is, the evidence is in ``docs/sources.md``):

* ``gacc`` — **documented**: China customs releases a month's preliminary tables around the
  7th–10th of the next month; expected by the **10th**. From 2020 on (sources.md §5 "Release
  timing": SCMP, bdnews24, financialpost 2020-02-07) January is released only together with
  February, in early March: January's expected date is then February's (10 March).
* ``census`` — **documented**: the FT-900 with country detail comes out "approximately 35 days
  after the end of the calendar month" (export.gov "Data Releases and Revisions"): expected
  **35 days** after the month ends. The June annual revision re-publishes the prior three years.
* ``eurostat`` — **assumed** (sources.md §4: release timing unverified): 46 days after month end.
* ``imf`` — **assumed** from the recorded coverage (sources.md §3: monthly data "lag about a
  quarter"): 90 days.
* ``comtrade`` — **assumed**: UN Comtrade has no calendar, each country reports on its own
  schedule (sources.md §1 "Release timing"); 90 days for a month, 180 for a year.
* ``ecb`` — **assumed**: monthly averages of the daily reference rates, computed once the
  month is over: 3 days.

``grace_days`` is the slack before a due period counts as *missing* or *overdue* (publishers
slip by a few days; a missing month is reported, not guessed at).

Announced or actual dates override the rule: ``flows/data/release_dates.csv`` (columns
``source, period`` (``YYYY-MM``), ``release_date`` (ISO), ``kind`` (``announced``/``actual``),
``evidence``); another file can be given with the setting ``release_dates_file``. A row for a
period replaces the rule's date for that period only.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib import resources
from pathlib import Path

from flows.schema import add_months

#: First year in which China customs released January only together with February.
GACC_COMBINED_FROM = 2020


@dataclass(frozen=True)
class Rule:
    """How a publisher's release date follows from the reference month.

    ``lag_days``: days after the last day of the reference month (``None`` for a rule written as
    a day of the next month, ``day_of_next_month``). ``annual_lag_days``: the same for a
    calendar-year period. ``basis``: ``documented`` or ``assumed``.
    """

    source: str
    basis: str
    description: str
    lag_days: int | None = None
    day_of_next_month: int | None = None
    annual_lag_days: int | None = None
    grace_days: int = 5


RULES: dict[str, Rule] = {
    "gacc": Rule(
        "gacc", "documented",
        "around the 7th–10th of the next month; January with February in early March (2020 on)",
        day_of_next_month=10, grace_days=5,
    ),
    "census": Rule(
        "census", "documented", "FT-900 country detail about 35 days after the month ends",
        lag_days=35, grace_days=7,
    ),
    "eurostat": Rule("eurostat", "assumed", "about 46 days after the month ends", lag_days=46),
    "imf": Rule("imf", "assumed", "about a quarter after the month ends", lag_days=90, grace_days=15),
    "comtrade": Rule(
        "comtrade", "assumed", "no calendar: each country reports on its own schedule",
        lag_days=90, annual_lag_days=180, grace_days=30,
    ),
    "ecb": Rule("ecb", "assumed", "monthly averages once the month is over", lag_days=3, grace_days=2),
}


def _month_end(month: date) -> date:
    return add_months(date(month.year, month.month, 1), 1) - timedelta(days=1)


def _overrides(path: str | None) -> dict[tuple[str, date], date]:
    """The override dates of ``path``, else of the setting ``release_dates_file``, else of the
    bundled ``flows/data/release_dates.csv``."""
    if path is None:
        from flows.settings import get_settings

        configured = get_settings().release_dates_file
        path = str(configured) if configured is not None else None
    return _load_overrides(path)


@cache
def _load_overrides(path: str | None) -> dict[tuple[str, date], date]:
    if path is None:
        text = resources.files("flows.data").joinpath("release_dates.csv").read_text("utf-8")
    else:
        text = Path(path).read_text("utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    out: dict[tuple[str, date], date] = {}
    for number, row in enumerate(rows, start=2):
        try:
            year, month = (int(x) for x in row["period"].split("-"))
            out[(row["source"].strip(), date(year, month, 1))] = date.fromisoformat(
                row["release_date"].strip()
            )
        except (KeyError, ValueError, AttributeError) as exc:
            raise ValueError(f"release dates file {path or 'flows/data/release_dates.csv'} line "
                             f"{number}: {exc}") from None
    return out


def combined_january(source: str, year: int) -> bool:
    """True when ``source`` releases January of ``year`` only together with February."""
    return source == "gacc" and year >= GACC_COMBINED_FROM


def expected_release(
    source: str, period_end: date, *, annual: bool = False, overrides_file: str | None = None
) -> date:
    """The date by which ``source`` is expected to have released the period ending in the month
    of ``period_end`` (first day of a month). ``annual``: the period is a calendar year.

    Raises ``KeyError`` for an unknown source.
    """
    rule = RULES[source]
    month = date(period_end.year, period_end.month, 1)
    override = _overrides(overrides_file).get((source, month))
    if override is not None:
        return override
    if combined_january(source, month.year) and month.month == 1 and not annual:
        month = date(month.year, 2, 1)
    if annual and rule.annual_lag_days is not None:
        return _month_end(month) + timedelta(days=rule.annual_lag_days)
    if rule.day_of_next_month is not None:
        return add_months(month, 1).replace(day=rule.day_of_next_month)
    return _month_end(month) + timedelta(days=rule.lag_days or 0)


def is_due(source: str, period_end: date, today: date, *, annual: bool = False,
           overrides_file: str | None = None) -> bool:
    """True when the period should be out by ``today``: its expected date plus the source's
    grace days has passed. A "no data" answer for a due period means the data are missing."""
    expected = expected_release(source, period_end, annual=annual, overrides_file=overrides_file)
    return today > expected + timedelta(days=RULES[source].grace_days)


def is_expected(source: str, period_end: date, today: date, *, annual: bool = False,
                overrides_file: str | None = None) -> bool:
    """True when the period's expected release date is on or before ``today``."""
    return expected_release(source, period_end, annual=annual, overrides_file=overrides_file) <= today


def latest_expected_month(source: str, today: date, *, overrides_file: str | None = None) -> date:
    """The latest reference month ``source`` should have released by ``today`` (first day)."""
    month = date(today.year, today.month, 1)
    for _ in range(60):
        if is_expected(source, month, today, overrides_file=overrides_file):
            return month
        month = add_months(month, -1)
    raise ValueError(f"{source}: no month expected in the five years before {today}")


#: Reference months written to ``meta.release_calendar`` (fixed, so a build stays a pure function
#: of the archive and the code).
CALENDAR_FIRST_MONTH = date(1990, 1, 1)
CALENDAR_LAST_MONTH = date(2040, 12, 1)


def calendar_rows(overrides_file: str | None = None) -> list[tuple]:
    """``(source, period, expected_release, basis, rule, overridden)`` for every source and
    reference month from :data:`CALENDAR_FIRST_MONTH` to :data:`CALENDAR_LAST_MONTH`."""
    overrides = _overrides(overrides_file)
    rows = []
    for source, rule in RULES.items():
        month = CALENDAR_FIRST_MONTH
        while month <= CALENDAR_LAST_MONTH:
            rows.append((
                source, month, expected_release(source, month, overrides_file=overrides_file),
                rule.basis, rule.description, (source, month) in overrides,
            ))
            month = add_months(month, 1)
    return rows


def write_release_calendar(con, overrides_file: str | None = None) -> None:
    """(Re)create ``meta.release_calendar`` in the DuckDB connection ``con``."""
    con.execute("CREATE SCHEMA IF NOT EXISTS meta")
    con.execute(
        """CREATE OR REPLACE TABLE meta.release_calendar (
               source VARCHAR NOT NULL, period DATE NOT NULL, expected_release DATE NOT NULL,
               basis VARCHAR NOT NULL, rule VARCHAR NOT NULL, overridden BOOLEAN NOT NULL,
               grace_days INTEGER NOT NULL, PRIMARY KEY (source, period))"""
    )
    frame = _calendar_frame(overrides_file)  # noqa: F841 - read by DuckDB's replacement scan
    con.execute("INSERT INTO meta.release_calendar SELECT * FROM frame")


def _calendar_frame(overrides_file: str | None):
    if overrides_file is None:
        from flows.settings import get_settings

        configured = get_settings().release_dates_file
        overrides_file = str(configured) if configured is not None else None
    return _cached_frame(overrides_file)


@cache
def _cached_frame(overrides_file: str | None):
    import polars as pl

    return pl.DataFrame(
        [(*row, RULES[row[0]].grace_days) for row in calendar_rows(overrides_file)],
        schema={
            "source": pl.String, "period": pl.Date, "expected_release": pl.Date,
            "basis": pl.String, "rule": pl.String, "overridden": pl.Boolean,
            "grace_days": pl.Int32,
        },
        orient="row",
    )
