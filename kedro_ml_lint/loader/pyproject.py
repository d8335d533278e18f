"""Read ``pyproject.toml``: Kedro's metadata and our ``[tool.kedro-ml-lint]`` table."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from kedro_ml_lint.errors import NotAKedroProjectError, ProjectConfigError
from kedro_ml_lint.vocabulary import PYPROJECT as PYPROJECT

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

KEDRO_KEYS = ("package_name", "project_name")


def read_pyproject(root: Path) -> dict[str, Any]:
    """Parse ``root/pyproject.toml``, turning TOML errors into a file:line message."""
    path = root / PYPROJECT
    if not path.is_file():
        raise NotAKedroProjectError(
            f"`{root}` is not a Kedro project: it has no `{PYPROJECT}`; pass the project's "
            "root folder (the one holding `pyproject.toml` with a `[tool.kedro]` table)"
        )
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ProjectConfigError(f"not valid UTF-8 ({exc.reason})", PYPROJECT) from exc
    except tomllib.TOMLDecodeError as exc:
        line = _toml_error_line(str(exc))
        raise ProjectConfigError(
            f"invalid TOML: {str(exc).split(' (at')[0]}", PYPROJECT, line
        ) from exc


def _toml_error_line(message: str) -> int | None:
    marker = "(at line "
    if marker not in message:
        return None
    digits = message.split(marker, 1)[1].split(",", 1)[0]
    return int(digits) if digits.isdigit() else None


def kedro_metadata(pyproject: dict[str, Any], root: Path) -> dict[str, Any]:
    """The ``[tool.kedro]`` table, checked as Kedro of the project's era checked it.

    The project's Kedro version (``kedro_init_version`` or, before 0.19,
    ``project_version``) is stored under ``kedro_version`` as a ``KedroVersion``.
    """
    from kedro_ml_lint.loader.compat import project_version

    table = pyproject.get("tool", {}).get("kedro")
    if not isinstance(table, dict):
        raise NotAKedroProjectError(
            f"`{root}` is not a Kedro project: `{PYPROJECT}` has no `[tool.kedro]` table",
            PYPROJECT,
        )
    missing = [key for key in KEDRO_KEYS if not isinstance(table.get(key), str)]
    if missing:
        raise NotAKedroProjectError(
            f"`[tool.kedro]` is missing {', '.join(f'`{k}`' for k in missing)}",
            PYPROJECT,
            table_line(root, "tool.kedro"),
        )
    return {**table, "kedro_version": project_version(table, PYPROJECT)}


def find_project_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` whose ``pyproject.toml`` has ``[tool.kedro]``.

    Like ``kedro`` itself, ruff and sqlfluff, a command run from a sub-folder finds its
    project. A ``pyproject.toml`` that does not parse stops the search there: it is
    reported rather than skipped.
    """
    for folder in (start, *start.parents):
        path = folder / PYPROJECT
        if not path.is_file():
            continue
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {})
        except (UnicodeDecodeError, tomllib.TOMLDecodeError, OSError):
            return folder
        if "kedro" in table:
            return folder
    return None


def lint_table(pyproject: dict[str, Any]) -> dict[str, Any]:
    """The ``[tool.kedro-ml-lint]`` table, empty when absent."""
    table = pyproject.get("tool", {}).get("kedro-ml-lint", {})
    if not isinstance(table, dict):
        raise ProjectConfigError("`tool.kedro-ml-lint` must be a table", PYPROJECT)
    return table


def table_line(root: Path, header: str, occurrence: int = 0) -> int | None:
    """The 1-based line of the ``occurrence``-th ``[header]``/``[[header]]`` in pyproject."""
    seen = 0
    text = (root / PYPROJECT).read_text(encoding="utf-8")
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() in (f"[{header}]", f"[[{header}]]"):
            if seen == occurrence:
                return number
            seen += 1
    return None
