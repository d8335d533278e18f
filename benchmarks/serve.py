"""Serving benchmarks: our KedroPipelineModel against kedro-mlflow's, side by side.

Run from the repository root::

    python benchmarks/serve.py            # full run (~3-4 min)
    python benchmarks/serve.py --quick    # smoke test (~1.5 min)
    python benchmarks/serve.py --skip serve predict spark --log-repeats 15   # publish only

Everything runs on ONE pipeline and ONE input: a trained copy of ``examples/churn-kedro-mlflow``
(the churn pair, bound with kedro-mlflow's ``pipeline_ml_factory``, so ``kedro mlflow
modelify`` works there too). Every comparison is a ratio of contenders measured in the
same run, interleaved (rotating who goes first each round), summarised by medians.

1. ``predict`` overhead per call, in-process: each model is built from the project's
   catalog, pickled and loaded back as MLflow does (``load_context``), then its
   ``predict`` is timed against calling the three node functions directly on the same
   loaded artifacts. overhead = median over rounds of (model time - direct time). The
   process has Kedro's logging configured (importing kedro-mlflow does it, as in its
   served process); all contenders write to /dev/null. "silenced" runs kedro-mlflow's
   model with the ``kedro`` logger at WARNING.
2. Served latency: both models logged to a sqlite store and served by two real
   ``mlflow models serve --env-manager local`` processes; 1-row ``dataframe_split``
   requests over keep-alive connections, alternating between the servers.
   (kedro-mlflow's model is logged with the project package in ``code_paths``: without it
   it does not load outside the project at all.)
3. ``kedro-ml-lint check --log`` (lint + KML101 + build + smoke test + log) against
   ``kedro mlflow modelify --infer-signature`` (build + log), wall time per process.
4. Batch scoring on Spark: ``mlflow.pyfunc.spark_udf`` on a local ``local[2]`` session
   scores the same cached DataFrame with our logged model and with a plain
   ``mlflow.sklearn`` model of the same fitted encoder, scaler and estimator (the floor:
   no Kedro at all); wall time per full pass, after one warm-up pass each.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import http.client
import json
import logging
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "churn-kedro-mlflow"
PACKAGE = "churn_mlflow"
BIN = Path(sys.executable).parent
ENV = {
    **os.environ,
    "DO_NOT_TRACK": "1",
    "KEDRO_DISABLE_TELEMETRY": "true",
    "PYTHONWARNINGS": "ignore",
    "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "")]),
}
ENV.pop("MLFLOW_TRACKING_URI", None)
os.environ.update(DO_NOT_TRACK="1", KEDRO_DISABLE_TELEMETRY="true")

X = "\N{MULTIPLICATION SIGN}"
PREDICT_TARGET_SHIPPED = 0.1
PREDICT_TARGET_SILENCED = 0.5
SERVE_TARGET = 0.6
LOG_TARGET = 0.8  # issue 12: `--log` at most 0.8x `kedro mlflow modelify`
SPARK_TARGET = 1 / 0.8  # time ratio: at least 0.8x the plain model's rows/second

FULL = {
    "rounds_1": 400,
    "rounds_10k": 80,
    "requests": 200,
    "log_repeats": 9,  # each is ~4 s of two processes; fewer leave the median to chance
    "spark_rows": 400_000,
    "spark_rounds": 5,
}
QUICK = {
    "rounds_1": 60,
    "rounds_10k": 15,
    "requests": 40,
    "log_repeats": 2,
    "spark_rows": 100_000,
    "spark_rounds": 2,
}


def progress(message: str) -> None:
    print(f"[serve bench] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- table


@dataclass
class Row:
    """One comparison: A against B, as medians; verdict PASS when A/B <= target."""

    what: str
    a: str
    b: str
    median_a: float
    median_b: float
    target: float | None

    @property
    def ratio(self) -> float:
        return self.median_a / self.median_b if self.median_b else float("inf")

    @property
    def verdict(self) -> str:
        if self.target is None:
            return "info"
        return "PASS" if self.ratio <= self.target else "MISS"


def fmt_seconds(seconds: float) -> str:
    if abs(seconds) >= 1:
        return f"{seconds:.2f} s"
    if abs(seconds) >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.0f} µs"


def table(rows: Sequence[Row]) -> str:
    header = ("measure", "A", "B", "median A", "median B", "A/B", "target", "verdict")
    body = [
        (
            r.what,
            r.a,
            r.b,
            fmt_seconds(r.median_a),
            fmt_seconds(r.median_b),
            f"{r.ratio:.3f}{X}",
            f"≤ {r.target:.2f}{X}" if r.target is not None else "—",
            r.verdict,
        )
        for r in rows
    ]
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(header)]
    right = {3, 4, 5}

    def line(cells: Sequence[str]) -> str:
        return (
            "| "
            + " | ".join(
                c.rjust(w) if i in right else c.ljust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            )
            + " |"
        )

    rule = "|" + "|".join(
        ("-" * (w + 1) + ":") if i in right else "-" * (w + 2) for i, w in enumerate(widths)
    )
    return "\n".join([line(header), rule + "|", *(line(b) for b in body)])


def interleaved(
    contenders: Sequence[Callable[[], float]], rounds: int, collect: bool = False
) -> list[list[float]]:
    """Every contender once per round, in a fresh random order each round (seeded).

    A fixed rotation would make each contender follow the same neighbour most of the
    time, and a heavy neighbour (kedro-mlflow deep-copying its catalog) leaves garbage
    and cold caches to whoever comes next. ``collect`` runs ``gc.collect()`` before each
    timed call.
    """
    shuffler = random.Random(20261127)
    times: list[list[float]] = [[] for _ in contenders]
    order = list(range(len(contenders)))
    for _ in range(rounds):
        shuffler.shuffle(order)
        for i in order:
            if collect:
                gc.collect()
            times[i].append(contenders[i]())
    return times


# --------------------------------------------------------------------------- project


def trained_project(workdir: Path) -> Path:
    project = workdir / "churn-kedro-mlflow"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    progress("training the example (kedro run --pipelines training)")
    proc = subprocess.run(
        [str(BIN / "kedro"), "run", "--pipelines", "training"],
        cwd=project,
        env=ENV,
        capture_output=True,
        text=True,
    )
    if proc.returncode:
        sys.exit(f"training failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return project


@contextlib.contextmanager
def stdout_to_devnull() -> Iterator[None]:
    """Every contender's log output goes to /dev/null, as a served process's would."""
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        handlers = [h for h in logging.getLogger().handlers if hasattr(h, "console")]
        consoles = [(h, h.console.file) for h in handlers]  # rich handlers
        for handler, _ in consoles:
            handler.console.file = sink
        try:
            yield
        finally:
            for handler, previous in consoles:
                handler.console.file = previous


# --------------------------------------------------------------------------- 1. predict


def timed(call: Callable[[], Any]) -> Callable[[], float]:
    """Wrap ``call`` so that it returns its own duration."""

    def run() -> float:
        start = time.perf_counter()
        call()
        return time.perf_counter() - start

    return run


def bench_predict(project: Path, settings: dict[str, int]) -> list[Row]:
    import cloudpickle
    import pandas as pd
    from kedro.pipeline import Node, Pipeline

    with stdout_to_devnull(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # Importing kedro-mlflow's model configures Kedro's logging (rich, INFO), as it
        # does in its served process.
        from kedro.framework.project import pipelines
        from kedro_mlflow.mlflow import KedroPipelineModel as TheirModel

        from kedro_ml_lint.publishing import KedroPipelineModel as OurModel
        from kedro_ml_lint.publishing.publish import project_catalog

        _, catalog = project_catalog(project)
        inference = pipelines["inference"]
    nodes_module = __import__(f"{PACKAGE}.pipelines.training.nodes", fromlist=["x"])
    predict_module = __import__(f"{PACKAGE}.pipelines.inference.nodes", fromlist=["x"])

    def loaded(model_class: Any, folder: Path, pipeline: Any = None) -> Any:
        model = model_class(pipeline=pipeline or inference, catalog=catalog, input_name="instances")
        artifacts = model.extract_pipeline_artifacts(folder)
        if model_class is TheirModel:  # it returns file:// URIs
            artifacts = {k: v.removeprefix("file://") for k, v in artifacts.items()}
        clone = cloudpickle.loads(cloudpickle.dumps(model))
        clone.load_context(SimpleNamespace(artifacts=artifacts, model_config={}))
        return clone

    with tempfile.TemporaryDirectory() as tmp, stdout_to_devnull():
        ours = loaded(OurModel, Path(tmp) / "ours")
        theirs = loaded(TheirModel, Path(tmp) / "theirs")
        # The artifacts as our model loaded them (same objects, same memory): only the
        # per-call machinery differs between `direct` and the models.
        encoder, scaler, model = (ours._loaded[n] for n in ("encoder", "scaler", "model"))
        threshold = ours._loaded["params:threshold"]
        instances = catalog.load("instances")
        # The same graph with no-op node functions: the models' own per-call machinery only.
        noop = Pipeline([Node(first, n.inputs, n.outputs[0], name=n.name) for n in inference.nodes])
        ours_noop = loaded(OurModel, Path(tmp) / "ours-noop", noop)
        theirs_noop = loaded(TheirModel, Path(tmp) / "theirs-noop", noop)

    def direct(frame: pd.DataFrame) -> Any:
        encoded = nodes_module.encode_plan(frame, encoder)
        return predict_module.predict(
            nodes_module.scale_features(encoded, scaler), model, threshold
        )

    kedro_logger = logging.getLogger("kedro")

    def silenced(frame: pd.DataFrame) -> Any:
        previous = kedro_logger.level
        kedro_logger.setLevel(logging.WARNING)
        try:
            return theirs.predict(None, frame)
        finally:
            kedro_logger.setLevel(previous)

    inputs = {
        "1 row": instances.head(1),
        "10,000 rows": pd.concat([instances] * (10_000 // len(instances) + 1)).head(10_000),
    }
    rows: list[Row] = []
    for label, frame in inputs.items():
        rounds = settings["rounds_1"] if label == "1 row" else settings["rounds_10k"]
        pd.testing.assert_frame_equal(ours.predict(None, frame), direct(frame))
        calls = {
            "direct": lambda f=frame: direct(f),
            "ours": lambda f=frame: ours.predict(None, f),
            "kedro-mlflow": lambda f=frame: theirs.predict(None, f),
            "kedro-mlflow silenced": lambda f=frame: silenced(f),
        }

        progress(f"predict, {label}: {rounds} interleaved rounds")
        with stdout_to_devnull():
            for call in calls.values():  # warm-up
                for _ in range(5):
                    call()
            gc.collect()
            times = dict(
                zip(
                    calls,
                    interleaved([timed(c) for c in calls.values()], rounds),
                    strict=True,
                )
            )
        base = times["direct"]

        def overhead(name: str, base: list[float] = base, times: dict = times) -> float:
            return statistics.median(t - d for t, d in zip(times[name], base, strict=True))

        ours_o = overhead("ours")
        rows.append(
            Row(
                f"predict overhead, {label}",
                "ours",
                "kedro-mlflow as shipped",
                ours_o,
                overhead("kedro-mlflow"),
                PREDICT_TARGET_SHIPPED,
            )
        )
        rows.append(
            Row(
                f"predict overhead, {label}",
                "ours",
                "kedro-mlflow, logging silenced",
                ours_o,
                overhead("kedro-mlflow silenced"),
                PREDICT_TARGET_SILENCED,
            )
        )
        rows.append(
            Row(
                f"predict call, {label}",
                "ours",
                "node functions directly",
                statistics.median(times["ours"]),
                statistics.median(base),
                None,
            )
        )
    rows += bench_machinery(ours_noop, theirs_noop, inputs["1 row"], settings["rounds_1"])
    return rows


def first(*args: Any) -> Any:
    """A no-op node function: returns its first input."""
    return args[0]


def bench_machinery(ours: Any, theirs: Any, frame: Any, rounds: int) -> list[Row]:
    """Both models on the churn graph with no-op nodes: their own per-call cost only."""
    kedro_logger = logging.getLogger("kedro")

    def silenced() -> Any:
        previous = kedro_logger.level
        kedro_logger.setLevel(logging.WARNING)
        try:
            return theirs.predict(None, frame)
        finally:
            kedro_logger.setLevel(previous)

    calls = {
        "ours": lambda: ours.predict(None, frame),
        "kedro-mlflow": lambda: theirs.predict(None, frame),
        "kedro-mlflow silenced": silenced,
    }
    progress(f"predict machinery (no-op nodes): {rounds} interleaved rounds")
    with stdout_to_devnull():
        times = interleaved([timed(c) for c in calls.values()], rounds)
    medians = dict(zip(calls, (statistics.median(t) for t in times), strict=True))
    what = "predict, no-op nodes"
    return [
        Row(
            what, "ours", "kedro-mlflow as shipped", medians["ours"], medians["kedro-mlflow"], None
        ),
        Row(
            what,
            "ours",
            "kedro-mlflow, logging silenced",
            medians["ours"],
            medians["kedro-mlflow silenced"],
            None,
        ),
    ]


# --------------------------------------------------------------------------- 2. serve


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log_both(project: Path, uri: str, workdir: Path) -> tuple[str, str]:
    """Log our model (``log_models``) and kedro-mlflow's (servable: code_paths given)."""
    script = f"""
import sys, tempfile
from pathlib import Path
import mlflow
from mlflow.models import infer_signature
from kedro_ml_lint.api import lint_project
from kedro_ml_lint.publishing import log_models
from kedro_ml_lint.publishing.publish import project_catalog
from kedro_mlflow.mlflow import KedroPipelineModel
project = Path({str(project)!r})
result = lint_project(project, artifacts_on_disk=True, publishing=True, lite=False, defer=False)
[ours] = log_models(result, tracking_uri={uri!r}, experiment="bench")
_, catalog = project_catalog(project)
from kedro.framework.project import pipelines
model = KedroPipelineModel(pipelines["inference"], catalog, "instances")
mlflow.set_tracking_uri({uri!r})
mlflow.set_experiment("bench")
with tempfile.TemporaryDirectory() as tmp, mlflow.start_run():
    info = mlflow.pyfunc.log_model(
        name="model", python_model=model,
        artifacts=model.extract_pipeline_artifacts(Path(tmp)),
        signature=infer_signature(catalog.load("instances")),
        code_paths=[str(project / "src" / {PACKAGE!r})],
        conda_env={{"dependencies": ["kedro"]}},
    )
print(ours.model_uri, info.model_uri)
"""
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=workdir, env=ENV, capture_output=True, text=True
    )
    if proc.returncode:
        sys.exit(f"logging the models failed:\n{proc.stderr[-4000:]}")
    ours, theirs = proc.stdout.split()[-2:]
    return ours, theirs


class Server:
    """A real ``mlflow models serve`` process, stopped by its process group."""

    def __init__(self, model_uri: str, uri: str, cwd: Path) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                str(BIN / "mlflow"),
                "models",
                "serve",
                "-m",
                model_uri,
                "--env-manager",
                "local",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
            ],
            cwd=cwd,
            env={**ENV, "MLFLOW_TRACKING_URI": uri},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.connection: http.client.HTTPConnection | None = None

    def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"mlflow models serve exited with {self.process.returncode}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/ping")
                if connection.getresponse().status == 200:
                    self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                    return
            except OSError:
                pass
            time.sleep(0.25)
        sys.exit(f"mlflow models serve did not answer /ping within {timeout:.0f} s")

    def post(self, body: bytes) -> float:
        assert self.connection is not None
        start = time.perf_counter()
        self.connection.request(
            "POST", "/invocations", body=body, headers={"Content-Type": "application/json"}
        )
        response = self.connection.getresponse()
        payload = response.read()
        elapsed = time.perf_counter() - start
        if response.status != 200:
            sys.exit(f"/invocations answered {response.status}: {payload[:500]!r}")
        return elapsed

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)


def bench_serve(project: Path, workdir: Path, settings: dict[str, int]) -> list[Row]:
    import pandas as pd

    uri = f"sqlite:///{workdir / 'serve.db'}"
    progress("logging both models for serving")
    ours_uri, theirs_uri = log_both(project, uri, workdir)
    outside = workdir / "outside"
    outside.mkdir()
    row = pd.read_csv(project / "data/01_raw/instances.csv").head(1)
    body = json.dumps({"dataframe_split": json.loads(row.to_json(orient="split", index=False))})
    servers = [Server(ours_uri, uri, outside), Server(theirs_uri, uri, outside)]
    try:
        progress("starting two `mlflow models serve` processes")
        for server in servers:
            server.wait_ready()
        for server in servers:  # warm-up
            for _ in range(20):
                server.post(body.encode())
        progress(f"served latency: {settings['requests']} interleaved requests each")
        times = interleaved(
            [lambda s=s: s.post(body.encode()) for s in servers], settings["requests"]
        )
    finally:
        for server in servers:
            server.stop()
    return [
        Row(
            "served 1-row request",
            "ours",
            "kedro-mlflow",
            statistics.median(times[0]),
            statistics.median(times[1]),
            SERVE_TARGET,
        )
    ]


# --------------------------------------------------------------------------- 3. --log


LOG_DRIVER = """
import sys
from kedro_ml_lint.api import lint_project
from kedro_ml_lint.publishing import log_models
result = lint_project(sys.argv[1], artifacts_on_disk=True, publishing=True, lite=False, defer=False)
assert not result.violations, result.violations
for model in log_models(result, tracking_uri=sys.argv[2]):
    print(model.model_uri)
"""


def cli_has_log() -> bool:
    proc = subprocess.run(
        [sys.executable, "-m", "kedro_ml_lint", "check", "--help"],
        capture_output=True,
        text=True,
        env=ENV,
    )
    return "--log" in proc.stdout


def bench_log(project: Path, workdir: Path, settings: dict[str, int]) -> tuple[list[Row], str]:
    uri = f"sqlite:///{workdir / 'log.db'}"
    if cli_has_log():
        ours = [
            sys.executable,
            "-m",
            "kedro_ml_lint",
            "check",
            str(project),
            "--log",
            "--tracking-uri",
            uri,
        ]
        how = "`python -m kedro_ml_lint check PROJECT --log`"
    else:
        ours = [sys.executable, "-c", LOG_DRIVER, str(project), uri]
        how = "`lint_project` + `log_models` driver (`check --log` not wired in the CLI yet)"
    theirs = [
        str(BIN / "kedro"),
        "mlflow",
        "modelify",
        "--pipeline",
        "inference",
        "--input-name",
        "instances",
        "--infer-signature",
    ]

    def command(argv: list[str]) -> Callable[[], float]:
        def run() -> float:
            start = time.perf_counter()
            proc = subprocess.run(argv, cwd=project, env=ENV, capture_output=True, text=True)
            elapsed = time.perf_counter() - start
            if proc.returncode:
                sys.exit(f"failed: {' '.join(argv)}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
            return elapsed

        return run

    contenders = [command(ours), command(theirs)]
    progress("`check --log` vs `kedro mlflow modelify`: warm-up (creates both sqlite stores)")
    for run in contenders:
        run()
    progress(f"`check --log` vs `kedro mlflow modelify`: {settings['log_repeats']} rounds")
    times = interleaved(contenders, settings["log_repeats"])
    row = Row(
        "publish a model (wall)",
        "ours",
        "kedro mlflow modelify",
        statistics.median(times[0]),
        statistics.median(times[1]),
        LOG_TARGET,
    )
    return [row], how


# --------------------------------------------------------------------------- 4. spark


def plain_sklearn_model(project: Path) -> Any:
    """The same fitted encoder, scaler and estimator as one scikit-learn pipeline."""
    import pickle

    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    models = project / "data" / "06_models"
    encoder, scaler, model = (
        pickle.loads((models / f"{name}.pkl").read_bytes())
        for name in ("encoder", "scaler", "model")
    )
    # The order `encode_plan` gives: the numeric columns, then one column per plan.
    encode = ColumnTransformer(
        [
            ("numeric", "passthrough", ["tenure_months", "monthly_charges", "support_calls"]),
            ("plan", encoder, ["plan"]),
        ],
        verbose_feature_names_out=False,
    ).set_output(transform="pandas")
    encode.fit(__import__("pandas").read_csv(project / "data" / "01_raw" / "customers.csv"))
    return Pipeline([("encode", encode), ("scale", scaler), ("model", model)])


def bench_spark(project: Path, workdir: Path, settings: dict[str, int]) -> tuple[list[Row], str]:
    import mlflow
    import pandas as pd
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    uri = f"sqlite:///{workdir / 'spark.db'}"
    progress("spark: logging our model and the plain scikit-learn one")
    proc = subprocess.run(
        [sys.executable, "-c", LOG_DRIVER, str(project), uri],
        env=ENV,
        capture_output=True,
        text=True,
    )
    if proc.returncode:
        sys.exit(f"logging failed:\n{proc.stderr[-3000:]}")
    ours_uri = proc.stdout.split()[-1]
    mlflow.set_tracking_uri(uri)
    features = pd.read_csv(project / "data" / "01_raw" / "instances.csv")
    plain = plain_sklearn_model(project)
    expected = mlflow.pyfunc.load_model(ours_uri).predict(features)
    if (plain.predict(features) != expected["churn"]).any():
        sys.exit("the plain model does not predict what the pipeline predicts")
    plain_uri = mlflow.sklearn.log_model(plain, name="plain").model_uri

    os.environ["PYSPARK_PYTHON"] = sys.executable
    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    rows = settings["spark_rows"]
    frame = pd.concat([features] * -(-rows // len(features)), ignore_index=True).head(rows)
    df = spark.createDataFrame(frame).repartition(2).cache()
    df.count()
    columns = F.struct(*features.columns)
    ours = mlflow.pyfunc.spark_udf(
        spark, ours_uri, result_type="churn_probability double, churn long", env_manager="local"
    )
    floor = mlflow.pyfunc.spark_udf(spark, plain_uri, result_type="long", env_manager="local")

    def scoring(udf: Any, label: Callable[[Any], Any]) -> Callable[[], float]:
        def run() -> float:
            start = time.perf_counter()
            df.select(label(udf(columns)).alias("label")).agg(F.sum("label")).collect()
            return time.perf_counter() - start

        return run

    contenders = [scoring(ours, lambda c: c["churn"]), scoring(floor, lambda c: c)]
    progress(f"spark: warm-up, then {settings['spark_rounds']} rounds of {rows:,} rows")
    for run in contenders:
        run()
    times = interleaved(contenders, settings["spark_rounds"])
    spark.stop()
    ours_time, plain_time = statistics.median(times[0]), statistics.median(times[1])
    row = Row(
        f"spark_udf, {rows:,} rows (wall)",
        "ours",
        "plain mlflow.sklearn",
        ours_time,
        plain_time,
        SPARK_TARGET,
    )
    note = (
        f"spark: ours {rows / ours_time:,.0f} rows/s, plain mlflow.sklearn "
        f"{rows / plain_time:,.0f} rows/s ({plain_time / ours_time:.2f}{X} its throughput; "
        f"target >= 0.8{X})."
    )
    return [row], note


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (smoke test)")
    parser.add_argument(
        "--skip", nargs="*", default=[], choices=["predict", "serve", "log", "spark"]
    )
    parser.add_argument("--log-repeats", type=int, help="rounds of the publish comparison")
    args = parser.parse_args(argv)
    settings = dict(QUICK if args.quick else FULL)
    if args.log_repeats:
        settings["log_repeats"] = args.log_repeats
    import kedro
    import kedro_mlflow
    import mlflow

    print(
        f"Python {platform.python_version()}, kedro {kedro.__version__}, mlflow "
        f"{mlflow.__version__}, kedro-mlflow {kedro_mlflow.__version__}, "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}"
        + (" (quick)" if args.quick else "")
    )
    rows: list[Row] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="kml-serve-bench-") as tmp:
        workdir = Path(tmp)
        project = trained_project(workdir)
        if "log" not in args.skip:
            log_rows, how = bench_log(project, workdir, settings)
            rows += log_rows
            notes.append(f"publish: ours is {how}.")
        if "serve" not in args.skip:
            rows += bench_serve(project, workdir, settings)
        if "predict" not in args.skip:
            rows += bench_predict(project, settings)
        if "spark" not in args.skip:
            spark_rows, note = bench_spark(project, workdir, settings)
            rows += spark_rows
            notes.append(note)
    notes.append(
        "predict overhead = median over rounds of (model call - direct call); a negative value "
        "means ours is within the noise of calling the node functions directly. The no-op rows "
        "run each model on the same graph with trivial node functions: their own per-call cost."
    )
    print()
    print(table(rows))
    for note in notes:
        print(f"\n{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
