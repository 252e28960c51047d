"""Rebuild UN Comtrade API v1 responses from the recorded pandas dump of real records.

``shared/data/real/comtrade/get_C_M_HS_allreporters_X_p0_TOTAL_2021-01_2021-12_pandas.csv`` holds
the records of a real ``data/v1/get/C/M/HS`` answer (every reporter's monthly exports to the World,
2021) written by pandas (PROVENANCE.md, second pass). :func:`v1_record` puts one CSV row back in
the API's JSON types and :func:`monthly_exports_json` wraps chosen records in the v1 envelope
``{elapsedTime, count, data, error}``. **The values are real; the envelope is reconstructed.**
"""

from __future__ import annotations

import csv
import json
from functools import cache
from pathlib import Path

MONTHLY_2021 = "comtrade/get_C_M_HS_allreporters_X_p0_TOTAL_2021-01_2021-12_pandas.csv"

_INT = {
    "refPeriodId", "refYear", "refMonth", "reporterCode", "partnerCode", "partner2Code",
    "aggrLevel", "motCode", "qtyUnitCode", "altQtyUnitCode", "legacyEstimationFlag",
}
_FLOAT = {"qty", "altQty", "netWgt", "grossWgt", "cifvalue", "fobvalue", "primaryValue"}
_BOOL = {
    "isOriginalClassification", "isLeaf", "isQtyEstimated", "isAltQtyEstimated",
    "isNetWgtEstimated", "isGrossWgtEstimated", "isReported", "isAggregate",
}


def v1_record(row: dict[str, str]) -> dict:
    """One CSV row (pandas dump of the API's records) back in the API's JSON types."""
    record: dict = {}
    for name, text in row.items():
        if name == "":  # pandas index column
            continue
        if name in _INT:
            record[name] = int(text)
        elif name in _FLOAT:
            record[name] = float(text) if text != "" else None
        elif name in _BOOL:
            record[name] = {"True": True, "False": False}[text]
        else:
            record[name] = text
    return record


@cache
def monthly_records(path: Path) -> tuple[dict, ...]:
    """Every record of the recorded monthly file, in file order."""
    with path.open(newline="", encoding="utf-8") as handle:
        return tuple(v1_record(row) for row in csv.DictReader(handle))


def envelope(records: list[dict]) -> bytes:
    """A v1 response body around ``records`` (envelope reconstructed)."""
    payload = {"elapsedTime": "reconstructed", "count": len(records), "data": records, "error": ""}
    return json.dumps(payload).encode()


def monthly_exports_json(path: Path, reporter_codes: set[int], periods: set[str]) -> bytes:
    """The recorded monthly records of ``reporter_codes`` for ``periods`` (``"202101"``…)."""
    chosen = [
        r for r in monthly_records(path) if r["reporterCode"] in reporter_codes and r["period"] in periods
    ]
    return envelope(chosen)
