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

Data flows one way: plan → fetch → archive → parse → load (DESIGN.md §2).
"""

from __future__ import annotations

import json
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

    def describe(self) -> str:
        """``GET <url>?<params>`` for messages (params carry no secrets)."""
        query = "&".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        return f"GET {self.url}" + (f"?{query}" if query else "")

    def key(self) -> str:
        """A stable identity of the request (URL, params, meta), used to find archived copies."""
        return json.dumps(
            {"url": self.url, "params": self.params, "meta": self.meta}, sort_keys=True, default=str
        )

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


class SourceError(RuntimeError):
    """A publisher's request failed or its payload could not be used.

    The message always names the source, the request and the problem.
    """

    def __init__(self, source: str, request: str, problem: str):
        self.source = source
        self.request = request
        self.problem = problem
        super().__init__(f"{source}: {request}: {problem}")


class FetchError(SourceError):
    """The HTTP exchange failed (status, error hidden in a 200 response, truncation)."""


class PublisherUnreachable(FetchError):
    """The publisher could not be reached at all (DNS, refused connection, timeouts after retries)."""


class AuthError(FetchError):
    """The publisher refused the credentials (HTTP 401/403 without a retry hint)."""


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
