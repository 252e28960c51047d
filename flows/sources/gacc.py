"""China customs (GACC): discovery and parser of the preliminary release table (4) by country.

Publication: the English site of the General Administration of Customs of the PRC publishes each
month numbered "Preliminary Release" tables, one HTML page per table, month and currency, at opaque
addresses ``{base}/Statics/<uuid>.html``. They are listed on yearly index pages
``{base}/statics/report/preliminary.html`` (current year) and
``{base}/statics/report/preliminaryYYYY.html`` (earlier years; the year ``<select>`` handler of the
index page maps each year to its page). This module reads table
"(4) China's Total Export & Import Values by Country/Region", published twice a month: in CNY
("Unit: CNY 100 Million") and in USD ("Unit: USD1 Million"). The two editions are separate
publications with different ``currency`` keys; they are stored side by side, never summed or
converted into each other. Page anatomy: shared/docs/gacc_pages.md.

Rules applied (DESIGN.md §4 unless said otherwise):

* reporter is always ``CHN``; exports ``X`` are valued FOB, imports ``M`` CIF (sources.md §5);
  the printed "Export & Import" column is not stored, it is used as a check (E&I = X + M within
  one unit of the last printed decimal place on every row and column);
* the unit line decides the scale (``CNY 100 Million`` → ×1e8, ``USD1 Million``/``US$1 Million``
  → ×1e6, ``US$1,000`` → ×1e3, ``CNY 10 Thousand`` → ×1e4); an unknown unit, a unit whose
  currency contradicts the title's "(in CNY)/(in USD)", or a title currency that contradicts the
  discovery request's ``meta["currency"]`` is a :class:`ParseError`;
* the column structure is read from the two header rows: a bare month number ("3") is the month
  column, "1-to-m" the cumulative column; a page with both gives ``month`` and ``ytd`` rows, a page
  with only "1-to-2" is China's combined January–February release, stored as one two-month
  ``combined`` period (never split);
* the printed "1-to-m Total Year-on-Year (±%)" applies to the column of its period (the cumulative
  one) and is kept as ``published_yoy`` (ratio) on those rows only;
* partner labels map through ``flows/data/gacc_partners.csv`` (label, code, kind); the European
  Union is ``EU27_2020`` for periods ending in or after February 2020 (GACC footnote: "From
  February 1, 2020, the EU trade value does not include UK data"), else ``EU28``; hierarchy is
  never inferred from indentation; an unknown label raises :class:`UnknownCodeError`.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from urllib.parse import urlsplit

import polars as pl
from bs4 import BeautifulSoup, Tag

from flows.reference import AGGREGATES, UnknownCodeError, is_country
from flows.schema import OBSERVATION_SCHEMA, WORLD, conform, month_start
from flows.sources.base import FetchRequest, PlanContext, parse_error

NAME = "gacc"
REPORTER = "CHN"
#: The table this module reads: "(4) China's Total Export & Import Values by Country/Region".
SECTION = 4
#: Path of a yearly index page; ``{year}`` is empty for the current year (preliminary.html).
INDEX_PATH = "/statics/report/preliminary{year}.html"
CURRENCIES = ("CNY", "USD")
VALUATION = {"X": "FOB", "M": "CIF"}
#: From this month on, GACC's "European Union" excludes the United Kingdom.
EU27_FROM = date(2020, 2, 1)

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_INDEX_TITLE = re.compile(
    r"^\((?P<section>\d+)\)\s*(?P<name>.+?)\s*\(in\s+(?P<ccy>[A-Za-z$]+)\)$", re.IGNORECASE
)
_TITLE_CURRENCY = re.compile(r"\(in\s+(?P<ccy>[A-Za-z$]+)\)\s*$", re.IGNORECASE)
_TITLE_SECTION = re.compile(r"^\((?P<section>\d+)\)")
_BY_COUNTRY = re.compile(r"by\s+(major\s+)?country", re.IGNORECASE)
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


# --------------------------------------------------------------------------------------------
# Discovery
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableLink:
    """One published table on a yearly index page.

    ``section`` is the table number "(N)"; ``title`` the row title without number and currency;
    ``currency`` ``CNY`` (also for "in RMB") or ``USD``; ``year``/``month`` the month link
    ("Feb." → 2; for a combined release the "Feb." link is January–February); ``url`` the page,
    moved onto the configured base URL.
    """

    section: int
    title: str
    currency: str
    year: int
    month: int
    url: str


def index_url(base: str, year: int, current_year: int) -> str:
    """URL of the index page of ``year``: ``preliminary.html`` for ``current_year``, else
    ``preliminaryYYYY.html`` (the index page's year ``<select>`` handler, seed_2026.html)."""
    suffix = "" if year == current_year else str(year)
    return base.rstrip("/") + INDEX_PATH.format(year=suffix)


def rewrite_url(href: str, base: str) -> str:
    """``href`` (absolute on the real host, or relative) moved onto ``base``, keeping the path.

    ``http://english.customs.gov.cn/Statics/x.html`` with base ``http://127.0.0.1:8000/gacc``
    → ``http://127.0.0.1:8000/gacc/Statics/x.html``. Backslashes (seen in GACC links) become "/".
    """
    parts = urlsplit(href.strip().replace("\\", "/"))
    path = parts.path if parts.path.startswith("/") else "/" + parts.path
    return base.rstrip("/") + path + (f"?{parts.query}" if parts.query else "")


def parse_index(body: bytes, request: FetchRequest) -> list[TableLink]:
    """The published tables listed on a Preliminary Release index page.

    Reads the rows of the page's ``<table>`` (Title | Month): titles like "(4) China's Total Export
    & Import Values by Country/Region (in CNY)" ("in RMB" = CNY; "(8)Statistics…" without a
    space is accepted); rows without a currency ((7), (8)) are skipped. Published months are
    ``<a href=…> Feb.</a>``, unpublished ones ``<span>``. The year is the one in the page URL
    (``preliminaryYYYY.html``); for ``preliminary.html`` it is the page's selected (else first)
    year option, which must agree with ``request.meta["year"]`` when that is given.

    Returns links in page order. Raises :class:`ParseError` when there is no index table, no
    year, an unknown currency or month text, a link without ``href``, or two different pages for
    the same (section, currency, month).
    """
    soup = BeautifulSoup(body, "lxml")
    year = _index_year(soup, request)
    base = _base_of(request.url)
    rows = [tr for table in soup.find_all("table") for tr in table.find_all("tr")]
    titled = [tr for tr in rows if len(tr.find_all("td")) >= 2]
    if not titled:
        raise parse_error(request, "index page has no table of titled rows (layout changed?)")
    links: list[TableLink] = []
    seen: dict[tuple[int, str, int], str] = {}
    for tr in titled:
        cells = tr.find_all("td")
        title = _text(cells[0])
        if not _TITLE_CURRENCY.search(title):
            continue  # e.g. "(7) Statistics Bulletin on Freight Supervision": no values by currency
        match = _INDEX_TITLE.match(title)
        if not match:
            raise parse_error(request, f"index row title not understood: {title!r}")
        currency = _currency(match["ccy"])
        if currency is None:
            raise parse_error(request, f"unknown currency {match['ccy']!r} in index row {title!r}")
        for anchor in (a for cell in cells[1:] for a in cell.find_all("a")):
            month = _month_from_text(anchor.get_text())
            if month is None:
                raise parse_error(
                    request, f"month link text {anchor.get_text()!r} not understood in {title!r}"
                )
            href = anchor.get("href")
            if not href:
                raise parse_error(request, f"month link without href in {title!r}")
            link = TableLink(
                section=int(match["section"]),
                title=match["name"],
                currency=currency,
                year=year,
                month=month,
                url=rewrite_url(str(href), base),
            )
            key = (link.section, link.currency, link.month)
            if key in seen and seen[key] != link.url:
                raise parse_error(request, f"two pages for section/currency/month {key}")
            if key not in seen:
                seen[key] = link.url
                links.append(link)
    return links


def _index_year(soup: BeautifulSoup, request: FetchRequest) -> int:
    path = urlsplit(request.url).path
    url_year = re.search(r"preliminary(\d{4})\.html?$", path, re.IGNORECASE)
    meta_year = request.meta.get("year")
    if url_year:
        year = int(url_year.group(1))
        if meta_year is not None and int(meta_year) != year:
            raise parse_error(request, f"index URL is for {year} but meta year is {meta_year}")
        return year
    page_year = None
    select = soup.find("select", id="preliminarysel")
    if isinstance(select, Tag):
        options = select.find_all("option")
        chosen = [o for o in options if o.has_attr("selected")] or options[:1]
        if chosen and str(chosen[0].get("value", "")).strip().isdigit():
            page_year = int(str(chosen[0]["value"]).strip())
    if page_year is not None and meta_year is not None and int(meta_year) != page_year:
        raise parse_error(
            request, f"current-year index shows year {page_year} but {meta_year} was requested"
        )
    if page_year is None and meta_year is None:
        raise parse_error(request, "cannot tell the year of the index page (no URL year, option)")
    return int(page_year if page_year is not None else meta_year)


def _base_of(url: str) -> str:
    """The configured base of an index URL: everything before ``/statics/report/``."""
    lowered = url.lower()
    cut = lowered.find("/statics/report/")
    if cut < 0:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}"
    return url[:cut]


def plan(ctx: PlanContext) -> list[FetchRequest]:
    """Data requests for table (4) in CNY and USD for every release overlapping the run's months.

    For each year in [``ctx.period_start``, ``ctx.period_end``] (up to the current year:
    ``ctx.options["gacc_current_year"]``, default today's year) fetches that year's index page
    (``role="index"``, ``meta={"year": Y}``) through ``ctx.fetch`` and keeps the section (4)
    links of both currencies. A "Feb." link in a year without a January link is the combined
    January–February release: its request period is Jan–Feb (the parser decides from the table).

    Returns ``FetchRequest(source="gacc", url=<page on the configured base>, expect="html",
    reporter="CHN", period_start, period_end, meta={"section", "currency", "year", "month",
    "title"})`` sorted by year, month, currency; ``[]`` when ``CHN`` is not among
    ``ctx.reporters``. Fetch and parse errors of the index pages propagate.
    """
    if REPORTER not in ctx.reporters:
        return []
    base = ctx.settings.base_url(NAME)
    current_year = int(ctx.options.get("gacc_current_year") or date.today().year)
    requests: list[FetchRequest] = []
    for year in range(ctx.period_start.year, min(ctx.period_end.year, current_year) + 1):
        index = FetchRequest(
            source=NAME,
            url=index_url(base, year, current_year),
            expect="html",
            role="index",
            meta={"year": year},
        )
        body = ctx.fetch(index).body
        if not _BY_COUNTRY.search(BeautifulSoup(body, "lxml").get_text(" ")):
            # Every year's index lists table (4), published or not: a page without it is cut
            # short or not the index at all — never "nothing new".
            raise parse_error(index, "the index page does not list table (4) by Country/Region")
        links = [
            link
            for link in parse_index(body, index)
            if link.section == SECTION and link.currency in CURRENCIES and link.year == year
        ]
        for link in links:
            january = any(x.month == 1 and x.currency == link.currency for x in links)
            start_month = 1 if link.month == 2 and not january else link.month
            start, end = month_start(year, start_month), month_start(year, link.month)
            if end < ctx.period_start or start > ctx.period_end:
                continue
            requests.append(
                FetchRequest(
                    source=NAME,
                    url=link.url,
                    expect="html",
                    role="data",
                    reporter=REPORTER,
                    period_start=start,
                    period_end=end,
                    meta={
                        "section": link.section,
                        "currency": link.currency,
                        "year": link.year,
                        "month": link.month,
                        "title": link.title,
                    },
                )
            )
    return sorted(requests, key=lambda r: (r.meta["year"], r.meta["month"], r.meta["currency"]))


# --------------------------------------------------------------------------------------------
# Parser of table (4)
# --------------------------------------------------------------------------------------------


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
    :class:`UnknownCodeError` for a partner label missing from ``gacc_partners.csv``.
    """
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
        code, kind = partner_code(label, month_start(year, month))
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
            text = _text(cell)
            rowspan = _span(cell.get("rowspan"))
            for _ in range(_span(cell.get("colspan"))):
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
        if candidate is not None and _text(candidate):
            return _text(candidate)
    return grid[0][0] if grid and grid[0] else ""


def _check_title(title: str, request: FetchRequest) -> None:
    """The page must be table (4) by country/region (the request, when it says, for section 4)."""
    section = _TITLE_SECTION.match(title)
    if (section and int(section["section"]) != SECTION) or not _BY_COUNTRY.search(title):
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
    currency = _currency(match["ccy"])
    word = match["word"].lower() if match["word"] else None
    factor = Decimal(match["amount"].replace(",", "")) * _WORDS[word]
    in_title = _TITLE_CURRENCY.search(title)
    title_currency = _currency(in_title["ccy"]) if in_title else None
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
    tail = _TITLE_CURRENCY.sub("", title).split(",")[-1]
    title_months = [m for m in map(_month_from_text, re.findall(r"[A-Za-z]+", tail)) if m]
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
    text = _text(node) if node is not None else ""
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


# --------------------------------------------------------------------------------------------
# Partners
# --------------------------------------------------------------------------------------------


def normalise_label(label: str) -> str:
    """A partner label as looked up: nbsp → space, spaces collapsed, "of which:" removed."""
    text = re.sub(r"\s+", " ", label.replace("\xa0", " ")).strip()
    text = re.sub(r"^of\s+which\s*:\s*", "", text, flags=re.IGNORECASE)
    return re.sub(r"\s*,\s*", ", ", text)


@lru_cache(maxsize=1)
def partner_table() -> dict[str, tuple[str, str]]:
    """``flows/data/gacc_partners.csv`` as {casefolded normalised label: (code, kind)}.

    Raises :class:`ValueError` when a row's code does not fit its kind (world = WLD, aggregate =
    a code of :data:`flows.reference.AGGREGATES`, country = an ISO 3166-1 alpha-3 code) or a
    label appears twice with different codes.
    """
    table: dict[str, tuple[str, str]] = {}
    text = resources.files("flows.data").joinpath("gacc_partners.csv").read_text("utf-8")
    for row in csv.DictReader(text.splitlines()):
        label, code, kind = normalise_label(row["label"]), row["code"].strip(), row["kind"].strip()
        valid = {
            "world": code == WORLD,
            "aggregate": code in AGGREGATES and code != WORLD,
            "country": is_country(code),
        }.get(kind, False)
        if not valid:
            raise ValueError(f"gacc_partners.csv: {row['label']!r} has code {code!r} kind {kind!r}")
        key = label.casefold()
        if table.get(key, (code, kind)) != (code, kind):
            raise ValueError(f"gacc_partners.csv: label {row['label']!r} mapped twice")
        table[key] = (code, kind)
    return table


def partner_code(label: str, period_end: date) -> tuple[str, str]:
    """(code, partner_kind) of a printed partner label for a period ending ``period_end``.

    The EU is ``EU27_2020`` when ``period_end`` is February 2020 or later, else ``EU28``.
    Raises :class:`UnknownCodeError` (source ``gacc``) for a label not in the table.
    """
    found = partner_table().get(normalise_label(label).casefold())
    if found is None:
        raise UnknownCodeError(NAME, normalise_label(label))
    code, kind = found
    if code == "EU27_2020" and period_end < EU27_FROM:
        code = "EU28"
    return code, kind


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _text(node: Tag) -> str:
    return re.sub(r"\s+", " ", node.get_text("").replace("\xa0", " ")).strip()


def _span(value: object) -> int:
    try:
        return max(1, int(str(value)))
    except (TypeError, ValueError):
        return 1


def _currency(text: str) -> str | None:
    return {"CNY": "CNY", "RMB": "CNY", "USD": "USD", "US$": "USD"}.get(text.strip().upper())


def _month_from_text(text: str) -> int | None:
    """1–12 for "Feb.", " Mar.", "September", "Sept."; None otherwise."""
    word = text.strip().rstrip(".").strip().lower()
    if len(word) < 3 or word[:3] not in _MONTHS:
        return None
    full = (
        "january february march april may june july august september october november december"
    ).split()[_MONTHS[word[:3]] - 1]
    return _MONTHS[word[:3]] if full.startswith(word) or word == "sept" else None


__all__ = [
    "INDEX_PATH",
    "NAME",
    "TableLink",
    "index_url",
    "normalise_label",
    "parse",
    "parse_index",
    "partner_code",
    "partner_table",
    "plan",
    "rewrite_url",
]
