"""Read a planned edit back the way Kedro reads the whole configuration, before writing it.

The fix-catalog file is one of several catalog files of an environment: Kedro merges them
all, refuses a key two files of one environment define, lets the run environment override
``base`` and ignores files its patterns do not match. So the plan's new content is written
into a private copy of the configuration folder and read through the project's own config
loader (same class, environment and ``CONFIG_LOADER_ARGS``); the real file is replaced only
when that read gives exactly the old datasets plus the new ones.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from kedro_ml_lint.diagnostics import Violation
from kedro_ml_lint.errors import KedroMlLintError
from kedro_ml_lint.model.redact import redact_text
from kedro_ml_lint.reading.config_errors import relative
from kedro_ml_lint.reading.project import ConfigSource

CATALOG = "catalog"
_COPY_NAME = "conf"


class PlannedWrite(Protocol):
    """What the read-back needs of a planned edit (a ``fix.plan.FixPlan``).

    A protocol, so that this module does not import the planner that calls it.
    """

    @property
    def path(self) -> Path:
        """The file, absolute."""

    @property
    def display_path(self) -> str:
        """The file as shown to the user."""

    @property
    def after(self) -> bytes:
        """Its bytes once fixed."""

    @property
    def fixes(self) -> tuple[Violation, ...]:
        """The violations whose fix ``after`` holds."""


class ReadBackError(KedroMlLintError):
    """Kedro would not read the fixed catalog as the old datasets plus the new ones."""


def check_read_back(plan: PlannedWrite, config: ConfigSource, root: Path) -> None:
    """Refuse ``plan`` unless Kedro reads its result as old datasets + new entries.

    Args:
        plan: The planned change of the fix-catalog file.
        config: The project's configuration, as the lint read it.
        root: The project root, for messages.

    Raises:
        ReadBackError: Naming the file and why; nothing has been written.
    """
    with warnings.catch_warnings():
        # Each new loader registers the project's resolvers again, which warns; the lint
        # silenced the same chatter while it loaded the project.
        warnings.simplefilter("ignore")
        _check_read_back(plan, config, root)


def _check_read_back(plan: PlannedWrite, config: ConfigSource, root: Path) -> None:
    # Absolute but not resolved: Kedro reads `conf/base/catalog.yml` through a symlinked
    # `conf/` or a symlinked file just as well, and so must this check.
    conf_dir = Path(os.path.abspath(config.conf_source))
    target = Path(os.path.abspath(plan.path))
    if not target.is_relative_to(conf_dir):
        raise ReadBackError(
            f"it is outside the configuration folder `{relative(conf_dir, root)}`, so Kedro "
            "would never read the new entries; set `fix-catalog` to a `catalog*.yml` file "
            "of the environment you run",
            plan.display_path,
        )
    blocker = next((p for p in target.parents if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise ReadBackError(
            f"cannot create it: `{relative(blocker, root)}` is a file, not a folder; "
            "set `fix-catalog` to a file path",
            plan.display_path,
        )
    old = config.read(CATALOG)
    with tempfile.TemporaryDirectory(prefix="kedro-ml-lint-fix-") as scratch:
        copy = Path(scratch) / _COPY_NAME
        shutil.copytree(conf_dir, copy, symlinks=False, ignore_dangling_symlinks=True)
        candidate = copy / target.relative_to(conf_dir)
        candidate.parent.mkdir(parents=True, exist_ok=True)
        candidate.write_bytes(plan.after)
        try:  # the same loader class, environment and arguments, on the scratch copy
            new = config.elsewhere(copy).read(CATALOG)
        except KedroMlLintError as exc:
            reason = str(exc)
            # Resolved first: when /tmp is a symlink, the plain path is inside the resolved one.
            for scratch_path in (str(copy.resolve()), str(copy)):
                reason = reason.replace(scratch_path, relative(conf_dir, root))
            raise ReadBackError(
                f"Kedro could not read the catalog with the new entries, so nothing was "
                f"written: {redact_text(reason)}",
                plan.display_path,
            ) from exc
    problem = _difference(old, new, plan)
    if problem:
        raise ReadBackError(
            f"Kedro would not read the catalog as the old datasets plus the new ones "
            f"({problem}), so nothing was written; check that it is a `catalog*` file of "
            "the environment you run",
            plan.display_path,
        )


def _difference(old: Mapping[str, Any], new: Mapping[str, Any], plan: PlannedWrite) -> str:
    """What differs between ``new`` and ``old`` + the plan's entries; empty when nothing."""
    wanted = {
        edit.dataset: dict(edit.entry)
        for violation in plan.fixes
        for edit in violation.fix.edits  # type: ignore[union-attr]
    }
    missing = [name for name in wanted if name not in new]
    if missing:
        return "not read: " + ", ".join(f"`{name}`" for name in missing)
    changed = [name for name, entry in wanted.items() if new[name] != entry]
    changed += [name for name, entry in old.items() if new.get(name) != entry]
    if changed:
        return "changed or lost: " + ", ".join(f"`{name}`" for name in changed)
    extra = [str(name) for name in new if name not in old and name not in wanted]
    if extra:
        return "unexpected: " + ", ".join(f"`{name}`" for name in extra)
    return ""
