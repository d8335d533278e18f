"""Run the selected rules over pairs, place each violation, drop the silenced ones."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Protocol

from kedro_ml_lint.diagnostics import Location, Placement, Violation
from kedro_ml_lint.model import PairFacts, Role
from kedro_ml_lint.rules import RULES, Rule

ALL = "ALL"


class Locator(Protocol):
    """Where things are written; the loader provides one per project."""

    def catalog_entry(self, key: str) -> Placement | None:
        """The position of catalog key ``key`` and its ``# noqa``."""

    def node(self, role: Role, name: str, subject: str | None = None) -> Placement | None:
        """Where node ``name`` was created, and the ``# noqa`` for its input ``subject``.

        The ``node(...)`` call when known, else the node's function.
        """

    def pair(self, name: str) -> Location | None:
        """Where the pair ``name`` is declared."""

    def new_entry(self) -> Location | None:
        """Where ``--fix`` would add a catalog entry (the fix-catalog file)."""


class NoLocations:
    """A locator that knows nothing: violations keep ``location = None``."""

    def catalog_entry(self, key: str) -> Placement | None:
        """Nothing is written anywhere."""
        return None

    def node(self, role: Role, name: str, subject: str | None = None) -> Placement | None:
        """Nothing is written anywhere."""
        return None

    def pair(self, name: str) -> Location | None:
        """Nothing is written anywhere."""
        return None

    def new_entry(self) -> Location | None:
        """Nothing is written anywhere."""
        return None


def matches(code: str, selectors: Iterable[str]) -> bool:
    """ruff-style selection: ``KML001`` exactly, ``KML0`` by prefix, or ``ALL``."""
    return any(s == ALL or code.startswith(s) for s in selectors)


@dataclass(frozen=True)
class Selection:
    """Which rules run and which violations are silenced.

    Attributes:
        select: Code prefixes to run (``ALL`` for every rule).
        ignore: Code prefixes to skip; wins over ``select``.
        per_dataset_ignores: Dataset name or glob -> code prefixes silenced for it.
    """

    select: tuple[str, ...] = (ALL,)
    ignore: tuple[str, ...] = ()
    per_dataset_ignores: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def rules(self, artifacts_on_disk: bool = False, publishing: bool = False) -> list[Rule]:
        """The rules to run.

        Args:
            artifacts_on_disk: Artifacts are checked on disk: the disk rules run too.
            publishing: The caller logs the pairs itself (``--log``): the rules about
                which hook would log them do not run.
        """
        return [
            rule
            for rule in RULES
            if matches(rule.code, self.select)
            and not matches(rule.code, self.ignore)
            and (artifacts_on_disk or not rule.needs_artifacts_on_disk)
            and not (publishing and rule.skipped_when_publishing)
        ]

    def ignored_for(self, subject: str, code: str) -> bool:
        """True when ``per-dataset-ignores`` silences ``code`` for ``subject``."""
        return any(
            fnmatchcase(subject, pattern) and matches(code, codes)
            for pattern, codes in self.per_dataset_ignores.items()
        )


def run(
    pairs: Iterable[PairFacts],
    selection: Selection = Selection(),
    locator: Locator | None = None,
    rules: Iterable[Rule] | None = None,
    suppressed: set[tuple[Location, str]] | None = None,
) -> list[Violation]:
    """Check every pair and return the violations that remain, sorted like ruff does.

    Args:
        pairs: What the rules read about each pair to check.
        selection: Which rules run and which violations are silenced.
        locator: Where things are written (default: nowhere).
        rules: The rules to run (default: the selection's).
        suppressed: When given, receives ``(noqa location, code)`` for every violation a
            ``# noqa`` comment silenced (for ``--show-unused-noqa``).
    """
    locator = locator or NoLocations()
    active = list(rules) if rules is not None else selection.rules()
    found: list[Violation] = []
    for pair in pairs:
        for rule in active:
            for violation in rule.check(pair):
                if violation.subject and selection.ignored_for(violation.subject, violation.code):
                    continue
                placed = _place(violation, pair, locator)
                noqa = placed.noqa if placed else None
                if placed is not None and noqa is not None and (not noqa or violation.code in noqa):
                    if suppressed is not None:
                        suppressed.add((placed.comment, violation.code))
                    continue
                found.append(
                    violation.with_location(
                        placed.location if placed else None,
                        placed.comment if placed and placed.silenceable else None,
                    )
                )
    return sorted(found, key=Violation.sort_key)


def _place(violation: Violation, pair: PairFacts, locator: Locator) -> Placement | None:
    """Find where ``violation`` points, and the ``# noqa`` that applies there.

    A dataset violation points at its catalog entry (or the pattern that matched it); one
    whose fix adds the missing entry, at the file ``--fix`` adds it to (where the user
    edits); else at the first inference node that reads it (the ``node(...)`` call that
    created it, when known). A ``# noqa`` on that node's call applies in every case but
    the first. A pair violation points at the declaration.
    """
    subject = violation.subject
    if subject is not None:
        spec = pair.datasets.get(subject)
        if spec is not None and spec.key is not None:
            entry = locator.catalog_entry(spec.key)
            if entry is not None:
                return entry
        node = next(
            (
                placed
                for reader in pair.readers(subject)
                if (placed := locator.node(Role.INFERENCE, reader, subject)) is not None
            ),
            None,
        )
        target = locator.new_entry() if violation.fix and violation.fix.edits else None
        if target is not None:
            if node is None:  # no line to hold a comment: the entry does not exist yet
                return Placement(target, silenceable=False)
            return Placement(target, node.noqa, node.comment)
        if node is not None:
            return node
    location = locator.pair(pair.name)
    return Placement(location, silenceable=False) if location is not None else None


@dataclass(frozen=True)
class UnusedNoqa:
    """A ``# noqa`` comment that silenced nothing in this run (``--show-unused-noqa``).

    Attributes:
        location: The line that carries the comment (a catalog key, or a line of a
            ``node(...)`` call).
        unused: Codes it names, of rules that ran, that silenced nothing.
        unknown: Codes it names that no rule has.
        bare: True for a bare ``# noqa`` (it names no code and silenced nothing).
    """

    location: Location
    unused: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    bare: bool = False


def unused_noqa(
    directives: Iterable[tuple[Location, frozenset[str]]],
    suppressed: Collection[tuple[Location, str]],
    ran: Collection[str],
) -> list[UnusedNoqa]:
    """The ``# noqa`` comments, or the codes in them, that silenced nothing.

    A code of a rule that did not run (deselected, or KML101 outside ``--log``) is not
    judged: it may silence something in another run.

    Args:
        directives: Every ``# noqa`` the run consulted: its location and codes (empty: bare).
        suppressed: ``(location, code)`` of each violation a comment silenced.
        ran: The codes of the rules that ran.
    """
    used: dict[Location, set[str]] = defaultdict(set)
    for location, code in suppressed:
        used[location].add(code)
    known = {rule.code for rule in RULES}
    found = []
    for location, codes in directives:
        if not codes:
            if not used.get(location):
                found.append(UnusedNoqa(location, bare=True))
            continue
        unknown = tuple(sorted(c for c in codes if c not in known))
        idle = tuple(sorted(c for c in codes if c in ran and c not in used.get(location, ())))
        if unknown or idle:
            found.append(UnusedNoqa(location, idle, unknown))
    return sorted(found, key=lambda u: u.location)
