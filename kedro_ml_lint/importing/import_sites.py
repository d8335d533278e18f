"""Whether a project's ``import`` statement stands where the project expects it to fail.

An optional import (``try: import xgboost`` / ``except ImportError:``) asks a question of
the environment: is the library there? Lite import and deferred import must answer it as
the environment does, never with a stand-in or a placeholder that sends the project down
the "installed" branch (docs/design.md §4). This module reads the statement's source to
tell such an import from a plain one.
"""

from __future__ import annotations

import ast
import warnings
from functools import cache

# Handlers that catch a failed import: ImportError, its subclass, and anything wider.
_CATCHES_IMPORT_ERROR = frozenset(
    {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
)
_TRY_STATEMENTS = (ast.Try, getattr(ast, "TryStar", ast.Try))  # ``except*``: Python 3.11+


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    return handler.type is None or _names_import_error(handler.type)  # ``except:`` too


def _names_import_error(kind: ast.expr) -> bool:
    """True when ``kind`` (a class or a tuple of classes) includes ImportError or wider."""
    names = kind.elts if isinstance(kind, ast.Tuple) else [kind]
    for name in names:
        # ``ImportError`` and ``builtins.ImportError``: the last name counts.
        spelled = name.attr if isinstance(name, ast.Attribute) else getattr(name, "id", None)
        if spelled in _CATCHES_IMPORT_ERROR:
            return True
    return False


@cache
def _guarded_lines(filename: str) -> frozenset[int]:
    """Lines of ``filename`` in a ``try`` or ``with suppress(…)`` that expects a failed import."""
    try:
        with open(filename, encoding="utf-8") as handle, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the compiler's, not the project's
            tree = ast.parse(handle.read(), filename)
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return frozenset()
    lines: set[int] = set()
    for node in ast.walk(tree):
        for statement in _expecting_a_failed_import(node):
            lines.update(range(statement.lineno, (statement.end_lineno or 0) + 1))
    return frozenset(lines)


def _expecting_a_failed_import(node: ast.AST) -> list[ast.stmt]:
    """The statements ``node`` runs where a failed import is caught; none for other nodes."""
    if isinstance(node, _TRY_STATEMENTS) and any(map(_catches_import_error, node.handlers)):
        return node.body
    if isinstance(node, ast.With | ast.AsyncWith) and any(map(_suppresses, node.items)):
        return node.body
    return []


def _suppresses(item: ast.withitem) -> bool:
    """True for ``with suppress(ImportError):`` (or ``contextlib.suppress``, any wider class)."""
    call = item.context_expr
    if not isinstance(call, ast.Call):
        return False
    func = call.func
    spelled = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return spelled == "suppress" and any(_names_import_error(argument) for argument in call.args)


def guarded_by_import_error(filename: str, lineno: int) -> bool:
    """True when line ``lineno`` of ``filename`` is where a failed import is expected.

    That is the body of a ``try`` whose handler catches ImportError (or wider), or of a
    ``with suppress(ImportError):`` block.

    Args:
        filename: The source file of the frame that imports (``co_filename``).
        lineno: The line being executed in that frame.

    Returns:
        Whether the project expects the import on that line to be able to fail; ``False``
        when the file cannot be read or parsed (the import is then a plain one).
    """
    return lineno in _guarded_lines(filename)


def forget() -> None:
    """Drop what was read: the project's files may change between two loads in one process."""
    _guarded_lines.cache_clear()
