"""China customs (GACC): discovery (index pages, plan) and the table (4) by-country parser.

Figures asserted here are read off the recorded real pages in ../shared/data/real/gacc_html/
(see docs/gacc_pages.md); each assertion names the row and column it comes from. Trap
variants are built in the test from the real bytes with one small edit each. The two files in
tests/fixtures/gacc/ are illustrative (made-up numbers / made-up link) and say so.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from flows.http import HttpClient
from flows.reference import UnknownCodeError, partner_kind
from flows.schema import OBSERVATION_KEY, OBSERVATION_SCHEMA
from flows.settings import Settings
from flows.sources import gacc
from flows.sources.base import Fetched, FetchRequest, ParseError, PlanContext
from tests.conftest import real_file

FIXTURES = Path(__file__).parent / "fixtures" / "gacc"
MAR_2026 = "gacc_html/release_section4_by_country_mar2026_cny.html"
JANFEB_2025 = "gacc_html/release_section4_by_country_janfeb2025_cny.html"
JAN_2018 = "gacc_html/release_section4_by_country_jan2018_cny.html"
SEED = "gacc_html/seed_2026.html"
MIRROR = "http://127.0.0.1:8765/gacc-mirror"
REAL_HOST = "http://english.customs.gov.cn"
MADE_UP_JANFEB_2025 = "/Statics/00000000-0000-4000-8000-000000002025.html"


def _request(meta: dict | None = None, url: str = f"{MIRROR}/Statics/page.html") -> FetchRequest:
    return FetchRequest(source="gacc", url=url, expect="html", reporter="CHN", meta=meta or {})


def _real(real_data: Path, relative: str) -> bytes:
    return real_file(real_data, relative).read_bytes()


def _edit(body: bytes, old: str, new: str, count: int = 1) -> bytes:
    """``body`` with the first ``count`` occurrences of ``old`` replaced (which must occur)."""
    raw = old.encode()
    assert body.count(raw) >= count, f"{old!r} not found {count} time(s) in the page"
    return body.replace(raw, new.encode(), count)


def _one(frame: pl.DataFrame, partner: str, flow: str, period_type: str) -> dict:
    rows = frame.filter(
        (pl.col("partner") == partner)
        & (pl.col("flow") == flow)
        & (pl.col("period_type") == period_type)
    )
    assert rows.height == 1, f"{partner} {flow} {period_type}: {rows.height} rows"
    return rows.row(0, named=True)


@pytest.fixture
def mar2026(real_data) -> bytes:
    return _real(real_data, MAR_2026)


@pytest.fixture
def seed(real_data) -> bytes:
    return _real(real_data, SEED)


# ------------------------------------------------------------------------------------------
# Index pages
# ------------------------------------------------------------------------------------------


def test_index_url_current_and_earlier_years():
    assert gacc.index_url(MIRROR, 2026, 2026) == f"{MIRROR}/statics/report/preliminary.html"
    assert gacc.index_url(MIRROR + "/", 2025, 2026) == f"{MIRROR}/statics/report/preliminary2025.html"
    assert gacc.INDEX_PATH.format(year=2019) == "/statics/report/preliminary2019.html"


def test_rewrite_url_keeps_path_on_configured_base():
    href = f"{REAL_HOST}/Statics/2e61c8a1-17b2-4074-b909-c039ccf8c8fb.html"
    assert gacc.rewrite_url(href, MIRROR) == f"{MIRROR}/Statics/2e61c8a1-17b2-4074-b909-c039ccf8c8fb.html"
    assert gacc.rewrite_url("\\Excel\\a.xls", "http://h") == "http://h/Excel/a.xls"


def test_parse_index_seed_2026(seed):
    # seed_2026.html: rows (1)-(6) x CNY/USD link Feb. and Mar.; (7) and (8) have no currency
    links = gacc.parse_index(seed, _request(url=f"{MIRROR}/statics/report/preliminary.html"))
    assert len(links) == 24
    assert len({(x.section, x.currency, x.month) for x in links}) == 24
    assert {x.section for x in links} == {1, 2, 3, 4, 5, 6}
    assert {x.month for x in links} == {2, 3}
    assert {x.year for x in links} == {2026}  # first <option> of select#preliminarysel
    assert all(x.url.startswith(f"{MIRROR}/Statics/") for x in links)
    section4 = {(x.currency, x.month): x.url for x in links if x.section == 4}
    uuid = "{}/Statics/{}.html".format
    assert section4 == {
        ("CNY", 2): uuid(MIRROR, "47e53257-a14f-4a19-a17c-b5beea64f822"),
        ("CNY", 3): uuid(MIRROR, "2e61c8a1-17b2-4074-b909-c039ccf8c8fb"),
        ("USD", 2): uuid(MIRROR, "0ed684ce-a5d7-45b8-ab53-0f30b3a8c7c1"),
        ("USD", 3): uuid(MIRROR, "66580503-6688-49b2-bd23-de154e5677d5"),
    }
    title = {x.title for x in links if x.section == 4}
    assert title == {"China's Total Export & Import Values by Country/Region"}


def test_parse_index_year_comes_from_url(seed):
    url = f"{MIRROR}/statics/report/preliminary2024.html"
    assert {x.year for x in gacc.parse_index(seed, _request(url=url))} == {2024}
    with pytest.raises(ParseError, match="meta year"):
        gacc.parse_index(seed, _request({"year": 2023}, url=url))


def test_parse_index_current_year_page_must_match_requested_year(seed):
    url = f"{MIRROR}/statics/report/preliminary.html"
    assert {x.year for x in gacc.parse_index(seed, _request({"year": 2026}, url=url))} == {2026}
    with pytest.raises(ParseError, match="shows year 2026 but 2025"):
        gacc.parse_index(seed, _request({"year": 2025}, url=url))


def test_parse_index_accepts_rmb_and_missing_space_and_skips_rows_without_currency(seed):
    body = _edit(
        seed,
        "(4) China's Total Export & Import Values by Country/Region (in CNY)",
        "(4)China's Total Export & Import Values by Country/Region (in RMB)",
    )
    body = _edit(
        body,
        "(5) China's Major Exports by Quantity and Value (in USD)",
        "(5) China's Major Exports by Quantity and Value",
    )
    links = gacc.parse_index(body, _request(url=f"{MIRROR}/statics/report/preliminary.html"))
    assert len(links) == 22  # the (5) USD row lost its currency, so its 2 links are skipped
    cny4 = [x for x in links if x.section == 4 and x.currency == "CNY"]
    assert [x.month for x in cny4] == [2, 3]


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("(1) China's Total Export & Import Values (in CNY)", "(1) Values (in EUR)", "currency"),
        ("d11e30df-faa3-4a4d-9816-bada832cafe8.html> Feb.</a>", "x.html> Fbr.</a>", "month link"),
    ],
)
def test_parse_index_rejects_unknown_currency_and_month(seed, old, new, problem):
    url = f"{MIRROR}/statics/report/preliminary.html"
    with pytest.raises(ParseError, match=problem):
        gacc.parse_index(_edit(seed, old, new), _request(url=url))


def test_parse_index_without_table_is_an_error():
    body = b"<html><body><div class='nr-n-content-detail'>maintenance</div></body></html>"
    with pytest.raises(ParseError, match="no table"):
        gacc.parse_index(body, _request({"year": 2026}, url=f"{MIRROR}/statics/report/preliminary.html"))


def test_illustrative_2025_index_links_the_combined_release():
    body = (FIXTURES / "preliminary2025_index_illustrative.html").read_bytes()
    links = gacc.parse_index(body, _request(url=f"{MIRROR}/statics/report/preliminary2025.html"))
    assert [(x.section, x.currency, x.year, x.month, x.url) for x in links] == [
        (4, "CNY", 2025, 2, MIRROR + MADE_UP_JANFEB_2025)
    ]


# ------------------------------------------------------------------------------------------
# plan()
# ------------------------------------------------------------------------------------------


class FakeIndexSite:
    """``ctx.fetch`` that answers index URLs from a dict and records what was asked."""

    def __init__(self, pages: dict[str, bytes]):
        self.pages = pages
        self.asked: list[FetchRequest] = []

    def __call__(self, request: FetchRequest) -> Fetched:
        self.asked.append(request)
        return Fetched(request=request, body=self.pages[request.url], status=200,
                       content_type="text/html")


def _ctx(fetch, start: date, end: date, reporters=("CHN",)) -> PlanContext:
    return PlanContext(
        settings=Settings(gacc_base_url=MIRROR + "/"),
        reporters=reporters,
        partners=(),
        period_start=start,
        period_end=end,
        fetch=fetch,
        options={"gacc_current_year": 2026},
    )


def test_plan_requests_both_currencies_for_feb_and_mar_2026(seed):
    site = FakeIndexSite({f"{MIRROR}/statics/report/preliminary.html": seed})
    requests = gacc.plan(_ctx(site, date(2026, 1, 1), date(2026, 3, 1)))

    assert [(r.url, r.role, r.meta) for r in site.asked] == [
        (f"{MIRROR}/statics/report/preliminary.html", "index", {"year": 2026})
    ]
    title = "China's Total Export & Import Values by Country/Region"
    got = [(r.meta["currency"], r.meta["month"], r.period_start, r.period_end, r.url) for r in requests]
    assert got == [
        ("CNY", 2, date(2026, 1, 1), date(2026, 2, 1),
         f"{MIRROR}/Statics/47e53257-a14f-4a19-a17c-b5beea64f822.html"),
        ("USD", 2, date(2026, 1, 1), date(2026, 2, 1),
         f"{MIRROR}/Statics/0ed684ce-a5d7-45b8-ab53-0f30b3a8c7c1.html"),
        ("CNY", 3, date(2026, 3, 1), date(2026, 3, 1),
         f"{MIRROR}/Statics/2e61c8a1-17b2-4074-b909-c039ccf8c8fb.html"),
        ("USD", 3, date(2026, 3, 1), date(2026, 3, 1),
         f"{MIRROR}/Statics/66580503-6688-49b2-bd23-de154e5677d5.html"),
    ]
    for r in requests:
        assert (r.source, r.role, r.expect, r.reporter) == ("gacc", "data", "html", "CHN")
        assert r.meta == {"section": 4, "currency": r.meta["currency"], "year": 2026,
                          "month": r.meta["month"], "title": title}


def test_plan_keeps_only_months_in_range(seed):
    site = FakeIndexSite({f"{MIRROR}/statics/report/preliminary.html": seed})
    requests = gacc.plan(_ctx(site, date(2026, 3, 1), date(2026, 3, 1)))
    assert [(r.meta["currency"], r.meta["month"]) for r in requests] == [("CNY", 3), ("USD", 3)]


def test_plan_without_china_fetches_nothing(seed):
    site = FakeIndexSite({})
    assert gacc.plan(_ctx(site, date(2026, 1, 1), date(2026, 3, 1), reporters=("USA",))) == []
    assert site.asked == []


def test_plan_spans_years_and_skips_future_years(seed):
    illustrative = (FIXTURES / "preliminary2025_index_illustrative.html").read_bytes()
    site = FakeIndexSite({
        f"{MIRROR}/statics/report/preliminary2025.html": illustrative,
        f"{MIRROR}/statics/report/preliminary.html": seed,
    })
    requests = gacc.plan(_ctx(site, date(2025, 1, 1), date(2027, 2, 1)))
    assert [r.url for r in site.asked] == [
        f"{MIRROR}/statics/report/preliminary2025.html",
        f"{MIRROR}/statics/report/preliminary.html",
    ]
    first = requests[0]
    assert (first.url, first.period_start, first.period_end, first.meta["currency"]) == (
        MIRROR + MADE_UP_JANFEB_2025, date(2025, 1, 1), date(2025, 2, 1), "CNY"
    )
    assert len(requests) == 5  # 2025 CNY Jan-Feb + 2026 Feb/Mar x CNY/USD


def test_plan_and_parse_over_loopback_http(real_data, httpserver):
    """The real HTTP path: index and release page served on loopback, fetched by HttpClient."""
    httpserver.expect_request("/gacc/statics/report/preliminary2025.html").respond_with_data(
        (FIXTURES / "preliminary2025_index_illustrative.html").read_bytes(),
        content_type="text/html; charset=utf-8",
    )
    httpserver.expect_request("/gacc" + MADE_UP_JANFEB_2025).respond_with_data(
        _real(real_data, JANFEB_2025), content_type="text/html; charset=utf-8"
    )
    settings = Settings(gacc_base_url=httpserver.url_for("/gacc"), requests_per_minute=6000.0)
    client = HttpClient(settings, "gacc")
    try:
        ctx = PlanContext(settings=settings, reporters=("CHN",), partners=(),
                          period_start=date(2025, 1, 1), period_end=date(2025, 2, 1),
                          fetch=client.get, options={"gacc_current_year": 2026})
        (request,) = gacc.plan(ctx)
        frame = gacc.parse(client.get(request).body, request)
    finally:
        client.close()
    assert frame.height == 60
    # janfeb2025 page, row "Total", column Export 1-to-2: 38,812.1 (CNY 100 million)
    assert _one(frame, "WLD", "X", "combined")["value"] == 3_881_210_000_000


# ------------------------------------------------------------------------------------------
# parse(): real pages
# ------------------------------------------------------------------------------------------


def test_parse_mar2026_values(mar2026):
    frame = gacc.parse(mar2026, _request({"section": 4, "currency": "CNY", "year": 2026, "month": 3}))
    assert frame.schema == OBSERVATION_SCHEMA
    assert frame.height == 120  # 30 partner rows x (X, M) x (month "3", cumulative "1- to-3")
    assert frame.get_column("partner").n_unique() == 30
    kinds = frame.unique("partner").get_column("partner_kind").value_counts(sort=True)
    assert dict(kinds.iter_rows()) == {"country": 23, "aggregate": 6, "world": 1}

    # row "Total": Export "3" 22,297.0, "1- to-3" 68,466.7, 1-to-3 YoY Export 11.9
    total_x = _one(frame, "WLD", "X", "month")
    assert total_x["value"] == 2_229_700_000_000
    assert (total_x["period_start"], total_x["period_end"], total_x["months"]) == (
        date(2026, 3, 1), date(2026, 3, 1), 1)
    assert total_x["published_yoy"] is None
    total_x_ytd = _one(frame, "WLD", "X", "ytd")
    assert total_x_ytd["value"] == 6_846_670_000_000
    assert (total_x_ytd["period_start"], total_x_ytd["period_end"], total_x_ytd["months"]) == (
        date(2026, 1, 1), date(2026, 3, 1), 3)
    assert total_x_ytd["published_yoy"] == pytest.approx(0.119)
    # row "Total": Import "3" 18,749.4, YoY Import 19.6
    assert _one(frame, "WLD", "M", "month")["value"] == 1_874_940_000_000
    assert _one(frame, "WLD", "M", "ytd")["published_yoy"] == pytest.approx(0.196)

    # row "United States (US)": Export 2,045.0 / 6,777.6, YoY Export -18.3
    assert _one(frame, "USA", "X", "month")["value"] == 204_500_000_000
    us_ytd = _one(frame, "USA", "X", "ytd")
    assert us_ytd["value"] == 677_760_000_000
    assert us_ytd["published_yoy"] == pytest.approx(-0.183)
    # row "European Union": Import 1,624.3 / 4,518.2, YoY Import 7.6
    assert _one(frame, "EU27_2020", "M", "month")["value"] == 162_430_000_000
    eu_ytd = _one(frame, "EU27_2020", "M", "ytd")
    assert (eu_ytd["value"], eu_ytd["partner_kind"]) == (451_820_000_000, "aggregate")
    assert eu_ytd["published_yoy"] == pytest.approx(0.076)
    # row "of which: Germany": Export "3" 711.8
    assert _one(frame, "DEU", "X", "month")["value"] == 71_180_000_000
    # row "Hong Kong, China": YoY Import 323.2 (a printed extreme)
    assert _one(frame, "HKG", "M", "ytd")["published_yoy"] == pytest.approx(3.232)

    assert frame.filter(pl.col("period_type") == "month")["published_yoy"].null_count() == 60
    assert frame.filter(pl.col("period_type") == "ytd")["published_yoy"].null_count() == 0
    assert set(frame["currency"]) == {"CNY"}
    assert dict(frame.unique("flow").select("flow", "valuation").iter_rows()) == {
        "X": "FOB", "M": "CIF"}
    assert set(frame["reporter"]) == {"CHN"} and set(frame["commodity"]) == {"TOTAL"}
    assert set(frame["status"]) == {"reported"}
    assert set(frame["vintage"]) == {date(2026, 4, 8)}  # div.atcl-date 2026/04/08
    assert set(frame["release"]) == {
        "(4) China's Total Export & Import Values by Country/Region, Mar 2026 (in CNY)"}
    for code in ("ASEAN", "RCEP", "BRI", "LATAM", "AFRICA", "KOR", "TWN", "RUS", "GBR", "ZAF"):
        assert code in set(frame["partner"])


def test_parse_janfeb2025_is_one_combined_period(real_data):
    body = _real(real_data, JANFEB_2025)
    frame = gacc.parse(body, _request({"section": 4, "currency": "CNY", "year": 2025, "month": 2}))
    assert frame.height == 60  # 30 rows x (X, M) x one "1-to-2" column, no single-month column
    assert set(frame["period_type"]) == {"combined"}
    assert set(frame["months"]) == {2}
    assert set(zip(frame["period_start"], frame["period_end"], strict=True)) == {
        (date(2025, 1, 1), date(2025, 2, 1))}
    # row "Total": Export 38,812.1 (YoY 3.4), Import 26,551.5 (YoY -7.3)
    total_x = _one(frame, "WLD", "X", "combined")
    assert (total_x["value"], total_x["published_yoy"]) == (3_881_210_000_000, pytest.approx(0.034))
    total_m = _one(frame, "WLD", "M", "combined")
    assert (total_m["value"], total_m["published_yoy"]) == (2_655_150_000_000, pytest.approx(-0.073))
    # row "United States (US)": Export 5,431.3; row "European Union": Import 2,650.8 (YoY -4.3)
    assert _one(frame, "USA", "X", "combined")["value"] == 543_130_000_000
    eu = _one(frame, "EU27_2020", "M", "combined")
    assert (eu["value"], eu["published_yoy"]) == (265_080_000_000, pytest.approx(-0.043))
    # row "of which: Vietnam": 1,787.0 + 922.7 = 2,709.7 against a printed E&I of 2,709.6 --
    # a rounding difference of one unit in the last place, which the E&I check accepts
    assert _one(frame, "VNM", "X", "combined")["value"] == 178_700_000_000
    assert set(frame["vintage"]) == {date(2025, 3, 11)}


def test_parse_image_only_page_is_an_error(real_data):
    body = _real(real_data, JAN_2018)
    with pytest.raises(ParseError, match="image-only") as caught:
        gacc.parse(body, _request({"section": 4, "currency": "CNY", "year": 2018, "month": 1}))
    assert caught.value.source == "gacc" and "page.html" in caught.value.request


def test_usd_illustrative_fixture_scales_by_a_million():
    body = (FIXTURES / "section4_usd_illustrative.html").read_bytes()
    frame = gacc.parse(body, _request({"section": 4, "currency": "USD", "year": 2026, "month": 3}))
    assert frame.height == 7 * 4
    assert set(frame["currency"]) == {"USD"}
    # fixture row "Total", Export "3": 3,000.0 (USD1 Million, made-up figure)
    assert _one(frame, "WLD", "X", "month")["value"] == 3_000_000_000
    # fixture row "United States (US)", Import "1- to-3": 330.0, YoY Import -5.0
    us = _one(frame, "USA", "M", "ytd")
    assert (us["value"], us["published_yoy"]) == (330_000_000, pytest.approx(-0.05))
    thousands = _edit(body, "<b>Unit: USD1 Million</b>", "<b>Unit: US$1,000</b>")
    assert _one(gacc.parse(thousands, _request()), "WLD", "X", "month")["value"] == 3_000_000


def test_cny_and_usd_editions_have_distinct_keys(mar2026):
    usd = (FIXTURES / "section4_usd_illustrative.html").read_bytes()
    both = pl.concat([gacc.parse(mar2026, _request()), gacc.parse(usd, _request())])
    assert both.select(OBSERVATION_KEY).is_duplicated().sum() == 0
    assert both.filter(pl.col("partner") == "WLD").height == 8


# ------------------------------------------------------------------------------------------
# parse(): traps, each a small edit of the real March 2026 page
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("Unit: CNY 100 Million", "Unit: USD1 Million", "contradicts the title"),
        ("Unit: CNY 100 Million", "Unit: CNY 1 Zillion", "unknown unit"),
        ("Unit: CNY 100 Million", "", "no 'Unit:' line"),
        ("<b>41,046.4&nbsp;</b>", "<b>41,046.6&nbsp;</b>", "Export & Import 41046.6 != "),
        ("<b>711.8&nbsp;</b>", "<b>n/a&nbsp;</b>", "not a number"),
        ("<b>1- to-3</b>", "<b>Q1</b>", "not understood"),
        ("1-to-3 Total Year-on-Year (", "1-to-4 Total Year-on-Year (", "has no value column"),
        ("&nbsp;&nbsp;&nbsp;Canada<", "&nbsp;&nbsp;&nbsp;United States<", "USA twice"),
        ("<div class=\"atcl-date\">2026/04/08", "<div class=\"atcl-date\">8 April 2026",
         "page date"),
    ],
)
def test_parse_traps(mar2026, old, new, problem):
    with pytest.raises(ParseError, match=re.escape(problem)):
        gacc.parse(_edit(mar2026, old, new), _request())


def test_parse_rejects_a_row_with_a_missing_cell(mar2026):
    body = re.sub(
        rb'<td align="right" class="style6">\s*<span><b>1,243\.6&nbsp;</b></span>\s*</td>', b"",
        mar2026, count=1,
    )
    assert body != mar2026
    with pytest.raises(ParseError, match="has 9 cells, expected 10"):
        gacc.parse(body, _request())


def test_parse_rejects_another_table(mar2026):
    body = mar2026.replace(b"(4) China's", b"(5) China's")
    with pytest.raises(ParseError, match=re.escape("not table (4)")):
        gacc.parse(body, _request())


@pytest.mark.parametrize(
    ("meta", "problem"),
    [
        ({"currency": "USD"}, "page is in CNY but the index link was for USD"),
        ({"year": 2025}, "title year 2026"),
        ({"month": 2}, "index link for 2"),
        ({"section": 5}, "section 5"),
    ],
)
def test_parse_checks_the_request_meta(mar2026, meta, problem):
    with pytest.raises(ParseError, match=re.escape(problem)):
        gacc.parse(mar2026, _request(meta))


def test_parse_unknown_partner_label(mar2026):
    body = _edit(mar2026, "&nbsp;&nbsp;&nbsp;New Zealand<", "&nbsp;&nbsp;&nbsp;Atlantis<")
    with pytest.raises(UnknownCodeError) as caught:
        gacc.parse(body, _request())
    assert "gacc" in str(caught.value) and "Atlantis" in str(caught.value)


def test_parse_labels_with_stray_nbsp(mar2026):
    body = _edit(mar2026, "&nbsp;&nbsp;&nbsp;Japan<", "&nbsp;Japan&nbsp;&nbsp;<")
    body = _edit(body, "Hong Kong, China<", "Hong&nbsp;Kong,&nbsp;&nbsp;China&nbsp;<")
    frame = gacc.parse(body, _request())
    # row "Japan", Export "3": 998.7; row "Hong Kong, China", Export "3": 2,730.9
    assert _one(frame, "JPN", "X", "month")["value"] == 99_870_000_000
    assert _one(frame, "HKG", "X", "month")["value"] == 273_090_000_000


def test_parse_unit_ten_thousand_and_one_unit_rounding(mar2026):
    body = _edit(mar2026, "Unit: CNY 100 Million", "Unit: CNY 10 Thousand")
    body = _edit(body, "<b>41,046.4&nbsp;</b>", "<b>41,046.5&nbsp;</b>")  # within 0.1: accepted
    frame = gacc.parse(body, _request())
    assert _one(frame, "WLD", "X", "month")["value"] == 222_970_000  # 22,297.0 x 1e4


def test_parse_feb_page_with_month_column_gives_month_and_ytd(mar2026):
    body = mar2026.replace(b"Mar 2026", b"Feb 2026").replace(b"<b>1- to-3</b>", b"<b>1- to-2</b>")
    body = body.replace(b"<b>3</b>", b"<b>2</b>").replace(b">1-to-3 Total", b">1-to-2 Total")
    frame = gacc.parse(body, _request({"month": 2}))
    month = _one(frame, "WLD", "X", "month")
    assert (month["period_start"], month["period_end"], month["months"]) == (
        date(2026, 2, 1), date(2026, 2, 1), 1)
    ytd = _one(frame, "WLD", "X", "ytd")
    assert (ytd["period_start"], ytd["period_end"], ytd["months"]) == (
        date(2026, 1, 1), date(2026, 2, 1), 2)
    assert ytd["published_yoy"] == pytest.approx(0.119)
    assert set(frame["period_type"]) == {"month", "ytd"}


def test_parse_january_month_and_1_to_1_must_agree(mar2026):
    body = mar2026.replace(b"Mar 2026", b"Jan 2026").replace(b"<b>1- to-3</b>", b"<b>1- to-1</b>")
    body = body.replace(b"<b>3</b>", b"<b>1</b>").replace(b">1-to-3 Total", b">1-to-1 Total")
    with pytest.raises(ParseError, match="month 1 and 1-to-1 columns differ"):
        gacc.parse(body, _request())


def test_parse_eu_before_february_2020_is_eu28(mar2026):
    frame = gacc.parse(mar2026.replace(b"Mar 2026", b"Mar 2019"), _request())
    eu = frame.filter(pl.col("partner_kind") == "aggregate")["partner"]
    assert "EU28" in set(eu) and "EU27_2020" not in set(eu)
    assert set(frame["period_end"]) == {date(2019, 3, 1)}


@pytest.mark.parametrize(
    ("printed", "expected"),
    [("2026/04/08", date(2026, 4, 8)), ("03/08/2018", date(2018, 3, 8)), (None, None)],
)
def test_parse_vintage_formats(mar2026, printed, expected):
    old = '<div class="atcl-date">2026/04/08</div>'
    new = f'<div class="atcl-date">{printed}</div>' if printed else ""
    frame = gacc.parse(_edit(mar2026, old, new), _request())
    assert set(frame["vintage"]) == {expected}


# ------------------------------------------------------------------------------------------
# Partner table
# ------------------------------------------------------------------------------------------


def test_partner_table_codes_fit_their_kind():
    table = gacc.partner_table()
    assert table["total"] == ("WLD", "world")
    for code, kind in table.values():
        assert partner_kind(code) == kind, code


@pytest.mark.parametrize(
    ("label", "period_end", "expected"),
    [
        ("\xa0\xa0European Union", date(2020, 2, 1), ("EU27_2020", "aggregate")),
        ("European Union", date(2020, 1, 1), ("EU28", "aggregate")),
        ("of which: Germany", date(2026, 3, 1), ("DEU", "country")),
        ("Of  which:Brazil", date(2026, 3, 1), ("BRA", "country")),
        ("United States", date(2026, 3, 1), ("USA", "country")),
        ("Korea, Rep.", date(2026, 3, 1), ("KOR", "country")),
        ("Taiwan,China", date(2026, 3, 1), ("TWN", "country")),
        ("Jointly build the countries along Belt and Road Routes", date(2026, 3, 1),
         ("BRI", "aggregate")),
        ("Regional Comprehensive Economic Partnership", date(2026, 3, 1), ("RCEP", "aggregate")),
    ],
)
def test_partner_code(label, period_end, expected):
    assert gacc.partner_code(label, period_end) == expected


def test_parse_partner_header_spanning_two_rows(mar2026):
    """A rowspan="2" partner header (instead of two stacked cells) reads the same columns."""
    body = re.sub(rb'<td align="center"([^>]*)>(\s*<span><b>Import Source)', rb'<td rowspan="2"\1>\2',
                  mar2026, count=1)
    body = re.sub(rb'<td align="center"[^>]*>\s*<span><b>Export Destination</b></span>\s*</td>', b"",
                  body, count=1)
    assert b"rowspan" in body and b"Export Destination" not in body
    frame = gacc.parse(body, _request())
    assert frame.height == 120
    assert _one(frame, "USA", "X", "month")["value"] == 204_500_000_000  # 2,045.0


def test_page_cut_short_is_rejected(real_data):
    page = _real(real_data, MAR_2026)
    cut = page[: page.index(b"Japan") + 400]  # a transfer cut off inside the table
    with pytest.raises(ParseError, match="truncated"):
        gacc.parse(cut, _request())


def test_index_cut_short_before_table_4_is_an_error(real_data):
    seed = _real(real_data, "gacc_html/seed_2026.html")
    cut = seed[: seed.index(b"(4)")]

    def fetch(request):
        return Fetched(request, cut, 200, "text/html")

    ctx = PlanContext(
        settings=Settings(gacc_base_url=MIRROR), reporters=("CHN",), partners=(),
        period_start=date(2026, 1, 1), period_end=date(2026, 3, 1), fetch=fetch,
        options={"gacc_current_year": 2026},
    )
    with pytest.raises(ParseError, match=r"does not list table \(4\)"):
        gacc.plan(ctx)


# ------------------------------------------------------------------------------------------
# Quarantine of a page that fails a check (made-up pages, served by the strict double)
# ------------------------------------------------------------------------------------------

JUN_2025_UUID = "00000000-0000-4000-8000-000000202506"  # made-up address (fixture index)


def _gacc_run(httpserver, tmp_path, publishers):
    """Fetch GACC for June 2025 through the strict double; returns (outcome, archive)."""
    from flows.archive import Archive
    from flows.fetch import fetch_source
    from flows.scope import RunScope

    settings = Settings(
        warehouse=tmp_path, gacc_base_url=httpserver.url_for("/gacc"),
        requests_per_minute=60_000.0, backoff_factor=0.01,
    )
    scope = RunScope(
        sources=("gacc",), reporters=("CHN",), period_start=date(2025, 6, 1),
        period_end=date(2025, 6, 1), options={"gacc_current_year": 2026},
    ).resolved()
    archive = Archive(settings.raw_dir)
    return fetch_source("gacc", scope, settings, archive), archive


def test_page_failing_a_check_is_quarantined_until_its_content_changes(httpserver, tmp_path):
    """A made-up June 2025 CNY table (4) whose unit line says USD (the case another GACC scraper
    recorded, issue 10): quarantined on the first run, reported unchanged on the second, loaded
    once the site serves a corrected page. All figures are the fixtures' made-up ones."""
    from tests.double import StrictPublishers

    publishers = StrictPublishers()
    double = publishers.handlers["gacc"]
    double.indexes[2025] = (FIXTURES / "preliminary2025_index_jun_made_up.html").read_bytes()
    double.pages[JUN_2025_UUID] = (FIXTURES / "section4_jun2025_cny_unit_usd_made_up.html").read_bytes()
    httpserver.expect_request(re.compile(".*")).respond_with_handler(publishers)

    first, archive = _gacc_run(httpserver, tmp_path, publishers)
    assert (first.planned, first.fetched, first.rows_parsed, first.errors) == (1, 1, 0, [])
    assert not first.ok and len(first.quarantined) == 1
    sha = first.quarantined[0][:12]
    assert "unchanged since" not in first.quarantined[0]
    assert "unit line 'Unit: USD1 Million' (USD) contradicts the title's CNY" in first.quarantined[0]
    (entry,) = [e for e in archive.entries() if e.request.role == "data"]
    assert entry.sha256.startswith(sha) and "contradicts the title" in entry.parse_error

    second, _ = _gacc_run(httpserver, tmp_path, publishers)
    assert second.fetched == 1 and second.reused == 0  # re-fetched although archived
    assert len(second.quarantined) == 1
    assert re.match(rf"{sha} \(unchanged since \d{{4}}-\d{{2}}-\d{{2}}\): ", second.quarantined[0])
    assert second.new_payloads == 0

    double.pages[JUN_2025_UUID] = (FIXTURES / "section4_jun2025_cny_made_up.html").read_bytes()
    third, archive = _gacc_run(httpserver, tmp_path, publishers)
    assert third.ok and third.quarantined == [] and third.new_payloads == 1
    assert third.rows_parsed == 7 * 4  # 7 made-up partner rows x (X, M) x (month, 1-to-6)
    latest = [e for e in archive.entries() if e.request.role == "data"][-1]
    frame = gacc.parse(archive.read(latest.sha256), latest.request)
    # fixture row "Total", Export "6": 3,000.0 (CNY 100 Million; a made-up figure)
    assert _one(frame, "WLD", "X", "month")["value"] == 300_000_000_000
    assert publishers.refused == []


def test_unknown_partner_label_is_a_parse_error_and_an_unknown_code(mar2026):
    body = _edit(mar2026, "&nbsp;&nbsp;&nbsp;New Zealand<", "&nbsp;&nbsp;&nbsp;Atlantis<")
    with pytest.raises(ParseError) as caught:
        gacc.parse(body, _request())
    assert isinstance(caught.value, UnknownCodeError) and caught.value.code == "Atlantis"
    assert caught.value.source == "gacc" and "page.html" in caught.value.request


def test_stray_library_errors_become_parse_errors(mar2026, monkeypatch):
    from flows.sources.gacc import tables

    def broken(*_args):
        raise IndexError("list index out of range")

    monkeypatch.setattr(tables, "_vintage", broken)
    with pytest.raises(ParseError, match="page not understood \\(IndexError"):
        gacc.parse(mar2026, _request())


# ------------------------------------------------------------------------------------------
# The strict double's rules
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status", "refused"),
    [
        ("/gacc/statics/report/preliminary2025.html", 200, False),
        ("/gacc/statics/report/preliminary2019.html", 404, False),  # not recorded
        ("/gacc/Statics/47e53257-a14f-4a19-a17c-b5beea64f822.html", 404, False),  # not recorded
        ("/gacc/statics/report/preliminary.html?year=2025", 404, True),
        ("/gacc/Statics/report/preliminary.html", 404, True),
        ("/gacc/Statics/2E61C8A1-17B2-4074-B909-C039CCF8C8FB.html", 404, True),
        ("/gacc/Statics/not-a-uuid.html", 404, True),
        ("/gacc/Excel/4-RMB.png", 404, True),
    ],
)
def test_double_serves_only_index_and_table_pages(path, status, refused):
    from werkzeug.test import Client

    from tests.double import StrictPublishers
    from tests.double import gacc as gacc_double

    publishers = StrictPublishers()
    response = Client(publishers.wsgi).get(path)
    assert response.status_code == status
    assert bool(publishers.refused) is refused
    assert {rule.publisher for rule in gacc_double.RULES} == {"gacc"}
    assert all(rule.confidence in {"confirmed", "consistent", "unverified"} for rule in gacc_double.RULES)
