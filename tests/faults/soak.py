"""Kill -9 at every named step of a refresh, and read-only queries during publishes (issue 12
part 5; not in CI — run before each submission and copy the figures to docs/RELIABILITY.md)::

    uv run python -m tests.faults.soak [--rounds 1] [--publishes 5] [--readers 4]

A loopback strict double (:class:`tests.faults.harness.CorruptingPublishers`, no fault) serves
the ECB and Census windows of :data:`tests.faults.harness.SCOPES`; each refresh is the real CLI
(``trade-imbalance refresh``) in a child process.

1. **Kills.** A clean refresh publishes a first warehouse (Census 2024-12 and the ECB rates of
   that month). Then, for each step of :data:`flows.faults.STEPS`, on a copy of it, a forced
   refresh runs with ``TRADE_IMBALANCE_KILL_AT=<step>`` and must die of ``SIGKILL`` there.
   After each kill: the published ``trade.duckdb`` opens read-only with the row counts
   published before (the data did not change); every manifest line parses; every archived
   payload's file hashes to its name; the writer lock is free; and a refresh without a kill
   then exits 0 with the same row counts. Any failure of these is a *corruption*.
2. **Readers during publishes.** ``--readers`` threads open ``trade.duckdb`` read-only and query
   it in a loop while ``--publishes`` forced rebuilds (``trade-imbalance rebuild``) publish; every
   failed query is a *reader error*.

Prints the figures; exit status 1 when a kill did not happen, or any corruption or reader error.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb

from flows.faults import ENV, STEPS
from tests.faults.harness import SCOPES, Loopback

SOURCES = ("ecb", "census")
#: The CLI as installed beside this interpreter (``trade-imbalance``).
CLI = [sys.executable, "-c", "from flows.cli import app; app()"]
QUERIES = (
    "SELECT count(*), sum(value) FROM raw.observations",
    "SELECT count(*) FROM raw.fx_rates",
    "SELECT fingerprint FROM meta.build_info",
    "SELECT count(*) FROM marts.source_coverage",
)


def _env(loopback: Loopback, warehouse: Path, prefect_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADE_IMBALANCE_")}
    if "TRADE_IMBALANCE_REAL_DATA" in os.environ:
        env["TRADE_IMBALANCE_REAL_DATA"] = os.environ["TRADE_IMBALANCE_REAL_DATA"]
    env.update({
        "TRADE_IMBALANCE_WAREHOUSE": str(warehouse),
        "TRADE_IMBALANCE_REQUESTS_PER_MINUTE": "60000",
        "TRADE_IMBALANCE_BACKOFF_FACTOR": "0.01",
        "TRADE_IMBALANCE_TODAY": "2026-12-01",
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    })
    for name in SOURCES:
        env[f"TRADE_IMBALANCE_{name.upper()}_BASE_URL"] = f"{loopback.base}/{name}"
    return env


def _refresh_args(force: bool) -> list[str]:
    month = SCOPES["census"].period_end  # one month: the recorded Census 2024-12, ECB's rates
    args = [*CLI, "refresh", "--reporter", "USA", "--from", f"{month:%Y-%m}", "--to", f"{month:%Y-%m}"]
    for name in SOURCES:
        args += ["--source", name]
    return args + (["--force"] if force else [])


def _run(args: list[str], env: dict[str, str], kill_at: str | None = None) -> subprocess.CompletedProcess:
    """Run the CLI in its own process group; output to files, not pipes (a killed refresh leaves
    Prefect's ephemeral API server behind, which would hold a pipe open); afterwards the group
    is killed, so nothing a killed refresh started outlives the trial."""
    env = dict(env)
    if kill_at:
        env[ENV] = kill_at
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(args, env=env, stdout=out, stderr=err, start_new_session=True)
        try:
            code = child.wait(timeout=600)
        finally:
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(args, code, out.read(), err.read())


def _state(warehouse: Path) -> dict:
    """Fingerprint and row counts of the published warehouse (raises when it does not open)."""
    con = duckdb.connect(str(warehouse / "trade.duckdb"), read_only=True)
    try:
        return {
            "fingerprint": con.execute("SELECT fingerprint FROM meta.build_info").fetchone()[0],
            "observations": con.execute("SELECT count(*) FROM raw.observations").fetchone()[0],
            "fx_rates": con.execute("SELECT count(*) FROM raw.fx_rates").fetchone()[0],
        }
    finally:
        con.close()


def _archive_problems(warehouse: Path) -> list[str]:
    """Manifest lines that do not parse, payload files whose content does not hash to their name."""
    problems = []
    raw = warehouse / "raw"
    manifest = raw / "manifest.jsonl"
    if manifest.exists():
        for number, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), 1):
            try:
                json.loads(line)
            except ValueError:
                problems.append(f"manifest line {number} does not parse")
    for path in raw.rglob("*"):
        if path.is_file() and len(path.name.split(".")[0]) == 64:
            if hashlib.sha256(path.read_bytes()).hexdigest() != path.name.split(".")[0]:
                problems.append(f"{path.name} does not hash to its name")
    return problems


def _lock_free(warehouse: Path) -> bool:
    from flows.publish import WriterBusy, writer_lock

    try:
        with writer_lock(warehouse, timeout=0):
            return True
    except WriterBusy:
        return False


def _kill_one(loopback: Loopback, root: Path, seed: Path, before: dict, name: str, step: str) -> dict:
    """Copy the seeded warehouse, kill a forced refresh at ``step``, check what is left."""
    warehouse = root / name
    shutil.copytree(seed, warehouse)
    env = _env(loopback, warehouse, root / f"prefect-{name}")
    print(f"kill at {step} …", file=sys.stderr, flush=True)
    killed = _run(_refresh_args(force=True), env, kill_at=step)
    print(f"  {step}: exit {killed.returncode}", file=sys.stderr, flush=True)
    if killed.returncode != -signal.SIGKILL:
        return {"missed": f"{step}: exit {killed.returncode}", "problems": []}
    problems = [f"{step}: {p}" for p in _archive_problems(warehouse)]
    try:
        after = _state(warehouse)
        if (after["observations"], after["fx_rates"]) != (before["observations"], before["fx_rates"]):
            problems.append(f"{step}: published warehouse changed to {after} from {before}")
    except duckdb.Error as exc:
        problems.append(f"{step}: published warehouse does not open: {exc}")
    if not _lock_free(warehouse):
        problems.append(f"{step}: writer lock still held")
    print(f"  {step}: checked, next refresh …", file=sys.stderr, flush=True)
    again = _run(_refresh_args(force=False), env)
    if again.returncode != 0:
        problems.append(f"{step}: the next refresh exited {again.returncode}: {again.stdout[-500:]}"
                        f"{again.stderr[-500:]}")
    else:
        final = _state(warehouse)
        if (final["observations"], final["fx_rates"]) != (before["observations"], before["fx_rates"]):
            problems.append(f"{step}: after the next refresh {final} != {before}")
    return {"missed": None, "problems": problems}


def kills(loopback: Loopback, root: Path, rounds: int, workers: int) -> dict:
    """One clean refresh seeds a warehouse; each (round, step) works on a copy of it."""
    started = time.monotonic()
    seed = root / "seed"
    first = _run(_refresh_args(force=False), _env(loopback, seed, root / "prefect-seed"))
    if first.returncode != 0:
        raise SystemExit(f"the clean refresh failed ({first.returncode}):\n{first.stdout[-2000:]}"
                         f"{first.stderr[-2000:]}")
    before = _state(seed)
    jobs = [(f"kill-{r}-{step.replace(':', '-')}", step) for r in range(rounds) for step in STEPS]
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(lambda job: _kill_one(loopback, root, seed, before, *job), jobs))
    return {
        "kills": sum(r["missed"] is None for r in results),
        "kills_missed": [r["missed"] for r in results if r["missed"]],
        "corruptions": [p for r in results for p in r["problems"]],
        "seconds": time.monotonic() - started,
        "before": before,
    }


def readers(loopback: Loopback, root: Path, publishes: int, threads: int) -> dict:
    warehouse = root / "readers"
    env = _env(loopback, warehouse, root / "prefect")
    first = _run(_refresh_args(force=False), env)
    if first.returncode != 0:
        raise SystemExit(f"the clean refresh failed ({first.returncode}):\n{first.stderr[-3000:]}")
    database = warehouse / "trade.duckdb"
    stop = threading.Event()
    counts = {"queries": 0, "errors": []}
    lock = threading.Lock()

    def read(number: int) -> None:
        i = number
        while not stop.is_set():
            sql = QUERIES[i % len(QUERIES)]
            i += 1
            try:
                con = duckdb.connect(str(database), read_only=True)
                try:
                    con.execute(sql).fetchall()
                finally:
                    con.close()
                with lock:
                    counts["queries"] += 1
            except Exception as exc:  # noqa: BLE001 - every failure is a reader error
                with lock:
                    counts["errors"].append(f"{type(exc).__name__}: {exc}"[:300])

    workers = [threading.Thread(target=read, args=(n,), daemon=True) for n in range(threads)]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    published = 0
    for _ in range(publishes):
        result = _run([*CLI, "rebuild"], env)
        published += result.returncode == 0
    stop.set()
    for worker in workers:
        worker.join()
    return {"publishes": published, "queries": counts["queries"], "reader_errors": counts["errors"],
            "seconds": time.monotonic() - started}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=1, help="kills per step")
    parser.add_argument("--publishes", type=int, default=5)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--workers", type=int, default=3, help="kill trials run side by side")
    args = parser.parse_args(argv)
    loopback = Loopback()
    try:
        with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
            root = Path(tmp)
            killed = kills(loopback, root, args.rounds, args.workers)
            read = readers(loopback, root, args.publishes, args.readers)
    finally:
        loopback.close()
    print(f"steps: {len(STEPS)} ({', '.join(STEPS)}); rounds: {args.rounds}")
    print(f"kills: {killed['kills']} (missed: {len(killed['kills_missed'])}) in {killed['seconds']:.0f} s")
    for line in killed["kills_missed"]:
        print(f"  missed: {line}")
    print(f"corruptions: {len(killed['corruptions'])}")
    for line in killed["corruptions"]:
        print(f"  {line}")
    print(f"publishes: {read['publishes']} of {args.publishes}; read-only queries: {read['queries']}; "
          f"reader errors: {len(read['reader_errors'])} in {read['seconds']:.0f} s")
    for line in read["reader_errors"][:10]:
        print(f"  {line}")
    bad = killed["kills_missed"] or killed["corruptions"] or read["reader_errors"]
    return 1 if bad or read["queries"] < 1000 else 0


if __name__ == "__main__":
    sys.exit(main())
