"""JSON for frozen dataclasses, driven by their type hints (the cache's format).

Never pickle: a cache entry lives in the project folder, and reading one must not be able
to run code. Encoding walks values; decoding walks the *declared types* and checks every
value against them, so a corrupt or foreign entry raises :class:`CodecError` instead of
producing a half-right snapshot. A new dataclass field needs no codec change: its type
hint says how to read it, and :func:`schema_fingerprint` changes, which retires every entry
written before it (docs/design.md §13).

Supported types: dataclasses, ``Enum``, ``str``/``int``/``float``/``bool``/``None``,
``X | None`` (and other unions of these), ``tuple[X, ...]``, ``tuple[X, Y]``, ``list[X]``,
``frozenset[X]``, ``dict[K, V]``/``Mapping[K, V]`` and ``Any`` (plain JSON values only).
"""

from __future__ import annotations

import dataclasses
import hashlib
import types
import typing
from collections.abc import Mapping
from enum import Enum
from functools import cache
from typing import Any

_PRIMITIVES = (str, int, float, bool)


class CodecError(ValueError):
    """Raised when a value does not fit its declared type (a corrupt or foreign entry)."""


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def encode(value: Any) -> Any:
    """``value`` as plain JSON data (dicts, lists, strings, numbers, booleans, null).

    Raises:
        CodecError: For a value no JSON shape is defined for.
    """
    if value is None or (isinstance(value, _PRIMITIVES) and not isinstance(value, Enum)):
        return value
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (frozenset, set)):
        items = [encode(v) for v in value]
        return sorted(items, key=_order)
    if isinstance(value, (tuple, list)):
        return [encode(v) for v in value]
    if isinstance(value, Mapping):
        if all(isinstance(k, str) for k in value):
            return {k: encode(v) for k, v in value.items()}
        return [[encode(k), encode(v)] for k, v in value.items()]
    raise CodecError(f"cannot encode a {type(value).__name__}")


def _order(item: Any) -> str:
    import json

    return json.dumps(item, sort_keys=True)


def decode(kind: Any, data: Any) -> Any:
    """Rebuild a value of type ``kind`` from :func:`encode`'s output, checking every part.

    Raises:
        CodecError: When ``data`` does not fit ``kind``.
    """
    if kind is Any:
        _check_json(data)
        return data
    if kind is None or kind is type(None):
        if data is not None:
            raise CodecError("expected null")
        return None
    origin = typing.get_origin(kind)
    if origin is typing.Union or origin is types.UnionType:
        for option in typing.get_args(kind):
            try:
                return decode(option, data)
            except CodecError:
                continue
        raise CodecError(f"no option of {kind} fits")
    if origin is tuple:
        args = typing.get_args(kind)
        items = _list(data)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(decode(args[0], v) for v in items)
        if len(args) != len(items):
            raise CodecError("tuple of the wrong length")
        return tuple(decode(a, v) for a, v in zip(args, items, strict=True))
    if origin is list:
        (arg,) = typing.get_args(kind)
        return [decode(arg, v) for v in _list(data)]
    if origin in (frozenset, set):
        (arg,) = typing.get_args(kind)
        return frozenset(decode(arg, v) for v in _list(data))
    if origin in (dict, Mapping):
        key_kind, value_kind = typing.get_args(kind)
        if isinstance(data, dict):
            if key_kind is not str:
                raise CodecError("expected a list of pairs")
            return {decode(str, k): decode(value_kind, v) for k, v in data.items()}
        result = {}
        for pair in _list(data):
            items = _list(pair)
            if len(items) != 2:
                raise CodecError("expected a [key, value] pair")
            result[decode(key_kind, items[0])] = decode(value_kind, items[1])
        return result
    if isinstance(kind, type) and issubclass(kind, Enum):
        try:
            return kind(data)
        except ValueError as exc:
            raise CodecError(str(exc)) from exc
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        if not isinstance(data, dict):
            raise CodecError(f"expected an object for {kind.__name__}")
        hints = _hints(kind)
        fields = {f.name: f for f in dataclasses.fields(kind)}
        unknown = set(data) - set(fields)
        if unknown:
            raise CodecError(f"unknown fields {sorted(unknown)} for {kind.__name__}")
        values = {}
        for name, field in fields.items():
            if name in data:
                values[name] = decode(hints[name], data[name])
            elif (
                field.default is dataclasses.MISSING
                and field.default_factory is dataclasses.MISSING
            ):
                raise CodecError(f"missing field `{name}` of {kind.__name__}")
        return kind(**values)
    if kind in _PRIMITIVES:
        # bool is an int in Python, and JSON has one number type: be exact.
        if kind is float and isinstance(data, int) and not isinstance(data, bool):
            return float(data)
        if type(data) is not kind:
            raise CodecError(f"expected {kind.__name__}")
        return data
    raise CodecError(f"no JSON shape for {kind!r}")


def _list(data: Any) -> list[Any]:
    if not isinstance(data, list):
        raise CodecError("expected a list")
    return data


def _check_json(data: Any) -> None:
    if data is None or type(data) in _PRIMITIVES:
        return
    if isinstance(data, list):
        for item in data:
            _check_json(item)
        return
    if isinstance(data, dict) and all(isinstance(k, str) for k in data):
        for item in data.values():
            _check_json(item)
        return
    raise CodecError(f"not a plain JSON value: {type(data).__name__}")


def check_plain(data: Any) -> None:
    """Raise :class:`CodecError` unless ``data`` is plain JSON (for ``Any`` fields)."""
    _check_json(data)


def schema_fingerprint(kind: Any) -> str:
    """A short hash of ``kind``'s shape: every field name and type, recursively.

    Part of each cache entry's format: adding, removing or retyping a field anywhere in
    the snapshot retires the entries written before, with no version to remember to bump.
    """
    return hashlib.sha256(_describe(kind, set()).encode()).hexdigest()[:16]


def _describe(kind: Any, seen: set[Any]) -> str:
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        if kind in seen:
            return kind.__qualname__
        seen.add(kind)
        hints = _hints(kind)
        inner = ",".join(
            f"{f.name}:{_describe(hints[f.name], seen)}" for f in dataclasses.fields(kind)
        )
        return f"{kind.__qualname__}{{{inner}}}"
    if isinstance(kind, type) and issubclass(kind, Enum):
        return f"{kind.__qualname__}<{','.join(str(m.value) for m in kind)}>"
    origin = typing.get_origin(kind)
    if origin is not None:
        args = ",".join(_describe(a, seen) for a in typing.get_args(kind))
        return f"{getattr(origin, '__name__', str(origin))}[{args}]"
    if kind is Ellipsis:
        return "..."
    return getattr(kind, "__name__", str(kind))
