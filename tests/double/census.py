"""US Census international trade API double: ``exports/hs`` and ``imports/hs`` by country."""

from __future__ import annotations

import re

from werkzeug.wrappers import Request, Response

from tests.double import PublisherDouble, Rule, ok

NAME = "census"
FILES = {
    "exports": "census/intltrade_exports_hs_cty_ALL_VAL_MO_allcountries_2013-01_2024-12_rdataframe.csv",
    "imports": "census/intltrade_imports_hs_cty_GEN_VAL_MO_allcountries_2013-01_2024-12_rdataframe.csv",
}
RULES: list[Rule] = []


class Double(PublisherDouble):
    name = NAME

    def handle(self, request: Request, path: str) -> Response | None:
        from tests.builders import census as census_builder

        match = re.fullmatch(r"/(exports|imports)/hs", path)
        if not match:
            return None
        year, month = request.args.get("YEAR"), request.args.get("MONTH")
        if not (year and month):
            return None
        name = FILES[match.group(1)]
        if not (self.real / name).exists():
            return None
        try:
            body = census_builder.census_json(self.real / name, int(year), int(month))
        except (KeyError, ValueError):
            return None
        return ok(body, "application/json;charset=utf-8")
