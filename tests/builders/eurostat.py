"""Rebuild Eurostat SDMX-CSV responses from the recorded tidied R table.

``shared/data/real/eurostat/ext_st_easitc_…_2020-2025.csv`` is the output of the R package
``eurostat::get_eurostat("ext_st_easitc")`` filtered by its author (PROVENANCE.md, ``eurostat/``):
columns ``freq, stk_flow, indic_et, partner, sitc06, geo, TIME_PERIOD, values``, with
``TIME_PERIOD`` turned into a date (``2020-01-01``). No raw SDMX payload of that dataset was
recorded.

:func:`sdmx_csv_from_tidy` writes those rows back in the SDMX-CSV layout of the dissemination API
(``DATAFLOW, LAST UPDATE, freq, <dimensions in the dataflow's order>, TIME_PERIOD, OBS_VALUE,
OBS_FLAG``; the dimension order of ``ext_st_*`` is ``freq, indic_et, stk_flow, sitc06, partner,
geo``, sources.md §4). **The codes and values are the real ones, unchanged (``values`` →
``OBS_VALUE`` as written in the file); the envelope is reconstructed**: the ``DATAFLOW`` id is
given by the caller, ``TIME_PERIOD`` is cut back to ``YYYY-MM``, ``OBS_FLAG`` is empty (the tidy
table dropped flags) and ``LAST UPDATE`` is empty unless the caller passes one (the table does not
record it).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Mapping
from pathlib import Path

#: Dimension order of the ext_st datasets (after ``freq``).
EXT_ST_DIMENSIONS: tuple[str, ...] = ("indic_et", "stk_flow", "sitc06", "partner", "geo")


def sdmx_csv_from_tidy(
    path: str | Path,
    *,
    dataflow: str = "ESTAT:EXT_ST_EASITC(1.0)",
    last_update: str = "",
    where: Mapping[str, Collection[str]] | None = None,
) -> bytes:
    """SDMX-CSV bytes for the rows of the tidied table at ``path``.

    ``where`` keeps only rows whose column values are in the given sets, e.g.
    ``{"partner": {"CN_X_HK"}, "TIME_PERIOD": {"2020-01-01"}}`` (matched against the file's own
    strings). Raises ``ValueError`` when the file lacks a column or no row is left.
    """
    path = Path(path)
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    needed = ("freq", *EXT_ST_DIMENSIONS, "TIME_PERIOD", "values")
    missing = [c for c in needed if rows and c not in rows[0]]
    if not rows or missing:
        raise ValueError(f"{path.name}: no rows or missing columns {missing}")
    for column, allowed in (where or {}).items():
        rows = [row for row in rows if row[column] in allowed]
    if not rows:
        raise ValueError(f"{path.name}: no rows match {where}")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    envelope = ["DATAFLOW", "LAST UPDATE", "freq"]
    writer.writerow([*envelope, *EXT_ST_DIMENSIONS, "TIME_PERIOD", "OBS_VALUE", "OBS_FLAG"])
    for row in rows:
        writer.writerow(
            [
                dataflow,
                last_update,
                row["freq"],
                *(row[d] for d in EXT_ST_DIMENSIONS),
                row["TIME_PERIOD"][:7],
                row["values"],
                "",
            ]
        )
    return out.getvalue().encode("utf-8")
