"""Deferred import: the project's heavy libraries become real on first real use.

The unit tests import a small project module that uses ``heavylib``, a real package
written to ``tmp_path`` and put on the deferred list, once inside :func:`deferred_imports`
and once without: whatever the module computes must be the same, and a module that only
names the library must not import it. The integration tests run ``check`` on real
projects that import numpy, pandas and scikit-learn.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from project_factory import NODES, write_project

from kedro_ml_lint.loader import deferred

HEAVYLIB = {
    "__init__.py": """
        import functools

        COLUMNS = ["a", "b", "c"]
        VERSION = (1, 2)
        PI = 3.14159
        NOTHING = None
        CONFIG = {"depth": 3, "names": ["x", "y"]}

        def scale(x, factor=2):
            return x * factor

        class Estimator:
            def __init__(self, k=1):
                self.k = k

            def fit(self, x):
                return x + self.k

        def keep(function):
            @functools.wraps(function)
            def wrapper(*args, **kwargs):
                return function(*args, **kwargs)
            return wrapper
        """,
    "sub.py": """
        NAMES = ("x", "y")

        def helper(a, b):
            return a + b
        """,
}
IMPORTS = """
import heavylib
import heavylib.sub
import heavylib.sub as hs
from heavylib import COLUMNS, CONFIG, NOTHING, PI, VERSION, Estimator, keep, scale
from heavylib.sub import NAMES, helper


def derive(base):
    class Derived(base):
        pass

    return Derived
"""
# Module-level uses of the library, each appended to RESULT: what a registry may compute.
# Identity (`NOTHING is None`) is the documented exception (kedro_ml_lint/loader/deferred.py).
USES = {
    "list": "list(COLUMNS)",
    "len": "len(COLUMNS)",
    "contains": "'b' in COLUMNS",
    "index": "COLUMNS[1]",
    "iterate": "[c.upper() for c in COLUMNS]",
    "format": "f'{PI:.2f}'",
    "str": "str(VERSION)",
    "compare": "VERSION >= (1, 0)",
    "arithmetic": "PI * 2 + 1",
    "reflected": "1 + PI",
    "truth": "bool(NOTHING)",
    "call": "scale(3)",
    "call_kwargs": "scale(x=2, factor=5)",
    "instance": "Estimator(k=2).fit(1)",
    "isinstance": "isinstance(Estimator(), Estimator)",
    "subclass": "derive(Estimator)(k=4).fit(0)",
    "issubclass": "issubclass(derive(Estimator), Estimator)",
    "dict": "sorted(dict(CONFIG))",
    "nested": "CONFIG['names'][0]",
    "submodule": "heavylib.sub.helper(1, 2)",
    "alias": "hs.helper('a', 'b')",
    "from_submodule": "helper(2, 3) + len(NAMES)",
    "dunder": "scale.__name__ + heavylib.__name__",
    "signature": "str(__import__('inspect').signature(scale))",
    "decorator": "keep(lambda: 7)()",
    "hash": "hash(VERSION)",
    "node_name": "__import__('kedro.pipeline').pipeline.node(scale, 'x', 'y').name",
    "doc_module": "(helper.__module__, Estimator.__doc__, heavylib.__doc__)",
}


@pytest.fixture
def library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``heavylib`` on ``sys.path`` and on the deferred list; a project folder beside it."""
    site = tmp_path / "site"
    for name, text in HEAVYLIB.items():
        path = site / "heavylib" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(deferred, "DEFERRED_LIBRARIES", frozenset({"heavylib"}))
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.syspath_prepend(str(project))
    yield project
    _forget("heavylib", "projmod")


def _forget(*tops: str) -> None:
    for name in [m for m in sys.modules if m.partition(".")[0] in tops]:
        del sys.modules[name]


def _import_project(project: Path, body: str, defer: bool) -> tuple[object, list[str]]:
    """Import ``body`` as module ``projmod`` of ``project``; return it and what was deferred."""
    (project / "projmod.py").write_text(IMPORTS + textwrap.dedent(body), encoding="utf-8")
    _forget("heavylib", "projmod")
    importlib.invalidate_caches()
    if not defer:
        return importlib.import_module("projmod"), []
    with deferred.deferred_imports(lambda f: f.startswith(str(project))) as session:
        module = importlib.import_module("projmod")
    return module, session.deferred


def test_naming_a_library_does_not_import_it(library: Path) -> None:
    module, deferred_tops = _import_project(
        library,
        """
        def node(frame: heavylib.Estimator, names=heavylib.sub.NAMES) -> hs.NAMES:
            return frame
        FUNCTIONS = {"fit": Estimator, "scale": scale, "helper": helper}
        """,
        defer=True,
    )
    assert deferred_tops == ["heavylib"]
    assert "heavylib" not in sys.modules and "heavylib.sub" not in sys.modules
    # First real use: the real values, the submodule the import statement named included.
    assert module.FUNCTIONS["scale"](4) == 8  # type: ignore[attr-defined]
    assert "heavylib.sub" in sys.modules
    assert module.FUNCTIONS["helper"].__name__ == "helper"  # type: ignore[attr-defined]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(uses=st.lists(st.sampled_from(sorted(USES)), min_size=1, max_size=8))
def test_every_use_computes_what_the_real_library_gives(library: Path, uses: list[str]) -> None:
    body = "RESULT = [\n" + "".join(f"    {USES[use]},\n" for use in uses) + "]\n"
    real, _ = _import_project(library, body, defer=False)
    lazy, _ = _import_project(library, body, defer=True)
    assert lazy.RESULT == real.RESULT  # type: ignore[attr-defined]
    assert [type(v) for v in lazy.RESULT] == [type(v) for v in real.RESULT]  # type: ignore[attr-defined]


def test_a_library_importing_another_gets_the_real_one(library: Path) -> None:
    (library.parent / "site" / "helperlib.py").write_text(
        "import heavylib\nKIND = type(heavylib).__name__\n"
    )
    module, _ = _import_project(library, "import helperlib\nKIND = helperlib.KIND\n", defer=True)
    assert module.KIND == "module"  # type: ignore[attr-defined]
    _forget("helperlib")


def test_kedro_validates_a_deferred_node_function(library: Path) -> None:
    """Kedro's node() binds inputs to the function's signature: a mismatch still raises."""
    body = """
        from kedro.pipeline import node
        GOOD = node(scale, ["x", "params:factor"], "y")
        try:
            node(helper, ["a", "b", "c"], "y")
            BAD = None
        except TypeError as exc:
            BAD = str(exc)
        NAMES_OF = GOOD.name
        """
    real, _ = _import_project(library, body, defer=False)
    lazy, _ = _import_project(library, body, defer=True)
    assert real.BAD and lazy.BAD == real.BAD  # type: ignore[attr-defined]
    assert lazy.NAMES_OF == real.NAMES_OF  # type: ignore[attr-defined]


def test_star_imports_and_relative_imports_are_real(library: Path) -> None:
    module, deferred_tops = _import_project(library, "from heavylib import *\n", defer=True)
    assert deferred_tops == ["heavylib"]  # the earlier import statements were deferred
    assert module.scale(1) == 2  # type: ignore[attr-defined]
    assert type(module.scale).__name__ == "function"  # type: ignore[attr-defined]


# -- real projects -------------------------------------------------------------------------

HEAVY_NODES = (
    """
import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler


def scale(frame: pd.DataFrame) -> np.ndarray:
    return StandardScaler().fit_transform(frame)
"""
    + NODES
)

PROBE = """
import json, sys
from kedro_ml_lint.api import lint_project
result = lint_project(sys.argv[1], lite=sys.argv[2] == "lite")
print(json.dumps({
    "violations": sorted((v.code, v.subject or "") for v in result.violations),
    "imported": sorted(
        m for m in ("numpy", "pandas", "sklearn", "unittest.mock") if m in sys.modules
    ),
}))
"""


def _probe(project: Path, mode: str) -> dict[str, list]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(project), mode],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.splitlines()[-1])


@pytest.mark.integration
def test_a_registry_that_only_names_its_libraries_loads_without_them(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", nodes=HEAVY_NODES)
    lite, full = _probe(project, "lite"), _probe(project, "no-lite")
    assert lite["violations"] == full["violations"]
    assert lite["imported"] == [] and full["imported"] == ["numpy", "pandas", "sklearn"]
    # nor unittest.mock (and the asyncio it imports), which the load no longer needs


@pytest.mark.integration
def test_a_registry_that_computes_with_a_library_gets_the_real_values(tmp_path: Path) -> None:
    """Node names built from a pandas index: deferral imports pandas and gives the same nodes."""
    nodes = HEAVY_NODES + "\nSTEPS = list(pd.Index(['fit_scaler', 'fit_model']))\n"
    pipelines = (
        "from kedro.pipeline import Pipeline, node\n"
        "from {package}.nodes import STEPS, fit, predict\n\n"
        "def training():\n"
        "    return Pipeline([\n"
        "        node(fit, ['features', 'params:model_options'], 'scaler', name=STEPS[0]),\n"
        "        node(fit, ['features', 'scaler'], 'modl', name=STEPS[1]),\n"
        "    ])\n\n"
        "def inference():\n"
        "    return Pipeline([node(predict, ['instances', 'scaler', 'model'], 'predictions',\n"
        "                          name='predict')])\n"
    )
    project = write_project(tmp_path / "p", nodes=nodes, pipelines=pipelines)
    lite, full = _probe(project, "lite"), _probe(project, "no-lite")
    assert lite["violations"] == full["violations"]
    assert ("KML003", "model") in [tuple(v) for v in lite["violations"]]  # 'modl' typo
    assert "pandas" in lite["imported"]


@pytest.mark.integration
def test_a_registry_that_notices_the_deferral_is_imported_again_for_real(tmp_path: Path) -> None:
    nodes = HEAVY_NODES + (
        "\nif type(np).__name__ != 'module':\n    raise RuntimeError('numpy is not a module')\n"
    )
    project = write_project(tmp_path / "p", nodes=nodes)
    lite = run_cli("check", project, "--no-cache", "--format", "json")
    full = run_cli("check", project, "--no-cache", "--no-lite", "--format", "json")
    assert lite.code == full.code == 0, lite.stderr
    assert json.loads(lite.stdout)["violations"] == json.loads(full.stdout)["violations"]
