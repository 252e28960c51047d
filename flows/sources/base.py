"""What every publisher module shares: the fetch request, the plan context and the errors.

A publisher module in :mod:`flows.sources` provides

* ``NAME`` — the source key (``"gacc"``);
* ``plan(ctx: PlanContext) -> list[FetchRequest]`` — the data requests for a run; it may fetch
  index pages through ``ctx.fetch`` (those are archived too, with ``role="index"``);
* ``parse(body: bytes, request: FetchRequest) -> polars.DataFrame`` — canonical observations
  (:data:`flows.schema.OBSERVATION_SCHEMA`) from one archived data response. It must raise
  :class:`ParseError` on anything unexpected, never return a silently empty or partial frame.

Optionally ``headers(settings) -> dict`` (API keys sent as headers) and
``secret_params(settings) -> dict`` (keys a publisher only accepts in the query string, such as
the US Census ``key``): both are added by the HTTP layer at send time and never stored.

Optional hooks for the publisher's own answer contract (see :class:`Answer`):

* ``interpret(answer: Answer) -> SourceError | None`` — called by the HTTP layer for *every*
  response before its generic checks. Return an error to raise (the publisher's own message
  kept: :class:`NotYetReleased` for "no data yet", :class:`RequestRefused` for a request the
  publisher calls malformed, :class:`QuotaExceeded`, ...) or ``None`` to let the generic checks
  decide (non-200 → :class:`FetchError`, HTML where data was expected, ...).
* ``revise(request, error) -> FetchRequest | None`` — after a :class:`RequestRefused`, a
  corrected request to send once instead (Eurostat: drop a partner the dataset does not carry),
  or ``None``. The correction is reported as a warning of the run.
* ``stale_before(request, settings) -> datetime | None`` — an archived copy of ``request``
  fetched before this moment (UTC) is re-fetched even outside the revision window (US Census:
  the June annual revision re-publishes the prior three years).
* ``RETRY_AFTER_STATUSES`` — extra HTTP statuses retried when the answer carries
  ``Retry-After`` (UN Comtrade's 403 quota answers).
* ``MIN_INTERVAL_SECONDS`` — the publisher's own pacing: at least this many seconds between two
  requests to it, whatever the global ``requests_per_minute`` (may depend on settings:
  ``min_interval(settings) -> float`` wins when present).

Data flows one way: plan → fetch → archive → parse → load (DESIGN.md §2).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

Expect = Literal["json", "html", "xml", "csv", "any"]


@dataclass(frozen=True)
class FetchRequest:
    """One HTTP GET to a publisher.

    ``url`` is absolute (built from the configured base URL). ``params`` are query parameters
    and must not contain secrets (API keys go in headers added by the HTTP layer). ``meta`` holds
    what the parser needs to know about the request that the body does not say (e.g. the GACC
    table's currency and month from discovery); it is stored in the archive manifest so that
    ``--offline`` rebuilds parse exactly as the live run did. ``role`` is ``"data"`` for payloads
    that yield observations and ``"index"`` for discovery pages.
    """

    source: str
    url: str
    params: dict[str, str] = field(default_factory=dict)
    expect: Expect = "any"
    role: Literal["data", "index"] = "data"
    reporter: str | None = None
    period_start: date | None = None
    period_end: date | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    #: Request headers the publisher's contract needs (e.g. IMF ``Accept``); never secrets
    #: (keys come from the module's ``headers(settings)`` at send time).
    headers: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        """``GET <url>?<params>`` for messages (params carry no secrets)."""
        query = "&".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        return f"GET {self.url}" + (f"?{query}" if query else "")

    def key(self) -> str:
        """A stable identity of the request (URL, params, meta), used to find archived copies."""
        identity: dict[str, Any] = {"url": self.url, "params": self.params, "meta": self.meta}
        if self.headers:  # headers that change the answer (Accept) are part of the identity
            identity["headers"] = self.headers
        return json.dumps(identity, sort_keys=True, default=str)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "url": self.url,
            "params": self.params,
            "expect": self.expect,
            "role": self.role,
            "reporter": self.reporter,
            "period_start": self.period_start.isoformat() if self.period_start else None,
            "period_end": self.period_end.isoformat() if self.period_end else None,
            "meta": self.meta,
            "headers": self.headers,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FetchRequest:
        return cls(
            source=data["source"],
            url=data["url"],
            params=dict(data.get("params") or {}),
            expect=data.get("expect", "any"),
            role=data.get("role", "data"),
            reporter=data.get("reporter"),
            period_start=date.fromisoformat(data["period_start"]) if data.get("period_start") else None,
            period_end=date.fromisoformat(data["period_end"]) if data.get("period_end") else None,
            meta=dict(data.get("meta") or {}),
            headers=dict(data.get("headers") or {}),
        )


@dataclass(frozen=True)
class Fetched:
    """A response body as received (and archived)."""

    request: FetchRequest
    body: bytes
    status: int
    content_type: str
    sha256: str = ""


@dataclass(frozen=True)
class PlanContext:
    """What a source's ``plan`` gets: the run's scope, settings and a fetcher for index pages.

    ``reporters`` and ``partners`` are ISO3 codes (empty ``partners`` = the source's default
    partner set); ``period_start``/``period_end`` are first days of months, inclusive.
    ``fetch(request)`` returns the archived :class:`Fetched` (from the network, or from the archive
    when offline) and raises :class:`SourceError` subclasses on failure.
    """

    settings: Any
    reporters: tuple[str, ...]
    partners: tuple[str, ...]
    period_start: date
    period_end: date
    fetch: Callable[[FetchRequest], Fetched]
    options: dict[str, Any] = field(default_factory=dict)
    #: Reports a correction the plan made to follow the publisher (a partner the dataset does not
    #: carry, ...); it becomes a warning of the run's outcome line.
    warn: Callable[[str], None] | None = None


class SourceError(RuntimeError):
    """A publisher's request failed or its payload could not be used.

    The message always names the source, the request and the problem.
    """

    def __init__(self, source: str, request: str, problem: str):
        from flows.secrets import redact  # a quoted body may echo a key: never let it through

        self.source = source
        self.request = redact(request)
        self.problem = redact(problem)
        super().__init__(f"{source}: {self.request}: {self.problem}")


class FetchError(SourceError):
    """The HTTP exchange failed (status, error hidden in a 200 response, truncation)."""


class PublisherUnreachable(FetchError):
    """The publisher could not be reached at all (DNS, refused connection, timeouts after retries)."""


class AuthError(FetchError):
    """The publisher refused the credentials (HTTP 401/403 without a retry hint)."""


class QuotaExceeded(PublisherUnreachable):
    """The publisher's call quota is used up (e.g. UN Comtrade's 403 "Out of call volume quota");
    the source stops for this run. ``wait`` is the publisher's stated wait, if any."""

    def __init__(self, source: str, request: str, problem: str, wait: str | None = None):
        self.wait = wait
        super().__init__(source, request, problem)


class RequestRefused(FetchError):
    """The publisher refused the request itself as malformed or naming codes it does not carry
    (Eurostat SOAP faults 140/150, UN Comtrade 400 validation errors, ...). A request bug: never
    retried as is. ``status`` is the HTTP status, ``code`` the publisher's error code (e.g.
    ``"150"``), ``message`` its own error sentence, ``values`` the ``DIM=CODE`` pairs it names."""

    def __init__(
        self,
        source: str,
        request: str,
        problem: str,
        *,
        status: int,
        code: str | None = None,
        message: str = "",
        values: tuple[tuple[str, str], ...] = (),
    ):
        self.status = status
        self.code = code
        self.message = message
        self.values = values
        super().__init__(source, request, problem)


@dataclass(frozen=True)
class Answer:
    """One HTTP response as a publisher hook sees it (:func:`interpret`): ``status``,
    ``headers`` (case-insensitive mapping), ``body`` bytes, ``request``, ``what`` (the redacted
    ``GET url?params`` to name in messages) and ``today`` (the run's date, for the release
    calendar: :func:`flows.release_calendar.is_due`)."""

    request: FetchRequest
    what: str
    status: int
    headers: Any
    body: bytes
    today: date = field(default_factory=date.today)

    @property
    def content_type(self) -> str:
        return str(self.headers.get("Content-Type", ""))

    def text(self, limit: int = 300) -> str:
        """The body as one line of text, at most ``limit`` characters (for messages)."""
        text = self.body[: limit * 2].decode("utf-8", errors="replace")
        text = re.sub(r"\s+", " ", text).strip()
        return text[:limit] + ("…" if len(text) > limit else "")


class NotYetReleased(SourceError):
    """The publisher has no data for the requested period yet, and the release calendar
    (:mod:`flows.calendar`) does not expect it yet either. Not a failure: the run reports the
    period as "not yet released" and stays ``ok``.

    ``period`` is the first month of the request that is not out yet.
    """

    def __init__(self, source: str, request: str, problem: str, period=None):
        self.period = period
        super().__init__(source, request, problem)


class MissingRelease(SourceError):
    """The publisher answered "no data" for a period the release calendar says is out: the
    data are missing (a failure of the source for this run, reported as such)."""


class ParseError(SourceError):
    """The payload was received but does not have the expected shape or content."""


def xml_root(body: bytes, request: FetchRequest):
    """The root element of an XML payload, parsed safely (no entities, no network).

    Raises :class:`ParseError` naming ``request`` when the body is not well-formed XML.
    """
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    try:
        return etree.fromstring(body, parser=parser)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise parse_error(request, f"body is not well-formed XML: {exc}") from None


def parse_error(request: FetchRequest, problem: str) -> ParseError:
    """A :class:`ParseError` naming ``request``'s source and URL."""
    return ParseError(request.source, request.describe(), problem)
