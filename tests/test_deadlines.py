"""Deadlines of the HTTP layer (:mod:`flows.http`): a slow publisher never holds a refresh.

A raw loopback socket server (:class:`DripServer`) answers every request by sending its answer
at a chosen pace — 1 byte per second in the worst case — so the read timeout (which limits each
read, not the response) never fires. Every body here is MADE UP.
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from datetime import date

import pytest

from flows import http
from flows.archive import Archive
from flows.fetch import fetch_source
from flows.http import HttpClient, run_budget
from flows.publish import writer_lock
from flows.scope import RunScope
from flows.settings import Settings, get_settings
from flows.sources.base import FetchRequest, PublisherUnreachable
from tests import test_publish

recorded = test_publish.recorded  # fixtures: the recorded publishers, a published warehouse
published = test_publish.published

MADE_UP_BODY = b'{"note": "made-up body of the drip test server"}' + b" " * 200


class DripServer:
    """Answers every connection with ``head + body``: ``head_pace``/``body_pace`` seconds between
    bytes (0 = all at once), optionally after a ``Retry-After`` 503 first. Counts connections."""

    def __init__(self, *, head_pace: float = 0.0, body_pace: float = 0.0, body: bytes = MADE_UP_BODY,
                 status_line: bytes = b"HTTP/1.1 200 OK", extra_headers: bytes = b"",
                 chunk: int = 1) -> None:
        self.head = (status_line + b"\r\nContent-Type: application/json\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\n" + extra_headers + b"\r\n")
        self.body, self.head_pace, self.body_pace, self.chunk = body, head_pace, body_pace, chunk
        self.connections = 0
        self.stop = threading.Event()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _send(self, conn: socket.socket, data: bytes, pace: float) -> None:
        if pace <= 0:
            conn.sendall(data)
            return
        for i in range(0, len(data), self.chunk):
            if self.stop.is_set():
                return
            conn.sendall(data[i:i + self.chunk])
            time.sleep(pace)

    def _answer(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(5)
            conn.recv(65536)  # the request (one small GET)
            self._send(conn, self.head, self.head_pace)
            self._send(conn, self.body, self.body_pace)
        except OSError:
            pass  # the client hung up: that is what a deadline does
        finally:
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        self.sock.close()


@pytest.fixture
def drip():
    servers: list[DripServer] = []

    def start(**kwargs) -> DripServer:
        servers.append(DripServer(**kwargs))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def settings(**overrides) -> Settings:
    values = dict(request_deadline=2.0, read_timeout=10.0, connect_timeout=2.0, max_retries=2,
                  backoff_factor=0.0, requests_per_minute=6000.0)
    values.update(overrides)
    return Settings(**values)


def request(url: str, **kwargs) -> FetchRequest:
    return FetchRequest(source="ecb", url=f"{url}/data", expect="any", **kwargs)


@pytest.mark.parametrize("phase", ["headers", "body"])
def test_a_1_byte_per_second_answer_ends_within_the_deadline(drip, phase):
    server = drip(head_pace=1.0) if phase == "headers" else drip(body_pace=1.0)
    client = HttpClient(settings(), "ecb")
    started = time.monotonic()
    try:
        with pytest.raises(PublisherUnreachable) as info:
            client.get(request(server.url))
    finally:
        client.close()
    elapsed = time.monotonic() - started
    assert 1.9 <= elapsed < 3.0, elapsed  # the 2 s deadline, not 10 s of read timeout, not hours
    assert "publisher too slow: no complete answer within request_deadline 2 s" in str(info.value)
    assert server.connections == 1  # an attempt that ran out is not retried


def test_fetch_source_reports_the_slow_publisher_unreachable_and_the_lock_is_free(drip, monkeypatch):
    server = drip(body_pace=1.0)
    monkeypatch.setenv("TRADE_IMBALANCE_ECB_BASE_URL", server.url)
    monkeypatch.setenv("TRADE_IMBALANCE_REQUEST_DEADLINE", "2")
    get_settings.cache_clear()
    current = get_settings()
    scope = RunScope(sources=("ecb",), reporters=("CHN",), period_start=date(2025, 1, 1),
                     period_end=date(2025, 3, 1), options={"fx_currencies": ["USD", "CNY"]}).resolved()
    started = time.monotonic()
    with writer_lock(current.warehouse, timeout=0):
        outcome = fetch_source("ecb", scope, current, Archive(current.raw_dir))
    elapsed = time.monotonic() - started
    assert not outcome.ok and outcome.fetched == 0
    assert "publisher too slow: no complete answer within request_deadline 2 s" in outcome.unreachable
    assert "ecb: NOT REFRESHED" in outcome.line()
    assert elapsed < 4.0, elapsed  # one attempt, then the source stops (the second currency is not sent)
    assert server.connections == 1
    with writer_lock(current.warehouse, timeout=0):  # free again: nothing waits on the drip
        pass


def test_retry_after_waits_count_against_the_source_budget(drip):
    server = drip(status_line=b"HTTP/1.1 503 Service Unavailable", extra_headers=b"Retry-After: 5\r\n")
    client = HttpClient(settings(source_budget=3.0, max_retry_after=60.0), "ecb")
    started = time.monotonic()
    try:
        with pytest.raises(PublisherUnreachable) as info:
            client.get(request(server.url))
    finally:
        client.close()
    assert time.monotonic() - started < 1.5  # the 5 s wait is not slept: it ends past the budget
    assert "the time budget does not allow the 5 s wait before the next retry" in str(info.value)


def test_time_in_requests_is_spent_from_the_source_budget(drip):
    server = drip(body_pace=0.03, chunk=10)  # 25 chunks: about 0.75 s
    client = HttpClient(settings(source_budget=0.5), "ecb")
    started = time.monotonic()
    try:
        with pytest.raises(PublisherUnreachable, match="the time budget ran out during the request"):
            client.get(request(server.url))
        assert time.monotonic() - started < 1.0
        with pytest.raises(PublisherUnreachable, match="source budget of 0.5 s used up"):
            client.get(request(server.url))
    finally:
        client.close()
    assert server.connections == 1  # the second request was never sent


def test_pacing_between_requests_is_not_spent_from_the_source_budget(drip):
    server = drip()
    client = HttpClient(settings(source_budget=0.5), "ecb")
    try:
        assert client.get(request(server.url)).body == MADE_UP_BODY
        time.sleep(0.6)  # as a publisher's pacing would make it wait
        assert client.get(request(server.url)).body == MADE_UP_BODY
    finally:
        client.close()
    assert server.connections >= 1 and client.spent < 0.5


def test_the_run_budget_stops_every_client(drip):
    server = drip()
    with run_budget(0.3):
        client = HttpClient(settings(), "ecb")
        try:
            assert client.get(request(server.url)).status == 200
            time.sleep(0.4)
            with pytest.raises(PublisherUnreachable, match="run budget of 10800 s used up"):
                client.get(request(server.url))
        finally:
            client.close()
    assert http._run_ends is None  # restored when the block ends


def test_a_slow_bulk_download_fails_below_the_throughput_floor(drip, monkeypatch):
    monkeypatch.setattr(http, "BULK_GRACE_SECONDS", 1.0)
    server = drip(body_pace=0.05, chunk=5)  # ~100 bytes/s
    client = HttpClient(settings(min_bulk_bytes_per_second=1000.0, request_deadline=60.0), "comtrade")
    started = time.monotonic()
    try:
        with pytest.raises(PublisherUnreachable, match="bulk download too slow: .* below "
                                                       "min_bulk_bytes_per_second 1,000"):
            client.get(request(server.url, meta={"kind": "bulk-file"}))
    finally:
        client.close()
    assert time.monotonic() - started < 2.5


def test_a_bulk_download_above_the_floor_may_outlast_the_request_deadline(drip):
    server = drip(body_pace=0.1, chunk=20)  # ~200 bytes/s, 250 bytes: ~1.3 s
    client = HttpClient(settings(min_bulk_bytes_per_second=10.0, request_deadline=0.5), "comtrade")
    try:
        fetched = client.get(request(server.url, meta={"kind": "bulk-file"}))
    finally:
        client.close()
    assert fetched.body == MADE_UP_BODY


@pytest.mark.flow
def test_the_run_budget_ends_a_refresh_cleanly(published, drip, monkeypatch):
    """A refresh whose publisher drips stops at the run budget (1.5 s here, well before the
    30 s request deadline), leaves the published warehouse byte for byte as it was and releases
    the writer lock."""
    from flows.flow import Source, run_refresh

    server = drip(body_pace=1.0)
    monkeypatch.setenv("TRADE_IMBALANCE_ECB_BASE_URL", server.url)
    monkeypatch.setenv("TRADE_IMBALANCE_RUN_BUDGET", "1.5")
    monkeypatch.setenv("TRADE_IMBALANCE_REQUEST_DEADLINE", "30")
    get_settings.cache_clear()
    database = get_settings().database_path
    before = hashlib.sha256(database.read_bytes()).hexdigest()
    started = time.monotonic()
    state, summary = run_refresh(sources=[Source.ECB], reporters=["CHN"],
                                 period_start=date(2025, 1, 1), period_end=date(2025, 3, 1))
    fetching = time.monotonic() - started
    assert summary["status"] == "failed" and not summary["published"], summary["lines"]
    assert any("ecb: NOT REFRESHED" in line and "time budget ran out during the request" in line
               for line in summary["lines"]), summary["lines"]
    assert server.connections == 1
    assert fetching < 60  # Prefect's start-up included; the drip alone would take 250 s
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before
    with writer_lock(get_settings().warehouse, timeout=0):
        pass
