"""Deferred import: the project's heavy scientific libraries imported on first real use.

Importing a registry costs what its modules import: in a typical project, pandas and
scikit-learn are most of the time ``kedro registry list`` takes, while the pipelines'
structure only needs the node functions' *names*. While the registry is imported, an
``import`` written in the project's own code of a library on :data:`DEFERRED_LIBRARIES`
(installed, and not imported yet) binds a :class:`Deferred` instead of the module.

A deferred value is the library's real value, imported on first real use: calling it,
deriving a class from it, ``isinstance``, iterating, comparing, formatting, reading a
dunder or private attribute (``__name__``, ``__signature__``…) all import the library and
act on the real object. Only reading a public attribute stays lazy (``pd.DataFrame`` in an
annotation). So a registry that computes its pipelines from a library still gets real
values, and a registry that only names them never pays for the import.

What deferral cannot reproduce is a difference between "present" and "absent" public
attributes before the first real use (``hasattr(lib, "name")`` is always true), and
identity with the real object (``x is np.nan``). Libraries on the list are pure
computation, whose import registers nothing Kedro reads; others are imported as usual, and
only the project's own ``import`` statements are deferred: a library importing another
always gets the real one. If the registry fails to import while anything was deferred, the
loader imports it again without deferral, so deferral can make a load faster but never
make it fail (docs/design.md §13).
"""

from __future__ import annotations

import builtins
import importlib
import importlib.machinery
import inspect
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

# Import-heavy libraries of data science projects, whose import has no effect on what
# Kedro reads (no resolvers, datasets, hooks or settings are registered by importing them).
DEFERRED_LIBRARIES = frozenset(
    {
        "catboost",
        "keras",
        "lightgbm",
        "matplotlib",
        "numpy",
        "optuna",
        "pandas",
        "plotly",
        "polars",
        "pyarrow",
        "pyspark",
        "scipy",
        "seaborn",
        "shap",
        "sklearn",
        "statsmodels",
        "tensorflow",
        "torch",
        "transformers",
        "xgboost",
    }
)


class _Session:
    """One deferral: which importers are the project's, and what was deferred."""

    def __init__(self, is_project_file: Callable[[str], bool]) -> None:
        self.is_project_file = is_project_file
        self.values: dict[str, Deferred] = {}  # one object per dotted path
        self.requested: dict[str, list[str]] = {}  # top name -> modules the project imported
        self.deferred: list[str] = []  # top names, in order


_ACTIVE: list[_Session] = []
_MISSING = object()


class Deferred:
    """The value at a dotted path of a deferred library (``sklearn.preprocessing.X``)."""

    __slots__ = ("_kml_path", "_kml_session", "_kml_value")

    def __init__(self, path: str, session: _Session) -> None:
        """The value at ``path``, imported on first real use."""
        object.__setattr__(self, "_kml_path", path)
        object.__setattr__(self, "_kml_session", session)
        object.__setattr__(self, "_kml_value", _MISSING)

    def _kml_real(self) -> Any:
        value = object.__getattribute__(self, "_kml_value")
        if value is _MISSING:
            value = _resolve(self._kml_path, self._kml_session)
            object.__setattr__(self, "_kml_value", value)
        return value

    def __getattr__(self, name: str) -> Any:
        value = object.__getattribute__(self, "_kml_value")
        if value is _MISSING and not name.startswith("_"):
            return _deferred(f"{self._kml_path}.{name}", self._kml_session)
        return getattr(self._kml_real(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._kml_real(), name, value)

    def __delattr__(self, name: str) -> None:
        delattr(self._kml_real(), name)

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # isinstance(x, SomeType) sees the real type
        return type(self._kml_real())

    @property
    def __signature__(self) -> inspect.Signature:  # what Kedro's node validation reads
        return inspect.signature(self._kml_real(), follow_wrapped=False)

    def __mro_entries__(self, bases: tuple[Any, ...]) -> tuple[Any, ...]:
        return (self._kml_real(),)

    def __instancecheck__(self, instance: Any) -> bool:
        return isinstance(instance, self._kml_real())

    def __subclasscheck__(self, subclass: Any) -> bool:
        return issubclass(subclass, self._kml_real())

    def __repr__(self) -> str:
        return repr(self._kml_real())


def _forward(name: str) -> Callable[..., Any]:
    def method(self: Deferred, *args: Any) -> Any:
        return getattr(self._kml_real(), name)(*args)

    method.__name__ = name
    return method


# Special methods are looked up on the type, never through __getattr__: each one resolves.
_SPECIAL = """
    __getitem__ __setitem__ __delitem__ __iter__ __reversed__ __len__ __contains__ __bool__
    __hash__ __eq__ __ne__ __lt__ __le__ __gt__ __ge__ __str__ __bytes__ __format__ __int__
    __float__ __complex__ __index__ __round__ __trunc__ __floor__ __ceil__ __abs__ __neg__
    __pos__ __invert__ __enter__ __exit__ __fspath__ __dir__ __length_hint__ __add__
    __sub__ __mul__ __matmul__ __truediv__ __floordiv__ __mod__ __divmod__ __pow__
    __lshift__ __rshift__ __and__ __xor__ __or__ __radd__ __rsub__ __rmul__ __rmatmul__
    __rtruediv__ __rfloordiv__ __rmod__ __rdivmod__ __rpow__ __rlshift__ __rrshift__
    __rand__ __rxor__ __ror__ __reduce__ __reduce_ex__
""".split()  # noqa: SIM905
for _name in _SPECIAL:
    setattr(Deferred, _name, _forward(_name))


def _call(self: Deferred, *args: Any, **kwargs: Any) -> Any:  # keyword arguments too
    return self._kml_real()(*args, **kwargs)


def _get(self: Deferred, instance: Any, owner: type | None = None) -> Any:
    # A class attribute: bound as the real value would be (a function), or itself.
    bind = getattr(type(self._kml_real()), "__get__", None)
    return self if bind is None else bind(self._kml_real(), instance, owner)


Deferred.__call__ = _call  # type: ignore[method-assign]
Deferred.__get__ = _get  # type: ignore[attr-defined]


# Read from the class, not through __getattr__: Kedro names a node after its function's
# `__module__` and `__name__`, and `functools.wraps` copies `__doc__`.
def _real_attribute(name: str) -> property:
    return property(lambda self: getattr(self._kml_real(), name))


for _name in ("__module__", "__doc__"):
    setattr(Deferred, _name, _real_attribute(_name))


def _deferred(path: str, session: _Session) -> Deferred:
    value = session.values.get(path)
    if value is None:
        value = session.values[path] = Deferred(path, session)
    return value


def _resolve(path: str, session: _Session) -> Any:
    """Import the library for real and walk ``path`` to its value."""
    top, _, rest = path.partition(".")
    with _paused():
        for module in session.requested.get(top, ()):  # what the import statements import
            importlib.import_module(module)
        value: Any = importlib.import_module(top)
        walked = top
        for part in rest.split(".") if rest else ():
            walked = f"{walked}.{part}"
            try:
                value = getattr(value, part)
            except AttributeError:
                if not isinstance(value, ModuleType):
                    raise
                value = importlib.import_module(walked)  # a submodule not imported yet
    return value


def real(value: Any) -> Any:
    """``value`` itself, or the real value a :class:`Deferred` stands for."""
    return value._kml_real() if type(value) is Deferred else value


@contextmanager
def _paused() -> Iterator[None]:
    """No deferral while a library is imported for real (its own imports are real)."""
    saved = builtins.__import__
    builtins.__import__ = _ORIGINAL_IMPORT
    try:
        yield
    finally:
        builtins.__import__ = saved


_ORIGINAL_IMPORT = builtins.__import__


def _import(
    name: str,
    globals: dict[str, Any] | None = None,
    locals: Any = None,
    fromlist: Any = (),
    level: int = 0,
) -> Any:
    session = _ACTIVE[-1] if _ACTIVE else None
    top = name.partition(".")[0]
    if (
        session is None
        or level != 0
        or top not in DEFERRED_LIBRARIES
        or top in sys.modules  # already imported for real: nothing to save
        or (fromlist and "*" in fromlist)
        or not globals
        or not session.is_project_file(str(globals.get("__file__") or ""))
        or importlib.machinery.PathFinder.find_spec(top) is None  # not installed: lite's
    ):
        return _ORIGINAL_IMPORT(name, globals, locals, fromlist, level)
    requested = session.requested.setdefault(top, [])
    if name not in requested:
        requested.append(name)
    if top not in session.deferred:
        session.deferred.append(top)
    # `import a.b` binds `a`; `from a.b import c` reads `c` from `a.b`.
    return _deferred(name if fromlist else top, session)


@contextmanager
def deferred_imports(is_project_file: Callable[[str], bool]) -> Iterator[_Session]:
    """Defer the project's imports of :data:`DEFERRED_LIBRARIES` while the block runs.

    Args:
        is_project_file: True for a source file of the project's own code (its imports
            are deferred; a library's never are).

    Yields:
        The session: ``deferred`` lists the libraries deferred.
    """
    session = _Session(is_project_file)
    _ACTIVE.append(session)
    saved = builtins.__import__
    builtins.__import__ = _import  # type: ignore[assignment]
    try:
        yield session
    finally:
        builtins.__import__ = saved
        _ACTIVE.remove(session)
