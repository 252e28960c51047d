"""The partner harmonisation reference (``meta.partner_codes``) holds the documented overrides.

Expected mappings come from docs/sources.md §7 and DESIGN.md §4 ("Keys"): Comtrade
490 → TWN and 842 → USA, Census Schedule C 5700 → CHN, IMF G001 → world, Eurostat CN_X_HK → CHN
(China excluding Hong Kong); GACC prints "Taiwan, China" and "United States (US)".
"""

from __future__ import annotations

import duckdb

from flows.reference_table import partner_codes, write_partner_codes


def _lookup(frame):
    return {(r["source"], r["publisher_code"]): (r["code"], r["kind"]) for r in frame.iter_rows(named=True)}


def test_documented_overrides_are_in_the_reference():
    table = _lookup(partner_codes())
    assert table[("comtrade", "490")] == ("TWN", "country")
    assert table[("comtrade", "842")] == ("USA", "country")
    assert table[("comtrade", "0")] == ("WLD", "world")
    assert table[("comtrade", "97")] == ("COMTRADE_97", "aggregate")
    assert table[("census", "5700")] == ("CHN", "country")
    assert table[("census", "0003")][1] == "aggregate"
    assert table[("imf", "G001")] == ("WLD", "world")
    assert table[("eurostat", "CN_X_HK")] == ("CHN", "country")
    assert table[("gacc", "taiwan, china")] == ("TWN", "country")
    assert table[("gacc", "united states (us)")] == ("USA", "country")
    assert table[("iso", "156")] == ("CHN", "country")


def test_one_mapping_per_publisher_code_and_a_table_in_the_warehouse():
    frame = partner_codes()
    assert frame.select("source", "publisher_code").is_duplicated().sum() == 0
    assert frame["kind"].is_in(["world", "country", "aggregate"]).all()
    con = duckdb.connect()
    assert write_partner_codes(con) == frame.height
    assert con.execute("SELECT count(*) FROM meta.partner_codes").fetchone()[0] == frame.height
