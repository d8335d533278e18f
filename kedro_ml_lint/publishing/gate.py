"""The registry gate: what changed between an alias's holder and a new version, and is it safe.

Pure: MLflow's own signature classes (``ModelSignature``, ``Schema``, ``ParamSchema``), the
requirement lines and the two versions' predictions in, a :class:`GateReport` out; nothing
here reads a store (:mod:`~kedro_ml_lint.publishing.alias` does). What breaks a caller of
the alias (docs/publishing.md, "Registry aliases and the gate"):

- an input column (or named tensor) the holder takes and the new version does not — a
  removed or renamed column —, a changed input type or shape, an input the new version
  requires where the holder had it optional or had none (MLflow's schema enforcement would
  refuse the request the holder accepted), a switch between columns and tensors, a new
  version without an input signature where the holder had one;
- a parameter removed, or its type or shape changed.

Listed, not breaking: an added optional input, an input that became optional, added
parameters, changed parameter defaults, every output change, requirements whose major
version changed or that were added or removed, and the predictions of the input example.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kedro_ml_lint.vocabulary import TAG_PREFIX

GATE_TAG = TAG_PREFIX + "gate."
TAG_LIMIT = 250  # characters: a tag says what was compared, the table says the details
SHOWN_PREDICTION_ROWS = 5


@dataclass(frozen=True)
class Difference:
    """One row of the gate's table.

    Attributes:
        part: ``input``, ``param``, ``output``, ``requirement`` or ``prediction``.
        subject: The column, parameter, package or prediction cell.
        holder: What the alias's holder has (``-``: nothing).
        new: What the new version has (``-``: nothing).
        change: What happened, in a few words (``removed``, ``type changed``…).
        breaking: Whether a caller of the alias could break.
    """

    part: str
    subject: str
    holder: str
    new: str
    change: str
    breaking: bool = False


@dataclass(frozen=True)
class GateReport:
    """What the gate compared and found.

    Attributes:
        alias: The alias about to move.
        new_version: ``models:/<name>/<version>`` of the new version.
        holder: ``models:/<name>/<version>`` of the alias's holder, ``None`` when it had none.
        differences: Every difference, breaking ones first.
        signature: What the signatures' comparison found, in a few words.
        requirements: What the requirements' comparison found, in a few words.
        predictions: What the predictions' comparison found, in a few words.
    """

    alias: str
    new_version: str
    holder: str | None
    differences: tuple[Difference, ...] = ()
    signature: str = "not compared"
    requirements: str = "not compared"
    predictions: str = "not compared"

    @property
    def breaking(self) -> list[Difference]:
        """The differences that refuse the move."""
        return [d for d in self.differences if d.breaking]

    def tags(self) -> dict[str, str]:
        """The tags the new version gets when the gate passes: short values."""
        return {
            GATE_TAG + "compared_with": _short(self.holder or f"none (`{self.alias}` was unset)"),
            GATE_TAG + "signature": _short(self.signature),
            GATE_TAG + "requirements": _short(self.requirements),
            GATE_TAG + "predictions": _short(self.predictions),
        }

    def lines(self) -> list[str]:
        """The verdict, then the table of differences (text, without line ends)."""
        if self.holder is None:
            head = (
                f"Gate `{self.alias}`: passed, `{self.alias}` pointed at no version "
                f"(nothing to compare {self.new_version} with)"
            )
            return [head]
        breaking = self.breaking
        verdict = (
            f"refused, {len(breaking)} breaking difference{'s' if len(breaking) != 1 else ''}"
            if breaking
            else "passed"
        )
        lines = [f"Gate `{self.alias}`: {verdict} ({self.holder} -> {self.new_version})"]
        rows = [("part", "subject", "holder", "new", "change")]
        for d in self.differences:
            change = f"BREAKING: {d.change}" if d.breaking else d.change
            rows.append((d.part, d.subject, d.holder, d.new, change))
        if len(rows) > 1:
            widths = [max(len(row[i]) for row in rows) for i in range(4)]
            for row in rows:
                cells = [cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)]
                lines.append("  " + "  ".join([*cells, row[4]]).rstrip())
        lines.append(f"  signature:    {self.signature}")
        lines.append(f"  requirements: {self.requirements}")
        lines.append(f"  predictions:  {self.predictions}")
        return lines


# --------------------------------------------------------------------------- signatures


def compare_signatures(holder: Any, new: Any) -> list[Difference]:
    """The differences between two ``ModelSignature`` objects (``None``: no signature).

    Breaking ones first, then in the order of the holder's inputs, parameters, outputs.
    """
    found: list[Difference] = []
    holder_inputs = getattr(holder, "inputs", None)
    new_inputs = getattr(new, "inputs", None)
    if holder_inputs is not None and new_inputs is None:
        found.append(Difference("input", "(signature)", "schema", "-", "no input schema", True))
    elif holder_inputs is None and new_inputs is not None:
        found.append(Difference("input", "(signature)", "-", "schema", "holder had none"))
    elif holder_inputs is not None:
        found += compare_inputs(holder_inputs, new_inputs)
    found += compare_params(getattr(holder, "params", None), getattr(new, "params", None))
    found += compare_outputs(getattr(holder, "outputs", None), getattr(new, "outputs", None))
    return sorted(found, key=lambda d: not d.breaking)


def compare_inputs(holder: Any, new: Any) -> list[Difference]:
    """Two input ``Schema`` objects: what a caller of the holder would see change."""
    if holder.is_tensor_spec() != new.is_tensor_spec():
        kinds = ("tensors", "columns")
        return [
            Difference(
                "input",
                "(schema)",
                kinds[not holder.is_tensor_spec()],
                kinds[not new.is_tensor_spec()],
                "columns and tensors switched",
                True,
            )
        ]
    old, now = _specs(holder), _specs(new)
    found = []
    for name, spec in old.items():
        if name not in now:
            found.append(Difference("input", name, _type(spec), "-", "removed", True))
            continue
        other = now[name]
        if _type(spec) != _type(other):
            found.append(Difference("input", name, _type(spec), _type(other), "type changed", True))
        if _required(other) and not _required(spec):
            found.append(Difference("input", name, "optional", "required", "now required", True))
        elif _required(spec) and not _required(other):
            found.append(Difference("input", name, "required", "optional", "now optional"))
    for name, spec in now.items():
        if name not in old:
            required = _required(spec)
            found.append(
                Difference(
                    "input",
                    name,
                    "-",
                    _type(spec),
                    "added, required" if required else "added, optional",
                    required,
                )
            )
    return found


def compare_outputs(holder: Any, new: Any) -> list[Difference]:
    """Two output ``Schema`` objects (``None``: none): every change listed, none breaking."""
    if holder is None and new is None:
        return []
    if holder is None or new is None:
        return [
            Difference(
                "output",
                "(schema)",
                "-" if holder is None else "schema",
                "-" if new is None else "schema",
                "added" if holder is None else "removed",
            )
        ]
    old, now = _specs(holder), _specs(new)
    found = []
    for name, spec in old.items():
        if name not in now:
            found.append(Difference("output", name, _type(spec), "-", "removed"))
        elif _type(spec) != _type(now[name]):
            found.append(Difference("output", name, _type(spec), _type(now[name]), "type changed"))
    found += [
        Difference("output", name, "-", _type(spec), "added")
        for name, spec in now.items()
        if name not in old
    ]
    return found


def compare_params(holder: Any, new: Any) -> list[Difference]:
    """Two ``ParamSchema`` objects (``None``: no parameters)."""
    old = {p.name: p for p in (holder.params if holder is not None else [])}
    now = {p.name: p for p in (new.params if new is not None else [])}
    found = []
    for name, spec in old.items():
        if name not in now:
            found.append(Difference("param", name, _param_type(spec), "-", "removed", True))
            continue
        other = now[name]
        if _param_type(spec) != _param_type(other):
            found.append(
                Difference(
                    "param", name, _param_type(spec), _param_type(other), "type changed", True
                )
            )
        elif _default(spec) != _default(other):
            found.append(
                Difference("param", name, _default(spec), _default(other), "default changed")
            )
    found += [
        Difference("param", name, "-", _param_type(spec), "added")
        for name, spec in now.items()
        if name not in old
    ]
    return found


def signature_summary(differences: Sequence[Difference]) -> str:
    """The signature's verdict in a few words (a tag's value)."""
    mine = [d for d in differences if d.part in ("input", "param", "output")]
    if not mine:
        return "same"
    breaking = [d for d in mine if d.breaking]
    if breaking:
        return "breaking: " + ", ".join(f"{d.part} {d.subject} {d.change}" for d in breaking)
    return "compatible: " + ", ".join(f"{d.part} {d.subject} {d.change}" for d in mine)


def _specs(schema: Any) -> dict[str, Any]:
    """``{name: spec}``; an unnamed input is named by its position (``#0``)."""
    return {
        (spec.name if spec.name is not None else f"#{index}"): spec
        for index, spec in enumerate(schema.inputs)
    }


def _type(spec: Any) -> str:
    """A column's or tensor's type as MLflow writes it in the signature."""
    described = spec.to_dict()
    described.pop("name", None)
    described.pop("required", None)
    if described.get("type") == "tensor":
        tensor = described.get("tensor-spec", {})
        return f"tensor {tensor.get('dtype')} {list(tensor.get('shape') or [])}"
    kind = described.pop("type", None)
    return str(kind) if not described else f"{kind} {described}"


def _required(spec: Any) -> bool:
    return bool(getattr(spec, "required", True))


def _param_type(spec: Any) -> str:
    shape = getattr(spec, "shape", None)
    kind = str(spec.to_dict().get("type"))
    return kind if shape is None else f"{kind} {list(shape)}"


def _default(spec: Any) -> str:
    return repr(spec.default)


# --------------------------------------------------------------------------- requirements


def compare_requirements(
    holder: Sequence[str] | None, new: Sequence[str] | None
) -> tuple[list[Difference], str]:
    """Requirement lines of both versions: major changes, added, removed.

    Args:
        holder: The alias holder's ``requirements.txt`` lines as
            :func:`~kedro_ml_lint.publishing.requirements.requirement_file_lines` reads them
            (no comments, blank or option lines), or ``None`` when it has none.
        new: The new version's, likewise.

    Returns:
        The differences (none breaking) and a few words for the tag.
    """
    if holder is None or new is None:
        return [], "not compared (" + ("holder" if holder is None else "new version") + (
            " has no requirements.txt)"
        )
    old, now = _requirements(holder), _requirements(new)
    found = []
    majors = []
    for name, line in old.items():
        if name not in now:
            found.append(Difference("requirement", name, line, "-", "removed"))
            continue
        before, after = _major(line), _major(now[name])
        if before is not None and after is not None and before != after:
            majors.append(f"{name} {before}->{after}")
            found.append(
                Difference(
                    "requirement", name, line, now[name], f"major version {before} -> {after}"
                )
            )
    found += [
        Difference("requirement", name, "-", line, "added")
        for name, line in now.items()
        if name not in old
    ]
    words = [f"major changes: {', '.join(majors)}"] if majors else []
    for change in ("added", "removed"):
        names = [d.subject for d in found if d.change == change]
        if names:
            words.append(f"{change}: {', '.join(names)}")
    return found, "; ".join(words) or "no major version change"


def _requirements(lines: Sequence[str]) -> dict[str, str]:
    """``{normalised name: line}`` of requirement lines."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    found: dict[str, str] = {}
    for line in lines:
        try:
            found[str(canonicalize_name(Requirement(line).name))] = line
        except InvalidRequirement:
            found[line] = line  # a URL or path: compared as written
    return found


def _major(line: str) -> int | None:
    """The major version a requirement pins or starts from (``==``, ``~=``, ``>=``)."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.version import InvalidVersion, Version

    try:
        specifiers = list(Requirement(line).specifier)
    except InvalidRequirement:
        return None
    for operator in ("===", "==", "~=", ">="):
        for specifier in specifiers:
            if specifier.operator == operator:
                try:
                    return Version(specifier.version.rstrip(".*")).major
                except InvalidVersion:
                    return None
    return None


# --------------------------------------------------------------------------- predictions


def compare_predictions(
    holder: Any, new: Any, *, holder_error: str | None = None, new_error: str | None = None
) -> tuple[list[Difference], str]:
    """The two versions' predictions of one input example, cell by cell (shown, not breaking).

    Args:
        holder: What the holder predicted (a DataFrame, a Series, an array, a list).
        new: What the new version predicted.
        holder_error: Why the holder could not predict the example, if it could not.
        new_error: Why the new version could not.

    Returns:
        Up to :data:`SHOWN_PREDICTION_ROWS` differing cells, and a few words for the tag.
    """
    if holder_error or new_error:
        failed = [
            f"{who} failed: {error}"
            for who, error in (("holder", holder_error), ("new version", new_error))
            if error
        ]
        return [], "; ".join(failed)
    import pandas as pd

    before = pd.DataFrame(holder).reset_index(drop=True)
    after = pd.DataFrame(new).reset_index(drop=True)
    if list(before.columns) != list(after.columns) or len(before) != len(after):
        return [], (
            f"different shapes: holder {len(before)} rows x {list(before.columns)}, "
            f"new {len(after)} rows x {list(after.columns)}"
        )
    cells = []
    rows = set()
    for column in before.columns:
        for row, (a, b) in enumerate(zip(before[column], after[column], strict=True)):
            if not _same(a, b):
                cells.append((row, column, a, b))
                rows.add(row)
    if not cells:
        return [], f"same on the {len(before)} rows of the input example"
    shown = [
        Difference("prediction", f"row {row} {column}", _cell(a), _cell(b), "differs")
        for row, column, a, b in cells[:SHOWN_PREDICTION_ROWS]
    ]
    if len(cells) > SHOWN_PREDICTION_ROWS:
        more = len(cells) - SHOWN_PREDICTION_ROWS
        shown.append(Difference("prediction", f"... {more} more cells", "", "", "differ"))
    return shown, f"differ on {len(rows)} of the {len(before)} rows of the input example"


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, numbers.Real) and isinstance(b, numbers.Real):  # numpy's scalars too
        x, y = float(a), float(b)
        if math.isnan(x) and math.isnan(y):
            return True
        return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)
    try:
        return bool(a == b)
    except Exception:
        return repr(a) == repr(b)


def _cell(value: Any) -> str:
    return f"{float(value):.6g}" if isinstance(value, float) else str(value)


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= TAG_LIMIT else flat[: TAG_LIMIT - 1] + "…"
