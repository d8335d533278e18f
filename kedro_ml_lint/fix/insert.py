"""Append catalog entries to YAML text, keeping every existing byte as it is.

A full ruamel.yaml round trip (load, add keys, dump) normalises what it re-emits: the
spacing after ``:``, flow mappings, the indentation of sequences, quoting it does not need.
So the file is *read* the way Kedro reads it — YAML 1.1, with OmegaConf's loader, which
accepts tabs where PyYAML does and reads ``on``/``yes``/``12:30``/``1e3`` as booleans and
numbers — (is it a block mapping? which keys does it define?), only the new entries are
*dumped* with ruamel.yaml, quoted wherever YAML 1.1 would not read a plain scalar back as
the same string, and they are appended to the original text. The result is parsed back
(YAML 1.1 and 1.2) and must equal the old mapping plus the new entries, or nothing is
inserted.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from omegaconf import OmegaConf
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from kedro_ml_lint.diagnostics import CatalogEdit

TEMPLATE_MARKER = "${"
DEFAULT_INDENT = 2
_BOM = "\ufeff"
_INDENTED = re.compile(r"^(?P<indent> +)[^\s#]")


class Refusal(str, Enum):
    """Why an entry was not added; the value is the explanation shown to the user."""

    TEMPLATED = "the file uses `${…}` templating or interpolation, which --fix never rewrites"
    UNREADABLE = "Kedro cannot read the file as YAML"
    NOT_A_MAPPING = "the file's top level is not a mapping of dataset entries"
    FLOW_STYLE = "the file is a flow-style (`{…}`/JSON) mapping, which --fix does not rewrite"
    ALREADY_DEFINED = "the file already has an entry of that name"
    UNSTABLE = "the entry would not parse back unchanged after the existing content"


@dataclass(frozen=True)
class Insertion:
    """What :func:`append_entries` did.

    Attributes:
        suffix: The text appended to the original (empty when nothing is added); the new
            file is exactly ``original + suffix``.
        added: The dataset keys added, in order.
        refused: Dataset key -> why it was not added.
        detail: What the YAML parser said, when the file is ``UNREADABLE``.
    """

    suffix: str
    added: tuple[str, ...] = ()
    refused: Mapping[str, Refusal] = field(default_factory=dict)
    detail: str = ""


def append_entries(text: str, edits: Iterable[CatalogEdit]) -> Insertion:
    """Append one block entry per edit to the catalog YAML ``text``.

    Args:
        text: The file's content ("" for a file that does not exist yet).
        edits: The entries to add; a repeated dataset is added once.

    Returns:
        The suffix to append and which entries it holds. An edit whose key the file already
        defines is refused, so applying the same edits twice changes nothing.
    """
    unique: dict[str, CatalogEdit] = {}
    for edit in edits:
        unique.setdefault(edit.dataset, edit)
    if not unique:
        return Insertion("")
    refusal, detail = _refuse_file(text)
    if refusal is not None:
        return Insertion("", refused=dict.fromkeys(unique, refusal), detail=detail)
    existing = _load_11(text) or {}
    refused = {name: Refusal.ALREADY_DEFINED for name in unique if name in existing}
    todo = [edit for name, edit in unique.items() if name not in refused]
    if not todo:
        return Insertion("", refused=refused)
    newline = "\r\n" if "\r\n" in text else "\n"
    blocks = [_dump(edit, _indent_of(text)) for edit in todo]
    suffix = _separator(text, newline) + "\n".join(blocks).replace("\n", newline)
    expected = {**existing, **{edit.dataset: dict(edit.entry) for edit in todo}}
    if not _parses_to(text + suffix, expected):
        return Insertion("", refused={**refused, **dict.fromkeys(unique, Refusal.UNSTABLE)})
    return Insertion(suffix, tuple(edit.dataset for edit in todo), refused)


def _refuse_file(text: str) -> tuple[Refusal | None, str]:
    """Why the file cannot take new entries (and the parser's words), or ``None``."""
    if TEMPLATE_MARKER in text:
        return Refusal.TEMPLATED, ""
    try:
        # Kedro's own reading: OmegaConf's loader accepts tabs that PyYAML and ruamel.yaml
        # refuse (``type: x<TAB>``), and rejects duplicate keys.
        document = _load_11(text)
    except Exception as exc:  # PyYAML's and OmegaConf's errors share no base class
        return Refusal.UNREADABLE, yaml_problem(exc)
    if not isinstance(document, dict):
        return Refusal.NOT_A_MAPPING, ""
    if _first_token(text).startswith("{"):
        return Refusal.FLOW_STYLE, ""
    return None, ""


def _first_token(text: str) -> str:
    """The document's first content, past comments, blank lines, directives and ``---``."""
    for line in text.lstrip(_BOM).splitlines():
        content = line.strip()
        if content.startswith("---"):
            content = content[3:].strip()
        if content and not content.startswith(("#", "%")):
            return content
    return ""


def yaml_problem(exc: BaseException) -> str:
    """A YAML error in one phrase with its 1-based line: ``found a tab … (line 3)``."""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = getattr(mark, "line", None)
    return f"{problem} (line {line + 1})" if isinstance(line, int) else str(problem)


def _load_11(text: str) -> Any:
    """The document as Kedro reads one file: ``OmegaConf.load``, YAML 1.1, unresolved."""
    return OmegaConf.to_container(OmegaConf.load(io.StringIO(text.lstrip(_BOM))))


def _load_12(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(text.lstrip(_BOM))


def _parses_to(text: str, expected: dict[str, Any], *, also_12: bool = False) -> bool:
    """True when Kedro (YAML 1.1) reads ``expected`` from ``text``.

    With ``also_12``, YAML 1.2 tools (ruamel.yaml, editors) must read it too.
    """
    for load in (_load_11, _load_12) if also_12 else (_load_11,):
        try:
            document = load(text)
        except Exception:  # whatever the parser raises, the text is not what we meant
            return False
        if not isinstance(document, dict) or document != expected:
            return False
    return True


def _indent_of(text: str) -> int:
    """The indentation of the file's first nested line, so new entries look like the rest."""
    for line in text.splitlines():
        match = _INDENTED.match(line)
        if match:
            return min(max(len(match.group("indent")), 2), 8)
    return DEFAULT_INDENT


def _separator(text: str, newline: str) -> str:
    """End the last line, then leave one blank line before the new entries."""
    if not text.strip(_BOM):
        return "" if not text else ("" if text.endswith(("\n", "\r")) else newline)
    separator = "" if text.endswith(("\n", "\r")) else newline
    last = (text + separator).splitlines()[-1]
    return separator + (newline if last.strip() else "")


def _dump(edit: CatalogEdit, indent: int) -> str:
    """The entry as a block, plain where that reads back the same, else double-quoted.

    ruamel.yaml quotes for YAML 1.2, where ``on``, ``yes``, ``12:30`` and ``1e3`` are
    strings; Kedro reads YAML 1.1, where they are booleans and numbers.
    """
    expected = {edit.dataset: dict(edit.entry)}
    plain = _dump_block(edit, indent, quote=False)
    if _parses_to(plain, expected, also_12=True):
        return plain
    return _dump_block(edit, indent, quote=True)


def _dump_block(edit: CatalogEdit, indent: int, quote: bool) -> str:
    def scalar(value: Any) -> Any:
        return DoubleQuotedScalarString(value) if quote and isinstance(value, str) else value

    yaml = YAML(typ="rt")
    yaml.indent(mapping=indent)
    yaml.width = 4096
    yaml.default_flow_style = False
    entry = CommentedMap((scalar(k), scalar(v)) for k, v in edit.entry)
    document = CommentedMap({scalar(edit.dataset): entry})
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    return buffer.getvalue()
