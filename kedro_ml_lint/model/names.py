"""Dataset-name helpers, spelled the way Kedro spells them (no kedro import here)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

# Redaction lives in one module, the words in the vocabulary; these names stay importable
# from here for older callers.
from kedro_ml_lint.model.redact import redact_url_credentials as redact_url_credentials
from kedro_ml_lint.vocabulary import ALL_PARAMETERS as ALL_PARAMETERS
from kedro_ml_lint.vocabulary import LOCAL_PROTOCOLS as LOCAL_PROTOCOLS
from kedro_ml_lint.vocabulary import PARAMS_PREFIX as PARAMS_PREFIX
from kedro_ml_lint.vocabulary import TRANSCODING_SEPARATOR as TRANSCODING_SEPARATOR

_PROTOCOL = re.compile(r"^(?P<protocol>[A-Za-z][A-Za-z0-9+.\-]*)://")


def strip_transcoding(name: str) -> str:
    """Return ``name`` without its ``@format`` suffix, as Kedro compares names."""
    return name.split(TRANSCODING_SEPARATOR, 1)[0]


def is_parameter(name: str) -> bool:
    """True for ``params:*`` inputs and the whole ``parameters`` dict."""
    return name == ALL_PARAMETERS or name.startswith(PARAMS_PREFIX)


def storage_url(filepath: str) -> str:
    """The part of a chained fsspec URL that names the storage (its last link).

    ``simplecache::s3://bucket/m.pkl`` keeps its data on ``s3://bucket/m.pkl``.
    """
    return filepath.rsplit("::", 1)[-1]


def protocol_of(filepath: str) -> str | None:
    """The protocol of the storage ``filepath`` names (``s3``, ``gs``…), ``None`` for a path."""
    match = _PROTOCOL.match(storage_url(filepath))
    return match.group("protocol").lower() if match else None


def is_local_path(filepath: str) -> bool:
    """True when ``filepath`` names a file on this machine."""
    protocol = protocol_of(filepath)
    return protocol is None or protocol in LOCAL_PROTOCOLS


def flatten_parameter_keys(parameters: Mapping[str, Any]) -> frozenset[str]:
    """Every ``params:`` name Kedro feeds for ``parameters`` (``a``, ``a.b``, ``a.b.c``…)."""
    keys: set[str] = set()
    stack: list[tuple[str, Mapping[str, Any]]] = [("", parameters)]
    while stack:
        prefix, mapping = stack.pop()
        for key, value in mapping.items():
            full = f"{prefix}{key}"
            keys.add(full)
            if isinstance(value, Mapping):
                stack.append((f"{full}.", value))
    return frozenset(keys)


def close_matches(word: str, candidates: Iterable[str]) -> list[str]:
    """Up to three candidates that look like ``word``, best first."""
    from difflib import get_close_matches

    return get_close_matches(word, sorted(candidates), n=3, cutoff=0.6)


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """A ``"; did you mean `x`?"`` suffix, or an empty string when nothing is close."""
    matches = close_matches(word, candidates)
    return f"; did you mean `{matches[0]}`?" if matches else ""
