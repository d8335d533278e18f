"""``check`` as a small core: a request in, the report and the exit code out.

The command line builds a :class:`CheckRequest`, runs :func:`run_check` and prints what
comes back; nothing here prints or exits (docs/design.md §5). ``--log`` is the CLI's next
step when :attr:`CheckOutcome.may_log` says so: it talks to a tracking store and prints
as it goes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from kedro_ml_lint.api import LintResult
from kedro_ml_lint.errors import EXIT_CLEAN, EXIT_VIOLATIONS
from kedro_ml_lint.report import renderer
from kedro_ml_lint.report.options import PLAIN, RenderOptions
from kedro_ml_lint.report.text import unused_noqa_line


@dataclass(frozen=True)
class CheckRequest:
    """What ``check`` was asked to do, past loading the project.

    Attributes:
        output_format: One of ``report.FORMAT_NAMES`` (``text`` or ``json`` with ``statistics``).
        statistics: Count violations per rule instead of listing them.
        fix: Apply the safe fixes, then report what remains.
        diff: Report the safe fixes as a unified diff instead; write nothing.
        strict: Warnings fail the check too.
        exit_zero: Exit 0 whatever remains (wins over ``exit_non_zero_on_fix``).
        exit_non_zero_on_fix: With ``fix``, exit 1 when something was fixed, even if
            nothing remains (ruff's ``--exit-non-zero-on-fix``).
        show_unused_noqa: Note every ``# noqa`` that silenced nothing (even when quiet).
        render: How to print the report; ``render.quiet`` also drops the notes.
    """

    output_format: str = "text"
    statistics: bool = False
    fix: bool = False
    diff: bool = False
    strict: bool = False
    exit_zero: bool = False
    exit_non_zero_on_fix: bool = False
    show_unused_noqa: bool = False
    render: RenderOptions = PLAIN


@dataclass
class CheckOutcome:
    """What ``check`` found, ready to print.

    Attributes:
        result: The lint result (after ``--fix``, what remains).
        report: The report, or with ``diff`` the patch: stdout or ``--output``.
        exit_code: 0 or 1 (a run that cannot finish raises instead: exit 2).
        notes: Lines for stderr, before the report.
        after: Lines for stderr, after the report (``--diff``'s summary).
        may_log: Nothing fails the check: ``--log`` may go on.
    """

    result: LintResult
    report: str
    exit_code: int
    notes: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    may_log: bool = False


def run_check(lint: Callable[[], LintResult], request: CheckRequest) -> CheckOutcome:
    """Lint (and fix, or plan the fix), then render.

    Args:
        lint: ``lint_project`` bound to the project's options; ``--fix`` calls it again.
        request: What to do with the result.

    Raises:
        KedroMlLintError: When the project cannot be checked or fixed (exit 2).
    """
    result = lint()
    quiet = request.render.quiet
    notes = [] if quiet else list(result.warnings)
    if request.diff:
        return _diff(result, request, notes)
    if request.fix:
        from kedro_ml_lint.fix import fix_project

        result, plan = fix_project(result, lint)
        notes += _skipped(plan.skipped, quiet)
    if request.show_unused_noqa:
        notes += [unused_noqa_line(unused) for unused in result.unused_noqa]
    failing = result.failing(request.strict)
    fixed = request.fix and request.exit_non_zero_on_fix and bool(result.fixed)
    return CheckOutcome(
        result=result,
        report=renderer(request.output_format, request.statistics)(result, request.render),
        exit_code=EXIT_CLEAN if request.exit_zero or not (failing or fixed) else EXIT_VIOLATIONS,
        notes=notes,
        may_log=not failing,
    )


def _diff(result: LintResult, request: CheckRequest, notes: list[str]) -> CheckOutcome:
    """``--diff``: the safe fixes as a patch; exit 1 when there is something to apply."""
    from kedro_ml_lint.fix import verified_plan

    plan = verified_plan(result)
    after = []
    if not request.render.quiet:
        count = len(plan.fixes)
        noun = "violation" if count == 1 else "violations"
        after.append(
            f"Would fix {count} {noun} in {plan.display_path} (apply with --fix)."
            if plan.changed
            else "No safe fixes to apply."
        )
    return CheckOutcome(
        result=result,
        report=plan.diff(),
        exit_code=EXIT_CLEAN if request.exit_zero or not plan.changed else EXIT_VIOLATIONS,
        notes=notes + _skipped(plan.skipped, request.render.quiet),
        after=after,
    )


def _skipped(skipped: object, quiet: bool) -> list[str]:
    if quiet:
        return []
    return [
        f"fix not applied for `{item.violation.subject}` ({item.violation.code}): {item.reason}"
        for item in skipped  # type: ignore[attr-defined]
    ]
