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


# ------------------------------------------------------------------------------------------
# MADE-UP records in the v1 layout (for requests the recordings do not cover)

#: The note every made-up envelope carries (a top-level key the parser ignores).
MADE_UP_NOTE = (
    "MADE-UP VALUES written by the test double (tests/builders/comtrade.py), not published "
    "figures; the record layout is UN Comtrade API v1's (as in shared/data/real/comtrade/"
    "preview_C_A_HS_ind_699_X_2022_TOTAL_world.json)."
)
#: Comtrade ISO codes of the areas the made-up records name (Reporters.json/partnerAreas.json).
_ISO = {0: "W00", 156: "CHN", 842: "USA", 344: "HKG", 392: "JPN", 410: "KOR", 490: "S19",
        704: "VNM", 276: "DEU", 699: "IND", 36: "AUS", 643: "RUS", 458: "MYS", 76: "BRA",
        528: "NLD"}  # fmt: skip
_FLOW_DESC = {"X": "Export", "M": "Import", "RX": "Re-export", "RM": "Re-import",
              "DX": "Domestic Export", "FM": "Foreign Import"}  # fmt: skip


def made_up_record(reporter: int, partner: int, flow: str, period: str, value: float) -> dict:
    """One MADE-UP total record (motCode 0, customsCode C00, partner2Code 0) in the v1 layout.

    ``period`` is ``YYYYMM`` (monthly) or ``YYYY`` (annual, ``refMonth`` 52)."""
    monthly = len(period) == 6
    year, month = int(period[:4]), int(period[4:]) if monthly else 52
    import_side = flow.endswith("M") or flow.startswith("M")
    return {
        "typeCode": "C", "freqCode": "M" if monthly else "A",
        "refPeriodId": int(f"{year}{month if monthly else 1:02d}01"), "refYear": year,
        "refMonth": month, "period": period,
        "reporterCode": reporter, "reporterISO": _ISO.get(reporter), "reporterDesc": "made up",
        "flowCode": flow, "flowDesc": _FLOW_DESC.get(flow, flow),
        "partnerCode": partner, "partnerISO": _ISO.get(partner), "partnerDesc": "made up",
        "partner2Code": 0, "partner2ISO": "W00", "partner2Desc": "World",
        "classificationCode": "H6", "classificationSearchCode": "HS",
        "isOriginalClassification": True, "cmdCode": "TOTAL", "cmdDesc": "All Commodities",
        "aggrLevel": 0, "isLeaf": False, "customsCode": "C00", "customsDesc": "TOTAL CPC",
        "mosCode": "0", "motCode": 0, "motDesc": "TOTAL MOT",
        "qtyUnitCode": -1, "qtyUnitAbbr": "N/A", "qty": 0, "isQtyEstimated": False,
        "altQtyUnitCode": -1, "altQtyUnitAbbr": "N/A", "altQty": 0, "isAltQtyEstimated": False,
        "netWgt": 0, "isNetWgtEstimated": False, "grossWgt": 0, "isGrossWgtEstimated": False,
        "cifvalue": value if import_side else None, "fobvalue": None if import_side else value,
        "primaryValue": value, "legacyEstimationFlag": 0, "isReported": True,
        "isAggregate": False,
    }  # fmt: skip


def made_up_value(partner: int, flow: str, period: str) -> float:
    """A deterministic MADE-UP value: round thousands of USD that encode the key (no meaning)."""
    return float(1_000_000 * (1 + partner % 97) + 1_000 * int(period[-2:]) + (1 if flow == "M" else 0))


def made_up_envelope(records: list[dict]) -> bytes:
    """A v1 envelope around MADE-UP records, labelled in ``elapsedTime`` and ``_note``."""
    payload = {"_note": MADE_UP_NOTE, "elapsedTime": "made-up values (test double)",
               "count": len(records), "data": records, "error": ""}  # fmt: skip
    return json.dumps(payload).encode()


def made_up_json(reporter: int, partners: list[int], flows: list[str], periods: list[str]) -> bytes:
    """MADE-UP totals for every partner × flow × period asked for, in a labelled envelope."""
    records = [
        made_up_record(reporter, partner, flow, period, made_up_value(partner, flow, period))
        for period in periods for partner in partners for flow in flows
    ]
    return made_up_envelope(records)
