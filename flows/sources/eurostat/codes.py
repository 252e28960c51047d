"""Eurostat area codes, flags and member lists (shared by the plan and the parser).

Area codes (:data:`AREA_CODES`, DESIGN.md §4 "Keys"): ``WORLD`` → ``WLD``; ``CN_X_HK`` → ``CHN``
(China excluding Hong Kong, the territory of ISO ``CHN``, sources.md §7); the EU and euro-area
aggregates stay as published, kind ``aggregate``. **Each euro-area composition keeps its own
code**: ``EA20`` (20 members, 2023–2025) and ``EA21`` (21 members: Bulgaria joined on
1 January 2026; live_contracts §1.4), ``EXT_EA20``/``EXT_EA21`` (extra-euro-area),
``EU27_2020_NEA20``/``EU27_2020_NEA21`` (EU members outside the euro area). A row reported by
``EA20`` is never relabelled ``EA21``: a year-on-year change across the two compositions is
never computed silently (the models compare like codes only). Anything else is ISO2 →
:func:`flows.reference.iso3_from_iso2` (``EL``/``GR`` → ``GRC``, ``UK`` → ``GBR``), or
:class:`~flows.reference.UnknownCodeError`.
"""

from __future__ import annotations

import pycountry

from flows.reference import UnknownCodeError, iso3_from_iso2
from flows.schema import WORLD

NAME = "eurostat"

#: The EU27_2020 member states (ISO3).
EU27_2020_MEMBERS: frozenset[str] = frozenset(
    "AUT BEL BGR HRV CYP CZE DNK EST FIN FRA DEU GRC HUN IRL ITA LVA LTU LUX MLT NLD POL PRT "
    "ROU SVK SVN ESP SWE".split()
)
#: Euro-area members by composition code (ISO3). EA21 = EA20 + Bulgaria (from 2026-01-01).
EA20_MEMBERS: frozenset[str] = frozenset(
    "AUT BEL HRV CYP EST FIN FRA DEU GRC IRL ITA LVA LTU LUX MLT NLD PRT SVK SVN ESP".split()
)
MEMBERS: dict[str, frozenset[str]] = {
    "EU27_2020": EU27_2020_MEMBERS,
    "EA20": EA20_MEMBERS,
    "EA21": EA20_MEMBERS | {"BGR"},
}

#: Eurostat area codes that are not plain ISO2: code → (harmonised code, partner_kind).
AREA_CODES: dict[str, tuple[str, str]] = {
    "WORLD": (WORLD, "world"),
    "CN_X_HK": ("CHN", "country"),
    "EU27_2020": ("EU27_2020", "aggregate"),
    "EU28": ("EU28", "aggregate"),
    "EA20": ("EA20", "aggregate"),
    "EA21": ("EA21", "aggregate"),
    "EXT_EU27_2020": ("EXT_EU27_2020", "aggregate"),
    "INT_EU27_2020": ("INT_EU27_2020", "aggregate"),
    "EXT_EU28": ("EXT_EU28", "aggregate"),
    "INT_EU28": ("INT_EU28", "aggregate"),
    "EXT_EA20": ("EXT_EA20", "aggregate"),
    "EXT_EA21": ("EXT_EA21", "aggregate"),
    "EU27_2020_NEA20": ("EU27_2020_NEA20", "aggregate"),
    "EU27_2020_NEA21": ("EU27_2020_NEA21", "aggregate"),
}
#: Descriptions of the aggregate codes above that :data:`flows.reference.AGGREGATES` lacks.
EXTRA_AGGREGATES: dict[str, str] = {
    "EA21": "Euro area, 21 members (from 1 January 2026, with Bulgaria)",
    "EXT_EU28": "Extra-EU28 (all partners outside the EU28)",
    "INT_EU28": "Intra-EU28 (EU28 members)",
    "EXT_EA20": "Extra-euro area (all partners outside the 20 euro-area members)",
    "EXT_EA21": "Extra-euro area (all partners outside the 21 euro-area members)",
    "EU27_2020_NEA20": "EU27_2020 members outside the euro area (EA20)",
    "EU27_2020_NEA21": "EU27_2020 members outside the euro area (EA21)",
}

#: Eurostat observation flags → status words.
FLAG_STATUS: dict[str, str] = {
    "b": "break",
    "c": "confidential",
    "d": "definition_differs",
    "e": "estimated",
    "f": "forecast",
    "n": "not_significant",
    "p": "provisional",
    "r": "revised",
    "s": "estimated",  # Eurostat estimate
    "u": "low_reliability",
    "z": "not_applicable",
}
#: ``CONF_STATUS`` values meaning the figure is confidential (primary, secondary).
CONFIDENTIAL_STATUS = frozenset({"C", "D"})


def eurostat_partner(code: str, geo: str = "EU27_2020") -> str | None:
    """The Eurostat partner code for a run partner (ISO3 or aggregate code) of reporter ``geo``.

    ``WLD`` → the reporter's extra-area total (``EXT_EU27_2020``, ``EXT_EA20``, ``EXT_EA21``);
    ``CHN`` → ``CN_X_HK``; ``GRC`` → ``EL``; ``GBR`` → ``UK``; other countries → ISO2.
    ``None`` for members of ``geo`` (trade with them is intra-area, not trade by partner) and for
    ``geo`` itself. Raises :class:`UnknownCodeError` for a code that is neither ISO3 nor one of
    :data:`AREA_CODES`.
    """
    code = code.strip().upper()
    if code in MEMBERS.get(geo, frozenset()) or code == geo:
        return None
    special = {"CHN": "CN_X_HK", WORLD: f"EXT_{geo}", "GRC": "EL", "GBR": "UK", "XKX": "XK"}
    if code in special:
        return special[code]
    if code in AREA_CODES:
        return code
    country = pycountry.countries.get(alpha_3=code)
    if country is None:
        raise UnknownCodeError(NAME, code)
    return country.alpha_2


def area_code(code: str, kind: str = "partner") -> tuple[str, str]:
    """``(harmonised code, partner_kind)`` for a Eurostat area code (partner or reporter).

    Raises :class:`UnknownCodeError`.
    """
    code = code.strip()
    if code in AREA_CODES:
        return AREA_CODES[code]
    if len(code) == 2 and code.isalpha():  # Greece: GR in Comext, EL in the ext_st datasets
        try:
            return iso3_from_iso2(NAME, code), "country"
        except UnknownCodeError:
            raise UnknownCodeError(NAME, code, kind) from None
    raise UnknownCodeError(NAME, code, kind)
