"""A loopback HTTP server that answers the pipeline's requests with the real recorded payloads.

It serves the files of ``shared/data/real`` (see its PROVENANCE.md) at the paths the pipeline asks
for, so ``trade-imbalance refresh`` runs end to end with no network. Each publisher lives under a
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

from werkzeug.wrappers import Request, Response

from tests.builders import comtrade as comtrade_builder

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
DEFAULT_REAL = ROOT.parent / "shared" / "data" / "real"

#: GACC table pages by uuid: the real March 2026 CNY page (its link is in seed_2026.html) and the
#: real January–February 2025 CNY page at the made-up uuid of the illustrative 2025 index.
GACC_PAGES = {
    "2e61c8a1-17b2-4074-b909-c039ccf8c8fb": "gacc_html/release_section4_by_country_mar2026_cny.html",
    "00000000-0000-4000-8000-000000002025": "gacc_html/release_section4_by_country_janfeb2025_cny.html",
}
CENSUS_FILES = {
    "exports": "census/intltrade_exports_hs_cty_ALL_VAL_MO_allcountries_2013-01_2024-12_rdataframe.csv",
    "imports": "census/intltrade_imports_hs_cty_GEN_VAL_MO_allcountries_2013-01_2024-12_rdataframe.csv",
}
EUROSTAT_TIDY = (
    "eurostat/ext_st_easitc_M_IMP_TRD_VAL_EA20_partners_CN_X_HK-US-VN-EU27_2020_NEA20_SITC5-8_2020-2025.csv"
)
EMPTY_COMTRADE = b'{"elapsedTime":"0.01 secs","count":0,"data":[],"error":""}'


class RecordedPublishers:
    """A WSGI handler serving recorded payloads from ``real`` (``shared/data/real``)."""

    def __init__(self, real: Path = DEFAULT_REAL):
        self.real = Path(real)
        self.requests: list[str] = []

    def __call__(self, request: Request) -> Response:
        self.requests.append(request.full_path)
        source, _, rest = request.path.lstrip("/").partition("/")
        handler = getattr(self, f"_{source}", None)
        if handler is None:
            return _not_found(request)
        return handler(request, "/" + rest) or _not_found(request)

    def wsgi(self, environ, start_response):
        return self(Request(environ))(environ, start_response)

    # -- one method per publisher -------------------------------------------------------------

    def _gacc(self, request: Request, path: str) -> Response | None:
        if path == "/statics/report/preliminary.html":
            return self._file("gacc_html/seed_2026.html", "text/html; charset=utf-8")
        if path == "/statics/report/preliminary2025.html":
            return _bytes(
                (FIXTURES / "gacc" / "preliminary2025_index_illustrative.html").read_bytes(),
                "text/html; charset=utf-8",
            )
        match = re.fullmatch(r"/Statics/([0-9a-f-]+)\.html", path)
        if match and match.group(1) in GACC_PAGES:
            return self._file(GACC_PAGES[match.group(1)], "text/html; charset=utf-8")
        return None

    def _comtrade(self, request: Request, path: str) -> Response | None:
        match = re.fullmatch(r"/(?:data/v1/get|public/v1/preview)/C/([AM])/HS", path)
        if not match:
            return None
        freq = match.group(1)
        reporters = {int(c) for c in request.args.get("reporterCode", "").split(",") if c}
        periods = set(request.args.get("period", "").split(","))
        if freq == "A" and 156 in reporters and "2010" in periods:
            return self._file("comtrade/get_C_A_HS_r156_p32-280-276_2010_TOTAL.json", "application/json")
        if freq == "A" and 699 in reporters and "2022" in periods:
            return self._file("comtrade/preview_C_A_HS_ind_699_X_2022_TOTAL_world.json", "application/json")
        if freq == "M" and any(p.startswith("2021") for p in periods):
            path_2021 = self.real / comtrade_builder.MONTHLY_2021
            if path_2021.exists():
                flows = set(request.args.get("flowCode", "X").split(","))
                partners = set(request.args.get("partnerCode", "0").split(","))
                if "X" in flows and "0" in partners:
                    return _bytes(
                        comtrade_builder.monthly_exports_json(path_2021, reporters, periods),
                        "application/json",
                    )
        return _bytes(EMPTY_COMTRADE, "application/json")

    def _imf(self, request: Request, path: str) -> Response | None:
        match = re.fullmatch(r"/data/dataflow/IMF\.STA/IMTS/\+/([^/]+)", path)
        if not match:
            return None
        key = match.group(1).split(".")
        if len(key) == 4 and "USA" in key[0].split("+") and key[3] == "A":
            return self._file(
                "imf/imts_sdmx3_data_USA_XG_FOB_USD_G001+G998_A_2023-2024.xml", "application/xml"
            )
        return None

    def _ecb(self, request: Request, path: str) -> Response | None:
        match = re.fullmatch(r"/data/EXR/M\.([A-Z+]+)\.EUR\.SP00\.A", path)
        if not match:
            return None
        currencies = match.group(1).split("+")
        if currencies == ["CNY"]:
            return self._file("gacc_html/ecb_cny_eur_monthly.json", "application/json")
        if currencies == ["USD"]:
            return self._file(
                "ecb/exr_M.USD.EUR.SP00.A_sdmxml21_generic_1999-01_2019-12.xml", "application/xml"
            )
        return None

    def _census(self, request: Request, path: str) -> Response | None:
        from tests.builders import census as census_builder

        match = re.fullmatch(r"/(exports|imports)/hs", path)
        if not match:
            return None
        year, month = request.args.get("YEAR"), request.args.get("MONTH")
        if not (year and month):
            return None
        name = CENSUS_FILES[match.group(1)]
        if not (self.real / name).exists():
            return None
        try:
            body = census_builder.census_json(self.real / name, int(year), int(month))
        except (KeyError, ValueError):
            return None
        return _bytes(body, "application/json;charset=utf-8")

    def _eurostat(self, request: Request, path: str) -> Response | None:
        """Euro-area (EA20) imports by partner: the recorded ``ext_st_easitc`` rows (SITC 5–8
        only — no TOTAL was recorded) for the requested months, in a rebuilt SDMX-CSV envelope."""
        from tests.builders import eurostat as eurostat_builder

        match = re.fullmatch(r"/sdmx/2\.1/data/ext_st_easitc/([^/]+)", path)
        path_tidy = self.real / EUROSTAT_TIDY
        if not match or not path_tidy.exists():
            return None
        start, end = request.args.get("startPeriod", ""), request.args.get("endPeriod", "")
        months = {f"{m}-01" for m in _month_range(start, end)}
        try:
            body = eurostat_builder.sdmx_csv_from_tidy(path_tidy, where={"TIME_PERIOD": months})
        except ValueError:
            return None
        return _bytes(body, "text/csv; charset=utf-8")

    # -- helpers ------------------------------------------------------------------------------

    def _file(self, relative: str, content_type: str) -> Response | None:
        path = self.real / relative
        if not path.exists():
            return None
        return _bytes(path.read_bytes(), content_type)


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


def _month_range(start: str, end: str) -> list[str]:
    """``YYYY-MM`` months from ``start`` to ``end`` inclusive (empty on bad input)."""
    try:
        year, month = (int(x) for x in start.split("-"))
        last = tuple(int(x) for x in end.split("-"))
    except ValueError:
        return []
    out = []
    while (year, month) <= last and len(out) < 600:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _bytes(body: bytes, content_type: str) -> Response:
    return Response(body, status=200, content_type=content_type)


def _not_found(request: Request) -> Response:
    return Response(f"not recorded: {request.full_path}\n", status=404, content_type="text/plain")


def main() -> None:  # pragma: no cover - manual use
    from werkzeug.serving import run_simple

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--real", type=Path, default=DEFAULT_REAL, help="shared/data/real folder")
    args = parser.parse_args()
    if not args.real.is_dir():
        parser.error(f"recorded payloads not found at {args.real}")
    base = f"http://{args.host}:{args.port}"
    print("Point the pipeline at this server:")
    for source in ("gacc", "comtrade", "imf", "census", "eurostat", "ecb"):
        print(f"  export TRADE_IMBALANCE_{source.upper()}_BASE_URL={base}/{source}")
    print("  export TRADE_IMBALANCE_REQUESTS_PER_MINUTE=6000")
    run_simple(args.host, args.port, RecordedPublishers(args.real).wsgi, threaded=True)


if __name__ == "__main__":  # pragma: no cover
    main()
