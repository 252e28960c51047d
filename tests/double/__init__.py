"""The strict loopback double of the six publishers.

Each publisher has one module here (``eurostat``, ``imf``, ``census``, ``comtrade``, ``gacc``,
``ecb``) with a handler class that

1. **checks the request against the publisher's contract** — path grammar, parameter names, key
   arity and positions, Accept header, key present where required — and refuses a bad request
   the way the publisher does (its status and body shape), recording the refusal in
   :attr:`StrictPublishers.refused`;
2. answers a good request with the recorded payloads of ``shared/data/real`` (PROVENANCE.md),
   or, where the recordings lack a series a correct request asks for, with values in the
   publisher's format that are **labelled as made up** (see each module).

Every rule is a :class:`Rule` in the module's ``RULES``, naming its evidence and confidence
(``confirmed`` / ``consistent`` / ``unverified``, as in ``docs/live_contracts.md``).
``trade-imbalance probe`` checks the unverified ones against the live services.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from werkzeug.wrappers import Request, Response

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
DEFAULT_REAL = ROOT.parent / "shared" / "data" / "real"


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

    def file(self, relative: str, content_type: str) -> Response | None:
        path = self.real / relative
        if not path.exists():
            return None
        return ok(path.read_bytes(), content_type)


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
