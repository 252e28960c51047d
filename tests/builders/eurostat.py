"""Rebuild Eurostat SDMX-CSV responses from the recorded tidied R table.

``shared/data/real/eurostat/ext_st_easitc_…_2020-2025.csv`` is the output of the R package
``eurostat::get_eurostat("ext_st_easitc")`` filtered by its author (PROVENANCE.md, ``eurostat/``):
columns ``freq, stk_flow, indic_et, partner, sitc06, geo, TIME_PERIOD, values``, with
``TIME_PERIOD`` turned into a date (``2020-01-01``). No raw SDMX payload of that dataset was
recorded.

:func:`sdmx_csv_from_tidy` writes those rows back in the SDMX-CSV layout of the dissemination API:
``DATAFLOW, LAST UPDATE, <dimensions in the DSD's order>, TIME_PERIOD, OBS_VALUE, OBS_FLAG,
CONF_STATUS``, where the ext_st DSD order is ``freq, stk_flow, indic_et, partner, sitc06, geo``
(live_contracts §1.1; the R table's own column order, which R ``eurostat`` takes from the TSV
header). **The codes and values are the real ones, unchanged (``values`` → ``OBS_VALUE`` as
written in the file); the envelope is reconstructed**: the ``DATAFLOW`` id is given by the
caller, ``TIME_PERIOD`` is cut back to ``YYYY-MM``, ``OBS_FLAG``/``CONF_STATUS`` are empty (the
tidy table dropped flags) and ``LAST UPDATE`` is empty unless the caller passes one.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path

#: Dimension order of the ext_st datasets' DSD (``freq`` included).
EXT_ST_DIMENSIONS: tuple[str, ...] = ("freq", "stk_flow", "indic_et", "partner", "sitc06", "geo")
#: Columns after the dimensions.
OBSERVATION_COLUMNS: tuple[str, ...] = ("TIME_PERIOD", "OBS_VALUE", "OBS_FLAG", "CONF_STATUS")


def read_tidy(path: str | Path) -> list[dict[str, str]]:
    """The rows of the recorded tidy table. Raises ``ValueError`` when a column is missing."""
    path = Path(path)
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    needed = (*EXT_ST_DIMENSIONS, "TIME_PERIOD", "values")
    missing = [c for c in needed if rows and c not in rows[0]]
    if not rows or missing:
        raise ValueError(f"{path.name}: no rows or missing columns {missing}")
    return rows


def recorded_values(path: str | Path) -> dict[tuple[str, ...], str]:
    """``(freq, stk_flow, indic_et, partner, sitc06, geo, YYYY-MM)`` → ``OBS_VALUE`` text, as
    recorded."""
    return {
        (*(row[d] for d in EXT_ST_DIMENSIONS), row["TIME_PERIOD"][:7]): row["values"]
        for row in read_tidy(path)
    }


def sdmx_csv(
    rows: Iterable[Mapping[str, str]],
    dimensions: Sequence[str] = EXT_ST_DIMENSIONS,
    *,
    dataflow: str = "ESTAT:EXT_ST_EASITC(1.0)",
    last_update: str = "",
) -> bytes:
    """SDMX-CSV bytes: one line per row (keys: the dimension ids, ``TIME_PERIOD``, ``OBS_VALUE``
    and optionally ``OBS_FLAG``/``CONF_STATUS``), dimension columns in ``dimensions`` order."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["DATAFLOW", "LAST UPDATE", *dimensions, *OBSERVATION_COLUMNS])
    for row in rows:
        writer.writerow(
            [dataflow, last_update, *(row[d] for d in dimensions),
             *(row.get(c, "") for c in OBSERVATION_COLUMNS)]
        )
    return out.getvalue().encode("utf-8")


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
    rows = read_tidy(path)
    for column, allowed in (where or {}).items():
        rows = [row for row in rows if row[column] in allowed]
    if not rows:
        raise ValueError(f"{Path(path).name}: no rows match {where}")
    return sdmx_csv(
        ({**row, "TIME_PERIOD": row["TIME_PERIOD"][:7], "OBS_VALUE": row["values"]} for row in rows),
        dataflow=dataflow,
        last_update=last_update,
    )
