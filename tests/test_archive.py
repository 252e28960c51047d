"""Tests of the raw archive (:mod:`flows.archive`): content-addressed bodies plus a manifest.

All bodies here are MADE UP (they say so); they test storage, not any trade figure.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from flows.archive import Archive, ManifestEntry
from flows.sources.base import Fetched, FetchRequest

BODY_V1 = b'{"note": "made-up payload, vintage 1", "data": [{"value": 1}], "error": ""}'
BODY_V2 = b'{"note": "made-up payload, vintage 2", "data": [{"value": 2}], "error": ""}'
T1 = datetime(2025, 12, 7, 9, 30, tzinfo=UTC)
T2 = datetime(2026, 1, 7, 9, 30, tzinfo=UTC)


def comtrade_request(**meta) -> FetchRequest:
    return FetchRequest(
        source="comtrade",
        url="https://comtradeapi.un.org/data/v1/get/C/M/HS",
        params={"reporterCode": "156", "period": "202411", "partnerCode": "0,842"},
        expect="json",
        role="data",
        reporter="CHN",
        period_start=date(2024, 11, 1),
        period_end=date(2024, 11, 1),
        meta=dict(meta),
    )


def fetched(request: FetchRequest, body: bytes) -> Fetched:
    return Fetched(request=request, body=body, status=200, content_type="application/json")


def object_files(archive: Archive) -> list[Path]:
    return sorted(p for p in archive.objects.rglob("*") if p.is_file())


def manifest_lines(archive: Archive) -> list[dict]:
    return [json.loads(line) for line in archive.manifest_path.read_text().splitlines()]


def test_identical_bodies_are_stored_once_with_one_manifest_line_each(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "raw")
    request = comtrade_request()

    sha = hashlib.sha256(BODY_V1).hexdigest()
    first = archive.store(fetched(request, BODY_V1), fetched_at=T1)
    inode = archive.path_of(sha).stat().st_ino
    second = archive.store(fetched(request, BODY_V1), fetched_at=T2)

    assert archive.path_of(sha).stat().st_ino == inode  # not written again
    assert first.sha256 == second.sha256 == sha
    assert object_files(archive) == [tmp_path / "raw" / "objects" / sha[:2] / sha]
    assert archive.path_of(sha).read_bytes() == BODY_V1
    lines = manifest_lines(archive)
    assert [line["sha256"] for line in lines] == [sha, sha]
    assert [line["fetched_at"] for line in lines] == [T1.isoformat(), T2.isoformat()]


def test_manifest_line_fields(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "raw")
    request = comtrade_request(table="made-up meta")

    entry = archive.store(fetched(request, BODY_V1), fetched_at=T1)

    (line,) = manifest_lines(archive)
    assert line == {
        "sha256": hashlib.sha256(BODY_V1).hexdigest(),
        "source": "comtrade",
        "url": "https://comtradeapi.un.org/data/v1/get/C/M/HS"
        "?partnerCode=0,842&period=202411&reporterCode=156",
        "request": request.to_json(),
        "fetched_at": "2025-12-07T09:30:00+00:00",
        "status": 200,
        "bytes": len(BODY_V1),
        "content_type": "application/json",
        "parse_error": None,
        "quarantine": None,
    }
    assert FetchRequest.from_json(line["request"]) == request
    assert ManifestEntry.from_json(line) == entry
    assert entry.request == request


def test_fetched_at_defaults_to_now_in_utc(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "raw")
    before = datetime.now(UTC)

    entry = archive.store(fetched(comtrade_request(), BODY_V1))

    assert entry.fetched_at.tzinfo is not None
    assert before <= entry.fetched_at <= datetime.now(UTC)
    assert manifest_lines(archive)[0]["fetched_at"] == entry.fetched_at.isoformat()


def test_secret_params_never_reach_the_manifest(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "raw")
    base = comtrade_request()
    request = FetchRequest(
        source=base.source,
        url=base.url,
        params={**base.params, "subscription-key": "made-up-secret-123"},
        expect="json",
    )

    entry = archive.store(fetched(request, BODY_V1), fetched_at=T1)

    assert "made-up-secret-123" not in archive.manifest_path.read_text()
    assert "subscription-key=REDACTED" in entry.url
    assert entry.request.params["subscription-key"] == "REDACTED"
    assert entry.request.params["reporterCode"] == "156"
    # the same request (secret included) still finds its archived copy
    assert archive.latest_for(request) == entry


def test_latest_for_returns_the_newest_entry_of_the_same_request(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "raw")
    request = comtrade_request(vintage="made-up")
    other_meta = comtrade_request(vintage="other")
    other_params = FetchRequest(
        source="comtrade",
        url=request.url,
        params={**request.params, "period": "202410"},
        meta=request.meta,
    )

    assert archive.latest_for(request) is None
    archive.store(fetched(request, BODY_V1), fetched_at=T1)
    newest = archive.store(fetched(request, BODY_V2), fetched_at=T2)
    archive.store(fetched(other_meta, BODY_V1), fetched_at=T2)
    archive.store(fetched(other_params, BODY_V1), fetched_at=T2)

    found = archive.latest_for(request)
    assert found == newest
    assert found.sha256 == hashlib.sha256(BODY_V2).hexdigest()
    assert archive.latest_for(comtrade_request(vintage="never fetched")) is None
    assert len(list(archive.entries())) == 4
    latest = archive.latest_by_key()
    assert set(latest) == {request.key(), other_meta.key(), other_params.key()}
    assert latest[request.key()] == newest


def test_parse_error_is_recorded_in_the_manifest(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "raw")
    problem = "comtrade: GET ...: made-up parse problem"

    entry = archive.store(fetched(comtrade_request(), BODY_V1), fetched_at=T1, parse_error=problem)

    assert entry.parse_error == problem
    assert manifest_lines(archive)[0]["parse_error"] == problem
    assert list(archive.entries()) == [entry]


def test_read_and_fetched_return_the_archived_bytes(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "raw")
    request = comtrade_request()
    entry = archive.store(fetched(request, BODY_V2), fetched_at=T1)

    assert archive.read(entry.sha256) == BODY_V2
    rehydrated = archive.fetched(entry)
    assert rehydrated == Fetched(
        request=request,
        body=BODY_V2,
        status=200,
        content_type="application/json",
        sha256=hashlib.sha256(BODY_V2).hexdigest(),
    )
    with pytest.raises(FileNotFoundError):
        archive.read("0" * 64)


def test_a_new_archive_is_empty(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "raw")

    assert list(archive.entries()) == []
    assert archive.latest_for(comtrade_request()) is None
