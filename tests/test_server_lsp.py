"""``kedro-ml-lint server`` end to end: pygls's LSP client drives the real server process.

Every test starts the server (and so its worker) as a process: all are integration tests.
"""

from __future__ import annotations

import ast
import asyncio
import os
import shutil
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import _this_package_alone, run_cli, tree_digest
from lsp_client import Session, run, session
from lsprotocol import types

pytestmark = pytest.mark.integration

SEVERITY = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning}


def environment(python: str | Path = sys.executable, **extra: str) -> dict[str, str]:
    """The server's environment, as run_cli gives ``check`` its own: the same ``sys.path``
    (another environment's interpreter gets this checkout's package alone)."""
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "GITHUB_WORKSPACE")}
    if str(python) != sys.executable:
        env["PYTHONPATH"] = str(_this_package_alone())
    env.update(extra)
    return env


def check_json(root: Path, python: str | Path = sys.executable) -> list[dict]:
    result = run_cli("check", root, "--format", "json", python=python)
    assert result.code in (0, 1), result.stderr
    return result.json["violations"]


def expected(root: Path, violations: list[dict]) -> set[tuple]:
    """check's JSON as (file, code, 0-based line, 0-based column, severity)."""
    found = set()
    for v in violations:
        location = v["location"] or {"path": "pyproject.toml", "line": 1, "column": 1}
        found.add(
            (
                (root / location["path"]).as_uri(),
                v["code"],
                location["line"] - 1,
                location["column"] - 1,
                SEVERITY[v["severity"]],
                v["message"],
            )
        )
    return found


def received(s: Session) -> set[tuple]:
    return {
        (uri, d.code, d.range.start.line, d.range.start.character, d.severity, d.message)
        for uri, publishes in s.published.items()
        for d in publishes[-1][1]
    }


def apply(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP edits (UTF-16 positions; the examples are ASCII) to ``text``."""
    lines = text.splitlines(keepends=True)

    def offset(position: types.Position) -> int:
        return sum(len(line) for line in lines[: position.line]) + position.character

    for edit in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end) :]
    return text


def action_command(action: object) -> types.Command | None:
    """The command of a code action. lsprotocol's client reads a CodeAction that carries a
    command (and no edit) as a Command whose ``command`` is the nested object's repr."""
    if isinstance(action, types.CodeAction):
        return action.command
    assert isinstance(action, types.Command)
    if action.command.startswith("{"):
        nested = ast.literal_eval(action.command)
        return types.Command(nested["title"], nested["command"], arguments=nested["arguments"])
    return action


async def settled(s: Session, paths: list[Path], quiet: float = 1.0) -> None:
    """Wait until every path was published and nothing new arrived for ``quiet`` seconds."""
    await s.wait_for(lambda: all(s.latest(p) is not None for p in paths), 120)
    while True:
        last = max(t for found in s.published.values() for t, _ in found)
        if time.monotonic() - last >= quiet:
            return
        await asyncio.sleep(0.1)


def test_diagnostics_are_checks_json_and_a_quick_fix_clears_its_own(example) -> None:
    root = example("churn-broken")
    fixed_by_check = Path(shutil.copytree(root, root.parent / "fixed-by-check"))
    catalog = root / "conf/base/catalog.yml"
    want = expected(root, check_json(root))

    async def scenario() -> None:
        async with session(env=environment()) as s:
            s.open(catalog)
            await settled(s, [catalog])
            assert received(s) == want
            for d in s.latest(catalog) or []:
                assert d.source == "kedro-ml-lint"
                assert d.code_description.href.endswith(f"/rules/docs/{d.code}.md")
            kml001 = next(d for d in s.latest(catalog) or [] if d.code == "KML001")
            actions = await s.code_actions(catalog, kml001)
            fixes = [a for a in actions if isinstance(a, types.CodeAction) and a.edit]
            fix = next(a for a in fixes if a.is_preferred)
            assert fix.kind == types.CodeActionKind.QuickFix
            edits = fix.edit.changes[catalog.as_uri()]
            new = apply(catalog.read_text(), edits)
            s.change(catalog, new)  # the editor applies the edit to the buffer, then saves
            catalog.write_text(new)
            count = s.count(catalog)
            s.save(catalog)
            after = await s.next_publish(catalog, count)
            assert "KML001" not in {d.code for d in after}
            # the other files' verdicts stand
            assert {x for x in received(s) if x[1] != "KML001"} == {
                x for x in want if x[1] != "KML001"
            }

    run(scenario)
    run_cli("check", fixed_by_check, "--fix")
    # The quick fix wrote what `check --fix` writes.
    assert catalog.read_bytes() == (fixed_by_check / "conf/base/catalog.yml").read_bytes()


def test_noqa_action_silences_and_rule_documentation_is_shown(example) -> None:
    root = example("churn-broken")
    catalog = root / "conf/base/catalog.yml"

    async def scenario() -> None:
        async with session(env=environment()) as s:
            s.open(catalog)
            await settled(s, [catalog])
            kml002 = next(d for d in s.latest(catalog) or [] if d.code == "KML002")
            actions = await s.code_actions(catalog, kml002)
            noqa = next(a for a in actions if isinstance(a, types.CodeAction) and "noqa" in a.title)
            text = catalog.read_text()
            new = apply(text, noqa.edit.changes[catalog.as_uri()])
            line = new.splitlines()[kml002.range.start.line]
            assert line.endswith("  # noqa: KML002"), line
            assert len(new.splitlines()) == len(text.splitlines())
            s.change(catalog, new)
            catalog.write_text(new)
            count = s.count(catalog)
            s.save(catalog)
            after = await s.next_publish(catalog, count)
            assert "KML002" not in {d.code for d in after}
            assert {"KML001", "KML003"} <= {d.code for d in after}

            documentation = [action_command(a) for a in actions]
            command = next(
                c for c in documentation if c and c.command == "kedro-ml-lint.showRuleDocumentation"
            )
            assert command.arguments == ["KML002"]
            result = await s.client.workspace_execute_command_async(
                types.ExecuteCommandParams(command=command.command, arguments=command.arguments)
            )
            assert result is True
            assert len(s.shown) == 1 and s.shown[0].endswith("/rules/docs/KML002.md")
            assert Path(s.shown[0].removeprefix("file://")).read_text().startswith("---")

    run(scenario)


def test_an_unsaved_buffer_is_checked_without_touching_the_project_or_its_cache(
    example,
) -> None:
    root = example("churn-broken")
    catalog = root / "conf/base/catalog.yml"
    entry = "\nencoder:\n  type: pickle.PickleDataset\n  filepath: data/06_models/encoder.pkl\n"
    cached = environment(KEDRO_ML_LINT_NO_CACHE="")  # the cache on, as users have it
    digests: list[dict[str, str]] = []

    async def scenario() -> None:
        async with session(env=cached, options={"debounce": 0.05}) as s:
            s.open(catalog)
            await settled(s, [catalog])  # the saved project, checked (and cached) in place
            assert "KML001" in {d.code for d in s.latest(catalog) or []}
            digests.append(tree_digest(root))
            count = s.count(catalog)
            s.change(catalog, catalog.read_text() + entry)  # typed, not saved
            after = await s.next_publish(catalog, count)
            assert "KML001" not in {d.code for d in after}
            assert {"KML002", "KML003"} <= {d.code for d in after}
            # positions map back to the real files
            assert all(uri.startswith(root.as_uri()) for uri in s.published)
            assert f"checked {root} (unsaved buffers)" in s.logs[-1]  # the shadow copy's verdict
            digests.append(tree_digest(root))

    run(scenario)
    assert any(path.startswith(".kedro-ml-lint-cache/") for path in digests[0])
    # The unsaved check wrote nothing in the project, its cache entries included.
    assert digests[1] == digests[0]
    again = run_cli("check", root, "--format", "json", env={"KEDRO_ML_LINT_NO_CACHE": ""})
    assert ("training", "KML001", "encoder") in again.pairs  # nor poisoned the saved verdict


def test_broken_yaml_mid_edit_is_one_diagnostic_at_the_error(example) -> None:
    root = example("churn")
    catalog = root / "conf/base/catalog.yml"
    text = catalog.read_text()
    broken = text + "bad: [unclosed\n  x: 1\n"
    error_line = len(text.splitlines()) + 1  # 0-based: the line after `bad: [unclosed`

    async def scenario() -> None:
        async with session(env=environment(), options={"debounce": 0.05}) as s:
            s.open(catalog)
            await settled(s, [catalog])
            assert s.latest(catalog) == []
            count = s.count(catalog)
            s.change(catalog, broken)
            published = await s.next_publish(catalog, count)
            assert len(published) == 1
            (diagnostic,) = published
            assert diagnostic.message.startswith("the project could not be loaded: ")
            assert "invalid YAML" in diagnostic.message
            assert diagnostic.range.start.line == error_line
            assert diagnostic.severity == types.DiagnosticSeverity.Error
            count = s.count(catalog)
            s.change(catalog, text)  # repaired: the error goes
            assert await s.next_publish(catalog, count) == []

    run(scenario)


HANGING = """

def register_pipelines():
    import time

    time.sleep(600)  # a registry that never returns
    return {}
"""


def test_a_hanging_registry_is_reported_after_the_timeout_and_the_server_keeps_answering(
    example,
) -> None:
    root = example("churn")
    registry = root / "src/churn/pipeline_registry.py"
    good = registry.read_text()
    registry.write_text(good + HANGING)
    sleep_line = (
        (good + HANGING).splitlines().index("    time.sleep(600)  # a registry that never returns")
    )
    catalog = root / "conf/base/catalog.yml"

    async def scenario() -> None:
        async with session(env=environment(), options={"timeout": 12}) as s:
            started = time.monotonic()
            s.open(catalog)
            # While the worker hangs, the server answers requests at once.
            await asyncio.sleep(1.0)
            asked = time.monotonic()
            hover = await asyncio.wait_for(s.hover(catalog, 0, 0), 2)
            assert hover is None
            assert time.monotonic() - asked < 2
            await s.wait_for(lambda: s.latest(registry) is not None, 60)
            (diagnostic,) = s.latest(registry) or []
            assert diagnostic.message.startswith("the project could not be loaded: ")
            assert "did not finish within 12 s" in diagnostic.message
            assert diagnostic.range.start.line == sleep_line
            assert time.monotonic() - started >= 12
            # Repaired on disk and saved: a new worker loads it.
            registry.write_text(good)
            count = s.count(registry)
            s.save(registry)
            assert await s.next_publish(registry, count) == []

    run(scenario)


def test_a_file_outside_any_project_gets_nothing(tmp_path: Path, example) -> None:
    loose = tmp_path / "loose" / "catalog.yml"
    loose.parent.mkdir()
    loose.write_text("model:\n  type: pickle.PickleDataset\n")
    root = example("churn-broken")
    catalog = root / "conf/base/catalog.yml"

    async def scenario() -> None:
        async with session(env=environment()) as s:
            s.open(loose)
            s.change(loose, "model: [unclosed\n")
            s.save(loose)
            s.open(catalog)  # a project file opened after it is checked: the server is idle
            await settled(s, [catalog])
            assert s.latest(loose) is None
            assert await s.hover(loose, 0, 1) is None
            assert all(uri.startswith(root.as_uri()) for uri in s.published)

    run(scenario)


def test_hover_says_what_a_dataset_is_to_each_pair(example) -> None:
    root = example("churn-broken")
    catalog = root / "conf/base/catalog.yml"
    pipeline = root / "src/churn_broken/pipelines/training/pipeline.py"
    lines = pipeline.read_text().splitlines()
    row = next(i for i, line in enumerate(lines) if '"encoder"' in line)

    async def scenario() -> None:
        async with session(env=environment()) as s:
            s.open(catalog)
            await settled(s, [catalog])
            hover = await s.hover(pipeline, row, lines[row].index('"encoder"') + 3)
            assert hover is not None
            assert hover.contents.value == (
                "**`encoder`** (kedro-ml-lint)\n\n- pair `training`: artifact, written by "
                "training node `fit_encoder`: not in the logged model (KML001)\n"
            )
            key = next(
                i for i, x in enumerate(catalog.read_text().splitlines()) if x.startswith("scaler:")
            )
            hover = await s.hover(catalog, key, 2)
            assert hover is not None
            assert "`pickle.PickleDataset` at `s3://***@my-bucket/models/scaler.pkl`" in (
                hover.contents.value
            )
            assert "not in the logged model (KML002)" in hover.contents.value
            # a parameters.yml key is the `params:` input the pipelines read
            parameters = root / "conf/base/parameters.yml"
            key = parameters.read_text().splitlines().index("model_options:")
            hover = await s.hover(parameters, key, 3)
            assert hover is not None
            assert hover.contents.value.startswith("**`model_options`**")
            assert "- pair `training`: training only" in hover.contents.value
            assert "`legacy`" not in hover.contents.value  # it reads legacy.model_options

    run(scenario)


def test_the_server_runs_in_the_lean_environment(example, lean_python: Path) -> None:
    root = example("churn-broken")
    catalog = root / "conf/base/catalog.yml"
    want = expected(root, check_json(root, python=lean_python))

    async def scenario() -> None:
        async with session(python=str(lean_python), env=environment(lean_python)) as s:
            s.open(catalog)
            await settled(s, [catalog])
            assert received(s) == want

    run(scenario)


def test_edits_in_a_burst_are_checked_once_for_the_last_text(example) -> None:
    root = example("churn-broken")
    catalog = root / "conf/base/catalog.yml"
    text = catalog.read_text()
    entry = "\nencoder:\n  type: pickle.PickleDataset\n  filepath: data/06_models/encoder.pkl\n"

    async def scenario() -> None:
        async with session(env=environment(), options={"debounce": 1.0}) as s:
            s.open(catalog)
            await settled(s, [catalog])
            checks = len(s.logs)
            count = s.count(catalog)
            for cut in range(1, len(entry) + 1):  # typed a character at a time
                s.change(catalog, text + entry[:cut])
                await asyncio.sleep(0.01)
            after = await s.next_publish(catalog, count)
            assert "KML001" not in {d.code for d in after}  # the last text's verdict
            await asyncio.sleep(1.5)
            assert s.count(catalog) == count + 1
            assert len(s.logs) == checks + 1, s.logs[checks:]  # one check for the burst

    run(scenario)


CRASHING = """

def register_pipelines():
    import os

    os._exit(3)  # a registry that takes the process down
"""


def test_a_crashing_registry_is_one_diagnostic_and_the_next_save_gets_a_new_worker(
    example,
) -> None:
    root = example("churn")
    registry = root / "src/churn/pipeline_registry.py"
    good = registry.read_text()
    registry.write_text(good + CRASHING)
    catalog = root / "conf/base/catalog.yml"

    async def scenario() -> None:
        async with session(env=environment()) as s:
            s.open(catalog)
            await settled(s, [root / "pyproject.toml", catalog])
            (diagnostic,) = s.latest(root / "pyproject.toml") or []
            assert diagnostic.message == (
                "the project could not be loaded: the worker process exited with code 3"
            )
            assert s.latest(catalog) == []
            registry.write_text(good)
            count = s.count(root / "pyproject.toml")
            s.save(registry)
            assert await s.next_publish(root / "pyproject.toml", count) == []

    run(scenario)


def test_stopping_the_worker_does_not_wait_for_a_hung_load(example) -> None:
    """The editor's shutdown must not wait out a hung load's timeout."""
    from kedro_ml_lint.server.supervisor import Worker, WorkerFailure

    root = example("churn")
    registry = root / "src/churn/pipeline_registry.py"
    registry.write_text(registry.read_text() + HANGING)
    worker = Worker(env=environment())
    worker.start()
    failures: list[WorkerFailure] = []

    def ask() -> None:
        try:
            worker.request({"root": str(root)}, 120)
        except WorkerFailure as failure:
            failures.append(failure)

    thread = threading.Thread(target=ask)
    thread.start()
    time.sleep(3)  # the load is under way (it sleeps in the registry for 600 s)
    assert thread.is_alive()
    started = time.monotonic()
    worker.stop()
    thread.join(10)
    assert time.monotonic() - started < 5
    assert not thread.is_alive() and len(failures) == 1
    assert failures[0].message == "the worker process was killed by signal 9"


# A worker that dies the way a crash does, slowly: its output closes first, then it exits.
CLOSING_THEN_EXITING = """#!{python}
import os, sys, time
sys.stdin.readline()
os.close(1)  # the reader sees its end here
time.sleep(2)  # while the process still runs, as a loaded machine's dying worker does
os._exit(3)
"""


def test_a_worker_whose_output_ends_is_reported_as_it_exits_not_at_the_timeout(
    tmp_path: Path,
) -> None:
    """A waiter woken by the end of the worker's output must not mistake it for a slow load
    because the process is not reaped yet: it waits for the exit, not the 60 s timeout."""
    from kedro_ml_lint.server.supervisor import Worker, WorkerFailure

    fake = tmp_path / "worker-python"
    fake.write_text(CLOSING_THEN_EXITING.format(python=sys.executable))
    fake.chmod(0o755)
    worker = Worker(python=str(fake))
    started = time.monotonic()
    with pytest.raises(WorkerFailure) as caught:
        worker.request({"root": str(tmp_path)}, 60)
    assert time.monotonic() - started < 30
    assert caught.value.message == "the worker process exited with code 3"
