"""Whether a library's module binds a name, proven from its source without importing it.

A deferred load reads ``pd.DataFrame`` or ``from sklearn.preprocessing import StandardScaler``
without importing the library: if the name does not exist (``np.float_`` under numpy 2), the
real import raises there and the deferred one would not. After a deferred load, every value
read but never used must be proven to exist, or be imported for real (``deferred.py``).

The proof is deliberately narrow: a name is bound when a statement at the top level of the
module's source, outside any ``if``/``try``/loop, binds it (``def``, ``class``, ``import``,
``from … import``, an assignment), and nothing in the module could remove it (``del`` of that
name, ``globals()``, a module that replaces itself in ``sys.modules``). Anything else — a
compiled module, a star import, a module ``__getattr__`` alone — is "not proven", and the
value is then imported for real. What it cannot prove is that the library imports at all:
import records do (``import_health.py``).
"""

from __future__ import annotations

import ast
import importlib.machinery
import warnings
from functools import cache
from pathlib import Path


@cache
def module_source(dotted: str) -> Path | None:
    """The ``.py`` file of module ``dotted`` as the import system would find it, unimported.

    Returns:
        The file, or ``None`` when it is not a plain source module (not found, compiled,
        or a namespace package).
    """
    top, _, rest = dotted.partition(".")
    spec = importlib.machinery.PathFinder.find_spec(top)
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    path = Path(spec.origin)
    for part in rest.split(".") if rest else ():
        if path.name != "__init__.py":
            return None  # a plain module has no submodules
        package = path.parent
        candidates = [package / part / "__init__.py", package / f"{part}.py"]
        found = [c for c in candidates if c.is_file()]
        if not found:
            return None
        path = found[0]
    return path


def _targets(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, (ast.Tuple, ast.List)):
        return [name for element in node.elts for name in _targets(element)]
    return []


@cache
def bound_names(filename: Path) -> frozenset[str]:
    """The names the module's top level binds unconditionally (empty when unsure)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(filename.read_bytes(), str(filename))
    except (OSError, SyntaxError, ValueError):
        return frozenset()
    names: set[str] = set()
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(statement.name)
        elif isinstance(statement, ast.Import):
            names.update(a.asname or a.name.partition(".")[0] for a in statement.names)
        elif isinstance(statement, ast.ImportFrom):
            names.update(a.asname or a.name for a in statement.names if a.name != "*")
        elif isinstance(statement, ast.Assign):
            names.update(name for target in statement.targets for name in _targets(target))
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            names.update(_targets(statement.target))
    for node in ast.walk(tree):
        if isinstance(node, ast.Delete):
            for target in node.targets:
                names.difference_update(_targets(target))
        elif isinstance(node, ast.Name) and node.id == "globals":
            return frozenset()
        elif isinstance(node, ast.Attribute) and node.attr == "modules":
            return frozenset()  # `sys.modules[__name__] = …`: another object may answer
    return frozenset(names)


def proven(path: str, modules: frozenset[str]) -> bool:
    """True when reading ``path`` (``pandas.DataFrame``) after importing ``modules`` works.

    Args:
        path: A dotted path: a module, then attributes.
        modules: The modules the project's import statements import (``sklearn.preprocessing``
            for ``from sklearn.preprocessing import X``): those are attributes of their parent.
    """
    parts = path.split(".")
    module = parts[0]
    if module_source(module) is None:
        return False
    for index, part in enumerate(parts[1:], start=1):
        submodule = f"{module}.{part}"
        if submodule in modules and module_source(submodule) is not None:
            module = submodule
            continue
        source = module_source(module)
        if source is None or part not in bound_names(source):
            return False
        return index == len(parts) - 1  # an attribute of a class or value: not followed
    return True
