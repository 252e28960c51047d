"""``bench/RESULTS.md`` from the figures :mod:`bench.run` collected (also ``--report-only``)."""

from __future__ import annotations

import statistics
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Targets of issue 15 (whole-process ratios against a baseline of the same run).
TARGETS = {
    "models_ratio": 3.0,  # models ÷ bare copy of the same rows
    "models_rss_mb": 2048,
    "refresh_temporary": 1.2,  # no-change refresh ÷ no-op flow, temporary API
    "refresh_server": 1.5,  # ... against a running server
    "rebuild_server": 2.0,  # rebuild of 300 payloads ÷ no-op flow, running server
    "cli_seconds": 2.0,  # status, query
    "ingest_vs_duckdb": 0.7,  # ours ÷ DuckDB's bare load
    "pandas_vs_ingest_cpu": 3.0,  # pandas CPU ÷ ours
}


def _f(value: float, digits: int = 2) -> str:
    return f"{value:,.{digits}f}"


def _ok(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _load(runs: list[dict]) -> str:
    before = [r["load_before"][0] for r in runs]
    after = [r["load_after"][0] for r in runs]
    return f"1-min load {min(before + after):.2f}–{max(before + after):.2f}"


def _pairs_table(title: str, result: dict, base: str, case: str) -> list[str]:
    lines = [
        f"| pair | {base} wall s | {case} wall s | wall ratio | {base} CPU s | {case} CPU s "
        f"| CPU ratio | {case} peak MiB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for i, (b, c) in enumerate(zip(result["baseline"], result["case"], strict=True), start=1):
        lines.append(
            f"| {i} | {_f(b['wall'])} | {_f(c['wall'])} | {c['wall'] / b['wall']:.2f} | "
            f"{_f(b['cpu'])} | {_f(c['cpu'])} | {c['cpu'] / b['cpu']:.2f} | {c['peak_rss_mb']:,.0f} |"
        )
    return [f"**{title}**", "", *lines, "",
            f"Median of the per-pair ratios: wall **{result['wall_ratio']:.2f}**, CPU "
            f"**{result['cpu_ratio']:.2f}**; {_load(result['baseline'] + result['case'])} "
            "during these runs.", ""]  # fmt: skip


def write_report(results: dict, out: Path) -> None:
    m = results["machine"]
    verdicts: list[tuple[str, str, str, str, str]] = []  # case, figure, target, verdict, RSS
    lines = [
        "# Benchmark results",
        "",
        "Written by `uv run --group bench python -m bench.run --work DIR` (one run; every ratio "
        "compares whole child processes — imports, Prefect start-up and all — with a baseline "
        "measured in the same run, as the median of per-pair ratios over interleaved pairs). "
        "Every input is **SYNTHETIC** (made-up values: `bench/synthetic.py`, "
        "`bench/cases.py`, `bench/pipeline.py`).",
        "",
        "## Machine and load",
        "",
        f"- CPU: {m['cpu']}, {m['cores']} cores; memory {m['memory_mb']:,} MiB; {m['system']}",
        f"- Python {m['python']}, polars {m['polars']}, DuckDB {m['duckdb']}, pandas "
        f"{m['pandas']}, Prefect {m['prefect']}",
        f"- Run started {results['started']}; load average (1, 5, 15 min) at start "
        f"{', '.join(_f(x) for x in m['load'])}"
        + (f", at end {', '.join(_f(x) for x in m['load_end'])}" if "load_end" in m else "")
        + "; every table gives the 1-minute load range seen before and after its runs (the "
        "machine may be shared with other sessions).",
        "- Child processes import from cached bytecode (`PYTHONPYCACHEPREFIX` in the scratch "
        "folder; this environment sets `PYTHONDONTWRITEBYTECODE`, which would make every "
        "process compile every module, as no normal install does).",
        "",
    ]
    body: list[str] = []
    models = results.get("models")
    if models and "wall_ratio" in models:
        last = models["case"][-1]
        ratio = models["wall_ratio"]
        rss = models["case_peak_rss_mb"]
        verdicts.append((f"models, {models['rows'] / 1e6:g} M rows ÷ bare copy (wall / CPU)",
                         f"{ratio:.2f} / {models['cpu_ratio']:.2f}", f"≤ {TARGETS['models_ratio']:g}",
                         _ok(ratio <= TARGETS["models_ratio"]), f"{rss:,.0f}"))  # fmt: skip
        verdicts.append(("models peak RSS", f"{rss:,.0f} MiB", f"≤ {TARGETS['models_rss_mb']:,} MiB",
                         _ok(rss <= TARGETS["models_rss_mb"]), f"{rss:,.0f}"))  # fmt: skip
        body += [
            f"## Models with {models['rows']:,} rows in `raw.observations`",
            "",
            f"Setup (not timed below): {models['rows']:,} SYNTHETIC observations (TOTAL and "
            "HS-shaped codes, 10 reporters × 41 partners × X/M × 24 months, one vintage) in "
            "`raw.observations` and `raw.observation_history` of a new warehouse "
            f"({_f(models['setup']['seconds'], 0)} s). **Baseline**: a bare copy of "
            "`raw.observations` into a new DuckDB file (`CREATE TABLE … AS SELECT *`, "
            "`CHECKPOINT`) on a connection configured like the models' (memory limit "
            f"{last.get('memory_limit', '?')}, spill folder). **Case**: `flows.models.run_models` "
            "(every model in `sql/`) and `CHECKPOINT`, on the connection `flows.build` uses.",
            "",
            *_pairs_table("Whole processes", models, "copy", "models"),
            f"Peak RSS: models {rss:,.0f} MiB, copy {models['baseline_peak_rss_mb']:,.0f} MiB. "
            "Per model (last run), slowest first:",
            "",
            "| model | seconds | rows |",
            "|---|---:|---:|",
        ]
        for name, seconds in sorted(last["per_model_seconds"].items(), key=lambda kv: -kv[1]):
            rows = "view" if name in last.get("views", ()) else f"{last['rows'].get(name, 0):,}"
            body.append(f"| {name} | {_f(seconds)} | {rows} |")
        body.append("")
        export = models.get("export")
        if export:
            sizes = ", ".join(f"{name} {size / 2**20:,.0f} MiB"
                              for name, size in sorted(export["files"].items(), key=lambda kv: -kv[1])[:3])
            body += [
                "Not in the ratio: the publish step's Parquet export of every mart "
                "(`flows.publish.export_marts`), which computes the views (`marts.commodity_drivers`), "
                f"took {_f(export['seconds'])} s wall, {_f(export['cpu'])} CPU-s, peak "
                f"{export['peak_rss_mb']:,.0f} MiB (one run; largest files: {sizes}).", ""]
    for key, title, target, what in (
        ("refresh_temporary", "No-change refresh, Prefect's temporary API",
         "refresh_temporary", "no-change refresh ÷ no-op flow (temporary API)"),
        ("refresh_server", "No-change refresh against a running Prefect server",
         "refresh_server", "no-change refresh ÷ no-op flow (running server)"),
        ("rebuild_server", "Rebuild of the archive against a running Prefect server",
         "rebuild_server", "rebuild ÷ no-op flow (running server)"),
    ):  # fmt: skip
        result = results.get(key)
        if not result or "wall_ratio" not in result:
            continue
        ratio = result["wall_ratio"]
        statuses = sorted({r.get("status", "?") for r in result["case"]})
        if key == "rebuild_server":
            setup = results.get("rebuild_setup", {})
            what = f"rebuild of {setup.get('payloads', '?')} payloads ÷ no-op flow (running server)"
            intro = (f"`monthly_refresh(offline=True, force=True)` replaying "
                     f"{setup.get('payloads', '?')} archived SYNTHETIC UN Comtrade API payloads "
                     "(one month each) into a new warehouse, models, tests, publish, report "
                     "(status " + ", ".join(statuses) + "), against a process running one empty "
                     "`@flow`; both with `PREFECT_API_URL` set to a `prefect server start` on "
                     "loopback.")  # fmt: skip
        else:
            intro = ("`monthly_refresh(offline=True)` on an unchanged archive of 12 SYNTHETIC "
                     "payloads (status " + ", ".join(statuses) + ": nothing rebuilt, re-rendered or "
                     "re-published) against a process running one empty `@flow`"
                     + (", each process starting Prefect's temporary API." if "temporary" in key
                        else ", both with `PREFECT_API_URL` set to a running server."))  # fmt: skip
        verdicts.append((what, f"{ratio:.2f} (CPU {result['cpu_ratio']:.2f})",
                         f"≤ {TARGETS[target]:g}", _ok(ratio <= TARGETS[target]),
                         f"{result['case_peak_rss_mb']:,.0f}"))  # fmt: skip
        body += [f"## {title}", "", intro, "", *_pairs_table("Whole processes", result,
                                                               "no-op flow", "refresh")]  # fmt: skip
    cli = results.get("cli")
    if cli:
        body += ["## `status` and `query` (no flow run)", "",
                 "`trade-imbalance status` and `trade-imbalance query \"SELECT … LIMIT 5\"` on the "
                 "refresh case's warehouse, 5 runs each (interleaved with a bare `python -c pass` "
                 "for scale).", "", "| command | wall s (median) | all runs | CPU s (median) | "
                 "peak MiB |", "|---|---:|---|---:|---:|"]  # fmt: skip
        for name, runs in cli.items():
            wall = statistics.median(r["wall"] for r in runs)
            body.append(f"| {name} | {_f(wall)} | {', '.join(_f(r['wall']) for r in runs)} | "
                        f"{_f(statistics.median(r['cpu'] for r in runs))} | "
                        f"{max(r['peak_rss_mb'] for r in runs):,.0f} |")  # fmt: skip
            if name != "python":
                verdicts.append((f"`{name}` wall (median of {len(runs)})", f"{wall:.2f} s",
                                 f"< {TARGETS['cli_seconds']:g} s", _ok(wall < TARGETS["cli_seconds"]),
                                 f"{max(r['peak_rss_mb'] for r in runs):,.0f}"))  # fmt: skip
        body += ["", _load([r for runs in cli.values() for r in runs]) + " during these runs.", ""]
    download = results.get("download")
    if download and "wall_ratio" in download:
        same = {r["sha256"] for r in download["baseline"] + download["case"]}
        body += ["## Bulk download: in memory vs streamed to disk", "",
                 f"A {download['mib']} MiB made-up body served over loopback, fetched through "
                 "`HttpClient.get` + `Archive.store` (baseline, the body in memory) and through "
                 "`HttpClient.get_to_file` + `Archive.store_file` (streamed, hashed on the way). "
                 f"Archived SHA-256 identical in every run: {'yes' if len(same) == 1 else 'NO'}.",
                 "", *_pairs_table("Whole processes", download, "in memory", "streamed")]  # fmt: skip
        verdicts.append(("bulk download peak RSS, streamed vs in memory",
                         f"{download['case_peak_rss_mb']:,.0f} vs "
                         f"{download['baseline_peak_rss_mb']:,.0f} MiB", "bounded (≪ body)",
                         _ok(download["case_peak_rss_mb"] < download["mib"]),
                         f"{download['case_peak_rss_mb']:,.0f}"))  # fmt: skip
    ingest = results.get("ingest")
    if ingest:
        body += ["## Bulk-file ingest", "",
                 "Same SYNTHETIC gzipped bulk file for each contender, interleaved (DuckDB, ours, "
                 "pandas). **Ours**: `flows.detail.ingest_bulk_file` (decompress, parse, normalise, "
                 "write and check the Parquet partition). **DuckDB**: `read_csv` into a table of a "
                 "new file, `CHECKPOINT`, no normalisation. **pandas**: `bench/pandas_baseline.py`, "
                 "the same normalisation in chunks. Whole-process wall and CPU; medians of 3.", "",
                 "| rows | ours wall / CPU s | DuckDB wall / CPU s | pandas wall / CPU s | ours ÷ "
                 "DuckDB wall (CPU) | pandas ÷ ours wall (CPU) | peak MiB ours / DuckDB / pandas |",
                 "|---:|---|---|---|---|---|---|"]  # fmt: skip
        for size, entry in ingest.items():
            if not entry.get("pandas"):
                continue
            med = {k: {x: statistics.median(r[x] for r in entry[k]) for x in ("wall", "cpu")}
                   for k in ("ours", "duckdb", "pandas")}  # fmt: skip
            ours, duck, pandas = entry["ours"], entry["duckdb"], entry["pandas"]
            per_pair = {
                "duck": [o["wall"] / d["wall"] for o, d in zip(ours, duck, strict=True)],
                "duck_cpu": [o["cpu"] / d["cpu"] for o, d in zip(ours, duck, strict=True)],
                "pandas": [p["wall"] / o["wall"] for o, p in zip(ours, pandas, strict=True)],
                "pandas_cpu": [p["cpu"] / o["cpu"] for o, p in zip(ours, pandas, strict=True)],
            }
            r = {k: statistics.median(v) for k, v in per_pair.items()}
            peak = {k: max(x["peak_rss_mb"] for x in entry[k]) for k in ("ours", "duckdb", "pandas")}
            cells = " | ".join(f"{_f(med[k]['wall'], 1)} / {_f(med[k]['cpu'], 1)}"
                               for k in ("ours", "duckdb", "pandas"))  # fmt: skip
            body.append(
                f"| {int(float(size) * 1e6):,} | {cells} | "
                f"{r['duck']:.2f} ({r['duck_cpu']:.2f}) | {r['pandas']:.2f} ({r['pandas_cpu']:.2f}) | "
                f"{peak['ours']:,.0f} / {peak['duckdb']:,.0f} / {peak['pandas']:,.0f} |"
            )
            verdicts.append((f"ingest {size} M rows: ours ÷ DuckDB (wall)", f"{r['duck']:.2f}",
                             f"≤ {TARGETS['ingest_vs_duckdb']:g}",
                             _ok(r["duck"] <= TARGETS["ingest_vs_duckdb"]),
                             f"{peak['ours']:,.0f}"))  # fmt: skip
            verdicts.append((f"ingest {size} M rows: pandas ÷ ours (CPU)", f"{r['pandas_cpu']:.2f}",
                             f"≥ {TARGETS['pandas_vs_ingest_cpu']:g}",
                             _ok(r["pandas_cpu"] >= TARGETS["pandas_vs_ingest_cpu"]),
                             f"{peak['ours']:,.0f}"))  # fmt: skip
        runs = [x for e in ingest.values() for k in ("ours", "duckdb", "pandas") for x in e.get(k, [])]
        if runs:
            body += ["", _load(runs) + " during these runs.", ""]
        biggest = max(ingest, key=float)
        profile = ingest[biggest].get("profile", {})
        if "decompress_seconds" in profile:
            body += [f"Profile at {biggest} M rows (separate run, in-process timer): ingest "
                     f"{_f(profile['seconds'], 1)} s using {_f(profile['cpu_seconds'], 1)} CPU-s; "
                     f"decompressing {profile['decompressed_bytes'] / 2**30:.2f} GiB alone "
                     f"{_f(profile['decompress_seconds'], 1)} s; the check of the written "
                     f"partition {_f(profile['check_seconds'], 1)} s.", ""]  # fmt: skip
    summary = ["## Summary", "", "| case | figure | target | verdict | peak RSS MiB |",
               "|---|---|---|---|---:|"]  # fmt: skip
    summary += [f"| {a} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in verdicts]
    lines += summary + [""] + body
    if "total_seconds" in results:
        lines += [f"Whole run: {results['total_seconds'] / 60:.1f} minutes.", ""]
    analysis = ROOT / "bench" / "ANALYSIS.md"
    if analysis.exists():
        lines += [analysis.read_text(encoding="utf-8").strip(), ""]
    out.write_text("\n".join(lines), encoding="utf-8")
