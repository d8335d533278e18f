"""Catalog configuration of every Kedro era, and the installed Kedro's resolver.

Dataset type names changed twice: ``kedro.extras.datasets.pandas.CSVDataSet`` (0.17,
0.18) became ``kedro_datasets.pandas.CSVDataSet`` (kedro-datasets 1.x) and then
``…CSVDataset`` (kedro-datasets 2+, Kedro 0.19); ``MemoryDataSet`` became
``MemoryDataset``; kedro-mlflow's ``MlflowArtifactDataSet`` wrapped its dataset under
``data_set:`` until 0.12 and ``dataset:`` since. Entries are normalised to today's names
before they are classified, so a 0.17 catalog is judged as Kedro 0.17 judged it.

``CatalogConfigResolver`` (Kedro ≥ 0.19.9) matches dataset factory patterns; Kedro 0.19
and 1.x name its lookups differently (:class:`Resolver` hides that). Kedro 1.x has public
``match_dataset_pattern``/``match_user_catch_all_pattern``; on 0.19 the resolver's private
``_dataset_patterns``/``_default_pattern`` are read instead (a seam, docs/design.md §8).
Checked against kedro 0.19.15 (privates) and 1.7.0 (public lookups).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_WRAPPER_KEYS = ("dataset", "data_set")
_EXTRAS_PREFIX = "kedro.extras.datasets."


def normalise_dataset_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """One catalog entry (or pattern) with today's type names and wrapper keys."""
    normalised = dict(config)
    dataset_type = normalised.get("type")
    if isinstance(dataset_type, str):
        normalised["type"] = normalise_type_name(dataset_type)
    for key in _WRAPPER_KEYS:
        inner = normalised.pop(key, None)
        if inner is None:
            continue
        if isinstance(inner, Mapping):
            inner = normalise_dataset_config(inner)
        elif isinstance(inner, str):
            inner = normalise_type_name(inner)
        normalised.setdefault("dataset", inner)
    return normalised


def normalise_type_name(name: str) -> str:
    """``kedro.extras.datasets.pickle.PickleDataSet`` → ``kedro_datasets.pickle.PickleDataset``."""
    if name.startswith(_EXTRAS_PREFIX):
        name = "kedro_datasets." + name[len(_EXTRAS_PREFIX) :]
    module, _, cls = name.rpartition(".")
    if cls.endswith("DataSet"):
        cls = cls[: -len("DataSet")] + "Dataset"
    return f"{module}.{cls}" if module else cls


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
