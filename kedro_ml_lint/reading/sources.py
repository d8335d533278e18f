"""``# noqa: KML…`` comments in the project's Python code, on the ``node(...)`` calls.

A violation about a node's input points at the ``node(...)`` call that created the node
(recorded while the registry loaded). A ``# noqa: CODE`` on the call's first line silences
that code for the node's datasets; one on the line of the offending input string inside the
call silences it for that dataset only. In Python only comments naming KML codes count: a
bare ``# noqa`` belongs to flake8 or ruff.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from kedro_ml_lint.reading.catalog import noqa_codes

_OURS = re.compile(r"^KML\d+$")


def _kml_noqa(line: str) -> frozenset[str] | None:
    codes = noqa_codes(line)
    ours = frozenset(c for c in codes or () if _OURS.match(c))
    return ours or None


@cache
def _lines(path: Path) -> tuple[str, ...]:
    try:
        return tuple(path.read_text(encoding="utf-8").splitlines())
    except (OSError, UnicodeDecodeError):
        return ()


@cache
def _calls_by_line(path: Path) -> dict[int, ast.Call]:
    """The widest call starting on each line of ``path``."""
    try:
        tree = ast.parse("\n".join(_lines(path)))
    except (SyntaxError, ValueError):
        return {}
    calls: dict[int, ast.Call] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            widest = calls.get(node.lineno)
            if widest is None or (node.end_lineno or 0) > (widest.end_lineno or 0):
                calls[node.lineno] = node
    return calls


def node_call_noqa(path: Path, line: int, subject: str | None) -> tuple[int, frozenset[str]] | None:
    """The ``# noqa`` that applies to ``subject`` in the call starting at ``path:line``.

    Returns:
        The comment's line and its KML codes, or ``None`` when no comment applies.
    """
    lines = _lines(path)
    if not 0 < line <= len(lines):
        return None
    own = _kml_noqa(lines[line - 1])
    if own is not None:
        return line, own
    call = _calls_by_line(path).get(line)
    if call is None or subject is None:
        return None
    for node in ast.walk(call):
        if isinstance(node, ast.Constant) and node.value == subject:
            codes = _kml_noqa(lines[node.lineno - 1])
            if codes is not None:
                return node.lineno, codes
    return None


def noqa_directives(files: Iterable[Path]) -> list[tuple[Path, int, frozenset[str]]]:
    """Every ``# noqa`` naming KML codes in ``files`` (for ``--show-unused-noqa``)."""
    found = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if "KML" not in text:  # most files: no need to look at each line
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            codes = _kml_noqa(line)
            if codes is not None:
                found.append((path, number, codes))
    return found


def forget() -> None:
    """Drop the cached file contents (a new load may see edited files)."""
    _lines.cache_clear()
    _calls_by_line.cache_clear()


def mentions_kml(path: Path) -> bool:
    """True when ``path`` may hold a ``# noqa: KML…`` (a cheap test before parsing it)."""
    return any("KML" in line for line in _lines(path))
