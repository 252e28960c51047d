"""IMF International Merchandise Trade Statistics (IMTS), SDMX 3.0 API.

IMTS replaced the IMF Direction of Trade Statistics (DOTS) when the old
``dataservices.imf.org`` service was retired in 2025 (docs/sources.md §3).

Request contract (:func:`plan`; evidence in docs/live_contracts.md §2)::

    GET {base}/data/dataflow/IMF.STA/IMTS/+/{COUNTRY}.{INDICATOR}.{COUNTERPART_COUNTRY}.{FREQUENCY}
        ?c[TIME_PERIOD]=ge:YYYY-MM-DD+le:YYYY-MM-DD&dimensionAtObservation=TIME_PERIOD
        &detail=full&includeHistory=false
    Accept: application/xml

``{base}`` is ``settings.base_url("imf")`` (default ``https://api.imf.org/external/sdmx/3.0``).

* **Path shape** — *confirmed*: the request recorded in OpenBB's cassette
  ``…direction_of_trade_fetcher_urllib3_v2.yaml`` @ ``1bd76a97`` (shared/data/real/PROVENANCE.md,
  imf/) and built by OpenBB-finance/OpenBB
  ``openbb_platform/providers/imf/openbb_imf/utils/query_builder.py`` @ ``5413cf62…``
  (``…/data/dataflow/{agency}/{flow}/+/{key}``; the ``+`` after ``IMTS/`` asks for the latest
  dataflow version; several codes in one key position are joined with ``+``).
* **Key order** ``COUNTRY.INDICATOR.COUNTERPART_COUNTRY.FREQUENCY`` — *confirmed*: OpenBB's
  ``build_url`` orders the key by each dimension's ``position`` in the dataflow's DSD
  (``IMF.STA:DSD_IMTS``), and the recorded request ``USA.XG_FOB_USD.G001+G998.A`` answers
  series whose attributes name those four dimensions in that order.
* **Query parameters** — *confirmed* (the recorded request): ``c[TIME_PERIOD]`` with
  ``ge:``/``le:`` ISO dates joined by ``+`` (SDMX-REST 2.0 component filter),
  ``dimensionAtObservation=TIME_PERIOD``, ``detail=full``, ``includeHistory=false``. We send
  ``le:`` the last day of the last month (OpenBB sends the first day of the next month; whether
  the IMF compares ``le`` with a period's start or end is *unverified*, the last day is safe
  either way). Periods in the answer are ``2024-M01`` (monthly, live_contracts §2.3,
  *consistent*) or ``2023`` (annual, recorded).
* **Accept: application/xml** — *confirmed*. Without an XML Accept (none, or ``*/*``) the SDMX 3.0
  API answers **SDMX-JSON 2.0** (an IMF engineer in khaeru/sdmx PR #225, 2025-03-03: "By default
  for SDMX 3.0 we return JSON"); OpenBB's ``fetch_data`` sends ``Accept: application/xml`` and the
  recorded answer is SDMX-ML 3.0 ``StructureSpecificData``. The header is part of the request
  (:attr:`FetchRequest.headers`), so it is archived with it.
* **No key** is needed for public data — *consistent*: the IMF staff's own client
  (aboddie/imfidata @ ``f8852b82``) sends none for public datasets, nor does OpenBB. An optional
  key (``settings.imf_api_key``) is sent by :func:`headers`.
* **Rate limits** — *unverified* (unofficial: about 50 requests/s per User-Agent): the HTTP layer
  sends a distinctive User-Agent and backs off on 429/503.
* **Monthly requests are split at the release calendar** (:mod:`flows.release_calendar`, rule
  ``imf``: about a quarter after the month, *assumed*): one request for the months expected by
  today, one for the months after it, so months that are not out yet are named as such.

Answers (:func:`interpret`, before the generic HTTP checks; each rule's confidence):

* A JSON body (SDMX-JSON 2.0, what the API sends without an XML Accept) is never handed to the
  XML parser: :class:`FetchError` naming the format — *confirmed* (see Accept above).
* "No data": HTTP 404, an SDMX error message with code ``100`` / "No Results Found" /
  ``NoResultsFound``, an empty body, or a ``StructureSpecificData`` without any ``Series`` —
  the SDMX-REST standard answers 404 with error 100 for an empty result (sdmx-twg/sdmx-rest
  ``v2_1/ws/rest/docs/4_7_errors.md``); which of these shapes ``api.imf.org`` sends is
  *unverified*, so all are read the same way. When the request's first month is not yet due
  (:func:`flows.release_calendar.is_due`) → :class:`NotYetReleased`; when it is due →
  :class:`MissingRelease`.
* Any other 4xx (except 401/403, left to the generic :class:`AuthError`, and 429) →
  :class:`RequestRefused` keeping the IMF's own message (SDMX-ML ``ErrorMessage`` text, SDMX-JSON
  ``errors[].title/detail``, ``message``, or the body text) — the status/body shapes are
  *unverified* (SDMX-REST: 400 + error 140 syntax / 150 semantic).

Response (:func:`parse`): SDMX-ML 3.0 ``StructureSpecificData``. ``Series`` elements carry the
key (``COUNTRY``, ``INDICATOR``, ``COUNTERPART_COUNTRY``, ``FREQUENCY``) and series attributes
(``SCALE``, ``OVERLAP``); ``Obs`` elements carry ``TIME_PERIOD``, ``OBS_VALUE`` and optionally
``DERIVATION_TYPE``; ``Group`` elements carry attributes shared by an indicator (``UNIT``,
``VALUATION``, ``TRADE_FLOW``) as ``<Comp id=".."><Value>..</Value></Comp>`` children
(recorded file ``imf/imts_sdmx3_data_USA_XG_FOB_USD_G001+G998_A_2023-2024.xml``).

Rules, with their sources:

* **Values are whole USD; ``SCALE`` is not applied.** ``SCALE="6"`` on every recorded series,
  yet US exports to G001 (World) in 2023 are ``OBS_VALUE="2019551635133"``, which equals the
  retired DOT figure ``2019551.635133`` (``@UNIT_MULT="6"``, millions) in
  ``imf/dot_compactdata_A_US_TXG_FOB_USD_W00+B0_2020-2023.json`` times 10^6. So ``SCALE`` is the
  display scale, not a multiplier (sources.md §3 "Trap"; the same reading of ``SCALE``, "how the
  IMF displays the value … the value itself is in units", is in chatilamoe/agora-skills
  ``skills/imf-data/references/endpoints.md``). DESIGN.md §4 makes this a convention.
* **Guard against the trap changing** (:func:`_check_scale`): when a series declares a
  non-zero ``SCALE`` and one of its values has more than :data:`MAX_DECIMALS_WHOLE_USD`
  decimals, the values look like they are written in the scaled unit (DOT wrote millions with up
  to six decimals: ``2019551.635133``; IMTS writes whole dollars as integers) and the parse
  fails rather than guess. A value above :data:`MAX_PLAUSIBLE_USD` (50 times the largest figure
  in the recorded file) also fails: such a figure was multiplied somewhere.
* **Indicators**: ``XG_FOB_USD`` → flow ``X``, valuation ``FOB``; ``MG_CIF_USD`` → flow ``M``,
  valuation ``CIF`` (sources.md §3; the recorded ``Group`` says ``TRADE_FLOW=XG``,
  ``VALUATION=FOB``, ``UNIT=USD`` for ``XG_FOB_USD``). ``TBG_USD`` (goods balance) is skipped:
  it is exports minus imports, derived in the SQL models from the two flows, and the canonical
  table has no balance flow. Any other indicator is a :class:`ParseError`.
* **Counterparts** (sources.md §3, availability file
  ``imf/imts_sdmx3_availability_USA_XG_FOB_USD_COUNTERPART_COUNTRY.json``): ``G001`` → ``WLD``
  (world); ``G998`` → ``EU27_2020`` — an **inference**, not an IMF statement: its 2023 value
  equals the DOT ``B0`` (European Union) series (369756760426 = 369756.760426 million); every
  other group code (``G`` + three digits, ``GX…`` regional, ``TX…`` residual/"not specified")
  is kept as ``IMF_<code>`` with ``partner_kind`` ``aggregate`` and never treated as a country;
  ``KOS`` (IMF's Kosovo) → ``XKX`` as in :func:`flows.reference.iso3_from_iso2`; ``WBG`` (West
  Bank and Gaza) → ``PSE`` (ISO 3166-1 "Palestine, State of"); every other code must be an ISO3
  country (:func:`flows.reference.is_country`), else :class:`UnknownCodeError`. Reporters
  (``COUNTRY``) are mapped the same way.
* **Periods**: frequency ``A`` with ``TIME_PERIOD`` ``2023`` → a year (12 months); ``M`` with
  ``2023-M01`` or ``2023-01`` → a month. Quarterly (``Q``) data raise :class:`ParseError`: the
  canonical table has no quarter period type, and summing or splitting quarters would be a guess.
  :func:`plan` only asks for ``A`` or ``M``.
* **Status** from ``DERIVATION_TYPE`` (IMF codelist ``CL_DERIVATION_TYPE``; codes and names as
  listed in chatilamoe/agora-skills ``skills/imf-data/references/endpoints.md``): absent, ``O``
  (reported official data), ``OU`` (official data converted to USD) and ``R`` (raw data) →
  ``reported``; ``M`` (mixed: partly derived by the IMF, e.g. from partner data), ``SE``,
  ``SEME``, ``SEHI`` (staff estimates), ``SP`` (staff projection), ``SC``, ``SCC`` (staff
  calculations), ``FA`` (adjusted with Fund records) and ``TPD`` (third-party data) →
  ``estimated``; any other code is a :class:`ParseError`. Every recorded observation is ``M``.
* An ``Obs`` without ``OBS_VALUE`` (or ``NaN``) is a placeholder, not a zero: no row.
  A ``Series`` without ``Obs`` yields no rows; a message without any ``Series`` is a
  :class:`ParseError` (the IMF answers HTTP 200 with an empty ``DataSet`` for unknown codes).
* A body that is JSON (SDMX-JSON 2.0) is a :class:`ParseError` naming the format, never an XML
  syntax error (archived answers are parsed again offline).
* ``vintage``: the ``DataSet``'s ``UPDATE_DATE`` or ``PUBLICATION_DATE`` when present, else the
  date of the message header's ``Prepared`` (when the IMF served it), else null.
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal, InvalidOperation

import polars as pl
from lxml import etree

from flows.reference import AGGREGATES, UnknownCodeError, is_country
from flows.release_calendar import is_due, latest_expected_month
from flows.schema import OBSERVATION_SCHEMA, WORLD, add_months, conform
from flows.sources.base import (
    Answer,
    FetchError,
    FetchRequest,
    MissingRelease,
    NotYetReleased,
    PlanContext,
    RequestRefused,
    SourceError,
    parse_error,
    xml_root,
)

NAME = "imf"

#: Dataflow path of IMTS in the SDMX 3.0 API (``+`` = latest version).
DATAFLOW = "IMF.STA/IMTS/+"

#: Indicators requested and parsed: code → (flow, valuation).
INDICATORS: dict[str, tuple[str, str]] = {
    "XG_FOB_USD": ("X", "FOB"),
    "MG_CIF_USD": ("M", "CIF"),
}
#: Indicators present in IMTS that are deliberately not loaded (see the module docstring).
IGNORED_INDICATORS = frozenset({"TBG_USD"})

#: IMF area codes with a fixed harmonised code: IMF code → (code, partner_kind).
AREA_OVERRIDES: dict[str, tuple[str, str]] = {
    "G001": (WORLD, "world"),
    "G998": ("EU27_2020", "aggregate"),  # inference: equals DOT B0 (European Union)
    "KOS": ("XKX", "country"),
    "WBG": ("PSE", "country"),
}
#: IMF group codes kept as ``IMF_<code>`` aggregates: G + 3 digits, GX…, TX….
AGGREGATE_CODE = re.compile(r"^(G\d{3}|GX\d+|TX\d+)$")
#: Prefix of the harmonised code of an IMF aggregate that has no project-wide code.
AGGREGATE_PREFIX = "IMF_"

#: DERIVATION_TYPE (IMF CL_DERIVATION_TYPE) → status.
DERIVATION_STATUS: dict[str, str] = {
    "O": "reported",
    "OU": "reported",
    "R": "reported",
    "M": "estimated",
    "SE": "estimated",
    "SEME": "estimated",
    "SEHI": "estimated",
    "SP": "estimated",
    "SC": "estimated",
    "SCC": "estimated",
    "FA": "estimated",
    "TPD": "estimated",
}

#: Most decimals a whole-USD value is allowed before its series is taken to be scaled.
MAX_DECIMALS_WHOLE_USD = 2
#: Largest plausible single figure in USD (50 × the 2023 US exports to the world, 2.02e12).
MAX_PLAUSIBLE_USD = Decimal("1e14")

#: The Accept header that gets SDMX-ML 3.0 StructureSpecificData (OpenBB's; see the docstring).
ACCEPT = "application/xml"
#: Header carrying the optional key (Azure API Management's default name; *unverified* for IMF).
KEY_HEADER = "Ocp-Apim-Subscription-Key"

RELEASE = "IMF IMTS (SDMX 3.0) IMF.STA/IMTS"
CURRENCY = "USD"
FREQUENCIES = ("A", "M")

MESSAGE_NS = "http://www.sdmx.org/resources/sdmxml/schemas/v3_0/message"
_MONTH = re.compile(r"^(\d{4})-M?(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")


# --------------------------------------------------------------------------------------- plan
def _imf_area(code: str) -> str:
    """The IMF area code for a harmonised ISO3/aggregate code (inverse of the overrides)."""
    for imf_code, (harmonised, _kind) in AREA_OVERRIDES.items():
        if harmonised == code:
            return imf_code
    if code.startswith(AGGREGATE_PREFIX) and AGGREGATE_CODE.match(code[len(AGGREGATE_PREFIX):]):
        return code[len(AGGREGATE_PREFIX):]
    if is_country(code):
        return code
    raise UnknownCodeError(NAME, code, kind="area")


def _published(code: str) -> bool:
    """False for another publisher's named aggregate that IMTS has no area for (``EA20``):
    skipped from the request rather than failing it. Unknown codes still raise in
    :func:`_imf_area`."""
    return not (code in AGGREGATES and code not in {h for h, _ in AREA_OVERRIDES.values()})


def _last_day(month_start: date) -> date:
    return date.fromordinal(add_months(month_start, 1).toordinal() - 1)


def _windows(ctx: PlanContext, frequency: str) -> list[tuple[date, date]]:
    """The request windows ``(first month, last month)``: for monthly data, split after the
    latest month the release calendar expects by today (see the module docstring)."""
    start = ctx.period_start.replace(day=1)
    end = ctx.period_end.replace(day=1)
    if frequency != "M":
        return [(start, end)]
    latest = latest_expected_month(
        NAME, ctx.settings.run_date(),
        overrides_file=str(ctx.settings.release_dates_file) if ctx.settings.release_dates_file else None,
    )
    if start <= latest < end:
        return [(start, latest), (add_months(latest, 1), end)]
    return [(start, end)]


def plan(ctx: PlanContext) -> list[FetchRequest]:
    """IMTS data requests covering every reporter, both indicators and all counterparts.

    URL ``{base}/data/dataflow/IMF.STA/IMTS/+/{R1+R2}.XG_FOB_USD+MG_CIF_USD.G001+{P1+P2}.{FREQ}``
    with params ``c[TIME_PERIOD]=ge:<first day of the window>+le:<last day of its last month>``,
    ``dimensionAtObservation=TIME_PERIOD``, ``detail=full``, ``includeHistory=false``; header
    ``Accept: application/xml``; ``expect`` ``"xml"``. Reporters and partners are ISO3
    (``WLD``/``EU27_2020`` are sent as ``G001``/``G998``); ``G001`` (world) is always requested.
    ``FREQ`` is ``ctx.options["imf_frequency"]`` (``"M"`` by default, or ``"A"``). ``meta``
    records the frequency, indicators and counterparts.

    One request for an annual run; a monthly run whose months straddle the latest month the
    release calendar expects by ``ctx.settings.run_date()`` gets two (the expected months, then
    the rest), so a "no data" answer for the rest reads as "not yet released".

    Named aggregates of other publishers that IMTS has no area for (``EA20``) are left out of
    the request. Raises :class:`ValueError` for no reporters or an unsupported frequency, and
    :class:`UnknownCodeError` for a code that is neither ISO3 nor a known area.
    """
    frequency = str(ctx.options.get("imf_frequency", "M")).upper()
    if frequency not in FREQUENCIES:
        raise ValueError(f"{NAME}: imf_frequency must be one of {FREQUENCIES}, got {frequency!r}")
    if not ctx.reporters:
        raise ValueError(f"{NAME}: plan needs at least one reporter (ISO3)")
    reporters = list(dict.fromkeys(_imf_area(r) for r in ctx.reporters if _published(r)))
    if not reporters:
        return []
    counterparts = list(
        dict.fromkeys(["G001", *(_imf_area(p) for p in ctx.partners if _published(p))])
    )
    indicators = list(INDICATORS)
    key = ".".join(["+".join(reporters), "+".join(indicators), "+".join(counterparts), frequency])
    return [
        FetchRequest(
            source=NAME,
            url=f"{ctx.settings.base_url(NAME)}/data/dataflow/{DATAFLOW}/{key}",
            params={
                "c[TIME_PERIOD]": f"ge:{start.isoformat()}+le:{_last_day(end).isoformat()}",
                "dimensionAtObservation": "TIME_PERIOD",
                "detail": "full",
                "includeHistory": "false",
            },
            expect="xml",
            reporter=reporters[0] if len(reporters) == 1 else None,
            period_start=start,
            period_end=end,
            meta={"frequency": frequency, "indicators": indicators, "counterparts": counterparts},
            headers={"Accept": ACCEPT},
        )
        for start, end in _windows(ctx, frequency)
    ]


def headers(settings) -> dict[str, str]:
    """``{"Ocp-Apim-Subscription-Key": <key>}`` when ``settings.imf_api_key`` is set, else ``{}``.

    Public IMTS data need no key (*consistent*: the IMF staff's client aboddie/imfidata @
    ``f8852b82`` and OpenBB send none; the recorded request used none). The header name is
    *unverified*: it is Azure API Management's default subscription header, which the IMF's
    developer portal (``portal.api.imf.org``) is built on; the only public code found using it with
    the IMF is an exploratory probe script (file-index id 62205801688) that records no outcome.
    The key is added at send time by the HTTP layer and never archived.
    """
    key = getattr(settings, "imf_api_key", None)
    if key is None:
        return {}
    value = key.get_secret_value() if hasattr(key, "get_secret_value") else str(key)
    return {KEY_HEADER: value} if value else {}


# ------------------------------------------------------------------------------------ answers
_NO_RESULTS = re.compile(r"no\s*results?\s*found|noresultsfound|no\s*records?\s*found", re.I)


def _looks_json(answer: Answer) -> bool:
    head = answer.body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return head in (b"{", b"[") or "json" in answer.content_type.lower()


def _imf_message(answer: Answer) -> tuple[str | None, str]:
    """``(code, message)`` of an IMF error answer, in its own words (SDMX-ML ``ErrorMessage``,
    SDMX-JSON ``errors``, ``message``/``detail`` fields, or the body text)."""
    body = answer.body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if body.startswith(b"<"):
        try:
            root = etree.fromstring(
                body, etree.XMLParser(resolve_entities=False, no_network=True)
            )
        except (etree.XMLSyntaxError, ValueError):
            return None, answer.text()
        for element in root.iter("{*}ErrorMessage"):
            text = " ".join(t.strip() for t in element.itertext() if t.strip())
            return element.get("code"), text or answer.text()
        return None, " ".join(t.strip() for t in root.itertext() if t.strip())[:300]
    if body.startswith(b"{"):
        try:
            data = json.loads(body)
        except ValueError:
            return None, answer.text()
        errors = data.get("errors") if isinstance(data, dict) else None
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            parts = [str(first[k]) for k in ("title", "detail") if first.get(k)]
            code = first.get("code")
            return (str(code) if code is not None else None), " ".join(parts) or answer.text()
        if isinstance(data, dict):
            for field_name in ("message", "detail", "title", "error"):
                if data.get(field_name):
                    return None, str(data[field_name])
    return None, answer.text()


def _empty_kind(answer: Answer) -> str | None:
    """``"StructureSpecificData"`` for an XML data message without any ``Series`` (an empty
    result), ``"Error"`` for an SDMX error message, else None (data, or not XML)."""
    if b"<Series" in answer.body or b":Series" in answer.body:
        return None
    try:
        root = etree.fromstring(
            answer.body, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
        )
    except (etree.XMLSyntaxError, ValueError):
        return None
    kind = etree.QName(root).localname
    return kind if kind in ("StructureSpecificData", "Error") else None


def _no_data(answer: Answer, message: str) -> SourceError:
    """NotYetReleased before the release calendar expects the request's first month (plus
    grace), MissingRelease after."""
    request = answer.request
    first = request.period_start or request.period_end
    annual = request.meta.get("frequency") == "A"
    # a year is due once its December is; a month once the month is
    due_month = first.replace(month=12) if (annual and first is not None) else first
    if first is not None and not is_due(NAME, due_month, answer.today, annual=annual):
        return NotYetReleased(
            NAME, answer.what,
            f"no IMTS data yet for {first:%Y-%m} onwards (IMF answered: {message}); the release "
            "calendar does not expect it yet",
            period=first,
        )
    return MissingRelease(
        NAME, answer.what,
        f"the IMF has no data for a period the release calendar says is out (IMF answered: "
        f"{message})",
    )


def interpret(answer: Answer) -> SourceError | None:
    """The IMF's own reading of an answer (rules and evidence in the module docstring).

    Returns :class:`FetchError` for an SDMX-JSON body (the request lacked the XML Accept),
    :class:`NotYetReleased` / :class:`MissingRelease` for "no data" (404, SDMX error 100, an empty
    body or a message without Series), :class:`RequestRefused` with the IMF's message for any
    other 4xx except 401/403/429, else ``None`` (generic checks: auth, retries, HTML).
    """
    status = answer.status
    if status in (401, 403, 429) or status >= 500:
        return None
    empty_kind = None if _looks_json(answer) else _empty_kind(answer)
    if status == 200 and not _looks_json(answer) and empty_kind is None and answer.body.strip():
        return None  # a data message (or something for the parser to judge)
    code, message = _imf_message(answer)
    no_results = bool(_NO_RESULTS.search(message)) or code == "100"
    if status == 200 and _looks_json(answer) and not no_results:
        return FetchError(
            NAME, answer.what,
            "the IMF answered SDMX-JSON 2.0 (Content-Type "
            f"{answer.content_type or 'not given'!r}), not SDMX-ML: the SDMX 3.0 API sends JSON "
            f"unless the request asks for XML (sent Accept: "
            f"{answer.request.headers.get('Accept', 'none')!r}; needed {ACCEPT!r}); not parsed",
        )
    if status == 404 or (status == 200 and (no_results or not answer.body.strip())):
        if status == 404 and answer.body.strip() and not no_results:
            return RequestRefused(
                NAME, answer.what, f"HTTP 404: {message}", status=404, code=code, message=message
            )
        return _no_data(answer, message or f"HTTP {status} with an empty body")
    if status == 200 and empty_kind == "StructureSpecificData":
        return _no_data(answer, "a StructureSpecificData message without any Series")
    if 400 <= status < 500 or status == 200:  # a 4xx, or an SDMX error message in a 200
        return RequestRefused(
            NAME, answer.what, f"HTTP {status}: the IMF refused the request: {message}",
            status=status, code=code, message=message,
        )
    return None


# -------------------------------------------------------------------------------------- parse
def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def area(code: str) -> tuple[str, str]:
    """Harmonised ``(code, partner_kind)`` for an IMF IMTS area code (see the module rules).

    ``G001`` → ``("WLD", "world")``; ``G998`` → ``("EU27_2020", "aggregate")``; ``GX405`` →
    ``("IMF_GX405", "aggregate")``; ``CHN`` → ``("CHN", "country")``. Raises
    :class:`UnknownCodeError` for anything else.
    """
    code = code.strip()
    if code in AREA_OVERRIDES:
        return AREA_OVERRIDES[code]
    if AGGREGATE_CODE.match(code):
        return f"{AGGREGATE_PREFIX}{code}", "aggregate"
    if is_country(code):
        return code, "country"
    raise UnknownCodeError(NAME, code)


def _period(request: FetchRequest, frequency: str, text: str) -> tuple[date, date, int, str]:
    """``(period_start, period_end, months, period_type)`` for an IMTS ``TIME_PERIOD``."""
    if frequency == "A":
        match = _YEAR.match(text)
        if match:
            year = int(match.group(1))
            return date(year, 1, 1), date(year, 12, 1), 12, "year"
    elif frequency == "M":
        match = _MONTH.match(text)
        if match and 1 <= int(match.group(2)) <= 12:
            start = date(int(match.group(1)), int(match.group(2)), 1)
            return start, start, 1, "month"
    raise parse_error(request, f"TIME_PERIOD {text!r} does not match FREQUENCY {frequency!r}")


def _decimal(request: FetchRequest, text: str, where: str) -> Decimal | None:
    """OBS_VALUE as a Decimal; None for the SDMX missing marker ``NaN``."""
    if text.strip().lower() == "nan":
        return None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise parse_error(request, f"{where}: OBS_VALUE {text!r} is not a number") from None
    if not value.is_finite():
        raise parse_error(request, f"{where}: OBS_VALUE {text!r} is not finite")
    return value


def _check_scale(
    request: FetchRequest, where: str, scale: str | None, values: list[Decimal]
) -> None:
    """Fail when a series' values do not look like whole USD (the SCALE trap guard)."""
    for value in values:
        if value > MAX_PLAUSIBLE_USD:
            raise parse_error(
                request, f"{where}: OBS_VALUE {value} USD is implausibly large (values scaled?)"
            )
    if scale in (None, "", "0"):
        return
    for value in values:
        exponent = value.normalize().as_tuple().exponent
        decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        if decimals > MAX_DECIMALS_WHOLE_USD:
            raise parse_error(
                request,
                f"{where}: SCALE={scale} and OBS_VALUE {value} has {decimals} decimals: the values "
                "look written in the scaled unit, not whole USD (IMTS wrote whole USD despite "
                "SCALE=6 when recorded); check the IMF message before loading",
            )


def _group_attributes(dataset: etree._Element) -> list[dict[str, str]]:
    """Each Group's XML attributes plus its ``Comp`` values (single-valued)."""
    groups = []
    for group in dataset:
        if _local(group.tag) != "Group":
            continue
        attrs = {etree.QName(k).localname: v for k, v in group.attrib.items()}
        for comp in group:
            if _local(comp.tag) == "Comp" and comp.get("id"):
                values = [v.text or "" for v in comp if _local(v.tag) == "Value"]
                attrs[comp.get("id")] = values[0] if len(values) == 1 else "+".join(values)
        groups.append(attrs)
    return groups


def _check_groups(
    request: FetchRequest, groups: list[dict[str, str]], indicator: str, valuation: str
) -> None:
    """Group attributes for ``indicator`` must agree with the indicator's unit and valuation."""
    for attrs in groups:
        if attrs.get("INDICATOR") != indicator:
            continue
        if attrs.get("UNIT", CURRENCY) != CURRENCY:
            raise parse_error(
                request, f"{indicator}: Group UNIT is {attrs['UNIT']!r}, expected {CURRENCY}"
            )
        if attrs.get("VALUATION", valuation) != valuation:
            raise parse_error(
                request,
                f"{indicator}: Group VALUATION is {attrs['VALUATION']!r}, expected {valuation}",
            )


def _vintage(request: FetchRequest, root: etree._Element, dataset: etree._Element) -> date | None:
    candidates = [dataset.get("UPDATE_DATE"), dataset.get("PUBLICATION_DATE")]
    candidates += [element.text for element in root.iter("{*}Prepared")]
    for text in candidates:
        text = (text or "").strip()
        if text:
            try:
                return date.fromisoformat(text[:10])
            except ValueError:
                raise parse_error(request, f"release/prepared date {text!r} is not ISO") from None
    return None


def _root(body: bytes, request: FetchRequest) -> etree._Element:
    if body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
        raise parse_error(
            request,
            "the body is JSON (SDMX-JSON 2.0, what the IMF sends without an XML Accept), not "
            "SDMX-ML 3.0; request it with Accept: application/xml",
        )
    root = xml_root(body, request)
    qname = etree.QName(root)
    if qname.localname == "Error":
        text = " ".join(t.strip() for t in root.itertext() if t.strip())
        raise parse_error(request, f"SDMX error message instead of data: {text[:300]}")
    if qname.localname != "StructureSpecificData" or qname.namespace != MESSAGE_NS:
        raise parse_error(
            request,
            f"expected SDMX-ML 3.0 StructureSpecificData, got root {qname.localname!r} "
            f"in namespace {qname.namespace!r}",
        )
    return root


def parse(body: bytes, request: FetchRequest) -> pl.DataFrame:
    """Canonical observations from one IMTS SDMX-ML 3.0 StructureSpecificData message.

    Returns :data:`flows.schema.OBSERVATION_SCHEMA`: one row per observation of an
    ``XG_FOB_USD`` (flow ``X``, ``FOB``) or ``MG_CIF_USD`` (flow ``M``, ``CIF``) series;
    ``value`` float64 in whole USD (``OBS_VALUE`` as published, **not** multiplied by
    10^``SCALE``), ``currency`` ``USD``, ``commodity`` ``TOTAL``, ``reporter``/``partner``
    harmonised by :func:`area`, ``status`` from ``DERIVATION_TYPE``, ``release``
    :data:`RELEASE`, ``published_yoy`` null. Rules and their sources: module docstring.

    Raises :class:`ParseError` (naming the request) for malformed XML, a message that is not
    SDMX-ML 3.0 StructureSpecificData, no ``DataSet``/``Series``, a series without its key
    attributes, an unknown indicator, quarterly or mismatched periods, non-numeric or negative
    values, values that look scaled, an unknown ``DERIVATION_TYPE``, a contradicting ``Group``
    unit/valuation, or duplicate observations; :class:`UnknownCodeError` for an area code that
    is neither ISO3 nor a known IMF group.
    """
    root = _root(body, request)
    datasets = [e for e in root if _local(e.tag) == "DataSet"]
    if not datasets:
        raise parse_error(request, "StructureSpecificData message has no DataSet")
    rows: list[dict] = []
    series_count = 0
    for dataset in datasets:
        groups = _group_attributes(dataset)
        vintage = _vintage(request, root, dataset)
        for series in dataset:
            if _local(series.tag) != "Series":
                continue
            series_count += 1
            rows.extend(_series_rows(request, series, groups, vintage))
    if not series_count:
        raise parse_error(request, "the DataSet holds no Series (unknown codes or no data)")
    frame = pl.DataFrame(rows, schema=OBSERVATION_SCHEMA)
    duplicated = frame.filter(
        pl.struct("reporter", "partner", "flow", "period_start", "period_end").is_duplicated()
    )
    if duplicated.height:
        raise parse_error(
            request, f"duplicate observations, e.g. {duplicated.row(0, named=True)}"
        )
    return conform(frame, context=f"{NAME}: {request.describe()}")


def _series_rows(
    request: FetchRequest,
    series: etree._Element,
    groups: list[dict[str, str]],
    vintage: date | None,
) -> list[dict]:
    attrs = {etree.QName(k).localname: v for k, v in series.attrib.items()}
    missing = [
        k for k in ("COUNTRY", "INDICATOR", "COUNTERPART_COUNTRY", "FREQUENCY") if not attrs.get(k)
    ]
    if missing:
        raise parse_error(request, f"Series {attrs} lacks key attributes {missing}")
    indicator = attrs["INDICATOR"]
    where = (
        f"series {attrs['COUNTRY']}.{indicator}.{attrs['COUNTERPART_COUNTRY']}.{attrs['FREQUENCY']}"
    )
    if indicator in IGNORED_INDICATORS:
        return []
    if attrs["FREQUENCY"] not in FREQUENCIES:
        raise parse_error(
            request,
            f"{where}: FREQUENCY {attrs['FREQUENCY']!r} is not supported (only A and M; quarters "
            "have no canonical period type and are neither split nor summed)",
        )
    if indicator not in INDICATORS:
        raise parse_error(request, f"{where}: unknown INDICATOR {indicator!r}")
    flow, valuation = INDICATORS[indicator]
    _check_groups(request, groups, indicator, valuation)
    reporter, _ = area(attrs["COUNTRY"])
    partner, kind = area(attrs["COUNTERPART_COUNTRY"])

    parsed: list[tuple[etree._Element, Decimal]] = []
    for obs in series:
        if _local(obs.tag) != "Obs":
            continue
        text = obs.get("OBS_VALUE")
        if text is None or not text.strip():
            continue  # placeholder observation: missing, not zero
        value = _decimal(request, text, f"{where} {obs.get('TIME_PERIOD')}")
        if value is None:
            continue
        if value < 0:
            raise parse_error(request, f"{where} {obs.get('TIME_PERIOD')}: negative {value}")
        parsed.append((obs, value))
    _check_scale(request, where, attrs.get("SCALE"), [v for _, v in parsed])

    rows = []
    for obs, value in parsed:
        time_period = obs.get("TIME_PERIOD")
        if not time_period:
            raise parse_error(request, f"{where}: Obs without TIME_PERIOD")
        start, end, months, period_type = _period(request, attrs["FREQUENCY"], time_period)
        derivation = obs.get("DERIVATION_TYPE")
        if derivation is None or not derivation.strip():
            status = "reported"
        elif derivation.strip() in DERIVATION_STATUS:
            status = DERIVATION_STATUS[derivation.strip()]
        else:
            raise parse_error(
                request, f"{where} {time_period}: unknown DERIVATION_TYPE {derivation!r}"
            )
        rows.append(
            {
                "source": NAME,
                "reporter": reporter,
                "partner": partner,
                "partner_kind": kind,
                "flow": flow,
                "period_start": start,
                "period_end": end,
                "months": months,
                "period_type": period_type,
                "commodity": "TOTAL",
                "value": float(value),
                "currency": CURRENCY,
                "valuation": valuation,
                "status": status,
                "published_yoy": None,
                "release": RELEASE,
                "vintage": vintage,
            }
        )
    return rows
