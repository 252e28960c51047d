"""One redaction for every text that leaves the process: log lines and error messages.

The API keys are secret types in :class:`flows.settings.Settings` and are never put in a
:class:`~flows.sources.base.FetchRequest`; they still leaked where *other* text quoted them: a
publisher's error body echoing the request URL (``...&key=<census key>``), urllib3's debug line
of every request with ``--verbose``, and every place such a message went on to (stdout, the
last-run record, reports, Prefect's logs, artifacts and events). This module removes them:

* :func:`redact` — ``text`` with every configured secret value (:func:`secret_values`: the UN
  Comtrade, US Census and IMF keys of the current settings, plus any :func:`register`\\ ed) and
  every value of a secret-looking query parameter (``key=``, ``subscription-key=``, ``token=``,
  ``api_key=`` ...; :data:`SECRET_QUERY`) replaced by ``REDACTED``;
* :func:`redact_error` — the same on a :class:`~flows.sources.base.SourceError`'s texts, in place;
* :class:`RedactingFilter` — a :class:`logging.Filter` that rewrites a record's message,
  arguments and exception text; :func:`install` puts it on the handlers of the root logger and
  of every configured logger (ours, ``urllib3``, ``requests``, Prefect's console and API
  handlers) and wraps the log-record factory, so records reaching handlers created later
  (Prefect configures its own when a flow starts) are redacted too. Idempotent; called when
  :mod:`flows.http` is imported and by every :class:`~flows.http.HttpClient`.
"""

from __future__ import annotations

import logging
import re
import threading

REDACTED = "REDACTED"

#: ``name=value`` where the name says secret (``key``, ``subscription-key``, ``api_key``,
#: ``token``, ``secret``, ``password``), in URLs, echoed request lines and JSON strings; the
#: value runs to the next ``&``, space, quote, bracket or ``;``.
SECRET_QUERY = re.compile(
    r"(?i)(?<![\w-])((?:[\w-]*(?:key|token|secret|password)|subscription[\w-]*)(?:=|%3D))"
    r"(?!REDACTED)[^&\s\"'<>;,\\)]+"
)

#: Values shorter than this are not redacted by value (they would hide ordinary words).
MIN_SECRET_LENGTH = 8

_extra: set[str] = set()
_lock = threading.Lock()
_installed_factory = False


def register(value: str | None) -> None:
    """Also redact ``value`` (a secret that is not one of the settings' keys)."""
    if value and len(value) >= MIN_SECRET_LENGTH:
        with _lock:
            _extra.add(value)


def secret_values() -> list[str]:
    """The secret values to redact: the current settings' API keys and the registered ones,
    longest first."""
    values = set(_extra)
    try:
        from flows.settings import get_settings

        settings = get_settings()
        for name in ("comtrade_api_key", "census_api_key", "imf_api_key"):
            secret = getattr(settings, name, None)
            if secret is not None:
                values.add(secret.get_secret_value())
    except Exception:  # noqa: BLE001 - bad settings must not break logging
        pass
    return sorted((v for v in values if v and len(v) >= MIN_SECRET_LENGTH), key=len, reverse=True)


def redact(text: str) -> str:
    """``text`` with secret values and secret query-parameter values replaced by ``REDACTED``."""
    if not text:
        return text
    for value in secret_values():
        if value in text:
            text = text.replace(value, REDACTED)
    return SECRET_QUERY.sub(lambda m: m.group(1) + REDACTED, text)


def redact_error(exc: BaseException) -> BaseException:
    """Redact a :class:`~flows.sources.base.SourceError` (its ``request``, ``problem``,
    ``message`` and message text) in place; any other exception's ``args`` of type ``str``.
    Returns ``exc``, to ``raise redact_error(exc)``."""
    for name in ("request", "problem", "message"):
        value = getattr(exc, name, None)
        if isinstance(value, str):
            setattr(exc, name, redact(value))
    exc.args = tuple(redact(a) if isinstance(a, str) else a for a in exc.args)
    return exc


class RedactingFilter(logging.Filter):
    """Rewrites every record it sees so that no secret reaches a handler (never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        _redact_record(record)
        return True


def _redact_record(record: logging.LogRecord) -> None:
    if getattr(record, "_redacted", False):
        return
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a bad format string is the handler's problem, not ours
        return
    record.msg, record.args = redact(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    record._redacted = True


_FILTER = RedactingFilter()


def install() -> None:
    """Put :class:`RedactingFilter` on every handler of the root logger and of every configured
    logger, and wrap the log-record factory (see the module docstring). Idempotent."""
    global _installed_factory
    loggers = [logging.getLogger()] + [
        lg for lg in list(logging.Logger.manager.loggerDict.values()) if isinstance(lg, logging.Logger)
    ]
    for logger in loggers:
        for handler in list(logger.handlers):
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)
    with _lock:
        if _installed_factory:
            return
        factory = logging.getLogRecordFactory()

        def redacting_factory(*args, **kwargs):
            record = factory(*args, **kwargs)
            _redact_record(record)
            return record

        logging.setLogRecordFactory(redacting_factory)
        _installed_factory = True
