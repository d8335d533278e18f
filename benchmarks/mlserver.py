"""MLServer against `mlflow models serve`: the same logged model, the same rows.

Run from the repository root::

    python benchmarks/mlserver.py                # ~4 min: 400 requests each, 20 s of load
    python benchmarks/mlserver.py --quick        # ~3 min

Steps, each timed: train a copy of ``examples/churn`` and log it to a sqlite store
(``log_models``); build MLServer's own venv as a deployment does (uv: mlserver,
mlserver-mlflow, their pins, kedro-ml-lint's core dependencies to run ``export``) unless
``--mlserver-python`` names one; ``export --target mlserver``; install the model's
``requirements.txt`` there; start ``mlserver start DIR`` and ``mlflow models serve``
(``--env-manager local``) and time each until it answers. Then:

1. latency: 1-row requests over keep-alive connections, alternating between the servers in
   a fresh random order each round (``serve.interleaved``): p50 and p99 of each;
2. throughput: 4 client threads, each with its own connection, sending 1-row requests to one
   server for a fixed time; requests per second, then the other server.

MLServer gets a V2 request (``/v2/models/churn/infer``), MLflow a ``dataframe_split`` one
(``/invocations``), both of the same row. MLServer runs its default settings plus the
exported ``settings.json`` (one inference worker process); MLflow's server its defaults.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from serve import ENV, REPO, Server, fmt_seconds, free_port, interleaved, progress

sys.path.insert(0, str(REPO / "tests" / "publishing"))
from mlserver_venv import add_requirements, base_requirements, install

NAME = "churn"
LOG = """
import sys
from kedro_ml_lint.api import lint_project
from kedro_ml_lint.publishing import log_models
# As `check --log` loads it: for real, nothing deferred (mlflow_support.lint).
result = lint_project(
    sys.argv[1], artifacts_on_disk=True, publishing=True, lite=False, defer=False
)
[model] = log_models(result, tracking_uri=sys.argv[2], registered_model_name="churn")
print(model.model_uri)
"""


def timed_run(what: str, command: list[str], **kwargs: object) -> float:
    progress(what)
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    if proc.returncode:
        sys.exit(f"{what} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return time.perf_counter() - start


def build_venv(folder: Path) -> tuple[Path, float]:
    progress("building MLServer's venv (uv)")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    install(folder / "bin" / "python", *base_requirements())
    return folder / "bin" / "python", time.perf_counter() - start


class Connection:
    """One keep-alive connection to a server, posting one body to one path."""

    def __init__(self, port: int, path: str, body: bytes) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.path, self.body = path, body

    def post(self) -> float:
        start = time.perf_counter()
        self.connection.request(
            "POST", self.path, body=self.body, headers={"Content-Type": "application/json"}
        )
        response = self.connection.getresponse()
        payload = response.read()
        elapsed = time.perf_counter() - start
        if response.status != 200:
            sys.exit(f"{self.path} answered {response.status}: {payload[:500]!r}")
        return elapsed


def wait_ready(port: int, path: str, process: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the server exited with {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit(f"{path} did not answer within {timeout:.0f} s")


def throughput(port: int, path: str, body: bytes, seconds: float, clients: int = 4) -> float:
    """Requests per second that ``clients`` threads get answered in ``seconds``."""
    counts = [0] * clients
    stop = time.monotonic() + seconds

    def client(index: int) -> None:
        connection = Connection(port, path, body)
        while time.monotonic() < stop:
            connection.post()
            counts[index] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - start)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--requests", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None, help="throughput run per server")
    parser.add_argument("--mlserver-python", type=Path, default=None)
    args = parser.parse_args()
    requests = args.requests or (100 if args.quick else 400)
    seconds = args.seconds or (8.0 if args.quick else 20.0)

    import pandas as pd

    workdir = Path(tempfile.mkdtemp(prefix="kml-mlserver-bench-"))
    servers: list[subprocess.Popen] = []
    costs: dict[str, float] = {}
    try:
        project = workdir / "churn"
        shutil.copytree(REPO / "examples" / "churn", project)
        costs["train (kedro run)"] = timed_run(
            "training",
            [str(Path(sys.executable).parent / "kedro"), "run", "--pipelines", "training"],
            cwd=project,
            env=ENV,
        )
        uri = f"sqlite:///{workdir / 'mlflow.db'}"
        costs["log (log_models)"] = timed_run(
            "logging", [sys.executable, "-c", LOG, str(project), uri], cwd=workdir, env=ENV
        )
        if args.mlserver_python:
            python = args.mlserver_python
        else:
            python, costs["MLServer venv build (uv)"] = build_venv(workdir / "mlserver-venv")
        export_env = {**ENV, "PYTHONPATH": str(REPO), "MLFLOW_TRACKING_URI": uri}
        costs["export --target mlserver"] = timed_run(
            "export",
            [
                str(python),
                "-m",
                "kedro_ml_lint",
                "export",
                f"models:/{NAME}/1",
                "repo",
                "--target",
                "mlserver",
            ],
            cwd=workdir,
            env=export_env,
        )
        start = time.perf_counter()
        add_requirements(python, workdir / "repo" / NAME / "requirements.txt")
        costs["install the model's requirements.txt (uv)"] = time.perf_counter() - start

        server_env = {
            k: v for k, v in ENV.items() if k not in ("PYTHONPATH", "MLFLOW_TRACKING_URI")
        }
        port = free_port()
        server_env.update(
            MLSERVER_HOST="127.0.0.1",
            MLSERVER_HTTP_PORT=str(port),
            MLSERVER_GRPC_PORT=str(free_port()),
            MLSERVER_METRICS_PORT=str(free_port()),
            PATH=os.pathsep.join([str(python.parent), server_env["PATH"]]),
        )
        progress("starting mlserver")
        start = time.perf_counter()
        mlserver = subprocess.Popen(
            [str(python.parent / "mlserver"), "start", str(workdir / "repo")],
            cwd=workdir,
            env=server_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        servers.append(mlserver)
        wait_ready(port, f"/v2/models/{NAME}/ready", mlserver)
        costs["mlserver start, until the model is ready"] = time.perf_counter() - start

        progress("starting mlflow models serve")
        start = time.perf_counter()
        outside = workdir / "outside"
        outside.mkdir()
        mlflow = Server(f"models:/{NAME}/1", uri, outside)
        servers.append(mlflow.process)
        mlflow.wait_ready(timeout=300)
        costs["mlflow models serve start, until /ping"] = time.perf_counter() - start

        row = pd.read_csv(project / "data/01_raw/instances.csv").head(1)
        v2 = json.dumps(
            {
                "inputs": [
                    {
                        "name": column,
                        "datatype": {"int64": "INT64", "float64": "FP64"}.get(
                            str(row[column].dtype), "BYTES"
                        ),
                        "shape": [1, 1],
                        "data": row[column].tolist(),
                    }
                    for column in row.columns
                ]
            }
        ).encode()
        split = json.dumps(
            {"dataframe_split": json.loads(row.to_json(orient="split", index=False))}
        ).encode()
        contenders = {
            "MLServer (V2)": (port, f"/v2/models/{NAME}/infer", v2),
            "mlflow models serve": (mlflow.port, "/invocations", split),
        }
        connections = [Connection(*c) for c in contenders.values()]
        for connection in connections:  # warm-up
            for _ in range(20):
                connection.post()
        progress(f"latency: {requests} interleaved 1-row requests each")
        times = interleaved([c.post for c in connections], requests)
        rates = {}
        for label, contender in contenders.items():
            progress(f"throughput: 4 clients for {seconds:.0f} s on {label}")
            rates[label] = throughput(*contender, seconds=seconds)
    finally:
        for process in servers:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=60)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(process.pid, signal.SIGKILL)
        shutil.rmtree(workdir, ignore_errors=True)

    print("| server | p50 | p99 | 4-client throughput |")
    print("|---|--:|--:|--:|")
    for (label, _), samples in zip(contenders.items(), times, strict=True):
        print(
            f"| {label} | {fmt_seconds(statistics.median(samples))} | "
            f"{fmt_seconds(percentile(samples, 0.99))} | {rates[label]:.0f} req/s |"
        )
    print()
    print("| step | wall time |")
    print("|---|--:|")
    for what, cost in costs.items():
        print(f"| {what} | {fmt_seconds(cost)} |")
    print(
        f"\n{requests} requests each; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
