"""UN Comtrade API v1: merchandise trade by reporter, partner, flow and period (sources.md §1).

Endpoints (under the configured base URL, default ``https://comtradeapi.un.org``):

* keyed ``/data/v1/get/C/{freq}/HS`` — at most 100 000 records per call, anything past that is cut
  off silently (sources.md §1 "Auth and limits"); the key is sent in the
  ``Ocp-Apim-Subscription-Key`` header (:func:`headers`), never in the query string;
* keyless ``/public/v1/preview/C/{freq}/HS`` — capped at 500 records (comtradeapicall README).

Response: JSON ``{elapsedTime, count, data: [record, ...], error}`` (extra top-level keys are
tolerated). :func:`parse` turns the publisher's *total* rows into canonical observations
(:data:`flows.schema.OBSERVATION_SCHEMA`).

Area codes (DESIGN.md §4 "Keys", sources.md §1 "Code system" and §7). Comtrade's numeric area
codes are close to ISO 3166-1 numeric / M49 but not the same; the table is kept here, in code
(taken from Comtrade's ``Reporters.json`` and ``partnerAreas.json`` reference files):

* :data:`AREA_OVERRIDES` — the Comtrade code chosen for each ISO3 key where ISO numeric differs:
  842 → ``USA`` (USA, Puerto Rico and US Virgin Islands), 699 → ``IND``, 251 → ``FRA`` (with
  Monaco), 757 → ``CHE`` (with Liechtenstein), 579 → ``NOR``, 490 "Other Asia, nes" (``S19``)
  → ``TWN``, 412 Kosovo → ``XKX`` (as :func:`flows.reference.iso3_from_iso2` does) and
  0 (``W00``) → ``WLD``;
* :data:`COMTRADE_AREAS` — every other Comtrade area that is not one current ISO 3166-1 country:
  groups (97 European Union ``EUR``, 975 ASEAN), residual "nes" areas (568 ``E19``, 899 ``_X``),
  special categories (837 ``X1`` bunkers, 838 free zones, 839 special categories), former
  territories whose ISO3 now names a different territory (280 Fed. Rep. of Germany to 1990 —
  Comtrade labels it ``DEU``, but it is not today's Germany 276 —, 278, 810, 890, 891, 200,
  841, 868, ...) and alternative territorial definitions of a country whose key uses another
  code (840 United States of America, 250 Metropolitan France, 756, 578, 158, 356). Each is
  kept as its own named aggregate ``COMTRADE_<numeric code>`` with ``partner_kind``
  ``aggregate`` — never merged into a country and never summed with countries. The numeric code
  is used because Comtrade's ISO-like aliases are not unique (473 and 636 are both ``A79``).
  Comtrade's EU (97) and ASEAN (975) are not mapped to ``EU27_2020``/``ASEAN`` because their
  membership follows the reference year;
* any other code is looked up as ISO 3166-1 numeric with :mod:`pycountry`;
* anything else raises :class:`flows.reference.UnknownCodeError`.

When a record carries ``reporterISO``/``partnerISO`` (``includeDesc=true``) it is checked against
the code's expected Comtrade ISO (padding such as ``"X1 "`` stripped); a disagreement means the
code table changed and raises :class:`ParseError`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import polars as pl
import pycountry

from flows.reference import AGGREGATES, UnknownCodeError
from flows.schema import OBSERVATION_SCHEMA, WORLD, add_months, conform, empty_observations
from flows.sources.base import FetchRequest, PlanContext, parse_error

NAME = "comtrade"

#: Records one keyed ``data/v1/get`` call returns at most (sources.md §1; comtradr
#: ``R/ct_process_response.R`` warns at exactly 100k rows).
DATA_API_CAP = 100_000
#: Records the keyless ``public/v1/preview`` endpoint returns at most (comtradeapicall README).
PREVIEW_CAP = 500
#: Periods per call: 12 months (one year) for monthly data, 12 years for annual data
#: (comtradr ``R/ct_get_data.R``).
MAX_PERIODS_PER_CALL = 12

#: Flows requested (exports, imports). Re-exports/re-imports (RX/RM) are parsed as separate memo
#: flows when a payload carries them, never added to X/M.
REQUESTED_FLOWS: tuple[str, ...] = ("X", "M")
#: Valuation of ``primaryValue`` by flow: CIF for imports, FOB for exports (sources.md §1
#: "Units and valuation"; the recorded China rows fill ``cifvalue`` for M and ``fobvalue`` for X).
FLOW_VALUATION: dict[str, str] = {"X": "FOB", "M": "CIF", "RX": "FOB", "RM": "CIF"}

#: Partners asked for when a run names none: a fixed set of China's large trading partners plus
#: China itself (so peer reporters' trade with China is covered). Not a ranking; the reporter is
#: left out of its own default list. World (partner 0) is always requested in addition.
DEFAULT_PARTNERS: tuple[str, ...] = (
    "CHN", "USA", "HKG", "JPN", "KOR", "TWN", "VNM", "DEU", "IND", "AUS", "RUS", "MYS", "BRA",
    "NLD",
)  # fmt: skip

#: Comtrade code → ISO3 key (or ``WLD``) where the ISO 3166-1 numeric lookup would be wrong,
#: with the ISO-like code Comtrade prints for it in ``reporterISO``/``partnerISO``.
AREA_OVERRIDES: dict[int, tuple[str, str]] = {
    0: (WORLD, "W00"),
    842: ("USA", "USA"),
    699: ("IND", "IND"),
    251: ("FRA", "FRA"),
    757: ("CHE", "CHE"),
    579: ("NOR", "NOR"),
    490: ("TWN", "S19"),
    412: ("XKX", "_KS"),
}

#: Comtrade areas kept as named aggregates ``COMTRADE_<code>``: code → (Comtrade ISO, name), from
#: Comtrade's Reporters.json and partnerAreas.json (reference/comtrade_* in shared/data/real).
COMTRADE_AREAS: dict[int, tuple[str, str]] = {
    58: ("BEL", "Belgium-Luxembourg (...1998)"),
    80: ("ATB", "Br. Antarctic Terr."),
    97: ("EUR", "European Union"),
    129: ("A49", "Caribbean, nes"),
    158: ("TWN", "Taiwan, Province of China (Comtrade reports Taiwan as 490)"),
    200: ("CSK", "Czechoslovakia (...1992)"),
    221: ("E29", "Eastern Europe, nes"),
    230: ("ETH", "Ethiopia (...1992)"),
    250: ("FRA", "Metropolitan France (France is 251, with Monaco)"),
    278: ("DDR", "Dem. Rep. of Germany (...1990)"),
    280: ("DEU", "Fed. Rep. of Germany (...1990)"),
    290: ("F49", "Northern Africa, nes"),
    356: ("IND", "India (...1974)"),
    457: ("_SK", "Sarawak"),
    459: ("_PM", "Peninsula Malaysia (...1963)"),
    461: ("_SH", "Sabah (...1963)"),
    471: ("R91", "CACM, nes"),
    472: ("_AC", "Africa CAMEU region, nes"),
    473: ("A79", "LAIA, nes"),
    488: ("_MI", "Midway Islands"),
    527: ("O19", "Oceania, nes"),
    530: ("ANT", "Netherlands Antilles (...2010)"),
    532: ("ANT", "Netherlands Antilles and Aruba (...1985)"),
    536: ("NTZ", "Neutral Zone"),
    568: ("E19", "Other Europe, nes"),
    577: ("F19", "Other Africa, nes"),
    578: ("NOR", "Norway, excluding Svalbard and Jan Mayen (Norway is 579)"),
    582: ("PCI", "Pacific Isds (...1991)"),
    588: ("PAK", "East and West Pakistan (...1971)"),
    590: ("PAN", "Panama, excl.Canal Zone (...1977)"),
    592: ("PCZ", "Panama-Canal-Zone (...1977)"),
    636: ("A79", "Rest of America, nes"),
    637: ("A59", "North America and Central America, nes"),
    647: ("_RI", "Ryukyu Isd"),
    658: ("KNA", "Saint Kitts, Nevis and Anguilla (...1980)"),
    697: ("R20", "Europe EFTA, nes"),
    698: ("_SM", "Sikkim, Protectorate of India (...1974)"),
    711: ("ZA1", "Southern African Customs Union (...1999)"),
    717: ("_RN", "Rhodesia Nyas (...1964)"),
    720: ("YMD", "Dem. Yemen (...1990)"),
    736: ("SDN", "Sudan (...2011)"),
    756: ("CHE", "Switzerland (Comtrade's Switzerland is 757)"),
    810: ("SUN", "USSR (...1990)"),
    830: ("_CI", "Channel Islands"),
    835: ("_TK", "Tanganyika (...1964)"),
    836: ("_ZP", "Zanzibar and Pemba Isd (...1964)"),
    837: ("X1", "Bunkers"),
    838: ("X2", "Free Zones"),
    839: ("XX", "Special Categories"),
    840: ("USA", "United States of America (Comtrade's USA is 842, with PR and VI)"),
    841: ("USA", "USA and Puerto Rico (...1980)"),
    849: ("PUS", "US Misc. Pacific Isds"),
    866: ("VDR", "Dem. Rep. of Vietnam (...1974)"),
    868: ("VNM", "Rep. of Vietnam (...1974)"),
    872: ("_WI", "Wake Island"),
    879: ("F97", "Western Asia, nes"),
    886: ("YEM", "Arab Rep. of Yemen (...1990)"),
    890: ("YUG", "Yugoslavia (...1991)"),
    891: ("SCG", "Serbia and Montenegro (...2005)"),
    899: ("_X", "Areas, nes"),
    975: ("R4", "ASEAN"),
}

AGGREGATE_PREFIX = "COMTRADE_"

_CMD_CODE = re.compile(r"^(TOTAL|\d{2}|\d{4}|\d{6})$")


# --------------------------------------------------------------------------------------------
# codes


def comtrade_area(code: int | str, iso: str | None = None, *, kind: str = "partner") -> tuple[str, str]:
    """Harmonised key and kind of a Comtrade area code: ``(key, partner_kind)``.

    ``key`` is an ISO3 code, ``WLD`` or ``COMTRADE_<code>``; ``partner_kind`` is ``country``,
    ``world`` or ``aggregate`` (see the module docstring for the rules). ``iso`` is the record's
    ``reporterISO``/``partnerISO`` if present; it is checked against the code.

    Raises :class:`UnknownCodeError` (source ``comtrade``, ``kind`` reporter/partner) for a code
    with no mapping, :class:`ValueError` when ``iso`` contradicts the code.
    """
    try:
        number = int(str(code).strip())
    except ValueError:
        raise UnknownCodeError(NAME, str(code), kind) from None
    if number in AREA_OVERRIDES:
        key, expected = AREA_OVERRIDES[number]
        accepted = {expected, key}
        result = (key, "world" if key == WORLD else "country")
    elif number in COMTRADE_AREAS:
        expected = COMTRADE_AREAS[number][0]
        accepted = {expected}
        result = (f"{AGGREGATE_PREFIX}{number}", "aggregate")
    else:
        country = pycountry.countries.get(numeric=f"{number:03d}") if number >= 0 else None
        if country is None:
            raise UnknownCodeError(NAME, str(code), kind)
        accepted = {country.alpha_3}
        result = (country.alpha_3, "country")
    if iso is not None and str(iso).strip() and str(iso).strip() not in accepted:
        raise ValueError(
            f"{kind} code {number} is printed with ISO {iso!r}, expected {sorted(accepted)} "
            "(Comtrade's code table changed?)"
        )
    return result


def comtrade_code(key: str, *, kind: str = "partner") -> int:
    """The Comtrade area code to request for an ISO3 key, ``WLD`` or ``COMTRADE_<code>``.

    ``USA`` → 842, ``IND`` → 699, ``FRA`` → 251, ``CHE`` → 757, ``NOR`` → 579, ``TWN`` → 490,
    ``WLD`` → 0, other ISO3 codes → their ISO 3166-1 numeric code. Raises
    :class:`UnknownCodeError` for anything else (e.g. ``EU27_2020``, which Comtrade lacks).
    """
    text = key.strip().upper()
    for number, (target, _) in AREA_OVERRIDES.items():
        if target == text:
            return number
    if text.startswith(AGGREGATE_PREFIX):
        suffix = text.removeprefix(AGGREGATE_PREFIX)
        if suffix.isdigit() and int(suffix) in COMTRADE_AREAS:
            return int(suffix)
        raise UnknownCodeError(NAME, key, kind)
    country = pycountry.countries.get(alpha_3=text) if len(text) == 3 else None
    if country is None or int(country.numeric) in COMTRADE_AREAS:
        raise UnknownCodeError(NAME, key, kind)
    return int(country.numeric)


# --------------------------------------------------------------------------------------------
# plan


def headers(settings: Any) -> dict[str, str]:
    """``{"Ocp-Apim-Subscription-Key": key}`` when ``settings.comtrade_api_key`` is set, else ``{}``."""
    key = getattr(settings, "comtrade_api_key", None)
    if key is None:
        return {}
    secret = key.get_secret_value() if hasattr(key, "get_secret_value") else str(key)
    return {"Ocp-Apim-Subscription-Key": secret} if secret else {}


def plan(ctx: PlanContext) -> list[FetchRequest]:
    """The Comtrade data requests for a run: one per reporter × period chunk (× partner group).

    * Endpoint: ``{base}/data/v1/get/C/{freq}/HS`` with a key, else
      ``{base}/public/v1/preview/C/{freq}/HS`` (keyless, 500 records; ``maxRecords=500`` is sent).
      ``base`` is ``ctx.settings.base_url("comtrade")``.
    * ``freq`` = ``ctx.options["comtrade_frequency"]``: ``"M"`` (default) or ``"A"``. Monthly
      periods are comma lists of ``YYYYMM``, annual of ``YYYY``; at most 12 per call, fewer when
      the expected records (partners × 2 flows × commodities × periods) would reach the
      endpoint's cap. Partners are split into groups only if one period alone would reach it.
    * Pinned params: ``reporterCode``, ``partnerCode`` (``0`` = World, then each partner),
      ``partner2Code=0``, ``period``, ``cmdCode`` (``TOTAL`` or
      ``ctx.options["comtrade_cmd_codes"]``: HS codes of 2, 4 or 6 digits as strings),
      ``flowCode=X,M``, ``motCode=0``, ``customsCode=C00``, ``includeDesc=true``,
      ``breakdownMode=classic`` — so only the publisher's total rows are asked for.
    * ``ctx.partners`` empty → World plus :data:`DEFAULT_PARTNERS` (without the reporter).
    * Reporters that are not countries (``EU27_2020``, ``EA20``: aggregates of other publishers)
      are skipped; Comtrade's own groups follow each year's membership.
    * Each request: ``expect="json"``, ``reporter`` = the ISO3 key, ``period_start``/``period_end``
      the first and last month covered (annual: January of the first year to December of the
      last), ``meta={"freq", "type": "C", "classification": "HS"}``.

    Raises :class:`ValueError` for a bad option or period window, :class:`UnknownCodeError` for a
    reporter or partner with no Comtrade code.
    """
    freq = str(ctx.options.get("comtrade_frequency", "M")).strip().upper()
    if freq not in ("M", "A"):
        raise ValueError(f"comtrade_frequency must be 'M' or 'A', got {freq!r}")
    if ctx.period_end < ctx.period_start:
        raise ValueError(f"period_end {ctx.period_end} is before period_start {ctx.period_start}")
    cmd_codes = _cmd_codes(ctx.options.get("comtrade_cmd_codes"))
    keyed = bool(headers(ctx.settings))
    base = ctx.settings.base_url(NAME)
    if keyed:
        url, cap, extra = f"{base}/data/v1/get/C/{freq}/HS", DATA_API_CAP, {}
    else:
        url = f"{base}/public/v1/preview/C/{freq}/HS"
        cap, extra = PREVIEW_CAP, {"maxRecords": str(PREVIEW_CAP)}

    periods = _periods(ctx.period_start, ctx.period_end, freq)
    requests: list[FetchRequest] = []
    for reporter in ctx.reporters:
        if reporter in AGGREGATES:
            # Named aggregates of other publishers (EU27_2020, EA20): Comtrade's own groups
            # (97 EU, …) follow each year's membership, so they are not asked for in their place.
            continue
        reporter_code = comtrade_code(reporter, kind="reporter")
        partner_codes = _partner_codes(reporter, ctx.partners)
        per_partner = len(REQUESTED_FLOWS) * len(cmd_codes)
        group_size = (cap - 1) // per_partner
        if group_size < 1:
            raise ValueError(
                f"{len(cmd_codes)} commodity codes × {len(REQUESTED_FLOWS)} flows reach the "
                f"{cap}-record cap of one call; ask for fewer comtrade_cmd_codes"
            )
        for group in _chunks(partner_codes, group_size):
            per_period = len(group) * per_partner
            chunk = min(MAX_PERIODS_PER_CALL, (cap - 1) // per_period)
            for window in _chunks(periods, chunk):
                requests.append(
                    FetchRequest(
                        source=NAME,
                        url=url,
                        params={
                            "reporterCode": str(reporter_code),
                            "partnerCode": ",".join(str(c) for c in group),
                            "partner2Code": "0",
                            "period": ",".join(label for label, _, _ in window),
                            "cmdCode": ",".join(cmd_codes),
                            "flowCode": ",".join(REQUESTED_FLOWS),
                            "motCode": "0",
                            "customsCode": "C00",
                            "includeDesc": "true",
                            "breakdownMode": "classic",
                            **extra,
                        },
                        expect="json",
                        reporter=reporter.strip().upper(),
                        period_start=window[0][1],
                        period_end=window[-1][2],
                        meta={"freq": freq, "type": "C", "classification": "HS"},
                    )
                )
    return requests


def _cmd_codes(option: Any) -> list[str]:
    if option is None:
        return ["TOTAL"]
    items = option.split(",") if isinstance(option, str) else list(option)
    codes: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise ValueError(
                f"comtrade_cmd_codes must be strings (HS codes keep leading zeros), got {item!r}"
            )
        code = item.strip().upper()
        if not _CMD_CODE.match(code):
            raise ValueError(f"comtrade_cmd_codes: {item!r} is not TOTAL or a 2/4/6-digit HS code")
        if code not in codes:
            codes.append(code)
    if not codes:
        raise ValueError("comtrade_cmd_codes is empty")
    return codes


def _partner_codes(reporter: str, partners: Sequence[str]) -> list[int]:
    chosen = list(partners) if partners else [
        p for p in DEFAULT_PARTNERS if p != reporter.strip().upper()
    ]
    codes = [0]
    for partner in chosen:
        code = comtrade_code(partner, kind="partner")
        if code not in codes:
            codes.append(code)
    return codes


def _periods(start: date, end: date, freq: str) -> list[tuple[str, date, date]]:
    """``(label, first month, last month)`` of each period from ``start`` to ``end``."""
    if freq == "A":
        return [
            (str(year), date(year, 1, 1), date(year, 12, 1))
            for year in range(start.year, end.year + 1)
        ]
    out = []
    month = date(start.year, start.month, 1)
    while month <= end:
        out.append((f"{month.year}{month.month:02d}", month, month))
        month = add_months(month, 1)
    return out


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# --------------------------------------------------------------------------------------------
# parse


def parse(body: bytes, request: FetchRequest) -> pl.DataFrame:
    """Canonical observations from one Comtrade API v1 JSON response.

    Input: ``{"elapsedTime", "count", "data": [record, ...], "error"}`` (other top-level keys,
    such as a client's ``url``/``status_code`` wrapper, are ignored). Output: exactly
    :data:`OBSERVATION_SCHEMA`, one row per total record:

    * ``reporter``/``partner``: :func:`comtrade_area` of ``reporterCode``/``partnerCode``;
      ``partner_kind`` ``world`` (0), ``country`` or ``aggregate`` (``COMTRADE_<code>``);
    * ``flow``: ``flowCode`` X, M, RX or RM as published (re-exports/re-imports stay separate);
    * ``period_*``: ``freqCode`` M → month of ``refYear``/``refMonth`` (``months`` 1,
      ``period_type`` month); A → January to December of ``refYear`` (12, year);
    * ``commodity``: ``cmdCode`` as printed (``"TOTAL"``, ``"0306"``);
    * ``value``: ``primaryValue`` in whole USD (sources.md: always use ``primaryValue``;
      ``cifvalue``/``fobvalue`` may be null or 0); ``currency`` USD; ``valuation`` CIF for M/RM,
      FOB for X/RX;
    * ``status``: ``reported`` when ``isReported`` is true and ``legacyEstimationFlag`` is 0,
      else ``estimated`` (UN estimates, conversions and UNSD aggregates; note that Comtrade's
      dictionary calls ``legacyEstimationFlag`` a *quantity* estimation flag, so this is the
      cautious reading);
    * ``release``: ``"UN Comtrade API v1 C/A/HS (classification H3)"`` (type/freq/search
      classification, then the reporter's own HS edition); ``published_yoy`` and ``vintage`` null
      (the loader fills the fetch date).

    Totals only (DESIGN.md §4): a record is a total when ``motCode`` is 0, ``customsCode`` is
    ``C00`` and ``partner2Code`` is 0; breakdown records beside their total are skipped, never
    summed. ``count: 0`` with empty ``data`` is the one legitimate empty answer (an empty frame).

    Raises :class:`ParseError` when the body is not JSON or lacks a ``data`` list; on a non-empty
    ``error``; on a 401-style body ``{"statusCode": 401, "message": ...}`` (missing subscription
    key); when the record count reaches the endpoint's cap (100 000 for ``data/v1``, 500 for the
    preview, or ``maxRecords``) — the result is possibly truncated; when ``count`` disagrees with
    the records; on a record lacking a field, with an unknown flow, a ``cmdCode`` not requested,
    a period that contradicts ``freqCode``/``refMonth``/``period`` or lies outside the request,
    a null or negative ``primaryValue``, a reporter other than the request's, breakdown records
    without a total, or two total records for the same key (duplicate).
    Raises :class:`UnknownCodeError` for an area code with no mapping.
    """
    payload = _load(body, request)
    data = payload["data"]
    count = payload.get("count")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
        raise parse_error(request, f"'count' is not an integer: {count!r}")
    cap = _row_cap(request)
    returned = max(len(data), count or 0)
    if returned >= cap:
        raise parse_error(
            request,
            f"row cap reached: result possibly truncated ({returned} records, cap {cap} for this "
            "endpoint); split the request into smaller period or partner chunks",
        )
    if count is not None and count != len(data):
        raise parse_error(request, f"'count' is {count} but 'data' holds {len(data)} records")
    if not data:
        return conform(empty_observations(), context=request.describe())

    commodities = set(str(request.params.get("cmdCode", "TOTAL")).upper().split(","))
    totals: dict[tuple, dict[str, Any]] = {}
    breakdown_keys: dict[tuple, int] = {}
    for index, record in enumerate(data):
        row = _observation(record, index, request, commodities)
        key = (row["reporter"], row["partner"], row["flow"], row["period_start"], row["commodity"])
        if not _is_total(record, index, request):
            breakdown_keys[key] = index
            continue
        if key in totals:
            raise parse_error(
                request,
                f"duplicate total records for reporter {key[0]}, partner {key[1]}, flow {key[2]}, "
                f"period {key[3]}, commodity {key[4]} (records {totals[key]['_index']} and "
                f"{index})",
            )
        totals[key] = row
    orphans = [key for key in breakdown_keys if key not in totals]
    if orphans:
        key = orphans[0]
        raise parse_error(
            request,
            f"{len(orphans)} keys have only breakdown records (motCode/customsCode/partner2Code) "
            f"and no total record, e.g. reporter {key[0]}, partner {key[1]}, flow {key[2]}, "
            f"period {key[3]}, commodity {key[4]} (record {breakdown_keys[key]}); totals are "
            "never summed from breakdowns",
        )
    rows = [{k: v for k, v in row.items() if k != "_index"} for row in totals.values()]
    frame = pl.DataFrame(rows, schema=OBSERVATION_SCHEMA)
    return conform(frame, context=request.describe())


def _load(body: bytes, request: FetchRequest) -> dict[str, Any]:
    try:
        payload = json.loads(body, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise parse_error(request, f"body is not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise parse_error(request, f"expected a JSON object, got {type(payload).__name__}")
    if "data" not in payload and "statusCode" in payload:
        status, message = payload.get("statusCode"), payload.get("message")
        if str(status) == "401":
            raise parse_error(
                request,
                f"HTTP 401 body (access denied: missing or invalid subscription key; set "
                f"TRADE_IMBALANCE_COMTRADE_API_KEY, sent as Ocp-Apim-Subscription-Key, or use "
                f"the keyless preview endpoint): {message!r}",
            )
        raise parse_error(request, f"publisher error body: statusCode {status}: {message!r}")
    error = payload.get("error")
    if error not in (None, "", [], {}):
        raise parse_error(request, f"publisher reported an error: {error!r}")
    data = payload.get("data")
    if not isinstance(data, list):
        raise parse_error(
            request, f"no 'data' list in the response (top-level keys {sorted(payload)[:10]})"
        )
    return payload


def _row_cap(request: FetchRequest) -> int:
    cap = PREVIEW_CAP if "/public/v1/preview" in request.url else DATA_API_CAP
    max_records = request.params.get("maxRecords")
    if max_records is not None:
        try:
            cap = min(cap, int(max_records))
        except ValueError:
            raise parse_error(request, f"maxRecords {max_records!r} is not an integer") from None
    return cap


def _field(record: dict[str, Any], name: str, index: int, request: FetchRequest) -> Any:
    if name not in record or record[name] is None:
        raise parse_error(request, f"record {index} lacks {name!r}")
    return record[name]


def _integer(record: dict[str, Any], name: str, index: int, request: FetchRequest) -> int:
    value = _field(record, name, index, request)
    if isinstance(value, bool):
        raise parse_error(request, f"record {index}: {name} {value!r} is not an integer")
    try:
        return int(str(value).strip())
    except ValueError:
        raise parse_error(request, f"record {index}: {name} {value!r} is not an integer") from None


def _is_total(record: dict[str, Any], index: int, request: FetchRequest) -> bool:
    mot = str(_field(record, "motCode", index, request)).strip()
    customs = str(_field(record, "customsCode", index, request)).strip()
    partner2 = str(_field(record, "partner2Code", index, request)).strip()
    return mot == "0" and customs == "C00" and partner2 == "0"


def _observation(
    record: Any, index: int, request: FetchRequest, commodities: set[str]
) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise parse_error(request, f"record {index} is not an object: {record!r:.80}")
    try:
        reporter, _ = comtrade_area(
            _field(record, "reporterCode", index, request), record.get("reporterISO"),
            kind="reporter",
        )
        partner, kind = comtrade_area(
            _field(record, "partnerCode", index, request), record.get("partnerISO"),
            kind="partner",
        )
    except ValueError as exc:  # ISO printed beside the code contradicts it
        raise parse_error(request, f"record {index}: {exc}") from None
    if request.reporter and reporter != request.reporter:
        raise parse_error(
            request, f"record {index} is reported by {reporter}, the request was for {request.reporter}"
        )
    flow = str(_field(record, "flowCode", index, request)).strip()
    if flow not in FLOW_VALUATION:
        raise parse_error(request, f"record {index}: unexpected flowCode {flow!r}")
    commodity = _field(record, "cmdCode", index, request)
    if not isinstance(commodity, str):
        raise parse_error(
            request, f"record {index}: cmdCode {commodity!r} is not a string (leading zeros lost?)"
        )
    commodity = commodity.strip()
    if commodity.upper() not in commodities:
        raise parse_error(
            request, f"record {index}: cmdCode {commodity!r} was not requested ({sorted(commodities)})"
        )
    start, end, months, period_type = _period(record, index, request)
    reported = _field(record, "isReported", index, request)
    if reported not in (True, False):
        raise parse_error(request, f"record {index}: isReported {reported!r} is not a boolean")
    flag = record.get("legacyEstimationFlag") or 0
    try:
        flag = int(flag)
    except (TypeError, ValueError):
        raise parse_error(
            request, f"record {index}: legacyEstimationFlag {flag!r} is not an integer"
        ) from None
    return {
        "_index": index,
        "source": NAME,
        "reporter": reporter,
        "partner": partner,
        "partner_kind": kind,
        "flow": flow,
        "period_start": start,
        "period_end": end,
        "months": months,
        "period_type": period_type,
        "commodity": commodity,
        "value": _value(record, index, request),
        "currency": "USD",
        "valuation": FLOW_VALUATION[flow],
        "status": "reported" if reported and flag == 0 else "estimated",
        "published_yoy": None,
        "release": _release(record, index, request),
        "vintage": None,
    }


def _period(
    record: dict[str, Any], index: int, request: FetchRequest
) -> tuple[date, date, int, str]:
    freq = str(_field(record, "freqCode", index, request)).strip()
    wanted = request.meta.get("freq")
    if wanted and freq != wanted:
        raise parse_error(request, f"record {index}: freqCode {freq!r}, the request was for {wanted!r}")
    year = _integer(record, "refYear", index, request)
    month = _integer(record, "refMonth", index, request)
    period = str(_field(record, "period", index, request)).strip()
    if freq == "M":
        if not 1 <= month <= 12 or period != f"{year}{month:02d}":
            raise parse_error(
                request, f"record {index}: monthly period {period!r} / {year}-{month} is inconsistent"
            )
        start = end = date(year, month, 1)
        months, period_type = 1, "month"
    elif freq == "A":
        # Comtrade's dictionary: "For annual, [refMonth] would be set to 52".
        if month != 52 or period != str(year):
            raise parse_error(
                request, f"record {index}: annual period {period!r} / {year}-{month} is inconsistent"
            )
        start, end = date(year, 1, 1), date(year, 12, 1)
        months, period_type = 12, "year"
    else:
        raise parse_error(request, f"record {index}: unexpected freqCode {freq!r}")
    if (request.period_start and start < request.period_start) or (
        request.period_end and end > request.period_end
    ):
        raise parse_error(
            request,
            f"record {index}: period {period} lies outside the requested "
            f"{request.period_start}..{request.period_end}",
        )
    return start, end, months, period_type


def _value(record: dict[str, Any], index: int, request: FetchRequest) -> float:
    raw = record.get("primaryValue")
    if raw is None or isinstance(raw, bool):
        raise parse_error(request, f"record {index}: primaryValue is {raw!r}")
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip())
    except InvalidOperation:
        raise parse_error(request, f"record {index}: primaryValue {raw!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise parse_error(request, f"record {index}: primaryValue {raw!r} is negative or not finite")
    return float(value)


def _release(record: dict[str, Any], index: int, request: FetchRequest) -> str:
    type_code = str(record.get("typeCode") or "C").strip()
    freq = str(record.get("freqCode")).strip()
    search = record.get("classificationSearchCode") or request.url.rstrip("/").rsplit("/", 1)[-1]
    edition = str(_field(record, "classificationCode", index, request)).strip()
    return f"UN Comtrade API v1 {type_code}/{freq}/{str(search).strip()} (classification {edition})"
