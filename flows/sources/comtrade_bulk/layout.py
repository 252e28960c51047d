"""UN Comtrade bulk files: the layout of a file and of the detail rows read from it.

Bulk file layout (:data:`BULK_COLUMNS`): the 34 fields UN Comtrade's data dictionary marks
``isInBulkFileFinal`` (``reference/comtrade_TradeDataItems.json``), in the order of the recorded
sample ``comtrade/comtradr_vignette10_bulk_C_A_H0_r32_2000_first100.csv`` — a ``datasetCode``
column, no description columns (no ``reporterISO``, ``cmdDesc``, ... and no ``aggrLevel`` or
``isLeaf``), and flags written ``0``/``1``. The header names are the API's field names (the
recorded sample is a converted R frame whose names comtradr turned into snake_case). Every file
is read with this explicit schema; codes stay strings (``cmdCode`` "010121" keeps its zero).

Detail rows (:data:`DETAIL_SCHEMA`, built by :func:`flows.sources.comtrade_bulk.parsing.normalise`):
the canonical :data:`flows.schema.OBSERVATION_SCHEMA` columns followed by the detail columns that
keep rows of different kinds apart — ``aggr_level`` (0 for TOTAL, else the number of HS digits:
2, 4, 6, as Comtrade's ``aggrLevel`` in ``reference/comtrade_HS.json``), ``is_leaf``,
``breakdown_total`` (partner2Code 0, customsCode C00 and motCode 0: the publisher's total over
those breakdowns), the breakdown codes and the quantities (units: :data:`DETAIL_COLUMNS`).
HS levels and breakdown rows are never mixed in one sum: filter on ``aggr_level`` and
``breakdown_total``.
"""

from __future__ import annotations

import polars as pl

from flows.schema import OBSERVATION_SCHEMA
from flows.sources.comtrade import FLOW_CODES

NAME = "comtrade"
#: Valuation of every flow code of Comtrade's flow reference (memo flows kept as their own flows).
BULK_FLOW_VALUATION: dict[str, str] = {code: valuation for code, (_, valuation) in FLOW_CODES.items()}

#: Classification editions the detail parser accepts (HS; SITC and BEC codes have other shapes).
HS_EDITIONS = frozenset({"H0", "H1", "H2", "H3", "H4", "H5", "H6"})

_S, _I8, _I16, _I32, _F = pl.String(), pl.Int8(), pl.Int16(), pl.Int32(), pl.Float64()

#: The bulk file's columns, in order, with the types they are read as (flags are 0/1 integers).
BULK_COLUMNS: dict[str, pl.DataType] = {
    "datasetCode": _S,
    "typeCode": _S,
    "freqCode": _S,
    "refPeriodId": _I32,
    "refYear": _I16,
    "refMonth": _I16,
    "period": _S,
    "reporterCode": _I32,
    "flowCode": _S,
    "partnerCode": _I32,
    "partner2Code": _I32,
    "classificationSearchCode": _S,
    "classificationCode": _S,
    "isOriginalClassification": _I8,
    "cmdCode": _S,
    "customsCode": _S,
    "mosCode": _S,
    "motCode": _I32,
    "qtyUnitCode": _I32,
    "qty": _F,
    "isQtyEstimated": _I8,
    "altQtyUnitCode": _I32,
    "altQty": _F,
    "isAltQtyEstimated": _I8,
    "netWgt": _F,
    "isNetWgtEstimated": _I8,
    "grossWgt": _F,
    "isGrossWgtEstimated": _I8,
    "cifvalue": _F,
    "fobvalue": _F,
    "primaryValue": _F,
    "legacyEstimationFlag": _I16,
    "isReported": _I8,
    "isAggregate": _I8,
}

#: Columns of the detail table beyond the canonical observation columns.
DETAIL_COLUMNS: dict[str, pl.DataType] = {
    "period": _S,  # Comtrade's period: YYYY (annual) or YYYYMM (monthly)
    "classification": _S,  # the HS edition of the codes (classificationCode), e.g. H0
    "is_original_classification": pl.Boolean(),
    "aggr_level": _I16,  # 0 TOTAL, 2 chapter, 4 heading, 6 subheading
    "is_leaf": pl.Boolean(),  # most detailed level of the edition (a 6-digit subheading)
    "breakdown_total": pl.Boolean(),  # partner2Code 0 and customsCode C00 and motCode 0
    "partner_code": _I32,  # Comtrade's partner area code as published
    "partner2_code": _I32,
    "customs_code": _S,
    "mot_code": _I32,
    "is_aggregate": pl.Boolean(),  # UNSD aggregate (isAggregate)
    "qty_unit_code": _I32,
    "qty": _F,
    "alt_qty_unit_code": _I32,
    "alt_qty": _F,
    "net_wgt": _F,  # kilograms
    "gross_wgt": _F,  # kilograms
    "payload_sha256": _S,  # sha256 of the gzipped bulk file the row was read from
}

#: One detail row: the canonical observation, then :data:`DETAIL_COLUMNS`.
DETAIL_SCHEMA: dict[str, pl.DataType] = {**OBSERVATION_SCHEMA, **DETAIL_COLUMNS}

#: Detail columns that are never null (the rest are quantities, which may be unpublished).
REQUIRED_COLUMNS: tuple[str, ...] = (
    *(c for c in OBSERVATION_SCHEMA if c not in ("published_yoy", "vintage")),
    "vintage", "period", "classification", "is_original_classification", "aggr_level",
    "is_leaf", "breakdown_total", "partner_code", "partner2_code", "customs_code", "mot_code",
    "is_aggregate", "payload_sha256",
)  # fmt: skip

#: 4-digit headings that are leaves (no 6-digit subheadings) per edition, from
#: ``reference/comtrade_HS.json`` (H6: 0509 "Natural sponges of animal origin", isLeaf "1",
#: aggrLevel 4). Every other leaf there is a 6-digit subheading; other editions' lists are not
#: recorded, so there only 6-digit codes are leaves.
LEAF_HEADINGS: dict[str, frozenset[str]] = {"H6": frozenset({"0509"})}
