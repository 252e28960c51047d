"""Eurostat: EU trade by partner, SDMX 2.1 dissemination API in SDMX-CSV (sources.md §4).

Plan (under the configured base URL, default ``https://ec.europa.eu/eurostat/api/dissemination``):
one request per reporter and calendar year of the window::

    {base}/sdmx/2.1/data/ext_st_eu27_2020sitc/M.TRD_VAL.EXP+IMP.TOTAL.{partners}.EU27_2020
        ?format=SDMX-CSV&startPeriod=YYYY-MM&endPeriod=YYYY-MM

The key follows the datasets' dimension order ``freq.indic_et.stk_flow.sitc06.partner.geo``
(sources.md §4 "Datasets"). The reporter is the EU as a whole (``geo`` ``EU27_2020``, itself a
named aggregate): requested only when ``EU27_2020`` or ``EUU`` (the ISO 3166 reserved code for
the EU) is a run reporter; the euro area (``EA20``, dataset ``ext_st_easitc``) when ``EA20`` is.
Partners: with no run partners, :data:`DEFAULT_PARTNERS` (China excluding Hong Kong
``CN_X_HK``, ``US``, ``VN``, ``IN`` and the extra-EU total ``EXT_EU27_2020``); otherwise the run's
ISO3 partners translated by :func:`eurostat_partner` (``CHN`` → ``CN_X_HK``, ``WLD`` →
``EXT_EU27_2020``, ``GRC`` → ``EL``, ``GBR`` → ``UK``, other countries → ISO2; EU members
are left out: the EU's trade with its own members is intra-EU, not trade by partner). Which
partner codes the datasets carry, and how the API answers a key naming one they lack, is
**unverified**.

Parse: SDMX-CSV as the API writes it — ``DATAFLOW``, ``LAST UPDATE`` (``dd/mm/yy hh:mm:ss``),
``freq``, the dimension columns, ``TIME_PERIOD``, ``OBS_VALUE``, and optionally ``OBS_FLAG`` and
``CONF_STATUS``. Two layouts are recognised by their dimension columns:

* **ext_st** (``ext_st_eu27_2020sitc``, ``ext_st_easitc``): ``indic_et, stk_flow, sitc06,
  partner, geo``. Only ``indic_et`` ``TRD_VAL`` is read; it is in **million EUR** (the saved
  ``ext_st_easitc`` table has euro-area SITC 7 imports from China at about 15 000 a month, i.e.
  EUR 15 bn — sources.md §4 "Units"; the dataset label "Trade value in million of ECU/EURO" is
  **unverified** here), scaled exactly with :class:`decimal.Decimal` (× 10^6). ``stk_flow``
  ``EXP`` → X, ``IMP`` → M; ``BAL_RT`` or any other indicator raises ParseError (a balance is
  not an observation and seasonally adjusted series have no place in the schema).
  ``sitc06`` → commodity as published (``TOTAL``, ``SITC7``; SITC codes keep their prefix so
  they are never mistaken for HS codes).
* **Comext** (``DS-045409``, CN8 detail): ``reporter, partner, product, flow, indicators``.
  ``indicators`` ``VALUE_IN_EUROS`` is read, in **whole EUR**; quantity indicators
  (``QUANTITY_IN_100KG``, ``SUPPLEMENTARY_QUANTITY``) are skipped by rule; any other
  indicator raises ParseError. ``flow`` ``1`` → M (import), ``2`` → X (export). ``product`` →
  commodity as published (CN8 string with leading zeros, or ``TOTAL``). Reporters are member
  states (ISO2, Greece as ``GR`` or ``EL``) or an aggregate code.

Codes (:data:`AREA_CODES`, DESIGN.md §4 "Keys"): ``WORLD`` → ``WLD`` (world); ``CN_X_HK`` →
``CHN`` (China excluding Hong Kong, the same territory as ISO ``CHN`` — override documented in
sources.md §7); ``EU27_2020``, ``EU28``, ``EA20``, ``EXT_EU27_2020`` (extra-EU: the world minus
the EU members, **not** ``WLD``), ``INT_EU27_2020``, ``EXT_EU28``, ``INT_EU28`` and
``EU27_2020_NEA20`` (EU members outside the euro area) stay as published (kind ``aggregate``):
EU27_2020 and EU28 figures are never mixed. Anything else is ISO2 →
:func:`flows.reference.iso3_from_iso2` (``EL``/``GR`` → ``GRC``, ``UK`` → ``GBR``), or
UnknownCodeError.

Values: currency ``EUR`` (convert month by month before combining with USD sources, DESIGN.md §4);
valuation **FOB for exports, CIF for imports** (the EU convention for extra-EU trade statistics,
as for Comtrade's primary values). Period ``freq`` ``M`` only, ``TIME_PERIOD`` ``YYYY-MM``.
Vintage: the date of ``LAST UPDATE`` (``13/02/26 11:00:00`` → 2026-02-13); null when the column
is absent.

Flags (:data:`FLAG_STATUS`, Eurostat's flag letters; several may be combined, e.g. ``ep``): no flag
→ status ``reported``; each letter becomes a word and several are joined with ``+``
(``estimated+provisional``); an unknown letter is kept as ``flag:<x>``. ``CONF_STATUS`` ``C``/``D``
(primary/secondary confidentiality) adds ``confidential``. A cell with an empty ``OBS_VALUE`` (or
``:``) is skipped only when it is confidential (flag ``c`` or a confidential ``CONF_STATUS``):
such a figure is withheld, and missing is not zero. Any other empty value raises ParseError.

Errors: missing required columns, an unknown layout, an unknown ``freq``/flow/indicator, a bad
number, a duplicated observation or a payload with no value rows raise ParseError; an unknown
area code raises UnknownCodeError. HTML error pages are caught by the HTTP layer
(:func:`flows.http.check_hidden_error`).
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import polars as pl
import pycountry

from flows.reference import UnknownCodeError, iso3_from_iso2
from flows.schema import OBSERVATION_KEY, OBSERVATION_SCHEMA, WORLD, conform
from flows.sources.base import FetchRequest, PlanContext, parse_error

NAME = "eurostat"
#: Dataset per reporter geo: EU27 / euro-area trade by partner and SITC section, monthly
#: (sources.md §4 "Datasets").
DATASETS: dict[str, str] = {"EU27_2020": "ext_st_eu27_2020sitc", "EA20": "ext_st_easitc"}
#: Partners asked for when the run names none.
DEFAULT_PARTNERS: tuple[str, ...] = ("CN_X_HK", "US", "VN", "IN", "EXT_EU27_2020")
#: Run reporter code → Eurostat ``geo``.
REPORTER_GEO: dict[str, str] = {"EU27_2020": "EU27_2020", "EUU": "EU27_2020", "EA20": "EA20"}
#: The EU27_2020 member states (ISO3); not asked for as partners of the EU.
EU27_2020_MEMBERS: frozenset[str] = frozenset(
    "AUT BEL BGR HRV CYP CZE DNK EST FIN FRA DEU GRC HUN IRL ITA LVA LTU LUX MLT NLD POL PRT "
    "ROU SVK SVN ESP SWE".split()
)

#: Eurostat area codes that are not plain ISO2: code → (harmonised code, partner_kind).
AREA_CODES: dict[str, tuple[str, str]] = {
    "WORLD": (WORLD, "world"),
    "CN_X_HK": ("CHN", "country"),
    "EU27_2020": ("EU27_2020", "aggregate"),
    "EU28": ("EU28", "aggregate"),
    "EA20": ("EA20", "aggregate"),
    "EXT_EU27_2020": ("EXT_EU27_2020", "aggregate"),
    "INT_EU27_2020": ("INT_EU27_2020", "aggregate"),
    "EXT_EU28": ("EXT_EU28", "aggregate"),
    "INT_EU28": ("INT_EU28", "aggregate"),
    "EU27_2020_NEA20": ("EU27_2020_NEA20", "aggregate"),
}
#: Descriptions of the aggregate codes above that :data:`flows.reference.AGGREGATES` lacks.
EXTRA_AGGREGATES: dict[str, str] = {
    "EXT_EU28": "Extra-EU28 (all partners outside the EU28)",
    "INT_EU28": "Intra-EU28 (EU28 members)",
    "EU27_2020_NEA20": "EU27_2020 members outside the euro area (EA20)",
}

#: Eurostat observation flags → status words.
FLAG_STATUS: dict[str, str] = {
    "b": "break",
    "c": "confidential",
    "d": "definition_differs",
    "e": "estimated",
    "f": "forecast",
    "n": "not_significant",
    "p": "provisional",
    "r": "revised",
    "s": "estimated",  # Eurostat estimate
    "u": "low_reliability",
    "z": "not_applicable",
}
#: ``CONF_STATUS`` values meaning the figure is confidential (primary, secondary).
CONFIDENTIAL_STATUS = frozenset({"C", "D"})

#: Layouts: name → (dimension columns, value indicator column).
EXT_ST_COLUMNS: tuple[str, ...] = ("indic_et", "stk_flow", "sitc06", "partner", "geo")
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


def eurostat_partner(code: str) -> str | None:
    """The Eurostat partner code for a run partner (ISO3 or aggregate code).

    ``None`` for EU member states (see the module docstring). Raises :class:`UnknownCodeError`
    for a code that is neither ISO3 nor one of :data:`AREA_CODES`.
    """
    code = code.strip().upper()
    special = {"CHN": "CN_X_HK", WORLD: "EXT_EU27_2020", "GRC": "EL", "GBR": "UK", "XKX": "XK"}
    if code in EU27_2020_MEMBERS:
        return None
    if code in special:
        return special[code]
    if code in AREA_CODES:
        return code
    country = pycountry.countries.get(alpha_3=code)
    if country is None:
        raise UnknownCodeError(NAME, code)
    return country.alpha_2


def plan(ctx: PlanContext) -> list[FetchRequest]:
    """One SDMX-CSV request per reporter geo and calendar year of ``ctx``'s window.

    Empty when none of ``EU27_2020``, ``EUU`` or ``EA20`` is among ``ctx.reporters``.
    """
    geos = sorted({REPORTER_GEO[r] for r in ctx.reporters if r in REPORTER_GEO})
    if not geos:
        return []
    if ctx.partners:
        mapped = [eurostat_partner(p) for p in ctx.partners]
        partners = sorted({p for p in mapped if p is not None})
    else:
        partners = list(DEFAULT_PARTNERS)
    base = ctx.settings.base_url(NAME)
    requests: list[FetchRequest] = []
    for geo in geos:
        key = f"M.TRD_VAL.EXP+IMP.TOTAL.{'+'.join(p for p in partners if p != geo)}.{geo}"
        for year in range(ctx.period_start.year, ctx.period_end.year + 1):
            start = max(ctx.period_start, date(year, 1, 1))
            end = min(ctx.period_end, date(year, 12, 1))
            requests.append(
                FetchRequest(
                    source=NAME,
                    url=f"{base}/sdmx/2.1/data/{DATASETS[geo]}/{key}",
                    params={
                        "format": "SDMX-CSV",
                        "startPeriod": f"{start:%Y-%m}",
                        "endPeriod": f"{end:%Y-%m}",
                    },
                    expect="csv",
                    reporter=geo,
                    period_start=start,
                    period_end=end,
                )
            )
    return requests


def area_code(code: str, kind: str = "partner") -> tuple[str, str]:
    """``(harmonised code, partner_kind)`` for a Eurostat area code (partner or reporter).

    Raises :class:`UnknownCodeError`.
    """
    code = code.strip()
    if code in AREA_CODES:
        return AREA_CODES[code]
    if len(code) == 2 and code.isalpha():  # Greece: GR in Comext, EL in the ext_st datasets
        try:
            return iso3_from_iso2(NAME, code), "country"
        except UnknownCodeError:
            raise UnknownCodeError(NAME, code, kind) from None
    raise UnknownCodeError(NAME, code, kind)


def parse(body: bytes, request: FetchRequest) -> pl.DataFrame:
    """Canonical observations (:data:`flows.schema.OBSERVATION_SCHEMA`) from one SDMX-CSV body.

    Values in whole EUR (currency ``EUR``), ``period_type`` ``month``. Raises
    :class:`ParseError` and :class:`flows.reference.UnknownCodeError` as described in the module
    docstring. A payload whose every value cell is confidential and empty gives an empty frame.
    """
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
            if confidential:
                continue
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
    frame = pl.DataFrame(records, schema=OBSERVATION_SCHEMA)
    duplicated = frame.filter(pl.struct(list(OBSERVATION_KEY)).is_duplicated())
    if duplicated.height:
        raise parse_error(
            request,
            f"{duplicated.height} rows share a load key, e.g. {duplicated.row(0, named=True)}",
        )
    return conform(frame, context=request.describe())


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
