"""Deferred import: the project's heavy libraries become real on first real use.

The unit tests import a small project module that uses ``heavylib``, a real package
written to ``tmp_path`` and put on the deferred list, once inside :func:`deferred_imports`
and once without: whatever the module computes must be the same (what a proxy cannot
intercept included: identity, ``type``, ``hasattr``, ``enum``, ``typing``…), and a module that
only names the library must not import it. The integration tests run ``check`` on real
projects that import numpy, pandas and scikit-learn, each case of issue 19 compared with
``--no-defer``'s verdict.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import CliRun, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from project_factory import NODES, write_project

from kedro_ml_lint.importing import deferred


class _Trusted:
    """Every import known to succeed: these unit tests are about the deferred values.

    Whether an import may be deferred at all (import records) is tested on real
    processes in tests/test_import_health.py.
    """

    def known_good(self, name: str, fromlist: tuple[str, ...]) -> bool:
        return True

    def imported_for_real(self, name: str, fromlist: tuple[str, ...], do_import) -> object:
        return do_import()


TRUSTED = _Trusted()

HEAVYLIB = {
    "__init__.py": """
        import functools

        COLUMNS = ["a", "b", "c"]
        VERSION = (1, 2)
        PI = 3.14159
        NOTHING = None
        CONFIG = {"depth": 3, "names": ["x", "y"]}

        NAN = float("nan")

        def scale(x, factor=2):
            return x * factor

        def nan_of():
            return NAN

        class HeavyError(Exception):
            pass

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
import abc
import dataclasses
import enum
import functools
import typing

import heavylib
import heavylib.sub
import heavylib.sub as hs
from heavylib import COLUMNS, CONFIG, NAN, NOTHING, PI, VERSION, Estimator, keep, scale
from heavylib.sub import NAMES, helper


def derive(base):
    class Derived(base):
        pass

    return Derived
"""
# What the uses below read: classes and functions a registry's modules define.
DEFINITIONS = """
class Kind(enum.Enum):  # classes are members; functions are methods (descriptors)
    ESTIMATOR = Estimator
    ERROR = heavylib.HeavyError
    SCALE = scale


@dataclasses.dataclass
class Options:
    factor: float = PI
    version: typing.Tuple[int, int] = VERSION


class Base(abc.ABC):
    pass


def caught():
    try:
        raise heavylib.HeavyError("boom")
    except (KeyError, heavylib.HeavyError) as exc:
        return type(exc).__name__


def optional_attribute():
    try:
        return heavylib.absent
    except AttributeError:
        return "absent"
"""
# Module-level uses of the library, each appended to RESULT: what a registry may compute.
# What a proxy cannot intercept (identity, `type`, `id`, `hasattr`…) is exact through the
# rewrite of the project's modules (kedro_ml_lint/importing/rewrite.py); what library code
# does with a value (enum, dataclasses, abc, typing, functools) is exact too.
USES = {
    "is_none": "NOTHING is None",
    "is_real": "heavylib.nan_of() is NAN",
    "is_not": "(PI is not heavylib.PI, scale is not helper)",
    "type": "(type(Estimator), type(scale), type(heavylib).__name__)",
    "id": "id(scale) == id(heavylib.scale)",
    "hasattr_absent": "hasattr(heavylib, 'absent')",
    "hasattr_present": "(hasattr(heavylib, 'scale'), hasattr(hs, 'NAMES'))",
    "getattr_default": "getattr(heavylib, 'absent', 'fallback')",
    "getattr_present": "getattr(heavylib.sub, 'NAMES', None)",
    "dir": "'scale' in dir(heavylib)",
    "vars": "sorted(vars(hs))",
    "callable": "(callable(PI), callable(scale), callable(Estimator))",
    "enum": "[m.name for m in Kind]",
    "enum_value": "(Kind.ESTIMATOR.value is Estimator, Kind(Estimator).name)",
    "enum_functional": "[m.name for m in enum.Enum('Made', [('A', Estimator), ('B', scale)])]",
    "dataclass": "(Options().factor is PI, Options() == Options(PI, VERSION))",
    "field": "dataclasses.field(default=PI).default is heavylib.PI",
    "abc": "(Base.register(Estimator) is Estimator, issubclass(Estimator, Base))",
    "typing": "typing.Tuple[Estimator, scale] == typing.Tuple[heavylib.Estimator, heavylib.scale]",
    "typing_args": "typing.Tuple[Estimator, int].__args__[0] is Estimator",
    "typing_optional": "typing.Optional[Estimator].__args__ == (heavylib.Estimator, type(None))",
    "partial": "(functools.partial(scale, 3)(), functools.partial(scale).func is scale)",
    "wraps": "functools.wraps(scale)(lambda: 0).__wrapped__ is scale",
    "except": "caught()",
    "try_absent": "optional_attribute()",
    "class_equality": "(Estimator == heavylib.Estimator, Estimator != helper)",
    "unpack": "[*COLUMNS]",
    "own_names": "sorted(n for n in globals() if not n.startswith('_'))",
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
    with deferred.deferred_imports(lambda f: f.startswith(str(project)), TRUSTED) as session:
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
    body = DEFINITIONS + "RESULT = [\n" + "".join(f"    {USES[use]},\n" for use in uses) + "]\n"
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


def test_library_code_building_an_enum_of_deferred_classes_gets_its_members(
    library: Path,
) -> None:
    """``enum`` asks ``hasattr(value, "__get__")``: a deferred class must answer as a class."""
    import enum

    with deferred.deferred_imports(lambda f: False, TRUSTED) as session:
        estimator = deferred.Deferred("heavylib.Estimator", session)
        scale = deferred.Deferred("heavylib.scale", session)
        assert not hasattr(estimator, "__get__") and hasattr(scale, "__get__")
        made = enum.Enum(
            "Made", {"ESTIMATOR": estimator, "OTHER": deferred.Deferred("heavylib.PI", session)}
        )
    assert [m.name for m in made] == ["ESTIMATOR", "OTHER"]
    assert made.ESTIMATOR.value == deferred.real(estimator)


BROKEN = 'raise ImportError("libheavy.so: cannot open shared object file")\n'


@pytest.mark.parametrize(
    "body",
    [
        "try:\n    import brokenlib\n    FOUND = True\nexcept ImportError:\n    FOUND = False\n",
        "try:\n    from brokenlib import thing\n    FOUND = True\n"
        "except Exception:\n    FOUND = False\n",
        "def probe():\n    try:\n        import brokenlib.sub\n"
        "    except (ValueError, ModuleNotFoundError, ImportError):\n"
        "        return False\n    return True\nFOUND = probe()\n",
    ],
    ids=["import", "from-import", "in-a-function"],
)
def test_an_optional_import_of_a_broken_install_reaches_its_except(
    library: Path, monkeypatch: pytest.MonkeyPatch, body: str
) -> None:
    (library.parent / "site" / "brokenlib").mkdir()
    (library.parent / "site" / "brokenlib" / "__init__.py").write_text(BROKEN)
    monkeypatch.setattr(deferred, "DEFERRED_LIBRARIES", frozenset({"heavylib", "brokenlib"}))
    real, _ = _import_project(library, body, defer=False)
    lazy, deferred_tops = _import_project(library, body, defer=True)
    assert real.FOUND is False and lazy.FOUND is False  # type: ignore[attr-defined]
    assert "brokenlib" not in deferred_tops
    _forget("brokenlib")


def test_a_resolution_error_something_caught_is_recorded(library: Path) -> None:
    """The project catches the error; the session still knows, so the load is retried."""
    body = """
        LATER = heavylib.absent
        try:
            LATER()
        except Exception:
            pass
        """
    (library / "projmod.py").write_text(IMPORTS + textwrap.dedent(body), encoding="utf-8")
    _forget("heavylib", "projmod")
    with deferred.deferred_imports(lambda f: f.startswith(str(library)), TRUSTED) as session:
        importlib.import_module("projmod")
    assert session.doubt() is not None and "AttributeError" in session.doubt()  # type: ignore[operator]


def test_the_rewrite_keeps_line_numbers(library: Path) -> None:
    body = "\n\n\ndef where():\n    return __import__('sys')._getframe().f_lineno\nLINE = where()\n"
    real, _ = _import_project(library, body, defer=False)
    lazy, _ = _import_project(library, body, defer=True)
    assert lazy.LINE == real.LINE  # type: ignore[attr-defined]


def test_nothing_to_defer_means_no_rewrite(library: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only an installed library not imported yet is worth deferring (lean environments)."""
    assert deferred.worth_deferring()  # heavylib: on the path, not imported
    monkeypatch.setattr(deferred, "DEFERRED_LIBRARIES", frozenset({"json", "not_installed_xyz"}))
    assert not deferred.worth_deferring()


@pytest.mark.parametrize(
    ("body", "works"),
    [
        ("import heavylib\nVALUE = heavylib.extra.EXTRA\n", False),  # nothing imported it
        ("from heavylib import extra\nVALUE = extra.EXTRA\n", True),  # from-import does
        ("import heavylib.extra\nVALUE = heavylib.extra.EXTRA\n", True),
    ],
    ids=["attribute-of-an-unimported-submodule", "from-import", "import"],
)
def test_a_submodule_is_there_exactly_when_an_import_made_it(
    library: Path, body: str, works: bool
) -> None:
    (library.parent / "site" / "heavylib" / "extra.py").write_text("EXTRA = 'x'\n")
    full = "import heavylib.sub\n" + body
    if works:
        real, _ = _import_project(library, full, defer=False)
        lazy, _ = _import_project(library, full, defer=True)
        assert lazy.VALUE == real.VALUE == "x"  # type: ignore[attr-defined]
    else:
        with pytest.raises(AttributeError):
            _import_project(library, full, defer=False)
        with pytest.raises(AttributeError):
            _import_project(library, full + "str(VALUE)\n", defer=True)


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
result = lint_project(sys.argv[1], lite=sys.argv[2] != "no-lite", defer=sys.argv[2] == "lite")
print(json.dumps({
    "violations": sorted((v.code, v.subject or "") for v in result.violations),
    "imported": sorted(
        m for m in ("numpy", "pandas", "sklearn", "unittest.mock") if m in sys.modules
    ),
}))
"""


def _probe(project: Path, mode: str) -> dict[str, list]:
    """The verdict and what was imported; with deferral, from a run that could defer.

    An import is deferred only where a record says it succeeds here: the first run
    imports for real and writes the records (the same verdict), the second defers.
    """
    probed = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", PROBE, str(project), mode],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.splitlines()[-1]
        )
        for _ in range(2 if mode == "lite" else 1)
    ]
    assert all(run["violations"] == probed[-1]["violations"] for run in probed)
    return probed[-1]


def _deferring(*args: object, env: dict | None = None) -> CliRun:
    """``run_cli(*args)`` run twice: the first learns which imports succeed here (import
    records), the second defers them; both give the same verdict and output (``-v``
    lets Kedro log time stamps to stdout: then the verdict's line)."""
    learning = run_cli(*args, env=env, process=True)
    run = run_cli(*args, env=env, process=True)
    verbose = "-v" in args
    outputs = [r.stdout.splitlines()[-1:] if verbose else r.stdout for r in (learning, run)]
    assert (learning.code, outputs[0]) == (run.code, outputs[1]), learning.stderr
    return run


@pytest.mark.integration
def test_a_registry_that_only_names_its_libraries_loads_without_them(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", nodes=HEAVY_NODES)
    lite, full = _probe(project, "lite"), _probe(project, "no-defer")
    assert lite["violations"] == full["violations"]
    # `pd.DataFrame` and `StandardScaler` are proven to exist by their libraries' sources;
    # numpy binds `ndarray` under an `if`, so `-> np.ndarray` is checked by importing numpy.
    assert lite["imported"] == ["numpy"] and full["imported"] == ["numpy", "pandas", "sklearn"]
    # nor unittest.mock (and the asyncio it imports), which the load no longer needs
    names_only = write_project(
        tmp_path / "q", nodes=HEAVY_NODES.replace("-> np.ndarray", "-> pd.DataFrame")
    )
    assert _probe(names_only, "lite")["imported"] == []


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
    lite, full = _probe(project, "lite"), _probe(project, "no-defer")
    assert lite["violations"] == full["violations"]
    assert ("KML003", "model") in [tuple(v) for v in lite["violations"]]  # 'modl' typo
    assert "pandas" in lite["imported"]


@pytest.mark.integration
def test_a_registry_that_asks_a_library_its_type_gets_the_real_answer(tmp_path: Path) -> None:
    """`type(np)` is the module's type under deferral (the rewrite): no retry is needed."""
    nodes = HEAVY_NODES + (
        "\nif type(np).__name__ != 'module':\n    raise RuntimeError('numpy is not a module')\n"
    )
    project = write_project(tmp_path / "p", nodes=nodes)
    lite = _deferring("check", project, "--no-cache", "--format", "json")
    full = run_cli("check", project, "--no-cache", "--no-defer", "--format", "json", process=True)
    assert lite.code == full.code == 0, lite.stderr
    assert json.loads(lite.stdout)["violations"] == json.loads(full.stdout)["violations"]
    assert "retried for real" not in _deferring("check", project, "--no-cache", "-v").stderr


# -- each case of issue 19, on a real project: the deferred verdict is --no-defer's --------

# Node modules written as Kedro's templates generate them: typed signatures with `typing`
# generics, no `from __future__ import annotations`. Each case sets FLAG to what the real
# import computes; the inference pipeline reads another dataset when FLAG is false, so a
# wrong value under deferral changes the verdict.
TYPED_NODES = (
    """
import sys
from enum import Enum
from typing import Any, Dict, Tuple

import numpy as np
import pandas as pd
from numpy import float64
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler


def split(data: pd.DataFrame, parameters: Dict[str, Any]) -> Tuple[pd.DataFrame, pd.DataFrame]:
    return data, data

{case}
"""
    + NODES
)

FLAGGED_PIPELINES = """
from kedro.pipeline import Pipeline, node

from {package}.nodes import FLAG, fit, predict


def training():
    return Pipeline([
        node(fit, ["features", "params:model_options"], "scaler", name="fit_scaler"),
        node(fit, ["features", "scaler"], "model", name="fit_model"),
    ])


def inference():
    model = "model" if FLAG else "model_of_the_other_branch"
    return Pipeline([
        node(predict, ["instances", "scaler", model, "params:threshold"], "predictions",
             name="predict"),
    ])
"""

CASES = {
    "enum_of_deferred_classes": """
class Estimators(Enum):
    LR = LogisticRegression
    SCALER = StandardScaler

FLAG = [e.name for e in Estimators] == ["LR", "SCALER"]
""",
    "dtype_type_is": 'FLAG = np.dtype("float64").type is float64',
    "hasattr_absent_under_numpy_2": 'FLAG = not hasattr(np, "float_")',
    "hasattr_present": 'FLAG = hasattr(np, "float64") and getattr(np, "float_", None) is None',
    "is_nan": "MISSING = np.nan\nFLAG = float(MISSING) is np.nan",
    "type_of_a_class": "FLAG = type(pd.DataFrame) is type and type(np) is type(sys)",
    "optional_import_of_a_broken_install": """
try:
    import torch
    FLAG = False
except ImportError:
    FLAG = True
""",
}


def _verdict(project: Path, *flags: str, env: dict | None = None) -> tuple[int, dict]:
    """The verdict; a deferring one (no ``--no-defer``) from a run that could defer."""
    args = ("check", project, "--no-cache", "--format", "json", *flags)
    run = (
        run_cli(*args, env=env, process=True)
        if "--no-defer" in flags
        else _deferring(*args, env=env)
    )
    assert run.code in (0, 1), run.stderr
    report = json.loads(run.stdout)
    return run.code, {
        "pairs": sorted(p["pipeline"] for p in report["pairs"]),
        "violations": sorted((v["code"], v["subject"]) for v in report["violations"]),
    }


@pytest.fixture
def broken_torch(tmp_path: Path) -> dict[str, str]:
    """A `torch` whose import raises, as a broken install's does, first on the path."""
    site = tmp_path / "broken-site"
    (site / "torch").mkdir(parents=True)
    (site / "torch" / "__init__.py").write_text(
        'raise ImportError("libtorch_cpu.so: cannot open shared object file")\n'
    )
    return {"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}


@pytest.mark.integration
@pytest.mark.parametrize("case", sorted(CASES))
def test_each_case_gives_the_real_verdict(
    tmp_path: Path, case: str, broken_torch: dict[str, str]
) -> None:
    project = write_project(
        tmp_path / "p", nodes=TYPED_NODES.format(case=CASES[case]), pipelines=FLAGGED_PIPELINES
    )
    deferred_run = _verdict(project, env=broken_torch)
    real_run = _verdict(project, "--no-defer", env=broken_torch)
    assert deferred_run == real_run
    # FLAG is true for real: the inference pipeline reads the model training writes.
    assert not any("other_branch" in subject for _, subject in real_run[1]["violations"])


FOUND_REGISTRY = """
from kedro.framework.project import find_pipelines

from kedro_ml_lint import pipeline_ml_factory


def register_pipelines():
    found = find_pipelines()
    pairs = {{}}
    for pair in ("a", "b"):
        if f"train_{{pair}}" in found and f"infer_{{pair}}" in found:
            pairs[f"pair_{{pair}}"] = pipeline_ml_factory(
                found[f"train_{{pair}}"], found[f"infer_{{pair}}"], input_name="instances"
            )
    return pairs
"""
FOUND_TRAINING = """
from kedro.pipeline import Pipeline, node

from demo.nodes import fit


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline([
        node(fit, ["features", "params:model_options"], "scaler", name="fit_scaler"),
        node(fit, ["features", "scaler"], "model", name="fit_model"),
    ])
"""
FOUND_INFERENCE = """
import sys

import numpy as np
from kedro.pipeline import Pipeline, node

from demo.nodes import predict

# Something that tells a deferred import from a real one: under deferral this module
# raises, Kedro's find_pipelines turns that into a warning and skips the pipeline.
if "numpy" not in sys.modules:
    raise RuntimeError("numpy is not imported")


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline([
        node(predict, ["instances", "scaler", "model", "params:threshold"], "predictions",
             name="predict"),
    ])
"""


def _found_project(root: Path, inference_b: str) -> Path:
    """Pairs ``a`` and ``b`` that ``find_pipelines`` finds; ``b``'s inference module given."""
    project = write_project(root, registry=FOUND_REGISTRY)
    for name, text in {
        "train_a": FOUND_TRAINING,
        "infer_a": FOUND_INFERENCE.replace("raise", "pass  #"),
        "train_b": FOUND_TRAINING,
        "infer_b": inference_b,
    }.items():
        package = project / "src" / "demo" / "pipelines" / name
        package.mkdir(parents=True)
        (package / "__init__.py").write_text("from .pipeline import create_pipeline\n")
        (package / "pipeline.py").write_text(textwrap.dedent(text).lstrip())
    (project / "src" / "demo" / "pipelines" / "__init__.py").write_text("")
    (project / "src" / "demo" / "pipelines.py").unlink()
    return project


@pytest.mark.integration
def test_a_removed_name_only_read_at_import_skips_the_pipeline_as_for_real(
    tmp_path: Path,
) -> None:
    """``np.float_`` (gone in numpy 2) in an annotation: Kedro skips the pipeline for real."""
    inference = FOUND_INFERENCE.replace(
        'if "numpy" not in sys.modules:\n    raise RuntimeError("numpy is not imported")',
        "def legacy(values: np.float_) -> np.float_:\n    return values",
    )
    project = _found_project(tmp_path / "p", inference)
    deferred_run = _verdict(project)
    assert deferred_run == _verdict(project, "--no-defer")
    assert deferred_run[1]["pairs"] == ["pair_a"]  # pair_b's inference module fails to import
    explained = _deferring("check", project, "--no-cache", "-v")
    assert "numpy.float_" in explained.stderr and "retried for real" in explained.stderr


@pytest.mark.integration
def test_a_pipeline_find_pipelines_skipped_is_found_by_the_retry(tmp_path: Path) -> None:
    project = _found_project(tmp_path / "p", FOUND_INFERENCE)
    deferred_run = _verdict(project)
    assert deferred_run == _verdict(project, "--no-defer")
    assert deferred_run[1]["pairs"] == ["pair_a", "pair_b"]  # 2 pairs checked, not 1
    explained = _deferring("check", project, "--no-cache", "-v")
    retried = [line for line in explained.stderr.splitlines() if "retried for real" in line]
    assert len(retried) == 1 and "numpy" in retried[0] and "warning" in retried[0], retried
    assert "2 pairs checked" in explained.stdout
    picture = tmp_path / "graph.json"  # -v lets Kedro log to stdout
    drawn = run_cli(
        "graph", project, "--no-cache", "-v", "--format", "json", "--output", picture, process=True
    )
    assert [line for line in drawn.stderr.splitlines() if "retried for real" in line] == retried
    assert len(json.loads(picture.read_text())["pairs"]) == 2


LOG_PROBE = """
import sys
from kedro_ml_lint.api import lint_project
from kedro_ml_lint.publishing import log_models
from kedro_ml_lint.publishing.errors import PublishError
result = lint_project(sys.argv[1], artifacts_on_disk=True)
if sys.argv[3] == "learn":  # the first run imports for real and writes the import records,
    # its modules compiled for deferral all the same: their functions cannot be pickled
    assert result.loaded.deferred == () and result.loaded.compiled_for_deferral
else:
    assert result.loaded.deferred == ("numpy", "pandas", "sklearn"), result.loaded.deferred
try:
    log_models(result, tracking_uri=sys.argv[2])
except PublishError as exc:
    print(exc)
"""


@pytest.mark.integration
def test_log_models_refuses_a_deferred_load(tmp_path: Path) -> None:
    """What is logged is the project imported for real: `--log` never defers.

    Even a load that deferred nothing (no import record yet) compiled the project's
    modules for deferral: a model pickling their functions fails wherever it is served
    (``NameError: name '@kml_argument' is not defined``), so it is refused too.
    """
    project = write_project(tmp_path / "p", nodes=HEAVY_NODES)
    said = {}
    for step in ("learn", "defer"):
        proc = subprocess.run(
            [
                *(sys.executable, "-c", LOG_PROBE, str(project)),
                *(f"sqlite:///{tmp_path / 'mlflow.db'}", step),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        said[step] = proc.stdout
    assert "loaded with deferred imports; lint with" in said["learn"]
    assert "loaded with deferred imports (numpy, pandas, sklearn)" in said["defer"]
    assert all("defer=False" in text for text in said.values())
    assert not (tmp_path / "mlflow.db").exists()


@pytest.mark.integration
def test_a_compiler_warning_does_not_make_the_load_retry(tmp_path: Path) -> None:
    """Only warnings of the load count: `"\\d"` warns when compiled, deferral or not."""
    nodes = HEAVY_NODES + '\nPATTERN = "\\d+"\n'
    project = write_project(tmp_path / "p", nodes=nodes)
    explained = _deferring("check", project, "--no-cache", "-v")
    assert explained.code == 0, explained.stderr
    assert "retried for real" not in explained.stderr


def test_a_name_proven_by_the_library_source_stays_deferred(library: Path) -> None:
    from kedro_ml_lint.importing.library_names import proven

    (library.parent / "site" / "heavylib" / "cond.py").write_text(
        "import sys\nKEPT = 1\nGONE = 2\ndel GONE\nif sys.platform:\n    MAYBE = 3\n"
    )
    requested = frozenset({"heavylib", "heavylib.sub"})
    assert proven("heavylib.Estimator", requested) and proven("heavylib.sub.helper", requested)
    assert proven("heavylib.sub", requested)  # imported by the import statement
    assert not proven("heavylib.cond", requested)  # a submodule nobody imported
    assert proven("heavylib.cond.KEPT", requested | {"heavylib.cond"})
    assert not proven("heavylib.cond.GONE", requested | {"heavylib.cond"})
    assert not proven("heavylib.cond.MAYBE", requested | {"heavylib.cond"})  # under an `if`
    assert not proven("heavylib.absent", requested)
    assert not proven("heavylib.Estimator.fit", requested)  # an attribute of a class


def test_an_absent_name_only_named_is_found_by_the_verification(library: Path) -> None:
    """Read in an annotation and never used: the real import raises; the session must know."""
    body = "def legacy(x: heavylib.absent) -> Estimator:\n    return x\n"
    (library / "projmod.py").write_text(IMPORTS + body, encoding="utf-8")
    _forget("heavylib", "projmod")
    with deferred.deferred_imports(lambda f: f.startswith(str(library)), TRUSTED) as session:
        importlib.import_module("projmod")
        assert "heavylib" not in sys.modules
        session.verify()
    assert "AttributeError (heavylib.absent" in (session.doubt() or "")
    with pytest.raises(AttributeError):
        _import_project(library, body, defer=False)


# Statements a library module's top level may hold; NAME is one of a, b, c.
STATEMENTS = [
    "NAME = 1",
    "NAME, OTHER = 1, 2",
    "NAME: int = 1",
    "NAME: int",
    "def NAME():\n    pass",
    "class NAME:\n    pass",
    "import math as NAME",
    "from math import pi as NAME",
    "from math import *",
    "if FLAG:\n    NAME = 1",
    "if not FLAG:\n    NAME = 1",
    "try:\n    NAME = 1 / ZERO\nexcept ZeroDivisionError:\n    pass",
    "for NAME in range(0):\n    pass",
    "del NAME",
    "def drop():\n    global NAME\n    del NAME\ndrop()",
    "globals().pop('NAME', None)",
    "def __getattr__(name):\n    return name",
]


@settings(max_examples=80, deadline=None)
@given(
    body=st.lists(
        st.tuples(st.sampled_from(STATEMENTS), st.sampled_from("abc")), min_size=1, max_size=6
    )
)
def test_a_name_proven_from_source_exists_after_the_real_import(
    tmp_path_factory: pytest.TempPathFactory, body: list[tuple[str, str]]
) -> None:
    """Soundness of library_names: whatever it proves bound is an attribute for real."""
    from kedro_ml_lint.importing import library_names

    site = tmp_path_factory.mktemp("site")
    lines = ["FLAG = False", "ZERO = 0"]
    for statement, name in body:
        if statement.startswith(("del ", "def drop")):  # only what is bound can be deleted
            lines.append(f"{name} = 0")
        lines.append(statement.replace("NAME", name))
    (site / "propmod.py").write_text("\n".join(lines) + "\n")
    library_names.module_source.cache_clear()
    library_names.bound_names.cache_clear()
    sys.path.insert(0, str(site))
    try:
        importlib.invalidate_caches()
        _forget("propmod")
        module = importlib.import_module("propmod")
        for name in "abc":
            if library_names.proven(f"propmod.{name}", frozenset({"propmod"})):
                assert name in vars(module), "\n".join(lines)
    finally:
        sys.path.remove(str(site))
        _forget("propmod")
        library_names.module_source.cache_clear()
        library_names.bound_names.cache_clear()


@pytest.mark.integration
def test_the_retry_line_quotes_a_warning_without_its_secret(tmp_path: Path) -> None:
    nodes = HEAVY_NODES + (
        "\nimport warnings\n"
        "warnings.warn('cannot reach postgresql://ml:s3cr3t-pw@db.internal/features')\n"
    )
    project = write_project(tmp_path / "p", nodes=nodes)
    explained = _deferring("check", project, "--no-cache", "-v")
    assert explained.code == 0, explained.stderr
    retried = [line for line in explained.stderr.splitlines() if "retried for real" in line]
    assert len(retried) == 1 and "it emitted a warning: cannot reach" in retried[0], retried
    assert "s3cr3t-pw" not in explained.stderr + explained.stdout
