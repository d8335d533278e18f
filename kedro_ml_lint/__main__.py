"""``python -m kedro_ml_lint``: the same CLI as ``kedro-ml-lint``."""

from __future__ import annotations

from kedro_ml_lint.cli import main

if __name__ == "__main__":
    main()
