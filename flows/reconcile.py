"""The run scope that gives ``marts.reconciled_flows`` meaningful reliability weights (issue 14).

Reporter reliabilities (``marts.reporter_reliability``) are estimated from every exporter–importer
pair of mirrors in the warehouse, per calendar year; a reporter with fewer partner pairs than the
``reliability_min_partners`` parameter (default 10) gets the weight 0.5 and a flag. The default
run (five reporters) therefore leaves most rows flagged. :func:`reliability_scope` is the scope
that fixes this with one call: UN Comtrade **annual** totals (``comtrade_frequency`` ``A``) for
:data:`RELIABILITY_REPORTERS` against each other, for whole calendar years — every reporter then
has up to ``len(RELIABILITY_REPORTERS) − 1`` partner pairs as exporter and as importer. Comtrade
annual data need an API key for more than the preview's 500 records (sources.md §1). The
Comtrade bulk files (:mod:`flows.sources.comtrade_bulk`) give the same for all reporters.
"""

from __future__ import annotations

from datetime import date

from flows.scope import RunScope

#: Reporters of the reliability scope: China, its peers and partners of the default scope, plus
#: the other large goods traders (G20 members and the largest Asian and European traders), so
#: each has ≥ 10 partner pairs among them. ISO3; the EU is represented by its members.
RELIABILITY_REPORTERS: tuple[str, ...] = (
    "CHN", "USA", "VNM", "IND", "DEU", "JPN", "KOR", "HKG", "TWN", "FRA", "ITA", "NLD", "GBR",
    "CAN", "MEX", "BRA", "AUS", "RUS", "SGP", "MYS", "THA", "IDN", "SAU", "ARE", "TUR", "ZAF",
    "ESP", "BEL", "POL", "CHE", "ARG", "PHL",
)  # fmt: skip


def reliability_scope(first_year: int, last_year: int) -> RunScope:
    """UN Comtrade annual totals among :data:`RELIABILITY_REPORTERS`, January ``first_year`` to
    December ``last_year`` (inclusive). Raises ``ValueError`` when the years are reversed."""
    if last_year < first_year:
        raise ValueError(f"last_year {last_year} is before first_year {first_year}")
    return RunScope(
        sources=("comtrade",),
        reporters=RELIABILITY_REPORTERS,
        partners=("WLD", *RELIABILITY_REPORTERS),
        period_start=date(first_year, 1, 1),
        period_end=date(last_year, 12, 1),
        options={"comtrade_frequency": "A"},
    )
