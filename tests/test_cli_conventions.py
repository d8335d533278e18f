"""ruff's command-line conventions on ``check`` (issue 21), in-process through click's CliRunner.

Output format and its variable, colour and ``NO_COLOR``/``FORCE_COLOR``, ``--config`` and
``--isolated``, ``--ignore`` adding to the configured ignores, ``--extend-select``,
``--select`` replacing the configured selection, ``--show-settings`` (golden file) and
the one-line usage errors. The rule selection's resolution is also a hypothesis property.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import EXAMPLES
from hypothesis import given, settings
from hypothesis import strategies as st
from test_golden import GOLDEN, UPDATE, normalise

from kedro_ml_lint.cli import main
from kedro_ml_lint.engine import ALL
from kedro_ml_lint.report import console
from kedro_ml_lint.rules import RULES
from kedro_ml_lint.settings import SelectorLevel, resolve_rules

# The example's findings, by code: KML001, 002, 003 (x2), 004, 005, 006, 007.
TABLE = '\n[tool.kedro-ml-lint]\nignore = ["KML002"]\n'
QUIET_ENV = {
    "NO_COLOR": None,
    "FORCE_COLOR": None,
    "GITHUB_ACTIONS": None,
    "GITHUB_WORKSPACE": None,
}
ESC = "\x1b["


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The broken example, whose pyproject switches KML002 off."""
    target = tmp_path_factory.mktemp("conventions") / "churn-broken"
    shutil.copytree(
        EXAMPLES / "churn-broken", target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    with (target / "pyproject.toml").open("a", encoding="utf-8") as handle:
        handle.write(TABLE)
    return target


# Every test here runs the CLI in-process.
pytestmark = pytest.mark.usefixtures("_cli_side_effects_undone")


def invoke(*args: str | Path, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(
        main, [str(a) for a in args], env={**QUIET_ENV, **(env or {})}, prog_name="kedro-ml-lint"
    )


def codes(result: Result) -> list[str]:
    assert result.exit_code in (0, 1), result.stderr
    return sorted({v["code"] for v in json.loads(result.stdout)["violations"]})


def one_line_error(result: Result) -> str:
    assert result.exit_code == 2, result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("kedro-ml-lint: error: ")
    assert "Traceback" not in result.stderr
    return lines[0]


# --- --output-format -----------------------------------------------------------------------


def test_output_format_its_alias_and_its_variable_give_the_same_report(project: Path) -> None:
    new = invoke("check", project, "--output-format", "json")
    alias = invoke("check", project, "--format", "json")
    variable = invoke("check", project, env={"KEDRO_ML_LINT_OUTPUT_FORMAT": "json"})
    assert new.stdout == alias.stdout == variable.stdout
    assert json.loads(new.stdout)["schema_version"] == 2


def test_the_flag_wins_over_the_variable(project: Path) -> None:
    run = invoke(
        "check", project, "--output-format", "github", env={"KEDRO_ML_LINT_OUTPUT_FORMAT": "json"}
    )
    assert run.stdout.startswith("::error ")


@pytest.mark.parametrize(
    ("args", "env", "accepted"),
    [
        (["--output-format", "xml"], {}, "'text', 'json', 'sarif', 'github', 'markdown'"),
        (["--format", "xml"], {}, "'text', 'json', 'sarif', 'github', 'markdown'"),
        ([], {"KEDRO_ML_LINT_OUTPUT_FORMAT": "xml"}, "KEDRO_ML_LINT_OUTPUT_FORMAT"),
        (["--color", "sometimes"], {}, "'auto', 'always', 'never'"),
    ],
)
def test_an_unknown_value_is_one_line_naming_the_accepted_ones(
    project: Path, args: list[str], env: dict[str, str], accepted: str
) -> None:
    line = one_line_error(invoke("check", project, *args, env=env))
    assert accepted in line
    assert "kedro-ml-lint check --help" in line


# --- colour -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "env", "terminal", "expected"),
    [
        (None, {}, False, "never"),  # auto: a pipe
        (None, {}, True, "always"),  # auto: a terminal
        ("always", {}, False, "always"),
        (None, {"FORCE_COLOR": "1"}, False, "always"),
        (None, {"NO_COLOR": "1", "FORCE_COLOR": "1"}, True, "never"),  # no-color.org first
        (None, {"NO_COLOR": ""}, True, "always"),  # set but empty: unset (no-color.org)
        (None, {"FORCE_COLOR": ""}, False, "never"),  # set but empty: unset (force-color.org)
        ("always", {"NO_COLOR": "1"}, False, "always"),  # the explicit flag wins
        ("never", {"FORCE_COLOR": "1"}, True, "never"),
        ("auto", {"FORCE_COLOR": "1"}, False, "always"),  # auto defers to the environment
    ],
)
def test_colour_follows_the_flag_then_no_color_then_force_color(
    flag: str | None, env: dict[str, str], terminal: bool, expected: str
) -> None:
    assert console.color(flag, env, terminal).value == expected


@pytest.mark.parametrize(
    ("args", "env", "coloured"),
    [
        ([], {}, False),  # CliRunner's stdout is no terminal
        ([], {"FORCE_COLOR": "1"}, True),
        (["--color", "never"], {"FORCE_COLOR": "1"}, False),
        (["--color", "always"], {"NO_COLOR": "1"}, True),
    ],
)
def test_the_text_report_is_coloured_as_resolved(
    project: Path, args: list[str], env: dict[str, str], coloured: bool
) -> None:
    run = invoke("check", project, "--output-format", "text", *args, env=env)
    assert run.exit_code == 1, run.stderr
    assert (ESC in run.stdout) is coloured
    assert run.stdout.count("KML0") >= 6  # the report itself, coloured or not


def test_colour_never_reaches_another_format(project: Path) -> None:
    run = invoke("check", project, "--output-format", "json", "--color", "always")
    assert ESC not in run.stdout
    json.loads(run.stdout)


# --- selection ------------------------------------------------------------------------------


def test_ignore_adds_to_the_configured_ignores(project: Path) -> None:
    assert "KML002" not in codes(invoke("check", project, "--format", "json"))
    found = codes(invoke("check", project, "--format", "json", "--ignore", "KML003"))
    assert "KML002" not in found  # the project switched it off: it stays off
    assert "KML003" not in found
    assert "KML001" in found


def test_extend_select_adds_and_select_replaces_the_configured_selection(project: Path) -> None:
    # KML002 is ignored by the file: --extend-select at the higher level brings it back.
    assert "KML002" in codes(
        invoke("check", project, "--format", "json", "--extend-select", "KML002")
    )
    # --select replaces the file's selection and its modifiers, as ruff's does.
    assert codes(invoke("check", project, "--format", "json", "--select", "KML002,KML005")) == [
        "KML002",
        "KML005",
    ]
    assert codes(
        invoke("check", project, "--format", "json", "--select", "KML00", "--ignore", "KML003")
    ) == ["KML001", "KML002", "KML004", "KML005", "KML006", "KML007"]


def test_config_replaces_the_table_and_isolated_ignores_it(project: Path, tmp_path: Path) -> None:
    config = tmp_path / "lint.toml"
    config.write_text('ignore = ["KML001", "KML003"]\n', encoding="utf-8")
    found = codes(invoke("check", project, "--format", "json", "--config", config))
    assert "KML002" in found  # the project's table is not read
    assert "KML001" not in found and "KML003" not in found
    isolated = codes(invoke("check", project, "--format", "json", "--isolated"))
    assert isolated == ["KML001", "KML002", "KML003", "KML004", "KML005", "KML006", "KML007"]


def test_a_pyproject_given_as_config_gives_its_table(project: Path, tmp_path: Path) -> None:
    config = tmp_path / "pyproject.toml"
    config.write_text('[tool.kedro-ml-lint]\nselect = ["KML005"]\n', encoding="utf-8")
    assert codes(invoke("check", project, "--format", "json", "--config", config)) == ["KML005"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('ignore = ["KML9"]\n', "unknown rule selector `KML9` in `ignore`"),
        ("ignor = []\n", "unknown key `ignor` in the configuration; did you mean `ignore`?"),
        ("ignore = [\n", "lint.toml:"),
        ('[[pairs]]\ntraining = "t"\n', "cannot declare `pairs`"),
    ],
)
def test_a_bad_config_file_is_one_line(
    project: Path, tmp_path: Path, content: str, expected: str
) -> None:
    config = tmp_path / "lint.toml"
    config.write_text(content, encoding="utf-8")
    assert expected in one_line_error(invoke("check", project, "--config", config))


def test_config_and_isolated_do_not_go_together(project: Path, tmp_path: Path) -> None:
    config = tmp_path / "lint.toml"
    config.write_text("", encoding="utf-8")
    line = one_line_error(invoke("check", project, "--config", config, "--isolated"))
    assert "--config and --isolated" in line


def test_a_missing_config_file_is_one_line(project: Path, tmp_path: Path) -> None:
    line = one_line_error(invoke("check", project, "--config", tmp_path / "nowhere.toml"))
    assert "nowhere.toml" in line and "cannot read" in line


# --- --show-settings ------------------------------------------------------------------------


def test_show_settings_matches_golden_file(project: Path) -> None:
    run = invoke(
        "check",
        project,
        "--show-settings",
        "--ignore",
        "KML004",
        "--extend-select",
        "KML1",
        env={"KEDRO_ML_LINT_OUTPUT_FORMAT": "json", "KEDRO_ML_LINT_NO_CACHE": "1"},
    )
    assert run.exit_code == 0, run.stderr
    actual = normalise(run.stdout, project)
    golden = GOLDEN / "show-settings.txt"
    if UPDATE:
        golden.write_text(actual, encoding="utf-8", newline="")
    assert actual == golden.read_text(encoding="utf-8")


def test_show_settings_loads_nothing(project: Path, tmp_path: Path) -> None:
    """It reads pyproject.toml only: no cache folder appears, no project code runs."""
    copy = tmp_path / "copy"
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns(".kedro-ml-lint-cache"))
    [registry] = copy.glob("src/*/pipeline_registry.py")
    registry.write_text("raise RuntimeError('imported')\n", encoding="utf-8")
    run = invoke("check", copy, "--show-settings", "--isolated", "--color", "always")
    assert run.exit_code == 0, run.stderr
    assert re.search(r"^ignore += \[\] +# default$", run.stdout, re.M), run.stdout
    assert re.search(r'^color += "always" +# command line \(--color always\)$', run.stdout, re.M)
    assert "pyproject.toml" not in run.stdout  # every value is a default or the command line's
    assert not (copy / ".kedro-ml-lint-cache").exists()


# --- the resolution, as a property -------------------------------------------------------

CODES = [rule.code for rule in RULES]
SELECTORS = st.sampled_from([ALL, "KML", "KML0", "KML00", "KML1", "KML2", "KML20", *CODES])
SELECTOR_LISTS = st.lists(SELECTORS, max_size=4).map(tuple)


def _covered(code: str, selectors: tuple[str, ...]) -> bool:
    return any(s == ALL or code.startswith(s) for s in selectors)


@settings(deadline=None)
@given(
    file_select=st.none() | SELECTOR_LISTS,
    file_ignore=SELECTOR_LISTS,
    cli_ignore=SELECTOR_LISTS,
    cli_extend=SELECTOR_LISTS,
)
def test_the_command_line_ignore_only_removes_and_extend_select_only_adds(
    file_select: tuple[str, ...] | None,
    file_ignore: tuple[str, ...],
    cli_ignore: tuple[str, ...],
    cli_extend: tuple[str, ...],
) -> None:
    file_level = SelectorLevel(file_select, (), file_ignore)
    configured = set(resolve_rules([file_level]))
    with_ignore = set(resolve_rules([file_level, SelectorLevel(None, (), cli_ignore)]))
    with_extend = set(resolve_rules([file_level, SelectorLevel(None, cli_extend, ())]))
    # --ignore never brings back what the file switched off, and removes what it names.
    assert with_ignore == {c for c in configured if not _covered(c, cli_ignore)}
    # --extend-select never drops a configured rule, and adds what it names.
    assert with_extend == configured | {c for c in CODES if _covered(c, cli_extend)}


@settings(deadline=None)
@given(file_select=SELECTOR_LISTS, file_ignore=SELECTOR_LISTS, cli_select=SELECTOR_LISTS)
def test_the_command_line_select_replaces_the_file_and_its_modifiers(
    file_select: tuple[str, ...], file_ignore: tuple[str, ...], cli_select: tuple[str, ...]
) -> None:
    levels = [SelectorLevel(file_select, (), file_ignore), SelectorLevel(cli_select, (), ())]
    assert set(resolve_rules(levels)) == {c for c in CODES if _covered(c, cli_select)}


def test_inside_a_level_ignore_wins_and_a_higher_level_brings_a_rule_back() -> None:
    assert resolve_rules([SelectorLevel(("KML001",), (), ("KML0",))]) == ()
    assert resolve_rules([SelectorLevel(None, ("KML001",), ("KML001",))]) == tuple(
        code for code in CODES if code != "KML001"
    )
    file_level = SelectorLevel(None, (), ("KML001",))
    assert "KML001" not in resolve_rules([file_level])
    assert "KML001" in resolve_rules([file_level, SelectorLevel(None, ("KML001",), ())])
