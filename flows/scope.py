"""What a run covers: sources, reporters, partners and the period window, with defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

import pycountry

from flows.schema import add_months
from flows.sources import SOURCE_NAMES

#: China and the peers and partners the imbalance story follows (ISO3; EU27_2020 for the EU).
DEFAULT_REPORTERS: tuple[str, ...] = ("CHN", "USA", "VNM", "IND", "EU27_2020")
#: Partners asked for where a publisher needs an explicit list (WLD = world total).
DEFAULT_PARTNERS: tuple[str, ...] = (
    "WLD", "CHN", "USA", "VNM", "IND", "DEU", "JPN", "KOR", "HKG", "TWN",
)
_ISO3 = sorted(country.alpha_3 for country in pycountry.countries)
#: Named aggregates that can be reporters: the EU and the euro area in its two compositions.
REPORTER_AGGREGATES: tuple[str, ...] = ("EU27_2020", "EA20", "EA21")

#: A reporter code, as a pick-list for the Prefect UI form and the CLI's checks.
Reporter = StrEnum("Reporter", {code: code for code in [*_ISO3, *REPORTER_AGGREGATES]})
Reporter.__doc__ = (
    "A reporter: ISO 3166-1 alpha-3 country code, EU27_2020 (European Union), EA20 or EA21 (euro "
    "area of 20 members to 2025, 21 from January 2026)."
)
#: A partner code (WLD = world).
Partner = StrEnum("Partner", {code: code for code in ["WLD", *_ISO3, "EU27_2020"]})
Partner.__doc__ = "A partner: WLD (world), an ISO 3166-1 alpha-3 country code, or EU27_2020."

#: Months covered by default, ending with the last complete month.
DEFAULT_MONTHS = 24


@dataclass(frozen=True)
class RunScope:
    """The scope of one refresh.

    ``period_start``/``period_end`` are first days of months (inclusive). ``options`` carries
    source-specific switches (e.g. ``comtrade_frequency``: ``"M"`` or ``"A"``).
    """

    sources: tuple[str, ...] = SOURCE_NAMES
    reporters: tuple[str, ...] = DEFAULT_REPORTERS
    partners: tuple[str, ...] = DEFAULT_PARTNERS
    period_start: date | None = None
    period_end: date | None = None
    force: bool = False
    offline: bool = False
    options: dict[str, Any] = field(default_factory=dict)

    def resolved(self, today: date | None = None) -> RunScope:
        """This scope with the default window filled in: the last 24 complete months."""
        today = today or date.today()
        end = self.period_end or add_months(date(today.year, today.month, 1), -1)
        start = self.period_start or add_months(end, -(DEFAULT_MONTHS - 1))
        if start > end:
            raise ValueError(f"period start {start:%Y-%m} is after period end {end:%Y-%m}")
        unknown = [s for s in self.sources if s not in SOURCE_NAMES]
        if unknown:
            raise ValueError(f"unknown sources {unknown}; known: {', '.join(SOURCE_NAMES)}")
        return RunScope(
            sources=tuple(self.sources),
            reporters=tuple(r.upper() for r in self.reporters),
            partners=tuple(p.upper() for p in self.partners),
            period_start=date(start.year, start.month, 1),
            period_end=date(end.year, end.month, 1),
            force=self.force,
            offline=self.offline,
            options=dict(self.options),
        )
