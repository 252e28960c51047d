"""SYNTHETIC UN Comtrade bulk files for benchmarks and tests — every figure here is made up.

:func:`write_bulk_file` writes a gzipped tab-separated file in the bulk layout
(:data:`flows.sources.comtrade_bulk.BULK_COLUMNS`: same 34 columns, same order, flags 0/1,
empty fields for unpublished quantities, HS codes as strings with leading zeros). Rows are made
by mixed-radix decomposition of the row number, so they are unique on (partner, flow,
breakdown, commodity) and spread over:

* partners: World (0) and every Comtrade area code the pipeline maps;
* flows X, M, RX, RM (re-flows every tenth position, as memo flows);
* breakdowns: the total (partner2 0, customs C00, transport 0) and by mode of transport
  (1000 air, 2100 sea, 3200 road — codes from Comtrade's ModeOfTransportCodes reference);
* commodities: TOTAL, then made-up 2-, 4- and 6-digit codes shaped like HS codes.

Values are deterministic pseudo-random numbers (whole USD with cents), NOT real trade figures.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl

from flows.sources import comtrade_bulk as bulk
from flows.sources.base import FetchRequest
from flows.sources.comtrade_bulk.parsing import _partner_tables

#: Label put in every synthetic listing entry and request, so nobody mistakes it for real data.
SYNTHETIC = "SYNTHETIC"

_MOT = (0, 1000, 2100, 3200)


def commodity_codes(chapters: int = 40, headings: int = 8, subheadings: int = 6) -> list[str]:
    """TOTAL, then chapter ``cc``, its headings ``cchh`` and their subheadings ``cchhss``
    (made-up codes shaped like HS: two digits per level, leading zeros kept)."""
    codes = ["TOTAL"]
    for c in range(1, chapters + 1):
        chapter = f"{c:02d}"
        codes.append(chapter)
        for h in range(1, headings + 1):
            heading = f"{chapter}{h:02d}"
            codes.append(heading)
            codes.extend(f"{heading}{s:02d}" for s in range(1, subheadings + 1))
    return codes


def partner_codes() -> list[int]:
    """World (0) and every area code :func:`flows.sources.comtrade.comtrade_area` maps."""
    keys, _ = _partner_tables()
    return sorted(keys)


def synthetic_rows(
    rows: int,
    *,
    reporter_code: int = 156,
    period: str = "202301",
    freq: str = "M",
    classification: str = "H6",
    partners: int | None = None,
    chapters: int = 40,
) -> pl.LazyFrame:
    """``rows`` synthetic bulk rows (lazy, :data:`BULK_COLUMNS`): the commodity varies fastest,
    then the partner (the first ``partners`` codes), the flow and the mode of transport."""
    codes = commodity_codes(chapters)
    areas = partner_codes()[: partners or None]
    flows = ["X", "M", "X", "M", "X", "M", "X", "M", "RX", "RM"]
    year = int(period[:4])
    month = int(period[4:]) if freq == "M" else 52
    i = pl.int_range(0, rows, dtype=pl.Int64).alias("i")
    n_c, n_p, n_f, n_b = len(codes), len(areas), len(flows), len(_MOT)
    cmd_ix = pl.col("i") % n_c
    partner_ix = (pl.col("i") // n_c) % n_p
    flow_ix = (pl.col("i") // (n_c * n_p)) % n_f
    mot_ix = (pl.col("i") // (n_c * n_p * n_f)) % n_b
    noise = pl.col("i").hash(seed=7)
    value = ((noise % 1_000_000_000) / 100).cast(pl.Float64)
    flow = pl.lit(pl.Series(flows)).get(flow_ix)
    cmd = pl.lit(pl.Series(codes)).get(cmd_ix)
    frame = pl.LazyFrame().select(i).select(
        pl.lit(f"{year}{reporter_code:03d}{month:02d}{classification}").alias("datasetCode"),
        pl.lit("C").alias("typeCode"),
        pl.lit(freq).alias("freqCode"),
        pl.lit(int(f"{year}{(month if freq == 'M' else 1):02d}01"), dtype=pl.Int32).alias("refPeriodId"),
        pl.lit(year, dtype=pl.Int16).alias("refYear"),
        pl.lit(month, dtype=pl.Int16).alias("refMonth"),
        pl.lit(period).alias("period"),
        pl.lit(reporter_code, dtype=pl.Int32).alias("reporterCode"),
        flow.alias("flowCode"),
        pl.lit(pl.Series(areas, dtype=pl.Int32)).get(partner_ix).alias("partnerCode"),
        pl.lit(0, dtype=pl.Int32).alias("partner2Code"),
        pl.lit("HS").alias("classificationSearchCode"),
        pl.lit(classification).alias("classificationCode"),
        pl.lit(1, dtype=pl.Int8).alias("isOriginalClassification"),
        cmd.alias("cmdCode"),
        pl.lit("C00").alias("customsCode"),
        pl.lit("0").alias("mosCode"),
        pl.lit(pl.Series(_MOT, dtype=pl.Int32)).get(mot_ix).alias("motCode"),
        pl.when(cmd == "TOTAL").then(-1).otherwise(8).cast(pl.Int32).alias("qtyUnitCode"),
        pl.when(cmd == "TOTAL").then(None).otherwise((noise % 10_000_000) / 10).alias("qty"),
        pl.lit(0, dtype=pl.Int8).alias("isQtyEstimated"),
        pl.lit(-1, dtype=pl.Int32).alias("altQtyUnitCode"),
        pl.lit(None, dtype=pl.Float64).alias("altQty"),
        pl.lit(0, dtype=pl.Int8).alias("isAltQtyEstimated"),
        pl.when(cmd == "TOTAL").then(None).otherwise((noise % 90_000_000) / 10).alias("netWgt"),
        (noise % 7 == 0).cast(pl.Int8).alias("isNetWgtEstimated"),
        pl.lit(None, dtype=pl.Float64).alias("grossWgt"),
        pl.lit(0, dtype=pl.Int8).alias("isGrossWgtEstimated"),
        pl.when(flow.is_in(["M", "RM"])).then(value).alias("cifvalue"),
        pl.when(flow.is_in(["X", "RX"])).then(value).alias("fobvalue"),
        value.alias("primaryValue"),
        pl.when(noise % 50 == 0).then(4).otherwise(0).cast(pl.Int16).alias("legacyEstimationFlag"),
        (noise % 20 != 0).cast(pl.Int8).alias("isReported"),
        pl.lit(0, dtype=pl.Int8).alias("isAggregate"),
    )
    return frame.select(list(bulk.BULK_COLUMNS))


def write_bulk_file(path: Path, rows: int, **kwargs) -> Path:
    """Write ``rows`` synthetic rows as a gzipped bulk file at ``path`` (streaming)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    synthetic_rows(rows, **kwargs).sink_csv(
        path, separator="\t", compression="gzip", compression_level=1, check_extension=False,
        null_value="", quote_style="never",
    )  # fmt: skip
    return path


def synthetic_request(
    base_url: str = "http://127.0.0.1/comtrade",
    *,
    reporter_code: int = 156,
    period: str = "202301",
    freq: str = "M",
    classification: str = "H6",
    publication_date: str = "2024-01-31T00:00:00Z",
) -> FetchRequest:
    """A download request for a synthetic file, as :func:`comtrade_bulk.file_request` builds
    it; the listing entry's ``fileSize`` says SYNTHETIC."""
    label = f"{SYNTHETIC}/{reporter_code}/{period}/{freq}/{classification}/{publication_date}"
    key = hashlib.sha256(label.encode())
    bulk_file = bulk.BulkFile(
        type_code="C", freq=freq, search="HS", classification=classification,
        reporter_code=reporter_code, period=period, publication_date=publication_date,
        row_key=key.hexdigest(), file_size=SYNTHETIC,
    )  # fmt: skip
    return bulk.file_request(base_url, bulk_file)
