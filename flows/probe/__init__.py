"""``trade-imbalance probe``: one cheap live request per publisher, and live checks of the strict
test double's unverified rules.

For each publisher probed, :func:`run_probe`

1. plans exactly what a refresh would send, narrowed to one reporter (:data:`PROBE_REPORTERS`;
   the refresh's default partners, :data:`flows.scope.DEFAULT_PARTNERS`) and one month — the
   latest the release calendar expects by today
   (:func:`flows.release_calendar.latest_expected_month`) — with the module's own ``plan``. The
   plan's index requests are sent as in a refresh (GACC's yearly index page, Eurostat's DSD and
   content constraint); then the **first** data request of the plan is sent (a refused Eurostat
   partner is dropped and the request sent again through the module's ``revise``, as a refresh
   does). Everything goes through the publisher's HTTP contract (:func:`flows.fetch.client_for`:
   its key headers or query key, its ``interpret`` hook, its pacing, ``Retry-After`` honoured
   within ``max_retry_after``; a quota answer stops that publisher);
2. parses the answer with the module's ``parse`` (and the check that rows answer the request,
   :func:`flows.fetch.parse_payload`);
3. runs the live checks of :mod:`flows.probe.checks` for that publisher (a few more requests:
   see the table there), unless the publisher was unreachable or out of quota.

Each :class:`ProbeResult` says: reachable (an HTTP answer came back), request accepted (the
HTTP status, or the publisher's refusal in its own words), payload parsed (rows), latest period
in the payload, time taken, requests sent, and the check outcomes. A publisher **passes** when its
request was accepted and its payload parsed (an answer "not yet released" in the publisher's own
"no data" form also passes: the request was understood) and none of its checks was
contradicted. :func:`exit_code` is 0 only when every probed publisher passes, else 1.

With ``record=DIR`` every reply (index pages, data, checks) is written to ``DIR`` by
:func:`flows.probe.record.write_record` — one file per request and ``index.json`` — with no
secret in them.

``flows`` never imports ``tests``: the checks name the double's rules by their text, and
``tests/test_probe.py`` keeps the names matched.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from flows.fetch import client_for, parse_payload
from flows.http import HttpClient, redact_url
from flows.probe.checks import (
    CONTRADICTED,
    LIVE_CHECKS,
    CheckResult,
    LiveCheck,
    ProbeState,
    run_checks,
)
from flows.probe.record import Reply, safe_headers, secrets_of, write_record
from flows.release_calendar import latest_expected_month
from flows.scope import DEFAULT_PARTNERS
from flows.sources import SOURCE_NAMES, get_source
from flows.sources.base import (
    Answer,
    Fetched,
    FetchRequest,
    MissingRelease,
    NotYetReleased,
    ParseError,
    PlanContext,
    QuotaExceeded,
    RequestRefused,
    SourceError,
)

__all__ = [
    "LIVE_CHECKS", "PROBE_REPORTERS", "CheckResult", "LiveCheck", "ProbeResult", "exit_code",
    "format_results", "run_probe",
]

#: The one reporter each publisher is probed for (ECB rates have none).
PROBE_REPORTERS: dict[str, tuple[str, ...]] = {
    "gacc": ("CHN",), "comtrade": ("CHN",), "imf": ("USA",), "census": ("USA",),
    "eurostat": ("EU27_2020",), "ecb": (),
}


@dataclass
class ProbeResult:
    """One publisher's probe.

    ``reachable``: an HTTP answer came back. ``accepted``: the publisher took the request (a
    data answer, or its own "no data" answer); ``status`` is the data request's HTTP status,
    ``message`` the publisher's refusal or the failure in its words. ``rows`` (``None`` when
    nothing was parsed) and ``latest_period`` (``YYYY-MM``) describe the parsed payload;
    ``month`` is the month asked for; ``seconds`` the time taken by the probe request(s) (checks
    excluded); ``requests`` how many requests were sent in all; ``checks`` the live checks;
    ``recorded`` the files written with ``record``.
    """

    source: str
    month: date | None = None
    request: str = ""
    reachable: bool = False
    accepted: bool = False
    status: int | None = None
    message: str = ""
    rows: int | None = None
    latest_period: str | None = None
    not_released: bool = False
    seconds: float = 0.0
    requests: int = 0
    warnings: list[str] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    recorded: list[Path] = field(default_factory=list)

    @property
    def contradicted(self) -> list[CheckResult]:
        return [c for c in self.checks if c.outcome == CONTRADICTED]

    @property
    def passed(self) -> bool:
        """Accepted and parsed (or "not yet released"), and no check contradicted."""
        parsed = self.rows is not None or self.not_released
        return self.reachable and self.accepted and parsed and not self.contradicted


class _Recorder:
    """Wraps a client's ``interpret`` so every answer is kept as a :class:`Reply`."""

    def __init__(self, source: str, client: HttpClient, read: bool):
        self.source = source
        self.client = client
        self.interpret = client.interpret if read else None
        self.last: Answer | None = None
        client.interpret = self

    def __call__(self, answer: Answer):
        self.last = answer
        return self.interpret(answer) if self.interpret is not None else None

    def get(self, request: FetchRequest, label: str, replies: list[Reply]) -> Fetched:
        """``client.get(request)``, appending its :class:`Reply` to ``replies`` (also on error)."""
        self.last = None
        reply = Reply(self.source, label, request, redact_url(request.describe()))
        replies.append(reply)
        started = time.monotonic()
        try:
            return self.client.get(request)
        except SourceError as exc:
            reply.error = str(exc)
            raise
        finally:
            reply.seconds = time.monotonic() - started
            if self.last is not None:
                reply.status = self.last.status
                reply.headers = safe_headers(self.last.headers)
                reply.body = self.last.body


def run_probe(
    settings,
    sources: list[str] | None = None,
    record: Path | None = None,
    today: date | None = None,
) -> list[ProbeResult]:
    """Probe ``sources`` (default: every publisher, :data:`flows.sources.SOURCE_NAMES`) live.

    ``settings`` is a :class:`flows.settings.Settings` (base URLs, keys, timeouts, pacing);
    ``today`` (default ``settings.run_date()``) decides the month asked for. With ``record``,
    every reply is written there (module docstring). Never raises for a publisher's problem:
    it is on that publisher's :class:`ProbeResult`. Raises ``KeyError`` for an unknown source.
    """
    if today is not None:
        settings = settings.model_copy(update={"today": today})
    today = settings.run_date()
    names = list(dict.fromkeys(sources or SOURCE_NAMES))
    modules = {name: get_source(name) for name in names}  # unknown names fail before any request
    results = []
    for name in names:
        replies: list[Reply] = []
        result = _scrubbed(_probe(name, modules[name], settings, today, replies),
                           secrets_of(settings))
        result.requests = len(replies)
        if record is not None:
            result.recorded = write_record(Path(record), replies, secrets_of(settings))
        results.append(result)
    return results


def _scrubbed(result: ProbeResult, secrets: list[str]) -> ProbeResult:
    """``result`` with every key value replaced by ``REDACTED`` in the texts it prints (a
    publisher may echo the query string, key included, in an error message)."""

    def clean(text: str) -> str:
        for secret in secrets:
            text = text.replace(secret, "REDACTED")
        return text

    result.message, result.request = clean(result.message), clean(result.request)
    result.warnings = [clean(w) for w in result.warnings]
    result.checks = [dataclasses.replace(c, request=clean(c.request), observed=clean(c.observed))
                     for c in result.checks]
    return result


def _probe(name: str, module, settings, today: date, replies: list[Reply]) -> ProbeResult:
    overrides = str(settings.release_dates_file) if settings.release_dates_file else None
    month = latest_expected_month(name, today, overrides_file=overrides)
    result = ProbeResult(name, month=month)
    client = client_for(module, settings)
    recorder = _Recorder(name, client, read=True)
    started = time.monotonic()
    data_request = None
    count = iter(range(1, 1000))
    try:
        ctx = PlanContext(
            settings=settings,
            reporters=PROBE_REPORTERS.get(name, ()),
            partners=DEFAULT_PARTNERS,
            period_start=month,
            period_end=month,
            fetch=lambda request: recorder.get(request, f"index-{next(count)}", replies),
            options={"comtrade_frequency": "M", "imf_frequency": "M",
                     "gacc_current_year": today.year},
        )
        try:
            planned = module.plan(ctx)
            data_request = next(r for r in planned if r.role == "data")
            result.request = redact_url(data_request.describe())
            fetched = _send(recorder, module, data_request, replies, result)
            result.accepted = True
            frame = parse_payload(module, fetched)
            result.rows = frame.height
            column = "period_end" if "period_end" in frame.columns else "period_start"
            if frame.height and column in frame.columns:
                result.latest_period = f"{frame.get_column(column).max():%Y-%m}"
        except StopIteration:
            result.message = f"the plan for {month:%Y-%m} asked for no data"
        except NotYetReleased as exc:
            result.accepted, result.not_released, result.message = True, True, exc.problem
        except (MissingRelease, ParseError) as exc:
            result.accepted = True
            result.message = exc.problem
            if replies and replies[-1].error is None:
                replies[-1].error = str(exc)
        except QuotaExceeded as exc:
            result.message = f"quota: {exc.problem}"
        except RequestRefused as exc:
            result.message = exc.message or exc.problem
        except SourceError as exc:
            result.message = exc.problem
        except (ValueError, KeyError) as exc:
            result.message = f"cannot plan the probe request: {exc}"
        result.seconds = time.monotonic() - started
        result.status = next((r.status for r in reversed(replies) if r.status is not None), None)
        result.reachable = any(r.status is not None for r in replies)
        quota = result.message.startswith("quota:") or result.status in (429,)
        if result.reachable and not quota:
            result.checks = _checks(name, module, settings, today, month, data_request, replies)
    finally:
        client.close()
    return result


def _send(recorder: _Recorder, module, request: FetchRequest, replies: list[Reply],
          result: ProbeResult) -> Fetched:
    """Send the data request; after a refusal, the module's corrected request once (as a
    refresh does, :func:`flows.fetch.fetch_source`)."""
    try:
        return recorder.get(request, "data", replies)
    except RequestRefused as exc:
        revise = getattr(module, "revise", None)
        revised = revise(request, exc) if revise is not None else None
        if revised is None or revised == request:
            raise
        result.warnings.append(f"refused ({exc.message or exc.problem}); sent "
                               f"{redact_url(revised.describe())} instead")
        result.request = redact_url(revised.describe())
        return recorder.get(revised, "data-revised", replies)


def _checks(name: str, module, settings, today: date, month: date,
            data_request: FetchRequest | None, replies: list[Reply]) -> list[CheckResult]:
    """The live checks of ``name``; their requests go through the publisher's HTTP contract
    but are read raw (no ``interpret``), and are appended to ``replies``."""
    clients: dict[bool, _Recorder] = {}
    last = [time.monotonic()]  # the probe's own request has just been answered

    def send(label: str, request: FetchRequest, keyless: bool = False) -> Reply:
        if label in state.cache:
            return state.cache[label]
        use = settings.model_copy(update=_no_keys()) if keyless else settings
        if keyless not in clients:
            clients[keyless] = _Recorder(name, client_for(module, use), read=False)
        # Each client paces itself; across clients (keyed probe, keyless check) the publisher's
        # spacing is kept here, so the checks never burst.
        time.sleep(max(0.0, _interval(module, use) - (time.monotonic() - last[0])))
        try:
            clients[keyless].get(request, label, replies)
        except SourceError:
            pass  # the raw reply (or the failure) is on the Reply
        finally:
            last[0] = time.monotonic()
        state.cache[label] = replies[-1]
        return replies[-1]

    state = ProbeState(name, settings, today, month, data_request, list(replies), send)
    try:
        return run_checks(state)
    finally:
        for recorder in clients.values():
            recorder.client.close()


def _interval(module, settings) -> float:
    """The publisher's own spacing between two requests (seconds), as :func:`client_for` reads
    it, and never less than the per-host ``requests_per_minute`` spacing."""
    if hasattr(module, "min_interval"):
        own = float(module.min_interval(settings))
    else:
        own = float(getattr(module, "MIN_INTERVAL_SECONDS", 0.0))
    return max(own, 60.0 / settings.requests_per_minute if settings.requests_per_minute else 0.0)


def _no_keys() -> dict[str, Any]:
    return {"comtrade_api_key": None, "census_api_key": None, "imf_api_key": None}


def format_results(results: list[ProbeResult]) -> list[str]:
    """Lines for the console: per publisher its verdict and the five facts, then one line per
    live check, then a summary."""
    lines = []
    for r in results:
        verdict = "PASS" if r.passed else "FAIL"
        status = f"HTTP {r.status}" if r.status is not None else "no answer"
        accepted = "yes" if r.accepted else "no"
        if r.not_released:
            parsed = "no rows (not yet released)"
        elif r.rows is not None:
            parsed = f"{r.rows} rows"
        else:
            parsed = "no"
        month = f"{r.month:%Y-%m}" if r.month else "?"
        lines.append(
            f"{r.source}: {verdict} — reachable {'yes' if r.reachable else 'no'}; accepted "
            f"{accepted} ({status}); parsed {parsed}; latest period {r.latest_period or '-'}; "
            f"{r.seconds:.1f} s; {r.requests} request(s); asked for {month}"
        )
        if r.message:
            lines.append(f"  {'publisher said' if r.reachable else 'problem'}: {r.message}")
        if r.request:
            lines.append(f"  request: {r.request}")
        lines += [f"  warning: {w}" for w in r.warnings]
        for c in r.checks:
            lines.append(f"  check [{c.outcome}] {c.rule!r}: expected {c.expected}; got {c.observed}")
        if r.recorded:
            lines.append(f"  recorded: {len(r.recorded) - 1} file(s) in {r.recorded[-1].parent}")
    passed = sum(r.passed for r in results)
    contradicted = sum(len(r.contradicted) for r in results)
    lines.append(f"{passed}/{len(results)} publishers passed; {contradicted} double rule(s) "
                 "contradicted by the live service")
    return lines


def exit_code(results: list[ProbeResult]) -> int:
    """0 when every probed publisher passed (:attr:`ProbeResult.passed`), else 1."""
    return 0 if results and all(r.passed for r in results) else 1

