"""Counts every format reports the same way."""

from __future__ import annotations

from dataclasses import dataclass

from kedro_ml_lint.api import LintResult
from kedro_ml_lint.diagnostics import Severity


@dataclass(frozen=True)
class Summary:
    """How many violations remain (errors and warnings), were fixed, could be fixed safely."""

    violations: int
    fixed: int
    fixable: int
    pairs: int = 0
    warnings: int = 0

    @classmethod
    def of(cls, result: LintResult) -> Summary:
        """Count ``result``'s violations, and what ``--fix`` repaired (``result.fixed``)."""
        fixable = sum(1 for v in result.violations if v.fix is not None and v.fix.is_safe)
        warnings = sum(1 for v in result.violations if v.severity is Severity.WARNING)
        return cls(len(result.violations), len(result.fixed), fixable, len(result.pairs), warnings)

    @property
    def errors(self) -> int:
        """The violations that are not warnings."""
        return self.violations - self.warnings

    @property
    def checked(self) -> str:
        """``2 pairs checked, 1 fixed``: the parenthesis every summary line carries."""
        text = f"{self.pairs} pair{'s' if self.pairs != 1 else ''} checked"
        return text + (f", {self.fixed} fixed" if self.fixed else "")

    @property
    def found(self) -> str:
        """``2 errors and 1 warning``, ``1 error``, ``3 warnings``: the kinds counted apart."""
        parts = [
            f"{count} {noun}{'s' if count != 1 else ''}"
            for count, noun in ((self.errors, "error"), (self.warnings, "warning"))
            if count
        ]
        return " and ".join(parts)
