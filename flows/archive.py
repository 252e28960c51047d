"""The raw archive: every response body stored once by sha256, with a manifest.

Layout under ``<warehouse>/raw/``::

    objects/<sha[:2]>/<sha256>     the response body, byte for byte
    manifest.jsonl                 one JSON line per fetch (append-only)

A manifest line holds ``source``, ``url`` (query-string secrets redacted), ``request`` (the
:class:`~flows.sources.base.FetchRequest` as JSON: params, role, reporter, period, meta),
``fetched_at`` (UTC ISO-8601), ``status`` (HTTP), ``bytes``, ``content_type`` and ``sha256``.
Secret-looking query parameters (:data:`flows.http.SECRET_PARAMS`, e.g. ``subscription-key``,
``key``) are stored as ``REDACTED`` in both ``url`` and ``request.params``.
The warehouse is a pure function of this archive: ``trade-imbalance refresh --offline``
rebuilds it from here with no network.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from flows.faults import kill_point
from flows.http import SECRET_PARAMS, redact_url
from flows.sources.base import Fetched, FetchRequest


@dataclass(frozen=True)
class ManifestEntry:
    """One archived fetch."""

    sha256: str
    source: str
    url: str
    request: FetchRequest
    fetched_at: datetime
    status: int
    bytes: int
    content_type: str
    parse_error: str | None = None
    #: Why a payload that parses is held back (:mod:`flows.quarantine`); None when loadable.
    quarantine: str | None = None

    def to_json(self) -> dict:
        return {
            "sha256": self.sha256,
            "source": self.source,
            "url": self.url,
            "request": self.request.to_json(),
            "fetched_at": self.fetched_at.isoformat(),
            "status": self.status,
            "bytes": self.bytes,
            "content_type": self.content_type,
            "parse_error": self.parse_error,
            "quarantine": self.quarantine,
        }

    @classmethod
    def from_json(cls, data: dict) -> ManifestEntry:
        return cls(
            sha256=data["sha256"],
            source=data["source"],
            url=data["url"],
            request=FetchRequest.from_json(data["request"]),
            fetched_at=datetime.fromisoformat(data["fetched_at"]),
            status=int(data["status"]),
            bytes=int(data["bytes"]),
            content_type=data.get("content_type", ""),
            parse_error=data.get("parse_error"),
            quarantine=data.get("quarantine"),
        )


def _without_secrets(request: FetchRequest) -> FetchRequest:
    """``request`` with the values of secret-looking params replaced by ``REDACTED``.

    Params should never carry secrets (keys go in headers), but if one does it must not reach the
    manifest; archived copies are matched on this redacted form (see :meth:`Archive.latest_for`).
    """
    if not any(SECRET_PARAMS.search(name) for name in request.params):
        return request
    params = {k: "REDACTED" if SECRET_PARAMS.search(k) else v for k, v in request.params.items()}
    return replace(request, params=params)


class Archive:
    """Content-addressed store of response bodies under ``root``."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.objects = self.root / "objects"
        self.manifest_path = self.root / "manifest.jsonl"

    def path_of(self, sha256: str) -> Path:
        return self.objects / sha256[:2] / sha256

    def store(
        self,
        fetched: Fetched,
        fetched_at: datetime | None = None,
        parse_error: str | None = None,
        quarantine: str | None = None,
    ) -> ManifestEntry:
        """Write the body (once per sha256) and append a manifest line; return the entry.

        ``parse_error`` records why a received payload was rejected by its parser; such entries
        stay in the archive as evidence but are never loaded. ``quarantine`` records why a payload
        that parses is held back (:mod:`flows.quarantine`): not loaded unless accepted.
        """
        sha = hashlib.sha256(fetched.body).hexdigest()
        target = self.path_of(sha)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(fetched.body)
            os.replace(tmp, target)
        kill_point("archive:body-written")
        return self._record(
            fetched.request, sha, len(fetched.body), fetched.status, fetched.content_type,
            fetched_at, parse_error, quarantine,
        )  # fmt: skip

    def store_file(
        self,
        request: FetchRequest,
        path: Path,
        *,
        sha256: str | None = None,
        status: int = 200,
        content_type: str = "",
        fetched_at: datetime | None = None,
        parse_error: str | None = None,
    ) -> ManifestEntry:
        """:meth:`store` for a body already on disk at ``path`` (a streamed bulk download,
        :meth:`flows.http.HttpClient.get_to_file`), never read into memory.

        ``sha256`` is the body's hash when the caller computed it while streaming (else the file
        is hashed in blocks). The file is moved into place (renamed: keep it on the archive's
        file system, e.g. under :meth:`incoming`) or, when the archive already holds that
        content, deleted; ``path`` may also be the archived object itself (a new manifest line
        for it, e.g. with a ``parse_error``). Returns the manifest entry.
        """
        path = Path(path)
        sha = sha256 or _file_sha256(path)
        target = self.path_of(sha)
        size = path.stat().st_size
        if path.resolve() != target.resolve():
            if target.exists():
                path.unlink()
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, target)
        kill_point("archive:body-written")
        return self._record(request, sha, size, status, content_type, fetched_at, parse_error, None)

    def incoming(self) -> Path:
        """A folder on the archive's file system for downloads in progress (see
        :meth:`store_file`); created if missing."""
        folder = self.root / ".incoming"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _record(
        self,
        request: FetchRequest,
        sha: str,
        size: int,
        status: int,
        content_type: str,
        fetched_at: datetime | None,
        parse_error: str | None,
        quarantine: str | None,
    ) -> ManifestEntry:
        """Append the manifest line of an object already written; return the entry."""
        request = _without_secrets(request)
        full_url = request.url
        if request.params:
            full_url += "?" + urlencode(sorted(request.params.items()), safe=",:+*")
        entry = ManifestEntry(
            sha256=sha,
            source=request.source,
            url=redact_url(full_url),
            request=request,
            fetched_at=fetched_at or datetime.now(UTC),
            status=status,
            bytes=size,
            content_type=content_type,
            parse_error=parse_error,
            quarantine=quarantine,
        )
        self.root.mkdir(parents=True, exist_ok=True)
        with self.manifest_path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry.to_json(), sort_keys=True) + "\n")
        kill_point("archive:manifest-written")
        return entry

    @property
    def accepted_path(self) -> Path:
        return self.root / "accepted.jsonl"

    def accepted(self) -> dict[str, dict]:
        """Quarantined payloads a person accepted: sha256 → ``{sha256, who, at, reason}``."""
        if not self.accepted_path.exists():
            return {}
        out = {}
        with self.accepted_path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    record = json.loads(line)
                    out[record["sha256"]] = record
        return out

    def accept(self, prefix: str, who: str) -> dict:
        """Accept the quarantined payload whose sha256 starts with ``prefix`` (at least 8 hex
        characters): every later build loads it. Returns the record written.

        Raises ``LookupError`` when no quarantined payload (or more than one) matches, or when
        the payload was rejected by its parser (it cannot be loaded at all).
        """
        prefix = prefix.strip().lower()
        if len(prefix) < 8:
            raise LookupError("give at least 8 characters of the payload hash")
        matches = {e.sha256: e for e in self.entries() if e.sha256.startswith(prefix)}
        if not matches:
            raise LookupError(f"no archived payload has a hash starting with {prefix}")
        if len(matches) > 1:
            raise LookupError(f"{len(matches)} payloads match {prefix}: give more characters")
        entry = next(iter(matches.values()))
        held = [e for e in self.entries() if e.sha256 == entry.sha256 and e.quarantine]
        if not held:
            problem = entry.parse_error or "it is not quarantined"
            raise LookupError(f"payload {entry.sha256[:12]} cannot be accepted: {problem}")
        record = {
            "sha256": entry.sha256,
            "who": who,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "reason": held[-1].quarantine,
        }
        self.root.mkdir(parents=True, exist_ok=True)
        with self.accepted_path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, sort_keys=True) + "\n")
        return record

    def read(self, sha256: str) -> bytes:
        """The archived body with this sha256 (raises ``FileNotFoundError``)."""
        return self.path_of(sha256).read_bytes()

    def entries(self) -> Iterator[ManifestEntry]:
        """Manifest entries in the order they were fetched."""
        if not self.manifest_path.exists():
            return
        with self.manifest_path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield ManifestEntry.from_json(json.loads(line))

    def latest_for(self, request: FetchRequest) -> ManifestEntry | None:
        """The most recent archived fetch of the same request (URL, params, meta), if any."""
        key = _without_secrets(request).key()
        found = None
        for entry in self.entries():
            if entry.request.key() == key:
                found = entry
        return found

    def latest_by_key(self) -> dict[str, ManifestEntry]:
        """The most recent archived fetch per request identity (one pass over the manifest)."""
        return {entry.request.key(): entry for entry in self.entries()}

    def fetched(self, entry: ManifestEntry) -> Fetched:
        """Rehydrate an archived entry as a :class:`Fetched`."""
        return Fetched(
            request=entry.request,
            body=self.read(entry.sha256),
            status=entry.status,
            content_type=entry.content_type,
            sha256=entry.sha256,
        )


def _file_sha256(path: Path, block: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(block):
            digest.update(chunk)
    return digest.hexdigest()


def accepted_data_entries(archive: Archive) -> list[ManifestEntry]:
    """Archived data payloads that were received (HTTP 200), accepted by their parser and not
    quarantined (or quarantined and then accepted by a person: ``trade-imbalance accept``)."""
    accepted = archive.accepted()
    return [
        e
        for e in archive.entries()
        if e.request.role == "data" and e.status == 200 and e.parse_error is None
        and (e.quarantine is None or e.sha256 in accepted)
    ]


def effective_entries(archive: Archive) -> list[ManifestEntry]:
    """:func:`accepted_data_entries` without identical re-fetches: an entry whose body equals the
    one last accepted for the same request changes nothing and is dropped."""
    latest: dict[str, str] = {}
    kept = []
    for entry in accepted_data_entries(archive):
        key = entry.request.key()
        if latest.get(key) != entry.sha256:
            latest[key] = entry.sha256
            kept.append(entry)
    return kept
