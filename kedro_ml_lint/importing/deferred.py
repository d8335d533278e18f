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

What a proxy cannot intercept (identity, ``type``, ``hasattr`` before first use, C code's
type checks) is made exact by compiling the project's own modules through
:mod:`~kedro_ml_lint.importing.rewrite` while the load defers; inside a ``try`` or ``with``
body, attributes are read for real, and an ``import`` there is never deferred. Libraries on
the list are pure computation, whose import registers nothing Kedro reads; others are
imported as usual, and only the project's own ``import`` statements are deferred: a library
importing another always gets the real one. The session records every error raised while
resolving a deferred value, caught or not; with it, a registry that raised and any warning
the load emitted, the loader imports the registry again without deferral, so deferral can
make a load faster but never change its verdict (docs/design.md §4).

An import is deferred only where a sealed record says it succeeds in this environment
(:mod:`~kedro_ml_lint.importing.import_health`): a broken install fails the load as it does
for real. Without a valid record the library is imported for real, and recorded.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib
import importlib.machinery
import inspect
import math
import operator
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from kedro_ml_lint.importing import rewrite
from kedro_ml_lint.importing.import_sites import guarded_by_import_error
from kedro_ml_lint.importing.library_names import proven

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


class Health(Protocol):
    """Whether an import may be deferred (:class:`~.import_health.ImportHealth`)."""

    def known_good(self, name: str, fromlist: tuple[str, ...]) -> bool:
        """True when this import is known to succeed here: it may be deferred."""
        ...

    def imported_for_real(
        self, name: str, fromlist: tuple[str, ...], do_import: Callable[[], Any]
    ) -> Any:
        """The result of ``do_import()`` (the real import), learning from it."""
        ...


class _Session:
    """One deferral: which importers are the project's, and what was deferred."""

    def __init__(self, is_project_file: Callable[[str], bool], health: Health) -> None:
        self.is_project_file = is_project_file
        self.health = health
        self.values: dict[str, Deferred] = {}  # one object per dotted path
        self.requested: dict[str, list[str]] = {}  # top name -> modules the project imported
        self.from_items: dict[str, list[str]] = {}  # top -> `a.b` of `from a import b`
        self.deferred: list[str] = []  # top names, in order
        self.errors: list[str] = []  # raised while resolving, even if something caught it
        self.learning: set[str] = set()  # top names imported for real to record them

    def verify(self) -> None:
        """Import for real what the load read, never used, and cannot be proven to exist.

        ``np.float_`` in an annotation raises under numpy 2 for real; read lazily, it would
        not. A value whose existence the library's source proves stays deferred; any
        other is resolved now, and an error doing so is recorded (:meth:`doubt`).
        """
        imported = [*self.requested.values(), *self.from_items.values()]
        modules = frozenset(m for names in imported for m in names)
        for path, value in list(self.values.items()):
            if object.__getattribute__(value, "_kml_value") is not _MISSING:
                continue  # used: it exists
            if proven(path, modules):
                continue
            with contextlib.suppress(Exception):  # recorded by _resolve: the load is retried
                value._kml_real()

    def doubt(self) -> str | None:
        """Why this load's verdict may differ from a real import's, or ``None``."""
        if self.errors:
            return f"resolving a deferred value raised {self.errors[0]}"
        return None


_ACTIVE: list[_Session] = []
_MISSING = object()
# Above zero while the body of a `try` with handlers (or of a `with`) of the project's own
# code runs: a library's attribute is then read for real, so that an absent one raises
# where the project expects it to (rewrite.py).
_EAGER = [0]


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
        if value is _MISSING and not name.startswith("_") and not _EAGER[0]:
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


def _other(value: Any) -> Any:
    return value._kml_real() if type(value) is Deferred else value


def _unary(function: Callable[..., Any]) -> Callable[..., Any]:
    def method(self: Deferred, *args: Any) -> Any:
        return function(self._kml_real(), *args)

    return method


def _binary(function: Callable[[Any, Any], Any], reflected: bool = False) -> Callable[..., Any]:
    # The whole operator on both real values: its dispatch (reflected methods,
    # NotImplemented) is then Python's own, as if no Deferred had been there.
    def method(self: Deferred, other: Any) -> Any:
        if reflected:
            return function(_other(other), self._kml_real())
        return function(self._kml_real(), _other(other))

    return method


def _on_type(name: str) -> Callable[..., Any]:
    # Looked up on the real value's type, as Python looks up special methods.
    def method(self: Deferred, *args: Any) -> Any:
        value = self._kml_real()
        return getattr(type(value), name)(value, *args)

    return method


# Special methods are looked up on the type, never through __getattr__: each one resolves
# and does what the same operation does on the real value (a class's own `__eq__` is for
# its instances: `cls == other` must compare the class, as `operator.eq` does).
_UNARY: dict[str, Callable[..., Any]] = {
    "__iter__": iter,
    "__reversed__": reversed,
    "__len__": len,
    "__bool__": bool,
    "__hash__": hash,
    "__str__": str,
    "__repr__": repr,
    "__bytes__": bytes,
    "__format__": format,
    "__int__": int,
    "__float__": float,
    "__complex__": complex,
    "__index__": operator.index,
    "__round__": round,
    "__trunc__": math.trunc,
    "__floor__": math.floor,
    "__ceil__": math.ceil,
    "__abs__": abs,
    "__neg__": operator.neg,
    "__pos__": operator.pos,
    "__invert__": operator.invert,
    "__fspath__": os.fspath,
    "__dir__": dir,
    "__length_hint__": operator.length_hint,
    "__getitem__": operator.getitem,
    "__setitem__": operator.setitem,
    "__delitem__": operator.delitem,
    "__contains__": operator.contains,
}
_BINARY = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}
_ARITHMETIC = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "matmul": operator.matmul,
    "truediv": operator.truediv,
    "floordiv": operator.floordiv,
    "mod": operator.mod,
    "divmod": divmod,
    "pow": operator.pow,
    "lshift": operator.lshift,
    "rshift": operator.rshift,
    "and": operator.and_,
    "xor": operator.xor,
    "or": operator.or_,
}
for _name, _function in _UNARY.items():
    setattr(Deferred, _name, _unary(_function))
for _name, _function in _BINARY.items():
    setattr(Deferred, f"__{_name}__", _binary(_function))
for _name, _function in _ARITHMETIC.items():
    setattr(Deferred, f"__{_name}__", _binary(_function))
    setattr(Deferred, f"__r{_name}__", _binary(_function, reflected=True))
    in_place = getattr(operator, f"i{_name}", None) or getattr(operator, f"i{_name}_", None)
    if in_place is not None:  # `COLUMNS += [...]` mutates the library's list, as for real
        setattr(Deferred, f"__i{_name}__", _binary(in_place))
for _name in ("__enter__", "__exit__", "__reduce__", "__reduce_ex__"):
    setattr(Deferred, _name, _on_type(_name))


def _call(self: Deferred, *args: Any, **kwargs: Any) -> Any:  # keyword arguments too
    return self._kml_real()(*args, **kwargs)


class _Binder:
    """``Deferred.__get__``: binds as the real value would, and is present only if it is.

    Python calls it as the descriptor slot (a Deferred stored on a class); reading the
    attribute (``hasattr(value, "__get__")``, which ``enum`` asks of every member value)
    falls through to the real value's own answer: a deferred class is no descriptor.
    """

    def __call__(self, deferred: Deferred, instance: Any, owner: Any = None) -> Any:
        value = deferred._kml_real()
        bind = getattr(type(value), "__get__", None)
        return deferred if bind is None else bind(value, instance, owner)

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        raise AttributeError("__get__")  # Deferred.__getattr__ answers from the real value


Deferred.__call__ = _call  # type: ignore[method-assign]
Deferred.__get__ = _Binder()  # type: ignore[attr-defined]


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
    try:
        return _walk(path, session)
    except BaseException as exc:  # the project or a library may catch it: the load may not
        message = str(exc).strip().splitlines()
        session.errors.append(f"{type(exc).__name__} ({path}: {message[0] if message else ''})")
        raise


def _walk(path: str, session: _Session) -> Any:
    top, _, rest = path.partition(".")
    with _paused():
        for module in session.requested.get(top, ()):  # what the import statements import
            importlib.import_module(module)
        for candidate in session.from_items.get(top, ()):
            # `from a import b` imports submodule `a.b` when `a` has no attribute `b`.
            parent, _, item = candidate.rpartition(".")
            if not hasattr(sys.modules[parent], item):
                try:
                    importlib.import_module(candidate)
                except ModuleNotFoundError as exc:
                    if exc.name != candidate:
                        raise
        value: Any = importlib.import_module(top)
        # Plain attribute reads, as the project's code does: a submodule nothing imported
        # is absent, for real and here.
        for part in rest.split(".") if rest else ():
            value = getattr(value, part)
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
        # Already imported for real: nothing to save (but what this load imported to
        # learn that it imports, its other imports are learned too, for the next runs).
        or (top in sys.modules and top not in session.learning)
        or (fromlist and "*" in fromlist)
        or not globals
        or not session.is_project_file(str(globals.get("__file__") or ""))
        or _EAGER[0]  # inside a `try` or `with`: the import may be expected to fail
        or _optional(globals)
        or importlib.machinery.PathFinder.find_spec(top) is None  # not installed: lite's
    ):
        return _ORIGINAL_IMPORT(name, globals, locals, fromlist, level)
    wanted = tuple(fromlist or ())
    if not session.health.known_good(name, wanted):
        # Only a real import tells whether it fails (a broken install): do it, and
        # remember it for the next runs when it succeeds.
        session.learning.add(top)
        return session.health.imported_for_real(
            name, wanted, lambda: _ORIGINAL_IMPORT(name, globals, locals, fromlist, level)
        )
    if top in sys.modules:  # learning, and this import is known good already
        return _ORIGINAL_IMPORT(name, globals, locals, fromlist, level)
    requested = session.requested.setdefault(top, [])
    if name not in requested:
        requested.append(name)
    items = session.from_items.setdefault(top, [])
    items.extend(f"{name}.{item}" for item in fromlist or () if f"{name}.{item}" not in items)
    if top not in session.deferred:
        session.deferred.append(top)
    # `import a.b` binds `a`; `from a.b import c` reads `c` from `a.b`.
    return _deferred(name if fromlist else top, session)


def _optional(globals: dict[str, Any]) -> bool:
    """True for an import inside a ``try`` that catches ImportError (``try: import torch``)."""
    frame = sys._getframe(2)  # _import's caller: the frame running the import statement
    return guarded_by_import_error(str(globals.get("__file__") or ""), frame.f_lineno)


def _argument(value: Any, seen: set[int] | None = None) -> Any:
    """``value`` real, and so is every value inside it when it is a plain container."""
    kind = type(value)
    if kind is Deferred:
        return value._kml_real()
    if kind not in _CONTAINERS:
        return value
    seen = set() if seen is None else seen
    if id(value) in seen:
        return value
    seen.add(id(value))
    if kind is list:
        for index, item in enumerate(value):
            resolved = _argument(item, seen)
            if resolved is not item:
                value[index] = resolved  # in place: the list stays the project's list
    elif kind is dict:
        for key, item in value.items():
            resolved = _argument(item, seen)
            if resolved is not item:
                value[key] = resolved
    else:
        items = [_argument(item, seen) for item in value]
        if any(new is not old for new, old in zip(items, value, strict=True)):
            if kind is set:
                value.clear()
                value.update(items)
            else:
                value = kind(items)
    return value


_CONTAINERS = frozenset({list, tuple, dict, set, frozenset})


def _starred(value: Any) -> Any:
    return _argument(value) if type(value) in (Deferred, list, tuple) else value


def _keywords(value: Any) -> Any:
    return _argument(value) if type(value) in (Deferred, dict) else value


class _EagerRegion:
    __slots__ = ()

    def __enter__(self) -> None:
        _EAGER[0] += 1

    def __exit__(self, *exc_info: Any) -> None:
        _EAGER[0] -= 1


# What rewritten modules call (rewrite.py). They live in `builtins`, not in the modules:
# `dir(module)`, `vars(module)` and `inspect.getmembers(module)` of the project's own
# modules stay exact, and functions the project defined keep finding them after the load.
_HELPERS = {
    rewrite.REAL: real,
    rewrite.ARGUMENT: _argument,
    rewrite.STARRED: _starred,
    rewrite.KEYWORDS: _keywords,
    rewrite.EAGER: _EagerRegion(),
}


class _RewritingLoader(importlib.machinery.SourceFileLoader):
    """A project source file, compiled through :func:`rewrite.rewritten` (never cached)."""

    def get_code(self, fullname: str) -> Any:
        return rewrite.rewritten(self.get_data(self.path), self.path)


class _ProjectSources:
    """First on ``sys.meta_path`` while a load defers: the project's modules, rewritten."""

    def __init__(self, session: _Session) -> None:
        self.session = session

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        origin = getattr(spec, "origin", None)
        if (
            spec is None
            or not isinstance(spec.loader, importlib.machinery.SourceFileLoader)
            or not origin
            or not self.session.is_project_file(origin)
        ):
            return None
        spec.loader = _RewritingLoader(fullname, origin)
        return spec


def worth_deferring() -> bool:
    """True when some library on the list is installed and not imported yet.

    Otherwise nothing can be deferred, and the project's modules are imported as Python
    imports them (a lean environment, or a process that imported the libraries already).
    """
    return any(
        top not in sys.modules and importlib.machinery.PathFinder.find_spec(top) is not None
        for top in sorted(DEFERRED_LIBRARIES)
    )


@contextmanager
def deferred_imports(is_project_file: Callable[[str], bool], health: Health) -> Iterator[_Session]:
    """Defer the project's imports of :data:`DEFERRED_LIBRARIES` while the block runs.

    Args:
        is_project_file: True for a source file of the project's own code (its imports
            are deferred; a library's never are).
        health: Says which imports are known to succeed here; the others are imported
            for real (through it).

    Yields:
        The session: ``deferred`` lists the libraries deferred.
    """
    session = _Session(is_project_file, health)
    _ACTIVE.append(session)
    saved, eager = builtins.__import__, _EAGER[0]
    vars(builtins).update(_HELPERS)  # names no source can spell: nothing can shadow them
    finder = _ProjectSources(session)
    sys.meta_path.insert(0, finder)
    builtins.__import__ = _import  # type: ignore[assignment]
    try:
        yield session
    finally:
        builtins.__import__ = saved
        sys.meta_path.remove(finder)
        _EAGER[0] = eager
        _ACTIVE.remove(session)
