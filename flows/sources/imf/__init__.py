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

Answers: :mod:`~flows.sources.imf.answers` (:func:`interpret`: "no data", refusals, a JSON body).
Response: :mod:`~flows.sources.imf.sdmxml` (:func:`parse` of SDMX-ML 3.0 StructureSpecificData:
whole USD, ``SCALE`` not applied, indicators, counterparts, periods, status, vintage — each rule
with its source). Area codes and shared constants: :mod:`~flows.sources.imf.common`. Everything
public is importable from ``flows.sources.imf`` as before.
"""

from __future__ import annotations

from datetime import date

from flows.release_calendar import latest_expected_month
from flows.schema import add_months
from flows.sources.base import FetchRequest, PlanContext

from .answers import interpret
from .common import (
    ACCEPT,
    AGGREGATE_CODE,
    AGGREGATE_PREFIX,
    AREA_OVERRIDES,
    FREQUENCIES,
    IGNORED_INDICATORS,
    INDICATORS,
    NAME,
    _imf_area,
    _published,
    area,
)
from .sdmxml import (
    CURRENCY,
    DERIVATION_STATUS,
    MAX_DECIMALS_WHOLE_USD,
    MAX_PLAUSIBLE_USD,
    MESSAGE_NS,
    RELEASE,
    parse,
)

__all__ = [
    "ACCEPT", "AGGREGATE_CODE", "AGGREGATE_PREFIX", "AREA_OVERRIDES", "CURRENCY", "DATAFLOW",
    "DERIVATION_STATUS", "FREQUENCIES", "IGNORED_INDICATORS", "INDICATORS", "KEY_HEADER",
    "MAX_DECIMALS_WHOLE_USD", "MAX_PLAUSIBLE_USD", "MESSAGE_NS", "NAME", "RELEASE", "area",
    "headers", "interpret", "parse", "plan",
]  # fmt: skip

#: Dataflow path of IMTS in the SDMX 3.0 API (``+`` = latest version).
DATAFLOW = "IMF.STA/IMTS/+"

#: Header carrying the optional key (Azure API Management's default name; *unverified* for IMF).
KEY_HEADER = "Ocp-Apim-Subscription-Key"


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
