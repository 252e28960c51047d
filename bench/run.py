"""Run every benchmark once and write ``bench/RESULTS.md`` (raw figures: ``bench/RESULTS.json``).

Command: ``uv run --group bench python -m bench.run --work DIR`` (``DIR`` on a disk with about
6 GB free; kept afterwards only when given). Each case runs in its own child process
(:mod:`bench.cases`); its wall time, CPU time (user + system) and peak resident memory
(``ru_maxrss``) come from ``os.wait4`` for that whole process, imports and start-up included.
A ratio compares a case with its baseline measured in the same run: ``--pairs`` (default 3)
interleaved pairs (baseline, case, baseline, case, ...), and the ratio reported is the median
of the per-pair ratios. The load average is recorded before and after every case.

Options: ``--rows 20`` (millions of rows in ``raw.observations`` for the models),
``--sizes 1,5`` (millions of rows of the bulk files for the ingest), ``--payloads 300`` (the
rebuild's archive), ``--skip CASES`` (comma-separated section names), ``--report-only JSON``
(rewrite the report from a saved RESULTS.json, e.g. after editing ``bench/ANALYSIS.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.report import write_report

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ("cli", "refresh", "server", "download", "models", "ingest")


class Runner:
    """Starts child processes with one environment and records what each used."""

    def __init__(self, work: Path, env: dict[str, str]):
        self.work, self.env, self.log = work, env, work / "bench.log"

    def command(self, argv: list[str], env: dict | None = None, name: str = "") -> dict:
        """Run ``argv``; return wall, CPU, peak RSS, load before/after and its stdout."""
        load_before = os.getloadavg()
        started = time.perf_counter()
        with open(self.log, "a", encoding="utf-8") as err, tempfile.TemporaryFile("w+") as out:
            err.write(f"\n=== {name or argv}\n")
            err.flush()
            proc = subprocess.Popen(argv, cwd=ROOT, stdout=out, stderr=err,
                                    env={**self.env, **(env or {})})  # fmt: skip
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - started
            out.seek(0)
            stdout = out.read()
        code = os.waitstatus_to_exitcode(status)
        return {
            "wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
            "peak_rss_mb": usage.ru_maxrss / 1024, "exit_code": code, "stdout": stdout,
            "load_before": load_before, "load_after": os.getloadavg(),
        }  # fmt: skip

    def case(self, name: str, arguments: dict | None = None, env: dict | None = None) -> dict:
        """One :mod:`bench.cases` case in a child process; its JSON result plus the usage."""
        arguments = arguments or {}
        run = self.command([sys.executable, "-m", "bench.cases", name, json.dumps(arguments)],
                           env, f"{name} {json.dumps(arguments)}")  # fmt: skip
        lines = [x for x in run.pop("stdout").splitlines() if x.startswith("BENCH-RESULT ")]
        if run["exit_code"] != 0 or not lines:
            raise RuntimeError(f"case {name} failed (exit {run['exit_code']}); see {self.log}")
        result = {**json.loads(lines[-1].removeprefix("BENCH-RESULT ")), **run}
        shown = {k: v for k, v in result.items() if k not in ("per_model_seconds", "rows_by_model")}
        print(f"{name:14s} {json.dumps(shown, default=str)[:240]}", flush=True)
        return result


def pairs(runner: Runner, n: int, baseline, case) -> dict:
    """``n`` interleaved (baseline, case) pairs; per-pair ratios and their medians."""
    runs = {"baseline": [], "case": []}
    for _ in range(n):
        runs["baseline"].append(baseline())
        runs["case"].append(case())
    ratios = {
        key: [c[key] / b[key] for b, c in zip(runs["baseline"], runs["case"], strict=True)]
        for key in ("wall", "cpu")
    }
    return {
        **runs, "ratios": ratios,
        "wall_ratio": statistics.median(ratios["wall"]),
        "cpu_ratio": statistics.median(ratios["cpu"]),
        "case_peak_rss_mb": max(r["peak_rss_mb"] for r in runs["case"]),
        "baseline_peak_rss_mb": max(r["peak_rss_mb"] for r in runs["baseline"]),
    }  # fmt: skip


def machine() -> dict:
    import duckdb
    import pandas
    import polars
    import prefect

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text()
                .splitlines() if line.startswith("model name")), "unknown")  # fmt: skip
    memory = next((int(line.split()[1]) // 1024 for line in Path("/proc/meminfo").read_text()
                   .splitlines() if line.startswith("MemTotal")), 0)  # fmt: skip
    return {
        "cpu": cpu, "cores": os.cpu_count(), "memory_mb": memory,
        "system": f"{platform.system()} {platform.release()}", "python": platform.python_version(),
        "polars": polars.__version__, "duckdb": duckdb.__version__, "pandas": pandas.__version__,
        "prefect": prefect.__version__, "load": os.getloadavg(),
    }  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(work: Path, env: dict) -> tuple[subprocess.Popen, str]:
    """A Prefect server on a free loopback port, with its own PREFECT_HOME; (process, API URL)."""
    port = _free_port()
    home = work / "prefect-server"
    home.mkdir(exist_ok=True)
    log = open(work / "prefect-server.log", "a", encoding="utf-8")  # noqa: SIM115 - kept open
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("prefect")), "server", "start", "--host", "127.0.0.1",
         "--port", str(port)],
        env={**env, "PREFECT_HOME": str(home)}, stdout=log, stderr=log, cwd=work,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/api"
    import urllib.request

    for _ in range(240):
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                if answer.status == 200:
                    return proc, url
        except OSError:
            time.sleep(1)
    proc.terminate()
    raise RuntimeError("the Prefect server did not start; see prefect-server.log")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", default=None, help="scratch folder (kept when given)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "RESULTS.md"))
    parser.add_argument("--rows", type=float, default=20, help="millions of rows for the models")
    parser.add_argument("--sizes", default="1,5", help="bulk-file sizes for the ingest (M rows)")
    parser.add_argument("--payloads", type=int, default=300, help="payloads of the rebuild case")
    parser.add_argument("--pairs", type=int, default=3, help="interleaved pairs per ratio")
    parser.add_argument("--skip", default="", help=f"sections to skip, of {','.join(SECTIONS)}")
    parser.add_argument("--report-only", metavar="JSON", help="rewrite the report, no run")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if args.report_only:
        write_report(json.loads(Path(args.report_only).read_text()), out)
        print(f"wrote {out}")
        return
    skip = {s for s in args.skip.split(",") if s}
    work = Path(args.work or tempfile.mkdtemp(prefix="trade-imbalance-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    # Imports from bytecode as in a normal install: this environment sets
    # PYTHONDONTWRITEBYTECODE, which would recompile every module in every child process.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONPYCACHEPREFIX=str(work / "pycache"), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               DO_NOT_TRACK="1", PREFECT_LOGGING_LEVEL="WARNING")  # fmt: skip
    runner = Runner(work, env)
    results: dict = {"machine": machine(), "started": datetime.now(UTC).isoformat(timespec="seconds"),
                     "options": vars(args), "pycache": "PYTHONPYCACHEPREFIX (bytecode cached)"}  # fmt: skip
    began = time.perf_counter()
    server = None
    try:
        runner.case("noop_flow")  # warms the bytecode cache and Prefect's local database
        wh = str(work / "refresh")
        if {"cli", "refresh", "server"} - skip:
            results["refresh_setup"] = runner.case("flow_setup", {"warehouse": wh, "payloads": 12})
        if "cli" not in skip:
            results["cli"] = cli_cases(runner, work / "refresh")
            write_report(results, out)
        if "refresh" not in skip:  # Prefect's temporary API started by every process
            results["refresh_temporary"] = pairs(
                runner, args.pairs, lambda: runner.case("noop_flow"),
                lambda: runner.case("refresh_once", {"warehouse": wh, "payloads": 12}),
            )
            write_report(results, out)
        if "server" not in skip:
            server, url = start_server(work, env)
            api = {"PREFECT_API_URL": url}
            runner.case("noop_flow", env=api)  # warm-up against the server
            results["refresh_server"] = pairs(
                runner, args.pairs, lambda: runner.case("noop_flow", env=api),
                lambda: runner.case("refresh_once", {"warehouse": wh, "payloads": 12}, env=api),
            )
            rebuild_wh = str(work / "rebuild")
            n = args.payloads
            results["rebuild_setup"] = runner.case(
                "flow_setup", {"warehouse": rebuild_wh, "payloads": n}, env=api
            )
            results["rebuild_server"] = pairs(
                runner, args.pairs, lambda: runner.case("noop_flow", env=api),
                lambda: runner.case("refresh_once", {"warehouse": rebuild_wh, "payloads": n,
                                                     "force": True}, env=api),  # fmt: skip
            )
            server.terminate()
            server.wait(timeout=60)
            server = None
            write_report(results, out)
        if "download" not in skip:
            results["download"] = download_cases(runner, work, args.pairs)
            write_report(results, out)
        if "models" not in skip:
            results["models"] = model_cases(runner, work, args.rows, args.pairs)
            write_report(results, out)
        if "ingest" not in skip:
            results["ingest"] = ingest_cases(runner, work, args.sizes, args.pairs)
    finally:
        if server is not None:
            server.terminate()
        results["total_seconds"] = time.perf_counter() - began
        results["machine"]["load_end"] = os.getloadavg()
        write_report(results, out)
        out.with_suffix(".json").write_text(json.dumps(results, indent=1, default=str))
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {out}")


def cli_cases(runner: Runner, warehouse: Path, runs: int = 5) -> dict:
    """``trade-imbalance status`` and ``query`` on the set-up warehouse, ``runs`` times each."""
    exe = str(Path(sys.executable).with_name("trade-imbalance"))
    env = {"TRADE_IMBALANCE_WAREHOUSE": str(warehouse)}
    commands = {
        "status": [exe, "status"],
        "query": [exe, "query", "SELECT reporter, period_end, balance FROM "
                  "marts.trade_balance_monthly ORDER BY period_end DESC LIMIT 5"],
        "python": [sys.executable, "-c", "pass"],  # the interpreter alone, for scale
    }  # fmt: skip
    out: dict = {}
    for _ in range(runs):
        for name, argv in commands.items():
            run = runner.command(argv, env, name)
            if run["exit_code"] != 0:
                raise RuntimeError(f"{name} failed: see {runner.log}")
            run.pop("stdout")
            out.setdefault(name, []).append(run)
    for name in commands:
        print(f"{name:14s} walls {[round(r['wall'], 2) for r in out[name]]}", flush=True)
    return out


def download_cases(runner: Runner, work: Path, n: int, mib: int = 256) -> dict:
    """A ``mib`` MiB made-up body fetched in memory (baseline) and streamed to disk."""
    body = work / "download.bin"
    with body.open("wb") as handle:
        for _ in range(mib):
            handle.write(os.urandom(1 << 20))
    folder = str(work / "download")
    result = pairs(
        runner, n, lambda: runner.case("download", {"path": str(body), "mode": "memory",
                                                    "folder": folder}),
        lambda: runner.case("download", {"path": str(body), "mode": "stream", "folder": folder}),
    )  # fmt: skip
    result["mib"] = mib
    body.unlink()
    return result


def model_cases(runner: Runner, work: Path, rows_m: float, n: int) -> dict:
    """``rows_m`` million SYNTHETIC rows in raw.observations; bare copy vs every model."""
    database = work / f"models-{rows_m:g}M.duckdb"
    rows = int(rows_m * 1_000_000)
    out = {"setup": runner.case("marts_setup", {"database": str(database), "rows": rows,
                                                "scratch": str(work)})}  # fmt: skip
    copy = str(work / "copy.duckdb")
    out.update(pairs(
        runner, n, lambda: runner.case("copy", {"database": str(database), "out": copy}),
        lambda: runner.case("marts", {"database": str(database)}),
    ))  # fmt: skip
    # not in the ratio: the publish step's Parquet export, where views are computed
    out["export"] = runner.case("export", {"database": str(database), "folder": str(work / "exports")})
    out["rows"] = rows
    database.unlink()
    return out


def ingest_cases(runner: Runner, work: Path, sizes: str, n: int) -> dict:
    """Per size: the bulk file through ours, DuckDB's bare load and pandas, interleaved."""
    out: dict = {}
    for size in [float(s) for s in sizes.split(",") if s]:
        path = work / f"C_M_156_202301_H6_{size:g}M.txt.gz"
        entry = out[f"{size:g}"] = {"generate": runner.case("generate", {"path": str(path),
                                    "rows": int(size * 1_000_000)}), "ours": [], "duckdb": [],
                                    "pandas": []}  # fmt: skip
        warehouse, database, parquet = (work / f"ingest-{size:g}M", work / "duck.duckdb",
                                        work / "pandas.parquet")  # fmt: skip
        for _ in range(n):
            entry["duckdb"].append(runner.case("duckdb", {"path": str(path), "database": str(database)}))
            database.unlink()
            shutil.rmtree(warehouse, ignore_errors=True)
            entry["ours"].append(runner.case("ours", {"path": str(path), "warehouse": str(warehouse)}))
            entry["pandas"].append(runner.case("pandas", {"path": str(path), "out": str(parquet)}))
            parquet.unlink()
        shutil.rmtree(warehouse, ignore_errors=True)
        entry["profile"] = runner.case("ours_profile", {"path": str(path), "warehouse": str(warehouse)})
        shutil.rmtree(warehouse, ignore_errors=True)
        path.unlink()
    return out


if __name__ == "__main__":
    main()
