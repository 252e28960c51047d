"""A loopback HTTP server: the strict double of the six publishers (:mod:`tests.double`).

It serves the files of ``shared/data/real`` (see its PROVENANCE.md) at the paths the pipeline asks
for, so ``trade-imbalance refresh`` runs end to end with no network. Without ``shared/`` (a plain
clone) it serves what the repository holds (:data:`PLAIN_CLONE`). Each publisher lives under a
path prefix, matching these settings::

    TRADE_IMBALANCE_GACC_BASE_URL=http://127.0.0.1:8765/gacc
    TRADE_IMBALANCE_COMTRADE_BASE_URL=http://127.0.0.1:8765/comtrade
    TRADE_IMBALANCE_IMF_BASE_URL=http://127.0.0.1:8765/imf
    TRADE_IMBALANCE_CENSUS_BASE_URL=http://127.0.0.1:8765/census
    TRADE_IMBALANCE_EUROSTAT_BASE_URL=http://127.0.0.1:8765/eurostat
    TRADE_IMBALANCE_ECB_BASE_URL=http://127.0.0.1:8765/ecb

What is recorded (and so what a run finds): GACC's 2026 index with the March 2026 CNY table (4)
and the January–February 2025 CNY table (reached through an illustrative 2025 index,
``tests/fixtures/gacc/``); UN Comtrade China 2010 annual totals, India 2022 preview totals and
every reporter's 2021 monthly exports (real records in a reconstructed envelope); IMF IMTS US
exports 2023–2024 annual; US Census monthly exports/imports by country 2013–2024 (real rows in a
reconstructed JSON envelope); ECB CNY and USD per EUR. Anything else answers 404, as a publisher
would for a page it does not have.

Run it by hand::

    uv run python -m tests.recorded_server --port 8765
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from tests.double import DEFAULT_REAL, StrictPublishers

#: The name the tests and the README use for the strict double.
RecordedPublishers = StrictPublishers

#: What the server answers from a plain clone (no ``shared/``): printed at start.
PLAIN_CLONE = """\
Recorded payloads not found at {real}: serving what the repository holds.
  Real excerpts bundled under tests/fixtures/*/sample/ (terms in the NOTICE.md beside them):
    census    US exports/imports by country, 2024-10 to 2024-12
              (try: refresh --source census --reporter USA --from 2024-10 --to 2024-12)
    eurostat  euro-area (EA20) imports, 2020-01 to 2024-12, 2025-10 and 2025-11
    ecb       CNY per EUR 2025-10 to 2026-04, USD per EUR 1999-2019
  MADE-UP values, labelled (X-Test-Double: made-up values; tests/fixtures/*/README.md):
    gacc      the 2026 index, March 2026 and January-February 2025 CNY table (4)
              (try: refresh --source gacc --reporter CHN --from 2025-01 --to 2026-03)
    comtrade  China 2010 annual (--comtrade-frequency A), every reporter's 2021 monthly
              exports to the World (5 reporters), keyed China monthly 2025-2026
    imf       any valid IMTS request, monthly or annual (US 2023-2024 annual: the stand-in
              tests/fixtures/imf/...made_up.xml)
  Not served (404): anything not listed.
"""


def point_publishers_at(httpserver, handler, monkeypatch) -> None:
    """Route every request of a pytest-httpserver to ``handler`` and point all six publishers'
    base URLs at it (fast retries, no throttling); clears the cached settings."""
    from flows.settings import get_settings

    httpserver.expect_request(re.compile(".*")).respond_with_handler(handler)
    for source in ("gacc", "comtrade", "imf", "census", "eurostat", "ecb"):
        monkeypatch.setenv(f"TRADE_IMBALANCE_{source.upper()}_BASE_URL", httpserver.url_for(f"/{source}"))
    monkeypatch.setenv("TRADE_IMBALANCE_REQUESTS_PER_MINUTE", "60000")
    monkeypatch.setenv("TRADE_IMBALANCE_BACKOFF_FACTOR", "0.01")
    get_settings.cache_clear()


def main() -> None:  # pragma: no cover - manual use
    from werkzeug.serving import run_simple

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--real", type=Path, default=DEFAULT_REAL,
                        help="shared/data/real folder (absent: bundled samples and made-up values)")
    args = parser.parse_args()
    if not args.real.is_dir():
        print(PLAIN_CLONE.format(real=args.real))
    base = f"http://{args.host}:{args.port}"
    print("Point the pipeline at this server:")
    for source in ("gacc", "comtrade", "imf", "census", "eurostat", "ecb"):
        print(f"  export TRADE_IMBALANCE_{source.upper()}_BASE_URL={base}/{source}")
    print("  export TRADE_IMBALANCE_REQUESTS_PER_MINUTE=6000", flush=True)
    run_simple(args.host, args.port, RecordedPublishers(args.real).wsgi, threaded=True)


if __name__ == "__main__":  # pragma: no cover
    main()
