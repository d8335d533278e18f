"""Hover on a dataset name: which pairs it feeds, as what, and whether the model carries it.

Built from what the check already has (the result's pair facts and violations): a hover
never loads the project again.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from kedro_ml_lint.diagnostics import Severity
from kedro_ml_lint.model.names import is_parameter
from kedro_ml_lint.vocabulary import PARAMS_PREFIX

if TYPE_CHECKING:
    from kedro_ml_lint.api import LintResult

ARTIFACT, INPUT_NAME, PARAMETER = "artifact", "input_name", "parameter"
TRAINING_ONLY, INFERENCE_ONLY = "training only", "computed at predict time"
# A dataset name as written: a YAML key or a string in a pipeline module.
_NAME = re.compile(r"[\w.\-:@]+")


def hover_facts(result: LintResult) -> dict[str, list[dict[str, Any]]]:
    """Dataset name -> what each pair does with it (JSON-ready: it crosses the worker pipe)."""
    errors = {
        (v.pair, v.subject): v.code
        for v in result.violations
        if v.severity is Severity.ERROR and v.subject
    }
    facts: dict[str, list[dict[str, Any]]] = {}
    for pair in result.facts:
        inference_inputs = set(pair.inference.inputs)
        names = pair.training.bases | pair.inference.bases | inference_inputs
        for name in sorted(names | set(pair.training.all_inputs | pair.inference.all_inputs)):
            entry: dict[str, Any] = {"pair": pair.name, "writers": pair.writers(name)}
            blocked = errors.get((pair.name, name))
            if name == pair.input_name:
                entry.update(role=INPUT_NAME, in_model=False)
            elif name in inference_inputs and is_parameter(name):
                entry.update(role=PARAMETER, in_model=True)
            elif name in pair.artifacts:
                spec = pair.datasets.get(name)
                entry.update(
                    role=ARTIFACT,
                    in_model=blocked is None,
                    blocked_by=blocked,
                    type=spec.type if spec else None,
                    filepath=spec.filepath if spec else None,
                )
            elif name in pair.inference.all_inputs | pair.inference.all_outputs:
                entry.update(role=INFERENCE_ONLY, in_model=False)
            else:
                entry.update(role=TRAINING_ONLY, in_model=False)
            facts.setdefault(name, []).append(entry)
    return facts


def hover_markdown(name: str, entries: list[dict[str, Any]]) -> str:
    """The hover's Markdown for dataset ``name``."""
    lines = [f"**`{name}`** (kedro-ml-lint)", ""]
    for entry in entries:
        lines.append(f"- pair `{entry['pair']}`: {_what(entry)}")
    return "\n".join(lines) + "\n"


def _what(entry: dict[str, Any]) -> str:
    role = entry["role"]
    writers = ", ".join(f"`{w}`" for w in entry.get("writers", ()))
    written = f"written by training node {writers}" if writers else "written by no training node"
    if role == INPUT_NAME:
        return "`input_name`: sent by the caller at predict time, not in the logged model"
    if role == PARAMETER:
        return "parameter read at predict time: in the logged model"
    if role == ARTIFACT:
        where = f" (`{entry['type']}` at `{entry['filepath']}`)" if entry.get("filepath") else ""
        if entry["in_model"]:
            return f"artifact{where}, {written}: in the logged model"
        return f"artifact{where}, {written}: not in the logged model ({entry['blocked_by']})"
    if role == INFERENCE_ONLY:
        return "computed by the inference pipeline at predict time: not an artifact"
    return f"training only, {written}: not in the logged model"


def name_at(line_text: str, character: int) -> str | None:
    """The dataset-like name under ``character`` in ``line_text`` (quotes and colons off)."""
    for match in _NAME.finditer(line_text):
        if match.start() <= character <= match.end():
            name = match.group()
            return name.rstrip(":") or None
    return None


def lookup(
    facts: dict[str, list[dict[str, Any]]], name: str, parameters: bool = False
) -> list[dict[str, Any]] | None:
    """The entries for ``name``; a YAML key `x:` and a string `"x"` both find ``x``.

    In a parameters file (``parameters``), key ``x`` is the dataset ``params:x``.
    """
    name = name.strip("'\"")
    if parameters and not name.startswith(PARAMS_PREFIX):
        return facts.get(PARAMS_PREFIX + name) or facts.get(name)
    return facts.get(name)
