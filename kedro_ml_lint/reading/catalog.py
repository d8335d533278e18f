"""The catalog, read from configuration only: resolution and file:line positions."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kedro_ml_lint.eras.catalog_names import normalise_dataset_config
from kedro_ml_lint.errors import ProjectConfigError
from kedro_ml_lint.model import DatasetSpec, Origin
from kedro_ml_lint.reading.config_errors import relative as relative_path
from kedro_ml_lint.seams.kedro_catalog import Resolver

CREDENTIALS_KEY = "credentials"
CONFIG_SUFFIXES = (".yml", ".yaml", ".json")
# A top-level YAML key at column 0, optionally quoted, then ``:``; the rest may hold a comment.
_TOP_LEVEL_KEY = re.compile(
    r"""^(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<plain>[^\s#"'{\[&*!|>%@`-][^#]*?))\s*:(?:\s|$)"""
)
# Kedro 0.17/0.18 read INI catalogs too: a section header (configparser's form) is the key line.
_INI_SECTION = re.compile(r"^\[(?P<section>.+)\]")
# A bare noqa comment, or one naming codes after a colon (commas and/or spaces between them).
_NOQA = re.compile(
    r"#\s*noqa(?::\s*(?P<codes>[A-Za-z]+\d+(?:(?:\s*,\s*|\s+)[A-Za-z]+\d+)*))?", re.I
)
_CODE_SEPARATOR = re.compile(r"[\s,]+")
NOQA_COMMENT = _NOQA  # what --add-noqa writes must be what this reads (fix/noqa.py)


def without_credentials(config: Any) -> Any:
    """A copy of ``config`` with every ``credentials`` key dropped: they are never resolved."""
    if isinstance(config, Mapping):
        return {k: without_credentials(v) for k, v in config.items() if k != CREDENTIALS_KEY}
    if isinstance(config, list):
        return [without_credentials(v) for v in config]
    return config


class CatalogView:
    """Resolve dataset names the way Kedro's ``CatalogConfigResolver`` does, statically.

    Args:
        config: The merged catalog configuration (``config_loader["catalog"]``).
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        entries = {
            key: value
            for key, value in without_credentials(dict(config)).items()
            if not str(key).startswith("_")
        }
        for key, value in entries.items():
            if not isinstance(value, Mapping):
                raise ProjectConfigError(
                    f"catalog entry `{key}` is a {type(value).__name__}, not a mapping; "
                    "prefix it with `_` if it only feeds interpolation"
                )
        entries = {key: normalise_dataset_config(value) for key, value in entries.items()}
        try:
            self._resolver = Resolver(entries)
        except Exception as exc:  # kedro's DatasetError for a malformed pattern
            raise ProjectConfigError(f"invalid catalog: {exc}") from exc

    def entries(self) -> dict[str, str | None]:
        """Every explicit entry (patterns aside) and the file it writes (``None``: none)."""
        return {
            str(name): DatasetSpec.from_config(str(name), config, Origin.ENTRY, str(name)).filepath
            for name, config in self._resolver.config.items()
        }

    def resolve(self, name: str) -> DatasetSpec:
        """What the catalog makes of ``name``: entry, pattern, catch-all or nothing."""
        resolver = self._resolver
        config = resolver.config
        if name in config:
            return DatasetSpec.from_config(name, config[name], Origin.ENTRY, name)
        pattern = resolver.dataset_pattern(name)
        origin = Origin.PATTERN
        if pattern is None:
            pattern = resolver.catch_all(name)
            origin = Origin.CATCH_ALL
        if pattern is None:
            return DatasetSpec.unconfigured(name)
        return DatasetSpec.from_config(name, resolver.resolve(name), origin, pattern)


@dataclass(frozen=True)
class EntryPosition:
    """Where a catalog key is written, and what its ``# noqa`` comment silences.

    Attributes:
        path: The file, relative to the project root.
        line: 1-based line of the key.
        noqa: ``None`` without a ``# noqa``; the codes it names; empty for a bare ``# noqa``.
    """

    path: str
    line: int
    noqa: frozenset[str] | None


class CatalogIndex:
    """Top-level keys of the catalog files, run environment first (it overrides base).

    Args:
        root: The project root, for relative paths.
        files: Catalog files in priority order.
    """

    def __init__(self, root: Path, files: Iterable[Path]) -> None:
        self._positions: dict[str, EntryPosition] = {}
        for path in files:
            relative = relative_path(path, root.resolve())
            for key, position in _scan(path, relative):
                self._positions.setdefault(key, position)

    def position(self, key: str) -> EntryPosition | None:
        """Where ``key`` (an entry name or a pattern) is written, if it is."""
        return self._positions.get(key)

    def directives(self) -> list[EntryPosition]:
        """The positions whose key line carries a ``# noqa`` comment, in file order."""
        found = [p for p in self._positions.values() if p.noqa is not None]
        return sorted(found, key=lambda p: (p.path, p.line))

    def first_mentioned_in(self, message: str) -> EntryPosition | None:
        """The earliest-written key that ``message`` names, to place a catalog error."""
        named = [
            position
            for key, position in self._positions.items()
            if f"`{key}`" in message or ("{" in key and key in message)
        ]
        return min(named, key=lambda p: (p.path, p.line), default=None)


def _scan(path: Path, relative: str) -> Iterable[tuple[str, EntryPosition]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return
    ini = path.suffix == ".ini"
    for number, line in enumerate(text.splitlines(), start=1):
        match = (_INI_SECTION if ini else _TOP_LEVEL_KEY).match(line)
        if not match:
            continue
        if ini:
            key = match.group("section")
        else:
            key = match.group("dq") or match.group("sq") or match.group("plain")
        yield key.strip(), EntryPosition(relative, number, noqa_codes(line))


def noqa_codes(line: str) -> frozenset[str] | None:
    """The codes a ``# noqa`` comment on ``line`` names; empty when bare; ``None`` without."""
    match = _NOQA.search(line)
    if not match:
        return None
    codes = match.group("codes") or ""
    return frozenset(c.upper() for c in _CODE_SEPARATOR.split(codes) if c)


def config_files(conf_source: Path, envs: Iterable[str], patterns: Iterable[str]) -> list[Path]:
    """The files the config loader reads for ``patterns``, first env first."""
    found: list[Path] = []
    for env in envs:
        env_dir = conf_source / env
        if not env_dir.is_dir():
            continue
        seen: set[Path] = set()
        for pattern in patterns:
            for path in sorted(env_dir.glob(pattern)):
                hidden = any(part.startswith(".") for part in path.relative_to(env_dir).parts)
                if path.is_file() and path.suffix in CONFIG_SUFFIXES and not hidden:
                    seen.add(path)
        found.extend(sorted(seen))
    return found
