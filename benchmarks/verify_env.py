"""What ``--verify-env`` adds to ``check --log``: a cold and a warm uv cache.

Run from the repository root::

    python benchmarks/verify_env.py             # 3 interleaved rounds, 1 cold build (~5 min)
    python benchmarks/verify_env.py --rounds 5 --cold 2

On a trained scratch copy of ``examples/churn``, each ``check --log`` a fresh process logging
to a fresh SQLite store:

- ``--log`` and ``--log --verify-env`` with a warm uv cache (a scratch ``UV_CACHE_DIR``
  filled by a warm-up run) are interleaved, the order rotating every round; medians;
- ``--log --verify-env`` with an empty ``UV_CACHE_DIR`` each time (every wheel downloaded
  from the package index this machine reaches), then the same ``--log`` median as its base.

The added time is the difference of the medians. No time is asserted: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "churn"
ENV = {
    **os.environ,
    "DO_NOT_TRACK": "1",
    "KEDRO_DISABLE_TELEMETRY": "true",
    "PYTHONWARNINGS": "ignore",
    "KEDRO_ML_LINT_NO_CACHE": "1",
}
ENV.pop("MLFLOW_TRACKING_URI", None)


def progress(message: str) -> None:
    print(f"[verify-env bench] {message}", file=sys.stderr, flush=True)


def train(scratch: Path) -> Path:
    project = scratch / "churn"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    script = (
        "from kedro.framework.session import KedroSession\n"
        "from kedro.framework.startup import bootstrap_project\n"
        f"bootstrap_project({str(project)!r})\n"
        f"with KedroSession.create(project_path={str(project)!r}) as session:\n"
        "    session.run(pipeline_names=['training'])\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=project, env=ENV, check=True,
                   capture_output=True)  # fmt: skip
    return project


def log_once(project: Path, scratch: Path, verify: bool, uv_cache: Path) -> float:
    """Wall time of one ``check --log`` (with ``--verify-env``) to a new store."""
    store = Path(tempfile.mkdtemp(dir=scratch, prefix="store-"))
    command = [sys.executable, "-m", "kedro_ml_lint", "check", str(project), "--log"]
    command += ["--tracking-uri", f"sqlite:///{store / 'mlflow.db'}"]
    if verify:
        command.append("--verify-env")
    started = time.perf_counter()
    result = subprocess.run(
        command,
        cwd=store,
        env={**ENV, "UV_CACHE_DIR": str(uv_cache)},
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"`{' '.join(command)}` failed:\n{result.stdout}\n{result.stderr}")
    shutil.rmtree(store, ignore_errors=True)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved warm rounds")
    parser.add_argument("--cold", type=int, default=1, help="runs with an empty uv cache")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kml-verify-env-bench-") as folder:
        scratch = Path(folder)
        progress("training a scratch copy of examples/churn")
        project = train(scratch)
        warm_cache = scratch / "uv-warm"
        progress("warm-up: one --log and one --log --verify-env (fills the uv cache)")
        log_once(project, scratch, False, warm_cache)
        log_once(project, scratch, True, warm_cache)
        times: dict[str, list[float]] = {"log": [], "warm": [], "cold": []}
        for index in range(options.rounds):
            order = [("log", False), ("warm", True)][:: 1 if index % 2 == 0 else -1]
            for name, verify in order:
                times[name].append(log_once(project, scratch, verify, warm_cache))
                progress(f"round {index + 1}: {name} {times[name][-1]:.1f} s")
        for index in range(options.cold):
            cold_cache = scratch / f"uv-cold-{index}"
            times["cold"].append(log_once(project, scratch, True, cold_cache))
            progress(f"cold {index + 1}: {times['cold'][-1]:.1f} s")
            shutil.rmtree(cold_cache, ignore_errors=True)
    base = statistics.median(times["log"])
    print(f"Python {platform.python_version()}, {os.cpu_count()} cores, load {_load()}")
    print()
    print("| contender | runs | median | added to `--log` |")
    print("|---|--:|--:|--:|")
    print(f"| `check --log` | {len(times['log'])} | {base:.1f} s | — |")
    for name, label in (("warm", "warm uv cache"), ("cold", "empty uv cache")):
        if times[name]:
            median = statistics.median(times[name])
            print(
                f"| `check --log --verify-env`, {label} | {len(times[name])} | {median:.1f} s "
                f"| {median - base:+.1f} s |"
            )


def _load() -> str:
    try:
        return " ".join(f"{value:.1f}" for value in os.getloadavg())
    except OSError:
        return "?"


if __name__ == "__main__":
    main()
