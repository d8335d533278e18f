"""``python -m kedro_ml_lint`` and the ``kedro-ml-lint`` command."""

from __future__ import annotations


def main() -> None:
    """Run the command line."""
    from kedro_ml_lint.cli import main as command_line

    command_line()


if __name__ == "__main__":
    main()
