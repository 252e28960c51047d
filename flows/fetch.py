"""Plan and fetch one publisher's requests into the raw archive (DESIGN.md §2, first half).

Each data response is parsed right after it arrives so that a malformed or unexpected payload
is rejected at once, with a message naming source, request and problem; it is still archived
(as evidence, marked with its ``parse_error``) but never loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from flows import release_calendar
from flows.archive import Archive, effective_entries
from flows.http import HttpClient
from flows.quarantine import implausible
from flows.schema import add_months
from flows.scope import RunScope
from flows.settings import Settings
from flows.sources import get_source, target_of
from flows.sources.base import (
    Fetched,
    FetchRequest,
    NotYetReleased,
    ParseError,
    PlanContext,
    PublisherUnreachable,
    RequestRefused,
    SourceError,
)

Progress = Callable[[str], None]


@dataclass
class SourceOutcome:
    """What happened to one source in a run."""

    source: str
    planned: int = 0
    fetched: int = 0
    reused: int = 0
    new_payloads: int = 0
    rows_parsed: int = 0
    errors: list[str] = field(default_factory=list)
    unreachable: str | None = None
    #: Periods the publisher has not released yet, as the release calendar expects (not errors).
    not_released: list[str] = field(default_factory=list)
    #: Corrections the run made to follow the publisher (e.g. a partner the dataset lacks).
    warnings: list[str] = field(default_factory=list)
    #: Payloads archived but not loaded because they failed a check: ``<sha12>: <reason>``.
    quarantined: list[str] = field(default_factory=list)
    #: Full hashes of payloads quarantined or rejected for the first time in this run.
    new_quarantines: list[str] = field(default_factory=list)

    def absorb(self, other: SourceOutcome) -> None:
        """Add ``other`` (the same source, another window) to this outcome."""
        for name in ("planned", "fetched", "reused", "new_payloads", "rows_parsed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("errors", "not_released", "warnings", "quarantined", "new_quarantines"):
            getattr(self, name).extend(getattr(other, name))
        self.unreachable = self.unreachable or other.unreachable

    @property
    def ok(self) -> bool:
        return not self.errors and self.unreachable is None and not self.quarantined

    def line(self) -> str:
        """One line for the console and the run report."""
        if self.unreachable:
            return f"{self.source}: NOT REFRESHED — {self.unreachable}"
        text = (
            f"{self.source}: {self.planned} requests, {self.fetched} fetched, {self.reused} "
            f"reused from archive, {self.new_payloads} new payloads, {self.rows_parsed} rows parsed"
        )
        if self.not_released:
            text += f"; not yet released: {', '.join(sorted(set(self.not_released)))}"
        if self.quarantined:
            text += f"; {len(self.quarantined)} quarantined (first: {self.quarantined[0]})"
        if self.errors:
            text += f"; {len(self.errors)} failed (first: {self.errors[0]})"
        if self.warnings:
            text += f"; warning: {'; '.join(self.warnings[:3])}"
        return text


def parse_payload(module, fetched: Fetched) -> pl.DataFrame:
    """Parse a data payload with its source module, turning any failure into SourceError.

    Observations must also answer the request that fetched them (:func:`check_answers_request`).
    """
    request = fetched.request
    try:
        frame = module.parse(fetched.body, request)
    except SourceError:
        raise
    except Exception as exc:  # noqa: BLE001 - every parser failure is a rejected payload
        raise SourceError(request.source, request.describe(), f"{type(exc).__name__}: {exc}") from exc
    if target_of(module) == "observations":
        check_answers_request(frame, request)
    return frame


def check_answers_request(frame: pl.DataFrame, request: FetchRequest) -> None:
    """Reject observations of another reporter or outside the requested months.

    When the request names a reporter, every row must be that reporter's; when it names a period
    window, every row's ``period_end`` must fall inside it (a year-to-date or combined row starts
    earlier but ends inside). Raises :class:`ParseError`.
    """
    if frame.is_empty():
        return
    if request.reporter is not None:
        others = sorted(set(frame.get_column("reporter").unique().to_list()) - {request.reporter})
        if others:
            raise ParseError(
                request.source, request.describe(),
                f"payload reports {others}, the request was for reporter {request.reporter}",
            )
    if request.period_start is not None and request.period_end is not None:
        outside = frame.filter(
            (pl.col("period_end") < request.period_start) | (pl.col("period_end") > request.period_end)
        )
        if outside.height:
            first = outside.row(0, named=True)
            raise ParseError(
                request.source, request.describe(),
                f"{outside.height} rows fall outside the requested months "
                f"{request.period_start:%Y-%m}..{request.period_end:%Y-%m}, e.g. "
                f"{first['period_start']:%Y-%m}..{first['period_end']:%Y-%m}",
            )


def fetch_source(
    name: str,
    scope: RunScope,
    settings: Settings,
    archive: Archive,
    progress: Progress = lambda _msg: None,
) -> SourceOutcome:
    """Plan ``name``'s requests for ``scope`` and fetch them into ``archive``.

    A request already archived is reused (not fetched) unless ``scope.force`` is set or its
    period ends inside the revision window (``settings.revision_window_months`` before
    ``scope.period_end``). Never raises for publisher problems: they are recorded on the
    returned :class:`SourceOutcome` (one unreachable publisher stops that source only).
    """
    outcome = SourceOutcome(name)
    module = get_source(name)
    client = client_for(module, settings)
    known = archive.latest_by_key()
    quarantined_before = {
        e.sha256: e
        for e in archive.entries()
        if e.source == name and (e.parse_error is not None or e.quarantine is not None)
    }
    accepted = archive.accepted()
    # The payload each request's current figures come from (the vintage a new answer replaces).
    loaded = {e.request.key(): e for e in effective_entries(archive) if e.source == name}
    known_shas = {entry.sha256 for entry in known.values()}
    cutoff = add_months(scope.period_end, -settings.revision_window_months)

    def fetch_index(request: FetchRequest) -> Fetched:
        fetched = client.get(request)
        entry = archive.store(fetched)
        return Fetched(request, fetched.body, fetched.status, fetched.content_type, entry.sha256)

    ctx = PlanContext(
        settings=settings,
        reporters=scope.reporters,
        partners=scope.partners,
        period_start=scope.period_start,
        period_end=scope.period_end,
        fetch=fetch_index,
        options=scope.options,
        warn=outcome.warnings.append,
    )
    try:
        try:
            requests = module.plan(ctx)
        except PublisherUnreachable as exc:
            outcome.unreachable = str(exc)
            return outcome
        except SourceError as exc:
            outcome.errors.append(str(exc))
            return outcome
        except (ValueError, KeyError) as exc:  # a bad scope or option for this publisher
            outcome.errors.append(f"{name}: cannot plan requests: {exc}")
            return outcome
        outcome.planned = len(requests)
        for number, request in enumerate(requests, start=1):
            previous = known.get(request.key())
            reusable = (
                previous is not None
                and previous.parse_error is None
                and (previous.quarantine is None or previous.sha256 in accepted)
                and not scope.force
                and request.period_end is not None
                and request.period_end < cutoff
                and not _stale(module, request, previous.fetched_at, settings)
            )
            if reusable:
                outcome.reused += 1
                continue
            progress(f"{name}: fetching {number}/{len(requests)} {request.describe()}")
            try:
                fetched = _get(client, module, request, outcome)
            except PublisherUnreachable as exc:
                outcome.unreachable = str(exc)
                break
            except NotYetReleased as exc:
                outcome.not_released.append(_period_label(exc, request))
                continue
            except SourceError as exc:
                outcome.errors.append(str(exc))
                continue
            outcome.fetched += 1
            error = held = None
            try:
                frame = parse_payload(module, fetched)
                outcome.rows_parsed += frame.height
                if frame.height == 0 and request.role == "data":
                    _empty_answer(name, request, settings, outcome)
                held = _implausible(module, archive, loaded.get(fetched.request.key()), frame,
                                    settings)
            except NotYetReleased as exc:
                outcome.not_released.append(_period_label(exc, request))
                continue
            except SourceError as exc:
                error = str(exc)
            entry = archive.store(fetched, parse_error=error, quarantine=held)
            if error is not None or held is not None:
                # Rejected (does not parse) or quarantined (implausible): archived as evidence
                # with its reason, never loaded, re-fetched on every run and taken as soon as its
                # content changes and passes (a quarantined one also when a person accepts it).
                before = quarantined_before.get(entry.sha256)
                if held is not None and entry.sha256 in accepted:
                    outcome.warnings.append(f"{entry.sha256[:12]} loaded as accepted: {held}")
                else:
                    since = f" (unchanged since {before.fetched_at:%Y-%m-%d})" if before else ""
                    kind = "rejected" if error is not None else "quarantined"
                    outcome.quarantined.append(
                        f"{entry.sha256[:12]}{since}: {kind}: {error or held}"
                    )
                    if before is None:
                        outcome.new_quarantines.append(entry.sha256)
            if entry.sha256 not in known_shas:
                outcome.new_payloads += 1
                known_shas.add(entry.sha256)
    finally:
        client.close()
    return outcome


def client_for(module, settings: Settings) -> HttpClient:
    """An :class:`HttpClient` following ``module``'s contract: its key headers and query
    secrets, its ``interpret`` hook, ``RETRY_AFTER_STATUSES`` and pacing
    (``min_interval(settings)`` or ``MIN_INTERVAL_SECONDS``)."""
    headers = module.headers(settings) if hasattr(module, "headers") else {}
    secret_params = module.secret_params(settings) if hasattr(module, "secret_params") else {}
    if hasattr(module, "min_interval"):
        interval = float(module.min_interval(settings))
    else:
        interval = float(getattr(module, "MIN_INTERVAL_SECONDS", 0.0))
    return HttpClient(
        settings,
        module.NAME,
        headers,
        secret_params,
        interpret=getattr(module, "interpret", None),
        retry_after_statuses=tuple(getattr(module, "RETRY_AFTER_STATUSES", ())),
        min_interval=interval,
    )


def _get(client: HttpClient, module, request: FetchRequest, outcome: SourceOutcome) -> Fetched:
    """GET ``request``; after a :class:`RequestRefused`, send the module's corrected request
    (``revise``) once, and record the correction as a warning."""
    try:
        return client.get(request)
    except RequestRefused as exc:
        revise = getattr(module, "revise", None)
        revised = revise(request, exc) if revise is not None else None
        if revised is None or revised == request:
            raise
        outcome.warnings.append(
            f"{request.describe()} was refused ({exc.message or exc.problem}); sent "
            f"{revised.describe()} instead"
        )
        return client.get(revised)


def _implausible(module, archive: Archive, previous, frame, settings: Settings) -> str | None:
    """Why ``frame`` must be quarantined against the vintage loaded from ``previous`` (the last
    loaded payload of the same request), or None (:func:`flows.quarantine.implausible`)."""
    if previous is None or frame.is_empty() or target_of(module) != "observations":
        return None
    try:
        old = parse_payload(module, archive.fetched(previous))
    except (SourceError, FileNotFoundError):
        return None
    return implausible(frame, old, max_total_revision=settings.max_total_revision)


def _empty_answer(name: str, request: FetchRequest, settings: Settings, outcome: SourceOutcome) -> None:
    """A data answer with no rows: not yet released when the release calendar does not expect
    its period yet, else *missing* (an error of the run: the publisher should have it)."""
    if request.period_end is None or name not in release_calendar.RULES:
        return
    annual = (request.period_end.year, request.period_end.month) != (
        request.period_start.year, request.period_start.month
    ) and request.meta.get("freq") == "A"
    today = settings.run_date()
    label = (
        f"{request.period_start:%Y-%m}" + (
            f"..{request.period_end:%Y-%m}" if request.period_end != request.period_start else ""
        )
    )
    if release_calendar.is_due(name, request.period_end, today, annual=annual):
        expected = release_calendar.expected_release(name, request.period_end, annual=annual)
        outcome.errors.append(
            f"{name}: {request.describe()}: missing: the publisher answered no rows for {label}, "
            f"which the release calendar expects by {expected:%Y-%m-%d}"
        )
    else:
        outcome.not_released.append(label)


def _stale(module, request: FetchRequest, fetched_at, settings: Settings) -> bool:
    """True when ``module.stale_before`` says the archived copy predates a re-publication."""
    stale_before = getattr(module, "stale_before", None)
    if stale_before is None:
        return False
    moment = stale_before(request, settings)
    return moment is not None and fetched_at < moment


def _period_label(exc: NotYetReleased, request: FetchRequest) -> str:
    period = exc.period or request.period_start
    return f"{period:%Y-%m}" if period is not None else request.describe()
