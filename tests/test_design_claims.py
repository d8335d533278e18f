"""docs/design.md's claims that a machine can check, checked on the code as it stands.

Each test names the claim it holds. Modules are found by walking the package and read as
syntax trees (nothing is imported but the rule registry and the CLI), so the claims hold
whatever folder a module lives in: ``loader/`` or ``reading/``, ``mlflow/`` or
``publishing/``.
"""

from __future__ import annotations

import ast
import re
import sys
from functools import cache
from pathlib import Path

import kedro_ml_lint

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - CI runs 3.11
    import tomli as tomllib

PACKAGE = Path(kedro_ml_lint.__file__).parent
REPOSITORY = PACKAGE.parent
DESIGN = REPOSITORY / "docs" / "design.md"
README = REPOSITORY / "README.md"
# Our MLflow package, before and after the layout move (issue 24).
PUBLISHING = ("kedro_ml_lint.publishing", "kedro_ml_lint.publishing")
# The seams of private and version-specific library APIs, before and after the move.
SEAMS = ("kedro_ml_lint.eras", "kedro_ml_lint.seams.mlflow_private", "kedro_ml_lint.seams")


@cache
def modules() -> dict[str, ast.Module]:
    """Every module of the package, by dotted name, as a syntax tree."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return found


def _within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == package or name.startswith(package + ".") for package in packages)


def _imported(tree: ast.Module) -> set[str]:
    """The absolute module names a module imports, anywhere in it (functions included)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def _importers_of(library: str) -> set[str]:
    return {
        name
        for name, tree in modules().items()
        if any(imported.split(".")[0] == library for imported in _imported(tree))
    }


def _calls(tree: ast.Module) -> set[str]:
    """The dotted names called in a module (``print``, ``click.echo``, ``sys.exit``…)."""
    called = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            parts = []
            target = node.func
            while isinstance(target, ast.Attribute):
                parts.append(target.attr)
                target = target.value
            if isinstance(target, ast.Name):
                parts.append(target.id)
                called.add(".".join(reversed(parts)))
    return called


PRINTING = {"print", "click.echo", "click.secho", "sys.stdout.write", "sys.stderr.write"}
EXITING = {"sys.exit", "os._exit", "exit", "quit"}


def test_only_the_cli_and_the_hook_print() -> None:
    """§8: cli.py prints; hooks.py's error prints itself when Kedro's CLI shows it."""
    printing = {name for name, tree in modules().items() if _calls(tree) & PRINTING}
    assert printing == {"kedro_ml_lint.cli", "kedro_ml_lint.hooks"}


def test_only_the_cli_exits() -> None:
    """§8: cli.py is the only place that ends the process."""
    exiting = {name for name, tree in modules().items() if _calls(tree) & EXITING}
    assert exiting == {"kedro_ml_lint.cli"}


def test_click_is_used_by_the_cli_the_hook_the_text_colours_and_the_watch_only() -> None:
    """§8: click parses the command line, is how Kedro's CLI shows the hook's error,
    colours text output and clears the terminal between --watch runs."""
    users = _importers_of("click")
    assert {name.rsplit(".", 1)[-1] for name in users} == {"cli", "hooks", "text", "watch"}
    assert "kedro_ml_lint.cli" in users and "kedro_ml_lint.hooks" in users


def test_only_the_publishing_package_and_the_seams_import_mlflow() -> None:
    """§8 and D8: MLflow is imported by our MLflow package (and the MLflow seam) alone."""
    importers = _importers_of("mlflow")
    assert importers, "the MLflow package imports mlflow"
    assert {name for name in importers if not _within(name, PUBLISHING + SEAMS)} == set()


def test_exit_codes_are_defined_once_and_imported_from_there() -> None:
    """§5: the exit codes live in one module; every other module imports them."""
    defining = {}
    for name, tree in modules().items():
        for node in tree.body:
            targets = node.targets if isinstance(node, ast.Assign) else []
            for target in targets:
                for element in target.elts if isinstance(target, ast.Tuple) else [target]:
                    if isinstance(element, ast.Name) and element.id.startswith("EXIT_"):
                        defining.setdefault(element.id, set()).add(name)
    assert {"EXIT_CLEAN", "EXIT_VIOLATIONS", "EXIT_ERROR"} <= set(defining)
    homes = set().union(*defining.values())
    assert len(homes) == 1, defining
    (home,) = homes
    for name, tree in modules().items():
        used = {
            node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and node.id in defining
        }
        if name == home or not used:
            continue
        imported = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module == home
            for alias in node.names
        }
        assert used <= imported, f"{name} uses {sorted(used - imported)} without importing them"


def test_the_version_lives_in_one_place() -> None:
    """§8: one module assigns ``__version__``; the package re-exports it."""
    assigning = {
        name
        for name, tree in modules().items()
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name) and target.id == "__version__"
    }
    assert len(assigning) == 1, assigning
    assert kedro_ml_lint.__version__


def test_the_lowest_layer_imports_nothing_of_ours() -> None:
    """§8: the bottom layer (vocabulary, quiet, files) imports no module of the package."""
    layers = _layers()
    bottom = [part.strip() for part in layers[-1].split("|")]
    assert "kedro_ml_lint.files" in bottom
    for name in bottom:
        ours = {
            imported
            for imported in _imported(modules()[name])
            if imported.startswith("kedro_ml_lint")
        }
        assert ours == set(), f"{name} imports {sorted(ours)}"


def _layers() -> list[str]:
    config = tomllib.loads((REPOSITORY / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (layered,) = [contract for contract in contracts if contract["type"] == "layers"]
    return list(layered["layers"])


def test_every_module_of_the_package_is_in_a_layer() -> None:
    """§8: import-linter's layers name every top-level module and package of ours."""
    named = {part.strip() for layer in _layers() for part in layer.split("|") if part.strip()}
    top_level = {".".join(name.split(".")[:2]) for name in modules() if name.count(".") >= 1}
    assert top_level - named == set()


def test_every_rule_has_a_doc_a_case_file_and_a_row() -> None:
    """§2: a rule needs a doc in the package, YAML cases and a row in design.md's table."""
    from kedro_ml_lint.rules import RULES

    design = DESIGN.read_text(encoding="utf-8")
    missing = []
    for rule in RULES:
        if not (PACKAGE / "rules" / "docs" / f"{rule.code}.md").is_file():
            missing.append(f"{rule.code}: doc")
        if not (REPOSITORY / "tests" / "rules" / "cases" / f"{rule.code}.yml").is_file():
            missing.append(f"{rule.code}: cases")
        if not re.search(rf"^\| {rule.code} \| {re.escape(rule.name)} \|", design, re.M):
            missing.append(f"{rule.code}: design.md row")
    assert missing == []


def _cli_options() -> dict[str, set[str]]:
    import click

    from kedro_ml_lint.cli import main

    options: dict[str, set[str]] = {"": set()}
    for parameter in main.params:
        options[""].update(parameter.opts + parameter.secondary_opts)
    options[""].update({"--help", "-h"})
    for name, command in main.commands.items():
        options[name] = {"--help", "-h"}
        for parameter in command.params:
            if isinstance(parameter, click.Option):
                options[name].update(parameter.opts + parameter.secondary_opts)
    return options


COMMAND = re.compile(r"(?:kedro-ml-lint|kedro ml-lint|python -m kedro_ml_lint)((?: [^`\n]*)?)")


def _documented_options(text: str) -> set[tuple[str, str]]:
    """(command, option) for each option written after one of our commands in ``text``.

    A synopsis line that starts with whitespace and ``[`` continues the command above it.
    """
    found = set()
    command = None
    for line in text.splitlines():
        if command is not None and re.match(r"\s+\[", line):
            rest = line
        else:
            command = None
            rest = ""
            for match in COMMAND.finditer(line):
                rest = match.group(1)
                words = rest.split()
                command = words[0] if words and not words[0].startswith("-") else ""
        if command is None:
            continue
        for option in re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", rest):
            found.add((command, option))
    return found


def test_every_option_the_docs_give_our_commands_exists() -> None:
    """§5 and the README: every option written after `kedro-ml-lint <command>` exists."""
    options = _cli_options()
    unknown = []
    for doc in (DESIGN, README):
        for command, option in sorted(_documented_options(doc.read_text(encoding="utf-8"))):
            known = options.get(command, set()) | options[""]
            if command not in options:
                continue  # prose after the name (`kedro-ml-lint is …`), not a command
            if option not in known:
                unknown.append(f"{doc.name}: {command} {option}")
    assert unknown == []


def test_the_options_are_read_from_the_docs() -> None:
    """The reader above finds what a synopsis and a prose command say (and no more)."""
    text = (
        "```\nkedro-ml-lint check [DIR] [--env ENV]\n                    [--fix] [-q]\n"
        "kedro-ml-lint rules\n```\nRun `kedro run --pipelines x` or "
        "`kedro-ml-lint check --log`.\n"
    )
    assert _documented_options(text) == {
        ("check", "--env"),
        ("check", "--fix"),
        ("check", "-q"),
        ("check", "--log"),
    }


def test_every_environment_variable_of_ours_is_documented() -> None:
    """§5: the environment variables kedro-ml-lint reads are listed."""
    design = DESIGN.read_text(encoding="utf-8")
    ours = {
        node.value
        for tree in modules().values()
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and re.fullmatch(r"KEDRO_ML_LINT_[A-Z_]+", node.value)
    }
    assert ours, "the package reads variables of its own"
    assert {name for name in ours if f"`{name}`" not in design} == set()
