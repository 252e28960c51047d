"""Rebuild US Census international trade API responses from the recorded R data frames.

``shared/data/real/census/intltrade_*_rdataframe.csv`` hold the API's rows for every month
2013-01…2024-12 (2023–2024 for the HS2 file), saved by their author after ``jsonlite::fromJSON``
turned the header row into column names and the months were ``rbind``-ed (PROVENANCE.md, second
pass, ``census/``). The raw JSON text was not recorded anywhere.

:func:`census_json` puts one month back into the API's wire shape: a JSON array of arrays whose
first row is the header (the data frame's column names, in their order, which is the order of the
request's ``get`` variables followed by the echoed predicates ``YEAR``, ``MONTH``, ``COMM_LVL``),
then one array per row in file order, every value a string and R ``NA`` (an empty CSV field) as
``null``. **The values are the real ones, byte for byte; the JSON envelope (brackets, one row per
line as the API prints it) is reconstructed.**
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import polars as pl


@cache
def _months(path: Path) -> tuple[list[str], dict[tuple[str, str], pl.DataFrame]]:
    """Header and rows grouped by (YEAR, MONTH), every value the file's string (``None`` = NA)."""
    frame = pl.read_csv(path, infer_schema=False)  # all columns as strings; empty field -> null
    if "YEAR" not in frame.columns or "MONTH" not in frame.columns:
        raise ValueError(f"{path.name}: no YEAR/MONTH columns in {frame.columns}")
    months = {
        (str(year), str(month)): part
        for (year, month), part in frame.partition_by(
            ["YEAR", "MONTH"], as_dict=True, maintain_order=True
        ).items()
    }
    return frame.columns, months


def census_json(
    csv_path: str | Path, year: int | str, month: int | str, value_field: str | None = None
) -> bytes:
    """The API's JSON body for ``year``-``month`` rebuilt from a recorded data-frame CSV.

    ``year``/``month`` may be ints or the query strings (``"2024"``, ``"12"``). ``value_field``
    (``ALL_VAL_MO``, ``GEN_VAL_MO``), when given, must be a column of the file; it guards against
    pairing a file with the wrong endpoint. Raises ``ValueError`` when it is not, when year or
    month is not a number, or when the file has no rows for that month.
    """
    path = Path(csv_path)
    header, months = _months(path)
    year, month = int(year), int(month)
    if value_field is not None and value_field not in header:
        raise ValueError(f"{path.name} has no {value_field} column (columns: {header})")
    part = months.get((f"{year}", f"{month:02d}"))
    if part is None or part.is_empty():
        raise ValueError(f"{path.name} has no rows for {year}-{month:02d}")
    return census_body(header, part.rows())


def census_body(header: list[str], rows) -> bytes:
    """The API's wire shape for ``header`` and ``rows`` (sequences of strings or ``None``): a
    JSON array of arrays, header first, one row per line."""
    lines = [json.dumps(list(header), separators=(",", ":"))]
    lines += [json.dumps(list(row), separators=(",", ":")) for row in rows]
    return ("[" + ",\n".join(lines) + "]").encode("utf-8")


def census_rows(csv_path: str | Path, year: int, month: int) -> list[dict[str, str | None]]:
    """The recorded rows of ``year``-``month`` as dicts {column: string or None}, in file order
    (empty when the file has no rows for that month). The values are the real ones."""
    _header, months = _months(Path(csv_path))
    part = months.get((f"{year}", f"{month:02d}"))
    return [] if part is None else [dict(row) for row in part.iter_rows(named=True)]


#: Made-up partner rows for months after the recordings: (CTY_CODE, CTY_NAME, value in USD).
#: **Not published figures**; every name says so. Internally consistent like a real answer (world
#: total first, then groupings and countries in code order): the Schedule C countries add up to the
#: world total (200,000 + 150,000 + 100,000 + 150,000 + 100,000 + 300,000 = 1,000,000) and the EU
#: grouping to its members here (France + Germany = 250,000); the grouping is never summed.
MADE_UP_ROWS: tuple[tuple[str, str, int], ...] = (
    ("-", "TOTAL FOR ALL COUNTRIES (MADE UP)", 1_000_000),
    ("0003", "EUROPEAN UNION (MADE UP)", 250_000),
    ("1220", "CANADA (MADE UP)", 200_000),
    ("2010", "MEXICO (MADE UP)", 150_000),
    ("4279", "FRANCE (MADE UP)", 100_000),
    ("4280", "GERMANY (MADE UP)", 150_000),
    ("5520", "VIETNAM (MADE UP)", 100_000),
    ("5700", "CHINA (MADE UP)", 300_000),
)


def made_up_rows(value_field: str, year: int, month: int) -> list[dict[str, str | None]]:
    """Rows in the recorded files' shape (``CTY_CODE, CTY_NAME, <value_field>, YEAR, MONTH``)
    with **made-up** values (:data:`MADE_UP_ROWS`), for a double pretending a month after the
    recordings is published. Never assert these as real."""
    return [
        {"CTY_CODE": code, "CTY_NAME": name, value_field: str(value), "YEAR": f"{year}",
         "MONTH": f"{month:02d}"}
        for code, name, value in MADE_UP_ROWS
    ]
