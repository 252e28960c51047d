"""Canonical observations from one UN Comtrade API v1 JSON response (sources.md §1).

See :func:`parse`. Flow codes and area codes come from :mod:`flows.sources.comtrade.codes`; the
publisher's error shapes from :mod:`flows.sources.comtrade.answers`.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import polars as pl

from flows.schema import OBSERVATION_SCHEMA, conform, empty_observations
from flows.sources.base import FetchRequest, parse_error

from .answers import legacy_refusal, publisher_message
from .codes import FLOW_CODES, NAME, comtrade_area
from .planning import DATA_API_CAP, PREVIEW_CAP

#: Ending of ``release`` on a row that carries a record's second valuation basis (``fobvalue`` or
#: ``cifvalue`` beside a ``primaryValue`` on the other basis); the SQL models read it
#: (``intermediate.observations.is_headline``: such a row is never the headline).
SECOND_BASIS_MARK = "(second valuation basis)"
#: Relative tolerance when comparing ``primaryValue`` with ``cifvalue``/``fobvalue`` (the API
#: copies the same number; the tolerance only absorbs float printing).
_SAME = 1e-9


def parse(body: bytes, request: FetchRequest) -> pl.DataFrame:
    """Canonical observations from one Comtrade API v1 JSON response.

    Input: ``{"elapsedTime", "count", "data": [record, ...], "error"}`` (other top-level keys,
    such as a client's ``url``/``status_code`` wrapper, are ignored). Output: exactly
    :data:`OBSERVATION_SCHEMA`, one row per total record:

    * ``reporter``/``partner``: :func:`comtrade_area` of ``reporterCode``/``partnerCode``;
      ``partner_kind`` ``world`` (0), ``country`` or ``aggregate`` (``COMTRADE_<code>``);
    * ``flow``: ``flowCode`` as published, any code of Comtrade's flow reference
      (:data:`~flows.sources.comtrade.codes.FLOW_CODES`): X, M and the memo flows RX, RM, DX,
      FM, XIP, XOP, MIP, MOP, each kept under its own code (never added to X or M);
    * ``period_*``: ``freqCode`` M → month of ``refYear``/``refMonth`` (``months`` 1,
      ``period_type`` month); A → January to December of ``refYear`` (12, year);
    * ``commodity``: ``cmdCode`` as printed (``"TOTAL"``, ``"0306"``);
    * ``value``: ``primaryValue`` in whole USD (sources.md: always use ``primaryValue``);
      ``currency`` USD; ``valuation`` from the record (:func:`valuations`): on the import side
      (M, RM, FM, MIP, MOP) FOB when ``primaryValue`` equals ``fobvalue`` (a reporter that
      compiles imports FOB), CIF when it equals ``cifvalue``, else CIF (the side's basis, IMTS
      2010); export-side flows (X, RX, DX, XIP, XOP) are FOB. ``cifvalue``/``fobvalue`` of 0 or
      null mean "not given", never zero (the recorded US imports carry ``fobvalue`` 0.0 in 2018,
      2020 and 2021 and a real FOB value in 2019 and 2022: vignette1 CSV);
    * **second valuation basis**: where an import-side record gives the other basis too (> 0 and
      different from ``primaryValue``), a second row carries it: same key, ``valuation`` FOB or
      CIF (part of the load key, as for US Census CIF imports), the value of ``fobvalue`` /
      ``cifvalue``, and ``release`` ending in :data:`SECOND_BASIS_MARK` so the models keep the
      ``primaryValue`` row as the headline (``intermediate.observations.is_headline``) and use
      the pair for FOB mirrors and observed freight margins;
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
    ``error``, a legacy ``validation`` refusal ("Maximum resultset is: 10000") or an error body
    ``{"statusCode", "message"}`` (401: missing subscription key) — the publisher's own sentence
    is kept in the message; when the record count reaches the endpoint's cap (100 000 for
    ``data/v1``, 500 for the preview, or ``maxRecords``) — the result is possibly truncated;
    when ``count`` disagrees with the records; on a record lacking a field, with a flow code
    outside Comtrade's flow reference, a ``cmdCode`` not requested, a period that contradicts
    ``freqCode``/``refMonth``/``period`` or lies outside the request, a null or negative
    ``primaryValue``, a reporter other than the request's, breakdown records without a total,
    or two total records for the same key (duplicate).
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
    seconds: list[dict[str, Any]] = []
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
        second = _second_basis(record, row, request)
        if second is not None:
            seconds.append(second)
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
    rows = [
        {k: v for k, v in row.items() if k != "_index"} for row in [*totals.values(), *seconds]
    ]
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
        status, message = payload.get("statusCode"), publisher_message(body)
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
        raise parse_error(request, f"publisher reported an error: {publisher_message(body)!r}")
    if "data" not in payload:
        refusal = legacy_refusal(payload)
        if refusal:
            raise parse_error(request, f"publisher refused the request (legacy API): {refusal!r}")
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
    if flow not in FLOW_CODES:
        raise parse_error(
            request,
            f"record {index}: unexpected flowCode {flow!r} (not in Comtrade's flow reference "
            f"{sorted(FLOW_CODES)})",
        )
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
        "valuation": valuations(record, FLOW_CODES[flow][1], index, request)[0],
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



def _optional_value(record: dict[str, Any], name: str, index: int, request: FetchRequest) -> float | None:
    """``cifvalue``/``fobvalue`` as a float, or None when not given (null, missing or 0)."""
    raw = record.get(name)
    if raw is None or isinstance(raw, bool) or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip())
    except InvalidOperation:
        raise parse_error(request, f"record {index}: {name} {raw!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise parse_error(request, f"record {index}: {name} {raw!r} is negative or not finite")
    return float(value) if value > 0 else None


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= _SAME * max(abs(a), abs(b), 1.0)


def valuations(
    record: dict[str, Any], side: str, index: int, request: FetchRequest
) -> tuple[str, tuple[str, float] | None]:
    """The valuation of ``primaryValue`` and the record's second basis ``(valuation, value)``.

    ``side`` is the flow's basis (CIF for the import side, FOB for the export side). Export-side
    records are always FOB with no second basis. For import-side records:

    ============================================ ================ ===================
    record                                       primaryValue     second row
    ============================================ ================ ===================
    fobvalue > 0 equal to primaryValue,           FOB              CIF = cifvalue
    cifvalue > 0 and different                                     (when given)
    cifvalue > 0 equal to primaryValue            CIF              FOB = fobvalue
                                                                   (when given, differs)
    neither equal to primaryValue (or not given)  CIF (the side's) FOB = fobvalue if given
    ============================================ ================ ===================

    When ``cifvalue`` and ``fobvalue`` are equal to each other and to ``primaryValue`` the record
    says nothing about the margin: CIF, no second row. Zero or null values are "not given".
    """
    if side != "CIF":
        return side, None
    primary = _value(record, index, request)
    cif = _optional_value(record, "cifvalue", index, request)
    fob = _optional_value(record, "fobvalue", index, request)
    cif_equal = cif is not None and _same(primary, cif)
    fob_equal = fob is not None and _same(primary, fob)
    if fob_equal and not cif_equal:
        return "FOB", (("CIF", cif) if cif is not None else None)
    if fob is not None and not fob_equal:
        return "CIF", ("FOB", fob)
    return "CIF", None


def _second_basis(
    record: dict[str, Any], row: dict[str, Any], request: FetchRequest
) -> dict[str, Any] | None:
    """The second-basis row of an import-side total record, or None (see :func:`valuations`)."""
    side = FLOW_CODES[row["flow"]][1]
    _, second = valuations(record, side, row["_index"], request)
    if second is None:
        return None
    valuation, value = second
    return {
        **row,
        "valuation": valuation,
        "value": value,
        "release": f"{row['release']} {'fobvalue' if valuation == 'FOB' else 'cifvalue'} "
        f"{SECOND_BASIS_MARK}",
    }
