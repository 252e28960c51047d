"""Run one bad-payload kind through the real HTTP path and classify what the pipeline did.

:class:`CorruptingPublishers` is the strict double (:class:`tests.double.StrictPublishers`) with
one :class:`Fault` applied to the answers whose path matches the fault's ``target``: a body
transform (the double's own answer, corrupted) or a transport fault (status, reset, stall, slow
drip). :func:`run_kind` fetches the source with :func:`flows.fetch.fetch_source`, loads the
archive the way a build does (:func:`flows.build.load_archive`) and returns a :class:`Result`
whose ``outcome`` is one of :data:`OUTCOMES`.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import duckdb
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from flows.archive import Archive
from flows.build import load_archive
from flows.fetch import SourceOutcome, fetch_source
from flows.scope import RunScope
from flows.settings import Settings
from tests.double import StrictPublishers

GACC_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "gacc"
GACC_PAGE_UUID = "00000000-0000-4000-8000-000000202506"

#: The windows asked for (what the recordings, the bundled samples or the double's labelled
#: made-up answers cover; as in tests/test_all_publishers.py, Eurostat over a whole year so a
#: truncation can cut months, GACC on the made-up June 2025 fixture page).
SCOPES: dict[str, RunScope] = {
    "gacc": RunScope(reporters=("CHN",), period_start=date(2025, 6, 1),
                     period_end=date(2025, 6, 1), options={"gacc_current_year": 2026}),
    "comtrade": RunScope(reporters=("CHN",), period_start=date(2010, 1, 1),
                         period_end=date(2010, 12, 1), options={"comtrade_frequency": "A"}),
    "imf": RunScope(reporters=("USA",), partners=("WLD",), period_start=date(2023, 1, 1),
                    period_end=date(2024, 12, 1), options={"imf_frequency": "A"}),
    "census": RunScope(reporters=("USA",), period_start=date(2024, 12, 1),
                       period_end=date(2024, 12, 1)),
    "eurostat": RunScope(reporters=("EA20",), partners=("CHN", "USA", "WLD"),
                         period_start=date(2020, 1, 1), period_end=date(2020, 12, 1),
                         options={"eurostat_sitc": "TOTAL,SITC7"}),
    "ecb": RunScope(period_start=date(2026, 3, 1), period_end=date(2026, 3, 1)),
}

#: The data requests of each source (index pages and structures are left alone).
DATA_PATHS: dict[str, str] = {
    "gacc": r"^/gacc/Statics/",
    "comtrade": r"^/comtrade/public/v1/",
    "imf": r"^/imf/data/",
    "census": r"^/census/(exports|imports)/",
    "eurostat": r"^/eurostat/sdmx/2\.1/data/",
    "ecb": r"^/ecb/data/EXR/M\.USD\.",
}

#: Deadlines of the trials: small, so a stalled or dripping publisher costs about a second.
REQUEST_DEADLINE = 0.8
SOURCE_BUDGET = 5.0
#: A kind whose fetch runs longer than this has hung (the budget plus the slack of one attempt).
HANG_SECONDS = SOURCE_BUDGET + 3.0

OUTCOMES = (
    "rejected",         # refused with a message naming source, request and problem; nothing loaded
    "quarantined",      # archived, held back by flows.quarantine, not loaded
    "recovered",        # a transient fault retried away: loaded exactly what a clean run loads
    "loaded-missing",   # loaded, a value read as missing (no row), nothing else changed
    "rejected-unclear", # refused, but the message lacks the source, the request or the problem
    "loaded-wrongly",   # THE DEFECT: loaded data that differ from what the publisher sent
    "hang",             # THE DEFECT: ran past the deadlines
)

_stop = threading.Event()


@dataclass(frozen=True)
class Fault:
    """One bad-payload kind.

    ``body`` corrupts the double's answer body (must change it); ``respond`` replaces the answer
    altogether (``respond(body) -> Response``); ``times`` limits the fault to the first N
    matching requests (a transient fault); ``after_clean`` first runs the source clean, so the
    corrupted answer is a new vintage of a loaded one (what the quarantine compares)."""

    name: str
    source: str
    label: str
    expect: str
    body: Callable[[bytes], bytes] | None = None
    respond: Callable[[bytes], Response] | None = None
    times: int | None = None
    after_clean: bool = False
    target: str | None = None

    @property
    def id(self) -> str:
        return f"{self.source}-{self.name}"


class FaultNotApplied(AssertionError):
    """The corruption did not change the body: the kind would test nothing."""


class CorruptingPublishers(StrictPublishers):
    """The strict double with :attr:`fault` applied to the answers its ``target`` matches."""

    def __init__(self, real: Path | None = None):
        super().__init__(*(() if real is None else (real,)))
        gacc = self.handlers["gacc"]
        gacc.indexes[2025] = (GACC_FIXTURES / "preliminary2025_index_jun_made_up.html").read_bytes()
        gacc.pages[GACC_PAGE_UUID] = (GACC_FIXTURES / "section4_jun2025_cny_made_up.html").read_bytes()
        self.fault: Fault | None = None
        self.applied = 0

    def __call__(self, request: Request) -> Response:
        response = super().__call__(request)
        fault = self.fault
        if fault is None or not re.search(fault.target or DATA_PATHS[fault.source], request.path):
            return response
        if fault.times is not None and self.applied >= fault.times:
            return response
        self.applied += 1
        body = response.get_data()
        if fault.respond is not None:
            return fault.respond(body)
        new = fault.body(body)
        if new == body:
            raise FaultNotApplied(f"{fault.id}: the corruption left the body unchanged")
        response.set_data(new)
        return response


# ------------------------------------------------------------------------ transport answers
def status(code: int, text: bytes = b"error", headers: dict | None = None,
           content_type: str = "text/plain") -> Callable[[bytes], Response]:
    return lambda _body: Response(text, status=code, headers=headers, content_type=content_type)


def reset_midway(body: bytes) -> Response:
    """Headers with the full ``Content-Length``, half the body, then the connection drops."""

    def stream():
        yield body[: len(body) // 2]
        raise ConnectionResetError("fault injection: connection reset by peer")

    return Response(stream(), headers={"Content-Length": str(len(body))},
                    content_type="application/octet-stream", direct_passthrough=True)


def stall(body: bytes) -> Response:
    """Headers, then nothing for up to 10 s."""

    def stream():
        _stop.wait(10)
        yield body

    return Response(stream(), headers={"Content-Length": str(len(body))},
                    content_type="application/octet-stream", direct_passthrough=True)


def drip(body: bytes) -> Response:
    """The body at about 20 bytes per second (a publisher that never times out per read)."""

    def stream():
        for start in range(len(body)):
            if _stop.wait(0.05):
                return
            yield body[start:start + 1]

    return Response(stream(), headers={"Content-Length": str(len(body))},
                    content_type="application/octet-stream", direct_passthrough=True)


# ------------------------------------------------------------------------------- the server
class Loopback:
    """A threaded werkzeug server on 127.0.0.1 serving :class:`CorruptingPublishers`."""

    def __init__(self) -> None:
        self.publishers = CorruptingPublishers()
        _stop.clear()
        self.server = make_server("127.0.0.1", 0, self.publishers.wsgi, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.server.server_port}"

    def close(self) -> None:
        _stop.set()
        self.server.shutdown()
        self.server.server_close()

    def settings(self, warehouse: Path) -> Settings:
        return Settings(
            warehouse=warehouse,
            requests_per_minute=60_000.0,
            backoff_factor=0.01,
            max_retries=2,
            max_retry_after=1.0,
            connect_timeout=1.0,
            read_timeout=0.5,
            request_deadline=REQUEST_DEADLINE,
            source_budget=SOURCE_BUDGET,
            **{f"{name}_base_url": f"{self.base}/{name}" for name in SCOPES},
        )


# ------------------------------------------------------------------------------ the trials
@dataclass
class Result:
    kind: str
    outcome: str
    message: str
    seconds: float
    lines: list[str] = field(default_factory=list)


def _messages(outcome: SourceOutcome) -> list[str]:
    return [*outcome.errors, *outcome.quarantined, *([outcome.unreachable] if outcome.unreachable else [])]


def loaded_rows(archive: Archive, path: Path, source: str) -> set[tuple]:
    """What a build loads for ``source`` from ``archive`` (its raw tables, as tuples)."""
    load_archive(archive, path)
    con = duckdb.connect(str(path), read_only=True)
    try:
        if source == "ecb":
            sql = "SELECT currency, period_start, rate FROM raw.fx_rates WHERE source = ?"
        else:
            sql = """SELECT reporter, partner, flow, valuation, period_start, period_end,
                            commodity, value, currency FROM raw.observations WHERE source = ?"""
        return set(con.execute(sql, [source]).fetchall())
    finally:
        con.close()
        path.unlink(missing_ok=True)


def clear(message: str, source: str, base: str) -> bool:
    """A message names the source, the request (``GET <loopback url>``) and a problem."""
    match = re.search(rf"{source}: GET {re.escape(base)}/{source}/\S+: (.+)", message)
    return bool(match) and len(match.group(1).strip()) >= 10


def run_kind(fault: Fault, loopback: Loopback, workdir: Path, baseline: set[tuple]) -> Result:
    """Send ``fault`` through fetch and load; classify the outcome (:data:`OUTCOMES`)."""
    settings = loopback.settings(workdir)
    archive = Archive(settings.raw_dir)
    scope = SCOPES[fault.source].resolved()
    publishers = loopback.publishers
    publishers.fault, publishers.applied = None, 0
    if fault.after_clean:
        clean = fetch_source(fault.source, scope, settings, archive)
        assert clean.ok, clean.line()
        scope = replace(scope, force=True)
    publishers.fault = fault
    started = time.monotonic()
    try:
        outcome = fetch_source(fault.source, scope, settings, archive)
    finally:
        publishers.fault = None
    seconds = time.monotonic() - started
    if publishers.applied == 0:
        raise FaultNotApplied(f"{fault.id}: no request matched {fault.target or DATA_PATHS[fault.source]}")
    messages = _messages(outcome)
    first = messages[0] if messages else ""
    if seconds > HANG_SECONDS:
        return Result(fault.id, "hang", first, seconds, messages)
    if any(": quarantined: " in m for m in outcome.quarantined):
        return Result(fault.id, "quarantined", first, seconds, messages)
    if messages:
        named = all(clear(m, fault.source, loopback.base) for m in messages)
        kind = "rejected" if named else "rejected-unclear"
        return Result(fault.id, kind, first, seconds, messages)
    rows = loaded_rows(archive, workdir / "check.duckdb", fault.source)
    if rows == baseline:
        return Result(fault.id, "recovered", "", seconds)
    if rows < baseline:
        return Result(fault.id, "loaded-missing", f"{len(baseline - rows)} values missing", seconds)
    extra = sorted(rows - baseline, key=str)[:2]
    return Result(fault.id, "loaded-wrongly", f"loaded {len(rows - baseline)} values not sent, e.g. {extra}",
                  seconds)


def baseline_rows(source: str, loopback: Loopback, workdir: Path) -> set[tuple]:
    """What a clean run of ``source`` loads (the double uncorrupted)."""
    settings = loopback.settings(workdir)
    archive = Archive(settings.raw_dir)
    loopback.publishers.fault = None
    outcome = fetch_source(source, SCOPES[source].resolved(), settings, archive)
    assert outcome.ok and outcome.rows_parsed, outcome.line()
    return loaded_rows(archive, workdir / "baseline.duckdb", source)
