"""GACC table (4) parser: "China's Total Export & Import Values by Country/Region".

Every check of a page raises :class:`~flows.sources.base.ParseError` (an unknown partner label
raises :class:`~flows.sources.gacc.partners.UnknownLabelError`, which is one): the fetch layer
then quarantines the page (archived with its reason, never loaded, re-fetched every run). The
contract the checks follow, with evidence, is in :mod:`flows.sources.gacc`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import polars as pl
from bs4 import BeautifulSoup, Tag

from flows.schema import OBSERVATION_SCHEMA, conform, month_start
from flows.sources.base import FetchRequest, SourceError, parse_error
from flows.sources.gacc.common import (
    BY_COUNTRY,
    NAME,
    REPORTER,
    SECTION,
    TITLE_CURRENCY,
    TITLE_SECTION,
    VALUATION,
    currency_code,
    month_from_text,
    span,
    text_of,
)
from flows.sources.gacc.partners import partner_code_for

_UNIT = re.compile(
    r"^unit\s*:\s*(?P<ccy>CNY|RMB|USD|US\$)\s*(?P<amount>\d[\d,]*)\s*"
    r"(?P<word>thousand|million|billion)?$",
    re.IGNORECASE,
)
_UNIT_LINE = re.compile(r"^unit\s*:", re.IGNORECASE)
_WORDS = {None: 1, "thousand": 10**3, "million": 10**6, "billion": 10**9}
_NUMBER = re.compile(r"^-?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")
_MISSING = {"-", "--", "—", ""}
_MONTH_LABEL = re.compile(r"^(\d{1,2})$")
_CUMULATIVE_LABEL = re.compile(r"^1\s*-?\s*to\s*-?\s*(\d{1,2})$|^1\s*-\s*(\d{1,2})$", re.IGNORECASE)
_YOY_HEADER = re.compile(
    r"^(?P<period>.*?)\s*(total\s+)?year-on-year\s*\(\s*±?\s*%\s*\)$", re.IGNORECASE
)
_FLOW_HEADERS = {
    "export & import": "EI",
    "export and import": "EI",
    "exports & imports": "EI",
    "total export & import": "EI",
    "export": "X",
    "exports": "X",
    "import": "M",
    "imports": "M",
}
_PARTNER_HEADER = re.compile(r"source|destination|country|region", re.IGNORECASE)


@dataclass(frozen=True)
class _Column:
    """One value column: flow (EI/X/M) and period label ("month" m or "cum" 1..m)."""

    index: int
    flow: str
    kind: str
    month: int


def parse(body: bytes, request: FetchRequest) -> pl.DataFrame:
    """Observations of one table (4) page: China's exports and imports by partner.

    Returns :data:`flows.schema.OBSERVATION_SCHEMA` with, per partner row and value column,
    one ``X`` (FOB) and one ``M`` (CIF) row: ``source="gacc"``, ``reporter="CHN"``,
    ``commodity="TOTAL"``, ``value`` in whole units of ``currency`` (printed figure × unit, computed
    with :class:`~decimal.Decimal`), ``status="reported"``, ``release`` = page title, ``vintage`` =
    page date (``div.atcl-date``, "2026/04/08" or "03/08/2018" month/day/year; null when absent).
    Periods: month column → ``month``; "1-to-m" column → ``ytd`` Jan..m, or ``combined`` Jan–Feb
    when the page has no single-month column and m = 2; ``published_yoy`` (ratio) on the column
    the printed year-on-year header names, null elsewhere.

    Raises :class:`ParseError` for a page without a table (image-only, e.g. January 2018), a title
    that is not table (4), an unknown or contradicting unit/currency, header rows that cannot be
    interpreted, a malformed row or number, a partner twice, or E&I ≠ X + M;
    :class:`~flows.sources.gacc.partners.UnknownLabelError` (a ParseError) for a partner label
    missing from ``gacc_partners.csv``. Any other failure while reading the page (a value error
    in a library, say) is turned into a ParseError too, so a bad page is always quarantined.
    """
    try:
        return _parse(body, request)
    except SourceError:
        raise
    except (ValueError, LookupError, ArithmeticError, TypeError) as exc:
        raise parse_error(request, f"page not understood ({type(exc).__name__}: {exc})") from exc


def _parse(body: bytes, request: FetchRequest) -> pl.DataFrame:
    """:func:`parse` without the safety net."""
    soup = BeautifulSoup(body, "lxml")
    content = soup.select_one("div.atcl-cnt") or soup.body or soup
    table = content.find("table")
    if not isinstance(table, Tag):
        images = [str(img.get("src")) for img in content.find_all("img")]
        if images:
            raise parse_error(request, f"image-only page ({', '.join(images)}), no table")
        raise parse_error(request, "no table on the page")
    grid = _grid(table.find_all("tr"))
    if b"</table>" not in body.lower() or not any(
        row and row[0].lower().startswith("note") for row in grid
    ):
        # Every table (4) ends with its "Note:" row and a closing tag: a page cut short would
        # otherwise load as fewer partners.
        raise parse_error(request, "table is truncated: no closing 'Note:' row or </table>")
    title = _page_title(soup, grid)
    _check_title(title, request)
    unit_at, currency, factor = _unit(grid, title, request)
    columns, yoy = _columns(grid[unit_at + 1 : unit_at + 3], request)
    year, month = _period(title, columns, request)
    vintage = _vintage(soup, request)
    periods = {(c.kind, c.month): _period_of(c, columns, year, month) for c in columns}

    records: list[dict] = []
    partners: dict[str, str] = {}
    width = len(grid[unit_at + 2])
    for row in grid[unit_at + 3 :]:
        if row and row[0].lower().startswith("note"):
            break
        if not any(row):
            continue
        if len(row) != width:
            raise parse_error(request, f"row {row[:1]} has {len(row)} cells, expected {width}")
        label = row[0]
        code, kind = partner_code_for(label, month_start(year, month), request)
        if code in partners:
            raise parse_error(request, f"partner {code} twice: {partners[code]!r} and {label!r}")
        partners[code] = label
        values = {c: _value(row[c.index], label, request) for c in columns}
        _check_total(values, columns, label, request)
        yoys = {
            (flow, *periods[(kind_, month_)][:2]): _yoy(row[i], label, request)
            for (flow, kind_, month_), i in yoy.items()
        }
        emitted: dict[tuple, Decimal] = {}
        for column in columns:
            if column.flow == "EI":
                continue
            start, end, months, period_type = periods[(column.kind, column.month)]
            key = (column.flow, start, end)
            if key in emitted:  # "1" and "1-to-1" on a January page are the same period
                if emitted[key] != values[column]:
                    raise parse_error(request, f"{label!r}: month 1 and 1-to-1 columns differ")
                continue
            emitted[key] = values[column]
            records.append(
                {
                    "source": NAME,
                    "reporter": REPORTER,
                    "partner": code,
                    "partner_kind": kind,
                    "flow": column.flow,
                    "period_start": start,
                    "period_end": end,
                    "months": months,
                    "period_type": period_type,
                    "commodity": "TOTAL",
                    "value": float(values[column] * factor),
                    "currency": currency,
                    "valuation": VALUATION[column.flow],
                    "status": "reported",
                    "published_yoy": yoys.get(key),
                    "release": title,
                    "vintage": vintage,
                }
            )
    if not records:
        raise parse_error(request, "table has no data rows")
    return conform(pl.DataFrame(records, schema=OBSERVATION_SCHEMA), context=request.describe())


def _grid(rows: list[Tag]) -> list[list[str]]:
    """Cell texts of ``rows`` with ``colspan``/``rowspan`` expanded into a rectangular grid."""
    grid: list[list[str]] = []
    carried: dict[int, list] = {}  # column -> [rows still covered, text] of a rowspan cell
    for tr in rows:
        line: list[str] = []
        for cell in tr.find_all(["td", "th"], recursive=False):
            _fill_carried(line, carried)
            text = text_of(cell)
            rowspan = span(cell.get("rowspan"))
            for _ in range(span(cell.get("colspan"))):
                if rowspan > 1:
                    carried[len(line)] = [rowspan - 1, text]
                line.append(text)
        _fill_carried(line, carried)
        grid.append(line)
    return grid


def _fill_carried(line: list[str], carried: dict[int, list]) -> None:
    """Append to ``line`` the texts of rowspan cells from rows above that cover its next column."""
    while len(line) in carried:
        column = len(line)
        remaining, text = carried[column]
        line.append(text)
        if remaining == 1:
            del carried[column]
        else:
            carried[column][0] = remaining - 1


def _page_title(soup: BeautifulSoup, grid: list[list[str]]) -> str:
    for candidate in (soup.select_one("div.atcl-ttl"), soup.title):
        if candidate is not None and text_of(candidate):
            return text_of(candidate)
    return grid[0][0] if grid and grid[0] else ""


def _check_title(title: str, request: FetchRequest) -> None:
    """The page must be table (4) by country/region (the request, when it says, for section 4)."""
    section = TITLE_SECTION.match(title)
    if (section and int(section["section"]) != SECTION) or not BY_COUNTRY.search(title):
        raise parse_error(request, f"page is not table (4) by country/region: {title!r}")
    if request.meta.get("section") not in (None, SECTION):
        raise parse_error(request, f"request is for section {request.meta['section']}, not 4")


def _unit(grid: list[list[str]], title: str, request: FetchRequest) -> tuple[int, str, Decimal]:
    """Row index of the unit line, the currency and the scale factor; checks the currencies."""
    at = next((i for i, row in enumerate(grid) if row and _UNIT_LINE.match(row[0])), None)
    if at is None:
        raise parse_error(request, "no 'Unit:' line in the table")
    text = grid[at][0]
    match = _UNIT.match(text)
    if not match:
        raise parse_error(request, f"unknown unit line {text!r}")
    currency = currency_code(match["ccy"])
    word = match["word"].lower() if match["word"] else None
    factor = Decimal(match["amount"].replace(",", "")) * _WORDS[word]
    in_title = TITLE_CURRENCY.search(title)
    title_currency = currency_code(in_title["ccy"]) if in_title else None
    if in_title and title_currency is None:
        raise parse_error(request, f"unknown currency in title {title!r}")
    if title_currency and title_currency != currency:
        raise parse_error(
            request, f"unit line {text!r} ({currency}) contradicts the title's {title_currency}"
        )
    wanted = request.meta.get("currency")
    if wanted and wanted != currency:
        raise parse_error(request, f"page is in {currency} but the index link was for {wanted}")
    return at, currency, factor


def _columns(
    header: list[list[str]], request: FetchRequest
) -> tuple[list[_Column], dict[tuple[str, str, int], int]]:
    """Value columns and year-on-year columns from the two header rows.

    The upper row names the flow ("Export & Import", "Export", "Import") or the year-on-year block
    ("1-to-3 Total Year-on-Year (±%)"); the lower row the period ("3" = the month, "1- to-3" =
    January to March) under a flow, or the flow under the year-on-year block.
    """
    if len(header) != 2 or len(header[0]) != len(header[1]):
        raise parse_error(request, f"expected two header rows of equal width, got {header}")
    top, bottom = header
    if not (_PARTNER_HEADER.search(top[0]) or _PARTNER_HEADER.search(bottom[0])):
        raise parse_error(request, f"first column header not understood: {top[0]!r}/{bottom[0]!r}")
    columns: list[_Column] = []
    yoy_cells: list[tuple[int, str, tuple[str, int] | None]] = []
    for index in range(1, len(top)):
        upper, lower = top[index], bottom[index]
        flow = _FLOW_HEADERS.get(upper.lower())
        yoy_match = _YOY_HEADER.match(upper)
        if flow is not None:
            period = _period_label(lower)
            if period is None:
                raise parse_error(request, f"period header {lower!r} under {upper!r} not understood")
            columns.append(_Column(index, flow, *period))
        elif yoy_match is not None:
            yoy_flow = _FLOW_HEADERS.get(lower.lower())
            if yoy_flow is None:
                raise parse_error(request, f"year-on-year header {lower!r} not understood")
            prefix = yoy_match["period"].strip()
            period = _period_label(prefix) if prefix else None
            if prefix and period is None:
                raise parse_error(request, f"year-on-year period {prefix!r} not understood")
            yoy_cells.append((index, yoy_flow, period))
        else:
            raise parse_error(request, f"column header {upper!r}/{lower!r} not understood")
    keys = [(c.flow, c.kind, c.month) for c in columns]
    if len(set(keys)) != len(keys):
        raise parse_error(request, f"duplicate value columns {keys}")
    periods = sorted({(c.kind, c.month) for c in columns})
    for flow in ("EI", "X", "M"):
        if sorted((c.kind, c.month) for c in columns if c.flow == flow) != periods:
            raise parse_error(request, f"flow {flow} does not have the columns {periods}")
    if len({m for _, m in periods}) != 1:
        raise parse_error(request, f"value columns mix reference months: {periods}")
    yoy: dict[tuple[str, str, int], int] = {}
    for index, flow, period in yoy_cells:
        if period is None:
            if len(periods) != 1:
                raise parse_error(request, "year-on-year header names no period")
            period = periods[0]
        if period not in periods:
            raise parse_error(request, f"year-on-year period {period} has no value column")
        yoy[(flow, *period)] = index
    return columns, yoy


def _period_label(text: str) -> tuple[str, int] | None:
    """("month", m) for "3", ("cum", m) for "1-to-3"/"1- to-3"/"1-3"; None otherwise."""
    compact = text.strip()
    match = _MONTH_LABEL.match(compact)
    if match and 1 <= int(match.group(1)) <= 12:
        return ("month", int(match.group(1)))
    match = _CUMULATIVE_LABEL.match(compact)
    if match:
        month = int(match.group(1) or match.group(2))
        if 1 <= month <= 12:
            return ("cum", month)
    return None


def _period(title: str, columns: list[_Column], request: FetchRequest) -> tuple[int, int]:
    """Year and reference month; the title, the columns and the request must agree."""
    month = columns[0].month
    years = re.findall(r"(?<!\d)((?:19|20)\d\d)(?!\d)", title)
    meta_year = request.meta.get("year")
    if years and meta_year is not None and int(years[-1]) != int(meta_year):
        raise parse_error(request, f"title year {years[-1]} but the index link is for {meta_year}")
    if not years and meta_year is None:
        raise parse_error(request, f"no year in the title {title!r} nor in the request")
    year = int(years[-1]) if years else int(meta_year)
    tail = TITLE_CURRENCY.sub("", title).split(",")[-1]
    title_months = [m for m in map(month_from_text, re.findall(r"[A-Za-z]+", tail)) if m]
    if title_months and max(title_months) != month:
        raise parse_error(request, f"title {title!r} is not for month {month} of the columns")
    meta_month = request.meta.get("month")
    if meta_month is not None and int(meta_month) != month:
        raise parse_error(request, f"table is for month {month}, index link for {meta_month}")
    return year, month


def _period_of(column: _Column, columns: list[_Column], year: int, month: int) -> tuple:
    """(period_start, period_end, months, period_type) of a value column.

    "m" → the month; "1-to-m" → January..m as ``ytd``, or ``combined`` when m = 2 and the page
    has no single-month column (China's joint January–February release); "1-to-1" is the month.
    """
    end = month_start(year, month)
    if column.kind == "month" or month == 1:
        return (end, end, 1, "month")
    if month == 2 and not any(c.kind == "month" for c in columns):
        return (month_start(year, 1), end, 2, "combined")
    return (month_start(year, 1), end, month, "ytd")


def _value(text: str, label: str, request: FetchRequest) -> Decimal:
    compact = text.replace(" ", "")
    if not _NUMBER.match(compact):
        raise parse_error(request, f"value {text!r} of {label!r} is not a number")
    value = Decimal(compact.replace(",", ""))
    if value < 0:
        raise parse_error(request, f"negative value {text!r} for {label!r}")
    return value


def _yoy(text: str, label: str, request: FetchRequest) -> float | None:
    compact = text.replace(" ", "")
    if compact in _MISSING:
        return None  # no base to compare with
    if not _NUMBER.match(compact):
        raise parse_error(request, f"year-on-year {text!r} of {label!r} is not a number")
    return float(Decimal(compact.replace(",", "")) / 100)


def _check_total(
    values: dict[_Column, Decimal], columns: list[_Column], label: str, request: FetchRequest
) -> None:
    """E&I must equal X + M within one unit of the last printed decimal place (0.1 here)."""
    by_key = {(c.flow, c.kind, c.month): values[c] for c in columns}
    for c in columns:
        if c.flow != "EI":
            continue
        total = by_key[("EI", c.kind, c.month)]
        parts = by_key[("X", c.kind, c.month)] + by_key[("M", c.kind, c.month)]
        places = min(-v.as_tuple().exponent for v in (total, parts))
        tolerance = Decimal(1).scaleb(-max(places, 0))
        if abs(total - parts) > tolerance:
            raise parse_error(
                request,
                f"{label!r}: Export & Import {total} != Export + Import {parts} "
                f"({c.kind} {c.month}); the page is inconsistent",
            )


def _vintage(soup: BeautifulSoup, request: FetchRequest) -> date | None:
    node = soup.select_one("div.atcl-date")
    text = text_of(node) if node is not None else ""
    if not text:
        return None
    match = re.fullmatch(r"(\d{4})[/-](\d{1,2})[/-](\d{1,2})", text)
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
        if not match:
            raise parse_error(request, f"page date {text!r} not understood")
        month, day, year = (int(g) for g in match.groups())  # GACC writes month/day/year
    try:
        return date(year, month, day)
    except ValueError:
        raise parse_error(request, f"page date {text!r} is not a date") from None

