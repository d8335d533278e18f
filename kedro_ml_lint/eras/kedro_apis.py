"""Kedro APIs that older projects import and the installed Kedro no longer has.

While such a project loads, the installed Kedro's modules answer for the names they
used to have: ``kedro.config.ConfigLoader``/``TemplatedConfigLoader`` (removed in
0.19) are emulated; ``…DataSet`` names (renamed ``…Dataset`` in 0.19) are aliases;
``pipeline(pipe=…)`` (renamed ``nodes=`` in 1.0) and ``node(decorators=…)`` (removed
in 0.19) are accepted; ``kedro.pipeline.modular_pipeline`` (merged into
``kedro.pipeline`` in 1.0) is a real module again. Anything else an older Kedro had is
a stand-in (lite import), e.g. ``kedro.versioning.Journal`` or ``kedro.extras.datasets``.
Everything is put back when the load ends.
"""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from types import ModuleType
from typing import Any

from kedro_ml_lint.eras.legacy_config import (
    LegacyConfigLoader,
    LegacyTemplatedConfigLoader,
)
from kedro_ml_lint.importing.lite import StandIn
from kedro_ml_lint.seams.patching import swapped_attribute

MODULAR_PIPELINE = "kedro.pipeline.modular_pipeline"
# Modules of the installed Kedro that older projects import names from.
_ANSWERING_MODULES = (
    "kedro.config",
    "kedro.io",
    "kedro.io.core",
    "kedro.pipeline",
    "kedro.pipeline.node",
    "kedro.framework.context",
    "kedro.framework.hooks",
    "kedro.framework.session",
    "kedro.framework.session.store",
    "kedro.runner",
)
_EMULATED = {
    "ConfigLoader": LegacyConfigLoader,
    "TemplatedConfigLoader": LegacyTemplatedConfigLoader,
}


def _legacy_pipeline(real: Any) -> Any:
    @functools.wraps(real)
    def pipeline(pipe: Any = None, *args: Any, nodes: Any = None, **kwargs: Any) -> Any:
        return real(nodes if nodes is not None else pipe, *args, **kwargs)

    return pipeline


def _legacy_node(real: Any) -> Any:
    @functools.wraps(real)
    def node(*args: Any, decorators: Any = None, **kwargs: Any) -> Any:
        # ``decorators`` wrapped the function at run time; the structure is the same.
        return real(*args, **kwargs)

    return node


def _answer_old_names(module: ModuleType) -> Any:
    """A module ``__getattr__`` that answers the names an older Kedro had."""
    original = module.__dict__.get("__getattr__")

    def __getattr__(name: str) -> Any:
        if original is not None:
            try:
                return original(name)
            except AttributeError:
                pass
        if name in _EMULATED:
            return _EMULATED[name]
        renamed = name.replace("DataSet", "Dataset")
        if renamed != name and renamed in module.__dict__:
            return module.__dict__[renamed]
        if name.startswith("__"):
            raise AttributeError(name)
        return StandIn(f"{module.__name__}.{name}")

    return __getattr__


def modular_pipeline_module() -> ModuleType:
    """``kedro.pipeline.modular_pipeline`` as projects of Kedro < 1.0 import it."""
    import kedro.pipeline as kedro_pipeline

    module = ModuleType(MODULAR_PIPELINE)
    module.pipeline = _legacy_pipeline(kedro_pipeline.__dict__["pipeline"])  # type: ignore[attr-defined]
    module.__kml_stand_in__ = True  # type: ignore[attr-defined]
    return module


@contextmanager
def older_kedro_apis() -> Iterator[None]:
    """Let a project written for an older Kedro import what it used to."""
    with ExitStack() as stack:
        for name in _ANSWERING_MODULES:
            try:
                module = importlib.import_module(name)
            except ImportError:
                continue
            stack.enter_context(swapped_attribute(module, "__getattr__", _answer_old_names(module)))
        pipeline_package = sys.modules["kedro.pipeline"]
        stack.enter_context(
            swapped_attribute(
                pipeline_package, "pipeline", _legacy_pipeline(pipeline_package.pipeline)
            )
        )
        stack.enter_context(
            swapped_attribute(pipeline_package, "node", _legacy_node(pipeline_package.node))
        )
        yield
