"""Run reports, the growth chart and staleness, on a small warehouse written here.

Every figure in this file is MADE UP for the tests (illustrative, not any publisher's data); the
tests check how the report selects, counts and lays out figures, not the figures themselves.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

import flows.chart
import flows.report
from flows.chart import growth_chart, growth_series
from flows.fetch import SourceOutcome
from flows.report import (
    RunResult,
    coverage_rows,
    read_last_run,
    revisions_by_source,
    staleness_rows,
    summary_markdown,
    write_last_run,
    write_report,
)
from flows.schema import OBSERVATION_SCHEMA
from flows.sources import SOURCE_NAMES
from flows.warehouse import create_raw_tables

MART = """CREATE SCHEMA marts; CREATE TABLE marts.trade_balance_monthly (
    source VARCHAR, reporter VARCHAR, currency VARCHAR, period_start DATE, period_end DATE,
    months SMALLINT, exports DOUBLE, imports DOUBLE, balance DOUBLE, exports_yoy DOUBLE,
    imports_yoy DOUBLE, growth_gap DOUBLE)"""

# (source, reporter, currency, period_start, period_end, months, exports_yoy, imports_yoy) — made up
GROWTH = [
    ("gacc", "CHN", "CNY", date(2025, 1, 1), date(2025, 2, 1), 2, 0.03, -0.07),
    ("gacc", "CHN", "CNY", date(2025, 3, 1), date(2025, 3, 1), 1, 0.12, -0.04),
    ("gacc", "CHN", "USD", date(2025, 1, 1), date(2025, 2, 1), 2, 0.02, -0.08),
    ("gacc", "CHN", "USD", date(2025, 3, 1), date(2025, 3, 1), 1, 0.11, -0.05),
    ("comtrade", "CHN", "USD", date(2025, 3, 1), date(2025, 3, 1), 1, 0.10, None),
    ("comtrade", "CHN", "USD", date(2024, 1, 1), date(2024, 12, 1), 12, 0.05, 0.01),
    ("census", "USA", "USD", date(2025, 3, 1), date(2025, 3, 1), 1, None, None),
    ("imf", "IND", "USD", date(2024, 1, 1), date(2024, 12, 1), 12, 0.04, 0.06),
]


def observation(source, reporter, partner, flow, month: date, value, **extra) -> dict:
    row = {name: None for name in OBSERVATION_SCHEMA}
    row.update(source=source, reporter=reporter, partner=partner, partner_kind="country", flow=flow,
               period_start=month, period_end=month, months=1, period_type="month",
               commodity="TOTAL", value=value, currency="USD", valuation="FOB", status="reported",
               release="made-up release", vintage=month, payload_sha256="sha-" + str(value),
               fetched_at=datetime(2026, 1, 1))
    row.update(extra)
    return row


def insert(con, table: str, rows: list[dict]) -> None:
    columns = list(rows[0])
    con.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
        [[r[c] for c in columns] for r in rows],
    )


@pytest.fixture
def warehouse(tmp_path) -> Path:
    """A warehouse with made-up raw observations, history, exchange rates and the growth mart."""
    database = tmp_path / "trade.duckdb"
    con = duckdb.connect(str(database))
    create_raw_tables(con)
    con.execute(MART)
    con.executemany(
        "INSERT INTO marts.trade_balance_monthly VALUES (?, ?, ?, ?, ?, ?, 100, 80, 20, ?, ?, NULL)",
        [list(r) for r in GROWTH],
    )
    current = [
        observation("gacc", "CHN", "USA", "X", date(2025, 1, 1), 100.0),
        observation("gacc", "CHN", "USA", "X", date(2026, 3, 1), 110.0),
        observation("gacc", "VNM", "USA", "M", date(2025, 6, 1), 7.0),
        observation("census", "USA", "CHN", "M", date(2026, 1, 1), 50.0),
    ]
    insert(con, "raw.observations", current)
    history = current + [
        # gacc CHN→USA exports 2026-03 first published as 105, revised to 110: one revision
        observation("gacc", "CHN", "USA", "X", date(2026, 3, 1), 105.0, payload_sha256="sha-first"),
        # census USA←CHN 2026-01 re-published with the same value: not a revision
        observation("census", "USA", "CHN", "M", date(2026, 1, 1), 50.0, payload_sha256="sha-again"),
    ]
    insert(con, "raw.observation_history", history)
    con.executemany(
        "INSERT INTO raw.fx_rates VALUES ('ecb', ?, 'EUR', ?, 1.5, 'EXR made up', ?, 'sha-fx')",
        [("USD", date(2026, 1, 1), date(2026, 2, 2)), ("CNY", date(2026, 2, 1), date(2026, 3, 2))],
    )
    con.close()
    return database


def test_growth_series_picks_the_longest_series_and_prefers_usd(warehouse):
    chn, usa, vnm = growth_series(warehouse, ["CHN", "USA", "VNM"])
    # gacc CNY and gacc USD both have 2 monthly/combined points; USD wins the tie. The comtrade
    # annual row is left out and its single monthly point loses.
    assert (chn.source, chn.currency) == ("gacc", "USD")
    assert chn.points == [(date(2025, 2, 1), 2, 0.02, -0.08), (date(2025, 3, 1), 1, 0.11, -0.05)]
    assert usa.points == [] and vnm.points == []  # USA has no growth figure, VNM no row at all


def test_growth_chart_draws_a_png_or_nothing(warehouse, tmp_path):
    png = growth_chart(warehouse, ["CHN", "VNM"], tmp_path / "reports" / "growth.png")
    assert png == tmp_path / "reports" / "growth.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5_000
    assert sorted(p.name for p in png.parent.iterdir()) == ["growth.png"]  # no temporaries left
    # IND has only an annual row, USA no growth figure: nothing to draw.
    assert growth_chart(warehouse, ["IND", "USA"], tmp_path / "none.png") is None
    assert not (tmp_path / "none.png").exists()


def test_revisions_count_keys_with_more_than_one_value(warehouse):
    assert revisions_by_source(warehouse) == {"gacc": 1}


def test_coverage_per_source(warehouse):
    rows = {r["source"]: r for r in coverage_rows(warehouse)}
    assert set(rows) == {"census", "ecb", "gacc"}
    assert (rows["gacc"]["series"], rows["gacc"]["first_period"], rows["gacc"]["latest_period"],
            rows["gacc"]["rows"]) == (2, date(2025, 1, 1), date(2026, 3, 1), 3)
    assert (rows["ecb"]["series"], rows["ecb"]["latest_period"], rows["ecb"]["rows"]) == (
        2, date(2026, 2, 1), 2
    )


def test_staleness_against_the_release_lag(warehouse):
    rows = {r["source"]: r for r in staleness_rows(warehouse, today=date(2026, 5, 15))}
    assert list(rows) == list(SOURCE_NAMES)
    gacc = rows["gacc"]  # latest 2026-03; by 15 May April (out ~10 May) is expected
    assert (gacc["days_since"], gacc["next_release"], gacc["expected"], gacc["state"]) == (
        45, date(2026, 5, 10), date(2026, 4, 1), "behind 1 month(s)"
    )
    assert gacc["basis"] == "documented" and rows["eurostat"]["basis"] == "assumed"
    assert rows["census"]["expected"] == date(2026, 3, 1)
    assert rows["census"]["state"] == "behind 2 month(s)"  # latest is 2026-01
    assert rows["imf"]["state"] == "no data"
    fresh = {r["source"]: r for r in staleness_rows(warehouse, today=date(2026, 4, 12))}
    assert fresh["gacc"]["state"] == "up to date" and fresh["gacc"]["days_since"] == 12


def _result() -> RunResult:
    return RunResult(
        status="partial",
        outcomes=[SourceOutcome("gacc", planned=3, fetched=3, new_payloads=2, rows_parsed=40),
                  SourceOutcome("census", unreachable="Connection refused")],
        rows_by_source={"gacc": 40},
        data_tests={"no_self_trade": 0, "growth_is_finite": 0},
        published=True,
        database="warehouse/trade.duckdb",
    )


def test_summary_markdown_has_every_section(warehouse):
    text = summary_markdown(_result(), warehouse, "CHN")
    for heading in ("# Trade-imbalance refresh: partial", "## Sources", "## Rows loaded",
                    "## Coverage", "## Revisions found", "## Data tests",
                    "## Latest trade balance, CHN", "## Growth chart"):
        assert heading in text
    assert "| census | NOT REFRESHED — Connection refused |" in text
    assert "| gacc | 1 |" in text  # one revised figure
    assert "| no_self_trade | pass |" in text
    # Headline: newest first; 100 and 80 (made up) shown in billions.
    assert "| gacc | CNY | 2025-03 | 0.0 bn | 0.0 bn | 0.0 bn | +12.0 % | -4.0 % | – |" in text


def test_write_report_writes_html_chart_and_markdown(warehouse, tmp_path):
    reports = tmp_path / "reports"
    now = datetime(2026, 4, 12, 6, 30, tzinfo=UTC)
    files = write_report(_result(), warehouse, "CHN", ["CHN", "VNM"], reports, now=now)
    assert files.html == reports / "report-20260412T063000Z.html"
    assert files.chart == reports / "growth-20260412T063000Z.png"
    assert files.chart_error is None
    page = files.html.read_text()
    assert '<img src="growth-20260412T063000Z.png"' in page
    assert "<h2>Coverage</h2>" in page and "<h2>Revisions found</h2>" in page
    assert "<td>census</td><td>NOT REFRESHED — Connection refused</td>" in page
    assert (reports / "latest.html").read_text() == page
    # Paths, not file:// links (the Prefect UI cannot open local files).
    assert str(files.chart.resolve()) in files.markdown
    assert str(files.html.resolve()) in files.markdown and "file://" not in files.markdown


def test_a_chart_failure_never_fails_the_report(warehouse, tmp_path, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("made-up plotting failure")

    monkeypatch.setattr(flows.chart, "growth_chart", broken)
    files = write_report(_result(), warehouse, "CHN", [], tmp_path / "reports")
    assert files.chart is None
    assert files.chart_error == "the chart could not be drawn (RuntimeError: made-up plotting failure)"
    assert "no chart: the chart could not be drawn" in files.markdown
    assert "made-up plotting failure" in files.html.read_text()


def test_only_the_newest_reports_are_kept(warehouse, tmp_path, monkeypatch):
    monkeypatch.setattr(flows.report, "KEEP_REPORTS", 2)
    reports = tmp_path / "reports"
    for day in (10, 11, 12):
        write_report(None, warehouse, "CHN", [], reports, now=datetime(2026, 4, day, tzinfo=UTC))
    assert sorted(p.name for p in reports.glob("report-*.html")) == [
        "report-20260411T000000Z.html", "report-20260412T000000Z.html"
    ]
    assert len(list(reports.glob("growth-*.png"))) == 2


def test_busy_run_result_and_last_run_record(tmp_path):
    busy = RunResult(status="busy", error="another refresh is writing to warehouse", database="x")
    assert busy.exit_code == 4
    assert busy.lines() == ["BUSY: another refresh is writing to warehouse"]
    assert read_last_run(tmp_path) is None
    write_last_run(busy, tmp_path, tmp_path / "report.html")
    record = read_last_run(tmp_path)
    assert (record["status"], record["exit_code"], record["lines"], record["report"]) == (
        "busy", 4, busy.lines(), str(tmp_path / "report.html")
    )


def test_reports_tolerate_a_missing_warehouse(tmp_path):
    missing = tmp_path / "absent.duckdb"
    assert coverage_rows(missing) == [] and revisions_by_source(missing) == {}
    text = summary_markdown(None, missing, "CHN")
    assert f"no warehouse at {missing}" in text
