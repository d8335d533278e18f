"""``python -m kedro_ml_lint`` and the ``kedro-ml-lint`` command."""

from __future__ import annotations

import sys


def main() -> None:
    """Replay an unchanged read-only run, or run the command line (docs/design.md §13)."""
    from kedro_ml_lint import replay

    replay.start(sys.argv[1:])  # returns only when the run must really happen
    from kedro_ml_lint.cli import main as command_line

    command_line()


if __name__ == "__main__":
    main()
