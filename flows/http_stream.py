"""Bodies streamed to disk: the file side of :meth:`flows.http.HttpClient.get_to_file`.

A bulk download (a UN Comtrade bulk file: gzipped, hundreds of MB) is never held in memory: its
chunks go to a new temporary file in the caller's directory (named ``.download-*``) and into a
SHA-256 as they arrive, and only the first :data:`HEAD_BYTES` are kept for the answer checks
(``interpret``, HTTP statuses, error pages) and the caller's first look (a gzip magic number).
The request itself — deadlines, the bulk throughput floor, retries, budgets, errors with secrets
redacted — is the HTTP layer's (:mod:`flows.http`), exactly as for
:meth:`~flows.http.HttpClient.get`.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from flows.sources.base import FetchRequest

if TYPE_CHECKING:
    from flows.http import HttpClient

#: Bytes of a body streamed to a file (:meth:`HttpClient.get_to_file`) kept in memory for the
#: answer checks (``interpret``, error pages) and the caller's first look (a gzip magic number).
HEAD_BYTES = 64 << 10


@dataclass(frozen=True)
class FetchedFile:
    """A response body streamed to disk by :meth:`HttpClient.get_to_file`.

    ``path``: the temporary file holding the body as received; ``sha256``: its hex SHA-256
    (computed while streaming); ``size``: its length in bytes; ``head``: its first
    :data:`HEAD_BYTES` bytes; ``status`` and ``content_type`` as answered.
    """

    request: FetchRequest
    path: Path
    sha256: str
    size: int
    status: int
    content_type: str
    head: bytes


def stream_to_file(client: HttpClient, request: FetchRequest, what: str, directory: Path) -> FetchedFile:
    """Send ``request`` through ``client`` and stream its body to a new temporary file in
    ``directory`` (created if missing), hashing it on the way; ``what`` is the request as
    messages name it (secrets redacted).

    Raises what :meth:`HttpClient.get` raises (:class:`~flows.sources.base.PublisherUnreachable`,
    :class:`~flows.sources.base.AuthError`, :class:`~flows.sources.base.FetchError`, or the
    publisher's own error from ``interpret``); the file is then removed. The caller checks the
    budget first and redacts the error (:meth:`HttpClient.get_to_file`).
    """
    directory.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=directory, prefix=".download-")
    path = Path(name)
    digest, head, size = hashlib.sha256(), bytearray(), 0
    handle = os.fdopen(fd, "wb")

    def write(chunk: bytes) -> None:
        nonlocal size
        handle.write(chunk)
        digest.update(chunk)
        size += len(chunk)
        if len(head) < HEAD_BYTES:
            head.extend(chunk[: HEAD_BYTES - len(head)])

    kept = False
    try:
        try:
            response, _ = client._exchange(request, what, write=write)
        finally:
            handle.close()
        content_type = client._check(request, what, response, bytes(head))
        kept = True
    finally:
        if not kept:
            path.unlink(missing_ok=True)
    return FetchedFile(
        request=request, path=path, sha256=digest.hexdigest(), size=size,
        status=response.status_code, content_type=content_type, head=bytes(head),
    )  # fmt: skip
