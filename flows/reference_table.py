"""The partner harmonisation reference as a table analysts can query (``meta.partner_codes``).

One row per publisher code or label and the harmonised code the pipeline maps it to, gathered
from the mappings each publisher module applies (so the table is exactly what the parsers use):

=================  ======  ==============================================================
column             type    meaning
=================  ======  ==============================================================
source             str     ``iso`` (ISO 3166-1 from pycountry), ``gacc``, ``comtrade``,
                           ``census``, ``eurostat`` or ``imf``
publisher_code     str     the code or printed label as the publisher writes it
description        str     the publisher's / ISO name, or the aggregate's description
code               str     harmonised code: ISO3, ``WLD`` or an aggregate code
kind               str     ``world``, ``country`` or ``aggregate``
=================  ======  ==============================================================

Rules not listed row by row: other Comtrade codes are ISO 3166-1 numeric codes (the ``iso``
rows); ISO 3166-1 alpha-2 partner codes of Eurostat map through the
``iso`` rows (``EL`` → GRC, ``UK`` → GBR); IMF ISO3 codes are taken as they are; other IMF
group codes (``G###``, ``GX…``, ``TX…``) become ``IMF_<code>`` aggregates.
"""

from __future__ import annotations

import duckdb
import polars as pl
import pycountry

from flows.reference import AGGREGATES, partner_kind

SCHEMA = {
    "source": pl.String(),
    "publisher_code": pl.String(),
    "description": pl.String(),
    "code": pl.String(),
    "kind": pl.String(),
}


def partner_codes() -> pl.DataFrame:
    """Every mapping of every publisher module, with :data:`SCHEMA`."""
    from flows.sources import census, comtrade, eurostat, gacc, imf

    rows: list[tuple] = [
        ("iso", c.alpha_2, c.name, c.alpha_3, "country") for c in pycountry.countries
    ]
    rows += [("iso", c.numeric, c.name, c.alpha_3, "country") for c in pycountry.countries]
    rows += [("gacc", label, None, code, kind) for label, (code, kind) in gacc.partner_table().items()]
    names = {number: name for number, (_alias, name) in comtrade.COMTRADE_AREAS.items()}
    rows += [
        ("comtrade", str(number), names.get(number), *comtrade.comtrade_area(number))
        for number in sorted({0, *comtrade.AREA_OVERRIDES, *comtrade.COMTRADE_AREAS})
    ]
    rows += [
        ("census", number, None, iso3 or f"CENSUS_{number}", "country" if iso3 else "aggregate")
        for number, iso3 in census.schedule_c().items()
    ]
    rows += [
        ("census", number, text, code, "aggregate")
        for number, (code, text) in census.GROUP_CODES.items()
    ]
    rows += [("eurostat", geo, None, code, kind) for geo, (code, kind) in eurostat.AREA_CODES.items()]
    rows += [("imf", area, None, code, kind) for area, (code, kind) in imf.AREA_OVERRIDES.items()]
    frame = pl.DataFrame(rows, schema=SCHEMA, orient="row")
    described = {**AGGREGATES, **eurostat.EXTRA_AGGREGATES}
    return frame.with_columns(
        pl.coalesce("description", pl.col("code").replace_strict(described, default=None)),
        pl.col("kind").fill_null(pl.col("code").map_elements(partner_kind, return_dtype=pl.String)),
    ).unique(maintain_order=True)


def write_partner_codes(con: duckdb.DuckDBPyConnection) -> int:
    """(Re)create ``meta.partner_codes``; returns its row count."""
    frame = partner_codes()
    con.execute("CREATE SCHEMA IF NOT EXISTS meta")
    con.register("partner_codes_frame", frame.to_arrow())
    con.execute("CREATE OR REPLACE TABLE meta.partner_codes AS SELECT * FROM partner_codes_frame")
    con.unregister("partner_codes_frame")
    con.execute(
        "COMMENT ON TABLE meta.partner_codes IS 'Partner harmonisation reference: each publisher "
        "code or label and the harmonised code (ISO3, WLD or aggregate) the pipeline maps it to.'"
    )
    return frame.height
