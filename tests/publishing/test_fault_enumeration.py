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
from mlflow_support import KEDRO_ENV, copy_project, enable_hook, trained

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(sys.platform == "win32", reason="fork and SIGKILL"),
]

DRIVER = Path(__file__).with_name("fault_driver.py")
FAULTS = ("raise", "sigterm", "sigkill")
EXIT = {"raise": 2, "sigterm": 143, "sigkill": -9, "sigint": 130, "sigterm-twice": 143}
SIGNAL_LINE = {"sigterm": "SIGTERM", "sigint": "SIGINT", "sigterm-twice": "SIGTERM"}
ERROR_PREFIX = "kedro-ml-lint: error:"


# One more fault at a few calls each: Ctrl-C, and a second SIGTERM that arrives while the
# roll-back runs (it must wait: docs/design.md §6).
SPOTS = [
    [fault, call]
    for fault in ("sigint", "sigterm-twice")
    for call in (
        "tracking.SqlAlchemyStore.create_run",
        "artifact.LocalArtifactRepository.log_artifacts",
        "model_registry.SqlAlchemyStore.create_model_version",
    )
]
# The hook's logging is the same transaction code (publish -> log_all): its calls are
# recorded and must be those of `check --log`; each fault is injected at the calls that
# create a record, in a real `kedro run` whose hook logs.
HOOK_SPOTS = [
    [fault, call]
    for fault in FAULTS
    for call in (
        "tracking.SqlAlchemyStore.create_run",
        "artifact.LocalArtifactRepository.log_artifacts",
        "model_registry.SqlAlchemyStore.create_model_version",
        "tracking.SqlAlchemyStore.update_run_info",
    )
]
HOOK_EXIT = {"raise": 1, "sigterm": -15, "sigkill": -9}
JOBS = 2


def _drive(root: Path, project: Path, **options: Any) -> dict[str, Any]:
    root.mkdir(parents=True)
    config = root / "config.json"
    config.write_text(
        json.dumps(
            {
                "root": str(root / "cases"),
                "project": str(project),
                "experiment": "faults",
                "registered": "churn-faults",
                "jobs": JOBS,
                **options,
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
        f"\nfault enumeration ({options.get('mode', 'check')}): {len(found['calls'])} store "
        f"calls, {len(found['cases'])} faults injected, {found['seconds']:.0f} s"
    )
    return found


@pytest.fixture(scope="module")
def trained_churn(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shared with the other MLflow test modules: trained once per session."""
    return trained("churn", tmp_path_factory.mktemp("shared"))


@pytest.fixture(scope="module")
def enumeration(trained_churn: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every store call of `check --log` x every fault, plus the spot faults."""
    root = tmp_path_factory.mktemp("fault-enumeration")
    return _drive(root / "check", trained_churn, faults=list(FAULTS), spots=SPOTS)


@pytest.fixture(scope="module")
def hook_enumeration(
    trained_churn: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("fault-enumeration-hook")
    project = copy_project(trained_churn, root / "project")
    enable_hook(project, 'registered_model_name="churn-faults"')
    # One case at a time: each `kedro run` trains again, writing the same files.
    return _drive(root / "hook", project, mode="hook", faults=[], spots=HOOK_SPOTS, jobs=1)


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
    assert len(enumeration["cases"]) == len(FAULTS) * len(calls) + len(SPOTS)
    clean = enumeration["clean_inventory"]
    assert len(_ready(clean["models"])) == 1 and len(clean["versions"]) == 1, clean


@pytest.mark.parametrize("fault", [*FAULTS, "sigint", "sigterm-twice"])
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
            if fault in SIGNAL_LINE:
                ok = ok and f"interrupted by {SIGNAL_LINE[fault]}" in message
                ok = ok and any(
                    note in message
                    for note in ("nothing was kept in the tracking store", "nothing was logged")
                )
        if not ok:
            wrong.append(_summary(case))
    assert wrong == [], "\n\n".join(wrong)


def _left_behind(cases: list[dict[str, Any]], fault: str) -> list[str]:
    left = []
    for case in cases:
        if case["fault"] != fault:
            continue
        retry_runs = {model[2] for model in case["after_retry"]["models"]}
        retry_runs |= {version[2] for version in case["after_retry"]["versions"]}
        if fault == "sigkill":  # judged after the next attempt: only its own records remain
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
    return left


def _failed_retries(cases: list[dict[str, Any]], fault: str) -> list[str]:
    failed = []
    for case in cases:
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
    return failed


@pytest.mark.parametrize("fault", [*FAULTS, "sigint", "sigterm-twice"])
def test_every_fault_leaves_nothing_behind(enumeration: dict[str, Any], fault: str) -> None:
    left = _left_behind(enumeration["cases"], fault)
    assert left == [], "\n\n".join(left)


@pytest.mark.parametrize("fault", [*FAULTS, "sigint", "sigterm-twice"])
def test_a_retry_succeeds_after_every_fault(enumeration: dict[str, Any], fault: str) -> None:
    failed = _failed_retries(enumeration["cases"], fault)
    assert failed == [], "\n\n".join(failed)


def test_the_hook_makes_the_calls_of_check_log(
    enumeration: dict[str, Any], hook_enumeration: dict[str, Any]
) -> None:
    """So the enumeration of ``check --log`` covers the hook's logging too."""
    assert hook_enumeration["calls"] == enumeration["calls"]
    clean = hook_enumeration["clean_inventory"]
    assert len(_ready(clean["models"])) == 1 and len(clean["versions"]) == 1, clean


@pytest.mark.parametrize("fault", FAULTS)
def test_the_hook_under_every_fault(hook_enumeration: dict[str, Any], fault: str) -> None:
    cases = hook_enumeration["cases"]
    wrong = [
        _summary(case)
        for case in cases
        if case["fault"] == fault and case["status"] != HOOK_EXIT[fault]
    ]
    wrong += _left_behind(cases, fault) + _failed_retries(cases, fault)
    assert wrong == [], "\n\n".join(wrong)


# --------------------------------------------------------------------------- --alias --gate

REGISTERED = "churn-faults"
ALIAS = "champion"
ALIAS_CALLS = (
    "model_registry.SqlAlchemyStore.set_model_version_tag",
    "model_registry.SqlAlchemyStore.set_registered_model_alias",
)


@pytest.fixture(scope="module")
def alias_enumeration(
    trained_churn: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """``--alias champion --gate`` on a store whose version 1 holds the alias.

    Cheap: the calls before the registration are those of the enumeration above, and the
    gate's reads repeat (two downloads, a tag per part): an exception and SIGKILL at the
    first call of each name after the registration (the gate's reads, its tags, the alias's
    move, the run's end), SIGTERM at the tags and the move.
    """
    root = tmp_path_factory.mktemp("fault-enumeration-alias")
    return _drive(
        root / "alias",
        trained_churn,
        faults=["raise", "sigkill"],
        spots=[["sigterm", call] for call in ALIAS_CALLS],
        alias=ALIAS,
        after="model_registry.SqlAlchemyStore.create_model_version",
        distinct=True,
    )


def test_the_alias_enumeration_reaches_the_alias_and_the_gate(
    alias_enumeration: dict[str, Any],
) -> None:
    calls = alias_enumeration["calls"]
    after = calls[calls.index("model_registry.SqlAlchemyStore.create_model_version") + 1 :]
    for expected in (
        "model_registry.SqlAlchemyStore.get_registered_model",
        "model_registry.SqlAlchemyStore.get_model_version_download_uri",
        "artifact.LocalArtifactRepository.download_artifacts",
        *ALIAS_CALLS,
    ):
        assert expected in after, after
    seed = alias_enumeration["seed_inventory"]
    assert seed["aliases"] == {REGISTERED: {ALIAS: "1"}}, seed
    clean = alias_enumeration["clean_inventory"]
    assert clean["aliases"] == {REGISTERED: {ALIAS: "2"}}, clean
    faulted = {(case["fault"], case["call"]) for case in alias_enumeration["cases"]}
    assert faulted == {
        *((fault, call) for fault in ("raise", "sigkill") for call in set(after)),
        *(("sigterm", call) for call in ALIAS_CALLS),
    }


@pytest.mark.parametrize("fault", FAULTS)
def test_every_fault_puts_the_alias_back(alias_enumeration: dict[str, Any], fault: str) -> None:
    seed = alias_enumeration["seed_inventory"]
    wrong = []
    for case in alias_enumeration["cases"]:
        if case["fault"] != fault:
            continue
        retried = case["after_retry"]
        # SIGKILL: judged after the next attempt, which replays the journal first.
        state = retried if fault == "sigkill" else case["after_fault"]
        seed_versions = [v[:2] for v in seed["versions"]]
        mine = [v for v in state["versions"] if v[:2] not in seed_versions]
        ok = case["status"] == EXIT[fault] and case["retry_status"] == 0
        if fault == "sigkill":
            [retry_version] = mine or [[None, None, None]]
            ok = (
                ok
                and len(mine) == 1
                and state["aliases"] == {REGISTERED: {ALIAS: retry_version[1]}}
            )
        else:
            ok = ok and mine == [] and state["aliases"] == seed["aliases"]
            ok = ok and _live(state["runs"]) == _live(seed["runs"])
            ok = ok and _ready(state["models"]) == _ready(seed["models"])
            holder = [v for v in retried["versions"] if v[:2] not in seed_versions]
            ok = ok and len(holder) == 1
            ok = ok and retried["aliases"] == {REGISTERED: {ALIAS: holder[0][1]}}
        if not ok or case["journals_left"]:
            wrong.append(_summary(case) + f"\naliases {state['aliases']}")
    assert wrong == [], "\n\n".join(wrong)
