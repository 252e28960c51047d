"""US Census Bureau international trade API: US exports and imports by partner (sources.md §2).

Endpoints (under the configured base URL, default
``https://api.census.gov/data/timeseries/intltrade``), one request per month and flow, the form
the recorded payloads were fetched with (PROVENANCE.md, second pass, ``census/``):

* ``{base}/exports/hs?get=CTY_CODE,CTY_NAME,ALL_VAL_MO&YEAR=YYYY&MONTH=MM`` — total exports
  (domestic + foreign), valued **FAS** (free alongside ship);
* ``{base}/imports/hs?get=CTY_CODE,CTY_NAME,GEN_VAL_MO&YEAR=YYYY&MONTH=MM`` — general imports,
  **customs value** (excludes freight and insurance: valuation ``CUSTOMS``, BEA explanatory
  notes). The same request also asks for ``GEN_CIF_MO`` (imports valued **CIF**) unless the run
  option ``census_cif`` is set to false; see "CIF imports" below.

No ``CTY_CODE`` predicate is sent: one response holds every partner, the world total and the
Census groupings. The reporter is always the United States (``USA``: the 50 states, DC, Puerto
Rico and the US Virgin Islands); :func:`plan` returns nothing when ``USA`` is not a run reporter.

API key: Census takes it as the ``key`` **query parameter** (there is no header form), so
:func:`headers` returns ``{}`` and :func:`secret_params` returns ``{"key": …}`` when
``settings.census_api_key`` is set (500 calls a day work without one, sources.md §2). The HTTP
layer adds it at send time: it is never part of a :class:`FetchRequest`, so it is never archived,
logged or printed.

Response (sources.md §2 "Format"): a JSON array of arrays; the first row is the header (variable
names), every value is a string or ``null``. Predicate variables are echoed as columns (``YEAR``,
``MONTH`` with its zero, ``"01"``; or ``time`` ``"YYYY-MM"``). :func:`parse` rules:

* no header row (the first row lacks ``CTY_CODE``), ragged rows, no data rows → ParseError;
* value fields (``_MO`` = the month's value, whole USD, :data:`VALUE_FIELDS`): ``ALL_VAL_MO`` →
  flow ``X`` / ``FAS``; ``GEN_VAL_MO`` → ``M`` / ``CUSTOMS``; ``GEN_CIF_MO`` → ``M`` / ``CIF``.
  Values are parsed with :class:`decimal.Decimal` and must be whole, non-negative dollars.
  ``_YR`` fields are **year-to-date** and are never used as monthly values: a payload with only
  ``_YR`` value fields raises ParseError. Other variables (``CON_VAL_MO``, ``AIR_VAL_MO``, ...)
  are not read;
* ``CTY_CODE "-"`` ("TOTAL FOR ALL COUNTRIES") → partner ``WLD``, kind ``world``;
* grouping codes → named aggregates (kind ``aggregate``, never summed with countries),
  :data:`GROUP_CODES`;
* 4-digit Schedule C codes (leading zeros kept) → ISO3 from ``flows/data/census_schedule_c.csv``
  (provenance in its header), with :data:`SCHEDULE_C_OVERRIDES` checked on top; the few areas of
  that table without an ISO3 of their own (5082 Gaza Strip, 5083 West Bank, 8220 — sent with a
  null ``CTY_NAME``, identity unknown) become ``CENSUS_<code>`` with kind ``aggregate`` so that
  they are never counted as countries; any other code raises UnknownCodeError;
* ``CTY_NAME`` is not used (it is ``null`` for code 8220 in 13 recorded months);
* commodity: ``I_COMMODITY``/``E_COMMODITY`` when present (HS code string, leading zeros kept;
  ``"-"`` read as ``TOTAL``), else ``TOTAL``;
* period: ``YEAR``+``MONTH`` or ``time``; a month outside the request's window raises ParseError;
* status ``reported``; release ``US Census international trade API exports/hs`` (the endpoint);
  vintage left null (the API gives no release date; staging fills the fetch date).

Answer contract (:func:`interpret`, called for every response before the generic checks;
live_contracts.md §4, sources.md §2; confidence as there: ``confirmed`` = an official document,
``consistent`` = several public clients agree, ``unverified`` = one source or an inference):

* **No rows = HTTP 204 No Content with an empty body** [consistent]: R clients handle
  ``status == 204`` explicitly (hrecht/censusapi ``R/getcensus_functions.R``; file-index ids
  44474353497, 32546866391), users of ``timeseries/intltrade/imports/hs`` log "204, no content was
  returned" (ids 2217273196, 1687685145), hrecht/censusapi issue #54 shows a 204 for estimates
  "not out yet". A 200 with an empty body, ``[]`` or only the header row is read the same way.
  For a month the release calendar does not expect yet
  (``not flows.release_calendar.is_due("census", month, today)``: the FT-900 "approximately 35 days
  after the end of the calendar month", export.gov "Data Releases and Revisions" [confirmed],
  plus 7 grace days) it is :class:`NotYetReleased` (no error, no row, the month named); for a
  month that should be out it is :class:`MissingRelease` ("Census answered 204 No Content for
  2024-11, which the FT-900 calendar expects by 2025-01-04 …").
* **Errors are plain text**: HTTP 400 with a body such as ``error: unknown variable 'XYZ'`` or
  ``error: unknown predicate variable: 'FOO'`` [consistent: tidycensus tests (file-index id
  71448483614) and a TypeScript client (id 69063697813) match ``^error: unknown variable '…'$``;
  live reports in walkerke/tidycensus issues #376, #334, #200 and jtleider/censusdata issue #40
  quote the same sentence, there as "error: error: unknown variable …"; the predicate form is
  in a live log (id 61485686690) and two clients (ids 68837469517, 71427374786)]. It becomes
  :class:`RequestRefused` with ``status=400``, the publisher's sentence as ``message`` (kept
  whole in the run's error line) and ``values`` ``(("get"|"predicate", NAME),)``.
* **An invalid key** is answered with an HTML page in a 200 ("You included a key with this
  request …") [unverified: one client's test, id 71448483614]: :class:`AuthError` with its text.

Annual revision (:func:`stale_before`): "Each June, exports and imports of goods on a Census basis
are revised for the prior three years" (export.gov, same page) [confirmed]. The revision is
published with the April FT-900 and covers January of the third year before through March of the
revision year ("revised statistics … for January 2009 to March 2012", BEA/Census annual revision
release for 2011, bea.gov trad1312; "1992-2003 and the first three months of 2004", trad1304,
June 14, 2004) [confirmed]. Its day varies (April FT-900s found: 14 June 2004, 10 June 2010,
3 June 2016, 7 June 2023), so the revision date is **assumed** to be the later of 15 June and the
day April is due in the release calendar (expected date + grace days):
:func:`annual_revision_date`. An archived copy of a revised month fetched before the latest
revision date that is on or before ``settings.run_date()`` is stale and re-fetched once.

Truncation (:func:`_check_world_total`; answers without a commodity column and without a
``CTY_CODE``/``CTY_NAME`` predicate): each month needs its ``CTY_CODE "-"`` row, and per (month,
flow, valuation) the 4-digit Schedule C area rows (countries and ``CENSUS_`` areas 5082, 5083,
8220; never the :data:`GROUP_CODES` groupings, which would count members twice) must add up to
it within :data:`WORLD_TOTAL_TOLERANCE` (0.001 %), else ParseError. Evidence: in all 288
recorded answers (2013-01…2024-12, exports ``ALL_VAL_MO`` and imports ``GEN_VAL_MO``) the gap is
0 USD (countries alone fall short by up to 0.0513 %: 8220 is in the total). The tolerance is
not zero for sums of rounded values (the double's made-up ``GEN_CIF_MO``); of the 42,528 cuts
of the recorded answers at a line after the world row it misses those losing no area value
(a last 7XXX grouping row, zero rows) and 6 losing under 0.001 %.

CIF imports (requested by default; run option ``census_cif=False`` leaves them out): the
customs-value and the CIF figure of a partner and month are two observations that differ by
``valuation`` (part of the load key, :data:`flows.schema.OBSERVATION_KEY`). The marts use
``CUSTOMS`` as the headline imports (``intermediate.observations.is_headline``; DESIGN.md §4
"Mirror gaps": the US customs value is already ex freight and is not deflated again); the pair
gives the **observed freight margin** of US imports from each partner
(``intermediate.freight_margins``: τ = ΣGEN_CIF_MO ÷ ΣGEN_VAL_MO − 1 over a year; issue 14).
``GEN_CIF_MO`` is a documented imports variable (sources.md §2 "Format": ``GEN_CIF_*`` beside
``GEN_VAL_*``) [consistent]; the recordings hold no ``GEN_CIF_MO`` answer, so its values are
tested on labelled made-up payloads only. :func:`parse` still rejects a payload in which two rows
share the load key.
"""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any

import polars as pl

from flows import release_calendar
from flows.http import redact_url
from flows.reference import UnknownCodeError
from flows.schema import OBSERVATION_KEY, OBSERVATION_SCHEMA, WORLD, add_months, conform
from flows.sources.base import (
    Answer,
    AuthError,
    FetchRequest,
    MissingRelease,
    NotYetReleased,
    ParseError,
    PlanContext,
    RequestRefused,
    SourceError,
)

NAME = "census"
REPORTER = "USA"
#: Dataset path under the base URL (HS-based country totals).
DATASET = "hs"

#: Monthly value fields read by :func:`parse`: field → (flow, valuation). sources.md §2
#: "Format" and "Units and valuation".
VALUE_FIELDS: dict[str, tuple[str, str]] = {
    "ALL_VAL_MO": ("X", "FAS"),
    "GEN_VAL_MO": ("M", "CUSTOMS"),
    "GEN_CIF_MO": ("M", "CIF"),
}
#: Commodity code variables of the exports and imports endpoints.
COMMODITY_FIELDS: tuple[str, ...] = ("E_COMMODITY", "I_COMMODITY")

#: Census grouping codes (sent beside the countries in every ``hs`` response; names as the API
#: gives them in ``CTY_NAME``, PROVENANCE.md second pass). A shared code from
#: :data:`flows.reference.AGGREGATES` is used only where its membership is the same over time
#: (USMCA = Canada + Mexico, ASEAN's 10 members since 1999, APEC's 21 since 1998) or where the
#: shared code is defined as the publisher's grouping (``PACIFIC_RIM``, ``AFRICA``). Groupings
#: whose membership follows the reference month (EU, euro area, OPEC, OECD, NATO, ...) keep a
#: ``CENSUS_`` code: the Census EU is EU28 before February 2020, so it is never ``EU27_2020``.
GROUP_CODES: dict[str, tuple[str, str]] = {
    "0001": ("CENSUS_0001", "OPEC, members in the reference month"),
    "0003": ("CENSUS_0003", "European Union, members in the reference month (EU28 to Jan 2020)"),
    "0014": ("PACIFIC_RIM", "Pacific Rim countries (Census grouping)"),
    "0017": ("CENSUS_0017", "CAFTA-DR"),
    "0020": ("USMCA", "USMCA (NAFTA before July 2020): Canada and Mexico"),
    "0021": ("CENSUS_0021", "Twenty Latin American Republics"),
    "0022": ("CENSUS_0022", "OECD, members in the reference month"),
    "0023": ("CENSUS_0023", "NATO, members in the reference month"),
    "0024": ("CENSUS_0024", "LAFTA"),
    "0025": ("CENSUS_0025", "Euro area, members in the reference month"),
    "0026": ("APEC", "APEC"),
    "0027": ("ASEAN", "ASEAN"),
    "0028": ("CENSUS_0028", "CACM (Central American Common Market)"),
    "1XXX": ("CENSUS_1XXX", "North America (continent grouping)"),
    "2XXX": ("CENSUS_2XXX", "Central America (continent grouping)"),
    "3XXX": ("CENSUS_3XXX", "South America (continent grouping)"),
    "4XXX": ("CENSUS_4XXX", "Europe (continent grouping)"),
    "5XXX": ("CENSUS_5XXX", "Asia (continent grouping)"),
    "6XXX": ("CENSUS_6XXX", "Australia and Oceania (continent grouping)"),
    "7XXX": ("AFRICA", "Africa (Census continent grouping)"),
}
#: The world total row.
TOTAL_CODE = "-"
#: Partner codes of the groupings (never summed with the Schedule C areas).
_GROUP_PARTNERS = frozenset(partner for partner, _name in GROUP_CODES.values())
#: Request predicates that select some partners only: such an answer is not checked for a total.
_PARTNER_PREDICATES = frozenset({"CTY_CODE", "CTY_NAME"})
#: Largest relative gap allowed between a month's Schedule C area rows and its world total
#: (module docstring, "Truncation"): 0.001 %. Measured gap in the recordings: 0 USD in all
#: 288 answers (144 months × exports ``ALL_VAL_MO`` and imports ``GEN_VAL_MO``, 2013–2024).
WORLD_TOTAL_TOLERANCE = 1e-5
#: Hand-checked Schedule C codes (sources.md §2 "Code system", DESIGN.md §4 "Keys"); they win over
#: the CSV and are verified against it when it is loaded.
SCHEDULE_C_OVERRIDES: dict[str, str] = {
    "5700": "CHN",
    "5520": "VNM",
    "5330": "IND",
    "5830": "TWN",
    "5820": "HKG",
}


def headers(settings: Any) -> dict[str, str]:
    """No headers: the Census key is a query parameter (see the module docstring)."""
    return {}


def secret_params(settings: Any) -> dict[str, str]:
    """``{"key": <census_api_key>}`` when a key is configured, else ``{}`` (sent, never stored)."""
    key = settings.census_api_key
    return {"key": key.get_secret_value()} if key is not None else {}


#: Day of June assumed for the annual revision when the release calendar's date for April is
#: earlier (module docstring, "Annual revision"): later than every June FT-900 date found.
ANNUAL_REVISION_DAY = 15
#: Census's plain-text error sentences naming a variable (module docstring, "Errors").
_UNKNOWN_NAME = re.compile(r"unknown (?P<kind>predicate )?variable:?\s*'(?P<name>[^']+)'", re.I)


def interpret(answer: Answer) -> SourceError | None:
    """The Census reading of one response (module docstring, "Answer contract").

    Returns :class:`NotYetReleased` or :class:`MissingRelease` for "no rows" (204, or a 200 with
    an empty body, ``[]`` or only a header row), :class:`RequestRefused` for a 400 (the
    publisher's sentence kept as ``message``), :class:`AuthError` for an HTML page in a 200 that
    talks about the key; ``None`` otherwise (the generic checks and :func:`parse` decide).
    """
    if answer.status == 204 or (answer.status == 200 and _no_rows(answer.body)):
        return _no_data(answer)
    if answer.status == 400:
        message = answer.text()
        names = tuple(
            ("predicate" if m["kind"] else "get", m["name"]) for m in _UNKNOWN_NAME.finditer(message)
        )
        return RequestRefused(
            NAME, answer.what, f"HTTP 400, Census refused the request: {message}",
            status=400, message=message, values=names,
        )
    head = answer.body[:512].lstrip().lower()
    if answer.status == 200 and head.startswith((b"<html", b"<!doctype")) and b"key" in answer.body.lower():
        return AuthError(
            NAME, answer.what, f"Census answered an HTML page, not data (invalid or inactive API "
            f"key?): {answer.text()}",
        )
    return None


def _no_rows(body: bytes) -> bool:
    """An empty body, ``[]`` or a JSON array holding only the header row."""
    if not body.strip():
        return True
    if not body.lstrip().startswith(b"["):
        return False
    try:
        data = json.loads(body)
    except ValueError:
        return False
    return isinstance(data, list) and len(data) <= 1


def _no_data(answer: Answer) -> SourceError:
    request = answer.request
    month = request.period_end or request.period_start
    said = "204 No Content" if answer.status == 204 else "HTTP 200 with no data rows"
    if month is None:
        return MissingRelease(NAME, answer.what, f"Census answered {said}")
    expected = release_calendar.expected_release(NAME, month)
    grace = release_calendar.RULES[NAME].grace_days
    if not release_calendar.is_due(NAME, month, answer.today):
        return NotYetReleased(
            NAME, answer.what,
            f"Census answered {said} for {month:%Y-%m}: not yet released (the FT-900 calendar "
            f"expects it by {expected:%Y-%m-%d})",
            period=request.period_start or month,
        )
    return MissingRelease(
        NAME, answer.what,
        f"Census answered {said} for {month:%Y-%m}, which the FT-900 calendar expects by "
        f"{expected:%Y-%m-%d} (about 35 days after the month ends; {grace} days' grace passed "
        f"on {answer.today:%Y-%m-%d}): the month is missing",
    )


def annual_revision_date(year: int, overrides_file: str | None = None) -> date:
    """The date from which the June annual revision of ``year`` is taken to be published:
    the later of 15 June and the day April's FT-900 is due in the release calendar (expected
    date + grace days). Module docstring, "Annual revision" (the day is assumed)."""
    april = date(year, 4, 1)
    due = release_calendar.expected_release(NAME, april, overrides_file=overrides_file)
    due += timedelta(days=release_calendar.RULES[NAME].grace_days)
    return max(date(year, 6, ANNUAL_REVISION_DAY), due)


def revised_months(year: int) -> tuple[date, date]:
    """First and last month re-published by the annual revision of ``year``: January of
    ``year - 3`` to March of ``year``."""
    return date(year - 3, 1, 1), date(year, 3, 1)


def stale_before(request: FetchRequest, settings: Any) -> datetime | None:
    """Archived copies of ``request`` fetched before this moment (UTC) are stale.

    For a data request whose month falls in the range of the latest annual revision on or before
    ``settings.run_date()`` (:func:`revised_months`), the revision's date at 00:00 UTC
    (:func:`annual_revision_date`); else ``None``. A copy fetched on or after that date is kept,
    so each revision re-fetches a month once.
    """
    month = request.period_end or request.period_start
    if request.role != "data" or month is None:
        return None
    overrides = getattr(settings, "release_dates_file", None)
    overrides = str(overrides) if overrides else None
    today = settings.run_date()
    year = today.year
    if annual_revision_date(year, overrides) > today:
        year -= 1
    first, last = revised_months(year)
    if not first <= date(month.year, month.month, 1) <= last:
        return None
    return datetime.combine(annual_revision_date(year, overrides), time(), tzinfo=UTC)


def plan(ctx: PlanContext) -> list[FetchRequest]:
    """One exports and one imports request per month of ``ctx``'s window (``expect="json"``).

    Empty when ``USA`` is not among ``ctx.reporters``. ``ctx.partners`` is not used: every
    response holds all partners. The imports request asks for ``GEN_CIF_MO`` beside
    ``GEN_VAL_MO`` unless option ``census_cif`` is false (observed freight margins, issue 14).
    """
    if REPORTER not in ctx.reporters:
        return []
    base = ctx.settings.base_url(NAME)
    imports = ["CTY_CODE", "CTY_NAME", "GEN_VAL_MO"]
    if ctx.options.get("census_cif", True):
        imports.append("GEN_CIF_MO")
    variables = {"exports": ["CTY_CODE", "CTY_NAME", "ALL_VAL_MO"], "imports": imports}
    requests: list[FetchRequest] = []
    month = ctx.period_start
    while month <= ctx.period_end:
        for direction, fields in variables.items():
            params = {"get": ",".join(fields), "YEAR": f"{month:%Y}", "MONTH": f"{month:%m}"}
            requests.append(
                FetchRequest(
                    source=NAME,
                    url=f"{base}/{direction}/{DATASET}",
                    params=params,
                    expect="json",
                    reporter=REPORTER,
                    period_start=month,
                    period_end=month,
                )
            )
        month = add_months(month, 1)
    return requests


@cache
def schedule_c() -> dict[str, str | None]:
    """Schedule C code → ISO3 (``None`` for areas without an ISO3 of their own).

    Read from ``flows/data/census_schedule_c.csv`` (``#`` lines are comments); raises
    ``ValueError`` when the file contradicts :data:`SCHEDULE_C_OVERRIDES`.
    """
    text = resources.files("flows.data").joinpath("census_schedule_c.csv").read_text("utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    table = {row["code"]: (row["iso3"] or None) for row in csv.DictReader(lines)}
    for code, iso3 in SCHEDULE_C_OVERRIDES.items():
        if table.get(code) != iso3:
            raise ValueError(f"census_schedule_c.csv maps {code} to {table.get(code)}, not {iso3}")
    return table


def partner_code(code: str) -> tuple[str, str]:
    """``(partner, partner_kind)`` for a Census ``CTY_CODE``.

    ``"-"`` → (``WLD``, ``world``); grouping codes → :data:`GROUP_CODES` (``aggregate``);
    4-digit Schedule C codes → (ISO3, ``country``), or (``CENSUS_<code>``, ``aggregate``) for
    areas without an ISO3. Raises :class:`UnknownCodeError` for anything else.
    """
    if code == TOTAL_CODE:
        return WORLD, "world"
    if code in GROUP_CODES:
        return GROUP_CODES[code][0], "aggregate"
    if code in SCHEDULE_C_OVERRIDES:
        return SCHEDULE_C_OVERRIDES[code], "country"
    table = schedule_c()
    if len(code) == 4 and code.isdigit() and not code.startswith("00") and code in table:
        iso3 = table[code]
        return (iso3, "country") if iso3 else (f"CENSUS_{code}", "aggregate")
    raise UnknownCodeError(NAME, code)


def parse(body: bytes, request: FetchRequest) -> pl.DataFrame:
    """Canonical observations (:data:`flows.schema.OBSERVATION_SCHEMA`) from one API response.

    One row per (``CTY_CODE`` row, value field present): reporter ``USA``, values in whole USD
    (currency ``USD``), ``period_type`` ``month``. Raises :class:`ParseError` for anything that
    is not the documented shape (see the module docstring) and
    :class:`flows.reference.UnknownCodeError` for a partner code with no mapping.
    """
    table = _load_table(body, request)
    header, rows = table[0], table[1:]
    column = {}
    for index, name in enumerate(header):
        column.setdefault(name, index)
    fields = [name for name in VALUE_FIELDS if name in column]
    if not fields:
        ytd = sorted(name for name in column if name.endswith("_YR"))
        if ytd:
            raise _error(
                request,
                f"only year-to-date fields {ytd}: _YR values are never used as monthly values; "
                f"ask for {sorted(VALUE_FIELDS)}",
            )
        raise _error(request, f"no monthly value field {sorted(VALUE_FIELDS)} in header {header}")
    _check_direction(request, fields)
    if "YEAR" in column and "MONTH" in column:
        period_of = _period_from_year_month(column["YEAR"], column["MONTH"])
    elif "time" in column:
        period_of = _period_from_time(column["time"])
    else:
        raise _error(request, f"no period column (YEAR and MONTH, or time) in header {header}")
    commodity_at = next((column[name] for name in COMMODITY_FIELDS if name in column), None)
    release = f"US Census international trade API {_dataset_path(request.url)}"

    records: dict[str, list[Any]] = {name: [] for name in OBSERVATION_SCHEMA}
    for number, row in enumerate(rows, start=2):
        code = row[column["CTY_CODE"]]
        if not isinstance(code, str) or not code.strip():
            raise _error(request, f"row {number}: empty CTY_CODE")
        partner, kind = partner_code(code.strip())
        try:
            period = period_of(row)
        except (TypeError, ValueError) as exc:
            raise _error(request, f"row {number}: bad period ({exc})") from None
        _check_window(request, period, number)
        commodity = "TOTAL"
        if commodity_at is not None:
            commodity = row[commodity_at]
            if not isinstance(commodity, str) or not commodity.strip():
                raise _error(request, f"row {number}: empty commodity code")
            commodity = "TOTAL" if commodity.strip() == TOTAL_CODE else commodity.strip()
        for field in fields:
            flow, valuation = VALUE_FIELDS[field]
            records["source"].append(NAME)
            records["reporter"].append(REPORTER)
            records["partner"].append(partner)
            records["partner_kind"].append(kind)
            records["flow"].append(flow)
            records["period_start"].append(period)
            records["period_end"].append(period)
            records["months"].append(1)
            records["period_type"].append("month")
            records["commodity"].append(commodity)
            records["value"].append(_whole_usd(request, row[column[field]], field, number))
            records["currency"].append("USD")
            records["valuation"].append(valuation)
            records["status"].append("reported")
            records["published_yoy"].append(None)
            records["release"].append(release)
            records["vintage"].append(None)
    frame = pl.DataFrame(records, schema=OBSERVATION_SCHEMA)
    _check_unique(request, frame)
    if commodity_at is None:  # an all-partner total answer, as the plan asks for
        _check_world_total(request, frame)
    return conform(frame, context=_what(request))


def _what(request: FetchRequest) -> str:
    """The request for messages, with the API key redacted."""
    return redact_url(request.describe())


def _error(request: FetchRequest, problem: str) -> ParseError:
    return ParseError(NAME, _what(request), problem)


def _load_table(body: bytes, request: FetchRequest) -> list[list[Any]]:
    """The JSON array of arrays, checked: header row with ``CTY_CODE``, equal-length rows."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _error(request, f"body is not JSON: {exc}") from None
    if not isinstance(data, list) or not data or not all(isinstance(r, list) for r in data):
        raise _error(request, "expected a JSON array of arrays (header row, then data rows)")
    header = data[0]
    if "CTY_CODE" not in header or not all(isinstance(name, str) for name in header):
        raise _error(
            request, f"first row is not a header row with CTY_CODE (no header?): {header[:6]}"
        )
    if len(data) < 2:
        raise _error(request, "header row but no data rows")
    for number, row in enumerate(data[1:], start=2):
        if len(row) != len(header):
            raise _error(request, f"row {number} has {len(row)} values, header has {len(header)}")
    return data


def _check_direction(request: FetchRequest, fields: list[str]) -> None:
    """The value fields must belong to the endpoint asked (exports → X, imports → M)."""
    expected = "X" if "/exports/" in request.url else "M" if "/imports/" in request.url else None
    wrong = [f for f in fields if expected and VALUE_FIELDS[f][0] != expected]
    if wrong:
        raise _error(request, f"value fields {wrong} do not belong to this endpoint")


def _period_from_year_month(year_at: int, month_at: int):
    def period(row: list[Any]) -> date:
        year, month = row[year_at], row[month_at]
        if not isinstance(year, str) or not isinstance(month, str):
            raise ValueError(f"YEAR={year!r} MONTH={month!r}")
        return date(int(year), int(month), 1)

    return period


def _period_from_time(time_at: int):
    def period(row: list[Any]) -> date:
        text = row[time_at]
        if not isinstance(text, str) or len(text) != 7 or text[4] != "-":
            raise ValueError(f"time={text!r} is not YYYY-MM")
        return date(int(text[:4]), int(text[5:]), 1)

    return period


def _check_window(request: FetchRequest, period: date, number: int) -> None:
    start, end = request.period_start, request.period_end
    if (start and period < start) or (end and period > end):
        raise _error(
            request, f"row {number}: month {period:%Y-%m} is outside the requested window"
        )


def _whole_usd(request: FetchRequest, text: Any, field: str, number: int) -> float:
    """A value string as whole USD (Decimal-checked: finite, non-negative, no fraction)."""
    if not isinstance(text, str):
        raise _error(request, f"row {number}: {field} is {text!r}, expected a number string")
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise _error(request, f"row {number}: {field} {text!r} is not a number") from None
    if not value.is_finite() or value < 0 or value != value.to_integral_value():
        raise _error(request, f"row {number}: {field} {text!r} is not a whole dollar amount")
    return float(value)


def _check_unique(request: FetchRequest, frame: pl.DataFrame) -> None:
    """No two rows may share the load key (e.g. CUSTOMS and CIF imports for one partner)."""
    key = [c for c in OBSERVATION_KEY if c in frame.columns]
    clashes = frame.filter(pl.struct(key).is_duplicated())
    if clashes.height:
        first = clashes.row(0, named=True)
        valuations = sorted(set(clashes.get_column("valuation").to_list()))
        raise _error(
            request,
            f"{clashes.height} rows share a load key {tuple(key)} (valuations {valuations}), e.g. "
            f"partner {first['partner']} {first['period_start']:%Y-%m} {first['commodity']}",
        )


def _check_world_total(request: FetchRequest, frame: pl.DataFrame) -> None:
    """Truncation checks of an all-partner answer (module docstring, "Truncation"): every month
    has its ``CTY_CODE "-"`` row, and per (month, flow, valuation) the Schedule C area rows
    (groupings left out) add up to it within :data:`WORLD_TOTAL_TOLERANCE`. Skipped when the
    request selects partners (``CTY_CODE``/``CTY_NAME`` predicate). Raises :class:`ParseError`."""
    if _PARTNER_PREDICATES & set(request.params) or frame.is_empty():
        return
    months = set(frame.get_column("period_start").unique().to_list())
    with_total = set(
        frame.filter(pl.col("partner") == WORLD).get_column("period_start").unique().to_list()
    )
    lacking = sorted(months - with_total)
    if lacking:
        raise _error(
            request,
            f"truncated: no CTY_CODE \"-\" (TOTAL FOR ALL COUNTRIES) row for "
            f"{', '.join(f'{m:%Y-%m}' for m in lacking)} among {frame.height} values",
        )
    key = ["period_start", "flow", "valuation"]
    areas = (pl.col("partner_kind") == "country") | (
        (pl.col("partner_kind") == "aggregate") & ~pl.col("partner").is_in(list(_GROUP_PARTNERS))
    )
    sums = (
        frame.group_by(key)
        .agg(
            world=pl.col("value").filter(pl.col("partner") == WORLD).sum(),
            areas=pl.col("value").filter(areas).sum(),
            rows=areas.sum(),
        )
        .filter((pl.col("areas") - pl.col("world")).abs() > WORLD_TOTAL_TOLERANCE * pl.col("world"))
        .sort(key)
    )
    if sums.height:
        row = sums.row(0, named=True)
        gap = row["areas"] - row["world"]
        share = f"{abs(gap) / row['world']:.4%}" if row["world"] else "of a zero total"
        raise _error(
            request,
            f"truncated or partial: the {row['rows']} Schedule C area rows of {row['period_start']:%Y-%m} "
            f"({row['flow']} {row['valuation']}) add up to {row['areas']:,.0f} USD, "
            f"{'short of' if gap < 0 else 'more than'} the CTY_CODE \"-\" world total "
            f"{row['world']:,.0f} by {abs(gap):,.0f} ({share}; tolerance "
            f"{WORLD_TOTAL_TOLERANCE:.3%}): rows were lost or altered"
            + (f"; {sums.height - 1} more month/flow/valuation(s) differ" if sums.height > 1 else ""),
        )


def _dataset_path(url: str) -> str:
    """``exports/hs`` from ``.../intltrade/exports/hs``."""
    parts = [p for p in url.rstrip("/").split("/") if p]
    return "/".join(parts[-2:])
