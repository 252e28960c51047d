"""The raw archive: every response body stored once by sha256, with a manifest.

Layout under ``<warehouse>/raw/``::

    objects/<sha[:2]>/<sha256>     the response body, byte for byte
    manifest.jsonl                 one JSON line per fetch (append-only)

A manifest line holds ``source``, ``url`` (query-string secrets redacted), ``request`` (the
:class:`~flows.sources.base.FetchRequest` as JSON: params, role, reporter, period, meta),
``fetched_at`` (UTC ISO-8601), ``status`` (HTTP), ``bytes``, ``content_type`` and ``sha256``.
The warehouse is a pure function of this archive: ``trade-imbalance refresh --offline``
rebuilds it from here with no network.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flows.http import redact_url
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
        )


class Archive:
    """Content-addressed store of response bodies under ``root``."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.objects = self.root / "objects"
        self.manifest_path = self.root / "manifest.jsonl"

    def path_of(self, sha256: str) -> Path:
        return self.objects / sha256[:2] / sha256

    def store(self, fetched: Fetched, fetched_at: datetime | None = None) -> ManifestEntry:
        """Write the body (once per sha256) and append a manifest line; return the entry."""
        sha = hashlib.sha256(fetched.body).hexdigest()
        target = self.path_of(sha)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(fetched.body)
            os.replace(tmp, target)
        request = fetched.request
        full_url = request.url
        if request.params:
            from urllib.parse import urlencode

            full_url += "?" + urlencode(sorted(request.params.items()), safe=",:+*")
        entry = ManifestEntry(
            sha256=sha,
            source=request.source,
            url=redact_url(full_url),
            request=request,
            fetched_at=fetched_at or datetime.now(UTC),
            status=fetched.status,
            bytes=len(fetched.body),
            content_type=fetched.content_type,
        )
        self.root.mkdir(parents=True, exist_ok=True)
        with self.manifest_path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry.to_json(), sort_keys=True) + "\n")
        return entry

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
        key = request.key()
        found = None
        for entry in self.entries():
            if entry.request.key() == key:
                found = entry
        return found

    def fetched(self, entry: ManifestEntry) -> Fetched:
        """Rehydrate an archived entry as a :class:`Fetched`."""
        return Fetched(
            request=entry.request,
            body=self.read(entry.sha256),
            status=entry.status,
            content_type=entry.content_type,
            sha256=entry.sha256,
        )
