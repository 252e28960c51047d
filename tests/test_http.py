"""Tests of the shared HTTP layer (:mod:`flows.http`) against a loopback pytest-httpserver.

Every payload here is MADE UP (labelled ``made-up`` in the body) except the UN Comtrade 401 body,
which is read from ``shared/data/real/comtrade/error_401_missing_subscription_key.json``. They test
the transport (retries, timeouts, hidden errors, secrets, rate limit), not any trade figure.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from flows.http import HttpClient, redact_url
from flows.settings import Settings
from flows.sources.base import AuthError, FetchError, FetchRequest, PublisherUnreachable
from tests.conftest import real_file

SOURCE = "testsrc"
MADE_UP_JSON = b'{"note": "made-up payload", "count": 1, "data": [{"value": 1}], "error": ""}'
MADE_UP_HTML = b"<!DOCTYPE html><html><body><p>made-up page</p></body></html>"


def fast_settings(**overrides) -> Settings:
    """Settings with short timeouts, tiny back-off and a rate limit too high to matter."""
    values = {
        "connect_timeout": 0.5,
        "read_timeout": 2.0,
        "max_retries": 3,
        "backoff_factor": 0.01,
        "max_retry_after": 5.0,
        "requests_per_minute": 60_000.0,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def make_client() -> Iterator:
    """``make_client(settings=None, headers=None)`` -> an HttpClient closed after the test."""
    clients: list[HttpClient] = []

    def make(settings: Settings | None = None, headers: dict[str, str] | None = None):
        client = HttpClient(settings or fast_settings(), SOURCE, headers=headers)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def json_request(url: str, **params: str) -> FetchRequest:
    return FetchRequest(source=SOURCE, url=url, params=dict(params), expect="json")


# --- retries -------------------------------------------------------------------------------------


def test_429_retry_after_is_honoured(httpserver: HTTPServer, make_client) -> None:
    httpserver.expect_ordered_request("/data").respond_with_data(
        "made-up: too many requests", status=429, headers={"Retry-After": "1"}
    )
    httpserver.expect_ordered_request("/data").respond_with_data(
        MADE_UP_JSON, content_type="application/json"
    )
    client = make_client(fast_settings(backoff_factor=0.01))

    started = time.monotonic()
    fetched = client.get(json_request(httpserver.url_for("/data")))
    elapsed = time.monotonic() - started

    assert fetched.status == 200
    assert fetched.body == MADE_UP_JSON
    assert len(httpserver.log) == 2
    # back-off alone would wait ~0.01 s; only the Retry-After header explains a 1 s pause
    assert elapsed >= 0.95
    httpserver.check_assertions()


def test_retry_after_longer_than_max_retry_after_stops_the_source(
    httpserver: HTTPServer, make_client
) -> None:
    httpserver.expect_ordered_request("/data").respond_with_data(
        "made-up: daily quota used up", status=429, headers={"Retry-After": "3600"}
    )
    client = make_client(fast_settings(max_retry_after=5))

    started = time.monotonic()
    expected = r"testsrc: GET .*HTTP 429: publisher asks to wait \(Retry-After 3600 s"
    with pytest.raises(PublisherUnreachable, match=expected):
        client.get(json_request(httpserver.url_for("/data")))
    assert time.monotonic() - started < 1.5  # neither slept 3600 s nor 5 s
    assert len(httpserver.log) == 1


def test_5xx_responses_are_retried_until_200(httpserver: HTTPServer, make_client) -> None:
    for status in (500, 502, 503):
        httpserver.expect_ordered_request("/data").respond_with_data(
            f"made-up: server error {status}", status=status
        )
    httpserver.expect_ordered_request("/data").respond_with_data(
        MADE_UP_JSON, content_type="application/json"
    )

    fetched = make_client(fast_settings(max_retries=3)).get(json_request(httpserver.url_for("/data")))

    assert fetched.status == 200
    assert fetched.body == MADE_UP_JSON
    assert [entry[1].status_code for entry in httpserver.log] == [500, 502, 503, 200]
    httpserver.check_assertions()


def test_persistent_500_raises_fetch_error_naming_source_url_and_status(
    httpserver: HTTPServer, make_client
) -> None:
    httpserver.expect_request("/data").respond_with_data("made-up: internal error", status=500)
    client = make_client(fast_settings(max_retries=2))
    request = json_request(httpserver.url_for("/data"), period="202411", reporterCode="156")

    with pytest.raises(FetchError) as caught:
        client.get(request)

    error = caught.value
    assert type(error) is FetchError  # neither PublisherUnreachable nor AuthError
    message = str(error)
    assert message.startswith(f"{SOURCE}: ")
    assert f"GET {httpserver.url_for('/data')}?period=202411&reporterCode=156" in message
    assert "HTTP 500" in message
    assert "made-up: internal error" in message
    assert len(httpserver.log) == 3  # first try + max_retries=2


# --- unreachable publishers ----------------------------------------------------------------------


@pytest.fixture
def slow_server() -> Iterator[tuple[HTTPServer, threading.Event]]:
    """A threaded loopback server whose ``/slow`` handler answers only once ``release`` is set
    (or after 3 s), so a stalled request never blocks the shared ``httpserver``."""
    release = threading.Event()

    def stall(request: Request) -> Response:
        release.wait(3)
        return Response(MADE_UP_JSON, content_type="application/json")

    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.expect_request("/slow").respond_with_handler(stall)
    server.start()
    yield server, release
    release.set()
    server.clear()
    server.stop()


def test_read_timeout_raises_publisher_unreachable(slow_server, make_client) -> None:
    server, release = slow_server
    client = make_client(fast_settings(read_timeout=0.3, max_retries=1))
    url = server.url_for("/slow")

    started = time.monotonic()
    with pytest.raises(PublisherUnreachable) as caught:
        client.get(json_request(url))
    elapsed = time.monotonic() - started
    release.set()

    message = str(caught.value)
    assert message.startswith(f"{SOURCE}: GET {url}: publisher unreachable after retries")
    assert "Read timed out" in message
    assert "read timeout=0.3" in message
    assert elapsed >= 0.55  # two attempts of 0.3 s each


def test_connection_refused_raises_publisher_unreachable(make_client) -> None:
    # A bound but non-listening socket: connecting to its port is refused, and no other process
    # can take the port while we hold it.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        url = f"http://127.0.0.1:{port}/data"
        with pytest.raises(PublisherUnreachable) as caught:
            make_client(fast_settings(max_retries=1)).get(json_request(url))

    message = str(caught.value)
    assert message.startswith(f"{SOURCE}: GET {url}: publisher unreachable after retries")
    assert "Connection refused" in message


# --- errors hidden in 200 responses -------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "problem"),
    [
        (MADE_UP_HTML, "text/html; charset=utf-8", "expected JSON but got an HTML page"),
        # the body gives the HTML away even when the Content-Type claims JSON
        (MADE_UP_HTML, "application/json", "expected JSON but got an HTML page"),
        (
            b'{"note": "made-up payload", "data": [], "error": "made-up: quota exceeded"}',
            "application/json",
            "publisher reported an error: 'made-up: quota exceeded'",
        ),
        (b"", "application/json", "HTTP 200 with an empty body"),
        (b"  \n", "application/json", "HTTP 200 with an empty body"),
        (b'{"note": "made-up, cut off", "data": [', "application/json", "does not parse"),
    ],
    ids=["html-content-type", "html-body-json-type", "json-error-field", "empty", "blank", "bad-json"],
)
def test_error_hidden_in_200_raises_fetch_error(
    httpserver: HTTPServer, make_client, body: bytes, content_type: str, problem: str
) -> None:
    httpserver.expect_request("/data").respond_with_data(body, content_type=content_type)
    url = httpserver.url_for("/data")

    with pytest.raises(FetchError) as caught:
        make_client().get(json_request(url))

    assert type(caught.value) is FetchError
    assert str(caught.value).startswith(f"{SOURCE}: GET {url}: ")
    assert problem in str(caught.value)
    assert len(httpserver.log) == 1  # a 200 is not retried


@pytest.mark.parametrize("error_value", ["", None, [], {}], ids=["empty", "null", "list", "dict"])
def test_json_with_empty_error_field_is_ok(
    httpserver: HTTPServer, make_client, error_value
) -> None:
    # UN Comtrade answers {"count": .., "data": [..], "error": ""} when all is well
    body = json.dumps({"note": "made-up payload", "data": [], "error": error_value}).encode()
    httpserver.expect_request("/data").respond_with_data(body, content_type="application/json")

    fetched = make_client().get(json_request(httpserver.url_for("/data")))

    assert fetched.body == body


def test_html_expected_and_given_is_ok(httpserver: HTTPServer, make_client) -> None:
    httpserver.expect_request("/page").respond_with_data(
        MADE_UP_HTML, content_type="text/html; charset=utf-8"
    )
    request = FetchRequest(source=SOURCE, url=httpserver.url_for("/page"), expect="html")

    fetched = make_client().get(request)

    assert fetched.status == 200
    assert fetched.body == MADE_UP_HTML
    assert fetched.content_type == "text/html; charset=utf-8"
    assert fetched.request is request


# --- credentials and headers --------------------------------------------------------------------


def test_401_with_real_comtrade_body_raises_auth_error(
    httpserver: HTTPServer, make_client, real_data
) -> None:
    body = real_file(real_data, "comtrade/error_401_missing_subscription_key.json").read_bytes()
    httpserver.expect_request("/data/v1/get/C/A/HS").respond_with_data(
        body,
        status=401,
        content_type="application/json",
        headers={"WWW-Authenticate": "AzureApiManagementKey"},
    )
    url = httpserver.url_for("/data/v1/get/C/A/HS")
    request = json_request(url, cmdCode="TOTAL", reporterCode="156", period="2020")

    with pytest.raises(AuthError) as caught:
        make_client().get(request)

    message = str(caught.value)
    assert f"GET {url}?cmdCode=TOTAL&period=2020&reporterCode=156" in message
    assert "HTTP 401" in message
    # the publisher's own words, from the recorded body
    assert "Access denied due to missing subscription key" in message
    assert len(httpserver.log) == 1  # 401 is not retried


def test_secret_header_is_sent_and_never_shown(httpserver: HTTPServer, make_client) -> None:
    secret = "made-up-key-0123456789"
    httpserver.expect_ordered_request(
        "/data", headers={"Ocp-Apim-Subscription-Key": secret}
    ).respond_with_data(MADE_UP_JSON, content_type="application/json")
    httpserver.expect_ordered_request("/data").respond_with_data("made-up: broken", status=500)
    client = make_client(fast_settings(max_retries=0), headers={"Ocp-Apim-Subscription-Key": secret})

    client.get(json_request(httpserver.url_for("/data")))
    with pytest.raises(FetchError) as caught:
        client.get(json_request(httpserver.url_for("/data")))

    seen = httpserver.log[0][0]
    assert seen.headers["Ocp-Apim-Subscription-Key"] == secret
    assert secret not in str(caught.value)
    httpserver.check_assertions()


def test_secret_query_parameter_is_redacted_from_error_messages(
    httpserver: HTTPServer, make_client
) -> None:
    httpserver.expect_request("/data").respond_with_data("made-up: broken", status=500)
    request = json_request(
        httpserver.url_for("/data"), reporterCode="156", **{"subscription-key": "made-up-secret"}
    )

    with pytest.raises(FetchError) as caught:
        make_client(fast_settings(max_retries=0)).get(request)

    assert "made-up-secret" not in str(caught.value)
    assert "reporterCode=156&subscription-key=REDACTED" in str(caught.value)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://comtradeapi.un.org/data/v1/get/C/M/HS"
            "?reporterCode=156&partnerCode=0,842&subscription-key=made-up-abc123&period=202411",
            "https://comtradeapi.un.org/data/v1/get/C/M/HS"
            "?reporterCode=156&partnerCode=0,842&subscription-key=REDACTED&period=202411",
        ),
        (
            "https://api.census.gov/data/timeseries/intltrade/exports/hs"
            "?get=CTY_CODE,ALL_VAL_MO&time=2024-11&key=made-up-0123",
            "https://api.census.gov/data/timeseries/intltrade/exports/hs"
            "?get=CTY_CODE,ALL_VAL_MO&time=2024-11&key=REDACTED",
        ),
        ("https://example.org/x?access_token=made-up", "https://example.org/x?access_token=REDACTED"),
        ("https://example.org/plain/path", "https://example.org/plain/path"),
        ("https://example.org/x?period=2024&flow=X", "https://example.org/x?period=2024&flow=X"),
    ],
    ids=["comtrade-subscription-key", "census-key", "token", "no-query", "no-secret"],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_user_agent_is_the_descriptive_one_from_settings(
    httpserver: HTTPServer, make_client
) -> None:
    settings = fast_settings()
    assert "trade-imbalance" in settings.user_agent
    httpserver.expect_request("/data", headers={"User-Agent": settings.user_agent}).respond_with_data(
        MADE_UP_JSON, content_type="application/json"
    )

    make_client(settings).get(json_request(httpserver.url_for("/data")))

    assert httpserver.log[0][0].headers["User-Agent"] == settings.user_agent
    httpserver.check_assertions()


# --- rate limit ----------------------------------------------------------------------------------


def test_rate_limit_spaces_requests_per_host(httpserver: HTTPServer, make_client) -> None:
    httpserver.expect_request("/data").respond_with_data(
        MADE_UP_JSON, content_type="application/json"
    )
    port = httpserver.port
    client = make_client(fast_settings(requests_per_minute=120))  # one request per 0.5 s per host

    started = time.monotonic()
    for _ in range(3):
        client.get(json_request(f"http://127.0.0.1:{port}/data"))
    same_host = time.monotonic() - started

    # right after, another host name (same server) has its own bucket: no wait
    started = time.monotonic()
    client.get(json_request(f"http://localhost:{port}/data"))
    other_host = time.monotonic() - started

    assert same_host >= 0.95  # the 2nd and 3rd requests each waited ~0.5 s
    assert other_host < 0.3  # sharing 127.0.0.1's bucket would have meant a ~0.5 s wait
    assert len(httpserver.log) == 4
