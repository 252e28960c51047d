"""UN Comtrade bulk files: the checks every normalised file passes before it is kept.

:func:`check_detail` reads the detail rows of one file (lazily: a file's rows may be ingested
block by block, :func:`flows.detail.ingest_bulk_file`) and raises rather than keep a row that is
wrong: :class:`~flows.sources.base.ParseError` for no rows, a null in a required column
(:data:`~flows.sources.comtrade_bulk.layout.REQUIRED_COLUMNS`, named by the bulk field it is read
from), a row that contradicts the listing (type, frequency, reporter, period or classification),
a negative or non-finite ``primaryValue``, or a ``cmdCode`` that is not TOTAL or 2/4/6 digits;
:class:`~flows.reference.UnknownCodeError` for a partner or flow code with no mapping.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from flows.reference import UnknownCodeError
from flows.sources.base import FetchRequest, parse_error

from .layout import NAME, REQUIRED_COLUMNS
from .listing import BulkFile

_CMD_CODE = r"^(TOTAL|\d{2}|\d{4}|\d{6})$"


def check_detail(
    detail: pl.LazyFrame,
    request: FetchRequest,
    raw: Any = None,
) -> int:
    """Check normalised detail rows; return their number.

    Raises :class:`ParseError` when there are no rows, a required column
    (:data:`REQUIRED_COLUMNS`) is null, a value is negative or not finite, or a ``cmdCode`` is
    not TOTAL or 2/4/6 digits (leading zeros lost); :class:`UnknownCodeError` for a partner or
    flow code with no mapping. ``raw`` (a callable returning the raw blocks as lazy frames) is
    read only when a row contradicts the listing, to name the field and value in the message.
    """
    stats = detail.select(
        pl.len().alias("rows"),
        *(pl.col(c).null_count().alias(f"null_{c}") for c in REQUIRED_COLUMNS),
        (~pl.col("value").is_finite() | (pl.col("value") < 0)).sum().alias("bad_values"),
    ).collect()
    row = stats.row(0, named=True)
    if row["rows"] == 0:
        raise parse_error(request, "the bulk file has a header but no data rows")
    if row["null_partner_code"]:
        raise parse_error(request, f"{row['null_partner_code']} rows have an empty partnerCode")
    if row["null_partner"]:
        code = _first(detail.filter(pl.col("partner").is_null()), "partner_code")
        raise UnknownCodeError(NAME, str(code), "partner")
    if row["null_valuation"] and not row["null_flow"]:
        code = _first(detail.filter(pl.col("valuation").is_null()), "flow")
        raise UnknownCodeError(NAME, str(code), "flow")
    if row["null_period_start"]:
        raise parse_error(request, _contradiction(raw, request, row["null_period_start"]))
    nulls = {
        _SOURCE_FIELDS.get(c, c): row[f"null_{c}"] for c in REQUIRED_COLUMNS if row[f"null_{c}"]
    }
    if nulls:
        raise parse_error(request, f"rows with empty or non-0/1 values (field: rows): {nulls}")
    if row["bad_values"]:
        value = _first(detail.filter(~pl.col("value").is_finite() | (pl.col("value") < 0)), "value")
        raise parse_error(
            request, f"{row['bad_values']} rows have a negative or non-finite primaryValue, e.g. {value}"
        )
    codes = detail.select(pl.col("commodity").unique()).collect().get_column("commodity")
    bad = codes.filter(~codes.str.contains(_CMD_CODE)).sort()
    if bad.len():
        raise parse_error(
            request,
            f"cmdCode values {bad.head(5).to_list()} are not TOTAL or 2/4/6-digit HS codes "
            "(leading zeros lost?)",
        )
    return row["rows"]


def _first(frame: pl.LazyFrame, column: str) -> Any:
    return frame.select(pl.col(column).first()).collect().item()


#: The bulk field each detail column is read from (for messages).
_SOURCE_FIELDS = {
    "flow": "flowCode", "commodity": "cmdCode", "value": "primaryValue",
    "status": "isReported", "is_original_classification": "isOriginalClassification",
    "breakdown_total": "partner2Code/customsCode/motCode", "partner2_code": "partner2Code",
    "customs_code": "customsCode", "mot_code": "motCode", "is_aggregate": "isAggregate",
    "partner_code": "partnerCode",
}  # fmt: skip

_CONSTANT_FIELDS = ("typeCode", "freqCode", "reporterCode", "period", "refYear", "refMonth",
                    "classificationCode")  # fmt: skip


def _contradiction(raw: Any, request: FetchRequest, count: int) -> str:
    """Name the field whose value contradicts the listing (reads the raw rows again)."""
    bulk_file = BulkFile.from_request(request)
    expected = {
        "typeCode": bulk_file.type_code, "freqCode": bulk_file.freq,
        "reporterCode": bulk_file.reporter_code, "period": bulk_file.period,
        "refYear": int(bulk_file.period[:4]), "refMonth": int(bulk_file.period[4:] or 52),
        "classificationCode": bulk_file.classification,
    }  # fmt: skip
    text = f"{count} rows contradict the listing ({expected})"
    if raw is None:
        return text
    for frame in raw():
        for name in _CONSTANT_FIELDS:
            found = frame.filter(pl.col(name).ne_missing(expected[name])).select(name).head(1).collect()
            if found.height:
                return f"{text}: {name} is {found.item()!r}, expected {expected[name]!r}"
    return text
