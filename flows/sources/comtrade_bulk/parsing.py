"""UN Comtrade bulk files: the streaming reader and the normaliser of one gzipped bulk file.

Parsing is streaming (:func:`iter_blocks`, :func:`scan_block`): the gzip stream is decompressed
in bounded blocks of whole lines (ISA-L, in a background thread) and each block is read by
``polars.scan_csv`` with the explicit schema :data:`~flows.sources.comtrade_bulk.layout.BULK_COLUMNS`.
(Scanning one whole decompressed file would memory-map it, and every page read stays resident:
peak memory would grow with the file.) :func:`parse` is the in-memory path for one small body;
both share :func:`normalise` (bulk rows → :data:`~flows.sources.comtrade_bulk.layout.DETAIL_SCHEMA`
rows, one per bulk row, nothing dropped; values in whole USD, weights in kilograms) and
:func:`~flows.sources.comtrade_bulk.checks.check_detail`.

Errors: :class:`~flows.sources.base.ParseError` for a body that is not gzip, a truncated or
corrupt gzip stream, a file that is not UTF-8, an empty file or one whose header is not
``BULK_COLUMNS``, unreadable rows, or a file whose classification is not an HS edition;
:class:`~flows.reference.UnknownCodeError` for an unmapped partner or flow code (raised by
``check_detail``).
"""

from __future__ import annotations

import gzip
import hashlib
import queue
import threading
import zlib
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import polars as pl
from isal import igzip

from flows.reference import UnknownCodeError
from flows.sources.base import FetchRequest, SourceError, parse_error
from flows.sources.comtrade import comtrade_area

from .checks import check_detail
from .layout import BULK_COLUMNS, BULK_FLOW_VALUATION, HS_EDITIONS, LEAF_HEADINGS, NAME
from .listing import BulkFile, _period_span

#: Default size of one decompressed block (whole lines) handed to ``scan_csv``.
DEFAULT_BLOCK_BYTES = 128 << 20
#: The first block is small and each next one twice as large (up to the block size), so that
#: parsing starts while the rest is still being decompressed.
FIRST_BLOCK_BYTES = 4 << 20

_GZIP_MAGIC = b"\x1f\x8b"
_S, _F = pl.String(), pl.Float64()


def check_gzip(body: bytes, request: FetchRequest) -> None:
    """Raise ParseError unless ``body`` starts like a gzip file (an error page does not)."""
    if not body.startswith(_GZIP_MAGIC):
        head = body[:120].decode("utf-8", errors="replace").strip()
        raise parse_error(request, f"expected a gzipped bulk file, got {head!r}")


def iter_blocks(
    path: Path, request: FetchRequest, block_bytes: int = DEFAULT_BLOCK_BYTES
) -> Iterator[bytes]:
    """Decompressed blocks of whole data lines (header removed) of the gzipped file at ``path``.

    Decompression runs in a background thread, one block ahead, so peak memory is about three
    blocks whatever the file size. Blocks grow from :data:`FIRST_BLOCK_BYTES` to
    ``block_bytes``. Raises :class:`ParseError` when the file is not gzip, is
    truncated or corrupt, is empty, or its header is not :data:`BULK_COLUMNS`.
    """
    if block_bytes < 1:
        raise ValueError("block_bytes must be positive")
    blocks: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def produce() -> None:
        try:
            with igzip.open(path, "rb") as stream:
                _check_header(stream.readline(), request)
                size = min(FIRST_BLOCK_BYTES, block_bytes)
                while not stop.is_set():
                    block = stream.read(size)
                    if not block:
                        break
                    if not block.endswith(b"\n"):
                        block += stream.readline()
                    blocks.put(block)
                    size = min(size * 2, block_bytes)
            blocks.put(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer and raised there
            blocks.put(exc)

    worker = threading.Thread(target=produce, name="bulk-gunzip", daemon=True)
    worker.start()
    try:
        while True:
            item = blocks.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise _as_parse_error(item, request) from item
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on the full queue
            try:
                blocks.get_nowait()
            except queue.Empty:
                worker.join(timeout=0.05)


def scan_block(block: bytes, request: FetchRequest, sha256: str) -> pl.LazyFrame:
    """One block of data lines as normalised detail rows (lazy; see :func:`normalise`)."""
    return normalise(scan_raw(block), request, sha256)


def scan_raw(block: bytes) -> pl.LazyFrame:
    """One block of data lines read with :data:`BULK_COLUMNS` (tab-separated, no quoting, an
    empty field is null), lazily."""
    return pl.scan_csv(
        block,
        has_header=False,
        separator="\t",
        schema=BULK_COLUMNS,
        quote_char=None,
        null_values=[""],
        raise_if_empty=False,
    )


def parse(body: bytes, request: FetchRequest) -> pl.DataFrame:
    """In-memory path: every row of one gzipped bulk file as :data:`DETAIL_SCHEMA` rows.

    For small bodies (tests, samples); large files go through :func:`iter_blocks` and
    :func:`flows.detail.ingest_bulk_file`, which give the same rows. ``request`` must be a
    download planned by :func:`file_request` (its meta names the dataset). Raises
    :class:`ParseError` as :func:`iter_blocks` and :func:`check_detail` do, and
    :class:`UnknownCodeError` for an unmapped partner or flow code.
    """
    check_gzip(body, request)
    try:
        text = gzip.decompress(body)
    except (OSError, EOFError, zlib.error) as exc:
        raise _as_parse_error(exc, request) from exc
    header, _, lines = text.partition(b"\n")
    _check_header(header + b"\n", request)
    raw = _collect(scan_raw(lines), request) if lines.strip() else pl.DataFrame(schema=BULK_COLUMNS)
    frame = _collect(normalise(raw.lazy(), request, hashlib.sha256(body).hexdigest()), request)
    check_detail(frame.lazy(), request, raw=lambda: iter([raw.lazy()]))
    return frame


def normalise(raw: pl.LazyFrame, request: FetchRequest, sha256: str) -> pl.LazyFrame:
    """Bulk rows (:data:`BULK_COLUMNS`) → detail rows (:data:`DETAIL_SCHEMA`), lazily.

    * ``source`` comtrade; ``reporter``: the listing's reporter (:func:`comtrade_area`);
      ``partner``/``partner_kind``: :func:`comtrade_area` of ``partnerCode`` (WLD for 0);
    * ``flow``: ``flowCode`` as published (X, M and the memo flows); ``valuation`` CIF on the
      import side, FOB on the export side (:data:`BULK_FLOW_VALUATION`); ``value``: ``primaryValue`` in whole
      USD (``cifvalue``/``fobvalue`` are not used, as in the API parser); ``currency`` USD;
    * ``period_*``/``months``/``period_type``: the listing's period — a month (1, month) or the
      year January–December (12, year); ``period`` keeps Comtrade's ``YYYY``/``YYYYMM``;
    * ``commodity``: ``cmdCode`` as printed; ``aggr_level`` 0 for TOTAL, else its digits;
      ``is_leaf``: a 6-digit code, or a heading in :data:`LEAF_HEADINGS`;
    * ``status``: ``reported`` when ``isReported`` is 1 and ``legacyEstimationFlag`` is 0 (or
      empty), else ``estimated`` — the rule of the API parser;
    * ``release`` "UN Comtrade bulk v1 C/A/HS (classification H0)"; ``vintage`` the listing's
      ``publicationDate``; ``published_yoy`` null; ``payload_sha256`` = ``sha256``.

    A row whose reporter, type, frequency, period or classification contradicts the listing gets
    null period columns, an unmapped partner or flow gets a null partner or valuation, a flag
    other than 0/1 a null flag: :func:`check_detail` turns every such null into an error.
    """
    bulk_file = BulkFile.from_request(request)
    if bulk_file.classification not in HS_EDITIONS:
        raise parse_error(
            request, f"classification {bulk_file.classification!r} is not an HS edition "
            f"({', '.join(sorted(HS_EDITIONS))}); only HS detail is parsed"
        )  # fmt: skip
    reporter = bulk_file.reporter
    start, end, months, period_type = _period_span(bulk_file.period, bulk_file.freq)
    year, month = int(bulk_file.period[:4]), int(bulk_file.period[4:] or 52)
    keys, kinds = _partner_tables()
    col = pl.col
    consistent = (
        (col("typeCode") == bulk_file.type_code)
        & (col("freqCode") == bulk_file.freq)
        & (col("reporterCode") == bulk_file.reporter_code)
        & (col("period") == bulk_file.period)
        & (col("refYear") == year)
        & (col("refMonth") == month)
        & (col("classificationCode") == bulk_file.classification)
    )
    aggr_level = (
        pl.when(col("cmdCode") == "TOTAL").then(0).otherwise(col("cmdCode").str.len_bytes())
    ).cast(pl.Int16)
    leaf_headings = sorted(LEAF_HEADINGS.get(bulk_file.classification, ()))
    release = (
        f"UN Comtrade bulk v1 {bulk_file.type_code}/{bulk_file.freq}/{bulk_file.search} "
        f"(classification {bulk_file.classification})"
    )
    return raw.select(
        pl.lit(NAME).alias("source"),
        pl.lit(reporter).alias("reporter"),
        col("partnerCode").replace_strict(keys, default=None, return_dtype=_S).alias("partner"),
        col("partnerCode").replace_strict(kinds, default=None, return_dtype=_S).alias("partner_kind"),
        col("flowCode").alias("flow"),
        pl.when(consistent).then(pl.lit(start)).alias("period_start"),
        pl.when(consistent).then(pl.lit(end)).alias("period_end"),
        pl.lit(months, dtype=pl.Int16).alias("months"),
        pl.lit(period_type).alias("period_type"),
        col("cmdCode").alias("commodity"),
        col("primaryValue").alias("value"),
        pl.lit("USD").alias("currency"),
        col("flowCode").replace_strict(BULK_FLOW_VALUATION, default=None, return_dtype=_S).alias("valuation"),
        pl.when((col("isReported") == 1) & (col("legacyEstimationFlag").fill_null(0) == 0))
        .then(pl.lit("reported"))
        .when(col("isReported").is_in([0, 1]))
        .then(pl.lit("estimated"))
        .alias("status"),
        pl.lit(None, dtype=_F).alias("published_yoy"),
        pl.lit(release).alias("release"),
        pl.lit(bulk_file.vintage).alias("vintage"),
        pl.lit(bulk_file.period).alias("period"),
        pl.lit(bulk_file.classification).alias("classification"),
        _flag("isOriginalClassification").alias("is_original_classification"),
        aggr_level.alias("aggr_level"),
        ((aggr_level == 6) | col("cmdCode").is_in(leaf_headings)).alias("is_leaf"),
        ((col("partner2Code") == 0) & (col("customsCode") == "C00") & (col("motCode") == 0))
        .alias("breakdown_total"),
        col("partnerCode").alias("partner_code"),
        col("partner2Code").alias("partner2_code"),
        col("customsCode").alias("customs_code"),
        col("motCode").alias("mot_code"),
        _flag("isAggregate").alias("is_aggregate"),
        col("qtyUnitCode").alias("qty_unit_code"),
        col("qty"),
        col("altQtyUnitCode").alias("alt_qty_unit_code"),
        col("altQty").alias("alt_qty"),
        col("netWgt").alias("net_wgt"),
        col("grossWgt").alias("gross_wgt"),
        pl.lit(sha256).alias("payload_sha256"),
    )


def _flag(name: str) -> pl.Expr:
    return pl.when(pl.col(name) == 1).then(True).when(pl.col(name) == 0).then(False)


@cache
def _partner_tables() -> tuple[dict[int, str], dict[int, str]]:
    """Comtrade area code → (key, kind) for every code :func:`comtrade_area` maps (0–999)."""
    keys, kinds = {}, {}
    for code in range(1000):
        try:
            key, kind = comtrade_area(code)
        except UnknownCodeError:
            continue
        keys[code], kinds[code] = key, kind
    return keys, kinds


def _check_header(line: bytes, request: FetchRequest) -> None:
    if not line.strip():
        raise parse_error(request, "the bulk file is empty (no header line)")
    names = line.rstrip(b"\r\n").decode("utf-8", errors="replace").split("\t")
    if names != list(BULK_COLUMNS):
        missing = [c for c in BULK_COLUMNS if c not in names]
        extra = [c for c in names if c not in BULK_COLUMNS]
        raise parse_error(
            request,
            f"unexpected bulk file columns: missing {missing}, unexpected {extra[:10]}"
            + ("" if missing or extra else " (same names in another order)")
            + f"; header starts {names[:4]}",
        )


def _as_parse_error(exc: BaseException, request: FetchRequest) -> BaseException:
    if isinstance(exc, (UnknownCodeError, SourceError)):
        return exc
    if isinstance(exc, EOFError):
        return parse_error(request, f"truncated gzip file: {exc}")
    if isinstance(exc, (OSError, zlib.error)) or type(exc).__module__.startswith("isal"):
        return parse_error(request, f"corrupt gzip file: {type(exc).__name__}: {exc}")
    if isinstance(exc, UnicodeDecodeError):
        return parse_error(request, f"the bulk file is not UTF-8 text: {exc}")
    return exc


def _collect(frame: pl.LazyFrame, request: FetchRequest) -> pl.DataFrame:
    try:
        return frame.collect()
    except pl.exceptions.PolarsError as exc:
        raise parse_error(request, f"unreadable bulk rows: {polars_message(exc)}") from exc


def polars_message(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return " ".join(line.strip() for line in text[:3])[:400]
