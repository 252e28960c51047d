"""Pages of China customs (GACC) for the GACC tests: the recording, else its made-up stand-in.

The tests parse the recordings in ../shared/data/real/gacc_html/ (docs/gacc_pages.md) or, when
``shared/`` is absent (a plain clone), their MADE-UP stand-ins in tests/fixtures/gacc/
(``*_made_up*``, written by tests/builders/gacc.py in the recordings' layout with invented figures;
README.md there). A :class:`Page` carries the printed texts the tests read off the page it holds
(:data:`PRINTED`): real figures for a recording, made-up ones for a stand-in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from flows.sources.base import FetchRequest
from tests.builders.gacc import made_up_uuid, number
from tests.double.gacc import JANFEB_2025, MAR_2026, SEED, recording_or_made_up

FIXTURES = Path(__file__).parent / "fixtures" / "gacc"
MIRROR = "http://127.0.0.1:8765/gacc-mirror"


def fetch_request(meta: dict | None = None, url: str = f"{MIRROR}/Statics/page.html") -> FetchRequest:
    """A GACC data request for ``url`` with ``meta`` (section, currency, year, month)."""
    return FetchRequest(source="gacc", url=url, expect="html", reporter="CHN", meta=meta or {})


def edit(body: bytes, old: str, new: str, count: int = 1) -> bytes:
    """``body`` with the first ``count`` occurrences of ``old`` replaced (which must occur)."""
    raw = old.encode()
    assert body.count(raw) >= count, f"{old!r} not found {count} time(s) in the page"
    return body.replace(raw, new.encode(), count)


def one(frame: pl.DataFrame, partner: str, flow: str, period_type: str) -> dict:
    """The one row of ``frame`` for ``partner``, ``flow`` and ``period_type``."""
    rows = frame.filter(
        (pl.col("partner") == partner)
        & (pl.col("flow") == flow)
        & (pl.col("period_type") == period_type)
    )
    assert rows.height == 1, f"{partner} {flow} {period_type}: {rows.height} rows"
    return rows.row(0, named=True)


@dataclass(frozen=True)
class Page:
    """A recorded page, or its made-up stand-in when the recording is absent, and the printed
    texts the tests read off it (:data:`PRINTED`)."""

    body: bytes
    made_up: bool
    printed: dict[str, str]

    def cell(self, key: str) -> str:
        """The markup of a printed value cell's text, e.g. ``<b>41,046.4&nbsp;</b>``."""
        return f"<b>{self.printed[key]}&nbsp;</b>"

    def value(self, key: str, unit: int = 100_000_000) -> float:
        """The printed value ``key`` times ``unit`` (CNY 100 million by default)."""
        return float(number(self.printed[key]) * unit)


#: Printed texts by page: (recording, made up?) → name → text as on the page.
PRINTED: dict[tuple[str, bool], dict[str, str]] = {
    # read off shared/data/real/gacc_html/release_section4_by_country_mar2026_cny.html
    (MAR_2026, False): {
        "date": "2026/04/08", "Total E&I 3": "41,046.4", "Total X 3": "22,297.0",
        "Total X yoy": "11.9", "Germany X 3": "711.8", "US X 3": "2,045.0", "Japan X 3": "998.7",
        "Hong Kong X 3": "2,730.9",
    },
    # read off tests/fixtures/gacc/section4_mar2026_cny_made_up.html (MADE-UP figures)
    (MAR_2026, True): {
        "date": "2026/04/13", "Total E&I 3": "50,000.0", "Total X 3": "30,000.0",
        "Total X yoy": "10.0", "Germany X 3": "700.0", "US X 3": "2,000.0", "Japan X 3": "1,000.0",
        "Hong Kong X 3": "2,500.0",
    },
    # shared/data/real/gacc_html/release_section4_by_country_janfeb2025_cny.html
    (JANFEB_2025, False): {"Total X 1-2": "38,812.1"},
    # tests/fixtures/gacc/section4_janfeb2025_cny_made_up.html (MADE-UP figures)
    (JANFEB_2025, True): {"Total X 1-2": "60,000.0"},
    # the section (4) links of shared/data/real/gacc_html/seed_2026.html ...
    (SEED, False): {
        "CNY 2": "47e53257-a14f-4a19-a17c-b5beea64f822", "CNY 3": "2e61c8a1-17b2-4074-b909-c039ccf8c8fb",
        "USD 2": "0ed684ce-a5d7-45b8-ab53-0f30b3a8c7c1", "USD 3": "66580503-6688-49b2-bd23-de154e5677d5",
    },
    # ... and of tests/fixtures/gacc/preliminary2026_index_made_up.html (MADE-UP addresses)
    (SEED, True): {f"{ccy} {m}": made_up_uuid(4, ccy, 2026, m) for ccy in ("CNY", "USD") for m in (2, 3)},
}


def page_of(recordings: Path, relative: str) -> Page:
    """The page ``relative`` (under shared/data/real) as recorded, else its made-up stand-in."""
    path = recording_or_made_up(recordings, relative)
    assert path is not None, relative
    made_up = path.is_relative_to(FIXTURES)
    return Page(path.read_bytes(), made_up, PRINTED[(relative, made_up)])
