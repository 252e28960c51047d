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
  ``error`` field that is not empty, an empty body;
* **deadlines**, so that a slow publisher never holds the writer lock for long (the read timeout
  only limits the wait for each chunk: at 1 byte/s it never fires):

  - each request *attempt* (connection, headers and the whole body) ends after
    ``request_deadline`` seconds: a watchdog timer shuts the attempt's socket, the body is
    streamed (``stream=True``) in chunks and the wall time checked after each; a request whose
    attempt ran out is not retried and raises :class:`PublisherUnreachable`;
  - bulk downloads (requests whose ``meta["kind"]`` is in :data:`BULK_KINDS`) have no total
    deadline once their headers arrived; they are abandoned when their average throughput, after
    :data:`BULK_GRACE_SECONDS`, falls below ``min_bulk_bytes_per_second``;
  - every client (one per source per run) has a budget of ``source_budget`` seconds spent in
    requests: attempts, retries, back-off and ``Retry-After`` waits all count; the publisher's
    own pacing between requests does not (it is the contract, not slowness). Nothing runs past
    the run's end set with :func:`run_budget` (wall time, pacing included). A wait that would end
    past the budget is not slept, and a request after it raises :class:`PublisherUnreachable`
    at once.

Errors are :class:`flows.sources.base.FetchError` subclasses whose message names the source, the
request (with secrets redacted) and the problem.

:meth:`HttpClient.get` returns the body in memory; :meth:`HttpClient.get_to_file` streams it to a
file (bulk downloads), whose file side is :mod:`flows.http_stream`.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from pyrate_limiter import Limiter, Rate
from requests_ratelimiter import HostBucketFactory, LimiterAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import MaxRetryError, ResponseError
from urllib3.util.retry import Retry

from flows.http_stream import FetchedFile, stream_to_file
from flows.secrets import install as install_redaction
from flows.secrets import redact, redact_error
from flows.secrets import register as register_secret
from flows.settings import Settings
from flows.sources.base import (
    Answer,
    AuthError,
    Fetched,
    FetchError,
    FetchRequest,
    PublisherUnreachable,
    SourceError,
)

log = logging.getLogger(__name__)
install_redaction()  # urllib3's request lines and every error text below go through it

RETRY_STATUSES = (429, 500, 502, 503, 504)

#: ``FetchRequest.meta["kind"]`` values of bulk downloads: no total deadline, a throughput floor.
BULK_KINDS = frozenset({"bulk-file"})
#: Seconds a bulk download runs before its throughput is checked against the floor.
BULK_GRACE_SECONDS = 30.0
#: Bytes read per chunk while streaming a body.
CHUNK_BYTES = 64 << 10

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


class _OutOfTime(Exception):  # noqa: N818 - internal signal, never escapes HttpClient.get
    """Raised inside urllib3 to stop a request: its attempt's deadline or its budget ran out.

    Not an ``OSError``, so urllib3 does not retry it and requests does not wrap it."""


#: End of the current run's fetching (``time.monotonic()``), set by :func:`run_budget`.
_run_ends: float | None = None


@contextmanager
def run_budget(seconds: float) -> Iterator[None]:
    """Within the block, every :class:`HttpClient` stops ``seconds`` after the block started
    (setting ``run_budget``): the run stops fetching cleanly, each source that still had
    requests to send is reported unreachable ("run budget used up"), and what was fetched is
    kept. Process-wide (one refresh runs at a time: the writer lock)."""
    global _run_ends
    previous, _run_ends = _run_ends, time.monotonic() + seconds
    try:
        yield
    finally:
        _run_ends = previous


class _Attempts:
    """The deadlines of one :meth:`HttpClient.get` call, seen by its connections (thread-local).

    Each attempt (one ``conn.request`` → response → body) ends at ``min(start +
    request_deadline, budget_ends)``; ``bulk`` attempts are disarmed once their headers arrived.
    When a deadline passes, the watchdog shuts the attempt's socket and sets ``tripped``; a
    tripped request sends no further attempt."""

    def __init__(self, request_deadline: float, budget_left: float) -> None:
        self.request_deadline = request_deadline
        self.budget_left = budget_left
        #: Set at the first attempt (after the pacing wait): ``budget_left`` from then, or the
        #: run's end when that comes first.
        self.budget_ends: float | None = None
        self.first_attempt: float | None = None
        #: A bulk download's body time is not spent from the budget (its floor applies instead).
        self.counted_until: float | None = None
        self.attempt_ends = float("inf")
        self.tripped: str | None = None
        self.timers: list[threading.Timer] = []
        self.lock = threading.Lock()

    def arm(self, conn: HTTPConnection) -> None:
        if self.tripped:
            raise _OutOfTime(self.tripped)
        now = time.monotonic()
        if self.first_attempt is None:
            self.first_attempt = now
            self.budget_ends = now + self.budget_left
            if _run_ends is not None:
                self.budget_ends = min(self.budget_ends, _run_ends)
        self.attempt_ends = now + self.request_deadline
        reason = f"no complete answer within request_deadline {self.request_deadline:g} s"
        if self.budget_ends < self.attempt_ends:
            self.attempt_ends = self.budget_ends
            reason = "the time budget ran out during the request"
        previous = getattr(conn, "_watchdog", None)
        if previous is not None:
            previous.cancel()
        timer = threading.Timer(max(0.0, self.attempt_ends - now), self._expire, (conn, reason))
        timer.daemon = True
        conn._watchdog = timer
        with self.lock:
            self.timers.append(timer)
        timer.start()

    def _expire(self, conn: HTTPConnection, reason: str) -> None:
        self.tripped = reason
        # http.client drops ``conn.sock`` once a "Connection: close" answer's headers are read
        # (the response keeps reading from it): the socket saved at connect time still works.
        sock = getattr(conn, "sock", None) or getattr(conn, "_deadline_sock", None)
        if sock is not None:
            try:  # the plain socket's shutdown, also under TLS: a blocked recv returns at once
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass

    def disarm(self) -> None:
        with self.lock:
            for timer in self.timers:
                timer.cancel()
            self.timers.clear()
        self.attempt_ends = float("inf")


_local = threading.local()


def _current() -> _Attempts | None:
    return getattr(_local, "attempts", None)


class _DeadlineHTTPConnection(HTTPConnection):
    """urllib3 connection that arms the current request's watchdog for each attempt."""

    def connect(self):  # noqa: D102 - keep the socket for the watchdog (see _Attempts._expire)
        super().connect()
        self._deadline_sock = self.sock

    def request(self, *args, **kwargs):  # noqa: D102
        attempts = _current()
        if attempts is not None:
            attempts.arm(self)
        return super().request(*args, **kwargs)


class _DeadlineHTTPSConnection(HTTPSConnection):
    def connect(self):  # noqa: D102
        super().connect()
        self._deadline_sock = self.sock

    def request(self, *args, **kwargs):  # noqa: D102
        attempts = _current()
        if attempts is not None:
            attempts.arm(self)
        return super().request(*args, **kwargs)


class _DeadlineHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _DeadlineHTTPConnection


class _DeadlineHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _DeadlineHTTPSConnection


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

    def sleep(self, response=None):
        """Back-off and ``Retry-After`` waits count against the budget: a wait that would end
        after it is not slept (:class:`_OutOfTime`)."""
        attempts = _current()
        if attempts is not None and attempts.budget_ends is not None:
            wait = None
            if self.respect_retry_after_header and response is not None:
                wait = self.get_retry_after(response)
            if wait is None:
                wait = self.get_backoff_time()
            if time.monotonic() + wait > attempts.budget_ends:
                raise _OutOfTime(
                    f"the time budget does not allow the {wait:g} s wait before the next retry"
                )
        super().sleep(response)

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
    """LimiterAdapter with our own limiter, whose leak thread is stopped on ``close()``, and
    connections that arm the request deadline's watchdog."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _DeadlineHTTPConnectionPool, "https": _DeadlineHTTPSConnectionPool,
        }

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
        # Whatever key this client sends is redacted wherever it might be quoted.
        for value in self.secret_params.values():
            register_secret(value)
        for name, value in (headers or {}).items():
            if SECRET_PARAMS.search(name) or "auth" in name.lower():
                register_secret(value)
        #: Seconds spent in requests so far (pacing waits excluded), against ``source_budget``.
        self.spent = 0.0
        install_redaction()  # handlers configured since import (Prefect's) get the filter too

    def close(self) -> None:
        self.session.close()

    def budget_left(self) -> float:
        """Seconds this client may still spend in requests: what is left of ``source_budget``,
        and no more than what is left of the run (:func:`run_budget`)."""
        left = self.settings.source_budget - self.spent
        if _run_ends is not None:
            left = min(left, _run_ends - time.monotonic())
        return left

    def get(self, request: FetchRequest) -> Fetched:
        """GET ``request`` and return the body, or raise.

        Raises :class:`PublisherUnreachable` (no connection / timeouts after retries, an attempt
        past ``request_deadline``, a bulk download below ``min_bulk_bytes_per_second``, the
        source's or the run's time budget used up), :class:`AuthError` (401, 403),
        :class:`FetchError` (any other non-200 status, or an error hidden in a 200 response).
        Every message has secrets redacted (:func:`flows.secrets.redact`).
        """
        try:
            return self._get(request)
        except SourceError as exc:  # publisher bodies echo URLs, keys included
            raise redact_error(exc) from exc.__cause__

    def _get(self, request: FetchRequest) -> Fetched:
        what = redact_url(request.describe())
        self._require_budget(what)
        response, body = self._exchange(request, what)
        content_type = self._check(request, what, response, body)
        return Fetched(request=request, body=body, status=response.status_code, content_type=content_type)

    def get_to_file(self, request: FetchRequest, directory: Path) -> FetchedFile:
        """GET ``request`` streaming the body to a new temporary file in ``directory`` while
        hashing it (SHA-256), so memory stays bounded whatever the size (bulk downloads).

        Same deadlines, retries, budgets and errors as :meth:`get`; the answer checks
        (``interpret``, HTTP statuses, error pages) see the first
        :data:`~flows.http_stream.HEAD_BYTES` of the body. On success the caller owns
        ``FetchedFile.path`` (move it into the archive with
        :meth:`flows.archive.Archive.store_file`, or delete it); on any error the file is removed.
        The file side is :func:`flows.http_stream.stream_to_file`.
        """
        try:
            what = redact_url(request.describe())
            self._require_budget(what)
            return stream_to_file(self, request, what, Path(directory))
        except SourceError as exc:  # publisher bodies echo URLs, keys included
            raise redact_error(exc) from exc.__cause__

    def _require_budget(self, what: str) -> None:
        """Raise :class:`PublisherUnreachable` when the source's or the run's budget is used up."""
        if self.budget_left() <= 0:
            raise PublisherUnreachable(self.source, what, self._budget_problem())

    def _exchange(self, request: FetchRequest, what: str, write: Callable[[bytes], None] | None = None):
        """:meth:`_send` under a new set of deadlines (:class:`_Attempts`) whose time is then
        counted against the budget; ``(response, body)``, ``body`` empty when ``write`` took
        the chunks."""
        attempts = _Attempts(self.settings.request_deadline, self.settings.source_budget - self.spent)
        previous, _local.attempts = _current(), attempts
        try:
            return self._send(request, what, attempts, write=write)
        finally:
            self._settle(attempts, previous)

    def _settle(self, attempts: _Attempts, previous: _Attempts | None) -> None:
        """After a request: disarm its watchdog and count its time against the budget."""
        attempts.disarm()
        _local.attempts = previous
        if attempts.first_attempt is not None:
            until = attempts.counted_until or time.monotonic()
            self.spent += until - attempts.first_attempt

    def _check(self, request: FetchRequest, what: str, response, body: bytes) -> str:
        """Raise the publisher's or the generic error the answer carries; return its
        Content-Type."""
        content_type = response.headers.get("Content-Type", "")
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
        return content_type

    def _send(
        self, request: FetchRequest, what: str, attempts: _Attempts,
        write: Callable[[bytes], None] | None = None,
    ):  # fmt: skip
        """Send ``request`` (retries inside urllib3) and stream its body under the deadlines;
        return ``(response, body)`` (``body`` is empty when ``write`` took the chunks)."""
        timeout = (self.settings.connect_timeout, self.settings.read_timeout)
        params = {**request.params, **self.secret_params} or None
        try:
            response = self.session.get(
                request.url, params=params, timeout=timeout, headers=request.headers or None,
                stream=True,
            )
        except _OutOfTime as exc:
            raise PublisherUnreachable(self.source, what, _too_slow(exc)) from None
        except requests.exceptions.RetryError as exc:
            raise FetchError(self.source, what, f"gave up after retries: {_reason(exc)}") from exc
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            if attempts.tripped:
                raise PublisherUnreachable(self.source, what, _too_slow(attempts.tripped)) from None
            raise PublisherUnreachable(
                self.source, what, f"publisher unreachable after retries ({_reason(exc)})"
            ) from exc
        except requests.exceptions.RequestException as exc:
            raise FetchError(self.source, what, f"request failed: {redact(str(exc))}") from exc
        try:
            return response, self._read_body(response, what, attempts, request, write)
        finally:
            response.close()

    def _read_body(
        self, response, what: str, attempts: _Attempts, request: FetchRequest,
        write: Callable[[bytes], None] | None = None,
    ) -> bytes:  # fmt: skip
        """The whole body, read in chunks: an API answer must be complete by its attempt's
        deadline; a bulk download must keep ``min_bulk_bytes_per_second`` on average. With
        ``write``, each chunk goes there instead and the body returned is empty."""
        bulk = request.meta.get("kind") in BULK_KINDS
        if bulk:
            attempts.disarm()  # headers are in: the throughput floor applies from here
            attempts.counted_until = time.monotonic()
        floor = self.settings.min_bulk_bytes_per_second
        started = time.monotonic()
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(CHUNK_BYTES):
                if write is None:
                    chunks.append(chunk)
                else:
                    write(chunk)
                size += len(chunk)
                now = time.monotonic()
                if not bulk and now > attempts.attempt_ends:
                    attempts.tripped = attempts.tripped or (
                        f"no complete answer within request_deadline "
                        f"{attempts.request_deadline:g} s"
                    )
                    raise _OutOfTime(attempts.tripped)
                elapsed = now - started
                if bulk and elapsed > BULK_GRACE_SECONDS and size / elapsed < floor:
                    raise PublisherUnreachable(
                        self.source, what,
                        f"bulk download too slow: {size / elapsed:,.0f} bytes/s over "
                        f"{elapsed:.0f} s, below min_bulk_bytes_per_second {floor:,.0f}",
                    )
        except _OutOfTime as exc:
            raise PublisherUnreachable(
                self.source, what, f"{_too_slow(exc)} ({size:,} bytes received)"
            ) from None
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            if attempts.tripped:
                raise PublisherUnreachable(
                    self.source, what, f"{_too_slow(attempts.tripped)} ({size:,} bytes received)"
                ) from None
            raise PublisherUnreachable(
                self.source, what, f"the answer broke off after {size:,} bytes ({_reason(exc)})"
            ) from exc
        except requests.exceptions.RequestException as exc:
            if attempts.tripped:
                raise PublisherUnreachable(
                    self.source, what, f"{_too_slow(attempts.tripped)} ({size:,} bytes received)"
                ) from None
            raise FetchError(self.source, what, f"request failed: {redact(str(exc))}") from exc
        return b"".join(chunks)

    def _budget_problem(self) -> str:
        if _run_ends is not None and _run_ends <= time.monotonic():
            return (f"run budget of {self.settings.run_budget:g} s used up; not asked again in "
                    "this run")
        return (f"source budget of {self.settings.source_budget:g} s used up (requests, retries "
                "and waits); not asked again in this run")


def _too_slow(reason: object) -> str:
    return f"publisher too slow: {reason}"


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
    """The start of ``body`` as one line, secrets redacted (bodies often echo the URL)."""
    text = body[: limit * 2].decode("utf-8", errors="replace")
    text = redact(re.sub(r"\s+", " ", text).strip())
    return text[:limit] + ("…" if len(text) > limit or len(body) > limit * 2 else "")


def _reason(exc: BaseException) -> str:
    """The underlying error of a requests exception, e.g.
    ``ReadTimeoutError: Read timed out. (read timeout=0.3)`` or
    ``NewConnectionError: Failed to establish a new connection: [Errno 111] Connection refused``.
    """
    cause = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc
    cause = getattr(cause, "reason", None) or cause  # urllib3 MaxRetryError wraps the last error
    # urllib3 prefixes messages with the pool/connection, e.g. "HTTPConnectionPool(host=.., port=..): "
    text = re.sub(r"^\w+\(host=[^)]*\):\s*", "", str(cause))
    return redact(f"{type(cause).__name__}: {text}")[:300]
