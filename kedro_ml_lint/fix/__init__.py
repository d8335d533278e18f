"""Apply rules' safe fixes to the catalog file: append-only, verified, atomic."""

from __future__ import annotations

from kedro_ml_lint.fix.insert import Insertion, Refusal, append_entries
from kedro_ml_lint.fix.lock import FixLockError, fix_lock
from kedro_ml_lint.fix.plan import (
    FixPlan,
    FixWriteError,
    SkippedFix,
    fix_project,
    is_safe_fix,
    plan_fixes,
    verified_plan,
)
from kedro_ml_lint.fix.readback import ReadBackError, check_read_back

__all__ = [
    "FixLockError",
    "FixPlan",
    "FixWriteError",
    "Insertion",
    "ReadBackError",
    "Refusal",
    "SkippedFix",
    "append_entries",
    "check_read_back",
    "fix_lock",
    "fix_project",
    "is_safe_fix",
    "plan_fixes",
    "verified_plan",
]
