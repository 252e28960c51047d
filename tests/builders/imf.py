"""Build IMF payloads in the exact layouts of the recordings, for MADE-UP figures.

The IMF's payloads are not bundled (its terms do not clearly allow redistribution), so a plain
clone gets **made-up stand-ins** written by this module into ``tests/fixtures/imf/`` (the
``README.md`` there lists them):

* :func:`imts_message` — SDMX-ML 3.0 ``StructureSpecificData`` as ``api.imf.org`` serves IMTS
  with ``Accept: application/xml``, element for element and attribute for attribute as
  ``shared/data/real/imf/imts_sdmx3_data_USA_XG_FOB_USD_G001+G998_A_2023-2024.xml`` (namespaces,
  header, ``Group`` with ``Comp`` UNIT/TRADE_FLOW/VALUATION, ``Series`` with ``SCALE="6"``, ``Obs``
  with ``OBS_VALUE``/``DERIVATION_TYPE``/``TIME_PERIOD``), plus an XML comment saying the values
  are made up. The strict double (:mod:`tests.double.imf`) writes its made-up answers with it too.
* :func:`dot_compact` — the retired DOT ``CompactData`` JSON as in
  ``shared/data/real/imf/dot_compactdata_A_US_TXG_FOB_USD_W00+B0_2020-2023.json`` (millions of USD,
  ``@UNIT_MULT`` 6, values as strings).

:data:`FIXTURES` maps each stand-in's file name to its recording and builder; ``uv run python -m
tests.builders.imf`` rewrites the files and ``tests/test_imf.py`` checks they are up to date.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

FIXTURE_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "imf"

MSG = "http://www.sdmx.org/resources/sdmxml/schemas/v3_0/message"
COMMON = "http://www.sdmx.org/resources/sdmxml/schemas/v3_0/common"
SS = "http://www.sdmx.org/resources/sdmxml/schemas/v3_0/data/structurespecific"
DSD = "urn:sdmx:org.sdmx.infomodel.datastructure.DataStructure=IMF.STA:DSD_IMTS(1.0.0)"
#: The root element's namespace declarations, in the recording's order.
_ROOT = (
    'xmlns:metadata="http://www.sdmx.org/resources/sdmxml/schemas/v3_0/metadata/generic" '
    f'xmlns:common="{COMMON}" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:message="{MSG}" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:xml="http://www.w3.org/XML/1998/namespace" '
    f'xmlns:ss="{SS}" xmlns:ns1="{DSD}:ObsLevelDim:TIME_PERIOD" '
    f'xsi:schemaLocation="{MSG} ../../schemas/SDMXMessage.xsd"'
)
#: INDICATOR → (TRADE_FLOW, VALUATION) of its ``Group`` (the recording's XG_FOB_USD; MG_CIF_USD
#: by the same pattern, as the IMTS code list names it).
GROUPS = {"XG_FOB_USD": ("XG", "FOB"), "MG_CIF_USD": ("MG", "CIF")}


@dataclass(frozen=True)
class Series:
    """One IMTS series: its key and ``(TIME_PERIOD, OBS_VALUE in whole USD, DERIVATION_TYPE or
    None)`` observations."""

    country: str
    indicator: str
    counterpart: str
    frequency: str
    obs: tuple[tuple[str, int | str, str | None], ...]


def imts_message(series: list[Series], *, message_id: str, prepared: str | None, comment: str,
                 test: bool = True, sender: str = "unknown") -> bytes:
    """An SDMX-ML 3.0 StructureSpecificData message in the recording's layout; ``comment`` goes
    in an XML comment after the declaration (say there that the values are made up).
    ``prepared`` (the header's ``Prepared``, which the parser reads as the vintage) is left out
    when ``None``."""
    stamp = "" if prepared is None else f"<message:Prepared>{prepared}</message:Prepared>"
    groups = "".join(
        f'<Group INDICATOR="{indicator}" ns1:type="GROUP_INDICATOR"><Comp id="UNIT"><Value>USD'
        f'</Value></Comp><Comp id="TRADE_FLOW"><Value>{GROUPS[indicator][0]}</Value></Comp>'
        f'<Comp id="VALUATION"><Value>{GROUPS[indicator][1]}</Value></Comp></Group>'
        for indicator in dict.fromkeys(s.indicator for s in series)
    )
    body = "".join(
        f'<Series COUNTRY="{s.country}" INDICATOR="{s.indicator}" COUNTERPART_COUNTRY='
        f'"{s.counterpart}" FREQUENCY="{s.frequency}" OVERLAP="OL" SCALE="6">'
        + "".join(
            f'<Obs OBS_VALUE="{value}"'
            + (f' DERIVATION_TYPE="{derivation}"' if derivation else "")
            + f' TIME_PERIOD="{period}"/>'
            for period, value, derivation in s.obs
        )
        + "</Series>"
        for s in series
    )
    return (
        f"<?xml version='1.0' encoding='UTF-8'?><!-- {comment} --><message:StructureSpecificData "
        f"{_ROOT}><message:Header><message:ID>{message_id}</message:ID><message:Test>"
        f"{str(test).lower()}</message:Test>{stamp}"
        f'<message:Sender id="{sender}"/><message:Structure structureID="IMF.STA.DSD_IMTS.1.0.0" '
        f'namespace="{DSD}" dimensionAtObservation="TIME_PERIOD"><common:Structure>{DSD}'
        "</common:Structure></message:Structure></message:Header><message:DataSet "
        f'ss:structureRef="IMF.STA.DSD_IMTS.1.0.0" action="Replace">{groups}{body}'
        "</message:DataSet></message:StructureSpecificData>"
    ).encode()


def dot_compact(series: dict[str, dict[str, str]], *, reporter: str = "US",
                indicator: str = "TXG_FOB_USD", message_id: str = "MADE-UP",
                prepared: str = "2026-01-20T08:00:00") -> bytes:
    """A retired-DOT ``CompactData`` JSON answer (annual; ``series``: counterpart area →
    ``{year: value in millions of USD as text}``) in the recording's layout."""
    return json.dumps({"CompactData": {
        "@xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
        "@xmlns:xsd": "http://www.w3.org/2001/XMLSchema",
        "@xsi:schemaLocation": "http://www.SDMX.org/resources/SDMXML/schemas/v2_0/message "
        "https://registry.sdmx.org/schemas/v2_0/SDMXMessage.xsd http://dataservices.imf.org/compact/"
        "DOT http://dataservices.imf.org/compact/DOT.xsd",
        "@xmlns": "http://www.SDMX.org/resources/SDMXML/schemas/v2_0/message",
        "Header": {"ID": message_id, "Test": "true", "Prepared": prepared,
                   "Sender": {"@id": "1C0", "Name": {"@xml:lang": "en", "#text": "IMF"},
                              "Contact": {"URI": "http://www.imf.org", "Telephone": "made up"}},
                   "Receiver": {"@id": "ZZZ"}, "DataSetID": "DOT"},
        "DataSet": {"@xmlns": "http://dataservices.imf.org/compact/DOT", "Series": [
            {"@FREQ": "A", "@REF_AREA": reporter, "@INDICATOR": indicator,
             "@COUNTERPART_AREA": area, "@UNIT_MULT": "6", "@TIME_FORMAT": "P1Y",
             "Obs": [{"@TIME_PERIOD": year, "@OBS_VALUE": value} for year, value in obs.items()]}
            for area, obs in series.items()
        ]},
    }}, separators=(",", ":")).encode()  # fmt: skip


# ------------------------------------------------------------------------------------------
# the MADE-UP stand-ins of the recordings

MADE_UP = "MADE-UP VALUES, not IMF data: written by tests/builders/imf.py in the layout of"
#: US exports FOB (whole USD) to G001 (World) and G998 (EU), 2023 and 2024: MADE UP; each EU
#: figure is below the World one.
ANNUAL_MADE_UP = {
    ("G001", "2023"): 1_912_345_678_901, ("G001", "2024"): 1_987_654_321_098,
    ("G998", "2023"): 345_678_901_234, ("G998", "2024"): 356_789_012_345,
}  # fmt: skip
ANNUAL = "imts_sdmx3_data_USA_XG_FOB_USD_G001+G998_A_2023-2024"
DOT = "dot_compactdata_A_US_TXG_FOB_USD_W00+B0_2020-2023"
#: DOT's MADE-UP millions: 2023 equals the IMTS stand-in ÷ 10^6 (the SCALE trap the recordings
#: show); 2020–2022 invented, EU (B0) below World (W00) every year.
DOT_MADE_UP = {
    "B0": {"2020": "250000.5", "2021": "280000.25", "2022": "330000.125", "2023": "345678.901234"},
    "W00": {"2020": "1500000.5", "2021": "1700000.25", "2022": "2000000.125",
            "2023": "1912345.678901"},
}  # fmt: skip


def annual_made_up() -> bytes:
    """The stand-in of the recorded annual IMTS message (US exports, G001+G998, 2023–2024)."""
    series = [
        Series("USA", "XG_FOB_USD", area, "A",
               tuple((year, ANNUAL_MADE_UP[(area, year)], "M") for year in ("2023", "2024")))
        for area in ("G001", "G998")
    ]
    return imts_message(series, message_id="MADE-UP", prepared="2026-01-20T08:00:00Z",
                        comment=f"{MADE_UP} shared/data/real/imf/{ANNUAL}.xml")


#: Stand-in file name → (the recording it stands in for, its builder).
FIXTURES = {
    f"{ANNUAL}_made_up.xml": (f"{ANNUAL}.xml", annual_made_up),
    f"{DOT}_made_up.json": (f"{DOT}.json", lambda: dot_compact(DOT_MADE_UP)),
}


def write() -> None:
    """Rewrite the stand-ins in ``tests/fixtures/imf/``."""
    for name, (_recording, build) in FIXTURES.items():
        (FIXTURE_DIR / name).write_bytes(build())


if __name__ == "__main__":  # pragma: no cover
    write()
