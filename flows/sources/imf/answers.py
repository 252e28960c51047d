"""IMF IMTS: the IMF's own reading of an answer, before the generic HTTP checks.

Rules (:func:`interpret`; each rule's confidence):

* A JSON body (SDMX-JSON 2.0, what the API sends without an XML Accept) is never handed to the
  XML parser: :class:`FetchError` naming the format — *confirmed* (see Accept in :mod:`flows.sources.imf`).
* "No data": HTTP 404, an SDMX error message with code ``100`` / "No Results Found" /
  ``NoResultsFound``, an empty body, or a ``StructureSpecificData`` without any ``Series`` —
  the SDMX-REST standard answers 404 with error 100 for an empty result (sdmx-twg/sdmx-rest
  ``v2_1/ws/rest/docs/4_7_errors.md``); which of these shapes ``api.imf.org`` sends is
  *unverified*, so all are read the same way. When the request's first month is not yet due
  (:func:`flows.release_calendar.is_due`) → :class:`NotYetReleased`; when it is due →
  :class:`MissingRelease`.
* Any other 4xx (except 401/403, left to the generic :class:`AuthError`, and 429) →
  :class:`RequestRefused` keeping the IMF's own message (SDMX-ML ``ErrorMessage`` text, SDMX-JSON
  ``errors[].title/detail``, ``message``, or the body text) — the status/body shapes are
  *unverified* (SDMX-REST: 400 + error 140 syntax / 150 semantic).
"""

from __future__ import annotations

import json
import re

from lxml import etree

from flows.release_calendar import is_due
from flows.sources.base import (
    Answer,
    FetchError,
    MissingRelease,
    NotYetReleased,
    RequestRefused,
    SourceError,
)

from .common import ACCEPT, NAME

_NO_RESULTS = re.compile(r"no\s*results?\s*found|noresultsfound|no\s*records?\s*found", re.I)


def _looks_json(answer: Answer) -> bool:
    head = answer.body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return head in (b"{", b"[") or "json" in answer.content_type.lower()


def _imf_message(answer: Answer) -> tuple[str | None, str]:
    """``(code, message)`` of an IMF error answer, in its own words (SDMX-ML ``ErrorMessage``,
    SDMX-JSON ``errors``, ``message``/``detail`` fields, or the body text)."""
    body = answer.body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if body.startswith(b"<"):
        try:
            root = etree.fromstring(
                body, etree.XMLParser(resolve_entities=False, no_network=True)
            )
        except (etree.XMLSyntaxError, ValueError):
            return None, answer.text()
        for element in root.iter("{*}ErrorMessage"):
            text = " ".join(t.strip() for t in element.itertext() if t.strip())
            return element.get("code"), text or answer.text()
        return None, " ".join(t.strip() for t in root.itertext() if t.strip())[:300]
    if body.startswith(b"{"):
        try:
            data = json.loads(body)
        except ValueError:
            return None, answer.text()
        errors = data.get("errors") if isinstance(data, dict) else None
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            parts = [str(first[k]) for k in ("title", "detail") if first.get(k)]
            code = first.get("code")
            return (str(code) if code is not None else None), " ".join(parts) or answer.text()
        if isinstance(data, dict):
            for field_name in ("message", "detail", "title", "error"):
                if data.get(field_name):
                    return None, str(data[field_name])
    return None, answer.text()


def _empty_kind(answer: Answer) -> str | None:
    """``"StructureSpecificData"`` for an XML data message without any ``Series`` (an empty
    result), ``"Error"`` for an SDMX error message, else None (data, or not XML)."""
    if b"<Series" in answer.body or b":Series" in answer.body:
        return None
    try:
        root = etree.fromstring(
            answer.body, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
        )
    except (etree.XMLSyntaxError, ValueError):
        return None
    kind = etree.QName(root).localname
    return kind if kind in ("StructureSpecificData", "Error") else None


def _no_data(answer: Answer, message: str) -> SourceError:
    """NotYetReleased before the release calendar expects the request's first month (plus
    grace), MissingRelease after."""
    request = answer.request
    first = request.period_start or request.period_end
    annual = request.meta.get("frequency") == "A"
    # a year is due once its December is; a month once the month is
    due_month = first.replace(month=12) if (annual and first is not None) else first
    if first is not None and not is_due(NAME, due_month, answer.today, annual=annual):
        return NotYetReleased(
            NAME, answer.what,
            f"no IMTS data yet for {first:%Y-%m} onwards (IMF answered: {message}); the release "
            "calendar does not expect it yet",
            period=first,
        )
    return MissingRelease(
        NAME, answer.what,
        f"the IMF has no data for a period the release calendar says is out (IMF answered: "
        f"{message})",
    )


def interpret(answer: Answer) -> SourceError | None:
    """The IMF's own reading of an answer (rules and evidence in the module docstring).

    Returns :class:`FetchError` for an SDMX-JSON body (the request lacked the XML Accept),
    :class:`NotYetReleased` / :class:`MissingRelease` for "no data" (404, SDMX error 100, an empty
    body or a message without Series), :class:`RequestRefused` with the IMF's message for any
    other 4xx except 401/403/429, else ``None`` (generic checks: auth, retries, HTML).
    """
    status = answer.status
    if status in (401, 403, 429) or status >= 500:
        return None
    empty_kind = None if _looks_json(answer) else _empty_kind(answer)
    if status == 200 and not _looks_json(answer) and empty_kind is None and answer.body.strip():
        return None  # a data message (or something for the parser to judge)
    code, message = _imf_message(answer)
    no_results = bool(_NO_RESULTS.search(message)) or code == "100"
    if status == 200 and _looks_json(answer) and not no_results:
        return FetchError(
            NAME, answer.what,
            "the IMF answered SDMX-JSON 2.0 (Content-Type "
            f"{answer.content_type or 'not given'!r}), not SDMX-ML: the SDMX 3.0 API sends JSON "
            f"unless the request asks for XML (sent Accept: "
            f"{answer.request.headers.get('Accept', 'none')!r}; needed {ACCEPT!r}); not parsed",
        )
    if status == 404 or (status == 200 and (no_results or not answer.body.strip())):
        if status == 404 and answer.body.strip() and not no_results:
            return RequestRefused(
                NAME, answer.what, f"HTTP 404: {message}", status=404, code=code, message=message
            )
        return _no_data(answer, message or f"HTTP {status} with an empty body")
    if status == 200 and empty_kind == "StructureSpecificData":
        return _no_data(answer, "a StructureSpecificData message without any Series")
    if 400 <= status < 500 or status == 200:  # a 4xx, or an SDMX error message in a 200
        return RequestRefused(
            NAME, answer.what, f"HTTP {status}: the IMF refused the request: {message}",
            status=status, code=code, message=message,
        )
    return None
