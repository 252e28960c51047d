"""What the probe saw: each HTTP reply, and how it is written to a ``--record`` folder.

A :class:`Reply` is one HTTP answer as received (status, headers, body) with the request that
asked for it. :func:`write_record` saves every reply of a probe run so it can become a test
fixture:

* one file per request, ``<publisher>__<label>.<ext>`` — the body exactly as received (after
  secret scrubbing, below); ``ext`` from the Content-Type (``json``, ``xml``, ``csv``, ``html``,
  ``txt``; ``bin`` otherwise, ``empty`` for an empty body);
* ``index.json`` — a list with, per request: ``publisher``, ``label`` (``index-1``, ``data``,
  or the live check's label), ``file``, ``request`` (``GET url?params``, redacted), the request
  headers the contract sets (``Accept``; never a key), ``status``, the response ``headers``,
  ``seconds``, ``sha256`` of the file, ``error`` (what the probe made of the answer) and
  ``recorded_at`` (UTC, ISO 8601).

Secrets are never written: API keys are added by the HTTP layer at send time and are not part of
a :class:`~flows.sources.base.FetchRequest`; URLs go through :func:`flows.http.redact_url`;
response headers that carry credentials or cookies are dropped (:data:`DROPPED_HEADERS`); and
every configured key value (UN Comtrade, US Census, IMF) is replaced by ``REDACTED`` wherever it
would appear in a file — a publisher echoing the query string in an error page included.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flows.http import SECRET_PARAMS, redact_url
from flows.sources.base import FetchRequest

#: Response headers never recorded (credentials, cookies, tracing ids tied to a session).
DROPPED_HEADERS = frozenset({"set-cookie", "cookie", "authorization", "proxy-authorization",
                             "www-authenticate-token"})
#: Settings holding secrets; their values are scrubbed from everything recorded.
SECRET_SETTINGS = ("comtrade_api_key", "census_api_key", "imf_api_key")
_EXTENSIONS = (("json", "json"), ("csv", "csv"), ("html", "html"), ("xml", "xml"),
               ("text/plain", "txt"))


@dataclass
class Reply:
    """One HTTP answer: ``status`` (``None`` when nothing came back), ``headers``, ``body``,
    the ``request`` that asked for it, ``what`` (``GET url?params``, redacted), ``seconds``
    taken and ``error`` (the probe's reading of it, or of the failure)."""

    publisher: str
    label: str
    request: FetchRequest
    what: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    seconds: float = 0.0
    error: str | None = None

    @property
    def content_type(self) -> str:
        return next((v for k, v in self.headers.items() if k.lower() == "content-type"), "")

    def text(self, limit: int = 200) -> str:
        """The body as one line, at most ``limit`` characters."""
        text = re.sub(r"\s+", " ", self.body[: limit * 2].decode("utf-8", errors="replace")).strip()
        return text[:limit] + ("…" if len(text) > limit else "")


def safe_headers(headers: Mapping[str, Any]) -> dict[str, str]:
    """``headers`` without credentials or cookies (:data:`DROPPED_HEADERS`, secret-looking names)."""
    return {
        str(k): str(v) for k, v in headers.items()
        if k.lower() not in DROPPED_HEADERS and not SECRET_PARAMS.search(k)
    }


def secrets_of(settings: Any) -> list[str]:
    """The configured key values (never printed; used to scrub recorded files)."""
    values = []
    for name in SECRET_SETTINGS:
        secret = getattr(settings, name, None)
        if secret is None:
            continue
        value = secret.get_secret_value() if hasattr(secret, "get_secret_value") else str(secret)
        if value:
            values.append(value)
    return values


def scrub(data: bytes, secrets: Iterable[str]) -> bytes:
    """``data`` with every secret value replaced by ``REDACTED``."""
    for secret in secrets:
        data = data.replace(secret.encode(), b"REDACTED")
    return data


def write_record(folder: Path, replies: list[Reply], secrets: Iterable[str]) -> list[Path]:
    """Write ``replies`` to ``folder`` (created) and merge them into its ``index.json``.

    Returns the paths written (bodies, then the index). An existing ``index.json`` is extended,
    so several probe runs may record into one folder; a file name already taken gets ``-2``,
    ``-3``, ….
    """
    secrets = [s for s in secrets if s]
    folder.mkdir(parents=True, exist_ok=True)
    index_path = folder / "index.json"
    index: list[dict[str, Any]] = []
    if index_path.exists():
        try:
            index = json.loads(index_path.read_text("utf-8"))
        except ValueError:
            index = []
    written: list[Path] = []
    now = datetime.now(UTC).isoformat(timespec="seconds")
    for reply in replies:
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{reply.publisher}__{reply.label}").strip("-")
        path = folder / f"{stem}.{_extension(reply)}"
        number = 2
        while path.exists():
            path = folder / f"{stem}-{number}.{_extension(reply)}"
            number += 1
        body = scrub(reply.body, secrets)
        path.write_bytes(body)
        written.append(path)
        entry = {
            "publisher": reply.publisher,
            "label": reply.label,
            "file": path.name,
            "request": redact_url(reply.what),
            "request_headers": dict(reply.request.headers),
            "status": reply.status,
            "headers": safe_headers(reply.headers),
            "seconds": round(reply.seconds, 3),
            "sha256": hashlib.sha256(body).hexdigest(),
            "error": reply.error,
            "recorded_at": now,
        }
        index.append(json.loads(scrub(json.dumps(entry).encode(), secrets)))
    index_path.write_text(json.dumps(index, indent=2, ensure_ascii=False) + "\n", "utf-8")
    written.append(index_path)
    return written


def _extension(reply: Reply) -> str:
    if not reply.body:
        return "empty"
    kind = reply.content_type.lower()
    for marker, ext in _EXTENSIONS:
        if marker in kind:
            return ext
    head = reply.body.lstrip()[:1]
    return {b"{": "json", b"[": "json", b"<": "xml"}.get(head, "bin")
