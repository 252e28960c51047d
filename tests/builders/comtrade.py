"""UN Comtrade payloads for the tests: real records rebuilt, and MADE-UP ones in the real layouts.

``shared/data/real/comtrade/get_C_M_HS_allreporters_X_p0_TOTAL_2021-01_2021-12_pandas.csv`` holds
the records of a real ``data/v1/get/C/M/HS`` answer (every reporter's monthly exports to the World,
2021) written by pandas (PROVENANCE.md, second pass). :func:`v1_record` puts one CSV row back in
the API's JSON types and :func:`monthly_exports_json` wraps chosen records in the v1 envelope
``{elapsedTime, count, data, error}``. **The values are real; the envelope is reconstructed.**

UN Comtrade's payloads are not bundled (its terms do not allow redistribution), so a plain clone
gets **made-up stand-ins** of the recordings in ``tests/fixtures/comtrade/`` (listed in the
``README.md`` there): :data:`FIXTURES` maps each file name to its recording and builder, built with
:func:`made_up_record` (every key of a v1 record, in the API's order and JSON types) and the
layouts of the recordings they stand in for. ``uv run python -m tests.builders.comtrade``
rewrites them; ``tests/test_comtrade.py`` checks they are up to date.
"""

from __future__ import annotations

import csv
import io
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


def envelope(records: list[dict], elapsed: str = "reconstructed") -> bytes:
    """A v1 response body around ``records`` (envelope reconstructed; ``elapsed`` goes in
    ``elapsedTime``)."""
    payload = {"elapsedTime": elapsed, "count": len(records), "data": records, "error": ""}
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
        528: "NLD", 32: "ARG", 280: "DEU", 251: "FRA", 579: "NOR"}  # fmt: skip
_FLOW_DESC = {"X": "Export", "M": "Import", "RX": "Re-export", "RM": "Re-import",
              "DX": "Domestic Export", "FM": "Foreign Import"}  # fmt: skip


def made_up_record(reporter: int, partner: int, flow: str, period: str, value: float,
                   **changes) -> dict:
    """One MADE-UP total record (motCode 0, customsCode C00, partner2Code 0) in the v1 layout.

    ``period`` is ``YYYYMM`` (monthly) or ``YYYY`` (annual, ``refMonth`` 52); ``changes``
    replace fields (each must be a v1 field: ``KeyError`` otherwise)."""
    monthly = len(period) == 6
    year, month = int(period[:4]), int(period[4:]) if monthly else 52
    import_side = flow.endswith("M") or flow.startswith("M")
    record = {
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
    for name, new in changes.items():
        if name not in record:
            raise KeyError(f"{name!r} is not a field of a v1 record")
        record[name] = new
    return record


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


# ------------------------------------------------------------------------------------------
# MADE-UP stand-ins of the recordings (tests/fixtures/comtrade/, README.md there)

FIXTURE_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "comtrade"
#: ``elapsedTime`` of every stand-in envelope: the label the layout has room for.
MADE_UP_ELAPSED = "made-up values (tests/builders/comtrade.py)"
#: China (156) with Argentina (32) and Germany (276), 2010, classification H3: MADE UP. As in the
#: recording, partner 280 (former West Germany) has no record and measures are null.
CHINA_2010 = {(32, "M"): 5_000_000_000.0, (32, "X"): 4_000_000_000.0,
              (276, "M"): 60_000_000_000.0, (276, "X"): 50_000_000_000.0}  # fmt: skip
#: India (699) exports 2022 (H6, preview): MADE UP; the USA (842) below the World (0).
INDIA_2022 = {0: 400_000_000_000.5, 842: 75_000_000_000.25}
#: Germany (276) exports to France (251), 2023, trade matrix (SS): MADE UP.
GERMANY_FRANCE_2023 = 100_000_000_000.125
#: Monthly 2021 exports to the World by reporter: (classification, legacyEstimationFlag, value of
#: month 0, step per month), MADE UP: ``value(m) = base + m · step``.
MONTHLY_2021_MADE_UP = {
    156: ("H5", 4, 200_000_000_000.0, 1_000_000_000.0), 579: ("H3", 4, 10_000_000_000.0, 1_000_000.0),
    699: ("H5", 4, 25_000_000_000.5, 100_000_000.0), 704: ("H4", 0, 28_000_000_000.0, 10_000_000.0),
    842: ("H5", 0, 120_000_000_000.0, 500_000_000.0),
}  # fmt: skip
_NULL_MEASURES = {"qty": None, "altQty": None, "netWgt": None, "grossWgt": None}
_PREVIEW_FLAGS = {"classificationCode": "H6", "isNetWgtEstimated": True, "legacyEstimationFlag": 4,
                  "isReported": False, "isAggregate": True}  # fmt: skip


def china_2010_made_up() -> bytes:
    """Stand-in of ``get_C_A_HS_r156_p32-280-276_2010_TOTAL.json`` (record order as there)."""
    records = [made_up_record(156, partner, flow, "2010", value, classificationCode="H3",
                              **_NULL_MEASURES)
               for (partner, flow), value in CHINA_2010.items()]  # fmt: skip
    return envelope(records, MADE_UP_ELAPSED)


def india_preview_made_up(partner: int) -> bytes:
    """Stand-in of ``preview_C_A_HS_ind_699_X_2022_TOTAL_{world,partner842}.json``: the v1
    envelope with the SDK's wrapper keys ``url``, ``status_code``, ``elapsed_seconds``."""
    url = ("https://comtradeapi.un.org/public/v1/preview/C/A/HS?reportercode=699&flowCode=X&"
           f"period=2022&cmdCode=TOTAL&partnerCode={partner}&maxRecords=5&format=JSON&"
           "breakdownMode=classic&countOnly=False&includeDesc=True")
    record = made_up_record(699, partner, "X", "2022", INDIA_2022[partner], **_PREVIEW_FLAGS)
    payload = {"url": url, "status_code": 200, "elapsed_seconds": 0.5, "count": 1, "error": "",
               "data": [record]}  # fmt: skip
    return json.dumps(payload).encode()


def trade_matrix_made_up() -> bytes:
    """Stand-in of ``getTradeMatrix_C_A_TM_r280-276_p251-250_X_2023_TOTAL.json``."""
    record = made_up_record(
        276, 251, "X", "2023", GERMANY_FRANCE_2023, classificationCode="SS",
        classificationSearchCode="SS", isOriginalClassification=False, cifvalue=None,
        fobvalue=None, isReported=False, **_NULL_MEASURES,
    )
    return envelope([record], MADE_UP_ELAPSED)


def monthly_2021_made_up() -> bytes:
    """Stand-in of the pandas dump ``get_C_M_HS_allreporters_X_p0_TOTAL_2021-01_2021-12_pandas.csv``:
    a leading unnamed index column, then the v1 fields; numbers as pandas writes floats, measures
    ``0.0`` rather than empty, booleans ``True``/``False``; rows by month, then reporter."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    index = 0
    for month in range(1, 13):
        for reporter, (classification, flag, base, step) in sorted(MONTHLY_2021_MADE_UP.items()):
            record = made_up_record(
                reporter, 0, "X", f"2021{month:02d}", base + month * step,
                classificationCode=classification, legacyEstimationFlag=flag, isReported=False,
                isAggregate=True, qty=0.0, altQty=0.0, netWgt=0.0, grossWgt=0.0, cifvalue=0.0,
            )
            if index == 0:
                writer.writerow(["", *record])
            writer.writerow([index, *(_pandas(v) for v in record.values())])
            index += 1
    return out.getvalue().encode()


def _pandas(value) -> str:
    return "" if value is None else str(value)


def legacy_made_up() -> bytes:
    """Stand-in of ``legacy_api_get_r8_ps2014_TOTAL_trimmed.json`` (the legacy API's
    ``validation``/``dataset`` layout; Albania 2014, imports and exports to the World)."""
    stamp = {"started": "2015-10-28T21:12:50.0000000-04:00",
             "finished": "2015-10-28T21:12:51.0000000-04:00", "durationSeconds": 1.0}  # fmt: skip
    rows = [
        {"pfCode": "H4", "yr": 2014, "period": 2014, "periodDesc": "2014", "aggrLevel": 0,
         "IsLeaf": 0, "rgCode": code, "rgDesc": desc, "rtCode": 8, "rtTitle": "made up",
         "rt3ISO": "ALB", "ptCode": 0, "ptTitle": "World", "pt3ISO": "WLD", "cmdCode": "TOTAL",
         "cmdDescE": "All Commodities", "qtCode": 1, "qtDesc": "No Quantity",
         "TradeQuantity": None, "NetWeight": None, "TradeValue": value, "estCode": 0}
        for code, desc, value in ((1, "Import", 5_000_000_000), (2, "Export", 2_000_000_000))
    ]  # fmt: skip
    payload = {
        "validation": {
            "status": {"name": "Ok", "value": 0, "category": 0, "description": "", "helpUrl": ""},
            "message": None, "count": {"value": len(rows), **stamp},
            "datasetTimer": {**stamp, "durationSeconds": 0.0},
        },
        "dataset": rows,
    }  # fmt: skip
    return json.dumps(payload, indent=3).encode()


#: The listing entry stand-in: Argentina (32), annual 1962, classification S1 (MADE UP: hash,
#: size and dates).
LISTING_ROW_KEY = "madeup0listing0entry0r32y1962"


def bulk_listing_made_up() -> bytes:
    """Stand-in of ``bulk_get_C_A_listing_r32_1962.json`` (one ``bulk/v1/get`` listing entry)."""
    entry = {
        "fileUrl": LISTING_ROW_KEY, "fileSize": "120.00 KB", "isOriginalClassification": True,
        "reporterCode": 32, "freqCode": "A", "typeCode": "C", "classificationCode": "S1",
        "refPeriodId": 196201, "period": 1962, "publicationDate": "2004-05-17T09:30:00Z",
        "partitionKey": "32", "rowKey": LISTING_ROW_KEY,
        "timestamp": "2024-06-01T12:00:00.0000000+00:00",
        "eTag": "W/\"datetime'2024-06-01T12%3A00%3A00.0000000Z'\"",
    }  # fmt: skip
    return envelope([entry], MADE_UP_ELAPSED)


#: Argentina's (32) exports 2000 (H0) by partner, MADE UP: World (0) 30 billion, more than the
#: partners listed together (12.51 billion).
BULK_2000 = {0: 30_000_000_000.0, 12: 50_000_000.0, 76: 7_000_000_000.0, 156: 1_500_000_000.0,
             276: 900_000_000.0, 490: 60_000_000.0, 842: 3_000_000_000.0}  # fmt: skip


def bulk_sample_made_up() -> bytes:
    """Stand-in of ``comtradr_vignette10_bulk_C_A_H0_r32_2000_first100.csv``: a bulk file's rows
    as comtradr writes them out (snake_case header, comma-separated, flags as 0/1, empty
    measures)."""
    header = (
        "dataset_code,type_code,freq_code,ref_period_id,ref_year,ref_month,period,reporter_code,"
        "flow_code,partner_code,partner2code,classification_search_code,classification_code,"
        "is_original_classification,cmd_code,customs_code,mos_code,mot_code,qty_unit_code,qty,"
        "is_qty_estimated,alt_qty_unit_code,alt_qty,is_alt_qty_estimated,net_wgt,"
        "is_net_wgt_estimated,gross_wgt,is_gross_wgt_estimated,cifvalue,fobvalue,primary_value,"
        "legacy_estimation_flag,is_reported,is_aggregate"
    )
    lines = [header] + [
        f"20032200001052000,C,A,20000101,2000,52,2000,32,X,{partner},0,H0,H0,0,TOTAL,C00,0,0,-1,,0,"
        f"-1,,0,,0,,0,,{value},{value},0,1,0"
        for partner, value in BULK_2000.items()
    ]
    return ("\n".join(lines) + "\n").encode()


#: Stand-in file name → (the recording it stands in for, its builder).
FIXTURES = {
    "get_C_A_HS_r156_p32-280-276_2010_TOTAL_made_up.json":
        ("get_C_A_HS_r156_p32-280-276_2010_TOTAL.json", china_2010_made_up),
    "preview_C_A_HS_ind_699_X_2022_TOTAL_world_made_up.json":
        ("preview_C_A_HS_ind_699_X_2022_TOTAL_world.json", lambda: india_preview_made_up(0)),
    "preview_C_A_HS_ind_699_X_2022_TOTAL_partner842_made_up.json":
        ("preview_C_A_HS_ind_699_X_2022_TOTAL_partner842.json", lambda: india_preview_made_up(842)),
    "getTradeMatrix_C_A_TM_r280-276_p251-250_X_2023_TOTAL_made_up.json":
        ("getTradeMatrix_C_A_TM_r280-276_p251-250_X_2023_TOTAL.json", trade_matrix_made_up),
    "get_S_A_EB_r156_2010_empty_made_up.json":
        ("get_S_A_EB_r156_2010_empty.json", lambda: envelope([], MADE_UP_ELAPSED)),
    "legacy_api_get_r8_ps2014_TOTAL_trimmed_made_up.json":
        ("legacy_api_get_r8_ps2014_TOTAL_trimmed.json", legacy_made_up),
    "get_C_M_HS_allreporters_X_p0_TOTAL_2021-01_2021-12_pandas_made_up.csv":
        (MONTHLY_2021.split("/")[1], monthly_2021_made_up),
    "bulk_get_C_A_listing_r32_1962_made_up.json":
        ("bulk_get_C_A_listing_r32_1962.json", bulk_listing_made_up),
    "comtradr_vignette10_bulk_C_A_H0_r32_2000_made_up.csv":
        ("comtradr_vignette10_bulk_C_A_H0_r32_2000_first100.csv", bulk_sample_made_up),
}


def write() -> None:
    """Rewrite the stand-ins in ``tests/fixtures/comtrade/``."""
    for name, (_recording, build) in FIXTURES.items():
        (FIXTURE_DIR / name).write_bytes(build())


if __name__ == "__main__":  # pragma: no cover
    write()
