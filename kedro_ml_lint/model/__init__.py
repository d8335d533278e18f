"""Pure data: the pair's graph, its catalog view and name helpers. No I/O, no kedro."""

from __future__ import annotations

from kedro_ml_lint.model.catalog import DatasetSpec, Origin
from kedro_ml_lint.model.pair import (
    DatasetFlow,
    NodeSpec,
    PairFacts,
    PairSource,
    Role,
    build_graph,
    build_pair,
)
from kedro_ml_lint.model.wiring import Factory, Logger, MlflowRange, Wiring

__all__ = [
    "DatasetFlow",
    "DatasetSpec",
    "Factory",
    "Logger",
    "MlflowRange",
    "NodeSpec",
    "Origin",
    "PairFacts",
    "PairSource",
    "Role",
    "Wiring",
    "build_graph",
    "build_pair",
]
