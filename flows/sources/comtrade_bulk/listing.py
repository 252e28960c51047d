"""UN Comtrade bulk files: the listing, its entries and the download plan (sources.md §1).

Endpoints (under the configured base URL, ``settings.base_url("comtrade")``; a subscription key
is sent as the ``Ocp-Apim-Subscription-Key`` header by :func:`flows.sources.comtrade.headers`):

* ``{base}/bulk/v1/get/{type}/{freq}/{cl}?reporterCode=..&period=..`` lists the files
  (:func:`listing_request`, :func:`parse_listing`). The answer is JSON ``{elapsedTime, count,
  data: [entry, ...], error}``; each entry names one file: ``reporterCode``, ``typeCode``,
  ``freqCode``, ``classificationCode`` (the edition actually published: a search for ``HS``
  may return ``H0`` … ``H6``, and ``S1`` for years before HS existed), ``period``,
  ``publicationDate``, ``fileSize`` ("183.34 KB"), ``rowKey`` (the file's hash) and ``fileUrl``
  (the hash, or an absolute URL ending with it). Recorded example:
  ``comtrade/bulk_get_C_A_listing_r32_1962.json`` (comtradr test fixture). Each entry becomes a
  :class:`BulkFile`; a malformed listing or entry is a :class:`~flows.sources.base.ParseError`.
* ``{base}/bulk/v1/file/{reporterCode}/{rowKey}`` downloads one file (:func:`file_request`):
  gzipped tab-separated text (comtradr fixture ``tests/goods_bulk/...``: ``Content-Type:
  application/TSV``, ``Content-Disposition: C_A_32_196201_S1_O.txt.gz``). The URL is always
  rebuilt from the base URL and the hash, never taken from the listing, so a mirror or test
  server is honoured. Its body is read by :mod:`flows.sources.comtrade_bulk.parsing`.

Only new or revised files are downloaded (:func:`plan_downloads`): a file is identified by its
dataset (type, frequency, classification, reporter, period) and is fetched again only when the
listing's ``rowKey`` or ``publicationDate`` differs from the copy the raw archive holds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flows.archive import ManifestEntry
from flows.schema import add_months
from flows.sources.base import FetchRequest, parse_error
from flows.sources.comtrade import comtrade_area

from .layout import HS_EDITIONS, NAME

#: Classification codes a listing may be asked for: ``HS`` (each reporter's own edition) or one
#: edition (comtradr ``ct_get_bulk`` reference page).
LISTING_CLASSIFICATIONS = frozenset({"HS"} | HS_EDITIONS)
#: Periods per listing call (a comma list, as the data API takes; the recorded listing asked
#: for a single period — longer lists are unverified, entries outside the window are ignored).
LISTING_PERIODS_PER_CALL = 12

_HASH = re.compile(r"^[0-9A-Za-z]+$")


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
