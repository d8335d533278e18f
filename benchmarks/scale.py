"""Scaling of ``kedro-ml-lint check``: time and peak memory as projects grow.

Run from the repository root::

    python benchmarks/scale.py            # 1k, 10k, 50k, 100k nodes (a few minutes)
    python benchmarks/scale.py --quick    # 1k and 10k nodes
    python benchmarks/scale.py --catalog  # only the 10k-entry catalog row (~2 min)

Each size is a real Kedro project written to a temporary folder: a training pipeline of
N nodes (chains that fan into artifacts), an inference pipeline of N/10 nodes, and a
catalog of 10,000 entries plus 100 factory patterns. ``check --no-cache`` (a repeat would
otherwise be a cache hit) runs in a subprocess; its wall time and peak resident memory
(``ru_maxrss`` of that child alone, via ``os.wait4``) are the medians of a few runs. The
catalog table times ``check --no-cache`` against ``kedro registry list`` on the 1k-node
project, side by side (target: at most 1.0x): both import the project and build its
pipelines, and check also reads the 10k-entry catalog. The last table compares peak
memory on ``examples/churn`` with ``kedro registry list`` (target: at most 1.2x). Ratios
and per-node costs are what matter: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "churn"
ENV = {
    **os.environ,
    "DO_NOT_TRACK": "1",
    "KEDRO_DISABLE_TELEMETRY": "true",
    "NO_COLOR": "1",
    # OmegaConf refuses YAML documents past 10,000 nodes by default; Kedro itself needs
    # this raised to read a 10k-entry catalog at all.
    "OMEGACONF_MAX_YAML_EXPANDED_NODES": "10000000",
}
CATALOG_ENTRIES = 10_000
PATTERNS = 100
MEMORY_TARGET = 1.2
CATALOG_TARGET = 1.0
CATALOG_NODES = 1_000

PIPELINES = """
from kedro.pipeline import Pipeline, node


def step(*args):
    return args[0]


def _chains(prefix, size, width=10):
    nodes = []
    per_chain = max(size // width, 1)
    for chain in range(width):
        previous = "features"
        for index in range(per_chain):
            output = f"{{prefix}}_{{chain}}_{{index}}"
            nodes.append(node(step, [previous, "params:alpha"], output, name=f"n_{{output}}"))
            previous = output
    return nodes, [f"{{prefix}}_{{chain}}_{{per_chain - 1}}" for chain in range(width)]


def training():
    nodes, ends = _chains("t", {training})
    nodes.append(node(step, ends, ["model", "scaler"], name="fit"))
    return Pipeline(nodes)


def inference():
    nodes, ends = _chains("i", {inference})
    nodes.append(node(step, [*ends, "instances", "model", "scaler", "params:threshold"],
                      "predictions", name="predict"))
    return Pipeline(nodes)
"""

SETTINGS = """
from kedro_ml_lint.hooks import MlflowPipelineHook

HOOKS = (MlflowPipelineHook(),)
"""

REGISTRY = """
from kedro_ml_lint import pipeline_ml_factory

from scaled.pipelines import inference, training


def register_pipelines():
    pair = pipeline_ml_factory(training(), inference(), input_name="instances")
    return {"training": pair, "inference": inference(), "__default__": pair}
"""


def write_project(root: Path, training_nodes: int) -> Path:
    """A real Kedro project with a pair of ``training_nodes`` + 10% inference nodes."""
    package = root / "src" / "scaled"
    (root / "conf" / "base").mkdir(parents=True)
    (root / "conf" / "local").mkdir()
    package.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        textwrap.dedent("""
        [tool.kedro]
        package_name = "scaled"
        project_name = "scaled"
        kedro_init_version = "1.7.0"
        source_dir = "src"
    """)
    )
    (package / "__init__.py").write_text("")
    # The hook that logs the pair (else KML201): a clean pair, as users of the pattern write it.
    (package / "settings.py").write_text(SETTINGS)
    (package / "pipelines.py").write_text(
        PIPELINES.format(training=training_nodes, inference=max(training_nodes // 10, 10))
    )
    (package / "pipeline_registry.py").write_text(REGISTRY)
    lines = [
        "instances:\n  type: pandas.CSVDataset\n  filepath: data/01_raw/instances.csv\n",
        "features:\n  type: pandas.ParquetDataset\n  filepath: data/04_feature/features.pq\n",
        "model:\n  type: pickle.PickleDataset\n  filepath: data/06_models/model.pkl\n",
        '"{name}_scaler":\n  type: pickle.PickleDataset\n  filepath: data/06_models/{name}.pkl\n',
    ]
    lines += [
        f'"{{name}}_p{i}":\n  type: pandas.ParquetDataset\n'
        f"  filepath: data/03_primary/{{name}}_{i}.pq\n"
        for i in range(PATTERNS - 1)
    ]
    lines += [
        f"t_{i % 10}_{i}:\n  type: pandas.ParquetDataset\n  filepath: data/02_intermediate/{i}.pq\n"
        for i in range(CATALOG_ENTRIES - 2)
    ]
    lines.append("scaler:\n  type: pickle.PickleDataset\n  filepath: data/06_models/scaler.pkl\n")
    (root / "conf" / "base" / "catalog.yml").write_text("\n".join(lines))
    (root / "conf" / "base" / "parameters.yml").write_text("alpha: 1\nthreshold: 0.5\n")
    return root


def measure(command: list[str], cwd: Path | None = None) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MiB of that one child, and its exit code."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    return elapsed, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def check_command(project: Path, *options: str) -> list[str]:
    return [sys.executable, "-m", "kedro_ml_lint", "check", *options, str(project)]


def catalog_vs_kedro(repeats: int) -> list[str]:
    """``check --no-cache`` vs ``kedro registry list`` on one project: interleaved, medians.

    ``kedro registry list`` as installed is the issue's yardstick; without kedro-mlflow's CLI
    plugin (it imports MLflow) it is the stricter one, shown for information.
    """
    from run import KEDRO_WITHOUT_MLFLOW  # benchmarks/run.py: kedro's CLI minus its plugin

    contenders = {
        "check": lambda project: measure(check_command(project, "--no-cache")),
        "kedro": lambda project: measure(
            [sys.executable, "-m", "kedro", "registry", "list"], project
        ),
        # kedro-mlflow's CLI plugin imports MLflow into `registry list`: the stricter yardstick.
        "plain": lambda project: measure(
            [sys.executable, "-c", KEDRO_WITHOUT_MLFLOW, "registry", "list"], project
        ),
    }
    times: dict[str, list[float]] = {name: [] for name in contenders}
    with tempfile.TemporaryDirectory() as tmp:
        project = write_project(Path(tmp) / "catalog", CATALOG_NODES)
        for name, run in contenders.items():  # warm-up: page cache, .pyc files
            if run(project)[2] != 0:
                raise SystemExit(f"`{name}` failed on the {CATALOG_ENTRIES:,}-entry project")
        names = list(contenders)
        for round_ in range(repeats):
            shift = round_ % len(names)  # the first contender rotates: drift hits all alike
            for name in names[shift:] + names[:shift]:
                elapsed, _, code = contenders[name](project)
                if code != 0:
                    raise SystemExit(f"`{name}` exited {code}")
                times[name].append(elapsed)
            print(f"  catalog round {round_ + 1}/{repeats}", file=sys.stderr)
    a, b, c = (statistics.median(times[name]) for name in ("check", "kedro", "plain"))
    verdict = "PASS" if a / b <= CATALOG_TARGET else "MISS"
    return [
        f"| wall, {CATALOG_ENTRIES:,}-entry catalog + {PATTERNS} patterns, "
        f"{CATALOG_NODES:,} nodes, median of {repeats} interleaved | A | B | A/B | "
        "target | verdict |",
        "|---|---:|---:|---:|---:|---|",
        f"| `check --no-cache` vs `kedro registry list` | {a:.2f} s | {b:.2f} s | {a / b:.2f}x "
        f"| <= {CATALOG_TARGET}x | {verdict} |",
        f"| `check --no-cache` vs `kedro registry list` without kedro-mlflow | {a:.2f} s | "
        f"{c:.2f} s | {a / c:.2f}x | — | info |",
    ]


def scaling(sizes: list[int], repeats: int) -> list[str]:
    rows = [
        "| training nodes | total nodes | catalog entries | check (median) | µs/node | "
        "peak RSS (MiB) | exit |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    base: tuple[int, float] | None = None
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            project = write_project(Path(tmp) / f"p{size}", size)
            # Uncached: a second run on an unchanged project would be a cache hit.
            runs = [measure(check_command(project, "--no-cache")) for _ in range(repeats)]
            if runs[0][2] != 0:
                raise SystemExit(f"check failed on the {size:,}-node project (exit {runs[0][2]})")
            wall = statistics.median(r[0] for r in runs)
            rss = statistics.median(r[1] for r in runs)
            total = size + max(size // 10, 10) + 2
            base = base or (total, wall)
            rows.append(
                f"| {size:,} | {total:,} | {CATALOG_ENTRIES + PATTERNS:,} | {wall:.2f} s | "
                f"{wall / total * 1e6:.1f} | {rss:.0f} | {runs[0][2]} |"
            )
            print(f"  {size:,} nodes: {wall:.2f} s, {rss:.0f} MiB", file=sys.stderr)
    return rows


def memory_vs_kedro(repeats: int) -> list[str]:
    ours, kedro = [], []
    for _ in range(repeats):  # interleaved
        ours.append(measure(check_command(EXAMPLE, "--no-cache"))[1])
        kedro.append(measure([sys.executable, "-m", "kedro", "registry", "list"], EXAMPLE)[1])
    a, b = statistics.median(ours), statistics.median(kedro)
    verdict = "PASS" if a / b <= MEMORY_TARGET else "MISS"
    return [
        "| peak RSS, `examples/churn` | kedro-ml-lint check | kedro registry list | ratio | "
        "target | verdict |",
        "|---|---:|---:|---:|---:|---|",
        f"| median of {repeats} | {a:.0f} MiB | {b:.0f} MiB | {a / b:.2f}x | "
        f"<= {MEMORY_TARGET}x | {verdict} |",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1k and 10k nodes, fewer runs")
    parser.add_argument("--catalog", action="store_true", help="only the catalog row")
    args = parser.parse_args()
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 50_000, 100_000]
    repeats = 1 if args.quick else 3
    print(f"python {sys.version.split()[0]} · cores: {os.cpu_count()}")
    print(f"load average at start: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if not args.catalog:
        print("\n".join(scaling(sizes, repeats)))
        print()
    print("\n".join(catalog_vs_kedro(3 if args.quick else 7)))
    if args.catalog:
        return 0
    print()
    print("\n".join(memory_vs_kedro(3 if args.quick else 5)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
