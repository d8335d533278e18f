"""Stand-ins for libraries that are not installed: what import-time code may do with them.

Each test imports a small module of a project written to ``tmp_path`` inside a real
:func:`lite_import`; ``absent_*`` libraries do not exist anywhere, so they are stood in
exactly as pandas or scikit-learn are in the pre-commit environment.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path

import pytest

from kedro_ml_lint.loader.lite import (
    STAND_IN_VERSION,
    StandInUsed,
    is_real,
    lite_import,
    local_module_names,
)


def _load(tmp_path: Path, source: str, helpers: dict[str, str] | None = None):
    """Import ``source`` as ``proj.mod`` of a project in ``tmp_path``; return (module, session)."""
    root = tmp_path / "project"
    src = root / "src"
    package = src / "proj"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "mod.py").write_text(textwrap.dedent(source))
    for name, text in (helpers or {}).items():
        (src / f"{name}.py").write_text(textwrap.dedent(text))
    for name in [m for m in sys.modules if m.split(".")[0] in {"proj", *(helpers or {})}]:
        del sys.modules[name]
    sys.path.insert(0, str(src))
    try:
        with lite_import((root, src), local_module_names(src, root)) as session:
            module = importlib.import_module("proj.mod")
            return module, session
    finally:
        sys.path.remove(str(src))


def test_attribute_chains_calls_and_decorators(tmp_path: Path) -> None:
    module, session = _load(
        tmp_path,
        """
        import absent_ml as ml
        from absent_ml.preprocessing import Scaler

        scaler = Scaler(with_mean=False).fit
        pipe = ml.make_pipeline(ml.steps.A(), ml.steps.B())

        @ml.register
        def node_a(x):
            return x

        @ml.cache(maxsize=3)
        def node_b(x):
            return x
        """,
    )
    assert module.node_a.__name__ == "node_a"  # decorators keep the project's function
    assert module.node_b(2) == 2
    assert session.stood_in == ["absent_ml"]
    assert session.stopped == []


def test_base_classes_mix_with_any_metaclass(tmp_path: Path) -> None:
    module, _ = _load(
        tmp_path,
        """
        import abc
        import enum
        from absent_ml.base import BaseEstimator, TransformerMixin

        class Clipper(BaseEstimator, TransformerMixin):
            def __init__(self, quantile=0.9):
                super().__init__()
                self.quantile = quantile

        class Abstract(abc.ABC, BaseEstimator):
            @abc.abstractmethod
            def fit(self): ...

        class Colour(TransformerMixin, enum.Enum):
            RED = 1

        instance = Clipper(0.5)
        """,
    )
    assert module.instance.quantile == 0.5
    assert isinstance(module.instance, module.BaseEstimator)
    assert issubclass(module.Clipper, module.TransformerMixin)
    assert module.Colour.RED.value == 1


def test_isinstance_checks_and_metadata_strings(tmp_path: Path) -> None:
    module, session = _load(
        tmp_path,
        """
        import absent_frames as af

        frame = af.DataFrame({"a": [1]})
        IS_FRAME = isinstance(frame, af.DataFrame)
        IS_SERIES = isinstance(frame, af.Series)
        NOT_A_FRAME = isinstance(3, af.DataFrame)
        PIN = f"absent-frames=={af.__version__}"
        """,
    )
    assert (module.IS_FRAME, module.IS_SERIES, module.NOT_A_FRAME) == (True, False, False)
    assert f"absent-frames=={STAND_IN_VERSION}" == module.PIN
    assert session.stopped == []


@pytest.mark.parametrize(
    ("statement", "how"),
    [
        ("for column in af.read_csv('x.csv').columns: pass", "iterates"),
        ("n = len(af.read_csv('x.csv'))", "takes the length of"),
        ("if af.read_csv('x.csv').empty: pass", "takes the truth value of"),
        ("ok = af.__version__ >= '2.0'", "compares"),
        ("ok = af.options.level == 3", "compares"),
        ("name = str(af.config['dataset'])", "converts to a string"),
        ("name = f'{af.config.name}_model'", "formats"),
        ("n = int(af.config.count)", "converts to a number"),
        ("x = float(af.config.rate)", "converts to a number"),
        ("names = [*af.read_csv('x.csv').columns]", "iterates"),
        ("ok = 'a' in af.columns()", "looks for an item in"),
    ],
)
def test_structural_use_stops_with_the_project_line(
    tmp_path: Path, statement: str, how: str
) -> None:
    with pytest.raises(StandInUsed) as caught:
        _load(tmp_path, f"import absent_frames as af\n\n\n{statement}\n")
    error = caught.value
    assert (error.path, error.line) == ("src/proj/mod.py", 4)
    assert how in error.message
    assert "`absent_frames`" in error.message and "additional_dependencies" in error.message


def test_use_caught_by_library_code_still_stops(tmp_path: Path) -> None:
    """``find_pipelines`` turns import errors into warnings: the session remembers."""
    _, session = _load(
        tmp_path,
        """
        import absent_frames as af

        try:
            COLUMNS = list(af.read_csv("x.csv").columns)
        except Exception:
            COLUMNS = []
        """,
    )
    assert len(session.stopped) == 1
    assert session.stopped[0].line == 5


def test_project_modules_are_never_stood_in(tmp_path: Path) -> None:
    """A helper beside the package is the project's: imported for real, its errors real."""
    module, session = _load(
        tmp_path,
        "from helpers import FEATURES\n",
        helpers={"helpers": "FEATURES = ['a', 'b']\n"},
    )
    assert module.FEATURES == ["a", "b"]
    assert session.stood_in == []
    with pytest.raises(ImportError):
        _load(tmp_path, "from helpers import MISSING\n", helpers={"helpers": "A = 1\n"})


def test_missing_submodule_of_an_installed_library_is_a_real_error(tmp_path: Path) -> None:
    with pytest.raises(ModuleNotFoundError, match=r"json\.no_such_module"):
        _load(tmp_path, "import json.no_such_module\n")


def test_libraries_optional_imports_are_not_stood_in(tmp_path: Path) -> None:
    """A library's own ``try: import x except ImportError`` keeps failing as it should."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "lib_with_optional.py").write_text(
        "try:\n    import absent_speedup\n    FAST = True\nexcept ImportError:\n    FAST = False\n"
    )
    sys.path.insert(0, str(site))
    try:
        module, session = _load(
            tmp_path, "import lib_with_optional\nFAST = lib_with_optional.FAST\n"
        )
    finally:
        sys.path.remove(str(site))
        sys.modules.pop("lib_with_optional", None)
    assert module.FAST is False
    assert session.stood_in == []


def test_stand_ins_leave_no_module_behind(tmp_path: Path) -> None:
    _load(tmp_path, "import absent_ml.deep.module\n")
    assert not [m for m in sys.modules if m.startswith("absent_ml")]


def test_is_real_sees_stand_ins_inside_containers(tmp_path: Path) -> None:
    module, _ = _load(
        tmp_path,
        """
        import absent_viz

        STORE = absent_viz.SQLiteStore
        HOOKS = (absent_viz.Hook(),)
        PLAIN = {"path": "data", "n": (1, 2)}
        class Store(absent_viz.Base):
            pass
        """,
    )
    assert not is_real(module.STORE)
    assert not is_real(module.HOOKS)
    assert not is_real(module.Store)
    assert is_real(module.PLAIN)
