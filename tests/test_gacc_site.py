"""China customs (GACC): discovery (index pages, plan), fetching through the strict double
(quarantine, the made-up pages a plain clone is served) and the made-up pages themselves.

Pages (tests/gacc_pages.py): the recordings in ../shared/data/real/gacc_html/ or, without
``shared/``, their MADE-UP stand-ins in tests/fixtures/gacc/. Parser tests: tests/test_gacc.py.
"""

from __future__ import annotations

import re
from datetime import date

import polars as pl
import pytest

from flows.http import HttpClient
from flows.settings import Settings
from flows.sources import gacc
from flows.sources.base import Fetched, FetchRequest, ParseError, PlanContext
from tests.builders.gacc import fixtures, made_up_uuid
from tests.conftest import real_file
from tests.double.gacc import JANFEB_2025, SEED
from tests.gacc_pages import FIXTURES, MIRROR, Page, edit, fetch_request, one, page_of

REAL_HOST = "http://english.customs.gov.cn"
MADE_UP_JANFEB_2025 = "/Statics/00000000-0000-4000-8000-000000002025.html"


@pytest.fixture
def janfeb2025(recordings) -> Page:
    """The January–February 2025 CNY table (4): recorded, else made up."""
    return page_of(recordings, JANFEB_2025)


@pytest.fixture
def seed(recordings) -> Page:
    """The 2026 Preliminary Release index: recorded, else made up."""
    return page_of(recordings, SEED)


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
    # seed_2026.html (and its made-up stand-in): rows (1)-(6) x CNY/USD link Feb. and Mar.;
    # (7) and (8) have no currency
    links = gacc.parse_index(seed.body, fetch_request(url=f"{MIRROR}/statics/report/preliminary.html"))
    assert len(links) == 24
    assert len({(x.section, x.currency, x.month) for x in links}) == 24
    assert {x.section for x in links} == {1, 2, 3, 4, 5, 6}
    assert {x.month for x in links} == {2, 3}
    assert {x.year for x in links} == {2026}  # first <option> of select#preliminarysel
    assert all(x.url.startswith(f"{MIRROR}/Statics/") for x in links)
    section4 = {(x.currency, x.month): x.url for x in links if x.section == 4}
    uuid = "{}/Statics/{}.html".format
    assert section4 == {
        (ccy, m): uuid(MIRROR, seed.printed[f"{ccy} {m}"]) for ccy in ("CNY", "USD") for m in (2, 3)
    }
    title = {x.title for x in links if x.section == 4}
    assert title == {"China's Total Export & Import Values by Country/Region"}


def test_parse_index_year_comes_from_url(seed):
    url = f"{MIRROR}/statics/report/preliminary2024.html"
    assert {x.year for x in gacc.parse_index(seed.body, fetch_request(url=url))} == {2024}
    with pytest.raises(ParseError, match="meta year"):
        gacc.parse_index(seed.body, fetch_request({"year": 2023}, url=url))


def test_parse_index_current_year_page_must_match_requested_year(seed):
    url = f"{MIRROR}/statics/report/preliminary.html"
    assert {x.year for x in gacc.parse_index(seed.body, fetch_request({"year": 2026}, url=url))} == {2026}
    with pytest.raises(ParseError, match="shows year 2026 but 2025"):
        gacc.parse_index(seed.body, fetch_request({"year": 2025}, url=url))


def test_parse_index_accepts_rmb_and_missing_space_and_skips_rows_without_currency(seed):
    body = edit(
        seed.body,
        "(4) China's Total Export & Import Values by Country/Region (in CNY)",
        "(4)China's Total Export & Import Values by Country/Region (in RMB)",
    )
    body = edit(
        body,
        "(5) China's Major Exports by Quantity and Value (in USD)",
        "(5) China's Major Exports by Quantity and Value",
    )
    links = gacc.parse_index(body, fetch_request(url=f"{MIRROR}/statics/report/preliminary.html"))
    assert len(links) == 22  # the (5) USD row lost its currency, so its 2 links are skipped
    cny4 = [x for x in links if x.section == 4 and x.currency == "CNY"]
    assert [x.month for x in cny4] == [2, 3]


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("(1) China's Total Export & Import Values (in CNY)", "(1) Values (in EUR)", "currency"),
        ("> Feb.</a>", "> Fbr.</a>", "month link"),  # the first link: (1) in CNY
    ],
)
def test_parse_index_rejects_unknown_currency_and_month(seed, old, new, problem):
    url = f"{MIRROR}/statics/report/preliminary.html"
    with pytest.raises(ParseError, match=problem):
        gacc.parse_index(edit(seed.body, old, new), fetch_request(url=url))


def test_parse_index_without_table_is_an_error():
    body = b"<html><body><div class='nr-n-content-detail'>maintenance</div></body></html>"
    with pytest.raises(ParseError, match="no table"):
        gacc.parse_index(body, fetch_request({"year": 2026}, url=f"{MIRROR}/statics/report/preliminary.html"))


def test_illustrative_2025_index_links_the_combined_release():
    body = (FIXTURES / "preliminary2025_index_illustrative.html").read_bytes()
    links = gacc.parse_index(body, fetch_request(url=f"{MIRROR}/statics/report/preliminary2025.html"))
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
    site = FakeIndexSite({f"{MIRROR}/statics/report/preliminary.html": seed.body})
    requests = gacc.plan(_ctx(site, date(2026, 1, 1), date(2026, 3, 1)))

    assert [(r.url, r.role, r.meta) for r in site.asked] == [
        (f"{MIRROR}/statics/report/preliminary.html", "index", {"year": 2026})
    ]
    title = "China's Total Export & Import Values by Country/Region"
    got = [(r.meta["currency"], r.meta["month"], r.period_start, r.period_end, r.url) for r in requests]
    page = "{}/Statics/{}.html".format
    assert got == [
        ("CNY", 2, date(2026, 1, 1), date(2026, 2, 1), page(MIRROR, seed.printed["CNY 2"])),
        ("USD", 2, date(2026, 1, 1), date(2026, 2, 1), page(MIRROR, seed.printed["USD 2"])),
        ("CNY", 3, date(2026, 3, 1), date(2026, 3, 1), page(MIRROR, seed.printed["CNY 3"])),
        ("USD", 3, date(2026, 3, 1), date(2026, 3, 1), page(MIRROR, seed.printed["USD 3"])),
    ]
    for r in requests:
        assert (r.source, r.role, r.expect, r.reporter) == ("gacc", "data", "html", "CHN")
        assert r.meta == {"section": 4, "currency": r.meta["currency"], "year": 2026,
                          "month": r.meta["month"], "title": title}


def test_plan_keeps_only_months_in_range(seed):
    site = FakeIndexSite({f"{MIRROR}/statics/report/preliminary.html": seed.body})
    requests = gacc.plan(_ctx(site, date(2026, 3, 1), date(2026, 3, 1)))
    assert [(r.meta["currency"], r.meta["month"]) for r in requests] == [("CNY", 3), ("USD", 3)]


def test_plan_without_china_fetches_nothing():
    site = FakeIndexSite({})
    assert gacc.plan(_ctx(site, date(2026, 1, 1), date(2026, 3, 1), reporters=("USA",))) == []
    assert site.asked == []


def test_plan_spans_years_and_skips_future_years(seed):
    illustrative = (FIXTURES / "preliminary2025_index_illustrative.html").read_bytes()
    site = FakeIndexSite({
        f"{MIRROR}/statics/report/preliminary2025.html": illustrative,
        f"{MIRROR}/statics/report/preliminary.html": seed.body,
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


def test_plan_and_parse_over_loopback_http(janfeb2025, httpserver):
    """The real HTTP path: index and release page served on loopback, fetched by HttpClient."""
    httpserver.expect_request("/gacc/statics/report/preliminary2025.html").respond_with_data(
        (FIXTURES / "preliminary2025_index_illustrative.html").read_bytes(),
        content_type="text/html; charset=utf-8",
    )
    httpserver.expect_request("/gacc" + MADE_UP_JANFEB_2025).respond_with_data(
        janfeb2025.body, content_type="text/html; charset=utf-8"
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
    # janfeb2025 page, row "Total", column Export 1-to-2 (CNY 100 million)
    assert one(frame, "WLD", "X", "combined")["value"] == janfeb2025.value("Total X 1-2")


def test_index_cut_short_before_table_4_is_an_error(seed):
    cut = seed.body[: seed.body.index(b"(4)")]

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


def _gacc_run(httpserver, tmp_path, publishers, start=date(2025, 6, 1), end=date(2025, 6, 1)):
    """Fetch GACC for ``start``..``end`` (June 2025) through the strict double; returns
    (outcome, archive)."""
    from flows.archive import Archive
    from flows.fetch import fetch_source
    from flows.scope import RunScope

    settings = Settings(
        warehouse=tmp_path, gacc_base_url=httpserver.url_for("/gacc"),
        requests_per_minute=60_000.0, backoff_factor=0.01,
    )
    scope = RunScope(
        sources=("gacc",), reporters=("CHN",), period_start=start,
        period_end=end, options={"gacc_current_year": 2026},
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
    assert one(frame, "WLD", "X", "month")["value"] == 300_000_000_000
    assert publishers.refused == []


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


def test_double_without_recordings_serves_the_made_up_pages(httpserver, tmp_path):
    """A plain clone: the double serves the made-up 2026 index and the made-up March 2026 and
    January–February 2025 tables; the requests the recordings cannot answer (February 2026, the
    USD tables) answer 404 as they do with the recordings. Figures: the made-up pages'."""
    from werkzeug.test import Client

    from tests.double import StrictPublishers

    publishers = StrictPublishers(real=tmp_path / "no-recordings")
    march = f"/gacc/Statics/{made_up_uuid(4, 'CNY', 2026, 3)}.html"
    client = Client(publishers.wsgi)
    assert client.get(march).data == (FIXTURES / "section4_mar2026_cny_made_up.html").read_bytes()
    assert client.get("/gacc/Statics/2e61c8a1-17b2-4074-b909-c039ccf8c8fb.html").status_code == 404
    httpserver.expect_request(re.compile(".*")).respond_with_handler(publishers)

    outcome, archive = _gacc_run(httpserver, tmp_path / "warehouse", publishers,
                                 start=date(2025, 1, 1), end=date(2026, 3, 1))
    assert (outcome.planned, outcome.rows_parsed) == (5, 60 + 120), outcome.line()
    missing = {made_up_uuid(4, ccy, 2026, m) for ccy, m in (("CNY", 2), ("USD", 2), ("USD", 3))}
    assert len(outcome.errors) == 3 and all("HTTP 404" in e for e in outcome.errors), outcome.errors
    assert {re.search(r"Statics/([0-9a-f-]+)\.html", e)[1] for e in outcome.errors} == missing
    frames = [gacc.parse(archive.read(e.sha256), e.request)
              for e in archive.entries() if e.request.role == "data"]
    frame = pl.concat(frames)
    # made-up pages, row "United States (US)", Export: "3" 2,000.0 and "1-to-2" 4,000.0
    assert one(frame, "USA", "X", "month")["value"] == 200_000_000_000
    assert one(frame, "USA", "X", "combined")["value"] == 400_000_000_000
    assert publishers.refused == []


# ------------------------------------------------------------------------------------------
# The made-up pages
# ------------------------------------------------------------------------------------------


def test_made_up_fixtures_are_what_the_builder_writes():
    """tests/fixtures/gacc/*_made_up*.html are rewritten by ``python -m tests.builders.gacc``."""
    for name, text in fixtures().items():
        assert "_made_up" in name
        assert (FIXTURES / name).read_bytes() == text.encode("utf-8"), f"rebuild {name}"
        assert "MADE-UP" in text and name in (FIXTURES / "README.md").read_text()


def _markup(body: bytes) -> str:
    """The part of a page the parsers read, with what the made-up pages invent blanked out:
    figures, page date, link addresses, the Note row's text, the xls link."""
    text = body.decode("utf-8")
    text = text[text.index('<div class="atcl">') if '<div class="atcl">' in text
                else text.index('<div class="nr-n-content-detail'):]
    text = text[: text.index("</table>") + 8] if "</table>" in text else text[: text.index("atcl-sbr")]
    for pattern, blank in (
        (r"<b>-?[\d,]+\.\d(&nbsp;)?</b>", "<b>N</b>"), (r"Note:.*?</span>(</span>)?\s", "NOTE "),
        (r'atcl-date">[^<]*', 'atcl-date">D'), (r"Statics/[0-9a-f-]+\.html", "Statics/U.html"),
    ):
        text = re.sub(pattern, blank, text, flags=re.S)
    return text


def test_made_up_pages_have_the_recorded_layout(real_data):
    """Every made-up page equals its recording (shared/data/real/gacc_html/) once figures,
    dates, addresses and the note are blanked: the same elements, attributes and labels."""
    from tests.double.gacc import MADE_UP

    for relative, name in MADE_UP.items():
        made_up = (FIXTURES / name).read_bytes()
        assert _markup(made_up) == _markup(real_file(real_data, relative).read_bytes()), name
