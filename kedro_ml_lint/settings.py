"""``[tool.kedro-ml-lint]`` plus command-line overrides, validated into ``LintSettings``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kedro_ml_lint.engine import ALL, Selection
from kedro_ml_lint.errors import SettingsError
from kedro_ml_lint.model.names import did_you_mean
from kedro_ml_lint.rules import RULES
from kedro_ml_lint.vocabulary import PYPROJECT

DEFAULT_FIX_CATALOG = "conf/base/catalog.yml"
KNOWN_KEYS = ("select", "ignore", "per-dataset-ignores", "pairs", "fix-catalog")


@dataclass(frozen=True)
class LintSettings:
    """Everything configurable about a run.

    Attributes:
        selection: Which rules run and which violations are silenced.
        fix_catalog: The catalog file ``--fix`` appends to, relative to the project.
    """

    selection: Selection = field(default_factory=Selection)
    fix_catalog: str = DEFAULT_FIX_CATALOG


def build_settings(
    table: Mapping[str, Any],
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
) -> LintSettings:
    """Merge the pyproject table with command-line flags; flags win.

    Raises:
        SettingsError: On an unknown key, an unknown rule code or a wrongly typed value.
    """
    for key in table:
        if key not in KNOWN_KEYS:
            raise SettingsError(
                f"unknown key `{key}` in `[tool.kedro-ml-lint]`{did_you_mean(key, KNOWN_KEYS)}",
                PYPROJECT,
            )
    per_dataset = table.get("per-dataset-ignores", {})
    if not isinstance(per_dataset, Mapping):
        raise SettingsError("`per-dataset-ignores` must be a table of dataset = [codes]", PYPROJECT)
    fix_catalog = table.get("fix-catalog", DEFAULT_FIX_CATALOG)
    if not isinstance(fix_catalog, str):
        raise SettingsError("`fix-catalog` must be a path (a string)", PYPROJECT)
    selection = Selection(
        select=_selectors(select if select is not None else table.get("select", [ALL]), "select"),
        ignore=_selectors(ignore if ignore is not None else table.get("ignore", []), "ignore"),
        per_dataset_ignores={
            str(name): _selectors(codes, f"per-dataset-ignores.{name}")
            for name, codes in per_dataset.items()
        },
    )
    return LintSettings(selection=selection, fix_catalog=fix_catalog)


def parse_codes(text: str | None) -> list[str] | None:
    """``"KML001,KML002"`` from the command line, as a list."""
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


def _selectors(value: Any, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise SettingsError(f"`{key}` must be a list of rule codes", PYPROJECT)
    codes = [rule.code for rule in RULES]
    selectors = []
    for raw in value:
        selector = raw.strip().upper()
        if selector != ALL and not any(code.startswith(selector) for code in codes):
            raise SettingsError(
                f"unknown rule selector `{raw}` in `{key}`{did_you_mean(selector, codes)}"
            )
        selectors.append(selector)
    return tuple(selectors)
