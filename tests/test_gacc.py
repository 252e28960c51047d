"""China customs (GACC): the table (4) by-country parser.

Pages (tests/gacc_pages.py): the recordings in ../shared/data/real/gacc_html/ or, without
``shared/``, their MADE-UP stand-ins in tests/fixtures/gacc/; each assertion names the row and
column its figure comes from. ``test_parse_mar2026_values`` and
``test_parse_janfeb2025_is_one_combined_period`` assert many real published figures and need the
recordings; their made-up twins run everywhere. Trap variants are built from the page bytes with
one small edit each. Discovery, plan and the strict double: tests/test_gacc_site.py.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import polars as pl
import pytest

from flows.reference import UnknownCodeError, partner_kind
from flows.schema import OBSERVATION_KEY, OBSERVATION_SCHEMA
from flows.sources import gacc
from flows.sources.base import ParseError
from tests.builders.gacc import number, printed
from tests.conftest import real_file
from tests.double.gacc import JAN_2018, JANFEB_2025, MAR_2026, recording_or_made_up
from tests.gacc_pages import FIXTURES, Page, edit, fetch_request, one, page_of


@pytest.fixture
def mar2026(recordings) -> Page:
    """The March 2026 CNY table (4): recorded, else made up."""
    return page_of(recordings, MAR_2026)


# ------------------------------------------------------------------------------------------
# parse(): the recorded pages, and their made-up twins
# ------------------------------------------------------------------------------------------

MAR_2026_TITLE = "(4) China's Total Export & Import Values by Country/Region, Mar 2026 (in CNY)"


def _parse_mar2026(body: bytes) -> pl.DataFrame:
    """A March 2026 CNY table (4), parsed, with what every such page gives checked: 30 partner
    rows x (X, M) x (month "3", cumulative "1- to-3"), YoY on the cumulative column only."""
    frame = gacc.parse(body, fetch_request({"section": 4, "currency": "CNY", "year": 2026, "month": 3}))
    assert frame.schema == OBSERVATION_SCHEMA
    assert frame.height == 120
    assert frame.get_column("partner").n_unique() == 30
    kinds = frame.unique("partner").get_column("partner_kind").value_counts(sort=True)
    assert dict(kinds.iter_rows()) == {"country": 23, "aggregate": 6, "world": 1}
    month = one(frame, "WLD", "X", "month")
    assert (month["period_start"], month["period_end"], month["months"]) == (
        date(2026, 3, 1), date(2026, 3, 1), 1)
    ytd = one(frame, "WLD", "X", "ytd")
    assert (ytd["period_start"], ytd["period_end"], ytd["months"]) == (
        date(2026, 1, 1), date(2026, 3, 1), 3)
    assert frame.filter(pl.col("period_type") == "month")["published_yoy"].null_count() == 60
    assert frame.filter(pl.col("period_type") == "ytd")["published_yoy"].null_count() == 0
    assert set(frame["currency"]) == {"CNY"}
    assert dict(frame.unique("flow").select("flow", "valuation").iter_rows()) == {
        "X": "FOB", "M": "CIF"}
    assert set(frame["reporter"]) == {"CHN"} and set(frame["commodity"]) == {"TOTAL"}
    assert set(frame["status"]) == {"reported"}
    assert set(frame["release"]) == {MAR_2026_TITLE}
    for code in ("ASEAN", "RCEP", "BRI", "LATAM", "AFRICA", "KOR", "TWN", "RUS", "GBR", "ZAF"):
        assert code in set(frame["partner"])
    return frame


def test_parse_mar2026_values(real_data):
    """Real published figures of the recorded page (shared/data/real/gacc_html/)."""
    frame = _parse_mar2026(real_file(real_data, MAR_2026).read_bytes())
    # row "Total": Export "3" 22,297.0, "1- to-3" 68,466.7, 1-to-3 YoY Export 11.9
    total_x = one(frame, "WLD", "X", "month")
    assert (total_x["value"], total_x["published_yoy"]) == (2_229_700_000_000, None)
    total_x_ytd = one(frame, "WLD", "X", "ytd")
    assert total_x_ytd["value"] == 6_846_670_000_000
    assert total_x_ytd["published_yoy"] == pytest.approx(0.119)
    # row "Total": Import "3" 18,749.4, YoY Import 19.6
    assert one(frame, "WLD", "M", "month")["value"] == 1_874_940_000_000
    assert one(frame, "WLD", "M", "ytd")["published_yoy"] == pytest.approx(0.196)

    # row "United States (US)": Export 2,045.0 / 6,777.6, YoY Export -18.3
    assert one(frame, "USA", "X", "month")["value"] == 204_500_000_000
    us_ytd = one(frame, "USA", "X", "ytd")
    assert us_ytd["value"] == 677_760_000_000
    assert us_ytd["published_yoy"] == pytest.approx(-0.183)
    # row "European Union": Import 1,624.3 / 4,518.2, YoY Import 7.6
    assert one(frame, "EU27_2020", "M", "month")["value"] == 162_430_000_000
    eu_ytd = one(frame, "EU27_2020", "M", "ytd")
    assert (eu_ytd["value"], eu_ytd["partner_kind"]) == (451_820_000_000, "aggregate")
    assert eu_ytd["published_yoy"] == pytest.approx(0.076)
    # row "of which: Germany": Export "3" 711.8
    assert one(frame, "DEU", "X", "month")["value"] == 71_180_000_000
    # row "Hong Kong, China": YoY Import 323.2 (a printed extreme)
    assert one(frame, "HKG", "M", "ytd")["published_yoy"] == pytest.approx(3.232)
    assert set(frame["vintage"]) == {date(2026, 4, 8)}  # div.atcl-date 2026/04/08


def test_parse_made_up_mar2026_values():
    """The made-up twin: MADE-UP figures of tests/fixtures/gacc/section4_mar2026_cny_made_up.html."""
    frame = _parse_mar2026((FIXTURES / "section4_mar2026_cny_made_up.html").read_bytes())
    # row "Total": Export "3" 30,000.0, "1- to-3" 90,000.0, YoY Export 10.0; Import "3" 20,000.0,
    # YoY Import 5.0
    assert one(frame, "WLD", "X", "month")["value"] == 3_000_000_000_000
    total_x_ytd = one(frame, "WLD", "X", "ytd")
    assert (total_x_ytd["value"], total_x_ytd["published_yoy"]) == (
        9_000_000_000_000, pytest.approx(0.10))
    assert one(frame, "WLD", "M", "month")["value"] == 2_000_000_000_000
    assert one(frame, "WLD", "M", "ytd")["published_yoy"] == pytest.approx(0.05)
    # row "United States (US)": Export 2,000.0 / 6,000.0, YoY Export -10.0
    assert one(frame, "USA", "X", "month")["value"] == 200_000_000_000
    us_ytd = one(frame, "USA", "X", "ytd")
    assert (us_ytd["value"], us_ytd["published_yoy"]) == (600_000_000_000, pytest.approx(-0.10))
    # row "European Union": Import 1,600.0 / 4,800.0, YoY Import -1.5
    eu_ytd = one(frame, "EU27_2020", "M", "ytd")
    assert (eu_ytd["value"], eu_ytd["partner_kind"]) == (480_000_000_000, "aggregate")
    assert eu_ytd["published_yoy"] == pytest.approx(-0.015)
    # row "of which: Germany": Export "3" 700.0; row "Hong Kong, China": YoY Import 250.0
    assert one(frame, "DEU", "X", "month")["value"] == 70_000_000_000
    assert one(frame, "HKG", "M", "ytd")["published_yoy"] == pytest.approx(2.5)
    assert set(frame["vintage"]) == {date(2026, 4, 13)}  # div.atcl-date 2026/04/13

    # The made-up figures hang together as the real ones do (tests/builders/gacc.py).
    month = {(r["partner"], r["flow"]): r["value"]
             for r in frame.filter(pl.col("period_type") == "month").iter_rows(named=True)}
    ytd = {(r["partner"], r["flow"]): r["value"]
           for r in frame.filter(pl.col("period_type") == "ytd").iter_rows(named=True)}
    for flow in ("X", "M"):
        assert all(ytd[(p, f)] == 3 * value for (p, f), value in month.items() if f == flow)
        members = sum(month[(p, flow)] for p in ("DEU", "NLD", "FRA", "ITA"))
        assert month[("EU27_2020", flow)] > members
        rcep = sum(month[(p, flow)] for p in ("ASEAN", "JPN", "KOR", "AUS", "NZL"))
        assert month[("RCEP", flow)] == rcep
        assert month[("WLD", flow)] > month[("BRI", flow)] > month[("ASEAN", flow)]


def _parse_janfeb2025(body: bytes) -> pl.DataFrame:
    """A January–February 2025 CNY table (4), parsed: 30 rows x (X, M) x one "1-to-2" column,
    no single-month column, so one combined two-month period."""
    frame = gacc.parse(body, fetch_request({"section": 4, "currency": "CNY", "year": 2025, "month": 2}))
    assert frame.height == 60
    assert set(frame["period_type"]) == {"combined"}
    assert set(frame["months"]) == {2}
    assert set(zip(frame["period_start"], frame["period_end"], strict=True)) == {
        (date(2025, 1, 1), date(2025, 2, 1))}
    return frame


def test_parse_janfeb2025_is_one_combined_period(real_data):
    """Real published figures of the recorded page (shared/data/real/gacc_html/)."""
    frame = _parse_janfeb2025(real_file(real_data, JANFEB_2025).read_bytes())
    # row "Total": Export 38,812.1 (YoY 3.4), Import 26,551.5 (YoY -7.3)
    total_x = one(frame, "WLD", "X", "combined")
    assert (total_x["value"], total_x["published_yoy"]) == (3_881_210_000_000, pytest.approx(0.034))
    total_m = one(frame, "WLD", "M", "combined")
    assert (total_m["value"], total_m["published_yoy"]) == (2_655_150_000_000, pytest.approx(-0.073))
    # row "United States (US)": Export 5,431.3; row "European Union": Import 2,650.8 (YoY -4.3)
    assert one(frame, "USA", "X", "combined")["value"] == 543_130_000_000
    eu = one(frame, "EU27_2020", "M", "combined")
    assert (eu["value"], eu["published_yoy"]) == (265_080_000_000, pytest.approx(-0.043))
    # row "of which: Vietnam": 1,787.0 + 922.7 = 2,709.7 against a printed E&I of 2,709.6 --
    # a rounding difference of one unit in the last place, which the E&I check accepts
    assert one(frame, "VNM", "X", "combined")["value"] == 178_700_000_000
    assert set(frame["vintage"]) == {date(2025, 3, 11)}


def test_parse_made_up_janfeb2025_is_one_combined_period():
    """The made-up twin: MADE-UP figures of section4_janfeb2025_cny_made_up.html."""
    frame = _parse_janfeb2025((FIXTURES / "section4_janfeb2025_cny_made_up.html").read_bytes())
    # row "Total": Export 60,000.0 (YoY 10.0), Import 40,000.0 (YoY 5.0)
    total_x = one(frame, "WLD", "X", "combined")
    assert (total_x["value"], total_x["published_yoy"]) == (6_000_000_000_000, pytest.approx(0.10))
    total_m = one(frame, "WLD", "M", "combined")
    assert (total_m["value"], total_m["published_yoy"]) == (4_000_000_000_000, pytest.approx(0.05))
    # row "European Union": Import 3,200.0 (YoY -1.5)
    eu = one(frame, "EU27_2020", "M", "combined")
    assert (eu["value"], eu["published_yoy"]) == (320_000_000_000, pytest.approx(-0.015))
    # row "of which: Vietnam": 1,800.0 + 1,000.0 = 2,800.0 against a printed E&I of 2,799.9, the
    # one-unit rounding difference the recorded page shows, which the E&I check accepts
    assert one(frame, "VNM", "X", "combined")["value"] == 180_000_000_000
    assert set(frame["vintage"]) == {date(2025, 3, 14)}


def test_parse_image_only_page_is_an_error(recordings):
    body = recording_or_made_up(recordings, JAN_2018).read_bytes()
    with pytest.raises(ParseError, match="image-only") as caught:
        gacc.parse(body, fetch_request({"section": 4, "currency": "CNY", "year": 2018, "month": 1}))
    assert caught.value.source == "gacc" and "page.html" in caught.value.request


def test_usd_illustrative_fixture_scales_by_a_million():
    body = (FIXTURES / "section4_usd_illustrative.html").read_bytes()
    frame = gacc.parse(body, fetch_request({"section": 4, "currency": "USD", "year": 2026, "month": 3}))
    assert frame.height == 7 * 4
    assert set(frame["currency"]) == {"USD"}
    # fixture row "Total", Export "3": 3,000.0 (USD1 Million, made-up figure)
    assert one(frame, "WLD", "X", "month")["value"] == 3_000_000_000
    # fixture row "United States (US)", Import "1- to-3": 330.0, YoY Import -5.0
    us = one(frame, "USA", "M", "ytd")
    assert (us["value"], us["published_yoy"]) == (330_000_000, pytest.approx(-0.05))
    thousands = edit(body, "<b>Unit: USD1 Million</b>", "<b>Unit: US$1,000</b>")
    assert one(gacc.parse(thousands, fetch_request()), "WLD", "X", "month")["value"] == 3_000_000


def test_cny_and_usd_editions_have_distinct_keys(mar2026):
    usd = (FIXTURES / "section4_usd_illustrative.html").read_bytes()
    both = pl.concat([gacc.parse(mar2026.body, fetch_request()), gacc.parse(usd, fetch_request())])
    assert both.select(OBSERVATION_KEY).is_duplicated().sum() == 0
    assert both.filter(pl.col("partner") == "WLD").height == 8


# ------------------------------------------------------------------------------------------
# parse(): traps, each a small edit of the March 2026 page (recorded, else made up)
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("Unit: CNY 100 Million", "Unit: USD1 Million", "contradicts the title"),
        ("Unit: CNY 100 Million", "Unit: CNY 1 Zillion", "unknown unit"),
        ("Unit: CNY 100 Million", "", "no 'Unit:' line"),
        ("Germany X 3", "<b>n/a&nbsp;</b>", "not a number"),  # a key of PRINTED: that cell
        ("<b>1- to-3</b>", "<b>Q1</b>", "not understood"),
        ("1-to-3 Total Year-on-Year (", "1-to-4 Total Year-on-Year (", "has no value column"),
        ("&nbsp;&nbsp;&nbsp;Canada<", "&nbsp;&nbsp;&nbsp;United States<", "USA twice"),
        ("date", "8 April 2026", "page date"),  # the div.atcl-date text
    ],
)
def test_parse_traps(mar2026, old, new, problem):
    if old == "date":
        old, new = (f'<div class="atcl-date">{text}' for text in (mar2026.printed["date"], new))
    elif old in mar2026.printed:
        old = mar2026.cell(old)
    with pytest.raises(ParseError, match=re.escape(problem)):
        gacc.parse(edit(mar2026.body, old, new), fetch_request())


def test_parse_rejects_export_and_import_not_adding_up(mar2026):
    total = mar2026.printed["Total E&I 3"]  # row "Total", Export & Import "3"
    wrong = printed(number(total) + Decimal("0.2"))
    body = edit(mar2026.body, mar2026.cell("Total E&I 3"), f"<b>{wrong}&nbsp;</b>")
    with pytest.raises(ParseError, match=re.escape(f"Export & Import {number(wrong)} != ")):
        gacc.parse(body, fetch_request())


def test_parse_rejects_a_row_with_a_missing_cell(mar2026):
    cell = re.escape(mar2026.cell("Germany X 3").encode())
    body = re.sub(rb'<td align="right" class="style6">\s*<span>' + cell + rb"</span>\s*</td>", b"",
                  mar2026.body, count=1)
    assert body != mar2026.body
    with pytest.raises(ParseError, match="has 9 cells, expected 10"):
        gacc.parse(body, fetch_request())


def test_parse_rejects_another_table(mar2026):
    body = mar2026.body.replace(b"(4) China's", b"(5) China's")
    with pytest.raises(ParseError, match=re.escape("not table (4)")):
        gacc.parse(body, fetch_request())


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
        gacc.parse(mar2026.body, fetch_request(meta))


def test_parse_unknown_partner_label(mar2026):
    body = edit(mar2026.body, "&nbsp;&nbsp;&nbsp;New Zealand<", "&nbsp;&nbsp;&nbsp;Atlantis<")
    with pytest.raises(UnknownCodeError) as caught:
        gacc.parse(body, fetch_request())
    assert "gacc" in str(caught.value) and "Atlantis" in str(caught.value)


def test_parse_labels_with_stray_nbsp(mar2026):
    body = edit(mar2026.body, "&nbsp;&nbsp;&nbsp;Japan<", "&nbsp;Japan&nbsp;&nbsp;<")
    body = edit(body, "Hong Kong, China<", "Hong&nbsp;Kong,&nbsp;&nbsp;China&nbsp;<")
    frame = gacc.parse(body, fetch_request())
    # rows "Japan" and "Hong Kong, China", Export "3" (998.7 and 2,730.9 on the recorded page)
    assert one(frame, "JPN", "X", "month")["value"] == mar2026.value("Japan X 3")
    assert one(frame, "HKG", "X", "month")["value"] == mar2026.value("Hong Kong X 3")


def test_parse_unit_ten_thousand_and_one_unit_rounding(mar2026):
    body = edit(mar2026.body, "Unit: CNY 100 Million", "Unit: CNY 10 Thousand")
    off_by_one = printed(number(mar2026.printed["Total E&I 3"]) + Decimal("0.1"))
    body = edit(body, mar2026.cell("Total E&I 3"), f"<b>{off_by_one}&nbsp;</b>")  # within 0.1
    frame = gacc.parse(body, fetch_request())
    # row "Total", Export "3" (22,297.0 on the recorded page) x 1e4
    assert one(frame, "WLD", "X", "month")["value"] == mar2026.value("Total X 3", unit=10_000)


def test_parse_feb_page_with_month_column_gives_month_and_ytd(mar2026):
    body = mar2026.body.replace(b"Mar 2026", b"Feb 2026").replace(b"<b>1- to-3</b>", b"<b>1- to-2</b>")
    body = body.replace(b"<b>3</b>", b"<b>2</b>").replace(b">1-to-3 Total", b">1-to-2 Total")
    frame = gacc.parse(body, fetch_request({"month": 2}))
    month = one(frame, "WLD", "X", "month")
    assert (month["period_start"], month["period_end"], month["months"]) == (
        date(2026, 2, 1), date(2026, 2, 1), 1)
    ytd = one(frame, "WLD", "X", "ytd")
    assert (ytd["period_start"], ytd["period_end"], ytd["months"]) == (
        date(2026, 1, 1), date(2026, 2, 1), 2)
    # row "Total", 1-to-3 (now 1-to-2) YoY Export (11.9 on the recorded page)
    assert ytd["published_yoy"] == pytest.approx(float(number(mar2026.printed["Total X yoy"])) / 100)
    assert set(frame["period_type"]) == {"month", "ytd"}


def test_parse_january_month_and_1_to_1_must_agree(mar2026):
    body = mar2026.body.replace(b"Mar 2026", b"Jan 2026").replace(b"<b>1- to-3</b>", b"<b>1- to-1</b>")
    body = body.replace(b"<b>3</b>", b"<b>1</b>").replace(b">1-to-3 Total", b">1-to-1 Total")
    with pytest.raises(ParseError, match="month 1 and 1-to-1 columns differ"):
        gacc.parse(body, fetch_request())


def test_parse_eu_before_february_2020_is_eu28(mar2026):
    frame = gacc.parse(mar2026.body.replace(b"Mar 2026", b"Mar 2019"), fetch_request())
    eu = frame.filter(pl.col("partner_kind") == "aggregate")["partner"]
    assert "EU28" in set(eu) and "EU27_2020" not in set(eu)
    assert set(frame["period_end"]) == {date(2019, 3, 1)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2026/04/08", date(2026, 4, 8)), ("03/08/2018", date(2018, 3, 8)), (None, None)],
)
def test_parse_vintage_formats(mar2026, text, expected):
    old = f'<div class="atcl-date">{mar2026.printed["date"]}</div>'
    new = f'<div class="atcl-date">{text}</div>' if text else ""
    frame = gacc.parse(edit(mar2026.body, old, new), fetch_request())
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
                  mar2026.body, count=1)
    body = re.sub(rb'<td align="center"[^>]*>\s*<span><b>Export Destination</b></span>\s*</td>', b"",
                  body, count=1)
    assert b"rowspan" in body and b"Export Destination" not in body
    frame = gacc.parse(body, fetch_request())
    assert frame.height == 120
    # row "United States (US)", Export "3" (2,045.0 on the recorded page)
    assert one(frame, "USA", "X", "month")["value"] == mar2026.value("US X 3")


def test_page_cut_short_is_rejected(mar2026):
    page = mar2026.body
    cut = page[: page.index(b"Japan") + 400]  # a transfer cut off inside the table
    with pytest.raises(ParseError, match="truncated"):
        gacc.parse(cut, fetch_request())


def test_unknown_partner_label_is_a_parse_error_and_an_unknown_code(mar2026):
    body = edit(mar2026.body, "&nbsp;&nbsp;&nbsp;New Zealand<", "&nbsp;&nbsp;&nbsp;Atlantis<")
    with pytest.raises(ParseError) as caught:
        gacc.parse(body, fetch_request())
    assert isinstance(caught.value, UnknownCodeError) and caught.value.code == "Atlantis"
    assert caught.value.source == "gacc" and "page.html" in caught.value.request


def test_stray_library_errors_become_parse_errors(mar2026, monkeypatch):
    from flows.sources.gacc import tables

    def broken(*_args):
        raise IndexError("list index out of range")

    monkeypatch.setattr(tables, "_vintage", broken)
    with pytest.raises(ParseError, match="page not understood \\(IndexError"):
        gacc.parse(mar2026.body, fetch_request())
