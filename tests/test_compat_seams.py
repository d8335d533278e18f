"""The private Kedro/MLflow attributes kedro-ml-lint uses are reached only in the seams.

import-linter's private-imports contract (pyproject.toml) sees imports; a private reached as
an attribute (``Node._copy``, ``getattr(pipeline, "_nodes")``) is invisible to it, so this
scans the package's syntax trees for the ones known to be used (docs/design.md §8).
"""

from __future__ import annotations

import ast
from pathlib import Path

import kedro_ml_lint

PACKAGE = Path(kedro_ml_lint.__file__).parent
SEAMS = (PACKAGE / "seams",)
# Every private of Kedro, kedro-datasets or MLflow a seam reaches today.
KNOWN_PRIVATES = frozenset(
    {
        "_copy",
        "_nodes",
        "_init_config",
        "_get_load_path",
        "_filepath",
        "_path",
        "_protocol",
        "_create_hook_manager",
        "_hook_manager",
        "_dataset_patterns",
        "_default_pattern",
        "_enforce_params_schema",
        "_use_tracking_uri",
        "_tracking_service",
        *("_fs", "_is_hidden", "_is_valid_config_path", "_check_duplicates", "_merge_configs"),
    }
)


def _in_seam(path: Path) -> bool:
    return any(path == seam or seam in path.parents for seam in SEAMS)


def _uses(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in KNOWN_PRIVATES:
            owner = node.value
            if not (isinstance(owner, ast.Name) and owner.id in ("self", "cls")):
                found.append((node.lineno, node.attr))
        elif isinstance(node, ast.Constant) and node.value in KNOWN_PRIVATES:
            found.append((node.lineno, str(node.value)))
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or "", *(alias.name for alias in node.names)]
            for name in names:
                if KNOWN_PRIVATES & set(name.split(".")):
                    found.append((node.lineno, name))
    return found


def test_known_privates_are_reached_only_through_a_seam() -> None:
    outside = [
        f"{path.relative_to(PACKAGE)}:{line}: {name}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if not _in_seam(path)
        for line, name in _uses(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert outside == []


def test_the_scan_sees_an_attribute_a_getattr_and_an_import() -> None:
    source = (
        "from kedro.framework.hooks.manager import _create_hook_manager\n"
        "Node._copy\n"
        "getattr(pipeline, '_nodes', None)\n"
        "self._path\n"
    )
    assert [name for _, name in _uses(ast.parse(source))] == [
        "_create_hook_manager",
        "_copy",
        "_nodes",
    ]
