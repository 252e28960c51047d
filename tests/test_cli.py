"""The ``trade-imbalance`` command line: help texts, exit codes, read-only queries, status, report.

Commands that need a warehouse use one published from real US Census payloads, 2024-10…2024-12
(the sample bundled in ``tests/fixtures/census/sample/``, or the recording when ``shared/`` is
present: imports from China 2024-12 ``5700,CHINA,37553745287,2024,12``), built without Prefect by
the ``published`` fixture of ``test_publish``.
Usage errors are caught before Prefect starts, so these tests stay fast.
"""

from __future__ import annotations

from datetime import date

import pytest
from typer.testing import CliRunner

from flows.cli import EXIT_CODES, app
from flows.fetch import SourceOutcome
from flows.report import RunResult, write_last_run
from tests import test_publish

recorded = test_publish.recorded  # fixtures: the recorded publishers, a published warehouse
published = test_publish.published
runner = CliRunner()


@pytest.fixture(autouse=True)
def _restore_prefect_logging(monkeypatch):
    """`refresh` sets PREFECT_LOGGING_LEVEL for its own process; restore it after each test."""
    monkeypatch.setenv("PREFECT_LOGGING_LEVEL", "WARNING")


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_help_lists_every_command_and_the_exit_codes():
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("refresh", "rebuild", "probe", "automations", "status", "report", "query", "serve"):
        assert f"  {command} " in result.stdout
    assert "Exit codes:" in result.stdout
    for code, meaning in EXIT_CODES.items():
        assert f"{code}  {meaning}" in result.stdout
    assert set(EXIT_CODES) == {0, 1, 2, 3, 4}


@pytest.mark.parametrize(
    ("command", "phrases"),
    [
        ("refresh", ["--source NAME", "--reporter ISO3", "--from YYYY-MM", "--offline", "--verbose",
                     "(exit code 3)", "exits with code 4"]),
        ("rebuild", ["raw archive alone (no network)", "--param NAME=VALUE"]),
        ("status", ["staleness per source", "release calendar"]),
        ("report", ["growth chart", "warehouse/reports/report-<time>.html"]),
        ("query", ["read-only", "refused with exit code 2", "--format table|csv|json"]),
        ("serve", ["PREFECT_API_URL", "uv run prefect server start", "one at a time"]),
    ],
)
def test_each_command_explains_itself(command, phrases):
    result = invoke(command, "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())  # help text is re-wrapped to the terminal width
    for phrase in phrases:
        assert phrase in text, phrase


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2025-13"], "'2025-13' is not a month like 2025-03"),
        (["--from", "March"], "'March' is not a month like 2025-03"),
        (["--from", "25-01"], "'25-01' is not a month like 2025-03"),
        (["--from", "2025-05", "--to", "2025-01"], "2025-05 is after --to 2025-01"),
        (["--reporter", "XXX"], "unknown code(s) XXX"),
        (["--partner", "ZZZ"], "unknown code(s) ZZZ"),
        (["--source", "bloomberg"], "'bloomberg' is not a valid Source"),
        (["--comtrade-frequency", "Q"], "must be M or A"),
        (["--param", "no_such=1"], "expected name=value with name in: cif_fob_factor"),
        (["--param", "cif_fob_factor=3"], "less than 1.5"),
        (["--param", "focus_reporter=ZZZ"], "focus_reporter: not a reporter code"),
        (["--param", "peer_set=[XXX]"], "peer_set.0: not a reporter code"),
        (["--param", "peer_set=CHN,XXX"], "peer_set.1: not a reporter code"),
        (["--param", "signal_threshold=nan"], "finite number"),
        (["--param", "signal_threshold=inf"], "finite number"),
        (["--imf-frequency", "Q"], "must be M or A"),
    ],
)
def test_refresh_usage_errors_exit_2_before_anything_runs(args, message):
    result = invoke("refresh", *args)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())


def test_commands_need_a_published_warehouse():
    for args in (["status"], ["report"], ["query", "SELECT 1"]):
        result = invoke(*args)
        assert result.exit_code == 1
        assert "no warehouse at" in result.stderr and "run `trade-imbalance refresh` first" in result.stderr


CHINA_DEC_2024 = ("SELECT partner, imports FROM marts.bilateral_balance_monthly "
                  "WHERE source = 'census' AND partner = 'CHN' AND period_start = DATE '2024-12-01' "
                  "AND months = 1")


def test_query_prints_a_table(published):
    result = invoke("query", CHINA_DEC_2024)
    assert result.exit_code == 0, result.output
    assert "CHN" in result.stdout and "37,553,745,287" in result.stdout  # grouped, no exponent
    assert "1 row(s)" in result.stdout


def test_query_csv_and_limit(published):
    result = invoke("query", "--format", "csv", CHINA_DEC_2024)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["partner,imports", "CHN,37553745287.0"]
    limited = invoke("query", "--limit", "1", "SELECT * FROM range(5)")
    assert "1 row(s) shown (more exist; --limit 1)" in limited.stdout


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("INSERT INTO meta.parameters VALUES ('x', '1', 1, 'made up')", "INSERT"),
        ("DELETE FROM raw.observations", "DELETE"),
        ("CREATE TABLE marts.mine AS SELECT 1", "CREATE"),
        ("COPY raw.observations TO 'stolen.csv'", "COPY"),
        ("ATTACH 'other.duckdb' AS other", "ATTACH"),
        ("SET threads = 1", "SET"),
    ],
)
def test_query_refuses_writes(published, sql, kind):
    result = invoke("query", sql)
    assert result.exit_code == 2
    assert f"refused: {kind} statements are not allowed; `query` is read-only" in result.stderr


def test_query_takes_one_statement_and_reports_sql_errors(published):
    two = invoke("query", "SELECT 1; SELECT 2")
    assert two.exit_code == 2 and "give exactly one statement (got 2)" in two.stderr
    broken = invoke("query", "SELECT * FROM marts.no_such_mart")
    assert broken.exit_code == 1 and "query failed:" in broken.stderr


def test_status_shows_coverage_staleness_and_the_last_run(published):
    result = invoke("status")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"warehouse: {published.database_path} (built ")
    census = next(line for line in lines if "│ census " in line)
    cells = [c.strip() for c in census.split("│")[1:-1]]
    # One reporter (USA), 2024-10 to 2024-12: 1 518 rows of the bundled sample (759 a file) plus
    # 759 CIF import rows the double answers for GEN_CIF_MO with values it labels as MADE UP (no
    # CIF value was recorded); the release calendar (documented FT-900 schedule) expects January
    # 2025 on 2025-03-07, so the warehouse is behind.
    assert cells[:5] == ["census", "1", "2024-10", "2024-12", "2277"]
    assert cells[6:8] == ["2025-03-07", "documented"] and cells[9].startswith("behind "), cells
    gacc = [c.strip() for c in next(line for line in lines if "│ gacc " in line).split("│")[1:-1]]
    assert gacc[-1] == "no data"
    assert "last run: none recorded" in result.stdout

    run = RunResult(status="partial", outcomes=[SourceOutcome("gacc", unreachable="HTTP 503")],
                    published=True, database=str(published.database_path))
    write_last_run(run, published.warehouse / "reports")
    again = invoke("status")
    assert "last run: partial at " in again.stdout and "(exit code 3)" in again.stdout
    assert "  gacc: NOT REFRESHED — HTTP 503" in again.stdout


def test_report_writes_and_prints_the_latest_report(published):
    result = invoke("report", "--reporter", "chn")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Trade-imbalance warehouse\n")
    assert "## Coverage" in result.stdout and "| census | 1 | 2024-10 | 2024-12 |" in result.stdout
    html = next(line for line in result.stdout.splitlines() if line.startswith("HTML report: "))
    path = html.removeprefix("HTML report: ")
    assert path.startswith(str(published.warehouse / "reports" / "report-"))
    assert "<h2>Coverage</h2>" in open(path, encoding="utf-8").read()


def test_serve_explains_how_to_point_at_a_server(monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    result = invoke("serve")
    assert result.exit_code == 2
    assert "PREFECT_API_URL is not set" in result.stderr
    assert "uv run prefect server start" in result.stderr


def test_the_reliability_scope_is_one_option_away(monkeypatch):
    import flows.cli
    from flows.reconcile import RELIABILITY_REPORTERS

    seen = {}
    monkeypatch.setattr(flows.cli, "_run", lambda **kwargs: seen.update(kwargs))
    result = invoke("refresh", "--scope", "reliability", "--from", "2019-01", "--to", "2023-12")
    assert result.exit_code == 0, result.output
    assert [str(s) for s in seen["sources"]] == ["comtrade"] and seen["comtrade_frequency"] == "A"
    assert seen["reporters"] == list(RELIABILITY_REPORTERS)
    assert (seen["period_start"], seen["period_end"]) == (date(2019, 1, 1), date(2023, 12, 1))
