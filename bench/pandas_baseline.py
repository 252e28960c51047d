"""Baseline for the ingest benchmark: a straightforward pandas normaliser of one bulk file.

What a competent analyst would write without a streaming engine: ``pandas.read_csv`` of the
gzipped file in chunks of one million rows with explicit dtypes (codes as strings), the same
normalisation as :func:`flows.sources.comtrade_bulk.normalise` done with vectorised pandas
operations (``Series.map`` for the code tables), the same null checks, and each chunk appended
to one Parquet file with pyarrow. Output columns and types match
:data:`flows.sources.comtrade_bulk.DETAIL_SCHEMA`, so the comparison is like for like.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from flows.sources import comtrade_bulk as bulk
from flows.sources.base import FetchRequest
from flows.sources.comtrade import FLOW_VALUATION
from flows.sources.comtrade_bulk.listing import _period_span
from flows.sources.comtrade_bulk.parsing import _partner_tables

_DTYPES = {
    pl_name: {"String": "str", "Int8": "Int8", "Int16": "Int16", "Int32": "Int32", "Float64": "float64"}[
        str(dtype)
    ]
    for pl_name, dtype in bulk.BULK_COLUMNS.items()
}


def normalise_file(
    path: Path, request: FetchRequest, out: Path, sha256: str, chunk_rows: int = 1_000_000
) -> int:
    """Normalise the gzipped bulk file at ``path`` to one Parquet file ``out``; return rows."""
    bulk_file = bulk.BulkFile.from_request(request)
    start, end, months, period_type = _period_span(bulk_file.period, bulk_file.freq)
    keys, kinds = _partner_tables()
    leaf = bulk.LEAF_HEADINGS.get(bulk_file.classification, frozenset())
    release = (
        f"UN Comtrade bulk v1 {bulk_file.type_code}/{bulk_file.freq}/{bulk_file.search} "
        f"(classification {bulk_file.classification})"
    )
    schema = pa.schema([(name, _arrow_type(dtype)) for name, dtype in bulk.DETAIL_SCHEMA.items()])
    rows = 0
    with pq.ParquetWriter(out, schema, compression="zstd") as writer:
        for chunk in pd.read_csv(
            path, sep="\t", dtype=_DTYPES, chunksize=chunk_rows, compression="gzip",
            quoting=csv.QUOTE_NONE, keep_default_na=False, na_values=[""],
        ):  # fmt: skip
            cmd = chunk["cmdCode"]
            aggr = np.where(cmd == "TOTAL", 0, cmd.str.len()).astype("int16")
            reported = (chunk["isReported"] == 1) & (chunk["legacyEstimationFlag"].fillna(0) == 0)
            frame = pd.DataFrame(
                {
                    "source": bulk.NAME,
                    "reporter": bulk_file.reporter,
                    "partner": chunk["partnerCode"].map(keys),
                    "partner_kind": chunk["partnerCode"].map(kinds),
                    "flow": chunk["flowCode"],
                    "period_start": start,
                    "period_end": end,
                    "months": np.int16(months),
                    "period_type": period_type,
                    "commodity": cmd,
                    "value": chunk["primaryValue"],
                    "currency": "USD",
                    "valuation": chunk["flowCode"].map(FLOW_VALUATION),
                    "status": np.where(reported.fillna(False), "reported", "estimated"),
                    "published_yoy": np.nan,
                    "release": release,
                    "vintage": bulk_file.vintage,
                    "period": bulk_file.period,
                    "classification": bulk_file.classification,
                    "is_original_classification": chunk["isOriginalClassification"] == 1,
                    "aggr_level": aggr,
                    "is_leaf": (aggr == 6) | cmd.isin(leaf),
                    "breakdown_total": (chunk["partner2Code"] == 0)
                    & (chunk["customsCode"] == "C00")
                    & (chunk["motCode"] == 0),
                    "partner_code": chunk["partnerCode"],
                    "partner2_code": chunk["partner2Code"],
                    "customs_code": chunk["customsCode"],
                    "mot_code": chunk["motCode"],
                    "is_aggregate": chunk["isAggregate"] == 1,
                    "qty_unit_code": chunk["qtyUnitCode"],
                    "qty": chunk["qty"],
                    "alt_qty_unit_code": chunk["altQtyUnitCode"],
                    "alt_qty": chunk["altQty"],
                    "net_wgt": chunk["netWgt"],
                    "gross_wgt": chunk["grossWgt"],
                    "payload_sha256": sha256,
                }
            )
            bad = frame["partner"].isna() | frame["valuation"].isna() | frame["value"].isna()
            if bad.any() or (frame["value"] < 0).any():
                raise ValueError(f"{path}: {int(bad.sum())} rows with unknown codes or no value")
            writer.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False))
            rows += len(frame)
    return rows


def _arrow_type(dtype) -> pa.DataType:
    return {
        "String": pa.string(), "Date": pa.date32(), "Int16": pa.int16(), "Int32": pa.int32(),
        "Float64": pa.float64(), "Boolean": pa.bool_(),
    }[str(dtype)]  # fmt: skip
