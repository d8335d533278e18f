"""Append catalog entries to YAML text, keeping every existing byte as it is.

A full ruamel.yaml round trip (load, add keys, dump) normalises what it re-emits: the
spacing after ``:``, flow mappings, the indentation of sequences, quoting it does not need.
So the file is *read* with ruamel.yaml's round-trip loader (is it a block mapping? which keys
does it define? what indentation does it use?), only the new entries are *dumped* with
ruamel.yaml, and they are appended to the original text. The result is parsed back and must
equal the old mapping plus the new entries, or nothing is inserted.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from kedro_ml_lint.diagnostics import CatalogEdit

TEMPLATE_MARKER = "${"
DEFAULT_INDENT = 2
_BOM = "\ufeff"
_INDENTED = re.compile(r"^(?P<indent> +)[^\s#]")


class Refusal(str, Enum):
    """Why an entry was not added; the value is the explanation shown to the user."""

    TEMPLATED = "the file uses `${…}` templating or interpolation, which --fix never rewrites"
    UNREADABLE = "the file is not valid YAML"
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
    """

    suffix: str
    added: tuple[str, ...] = ()
    refused: Mapping[str, Refusal] = field(default_factory=dict)


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
    refusal = _refuse_file(text)
    if refusal is not None:
        return Insertion("", refused=dict.fromkeys(unique, refusal))
    existing = _safe_load(text) or {}
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


def _refuse_file(text: str) -> Refusal | None:
    if TEMPLATE_MARKER in text:
        return Refusal.TEMPLATED
    try:
        document = YAML(typ="rt").load(text.lstrip(_BOM))
    except YAMLError:
        return Refusal.UNREADABLE
    if document is None:
        return None  # empty, or comments only
    if not isinstance(document, CommentedMap):
        return Refusal.NOT_A_MAPPING
    if document.fa.flow_style():
        return Refusal.FLOW_STYLE
    return None


def _safe_load(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(text.lstrip(_BOM))


def _parses_to(text: str, expected: dict[str, Any]) -> bool:
    try:
        document = _safe_load(text)
    except YAMLError:
        return False
    return isinstance(document, dict) and document == expected


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
    yaml = YAML(typ="rt")
    yaml.indent(mapping=indent)
    yaml.width = 4096
    yaml.default_flow_style = False
    document = CommentedMap({edit.dataset: CommentedMap(edit.entry)})
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    return buffer.getvalue()
