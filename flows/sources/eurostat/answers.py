"""How Eurostat answers, read before any body is parsed (:func:`interpret`; live_contracts §1.2).

Eurostat's SDMX 2.1 API reports a problem as a SOAP fault, e.g.::

    <?xml version="1.0" encoding="UTF-8"?><S:Fault xmlns:S="http://schemas.xmlsoap.org/soap/envelope/">
    <faultcode>150</faultcode><faultstring>INVALID_QUERY_DIMENSION_VALUE: … not allowed: PARTNER=XX.
    </faultstring></S:Fault>

(bodies recorded by cyanheads/eurostat-mcp-server, ``tests/services/eurostat-bulk-service.test.ts``
@ ``41dd03260037763f25905b02d07c0a7973f51a81`` and ``tests/fixtures/comext/*.xml`` @ ``89c61bb9``).

=================================================== ==================================== ===========
answer                                               result                               confidence
=================================================== ==================================== ===========
fault 140 (``INVALID_QUERY_NB_FILTERS``,             :class:`RequestRefused` ``code`` 140 consistent
``TIME_PERIOD_FILTER_SPEC_INVALID``), 400
fault 150 ``INVALID_QUERY_DIMENSION_VALUE`` (400)    :class:`RequestRefused` ``code`` 150, confirmed
                                                     ``values`` = the ``DIM=CODE`` pairs  (FAQ)
fault 100 ``ERR_NOT_FOUND…`` (404)                   :class:`FetchError`: wrong dataset   confirmed
fault 100 "No results found" (400/404), or a         :class:`NotYetReleased` when the     documented,
header-only SDMX-CSV                                 request's first month is not due     unverified
                                                     (:func:`flows.release_calendar.      for
                                                     is_due`), else                       SDMX-CSV
                                                     :class:`MissingRelease`
413 / fault 413 ``EXTRACTION_TOO_BIG``               :class:`FetchError` (split the       confirmed
                                                     request)
200 with a queued ``syncResponse`` /                 :class:`FetchError`: never parsed    consistent
``SUBMITTED`` envelope                               as CSV
200 whose body is XML (``<?xml``, ``<S:Fault``,      :class:`FetchError` where SDMX-CSV   consistent
``<env:Envelope``) for a CSV request                 was asked for
=================================================== ==================================== ===========

"Not yet released" is judged on the request's **first** month: when it is already due, an empty
answer means published months are missing (a failure), even if later months of the window are not
due yet.
"""

from __future__ import annotations

import re

from flows.release_calendar import expected_release, is_due
from flows.sources.base import (
    Answer,
    FetchError,
    MissingRelease,
    NotYetReleased,
    RequestRefused,
    SourceError,
)
from flows.sources.eurostat.codes import NAME

#: Fault codes of a malformed request (a request bug: never retried as is).
REFUSAL_FAULTS = frozenset({"140", "150"})
_FAULT = re.compile(rb"<faultcode>\s*([^<]*?)\s*</faultcode>.*?<faultstring>(.*?)</faultstring>", re.S)
_PAIR = re.compile(r"([A-Za-z][A-Za-z0-9_]*)=([^,\s]+?)(?=[,\s]|\.?$)")


def interpret(answer: Answer) -> SourceError | None:
    """Eurostat's own answer contract (see the module docstring), or ``None`` for a usable answer
    (a 200 SDMX-CSV with data rows, a 200 structure message) and for answers the generic HTTP
    checks handle (5xx, HTML pages)."""
    body = answer.body
    head = body[:512].lstrip()
    xml_like = head.startswith(b"<") and not head[:15].lower().startswith((b"<!doctype", b"<html"))
    if answer.status == 200 and not xml_like:
        if answer.request.expect == "csv" and _header_only(body):
            return _no_data(answer, "an SDMX-CSV header with no data rows")
        return None
    if xml_like and (b"syncResponse" in body[:4096] or b"SUBMITTED" in body[:4096]):
        ident = re.search(rb"<id>([^<]+)</id>", body[:4096])
        return FetchError(
            NAME, answer.what,
            f"HTTP {answer.status}: Eurostat queued the extraction instead of answering it "
            f"(asynchronous 'SUBMITTED' envelope, id {ident.group(1).decode() if ident else '?'}); "
            "the envelope is not data and is not parsed — narrow the request",
        )
    fault = _fault(body) if xml_like else None
    if fault is None:
        if answer.status == 413:
            return FetchError(NAME, answer.what, f"HTTP 413: extraction too big: {answer.text()}")
        if answer.status == 200 and xml_like and answer.request.expect == "csv":
            return FetchError(
                NAME, answer.what, f"expected SDMX-CSV but Eurostat answered XML: {answer.text()}"
            )
        return None
    code, text = fault
    problem = f"HTTP {answer.status}: Eurostat fault {code}: {text}"
    if code in REFUSAL_FAULTS:
        return RequestRefused(
            NAME, answer.what, problem, status=answer.status, code=code, message=text,
            values=fault_values(text),
        )
    if code == "100":
        if "ERR_NOT_FOUND" in text or "not available for dissemination" in text:
            return FetchError(NAME, answer.what, f"{problem} (wrong or retired dataset id?)")
        return _no_data(answer, f"fault 100 ({text})")
    if code == "413" or answer.status == 413:
        return FetchError(NAME, answer.what, f"{problem} (split the request into smaller ones)")
    return FetchError(NAME, answer.what, problem)


def fault_values(text: str) -> tuple[tuple[str, str], ...]:
    """The ``(DIMENSION, CODE)`` pairs a fault 150 names after "not allowed:"
    (``"… not allowed: PARTNER=XX, GEO=EA20."`` → ``(("PARTNER", "XX"), ("GEO", "EA20"))``)."""
    _, _, tail = text.partition("not allowed:")
    return tuple((d.upper(), c.rstrip(".")) for d, c in _PAIR.findall(tail.strip()))


def _fault(body: bytes) -> tuple[str, str] | None:
    """``(faultcode, faultstring)`` of a SOAP fault body, entities decoded; ``None`` otherwise."""
    match = _FAULT.search(body[:65536])
    if match is None:
        return None
    text = match.group(2).decode("utf-8", errors="replace")
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"),
                         ("&amp;", "&")):
        text = text.replace(entity, char)
    return match.group(1).decode("utf-8", errors="replace"), re.sub(r"\s+", " ", text).strip()


def _header_only(body: bytes) -> bool:
    lines = [line for line in body.decode("utf-8-sig", errors="replace").splitlines() if line.strip()]
    return len(lines) == 1 and "OBS_VALUE" in lines[0]


def _no_data(answer: Answer, what: str) -> SourceError:
    request = answer.request
    first, last = request.period_start, request.period_end or request.period_start
    if first is None or request.role != "data":
        return FetchError(NAME, answer.what, f"HTTP {answer.status}: no data: {what}")
    window = f"{first:%Y-%m}" + (f"..{last:%Y-%m}" if last != first else "")
    expected = expected_release(NAME, first)
    if not is_due(NAME, first, answer.today):
        return NotYetReleased(
            NAME, answer.what,
            f"not yet released: Eurostat has no data for {window} ({what}); {first:%Y-%m} is "
            f"expected around {expected:%Y-%m-%d}",
            period=first,
        )
    return MissingRelease(
        NAME, answer.what,
        f"missing: Eurostat has no data for {window} ({what}) although {first:%Y-%m} was "
        f"expected by {expected:%Y-%m-%d}",
    )
