"""ECB data portal double: EXR monthly reference rates."""

from __future__ import annotations

import re

from werkzeug.wrappers import Request, Response

from tests.double import PublisherDouble, Rule

NAME = "ecb"
RULES: list[Rule] = []


class Double(PublisherDouble):
    name = NAME

    def handle(self, request: Request, path: str) -> Response | None:
        match = re.fullmatch(r"/data/EXR/M\.([A-Z+]+)\.EUR\.SP00\.A", path)
        if not match:
            return None
        currencies = match.group(1).split("+")
        if currencies == ["CNY"]:
            return self.file("gacc_html/ecb_cny_eur_monthly.json", "application/json")
        if currencies == ["USD"]:
            return self.file(
                "ecb/exr_M.USD.EUR.SP00.A_sdmxml21_generic_1999-01_2019-12.xml", "application/xml"
            )
        return None
