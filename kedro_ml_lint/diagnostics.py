"""Frozen value types that every layer shares: a violation is data, not text."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Any


class Severity(str, Enum):
    """How bad a violation is; every contract rule is an ``error``."""

    ERROR = "error"
    WARNING = "warning"


class Applicability(str, Enum):
    """Whether a fix may be applied without a human looking at it (ruff's wording)."""

    SAFE = "safe"
    UNSAFE = "unsafe"
    DISPLAY_ONLY = "display-only"


@dataclass(frozen=True, order=True)
class Location:
    """A place in a project file; ``path`` is relative to the project root."""

    path: str
    line: int = 1
    column: int = 1

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape of docs/design.md §5."""
        return {"path": self.path, "line": self.line, "column": self.column}


def relative_to_root(path: str | os.PathLike[str], root: Path) -> str | None:
    """``path`` as a :class:`Location` path: relative to ``root``, with ``/`` separators.

    ``path`` is resolved first (symlinks, ``..``, the working directory); ``root`` is taken
    as given, so pass it resolved. ``None`` when ``path`` lies outside ``root`` or cannot be
    resolved; the caller decides what that means (not the project's code, or show it as is).
    """
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except (ValueError, OSError):
        return None


@dataclass(frozen=True)
class Placement:
    """Where a violation points, and the ``# noqa`` comment that applies there.

    Attributes:
        location: Where the violation is reported.
        noqa: The codes the applicable comment names (empty: a bare ``# noqa``); ``None``
            when no comment applies.
        noqa_location: Where that comment is, when not on ``location``'s line (a comment
            on an input's line inside a multi-line ``node(...)`` call).
    """

    location: Location
    noqa: frozenset[str] | None = None
    noqa_location: Location | None = None
    silenceable: bool = True  # a noqa comment on the line of ``comment`` would apply

    @property
    def comment(self) -> Location:
        """The comment's position: what ``--show-unused-noqa`` reports."""
        return self.noqa_location or self.location


@dataclass(frozen=True)
class CatalogEdit:
    """Add one dataset entry to a catalog file.

    Attributes:
        dataset: The catalog key to add.
        entry: The entry's configuration (``type``, ``filepath``…).
    """

    dataset: str
    entry: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Fix:
    """A repair proposed by a rule, carried on the violation as data."""

    title: str
    applicability: Applicability
    edits: tuple[CatalogEdit, ...] = ()
    applied: bool = False

    @property
    def is_safe(self) -> bool:
        """True when ``--fix`` applies it by itself: safe, with edits, not applied yet."""
        return self.applicability is Applicability.SAFE and bool(self.edits) and not self.applied

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape of docs/design.md §5."""
        return {
            "title": self.title,
            "applicability": self.applicability.value,
            "applied": self.applied,
        }


@dataclass(frozen=True)
class Violation:
    """One broken clause of the training/inference contract.

    Attributes:
        code: The rule code, e.g. ``KML001``.
        name: The rule's kebab-case name.
        severity: How bad it is.
        message: One sentence; names things in backticks.
        pair: The name of the pair it is about (JSON: ``pipeline``).
        subject: The offending dataset's full name, or ``None`` for pair-level rules.
        location: Where to look, filled in by the engine.
        fix: The proposed repair, if the rule has one.
        noqa_line: The line a ``# noqa`` comment silences it on, filled in by the engine
            (``--add-noqa`` writes there); ``None`` when no comment can (a pair's rules).
    """

    code: str
    name: str
    severity: Severity
    message: str
    pair: str
    subject: str | None = None
    location: Location | None = None
    fix: Fix | None = field(default=None, compare=False)
    noqa_line: Location | None = field(default=None, compare=False)

    def with_location(
        self, location: Location | None, noqa_line: Location | None = None
    ) -> Violation:
        """Return a copy that points at ``location`` (silenced on ``noqa_line``)."""
        return replace(self, location=location, noqa_line=noqa_line)

    def sort_key(self) -> tuple[str, int, int, str, str, str]:
        """Order by file, line, column, then code and subject, like ruff."""
        loc = self.location or Location("")
        return (loc.path, loc.line, loc.column, self.code, self.pair, self.subject or "")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Violation:
        """Read back :meth:`to_dict`'s shape (the fix's edits are not in it)."""
        location = data.get("location")
        fix = data.get("fix")
        return cls(
            code=data["code"],
            name=data["name"],
            severity=Severity(data["severity"]),
            message=data["message"],
            pair=data["pipeline"],
            subject=data.get("subject"),
            location=Location(location["path"], location["line"], location["column"])
            if location
            else None,
            fix=Fix(fix["title"], Applicability(fix["applicability"]), applied=fix["applied"])
            if fix
            else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape of docs/design.md §5."""
        return {
            "code": self.code,
            "name": self.name,
            "severity": self.severity.value,
            "message": self.message,
            "pipeline": self.pair,
            "subject": self.subject,
            "location": self.location.to_dict() if self.location else None,
            "fix": self.fix.to_dict() if self.fix else None,
        }
