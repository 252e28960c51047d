"""Deployments: prefect.yaml agrees with flows/schedules.py, the schedules follow the release lags,
the parameter form is typed, and — end to end — a run triggered through a real Prefect server's API
(as the UI does) completes and publishes.

The end-to-end test (marked ``flow``) starts ``prefect server start`` on a free loopback port
with its own PREFECT_HOME, registers the deployments from prefect.yaml (``prefect deploy --all``),
then serves them with ``trade-imbalance serve`` and triggers a run with changed parameters. The
publishers are the strict loopback double; the run asks US Census for 2024-10…2024-12, answered
from the sample bundled in ``tests/fixtures/census/sample/`` (or the recording when ``shared/`` is
present): imports from China 2024-12 ``5700,CHINA,37553745287,2024,12``, exports
``5700,CHINA,12295207536,2024,12`` (whole USD). It needs nothing outside the repository.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import socket
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
import yaml
from prefect.utilities.callables import parameter_schema

from flows import release_calendar, schedules
from flows.automations import automations
from flows.flow import ARTIFACT_KEY, Partner, Reporter, deployments, monthly_refresh
from flows.publish import writer_lock
from flows.schema import add_months
from flows.sources import SOURCE_NAMES

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def prefect_yaml() -> dict:
    return yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))


def yaml_deployment(name: str) -> dict:
    (found,) = [d for d in prefect_yaml()["deployments"] if d["name"] == name]
    return found


def spec_as_yaml(spec: schedules.ScheduleSpec) -> dict:
    out = {"cron": spec.cron, "timezone": spec.timezone, "slug": spec.slug}
    if spec.parameters:
        out["parameters"] = spec.parameters
    return out


def test_prefect_yaml_matches_the_schedules_module():
    refresh = yaml_deployment(schedules.MONTHLY_REFRESH_DEPLOYMENT)
    rebuild = yaml_deployment(schedules.REBUILD_DEPLOYMENT)
    assert [d["name"] for d in prefect_yaml()["deployments"]] == ["monthly-refresh", "rebuild"]
    assert refresh["schedules"] == [spec_as_yaml(s) for s in schedules.MONTHLY_REFRESH_SCHEDULES]
    assert "schedules" not in rebuild  # rebuilt on demand only
    assert rebuild["parameters"] == schedules.REBUILD_PARAMETERS == {"offline": True, "force": True}
    for deployment in (refresh, rebuild):
        assert deployment["entrypoint"] == "flows/flow.py:monthly_refresh"
        assert deployment["concurrency_limit"] == {
            "limit": schedules.CONCURRENCY_LIMIT, "collision_strategy": "ENQUEUE"
        }
        assert deployment["work_pool"]["name"] == schedules.WORK_POOL
    module, _, function = refresh["entrypoint"].partition(":")
    assert (ROOT / module).is_file() and function == monthly_refresh.fn.__name__


def test_prefect_yaml_parameters_are_the_flow_defaults():
    defaults = {
        name: p.default for name, p in inspect.signature(monthly_refresh.fn).parameters.items()
    }
    for name, value in yaml_deployment("monthly-refresh")["parameters"].items():
        default = defaults[name]
        if isinstance(default, list):
            default = [str(v) for v in default]
        assert value == default, name
    assert yaml_deployment("monthly-refresh")["parameters"]["sources"] == list(SOURCE_NAMES)


def test_served_deployments_use_the_same_definitions():
    refresh, rebuild = deployments()
    assert (refresh.name, rebuild.name) == ("monthly-refresh", "rebuild")
    assert [
        (s.slug, s.schedule.cron, s.schedule.timezone, s.parameters) for s in refresh.schedules
    ] == [(s.slug, s.cron, s.timezone, s.parameters) for s in schedules.MONTHLY_REFRESH_SCHEDULES]
    assert not rebuild.schedules and rebuild.parameters == schedules.REBUILD_PARAMETERS
    for deployment in (refresh, rebuild):
        assert deployment.concurrency_limit == 1
        assert deployment.concurrency_options.collision_strategy == "ENQUEUE"
        assert deployment.work_pool_name is None  # the serving process runs them itself


def _run_days(spec: schedules.ScheduleSpec, year: int) -> list[datetime]:
    minute, hour, day, month, weekday = spec.cron.split()
    assert (month, weekday) == ("*", "*"), "monthly schedules only"
    zone = ZoneInfo(spec.timezone)
    return [datetime(year, m, int(day), int(hour), int(minute), tzinfo=zone) for m in range(1, 13)]


@pytest.mark.parametrize("spec", schedules.MONTHLY_REFRESH_SCHEDULES, ids=lambda s: s.slug)
def test_each_schedule_runs_after_its_sources_release(spec):
    assert spec.timezone in ("Asia/Shanghai", "America/New_York")  # explicit, never UTC
    sources = spec.parameters.get("sources", ["gacc", "census", "ecb"])
    # The month each run is meant to pick up: China customs M-1 (in February M-2: January comes
    # with February in March), the US Census M-2; the release calendar must expect it by then.
    aimed = {"gacc": 1, "census": 2, "ecb": 1}
    for year in (2025, 2028):  # a common and a leap year
        for run in _run_days(spec, year):
            month = date(run.year, run.month, 1)
            for source in sources:
                back = aimed[source] + (1 if source == "gacc" and run.month == 2 else 0)
                target = add_months(month, -back)
                assert release_calendar.latest_expected_month(source, run.date()) == target, (
                    source, run,
                )


def test_parameter_schema_renders_a_typed_form():
    schema = parameter_schema(monthly_refresh).model_dump()
    served = deployments()[0]._parameter_openapi_schema.model_dump()
    assert served == schema
    props, definitions = schema["properties"], schema["definitions"]

    assert props["sources"]["items"] == {"$ref": "#/definitions/Source"}
    assert definitions["Source"]["enum"] == list(SOURCE_NAMES)
    assert props["reporters"]["items"] == {"$ref": "#/definitions/Reporter"}
    reporters = definitions["Reporter"]["enum"]
    assert {"CHN", "USA", "VNM", "IND", "DEU", "TWN", "EU27_2020"} <= set(reporters)
    # 249 ISO 3166-1 countries + EU27_2020 + EA20
    assert "WLD" not in reporters and len(reporters) == len(Reporter) == 252  # 249 + EU27_2020, EA20, EA21
    partners = definitions["Partner"]["enum"]
    assert "WLD" in partners and "EU27_2020" in partners and len(partners) == len(Partner) == 251
    assert props["reporters"]["default"] == ["CHN", "USA", "VNM", "IND", "EU27_2020"]

    for name in ("period_start", "period_end"):
        assert {"format": "date", "type": "string"} in props[name]["anyOf"]
    for name in ("force", "offline"):
        assert props[name]["type"] == "boolean" and props[name]["default"] is False
    assert props["comtrade_frequency"]["enum"] == ["M", "A"]
    assert props["parameters"]["$ref"] == "#/definitions/ModelParameters"
    assert definitions["ModelParameters"]["properties"]["cif_fob_factor"]["default"] == 1.06

    for name, prop in props.items():
        assert len(prop.get("description", "")) > 15, f"{name} has no description"
    assert "ISO 3166-1 alpha-3" in props["reporters"]["description"]
    assert "raw archive only" in props["offline"]["description"]


# -- end to end through a real Prefect server ---------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(condition, timeout: float, what: str, procs=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc, log in procs:
            if proc.poll() is not None:
                raise AssertionError(f"{what}: process exited {proc.returncode}\n{_tail(log)}")
        result = condition()
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}\n"
                         + "\n".join(_tail(log) for _, log in procs))


def _tail(log: Path, lines: int = 40) -> str:
    text = log.read_text(errors="replace") if log.exists() else ""
    return f"--- {log.name} ---\n" + "\n".join(text.splitlines()[-lines:])


def _healthy(url: str) -> bool:
    import httpx

    try:
        return httpx.get(f"{url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.flow
def test_a_run_triggered_through_the_api_completes_and_publishes(httpserver, recordings, tmp_path):
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.exceptions import ObjectNotFound

    from tests.recorded_server import RecordedPublishers

    httpserver.expect_request(re.compile(".*")).respond_with_handler(RecordedPublishers(recordings))
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = dict(os.environ)
    env.update({
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_RUNNER_POLL_FREQUENCY": "2",
        "PREFECT_LOGGING_LEVEL": "INFO",
        "TRADE_IMBALANCE_REQUESTS_PER_MINUTE": "60000",
        "TRADE_IMBALANCE_BACKOFF_FACTOR": "0.01",
    })
    for source in SOURCE_NAMES:
        env[f"TRADE_IMBALANCE_{source.upper()}_BASE_URL"] = httpserver.url_for(f"/{source}")
    warehouse = Path(env["TRADE_IMBALANCE_WAREHOUSE"])  # a tmp folder (tests/conftest.py)
    server_log, deploy_log, serve_log = (tmp_path / n for n in ("server.log", "deploy.log", "serve.log"))

    def start(args: list[str], log: Path) -> subprocess.Popen:
        return subprocess.Popen(args, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                stdout=log.open("w"), stderr=subprocess.STDOUT)

    server = start([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port",
                    str(port), "--no-services"], server_log)
    serve = None
    try:
        _wait(lambda: _healthy(api), 150, "the Prefect server", [(server, server_log)])
        with SyncPrefectClient(api) as client:
            # 1. prefect.yaml, as the README deploys it: the UI lists both deployments with
            #    their schedules and parameter form.
            client.create_work_pool(WorkPoolCreate(name=schedules.WORK_POOL, type="process"))
            deploy = subprocess.run(
                [str(BIN / "prefect"), "--no-prompt", "deploy", "--all"], cwd=ROOT, env=env,
                stdin=subprocess.DEVNULL, stdout=deploy_log.open("w"), stderr=subprocess.STDOUT,
                timeout=180,
            )
            assert deploy.returncode == 0, _tail(deploy_log)
            deployed = client.read_deployment_by_name("monthly-refresh/monthly-refresh")
            assert deployed.work_pool_name == schedules.WORK_POOL
            assert sorted((s.slug, s.schedule.cron, s.schedule.timezone, s.parameters)
                          for s in deployed.schedules) == sorted(
                (s.slug, s.cron, s.timezone, s.parameters) for s in schedules.MONTHLY_REFRESH_SCHEDULES
            )
            assert deployed.global_concurrency_limit.limit == 1
            assert "Reporter" in deployed.parameter_openapi_schema["definitions"]
            rebuild = client.read_deployment_by_name("monthly-refresh/rebuild")
            assert rebuild.parameters == {"offline": True, "force": True}
            assert rebuild.global_concurrency_limit.limit == 1

            # 2. Switch to the one-process setup: serve refuses while the worker deployments
            #    exist, then takes over once they are deleted.
            refused = subprocess.run([str(BIN / "trade-imbalance"), "serve"], cwd=ROOT, env=env,
                                     capture_output=True, text=True, timeout=120)
            assert refused.returncode == 2 and "already deployed to work pool" in refused.stderr
            for d in (deployed, rebuild):
                client.delete_deployment(d.id)
            serve = start([str(BIN / "trade-imbalance"), "serve"], serve_log)

            def served():
                try:
                    return client.read_deployment_by_name("monthly-refresh/monthly-refresh")
                except ObjectNotFound:
                    return None

            deployment = _wait(served, 120, "trade-imbalance serve", [(serve, serve_log)])
            assert deployment.work_pool_name is None
            assert len(deployment.schedules) == len(schedules.MONTHLY_REFRESH_SCHEDULES)

            # 3. Trigger a run with changed parameters, as the UI's "Custom run" form does.
            run = client.create_flow_run_from_deployment(deployment.id, parameters={
                "sources": ["census"], "reporters": ["USA"], "period_start": "2024-10-01",
                "period_end": "2024-12-01",
            })

            def finished():
                state = client.read_flow_run(run.id).state
                return state if state is not None and state.is_final() else None

            state = _wait(finished, 240, "the flow run", [(serve, serve_log)])
            assert state.is_completed(), f"{state}\n{_tail(serve_log, 80)}"
            artifacts = client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[ARTIFACT_KEY]))
            )
            assert [a.flow_run_id for a in artifacts] == [run.id]
            assert "# Trade-imbalance refresh: ok" in artifacts[0].data
            assert "| census | 1 | 2024-10 | 2024-12 |" in artifacts[0].data

            # 4. Every outcome is visible as a state, through the API. The recordings hold no
            #    China customs index for 2024: that source fails.
            def final_state_of(parameters: dict, hold_lock: bool = False):
                flow_run = client.create_flow_run_from_deployment(deployment.id, parameters={
                    "reporters": ["USA", "CHN"], "period_start": "2024-10-01",
                    "period_end": "2024-12-01", **parameters,
                })

                def done():
                    current = client.read_flow_run(flow_run.id).state
                    return current if current is not None and current.is_final() else None

                if not hold_lock:
                    return _wait(done, 240, "the flow run", [(serve, serve_log)])
                with writer_lock(warehouse):
                    return _wait(done, 240, "the flow run", [(serve, serve_log)])

            partial = final_state_of({"sources": ["census", "gacc"]})
            assert (partial.type.value, partial.name) == ("FAILED", "Partial"), partial
            assert "gacc" in partial.message
            failed = final_state_of({"sources": ["gacc"]})
            assert (failed.type.value, failed.name) == ("FAILED", "Failed"), failed
            busy = final_state_of({"offline": True, "force": True}, hold_lock=True)
            assert (busy.type.value, busy.name) == ("CANCELLED", "Busy"), busy
            history = client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[ARTIFACT_KEY]))
            )
            assert sorted(a.description for a in history) == sorted(
                f"Refresh {s}" for s in ("ok", "partial", "failed", "busy")
            )

            # 5. The shipped automations file loads as the README says.
            loaded = subprocess.run(
                [str(BIN / "prefect"), "automation", "create", "--from-file", "automations.yaml"],
                cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
            )
            assert loaded.returncode == 0, loaded.stdout + loaded.stderr
            names = {a.name: a for a in client.read_automations()}
            assert set(names) == {a["name"] for a in automations()}
            proactive = names["trade-imbalance: no successful refresh"].trigger
            assert proactive.posture == "Proactive"
            assert proactive.expect == {"prefect.flow-run.Completed"}
    finally:
        if serve is not None:
            _stop(serve)
        _stop(server)

    con = duckdb.connect(str(warehouse / "trade.duckdb"), read_only=True)
    try:
        # Census sample: 5700,CHINA,37553745287,2024,12 (imports); 5700,CHINA,12295207536,2024,12
        pair = """SELECT imports, exports FROM marts.bilateral_balance_monthly
                  WHERE source = 'census' AND reporter = 'USA' AND partner = ?
                    AND period_start = DATE '2024-12-01' AND months = 1"""
        assert con.execute(pair, ["CHN"]).fetchall() == [(37_553_745_287.0, 12_295_207_536.0)]
    finally:
        con.close()
    assert (warehouse / "exports" / "bilateral_balance_monthly.parquet").is_file()
    assert list((warehouse / "reports").glob("report-*.html"))
    # The last run triggered was the one refused while the lock was held: it is recorded as busy
    # and published nothing (the published warehouse above is the ok run's).
    last_run = json.loads((warehouse / "reports" / "last_run.json").read_text())
    assert last_run["status"] == "busy" and not last_run["published"], last_run
    assert datetime.fromisoformat(last_run["finished_at"]) > datetime.now(UTC) - timedelta(minutes=10)


def test_the_shipped_automations_file_is_current_and_valid():
    from prefect.events.schemas.automations import AutomationCore

    from flows.automations import automations_yaml

    assert (ROOT / "automations.yaml").read_text(encoding="utf-8") == automations_yaml()
    loaded = yaml.safe_load((ROOT / "automations.yaml").read_text(encoding="utf-8"))["automations"]
    expected = {"trade-imbalance: refresh partial": ["prefect.flow-run.Partial"],
                "trade-imbalance: refresh failed": ["prefect.flow-run.Failed", "prefect.flow-run.Crashed"],
                "trade-imbalance: no successful refresh": ["prefect.flow-run.Completed"]}
    for item in loaded:
        core = AutomationCore.model_validate(item)
        assert sorted(core.trigger.expect) == sorted(expected[core.name])
        assert core.actions[0].type == "send-notification"
