"""Secrets never leave (:mod:`flows.secrets`): a full refresh with FAKE API keys, failing answers
whose bodies echo the request URL and the key header, and verbose logging (urllib3 DEBUG, which
prints every request line with its query string), then a search for the keys in every place a
run writes to: captured stdout and stderr, ``reports/*`` (HTML, markdown, ``last_run.json``),
the raw archive (objects and manifest), every VARCHAR column of every table of the warehouse,
and every text column of every table of Prefect's database under ``PREFECT_HOME`` (plus the raw
bytes of each file). Expected: 0 places.

The keys are made up. The echoing failures are MADE UP too (labelled ``X-Test-Double: made-up
failure``): the first US Census request answers 400 and every UN Comtrade request answers 401,
then a 200 with a JSON ``error`` field, each quoting the URL and the request headers back — the
shape that leaked the Census key in issue 12's trials. Everything else is the strict double of
the recorded publishers (:class:`tests.double.StrictPublishers`).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest
from werkzeug.wrappers import Response

from flows.secrets import REDACTED, RedactingFilter, install, redact, redact_error
from flows.settings import get_settings
from flows.sources.base import FetchError
from tests.recorded_server import RecordedPublishers, point_publishers_at

CENSUS_KEY = "FAKECENSUSKEY1234567890"
COMTRADE_KEY = "FAKECOMTRADEKEY987654"
KEYS = (CENSUS_KEY, COMTRADE_KEY)


class EchoingPublishers(RecordedPublishers):
    """The strict double, except that some answers are made-up failures echoing the request."""

    def __init__(self, real):
        super().__init__(real)
        self.echoed = 0
        self.census_seen = 0
        self.comtrade_seen = 0

    def _echo(self, request, status: int, json_error: bool = False) -> Response:
        self.echoed += 1
        echo = f"{request.method} {request.url} headers {dict(request.headers)}"
        body = json.dumps({"error": f"invalid request: {echo}"}) if json_error else (
            f"error: unknown variable; you asked for {echo}"
        )
        return Response(body, status=status, content_type="application/json" if json_error
                        else "text/plain", headers={"X-Test-Double": "made-up failure"})

    def __call__(self, request):
        source = request.path.lstrip("/").split("/")[0]
        if source == "census":
            self.census_seen += 1
            if self.census_seen == 1:
                self.requests.append(request.full_path)
                return self._echo(request, 400)
        if source == "comtrade":
            self.comtrade_seen += 1
            self.requests.append(request.full_path)
            return self._echo(request, 401 if self.comtrade_seen == 1 else 200,
                              json_error=self.comtrade_seen > 1)
        return super().__call__(request)


def test_redact_replaces_values_and_secret_parameters(monkeypatch):
    monkeypatch.setenv("TRADE_IMBALANCE_CENSUS_API_KEY", CENSUS_KEY)
    get_settings.cache_clear()
    text = (f"GET /x?get=A&key={CENSUS_KEY}&time=2024-01 | subscription-key=abc123secret "
            f"{{'Ocp-Apim-Subscription-Key': '{CENSUS_KEY}'}} api_key%3Dzz9 monkey=1 time=2")
    out = redact(text)
    assert CENSUS_KEY not in out and "abc123secret" not in out and "zz9" not in out
    assert "key=REDACTED&time=2024-01" in out and "subscription-key=REDACTED" in out
    assert "time=2" in out and "get=A" in out
    error = redact_error(FetchError("census", f"GET /x?key={CENSUS_KEY}", f"HTTP 400: {CENSUS_KEY}"))
    assert CENSUS_KEY not in str(error) and CENSUS_KEY not in error.problem
    assert str(error) == f"census: GET /x?key={REDACTED}: HTTP 400: {REDACTED}"


def test_the_filter_redacts_records_and_tracebacks(monkeypatch):
    monkeypatch.setenv("TRADE_IMBALANCE_COMTRADE_API_KEY", COMTRADE_KEY)
    get_settings.cache_clear()
    record = logging.LogRecord("urllib3", logging.DEBUG, __file__, 1, "%s %s", ("GET", COMTRADE_KEY), None)
    try:
        raise ValueError(f"boom {COMTRADE_KEY}")
    except ValueError:
        record.exc_info = sys.exc_info()
    assert RedactingFilter().filter(record)
    assert logging.Formatter().format(record).count(COMTRADE_KEY) == 0
    assert record.getMessage() == f"GET {REDACTED}"


@pytest.mark.flow
def test_a_refresh_with_fake_keys_leaks_them_nowhere(httpserver, real_data, monkeypatch, capfd):
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    from flows.flow import Source, run_refresh

    handler = EchoingPublishers(real_data)
    point_publishers_at(httpserver, handler, monkeypatch)
    monkeypatch.setenv("TRADE_IMBALANCE_CENSUS_API_KEY", CENSUS_KEY)
    monkeypatch.setenv("TRADE_IMBALANCE_COMTRADE_API_KEY", COMTRADE_KEY)
    get_settings.cache_clear()
    # --verbose: every logger at DEBUG on stderr (urllib3 prints each request line with its query)
    verbose = logging.StreamHandler(sys.stderr)
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", "urllib3", "prefect", "flows")}
    root.addHandler(verbose)
    for name in levels:
        logging.getLogger(name).setLevel(logging.DEBUG)
    install()
    try:
        state, summary = run_refresh(
            sources=[Source.CENSUS, Source.COMTRADE, Source.ECB], reporters=["USA", "CHN"],
            period_start=date(2024, 10, 1), period_end=date(2024, 12, 1),
        )
        for line in summary["lines"]:
            print(line)  # as the CLI does
        APILogWorker.drain_all(timeout=30)
        EventsWorker.drain_all(timeout=30)
    finally:
        root.removeHandler(verbose)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    out, err = capfd.readouterr()

    # the run did meet the echoing failures, sent the keys, and logged the request lines
    assert handler.echoed >= 2 and handler.census_seen >= 2, handler.requests
    assert any(f"key={CENSUS_KEY}" in path for path in handler.requests)
    assert "key=REDACTED" in err  # urllib3's request line, redacted
    assert summary["published"], summary["lines"]
    assert any("census" in line and "HTTP 400" in line for line in summary["lines"]), summary["lines"]

    places: dict[str, int] = {}
    leaks: list[str] = []

    def look(place: str, text: str | bytes) -> None:
        places[place] = 1
        data = text.encode() if isinstance(text, str) else text
        for key in KEYS:
            if key.encode() in data:
                leaks.append(f"{key} in {place}")

    look("stdout", out)
    look("stderr", err)
    warehouse = get_settings().warehouse
    files = [p for p in warehouse.rglob("*") if p.is_file()]
    assert (warehouse / "reports" / "last_run.json").is_file()
    assert (warehouse / "raw" / "manifest.jsonl").is_file()
    for path in files:  # reports/*, last_run.json, raw/objects/*, raw/manifest.jsonl, exports
        look(str(path.relative_to(warehouse)), path.read_bytes())
    con = duckdb.connect(str(get_settings().database_path), read_only=True)
    try:
        columns = con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "JOIN information_schema.tables USING (table_catalog, table_schema, table_name) "
            "WHERE table_type = 'BASE TABLE' AND data_type IN ('VARCHAR', 'JSON')"
        ).fetchall()
        assert len(columns) > 10, columns
        for schema, table, column in columns:
            values = con.execute(f'SELECT DISTINCT "{column}"::VARCHAR FROM "{schema}"."{table}"').fetchall()
            look(f"warehouse {schema}.{table}.{column}", "\n".join(str(v[0]) for v in values))
    finally:
        con.close()
    prefect_home = Path(os.environ["PREFECT_HOME"])
    databases = list(prefect_home.glob("*.db"))
    assert databases, list(prefect_home.iterdir())
    for path in prefect_home.rglob("*"):
        if path.is_file():
            look(f"PREFECT_HOME/{path.relative_to(prefect_home)}", path.read_bytes())
    for path in databases:
        db = sqlite3.connect(path)
        try:
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            assert {"log", "artifact", "flow_run_state"} <= set(tables), tables
            for table in tables:
                for row in db.execute(f'SELECT * FROM "{table}"'):
                    look(f"prefect {table}", "\n".join(str(v) for v in row))
        finally:
            db.close()
    print(f"searched {len(places)} places")  # noqa: T201 - visible with -s
    assert leaks == [], leaks
    assert len(places) > 50
