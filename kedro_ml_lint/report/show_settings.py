"""``check --show-settings``: every resolved setting and where its value came from."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from kedro_ml_lint.settings import Resolved

WIDE = 32


def render(project: Path, settings: Sequence[Resolved]) -> str:
    """One ``name = value  # source`` line per setting, values as TOML would spell them.

    Args:
        project: The project root the settings were resolved for.
        settings: The settings, in the order to print.
    """
    lines = [f"Resolved settings for {project}", ""]
    values = [(s.name, _toml(s.value), s.source) for s in settings]
    name_width = max(len(name) for name, _, _ in values)
    # Sources line up, except after a value too long to wait for (the resolved rules).
    value_width = max((len(value) for _, value, _ in values if len(value) <= WIDE), default=0)
    for name, value, source in values:
        lines.append(f"{name:<{name_width}} = {value:<{value_width}}  # {source}".rstrip())
    return "\n".join(lines) + "\n"


def _toml(value: object) -> str:
    """A value as TOML writes it inline (lists, inline tables, strings, booleans)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        items = ", ".join(f"{json.dumps(str(k))} = {_toml(v)}" for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if value is None:
        return '""'
    return json.dumps(value, ensure_ascii=False)
