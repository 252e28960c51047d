"""UN Comtrade bulk files: listing, download plan and the streaming parser (sources.md §1).

Endpoints (under the configured base URL, ``settings.base_url("comtrade")``; a subscription key
is sent as the ``Ocp-Apim-Subscription-Key`` header by :func:`flows.sources.comtrade.headers`):

* ``{base}/bulk/v1/get/{type}/{freq}/{cl}?reporterCode=..&period=..`` lists the files
  (:func:`listing_request`, :func:`parse_listing`). The answer is JSON ``{elapsedTime, count,
  data: [entry, ...], error}``; each entry names one file: ``reporterCode``, ``typeCode``,
  ``freqCode``, ``classificationCode`` (the edition actually published: a search for ``HS``
  may return ``H0`` … ``H6``, and ``S1`` for years before HS existed), ``period``,
  ``publicationDate``, ``fileSize`` ("183.34 KB"), ``rowKey`` (the file's hash) and ``fileUrl``
  (the hash, or an absolute URL ending with it). Recorded example:
  ``comtrade/bulk_get_C_A_listing_r32_1962.json`` (comtradr test fixture).
* ``{base}/bulk/v1/file/{reporterCode}/{rowKey}`` downloads one file: gzipped tab-separated
  text (comtradr fixture ``tests/goods_bulk/...``: ``Content-Type: application/TSV``,
  ``Content-Disposition: C_A_32_196201_S1_O.txt.gz``). The URL is always rebuilt from the base
  URL and the hash, never taken from the listing, so a mirror or test server is honoured.

Only new or revised files are downloaded (:func:`plan_downloads`): a file is identified by its
dataset (type, frequency, classification, reporter, period) and is fetched again only when the
listing's ``rowKey`` or ``publicationDate`` differs from the copy the raw archive holds.

Bulk file layout (:data:`BULK_COLUMNS`): the 34 fields UN Comtrade's data dictionary marks
``isInBulkFileFinal`` (``reference/comtrade_TradeDataItems.json``), in the order of the recorded
sample ``comtrade/comtradr_vignette10_bulk_C_A_H0_r32_2000_first100.csv`` — a ``datasetCode``
column, no description columns (no ``reporterISO``, ``cmdDesc``, ... and no ``aggrLevel`` or
``isLeaf``), and flags written ``0``/``1``. The header names are the API's field names (the
recorded sample is a converted R frame whose names comtradr turned into snake_case). Every file
is read with this explicit schema; codes stay strings (``cmdCode`` "010121" keeps its zero).

Normalisation (:func:`normalise`, one row per bulk row, nothing dropped) gives
:data:`DETAIL_SCHEMA`: the canonical :data:`flows.schema.OBSERVATION_SCHEMA` columns followed by
the detail columns that keep rows of different kinds apart — ``aggr_level`` (0 for TOTAL, else
the number of HS digits: 2, 4, 6, as Comtrade's ``aggrLevel`` in ``reference/comtrade_HS.json``),
``is_leaf``, ``breakdown_total`` (partner2Code 0, customsCode C00 and motCode 0: the
publisher's total over those breakdowns), the breakdown codes and the quantities. HS levels and
breakdown rows are never mixed in one sum: filter on ``aggr_level`` and ``breakdown_total``.

Parsing is streaming (:func:`iter_blocks`, :func:`scan_block`): the gzip stream is decompressed
in bounded blocks of whole lines (ISA-L, in a background thread) and each block is read by
``polars.scan_csv`` with the explicit schema. (Scanning one whole decompressed file would
memory-map it, and every page read stays resident: peak memory would grow with the file.)
:func:`parse` is the in-memory path for one small body; both share :func:`normalise` and
:func:`check_detail`.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import queue
import re
import threading
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl
from isal import igzip

from flows.archive import ManifestEntry
from flows.reference import UnknownCodeError
from flows.schema import OBSERVATION_SCHEMA, add_months
from flows.sources.base import FetchRequest, SourceError, parse_error
from flows.sources.comtrade import FLOW_CODES, comtrade_area

NAME = "comtrade"
#: Valuation of every flow code of Comtrade's flow reference (memo flows kept as their own flows).
BULK_FLOW_VALUATION: dict[str, str] = {code: valuation for code, (_, valuation) in FLOW_CODES.items()}

#: Classification editions the detail parser accepts (HS; SITC and BEC codes have other shapes).
HS_EDITIONS = frozenset({"H0", "H1", "H2", "H3", "H4", "H5", "H6"})
#: Classification codes a listing may be asked for: ``HS`` (each reporter's own edition) or one
#: edition (comtradr ``ct_get_bulk`` reference page).
LISTING_CLASSIFICATIONS = frozenset({"HS"} | HS_EDITIONS)
#: Periods per listing call (a comma list, as the data API takes; the recorded listing asked
#: for a single period — longer lists are unverified, entries outside the window are ignored).
LISTING_PERIODS_PER_CALL = 12

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

#: Default size of one decompressed block (whole lines) handed to ``scan_csv``.
DEFAULT_BLOCK_BYTES = 128 << 20
#: The first block is small and each next one twice as large (up to the block size), so that
#: parsing starts while the rest is still being decompressed.
FIRST_BLOCK_BYTES = 4 << 20

_CMD_CODE = r"^(TOTAL|\d{2}|\d{4}|\d{6})$"
_HASH = re.compile(r"^[0-9A-Za-z]+$")
_GZIP_MAGIC = b"\x1f\x8b"


# --------------------------------------------------------------------------------------------
# listing and download plan


@dataclass(frozen=True)
class BulkFile:
    """One file of a bulk listing (all fields as the listing gives them)."""

    type_code: str
    freq: str
    search: str  # the classification the listing was asked for (HS or an edition)
    classification: str  # the edition the file holds (classificationCode)
    reporter_code: int
    period: str
    publication_date: str  # ISO 8601 as published, e.g. "2003-04-29T11:24:10Z"
    row_key: str  # the file's hash
    file_size: str  # as published, e.g. "183.34 KB"

    @property
    def dataset(self) -> tuple[str, str, str, int, str]:
        """(type, freq, classification, reporter code, period): what one file covers."""
        return (self.type_code, self.freq, self.classification, self.reporter_code, self.period)

    @property
    def reporter(self) -> str:
        """The reporter's key (ISO3 or ``COMTRADE_<code>``); raises UnknownCodeError."""
        return comtrade_area(self.reporter_code, kind="reporter")[0]

    @property
    def vintage(self) -> date:
        """The publication date."""
        return _timestamp(self.publication_date).date()

    def meta(self) -> dict[str, Any]:
        return {
            "kind": "bulk-file",
            "type": self.type_code,
            "freq": self.freq,
            "search": self.search,
            "classification": self.classification,
            "reporterCode": self.reporter_code,
            "period": self.period,
            "publicationDate": self.publication_date,
            "rowKey": self.row_key,
            "fileSize": self.file_size,
        }

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> BulkFile:
        """The entry :meth:`meta` describes; raises KeyError/TypeError/ValueError if incomplete."""
        if meta.get("kind") != "bulk-file":
            raise ValueError("not a bulk-file description (kind is not bulk-file)")
        return cls(
            type_code=str(meta["type"]),
            freq=str(meta["freq"]),
            search=str(meta["search"]),
            classification=str(meta["classification"]),
            reporter_code=int(meta["reporterCode"]),
            period=str(meta["period"]),
            publication_date=str(meta["publicationDate"]),
            row_key=str(meta["rowKey"]),
            file_size=str(meta.get("fileSize", "")),
        )

    @classmethod
    def from_request(cls, request: FetchRequest) -> BulkFile:
        """The listing entry a download request was planned from (raises ParseError)."""
        try:
            return cls.from_meta(request.meta)
        except (KeyError, TypeError, ValueError) as exc:
            raise parse_error(request, f"bulk-file request meta is incomplete: {exc!r}") from None


def listing_request(
    base_url: str,
    *,
    freq: str,
    classification: str = "HS",
    type_code: str = "C",
    reporter_code: int | None = None,
    periods: Sequence[str] = (),
) -> FetchRequest:
    """``GET {base}/bulk/v1/get/{type}/{freq}/{cl}`` with ``reporterCode`` and ``period``.

    ``periods`` are Comtrade periods (``YYYY`` for annual, ``YYYYMM`` for monthly), sent as a
    comma list; empty lists every period. Raises :class:`ValueError` for an unknown frequency,
    type or classification, or a period that does not fit the frequency.
    """
    freq, type_code, cl = freq.strip().upper(), type_code.strip().upper(), classification.strip()
    if freq not in ("A", "M"):
        raise ValueError(f"bulk frequency must be A or M, got {freq!r}")
    if type_code != "C":
        raise ValueError(f"only goods (type C) bulk files are parsed, got {type_code!r}")
    if cl not in LISTING_CLASSIFICATIONS:
        raise ValueError(f"bulk classification must be one of {sorted(LISTING_CLASSIFICATIONS)}")
    for period in periods:
        _period_span(period, freq)  # raises ValueError
    params: dict[str, str] = {}
    if reporter_code is not None:
        params["reporterCode"] = str(int(reporter_code))
    if periods:
        params["period"] = ",".join(periods)
    return FetchRequest(
        source=NAME,
        url=f"{base_url.rstrip('/')}/bulk/v1/get/{type_code}/{freq}/{cl}",
        params=params,
        expect="json",
        role="index",
        meta={"kind": "bulk-listing", "type": type_code, "freq": freq, "search": cl},
    )


def listing_requests(
    base_url: str,
    reporter_codes: Iterable[int],
    period_start: date,
    period_end: date,
    *,
    freq: str,
    classification: str = "HS",
) -> list[FetchRequest]:
    """Listing requests for each reporter over the window, :data:`LISTING_PERIODS_PER_CALL`
    periods per call (see :func:`listing_request`)."""
    periods = window_periods(period_start, period_end, freq)
    return [
        listing_request(
            base_url, freq=freq, classification=classification, reporter_code=code,
            periods=periods[i : i + LISTING_PERIODS_PER_CALL],
        )
        for code in reporter_codes
        for i in range(0, len(periods), LISTING_PERIODS_PER_CALL)
    ]


def window_periods(period_start: date, period_end: date, freq: str) -> list[str]:
    """Comtrade periods from ``period_start`` to ``period_end`` (``YYYY`` or ``YYYYMM``)."""
    if period_end < period_start:
        raise ValueError(f"period_end {period_end} is before period_start {period_start}")
    if freq == "A":
        return [str(year) for year in range(period_start.year, period_end.year + 1)]
    out, month = [], date(period_start.year, period_start.month, 1)
    while month <= period_end:
        out.append(f"{month.year}{month.month:02d}")
        month = add_months(month, 1)
    return out


def parse_listing(body: bytes, request: FetchRequest) -> list[BulkFile]:
    """The files of one ``bulk/v1/get`` answer.

    Raises :class:`ParseError` when the body is not JSON or not an object, carries a non-empty
    ``error``, lacks a ``data`` list, its ``count`` disagrees with ``data``; when an entry lacks
    a field, has a frequency or type other than the request's, a reporter not asked for, a
    period that does not fit its frequency, an unreadable ``publicationDate``, a ``rowKey`` that
    is not a plain hash, or a ``fileUrl`` that does not end with its ``rowKey``.
    ``count: 0`` with no data is an empty list (nothing published).
    """
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise parse_error(request, f"listing is not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise parse_error(request, f"listing is not a JSON object but {type(payload).__name__}")
    if payload.get("error") not in (None, "", [], {}):
        raise parse_error(request, f"publisher reported an error: {payload['error']!r}")
    data = payload.get("data")
    if not isinstance(data, list):
        raise parse_error(request, f"listing has no 'data' list (keys {sorted(payload)[:10]})")
    count = payload.get("count")
    if count is not None and count != len(data):
        raise parse_error(request, f"'count' is {count!r} but 'data' holds {len(data)} entries")
    meta = request.meta
    wanted_reporter = request.params.get("reporterCode")
    files = []
    for index, entry in enumerate(data):
        if not isinstance(entry, dict):
            raise parse_error(request, f"listing entry {index} is not an object")
        missing = [
            k for k in ("rowKey", "reporterCode", "typeCode", "freqCode", "classificationCode",
                        "period", "publicationDate") if entry.get(k) in (None, "")
        ]  # fmt: skip
        if missing:
            raise parse_error(request, f"listing entry {index} lacks {missing}")
        row_key = str(entry["rowKey"]).strip()
        if not _HASH.match(row_key):
            raise parse_error(request, f"listing entry {index}: rowKey {row_key!r} is not a hash")
        file_url = str(entry.get("fileUrl") or row_key).strip().rstrip("/")
        if file_url.rsplit("/", 1)[-1] != row_key:
            raise parse_error(
                request, f"listing entry {index}: fileUrl {file_url!r} does not end with rowKey"
            )
        freq, type_code = str(entry["freqCode"]).strip(), str(entry["typeCode"]).strip()
        for field, value in (("freq", freq), ("type", type_code)):
            if meta.get(field) and value != meta[field]:
                raise parse_error(
                    request, f"listing entry {index}: {field}Code {value!r}, asked {meta[field]!r}"
                )
        try:
            reporter_code = int(str(entry["reporterCode"]).strip())
            period = str(entry["period"]).strip()
            _period_span(period, freq)
            _timestamp(str(entry["publicationDate"]))
        except ValueError as exc:
            raise parse_error(request, f"listing entry {index}: {exc}") from None
        if wanted_reporter is not None and str(reporter_code) != wanted_reporter:
            raise parse_error(
                request, f"listing entry {index} is for reporter {reporter_code}, asked {wanted_reporter}"
            )
        files.append(
            BulkFile(
                type_code=type_code,
                freq=freq,
                search=str(meta.get("search") or entry["classificationCode"]),
                classification=str(entry["classificationCode"]).strip(),
                reporter_code=reporter_code,
                period=period,
                publication_date=str(entry["publicationDate"]).strip(),
                row_key=row_key,
                file_size=str(entry.get("fileSize") or ""),
            )
        )
    return files


def file_request(base_url: str, bulk_file: BulkFile) -> FetchRequest:
    """``GET {base}/bulk/v1/file/{reporterCode}/{rowKey}`` for one listed file.

    ``meta`` carries the listing entry (:meth:`BulkFile.meta`) so an offline rebuild parses the
    archived body exactly as the live run did. Raises UnknownCodeError for an unmapped reporter.
    """
    start, end, _, _ = _period_span(bulk_file.period, bulk_file.freq)
    return FetchRequest(
        source=NAME,
        url=f"{base_url.rstrip('/')}/bulk/v1/file/{bulk_file.reporter_code}/{bulk_file.row_key}",
        expect="any",
        role="data",
        reporter=bulk_file.reporter,
        period_start=start,
        period_end=end,
        meta=bulk_file.meta(),
    )


def held_files(entries: Iterable[ManifestEntry]) -> dict[tuple, ManifestEntry]:
    """The latest accepted download (HTTP 200, no parse error) per dataset in ``entries``."""
    held: dict[tuple, ManifestEntry] = {}
    for entry in entries:
        if entry.request.meta.get("kind") != "bulk-file" or entry.status != 200:
            continue
        bulk_file = BulkFile.from_request(entry.request)
        if entry.parse_error is None:
            held[bulk_file.dataset] = entry
    return held


def plan_downloads(
    base_url: str, listing: Iterable[BulkFile], entries: Iterable[ManifestEntry]
) -> tuple[list[FetchRequest], list[BulkFile]]:
    """``(requests, skipped)``: downloads for the files that are new or revised.

    A listed file is skipped when the archive (``entries``) already holds an accepted download
    of the same dataset with the same ``rowKey`` and ``publicationDate``, and is returned in
    ``skipped`` (never downloaded) when its classification is not an HS edition (e.g. ``S1``
    for years before HS existed).
    """
    held = {
        dataset: (entry.request.meta.get("rowKey"), entry.request.meta.get("publicationDate"))
        for dataset, entry in held_files(entries).items()
    }
    requests, skipped = [], []
    for bulk_file in listing:
        if bulk_file.classification not in HS_EDITIONS:
            skipped.append(bulk_file)
        elif held.get(bulk_file.dataset) != (bulk_file.row_key, bulk_file.publication_date):
            requests.append(file_request(base_url, bulk_file))
    return requests, skipped


def check_gzip(body: bytes, request: FetchRequest) -> None:
    """Raise ParseError unless ``body`` starts like a gzip file (an error page does not)."""
    if not body.startswith(_GZIP_MAGIC):
        head = body[:120].decode("utf-8", errors="replace").strip()
        raise parse_error(request, f"expected a gzipped bulk file, got {head!r}")


# --------------------------------------------------------------------------------------------
# parse


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


# --------------------------------------------------------------------------------------------
# helpers


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


def _period_span(period: str, freq: str) -> tuple[date, date, int, str]:
    """(first month, last month, months, period_type) of a Comtrade period; ValueError if bad."""
    text = str(period).strip()
    if freq == "A" and re.fullmatch(r"\d{4}", text):
        year = int(text)
        return date(year, 1, 1), date(year, 12, 1), 12, "year"
    if freq == "M" and re.fullmatch(r"\d{6}", text) and 1 <= int(text[4:]) <= 12:
        month = date(int(text[:4]), int(text[4:]), 1)
        return month, month, 1, "month"
    raise ValueError(f"period {period!r} does not fit frequency {freq!r} (YYYY or YYYYMM)")


def _timestamp(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"publicationDate {text!r} is not an ISO 8601 timestamp") from None


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


__all__ = [
    "BULK_COLUMNS", "DETAIL_COLUMNS", "DETAIL_SCHEMA", "BulkFile", "check_detail", "check_gzip",
    "file_request", "held_files", "iter_blocks", "listing_request", "listing_requests",
    "normalise", "parse", "parse_listing", "plan_downloads", "scan_block", "window_periods",
]  # fmt: skip
