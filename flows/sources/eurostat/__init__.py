"""Eurostat: EU and euro-area trade by partner, SDMX 2.1 dissemination API in SDMX-CSV.

Base URL: setting ``eurostat_base_url`` (default ``https://ec.europa.eu/eurostat/api/dissemination``).
No key. Evidence and confidence per rule are in ``docs/live_contracts.md`` §1 and ``sources.md`` §4
(confirmed = Eurostat documentation or a live recording; consistent = several public clients agree;
unverified = one source or an inference).

**Request contract**

1. *Structure first* (confirmed rule: "the key must be in the exact order of dimensions set by the
   data structure definition", Eurostat "SDMX 2.1 – data query", https://wikis.ec.europa.eu/x/5ILmB).
   For each dataset the run needs, :func:`plan` reads, through ``ctx.fetch`` (role ``index``:
   archived like any payload)::

       {base}/sdmx/2.1/datastructure/ESTAT/<DSD id>        (EXT_ST_EU27_2020SITC, EXT_ST_EASITC)
       {base}/sdmx/2.1/contentconstraint/ESTAT/<DSD id>

   (resource paths as routed by cyanheads/eurostat-mcp-server, live_contracts §1.3 —
   consistent; the constraint id equal to the DSD id is **unverified** for the ext_st datasets,
   it is so for Comext DS-045409). :mod:`.structure` reads them.
2. *The key* is built from the DSD's dimension positions, never from a hard-coded order
   (:meth:`.structure.DataStructure.key`); for the ext_st datasets the DSD gives
   ``freq.stk_flow.indic_et.partner.sitc06.geo`` (consistent: swr0408/economic-platform
   ``M.EXP.IVU.EXT_EA21.TOTAL.EA21``, the data browser's generated query, the R ``eurostat`` TSV
   header)::

       {base}/sdmx/2.1/data/<dataset>/M.EXP+IMP.TRD_VAL.<partners>.<sitc06>.<geo>
           ?format=SDMX-CSV&startPeriod=YYYY-MM&endPeriod=YYYY-MM

   one request per reporter ``geo`` and calendar year of the window. Filters go in the path key
   only (query-string filters are ignored and the whole cube is extracted — swr0408, consistent).
   A DSD dimension the plan has no codes for fails the plan loudly (SourceError).
3. *Reporters* (:data:`REPORTER_GEO`): ``EU27_2020``/``EUU`` → geo ``EU27_2020``
   (``ext_st_eu27_2020sitc``); ``EA20`` and ``EA21`` → geo ``EA20``/``EA21``
   (``ext_st_easitc``). A geo is asked for only when the dataset's **content constraint** carries
   it, and only for the months the constraint's regions carrying it list: a composition that stops
   before the dataset's latest month (``EA20`` after 2025-12, replaced by ``EA21`` when Bulgaria
   joined on 1 January 2026 — consistent, live_contracts §1.4) is not asked for later months; there
   is no hard-coded date. Rows keep the composition as reporter code (:mod:`.codes`).
4. *Partners*: the run's ISO3 partners translated by :func:`.codes.eurostat_partner` (``WLD`` →
   the reporter's extra-area total ``EXT_<geo>``, ``CHN`` → ``CN_X_HK``, members of the reporter
   left out), or :data:`DEFAULT_PARTNERS`. Partners the constraint does not carry are **dropped
   with a warning** (which partners ``ext_st_eu27_2020sitc`` carries beyond US/UK is unverified;
   live_contracts §1.3). ``sitc06``: :data:`DEFAULT_SITC` or the run option ``eurostat_sitc``,
   likewise filtered by the constraint.
5. *At run time* a fault 150 naming only partners (``… not allowed: PARTNER=XX``) makes
   :func:`revise` send the request once more without them (a warning of the run; confirmed fault,
   client practice consistent — live_contracts §1.3).
6. *Answers* are read by :func:`interpret` before any parsing (:mod:`.answers`): faults 140/150 →
   RequestRefused, fault 100 "no results" or a header-only CSV → NotYetReleased/MissingRelease by
   the release calendar, ERR_NOT_FOUND → wrong dataset, 413 and queued envelopes → errors; XML is
   never parsed as CSV.

Warnings of the plan (a geo or partner the dataset does not carry) are logged on this module's
logger and passed to ``ctx.warn(message)`` when the plan context has such a callable.

Parse: :func:`.sdmxcsv.parse` (units, flags, confidential cells, errors: see :mod:`.sdmxcsv`).
Codes: :mod:`.codes`.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import date

from flows.schema import WORLD
from flows.sources.base import FetchRequest, PlanContext, RequestRefused, SourceError
from flows.sources.eurostat.answers import fault_values, interpret
from flows.sources.eurostat.codes import (
    AREA_CODES,
    CONFIDENTIAL_STATUS,
    EU27_2020_MEMBERS,
    EXTRA_AGGREGATES,
    FLAG_STATUS,
    MEMBERS,
    NAME,
    area_code,
    eurostat_partner,
)
from flows.sources.eurostat.sdmxcsv import (
    COMEXT_COLUMNS,
    EXT_ST_COLUMNS,
    null_values_allowed,
    parse,
    read_observations,
)
from flows.sources.eurostat.structure import (
    ContentConstraint,
    DataStructure,
    read_constraint,
    read_datastructure,
)

__all__ = [
    "AREA_CODES", "COMEXT_COLUMNS", "CONFIDENTIAL_STATUS", "DATASETS", "DEFAULT_PARTNERS",
    "DEFAULT_SITC", "EU27_2020_MEMBERS", "EXTRA_AGGREGATES", "EXT_ST_COLUMNS", "FLAG_STATUS",
    "MEMBERS", "NAME", "REPORTER_GEO", "STRUCTURE_IDS", "area_code", "eurostat_partner",
    "fault_values", "interpret", "null_values_allowed", "parse", "plan", "read_observations",
    "revise", "structure_requests",
]

log = logging.getLogger(__name__)

#: Run reporter code → Eurostat ``geo``.
REPORTER_GEO: dict[str, str] = {
    "EU27_2020": "EU27_2020", "EUU": "EU27_2020", "EA20": "EA20", "EA21": "EA21",
}
#: Dataset per reporter geo: EU27 / euro-area trade by partner and SITC section, monthly.
DATASETS: dict[str, str] = {
    "EU27_2020": "ext_st_eu27_2020sitc", "EA20": "ext_st_easitc", "EA21": "ext_st_easitc",
}
#: Dataset → id of its DSD (and of its content constraint).
STRUCTURE_IDS: dict[str, str] = {
    "ext_st_eu27_2020sitc": "EXT_ST_EU27_2020SITC", "ext_st_easitc": "EXT_ST_EASITC",
}
#: Partners asked for when the run names none (ISO3; ``WLD`` → the reporter's ``EXT_<geo>``).
DEFAULT_PARTNERS: tuple[str, ...] = ("CHN", "USA", "VNM", "IND", WORLD)
#: ``sitc06`` codes asked for by default: the total and the ten SITC sections.
DEFAULT_SITC: tuple[str, ...] = ("TOTAL", *(f"SITC{n}" for n in range(10)))
#: Codes of the other ext_st dimensions: monthly, exports and imports, trade value.
FIXED_CODES: dict[str, tuple[str, ...]] = {
    "freq": ("M",), "stk_flow": ("EXP", "IMP"), "indic_et": ("TRD_VAL",),
}


def structure_requests(base: str, dataset: str) -> tuple[FetchRequest, FetchRequest]:
    """The DSD and content-constraint requests of ``dataset`` (role ``index``, SDMX-ML)."""
    ident = STRUCTURE_IDS[dataset]
    return tuple(  # type: ignore[return-value]
        FetchRequest(
            source=NAME, url=f"{base}/sdmx/2.1/{resource}/ESTAT/{ident}", expect="xml",
            role="index", meta={"dataset": dataset},
        )
        for resource in ("datastructure", "contentconstraint")
    )


def plan(ctx: PlanContext) -> list[FetchRequest]:
    """SDMX-CSV data requests: one per reporter geo and calendar year of ``ctx``'s window.

    Reads each needed dataset's DSD and content constraint through ``ctx.fetch`` first (two index
    requests per dataset). Empty when no run reporter is in :data:`REPORTER_GEO`. Raises
    :class:`SourceError` (structure not readable, a DSD dimension without codes) and
    :class:`~flows.reference.UnknownCodeError` (a run partner with no Eurostat code).
    """
    geos = list(dict.fromkeys(REPORTER_GEO[r] for r in ctx.reporters if r in REPORTER_GEO))
    if not geos:
        return []
    base = ctx.settings.base_url(NAME)
    structures: dict[str, tuple[DataStructure, ContentConstraint]] = {}
    requests: list[FetchRequest] = []
    for geo in geos:
        dataset = DATASETS[geo]
        if dataset not in structures:
            dsd_request, constraint_request = structure_requests(base, dataset)
            structures[dataset] = (
                read_datastructure(ctx.fetch(dsd_request).body, dsd_request),
                read_constraint(ctx.fetch(constraint_request).body, constraint_request),
            )
        requests += _geo_requests(ctx, base, dataset, geo, *structures[dataset])
    return requests


def _geo_requests(
    ctx: PlanContext, base: str, dataset: str, geo: str, dsd: DataStructure,
    constraint: ContentConstraint,
) -> list[FetchRequest]:
    if not constraint.carries("geo", geo):
        _warn(ctx, f"{dataset} does not carry geo {geo} (its constraint lists "
                   f"{', '.join(sorted(constraint.codes('geo') or ()))}): {geo} not requested")
        return []
    start, end = _window(ctx, dataset, geo, constraint)
    if start is None or end is None:
        return []
    partners = _carried(ctx, dataset, geo, constraint, "partner", _partners(ctx, geo))
    sitc = _carried(ctx, dataset, geo, constraint, "sitc06", _sitc(ctx))
    codes = {name: _carried(ctx, dataset, geo, constraint, name, values)
             for name, values in FIXED_CODES.items()}
    if not partners or not sitc or not all(codes.values()):
        _warn(ctx, f"{dataset}: nothing left to ask for {geo} after the constraint check")
        return []
    try:
        key = dsd.key({**codes, "partner": partners, "sitc06": sitc, "geo": [geo]})
    except KeyError as exc:
        raise SourceError(NAME, f"{dataset} structure {dsd.id}", str(exc.args[0])) from None
    requests = []
    for year in range(start.year, end.year + 1):
        first, last = max(start, date(year, 1, 1)), min(end, date(year, 12, 1))
        requests.append(
            FetchRequest(
                source=NAME,
                url=f"{base}/sdmx/2.1/data/{dataset}/{key}",
                params={"format": "SDMX-CSV", "startPeriod": f"{first:%Y-%m}",
                        "endPeriod": f"{last:%Y-%m}"},
                expect="csv",
                reporter=area_code(geo, "reporter")[0],
                period_start=first,
                period_end=last,
                meta={"dimensions": dsd.order},
            )
        )
    return requests


def _window(ctx: PlanContext, dataset: str, geo: str, constraint: ContentConstraint):
    """The run window cut to the months the constraint gives ``geo``: a composition that stops
    before the dataset's latest month is not asked for after its last month; months after the
    dataset's latest month stay in (they may be not yet released)."""
    start, end = ctx.period_start, ctx.period_end
    months = constraint.months_with("geo", geo)
    if not months:
        return start, end
    first, last, latest = min(months), max(months), constraint.latest_month()
    first_day, last_day = (date(int(m[:4]), int(m[5:]), 1) for m in (first, last))
    if latest is not None and last < latest and end > last_day:
        _warn(ctx, f"{dataset} has {geo} only up to {last} (the dataset runs to {latest}; the "
                   f"composition was replaced): {geo} not requested after {last}")
        end = last_day
    if start < first_day:
        start = first_day
    if start > end:
        return None, None
    return start, end


def _partners(ctx: PlanContext, geo: str) -> list[str]:
    mapped = [eurostat_partner(p, geo) for p in (ctx.partners or DEFAULT_PARTNERS)]
    return sorted({p for p in mapped if p is not None})


def _sitc(ctx: PlanContext) -> list[str]:
    option = ctx.options.get("eurostat_sitc") or DEFAULT_SITC
    codes = option.split(",") if isinstance(option, str) else list(option)
    return list(dict.fromkeys(c.strip().upper() for c in codes if c.strip()))


def _carried(ctx, dataset: str, geo: str, constraint: ContentConstraint, dimension: str,
             wanted) -> list[str]:
    """``wanted`` codes of ``dimension`` that the constraint carries with ``geo``; the others are
    dropped with a warning."""
    carried = constraint.codes_with(dimension, "geo", geo)
    if carried is None:
        return list(wanted)
    dropped = [c for c in wanted if c not in carried]
    if dropped:
        _warn(ctx, f"{dataset} does not carry {dimension} {', '.join(dropped)} with geo {geo} "
                   "(content constraint): not requested")
    return [c for c in wanted if c in carried]


def revise(request: FetchRequest, error: RequestRefused) -> FetchRequest | None:
    """After a fault 150 naming only partners (``PARTNER=XX``), the same request without them;
    ``None`` for any other refusal or when no partner would be left."""
    if error.code != "150" or not error.values:
        return None
    if any(dim.lower() != "partner" for dim, _ in error.values):
        return None
    refused = {code for _, code in error.values}
    dims = [d.lower() for d in str(request.meta.get("dimensions", "")).split(".")]
    prefix, _, key = request.url.rpartition("/")
    positions = key.split(".")
    if "partner" not in dims or len(positions) != len(dims):
        return None
    index = dims.index("partner")
    codes = positions[index].split("+")
    kept = [c for c in codes if c not in refused]
    if not kept or kept == codes:
        return None
    positions[index] = "+".join(kept)
    log.warning("%s: Eurostat refused partner(s) %s (%s); asking again without them",
                request.describe(), ", ".join(sorted(refused)), error.message)
    return dataclasses.replace(request, url=f"{prefix}/{'.'.join(positions)}")


def _warn(ctx: PlanContext, message: str) -> None:
    log.warning("%s: %s", NAME, message)
    warn = getattr(ctx, "warn", None)
    if callable(warn):
        warn(f"{NAME}: {message}")
