"""Parse Eurostat SDMX-CSV (ext_st datasets and Comext) into canonical observations.

SDMX-CSV as the dissemination API writes it — ``DATAFLOW``, ``LAST UPDATE`` (``dd/mm/yy
hh:mm:ss``), the dimension columns in the DSD's order (``freq`` first), ``TIME_PERIOD``,
``OBS_VALUE``, and optionally ``OBS_FLAG`` and ``CONF_STATUS``. Columns are read by name. Two
layouts are recognised by their dimension columns:

* **ext_st** (``ext_st_eu27_2020sitc``, ``ext_st_easitc``; DSD order
  ``freq.stk_flow.indic_et.partner.sitc06.geo``): only ``indic_et`` ``TRD_VAL`` is read; it is in
  **million EUR** (the saved ``ext_st_easitc`` table has euro-area SITC 7 imports from China at
  about 15 000 a month, i.e. EUR 15 bn — sources.md §4 "Units"; the dataset label "Trade value in
  million of ECU/EURO" is **unverified** here), scaled exactly with :class:`decimal.Decimal`
  (× 10^6). ``stk_flow`` ``EXP`` → X, ``IMP`` → M; ``BAL_RT`` or any other indicator raises
  ParseError. ``sitc06`` → commodity as published (``TOTAL``, ``SITC7``; SITC codes keep their
  prefix so they are never mistaken for HS codes). ``geo`` is the reporter and keeps its
  composition code (``EA20`` or ``EA21``).
* **Comext** (``DS-045409``, CN8 detail): ``reporter, partner, product, flow, indicators``.
  ``indicators`` ``VALUE_IN_EUROS`` is read, in **whole EUR**; quantity indicators
  (``QUANTITY_IN_100KG``, ``SUPPLEMENTARY_QUANTITY``) are skipped by rule; any other indicator
  raises ParseError. ``flow`` ``1`` → M (import), ``2`` → X (export). ``product`` → commodity as
  published (CN8 with leading zeros, or ``TOTAL``).

Values: currency ``EUR``; valuation **FOB for exports, CIF for imports** (the EU convention for
extra-EU trade statistics). ``freq`` ``M`` only, ``TIME_PERIOD`` ``YYYY-MM``. Vintage: the date
of ``LAST UPDATE`` (``13/02/26 11:00:00`` → 2026-02-13); null when the column is absent.

Flags stay on each observation (:data:`~flows.sources.eurostat.codes.FLAG_STATUS`; several may
be combined, e.g. ``ep``): no flag → status ``reported``; each letter becomes a word, joined with
``+`` (``estimated+provisional``); an unknown letter is kept as ``flag:<x>``. ``CONF_STATUS``
``C``/``D`` (primary/secondary confidentiality) adds ``confidential``. A **confidential cell
without a value** (empty ``OBS_VALUE`` or ``:``) is a row with a NULL ``value`` and its flags —
missing is not zero — as soon as :data:`flows.schema.OBSERVATION_SCHEMA` admits a null value
(:func:`null_values_allowed`); until then it is left out and logged. Any other empty value raises
ParseError.

Truncation (:func:`check_not_truncated`): every series must reach the last released month of
the request (the latest month in the payload, or due by its ``LAST UPDATE`` per the release
calendar); a body cut at a line boundary is rejected.

Errors: missing required columns, an unknown layout, an unknown ``freq``/flow/indicator, a bad
number, a duplicated observation or a payload with no value rows raise ParseError; an unknown
area code raises UnknownCodeError.
"""

from __future__ import annotations

import csv
import io
import logging
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

import polars as pl

from flows.schema import OBSERVATION_KEY, OBSERVATION_SCHEMA, SchemaError, conform
from flows.sources.base import FetchRequest, parse_error
from flows.sources.eurostat.codes import CONFIDENTIAL_STATUS, FLAG_STATUS, NAME, area_code

log = logging.getLogger(__name__)

#: Layouts: dimension columns (besides ``freq``).
EXT_ST_COLUMNS: tuple[str, ...] = ("stk_flow", "indic_et", "partner", "sitc06", "geo")
COMEXT_COLUMNS: tuple[str, ...] = ("reporter", "partner", "product", "flow", "indicators")
COMMON_COLUMNS: tuple[str, ...] = ("DATAFLOW", "freq", "TIME_PERIOD", "OBS_VALUE")

#: ext_st ``indic_et`` read, and its scale: million EUR.
EXT_ST_INDICATORS: dict[str, Decimal] = {"TRD_VAL": Decimal(10) ** 6}
EXT_ST_FLOWS: dict[str, str] = {"EXP": "X", "IMP": "M"}
#: Comext indicators read (value, whole EUR) and skipped (quantities).
COMEXT_INDICATORS: dict[str, Decimal] = {"VALUE_IN_EUROS": Decimal(1)}
COMEXT_SKIPPED_INDICATORS = frozenset({"QUANTITY_IN_100KG", "SUPPLEMENTARY_QUANTITY"})
COMEXT_FLOWS: dict[str, str] = {"1": "M", "2": "X"}
#: Valuation by flow: exports FOB, imports CIF.
FLOW_VALUATION: dict[str, str] = {"X": "FOB", "M": "CIF"}


@cache
def null_values_allowed() -> bool:
    """True when :func:`flows.schema.conform` accepts a row whose ``value`` is null."""
    row = {
        "source": NAME, "reporter": "EU27_2020", "partner": "CHN", "partner_kind": "country",
        "flow": "M", "period_start": date(2024, 1, 1), "period_end": date(2024, 1, 1),
        "months": 1, "period_type": "month", "commodity": "TOTAL", "value": None,
        "currency": "EUR", "valuation": "CIF", "status": "confidential", "published_yoy": None,
        "release": "probe", "vintage": None,
    }
    try:
        conform(pl.DataFrame([row], schema=OBSERVATION_SCHEMA), context="probe")
    except SchemaError:
        return False
    return True


def parse(body: bytes, request: FetchRequest) -> pl.DataFrame:
    """Canonical observations (:data:`flows.schema.OBSERVATION_SCHEMA`) from one SDMX-CSV body.

    Values in whole EUR (currency ``EUR``), ``period_type`` ``month``. Raises
    :class:`ParseError` and :class:`flows.reference.UnknownCodeError` as described in the module
    docstring. A confidential cell without a value is a NULL-value row with its flags while the
    schema admits it (:func:`null_values_allowed`), else left out with a logged warning.
    """
    frame = read_observations(body, request)
    check_not_truncated(frame, request)
    if not null_values_allowed():
        withheld = frame.filter(pl.col("value").is_null())
        if withheld.height:
            log.warning(
                "%s: %d confidential cells without a value left out (the observations schema "
                "does not admit a NULL value yet)", request.describe(), withheld.height,
            )
            frame = frame.filter(pl.col("value").is_not_null())
    duplicated = frame.filter(pl.struct(list(OBSERVATION_KEY)).is_duplicated())
    if duplicated.height:
        raise parse_error(
            request,
            f"{duplicated.height} rows share a load key, e.g. {duplicated.row(0, named=True)}",
        )
    return conform(frame, context=request.describe())


def check_not_truncated(frame: pl.DataFrame, request: FetchRequest) -> None:
    """Reject a payload in which a series stops before the last *released* month of the request.

    A body cut at a line boundary still parses: whatever the row order, the cut takes the tail
    — the last months of the last series (series-major, as the double writes) or the last
    months of every series (time-major, as the recorded ext_st table is sorted). So every series
    of the payload (reporter, partner, flow, commodity) must have a row — a value, or a flagged
    confidential cell — for the last released month, which is the later of

    * the latest month any series of the payload has (the publisher released it), and
    * the latest month the release calendar (:mod:`flows.release_calendar`, rule ``eurostat``,
      grace included) says is due by the payload's own ``LAST UPDATE`` date — a dataset updated
      after a month was due should hold it; the payload's date, not the run's, so an offline
      rebuild judges an archived payload exactly as the run that fetched it did,

    cut to the request's ``endPeriod``. Months *inside* a series may be absent (a sparse series)
    and so may whole series: Eurostat leaves out series with no data at all (the "API – FAQ –
    TSV data format" page, docs/live_contracts.md §1.1, confirmed) — but the ext_st
    ``TRD_VAL`` series the plan asks for (aggregates and large partners, by SITC section, each
    carried by the dataset's content constraint) are dense: the recorded ``ext_st_easitc`` table
    has all 16 series in all 71 months, 1,136 values, none empty (consistent). So for an ext_st
    request every series of its key (:func:`requested_series`) must be present too: a cut falling
    exactly between two series is caught as well. (A series without any data in the window would
    be rejected with this message; none has been seen.) Raises :class:`ParseError` naming the
    series and the months it lacks.
    """
    if frame.is_empty() or request.period_start is None or request.period_end is None:
        return
    from flows.release_calendar import is_due
    from flows.schema import add_months

    last = frame.get_column("period_start").max()
    vintage = frame.get_column("vintage").max()
    if vintage is not None:
        month = request.period_start
        while month <= request.period_end:
            if is_due(NAME, month, vintage):
                last = max(last, month)
            month = add_months(month, 1)
    last = min(last, request.period_end)
    series = ["reporter", "partner", "flow", "commodity"]
    present = set(frame.select(series).unique().iter_rows())
    absent = sorted(requested_series(request) - present)
    if absent:
        raise parse_error(
            request,
            f"truncated: {len(absent)} requested series absent from the answer, e.g. "
            f"{'→'.join(absent[0][:2])} {absent[0][2]} {absent[0][3]} (an ext_st series carried "
            "by the content constraint has a value every month)",
        )
    ends = frame.group_by(series).agg(pl.col("period_start").max().alias("until"))
    short = ends.filter(pl.col("until") < last).sort(series)
    if short.is_empty():
        return
    row = short.row(0, named=True)
    why = (f"released by LAST UPDATE {vintage:%Y-%m-%d} per the release calendar"
           if vintage is not None else "present in other series")
    raise parse_error(
        request,
        f"truncated: {short.height} of {ends.height} series stop before {last:%Y-%m} "
        f"({why}), e.g. {row['reporter']}→{row['partner']} {row['flow']} {row['commodity']} "
        f"ends at {row['until']:%Y-%m}; a month neither present nor flagged",
    )


def requested_series(request: FetchRequest) -> set[tuple[str, str, str, str]]:
    """``(reporter, partner, flow, commodity)`` of every series an ext_st request's key asks
    for (the product of its ``+``-joined codes, positions named by ``meta["dimensions"]``, the
    DSD order); empty for another layout, a wildcard position or a key that does not match."""
    dims = str(request.meta.get("dimensions") or "").lower().split(".")
    parts = request.url.rstrip("/").rsplit("/", 1)[-1].split(".")
    if len(dims) != len(parts) or not {"stk_flow", "indic_et", "partner", "sitc06", "geo"} <= set(
        dims
    ) or not all(parts):
        return set()
    codes = dict(zip(dims, (p.split("+") for p in parts), strict=True))
    if codes["indic_et"] != ["TRD_VAL"]:
        return set()
    try:
        return {
            (area_code(geo, "reporter")[0], area_code(partner)[0], EXT_ST_FLOWS[flow], sitc)
            for geo in codes["geo"] for partner in codes["partner"]
            for flow in codes["stk_flow"] for sitc in codes["sitc06"]
        }
    except (KeyError, ValueError):  # an unknown code: the rows' own checks report it
        return set()


def read_observations(body: bytes, request: FetchRequest) -> pl.DataFrame:
    """Every observation of ``body`` with :data:`~flows.schema.OBSERVATION_SCHEMA` columns, not
    yet conformed: a confidential cell without a value is a row with a NULL ``value`` and its
    flags in ``status``. Raises ParseError / UnknownCodeError."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise parse_error(request, f"body is not UTF-8: {exc}") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = reader.fieldnames or []
    missing = [c for c in COMMON_COLUMNS if c not in columns]
    if missing:
        raise parse_error(request, f"SDMX-CSV lacks required columns {missing} (got {columns})")
    if all(c in columns for c in EXT_ST_COLUMNS):
        read_row = _ext_st_row
    elif all(c in columns for c in COMEXT_COLUMNS):
        read_row = _comext_row
    else:
        raise parse_error(
            request,
            f"unknown SDMX-CSV layout: expected dimension columns {list(EXT_ST_COLUMNS)} "
            f"(ext_st) or {list(COMEXT_COLUMNS)} (Comext), got {columns}",
        )

    records: dict[str, list[Any]] = {name: [] for name in OBSERVATION_SCHEMA}
    data_rows = value_rows = 0
    for number, row in enumerate(reader, start=2):
        data_rows += 1
        if None in row or any(v is None for v in row.values()):
            raise parse_error(request, f"line {number}: wrong number of fields")
        fields = read_row(request, row, number)
        if fields is None:
            continue
        value_rows += 1
        status, confidential = _status(row)
        value = _value(request, row, number, fields.pop("scale"))
        if value is None:
            if not confidential:
                raise parse_error(
                    request, f"line {number}: empty OBS_VALUE without a confidentiality flag"
                )
        period = _month(request, row, number)
        for name, item in {
            **fields,
            "source": NAME,
            "period_start": period,
            "period_end": period,
            "months": 1,
            "period_type": "month",
            "value": value,
            "currency": "EUR",
            "valuation": FLOW_VALUATION[fields["flow"]],
            "status": status,
            "published_yoy": None,
            "release": f"Eurostat {row['DATAFLOW'].strip()}",
            "vintage": _vintage(request, row, number),
        }.items():
            records[name].append(item)
    if not data_rows:
        raise parse_error(request, "SDMX-CSV header but no data rows")
    if not value_rows:
        raise parse_error(request, "no value rows (only quantity indicators?)")
    return pl.DataFrame(records, schema=OBSERVATION_SCHEMA)


def _ext_st_row(request: FetchRequest, row: dict[str, str], number: int) -> dict[str, Any]:
    _check_freq(request, row, number)
    indicator = row["indic_et"].strip()
    if indicator not in EXT_ST_INDICATORS:
        raise parse_error(
            request, f"line {number}: indic_et {indicator!r} not supported (only TRD_VAL)"
        )
    flow = EXT_ST_FLOWS.get(row["stk_flow"].strip())
    if flow is None:
        raise parse_error(request, f"line {number}: stk_flow {row['stk_flow']!r} is not EXP/IMP")
    reporter, _ = area_code(row["geo"], "reporter")
    partner, kind = area_code(row["partner"])
    return {
        "reporter": reporter,
        "partner": partner,
        "partner_kind": kind,
        "flow": flow,
        "commodity": _commodity(request, row["sitc06"], number),
        "scale": EXT_ST_INDICATORS[indicator],
    }


def _comext_row(request: FetchRequest, row: dict[str, str], number: int) -> dict[str, Any] | None:
    _check_freq(request, row, number)
    indicator = row["indicators"].strip()
    if indicator in COMEXT_SKIPPED_INDICATORS:
        return None
    if indicator not in COMEXT_INDICATORS:
        raise parse_error(request, f"line {number}: indicator {indicator!r} not supported")
    flow = COMEXT_FLOWS.get(row["flow"].strip())
    if flow is None:
        raise parse_error(request, f"line {number}: flow {row['flow']!r} is not 1 or 2")
    reporter, _ = area_code(row["reporter"], "reporter")
    partner, kind = area_code(row["partner"])
    return {
        "reporter": reporter,
        "partner": partner,
        "partner_kind": kind,
        "flow": flow,
        "commodity": _commodity(request, row["product"], number),
        "scale": COMEXT_INDICATORS[indicator],
    }


def _check_freq(request: FetchRequest, row: dict[str, str], number: int) -> None:
    if row["freq"].strip() != "M":
        raise parse_error(request, f"line {number}: freq {row['freq']!r} (only M is supported)")


def _commodity(request: FetchRequest, code: str, number: int) -> str:
    code = code.strip()
    if not code:
        raise parse_error(request, f"line {number}: empty product code")
    return code


def _status(row: dict[str, str]) -> tuple[str, bool]:
    """(status, confidential) from ``OBS_FLAG`` and ``CONF_STATUS``."""
    words: list[str] = []
    for letter in (row.get("OBS_FLAG") or "").strip():
        word = FLAG_STATUS.get(letter, f"flag:{letter}")
        if word not in words:
            words.append(word)
    confidential = (row.get("CONF_STATUS") or "").strip() in CONFIDENTIAL_STATUS
    if confidential and "confidential" not in words:
        words.append("confidential")
    return ("+".join(words) or "reported"), "confidential" in words


def _value(request: FetchRequest, row: dict[str, str], number: int, scale: Decimal) -> float | None:
    """``OBS_VALUE`` × ``scale`` in whole EUR; ``None`` when the cell is empty (or ``:``)."""
    text = row["OBS_VALUE"].strip()
    if text in ("", ":"):
        return None
    try:
        value = Decimal(text) * scale
    except InvalidOperation:
        raise parse_error(request, f"line {number}: OBS_VALUE {text!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise parse_error(request, f"line {number}: OBS_VALUE {text!r} is negative or not finite")
    return float(value)


def _month(request: FetchRequest, row: dict[str, str], number: int) -> date:
    text = row["TIME_PERIOD"].strip()
    try:
        if len(text) != 7:
            raise ValueError
        return date(int(text[:4]), int(text[5:7]), 1)
    except ValueError:
        raise parse_error(request, f"line {number}: TIME_PERIOD {text!r} is not YYYY-MM") from None


def _vintage(request: FetchRequest, row: dict[str, str], number: int) -> date | None:
    """The date of ``LAST UPDATE`` (``dd/mm/yy hh:mm:ss``, ``dd/mm/yy`` or ISO); None if absent."""
    text = (row.get("LAST UPDATE") or "").strip()
    if not text:
        return None
    for pattern in ("%d/%m/%y %H:%M:%S", "%d/%m/%y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise parse_error(request, f"line {number}: LAST UPDATE {text!r} is not dd/mm/yy hh:mm:ss")
