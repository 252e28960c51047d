"""Benchmark cases of the pipeline as a user runs it (one case per child process, see
:mod:`bench.cases`): a refresh that finds nothing new, a rebuild of a large archive, a no-op
Prefect flow as their baseline, the bare copy the models are measured against, and a bulk
download in memory or streamed to disk.

Every payload here is SYNTHETIC (made-up values in the UN Comtrade API v1 layout); every bulk
body is made-up bytes served over loopback.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

#: The scope every refresh and rebuild case runs with (offline: the archive only).
SCOPE = dict(sources=["comtrade"], reporters=["CHN"], offline=True)


def synthetic_payload(year: int, month: int) -> tuple[dict, dict]:
    """A SYNTHETIC UN Comtrade API v1 answer for CHN, one month, three partners, X and M
    (made-up values), and the request it answers."""
    period = f"{year}{month:02d}"
    records = []
    for partner, iso in ((0, "W00"), (842, "USA"), (392, "JPN")):
        for flow, value in (("X", 3_000_000_000.0 + partner), ("M", 2_000_000_000.0 + partner)):
            records.append({
                "typeCode": "C", "freqCode": "M", "refPeriodId": int(f"{period}01"),
                "refYear": year, "refMonth": month, "period": period,
                "reporterCode": 156, "reporterISO": "CHN", "flowCode": flow,
                "partnerCode": partner, "partnerISO": iso, "partner2Code": 0,
                "classificationCode": "H6", "classificationSearchCode": "HS",
                "cmdCode": "TOTAL", "customsCode": "C00", "motCode": 0,
                "primaryValue": value + year * 100 + month, "isReported": True,
                "legacyEstimationFlag": 0,
            })  # fmt: skip
    payload = {"elapsedTime": "SYNTHETIC", "count": len(records), "data": records, "error": ""}
    start = f"{year}-{month:02d}-01"
    request = {
        "source": "comtrade", "url": "http://127.0.0.1:9/comtrade/data/v1/get/C/M/HS",
        "params": {"reporterCode": "156", "partnerCode": "0,842,392", "period": period,
                   "cmdCode": "TOTAL", "flowCode": "X,M", "partner2Code": "0", "motCode": "0",
                   "customsCode": "C00"},
        "expect": "json", "role": "data", "reporter": "CHN", "period_start": start,
        "period_end": start, "meta": {"freq": "M", "type": "C", "classification": "HS"},
    }  # fmt: skip
    return payload, request


def _months(payloads: int) -> list[tuple[int, int]]:
    """``payloads`` consecutive months ending December 2024."""
    first = 2025 * 12 - payloads
    return [(m // 12, m % 12 + 1) for m in range(first, 2025 * 12)]


def _use(warehouse: str):
    os.environ["TRADE_IMBALANCE_WAREHOUSE"] = warehouse
    from flows.settings import get_settings

    get_settings.cache_clear()
    return get_settings()


def _window(payloads: int) -> dict:
    months = _months(payloads)
    return dict(SCOPE, period_start=date(*months[0], 1), period_end=date(*months[-1], 1))


def case_flow_setup(warehouse: str, payloads: int = 12) -> dict:
    """Archive ``payloads`` SYNTHETIC monthly payloads and run the first refresh (build and
    publish), so the next runs find nothing new."""
    from flows.archive import Archive
    from flows.sources.base import Fetched, FetchRequest

    settings = _use(warehouse)
    archive = Archive(settings.raw_dir)
    for year, month in _months(payloads):
        payload, request = synthetic_payload(year, month)
        archive.store(Fetched(FetchRequest.from_json(request), json.dumps(payload).encode(), 200,
                              "application/json"))  # fmt: skip
    from flows.flow import monthly_refresh

    started = time.perf_counter()
    summary = monthly_refresh(**_window(payloads))
    return {"seconds": time.perf_counter() - started, "status": summary["status"],
            "payloads": payloads}  # fmt: skip


def case_refresh_once(warehouse: str, payloads: int = 12, force: bool = False) -> dict:
    """One ``monthly_refresh`` on the set-up archive: nothing new (``force=False``: status
    ``unchanged``) or a full rebuild of every archived payload (``force=True``)."""
    _use(warehouse)
    from flows.flow import monthly_refresh

    started = time.perf_counter()
    summary = monthly_refresh(**_window(payloads), force=force)
    return {"seconds": time.perf_counter() - started, "status": summary["status"],
            "published": summary["published"]}  # fmt: skip


def case_noop_flow() -> dict:
    """An empty Prefect flow run: the baseline of every flow case."""
    from prefect import flow

    @flow(name="bench-noop")
    def noop() -> None:
        return None

    started = time.perf_counter()
    noop()
    return {"seconds": time.perf_counter() - started}


def case_copy(database: str, out: str) -> dict:
    """The baseline of the models: a bare copy of ``raw.observations`` into a new DuckDB file,
    on a connection configured like the models' (:func:`flows.build.configure_build`)."""
    import duckdb

    from flows.build import configure_build

    Path(out).unlink(missing_ok=True)
    started = time.perf_counter()
    con = configure_build(duckdb.connect(database), Path(out))
    con.execute(f"ATTACH '{out}' AS copy")
    con.execute("CREATE TABLE copy.observations AS SELECT * FROM raw.observations")
    rows = con.execute("SELECT count(*) FROM copy.observations").fetchone()[0]
    con.execute("CHECKPOINT copy")
    con.close()
    seconds = time.perf_counter() - started
    size = Path(out).stat().st_size
    Path(out).unlink()
    return {"seconds": seconds, "rows": rows, "bytes": size}


class _FileHandler(BaseHTTPRequestHandler):
    path_served: Path

    def do_GET(self):  # noqa: N802 - http.server's name
        size = self.path_served.stat().st_size
        self.send_response(200)
        self.send_header("Content-Type", "application/gzip")
        self.send_header("Content-Length", str(size))
        self.send_header("X-Test-Double", "made-up values")
        self.end_headers()
        with self.path_served.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                self.wfile.write(chunk)

    def log_message(self, *args):  # quiet
        return None


def case_download(path: str, mode: str, folder: str) -> dict:
    """Fetch the file at ``path`` over loopback through :class:`flows.http.HttpClient`:
    ``mode`` ``memory`` (``get``, the body in memory, then archived) or ``stream``
    (``get_to_file`` + :meth:`flows.archive.Archive.store_file`). Returns the SHA-256 archived."""
    from flows.archive import Archive
    from flows.http import HttpClient
    from flows.settings import Settings
    from flows.sources.base import FetchRequest

    handler = type("Handler", (_FileHandler,), {"path_served": Path(path)})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/bulk/v1/file/156/synthetic"
    request = FetchRequest(source="comtrade", url=url, expect="any", meta={"kind": "bulk-file"})
    client = HttpClient(Settings(requests_per_minute=60_000.0), "comtrade")
    archive = Archive(Path(folder) / mode)
    started = time.perf_counter()
    try:
        if mode == "memory":
            entry = archive.store(client.get(request))
        else:
            fetched = client.get_to_file(request, archive.incoming())
            entry = archive.store_file(request, fetched.path, sha256=fetched.sha256)
    finally:
        client.close()
        server.shutdown()
    seconds = time.perf_counter() - started
    digest = hashlib.sha256()
    with archive.path_of(entry.sha256).open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    assert digest.hexdigest() == entry.sha256
    archive.path_of(entry.sha256).unlink()
    return {"seconds": seconds, "sha256": entry.sha256, "bytes": entry.bytes}


CASES = {
    "flow_setup": case_flow_setup, "refresh_once": case_refresh_once, "noop_flow": case_noop_flow,
    "copy": case_copy, "download": case_download,
}  # fmt: skip
