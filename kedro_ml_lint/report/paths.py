"""Where report paths start: the project root, or the CI workspace that holds it."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from kedro_ml_lint.diagnostics import Location


def base_of(project: Path, workspace: Path | None) -> tuple[Path, str]:
    """The folder paths are relative to, and the project's place inside it.

    GitHub resolves annotation and SARIF paths from the repository root (the workspace),
    so when the project sits in a sub-folder of ``workspace`` paths are prefixed with it.

    Args:
        project: The project root.
        workspace: The CI workspace (``GITHUB_WORKSPACE``), ``None`` outside CI.

    Returns:
        The base folder and the project's folder relative to it (``""`` for the same).
    """
    if workspace is not None:
        try:
            inside = project.resolve().relative_to(workspace.resolve()).as_posix()
        except (ValueError, OSError):
            return project, ""
        return workspace, "" if inside == "." else inside
    return project, ""


def display_path(location: Location, prefix: str) -> str:
    """``location.path`` as seen from the base folder."""
    if not prefix or PurePosixPath(location.path).is_absolute():
        return location.path
    return f"{prefix}/{location.path}"
