"""The spec cache: which spec each series uses and when it was chosen.

A JSON file under the warehouse folder (``warehouse/seasonal/specs.json``; outside the DuckDB
file, which every build recreates). One entry per series key (source, reporter, partner, flow,
currency): the :class:`flows.seasonal.adjust.SeasonalSpec` with ``chosen_on`` and
``chosen_months``. An entry is re-selected when it is a year old or the series has grown by 12
months or more since; ordinary refreshes re-run only the cached spec. Written atomically.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import date, timedelta
from pathlib import Path

from flows.seasonal.adjust import SeasonalSpec

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
