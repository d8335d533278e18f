"""Plan the safe fixes of a lint result, show them as a diff, write them, lint again."""

from __future__ import annotations

import difflib
import posixpath
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from kedro_ml_lint.diagnostics import CatalogEdit, Violation
from kedro_ml_lint.errors import KedroMlLintError
from kedro_ml_lint.files import write_atomic
from kedro_ml_lint.fix.insert import Refusal, append_entries
from kedro_ml_lint.fix.lock import fix_lock
from kedro_ml_lint.fix.readback import check_read_back
from kedro_ml_lint.model.redact import redact_yaml_lines

if TYPE_CHECKING:
    from kedro_ml_lint.api import LintResult

NO_NEWLINE = "\\ No newline at end of file\n"


class FixWriteError(KedroMlLintError):
    """Raised when ``--fix`` cannot read or write the fix-catalog file (it is left intact)."""


@dataclass(frozen=True)
class SkippedFix:
    """A safe fix that was not applied, and why.

    Attributes:
        violation: The violation the fix belongs to.
        reason: One line naming the file and the cause.
        refusal: The cause, when the file's content refused the entry.
    """

    violation: Violation
    reason: str
    refusal: Refusal | None = None


@dataclass(frozen=True)
class FixPlan:
    """The fix-catalog file before and after the safe fixes, nothing written yet.

    Attributes:
        path: The file, absolute.
        display_path: The file as shown to the user (relative to the project root).
        before: Its bytes, ``None`` when it does not exist yet.
        after: Its bytes once fixed; ``before`` is always a prefix of it.
        fixes: The violations whose fix ``after`` holds.
        skipped: The safe fixes that cannot be applied.
    """

    path: Path
    display_path: str
    before: bytes | None
    after: bytes
    fixes: tuple[Violation, ...] = ()
    skipped: tuple[SkippedFix, ...] = ()

    @property
    def changed(self) -> bool:
        """True when writing the plan would change (or create) the file."""
        return bool(self.fixes) and self.after != (self.before or b"")

    def diff(self) -> str:
        """The unified diff of the change, paths ``a/…``/``b/…`` from the project root.

        Secrets on context lines are redacted, like in every other output: URL credentials
        and query strings, ``PWD=…`` parts, and the values of keys that name a secret.
        """
        if not self.changed:
            return ""
        old = self.before.decode("utf-8") if self.before is not None else ""
        new = self.after.decode("utf-8")
        # The old lines are redacted as a whole file (a multi-line secret value spans lines);
        # ``after`` is ``before`` plus our own entries, shown exactly as they are written.
        old_lines = old.splitlines(keepends=True)
        new_lines = new.splitlines(keepends=True)
        kept = len(old_lines)
        lines = difflib.unified_diff(
            redact_yaml_lines(old_lines),
            redact_yaml_lines(new_lines[:kept]) + new_lines[kept:],
            fromfile=f"a/{self.display_path}" if self.before is not None else "/dev/null",
            tofile=f"b/{self.display_path}",
        )
        out = []
        for line in lines:
            if not line.endswith("\n"):
                line += "\n" + NO_NEWLINE
            out.append(line)
        return "".join(out)

    def write(self) -> None:
        """Write ``after`` atomically; a failed write leaves the file as it was.

        Raises:
            FixWriteError: When the file cannot be written.
        """
        if not self.changed:
            return
        try:
            write_atomic(self.path, self.after)
        except OSError as exc:
            raise FixWriteError(
                f"cannot write the fixes: {exc.strerror or exc}; the file is unchanged",
                self.display_path,
            ) from exc


def is_safe_fix(violation: Violation) -> bool:
    """True when ``--fix`` applies this violation's fix by itself."""
    return violation.fix is not None and violation.fix.is_safe


def plan_fixes(
    project_root: Path,
    fix_catalog: str,
    violations: Sequence[Violation],
    entries: Mapping[str, str | None] | None = None,
) -> FixPlan:
    """Work out the safe fixes of ``violations`` against the fix-catalog file.

    A fix whose new entry would write a file another entry already writes is skipped: two
    entries for one file is a misspelt key (``scalar:`` for ``scaler``) more often than
    not, and a second entry would hide it.

    Args:
        project_root: The project root.
        fix_catalog: The file entries are added to, relative to ``project_root``.
        violations: The violations found; only safe fixes with catalog edits are used.
        entries: Every explicit catalog entry -> the file it writes, when known.

    Raises:
        FixWriteError: When the file exists but cannot be read.
    """
    path = project_root / fix_catalog
    display = Path(fix_catalog).as_posix()
    candidates = [v for v in violations if is_safe_fix(v)]
    taken = _written_twice(candidates, entries or {})
    candidates = [v for v in candidates if v not in taken]
    try:
        before = path.read_bytes() if path.exists() else None
    except OSError as exc:
        raise FixWriteError(f"cannot read the file: {exc.strerror or exc}", display) from exc
    if not candidates:
        return FixPlan(path, display, before, before or b"", skipped=tuple(taken.values()))
    try:
        text = before.decode("utf-8") if before is not None else ""
    except UnicodeDecodeError:
        reason = f"`{display}` is not valid UTF-8"
        unreadable = (*taken.values(), *_skip_all(candidates, reason))
        return FixPlan(path, display, before, before or b"", skipped=unreadable)
    edits: list[CatalogEdit] = [e for v in candidates for e in v.fix.edits]  # type: ignore[union-attr]
    insertion = append_entries(text, edits)
    added = set(insertion.added)
    fixes, skipped = [], []
    for violation in candidates:
        names = [e.dataset for e in violation.fix.edits]  # type: ignore[union-attr]
        refused = [insertion.refused[n] for n in names if n not in added]
        if refused:
            reason = f"`{display}`: {refused[0].value}"
            if refused[0] is Refusal.UNREADABLE and insertion.detail:
                reason += f": {insertion.detail}"
            skipped.append(SkippedFix(violation, reason, refused[0]))
        else:
            fixes.append(violation)
    after = (before or b"") + insertion.suffix.encode("utf-8")
    return FixPlan(path, display, before, after, tuple(fixes), (*taken.values(), *skipped))


def _written_twice(
    violations: Sequence[Violation], entries: Mapping[str, str | None]
) -> dict[Violation, SkippedFix]:
    """The fixes whose new entry writes a file another catalog entry already writes."""
    writers: dict[str, str] = {}
    for name, filepath in entries.items():
        if filepath:
            writers.setdefault(_same_file(filepath), name)
    taken = {}
    for violation in violations:
        for edit in violation.fix.edits:  # type: ignore[union-attr]
            filepath = dict(edit.entry).get("filepath")
            owner = writers.get(_same_file(filepath)) if filepath else None
            if owner is not None and owner != edit.dataset:
                taken[violation] = SkippedFix(
                    violation,
                    f"`{filepath}` is already written by the catalog entry `{owner}`; "
                    f"rename that entry to `{edit.dataset}` if it is meant to be the same",
                )
                break
    return taken


def _same_file(filepath: str) -> str:
    """A filepath as two entries compare it: ``./data/x.pkl`` and ``data/x.pkl`` are one."""
    return posixpath.normpath(filepath.replace("\\", "/"))


def verified_plan(result: LintResult) -> FixPlan:
    """The plan of ``result``'s safe fixes, checked against Kedro's reading of the catalog.

    What ``--diff`` shows and ``--fix`` writes: a plan that Kedro would not read back as
    the old datasets plus the new entries (the entry already in another catalog file, a
    file Kedro does not read…) is refused.

    Raises:
        FixWriteError: When the file cannot be read, or the configuration cannot be copied.
        ReadBackError: When Kedro would not read the fixed catalog as old + new datasets.
    """
    entries = result.facts[0].catalog_entries if result.facts else {}
    plan = plan_fixes(result.project, result.settings.fix_catalog, result.violations, entries)
    if plan.changed and result.loaded is not None:
        try:
            check_read_back(plan, result.loaded.config, result.project)
        except OSError as exc:
            raise FixWriteError(
                f"cannot copy the configuration to check the fix: {exc.strerror or exc}; "
                "nothing was written",
                plan.display_path,
            ) from exc
    return plan


def _skip_all(violations: Sequence[Violation], reason: str) -> tuple[SkippedFix, ...]:
    return tuple(SkippedFix(v, reason) for v in violations)


def fix_project(result: LintResult, relint: Callable[[], LintResult]) -> tuple[LintResult, FixPlan]:
    """Apply the safe fixes of ``result`` and lint again, as ``check --fix`` does.

    Args:
        result: The first lint of the project.
        relint: Lints the project again with the same options.

    Returns:
        The new result, whose ``fixed`` lists the violations that the fixes made disappear
        (their ``fix.applied`` is true), and the plan that was written.

    Writers are serialised: the lint, plan, write and re-lint happen under the project's
    fix lock, so concurrent runs end as sequential ones would. The first lint ran without
    it (a run with nothing to fix never locks or writes anything), so a run that has work
    lints again once it holds the lock: another run may have fixed the project meanwhile.

    Raises:
        FixWriteError: When the file cannot be read or written; it is left intact.
        ReadBackError: When Kedro would not read the fixed catalog as the old datasets plus
            the new ones; nothing is written.
        FixLockError: When the lock file cannot be created; nothing is written.
    """
    # Checked before locking too, so that a refused fix leaves not even the lock behind.
    plan = verified_plan(result)
    # An entry the lint did not see but the file has: another run wrote it meanwhile.
    stale = any(s.refusal is Refusal.ALREADY_DEFINED for s in plan.skipped)
    if not plan.changed and not stale:
        return result, plan
    with fix_lock(result.project):
        result = relint()
        plan = verified_plan(result)
        if not plan.changed:
            return result, plan
        plan.write()
        after = relint()
    remaining = {_identity(v) for v in after.violations}
    fixed = [_applied(v) for v in plan.fixes if _identity(v) not in remaining]
    return replace(after, fixed=fixed), plan


def _applied(violation: Violation) -> Violation:
    assert violation.fix is not None  # only violations with a safe fix are planned
    return replace(violation, fix=replace(violation.fix, applied=True))


def _identity(violation: Violation) -> tuple[str, str, str | None]:
    return violation.pair, violation.code, violation.subject
