"""Counts every format reports the same way."""

from __future__ import annotations

from dataclasses import dataclass

from kedro_ml_lint.api import LintResult


@dataclass(frozen=True)
class Summary:
    """How many violations remain, were fixed, could be fixed safely."""

    violations: int
    fixed: int
    fixable: int
    pairs: int = 0

    @classmethod
    def of(cls, result: LintResult) -> Summary:
        """Count ``result``'s violations, and what ``--fix`` repaired (``result.fixed``)."""
        fixable = sum(1 for v in result.violations if v.fix is not None and v.fix.is_safe)
        return cls(len(result.violations), len(result.fixed), fixable, len(result.pairs))

    @property
    def checked(self) -> str:
        """``2 pairs checked, 1 fixed``: the parenthesis every summary line carries."""
        text = f"{self.pairs} pair{'s' if self.pairs != 1 else ''} checked"
        return text + (f", {self.fixed} fixed" if self.fixed else "")

    @property
    def found(self) -> str:
        """``3 violations`` (or ``1 violation``)."""
        return f"{self.violations} violation{'s' if self.violations != 1 else ''}"
