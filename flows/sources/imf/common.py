"""What the IMF IMTS modules share: the source's constants and its area codes.

:func:`area` maps an IMF area code (``COUNTRY`` or ``COUNTERPART_COUNTRY``) to the harmonised
``(code, partner_kind)``; :func:`_imf_area` is its inverse for the request key. The rules and
their evidence (sources.md §3, the recorded availability file, the G998 inference) are listed
under "Counterparts" and "Indicators" in :mod:`flows.sources.imf.sdmxml`.
"""

from __future__ import annotations

import re

from flows.reference import AGGREGATES, UnknownCodeError, is_country
from flows.schema import WORLD

NAME = "imf"

#: Indicators requested and parsed: code → (flow, valuation).
INDICATORS: dict[str, tuple[str, str]] = {
    "XG_FOB_USD": ("X", "FOB"),
    "MG_CIF_USD": ("M", "CIF"),
}
#: Indicators present in IMTS that are deliberately not loaded (see :mod:`flows.sources.imf.sdmxml`).
IGNORED_INDICATORS = frozenset({"TBG_USD"})

#: IMF area codes with a fixed harmonised code: IMF code → (code, partner_kind).
AREA_OVERRIDES: dict[str, tuple[str, str]] = {
    "G001": (WORLD, "world"),
    "G998": ("EU27_2020", "aggregate"),  # inference: equals DOT B0 (European Union)
    "KOS": ("XKX", "country"),
    "WBG": ("PSE", "country"),
}
#: IMF group codes kept as ``IMF_<code>`` aggregates: G + 3 digits, GX…, TX….
AGGREGATE_CODE = re.compile(r"^(G\d{3}|GX\d+|TX\d+)$")
#: Prefix of the harmonised code of an IMF aggregate that has no project-wide code.
AGGREGATE_PREFIX = "IMF_"

#: The Accept header that gets SDMX-ML 3.0 StructureSpecificData (OpenBB's; see :mod:`flows.sources.imf`).
ACCEPT = "application/xml"
FREQUENCIES = ("A", "M")


def _imf_area(code: str) -> str:
    """The IMF area code for a harmonised ISO3/aggregate code (inverse of the overrides)."""
    for imf_code, (harmonised, _kind) in AREA_OVERRIDES.items():
        if harmonised == code:
            return imf_code
    if code.startswith(AGGREGATE_PREFIX) and AGGREGATE_CODE.match(code[len(AGGREGATE_PREFIX):]):
        return code[len(AGGREGATE_PREFIX):]
    if is_country(code):
        return code
    raise UnknownCodeError(NAME, code, kind="area")


def _published(code: str) -> bool:
    """False for another publisher's named aggregate that IMTS has no area for (``EA20``):
    skipped from the request rather than failing it. Unknown codes still raise in
    :func:`_imf_area`."""
    return not (code in AGGREGATES and code not in {h for h, _ in AREA_OVERRIDES.values()})


def area(code: str) -> tuple[str, str]:
    """Harmonised ``(code, partner_kind)`` for an IMF IMTS area code (rules: :mod:`flows.sources.imf.sdmxml`).

    ``G001`` → ``("WLD", "world")``; ``G998`` → ``("EU27_2020", "aggregate")``; ``GX405`` →
    ``("IMF_GX405", "aggregate")``; ``CHN`` → ``("CHN", "country")``. Raises
    :class:`UnknownCodeError` for anything else.
    """
    code = code.strip()
    if code in AREA_OVERRIDES:
        return AREA_OVERRIDES[code]
    if AGGREGATE_CODE.match(code):
        return f"{AGGREGATE_PREFIX}{code}", "aggregate"
    if is_country(code):
        return code, "country"
    raise UnknownCodeError(NAME, code)
