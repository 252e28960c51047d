"""GACC English site double: the preliminary-release index pages and table pages.

Serves the real 2026 index (``gacc_html/seed_2026.html``), an illustrative 2025 index
(``tests/fixtures/gacc/``, made up, labelled there) and the real table (4) pages at their uuids.
"""

from __future__ import annotations

import re

from werkzeug.wrappers import Request, Response

from tests.double import FIXTURES, PublisherDouble, Rule, ok

NAME = "gacc"
#: GACC table pages by uuid: the real March 2026 CNY page (its link is in seed_2026.html) and the
#: real January–February 2025 CNY page at the made-up uuid of the illustrative 2025 index.
PAGES = {
    "2e61c8a1-17b2-4074-b909-c039ccf8c8fb": "gacc_html/release_section4_by_country_mar2026_cny.html",
    "00000000-0000-4000-8000-000000002025": "gacc_html/release_section4_by_country_janfeb2025_cny.html",
}
RULES: list[Rule] = []


class Double(PublisherDouble):
    name = NAME

    def handle(self, request: Request, path: str) -> Response | None:
        if path == "/statics/report/preliminary.html":
            return self.file("gacc_html/seed_2026.html", "text/html; charset=utf-8")
        if path == "/statics/report/preliminary2025.html":
            return ok(
                (FIXTURES / "gacc" / "preliminary2025_index_illustrative.html").read_bytes(),
                "text/html; charset=utf-8",
            )
        match = re.fullmatch(r"/Statics/([0-9a-f-]+)\.html", path)
        if match and match.group(1) in PAGES:
            return self.file(PAGES[match.group(1)], "text/html; charset=utf-8")
        return None
