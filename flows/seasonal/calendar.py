"""Calendar regressors for X-13: Lunar New Year windows (genhol kind) and China's working days.

**Moving-holiday regressors** (Bell–Hillmer; the Census ``genhol`` program, ported as in
``christophsax/seasonal: R/genhol.R`` @ 189878d, ``center="calendar"``; docs/methods.md §A1, §A4.2).
For a holiday on day *d* and a window of days ``[d + first, d + last]`` (inclusive; shifted by
``lag`` days for a partner's imports, which arrive after the shipping time), the regressor in a
month is the share of the window's days that fall in that month (0…1). It is then centred by
subtracting, for each calendar month, its mean over :data:`CENTRING_YEARS`, so the holiday
factor averages out to 1 over the long run and the level goes to the seasonal factor.

Windows as in methods.md §A3.1: ``pre k`` = days −k … −1, ``post m`` = days 0 … m − 1.

Dates: Chinese New Year (first day of the first lunar month) from ``lunardate``
(``LunarDate(y, 1, 1).to_solar_date()``); Tết from ``holidays.Vietnam`` (the day named
"Lunar New Year"); the two differ in 1985, 2007 and 2030 (methods.md §A2).

**Working days**: China's official calendar (``chinese-calendar``: public holidays and make-up
working Saturdays/Sundays) counted per month and centred on the calendar month's mean over the
years the package covers. It raises :class:`CalendarNotCovered` when a month lies outside the
package's years (1.11.0 covers 2004–2026), which callers turn into X-13's ``td`` and a warning.
"""

from __future__ import annotations

import calendar as _cal
import warnings
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

#: Years over which the holiday regressors are centred (each calendar month's mean).
CENTRING_YEARS = range(1950, 2050)

HOLIDAYS = ("cny", "tet")


class CalendarNotCovered(ValueError):
    """The working-day calendar does not cover a month the adjustment needs."""


@dataclass(frozen=True)
class Window:
    """A holiday window: ``name`` covers days ``first`` … ``last`` around the holiday (inclusive),
    shifted by ``lag`` days."""

    name: str
    first: int
    last: int
    lag: int = 0


def windows(pre: int, post: int, lag: int = 0) -> list[Window]:
    """The before/after windows of methods.md §A3.1 (a length of 0 gives no window)."""
    out = []
    if pre > 0:
        out.append(Window("pre", -pre, -1, lag))
    if post > 0:
        out.append(Window("post", 0, post - 1, lag))
    return out


@cache
def holiday_dates(holiday: str) -> dict[int, date]:
    """{year: first day of the lunar new year} for 1950–2099; ``holiday`` is 'cny' or 'tet'."""
    if holiday == "cny":
        from lunardate import LunarDate

        return {y: LunarDate(y, 1, 1).to_solar_date() for y in range(1950, 2100)}
    if holiday == "tet":
        import holidays

        days = holidays.Vietnam(years=range(1950, 2100))
        return {d.year: d for d, name in days.items() if name == "Lunar New Year"}
    raise ValueError(f"unknown holiday {holiday!r}; expected one of {HOLIDAYS}")


def _month_index(year: int, month: int) -> int:
    return year * 12 + month - 1


def raw_shares(holiday: str, window: Window, years: range) -> dict[tuple[int, int], float]:
    """Uncentred share of the window in each month of ``years`` ({(year, month): share})."""
    out: dict[tuple[int, int], float] = {}
    length = window.last - window.first + 1
    dates = holiday_dates(holiday)
    for year in range(years.start - 1, years.stop + 1):
        if year not in dates:
            continue
        first = dates[year] + timedelta(days=window.first + window.lag)
        for k in range(length):
            day = first + timedelta(days=k)
            key = (day.year, day.month)
            out[key] = out.get(key, 0.0) + 1.0 / length
    return {(y, m): out.get((y, m), 0.0) for y in years for m in range(1, 13)}


@cache
def _calendar_means(holiday: str, window: Window) -> tuple[float, ...]:
    shares = raw_shares(holiday, window, CENTRING_YEARS)
    n = len(CENTRING_YEARS)
    return tuple(sum(shares[(y, m)] for y in CENTRING_YEARS) / n for m in range(1, 13))


def holiday_regressor(holiday: str, window: Window, start: date, months: int) -> list[float]:
    """The centred regressor for ``months`` months from ``start`` (first of a month)."""
    years = range(start.year, start.year + months // 12 + 2)
    shares = raw_shares(holiday, window, years)
    means = _calendar_means(holiday, window)
    out = []
    for i in range(months):
        idx = _month_index(start.year, start.month) + i
        y, m = divmod(idx, 12)
        out.append(shares[(y, m + 1)] - means[m])
    return out


def _working_days(year: int, month: int) -> int:
    import chinese_calendar

    days = _cal.monthrange(year, month)[1]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return sum(chinese_calendar.is_workday(date(year, month, d)) for d in range(1, days + 1))
    except NotImplementedError as exc:
        raise CalendarNotCovered(f"chinese-calendar: {exc}") from exc


@cache
def covered_years() -> range:
    """Years the installed ``chinese-calendar`` covers (probed, not hard-coded)."""
    years = [y for y in range(1990, 2100) if _covers(y)]
    return range(years[0], years[-1] + 1) if years else range(0)


def _covers(year: int) -> bool:
    try:
        _working_days(year, 6)
        return True
    except CalendarNotCovered:
        return False


@cache
def _working_day_means() -> tuple[float, ...]:
    covered = covered_years()
    return tuple(sum(_working_days(y, m) for y in covered) / len(covered) for m in range(1, 13))


def china_working_days(start: date, months: int) -> list[float]:
    """China's official working days per month, centred on each calendar month's mean over
    :func:`covered_years`. Raises :class:`CalendarNotCovered` for a month outside them."""
    covered = covered_years()
    if not covered:
        raise CalendarNotCovered("chinese-calendar covers no year")
    means = _working_day_means()
    out = []
    for i in range(months):
        y, m = divmod(_month_index(start.year, start.month) + i, 12)
        if y not in covered:
            raise CalendarNotCovered(
                f"chinese-calendar covers {covered.start}–{covered.stop - 1}, not {y}-{m + 1:02d}"
            )
        out.append(_working_days(y, m + 1) - means[m])
    return out
