"""UN Comtrade API v1 double: keyed ``data/v1/get`` and keyless ``public/v1/preview``."""

from __future__ import annotations

import re

from werkzeug.wrappers import Request, Response

from tests.builders import comtrade as comtrade_builder
from tests.double import PublisherDouble, Rule, ok

NAME = "comtrade"
EMPTY = b'{"elapsedTime":"0.01 secs","count":0,"data":[],"error":""}'
RULES: list[Rule] = []


class Double(PublisherDouble):
    name = NAME

    def handle(self, request: Request, path: str) -> Response | None:
        match = re.fullmatch(r"/(?:data/v1/get|public/v1/preview)/C/([AM])/HS", path)
        if not match:
            return None
        freq = match.group(1)
        reporters = {int(c) for c in request.args.get("reporterCode", "").split(",") if c}
        periods = set(request.args.get("period", "").split(","))
        if freq == "A" and 156 in reporters and "2010" in periods:
            return self.file("comtrade/get_C_A_HS_r156_p32-280-276_2010_TOTAL.json", "application/json")
        if freq == "A" and 699 in reporters and "2022" in periods:
            return self.file("comtrade/preview_C_A_HS_ind_699_X_2022_TOTAL_world.json", "application/json")
        if freq == "M" and any(p.startswith("2021") for p in periods):
            path_2021 = self.real / comtrade_builder.MONTHLY_2021
            if path_2021.exists():
                flows = set(request.args.get("flowCode", "X").split(","))
                partners = set(request.args.get("partnerCode", "0").split(","))
                if "X" in flows and "0" in partners:
                    return ok(
                        comtrade_builder.monthly_exports_json(path_2021, reporters, periods),
                        "application/json",
                    )
        return ok(EMPTY, "application/json")
