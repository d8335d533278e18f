"""Lite import: load a project's registry where some of its libraries are not installed.

The pre-commit case: kedro-ml-lint runs in an environment of its own, without the
project's pandas or scikit-learn. Importing the registry must still work, so a module
that cannot be found gets a *stand-in*. A stand-in never guesses: it supports what
import-time code does without looking at data (attribute chains, calls, decorators,
base classes, ``isinstance`` checks, ``__version__``), and any use that could change
the pipelines' structure (iterating it, ``len``, truth value, comparing, converting it
to ``str``/``int``/``float``…) stops the check with :class:`StandInUsed`, naming the
project's file and line. A verdict in the lean environment is therefore the verdict of
the full one, or an exit 2 that says what to install (docs/design.md §4).

What is never stood in: the project's own modules (anything in its source folder or
at its root), installed libraries (imported for real), and missing submodules of an
installed library other than Kedro (a real import error, as ``kedro run`` would give).
Modules that Kedro itself removed (``kedro.extras``, ``kedro.versioning``…) are stood
in, so projects of older Kedro versions load.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import inspect
import logging
import sys
import sysconfig
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

from kedro_ml_lint.errors import ProjectCodeError
from kedro_ml_lint.importing import deferred, import_sites

KEDRO = "kedro"
KEDRO_MLFLOW = "kedro_mlflow"
# Import names whose distribution is named otherwise, for the "install it" advice.
_DISTRIBUTIONS = {
    "sklearn": "scikit-learn",
    "cv2": "opencv-python",
    "yaml": "PyYAML",
    "PIL": "Pillow",
    "skimage": "scikit-image",
    "bs4": "beautifulsoup4",
    "dateutil": "python-dateutil",
    "kedro_mlflow": "kedro-mlflow",
    "kedro_datasets": "kedro-datasets",
    "kedro_viz": "kedro-viz",
    "pyspark": "pyspark",
    "lightgbm": "lightgbm",
    "google": "the google-* package the project uses",
}
# Dunder attributes a module or object may be asked for that hold metadata strings.
_METADATA = frozenset({"__version__", "__author__", "__license__", "__copyright__", "__email__"})
STAND_IN_VERSION = "stand-in"


class StandInUsed(ProjectCodeError):
    """Raised when project code uses a stand-in in a way that can change the pipelines."""


def distribution_hint(module: str) -> str:
    """The distribution to install for top-level ``module``, as pip names it."""
    return _DISTRIBUTIONS.get(module, module)


@dataclass
class LiteSession:
    """What one lite import stood in for, and every structural use that stopped it.

    Attributes:
        roots: Folders of the project's own code; frames there are "the project's".
        local_names: Top-level module names that belong to the project: never stood in.
        stood_in: Top-level names that got a stand-in, in the order they were first needed.
        found_missing: ``(module, "path:line")`` of each optional import or probe of the
            project's that was told the module is not installed.
        stopped: Every :class:`StandInUsed` raised, even those that library code caught
            (``find_pipelines`` turns import errors into warnings): the first one stops
            the check all the same.
        make_module: Builds a real module for a name (Kedro's removed APIs, kedro-mlflow's
            factory) instead of a stand-in, or returns ``None``.
        stand_in_missing: False under ``--no-lite``: only ``make_module``'s modules are given.
        older_kedro: The project was made with an older Kedro: Kedro's removed modules are
            stood in too.
    """

    roots: tuple[Path, ...]
    local_names: frozenset[str]
    stood_in: list[str] = field(default_factory=list)
    found_missing: list[tuple[str, str]] = field(default_factory=list)
    stopped: list[StandInUsed] = field(default_factory=list)
    make_module: Callable[[str], ModuleType | None] | None = None
    stand_in_missing: bool = True
    older_kedro: bool = False

    def used(self, stand_in: StandIn, how: str) -> StandInUsed:
        """Record and return the error for a structural use of ``stand_in``."""
        top = stand_in._kml_path.split(".", 1)[0].split("(", 1)[0]
        path, line = self._project_frame(sys._getframe(2))
        if top == KEDRO:
            missing = "the installed Kedro no longer has it"
            remedy = "run kedro-ml-lint in an environment with the project's own Kedro version"
        else:
            missing = f"`{top}` is not installed here"
            remedy = (
                f"add `{distribution_hint(top)}` to the hook's `additional_dependencies`, or "
                "run kedro-ml-lint in the project's own environment"
            )
        error = StandInUsed(
            f"the project {how} `{stand_in._kml_path}`, but {missing}, so kedro-ml-lint stood "
            f"in for it and cannot know the pipelines this code builds; {remedy}",
            path,
            line,
        )
        self.stopped.append(error)
        return error

    def asked_by_project(self, frame: FrameType | None) -> bool:
        """True when ``frame`` (skipping generated code) is the project's own code.

        Code that libraries generate at run time (``dataclasses``' ``__eq__``, a
        ``namedtuple``) has a file name such as ``<string>``: it acts for its caller.
        """
        while frame is not None and _generated(frame.f_code.co_filename):
            frame = frame.f_back
        return frame is not None and self.is_project_file(frame.f_code.co_filename)

    def is_project_file(self, filename: str) -> bool:
        """True for a source file of the project's own code."""
        return self.relative(filename) is not None

    def _project_frame(self, frame: FrameType | None) -> tuple[str | None, int | None]:
        """The innermost frame of the project's own code, as ``(relative path, line)``."""
        while frame is not None:
            relative = self.relative(frame.f_code.co_filename)
            if relative is not None:
                return relative, frame.f_lineno
            frame = frame.f_back
        return None, None

    def relative(self, filename: str) -> str | None:
        """``filename`` relative to the project root when it is the project's own code."""
        path = Path(filename)
        if not path.is_absolute() or "site-packages" in path.parts:
            return None
        root = self.roots[0]
        for folder in self.roots:
            if path.is_relative_to(folder):
                return path.relative_to(root).as_posix()
        return None


_ACTIVE: list[LiteSession] = []
_IMPORTLIB_DIR = Path(importlib.abc.__file__).parent
# Frames between an import statement and this finder: the import is their caller's.
_IMPORT_MACHINERY = frozenset({__file__, deferred.__file__})
# ``importlib.util.find_spec``: a frame of it between the asker and this finder is a probe
# ("is it installed?"), never an import.
_PROBE = importlib.util.find_spec.__code__


def _generated(filename: str) -> bool:
    """Code compiled from a string at run time (``<string>``), not a frozen module."""
    return filename.startswith("<") and not filename.startswith("<frozen")


def _importer(frame: FrameType | None) -> tuple[FrameType | None, bool]:
    """The frame whose code asked for the module being found, and whether it only probed.

    Frames of the import machinery (``importlib``, this module, deferred import) are
    skipped: the import is their caller's.
    """
    probe = False
    while frame is not None:
        code = frame.f_code
        if code is _PROBE:
            probe = True
        filename = code.co_filename
        if not (
            filename.startswith("<frozen")
            or filename in _IMPORT_MACHINERY
            or Path(filename).parent == _IMPORTLIB_DIR
        ):
            return frame, probe
        frame = frame.f_back
    return None, probe


# Real values that a library's object equals only if it is that very object: ``None``,
# classes, functions, modules and ``typing``'s forms. ``Optional[pd.DataFrame]`` compares
# the stand-in with ``NoneType``; ``TypeVar(bound=…)`` with ``Any``.
_IDENTITY_TYPES = (
    type,
    ModuleType,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    types.GenericAlias,
    types.UnionType,
    types.NoneType,
    types.EllipsisType,
    types.NotImplementedType,
)


# The standard library's own folder: its code (typing's ``if bound:``) asks an object's
# truth the way every class, function and module answers it.
_STDLIB = Path(sysconfig.get_paths()["stdlib"])
_STDLIB_FOLDERS = (_STDLIB, _STDLIB.resolve())
_TYPING_EXTENSIONS = "typing_extensions.py"
_THIRD_PARTY = frozenset({"site-packages", "dist-packages"})


def _standard_library(frame: FrameType | None) -> bool:
    """True for a frame of the standard library (or ``typing_extensions``, its backport)."""
    if frame is None:
        return False
    filename = frame.f_code.co_filename
    if filename.startswith("<frozen"):
        return True
    path = Path(filename)
    if path.name == _TYPING_EXTENSIONS:
        return True
    return _THIRD_PARTY.isdisjoint(path.parts) and any(
        path.is_relative_to(folder) for folder in _STDLIB_FOLDERS
    )


_LOGGING = Path(logging.__file__).parent


def _logging(asker: FrameType | None) -> bool:
    """True when ``asker`` is ``logging`` formatting a record.

    A log line never shapes the pipelines, and ``-v`` (the project's own logging levels)
    must not change the verdict.
    """
    return asker is not None and Path(asker.f_code.co_filename).parent == _LOGGING


_TYPING_MODULES = frozenset({"typing", "typing_extensions"})


def _equal_by_identity(value: object) -> bool:
    """True when comparing a stand-in with ``value`` is decided by identity alone."""
    return (
        isinstance(value, (StandIn, MetadataString, *_IDENTITY_TYPES))
        or type(value).__module__ in _TYPING_MODULES
        or not is_real(value)
    )


def _session() -> LiteSession | None:
    return _ACTIVE[-1] if _ACTIVE else None


def _stop(stand_in: StandIn, how: str) -> StandInUsed:
    session = _session()
    if session is None:  # touched after the load: still never a silent answer
        return StandInUsed(
            f"`{stand_in._kml_path}` stands in for a library that is not installed; "
            "it cannot be used outside lite import"
        )
    return session.used(stand_in, how)


class MetadataString(str):
    """A metadata string (``__version__``…) of a stood-in library.

    It formats and concatenates like any string (a ``conda_env`` pin works), but
    comparing it, which a version check does, stops the check.
    """

    _kml_path: str

    def __new__(cls, path: str) -> MetadataString:
        """Make the placeholder for ``path`` (``pandas.__version__``)."""
        text = super().__new__(cls, STAND_IN_VERSION)
        text._kml_path = path
        return text

    def _compare(self, other: object) -> Any:
        raise _stop(StandIn(self._kml_path), "compares")

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _compare
    __hash__ = str.__hash__


class StandIn:
    """A value of a library that is not installed: lazy, and strict about structure."""

    __slots__ = ("__dict__", "_kml_members", "_kml_origin", "_kml_path")

    def __init__(
        self, path: str, origin: StandIn | None = None, members: tuple[Any, ...] = ()
    ) -> None:
        """A stand-in for ``path``.

        Args:
            path: What it stands for, as the project spelled it (``pandas.DataFrame``).
            origin: The stand-in called to make it, if any.
            members: The operands of ``a | b``: as an ``isinstance`` target it is their union.
        """
        object.__setattr__(self, "_kml_path", path)
        object.__setattr__(self, "_kml_origin", origin)
        object.__setattr__(self, "_kml_members", members)

    def __getattr__(self, name: str) -> Any:
        if name in _METADATA:
            return MetadataString(f"{self._kml_path}.{name}")
        if name in ("__name__", "__qualname__"):
            return self._kml_path.rsplit(".", 1)[-1].split("(", 1)[0]
        if name.startswith("_"):  # libraries probe private names with getattr(…, None)
            raise AttributeError(name)
        path = f"{self._kml_path}.{name}"
        value = self.__dict__[name] = _library_exception(path) or StandIn(path)  # same next time
        return value

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Another stand-in, or the decorated function or class itself."""
        # A decorator returns what it decorates: the project's function or class stays real.
        if (
            len(args) == 1
            and not kwargs
            and (inspect.isroutine(args[0]) or isinstance(args[0], type))
        ):
            return args[0]
        return StandIn(f"{self._kml_path}(...)", origin=self)

    def __getitem__(self, key: Any) -> Any:
        # Lazy, like a call: only what is done with the result can change the structure.
        return StandIn(f"{self._kml_path}[...]")

    def __mro_entries__(self, bases: tuple[Any, ...]) -> tuple[type, ...]:
        return (_base_class(self._kml_path),)

    def __instancecheck__(self, instance: Any) -> bool:
        if self._kml_members:  # `pd.DataFrame | None`
            return any(isinstance(instance, member) for member in self._kml_members)
        if isinstance(instance, StandIn):
            origin = instance._kml_origin
            return origin is not None and origin._kml_path == self._kml_path
        return isinstance(instance, _base_class(self._kml_path))

    def __subclasscheck__(self, subclass: Any) -> bool:
        if self._kml_members:
            return any(issubclass(subclass, member) for member in self._kml_members)
        return isinstance(subclass, type) and issubclass(subclass, _base_class(self._kml_path))

    def __repr__(self) -> str:
        return f"<stand-in for {self._kml_path}>"

    def __enter__(self) -> StandIn:
        return StandIn(f"{self._kml_path}.__enter__()")

    def __exit__(self, *exc: object) -> None:
        return None

    def __hash__(self) -> int:
        return id(self)

    # Arithmetic makes another stand-in: the result stops the check only if it is used.
    def _lazy(self, *other: Any) -> StandIn:
        return StandIn(f"({self._kml_path} op ...)")

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _lazy
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = _lazy
    __pow__ = __rpow__ = __matmul__ = __rmatmul__ = __neg__ = __pos__ = __invert__ = _lazy
    __and__ = __rand__ = __xor__ = __rxor__ = _lazy

    # `a | b` is lazy too, but it may be a union of classes (`pd.DataFrame | None`): as an
    # `isinstance` target it is then the union of its operands, as `types.UnionType` is.
    def __or__(self, other: Any) -> StandIn:
        return _either(self, other)

    def __ror__(self, other: Any) -> StandIn:
        return _either(other, self)

    # Uses that decide what the pipelines look like: never guessed.
    def __iter__(self) -> Iterator[Any]:
        raise _stop(self, "iterates")

    def __len__(self) -> int:
        raise _stop(self, "takes the length of")

    def __bool__(self) -> bool:
        asker = sys._getframe(1)
        session = _session()
        # ``typing`` asks ``if bound:`` of a TypeVar's bound: true, as for any class. A
        # third-party library asking may be deciding the pipelines (Kedro's ``if tags:``).
        if session is not None and not session.asked_by_project(asker) and _standard_library(asker):
            return True
        raise _stop(self, "takes the truth value of")

    def __contains__(self, item: Any) -> bool:
        raise _stop(self, "looks for an item in")

    def __eq__(self, other: object) -> bool:
        if _identity_answers(sys._getframe(1), other):
            return self is other
        raise _stop(self, "compares")

    def __ne__(self, other: object) -> bool:
        if _identity_answers(sys._getframe(1), other):
            return self is not other
        raise _stop(self, "compares")

    def __order(self, other: Any) -> Any:
        raise _stop(self, "compares")

    __lt__ = __le__ = __gt__ = __ge__ = __order

    def __str__(self) -> str:
        if _logging(sys._getframe(1)):
            return repr(self)
        raise _stop(self, "converts to a string")

    def __format__(self, spec: str) -> str:
        if _logging(sys._getframe(1)):
            return repr(self)
        raise _stop(self, "formats")

    def __int__(self) -> int:
        raise _stop(self, "converts to a number")

    __float__ = __index__ = __complex__ = __round__ = __int__

    def __fspath__(self) -> str:
        raise _stop(self, "uses as a path")

    def __bytes__(self) -> bytes:
        raise _stop(self, "converts to bytes")


def _either(left: Any, right: Any) -> StandIn:
    """``left | right`` where one side is a stand-in: lazy, and a union of its operands."""

    def members(operand: Any) -> tuple[Any, ...]:
        if isinstance(operand, StandIn) and operand._kml_members:
            return operand._kml_members
        return (type(None),) if operand is None else (operand,)

    def spelled(operand: Any) -> str:
        return operand._kml_path if isinstance(operand, StandIn) else repr(operand)

    return StandIn(f"({spelled(left)} | {spelled(right)})", members=members(left) + members(right))


def _identity_answers(asker: FrameType | None, other: object) -> bool:
    """True when a library (not the project) compares a stand-in, by identity alone."""
    session = _session()
    return session is not None and not session.asked_by_project(asker) and _equal_by_identity(other)


_BASES: dict[str, type] = {}


def _base_class(path: str) -> type:
    """The real class a stand-in becomes when project code derives a class from it.

    A plain class with metaclass ``type``: it mixes with any other base, whatever that
    base's metaclass (``ABC``, ``Enum``…), and accepts any arguments.
    """
    if path not in _BASES:

        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            pass

        def __init_subclass__(cls: type, **kwargs: Any) -> None:
            pass

        def __getattr__(self: Any, name: str) -> Any:
            if name.startswith("_"):
                raise AttributeError(name)
            return StandIn(f"{path}().{name}")

        name = path.rsplit(".", 1)[-1]
        _BASES[path] = type(
            name,
            (),
            {
                "__init__": __init__,
                "__init_subclass__": classmethod(__init_subclass__),
                "__getattr__": __getattr__,
                "__module__": path.rsplit(".", 1)[0] if "." in path else path,
                "__doc__": f"Stands in for `{path}`, which is not installed.",
            },
        )
    return _BASES[path]


# Names of a library's warnings and exceptions, by Python's naming convention (PEP 8).
_EXCEPTION_SUFFIXES = {"Warning": Warning, "Error": Exception, "Exception": Exception}


def _library_exception(path: str) -> type | None:
    """A real class for a library's warning or exception (``ConvergenceWarning``), else None.

    ``warnings.filterwarnings(category=…)`` asserts that it gets a ``Warning`` subclass and
    ``except …:`` needs an exception class: projects write both at import time. Only a
    CapWords name ending in ``Warning``, ``Error`` or ``Exception`` gets one; like a stand-in
    base class, it is not :func:`is_real`.
    """
    name = path.rsplit(".", 1)[-1]
    base = next(
        (kind for suffix, kind in _EXCEPTION_SUFFIXES.items() if name.endswith(suffix)), None
    )
    if base is None or not name[:1].isupper():
        return None
    if path not in _BASES:
        _BASES[path] = type(
            name,
            (base,),
            {
                "__module__": path.rsplit(".", 1)[0],
                "__doc__": f"Stands in for `{path}`, which is not installed.",
            },
        )
    return _BASES[path]


def is_real(value: Any) -> bool:
    """False when ``value`` is, holds or derives from a stand-in."""
    if isinstance(value, StandIn | MetadataString | StandInModule):
        return False
    if _BASES and isinstance(value, tuple(_BASES.values())):
        return False
    if isinstance(value, type):
        return not any(issubclass(value, base) for base in _BASES.values())
    if isinstance(value, tuple | list | set | frozenset):
        return all(is_real(item) for item in value)
    if isinstance(value, dict):
        return all(is_real(k) and is_real(v) for k, v in value.items())
    return True


class StandInModule(ModuleType):
    """A module that is not installed: every attribute is a :class:`StandIn`."""

    def __init__(self, name: str) -> None:
        """The stand-in for module ``name``."""
        super().__init__(name)
        self.__path__: list[str] = []  # a package: its submodules are stood in too

    def __getattr__(self, name: str) -> Any:
        if name in _METADATA:
            return MetadataString(f"{self.__name__}.{name}")
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        path = f"{self.__name__}.{name}"
        value = _library_exception(path) or StandIn(path)
        setattr(self, name, value)  # ``from m import A`` twice gives the same object
        return value


class _StandInFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Last on ``sys.meta_path``: only what no other finder found reaches it."""

    def __init__(self, session: LiteSession) -> None:
        self._session = session
        self._made: dict[str, ModuleType] = {}

    def find_spec(
        self, fullname: str, path: Any = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        top, _, _ = fullname.partition(".")
        if top in self._session.local_names:
            return None  # the project's own module: its import error is real
        made = self._session.make_module(fullname) if self._session.make_module else None
        if made is not None:
            self._made[fullname] = made
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        if not self._session.stand_in_missing:
            return None
        importer, probe = _importer(sys._getframe(1))
        if importer is None or not self._session.is_project_file(importer.f_code.co_filename):
            # A library's own optional import (``try: import snappy``) must fail as usual.
            return None
        # A library the project already imports plainly was stood in: it counts as installed,
        # and so do its submodules, whoever asks.
        asks = not isinstance(sys.modules.get(top), StandInModule)
        if asks and (
            probe
            or import_sites.guarded_by_import_error(importer.f_code.co_filename, importer.f_lineno)
        ):
            # The project asks whether the module is installed (``find_spec``, or an import
            # inside ``try``/``except ImportError``): the answer is this environment's.
            where = f"{self._session.relative(importer.f_code.co_filename)}:{importer.f_lineno}"
            if (fullname, where) not in self._session.found_missing:
                self._session.found_missing.append((fullname, where))
            return None
        if "." in fullname:
            parent = sys.modules.get(fullname.rpartition(".")[0])
            # A missing submodule of an installed library is a real error, except
            # Kedro's: modules an older Kedro had are stood in for older projects.
            if not isinstance(parent, StandInModule) and not (
                top == KEDRO and self._session.older_kedro
            ):
                return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return self._made.pop(spec.name, None) or StandInModule(spec.name)

    def exec_module(self, module: ModuleType) -> None:
        if not isinstance(module, StandInModule):
            return
        top = module.__name__.partition(".")[0]
        name = module.__name__ if top == KEDRO else top
        if name not in self._session.stood_in:
            self._session.stood_in.append(name)


def local_module_names(*folders: Path) -> frozenset[str]:
    """Top-level names importable from ``folders``: the project's own modules."""
    names: set[str] = set()
    for folder in folders:
        if not folder.is_dir():
            continue
        for child in folder.iterdir():
            if child.suffix == ".py":
                names.add(child.stem)
            elif child.is_dir() and child.name.isidentifier():
                names.add(child.name)
    return frozenset(names)


@contextmanager
def lite_import(
    roots: tuple[Path, ...],
    local_names: frozenset[str],
    make_module: Callable[[str], ModuleType | None] | None = None,
    stand_in_missing: bool = True,
    older_kedro: bool = False,
) -> Iterator[LiteSession]:
    """Stand in for modules that cannot be found while the block imports the project.

    Args:
        roots: The project root first, then other folders of its own code.
        local_names: Top-level names that are the project's own: never stood in.
        make_module: Builds a real module for a name instead of a stand-in (kedro-mlflow's
            factory, Kedro's removed APIs), or returns ``None``.
        stand_in_missing: Stand in for missing modules; when false (``--no-lite``), only
            the modules ``make_module`` builds are provided.
        older_kedro: The project was written for an older Kedro: the modules that Kedro
            removed since are stood in.

    Yields:
        The session: what was stood in, and any structural use.
    """
    session = LiteSession(
        tuple(p.resolve() for p in roots),
        local_names,
        make_module=make_module,
        stand_in_missing=stand_in_missing,
        older_kedro=older_kedro,
    )
    finder = _StandInFinder(session)
    import_sites.forget()  # the project's files may have changed since the last load
    before = set(sys.modules)
    sys.meta_path.append(finder)
    _ACTIVE.append(session)
    try:
        yield session
    finally:
        _ACTIVE.remove(session)
        sys.meta_path.remove(finder)
        for name in set(sys.modules) - before:
            if isinstance(sys.modules[name], StandInModule) or getattr(
                sys.modules[name], "__kml_stand_in__", False
            ):
                del sys.modules[name]
