"""What a run asks of the loader, as plain data.

Importable without Kedro: the CLI's cache hit never imports the loader proper.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

# What `kedro run` reads its default environment from (`--env` wins).
KEDRO_ENV = "KEDRO_ENV"


def run_environment(env: str | None) -> str | None:
    """The configuration environment a run reads, as ``kedro run`` picks it.

    ``--env`` wins, else ``KEDRO_ENV``, else ``None`` (the config loader's default run
    environment, ``local`` unless the project says otherwise). An empty value counts as
    unset, as in Kedro's ``KedroSession.create`` (``env or os.getenv("KEDRO_ENV")``).

    Args:
        env: The environment named explicitly (``--env``), if any.
    """
    return env or os.environ.get(KEDRO_ENV) or None


@dataclass(frozen=True)
class CliPair:
    """``--training/--inference/--input-name`` from the command line."""

    training: str
    inference: str
    input_name: str


@dataclass(frozen=True)
class LoadOptions:
    """Which project configuration and which pairs a load reads.

    Attributes:
        env: Configuration environment layered over ``base``.
        conf_source: Another configuration folder than ``conf/``.
        cli_pair: A pair named on the command line; replaces the declared ones.
        pipelines: Only the pairs with these names.
        lite: Stand in for missing third-party modules while importing the project.
        defer: Import the project's heavy libraries on first real use (same verdict).
    """

    env: str | None = None
    conf_source: str | None = None
    cli_pair: CliPair | None = None
    pipelines: tuple[str, ...] = ()
    lite: bool = True
    defer: bool = True
