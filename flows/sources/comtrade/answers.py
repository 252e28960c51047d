"""How UN Comtrade answers: its error shapes, quota and rate-limit answers (live_contracts.md §5).

Comtrade's API sits behind Azure API Management (APIM). The answers a request can get, and what
:func:`interpret` makes of them (evidence and confidence per rule):

* **401** ``{"statusCode": 401, "message": "Access denied due to missing subscription key. ..."}``
  with ``WWW-Authenticate: AzureApiManagementKey`` — no key on the keyed endpoint (recorded:
  ``comtrade/error_401_missing_subscription_key.json``) [confirmed]; "Access denied due to invalid
  subscription key" for a wrong key (live_contracts §5, id 60014363070) [consistent]. →
  :class:`AuthError` carrying the publisher's sentence.
* **403** ``{"statusCode": 403, "message": "Out of call volume quota. Quota will be replenished in
  03:14:17."}`` — the call quota is used up (file-index ids 21258530624, 71578361064)
  [consistent]. → :class:`QuotaExceeded` with ``wait`` ``"03:14:17"``: the source stops for this
  run. Any other 403 (an invalid key) → :class:`AuthError`. A 403 with ``Retry-After`` is first
  retried by the HTTP layer within ``max_retry_after`` (:data:`RETRY_AFTER_STATUSES`), as comtradr
  does (``R/ct_perform_request.R`` @ 0262f7f0: retries 403 and 429 when ``Retry-After`` is present
  and not "0") [confirmed in code].
* **429** "Rate limit is exceeded. Try again in 2 seconds." (APIM wording; uncomtrade/
  comtradeapicall issue #3) [confirmed] — retried with ``Retry-After`` by the HTTP layer; when the
  retries are spent → :class:`PublisherUnreachable` with the publisher's sentence.
* **400** and other 4xx refusals → :class:`RequestRefused` (status, the publisher's own message):
  a request bug, never retried as is. The body shape of a 400 is not recorded; the message is
  taken from whichever shape comes (:func:`publisher_message`) [unverified shape].
* **200** with a non-empty v1 ``error`` field, or the legacy API's ``validation`` block with a
  message (``{"validation": {"status": {...}, "message": "Maximum resultset is: 10000"}}``, legacy
  ``comtrade.un.org/api/get``; recorded layout ``comtrade/legacy_api_get_r8_ps2014_TOTAL_trimmed
  .json``) → :class:`RequestRefused` with status 200 and that message.

Everything else (5xx, a good 200) is left to the HTTP layer's generic checks.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flows.sources.base import (
    Answer,
    AuthError,
    PublisherUnreachable,
    QuotaExceeded,
    RequestRefused,
    SourceError,
)

from .codes import NAME

#: Statuses the HTTP layer retries when the answer carries ``Retry-After`` (429 is retried
#: already): Comtrade's 403 quota answers (comtradr ``R/ct_perform_request.R``).
RETRY_AFTER_STATUSES: tuple[int, ...] = (403,)

_QUOTA = re.compile(r"out of call volume quota", re.IGNORECASE)
_WAIT = re.compile(r"replenished in\s+(\d{1,3}:\d{2}:\d{2})", re.IGNORECASE)
_REFUSALS = frozenset({400, 404, 405, 406, 413, 414, 415, 422})


def publisher_message(body: bytes | str, limit: int = 500) -> str:
    """The publisher's own error sentence from any Comtrade error body, or ``""``.

    Shapes read, in order: the v1 envelope's ``error`` (a string, or an object/list printed as
    JSON); the legacy API's ``validation.message`` (else ``validation.status.description``);
    APIM's ``{"statusCode", "message"}``; ``errorObject.errorMessage`` (read by comtradr);
    ASP.NET validation problems ``{"title", "errors": {field: [sentence]}}``; and, for a body
    that is not JSON, its text squeezed to one line. At most ``limit`` characters.
    """
    raw = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    try:
        payload = json.loads(raw)
    except ValueError:
        payload = None
    message = _message_of(payload) if isinstance(payload, dict) else ""
    if not message and not isinstance(payload, (dict, list)):
        message = re.sub(r"<[^>]+>", " ", raw)  # an HTML error page: keep its words
    message = re.sub(r"\s+", " ", message).strip()
    return message[:limit] + ("…" if len(message) > limit else "")


def _message_of(payload: dict[str, Any]) -> str:
    error = payload.get("error")
    if error not in (None, "", [], {}):
        return error if isinstance(error, str) else json.dumps(error, sort_keys=True)
    validation = payload.get("validation")
    if isinstance(validation, dict):
        message = validation.get("message")
        status = validation.get("status") if isinstance(validation.get("status"), dict) else {}
        if message:
            return str(message)
        if status.get("value") not in (None, 0) and status.get("description"):
            return str(status["description"])
    if payload.get("message"):
        return str(payload["message"])
    error_object = payload.get("errorObject")
    if isinstance(error_object, dict) and error_object.get("errorMessage"):
        return str(error_object["errorMessage"])
    if payload.get("title"):
        details = payload.get("errors")
        if isinstance(details, dict):
            parts = [f"{k}: {' '.join(map(str, v if isinstance(v, list) else [v]))}"
                     for k, v in details.items()]
            return f"{payload['title']} ({'; '.join(parts)})" if parts else str(payload["title"])
        return str(payload["title"])
    return ""


def legacy_refusal(payload: dict[str, Any]) -> str:
    """The legacy API's refusal sentence when ``validation`` reports one, else ``""``."""
    validation = payload.get("validation")
    if not isinstance(validation, dict):
        return ""
    status = validation.get("status") if isinstance(validation.get("status"), dict) else {}
    if validation.get("message") or status.get("value") not in (None, 0):
        return _message_of({"validation": validation}) or f"validation status {status!r}"
    return ""


def interpret(answer: Answer) -> SourceError | None:
    """Comtrade's reading of one answer (see the module docstring), or ``None``.

    Returns :class:`QuotaExceeded` (403 "Out of call volume quota", ``wait`` = the
    "replenished in HH:MM:SS" time), :class:`AuthError` (401; any other 403),
    :class:`PublisherUnreachable` (429 after the retries), :class:`RequestRefused` (400 and
    other refusals; a 200 whose v1 ``error`` or legacy ``validation`` reports one). The
    publisher's own sentence is in the error text (and ``RequestRefused.message``).
    """
    status = answer.status
    message = publisher_message(answer.body) if status != 200 else ""
    retry_after = answer.headers.get("Retry-After")
    after = f" (Retry-After {retry_after} s)" if retry_after else ""
    if status == 403 and _QUOTA.search(message):
        wait = _WAIT.search(message)
        return QuotaExceeded(
            NAME, answer.what,
            f"HTTP 403: call quota used up, stopping Comtrade for this run{after}: {message!r}",
            wait=wait.group(1) if wait else None,
        )
    if status in (401, 403):
        return AuthError(
            NAME, answer.what,
            f"HTTP {status} (access denied: missing or invalid subscription key; set "
            f"TRADE_IMBALANCE_COMTRADE_API_KEY, sent as Ocp-Apim-Subscription-Key, or leave it "
            f"unset for the keyless preview): {message or answer.text()!r}",
        )
    if status == 429:
        return PublisherUnreachable(
            NAME, answer.what,
            f"HTTP 429: rate limit exceeded after the retries{after}; try again later: "
            f"{message or answer.text()!r}",
        )
    if status in _REFUSALS:
        text = message or answer.text()
        return RequestRefused(
            NAME, answer.what, f"HTTP {status}: the publisher refused the request: {text!r}",
            status=status, message=text,
        )
    if status == 200:
        return _refusal_in_200(answer)
    return None


def _refusal_in_200(answer: Answer) -> SourceError | None:
    try:
        payload = json.loads(answer.body)
    except ValueError:
        return None  # the generic checks name a body that is not JSON
    if not isinstance(payload, dict):
        return None
    error = payload.get("error")
    text = ""
    if error not in (None, "", [], {}):
        text = _message_of({"error": error})
    elif "data" not in payload:
        text = legacy_refusal(payload)
    if not text:
        return None
    return RequestRefused(
        NAME, answer.what, f"HTTP 200 carrying the publisher's error: {text!r}",
        status=200, message=text,
    )
