"""What a run asks of the loader, as plain data.

Importable without Kedro: the CLI's cache hit never imports the loader proper.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CliPair:
    """``--training/--inference/--input-name`` from the command line."""

    training: str
    inference: str
    input_name: str
