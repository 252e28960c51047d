"""UN Comtrade's codes: area codes (reporters, partners) and flow codes (sources.md §1, §7).

Area codes (DESIGN.md §4 "Keys"). Comtrade's numeric area codes are close to ISO 3166-1 numeric /
M49 but not the same; the table is kept here, in code (taken from Comtrade's ``Reporters.json`` and
``partnerAreas.json`` reference files, ``reference/comtrade_*`` in shared/data/real):

* :data:`AREA_OVERRIDES` — the Comtrade code chosen for each ISO3 key where ISO numeric differs:
  842 → ``USA`` (USA, Puerto Rico and US Virgin Islands), 699 → ``IND``, 251 → ``FRA`` (with
  Monaco), 757 → ``CHE`` (with Liechtenstein), 579 → ``NOR``, 490 "Other Asia, nes" (``S19``)
  → ``TWN``, 412 Kosovo → ``XKX`` (as :func:`flows.reference.iso3_from_iso2` does) and
  0 (``W00``) → ``WLD``;
* :data:`COMTRADE_AREAS` — every other Comtrade area that is not one current ISO 3166-1 country:
  groups (97 European Union ``EUR``, 975 ASEAN), residual "nes" areas (568 ``E19``, 899 ``_X``),
  special categories (837 ``X1`` bunkers, 838 free zones, 839 special categories), former
  territories whose ISO3 now names a different territory (280 Fed. Rep. of Germany to 1990 —
  Comtrade labels it ``DEU``, but it is not today's Germany 276 —, 278, 810, 890, 891, 200,
  841, 868, ...) and alternative territorial definitions of a country whose key uses another
  code (840 United States of America, 250 Metropolitan France, 756, 578, 158, 356). Each is
  kept as its own named aggregate ``COMTRADE_<numeric code>`` with ``partner_kind``
  ``aggregate`` — never merged into a country and never summed with countries. The numeric code
  is used because Comtrade's ISO-like aliases are not unique (473 and 636 are both ``A79``).
  Comtrade's EU (97) and ASEAN (975) are not mapped to ``EU27_2020``/``ASEAN`` because their
  membership follows the reference year;
* any other code is looked up as ISO 3166-1 numeric with :mod:`pycountry`;
* anything else raises :class:`flows.reference.UnknownCodeError`.

Flow codes (:data:`FLOW_CODES`): the ten codes of Comtrade's flow reference
(``files/v1/app/reference/tradeRegimes.json``, the list the ``flowCode`` parameter and field take):
X exports, M imports and the *memo* flows RX re-exports, RM re-imports, DX domestic exports, FM
foreign imports, XIP/XOP exports after inward / for outward processing, MIP/MOP imports for inward
/ after outward processing. Evidence: X, M, RX, RM are in Comtrade's data dictionary
(``reference/comtrade_TradeDataItems.json``: "exports, re-exports, imports, re-imports, etc."),
the recorded vignette3 CSV (M, RM, X) and every public client [confirmed]; the six others come
from a public UI that copies tradeRegimes.json ("exactly these 10 codes": file-index id
54606084235) and a public JSON schema of the v1 record (M, X, MIP, XIP, MOP, XOP, RM, RX:
api-evangelist/un-comtrade ``json-schema/trade-record.json``) [consistent for MIP/XIP/MOP/XOP,
unverified for DX/FM]. Each memo flow is kept under its own code, **never added to X or M**
(a domestic export is part of X, a re-export is part of X where the reporter uses the general
trade system: adding would double count). Valuation follows the side: CIF for the import side,
FOB for the export side (IMTS 2010; sources.md §1 "Units and valuation").
"""

from __future__ import annotations

import pycountry

from flows.reference import UnknownCodeError
from flows.schema import WORLD

NAME = "comtrade"

#: Every flow code of Comtrade's flow reference: code → (description, valuation of primaryValue).
FLOW_CODES: dict[str, tuple[str, str]] = {
    "X": ("Export", "FOB"),
    "M": ("Import", "CIF"),
    "RX": ("Re-export", "FOB"),
    "RM": ("Re-import", "CIF"),
    "DX": ("Domestic export", "FOB"),
    "FM": ("Foreign import", "CIF"),
    "XIP": ("Export after inward processing", "FOB"),
    "XOP": ("Export for outward processing", "FOB"),
    "MIP": ("Import for inward processing", "CIF"),
    "MOP": ("Import after outward processing", "CIF"),
}
#: The headline flows; every other code of :data:`FLOW_CODES` is a memo flow.
HEADLINE_FLOWS: frozenset[str] = frozenset({"X", "M"})
#: Memo flows: stored under their own code, never added to exports or imports.
MEMO_FLOWS: frozenset[str] = frozenset(FLOW_CODES) - HEADLINE_FLOWS
#: Valuation of X, M, RX and RM — the flows :data:`flows.schema.FLOWS` holds today (used by
#: :mod:`flows.sources.comtrade_bulk`). :data:`FLOW_CODES` has the valuation of every code.
FLOW_VALUATION: dict[str, str] = {code: FLOW_CODES[code][1] for code in ("X", "M", "RX", "RM")}

#: Comtrade code → ISO3 key (or ``WLD``) where the ISO 3166-1 numeric lookup would be wrong,
#: with the ISO-like code Comtrade prints for it in ``reporterISO``/``partnerISO``.
AREA_OVERRIDES: dict[int, tuple[str, str]] = {
    0: (WORLD, "W00"),
    842: ("USA", "USA"),
    699: ("IND", "IND"),
    251: ("FRA", "FRA"),
    757: ("CHE", "CHE"),
    579: ("NOR", "NOR"),
    490: ("TWN", "S19"),
    412: ("XKX", "_KS"),
}

#: Comtrade areas kept as named aggregates ``COMTRADE_<code>``: code → (Comtrade ISO, name), from
#: Comtrade's Reporters.json and partnerAreas.json (reference/comtrade_* in shared/data/real).
COMTRADE_AREAS: dict[int, tuple[str, str]] = {
    58: ("BEL", "Belgium-Luxembourg (...1998)"),
    80: ("ATB", "Br. Antarctic Terr."),
    97: ("EUR", "European Union"),
    129: ("A49", "Caribbean, nes"),
    158: ("TWN", "Taiwan, Province of China (Comtrade reports Taiwan as 490)"),
    200: ("CSK", "Czechoslovakia (...1992)"),
    221: ("E29", "Eastern Europe, nes"),
    230: ("ETH", "Ethiopia (...1992)"),
    250: ("FRA", "Metropolitan France (France is 251, with Monaco)"),
    278: ("DDR", "Dem. Rep. of Germany (...1990)"),
    280: ("DEU", "Fed. Rep. of Germany (...1990)"),
    290: ("F49", "Northern Africa, nes"),
    356: ("IND", "India (...1974)"),
    457: ("_SK", "Sarawak"),
    459: ("_PM", "Peninsula Malaysia (...1963)"),
    461: ("_SH", "Sabah (...1963)"),
    471: ("R91", "CACM, nes"),
    472: ("_AC", "Africa CAMEU region, nes"),
    473: ("A79", "LAIA, nes"),
    488: ("_MI", "Midway Islands"),
    527: ("O19", "Oceania, nes"),
    530: ("ANT", "Netherlands Antilles (...2010)"),
    532: ("ANT", "Netherlands Antilles and Aruba (...1985)"),
    536: ("NTZ", "Neutral Zone"),
    568: ("E19", "Other Europe, nes"),
    577: ("F19", "Other Africa, nes"),
    578: ("NOR", "Norway, excluding Svalbard and Jan Mayen (Norway is 579)"),
    582: ("PCI", "Pacific Isds (...1991)"),
    588: ("PAK", "East and West Pakistan (...1971)"),
    590: ("PAN", "Panama, excl.Canal Zone (...1977)"),
    592: ("PCZ", "Panama-Canal-Zone (...1977)"),
    636: ("A79", "Rest of America, nes"),
    637: ("A59", "North America and Central America, nes"),
    647: ("_RI", "Ryukyu Isd"),
    658: ("KNA", "Saint Kitts, Nevis and Anguilla (...1980)"),
    697: ("R20", "Europe EFTA, nes"),
    698: ("_SM", "Sikkim, Protectorate of India (...1974)"),
    711: ("ZA1", "Southern African Customs Union (...1999)"),
    717: ("_RN", "Rhodesia Nyas (...1964)"),
    720: ("YMD", "Dem. Yemen (...1990)"),
    736: ("SDN", "Sudan (...2011)"),
    756: ("CHE", "Switzerland (Comtrade's Switzerland is 757)"),
    810: ("SUN", "USSR (...1990)"),
    830: ("_CI", "Channel Islands"),
    835: ("_TK", "Tanganyika (...1964)"),
    836: ("_ZP", "Zanzibar and Pemba Isd (...1964)"),
    837: ("X1", "Bunkers"),
    838: ("X2", "Free Zones"),
    839: ("XX", "Special Categories"),
    840: ("USA", "United States of America (Comtrade's USA is 842, with PR and VI)"),
    841: ("USA", "USA and Puerto Rico (...1980)"),
    849: ("PUS", "US Misc. Pacific Isds"),
    866: ("VDR", "Dem. Rep. of Vietnam (...1974)"),
    868: ("VNM", "Rep. of Vietnam (...1974)"),
    872: ("_WI", "Wake Island"),
    879: ("F97", "Western Asia, nes"),
    886: ("YEM", "Arab Rep. of Yemen (...1990)"),
    890: ("YUG", "Yugoslavia (...1991)"),
    891: ("SCG", "Serbia and Montenegro (...2005)"),
    899: ("_X", "Areas, nes"),
    975: ("R4", "ASEAN"),
}

AGGREGATE_PREFIX = "COMTRADE_"


def comtrade_area(code: int | str, iso: str | None = None, *, kind: str = "partner") -> tuple[str, str]:
    """Harmonised key and kind of a Comtrade area code: ``(key, partner_kind)``.

    ``key`` is an ISO3 code, ``WLD`` or ``COMTRADE_<code>``; ``partner_kind`` is ``country``,
    ``world`` or ``aggregate`` (see the module docstring for the rules). ``iso`` is the record's
    ``reporterISO``/``partnerISO`` if present; it is checked against the code.

    Raises :class:`UnknownCodeError` (source ``comtrade``, ``kind`` reporter/partner) for a code
    with no mapping, :class:`ValueError` when ``iso`` contradicts the code.
    """
    try:
        number = int(str(code).strip())
    except ValueError:
        raise UnknownCodeError(NAME, str(code), kind) from None
    if number in AREA_OVERRIDES:
        key, expected = AREA_OVERRIDES[number]
        accepted = {expected, key}
        result = (key, "world" if key == WORLD else "country")
    elif number in COMTRADE_AREAS:
        expected = COMTRADE_AREAS[number][0]
        accepted = {expected}
        result = (f"{AGGREGATE_PREFIX}{number}", "aggregate")
    else:
        country = pycountry.countries.get(numeric=f"{number:03d}") if number >= 0 else None
        if country is None:
            raise UnknownCodeError(NAME, str(code), kind)
        accepted = {country.alpha_3}
        result = (country.alpha_3, "country")
    if iso is not None and str(iso).strip() and str(iso).strip() not in accepted:
        raise ValueError(
            f"{kind} code {number} is printed with ISO {iso!r}, expected {sorted(accepted)} "
            "(Comtrade's code table changed?)"
        )
    return result


def comtrade_code(key: str, *, kind: str = "partner") -> int:
    """The Comtrade area code to request for an ISO3 key, ``WLD`` or ``COMTRADE_<code>``.

    ``USA`` → 842, ``IND`` → 699, ``FRA`` → 251, ``CHE`` → 757, ``NOR`` → 579, ``TWN`` → 490,
    ``WLD`` → 0, other ISO3 codes → their ISO 3166-1 numeric code. Raises
    :class:`UnknownCodeError` for anything else (e.g. ``EU27_2020``, which Comtrade lacks).
    """
    text = key.strip().upper()
    for number, (target, _) in AREA_OVERRIDES.items():
        if target == text:
            return number
    if text.startswith(AGGREGATE_PREFIX):
        suffix = text.removeprefix(AGGREGATE_PREFIX)
        if suffix.isdigit() and int(suffix) in COMTRADE_AREAS:
            return int(suffix)
        raise UnknownCodeError(NAME, key, kind)
    country = pycountry.countries.get(alpha_3=text) if len(text) == 3 else None
    if country is None or int(country.numeric) in COMTRADE_AREAS:
        raise UnknownCodeError(NAME, key, kind)
    return int(country.numeric)


