"""UN Comtrade bulk files: listing, download plan and the streaming parser (sources.md §1).

The package (every public name is importable from ``flows.sources.comtrade_bulk`` as before):

* :mod:`~flows.sources.comtrade_bulk.listing` — ``{base}/bulk/v1/get/...`` listing requests and
  their answers (:class:`BulkFile`, one per listed file), ``{base}/bulk/v1/file/...`` download
  requests, and the plan of new or revised files (:func:`plan_downloads`); the endpoints'
  evidence (recorded listing ``comtrade/bulk_get_C_A_listing_r32_1962.json``, comtradr
  fixtures) is in its docstring.
* :mod:`~flows.sources.comtrade_bulk.layout` — the 34 columns of a bulk file
  (:data:`BULK_COLUMNS`, from UN Comtrade's data dictionary and the recorded sample
  ``comtrade/comtradr_vignette10_bulk_C_A_H0_r32_2000_first100.csv``) and the detail rows
  (:data:`DETAIL_SCHEMA`: the canonical observation columns, then ``aggr_level``, ``is_leaf``,
  ``breakdown_total``, breakdown codes, quantities and weights in kilograms).
* :mod:`~flows.sources.comtrade_bulk.parsing` — the gzip stream read in bounded blocks
  (:func:`iter_blocks`, :func:`scan_block`), the in-memory :func:`parse` for small bodies and
  :func:`normalise` (bulk rows → detail rows, values in whole USD).
* :mod:`~flows.sources.comtrade_bulk.checks` — :func:`check_detail`, the checks a file's rows
  pass before they are kept.

Errors are :class:`~flows.sources.base.ParseError` (a bad listing, body or row) and
:class:`~flows.reference.UnknownCodeError` (an unmapped reporter, partner or flow code).
HS levels and breakdown rows are never mixed in one sum: filter on ``aggr_level`` and
``breakdown_total``.
"""

from __future__ import annotations

from .checks import check_detail
from .layout import (
    BULK_COLUMNS,
    BULK_FLOW_VALUATION,
    DETAIL_COLUMNS,
    DETAIL_SCHEMA,
    HS_EDITIONS,
    LEAF_HEADINGS,
    NAME,
    REQUIRED_COLUMNS,
)
from .listing import (
    LISTING_CLASSIFICATIONS,
    LISTING_PERIODS_PER_CALL,
    BulkFile,
    file_request,
    held_files,
    listing_request,
    listing_requests,
    parse_listing,
    plan_downloads,
    window_periods,
)
from .parsing import (
    DEFAULT_BLOCK_BYTES,
    FIRST_BLOCK_BYTES,
    check_gzip,
    iter_blocks,
    normalise,
    parse,
    polars_message,
    scan_block,
    scan_raw,
)

__all__ = [
    "BULK_COLUMNS", "BULK_FLOW_VALUATION", "DEFAULT_BLOCK_BYTES", "DETAIL_COLUMNS", "DETAIL_SCHEMA",
    "FIRST_BLOCK_BYTES", "HS_EDITIONS", "LEAF_HEADINGS", "LISTING_CLASSIFICATIONS",
    "LISTING_PERIODS_PER_CALL", "NAME", "REQUIRED_COLUMNS", "BulkFile", "check_detail",
    "check_gzip", "file_request", "held_files", "iter_blocks", "listing_request",
    "listing_requests", "normalise", "parse", "parse_listing", "plan_downloads", "polars_message",
    "scan_block", "scan_raw", "window_periods",
]  # fmt: skip
