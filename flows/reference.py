"""Partner and reporter harmonisation shared by every source (DESIGN.md §4 "Keys").

The join key across publishers is ISO 3166-1 alpha-3 (from :mod:`pycountry`), ``WLD`` for the
world total, and a documented code for each named aggregate (:data:`AGGREGATES`). Publisher
codes that differ from ISO are mapped by explicit overrides in each source module (Comtrade
490 → TWN, 842 → USA; Census 5700 → CHN; IMF G001 → WLD; Eurostat CN_X_HK → CHN).

Unknown codes fail loudly: :class:`UnknownCodeError` names the code and the source.
"""

from __future__ import annotations

from functools import cache

import pycountry

from flows.schema import WORLD

#: Named aggregates used across sources: code → description. They overlap countries and are
#: never summed with them.
AGGREGATES: dict[str, str] = {
    WORLD: "World total",
    "EU27_2020": "European Union, 27 members (from 1 February 2020, without the UK)",
    "EU28": "European Union, 28 members (to 31 January 2020, with the UK)",
    "EA20": "Euro area, 20 members (2023 to 2025)",
    "EA21": "Euro area, 21 members (from 1 January 2026, with Bulgaria)",
    "EXT_EU27_2020": "Extra-EU27 (all partners outside the EU27_2020)",
    "INT_EU27_2020": "Intra-EU27 (EU27_2020 members)",
    "ASEAN": "Association of Southeast Asian Nations (10 members)",
    "RCEP": "Regional Comprehensive Economic Partnership (15 members)",
    "BRI": "Countries jointly building the Belt and Road (as listed by China customs)",
    "APEC": "Asia-Pacific Economic Cooperation",
    "LATAM": "Latin America (as grouped by China customs)",
    "AFRICA": "Africa (as grouped by the publisher)",
    "USMCA": "United States–Mexico–Canada Agreement partners",
    "OPEC": "Organization of the Petroleum Exporting Countries",
    "OECD": "OECD members",
    "PACIFIC_RIM": "Pacific Rim countries (US Census grouping)",
}


class UnknownCodeError(KeyError):
    """A publisher code with no mapping; the message names the source and the code."""

    def __init__(self, source: str, code: str, kind: str = "partner"):
        self.source = source
        self.code = code
        super().__init__(f"{source}: unknown {kind} code {code!r} (add it to the reference mapping)")

    def __str__(self) -> str:  # KeyError quotes its argument; keep the message readable
        return str(self.args[0])


#: Codes in common use for countries that ISO 3166-1 (and so pycountry) does not list:
#: ``XKX`` Kosovo (user-assigned code used by the EU, IMF ``KOS`` and the World Bank).
EXTRA_COUNTRIES = frozenset({"XKX"})


@cache
def _iso3_set() -> frozenset[str]:
    return (
        frozenset(c.alpha_3 for c in pycountry.countries)
        | frozenset(c.alpha_3 for c in pycountry.historic_countries if hasattr(c, "alpha_3"))
        | EXTRA_COUNTRIES
    )


def is_country(code: str) -> bool:
    """True when ``code`` is an ISO 3166-1 alpha-3 country code (current or historic)."""
    return code in _iso3_set()


def iso3_from_iso2(source: str, code: str) -> str:
    """ISO3 for an ISO 3166-1 alpha-2 code; ``EL`` (Eurostat's Greece) and ``UK`` accepted.

    Raises :class:`UnknownCodeError`.
    """
    code = code.strip().upper()
    special = {"EL": "GRC", "UK": "GBR", "XK": "XKX"}
    if code in special:
        return special[code]
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        raise UnknownCodeError(source, code)
    return country.alpha_3


def partner_kind(code: str) -> str:
    """``world``, ``country`` or ``aggregate`` for a harmonised partner code.

    Countries are ISO 3166-1 alpha-3 codes; everything else (the :data:`AGGREGATES` and the
    source-prefixed group codes such as ``COMTRADE_97`` or ``CENSUS_0003``) is an aggregate.
    """
    if code == WORLD:
        return "world"
    if code in AGGREGATES or not is_country(code):
        return "aggregate"
    return "country"
