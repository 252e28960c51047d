"""The strict loopback double of the six publishers.

Each publisher has one module here (``eurostat``, ``imf``, ``census``, ``comtrade``, ``gacc``,
``ecb``) with a handler class that

1. **checks the request against the publisher's contract** — path grammar, parameter names, key
   arity and positions, Accept header, key present where required — and refuses a bad request
   the way the publisher does (its status and body shape), recording the refusal in
   :attr:`StrictPublishers.refused`;
2. answers a good request with the recorded payloads of ``shared/data/real`` (PROVENANCE.md),
   or — when ``shared/`` is not beside the checkout — with the **bundled samples** of
   ``tests/fixtures/<publisher>/sample/`` (:data:`SAMPLES`: small real excerpts from publishers
   whose terms allow redistribution, source and terms in the ``NOTICE.md`` beside them), else
   with the recording's **made-up stand-in** (:data:`MADE_UP`: UN Comtrade and IMF, whose
   payloads may not be bundled), or, where none holds a series a correct request asks for, with
   values in the publisher's format that are **labelled as made up** (see each module).

Every rule is a :class:`Rule` in the module's ``RULES``, naming its evidence and confidence
(``confirmed`` / ``consistent`` / ``unverified``, as in ``docs/live_contracts.md``).
``trade-imbalance probe`` checks the unverified ones against the live services.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from werkzeug.wrappers import Request, Response

from tests.builders import comtrade as comtrade_builder
from tests.builders import imf as imf_builder

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
#: The recordings: ``TRADE_IMBALANCE_REAL_DATA`` when set (as in ``tests/conftest.py``), else
#: ``shared/data/real`` beside the checkout.
DEFAULT_REAL = Path(os.environ.get("TRADE_IMBALANCE_REAL_DATA", ROOT.parent / "shared" / "data" / "real"))
#: Recording (relative to ``shared/data/real``) → its bundled sample (relative to
#: ``tests/fixtures``), used when the recording is absent. Each sample is the recording itself
#: (byte copy) or a subset of its lines, as the ``NOTICE.md`` beside it says.
SAMPLES: dict[str, str] = {
    "census/intltrade_exports_hs_cty_ALL_VAL_MO_allcountries_2013-01_2024-12_rdataframe.csv":
        "census/sample/intltrade_exports_hs_cty_ALL_VAL_MO_allcountries_2024-10_2024-12_sample.csv",
    "census/intltrade_imports_hs_cty_GEN_VAL_MO_allcountries_2013-01_2024-12_rdataframe.csv":
        "census/sample/intltrade_imports_hs_cty_GEN_VAL_MO_allcountries_2024-10_2024-12_sample.csv",
    "gacc_html/ecb_cny_eur_monthly.json": "ecb/sample/ecb_cny_eur_monthly.json",
    "ecb/exr_M.USD.EUR.SP00.A_sdmxml21_generic_1999-01_2019-12.xml":
        "ecb/sample/exr_M.USD.EUR.SP00.A_sdmxml21_generic_1999-01_2019-12.xml",
    "eurostat/ext_st_easitc_M_IMP_TRD_VAL_EA20_partners_CN_X_HK-US-VN-EU27_2020_NEA20_SITC5-8_2020-2025.csv":
        "eurostat/sample/ext_st_easitc_M_IMP_TRD_VAL_EA20_partners_CN_X_HK-US-VN-EU27_2020_NEA20_"
        "SITC5-8_2020-01_2024-12_2025-10_2025-11_sample.csv",
}


#: Recording → its LABELLED MADE-UP stand-in (relative to ``tests/fixtures``), used when the
#: recording is absent and may not be bundled (UN Comtrade, IMF): the recording's exact layout
#: with invented numbers, written by ``tests/builders/{comtrade,imf}.py`` (README.md beside them).
MADE_UP: dict[str, str] = {
    f"{publisher}/{recorded}": f"{publisher}/{name}"
    for publisher, fixtures in (("comtrade", comtrade_builder.FIXTURES), ("imf", imf_builder.FIXTURES))
    for name, (recorded, _build) in fixtures.items()
}


def recording(real: Path, relative: str) -> Path | None:
    """The recording ``real/relative``; when absent, its bundled sample (:data:`SAMPLES`), else
    its made-up stand-in (:data:`MADE_UP`, see :func:`is_made_up`); ``None`` when none exists."""
    path = Path(real) / relative
    if path.is_file():
        return path
    for fallback in (SAMPLES.get(relative), MADE_UP.get(relative)):
        if fallback is not None and (FIXTURES / fallback).is_file():
            return FIXTURES / fallback
    return None


def is_made_up(path: Path) -> bool:
    """Whether :func:`recording` gave a made-up stand-in rather than real values."""
    return "_made_up" in Path(path).name


@dataclass(frozen=True)
class Rule:
    """One rule of a publisher's contract the double enforces."""

    publisher: str
    name: str
    evidence: str
    confidence: str  # confirmed | consistent | unverified


class Refused(Exception):
    """Raised inside a handler to answer a request the publisher would refuse."""

    def __init__(self, response: Response, reason: str):
        self.response = response
        self.reason = reason
        super().__init__(reason)


class PublisherDouble:
    """Base of a publisher's handler: ``handle(request, path)`` returns a response, ``None``
    (nothing recorded: 404 as the publisher answers for a page it does not have) or raises
    :class:`Refused`."""

    name = ""

    def __init__(self, real: Path = DEFAULT_REAL):
        self.real = Path(real)

    def handle(self, request: Request, path: str) -> Response | None:  # pragma: no cover
        raise NotImplementedError

    def path(self, relative: str) -> Path | None:
        """The recording ``relative``, else its bundled sample, else ``None``."""
        return recording(self.real, relative)

    def file(self, relative: str, content_type: str) -> Response | None:
        """The recording (or its sample, or its made-up stand-in, then with the header
        ``X-Test-Double: made-up values``) as a 200 answer; ``None`` when none exists."""
        path = self.path(relative)
        if path is None:
            return None
        headers = {"X-Test-Double": "made-up values"} if is_made_up(path) else None
        return ok(path.read_bytes(), content_type, headers=headers)


def ok(body: bytes, content_type: str, status: int = 200, headers: dict | None = None) -> Response:
    return Response(body, status=status, content_type=content_type, headers=headers)


def not_found(request: Request) -> Response:
    return Response(f"not recorded: {request.full_path}\n", status=404, content_type="text/plain")


class StrictPublishers:
    """The WSGI handler serving all six publishers under ``/gacc``, ``/comtrade``, ``/imf``,
    ``/census``, ``/eurostat`` and ``/ecb``.

    ``requests`` lists every request's full path; ``refused`` every refusal as
    ``(publisher, full path, reason)``.
    """

    def __init__(self, real: Path = DEFAULT_REAL):
        from tests.double import census, comtrade, ecb, eurostat, gacc, imf

        self.real = Path(real)
        self.handlers: dict[str, PublisherDouble] = {
            module.NAME: module.Double(self.real)
            for module in (gacc, comtrade, imf, census, eurostat, ecb)
        }
        self.requests: list[str] = []
        self.refused: list[tuple[str, str, str]] = []

    def __call__(self, request: Request) -> Response:
        self.requests.append(request.full_path)
        source, _, rest = request.path.lstrip("/").partition("/")
        handler = self.handlers.get(source)
        if handler is None:
            return not_found(request)
        try:
            return handler.handle(request, "/" + rest) or not_found(request)
        except Refused as refusal:
            self.refused.append((source, request.full_path, refusal.reason))
            return refusal.response

    def wsgi(self, environ, start_response):
        return self(Request(environ))(environ, start_response)


def all_rules() -> list[Rule]:
    """Every rule of every publisher double."""
    from tests.double import census, comtrade, ecb, eurostat, gacc, imf

    return [rule for module in (gacc, comtrade, imf, census, eurostat, ecb) for rule in module.RULES]


def month_range(start: str, end: str) -> list[str]:
    """``YYYY-MM`` months from ``start`` to ``end`` inclusive (empty on bad input)."""
    try:
        year, month = (int(x) for x in start.split("-")[:2])
        last = tuple(int(x) for x in end.split("-")[:2])
    except ValueError:
        return []
    out = []
    while (year, month) <= last and len(out) < 600:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out
