"""Fault injection at every tracking-store call of ``check --log`` (run as a script).

``python fault_driver.py CONFIG.json RESULTS.json``. The way SQLite tests crash safety:

1. every public method of MLflow's tracking store, model-registry store and local artifact
   repository is wrapped (a call made by another wrapped call counts as part of it);
2. one clean ``check --log`` on a fresh store records the calls it makes, in order: the
   enumeration is derived from what the code does, never written down here;
3. for each call index and each fault, a fresh copy of the same store gets a ``check --log``
   in which that call is faulted, **after** the store did its work (the worst moment: the
   record exists, the caller never got its id):

   - ``raise``: the call raises ``RuntimeError``;
   - ``sigterm``: the process sends itself SIGTERM (the handler runs as the call returns);
   - ``sigkill``: the process sends itself SIGKILL;

   then a retry ``check --log`` without fault, which for SIGKILL is also the "next ``--log``"
   that must clean up what the killed process left.

With ``"alias"`` in the config, every attempt also moves that alias with ``--gate``, on a
store whose version 1 already holds it (the warm-up logs there first, and every case copies
it); ``"after"`` limits the faults to the calls after the first call of that name (the
registration), and ``"distinct"`` to the first call of each name there, so the alias's
calls are enumerated without repeating the rest.

Each ``check --log`` is a real process: a ``fork`` of this warm one (imports, the project and
its model already loaded once), so exit statuses and signals are real and a case costs a
second or two rather than an interpreter start-up. What each case left in its store is
written to RESULTS.json; ``test_fault_enumeration.py`` judges it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

STATE = threading.local()
PLAN: dict[str, Any] = {"at": None, "fault": None, "calls": None}
COUNT = [0]


def _outside_the_store(args: tuple[Any, ...]) -> bool:
    """A local artifact repository over a folder outside the case's store: not a store call.

    ``log_model`` reads the model it has just saved in a temporary folder back through one,
    to check its input example (a failure there is MLflow's warning, not an error). The
    store's artifacts are under the case's folder, the process's working folder.
    """
    root = getattr(args[0], "artifact_dir", None) if args else None
    if not isinstance(root, str):
        return False
    return not Path(root).resolve().is_relative_to(Path.cwd().resolve())


def _wrap(owner: type, name: str) -> None:
    function = owner.__dict__[name]

    label = f"{owner.__module__.split('.')[-2]}.{owner.__name__}.{name}"

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if getattr(STATE, "depth", 0) or _outside_the_store(args):
            return function(*args, **kwargs)
        STATE.depth = 1
        failure: BaseException | None = None
        try:
            result = function(*args, **kwargs)
        except Exception as exc:  # a call that fails (``get_registered_model``: none yet)
            failure = exc
        finally:
            STATE.depth = 0
        index = COUNT[0]
        COUNT[0] += 1
        if PLAN["calls"] is not None:
            PLAN["calls"].append(label)
        if PLAN["at"] is not None and index == PLAN["at"] + 1 and PLAN["fault"] == "sigterm-twice":
            os.kill(os.getpid(), signal.SIGTERM)  # a second signal, during the roll-back
        if index == PLAN["at"]:
            fault = PLAN["fault"]
            if fault == "raise":
                raise RuntimeError(f"injected fault after {label}")
            if fault in ("sigterm", "sigterm-twice"):
                os.kill(os.getpid(), signal.SIGTERM)
            elif fault == "sigint":
                os.kill(os.getpid(), signal.SIGINT)
            elif fault == "sigkill":
                os.kill(os.getpid(), signal.SIGKILL)
        if failure is not None:
            raise failure
        return result

    wrapper.__name__ = name
    wrapper.__wrapped__ = function  # type: ignore[attr-defined]
    setattr(owner, name, wrapper)


def install() -> list[str]:
    """Wrap the stores' public methods; return the wrapped ``Class.method`` names."""
    from mlflow.store.artifact.local_artifact_repo import LocalArtifactRepository
    from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore as RegistryStore
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore as TrackingStore

    wrapped = []
    for owner in (TrackingStore, RegistryStore, LocalArtifactRepository):
        for klass in owner.__mro__:
            if klass is object:
                continue
            for name, value in list(vars(klass).items()):
                if name.startswith("_") or not callable(value) or isinstance(value, type):
                    continue
                if name in owner.__dict__ and klass is not owner:
                    continue
                if isinstance(value, (staticmethod, classmethod, property)):
                    continue
                if name not in owner.__dict__:  # inherited: wrap it on the store itself
                    setattr(owner, name, value)
                _wrap(owner, name)
                wrapped.append(f"{owner.__module__.split('.')[-2]}.{owner.__name__}.{name}")
    return wrapped


def inventory(uri: str) -> dict[str, Any]:
    """What the store holds: logged models, runs (deleted ones too), registered versions."""
    import mlflow
    from mlflow.entities import ViewType

    saved = PLAN["at"], PLAN["calls"]
    PLAN["at"], PLAN["calls"] = None, None
    try:
        client = mlflow.MlflowClient(uri, registry_uri=uri)
        experiments = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ALL)]
        models = (
            [
                [m.model_id, str(m.status).rsplit(".", 1)[-1], str(m.source_run_id)]
                for m in client.search_logged_models(experiment_ids=experiments)
            ]
            if experiments
            else []
        )
        runs = (
            [
                [r.info.run_id, r.info.status, r.info.lifecycle_stage]
                for r in client.search_runs(experiments, run_view_type=ViewType.ALL)
            ]
            if experiments
            else []
        )
        versions = [
            [v.name, str(v.version), v.run_id]
            for rm in client.search_registered_models()
            for v in client.search_model_versions(f"name='{rm.name}'")
        ]
        aliases = {
            rm.name: {a: str(v) for a, v in client.get_registered_model(rm.name).aliases.items()}
            for rm in client.search_registered_models()
        }
        return {"models": models, "runs": runs, "versions": versions, "aliases": aliases}
    finally:
        PLAN["at"], PLAN["calls"] = saved


def run_cli(arguments: list[str], folder: Path, at: int | None, fault: str | None) -> dict:
    """``check --log`` in a forked process; its exit status, output and store calls."""

    def check() -> int:
        from kedro_ml_lint.cli import main

        try:
            main(arguments, standalone_mode=True)
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else 1
        return 0

    return run_forked(check, folder, at, fault)


def run_hook(project: str, uri: str, folder: Path, at: int | None, fault: str | None) -> dict:
    """``kedro run --pipelines training`` (the hook logs) in a forked process."""

    def kedro_run() -> int:
        from kedro.framework.session import KedroSession

        os.environ["MLFLOW_TRACKING_URI"] = uri
        try:
            with KedroSession.create(project_path=project) as session:
                session.run(pipeline_names=["training"])
        except Exception:
            traceback.print_exc()
            return 1
        return 0

    return run_forked(kedro_run, folder, at, fault)


def run_forked(action: Any, folder: Path, at: int | None, fault: str | None) -> dict:
    """``action()`` in a forked process (its return value is the exit status)."""
    folder.mkdir(parents=True, exist_ok=True)
    calls_file = folder / "calls.json"
    sys.stdout.flush()
    sys.stderr.flush()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 99
        try:
            os.chdir(folder)
            os.environ["KEDRO_ML_LINT_CACHE_DIR"] = str(folder.parent / "cache")
            out = os.open(folder / "stdout", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            err = os.open(folder / "stderr", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(out, 1)
            os.dup2(err, 2)
            COUNT[0] = 0
            PLAN.update(at=at, fault=fault, calls=[])
            code = action()
            calls_file.write_text(json.dumps(PLAN["calls"]))
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    read = lambda name: (folder / name).read_text(errors="replace")  # noqa: E731
    return {
        "status": os.waitstatus_to_exitcode(status),
        "stdout": read("stdout")[-2000:],
        "stderr": read("stderr")[-2000:],
        "calls": json.loads(calls_file.read_text()) if calls_file.exists() else None,
        "seconds": round(time.monotonic() - started, 2),
    }


def main() -> None:
    # Ctrl-C must reach each `check --log` as in a terminal. A driver started where SIGINT is
    # ignored (a background job of a shell without job control, `nohup`) would hand SIG_IGN
    # on to every fork, and the CLI rightly leaves an ignored signal ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    config = json.loads(Path(sys.argv[1]).read_text())
    output = Path(sys.argv[2]).resolve()
    root = Path(config["root"])
    project = config["project"]
    hook = config.get("mode") == "hook"
    alias = config.get("alias")
    wrapped = install()
    import mlflow

    os.environ["MLFLOW_EXPERIMENT_NAME"] = config["experiment"]  # the hook's experiment
    if hook:
        from kedro.framework.startup import bootstrap_project

        bootstrap_project(Path(project))

    def attempt(case: Path, name: str, at: int | None, fault: str | None) -> dict:
        store = case / "store"
        uri = f"sqlite:///{store / 'mlflow.db'}"
        if hook:
            return run_hook(project, uri, case / name, at, fault)
        arguments = ["check", project, "--log", "--tracking-uri", uri]
        arguments += ["--experiment", config["experiment"]]
        arguments += ["--registered-model-name", config["registered"]]
        if alias:
            arguments += ["--alias", alias, "--gate"]
        return run_cli(arguments, case / name, at, fault)

    # An empty, migrated store, copied for every case (its artifacts go under the case's
    # folder: the experiment is created by the call, at ./mlruns of the process).
    template = root / "template"
    template.mkdir(parents=True)
    mlflow.MlflowClient(f"sqlite:///{template / 'mlflow.db'}").search_experiments()

    def fresh(name: str) -> Path:
        case = root / name
        (case / "store").mkdir(parents=True)
        shutil.copy2(template / "mlflow.db", case / "store" / "mlflow.db")
        return case

    # Warm up this process (imports, the project, MLflow's caches) in a first attempt of
    # its own, then record the calls of a clean attempt in a fork, as every case runs.
    warm = fresh("warm-up")
    os.chdir(warm)
    if hook:
        PLAN["calls"] = None
        from kedro.framework.session import KedroSession

        os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{warm / 'store' / 'mlflow.db'}"
        with KedroSession.create(project_path=project) as session:
            session.run(pipeline_names=["training"])
    else:
        from kedro_ml_lint.cli import main as cli

        warm_uri = f"sqlite:///{warm / 'store' / 'mlflow.db'}"
        warm_arguments = ["check", project, "--log", "--tracking-uri", warm_uri]
        if alias:  # the warm-up seeds the template: version 1 holds the alias
            warm_uri = f"sqlite:///{template / 'mlflow.db'}"
            warm_arguments = ["check", project, "--log", "--tracking-uri", warm_uri]
            # An experiment of its own, its artifacts in the warm-up's folder: each case
            # creates the logged one in its folder, so its artifact calls are counted.
            warm_arguments += ["--experiment", "seed"]
            warm_arguments += ["--registered-model-name", config["registered"]]
            warm_arguments += ["--alias", alias]
        try:
            cli(warm_arguments, standalone_mode=True)
        except SystemExit as exc:
            assert exc.code == 0, exc.code
    clean = fresh("record")
    recorded = attempt(clean, "first", None, None)
    assert recorded["status"] == 0, recorded
    calls: list[str] = recorded["calls"]
    results: dict[str, Any] = {
        "wrapped": wrapped,
        "calls": calls,
        "clean_seconds": recorded["seconds"],
        "clean_inventory": inventory(f"sqlite:///{clean / 'store' / 'mlflow.db'}"),
        "seed_inventory": inventory(f"sqlite:///{template / 'mlflow.db'}"),
        "cases": [],
    }
    start = calls.index(config["after"]) + 1 if config.get("after") else 0
    indices = range(start, len(calls))
    if config.get("distinct"):  # the first call of each name only: its repeats fail alike
        indices = sorted({calls[index]: index for index in reversed(indices)}.values())
    plan = [(fault, index) for fault in config["faults"] for index in indices]
    for fault, call in config.get("spots", []):
        plan.append((fault, calls.index(call)))

    def run_case(fault: str, index: int) -> dict[str, Any]:
        case = fresh(f"{fault}-{index:03d}")
        uri = f"sqlite:///{case / 'store' / 'mlflow.db'}"
        failed = attempt(case, "fault", index, fault)
        after_fault = inventory(uri)
        retry = attempt(case, "retry", None, None)
        # The journals' folder: the user's cache folder (KEDRO_ML_LINT_CACHE_DIR) also holds
        # the cache key and import records the hook's pre-flight `check` writes.
        journals = sorted(
            str(p.relative_to(case))
            for p in (case / "cache" / "pending-rollbacks").rglob("*")
            if p.is_file()
        )
        return {
            "fault": fault,
            "index": index,
            "call": calls[index],
            "status": failed["status"],
            "stderr": failed["stderr"],
            "after_fault": after_fault,
            "retry_status": retry["status"],
            "retry_output": retry["stdout"] + retry["stderr"],
            "after_retry": inventory(uri),
            "journals_left": journals,
            "seconds": failed["seconds"] + retry["seconds"],
        }

    # Cases run in forked workers, `jobs` at a time (each forks its attempts in turn).
    jobs = max(1, int(config.get("jobs") or 1))
    running: dict[int, Path] = {}
    done: list[Path] = []
    for fault, index in plan:
        while len(running) >= jobs:
            pid, _ = os.wait()
            done.append(running.pop(pid))
        result_file = root / f"{fault}-{index:03d}.json"
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            try:
                result_file.write_text(json.dumps(run_case(fault, index)))
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(0)
        running[pid] = result_file
    while running:
        pid, _ = os.wait()
        done.append(running.pop(pid))
    for fault, index in plan:
        result_file = root / f"{fault}-{index:03d}.json"
        assert result_file.exists(), f"case {fault} at {index} produced no result"
        results["cases"].append(json.loads(result_file.read_text()))
    output.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
