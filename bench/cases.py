"""One benchmark case per process: ``python -m bench.cases <case> '<json arguments>'``.

Each case prints one JSON line (``{"seconds": ..., ...}``) on stdout; :mod:`bench.run` starts
it as a child process and reads its peak resident memory from ``os.wait4``. Cases:

* ``generate`` — write a SYNTHETIC bulk file (:mod:`bench.synthetic`);
* ``ours`` — :func:`flows.detail.ingest_bulk_file` (decompress, parse, normalise, write the
  Parquet partition, check it); with ``profile`` also the time of decompression alone and of
  the check alone;
* ``duckdb`` — DuckDB's own ``read_csv`` of the same gzipped file into a table of a new
  database file (explicit column types, no sniffing), then ``CHECKPOINT``;
* ``pandas`` — :func:`bench.pandas_baseline.normalise_file`;
* ``marts_setup`` / ``marts`` — SYNTHETIC observations into ``raw.observations`` (and
  ``raw.observation_history``) of a new warehouse file; then :func:`flows.models.run_models`,
  each model's CREATE statement timed as it runs;
* ``marts_totals`` — the as-built layout: only the TOTAL rows in ``raw.observations``, the
  detail attached as a view over its Parquet partition (``marts`` with ``detail_warehouse``);
* ``refresh`` — ``flows.flow.monthly_refresh(offline=True)`` on an unchanged archive against an
  empty Prefect flow, both after a warm-up run, in one process;
* :mod:`bench.pipeline`: ``flow_setup``, ``refresh_once``, ``noop_flow`` (whole-process flow
  cases, with Prefect's temporary API or a running server), ``copy`` (the models' baseline) and
  ``download`` (a bulk body in memory or streamed to disk).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl


def _cpu() -> float:
    """CPU seconds (user + system, all threads) this process has used so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def case_generate(path: str, rows: int, **kwargs) -> dict:
    from bench.synthetic import write_bulk_file

    started = time.perf_counter()
    write_bulk_file(Path(path), rows, **kwargs)
    return {"seconds": time.perf_counter() - started, "bytes": Path(path).stat().st_size}


def case_ours_profile(path: str, warehouse: str, **request_args) -> dict:
    """:func:`case_ours`, then decompression alone and the check alone, timed apart."""
    return case_ours(path, warehouse, profile=True, **request_args)


def case_ours(path: str, warehouse: str, profile: bool = False, **request_args) -> dict:
    from bench.synthetic import synthetic_request
    from flows import detail
    from flows.sources import comtrade_bulk as bulk

    request = synthetic_request(**request_args)
    sha256 = detail.file_sha256(Path(path))  # the archive knows it; not part of the ingest
    started, cpu = time.perf_counter(), _cpu()
    result = detail.ingest_bulk_file(Path(path), request, Path(warehouse), sha256=sha256)
    out = {"seconds": time.perf_counter() - started, "cpu_seconds": _cpu() - cpu,
           "rows": result.rows, "status": result.status}  # fmt: skip
    out["parquet_bytes"] = sum(p.stat().st_size for p in Path(result.path).glob("*.parquet"))
    if profile:
        started = time.perf_counter()
        decompressed = sum(len(b) for b in bulk.iter_blocks(Path(path), request))
        out["decompress_seconds"] = time.perf_counter() - started
        out["decompressed_bytes"] = decompressed
        started = time.perf_counter()
        bulk.check_detail(pl.scan_parquet(Path(result.path) / "part-*.parquet"), request)
        out["check_seconds"] = time.perf_counter() - started
    return out


def case_duckdb(path: str, database: str) -> dict:
    from flows.sources.comtrade_bulk import BULK_COLUMNS

    types = {"String": "VARCHAR", "Int8": "TINYINT", "Int16": "SMALLINT", "Int32": "INTEGER",
             "Float64": "DOUBLE"}  # fmt: skip
    columns = {name: types[str(dtype)] for name, dtype in BULK_COLUMNS.items()}
    started, cpu = time.perf_counter(), _cpu()
    con = duckdb.connect(database)
    con.execute(
        "CREATE TABLE bulk AS SELECT * FROM read_csv(?, delim = '\t', header = true, "
        f"columns = {columns!r}, auto_detect = false, quote = '', nullstr = '')",
        [path],
    )
    con.execute("CHECKPOINT")
    rows = con.execute("SELECT count(*) FROM bulk").fetchone()[0]
    con.close()
    return {"seconds": time.perf_counter() - started, "cpu_seconds": _cpu() - cpu, "rows": rows,
            "database_bytes": Path(database).stat().st_size}  # fmt: skip


def case_pandas(path: str, out: str, **request_args) -> dict:
    from bench.pandas_baseline import normalise_file
    from bench.synthetic import synthetic_request

    request = synthetic_request(**request_args)
    started, cpu = time.perf_counter(), _cpu()
    rows = normalise_file(Path(path), request, Path(out), sha256="benchmark")
    return {"seconds": time.perf_counter() - started, "cpu_seconds": _cpu() - cpu, "rows": rows}


# --------------------------------------------------------------------------------------------
# marts


REPORTERS = ("CHN", "USA", "VNM", "IND", "DEU", "JPN", "KOR", "BRA", "MEX", "GBR")
PARTNERS = (
    "WLD", "CHN", "USA", "VNM", "IND", "DEU", "JPN", "KOR", "HKG", "TWN", "BRA", "MEX", "GBR",
    "FRA", "ITA", "NLD", "CAN", "AUS", "RUS", "SGP", "MYS", "THA", "IDN", "PHL", "SAU", "ARE",
    "TUR", "ESP", "POL", "CHE", "BEL", "SWE", "AUT", "IRL", "CZE", "ZAF", "CHL", "ARG", "NGA",
    "EGY", "PAK",
)  # fmt: skip


def synthetic_observations(rows: int) -> pl.LazyFrame:
    """SYNTHETIC canonical observations (made-up values): TOTAL and made-up HS-shaped codes for
    10 reporters × 41 partners × X/M × 24 months, unique on the observation key."""
    from bench.synthetic import commodity_codes

    codes = commodity_codes(chapters=97, headings=10, subheadings=0)
    months = [date(2023 + m // 12, m % 12 + 1, 1) for m in range(24)]
    n_c, n_p, n_f, n_m = len(codes), len(PARTNERS), 2, len(months)
    if rows > n_c * n_p * n_f * n_m * len(REPORTERS):
        raise ValueError("too many rows for unique keys")
    i = pl.col("i")
    partner = pl.lit(pl.Series(PARTNERS)).get((i // n_c) % n_p)
    flow = pl.lit(pl.Series(["X", "M"])).get((i // (n_c * n_p)) % n_f)
    month = pl.lit(pl.Series(months)).get((i // (n_c * n_p * n_f)) % n_m)
    reporter = pl.lit(pl.Series(REPORTERS)).get((i // (n_c * n_p * n_f * n_m)) % len(REPORTERS))
    commodity = pl.lit(pl.Series(codes)).get(i % n_c)
    value = ((i.hash(seed=3) % 10_000_000_000) / 100).cast(pl.Float64)
    return (
        pl.LazyFrame()
        .select(pl.int_range(0, rows, dtype=pl.Int64).alias("i"))
        .select(
            pl.lit("comtrade").alias("source"),
            reporter.alias("reporter"),
            partner.alias("partner"),
            pl.when(partner == "WLD")
            .then(pl.lit("world"))
            .otherwise(pl.lit("country"))
            .alias("partner_kind"),
            flow.alias("flow"),
            month.alias("period_start"),
            month.alias("period_end"),
            pl.lit(1, dtype=pl.Int16).alias("months"),
            pl.lit("month").alias("period_type"),
            commodity.alias("commodity"),
            pl.when(commodity == "TOTAL").then(value * 1000).otherwise(value).alias("value"),
            pl.lit("USD").alias("currency"),
            pl.when(flow == "X").then(pl.lit("FOB")).otherwise(pl.lit("CIF")).alias("valuation"),
            pl.lit("reported").alias("status"),
            pl.lit(None, dtype=pl.Float64).alias("published_yoy"),
            pl.lit("SYNTHETIC benchmark observations").alias("release"),
            pl.lit(date(2025, 1, 31)).alias("vintage"),
            pl.lit("synthetic").alias("payload_sha256"),
            pl.lit(datetime(2025, 2, 1)).alias("fetched_at"),
        )
    )


def case_marts_setup(database: str, rows: int, scratch: str) -> dict:
    started = time.perf_counter()
    count = _load_observations(
        synthetic_observations(rows), Path(scratch) / "observations.parquet", database,
        memory_limit=MEMORY_LIMIT,
    )
    return {"seconds": time.perf_counter() - started, "rows": count}


def _load_observations(
    frame: pl.LazyFrame, parquet: Path, database: str, memory_limit: str | None = None
) -> int:
    """A new warehouse at ``database`` whose raw.observations and raw.observation_history hold
    ``frame`` (via a scratch Parquet file); returns the row count."""
    from flows.build import connect_new
    from flows.parameters import ModelParameters, write_parameters
    from flows.warehouse import create_raw_tables

    frame.sink_parquet(parquet)
    con = connect_new(Path(database))
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    create_raw_tables(con)
    write_parameters(con, ModelParameters())
    for table in ("raw.observations", "raw.observation_history"):
        con.execute(f"INSERT INTO {table} SELECT * FROM read_parquet(?)", [str(parquet)])
    con.execute("CHECKPOINT")
    count = con.execute("SELECT count(*) FROM raw.observations").fetchall()[0][0]
    con.close()
    parquet.unlink()
    return count


class _TimedConnection:
    """A DuckDB connection that records how long each model's CREATE statement takes."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self.timings: dict[str, float] = {}

    def execute(self, sql: str, *args):
        started = time.perf_counter()
        result = self.con.execute(sql, *args)
        if sql.startswith(("CREATE OR REPLACE TABLE ", "CREATE OR REPLACE VIEW ")):
            self.timings[sql.split()[4]] = time.perf_counter() - started
        return result

    def __getattr__(self, name: str):
        return getattr(self.con, name)


MEMORY_LIMIT = "12GB"  # the untimed setup load only (a primary-key index cannot spill)


def case_marts(database: str, detail_warehouse: str | None = None) -> dict:
    """:func:`flows.models.run_models` on ``database``; with ``detail_warehouse`` the detail view
    is attached first and a detail query is timed after."""
    from flows.build import build_memory_limit, configure_build
    from flows.models import run_models

    con = configure_build(duckdb.connect(database), Path(database))  # as flows.build does
    if detail_warehouse:
        from flows.detail import attach_detail

        attach_detail(con, Path(detail_warehouse))
    timed = _TimedConnection(con)
    started = time.perf_counter()
    built = run_models(timed)
    con.execute("CHECKPOINT")
    out: dict = {"seconds": time.perf_counter() - started, "per_model_seconds": timed.timings,
                 "memory_limit": build_memory_limit()}  # fmt: skip
    views = {f"{schema}.{view}" for schema, view
             in con.execute("SELECT schema_name, view_name FROM duckdb_views()").fetchall()}  # fmt: skip
    # rows of the tables only: counting a view's rows would compute it (not part of the build)
    out["rows"] = {name: con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
                   for name in built if name not in views}  # fmt: skip
    out["views"] = sorted(views & set(built))
    if detail_warehouse:
        started = time.perf_counter()
        result = con.execute(DETAIL_QUERY).fetchall()
        out["detail_query_seconds"] = time.perf_counter() - started
        out["detail_query_rows"] = len(result)
        out["detail_rows"] = con.execute("SELECT count(*) FROM staging.comtrade_detail").fetchone()[0]
    con.close()
    return out


def case_export(database: str, folder: str) -> dict:
    """:func:`flows.publish.export_marts` of the models case's warehouse: every mart to Parquet,
    views (``marts.commodity_drivers``) computed on the way."""
    from flows.publish import export_marts

    started = time.perf_counter()
    written = export_marts(Path(database), Path(folder))
    out = {"seconds": time.perf_counter() - started,
           "files": {p.stem: p.stat().st_size for p in written}}  # fmt: skip
    shutil.rmtree(folder, ignore_errors=True)
    return out


#: An analyst's question answered from the detail in place: each HS chapter's exports and
#: imports by partner (publisher's breakdown totals only, one HS level).
DETAIL_QUERY = """
SELECT reporter, partner, period, commodity, flow, sum(value) AS value
FROM staging.comtrade_detail
WHERE aggr_level = 2 AND breakdown_total AND flow IN ('X', 'M')
GROUP BY ALL
ORDER BY value DESC
"""


def case_marts_totals(database: str, rows: int, scratch: str) -> dict:
    """Setup for the as-built layout: only the TOTAL rows of the synthetic observations go to
    ``raw.observations`` (headline marts need totals only; detail stays in Parquet)."""
    started = time.perf_counter()
    count = _load_observations(
        synthetic_observations(rows).filter(pl.col("commodity") == "TOTAL"),
        Path(scratch) / "totals.parquet", database,
    )
    return {"seconds": time.perf_counter() - started, "rows": count}


# --------------------------------------------------------------------------------------------
# refresh


def _synthetic_api_payload() -> tuple[dict, dict]:
    """A SYNTHETIC UN Comtrade API v1 answer (made-up values) and the request it answers."""
    records = []
    for partner, iso in ((0, "W00"), (842, "USA"), (392, "JPN")):
        for flow, value in (("X", 3_000_000_000.0 + partner), ("M", 2_000_000_000.0 + partner)):
            for month in range(1, 13):
                records.append({
                    "typeCode": "C", "freqCode": "M", "refPeriodId": int(f"2024{month:02d}01"),
                    "refYear": 2024, "refMonth": month, "period": f"2024{month:02d}",
                    "reporterCode": 156, "reporterISO": "CHN", "flowCode": flow,
                    "partnerCode": partner, "partnerISO": iso, "partner2Code": 0,
                    "classificationCode": "H6", "classificationSearchCode": "HS",
                    "cmdCode": "TOTAL", "customsCode": "C00", "motCode": 0,
                    "primaryValue": value + month, "isReported": True, "legacyEstimationFlag": 0,
                })  # fmt: skip
    payload = {"elapsedTime": "SYNTHETIC", "count": len(records), "data": records, "error": ""}
    request = {
        "source": "comtrade", "url": "http://127.0.0.1:9/comtrade/data/v1/get/C/M/HS",
        "params": {"reporterCode": "156", "partnerCode": "0,842,392", "period": ",".join(
            f"2024{m:02d}" for m in range(1, 13)), "cmdCode": "TOTAL", "flowCode": "X,M",
            "partner2Code": "0", "motCode": "0", "customsCode": "C00"},
        "expect": "json", "role": "data", "reporter": "CHN", "period_start": "2024-01-01",
        "period_end": "2024-12-01", "meta": {"freq": "M", "type": "C", "classification": "HS"},
    }  # fmt: skip
    return payload, request


def case_refresh(warehouse: str, runs: int = 5) -> dict:
    os.environ["TRADE_IMBALANCE_WAREHOUSE"] = warehouse
    from prefect import flow

    from flows.archive import Archive
    from flows.flow import monthly_refresh
    from flows.settings import get_settings
    from flows.sources.base import Fetched, FetchRequest

    get_settings.cache_clear()
    settings = get_settings()
    payload, request = _synthetic_api_payload()
    Archive(settings.raw_dir).store(
        Fetched(FetchRequest.from_json(request), json.dumps(payload).encode(), 200, "application/json")
    )

    @flow(name="bare-flow")
    def bare() -> None:
        return None

    args = dict(sources=["comtrade"], reporters=["CHN"], period_start=date(2024, 1, 1),
                period_end=date(2024, 12, 1), offline=True)  # fmt: skip
    started = time.perf_counter()
    first = monthly_refresh(**args)  # starts the API and builds + publishes the warehouse
    first_seconds = time.perf_counter() - started
    bare()  # warm-up
    refresh_times, bare_times, statuses = [], [], []
    for _ in range(runs):  # interleaved, so both see the same machine load
        started = time.perf_counter()
        statuses.append(monthly_refresh(**args)["status"])
        refresh_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        bare()
        bare_times.append(time.perf_counter() - started)
    return {
        "first_status": first["status"], "first_seconds": first_seconds, "statuses": statuses,
        "refresh_seconds": refresh_times, "bare_seconds": bare_times,
        "refresh_median": statistics.median(refresh_times), "bare_median": statistics.median(bare_times),
    }  # fmt: skip


from bench.pipeline import CASES as PIPELINE_CASES  # noqa: E402

CASES = {
    **PIPELINE_CASES,
    "generate": case_generate, "ours": case_ours, "ours_profile": case_ours_profile,
    "duckdb": case_duckdb, "pandas": case_pandas,
    "marts_setup": case_marts_setup, "marts": case_marts, "marts_totals": case_marts_totals,
    "export": case_export,
    "refresh": case_refresh,
}  # fmt: skip


def main(argv: list[str]) -> None:
    os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="bench-prefect-"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    name, arguments = argv[0], json.loads(argv[1]) if len(argv) > 1 else {}
    result = CASES[name](**arguments)
    print("BENCH-RESULT " + json.dumps(result, default=str), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
