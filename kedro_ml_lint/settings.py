"""``[tool.kedro-ml-lint]`` plus command-line overrides, validated into ``LintSettings``.

Rule selection resolves in levels as ruff's does (docs/configuration.md): the
configuration file's, then the command line's. The last level that sets ``select`` is the
base (the default is ``ALL`` at the file's level); from there on, each level adds what its
``select`` and ``extend-select`` match and removes what its ``ignore`` matches (inside a
level ``ignore`` wins, as it always has here). So ``--ignore`` adds to the file's ignores,
``--extend-select`` adds to its selection, and ``--select`` replaces the file's selection
and its modifiers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kedro_ml_lint.engine import ALL, Selection, matches
from kedro_ml_lint.errors import SettingsError
from kedro_ml_lint.model.names import did_you_mean
from kedro_ml_lint.rules import RULES
from kedro_ml_lint.vocabulary import PYPROJECT

DEFAULT_FIX_CATALOG = "conf/base/catalog.yml"
KNOWN_KEYS = ("select", "extend-select", "ignore", "per-dataset-ignores", "pairs", "fix-catalog")
PYPROJECT_LABEL = f"{PYPROJECT} [tool.kedro-ml-lint]"


@dataclass(frozen=True)
class LintSettings:
    """Everything configurable about a run.

    Attributes:
        selection: Which rules run and which violations are silenced.
        fix_catalog: The catalog file ``--fix`` appends to, relative to the project.
    """

    selection: Selection = field(default_factory=Selection)
    fix_catalog: str = DEFAULT_FIX_CATALOG


@dataclass(frozen=True)
class ConfigFile:
    """The settings table a run reads instead of the project's ``[tool.kedro-ml-lint]``.

    Attributes:
        table: The table (``{}`` with ``--isolated``).
        label: Where it comes from, as ``--show-settings`` says it.
        path: The file its errors name; ``None`` when there is no file.
    """

    table: Mapping[str, Any]
    label: str
    path: str | None = None


@dataclass(frozen=True)
class CommandLineCodes:
    """The rule selectors given on the command line (the higher level).

    Attributes:
        select: Replaces the configured selection and its modifiers; ``None`` keeps them.
        extend_select: Added to the selection.
        ignore: Added to the configured ignores.
    """

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()


@dataclass(frozen=True)
class Resolved:
    """One resolved setting and where its value came from (``--show-settings``).

    Attributes:
        name: The setting's key.
        value: Its value, as JSON-like data.
        source: ``default``, the configuration file's label, ``environment (VAR)`` or
            ``command line (--flag)``; two joined by `` + `` when both contribute.
    """

    name: str
    value: Any
    source: str


@dataclass(frozen=True)
class SelectorLevel:
    """The selectors of one level: the configuration file's or the command line's."""

    select: tuple[str, ...] | None
    extend_select: tuple[str, ...]
    ignore: tuple[str, ...]


def build_settings(
    table: Mapping[str, Any],
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    *,
    command_line: CommandLineCodes | None = None,
    path: str | None = PYPROJECT,
) -> LintSettings:
    """Merge the settings table with the caller's and the command line's selectors.

    Args:
        table: ``[tool.kedro-ml-lint]`` (or the ``--config`` file's table).
        select: Replaces the table's ``select`` (the API's meaning).
        ignore: Replaces the table's ``ignore`` (the API's meaning).
        command_line: The command line's selectors, the level above the table's.
        path: The file ``table`` comes from, for error messages.

    Raises:
        SettingsError: On an unknown key, an unknown rule code or a wrongly typed value.
    """
    validate_table(table, path)
    per_dataset = table.get("per-dataset-ignores", {})
    cli = command_line or CommandLineCodes()
    levels = [
        SelectorLevel(
            _selectors(select, "select", None)
            if select is not None
            else _optional(table.get("select"), "select", path),
            _selectors(table.get("extend-select", []), "extend-select", path),
            _selectors(ignore, "ignore", None)
            if ignore is not None
            else _selectors(table.get("ignore", []), "ignore", path),
        ),
        SelectorLevel(
            _selectors(cli.select, "--select", None) if cli.select is not None else None,
            _selectors(cli.extend_select, "--extend-select", None),
            _selectors(cli.ignore, "--ignore", None),
        ),
    ]
    selection = Selection(
        select=resolve_rules(levels),
        ignore=(),
        per_dataset_ignores={
            str(name): _selectors(codes, f"per-dataset-ignores.{name}", path)
            for name, codes in per_dataset.items()
        },
    )
    return LintSettings(
        selection=selection, fix_catalog=table.get("fix-catalog", DEFAULT_FIX_CATALOG)
    )


def validate_table(table: Mapping[str, Any], path: str | None = PYPROJECT) -> None:
    """Check a settings table's keys and value types.

    Raises:
        SettingsError: On an unknown key or a wrongly typed value.
    """
    where = "`[tool.kedro-ml-lint]`" if path == PYPROJECT else "the configuration"
    for key in table:
        if key not in KNOWN_KEYS:
            raise SettingsError(
                f"unknown key `{key}` in {where}{did_you_mean(key, KNOWN_KEYS)}", path
            )
    if not isinstance(table.get("per-dataset-ignores", {}), Mapping):
        raise SettingsError("`per-dataset-ignores` must be a table of dataset = [codes]", path)
    if not isinstance(table.get("fix-catalog", DEFAULT_FIX_CATALOG), str):
        raise SettingsError("`fix-catalog` must be a path (a string)", path)


def resolve_rules(levels: Sequence[SelectorLevel]) -> tuple[str, ...]:
    """The codes of the rules that run, resolved level by level as ruff does."""
    base = max((i for i, level in enumerate(levels) if level.select is not None), default=None)
    codes = [rule.code for rule in RULES]
    enabled = set(codes) if base is None else set()  # no `select` anywhere: ALL
    for level in levels[base or 0 :]:
        enabled |= {c for c in codes if matches(c, (*(level.select or ()), *level.extend_select))}
        enabled -= {c for c in codes if matches(c, level.ignore)}
    return tuple(code for code in codes if code in enabled)


def describe(config: ConfigFile, cli: CommandLineCodes) -> tuple[LintSettings, list[Resolved]]:
    """The settings a run uses and where each value came from (``--show-settings``).

    Raises:
        SettingsError: As :func:`build_settings`.
    """
    settings = build_settings(config.table, command_line=cli, path=config.path)
    table = config.table

    def from_table(key: str, default: Any) -> Resolved:
        if key in table:
            value = table[key]
            return Resolved(
                key,
                [value] if isinstance(value, str) and key != "fix-catalog" else value,
                config.label,
            )
        return Resolved(key, default, "default")

    select = from_table("select", [ALL])
    if cli.select is not None:
        select = Resolved("select", list(cli.select), "command line (--select)")
    extend = _joined(from_table("extend-select", []), list(cli.extend_select), "--extend-select")
    ignore = _joined(from_table("ignore", []), list(cli.ignore), "--ignore")
    if cli.select is not None:  # the command line's select drops the file's modifiers
        extend = Resolved(
            "extend-select",
            list(cli.extend_select),
            _cli_or_default(cli.extend_select, "--extend-select"),
        )
        ignore = Resolved("ignore", list(cli.ignore), _cli_or_default(cli.ignore, "--ignore"))
    rows = [
        select,
        extend,
        ignore,
        from_table("per-dataset-ignores", {}),
        from_table("fix-catalog", DEFAULT_FIX_CATALOG),
        Resolved("rules", list(settings.selection.select), "resolved"),
    ]
    return settings, rows


def _joined(configured: Resolved, added: list[str], flag: str) -> Resolved:
    if not added:
        return configured
    source = f"command line ({flag})"
    if configured.source != "default":
        source = f"{configured.source} + {source}"
    return Resolved(configured.name, [*configured.value, *added], source)


def _cli_or_default(values: Sequence[str], flag: str) -> str:
    return f"command line ({flag})" if values else "default"


def parse_codes(text: str | None) -> list[str] | None:
    """``"KML001,KML002"`` from the command line, as a list."""
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


def _optional(value: Any, key: str, path: str | None) -> tuple[str, ...] | None:
    return None if value is None else _selectors(value, key, path)


def _selectors(value: Any, key: str, path: str | None) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise SettingsError(f"`{key}` must be a list of rule codes", path)
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
