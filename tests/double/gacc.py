"""GACC English site double: the preliminary-release index pages and table pages.

Rules (each a :class:`Rule` in :data:`RULES`):

* Only two path shapes exist: the yearly indexes ``/statics/report/preliminary.html`` (current
  year) and ``/statics/report/preliminaryYYYY.html``, and table pages ``/Statics/<uuid>.html``
  (a lowercase 8-4-4-4-12 hex uuid), in the letter case the site's own links use. Anything else —
  another path, another case, a query string — is refused with 404, as a static site answers a
  page it does not have.
* Served: the real 2026 index (``gacc_html/seed_2026.html``) as the current year, an illustrative
  2025 index (``tests/fixtures/gacc/preliminary2025_index_illustrative.html``, made up, labelled
  there), the real table (4) pages at their uuids (:data:`PAGES`). A well-formed path the
  recordings lack (the February 2026 tables, the USD tables, other years) answers 404 "not
  recorded", which is not a refusal.
* Without the recordings (a plain clone): the **made-up** pages of ``tests/fixtures/gacc/``
  (:data:`MADE_UP`, written by ``tests/builders/gacc.py`` in the recordings' layout with invented
  figures, README.md there) stand in for them — the made-up 2026 index, whose links have made-up
  uuids, and the made-up March 2026 and January–February 2025 CNY tables at the addresses that
  index and the 2025 index link (:data:`MADE_UP_PAGES`). The same requests succeed and the same
  ones answer 404 as with the recordings.

Tests may change what is served through :attr:`Double.indexes` (year → bytes; ``None`` = the
current year) and :attr:`Double.pages` (uuid → bytes, or a path under shared/data/real), e.g. to
serve a labelled made-up page that fails a check and then a corrected one.
"""

from __future__ import annotations

import re
from pathlib import Path

from werkzeug.wrappers import Request, Response

from tests.builders.gacc import made_up_uuid
from tests.double import FIXTURES, PublisherDouble, Refused, Rule, ok, recording

NAME = "gacc"
SEED = "gacc_html/seed_2026.html"
MAR_2026 = "gacc_html/release_section4_by_country_mar2026_cny.html"
JANFEB_2025 = "gacc_html/release_section4_by_country_janfeb2025_cny.html"
JAN_2018 = "gacc_html/release_section4_by_country_jan2018_cny.html"
#: The made-up uuid the illustrative 2025 index links for the January–February 2025 CNY table.
JANFEB_2025_UUID = "00000000-0000-4000-8000-000000002025"
#: GACC table pages by uuid: the real March 2026 CNY page (its link is in seed_2026.html) and the
#: real January–February 2025 CNY page at the made-up uuid of the illustrative 2025 index.
PAGES = {
    "2e61c8a1-17b2-4074-b909-c039ccf8c8fb": MAR_2026,
    JANFEB_2025_UUID: JANFEB_2025,
}
#: Recording → its MADE-UP stand-in in ``tests/fixtures/gacc/`` (same layout, invented figures).
MADE_UP = {
    SEED: "preliminary2026_index_made_up.html",
    MAR_2026: "section4_mar2026_cny_made_up.html",
    JANFEB_2025: "section4_janfeb2025_cny_made_up.html",
    JAN_2018: "section4_jan2018_image_only_made_up.html",
}
#: Table pages by uuid when the 2026 index is the made-up one (whose links are made up).
MADE_UP_PAGES = {
    made_up_uuid(4, "CNY", 2026, 3): MAR_2026,
    JANFEB_2025_UUID: JANFEB_2025,
}


def recording_or_made_up(real: Path, relative: str) -> Path | None:
    """The recording ``real/relative`` (or its bundled sample); else its made-up stand-in
    (:data:`MADE_UP`); ``None`` when there is neither."""
    found = recording(real, relative)
    if found is None and relative in MADE_UP:
        return FIXTURES / "gacc" / MADE_UP[relative]
    return found
HTML = "text/html; charset=utf-8"
_INDEX = re.compile(r"/statics/report/preliminary(?P<year>\d{4})?\.html")
_PAGE = re.compile(r"/Statics/(?P<uuid>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.html")

RULES: list[Rule] = [
    Rule(NAME, "index pages: /statics/report/preliminary.html and preliminaryYYYY.html",
         "the recorded 2026 index maps its year <select> to these pages (gacc_html/seed_2026.html); "
         "hoyla/meridian api_client.py @ ee0a4ceed2feef915d8f61d80c652cd556a09714", "confirmed"),
    Rule(NAME, "table pages: /Statics/<uuid>.html with a lowercase hex uuid",
         "every month link of the recorded 2026 index (seed_2026.html)", "confirmed"),
    Rule(NAME, "any other path, letter case or a query string → 404",
         "static pages; whether the live server ignores a query string or another letter case is "
         "not recorded", "unverified"),
    Rule(NAME, "a page the site does not have → 404",
         "not recorded; an assumption about the live server's answer", "unverified"),
]


def _refuse(request: Request, reason: str) -> Refused:
    body = f"<html><body><h1>404 Not Found</h1><p>{request.path}</p></body></html>"
    return Refused(Response(body, status=404, content_type=HTML), reason)


class Double(PublisherDouble):
    name = NAME

    def __init__(self, real: Path | None = None):
        super().__init__(*(() if real is None else (real,)))
        #: Index pages by year (``None`` = the current year's preliminary.html).
        self.indexes: dict[int | None, bytes | str] = {
            None: SEED,
            2025: (FIXTURES / "gacc" / "preliminary2025_index_illustrative.html").read_bytes(),
        }
        #: Table pages by uuid: bytes, or a path under ``shared/data/real`` (made-up stand-in
        #: when not recorded).
        recorded = recording(self.real, SEED) is not None
        self.pages: dict[str, bytes | str] = dict(PAGES if recorded else MADE_UP_PAGES)

    def path(self, relative: str) -> Path | None:
        """The recording ``relative``, else its made-up stand-in (:func:`recording_or_made_up`)."""
        return recording_or_made_up(self.real, relative)

    def handle(self, request: Request, path: str) -> Response | None:
        if request.query_string:
            raise _refuse(request, f"query string on a static page: {request.query_string!r}")
        index = _INDEX.fullmatch(path)
        if index:
            year = int(index["year"]) if index["year"] else None
            return self._serve(self.indexes.get(year))
        page = _PAGE.fullmatch(path)
        if page:
            return self._serve(self.pages.get(page["uuid"]))
        raise _refuse(request, f"{path} is neither an index page nor a /Statics/<uuid>.html page")

    def _serve(self, content: bytes | str | None) -> Response | None:
        if content is None:
            return None  # a well-formed address the recordings lack: 404, not a refusal
        if isinstance(content, bytes):
            return ok(content, HTML)
        return self.file(content, HTML)
