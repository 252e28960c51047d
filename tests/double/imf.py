"""IMF SDMX 3.0 API double: IMTS data."""

from __future__ import annotations

import re

from werkzeug.wrappers import Request, Response

from tests.double import PublisherDouble, Rule

NAME = "imf"
RULES: list[Rule] = []


class Double(PublisherDouble):
    name = NAME

    def handle(self, request: Request, path: str) -> Response | None:
        match = re.fullmatch(r"/data/dataflow/IMF\.STA/IMTS/\+/([^/]+)", path)
        if not match:
            return None
        key = match.group(1).split(".")
        if len(key) == 4 and "USA" in key[0].split("+") and key[3] == "A":
            return self.file(
                "imf/imts_sdmx3_data_USA_XG_FOB_USD_G001+G998_A_2023-2024.xml", "application/xml"
            )
        return None
