"""ECB euro foreign exchange reference rates, monthly averages (dataflow ``EXR``).

Used to convert EUR (Eurostat) and other non-USD values to USD month by month (DESIGN.md §4
"Values"). Parsed rows go to ``raw.fx_rates`` (:data:`TARGET`), not to the observations table.

Request (:func:`plan`)::

    GET {base}/data/EXR/M.{CUR}.EUR.SP00.A
        ?format=jsondata&startPeriod=YYYY-MM&endPeriod=YYYY-MM

``{base}`` is ``settings.base_url("ecb")`` (default ``https://data-api.ecb.europa.eu/service``).

Contract (the ECB Data Portal's SDMX 2.1 REST API; confidence per rule):

* **Path** ``{base}/data/{flowRef}/{key}`` with flowRef ``EXR`` — *confirmed*: ECB Data Portal
  help, https://data.ecb.europa.eu/help/api/data ("protocol://wsEntryPoint/resource/flowRef/
  key?parameters", entry point ``data-api.ecb.europa.eu/service/``).
* **Key** ``FREQ.CURRENCY.CURRENCY_DENOM.EXR_TYPE.EXR_SUFFIX`` (the EXR DSD ``ECB_EXR1``'s order;
  the help page: dimension values "following the order in which the Dimensions are defined in the
  DSD", joined with ``.``) — *confirmed* by both recordings: ``structure.dimensions.series`` of
  ``gacc_html/ecb_cny_eur_monthly.json`` and the ``SeriesKey`` of the USD file list exactly these
  five in this order. We send monthly (``M``), currencies per one euro (``EUR`` denominator), spot
  ECB reference rate (``SP00``), average of the daily observations through the month (``A``):
  ``COLLECTION`` "Average of observations through period", ``TITLE`` "Chinese yuan
  renminbi/Euro ECB reference exchange rate" in the recorded JSON.
* **Parameters** ``startPeriod``/``endPeriod`` (``YYYY-MM`` for monthly data), also documented:
  ``updatedAfter``, ``first/lastNObservations``, ``detail``, ``includeHistory`` — *confirmed*
  (help page above). ``format=jsondata`` selects SDMX-JSON — *consistent*: not on the help page
  (which documents the Accept header: SDMX-ML 2.1 GenericData is the default, SDMX-JSON is
  ``application/vnd.sdmx.data+json;version=1.0.0-wd``,
  https://data.ecb.europa.eu/help/api/content-negotiation) but used by public clients
  (beancount/beanprice PR #82 shows the answer's Content-Type
  ``application/vnd.sdmx.data+json;version=1.0.0-wd``; ``format=csvdata`` in openlinker PR
  #2050, live 2026-08), and the recorded CNY file is that JSON.
* **No key, no documented rate limit** — *consistent* (ECB help; public clients send none).

Answers (:func:`interpret`):

* **HTTP 404 "No results found."** when nothing matches the query — *confirmed*: status codes
  page https://data.ecb.europa.eu/help/api/status-codes ("A 404 HTTP status code will be
  returned if there are no results matching the query"); body shape
  ``{"type", "title": "Not Found", "status": 404, "detail": "No results found.", "instance"}`` in
  expersso/ecb issue #7 (2025-05-27). A 200 with an empty body answered a ``format=jsondata``
  query for a day without data in 2024 (beanprice PR #82) — *unverified* today; read the same
  way. Both mean "no data for these months": :class:`NotYetReleased` while the release calendar
  (rule ``ecb``) does not expect the window's first month yet, :class:`MissingRelease` once it
  does. A 404 that does not say "No results" (a wrong path; a Spring ``{"error": "Not Found"}``
  body in expersso/ecb issue #6) is a :class:`RequestRefused`.
* **HTTP 400** "Syntax error" ("a syntactic or semantic issue with the parameters", status codes
  page) — *confirmed* status; the body's shape is *unverified* (the problem JSON's ``detail`` is
  kept as the ECB's message, else the body text). Other 4xx (406, 413, 501…) likewise; 401/403,
  429 and 5xx are left to the generic HTTP checks (retry, back-off).

Responses (:func:`parse`, format chosen by content, not by request):

* **SDMX-JSON** (``format=jsondata``; recorded ``gacc_html/ecb_cny_eur_monthly.json``, see
  docs/gacc_pages.md §5): ``dataSets[].series`` keyed ``"0:0:0:0:0"``, each position an
  index into ``structure.dimensions.series[pos].values``; ``observations`` keyed by a string
  index into ``structure.dimensions.observation[0].values`` (``TIME_PERIOD``); the value is
  element 0 of each observation array. Series attributes are indexes into
  ``structure.attributes.series[i].values``.
* **SDMX-ML 2.1 GenericData** (recorded
  ``ecb/exr_M.USD.EUR.SP00.A_sdmxml21_generic_1999-01_2019-12.xml``): ``generic:Series`` with
  ``SeriesKey``/``Attributes`` ``Value id=… value=…`` and ``generic:Obs`` with ``ObsDimension``
  and ``ObsValue``.

Validation (else :class:`ParseError`): ``FREQ`` ``M``, ``CURRENCY_DENOM`` ``EUR``, ``EXR_TYPE``
``SP00``, ``EXR_SUFFIX`` ``A``, a three-letter ``CURRENCY``, every key position equal to the
one the request's URL key asked for (a series of another currency is rejected), series attribute ``UNIT_MULT``
present and ``0`` (units; both recorded files say so), ``TIME_PERIOD`` ``YYYY-MM``, rates
positive and finite, no duplicate (currency, month). An observation without a value (no
``ObsValue``, JSON ``null`` or ``NaN``) is missing, not zero: no row. Values keep the full
precision served (``1.088295652173913`` for 1999-03 although ``DECIMALS`` says 4).
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import polars as pl
from lxml import etree

from flows.release_calendar import is_due
from flows.schema import FX_SCHEMA
from flows.sources.base import (
    Answer,
    FetchRequest,
    MissingRelease,
    NotYetReleased,
    PlanContext,
    RequestRefused,
    SourceError,
    parse_error,
    xml_root,
)

NAME = "ecb"
#: Parsed frames go to ``raw.fx_rates`` (see :func:`flows.sources.target_of`).
TARGET = "fx_rates"

#: The currencies fetched when ``ctx.options["fx_currencies"]`` is not set.
DEFAULT_CURRENCIES: tuple[str, ...] = ("USD", "CNY")
BASE_CURRENCY = "EUR"

#: Series key values every parsed series must have (dimension id → code).
EXPECTED_KEY: dict[str, str] = {
    "FREQ": "M",
    "CURRENCY_DENOM": BASE_CURRENCY,
    "EXR_TYPE": "SP00",
    "EXR_SUFFIX": "A",
}

USD_CONVERSION_SQL = """CASE
    WHEN currency = 'USD' THEN value
    ELSE value / (CASE WHEN currency = 'EUR' THEN 1.0 ELSE ccy_per_eur END) * usd_per_eur
END"""
"""DuckDB expression converting ``value`` in ``currency`` to USD with ECB monthly rates.

USD value = value / (currency per EUR) × (USD per EUR); for EUR itself the currency-per-EUR
rate is 1; USD values pass through unchanged. The expression expects these columns in scope:

* ``value`` (DOUBLE): the figure in whole units of ``currency``;
* ``currency`` (VARCHAR): its ISO 4217 code;
* ``usd_per_eur`` (DOUBLE): ``raw.fx_rates.rate`` of currency ``USD`` (base ``EUR``) for the
  month of the row (``period_start``);
* ``ccy_per_eur`` (DOUBLE): ``raw.fx_rates.rate`` of the row's ``currency`` for that month
  (ignored for EUR and USD).

A missing rate gives NULL (missing is not zero), never a guessed factor. It converts one month
at the rate of that month; a multi-month figure needs a rule chosen by the caller (e.g. convert
each month first). Example::

    SELECT o.*, {USD_CONVERSION_SQL} AS value_usd
    FROM o
    LEFT JOIN (SELECT period_start, rate AS usd_per_eur FROM raw.fx_rates
               WHERE currency = 'USD' AND base = 'EUR') u USING (period_start)
    LEFT JOIN (SELECT period_start, currency, rate AS ccy_per_eur FROM raw.fx_rates
               WHERE base = 'EUR') c USING (period_start, currency)
"""

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
GENERIC_NS = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/generic"
MESSAGE_NS = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message"


# --------------------------------------------------------------------------------------- plan
def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def plan(ctx: PlanContext) -> list[FetchRequest]:
    """One request per configured currency for its monthly average euro reference rate.

    URL ``{base}/data/EXR/M.{CUR}.EUR.SP00.A``, params ``format=jsondata``,
    ``startPeriod``/``endPeriod`` ``YYYY-MM`` from ``ctx.period_start``/``ctx.period_end``;
    ``expect`` ``"json"``. Currencies come from ``ctx.options["fx_currencies"]`` (default
    :data:`DEFAULT_CURRENCIES`), upper-cased, duplicates removed.

    Raises :class:`ValueError` for an empty list, a code that is not three letters, or ``EUR``
    (the base itself has no EXR series; its rate is 1).
    """
    raw = ctx.options.get("fx_currencies", DEFAULT_CURRENCIES)
    if isinstance(raw, str):
        raw = [raw]
    currencies = list(dict.fromkeys(str(c).strip().upper() for c in raw))
    if not currencies:
        raise ValueError(f"{NAME}: fx_currencies is empty")
    for code in currencies:
        if not _CURRENCY.match(code):
            raise ValueError(f"{NAME}: fx_currencies holds {code!r}, not an ISO 4217 code")
        if code == BASE_CURRENCY:
            raise ValueError(f"{NAME}: EUR is the base currency (rate 1); do not request it")
    return [
        FetchRequest(
            source=NAME,
            url=f"{ctx.settings.base_url(NAME)}/data/EXR/M.{code}.{BASE_CURRENCY}.SP00.A",
            params={
                "format": "jsondata",
                "startPeriod": _month(ctx.period_start),
                "endPeriod": _month(ctx.period_end),
            },
            # The parser accepts SDMX-JSON and SDMX-ML 2.1 (mirrors and archives serve either).
            expect="any",
            period_start=ctx.period_start.replace(day=1),
            period_end=ctx.period_end.replace(day=1),
            meta={"currencies": [code]},
        )
        for code in currencies
    ]


# ------------------------------------------------------------------------------------ answers
def _ecb_message(answer: Answer) -> str:
    """The ECB's own sentence: the problem JSON's ``detail`` (or ``error``), else the body."""
    try:
        data = json.loads(answer.body)
    except ValueError:
        return answer.text()
    if isinstance(data, dict):
        for name in ("detail", "error", "title", "message"):
            if data.get(name):
                return str(data[name])
    return answer.text()


def interpret(answer: Answer) -> SourceError | None:
    """The ECB's own reading of an answer (rules and evidence in the module docstring).

    404 "No results found." or a 200 with an empty body → :class:`NotYetReleased` (the window's
    first month not yet due by the release calendar) or :class:`MissingRelease` (due); any
    other 4xx except 401/403/429 → :class:`RequestRefused` with the ECB's message; else ``None``.
    """
    status = answer.status
    if status in (401, 403, 429) or status >= 500 or (status == 200 and answer.body.strip()):
        return None
    message = _ecb_message(answer) if answer.body.strip() else "an empty body"
    request = answer.request
    if (status == 404 and re.search(r"no results", message, re.I)) or status == 200:
        first = request.period_start
        if first is not None and not is_due(NAME, first, answer.today):
            return NotYetReleased(
                NAME, answer.what,
                f"no ECB rate yet for {first:%Y-%m} onwards (ECB: {message}); the release "
                "calendar does not expect it yet",
                period=first,
            )
        return MissingRelease(
            NAME, answer.what,
            f"the ECB has no rate for months the release calendar says are out (ECB: {message})",
        )
    if 400 <= status < 500:
        return RequestRefused(
            NAME, answer.what, f"HTTP {status}: the ECB refused the request: {message}",
            status=status, message=message,
        )
    return None


# -------------------------------------------------------------------------------------- parse
def parse(body: bytes, request: FetchRequest) -> pl.DataFrame:
    """Monthly reference rates from an ECB EXR answer (SDMX-JSON or SDMX-ML 2.1 GenericData).

    Returns exactly :data:`flows.schema.FX_SCHEMA`: ``source`` ``"ecb"``, ``currency`` (ISO
    4217), ``base`` ``"EUR"``, ``period_start`` (date, first day of the month), ``rate``
    (float64, units of ``currency`` per one euro, monthly average), ``series``
    (``"EXR.M.CNY.EUR.SP00.A"``), ``vintage`` null; sorted by currency and month.

    Raises :class:`ParseError` (naming the request) when the body is neither JSON nor XML, is
    malformed, is not the expected SDMX shape, breaks a validation rule of the module docstring,
    or holds no observations.
    """
    text = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"{"):
        rows = _parse_json(body, request)
    elif text.startswith(b"<"):
        rows = _parse_generic_xml(body, request)
    else:
        raise parse_error(request, f"body is neither SDMX-JSON nor SDMX-ML: {body[:80]!r}")
    if not rows:
        raise parse_error(request, "no exchange-rate observations in the answer")
    frame = pl.DataFrame(rows, schema=FX_SCHEMA).sort("currency", "period_start")
    duplicated = frame.filter(pl.struct("currency", "period_start").is_duplicated())
    if duplicated.height:
        raise parse_error(request, f"duplicate rates, e.g. {duplicated.row(0, named=True)}")
    return frame.select(list(FX_SCHEMA))


#: The EXR key's dimensions in the DSD's order (the request URL's key ``M.CNY.EUR.SP00.A``).
KEY_ORDER = ("FREQ", "CURRENCY", "CURRENCY_DENOM", "EXR_TYPE", "EXR_SUFFIX")


def requested_key(request: FetchRequest) -> dict[str, frozenset[str]]:
    """The codes the request asked for, per dimension, from its URL's key (last path segment,
    ``M.CNY.EUR.SP00.A``; ``+`` joins alternatives, an empty position is a wildcard and is left
    out); ``meta["currencies"]`` when the URL has no five-position key."""
    parts = request.url.rstrip("/").rsplit("/", 1)[-1].split(".")
    if len(parts) == len(KEY_ORDER):
        return {dim: frozenset(p.split("+")) for dim, p in zip(KEY_ORDER, parts, strict=True) if p}
    currencies = request.meta.get("currencies") or []
    return {"CURRENCY": frozenset(currencies)} if currencies else {}


def _check_key(request: FetchRequest, key: dict[str, str]) -> str:
    """Validate a series key; return its series code ``EXR.M.CUR.EUR.SP00.A``.

    Every dimension must also carry a code the request asked for (:func:`requested_key`): an
    answer for another currency than the one in the URL is rejected, never loaded as that
    currency's rate (issue 12: an ECB answer for another currency was loaded)."""
    for dimension, wanted in requested_key(request).items():
        if key.get(dimension) not in wanted:
            raise parse_error(
                request,
                f"series {'.'.join(key.get(d, '?') for d in KEY_ORDER)}: {dimension} is "
                f"{key.get(dimension)!r}, expected {'+'.join(sorted(wanted))!r} (the request's key)",
            )
    for dimension, expected in EXPECTED_KEY.items():
        if key.get(dimension) != expected:
            raise parse_error(
                request,
                f"series {key}: {dimension} is {key.get(dimension)!r}, expected {expected!r}",
            )
    currency = key.get("CURRENCY") or ""
    if not _CURRENCY.match(currency):
        raise parse_error(request, f"series {key}: CURRENCY {currency!r} is not an ISO 4217 code")
    return ".".join(
        ["EXR", key["FREQ"], currency, key["CURRENCY_DENOM"], key["EXR_TYPE"], key["EXR_SUFFIX"]]
    )


def _check_unit_mult(request: FetchRequest, series: str, unit_mult: str | None) -> None:
    if unit_mult != "0":
        raise parse_error(
            request, f"{series}: UNIT_MULT is {unit_mult!r}, expected '0' (rates in units)"
        )


def _period(request: FetchRequest, series: str, text: str) -> date:
    match = _MONTH.match(text or "")
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise parse_error(request, f"{series}: TIME_PERIOD {text!r} is not a month (YYYY-MM)")
    return date(int(match.group(1)), int(match.group(2)), 1)


def _rate(request: FetchRequest, where: str, raw: Any) -> float | None:
    """A positive finite rate, or None for a missing one."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise parse_error(request, f"{where}: rate {raw!r} is not a number")
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise parse_error(request, f"{where}: rate {raw!r} is not a number") from None
    if value.is_nan():
        return None
    if not value.is_finite() or value <= 0:
        raise parse_error(request, f"{where}: rate {raw!r} is not a positive finite number")
    return float(value)


def _row(currency: str, period: date, rate: float, series: str) -> dict:
    return {
        "source": NAME,
        "currency": currency,
        "base": BASE_CURRENCY,
        "period_start": period,
        "rate": rate,
        "series": series,
        "vintage": None,
    }


# ----------------------------------------------------------------------------------- SDMX-JSON
def _parse_json(body: bytes, request: FetchRequest) -> list[dict]:
    try:
        data = json.loads(body, parse_float=Decimal)
    except ValueError as exc:
        raise parse_error(request, f"body is not valid JSON: {exc}") from None
    try:
        structure = data["structure"]
        series_dims = structure["dimensions"]["series"]
        obs_dims = structure["dimensions"]["observation"]
        datasets = data["dataSets"]
    except (KeyError, TypeError):
        raise parse_error(
            request, "not an SDMX-JSON data message (no structure.dimensions or dataSets)"
        ) from None
    if not obs_dims or obs_dims[0].get("id") != "TIME_PERIOD":
        raise parse_error(request, "observation dimension 0 is not TIME_PERIOD")
    times = [v.get("id") for v in obs_dims[0].get("values", [])]
    attributes = structure.get("attributes") or {}
    series_attrs = attributes.get("series") or []
    dataset_attrs = attributes.get("dataSet") or []

    rows: list[dict] = []
    for dataset in datasets:
        for key_text, series in (dataset.get("series") or {}).items():
            key = _json_key(request, key_text, series_dims)
            code = _check_key(request, key)
            unit_mult = _json_attribute(
                request, series_attrs, series.get("attributes"), "UNIT_MULT"
            )
            if unit_mult is None:
                unit_mult = _json_attribute(
                    request, dataset_attrs, dataset.get("attributes"), "UNIT_MULT"
                )
            _check_unit_mult(request, code, unit_mult)
            for index_text, cell in (series.get("observations") or {}).items():
                try:
                    period_text = times[int(index_text)]
                except (ValueError, IndexError):
                    raise parse_error(
                        request,
                        f"{code}: observation key {index_text!r} is not a TIME_PERIOD index",
                    ) from None
                period = _period(request, code, period_text)
                if not isinstance(cell, list) or not cell:
                    raise parse_error(request, f"{code} {period_text}: observation is {cell!r}")
                rate = _rate(request, f"{code} {period_text}", cell[0])
                if rate is not None:
                    rows.append(_row(key["CURRENCY"], period, rate, code))
    return rows


def _json_key(request: FetchRequest, key_text: str, dims: list[dict]) -> dict[str, str]:
    parts = key_text.split(":")
    if len(parts) != len(dims):
        raise parse_error(request, f"series key {key_text!r} does not have {len(dims)} positions")
    key = {}
    for part, dim in zip(parts, dims, strict=True):
        try:
            key[dim["id"]] = dim["values"][int(part)]["id"]
        except (ValueError, IndexError, KeyError):
            raise parse_error(
                request, f"series key {key_text!r}: {part!r} is not an index of {dim.get('id')}"
            ) from None
    return key


def _json_attribute(
    request: FetchRequest, descriptors: list[dict], values: list | None, name: str
) -> str | None:
    """The code of attribute ``name`` (``values[i]`` indexes ``descriptors[i].values``)."""
    for position, descriptor in enumerate(descriptors):
        if descriptor.get("id") != name:
            continue
        index = values[position] if values and position < len(values) else None
        if index is None:
            return None
        try:
            value = descriptor["values"][int(index)]
        except (ValueError, IndexError, KeyError, TypeError):
            raise parse_error(request, f"attribute {name}: index {index!r} out of range") from None
        return value.get("id", value.get("name"))
    return None


# ---------------------------------------------------------------------- SDMX-ML 2.1 GenericData
def _parse_generic_xml(body: bytes, request: FetchRequest) -> list[dict]:
    root = xml_root(body, request)
    qname = etree.QName(root)
    if qname.localname != "GenericData" or qname.namespace != MESSAGE_NS:
        raise parse_error(
            request,
            f"expected SDMX-ML 2.1 GenericData, got root {qname.localname!r} "
            f"in namespace {qname.namespace!r}",
        )
    g = f"{{{GENERIC_NS}}}"
    rows: list[dict] = []
    for series in root.iter(f"{g}Series"):
        key = _generic_values(series.find(f"{g}SeriesKey"), g)
        code = _check_key(request, key)
        attributes = _generic_values(series.find(f"{g}Attributes"), g)
        _check_unit_mult(request, code, attributes.get("UNIT_MULT"))
        for obs in series.iter(f"{g}Obs"):
            dimension = obs.find(f"{g}ObsDimension")
            period_text = dimension.get("value") if dimension is not None else None
            period = _period(request, code, period_text or "")
            value = obs.find(f"{g}ObsValue")
            raw = value.get("value") if value is not None else None
            rate = _rate(request, f"{code} {period_text}", raw)
            if rate is not None:
                rows.append(_row(key["CURRENCY"], period, rate, code))
    return rows


def _generic_values(element: etree._Element | None, g: str) -> dict[str, str]:
    if element is None:
        return {}
    return {v.get("id"): v.get("value") for v in element.findall(f"{g}Value")}
