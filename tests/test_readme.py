"""What the README and docs/ tell users to type is true of this checkout.

Every YAML snippet parses; every pre-commit snippet names a hook of ``.pre-commit-hooks.yaml``
and the release tag ``v<__version__>``; every install line names that tag or that version's
wheel; the quick start shows ``check``'s real output (the golden file); the README still opens
with the two set-up commands; and relative links point at files that exist. The install lines
are run for real by ``tests/test_install.py``, the ``repo: local`` snippet by
``tests/test_precommit.py``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO
from ruamel.yaml import YAML

import kedro_ml_lint

TAG = f"v{kedro_ml_lint.__version__}"
WHEEL = f"kedro_ml_lint-{kedro_ml_lint.__version__}-py3-none-any.whl"
README = REPO / "README.md"
DOCS = sorted([README, REPO / "CONTRIBUTING.md", *(REPO / "docs").glob("*.md")])
FENCE = re.compile(r"^```(?P<lang>[\w-]*)\n(?P<body>.*?)^```$", re.M | re.S)
# Written by other work of issue 21 (the command line, editors, deployment); linked from the
# README before they land. A link to any other missing file fails.


def blocks(path: Path, lang: str) -> list[str]:
    return [
        m["body"] for m in FENCE.finditer(path.read_text(encoding="utf-8")) if m["lang"] == lang
    ]


def section(path: Path, title: str) -> str:
    """The text under ``## title`` up to the next ``## `` heading."""
    text = path.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def hook_ids() -> set[str]:
    hooks = YAML(typ="safe").load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    return {hook["id"] for hook in hooks}


YAML_SNIPPETS = [
    pytest.param(path, index, body, id=f"{path.relative_to(REPO)}#{index}")
    for path in DOCS
    for index, body in enumerate(blocks(path, "yaml"))
]


def test_there_are_pre_commit_and_ci_snippets() -> None:
    kinds = [_kind(YAML(typ="safe").load(param.values[2])) for param in YAML_SNIPPETS]
    assert kinds.count("pre-commit") >= 4 and "workflow" in kinds, kinds


def _kind(document: Any) -> str:
    if isinstance(document, dict) and "repos" in document:
        return "pre-commit"
    if isinstance(document, dict) and "jobs" in document:
        return "workflow"
    return "other"


@pytest.mark.parametrize(("path", "index", "body"), YAML_SNIPPETS)
def test_yaml_snippet(path: Path, index: int, body: str) -> None:
    document = YAML(typ="safe").load(body)  # raises on a snippet that is not YAML
    kind = _kind(document)
    if kind == "pre-commit":
        _check_pre_commit(document)
    elif kind == "workflow":
        _check_workflow(document)


def _check_pre_commit(config: dict[str, Any]) -> None:
    ours = hook_ids()
    for repo in config["repos"]:
        if repo["repo"] == "local":
            for hook in repo["hooks"]:
                assert hook["id"] in ours, hook["id"]
                assert hook["entry"].startswith("kedro-ml-lint check"), hook["entry"]
                assert hook["pass_filenames"] is False
                for requirement in hook.get("additional_dependencies", []):
                    _check_install_argument(requirement)
            continue
        assert repo["repo"] == "https://github.com/<org>/kedro-ml-lint", repo["repo"]
        assert repo["rev"] == TAG, f"rev {repo['rev']}: the release is {TAG}"
        for hook in repo["hooks"]:
            assert hook["id"] in ours, hook["id"]


def _check_workflow(workflow: dict[str, Any]) -> None:
    runs = [
        step["run"] for job in workflow["jobs"].values() for step in job["steps"] if "run" in step
    ]
    installs = [run for run in runs if run.startswith("pip install")]
    assert installs, "the recipe installs kedro-ml-lint"
    for line in installs:
        for argument in _install_arguments(line):
            _check_install_argument(argument)
    # A project in a sub-folder: every check takes its folder.
    checks = [run for run in runs if "kedro-ml-lint check" in run]
    assert checks and all('kedro-ml-lint check "$PROJECT"' in run for run in checks), checks


def _install_arguments(line: str) -> list[str]:
    """The requirement arguments of a ``pip install`` line (quoted ones kept whole)."""
    return [a or b for a, b in re.findall(r'"([^"]+)"|(\S+)', line.split("#")[0])][2:]


def _check_install_argument(argument: str) -> None:
    if "git+" in argument:
        assert argument.endswith(f"@{TAG}"), f"{argument}: the release tag is {TAG}"
        assert "github.com/<org>/kedro-ml-lint" in argument, argument
    elif argument.endswith(".whl") or ".whl[" in argument:
        assert WHEEL in argument, f"{argument}: this version's wheel is {WHEEL}"


def install_lines() -> list[str]:
    """Every command of the README's Install section (the lines ``test_install`` runs)."""
    text = section(README, "Install")
    return [
        line.strip()
        for body in (m["body"] for m in FENCE.finditer(text) if m["lang"] == "bash")
        for line in body.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def test_install_lines_name_this_release() -> None:
    lines = install_lines()
    assert "pip install -e ." in lines
    assert "python -m build" in lines
    assert any(WHEEL in line for line in lines)
    assert any(f"git+https://github.com/<org>/kedro-ml-lint@{TAG}" in line for line in lines)
    for line in lines:
        assert line.startswith(("pip install ", "python -m build")), line
        for argument in _install_arguments(line) if line.startswith("pip") else []:
            _check_install_argument(argument)
    # The index name is the future form, in prose, never a line to run today.
    assert not any(
        line in ("pip install kedro-ml-lint", "pipx install kedro-ml-lint") for line in lines
    )
    install = section(README, "Install")
    assert "not on PyPI yet" in install and "`<org>` is a placeholder" in install


def test_no_doc_names_another_release() -> None:
    """Old pins (`rev: v0.2.0`, `@v0.3.0`) anywhere in the docs users copy from."""
    for path in DOCS:
        if path.name == "design.md":
            continue
        text = path.read_text(encoding="utf-8")
        for pinned in re.findall(r"(?:rev: |@)(v\d+\.\d+\.\d+)", text):
            assert pinned == TAG, f"{path.name} names {pinned}; the release is {TAG}"


def test_the_readme_opens_with_the_two_set_up_commands() -> None:
    first = FENCE.search(README.read_text(encoding="utf-8"))
    assert first is not None and first.start() < README.read_text(encoding="utf-8").index("\n## ")
    check, tests = first["body"].splitlines()
    assert check == (
        "python3 -m venv .venv && .venv/bin/pip install -e . && "
        ".venv/bin/kedro-ml-lint check examples/churn"
    )
    # The test dependencies through uv (installed by pip, the one installer a fresh machine
    # has): MLflow's stack in 40 s rather than pip's 90 s. Compiled at install, as pip does:
    # where PYTHONDONTWRITEBYTECODE is set, nothing else ever compiles it, and every process
    # the suite starts would compile MLflow again (`import mlflow`: 5.9 s of CPU, not 1.6 s).
    assert tests.startswith(
        "python3 -m venv .venv && .venv/bin/pip install uv && "
        '.venv/bin/uv pip install --compile-bytecode -e ".[test]" && '
    )
    assert ".venv/bin/python -m pytest" in tests


def test_the_quick_start_shows_the_real_output() -> None:
    """The console block is ``check``'s output on the example, as the golden file pins it."""
    [console] = blocks(README, "console")
    command, _, output = console.partition("\n")
    assert command == "$ kedro-ml-lint check examples/churn-broken"
    assert output == (REPO / "tests/golden/check.txt").read_text(encoding="utf-8")


LINK = re.compile(r"\]\((?!https?://|#|mailto:)(?P<target>[^)#\s]+)")


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_resolve(path: Path) -> None:
    for match in LINK.finditer(path.read_text(encoding="utf-8")):
        target = (path.parent / match["target"]).resolve()
        assert target.exists(), f"{path.name}: {match['target']}"
