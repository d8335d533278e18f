"""Per-request params: which names a served model accepts, and refusing the others.

A parameter ``params:inference.threshold`` is accepted as ``inference.threshold`` and, when
no other parameter ends the same way, as ``threshold``. Both are in the model's signature,
so MLflow fills each with its default: the one the caller set is the one that differs.

MLflow drops a param its signature does not declare with only a warning, before the model
sees the request, so a typo silently serves the default. Our models refuse it instead: when
a model is loaded, MLflow's params check is wrapped (once per process) to raise for unknown
names when, and only when, the signature's names are exactly those of a loaded
``KedroPipelineModel``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

from kedro_ml_lint.publishing.errors import KedroPipelineModelError
from kedro_ml_lint.seams.mlflow_private import (
    install_params_schema_enforcer,
    params_schema_enforcer,
)
from kedro_ml_lint.vocabulary import PARAMS_PREFIX

RUNNER_PARAM = "runner"

_STRICT_NAME_SETS: set[frozenset[str]] = set()
_INSTALL_LOCK = threading.Lock()


def request_keys(parameter_names: Iterable[str]) -> dict[str, str]:
    """``{request param name: dataset name}``: full dotted keys, plus unambiguous last parts."""
    keys = {name[len(PARAMS_PREFIX) :]: name for name in parameter_names}
    last_parts: dict[str, list[str]] = {}
    for key, name in keys.items():
        last_parts.setdefault(key.rsplit(".", 1)[-1], []).append(name)
    for alias, names in last_parts.items():
        if len(names) == 1 and alias not in keys and alias != RUNNER_PARAM:
            keys[alias] = names[0]
    return keys


def resolve(
    params: Mapping[str, Any], keys: Mapping[str, str], defaults: Mapping[str, Any]
) -> tuple[dict[str, Any], Any]:
    """The parameter overrides of one request, and the runner it asks for.

    Raises:
        KedroPipelineModelError: On an unknown name, or two names of one parameter given
            different values.
    """
    given: dict[str, dict[str, Any]] = {}
    runner = None
    for key, value in params.items():
        if key == RUNNER_PARAM:
            runner = value
            continue
        if key not in keys:
            raise KedroPipelineModelError(unknown_message([key], keys))
        given.setdefault(keys[key], {})[key] = value
    overrides: dict[str, Any] = {}
    for name, values in given.items():
        changed = {k: v for k, v in values.items() if not _same(v, defaults.get(name))}
        distinct = {repr(v) for v in changed.values()}
        if len(distinct) > 1:
            raise KedroPipelineModelError(
                "parameter `" + name[len(PARAMS_PREFIX) :] + "` is given twice with different "
                "values: " + ", ".join(f"`{k}`={v!r}" for k, v in changed.items())
            )
        if changed:
            overrides[name] = next(iter(changed.values()))
        elif name in defaults:
            overrides[name] = values[next(iter(values))]
    return overrides, runner


def unknown_message(unknown: Iterable[str], accepted: Iterable[str]) -> str:
    """One line naming the unknown params and the accepted ones."""
    known = sorted({*accepted, RUNNER_PARAM})
    return (
        "unknown parameter " + ", ".join(f"`{k}`" for k in sorted(unknown)) + "; this model "
        "accepts " + ", ".join(f"`{k}`" for k in known)
    )


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # arrays and other values without one truth value
        return a is b


def refuse_unknown_params(accepted: Iterable[str]) -> None:
    """Make MLflow's params check refuse unknown names for a model accepting ``accepted``."""
    _STRICT_NAME_SETS.add(frozenset({*accepted, RUNNER_PARAM}))
    with _INSTALL_LOCK:
        original = params_schema_enforcer()
        if original is None or getattr(original, "_kedro_ml_lint", False):
            return

        def enforce(params: Any, schema: Any) -> Any:
            if isinstance(params, dict) and schema is not None:
                names = frozenset(spec.name for spec in getattr(schema, "params", []))
                unknown = set(params) - names
                if unknown and names in _STRICT_NAME_SETS:
                    from mlflow.exceptions import MlflowException

                    raise MlflowException.invalid_parameter_value(unknown_message(unknown, names))
            return original(params, schema)

        enforce._kedro_ml_lint = True  # type: ignore[attr-defined]
        install_params_schema_enforcer(enforce)
