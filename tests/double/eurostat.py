"""Eurostat dissemination API double: SDMX 2.1 data in SDMX-CSV."""

from __future__ import annotations

import re

from werkzeug.wrappers import Request, Response

from tests.double import PublisherDouble, Rule, month_range, ok

NAME = "eurostat"
TIDY = (
    "eurostat/ext_st_easitc_M_IMP_TRD_VAL_EA20_partners_CN_X_HK-US-VN-EU27_2020_NEA20_SITC5-8_2020-2025.csv"
)
RULES: list[Rule] = []


class Double(PublisherDouble):
    name = NAME

    def handle(self, request: Request, path: str) -> Response | None:
        """Euro-area (EA20) imports by partner: the recorded ``ext_st_easitc`` rows (SITC 5–8
        only — no TOTAL was recorded) for the requested months, in a rebuilt SDMX-CSV envelope."""
        from tests.builders import eurostat as eurostat_builder

        match = re.fullmatch(r"/sdmx/2\.1/data/ext_st_easitc/([^/]+)", path)
        path_tidy = self.real / TIDY
        if not match or not path_tidy.exists():
            return None
        start, end = request.args.get("startPeriod", ""), request.args.get("endPeriod", "")
        months = {f"{m}-01" for m in month_range(start, end)}
        try:
            body = eurostat_builder.sdmx_csv_from_tidy(path_tidy, where={"TIME_PERIOD": months})
        except ValueError:
            return None
        return ok(body, "text/csv; charset=utf-8")
