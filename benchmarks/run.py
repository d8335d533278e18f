"""Side-by-side benchmarks for kedro-ml-lint.

Run from the repository root::

    python benchmarks/run.py            # full run (a few minutes)
    python benchmarks/run.py --quick    # smoke test for CI (< 60 s)

Every comparison is a *ratio* of two contenders measured in the same run,
interleaved (A, B, A, B, ... with the order swapped every round so drift on a
noisy machine hits both sides alike), summarised by the median over N repeats.
No absolute time is asserted anywhere. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "churn"
# No network on the bench machine: keep kedro-telemetry quiet and offline. Rows 1 measure
# the uncached path (and must not write a cache into the repository's example).
KEDRO_ENV = {
    **os.environ,
    "DO_NOT_TRACK": "1",
    "KEDRO_DISABLE_TELEMETRY": "true",
    "KEDRO_ML_LINT_NO_CACHE": "1",
}
CACHE_ENV = {**KEDRO_ENV, "KEDRO_ML_LINT_NO_CACHE": "0"}

# Targets (see README "What each row measures").
CLI_TARGET = 0.5  # `kedro-ml-lint check` at most half of `kedro registry list`
WARM_TARGET = 0.1  # a cache hit at most 1/10 of `kedro registry list` without kedro-mlflow
PRE_COMMIT_BUDGET = 0.3  # seconds: a warm pre-commit run of the hook's command
API_TARGET = 1.0  # `lint_pipelines` no slower than building the two Pipelines
GROWTH_SLACK = 1.2  # growth may exceed the node-count factor by 20 % (noise, caches)

X = "\N{MULTIPLICATION SIGN}"  # ratios print as 0.50 times-sign

FULL = {"cli_repeats": 7, "api_repeats": 5, "sizes": (1_000, 10_000, 50_000)}
QUICK = {"cli_repeats": 3, "api_repeats": 3, "sizes": (1_000, 10_000)}


# --------------------------------------------------------------------------- results table


@dataclass
class Row:
    """One line of the results table: contender A against contender B."""

    a: str
    b: str
    median_a: float  # seconds
    median_b: float
    target: float | None  # ratio A/B must be <= target; None: informational row
    target_note: str = ""

    @property
    def ratio(self) -> float:
        return self.median_a / self.median_b

    @property
    def verdict(self) -> str:
        if self.target is None:
            return "info"
        return "PASS" if self.ratio <= self.target else "MISS"


def fmt_seconds(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} µs"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> str:
    """An aligned, markdown-compatible table (columns in ``right`` right-aligned)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "| " + " | ".join(parts) + " |"

    rule = (
        "|"
        + "|".join(
            ("-" * (w + 1) + ":") if i in right else ("-" * (w + 2)) for i, w in enumerate(widths)
        )
        + "|"
    )
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def results_table(rows: Sequence[Row]) -> str:
    header = (
        "contender A",
        "contender B",
        "median A",
        "median B",
        "ratio A/B",
        "target",
        "verdict",
    )
    body = [
        (
            r.a,
            r.b,
            fmt_seconds(r.median_a),
            fmt_seconds(r.median_b),
            f"{r.ratio:.2f}{X}",
            (f"≤ {r.target:.2f}{X}" if r.target is not None else "—")
            + (f" {r.target_note}" if r.target_note else ""),
            r.verdict,
        )
        for r in rows
    ]
    return markdown_table(header, body, right={2, 3, 4})


# --------------------------------------------------------------------------- interleaving


def interleaved(contenders: Sequence[Callable[[], float]], repeats: int) -> list[list[float]]:
    """Run every contender ``repeats`` times, round-robin, rotating who goes first.

    Each callable returns the seconds it measured (so it can exclude its own set-up).
    """
    times: list[list[float]] = [[] for _ in contenders]
    n = len(contenders)
    for round_ in range(repeats):
        for k in range(n):
            i = (round_ + k) % n
            gc.collect()
            times[i].append(contenders[i]())
    return times


# --------------------------------------------------------------------------- 1. CLI


class TimedCommand:
    """A subprocess to time: each call returns its wall time and records its CPU time."""

    def __init__(
        self,
        argv: Sequence[str],
        cwd: Path,
        expect: int = 0,
        env: dict[str, str] | None = None,
        before: Callable[[], int] | None = None,
    ) -> None:
        self.argv, self.cwd, self.expect = list(argv), cwd, expect
        self.env = env or KEDRO_ENV
        self.before = before  # untimed set-up before each call; returns the expected exit
        self.cpu: list[float] = []  # user + system seconds of the child, per call

    def __call__(self) -> float:
        if self.before is not None:
            self.expect = self.before()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(self.argv, cwd=self.cwd, env=self.env, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        if proc.returncode != self.expect:
            sys.exit(
                f"benchmark command failed (exit {proc.returncode}): {' '.join(self.argv)}\n"
                f"{proc.stdout}\n{proc.stderr}"
            )
        return elapsed


# The unavoidable part of any tool that reads a project's pipelines: start Python, import
# kedro, bootstrap the project and build its pipeline registry (which imports the project's
# nodes and their libraries: pandas, scikit-learn...). No config, no catalog, no lint.
FLOOR_SCRIPT = """
import sys
from pathlib import Path
from kedro.framework.startup import bootstrap_project
bootstrap_project(Path(sys.argv[1]).resolve())
from kedro.framework.project import pipelines
assert len(pipelines)
"""


def bench_cli(repeats: int, quick: bool) -> list[Row]:
    py = sys.executable
    lint_text = TimedCommand([py, "-m", "kedro_ml_lint", "check", "examples/churn"], REPO)
    lint_json = TimedCommand(
        [py, "-m", "kedro_ml_lint", "check", "examples/churn", "--format", "json"], REPO
    )
    registry = TimedCommand([py, "-m", "kedro", "registry", "list"], EXAMPLE)
    floor = TimedCommand([py, "-c", FLOOR_SCRIPT, "examples/churn"], REPO)
    contenders = [lint_text, registry, floor] + ([] if quick else [lint_json])
    if not quick:  # one warm-up each (page cache, .pyc files), not counted
        for run in contenders:
            run()
            run.cpu.clear()
    times = interleaved(contenders, repeats)
    t_text, t_reg, t_floor = (statistics.median(t) for t in times[:3])
    registry_name = "`kedro registry list` (in churn)"
    rows = [Row("`kedro-ml-lint check examples/churn`", registry_name, t_text, t_reg, CLI_TARGET)]
    # The same pair in CPU time (user + sys of the child): less sensitive to a busy machine.
    rows.append(
        Row(
            "`kedro-ml-lint check examples/churn` CPU",
            "`kedro registry list` CPU",
            statistics.median(lint_text.cpu),
            statistics.median(registry.cpu),
            None,
            "(cross-check)",
        )
    )
    if not quick:
        rows.append(
            Row(
                "`kedro-ml-lint check … --format json`",
                registry_name,
                statistics.median(times[3]),
                t_reg,
                CLI_TARGET,
            )
        )
    rows += [
        Row(
            "floor: bootstrap + registry, no lint",
            registry_name,
            t_floor,
            t_reg,
            None,
            "(best ratio reachable)",
        ),
        Row(
            "`kedro-ml-lint check examples/churn`",
            "floor: bootstrap + registry, no lint",
            t_text,
            t_floor,
            None,
            "(lint's own cost)",
        ),
    ]
    return rows


# --------------------------------------------------------------------------- 3. cache
#
# On a scratch copy of examples/churn (the cache lives in the project folder). kedro-mlflow is
# installed in the bench environment; "without kedro-mlflow" runs `kedro` with kedro-mlflow's
# entry points filtered out (its CLI plugin is what makes `kedro` import MLflow), the same
# interpreter and packages otherwise.
KEDRO_WITHOUT_MLFLOW = """
import importlib.metadata as metadata
import sys


def entry_points(**params):
    every = metadata.EntryPoints(
        e
        for d in metadata.distributions()
        for e in d.entry_points
        if not e.value.startswith("kedro_mlflow")
    )
    return every.select(**params) if params else every


metadata.entry_points = entry_points
from kedro.framework.cli import main

sys.argv = ["kedro", *sys.argv[1:]]
main()
"""

# The staleness row: a registry that reads a CSV at import to choose the served input.
STALE_REGISTRY_LINES = (
    "import csv\n"
    "with open('data/01_raw/served.csv', encoding='utf-8') as _f:\n"
    "    SERVED = next(csv.reader(_f))[0]\n"
)


def bench_cache(repeats: int) -> list[Row]:
    import shutil
    import tempfile

    py = sys.executable
    scratch = Path(tempfile.mkdtemp(prefix="kml-bench-"))
    project = scratch / "churn"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__", ".kedro-*"))
    stale = scratch / "churn-stale"
    shutil.copytree(project, stale)
    registry_file = stale / "src" / "churn" / "pipeline_registry.py"
    source = registry_file.read_text()
    source = source.replace(
        "from kedro.pipeline import Pipeline\n",
        "from kedro.pipeline import Pipeline\n" + STALE_REGISTRY_LINES,
    )
    registry_file.write_text(source.replace('input_name="instances"', "input_name=SERVED"))
    served = stale / "data" / "01_raw" / "served.csv"
    served.write_text("instances\n")

    script = shutil.which("kedro-ml-lint", path=str(Path(py).parent)) or "kedro-ml-lint"
    ruff = shutil.which("ruff", path=str(Path(py).parent)) or "ruff"
    warm = TimedCommand([py, "-m", "kedro_ml_lint", "check", str(project)], REPO, env=CACHE_ENV)

    cold = TimedCommand([py, "-m", "kedro_ml_lint", "check", str(project), "--no-cache"], REPO)
    hook = TimedCommand([script, "check"], project, env=CACHE_ENV)  # as pre-commit runs it
    registry = TimedCommand([py, "-m", "kedro", "registry", "list"], project)
    registry_plain = TimedCommand([py, "-c", KEDRO_WITHOUT_MLFLOW, "registry", "list"], project)
    ruff_run = TimedCommand([ruff, "check", "--no-cache", "--quiet", "--exit-zero", "src"], project)
    flips = iter(range(10**6))

    def edit_csv() -> int:
        broken = next(flips) % 2 == 0
        served.write_text("instance\n" if broken else "instances\n")
        return 1 if broken else 0  # the verdict must follow the edit (KML005 or clean)

    after_edit = TimedCommand(
        [py, "-m", "kedro_ml_lint", "check", str(stale)], REPO, env=CACHE_ENV, before=edit_csv
    )
    contenders = [warm, cold, hook, registry, registry_plain, ruff_run, after_edit]
    for run in contenders:  # warm-up: fills the cache, page cache, .pyc files
        run()
        run()  # files changed within 2 s of a store are re-hashed: let them settle
        run.cpu.clear()
    times = interleaved(contenders, repeats)
    t_warm, t_cold, t_hook, t_reg, t_plain, t_ruff, t_stale = map(statistics.median, times)
    shutil.rmtree(scratch, ignore_errors=True)
    plain = "`kedro registry list` without kedro-mlflow"
    with_mlflow = "`kedro registry list` (kedro-mlflow installed)"
    return [
        Row("warm `check` (cache hit)", plain, t_warm, t_plain, WARM_TARGET),
        Row("warm `check` (cache hit)", with_mlflow, t_warm, t_reg, None),
        Row("cold `check --no-cache`", plain, t_cold, t_plain, CLI_TARGET),
        Row("cold `check --no-cache`", with_mlflow, t_cold, t_reg, None),
        Row("warm `check` (cache hit)", "cold `check --no-cache`", t_warm, t_cold, None),
        Row(
            "warm `check` (cache hit)",
            "`ruff check src` (no cache)",
            t_warm,
            t_ruff,
            None,
            "(yardstick)",
        ),
        Row(
            "warm pre-commit hook command `kedro-ml-lint check`",
            f"budget {PRE_COMMIT_BUDGET} s",
            t_hook,
            PRE_COMMIT_BUDGET,
            1.0,
            "(wall)",
        ),
        Row(
            "`check` after the CSV its registry reads changed",
            "cold `check --no-cache`",
            t_stale,
            t_cold,
            None,
            "(staleness: verdict flipped every run)",
        ),
    ]


# --------------------------------------------------------------------------- 2. synthetic pair
#
# Per segment j (100 training nodes, 10 inference nodes):
#   training   raw_j ─┬─ chain c0 (23 nodes) ─┐
#                     ├─ chain c1 (23 nodes) ─┤
#                     ├─ chain c2 (23 nodes) ─┼─ fan-in -> features_j
#                     └─ chain c3 (23 nodes) ─┘
#              features_j -> encoder_j -> scaler_j -> model_j -> threshold_j   (artifacts)
#              model_j -> metrics_j -> report_j
#   then a binary fan-in tree over every report_j -> training_summary.
#   inference  instances + encoder_j -> enc -> (+scaler_j) -> 5-node chain -> (+model_j) score
#              -> (+threshold_j, params:threshold) pred_j
#   then a binary fan-in tree over every pred_j -> predictions (the single final output).
# Catalog: explicit entries for instances, model_j and threshold_j; dataset factory
# patterns for `{seg}_encoder`, `{seg}_scaler` and `raw_{seg}`. Parameters: threshold,
# train.lr / train.seed, seg.<seg>.alpha.

TRAIN_PER_SEGMENT = 100
CHAINS, CHAIN_LEN = 4, 23


def identity(*args: object) -> object:
    """The function every synthetic node runs (never called: nothing is executed)."""
    return args[0] if args else None


@dataclass
class Synthetic:
    training_nodes: list
    inference_nodes: list
    catalog: dict
    parameters: dict
    input_name: str = "instances"


def _fan_in(node, leaves: list[str], prefix: str, final: str) -> list:
    """A binary reduction tree over ``leaves`` ending in ``final``: len(leaves) nodes."""
    nodes = []
    level = list(leaves)
    counter = 0
    while len(level) > 1:
        nxt = []
        for k in range(0, len(level) - 1, 2):
            out = f"{prefix}_merge{counter}"
            nodes.append(node(identity, [level[k], level[k + 1]], out, name=out))
            counter += 1
            nxt.append(out)
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    nodes.append(node(identity, level[0], final, name=f"{prefix}_final"))
    return nodes


def make_synthetic(training_size: int) -> Synthetic:
    """A realistic pair: ``training_size`` training nodes, 10 % as many inference nodes."""
    from kedro.pipeline import node

    assert training_size % TRAIN_PER_SEGMENT == 0, training_size
    segments = training_size // TRAIN_PER_SEGMENT
    training: list = []
    inference: list = []
    reports: list[str] = []
    preds: list[str] = []
    catalog: dict = {
        "instances": {"type": "pandas.CSVDataset", "filepath": "data/01_raw/instances.csv"},
        "{seg}_encoder": {
            "type": "pickle.PickleDataset",
            "filepath": "data/06_models/{seg}_encoder.pkl",
        },
        "{seg}_scaler": {
            "type": "pickle.PickleDataset",
            "filepath": "data/06_models/{seg}_scaler.pkl",
        },
        "raw_{seg}": {"type": "pandas.CSVDataset", "filepath": "data/01_raw/{seg}.csv"},
        "training_summary": {
            "type": "json.JSONDataset",
            "filepath": "data/08_reporting/summary.json",
        },
        "predictions": {
            "type": "pandas.CSVDataset",
            "filepath": "data/07_model_output/predictions.csv",
        },
    }
    parameters: dict = {"threshold": 0.5, "train": {"lr": 0.1, "seed": 42}, "seg": {}}
    for j in range(segments):
        s = f"seg{j}"
        parameters["seg"][s] = {"alpha": 1.0}
        catalog[f"{s}_model"] = {
            "type": "pickle.PickleDataset",
            "filepath": f"data/06_models/{s}_model.pkl",
        }
        catalog[f"{s}_threshold"] = {
            "type": "json.JSONDataset",
            "filepath": f"data/06_models/{s}_threshold.json",
        }
        # -- training: 4 parallel feature chains, fan-in, fitted artifacts, evaluation
        ends = []
        for c in range(CHAINS):
            prev: list[str] = [f"raw_{s}", f"params:seg.{s}.alpha"]
            for k in range(CHAIN_LEN):
                out = f"{s}_c{c}_f{k}"
                training.append(node(identity, prev, out, name=out))
                prev = [out]
            ends.append(prev[0])
        training += [
            node(identity, ends, f"{s}_features", name=f"{s}_combine"),
            node(identity, f"{s}_features", f"{s}_encoder", name=f"{s}_fit_encoder"),
            node(
                identity, [f"{s}_features", f"{s}_encoder"], f"{s}_scaler", name=f"{s}_fit_scaler"
            ),
            node(
                identity,
                [f"{s}_features", f"{s}_scaler", "params:train.lr", "params:train.seed"],
                f"{s}_model",
                name=f"{s}_train",
            ),
            node(identity, [f"{s}_model", f"{s}_features"], f"{s}_threshold", name=f"{s}_tune"),
            node(identity, [f"{s}_model", f"{s}_features"], f"{s}_metrics", name=f"{s}_evaluate"),
        ]
        # 4*23 + 6 = 98 so far; one report node, and one node of the fan-in tree below.
        training.append(node(identity, f"{s}_metrics", f"{s}_report", name=f"{s}_report"))
        reports.append(f"{s}_report")
        # -- inference: 9 nodes per segment, plus one node of the fan-in tree below
        inference += [
            node(identity, ["instances", f"{s}_encoder"], f"{s}_i_enc", name=f"{s}_encode"),
            node(identity, [f"{s}_i_enc", f"{s}_scaler"], f"{s}_i_x0", name=f"{s}_scale"),
        ]
        for k in range(5):
            ins = [f"{s}_i_x{k}"] + ([f"params:seg.{s}.alpha"] if k == 0 else [])
            inference.append(node(identity, ins, f"{s}_i_x{k + 1}", name=f"{s}_ifeat{k}"))
        inference += [
            node(identity, [f"{s}_i_x5", f"{s}_model"], f"{s}_i_score", name=f"{s}_predict"),
            node(
                identity,
                [f"{s}_i_score", f"{s}_threshold", "params:threshold"],
                f"{s}_pred",
                name=f"{s}_decide",
            ),
        ]
        preds.append(f"{s}_pred")
    training += _fan_in(node, reports, "train", "training_summary")
    inference += _fan_in(node, preds, "infer", "predictions")
    assert len(training) == training_size, len(training)
    assert len(inference) == training_size // 10, len(inference)
    return Synthetic(training, inference, catalog, parameters)


Scaling = list[tuple[int, int, float, float]]  # training nodes, total nodes, lint s, build s


def bench_api(sizes: Sequence[int], repeats: int) -> tuple[list[Row], Scaling]:
    from kedro.pipeline import Pipeline

    from kedro_ml_lint import lint_pipelines

    synthetic = {}
    for size in sizes:
        print(
            f"  building {size:,} + {size // 10:,} synthetic nodes …", file=sys.stderr, flush=True
        )
        synthetic[size] = make_synthetic(size)

    def construct(syn: Synthetic) -> tuple:
        return Pipeline(syn.training_nodes), Pipeline(syn.inference_nodes)

    def lint(syn: Synthetic, pair: tuple) -> list:
        return lint_pipelines(
            pair[0], pair[1], syn.input_name, catalog_config=syn.catalog, parameters=syn.parameters
        )

    # Contender B builds a fresh pair and hands it to the next lint call, so A always lints
    # pipelines exactly as a caller gets them (nothing cached by an earlier lint).
    fresh: dict[int, tuple | None] = {size: None for size in sizes}

    def make_b(size: int) -> Callable[[], float]:
        def run() -> float:
            syn = synthetic[size]
            start = time.perf_counter()
            pair = construct(syn)
            elapsed = time.perf_counter() - start
            fresh[size] = pair
            return elapsed

        return run

    def make_a(size: int) -> Callable[[], float]:
        def run() -> float:
            syn = synthetic[size]
            pair = fresh[size] or construct(syn)  # set-up, not timed
            fresh[size] = None
            gc.collect()
            start = time.perf_counter()
            violations = lint(syn, pair)
            elapsed = time.perf_counter() - start
            if violations:  # the synthetic pair is clean by construction
                sys.exit(f"synthetic pair of {size} nodes is not clean: {violations[:3]}")
            return elapsed

        return run

    # The synthetic inputs of every size stay resident for the whole run; move them out of
    # the collector's sight so a run at 1k does not pay full collections over 50k nodes it
    # never touches. Objects the contenders allocate are collected as usual.
    gc.collect()
    gc.freeze()

    # Warm-up (imports, kedro's lazy caches), not counted.
    for size in sizes[:1]:
        make_b(size)()
        make_a(size)()

    contenders: list[Callable[[], float]] = []
    for size in sizes:
        contenders += [make_a(size), make_b(size)]
    times = interleaved(contenders, repeats)

    rows: list[Row] = []
    scaling: Scaling = []
    medians: dict[int, tuple[float, float]] = {}  # size -> (lint, build)
    for n, size in enumerate(sizes):
        med_a = statistics.median(times[2 * n])
        med_b = statistics.median(times[2 * n + 1])
        medians[size] = (med_a, med_b)
        nodes = size + size // 10
        scaling.append((size, nodes, med_a, med_b))
        rows.append(
            Row(
                f"`lint_pipelines` {_k(size)}+{_k(size // 10)} nodes",
                f"build 2 `Pipeline`s {_k(size)}+{_k(size // 10)}",
                med_a,
                med_b,
                API_TARGET,
            )
        )
    gc.unfreeze()
    small, large = sizes[-2], sizes[-1]
    factor = large / small
    rows.append(
        Row(
            f"`lint_pipelines` {_k(large)}+{_k(large // 10)}",
            f"`lint_pipelines` {_k(small)}+{_k(small // 10)}",
            medians[large][0],
            medians[small][0],
            factor * GROWTH_SLACK,
            f"(linear = {factor:.0f}{X})",
        )
    )
    # The same growth for kedro's own Pipeline construction: what this machine and this
    # Python make of a 5x larger object graph, as a yardstick for the row above.
    rows.append(
        Row(
            f"build 2 `Pipeline`s {_k(large)}+{_k(large // 10)}",
            f"build 2 `Pipeline`s {_k(small)}+{_k(small // 10)}",
            medians[large][1],
            medians[small][1],
            None,
            f"(kedro's own growth; linear = {factor:.0f}{X})",
        )
    )
    return rows, scaling


def _k(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def scaling_table(scaling: Scaling) -> str:
    header = (
        "training nodes",
        "total nodes",
        "lint median",
        "lint µs/node",
        "build median",
        "build µs/node",
    )
    body = [
        (
            f"{size:,}",
            f"{nodes:,}",
            fmt_seconds(a),
            f"{a / nodes * 1e6:.1f}",
            fmt_seconds(b),
            f"{b / nodes * 1e6:.1f}",
        )
        for size, nodes, a, b in scaling
    ]
    return markdown_table(header, body, right=set(range(6)))


# --------------------------------------------------------------------------- profile


def profile_api(size: int) -> None:
    """cProfile one ``lint_pipelines`` call on the synthetic pair; time spent in the GC."""
    import cProfile
    import pstats

    from kedro.pipeline import Pipeline

    from kedro_ml_lint import lint_pipelines

    syn = make_synthetic(size)
    warm = make_synthetic(TRAIN_PER_SEGMENT)  # imports and lazy caches, outside the profile
    lint_pipelines(
        Pipeline(warm.training_nodes),
        Pipeline(warm.inference_nodes),
        "instances",
        warm.catalog,
        warm.parameters,
    )
    training, inference = Pipeline(syn.training_nodes), Pipeline(syn.inference_nodes)
    gc.collect()
    gc.freeze()
    in_gc = {0: [0, 0.0], 1: [0, 0.0], 2: [0, 0.0]}
    clock: list[float] = []

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            clock.append(time.perf_counter())
        elif clock:
            in_gc[info["generation"]][0] += 1
            in_gc[info["generation"]][1] += time.perf_counter() - clock.pop()

    gc.callbacks.append(on_gc)
    start = time.perf_counter()
    lint_pipelines(training, inference, syn.input_name, syn.catalog, syn.parameters)
    plain = time.perf_counter() - start
    gc.callbacks.remove(on_gc)
    print(
        f"lint_pipelines on {size:,}+{size // 10:,} nodes: {fmt_seconds(plain)} "
        f"({plain / (size * 1.1) * 1e6:.1f} µs/node)"
    )
    for generation, (count, spent) in in_gc.items():
        print(f"  gc generation {generation}: {count} collections, {fmt_seconds(spent)}")
    training, inference = Pipeline(syn.training_nodes), Pipeline(syn.inference_nodes)
    gc.collect()
    profiler = cProfile.Profile()
    profiler.enable()
    lint_pipelines(training, inference, syn.input_name, syn.catalog, syn.parameters)
    profiler.disable()
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(25)
    stats.sort_stats("tottime").print_stats(12)


# --------------------------------------------------------------------------- main


def header_lines(mode: str, cfg: dict) -> list[str]:
    import kedro

    import kedro_ml_lint

    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        affinity = os.cpu_count()
    try:
        load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "n/a"
    return [
        f"kedro-ml-lint benchmarks ({mode}: CLI {X}{cfg['cli_repeats']}, "
        f"API {X}{cfg['api_repeats']}, interleaved, medians)",
        f"python {platform.python_version()} ({platform.python_implementation()}) · "
        f"kedro {kedro.__version__} · kedro-ml-lint {kedro_ml_lint.__version__}",
        f"{platform.system()} {platform.machine()} · cores: {os.cpu_count()} "
        f"(usable: {affinity}) · load avg at start: {load}",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="fewer repeats and sizes: a smoke test (< 60 s)"
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when any row MISSes its target (default: report only)",
    )
    parser.add_argument("--cache-only", action="store_true", help="only the cache rows (section 3)")
    parser.add_argument(
        "--profile",
        type=int,
        metavar="NODES",
        help="instead of benchmarking, profile lint_pipelines on NODES training nodes",
    )
    args = parser.parse_args(argv)
    if args.profile:
        profile_api(args.profile)
        return 0
    cfg = QUICK if args.quick else FULL
    os.chdir(REPO)
    started = time.perf_counter()

    for line in header_lines("quick" if args.quick else "full", cfg):
        print(line)
    print(file=sys.stderr)
    rows: list[Row] = []
    scaling: Scaling = []
    if not args.cache_only:
        print("1/3 CLI: subprocesses …", file=sys.stderr, flush=True)
        rows += bench_cli(cfg["cli_repeats"], args.quick)
        print("2/3 API: synthetic pipelines …", file=sys.stderr, flush=True)
        api_rows, scaling = bench_api(cfg["sizes"], cfg["api_repeats"])
        rows += api_rows
    print("3/3 cache: warm, cold, yardsticks, staleness …", file=sys.stderr, flush=True)
    rows += bench_cache(cfg["cli_repeats"])

    print()
    print(results_table(rows))
    print()
    if scaling:
        print(scaling_table(scaling))
        print()
    judged = [r for r in rows if r.target is not None]
    misses = [r for r in judged if r.verdict == "MISS"]
    print(
        f"{len(judged) - len(misses)}/{len(judged)} targets PASS, {len(misses)} MISS "
        f"({len(rows) - len(judged)} info rows) · total {time.perf_counter() - started:.0f} s"
    )
    return 1 if (args.strict and misses) else 0


if __name__ == "__main__":
    sys.exit(main())
