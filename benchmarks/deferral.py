"""Issue 19: what deferred import buys a cold ``check``, side by side in one run.

Run from the repository root::

    python benchmarks/deferral.py              # 5 rounds
    python benchmarks/deferral.py --rounds 9

Contenders, interleaved (the order rotates every round), on a copy of examples/churn:
cold ``check --no-cache`` (deferral on, import records present: the warm-up wrote them),
cold ``check --no-cache`` with no import records (an environment's first run: it imports
the libraries for real and records them; an information row), cold ``check --no-cache
--no-defer`` and ``kedro registry list`` without kedro-mlflow's plugin (run.py's shim). The
user cache folder (key, import records) is a scratch one. Prints the medians, the ratios to
``registry list`` and the load average; exits 1 when the cold ``check`` misses its target
(at most 0.5 times). No absolute time is asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from run import (
    CLI_TARGET,
    EXAMPLE,
    KEDRO_ENV,
    KEDRO_WITHOUT_MLFLOW,
    REPO,
    TimedCommand,
    interleaved,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    py = sys.executable
    scratch = Path(tempfile.mkdtemp(prefix="kml-defer-bench-"))
    try:
        project = scratch / "churn"
        shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__", ".kedro-*"))
        check = [py, "-m", "kedro_ml_lint", "check", str(project), "--no-cache"]
        env = {**KEDRO_ENV, "XDG_CACHE_HOME": str(scratch / "user-cache")}
        records = scratch / "user-cache" / "kedro-ml-lint" / "imports"

        def forget_records() -> int:
            shutil.rmtree(records, ignore_errors=True)
            return 0

        contenders = {
            "check --no-cache": TimedCommand(check, REPO, env=env),
            "check --no-cache, no import records": TimedCommand(
                check, REPO, env=env, before=forget_records
            ),
            "check --no-cache --no-defer": TimedCommand([*check, "--no-defer"], REPO, env=env),
            "kedro registry list (no kedro-mlflow)": TimedCommand(
                [py, "-c", KEDRO_WITHOUT_MLFLOW, "registry", "list"], project
            ),
        }
        runs = list(contenders.values())
        for run in runs:  # warm-up: page cache and .pyc files of the libraries
            run()
        times = interleaved(runs, rounds)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    medians = {name: statistics.median(t) for name, t in zip(contenders, times, strict=True)}
    baseline = medians["kedro registry list (no kedro-mlflow)"]
    print(f"{rounds} rounds, interleaved; load average {os.getloadavg()}")
    for name, median in medians.items():
        print(f"{name:42s} {median:6.2f} s  {median / baseline:5.2f}x")
    ratio = medians["check --no-cache"] / baseline
    verdict = "PASS" if ratio <= CLI_TARGET else "MISS"
    print(f"cold check / registry list = {ratio:.2f}x (target <= {CLI_TARGET}x): {verdict}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
