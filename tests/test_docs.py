"""The data dictionary (flows/docs.py) and sql/README.md generated from the models' comments.

Numbers loaded here are MADE UP; they only need to give the example questions something to answer.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from flows import docs
from flows.warehouse import create_raw_tables
from tests.sql_harness import build, load, rows, series, warehouse

README = Path(__file__).resolve().parents[1] / "sql" / "README.md"


def _example_warehouse() -> duckdb.DuckDBPyConnection:
    """Made-up monthly trade, January 2024 – March 2025: China (GACC, USD edition) with the world
    and three partners, the US side (Census) of China–US trade, and two peers (Comtrade)."""
    con = warehouse()
    start = date(2024, 1, 1)
    partners = {"USA": (40, 12), "DEU": (15, 10), "JPN": (12, 14)}
    records = []
    for index, (partner, (x, m)) in enumerate(partners.items()):
        growth = 1.0 + 0.05 * index  # 2025 exports: USA flat, DEU +5 %, JPN +10 %
        records += series("gacc", "CHN", "USD", start, partner=partner,
                          exports=[x] * 12 + [x * growth] * 3, imports=[m] * 15)
    records += series("gacc", "CHN", "USD", start, exports=[100] * 12 + [106] * 3,
                      imports=[80] * 15)
    records += series("census", "USA", "USD", start, partner="CHN", exports=[11] * 15,
                      imports=[41] * 15)
    records += series("comtrade", "VNM", "USD", start, exports=[30] * 12 + [33] * 3,
                      imports=[28] * 12 + [30] * 3)
    records += series("comtrade", "IND", "USD", start, exports=[25] * 12 + [26] * 3,
                      imports=[35] * 12 + [36] * 3)
    load(con, records)
    build(con)
    return con


def test_readme_is_the_generated_dictionary():
    con = warehouse()
    build(con)
    assert README.read_text(encoding="utf-8") == docs.data_dictionary(con), (
        "sql/README.md is out of date: run `uv run python -m flows.docs > sql/README.md`")


def test_every_mart_and_column_is_in_the_dictionary_with_its_comment():
    con = warehouse()
    build(con)
    text = docs.data_dictionary(con)
    columns = rows(con, """SELECT c.table_name, t.comment AS table_comment, c.column_name,
                                  c.data_type, c.comment
                           FROM duckdb_columns() AS c
                           JOIN (SELECT schema_name, table_name, comment FROM duckdb_tables()
                                 UNION ALL SELECT schema_name, view_name, comment
                                 FROM duckdb_views()) AS t USING (schema_name, table_name)
                           WHERE c.schema_name = 'marts'""")
    tables = {c["table_name"] for c in columns}
    assert {"trade_balance_monthly", "bilateral_balance_monthly", "mirror_gaps", "peer_comparison",
            "imbalance_signals", "commodity_drivers", "revisions"} <= tables
    for table in tables:
        assert f"### `marts.{table}`" in text
    for c in columns:
        assert c["comment"], f"marts.{c['table_name']}.{c['column_name']} has no comment"
        comment = c["comment"].replace("|", "\\|")
        assert f"| `{c['column_name']}` | {c['data_type']} | {comment} |" in text
    assert "### `intermediate.balance_metrics`" in text
    assert "### `marts.commodity_drivers` (view)" in text
    assert text.index("## Schema `marts`") < text.index("## Schema `intermediate`")
    assert text.count("```sql") == len(docs.EXAMPLES) == 3


def test_dictionary_marks_undocumented_columns_and_escapes_pipes():
    con = duckdb.connect(":memory:")
    con.execute("CREATE SCHEMA scratch")
    con.execute("CREATE TABLE scratch.t (a INTEGER, b VARCHAR)")
    con.execute("COMMENT ON TABLE scratch.t IS 'A table | with a pipe'")
    con.execute("COMMENT ON COLUMN scratch.t.a IS 'Count, whole units'")
    text = docs.data_dictionary(con, schemas=("scratch", "absent"))
    assert "### `scratch.t`\n\nA table \\| with a pipe\n" in text
    assert "| `a` | INTEGER | Count, whole units |" in text
    assert "| `b` | VARCHAR | – |" in text
    assert "absent" not in text


def test_example_questions_answer_on_made_up_data():
    con = _example_warehouse()
    for example in docs.EXAMPLES:
        for statement in filter(str.strip, example.sql.split(";")):
            found = rows(con, statement)
            assert found, f"no rows for: {example.question}\n{statement}"
    # question 2: the partner adding most to China's export growth in the made-up data is JPN
    # (+10 % on 12 a month), then DEU (+5 % on 15); USA is flat
    statement = docs.EXAMPLES[1].sql.rstrip(";")
    ranked = [r["partner"] for r in rows(con, statement)]
    assert ranked == ["JPN", "DEU", "USA"]
    # question 3 (first statement): China's exports to the US against the US's imports (customs
    # value, not deflated): 40 against 41 a month
    mirror = rows(con, docs.EXAMPLES[2].sql.split(";")[0])
    assert {(r["cif_fob_factor"], r["exporter_source"], r["importer_source"]) for r in mirror} == {
        (1.0, "gacc", "census")}


def test_main_prints_the_dictionary_of_a_warehouse_file(tmp_path, capsys):
    path = tmp_path / "trade.duckdb"
    con = duckdb.connect(str(path))
    create_raw_tables(con)
    build(con)
    expected = docs.data_dictionary(con)
    con.close()
    assert docs.main([str(path)]) == 0
    assert capsys.readouterr().out == expected
    assert docs.main([]) == 0
    assert capsys.readouterr().out == expected  # the dictionary does not depend on the data
    assert docs.main([str(tmp_path / "missing.duckdb")]) == 2
    assert "no warehouse" in capsys.readouterr().err
