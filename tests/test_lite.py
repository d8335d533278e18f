"""Stand-ins for libraries that are not installed: what import-time code may do with them.

Each test imports a small module of a project written to ``tmp_path`` inside a real
:func:`lite_import`; ``absent_*`` libraries do not exist anywhere, so they are stood in
exactly as pandas or scikit-learn are in the pre-commit environment.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from kedro_ml_lint.importing.lite import (
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


# --- Who asks: libraries meet stand-ins too (issue 18, item 2) -------------------------------


def test_typed_nodes_as_kedro_templates_write_them_load(tmp_path: Path) -> None:
    """``typing`` hashes and compares its arguments: the project compares nothing."""
    module, session = _load(
        tmp_path,
        """
        from typing import Any, Callable, Dict, List, Optional, Tuple, TypeVar, Union

        import absent_frames as pd
        from absent_frames import DataFrame

        Frame = TypeVar("Frame", bound=pd.DataFrame)


        def split_data(
            data: pd.DataFrame, parameters: Dict[str, Any]
        ) -> Tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]:
            return data, data, data, data


        def coerce(x: Union[pd.DataFrame, pd.Series], y: Optional[DataFrame] = None) -> List[Frame]:
            return [x]


        def apply(f: Callable[[pd.DataFrame], pd.DataFrame], frames: Dict[str, Frame]) -> None:
            return None


        IS_FRAME = isinstance(None, pd.DataFrame | None)
        """,
    )
    assert module.split_data.__annotations__["data"] is module.pd.DataFrame
    assert module.IS_FRAME is True
    assert session.stopped == []


# A library outside the project: what it does with a stand-in is the library's business.
ASKER = """
import operator


def ask(how, left, right):
    return getattr(operator, how)(left, right)


def truth(value):
    return bool(value)
"""


def _with_site(tmp_path: Path, modules: dict[str, str]) -> Path:
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    for name, text in modules.items():
        (site / f"{name}.py").write_text(textwrap.dedent(text))
        sys.modules.pop(name, None)
    return site


@contextmanager
def _on_path(folder: Path) -> Iterator[None]:
    sys.path.insert(0, str(folder))
    importlib.invalidate_caches()
    try:
        yield
    finally:
        sys.path.remove(str(folder))


# Real values a library may compare a stand-in with; `identity` when no library object
# equals them unless it is that very object (the documented decision, design §4).
REAL_OPERANDS = {
    "None": True,
    "int": True,  # a class
    "len": True,  # a function
    "typing.Any": True,
    "typing.List[int]": True,
    "3": False,  # data: `np.float64(3.0) == 3` is true for the real library
    "'stand-in'": False,
    "[1]": False,
}


@settings(max_examples=examples(ci=60, slow=400), deadline=None)
@given(
    how=st.sampled_from(["eq", "ne"]),
    left=st.sampled_from(["L.A", "L.B", "L.A()"]),
    right=st.sampled_from(["L.A", "L.B", "L.A()", *REAL_OPERANDS]),
    swapped=st.booleans(),
)
def test_a_library_comparing_a_stand_in_is_answered_by_identity(
    tmp_path_factory: pytest.TempPathFactory, how: str, left: str, right: str, swapped: bool
) -> None:
    """Library code asking ``==``/``!=``: identity among stand-ins and with identity-only
    values; a real data value might equal the library's real object, so that still stops."""
    tmp_path = tmp_path_factory.mktemp("ask")
    operands = f"{right}, X" if swapped else f"X, {right}"
    source = f"""
        import typing
        import absent_lib as L
        import asker

        X = {left}
        RIGHT = {right}
        ANSWER = asker.ask("{how}", {operands})
        """
    with _on_path(_with_site(tmp_path, {"asker": ASKER})):
        if right in REAL_OPERANDS and not REAL_OPERANDS[right]:
            with pytest.raises(StandInUsed, match="compares") as caught:
                _load(tmp_path, source)
            assert caught.value.line == 8  # the project's line that called the library
            return
        module, session = _load(tmp_path, source)
    same = module.X is module.RIGHT
    assert module.ANSWER is (same if how == "eq" else not same)
    assert session.stopped == []


PROJECT_USES = {
    "X == Y": "compares",
    "X != Y": "compares",
    "X < Y": "compares",
    "X >= Y": "compares",
    "Y == X": "compares",
    "X in [Y]": "compares",
    "[Y].index(X)": "compares",
    "bool(X)": "takes the truth value of",
    "not X": "takes the truth value of",
    "len(X)": "takes the length of",
    "list(X)": "iterates",
    "Y in X": "looks for an item in",
    "str(X)": "converts to a string",
    "f'{X}'": "formats",
    "int(X)": "converts to a number",
    "float(X)": "converts to a number",
    "round(X)": "converts to a number",
    "[Y][X]": "converts to a number",
    "bytes(X)": "converts to bytes",
    "os.fspath(X)": "uses as a path",
    "pathlib.Path(X)": "uses as a path",
    "sorted([X, Y])": "compares",
    "max(X, Y)": "compares",
    "{X: 1}.get(Y) or bool(X)": "takes the truth value of",
}


@settings(max_examples=examples(ci=60, slow=400), deadline=None)
@given(
    use=st.sampled_from(sorted(PROJECT_USES)),
    left=st.sampled_from(["L.A", "L.A()", "L.A | None"]),
    right=st.sampled_from(["L.B", "L.B()", "None", "int", "3", "'a'"]),
    in_helper=st.booleans(),
)
def test_the_projects_own_structural_use_still_stops(
    tmp_path_factory: pytest.TempPathFactory, use: str, left: str, right: str, in_helper: bool
) -> None:
    """Whatever the other operand, a use written in the project's code stops the check at
    that line, in the registry's module or in a helper module of the project's."""
    tmp_path = tmp_path_factory.mktemp("use")
    statement = use.replace("X", "x").replace("Y", "y")
    imports = "import os, pathlib\nimport absent_lib as L\n"
    helper = f"{imports}\n\ndef use(x, y):\n    return {statement}\n"
    if in_helper:
        source = f"{imports}from helper import use\n\nR = use({left}, {right})\n"
        expected = ("src/helper.py", 6)
    else:
        source = f"{imports}\nx, y = {left}, {right}\nR = {statement}\n"
        expected = ("src/proj/mod.py", 5)
    with pytest.raises(StandInUsed) as caught:
        _load(tmp_path, source, helpers={"helper": helper})
    assert (caught.value.path, caught.value.line) == expected
    assert PROJECT_USES[use] in caught.value.message


# What typing, functools caches, dataclasses, enum, Protocol/TypeVar bounds and isinstance
# do with a library's classes. `{x}`/`{y}` are two of the library's classes (maybe one);
# each snippet appends what it observed to OBS, which must not depend on the library being
# installed.
LIBRARY_USES = (
    "def f_{i}(df: {x}, opts: Dict[str, Any]) -> Tuple[{x}, {y}]: ...\n"
    "OBS.append(sorted(typing.get_type_hints(f_{i})))",
    "OBS.append(len(typing.get_args(Union[{x}, {y}, None])))",
    "OBS.append(typing.get_args(Optional[{x}])[1] is type(None))",
    "OBS.append(List[{x}] == List[{y}])",
    "OBS.append(Dict[str, {x}] in {{Dict[str, {y}]: 1}})",
    "OBS.append(typing.get_origin(Union[{x}, int]) is Union)",
    "T_{i} = TypeVar('T_{i}', bound={x})\nOBS.append(T_{i}.__bound__ is {x})",
    "T_{i} = TypeVar('T_{i}', {x}, {y})\nOBS.append(len(T_{i}.__constraints__))",
    "class Box_{i}(Generic[T]): ...\nOBS.append(Box_{i}[{x}] == Box_{i}[{y}])",
    "@typing.runtime_checkable\nclass P_{i}(Protocol):\n    def run(self, x: {x}) -> {y}: ...\n"
    "OBS.append(isinstance(3, P_{i}))",
    "@functools.lru_cache(maxsize=None)\ndef c_{i}(k, n=1):\n    return [k]\n"
    "OBS.append((c_{i}({x}) is c_{i}({x}), c_{i}({x}) is c_{i}({y})))\n"
    "OBS.append(c_{i}({x}, n=2) is c_{i}({x}))",
    "@functools.cache\ndef d_{i}(k):\n    return [k]\nOBS.append(d_{i}({x}) is d_{i}({y}))",
    "@dataclasses.dataclass(frozen=True)\nclass D_{i}:\n    kind: Type[{x}] = {x}\n"
    "    other: Optional[{y}] = None\nOBS.append(len({{D_{i}(), D_{i}(), D_{i}({y})}}))",
    "class E_{i}(enum.Enum):\n    X = {x}\n    Y = {y}\n    Z = None\nOBS.append(len(E_{i}))\n"
    "OBS.append(E_{i}({y}).value is {y})",
    "OBS.append((isinstance({x}(), {y}), isinstance(3, ({x}, {y})), isinstance(None, {x} | None)))",
    "OBS.append((isinstance({x}(), int | {y}), issubclass(bool, {x} | int)))",
    "OBS.append(len({{{x}, {y}, {x}}}))",
    "OBS.append({{{x}: 1, {y}: 2}}[{x}])",
    "OBS.append(functools.partial(print, {x}).args[0] is {x})",
    "def g_{i}(a: {x} = None, *, b: Optional[{y}] = None) -> {y}: ...\n"
    "OBS.append(list(inspect.signature(g_{i}).parameters))",
    "class N_{i}(typing.NamedTuple):\n    a: {x}\n    b: Optional[{y}] = None\n"
    "OBS.append((N_{i}._fields, N_{i}(1).b))",
    "class TD_{i}(typing.TypedDict, total=False):\n    a: {x}\n    b: List[{y}]\n"
    "OBS.append(sorted(TD_{i}.__annotations__))",
    "F_{i} = typing.NewType('F_{i}', {x})\nOBS.append(typing.cast({y}, 3))",
    "@dataclasses.dataclass\nclass V_{i}:\n    a: typing.ClassVar[{x}] = {x}\n"
    "    b: typing.Annotated[{y}, 'meta'] = None\n    c: typing.Final[int] = 1\n"
    "OBS.append([f.name for f in dataclasses.fields(V_{i})])",
    "OBS.append(typing.get_args(typing.Annotated[Union[{x}, {y}], 'meta'])[1:])",
    "warnings.filterwarnings('ignore', category=L.FitWarning)\n"
    "warnings.simplefilter('ignore', L.FitWarning)\nOBS.append(issubclass(L.FitWarning, Warning))",
    "try:\n    raise L.FitError('{x}')\nexcept L.FitError as error:\n    OBS.append(str(error))",
)
HEADER = """
import dataclasses
import enum
import functools
import inspect
import typing
import warnings
from typing import Any, Dict, Generic, List, Optional, Protocol, Tuple, Type, TypeVar, Union

import {library} as L

T = TypeVar("T")
OBS = []
"""
REAL_LIBRARY = """
class A:
    pass


class B:
    pass


class C:
    pass


class FitWarning(UserWarning):
    pass


class FitError(ValueError):
    pass
"""


@settings(max_examples=examples(ci=40, slow=300), deadline=None)
@given(
    uses=st.lists(
        st.tuples(
            st.sampled_from(range(len(LIBRARY_USES))),
            st.sampled_from(["L.A", "L.B", "L.C"]),
            st.sampled_from(["L.A", "L.B", "L.C"]),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_library_uses_never_stop_and_observe_what_the_real_library_gives(
    tmp_path_factory: pytest.TempPathFactory, uses: list[tuple[int, str, str]]
) -> None:
    """Used the way typing, functools, dataclasses, enum, Protocol/TypeVar and isinstance
    use a library's classes, a stand-in never stops the check, and what the project
    observes is what it observes with the real library installed."""
    body = "\n".join(
        LIBRARY_USES[index].format(i=n, x=x, y=y) for n, (index, x, y) in enumerate(uses)
    )
    observed = []
    for library in ("absent_lib", "real_lib"):
        tmp_path = tmp_path_factory.mktemp(library)
        source = textwrap.dedent(HEADER.format(library=library)) + body + "\n"
        with _on_path(_with_site(tmp_path, {"real_lib": REAL_LIBRARY})):
            module, session = _load(tmp_path, source)
        assert session.stopped == []
        observed.append(module.OBS)
    assert observed[0] == observed[1]


# --- A project's own optional imports (issue 18, item 3) --------------------------------------


def test_optional_imports_and_probes_see_a_missing_library_as_missing(tmp_path: Path) -> None:
    """The project takes the branch it takes where the library is not installed."""
    module, session = _load(
        tmp_path,
        """
        import importlib
        import importlib.metadata
        import importlib.util
        import pkgutil

        try:
            import absent_boost as xgb
        except ImportError:
            xgb = None
        try:
            from absent_boost2.sklearn import XGBClassifier
        except (ModuleNotFoundError, ValueError):
            XGBClassifier = None
        HAS_BOOST = importlib.util.find_spec("absent_boost3") is not None
        try:
            importlib.util.find_spec("absent_boost4.sub")
            DOTTED = "found"
        except ModuleNotFoundError:
            DOTTED = "raised"
        LOADER = pkgutil.find_loader("absent_boost5")
        try:
            BOOST6 = importlib.import_module("absent_boost6")
        except ImportError:
            BOOST6 = None
        try:
            VERSION = importlib.metadata.version("absent_boost7")
        except importlib.metadata.PackageNotFoundError:
            VERSION = None
        import absent_frames as pd
        """,
    )
    assert (module.xgb, module.XGBClassifier, module.HAS_BOOST, module.DOTTED) == (
        None,
        None,
        False,
        "raised",
    )
    assert (module.LOADER, module.BOOST6, module.VERSION) == (None, None, None)
    assert session.stood_in == ["absent_frames"]  # a plain import still gets its stand-in
    assert [name for name, _ in session.found_missing] == [
        "absent_boost",
        "absent_boost2",
        "absent_boost3",
        "absent_boost4",
        "absent_boost6",
    ]
    assert session.found_missing[0][1] == "src/proj/mod.py:8"


def test_an_optional_import_elsewhere_in_the_file_does_not_guard_a_plain_one(
    tmp_path: Path,
) -> None:
    module, session = _load(
        tmp_path,
        """
        try:
            import absent_boost
        except ImportError:
            absent_boost = None

        import absent_frames


        def later():
            try:
                import absent_plot
            except ImportError:
                return None
            return absent_plot


        PLOT = later()
        """,
    )
    assert module.absent_boost is None and module.PLOT is None
    assert session.stood_in == ["absent_frames"]


def test_a_library_already_stood_in_stays_installed_for_its_submodules(tmp_path: Path) -> None:
    """``import sklearn`` then ``try: from sklearn.experimental import …``: one answer."""
    module, session = _load(
        tmp_path,
        """
        import importlib.util

        import absent_ml

        try:
            from absent_ml.experimental import enable_feature
        except ImportError:
            enable_feature = None
        FOUND = importlib.util.find_spec("absent_ml.other") is not None
        """,
    )
    assert module.enable_feature is not None and module.FOUND is True
    assert session.stood_in == ["absent_ml"] and session.found_missing == []


def test_logging_a_stand_in_is_no_structural_use(tmp_path: Path) -> None:
    """A log line never shapes the pipelines: ``-v`` (the project's levels) changes nothing."""
    import logging

    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    logger = logging.getLogger("proj.mod")
    handler = Keep()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        _, session = _load(
            tmp_path,
            """
            import logging

            import absent_frames as pd

            logger = logging.getLogger(__name__)
            logger.info("frames are %s", pd.DataFrame)
            logger.info("series are {}".format("x"))
            logging.getLogger(__name__).warning("%r and %s", pd.Series, pd.Series())
            """,
        )
    finally:
        logger.removeHandler(handler)
    assert records[0] == "frames are <stand-in for absent_frames.DataFrame>"
    assert "absent_frames.Series(...)" in records[2]
    assert session.stopped == []


def test_truth_asked_by_a_third_party_library_still_stops(tmp_path: Path) -> None:
    """``typing``'s ``if bound:`` is answered; a library outside the standard library may be
    deciding the pipelines with it (Kedro's ``if tags:``), so there it stops."""
    source = "import absent_lib as L\nimport asker\n\n\nR = asker.truth(L.TAGS)\n"
    with (
        _on_path(_with_site(tmp_path, {"asker": ASKER})),
        pytest.raises(StandInUsed, match="takes the truth value of") as caught,
    ):
        _load(tmp_path, source)
    assert (caught.value.path, caught.value.line) == ("src/proj/mod.py", 5)


def test_a_librarys_warnings_and_exceptions_are_real_classes(tmp_path: Path) -> None:
    """``warnings.filterwarnings(category=…)`` asserts a Warning subclass; ``except`` needs
    an exception class: both are written at import time."""
    module, session = _load(
        tmp_path,
        """
        import warnings

        import absent_frames as pd
        from absent_ml.exceptions import ConvergenceWarning, NotFittedError

        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
        try:
            raise NotFittedError("not yet")
        except (NotFittedError, pd.errors.ParserError) as error:
            CAUGHT = error.args
        ERRORS = pd.errors
        score_error = pd.mean_squared_error  # a function: a stand-in
        """,
    )
    assert module.CAUGHT == ("not yet",)
    assert issubclass(module.ConvergenceWarning, Warning)
    assert module.ERRORS.PerformanceWarning is module.ERRORS.PerformanceWarning
    assert not is_real(module.ConvergenceWarning) and not is_real(module.NotFittedError("x"))
    assert not isinstance(module.score_error, type)
    assert session.stopped == []


IMPORT_FORMS = {
    "import {m}": "{m}",
    "import {m} as alias": "alias",
    "from {m} import Thing": "Thing",
    "from {m}.sub import Thing": "Thing",
    "import {m}.sub": "{m}",
    "alias = importlib.import_module('{m}')": "alias",
    "alias = __import__('{m}')": "alias",
}
HANDLERS = {
    "except ImportError:": True,
    "except ModuleNotFoundError:": True,
    "except (ValueError, ImportError):": True,
    "except Exception:": True,
    "except:": True,
    "except ValueError:": False,  # does not expect the import to fail
}
# ``with`` blocks that expect a failed import, or not.
SUPPRESSORS = {
    "with suppress(ImportError):": True,
    "with contextlib.suppress(KeyError, ModuleNotFoundError):": True,
    "with suppress(KeyError):": False,
}


@settings(max_examples=examples(ci=60, slow=400), deadline=None)
@given(
    form=st.sampled_from(sorted(IMPORT_FORMS)),
    handler=st.sampled_from([None, *sorted(HANDLERS), *sorted(SUPPRESSORS)]),
    nested=st.booleans(),
)
def test_an_import_the_project_expects_to_fail_fails_and_no_other(
    tmp_path_factory: pytest.TempPathFactory, form: str, handler: str | None, nested: bool
) -> None:
    """Inside a ``try`` whose handler catches a failed import (or a ``with suppress(...)``
    of it), every import form raises the real ModuleNotFoundError; anywhere else (no
    ``try``, a handler or suppressor that does not catch it) the same import gets a
    stand-in."""
    tmp_path = tmp_path_factory.mktemp("optional")
    statement = form.format(m="absent_boost")
    bound = IMPORT_FORMS[form].format(m="absent_boost")
    if handler is None:
        body = f"{statement}\noutcome = 'installed'\n"
    elif handler in SUPPRESSORS:
        body = f"outcome = 'missing'\n{handler}\n    {statement}\n    outcome = 'installed'\n"
    else:
        body = (
            f"try:\n    {statement}\n    outcome = 'installed'\n"
            f"{handler}\n    outcome = 'missing'\n"
        )
    if nested:  # in a function the registry calls: the same answer
        body = "def probe():\n" + textwrap.indent(body + "return outcome\n", "    ")
        body += "\n\noutcome = probe()\n"
    source = "import contextlib\nimport importlib\nfrom contextlib import suppress\n\n" + body
    module, session = _load(tmp_path, source)
    guarded = handler is not None and {**HANDLERS, **SUPPRESSORS}[handler]
    expected = "missing" if guarded else "installed"
    assert module.outcome == expected, bound
    assert session.stood_in == ([] if guarded else ["absent_boost"])
    assert [name.partition(".")[0] for name, _ in session.found_missing] == (
        ["absent_boost"] if guarded else []
    )
