"""``check --log`` is all or nothing at every tracking-store call (issue 9, class 2).

``fault_driver.py`` records the store calls of one clean ``check --log`` (with
``--experiment`` and ``--registered-model-name``: every kind of record it can create), then
for each call injects an exception, SIGTERM and SIGKILL right after the store did its work,
each in a real (forked) process on a fresh copy of one store, followed by a retry. These
tests judge what each case left behind:

- exception: exit 2, one ``kedro-ml-lint: error:`` line; SIGTERM: exit 143, one line;
  SIGKILL: the process dies (-9);
- after the fault (for SIGKILL: after the next ``--log``, which must clean up): no READY
  logged model, no registered model version and no live (RUNNING or FINISHED) run from the
  faulted attempt, and no journal left in the cache folder;
- the retry exits 0 and leaves exactly one READY model, one run and one version.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from mlflow_support import KEDRO_ENV, trained

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(sys.platform == "win32", reason="fork and SIGKILL"),
]

DRIVER = Path(__file__).with_name("fault_driver.py")
FAULTS = ("raise", "sigterm", "sigkill")
EXIT = {"raise": 2, "sigterm": 143, "sigkill": -9}
ERROR_PREFIX = "kedro-ml-lint: error:"


@pytest.fixture(scope="module")
def enumeration(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One driver run: the recorded calls and every faulted case (the trained project is
    shared with the other MLflow test modules)."""
    project = trained("churn", tmp_path_factory.mktemp("shared"))
    root = tmp_path_factory.mktemp("fault-enumeration")
    config = root / "config.json"
    config.write_text(
        json.dumps(
            {
                "root": str(root / "cases"),
                "project": str(project),
                "faults": list(FAULTS),
                "experiment": "faults",
                "registered": "churn-faults",
            }
        )
    )
    results = root / "results.json"
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, str(DRIVER), str(config), str(results)],
        cwd=root,
        env=KEDRO_ENV,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    found = json.loads(results.read_text())
    found["seconds"] = time.monotonic() - started
    print(
        f"\nfault enumeration: {len(found['calls'])} store calls, {len(found['cases'])} faults "
        f"injected, {found['seconds']:.0f} s"
    )
    return found


def _live(runs: list[list[str]]) -> list[list[str]]:
    return [run for run in runs if run[2] != "deleted"]


def _ready(models: list[list[str]]) -> list[list[str]]:
    return [model for model in models if model[1] == "READY"]


def _summary(case: dict[str, Any]) -> str:
    return (
        f"{case['fault']} after call {case['index']} ({case['call']}): exit {case['status']}; "
        f"after the fault {case['after_fault']}; retry exit {case['retry_status']}, "
        f"{case['after_retry']}; journals {case['journals_left']}\n"
        f"stderr: {case['stderr'][-600:]}\nretry: {case['retry_output'][-600:]}"
    )


def test_the_enumeration_is_derived_and_covers_every_kind_of_record(
    enumeration: dict[str, Any],
) -> None:
    calls = enumeration["calls"]
    # What a clean `--log` must reach for the enumeration to mean something: each kind of
    # record it creates, and the upload of the model's files.
    for expected in (
        "tracking.SqlAlchemyStore.create_experiment",
        "tracking.SqlAlchemyStore.create_run",
        "tracking.SqlAlchemyStore.create_logged_model",
        "artifact.LocalArtifactRepository.log_artifacts",
        "tracking.SqlAlchemyStore.finalize_logged_model",
        "model_registry.SqlAlchemyStore.create_registered_model",
        "model_registry.SqlAlchemyStore.create_model_version",
        "tracking.SqlAlchemyStore.update_run_info",
    ):
        assert expected in calls, calls
    assert len(enumeration["cases"]) == len(FAULTS) * len(calls)
    clean = enumeration["clean_inventory"]
    assert len(_ready(clean["models"])) == 1 and len(clean["versions"]) == 1, clean


@pytest.mark.parametrize("fault", FAULTS)
def test_every_fault_exits_as_documented(enumeration: dict[str, Any], fault: str) -> None:
    wrong = []
    for case in enumeration["cases"]:
        if case["fault"] != fault:
            continue
        ok = case["status"] == EXIT[fault]
        if ok and fault != "sigkill":
            stderr = case["stderr"]
            ok = stderr.count(ERROR_PREFIX) == 1 and "Traceback" not in stderr
            message = stderr[stderr.index(ERROR_PREFIX) :].strip() if ok else ""
            ok = ok and "\n" not in message
            if fault == "sigterm":
                ok = ok and "interrupted by SIGTERM" in message
        if not ok:
            wrong.append(_summary(case))
    assert wrong == [], "\n\n".join(wrong)


@pytest.mark.parametrize("fault", FAULTS)
def test_every_fault_leaves_nothing_behind(enumeration: dict[str, Any], fault: str) -> None:
    left = []
    for case in enumeration["cases"]:
        if case["fault"] != fault:
            continue
        retry_runs = {run_id for _, _, run_id in case["after_retry"]["models"]} | {
            run[2] for run in case["after_retry"]["versions"]
        }
        if fault == "sigkill":  # judged after the next `--log`: only its own records remain
            state = case["after_retry"]
            kept = [
                *[m for m in state["models"] if m[2] not in retry_runs],
                *[r for r in _live(state["runs"]) if r[0] not in retry_runs],
                *[v for v in state["versions"] if v[2] not in retry_runs],
            ]
        else:
            state = case["after_fault"]
            kept = [*_ready(state["models"]), *_live(state["runs"]), *state["versions"]]
            kept += [r for r in state["runs"] if r[1] == "RUNNING"]
        if kept or case["journals_left"]:
            left.append(f"kept {kept}: " + _summary(case))
    assert left == [], "\n\n".join(left)


@pytest.mark.parametrize("fault", FAULTS)
def test_a_retry_succeeds_after_every_fault(enumeration: dict[str, Any], fault: str) -> None:
    failed = []
    for case in enumeration["cases"]:
        if case["fault"] != fault:
            continue
        state = case["after_retry"]
        ok = (
            case["retry_status"] == 0
            and len(_ready(state["models"])) == 1
            and [m for m in state["models"] if m[1] != "READY"] == []
            and len(_live(state["runs"])) == 1
            and _live(state["runs"])[0][1] == "FINISHED"
            and len(state["versions"]) == 1
        )
        if not ok:
            failed.append(_summary(case))
    assert failed == [], "\n\n".join(failed)
