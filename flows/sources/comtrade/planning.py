"""The requests a Comtrade run sends, and how fast (live_contracts.md §5, sources.md §1).

See :func:`plan` for the request contract and :func:`min_interval` for the pacing; the evidence
and confidence of each rule is in the package docstring (:mod:`flows.sources.comtrade`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from flows.reference import AGGREGATES
from flows.schema import add_months
from flows.sources.base import FetchRequest, PlanContext

from .codes import NAME, comtrade_code

#: Records one keyed ``data/v1/get`` call returns at most (sources.md §1; comtradr
#: ``R/ct_process_response.R`` warns at exactly 100k rows).
DATA_API_CAP = 100_000
#: Records the keyless ``public/v1/preview`` endpoint returns at most (comtradeapicall README).
PREVIEW_CAP = 500
#: Periods per keyed call: 12 months (one year) for monthly data, 12 years for annual data
#: (comtradr ``R/ct_get_data.R``).
MAX_PERIODS_PER_CALL = 12
#: Periods per keyless preview call: one (the conservative rule; see the package docstring).
PREVIEW_PERIODS_PER_CALL = 1
#: Seconds between two keyed requests: comtradr's own pacing, 10 a minute
#: (``R/ct_perform_request.R`` @ 0262f7f0, ``requests_per_second = 10/60``).
KEYED_MIN_INTERVAL = 6.0
#: Seconds between two keyless preview requests: twice the keyed spacing, because the preview
#: throttles harder (429 after "roughly 6–10 rapid calls", a per-IP quota after ~100 calls;
#: live_contracts §5, unverified numbers).
PREVIEW_MIN_INTERVAL = 12.0

#: Flows requested (exports, imports). Memo flows a payload carries are parsed under their own
#: codes (:data:`flows.sources.comtrade.codes.FLOW_CODES`), never added to X/M.
REQUESTED_FLOWS: tuple[str, ...] = ("X", "M")

#: Partners asked for when a run names none: a fixed set of China's large trading partners plus
#: China itself (so peer reporters' trade with China is covered). Not a ranking; the reporter is
#: left out of its own default list. World (partner 0) is always requested in addition.
DEFAULT_PARTNERS: tuple[str, ...] = (
    "CHN", "USA", "HKG", "JPN", "KOR", "TWN", "VNM", "DEU", "IND", "AUS", "RUS", "MYS", "BRA",
    "NLD",
)  # fmt: skip

_CMD_CODE = re.compile(r"^(TOTAL|\d{2}|\d{4}|\d{6})$")


def headers(settings: Any) -> dict[str, str]:
    """``{"Ocp-Apim-Subscription-Key": key}`` when ``settings.comtrade_api_key`` is set, else ``{}``."""
    key = getattr(settings, "comtrade_api_key", None)
    if key is None:
        return {}
    secret = key.get_secret_value() if hasattr(key, "get_secret_value") else str(key)
    return {"Ocp-Apim-Subscription-Key": secret} if secret else {}


def min_interval(settings: Any) -> float:
    """Seconds to leave between two Comtrade requests.

    :data:`KEYED_MIN_INTERVAL` (6 s, 10 a minute) with a key, :data:`PREVIEW_MIN_INTERVAL`
    (12 s) without. ``0`` when ``comtrade_base_url`` points at a loopback host (a local test
    double or recorded server is not the publisher; ``requests_per_minute`` alone applies there).
    """
    if _is_loopback(settings.base_url(NAME)):
        return 0.0
    return KEYED_MIN_INTERVAL if headers(settings) else PREVIEW_MIN_INTERVAL


def _is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def plan(ctx: PlanContext) -> list[FetchRequest]:
    """The Comtrade data requests for a run: one per reporter × period chunk (× partner group).

    * Endpoint: ``{base}/data/v1/get/C/{freq}/HS`` with a key, else
      ``{base}/public/v1/preview/C/{freq}/HS`` (keyless, 500 records; ``maxRecords=500`` is sent).
      ``base`` is ``ctx.settings.base_url("comtrade")``.
    * ``freq`` = ``ctx.options["comtrade_frequency"]``: ``"M"`` (default) or ``"A"``. Monthly
      periods are ``YYYYMM``, annual ``YYYY``. Keyed: a comma list of at most 12 periods per
      call, fewer when the expected records (partners × 2 flows × commodities × periods) would
      reach the cap. Keyless preview: **one period per call**. Partners (a comma list) are split
      into groups only if one period alone would reach the cap.
    * Pinned params: ``reporterCode`` (keyed; the preview takes ``reportercode``, as Comtrade's
      own client sends it), ``partnerCode`` (``0`` = World, then each partner),
      ``partner2Code=0``, ``period``, ``cmdCode`` (``TOTAL`` or ``ctx.options
      ["comtrade_cmd_codes"]``: HS codes of 2, 4 or 6 digits as strings), ``flowCode=X,M``,
      ``motCode=0``, ``customsCode=C00``, ``includeDesc=true``, ``breakdownMode=classic`` — so
      only the publisher's total rows are asked for.
    * ``ctx.partners`` empty → World plus :data:`DEFAULT_PARTNERS`; the reporter itself is never
      asked for as its own partner.
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
        reporter_param, most_periods = "reporterCode", MAX_PERIODS_PER_CALL
    else:
        url = f"{base}/public/v1/preview/C/{freq}/HS"
        cap, extra = PREVIEW_CAP, {"maxRecords": str(PREVIEW_CAP)}
        reporter_param, most_periods = "reportercode", PREVIEW_PERIODS_PER_CALL

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
            chunk = min(most_periods, (cap - 1) // per_period)
            for window in _chunks(periods, chunk):
                requests.append(
                    FetchRequest(
                        source=NAME,
                        url=url,
                        params={
                            reporter_param: str(reporter_code),
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
    own = comtrade_code(reporter, kind="reporter")
    codes = [0]
    for partner in chosen:
        code = comtrade_code(partner, kind="partner")
        if code not in codes and code != own:  # no reporter trades with itself
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
