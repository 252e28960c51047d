"""GACC discovery: the yearly Preliminary Release index pages and the table links on them.

Contract (evidence and confidence in :mod:`flows.sources.gacc`): the index of the current year is
``{base}/statics/report/preliminary.html``, earlier years ``{base}/statics/report/preliminaryYYYY.html``;
each lists numbered tables by currency with one link per published month to an opaque
``http://english.customs.gov.cn/Statics/<uuid>.html`` page. Links are moved onto the configured
base URL (:func:`rewrite_url`) so a mirror or the test double serves them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from bs4 import BeautifulSoup, Tag

from flows.schema import month_start
from flows.sources.base import FetchRequest, PlanContext, parse_error
from flows.sources.gacc.common import (
    BY_COUNTRY,
    CURRENCIES,
    NAME,
    REPORTER,
    SECTION,
    TITLE_CURRENCY,
    currency_code,
    month_from_text,
    text_of,
)

#: Path of a yearly index page; ``{year}`` is empty for the current year (preliminary.html).
INDEX_PATH = "/statics/report/preliminary{year}.html"
_INDEX_TITLE = re.compile(
    r"^\((?P<section>\d+)\)\s*(?P<name>.+?)\s*\(in\s+(?P<ccy>[A-Za-z$]+)\)$", re.IGNORECASE
)


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
        title = text_of(cells[0])
        if not TITLE_CURRENCY.search(title):
            continue  # e.g. "(7) Statistics Bulletin on Freight Supervision": no values by currency
        match = _INDEX_TITLE.match(title)
        if not match:
            raise parse_error(request, f"index row title not understood: {title!r}")
        currency = currency_code(match["ccy"])
        if currency is None:
            raise parse_error(request, f"unknown currency {match['ccy']!r} in index row {title!r}")
        for anchor in (a for cell in cells[1:] for a in cell.find_all("a")):
            month = month_from_text(anchor.get_text())
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
        if not BY_COUNTRY.search(BeautifulSoup(body, "lxml").get_text(" ")):
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

