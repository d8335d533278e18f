"""Apply rules' safe fixes to the catalog file: append-only, verified, atomic."""

from __future__ import annotations

from kedro_ml_lint.fix.insert import Insertion, Refusal, append_entries
from kedro_ml_lint.fix.plan import (
    FixPlan,
    FixWriteError,
    SkippedFix,
    fix_project,
    is_safe_fix,
    plan_fixes,
)

__all__ = [
    "FixPlan",
    "FixWriteError",
    "Insertion",
    "Refusal",
    "SkippedFix",
    "append_entries",
    "fix_project",
    "is_safe_fix",
    "plan_fixes",
]
