"""The package's layout, as the import-linter contracts (pyproject.toml) and design §8 state it.

import-linter checks the imports between the layers it is given; these tests check what it
cannot: that every module is in some layer (a new package left out would be unchecked), that
the contracts naming who may import click and mlflow cover every other package, that no two
modules import each other through any path (type-only imports included), and that nothing
below the facade imports the root package.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import grimp
import networkx as nx
import pytest
import tomllib

import kedro_ml_lint

PACKAGE = Path(kedro_ml_lint.__file__).parent
ROOT = "kedro_ml_lint"
# The packages allowed what the forbidden contracts forbid every other one.
MAY_IMPORT = {
    # The hook shows its error the way Kedro's click CLI does and prints its summary with
    # click; --watch clears the screen (report.text's colours: an ignore_imports line).
    "click": {"kedro_ml_lint.cli", "kedro_ml_lint.hooks", "kedro_ml_lint.watch"},
    "mlflow": {"kedro_ml_lint.publishing", "kedro_ml_lint.seams"},
}


def _contracts() -> list[dict[str, Any]]:
    config = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8"))
    return config["tool"]["importlinter"]["contracts"]


def _layer_names() -> list[str]:
    (layers,) = [c for c in _contracts() if c["type"] == "layers"]
    return [name.strip() for layer in layers["layers"] for name in layer.split("|")]


def _modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _top_level() -> set[str]:
    return {".".join(name.split(".")[:2]) for name in _modules() if name != ROOT}


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_every_module_is_in_a_layer() -> None:
    layers = _layer_names()
    outside = [m for m in _modules() if m != ROOT and not any(_within(m, p) for p in layers)]
    assert outside == [], "add these to the layers contract in pyproject.toml"


def test_every_layer_names_a_module() -> None:
    modules = set(_modules())
    assert [name for name in _layer_names() if name not in modules] == []


@pytest.mark.parametrize("library", sorted(MAY_IMPORT))
def test_the_contract_on_a_library_covers_every_other_package(library: str) -> None:
    (contract,) = [
        c
        for c in _contracts()
        if c["type"] == "forbidden"
        and c["forbidden_modules"] == [library]
        and c.get("allow_indirect_imports") == "True"
    ]
    assert set(contract["source_modules"]) == _top_level() - MAY_IMPORT[library]


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    # Type-only imports count: a circle through them is still a circle to a reader.
    return grimp.build_graph(ROOT, exclude_type_checking_imports=False, cache_dir=None)


def test_no_import_circle(graph: grimp.ImportGraph) -> None:
    edges = nx.DiGraph()
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            # `from package import name` of a package's own __init__ is no circle.
            if not _within(module, imported):
                edges.add_edge(module, imported)
    circles = [sorted(c) for c in nx.strongly_connected_components(edges) if len(c) > 1]
    assert circles == []


def test_nothing_below_the_facade_imports_the_root_package(graph: grimp.ImportGraph) -> None:
    # `from kedro_ml_lint import engine` is an import of the submodule; `import
    # kedro_ml_lint` or `from kedro_ml_lint import __version__` is one of the facade.
    assert graph.find_modules_that_directly_import(ROOT) == set()
