"""Publisher modules, one per source (see :mod:`flows.sources.base` for the contract).

``get_source(name)`` imports a module by key; ``SOURCE_NAMES`` lists the keys in the order a
run processes them (exchange rates last: they are not observations).
"""

from __future__ import annotations

import importlib
from types import ModuleType

#: Publishers of trade observations.
OBSERVATION_SOURCES: tuple[str, ...] = ("gacc", "comtrade", "imf", "census", "eurostat")
#: Every source key, including the ECB exchange rates used for USD conversion.
SOURCE_NAMES: tuple[str, ...] = (*OBSERVATION_SOURCES, "ecb")


def get_source(name: str) -> ModuleType:
    """The publisher module for ``name``; raises ``KeyError`` for an unknown source."""
    if name not in SOURCE_NAMES:
        raise KeyError(f"unknown source {name!r}; known sources: {', '.join(SOURCE_NAMES)}")
    return importlib.import_module(f"flows.sources.{name}")


def target_of(module: ModuleType) -> str:
    """The raw table a source's parsed frames go to: ``observations`` or ``fx_rates``."""
    return getattr(module, "TARGET", "observations")
