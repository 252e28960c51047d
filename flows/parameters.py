"""Model parameters: one documented place for every analytical knob (written to ``meta.parameters``).

The SQL models read them from ``meta.parameters`` (``name``, ``value`` as DOUBLE or VARCHAR,
``description``), so a model stays a plain SELECT runnable in the DuckDB CLI. Each run can set
them through the flow's ``parameters`` argument (CLI: ``--param name=value``).
"""

from __future__ import annotations

import duckdb
from pydantic import BaseModel, Field

from flows.scope import Reporter


class ModelParameters(BaseModel):
    """Parameters of the imbalance models."""

    cif_fob_factor: float = Field(
        default=1.06,
        allow_inf_nan=False,
        gt=1.0,
        lt=1.5,
        description="CIF/FOB factor: partner imports valued CIF are divided by it to compare with "
        "FOB exports in mirror gaps (not applied to FOB or US customs-value imports).",
    )
    reliability_min_partners: int = Field(
        default=10,
        ge=1,
        description="Reconciled flows: minimum partner pairs a reporter needs in a year, as exporter "
        "or as importer, for its reliability to weight the reconciliation; below it the weight is "
        "0.5 and the row is flagged (Growth Lab drops countries with < 10 partners).",
    )
    reliability_iterations: int = Field(
        default=25,
        ge=1,
        le=200,
        description="Reconciled flows: iterations of the Growth-Lab reporter-reliability estimate "
        "(MAX_ITERATIONS = 25 in harvard-growth-lab/comtrade-mirroring).",
    )
    signal_threshold: float = Field(
        default=0.03,
        ge=0.0,
        lt=1.0,
        allow_inf_nan=False,
        description="Imbalance signal: minimum gap, as a ratio (0.03 = 3 percentage points), by which "
        "3-month export growth must exceed 3-month import growth.",
    )
    signal_min_months: int = Field(
        default=3, ge=1, description="Imbalance signal: minimum run of consecutive months."
    )
    peer_set: list[Reporter] = Field(
        default_factory=lambda: [Reporter(c) for c in ("CHN", "VNM", "IND", "USA", "EU27_2020")],
        min_length=1,
        description="Reporters compared in marts.peer_comparison (ISO3 or aggregate codes).",
    )
    focus_reporter: Reporter = Field(
        default=Reporter.CHN, description="Reporter whose headline figures lead the run report."
    )


def write_parameters(con: duckdb.DuckDBPyConnection, params: ModelParameters) -> None:
    """(Re)create ``meta.parameters``: one row per parameter, list values comma-joined."""
    con.execute("CREATE SCHEMA IF NOT EXISTS meta")
    con.execute(
        "CREATE OR REPLACE TABLE meta.parameters "
        "(name VARCHAR PRIMARY KEY, value VARCHAR, value_double DOUBLE, description VARCHAR)"
    )
    for name, field in ModelParameters.model_fields.items():
        value = getattr(params, name)
        text = ",".join(value) if isinstance(value, list) else str(value)
        number = float(value) if isinstance(value, int | float) else None
        con.execute(
            "INSERT INTO meta.parameters VALUES (?, ?, ?, ?)",
            [name, text, number, field.description],
        )
