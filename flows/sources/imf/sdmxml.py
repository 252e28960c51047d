"""IMF IMTS: the parser of one SDMX-ML 3.0 StructureSpecificData answer.

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
  :func:`flows.sources.imf.plan` only asks for ``A`` or ``M``.
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

import re
from datetime import date
from decimal import Decimal, InvalidOperation

import polars as pl
from lxml import etree

from flows.schema import OBSERVATION_SCHEMA, conform
from flows.sources.base import FetchRequest, parse_error, xml_root

from .common import FREQUENCIES, IGNORED_INDICATORS, INDICATORS, NAME, area

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

RELEASE = "IMF IMTS (SDMX 3.0) IMF.STA/IMTS"
CURRENCY = "USD"

MESSAGE_NS = "http://www.sdmx.org/resources/sdmxml/schemas/v3_0/message"
_MONTH = re.compile(r"^(\d{4})-M?(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""



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
