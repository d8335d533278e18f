"""The installed Kedro's catalog resolver, and its configuration read without OmegaConf.

``CatalogConfigResolver`` (Kedro ≥ 0.19.9) matches dataset factory patterns; Kedro 0.19
and 1.x name its lookups differently (:class:`Resolver` hides that). Kedro 1.x has public
``match_dataset_pattern``/``match_user_catch_all_pattern``; on 0.19 the resolver's private
``_dataset_patterns``/``_default_pattern`` are read instead (a seam, docs/design.md §8).
Checked against kedro 0.19.15 (privates) and 1.7.0 (public lookups).

:func:`read_plain_catalog` reads the catalog configuration as the stock
``OmegaConfigLoader`` does, without building OmegaConf's node tree when no value
interpolates: the same result, a fraction of the time on large catalogs.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any


class Resolver:
    """Kedro's ``CatalogConfigResolver``, with one interface across 0.19 and 1.x.

    Args:
        entries: Catalog entries and patterns (credentials already dropped).
    """

    def __init__(self, entries: dict[str, Any]) -> None:
        from kedro.io import catalog_config_resolver as module

        runtime = getattr(module, "DEFAULT_RUNTIME_PATTERN", None)
        self._resolver: Any
        if runtime is not None:  # Kedro 1.x
            self._resolver = module.CatalogConfigResolver(
                config=entries, default_runtime_patterns=runtime
            )
        else:  # Kedro 0.19: no runtime patterns given, so none match
            self._resolver = module.CatalogConfigResolver(config=entries)

    @property
    def config(self) -> dict[str, Any]:
        """The explicit entries, resolved."""
        return self._resolver.config

    def dataset_pattern(self, name: str) -> str | None:
        """The most specific dataset factory pattern that matches ``name``."""
        resolver = self._resolver
        if hasattr(resolver, "match_dataset_pattern"):
            return resolver.match_dataset_pattern(name)
        return _first_match(resolver._dataset_patterns, name)

    def catch_all(self, name: str) -> str | None:
        """The user's catch-all pattern, when it matches ``name``."""
        resolver = self._resolver
        if hasattr(resolver, "match_user_catch_all_pattern"):
            return resolver.match_user_catch_all_pattern(name)
        return _first_match(resolver._default_pattern, name)

    def resolve(self, name: str) -> dict[str, Any]:
        """The configuration the pattern matching ``name`` gives it."""
        return dict(self._resolver.resolve_pattern(name))


def _first_match(patterns: Mapping[str, Any], name: str) -> str | None:
    from parse import parse

    return next((p for p in patterns if parse(p, name)), None)


class _NotPlain(Exception):
    """A value OmegaConf would not hand back unchanged: Kedro's own reading must run."""


def read_plain_catalog(config_loader: Any) -> dict[str, Any] | None:
    """``config_loader["catalog"]`` without OmegaConf's node tree, when that is exact.

    Building a ``DictConfig`` over a large catalog, and turning it back into dicts, is
    most of the time Kedro's ``OmegaConfigLoader`` spends on it (≈ 85 % at 10,000
    entries): a file is parsed once by PyYAML, then every value becomes an OmegaConf node.
    When no value holds an interpolation (``${…}``), resolving changes nothing, so the
    parsed files merged as Kedro merges them *are* its answer. This reads them so, with
    Kedro's own file discovery, OmegaConf's own YAML loader (its float and duplicate-key
    rules, its alias limit), Kedro's duplicate-key check and environment merge.

    Returns:
        The catalog configuration; ``None`` whenever this cannot vouch for the result: a
        loader other than the stock ``OmegaConfigLoader`` of Kedro ≥ 0.19 on local files,
        any ``${`` in a file, a value that is not a plain str, number, bool, null, list or
        str-keyed mapping, a ``_`` key in two files of one environment, and any error
        (then ``config_loader["catalog"]`` raises it, with Kedro's message).

    Private: ``OmegaConfigLoader._fs``, ``_protocol``, ``_is_hidden``,
    ``_is_valid_config_path``, ``_check_duplicates``, ``_merge_configs``, and OmegaConf's
    ``get_yaml_loader`` (the one ``OmegaConf.load`` calls). Checked against kedro 0.19.15
    and 1.7.0 with omegaconf 2.4.0: both Kedros read a file as ``OmegaConf.load`` of its
    UTF-8 text, merge one environment's files with no top-level key in two of them but
    ``_`` ones, drop ``_`` keys, then merge the run environment over the base.
    """
    from kedro.config import OmegaConfigLoader

    from kedro_ml_lint.seams.versions import installed_kedro

    if (
        type(config_loader) is not OmegaConfigLoader
        or installed_kedro().minor_version < (0, 19)
        or getattr(config_loader, "_protocol", None) != "file"
        or "catalog" in config_loader  # set explicitly: Kedro returns it as it is
    ):
        return None
    try:
        return _read_plain(config_loader, "catalog")
    except Exception:  # Kedro's own reading raises it again, in its words
        return None


def _read_plain(loader: Any, key: str) -> dict[str, Any] | None:
    """``OmegaConfigLoader.__getitem__`` for a key whose files hold no interpolation."""
    from omegaconf import omegaconf

    # The loader OmegaConf.load itself calls (omegaconf 2.3 defines it in _utils, 2.4 in _yaml).
    yaml_loader = omegaconf.get_yaml_loader()
    patterns = list(loader.config_patterns[key])
    read: list[Path] = []
    base_path = str(Path(loader.conf_source) / loader.base_env)
    base = _read_plain_env(loader, base_path, patterns, key, yaml_loader, read)
    run_env = loader.env or loader.default_run_env
    if base is None or run_env == loader.base_env:
        return base
    env_path = str(Path(loader.conf_source) / run_env)
    env = _read_plain_env(loader, env_path, patterns, key, yaml_loader, read)
    if env is None or not read:  # no file at all: Kedro raises MissingConfigException
        return None
    return dict(loader._merge_configs(base, env, key, env_path))


def _read_plain_env(
    loader: Any, conf_path: str, patterns: list[str], key: str, yaml_loader: Any, read: list[Path]
) -> dict[str, Any] | None:
    """One environment's files, merged, ``_`` keys dropped; ``None`` when not plain."""
    import yaml

    fs = loader._fs
    if not fs.isdir(Path(conf_path).as_posix()):
        return None
    ignore_hidden = getattr(loader, "ignore_hidden", True)  # Kedro 0.19 always ignores them
    paths = [
        Path(each)
        for pattern in patterns
        for each in fs.glob(Path(f"{conf_path}/{pattern}").as_posix())
        if not ignore_hidden or not loader._is_hidden(each)
    ]
    per_file: dict[Path, dict[str, Any]] = {}
    # The same set built the same way: files (so keys) come in Kedro's order.
    for path in [p for p in set(paths) if loader._is_valid_config_path(p)]:
        with fs.open(str(path.as_posix())) as stream:
            text = stream.read().decode("utf8")
        if "${" in text:  # cheap first test; escapes like "\x24{" are caught by _plain
            return None
        loaded = yaml.load(io.StringIO(text), Loader=yaml_loader)
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            return None
        try:
            per_file[path] = _plain(loaded)
        except _NotPlain:
            return None
        read.append(path)
    loader._check_duplicates(key, per_file)
    merged: dict[str, Any] = {}
    for config in per_file.values():
        if merged.keys() & config.keys():  # `_` keys only: OmegaConf would deep-merge them
            return None
        merged.update(config)
    return {k: v for k, v in merged.items() if not k.startswith("_")}


def _plain(value: Any) -> Any:
    """A fresh copy of ``value`` as ``OmegaConf.to_container`` returns it, or ``_NotPlain``.

    Fresh containers, because ``to_container`` copies what a YAML alias shares.
    """
    kind = type(value)
    if kind is dict:
        copy = {}
        for key, item in value.items():
            if type(key) is not str or "${" in key:
                raise _NotPlain
            copy[key] = _plain(item)
        return copy
    if kind is list:
        return [_plain(item) for item in value]
    if kind is str:
        if "${" in value:
            raise _NotPlain
        return value
    if value is None or kind in (int, float, bool):
        return value
    raise _NotPlain
