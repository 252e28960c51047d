"""UN Comtrade API v1: merchandise trade by reporter, partner, flow and period (sources.md §1).

The package: :mod:`~flows.sources.comtrade.codes` (area and flow codes),
:mod:`~flows.sources.comtrade.planning` (requests, pacing), :mod:`~flows.sources.comtrade.parsing`
(observations), :mod:`~flows.sources.comtrade.answers` (error shapes, quota, :func:`interpret`).
The public names are re-exported here (``from flows.sources import comtrade``).

Contract followed (confidence as in live_contracts.md: confirmed / consistent / unverified):

====================================  ===========================================================
rule                                  evidence
====================================  ===========================================================
keyed ``/data/v1/get/C/{A|M}/HS``,    comtradeapicall ``PreviewGet.py`` (URL building);
key in ``Ocp-Apim-Subscription-Key``  recorded 401 without it (``comtrade/error_401_missing_
header, never in the query string     subscription_key.json``) [confirmed]
keyless ``/public/v1/preview/...``,   comtradeapicall PyPI page "max record 500, no subscription
at most 500 records, ``maxRecords``   key"; the recorded preview request (``preview_C_A_HS_ind
=500`` sent                           _699_...json``: ``maxRecords=5``) [confirmed]
reporter param: ``reporterCode``      recorded comtradr request (keyed) and the recorded
keyed, ``reportercode`` on the        SDK request (preview), each answered with data; the
preview (as PreviewGet.py sends it)   official client's ``PARAMS`` [confirmed]
preview: **one period per call**      comtradeapicall ``_previewFinalData`` loops one period per
                                      call (@ 05268e5e); koala73/worldmonitor issue #4646
                                      ("period=2023,2024 → HTTP 400", verified live); file-index
                                      ids 69443693903, 71578361064, 69130236278, 67534427515
                                      [consistent]. One contrary report: a 12-period preview
                                      answered 200 (id 60014363070). The conservative rule wins.
preview partners as a comma list      id 71578361064 (``partnerCode=0,410,490,156,...``)
                                      [consistent]
keyed: ≤ 12 periods per call,         comtradr ``R/ct_get_data.R``; xippios-comtrade (100k cut
≤ 100 000 records (cut silently)      off silently) [consistent]
period ``YYYY`` for A, ``YYYYMM``     Comtrade's answer to comtradeapicall issue #18 (a wrong
for M                                 format answers an empty 200) [confirmed]
totals only: ``partner2Code=0``,      comtradr ``R/ct_get_data.R`` defaults; the recorded
``motCode=0``, ``customsCode=C00``,   requests [confirmed]
``breakdownMode=classic``
pacing: 6 s keyed (10/min), 12 s      comtradr ``R/ct_perform_request.R`` @ 0262f7f0 (10/min)
keyless (:func:`min_interval`)        [confirmed in code]; keyless: 429 after "6–10 rapid
                                      calls" (ids 69130236278, 71578361064) [unverified
                                      numbers], hence twice the keyed spacing
403/429 with ``Retry-After`` retried  comtradr ``R/ct_perform_request.R`` (retries 403 and 429
within ``max_retry_after``            only with ``Retry-After``) [confirmed in code]
403 "Out of call volume quota ...     ids 21258530624, 71578361064 [consistent]
replenished in HH:MM:SS" = quota
flow codes: the 10 of the flow        see :mod:`~flows.sources.comtrade.codes` [confirmed for
reference; memo flows kept apart      X/M/RX/RM, consistent/unverified for the others]
====================================  ===========================================================

Unverified and left to ``trade-imbalance probe``: the body of a 400 (any shape is read,
:func:`~flows.sources.comtrade.answers.publisher_message`); whether the preview really refuses a
second period today; the keyless rate and quota numbers; whether unknown parameter names are
refused or ignored.

Response: JSON ``{elapsedTime, count, data: [record, ...], error}`` (extra top-level keys are
tolerated). :func:`parse` turns the publisher's *total* rows into canonical observations
(:data:`flows.schema.OBSERVATION_SCHEMA`). When a record carries ``reporterISO``/``partnerISO``
(``includeDesc=true``) it is checked against the code's expected Comtrade ISO (padding such as
``"X1 "`` stripped); a disagreement means the code table changed and raises ``ParseError``.
"""

from __future__ import annotations

from .answers import RETRY_AFTER_STATUSES, interpret, publisher_message
from .codes import (
    AGGREGATE_PREFIX,
    AREA_OVERRIDES,
    COMTRADE_AREAS,
    FLOW_CODES,
    FLOW_VALUATION,
    HEADLINE_FLOWS,
    MEMO_FLOWS,
    NAME,
    comtrade_area,
    comtrade_code,
)
from .parsing import parse
from .planning import (
    DATA_API_CAP,
    DEFAULT_PARTNERS,
    KEYED_MIN_INTERVAL,
    MAX_PERIODS_PER_CALL,
    PREVIEW_CAP,
    PREVIEW_MIN_INTERVAL,
    PREVIEW_PERIODS_PER_CALL,
    REQUESTED_FLOWS,
    headers,
    min_interval,
    plan,
)

__all__ = [
    "AGGREGATE_PREFIX", "AREA_OVERRIDES", "COMTRADE_AREAS", "DATA_API_CAP", "DEFAULT_PARTNERS",
    "FLOW_CODES", "FLOW_VALUATION", "HEADLINE_FLOWS", "KEYED_MIN_INTERVAL",
    "MAX_PERIODS_PER_CALL", "MEMO_FLOWS", "NAME", "PREVIEW_CAP", "PREVIEW_MIN_INTERVAL",
    "PREVIEW_PERIODS_PER_CALL", "REQUESTED_FLOWS", "RETRY_AFTER_STATUSES", "comtrade_area",
    "comtrade_code", "headers", "interpret", "min_interval", "parse", "plan", "publisher_message",
]  # fmt: skip
