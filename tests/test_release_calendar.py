"""The release calendar (flows/release_calendar.py): rules, combined January, overrides, the
warehouse table and its agreement with `status` and marts.source_coverage.

Dates asserted follow from the documented rules: GACC by the 10th of the next month (sources.md
§5: "around the 7th–10th"), January with February from 2020; Census 35 days after the month ends
(export.gov: FT-900 "approximately 35 days after the end of the calendar month").
"""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from flows import release_calendar as rc
from flows.sources import SOURCE_NAMES


@pytest.mark.parametrize(
    ("source", "today", "expected"),
    [
        ("gacc", date(2026, 4, 10), date(2026, 3, 1)),  # March out by 10 April
        ("gacc", date(2026, 4, 9), date(2026, 2, 1)),
        ("gacc", date(2026, 2, 20), date(2025, 12, 1)),  # January 2026 comes with February
        ("gacc", date(2026, 3, 10), date(2026, 2, 1)),
        ("gacc", date(2018, 2, 20), date(2018, 1, 1)),  # before 2020: January on its own
        ("census", date(2026, 5, 5), date(2026, 3, 1)),  # 31 March + 35 days
        ("census", date(2026, 5, 4), date(2026, 2, 1)),
        ("imf", date(2026, 4, 10), date(2025, 12, 1)),  # 31 December + 90 days = 31 March
    ],
)
def test_latest_expected_month(source, today, expected):
    assert rc.latest_expected_month(source, today) == expected


def test_every_source_has_a_rule_with_its_basis():
    assert set(rc.RULES) == set(SOURCE_NAMES)
    assert {r.basis for r in rc.RULES.values()} <= {"documented", "assumed"}
    assert rc.RULES["gacc"].basis == rc.RULES["census"].basis == "documented"


def test_combined_january_is_expected_with_february():
    assert rc.expected_release("gacc", date(2025, 1, 1)) == date(2025, 3, 10)
    assert rc.expected_release("gacc", date(2025, 2, 1)) == date(2025, 3, 10)
    assert rc.expected_release("gacc", date(2019, 1, 1)) == date(2019, 2, 10)


def test_due_adds_the_grace_days():
    # Census November 2026: 30 November + 35 days = 4 January 2027, grace 7 days.
    assert rc.expected_release("census", date(2026, 11, 1)) == date(2027, 1, 4)
    assert not rc.is_due("census", date(2026, 11, 1), date(2027, 1, 11))
    assert rc.is_due("census", date(2026, 11, 1), date(2027, 1, 12))


def test_an_override_file_replaces_the_rule_for_its_month(tmp_path):
    dates = tmp_path / "dates.csv"
    dates.write_text(
        "# made up for this test\nsource,period,release_date,kind,evidence\n"
        "census,2026-10,2026-12-18,announced,illustrative slip\n"
    )
    assert rc.expected_release("census", date(2026, 10, 1), overrides_file=str(dates)) == date(
        2026, 12, 18
    )
    assert rc.expected_release("census", date(2026, 9, 1), overrides_file=str(dates)) == date(
        2026, 11, 4
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("source,period,release_date,kind,evidence\ncensus,2026-13,x,actual,\n")
    with pytest.raises(ValueError, match="line 2"):
        rc.expected_release("census", date(2026, 9, 1), overrides_file=str(bad))


def test_the_warehouse_table_holds_the_same_dates():
    con = duckdb.connect()
    rc.write_release_calendar(con)
    rows = dict(
        ((s, p), d)
        for s, p, d in con.execute(
            "SELECT source, period, expected_release FROM meta.release_calendar"
        ).fetchall()
    )
    for source in SOURCE_NAMES:
        for period in (date(2020, 1, 1), date(2026, 11, 1)):
            assert rows[(source, period)] == rc.expected_release(source, period)
    assert rows[("gacc", date(2026, 1, 1))] == date(2026, 3, 10)


def test_the_default_refresh_backfills_ten_years_for_the_focus_reporter_once():
    from flows.flow import HISTORY_MONTHS, _history_for, history_scope
    from flows.parameters import ModelParameters
    from flows.scope import RunScope
    from flows.settings import Settings

    scope = RunScope().resolved(date(2026, 12, 1))  # default: 2024-12 .. 2026-11
    history = history_scope(scope, ModelParameters(), Settings())
    assert (history.period_start, history.period_end) == (date(2016, 12, 1), date(2024, 11, 1))
    assert HISTORY_MONTHS == 120 and history.reporters == ("CHN", "USA")
    assert _history_for("comtrade", history, Settings()) is None  # keyless: hours of calls
    assert _history_for("census", history, Settings()) is history
    wide = RunScope(period_start=date(2010, 1, 1)).resolved(date(2026, 12, 1))
    assert history_scope(wide, ModelParameters(), Settings()) is None
