"""``kedro-ml-lint check`` end to end on real projects: examples and projects built on disk."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from conftest import BROKEN_EXPECTED, EXAMPLES, run_cli, tree_digest
from project_factory import CATALOG, NODES, PIPELINES, REGISTRY, write_project

import kedro_ml_lint
from kedro_ml_lint.api import lint_project
from kedro_ml_lint.errors import PipelineNotFoundError, ProjectConfigError
from kedro_ml_lint.reading.pairs import CliPair

SECRETS = ("supersecret", "AKIAEXAMPLE")
TEXT_LINE = re.compile(
    r"^(?P<path>[^:\s]+):(?P<line>\d+):(?P<col>\d+): "
    r"(?P<code>KML\d{3}) .+ \[(?P<pipeline>[\w.]+)\]$"
)


def violations(result) -> set[tuple[str, str, str | None]]:
    return {(v.pair, v.code, v.subject) for v in result.violations}


# --- the bundled examples, through the real CLI ---------------------------------------


@pytest.mark.integration
def test_clean_example_passes() -> None:
    before = tree_digest(EXAMPLES / "churn")
    run = run_cli("check", EXAMPLES / "churn", process=True)  # exit 0 of a real process
    assert run.code == 0, run.stdout + run.stderr
    assert run.stdout.strip().startswith("All checks passed!")
    assert tree_digest(EXAMPLES / "churn") == before


@pytest.mark.integration
def test_broken_example_reports_every_violation_at_once() -> None:
    run = run_cli("check", EXAMPLES / "churn-broken", "--format", "json")
    assert run.code == 1, run.stderr
    assert run.pairs == BROKEN_EXPECTED
    document = run.json
    assert document["schema_version"] == 2
    assert document["tool"]["name"] == "kedro-ml-lint"
    assert {(p["pipeline"], p["input_name"], p["source"]) for p in document["pairs"]} == {
        ("training", "instances", "pipeline_ml"),
        ("legacy", "instance", "pipeline_ml"),
    }
    assert document["summary"] == {"violations": 8, "fixed": 0, "fixable": 1}
    by_key = {(v["code"], v["subject"]): v for v in document["violations"]}
    assert by_key[("KML001", "encoder")]["fix"]["applicability"] == "safe"
    assert by_key[("KML002", "scaler")]["fix"] is None
    assert by_key[("KML002", "scaler")]["location"]["path"] == "conf/base/catalog.yml"
    assert by_key[("KML004", None)]["location"]["path"].endswith("pipeline_registry.py")
    for violation in document["violations"]:
        assert set(violation) == {
            "code",
            "name",
            "severity",
            "message",
            "pipeline",
            "subject",
            "location",
            "fix",
        }
        assert violation["severity"] == "error"


@pytest.mark.integration
def test_text_format_lines_and_exit_code() -> None:
    run = run_cli("check", EXAMPLES / "churn-broken", process=True)  # exit 1, for real
    assert run.code == 1
    *lines, summary = run.stdout.strip().splitlines()
    parsed = [TEXT_LINE.match(line) for line in lines]
    assert all(parsed), lines
    assert {(m["pipeline"], m["code"]) for m in parsed} == {(p, c) for p, c, _ in BROKEN_EXPECTED}
    assert all((EXAMPLES / "churn-broken" / m["path"]).is_file() for m in parsed)
    assert summary.startswith("Found 8 errors (")
    assert "\x1b[" not in run.stdout  # no colour when not a TTY


@pytest.mark.parametrize("fmt", ["text", "json"])
@pytest.mark.integration
def test_credentials_never_reach_any_output(fmt: str) -> None:
    run = run_cli("check", EXAMPLES / "churn-broken", "--format", fmt, "-v", process=True)
    for secret in SECRETS:
        assert secret not in run.stdout and secret not in run.stderr


@pytest.mark.integration
def test_select_ignore_exit_zero_quiet_and_output(tmp_path: Path) -> None:
    broken = EXAMPLES / "churn-broken"
    assert run_cli("check", broken, "--select", "KML001,KML002", "--format", "json").pairs == {
        ("training", "KML001", "encoder"),
        ("training", "KML002", "scaler"),
    }
    ignored = run_cli("check", broken, "--ignore", "KML00", "--select", "ALL", "--format", "json")
    assert ignored.code == 0 and ignored.pairs == set()
    assert run_cli("check", broken, "--exit-zero").code == 0
    quiet = run_cli("check", broken, "-q")
    assert quiet.code == 1 and "Found" not in quiet.stdout and len(quiet.stdout.splitlines()) == 8
    report = tmp_path / "report.json"
    written = run_cli("check", broken, "--format", "json", "--output", report)
    assert written.code == 1 and written.stdout == ""
    assert report.read_text().startswith("{")


@pytest.mark.integration
def test_rules_and_rule_commands() -> None:
    listing = run_cli("rules")
    assert listing.code == 0
    codes = [line.split()[0] for line in listing.stdout.splitlines()]
    assert codes == [
        *(f"KML00{n}" for n in range(1, 8)),
        "KML101",
        *(f"KML20{n}" for n in range(1, 7)),
    ]
    doc = run_cli("rule", "kml002")
    assert doc.code == 0 and doc.stdout.startswith("---")
    assert "code: KML002" in doc.stdout
    assert run_cli("rule", "KML999", process=True).code == 2
    assert run_cli("--version", process=True).stdout.strip().endswith(kedro_ml_lint.__version__)


@pytest.mark.integration
def test_check_never_imports_mlflow() -> None:
    import subprocess

    code = (
        "import sys\n"
        "from kedro_ml_lint.api import lint_project\n"
        f"result = lint_project({str(EXAMPLES / 'churn')!r})\n"
        "assert not result.violations, result.violations\n"
        "print(sorted(m for m in sys.modules if m == 'mlflow' or m.startswith('mlflow.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


# --- kedro-mlflow interop ------------------------------------------------------------


@pytest.mark.integration
def test_kedro_mlflow_clean_pair() -> None:
    run = run_cli("check", EXAMPLES / "churn-kedro-mlflow", "--format", "json")
    assert run.code == 0, run.stdout + run.stderr
    assert [p["pipeline"] for p in run.json["pairs"]] == ["training"]


@pytest.mark.integration
def test_kedro_mlflow_pair_that_raises_at_import_is_still_analysed() -> None:
    run = run_cli("check", EXAMPLES / "churn-kedro-mlflow-broken", "--format", "json")
    assert run.code == 1, run.stderr
    assert run.pairs == {
        ("training", "KML001", "encoder"),
        ("training", "KML003", "reference_stats"),
    }


def test_registry_pair_is_reported_once_despite_default_alias(tmp_path: Path) -> None:
    result = lint_project(write_project(tmp_path))
    assert [(p.name, p.source.value) for p in result.pairs] == [("training", "pipeline_ml")]
    assert result.violations == []


@pytest.mark.parametrize("selected", ["training", "__default__"])
def test_a_pair_registered_twice_is_selected_by_either_name(tmp_path: Path, selected: str) -> None:
    result = lint_project(write_project(tmp_path), pipelines=[selected])
    assert [p.name for p in result.pairs] == ["training"]
    with pytest.raises(PipelineNotFoundError, match="`__default__`"):
        lint_project(tmp_path, pipelines=["trainning"])


def test_config_pairs_from_pyproject(tmp_path: Path) -> None:
    registry = (
        "from {package}.pipelines import inference, training\n\n\n"
        "def register_pipelines():\n"
        "    return {{'training': training(), 'inference': inference()}}\n"
    )
    extra = """
    [[tool.kedro-ml-lint.pairs]]
    name = "churn"
    training = "training"
    inference = "inference"
    input_name = "instance"
    """
    root = write_project(tmp_path, registry=registry, pyproject_extra=extra)
    result = lint_project(root)
    assert [(p.name, p.input_name, p.source.value) for p in result.pairs] == [
        ("churn", "instance", "config")
    ]
    # With `input_name` wrong, the real served input counts as an artifact (docs/design.md §2).
    assert violations(result) == {("churn", "KML005", None), ("churn", "KML003", "instances")}
    kml005 = next(v for v in result.violations if v.code == "KML005")
    lines = (root / "pyproject.toml").read_text().splitlines()
    assert kml005.location is not None and kml005.location.path == "pyproject.toml"
    assert lines[kml005.location.line - 1] == "[[tool.kedro-ml-lint.pairs]]"


@pytest.mark.integration
def test_cli_pair_replaces_declared_pairs(tmp_path: Path) -> None:
    root = write_project(tmp_path)
    result = lint_project(root, cli_pair=CliPair("inference", "inference", "instances"))
    assert [(p.name, p.source.value) for p in result.pairs] == [("inference", "cli")]
    # Training = inference: the artifacts are read by training, so only structure matters.
    assert violations(result) == set()
    run = run_cli(
        "check",
        root,
        "--training",
        "training",
        "--inference",
        "inference",
        "--input-name",
        "scaler",
        "--format",
        "json",
    )
    assert run.pairs == {("training", "KML003", "instances")}
    assert run.json["pairs"][0]["source"] == "cli"


@pytest.mark.integration
def test_pipeline_option_selects_pairs(tmp_path: Path) -> None:
    run = run_cli("check", EXAMPLES / "churn-broken", "--pipeline", "legacy", "--format", "json")
    assert {p for p, _, _ in run.pairs} == {"legacy"}


# --- catalog resolution --------------------------------------------------------------


NAMESPACED = """
from kedro.pipeline import Pipeline, node, pipeline

from {package}.nodes import fit, predict


def training():
    return pipeline(Pipeline([
        node(fit, ["features", "params:model_options"], "scaler@pickle", name="fit_scaler"),
        node(fit, ["features", "scaler@pickle"], "model", name="fit_model"),
    ]), namespace="churn", inputs={{"features"}}, parameters={{"params:model_options"}})


def inference():
    return pipeline(Pipeline([
        node(predict, ["instances", "scaler@joblib", "model", "params:threshold"], "predictions",
             name="predict"),
    ]), namespace="churn", inputs={{"instances"}}, parameters={{"params:threshold"}})
"""


def test_factory_patterns_namespaces_and_transcoding(tmp_path: Path) -> None:
    catalog = """
    instances:
      type: pandas.CSVDataset
      filepath: data/01_raw/instances.csv
    "{namespace}.scaler@{fmt}":
      type: pickle.PickleDataset
      filepath: s3://bucket/{namespace}/scaler.pkl
    "{namespace}.model":  # models of every namespace
      type: pickle.PickleDataset
      filepath: data/06_models/{namespace}/model.pkl
    """
    root = write_project(tmp_path, catalog=catalog, pipelines=NAMESPACED)
    result = lint_project(root)
    assert violations(result) == {("training", "KML002", "churn.scaler@joblib")}
    (violation,) = result.violations
    assert violation.location is not None
    assert (violation.location.path, violation.location.line) == ("conf/base/catalog.yml", 4)


def test_catch_all_memory_pattern_and_explicit_memory_entry(tmp_path: Path) -> None:
    catalog = (
        CATALOG.replace("model:  # the fitted model", "unused:")
        + """
"{default}":
  type: MemoryDataset
scaler_memory:
  type: MemoryDataset
"""
    )
    root = write_project(tmp_path, catalog=catalog)
    result = lint_project(root)
    assert violations(result) == {("training", "KML001", "model")}
    (violation,) = result.violations
    lines = (root / "conf/base/catalog.yml").read_text().splitlines()
    assert violation.location is not None
    assert lines[violation.location.line - 1] == '"{default}":'  # the pattern that matched


@pytest.mark.integration
def test_run_environment_overrides_base(tmp_path: Path) -> None:
    root = write_project(tmp_path)
    prod = root / "conf" / "prod"
    prod.mkdir()
    (prod / "catalog.yml").write_text("model:\n  type: MemoryDataset\n")
    assert lint_project(root).violations == []
    result = lint_project(root, env="prod")
    assert violations(result) == {("training", "KML001", "model")}
    assert result.violations[0].location.path == "conf/prod/catalog.yml"
    run = run_cli("check", root, "--env", "prod", "--format", "json")
    assert run.pairs == {("training", "KML001", "model")}


def test_conf_source(tmp_path: Path) -> None:
    root = write_project(tmp_path / "project")
    other = tmp_path / "other-conf"
    (other / "base").mkdir(parents=True)
    (other / "base" / "catalog.yml").write_text(
        "instances:\n  type: pandas.CSVDataset\n  filepath: x.csv\n"
    )
    # Kedro needs the default run environment's folder too: without it, `kedro run` fails.
    with pytest.raises(ProjectConfigError, match="does not exist") as missing:
        lint_project(root, conf_source=str(other))
    assert missing.value.path is not None and missing.value.path.endswith("other-conf/local")
    (other / "local").mkdir()
    result = lint_project(root, conf_source=str(other))
    assert violations(result) == {
        ("training", "KML001", "scaler"),
        ("training", "KML001", "model"),
        ("training", "KML006", "params:threshold"),
    }


@pytest.mark.integration
def test_credentials_are_never_resolved(tmp_path: Path) -> None:
    catalog = CATALOG.replace(
        "  filepath: data/06_models/model.pkl",
        "  filepath: gs://key:hunter2@bucket/model.pkl\n  credentials: does_not_exist",
    )
    root = write_project(tmp_path, catalog=catalog)
    run = run_cli("check", root)
    assert run.code == 1
    assert "KML002" in run.stdout and "hunter2" not in run.stdout + run.stderr


# --- suppressions --------------------------------------------------------------------


def test_noqa_and_per_dataset_ignores(tmp_path: Path) -> None:
    catalog = (
        CATALOG.replace("model:  # the fitted model", "model:  # noqa: KML002")
        .replace("data/06_models/model.pkl", "s3://bucket/model.pkl")
        .replace("data/06_models/scaler.pkl", "s3://bucket/scaler.pkl")
    )
    root = write_project(tmp_path, catalog=catalog)
    assert violations(lint_project(root)) == {("training", "KML002", "scaler")}
    root2 = write_project(
        tmp_path / "two",
        catalog=catalog,
        pyproject_extra='[tool.kedro-ml-lint]\nper-dataset-ignores = {"sca*" = ["KML002"]}\n',
    )
    assert violations(lint_project(root2)) == set()


def test_select_in_pyproject_and_cli_override(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        parameters="model_options: {}\n",
        pyproject_extra='[tool.kedro-ml-lint]\nignore = ["KML006"]\n',
    )
    assert violations(lint_project(root)) == set()
    assert violations(lint_project(root, ignore=[])) == {("training", "KML006", "params:threshold")}


# --- lite import ---------------------------------------------------------------------


@pytest.mark.integration
def test_lite_import_stands_in_for_missing_packages(tmp_path: Path) -> None:
    nodes = "import not_installed_pkg.sub as nip\nfrom other_missing import thing\n" + NODES
    root = write_project(tmp_path, nodes=nodes)
    run = run_cli("check", root)
    assert run.code == 0, run.stderr
    warning = [line for line in run.stderr.splitlines() if "lite import" in line]
    assert len(warning) == 1
    assert "`not_installed_pkg`" in warning[0] and "`other_missing`" in warning[0]
    assert run_cli("check", root, "-q", process=True).stderr == ""  # not a stray warning


def test_reloading_a_project_sees_its_new_code(tmp_path: Path) -> None:
    root = write_project(tmp_path)
    assert lint_project(root).violations == []
    pipelines = root / "src" / "demo" / "pipelines.py"
    pipelines.write_text(
        pipelines.read_text().replace(
            '"scaler", "model", "params', '"scaler", "model", "extra", "params'
        )
    )
    assert violations(lint_project(root)) == {
        ("training", "KML001", "extra"),
        ("training", "KML003", "extra"),
    }


def test_reloading_sees_new_code_in_a_helper_module_beside_the_package(tmp_path: Path) -> None:
    """``src/helpers.py`` is the project's own: never stood in, and never stale."""
    pipelines = PIPELINES.replace('"params:threshold"', "*EXTRA_INPUTS").replace(
        "from kedro.pipeline import", "from helpers import EXTRA_INPUTS\nfrom kedro.pipeline import"
    )
    root = write_project(tmp_path, pipelines=pipelines)
    helpers = root / "src" / "helpers.py"
    helpers.write_text('EXTRA_INPUTS = ["params:threshold"]\n')
    assert lint_project(root).violations == []
    helpers.write_text('EXTRA_INPUTS = ["params:threshold", "calibrator"]\n')
    assert violations(lint_project(root)) == {
        ("training", "KML001", "calibrator"),
        ("training", "KML003", "calibrator"),
    }


def test_registry_pair_location_points_at_factory_call(tmp_path: Path) -> None:
    registry = REGISTRY.replace('input_name="instances"', 'input_name="nope"')
    root = write_project(tmp_path, registry=registry, pipelines=PIPELINES)
    result = lint_project(root)
    kml005 = next(v for v in result.violations if v.code == "KML005")
    source = (root / "src/demo/pipeline_registry.py").read_text().splitlines()
    assert kml005.location is not None
    assert "pipeline_ml_factory(" in source[kml005.location.line - 1]


@pytest.mark.parametrize(("no_color", "coloured"), [(False, True), (True, False)])
@pytest.mark.integration
def test_colour_only_on_a_tty_and_never_with_no_color(no_color: bool, coloured: bool) -> None:
    import os
    import pty
    import subprocess

    primary, replica = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "GITHUB_ACTIONS")}
    if no_color:
        env["NO_COLOR"] = "1"
    proc = subprocess.Popen(
        [sys.executable, "-m", "kedro_ml_lint", "check", str(EXAMPLES / "churn-broken")],
        stdout=replica,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    os.close(replica)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(primary)
    assert proc.wait(timeout=120) == 1
    output = b"".join(chunks).decode()
    assert "KML001" in output
    assert ("\x1b[" in output) is coloured


def test_cli_pair_violation_points_at_register_pipelines(tmp_path: Path) -> None:
    root = write_project(tmp_path)
    result = lint_project(root, cli_pair=CliPair("training", "inference", "nope"))
    (kml005,) = [v for v in result.violations if v.code == "KML005"]
    assert kml005.location is not None
    assert kml005.location.path == "src/demo/pipeline_registry.py"
    lines = (root / kml005.location.path).read_text().splitlines()
    assert lines[kml005.location.line - 1].startswith("def register_pipelines")
