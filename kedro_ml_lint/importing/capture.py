"""Capture what the registry's code does while it loads: factory calls and node sites.

kedro-mlflow's factory raises at import when a pair is broken, which takes the whole
registry down and hides every other violation. While the registry loads, its factory is
wrapped: a call that raises yields our (never-raising) ``PipelineML`` with the same
arguments, so the pair is still analysed and every violation reported.

Each Kedro ``Node`` created meanwhile records where the project's code created it (the
``node(...)`` call), so violations about a node's inputs point where the user edits; a
node copied by ``pipeline(...)`` (namespaces, renamed inputs) keeps its original's site.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from functools import wraps
from typing import Any

from kedro_ml_lint.pipeline_ml import pipeline_ml_factory as tolerant_factory
from kedro_ml_lint.pipeline_ml import remember_call_site
from kedro_ml_lint.seams.kedro_mlflow import MADE_BY_KEDRO_MLFLOW, normalise_factory_call
from kedro_ml_lint.seams.kedro_private import patched_node_construction
from kedro_ml_lint.seams.patching import swapped_attribute

_KEDRO_MLFLOW_FACTORY_HOMES = ("kedro_mlflow.pipeline", "kedro_mlflow.pipeline.pipeline_ml_factory")


@contextmanager
def captured_factories() -> Iterator[None]:
    """Wrap kedro-mlflow's ``pipeline_ml_factory`` where the project can import it."""
    with ExitStack() as stack:
        for home in _KEDRO_MLFLOW_FACTORY_HOMES:
            module = sys.modules.get(home)
            original = getattr(module, "pipeline_ml_factory", None)
            if module is None or not callable(original) or isinstance(original, type(sys)):
                continue
            if getattr(original, "__module__", "").startswith("kedro_ml_lint"):
                continue  # the lite stand-in is ours already
            stack.enter_context(
                swapped_attribute(module, "pipeline_ml_factory", _tolerant(original))
            )
        yield


NODE_SITE = "_kml_site"


def node_site(node: Any) -> tuple[str, int] | None:
    """``(file, line)`` of the project's code that created ``node``, when recorded."""
    site = getattr(node, "__dict__", {}).get(NODE_SITE)
    return site if isinstance(site, tuple) else None


@contextmanager
def recorded_node_sites(is_project_file: Callable[[str], bool]) -> Iterator[None]:
    """Record, on every ``Node`` created in the block, the project's line that created it."""

    def make_init(original_init: Callable[..., None]) -> Callable[..., None]:
        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            original_init(self, *args, **kwargs)
            frame = sys._getframe(1)
            while frame is not None and not is_project_file(frame.f_code.co_filename):
                frame = frame.f_back  # type: ignore[assignment]
            if frame is not None:
                self.__dict__[NODE_SITE] = (frame.f_code.co_filename, frame.f_lineno)

        return __init__

    def make_copy(original_copy: Callable[..., Any]) -> Callable[..., Any]:
        def _copy(self: Any, **overwrite: Any) -> Any:
            copy = original_copy(self, **overwrite)
            site = node_site(self)
            if site is not None:
                copy.__dict__[NODE_SITE] = site
            return copy

        return _copy

    with patched_node_construction(make_init, make_copy):
        yield


def _tolerant(factory: Any) -> Any:
    @wraps(factory)
    def pipeline_ml_factory(*args: Any, **kwargs: Any) -> Any:
        # A call of any kedro-mlflow era, in the installed kedro-mlflow's terms.
        call = normalise_factory_call(*args, **kwargs)
        try:
            result = factory(*call.arguments())
        except Exception as exc:  # kedro-mlflow's own contract check: keep the arguments
            result = tolerant_factory(*call.arguments())
            result.rejected_by = f"{type(exc).__name__}: {exc}"
            setattr(result, MADE_BY_KEDRO_MLFLOW, True)
        remember_call_site(result, depth=1)  # the project's line that called the factory
        return result

    return pipeline_ml_factory
