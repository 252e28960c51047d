"""Live checks of the strict test double's *unverified* rules (docs/live_contracts.md,
"Cheapest live checks left").

Each :class:`LiveCheck` names the double's rule it tests (``rule``, equal to a ``Rule.name`` in
``tests/double/<publisher>.py``; a test keeps them matched), the request it sends, the answer the
double gives (``expected``) and a judge that reads the live answer as

* ``confirmed`` — the service answered as the double does;
* ``contradicted`` — it answered otherwise (the observed status and body are reported, and the
  double must follow the service);
* ``not checked`` — no answer to judge (the publisher was unreachable, the quota was used up, the
  probe's own request could not be planned).

The checks, one request each (several rules may be read from one answer):

==========  ===================================================================  ================
publisher   request → expected answer                                            rule confidence
==========  ===================================================================  ================
eurostat    the content constraint the refresh plan reads anyway (no extra       consistent
            request) → 200 SDMX-ML ``ContentConstraint``; observed: its partners
eurostat    the probe's data key with ``startPeriod``/``endPeriod`` = the month   unverified
            after today's → 400 SOAP fault 100 "No results found"
eurostat    ``ext_st_easitc`` (key from its DSD, one more request) with geo       unverified
            ``EA20`` and ``EXT_EA20`` for January of today's year (from 2026) →
            400 fault 150 naming ``GEO=EA20``
imf         the probe's data request with ``Accept: */*`` → 200 SDMX-JSON         confirmed
imf         the probe's key for today's month → 404 SDMX error 100 "No Results   unverified
            Found"
census      the probe's request for today's month → 204 No Content, empty body   consistent
census      a request without the ``key`` parameter (the probe's own answer when  confirmed
            no key is configured) → answered (200/204), no key demanded
comtrade    the keyless preview with two periods → 400                           consistent
comtrade    the same answer's body → the v1 envelope with the sentence in         unverified
            ``error``
==========  ===================================================================  ================

The probe must not import ``tests/``: the rule names are written here and
``tests/test_probe.py`` checks that each one is a ``Rule.name`` of ``tests.double.all_rules()``.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flows.probe.record import Reply
from flows.schema import add_months
from flows.sources.base import FetchRequest

CONFIRMED, CONTRADICTED, NOT_CHECKED = "confirmed", "contradicted", "not checked"
_FAULT = re.compile(r"<faultcode>\s*([^<]*?)\s*</faultcode>.*?<faultstring>(.*?)</faultstring>", re.S)


@dataclass
class ProbeState:
    """What a check can use: the publisher's probe (its planned data request, the replies it
    got) and ``send(label, request, keyless=False)``, which sends a request through the
    publisher's HTTP contract *without* its answer reading (the raw reply is returned; sent
    once per label)."""

    publisher: str
    settings: Any
    today: date
    month: date
    data_request: FetchRequest | None
    replies: list[Reply]
    send: Callable[..., Reply]
    cache: dict[str, Reply] = field(default_factory=dict)

    def reply_for(self, pattern: str) -> Reply | None:
        """The probe's own reply whose URL matches ``pattern`` (regular expression)."""
        return next((r for r in self.replies if re.search(pattern, r.request.url)), None)


@dataclass(frozen=True)
class LiveCheck:
    """One unverified contract point checked live (see the module docstring)."""

    publisher: str
    rule: str
    label: str
    expected: str
    ask: Callable[[ProbeState], Reply | None]
    judge: Callable[[Reply], tuple[str, str]]


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one :class:`LiveCheck`: ``outcome`` is ``confirmed``, ``contradicted`` or
    ``not checked``; ``observed`` says what came back; ``request`` is the redacted request."""

    publisher: str
    rule: str
    label: str
    request: str
    expected: str
    outcome: str
    observed: str


def _fault(reply: Reply) -> tuple[str, str] | None:
    match = _FAULT.search(reply.body[:65536].decode("utf-8", errors="replace"))
    return (match.group(1), re.sub(r"\s+", " ", match.group(2)).strip()) if match else None


def _seen(reply: Reply) -> str:
    status = "no answer" if reply.status is None else f"HTTP {reply.status}"
    body = reply.text(160)
    return f"{status}{' ' + repr(reply.content_type) if reply.content_type else ''}" + (
        f": {body}" if body else " (empty body)"
    ) + (f" [{reply.error}]" if reply.status is None and reply.error else "")


def _unanswered(reply: Reply) -> tuple[str, str] | None:
    if reply.status is None:
        return NOT_CHECKED, _seen(reply)
    if reply.status == 429 or (reply.status == 403 and b"quota" in reply.body.lower()):
        return NOT_CHECKED, f"the publisher asked to wait: {_seen(reply)}"
    if reply.status >= 500:
        return NOT_CHECKED, f"server error, nothing to judge: {_seen(reply)}"
    return None


# ------------------------------------------------------------------------------------ Eurostat
def _eurostat_constraint(state: ProbeState) -> Reply | None:
    return state.reply_for(r"/sdmx/2\.1/contentconstraint/")


def _judge_constraint(reply: Reply) -> tuple[str, str]:
    from flows.sources.eurostat.structure import read_constraint

    if (skip := _unanswered(reply)) is not None:
        return skip
    if reply.status != 200:
        return CONTRADICTED, _seen(reply)
    try:
        constraint = read_constraint(reply.body, reply.request)
    except Exception as exc:  # noqa: BLE001 - any failure to read it contradicts the rule
        return CONTRADICTED, f"HTTP 200 but not a readable content constraint: {exc}"
    partners = sorted(constraint.codes("partner") or ())
    return CONFIRMED, (
        f"HTTP 200 ContentConstraint {constraint.id}: {len(constraint.regions)} region(s), "
        f"latest month {constraint.latest_month()}, partners {', '.join(partners) or 'unconstrained'}"
    )


def _eurostat_no_data(state: ProbeState) -> Reply | None:
    if state.data_request is None:
        return None
    month = add_months(date(state.today.year, state.today.month, 1), 1)
    request = dataclasses.replace(
        state.data_request,
        params={**state.data_request.params, "startPeriod": f"{month:%Y-%m}",
                "endPeriod": f"{month:%Y-%m}"},
        period_start=month, period_end=month,
    )
    return state.send("no-data-next-month", request)


def _judge_no_data(reply: Reply) -> tuple[str, str]:
    if (skip := _unanswered(reply)) is not None:
        return skip
    fault = _fault(reply)
    if reply.status == 400 and fault and fault[0] == "100" and "no results" in fault[1].lower():
        return CONFIRMED, f"HTTP 400 fault 100: {fault[1]}"
    return CONTRADICTED, _seen(reply)


def _eurostat_ea20(state: ProbeState) -> Reply | None:
    from flows.sources.eurostat import DATASETS, structure_requests
    from flows.sources.eurostat.structure import read_datastructure

    year = max(state.today.year, 2026)
    month = date(year, 1, 1)
    base = state.settings.base_url("eurostat")
    dsd_request, _ = structure_requests(base, DATASETS["EA20"])
    dsd_reply = state.send("ea20-datastructure", dsd_request)
    try:
        if dsd_reply.status != 200:
            raise ValueError(_seen(dsd_reply))
        dsd = read_datastructure(dsd_reply.body, dsd_request)
        key = dsd.key({"freq": ["M"], "stk_flow": ["IMP"], "indic_et": ["TRD_VAL"],
                       "partner": ["EXT_EA20"], "sitc06": ["TOTAL"], "geo": ["EA20"]})
    except Exception as exc:  # noqa: BLE001 - not checked: never guess a key order
        return dataclasses.replace(
            dsd_reply, status=None, error=f"no EA20 key from the {DATASETS['EA20']} DSD: {exc}"
        )
    request = FetchRequest(
        source="eurostat", url=f"{base}/sdmx/2.1/data/{DATASETS['EA20']}/{key}",
        params={"format": "SDMX-CSV", "startPeriod": f"{month:%Y-%m}", "endPeriod": f"{month:%Y-%m}"},
        expect="csv", reporter="EA20", period_start=month, period_end=month,
        meta={"dimensions": dsd.order},
    )
    return state.send("ea20-after-last-month", request)


def _judge_ea20(reply: Reply) -> tuple[str, str]:
    if (skip := _unanswered(reply)) is not None:
        return skip
    fault = _fault(reply)
    if reply.status == 400 and fault and fault[0] == "150" and "GEO=EA20" in fault[1]:
        return CONFIRMED, f"HTTP 400 fault 150: {fault[1]}"
    return CONTRADICTED, _seen(reply)


# ----------------------------------------------------------------------------------------- IMF
def _imf_any_accept(state: ProbeState) -> Reply | None:
    if state.data_request is None:
        return None
    request = dataclasses.replace(state.data_request, headers={"Accept": "*/*"})
    return state.send("accept-any", request)


def _judge_any_accept(reply: Reply) -> tuple[str, str]:
    if (skip := _unanswered(reply)) is not None:
        return skip
    head = reply.body.lstrip()[:1]
    if reply.status == 200 and (head == b"{" or "json" in reply.content_type.lower()):
        return CONFIRMED, f"HTTP 200 JSON ({reply.content_type or 'no Content-Type'})"
    return CONTRADICTED, _seen(reply)


def _imf_no_results(state: ProbeState) -> Reply | None:
    if state.data_request is None:
        return None
    month = date(state.today.year, state.today.month, 1)
    last = add_months(month, 1).toordinal() - 1
    request = dataclasses.replace(
        state.data_request,
        params={**state.data_request.params,
                "c[TIME_PERIOD]": f"ge:{month.isoformat()}+le:{date.fromordinal(last).isoformat()}"},
        period_start=month, period_end=month,
    )
    return state.send("no-results-this-month", request)


def _judge_no_results(reply: Reply) -> tuple[str, str]:
    if (skip := _unanswered(reply)) is not None:
        return skip
    text = reply.body[:4096].decode("utf-8", errors="replace")
    if reply.status == 404 and (re.search(r'code="?100', text) or re.search(r"no\s*results", text, re.I)):
        return CONFIRMED, f"HTTP 404 error 100: {reply.text(120)}"
    return CONTRADICTED, _seen(reply)


# -------------------------------------------------------------------------------------- Census
def _census_this_month(state: ProbeState) -> Reply | None:
    if state.data_request is None:
        return None
    month = date(state.today.year, state.today.month, 1)
    request = dataclasses.replace(
        state.data_request,
        params={**state.data_request.params, "YEAR": f"{month:%Y}", "MONTH": f"{month:%m}"},
        period_start=month, period_end=month,
    )
    return state.send("no-rows-this-month", request)


def _judge_204(reply: Reply) -> tuple[str, str]:
    if (skip := _unanswered(reply)) is not None:
        return skip
    if reply.status == 204 and not reply.body.strip():
        return CONFIRMED, "HTTP 204, empty body"
    return CONTRADICTED, _seen(reply)


def _census_keyless(state: ProbeState) -> Reply | None:
    if state.data_request is None:
        return None
    if getattr(state.settings, "census_api_key", None) is None:
        return state.reply_for(r"/(exports|imports)/")  # the probe itself went without a key
    return state.send("keyless", state.data_request, keyless=True)


def _judge_keyless(reply: Reply) -> tuple[str, str]:
    if (skip := _unanswered(reply)) is not None:
        return skip
    head = reply.body.lstrip()[:15].lower()
    if reply.status in (200, 204) and not head.startswith((b"<html", b"<!doctype")):
        return CONFIRMED, f"HTTP {reply.status} without a key"
    return CONTRADICTED, _seen(reply)


# ------------------------------------------------------------------------------------ Comtrade
def _comtrade_two_periods(state: ProbeState) -> Reply | None:
    if state.data_request is None:
        return None
    base = state.settings.base_url("comtrade")
    freq = state.data_request.meta.get("freq", "M")
    params = {k: v for k, v in state.data_request.params.items() if k.lower() != "reportercode"}
    reporter = next((v for k, v in state.data_request.params.items() if k.lower() == "reportercode"), "")
    before = add_months(state.month, -1)
    periods = (f"{before:%Y%m},{state.month:%Y%m}" if freq == "M"
               else f"{state.month.year - 1},{state.month.year}")
    request = dataclasses.replace(
        state.data_request,
        url=f"{base}/public/v1/preview/C/{freq}/HS",
        params={"reportercode": reporter, **params, "period": periods, "maxRecords": "500"},
        period_start=before, period_end=state.month,
    )
    return state.send("preview-two-periods", request, keyless=True)


def _judge_two_periods(reply: Reply) -> tuple[str, str]:
    if (skip := _unanswered(reply)) is not None:
        return skip
    if reply.status == 400:
        return CONFIRMED, _seen(reply)
    return CONTRADICTED, _seen(reply)


def _judge_400_body(reply: Reply) -> tuple[str, str]:
    if (skip := _unanswered(reply)) is not None:
        return skip
    if reply.status != 400:
        return NOT_CHECKED, f"no 400 to read ({_seen(reply)})"
    try:
        payload = json.loads(reply.body)
    except ValueError:
        return CONTRADICTED, f"HTTP 400 body is not JSON: {reply.text(160)}"
    if isinstance(payload, dict) and isinstance(payload.get("error"), str) and payload["error"]:
        return CONFIRMED, f"HTTP 400 v1 envelope, error: {payload['error'][:160]}"
    keys = sorted(payload) if isinstance(payload, dict) else type(payload).__name__
    return CONTRADICTED, f"HTTP 400 JSON of another shape (keys {keys}): {reply.text(160)}"


def _shared(label: str) -> Callable[[ProbeState], Reply | None]:
    """Judge the reply another check of the same publisher already got (sent once)."""
    return lambda state: state.cache.get(label)


#: Every live check, in the order they run. ``rule`` is a ``Rule.name`` of the double.
LIVE_CHECKS: tuple[LiveCheck, ...] = (
    LiveCheck("eurostat", "structure queries: /sdmx/2.1/datastructure|contentconstraint/ESTAT/<id>",
              "contentconstraint", "HTTP 200, an SDMX-ML ContentConstraint listing the partners",
              _eurostat_constraint, _judge_constraint),
    LiveCheck("eurostat", "empty result → 400 fault 100 'No results found'", "no-data-next-month",
              "HTTP 400, SOAP fault 100 'No results found'", _eurostat_no_data, _judge_no_data),
    LiveCheck("eurostat",
              "a composition asked for after its last month (EA20 in 2026) → 400 fault 150 GEO=EA20",
              "ea20-after-last-month", "HTTP 400, SOAP fault 150 naming GEO=EA20",
              _eurostat_ea20, _judge_ea20),
    LiveCheck("imf", "without an XML Accept the API answers SDMX-JSON 2.0 (HTTP 200)", "accept-any",
              "HTTP 200 with an SDMX-JSON body", _imf_any_accept, _judge_any_accept),
    LiveCheck("imf", "an empty result is HTTP 404 with SDMX error 100 'No Results Found'",
              "no-results-this-month", "HTTP 404, SDMX error 100 'No Results Found'",
              _imf_no_results, _judge_no_results),
    LiveCheck("census", "a month with no rows → 204 No Content, empty body", "no-rows-this-month",
              "HTTP 204 with an empty body", _census_this_month, _judge_204),
    LiveCheck("census", "key= accepted (not checked)", "keyless",
              "answered without a key (HTTP 200 or 204), no key demanded",
              _census_keyless, _judge_keyless),
    LiveCheck("comtrade", "preview: exactly one period per call; more → 400", "preview-two-periods",
              "HTTP 400", _comtrade_two_periods, _judge_two_periods),
    LiveCheck("comtrade", "400 body: the v1 envelope with the sentence in 'error' (wording the double's)",
              "preview-two-periods", "a JSON v1 envelope whose 'error' holds the sentence",
              _shared("preview-two-periods"), _judge_400_body),
)


def run_checks(state: ProbeState, checks: tuple[LiveCheck, ...] = LIVE_CHECKS) -> list[CheckResult]:
    """Run ``state.publisher``'s checks; a check whose request cannot be made is ``not checked``."""
    results = []
    for check in (c for c in checks if c.publisher == state.publisher):
        try:
            reply = check.ask(state)
        except Exception as exc:  # noqa: BLE001 - a check never stops the probe
            reply, problem = None, f"{type(exc).__name__}: {exc}"
        else:
            problem = "the probe's own request could not be planned or sent"
        if reply is None:
            results.append(CheckResult(state.publisher, check.rule, check.label, "", check.expected,
                                       NOT_CHECKED, problem))
            continue
        outcome, observed = check.judge(reply)
        results.append(CheckResult(state.publisher, check.rule, check.label, reply.what,
                                   check.expected, outcome, observed))
    return results
