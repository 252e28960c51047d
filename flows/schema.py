"""The canonical observations table: one shape for every publisher (DESIGN.md §4).

Every source parser returns a :class:`polars.DataFrame` with exactly :data:`OBSERVATION_SCHEMA`
(use :func:`conform` to check and order it). One row is one published figure:

============== ======== =====================================================================
column         type     meaning
============== ======== =====================================================================
source         str      publisher key: ``gacc``, ``comtrade``, ``imf``, ``census``, ``eurostat``
reporter       str      ISO 3166-1 alpha-3 of the reporting country, or a named aggregate code
partner        str      ISO3 of the partner, ``WLD`` for the world total, or an aggregate code
partner_kind   str      ``world``, ``country`` or ``aggregate`` (aggregates overlap countries)
flow           str      ``X`` exports, ``M`` imports, ``RX`` re-exports, ``RM`` re-imports
period_start   date     first day of the first month covered
period_end     date     first day of the last month covered
months         int16    number of months covered (1; 2 for a combined Jan–Feb; 12 for a year)
period_type    str      ``month``, ``combined`` (Jan–Feb published as one period), ``ytd``
                        (cumulative from January) or ``year``
commodity      str      ``TOTAL`` or an HS code with its leading zeros (``"01"``, ``"0306"``)
value          float64  the figure in whole units of ``currency`` (never thousands/millions)
currency       str      ISO 4217 code the figure was published in (``USD``, ``CNY``, ``EUR``)
valuation      str      ``FOB``, ``CIF``, ``FAS`` or ``CUSTOMS`` (US customs value, ex freight)
status         str      ``reported``, ``estimated``, ``provisional``, ``confidential``, ...
published_yoy  float64  year-on-year change printed by the publisher, as a ratio
                        (0.059 = +5.9 %); a cross-check only, never used as data
release        str      the publication the figure comes from (title, table, dataset)
vintage        date     release date given by the publication, else the date it was fetched
============== ======== =====================================================================

The loader adds ``payload_sha256`` (the raw archive object the row was parsed from).
"""

from __future__ import annotations

from datetime import date

import polars as pl

OBSERVATION_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),
    "reporter": pl.String(),
    "partner": pl.String(),
    "partner_kind": pl.String(),
    "flow": pl.String(),
    "period_start": pl.Date(),
    "period_end": pl.Date(),
    "months": pl.Int16(),
    "period_type": pl.String(),
    "commodity": pl.String(),
    "value": pl.Float64(),
    "currency": pl.String(),
    "valuation": pl.String(),
    "status": pl.String(),
    "published_yoy": pl.Float64(),
    "release": pl.String(),
    "vintage": pl.Date(),
}

#: Columns that identify one observation within a source (the load key). ``valuation`` is part
#: of it because a publisher may print the same flow on two bases (US Census imports at customs
#: value and CIF); the models use one headline valuation per flow (see
#: ``intermediate.observations.is_headline``).
OBSERVATION_KEY: tuple[str, ...] = (
    "source",
    "reporter",
    "partner",
    "flow",
    "period_start",
    "period_end",
    "commodity",
    "currency",
    "valuation",
)

#: Flows: exports X and imports M; memo flows kept as their own flows, never added to X or M
#: (DESIGN.md §4): re-exports RX, re-imports RM, domestic exports DX, foreign imports FM, and
#: UN Comtrade's processing flows — imports for (MIP) and after (MOP) inward/outward processing,
#: exports after (XIP) and for (XOP) processing (flows/sources/comtrade/codes.py).
FLOWS = frozenset({"X", "M", "RX", "RM", "DX", "FM", "MIP", "MOP", "XIP", "XOP"})
PARTNER_KINDS = frozenset({"world", "country", "aggregate"})
PERIOD_TYPES = frozenset({"month", "combined", "ytd", "year"})
VALUATIONS = frozenset({"FOB", "CIF", "FAS", "CUSTOMS"})

#: Partner code of the world total in every source.
WORLD = "WLD"


class SchemaError(ValueError):
    """A parsed frame does not have the canonical shape or breaks a rule of DESIGN.md §4."""


def empty_observations() -> pl.DataFrame:
    """A zero-row frame with :data:`OBSERVATION_SCHEMA`."""
    return pl.DataFrame(schema=OBSERVATION_SCHEMA)


def conform(frame: pl.DataFrame, *, context: str) -> pl.DataFrame:
    """Return ``frame`` with exactly the canonical columns, in order, after checking its rules.

    ``context`` names the source and request in error messages.

    Raises :class:`SchemaError` when a column is missing or has the wrong type, when a key column
    is null, a value is null without a ``confidential`` status (a withheld figure is the one
    legitimate NULL value), a value is negative or not finite, or a code is outside its vocabulary.
    """
    missing = [c for c in OBSERVATION_SCHEMA if c not in frame.columns]
    if missing:
        raise SchemaError(f"{context}: parsed frame lacks columns {missing}")
    frame = frame.select(list(OBSERVATION_SCHEMA))
    for name, dtype in OBSERVATION_SCHEMA.items():
        if frame.schema[name] != dtype:
            raise SchemaError(f"{context}: column {name} is {frame.schema[name]}, expected {dtype}")
    if frame.is_empty():
        return frame
    required = [c for c in OBSERVATION_SCHEMA if c not in ("published_yoy", "vintage", "value")]
    nulls = {c: n for c, n in frame.select(pl.col(required).null_count()).row(0, named=True).items() if n}
    if nulls:
        raise SchemaError(f"{context}: null values in required columns {nulls}")
    # A NULL value is allowed only for a figure the publisher withholds as confidential (its
    # flag kept in ``status``): missing is not zero, and the row says why it is missing.
    unexplained = frame.filter(
        pl.col("value").is_null() & ~pl.col("status").str.contains("confidential")
    )
    if unexplained.height:
        raise SchemaError(
            f"{context}: {unexplained.height} null values without a confidential status, e.g. "
            f"{unexplained.row(0, named=True)}"
        )
    bad_value = frame.filter(~pl.col("value").is_finite() | (pl.col("value") < 0))
    if bad_value.height:
        raise SchemaError(
            f"{context}: {bad_value.height} negative or non-finite values, e.g. "
            f"{bad_value.row(0, named=True)}"
        )
    for column, allowed in (
        ("flow", FLOWS),
        ("partner_kind", PARTNER_KINDS),
        ("period_type", PERIOD_TYPES),
        ("valuation", VALUATIONS),
    ):
        unknown = set(frame.get_column(column).unique().to_list()) - allowed
        if unknown:
            raise SchemaError(f"{context}: unexpected {column} values {sorted(unknown)}")
    if frame.filter(pl.col("period_end") < pl.col("period_start")).height:
        raise SchemaError(f"{context}: period_end before period_start")
    return frame


def month_start(year: int, month: int) -> date:
    """First day of ``year``-``month``."""
    return date(year, month, 1)


def add_months(day: date, months: int) -> date:
    """First day of the month ``months`` after the month of ``day`` (negative goes back)."""
    index = day.year * 12 + (day.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


#: Exchange rates (ECB reference rates, monthly averages): ``rate`` units of ``currency`` per one
#: ``base`` currency unit in the month starting ``period_start``; e.g. currency ``CNY``, base
#: ``EUR``, rate 7.97026 for March 2026 (ECB series ``EXR/M.CNY.EUR.SP00.A``).
FX_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),
    "currency": pl.String(),
    "base": pl.String(),
    "period_start": pl.Date(),
    "rate": pl.Float64(),
    "series": pl.String(),
    "vintage": pl.Date(),
}
