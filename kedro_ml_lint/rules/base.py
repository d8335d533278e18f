"""What a rule is: metadata plus a pure ``check(pair) -> Iterator[Violation]``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from kedro_ml_lint.diagnostics import Applicability, Fix, Severity, Violation
from kedro_ml_lint.model import PairFacts

Check = Callable[[PairFacts], Iterator[Violation]]


@dataclass(frozen=True)
class Rule:
    """One clause of the training/inference contract.

    Attributes:
        code: Stable code, never reused (``KML001``).
        name: Kebab-case name.
        summary: One line for ``kedro-ml-lint rules`` and SARIF ``shortDescription``.
        check: Pure function yielding the pair's violations of this rule.
        severity: How bad a violation is.
        fix: The applicability of the rule's fix, ``None`` when it has none.
        needs_artifacts_on_disk: True for rules that only run with ``--log`` and the hook.
        skipped_when_publishing: True for rules about who will log the pair, a question
            ``--log`` answers by logging it: they do not run when publishing.
    """

    code: str
    name: str
    summary: str
    check: Check
    severity: Severity = Severity.ERROR
    fix: Applicability | None = None
    needs_artifacts_on_disk: bool = False
    skipped_when_publishing: bool = False

    def violation(
        self, pair: PairFacts, message: str, subject: str | None = None, fix: Fix | None = None
    ) -> Violation:
        """A violation of this rule on ``pair``; the engine adds the location."""
        return Violation(
            code=self.code,
            name=self.name,
            severity=self.severity,
            message=message,
            pair=pair.name,
            subject=subject,
            fix=fix,
        )


def backticked(names: list[str] | set[str] | frozenset[str]) -> str:
    """``a``, ``b`` and ``c`` as a readable, sorted list."""
    quoted = [f"`{n}`" for n in sorted(names)]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]
