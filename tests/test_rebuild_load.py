"""The rebuild's set-based load gives exactly the rows of one upsert per payload (issue 15).

:func:`flows.warehouse.load_observation_payloads` applies many parsed payloads at once;
:func:`flows.warehouse.load_observations` applies one. Both are run on the same payload
sequences — revisions, a re-fetch of identical content, an older vintage arriving later, other
partners, an empty payload — and ``raw.observations``, ``raw.observation_history`` and
``meta.load_log`` are compared row by row (in table order, but for the order of the history rows
within one payload, see :func:`_tables`). Every figure here is MADE UP (the
ECB exchange rates in the archive test are the bundled sample of a real ECB answer).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from flows.archive import Archive, effective_entries
from flows.build import BuildError, load_archive
from flows.fetch import parse_payload
from flows.sources import get_source, target_of
from flows.sources.base import Fetched, FetchRequest
from flows.warehouse import load_fx_rates, load_manifest, load_observation_payloads, load_observations
from tests.builders.comtrade import made_up_envelope, made_up_record
from tests.sql_harness import frame, observation, warehouse

TABLES = ("raw.observations", "raw.observation_history", "meta.load_log", "raw.fx_rates")
T1, T2, T3, T4 = (datetime(2026, 4, d, 8, 0) for d in (1, 2, 3, 4))


def _payload(values: dict[tuple[str, str, int], float], *, vintage: date | None = None,
             valuation: str | None = None):
    """A made-up payload: {(partner, flow, month of 2024): value} for China."""
    return frame(
        observation(partner=partner, flow=flow, start=date(2024, month, 1), value=value,
                    vintage=vintage, valuation=valuation)
        for (partner, flow, month), value in values.items()
    )  # fmt: skip


def _sequence():
    """(frame, sha256, fetched_at) in load order; see the module docstring."""
    first = _payload({("WLD", f, m): 100.0 * m + (f == "M") for f in ("X", "M") for m in (1, 2, 3)})
    revised = _payload({("WLD", "X", 2): 250.0, ("WLD", "X", 3): 350.0, ("WLD", "M", 3): 301.0},
                       vintage=date(2024, 5, 20))  # fmt: skip
    older = _payload({("WLD", "X", 3): 333.0, ("WLD", "X", 4): 400.0}, vintage=date(2024, 4, 20))
    partners = _payload({("USA", "X", m): 10.0 * m for m in (1, 2, 3)}, vintage=date(2024, 4, 20))
    cif = _payload({("WLD", "M", 1): 101.5}, valuation="FOB")  # the same flow on another basis
    return [
        (first, "a" * 64, T1),
        (first, "a" * 64, T1),  # identical content fetched again: the same payload
        (revised, "b" * 64, T2),  # revises February and March
        (partners, "c" * 64, T2),  # other partners: deletes nothing of the world rows
        (_payload({}), "d" * 64, T3),  # an empty answer
        (older, "e" * 64, T3),  # an older vintage arriving later still replaces (applied last)
        (first, "a" * 64, T1),  # the first content again after a revision: it wins again
        (cif, "f" * 64, T4),
    ]


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, list]:
    """Every row of :data:`TABLES` in table order (no ORDER BY: the storage order). For the
    history, the rows sorted and the payload of each row in table order: one upsert inserts its
    new history rows in the order DuckDB's anti-join yields them, not the payload's."""
    out = {t: con.execute(f"SELECT * FROM {t}").fetchall() for t in TABLES}
    history = out.pop("raw.observation_history")
    out["raw.observation_history"] = sorted(history)
    out["history payload order"] = [row[17] for row in history]
    return out


def _one_by_one(sequence) -> dict[str, list[tuple]]:
    con = warehouse()
    counts = [load_observations(con, *item) for item in sequence]
    return {**_tables(con), "counts": counts}


def test_set_based_load_equals_one_upsert_per_payload():
    sequence = _sequence()
    expected = _one_by_one(sequence)
    for size in (len(sequence), 3, 1):  # all at once, in batches of three, one by one
        con = warehouse()
        counts = []
        for i in range(0, len(sequence), size):
            counts += load_observation_payloads(con, sequence[i : i + size])
        assert {**_tables(con), "counts": counts} == expected, f"batches of {size}"
    # The rules the comparison covers, stated once on the expected rows:
    current = {(r[2], r[4], r[5], r[12]): (r[10], r[17]) for r in expected["raw.observations"]}
    assert current[("WLD", "X", date(2024, 2, 1), "FOB")] == (200.0, "a" * 64)  # back to the first
    assert current[("WLD", "X", date(2024, 3, 1), "FOB")] == (300.0, "a" * 64)
    assert current[("WLD", "X", date(2024, 4, 1), "FOB")] == (400.0, "e" * 64)  # only the older had it
    assert current[("USA", "X", date(2024, 1, 1), "FOB")] == (10.0, "c" * 64)
    assert current[("WLD", "M", date(2024, 1, 1), "FOB")] == (101.5, "f" * 64)
    history = [(r[2], r[4], r[5], r[12], r[17]) for r in expected["raw.observation_history"]]
    assert len(history) == len(set(history)) == 6 + 3 + 3 + 2 + 1  # one row per key and payload
    assert len(expected["meta.load_log"]) == 7 and expected["counts"] == [6, 6, 3, 3, 0, 2, 6, 1]


def test_a_payload_the_upsert_refuses_fails_the_same_way():
    good = _payload({("WLD", "X", 1): 1.0})
    twice = frame([observation(start=date(2024, 2, 1), value=v) for v in (2.0, 3.0)])  # a repeated key
    sequence = [(good, "a" * 64, T1), (twice, "b" * 64, T2)]
    with pytest.raises(duckdb.ConstraintException) as one:
        _one_by_one(sequence)
    con = warehouse()
    with pytest.raises(duckdb.ConstraintException) as batched:
        load_observation_payloads(con, sequence)
    assert str(batched.value) == str(one.value)
    reference = warehouse()
    load_observations(reference, good, "a" * 64, T1)
    assert _tables(con) == _tables(reference)  # the payload before it loaded, as one by one


# -- through load_archive -----------------------------------------------------------------------


def _comtrade(months: list[int], value: float) -> Fetched:
    """A MADE-UP UN Comtrade v1 answer for China's exports and imports with the world and the
    USA, 2024, the given months."""
    records = [
        made_up_record(156, partner, flow, f"2024{m:02d}", value + 1000 * partner + m)
        for m in months for partner in (0, 842) for flow in ("X", "M")
    ]  # fmt: skip
    request = FetchRequest.from_json({
        "source": "comtrade", "url": "http://127.0.0.1:9/comtrade/data/v1/get/C/M/HS",
        "params": {"reporterCode": "156", "partnerCode": "0,842", "cmdCode": "TOTAL",
                   "period": ",".join(f"2024{m:02d}" for m in months), "flowCode": "X,M"},
        "expect": "json", "role": "data", "reporter": "CHN",
        "period_start": f"2024-{months[0]:02d}-01", "period_end": f"2024-{months[-1]:02d}-01",
        "meta": {"freq": "M", "type": "C", "classification": "HS"},
    })  # fmt: skip
    return Fetched(request, made_up_envelope(records), 200, "application/json")


def _ecb() -> Fetched:
    from tests.conftest import recording_or_sample
    from tests.test_ecb import CNY_JSON, REQUEST

    return Fetched(REQUEST, recording_or_sample(CNY_JSON).read_bytes(), 200, "application/json")


def _archive(root: Path) -> Archive:
    archive = Archive(root)
    at = [datetime(2026, 4, 1, h, tzinfo=UTC) for h in range(12)]
    archive.store(_comtrade([1, 2, 3], 5e8), fetched_at=at[0])
    archive.store(_comtrade([1, 2, 3], 5e8), fetched_at=at[1])  # identical re-fetch: dropped
    archive.store(_comtrade([4, 5], 6e8), fetched_at=at[2])
    archive.store(_ecb(), fetched_at=at[3])  # exchange rates between observation payloads
    archive.store(_comtrade([1, 2, 3], 5.5e8), fetched_at=at[4])  # revised
    archive.store(_comtrade([2, 3], 7e8), fetched_at=at[5], quarantine="made-up hold")  # not loaded
    archive.store(_comtrade([4, 5], 6e8), fetched_at=at[6])  # unchanged
    archive.store(_comtrade([1, 2, 3], 5e8), fetched_at=at[7])  # the first content again
    archive.store(_comtrade([5, 6], 6.5e8), fetched_at=at[8])  # May revised in another request
    return archive


def test_load_archive_gives_the_rows_of_one_upsert_per_payload(tmp_path):
    archive = _archive(tmp_path / "raw")
    stats = load_archive(archive, tmp_path / "batched.duckdb")
    con = duckdb.connect(str(tmp_path / "batched.duckdb"), read_only=True)
    got = _tables(con)
    con.close()
    # The previous loop of load_archive: every effective entry in fetch order, one upsert each.
    reference = warehouse()
    first_seen = {}
    for entry in archive.entries():
        first_seen.setdefault(entry.sha256, entry.fetched_at)
    for entry in effective_entries(archive):
        module = get_source(entry.source)
        loader = load_fx_rates if target_of(module) == "fx_rates" else load_observations
        parsed = parse_payload(module, archive.fetched(entry))
        loader(reference, parsed, entry.sha256, first_seen[entry.sha256])
    expected = _tables(reference)
    assert got == expected
    assert stats.payloads_by_source == {"comtrade": 5, "ecb": 1}
    assert len(expected["raw.observations"]) == 6 * 4 and len(expected["raw.fx_rates"]) > 0
    assert [r[1] for r in expected["meta.load_log"]].count(next(iter(archive.entries())).sha256) == 2


def test_a_payload_that_no_longer_parses_is_named(tmp_path):
    archive = Archive(tmp_path / "raw")
    archive.store(_comtrade([1], 5e8))
    bad = _comtrade([2], 5e8)
    broken = Fetched(bad.request, json.dumps({"data": [{"period": "not a record"}]}).encode(), 200,
                     "application/json")  # fmt: skip
    entry = archive.store(broken)
    with pytest.raises(BuildError, match=f"archived payload {entry.sha256[:12]} no longer parses"):
        load_archive(archive, tmp_path / "trade.duckdb")


def test_the_manifest_is_loaded_as_archived(tmp_path):
    archive = _archive(tmp_path / "raw")
    entries = list(archive.entries())
    held = next(e for e in entries if e.quarantine)
    record = archive.accept(held.sha256[:12], "made-up reviewer")
    con = warehouse()
    load_manifest(con, entries, archive.accepted())
    got = con.execute("SELECT * FROM raw.manifest").fetchall()
    assert got == [
        (e.sha256, e.source, e.url, "data",
         json.dumps(e.request.to_json(), sort_keys=True), e.fetched_at.replace(tzinfo=None), 200,
         e.bytes, "application/json", None, e.quarantine,
         f"made-up reviewer at {record['at']}" if e is held else None)
        for e in entries
    ]  # fmt: skip
    assert len(got) == 9
