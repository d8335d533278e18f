"""Kedro pipelines from plain ``(inputs, outputs)`` specs, for the generated tests."""

from __future__ import annotations

import warnings
from typing import Any

from kedro.pipeline import Pipeline, node

NodeSpecs = list[tuple[list[str], list[str]]]


def func_with_outputs(n_outputs: int) -> Any:
    """A node function returning ``n_outputs`` values (never called by the linter)."""

    def func(*args: Any) -> Any:
        return (None,) * n_outputs if n_outputs > 1 else None

    return func


def build(specs: NodeSpecs) -> Pipeline:
    """One node ``n<index>`` per spec; Kedro's construction warnings are silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Pipeline(
            [
                node(
                    func_with_outputs(len(outs)),
                    ins,
                    (outs[0] if len(outs) == 1 else outs) or None,
                    name=f"n{index}",
                )
                for index, (ins, outs) in enumerate(specs)
            ]
        )
