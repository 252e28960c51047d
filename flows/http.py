"""The HTTP layer every publisher shares.

One :class:`requests.Session` per source with

* connect/read timeouts (settings ``connect_timeout``, ``read_timeout``);
* retries with exponential back-off on connection errors, read timeouts, 429 and 5xx, honouring
  ``Retry-After`` (urllib3 :class:`~urllib3.util.retry.Retry`);
* a per-host request rate limit (``requests-ratelimiter``; setting ``requests_per_minute``):
  requests to one host are spaced at least ``60 / requests_per_minute`` seconds apart, never
  sent in a burst;
* a descriptive ``User-Agent``;
* detection of errors hidden in 200 responses: HTML where JSON/XML/CSV was expected, a JSON
  ``error`` field that is not empty, an empty body.

Errors are :class:`flows.sources.base.FetchError` subclasses whose message names the source, the
request (with secrets redacted) and the problem.
"""

from __future__ import annotations

import json
import logging
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from pyrate_limiter import Limiter, Rate
from requests_ratelimiter import HostBucketFactory, LimiterAdapter
from urllib3.exceptions import MaxRetryError, ResponseError
from urllib3.util.retry import Retry

from flows.settings import Settings
from flows.sources.base import (
    Answer,
    AuthError,
    Fetched,
    FetchError,
    FetchRequest,
    PublisherUnreachable,
)

log = logging.getLogger(__name__)

RETRY_STATUSES = (429, 500, 502, 503, 504)

#: Query-string parameter names whose values are secrets (redacted in URLs we store or print).
SECRET_PARAMS = re.compile(r"(key|token|secret|password|subscription)", re.IGNORECASE)


def redact_url(url: str) -> str:
    """``url`` with the values of secret-looking query parameters replaced by ``REDACTED``."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = [
        (k, "REDACTED" if SECRET_PARAMS.search(k) else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(query, safe=",:+*")))


class _RetryAfterCapped(Retry):
    """urllib3 Retry that gives up when the publisher asks to wait longer than ``max_retry_after``.

    A ``Retry-After`` beyond the limit (a daily quota exhausted, say) ends the request at once with
    :class:`urllib3.exceptions.MaxRetryError` (reason names the wait) instead of sleeping for it.
    """

    max_retry_after: float = 120.0

    def new(self, **kw):  # urllib3 builds a fresh Retry after every attempt: keep the cap
        retry = super().new(**kw)
        retry.max_retry_after = self.max_retry_after
        retry.RETRY_AFTER_STATUS_CODES = self.RETRY_AFTER_STATUS_CODES
        return retry

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        if response is not None and (
            response.status in RETRY_STATUSES or response.status in self.RETRY_AFTER_STATUS_CODES
        ):
            wait = super().get_retry_after(response)
            if wait is not None and wait > self.max_retry_after:
                raise MaxRetryError(
                    _pool,
                    url,
                    ResponseError(
                        f"HTTP {response.status} with Retry-After {wait:g} s, longer than "
                        f"max_retry_after {self.max_retry_after:g} s"
                    ),
                )
        return super().increment(method, url, response, error, _pool, _stacktrace)


class _SpacedLimiterAdapter(LimiterAdapter):
    """LimiterAdapter with our own limiter, whose leak thread is stopped on ``close()``."""

    def close(self) -> None:
        super().close()
        self.limiter.bucket_factory.close()


def _spaced_limiter(requests_per_minute: float) -> Limiter:
    """At most one request per ``60 / requests_per_minute`` seconds in each host's bucket.

    (``LimiterAdapter(per_minute=n)`` would be a sliding window that lets ``n`` requests go at
    once; publishers such as UN Comtrade ask for requests to be spread out.)
    """
    if requests_per_minute <= 0:
        raise ValueError(f"requests_per_minute must be positive, got {requests_per_minute}")
    interval_ms = max(1, round(60_000 / requests_per_minute))
    return Limiter(HostBucketFactory(rates=[Rate(1, interval_ms)]), buffer_ms=50)


def make_session(
    settings: Settings,
    *,
    retry_after_statuses: tuple[int, ...] = (),
    min_interval: float = 0.0,
) -> requests.Session:
    """A session with retries, back-off, ``Retry-After`` and a per-host rate limit.

    ``retry_after_statuses``: further statuses retried only when the answer carries
    ``Retry-After`` (urllib3 retries 413/429/503 that way already). ``min_interval``: the
    publisher's own pacing in seconds between requests; the slower of it and
    ``settings.requests_per_minute`` applies.
    """
    retry = _RetryAfterCapped(
        total=settings.max_retries,
        connect=settings.max_retries,
        read=settings.max_retries,
        status=settings.max_retries,
        backoff_factor=settings.backoff_factor,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET", "HEAD"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    retry.max_retry_after = settings.max_retry_after
    retry.RETRY_AFTER_STATUS_CODES = frozenset(Retry.RETRY_AFTER_STATUS_CODES) | frozenset(
        retry_after_statuses
    )
    per_minute = settings.requests_per_minute
    if min_interval > 0:
        per_minute = min(per_minute, 60.0 / min_interval)
    adapter = _SpacedLimiterAdapter(
        limiter=_spaced_limiter(per_minute),
        per_host=True,
        max_retries=retry,
        limit_statuses=(),
    )
    session = requests.Session()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = settings.user_agent
    return session


class HttpClient:
    """Fetches :class:`FetchRequest` objects for one source.

    ``headers`` (e.g. an API key) are added to every request and never stored or logged.
    ``interpret`` is the publisher's own reading of its answers (see :mod:`flows.sources.base`);
    ``retry_after_statuses`` and ``min_interval`` go to :func:`make_session`.
    """

    def __init__(
        self,
        settings: Settings,
        source: str,
        headers: dict[str, str] | None = None,
        secret_params: dict[str, str] | None = None,
        *,
        interpret=None,
        retry_after_statuses: tuple[int, ...] = (),
        min_interval: float = 0.0,
    ):
        self.settings = settings
        self.source = source
        self.interpret = interpret
        self.session = make_session(
            settings, retry_after_statuses=retry_after_statuses, min_interval=min_interval
        )
        if headers:
            self.session.headers.update(headers)
        # Publishers that only take a key in the query string (US Census ``key=``): added at send
        # time, never part of a FetchRequest, so never archived or printed (URLs are redacted).
        self.secret_params = dict(secret_params or {})

    def close(self) -> None:
        self.session.close()

    def get(self, request: FetchRequest) -> Fetched:
        """GET ``request`` and return the body, or raise.

        Raises :class:`PublisherUnreachable` (no connection / timeouts after retries),
        :class:`AuthError` (401, 403), :class:`FetchError` (any other non-200 status, or an
        error hidden in a 200 response).
        """
        what = redact_url(request.describe())
        timeout = (self.settings.connect_timeout, self.settings.read_timeout)
        try:
            params = {**request.params, **self.secret_params} or None
            response = self.session.get(
                request.url, params=params, timeout=timeout, headers=request.headers or None
            )
        except requests.exceptions.RetryError as exc:
            raise FetchError(self.source, what, f"gave up after retries: {_reason(exc)}") from exc
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            raise PublisherUnreachable(
                self.source, what, f"publisher unreachable after retries ({_reason(exc)})"
            ) from exc
        except requests.exceptions.RequestException as exc:
            raise FetchError(self.source, what, f"request failed: {exc}") from exc

        content_type = response.headers.get("Content-Type", "")
        body = response.content
        if self.interpret is not None:
            error = self.interpret(
                Answer(
                    request, what, response.status_code, response.headers, body,
                    today=self.settings.run_date(),
                )
            )
            if error is not None:
                raise error
        if response.status_code in (401, 403):
            raise AuthError(
                self.source,
                what,
                f"HTTP {response.status_code} (access denied: missing or invalid key?): "
                f"{_snippet(body)}",
            )
        retry_after = response.headers.get("Retry-After")
        if response.status_code in (429, 503) and retry_after:
            # Retries used up, or the publisher asked for a longer wait than max_retry_after
            # (a daily quota, say): stop asking it for the rest of this run.
            raise PublisherUnreachable(
                self.source,
                what,
                f"HTTP {response.status_code}: publisher asks to wait (Retry-After {retry_after} s, "
                f"max_retry_after {self.settings.max_retry_after:g} s); try again later",
            )
        if response.status_code != 200:
            raise FetchError(self.source, what, f"HTTP {response.status_code}: {_snippet(body)}")
        check_hidden_error(self.source, what, request.expect, body, content_type)
        return Fetched(request=request, body=body, status=response.status_code, content_type=content_type)


def check_hidden_error(source: str, what: str, expect: str, body: bytes, content_type: str) -> None:
    """Raise :class:`FetchError` when a 200 response is really an error page.

    * empty body;
    * HTML (``<html`` / ``<!doctype html``) where JSON, XML or CSV was expected;
    * JSON that does not parse, or whose top-level ``error`` field is a non-empty value.
    """
    if not body.strip():
        raise FetchError(source, what, "HTTP 200 with an empty body")
    head = body[:512].lstrip().lower()
    looks_html = head.startswith(b"<!doctype html") or head.startswith(b"<html")
    if expect in ("json", "xml", "csv") and (looks_html or "text/html" in content_type.lower()):
        raise FetchError(
            source, what, f"expected {expect.upper()} but got an HTML page: {_snippet(body)}"
        )
    if expect == "json":
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise FetchError(source, what, f"expected JSON but the body does not parse: {exc}") from exc
        if isinstance(data, dict) and data.get("error") not in (None, "", [], {}):
            raise FetchError(source, what, f"publisher reported an error: {data['error']!r}")


def _snippet(body: bytes, limit: int = 200) -> str:
    text = body[:limit].decode("utf-8", errors="replace")
    text = re.sub(r"\s+", " ", text).strip()
    return text + ("…" if len(body) > limit else "")


def _reason(exc: BaseException) -> str:
    """The underlying error of a requests exception, e.g.
    ``ReadTimeoutError: Read timed out. (read timeout=0.3)`` or
    ``NewConnectionError: Failed to establish a new connection: [Errno 111] Connection refused``.
    """
    cause = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc
    cause = getattr(cause, "reason", None) or cause  # urllib3 MaxRetryError wraps the last error
    # urllib3 prefixes messages with the pool/connection, e.g. "HTTPConnectionPool(host=.., port=..): "
    text = re.sub(r"^\w+\(host=[^)]*\):\s*", "", str(cause))
    return f"{type(cause).__name__}: {text}"[:300]
