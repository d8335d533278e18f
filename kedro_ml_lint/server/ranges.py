"""Positions: ``check``'s 1-based ``line:column`` as LSP's 0-based ranges, and back."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

# What a diagnostic's range covers from its column: a dataset name, a catalog key or a
# Python name (dots and dashes included, `params:x` too), as ruff underlines a token.
_TOKEN = re.compile(r"[\w.\-:@{}]+")


@dataclass(frozen=True)
class Span:
    """A 0-based range on one line: ``line``, ``start`` to ``end`` (code points, end excluded).

    Code points are what Python indexes; the server converts them to the encoding it agreed
    with the client (UTF-16 unless the client asked for another).
    """

    line: int
    start: int
    end: int


def span_of(text: str | None, line: int, column: int) -> Span:
    """The LSP range of ``check``'s 1-based ``line``:``column`` in ``text``.

    The range starts at ``line - 1``/``column - 1`` and covers the token there (the dataset
    name, the key); with no token there (indentation), the rest of the line; with no text,
    nothing.
    """
    row, col = max(line - 1, 0), max(column - 1, 0)
    if text is None:
        return Span(row, col, col)
    lines = text.splitlines()
    if row >= len(lines):
        return Span(row, col, col)
    current = lines[row]
    match = _TOKEN.match(current, col)
    if match is None:  # a position at a line's start (a call, an entry to add): the line
        return Span(row, col, max(col, len(current.rstrip())))
    # A YAML key's colon closes it: `model:` underlines `model`.
    token = match.group().rstrip(":")
    return Span(row, col, col + len(token))


def uri_to_path(uri: str) -> Path | None:
    """The local file a ``file:`` URI names; ``None`` for any other scheme (``untitled:``)."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return Path(unquote(parsed.path))


def path_to_uri(path: Path) -> str:
    """The ``file:`` URI of an absolute path."""
    return path.as_uri()


def position_of(text: str, offset: int) -> tuple[int, int]:
    """The 0-based (line, code-point column) of a code-point ``offset`` in ``text``."""
    before = text[:offset]
    line = before.count("\n")
    return line, offset - (before.rfind("\n") + 1)


@dataclass(frozen=True)
class Replacement:
    """One text edit: replace ``start``..``end`` (0-based line, code-point column) by ``text``."""

    start: tuple[int, int]
    end: tuple[int, int]
    text: str


def replacement(old: str, new: str) -> Replacement | None:
    """The smallest single edit that turns ``old`` into ``new``; ``None`` when equal.

    A fix only appends and a noqa only touches one line, so one edit is exact.
    """
    if old == new:
        return None
    prefix = 0
    limit = min(len(old), len(new))
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]:
        suffix += 1
    return Replacement(
        position_of(old, prefix),
        position_of(old, len(old) - suffix),
        new[prefix : len(new) - suffix],
    )
