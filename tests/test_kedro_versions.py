"""Projects of Kedro 0.17, 0.18 and 0.19 read by one install, in a lean and a full environment;
a Kedro 0.16 one told the version found and the range read.

Each fixture under tests/fixtures is laid out the way ``kedro new`` of its Kedro version
generated projects (see each README), with a clean pair. Every variant below is one edit
away from it and names the verdict Kedro and kedro-mlflow *of that version* give: the
(pipeline, code, subject) set, or an exit 2 whose message names the file.

``needs``: libraries the project's import-time code uses in a way that shapes its
pipelines. Where one is missing (the lean environment, the pre-commit case), the only
right answer is exit 2 naming the project's line and the library to install, never a
verdict. The differential test at the end runs every variant and every example in both
environments and holds them to exactly that.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import EXAMPLES, CliRun, run_cli, tree_digest

from kedro_ml_lint.errors import NotAKedroProjectError
from kedro_ml_lint.reading.pyproject import refuse_older_project

# Every check here runs the real CLI (or a real ``kedro run``) in a process.
pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).parent / "fixtures"
Verdict = frozenset[tuple[str, str, str | None]]


@dataclass(frozen=True)
class Variant:
    """A fixture project, edited once, and what checking it must give."""

    fixture: str
    name: str
    edits: tuple[tuple[str, str, str], ...] = ()  # (file, old text, new text)
    expected: Verdict = frozenset()
    error: str | None = None  # exit 2: the file the one-line message must name
    needs: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()  # files or folders deleted from the copy
    added: tuple[tuple[str, str], ...] = ()  # (file, text) written into the copy
    hidden_in_sum: bool = True  # the fixture's `__default__` sum is kept (KML203)

    @property
    def id(self) -> str:
        return f"{self.fixture}:{self.name}"

    @property
    def verdict(self) -> Verdict:
        """What ``check`` reports: the variant's own violations and its fixture's warnings."""
        return self.expected | (HIDDEN_IN_SUM[self.fixture] if self.hidden_in_sum else frozenset())

    def build(self, folder: Path) -> Path:
        project = folder / self.fixture
        shutil.copytree(
            FIXTURES / self.fixture, project, ignore=shutil.ignore_patterns("__pycache__")
        )
        for relative, old, new in self.edits:
            path = project / relative
            text = path.read_text()
            assert old in text, f"{self.id}: `{old}` not in {relative}"
            path.write_text(text.replace(old, new, 1))
        for relative in self.removed:
            target = project / relative
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        for relative, text in self.added:
            (project / relative).parent.mkdir(parents=True, exist_ok=True)
            (project / relative).write_text(text, encoding="utf-8")
        return project


K16 = "kedro016-credit-risk"  # older than kedro-ml-lint reads: one line, exit 2
K17, K18, K19 = "kedro017-spam-filter", "kedro018-house-prices", "kedro019-fraud-detection"
# Each fixture, like the public projects it imitates, registers `__default__` as a sum that
# trains its kedro-mlflow pair, which kedro-mlflow's hook then never logs (a KML203 warning).
HIDDEN_IN_SUM: dict[str, Verdict] = {
    K16: frozenset(),
    K17: frozenset({("training", "KML203", None)}),
    K18: frozenset({("training_ml", "KML203", None)}),
    K19: frozenset({("training", "KML203", None)}),
}
PANDAS_COLUMNS = (
    "src/house_prices/pipelines/training/pipeline.py",
    "for feature in feature_names()",
    'for feature in pd.read_csv("data/01_raw/houses.csv").columns.drop("price")',
)

# The 0.18 fixture's catalog as a project moving to OmegaConfigLoader (0.18.13+) writes it.
OMEGACONF_CATALOG = """\
houses:
  type: ${globals:types.csv}
  filepath: ${globals:paths.raw}/houses.csv

listings:
  type: ${globals:types.csv}
  filepath: ${globals:paths.raw}/listings.csv

"{name}_imputer":
  type: pickle.PickleDataSet
  filepath: ${globals:paths.models}/{name}_imputer.pkl

scaler:
  type: kedro_mlflow.io.artifacts.MlflowArtifactDataSet
  data_set:
    type: pickle.PickleDataSet
    filepath: ${globals:paths.models}/scaler.pkl

regressor:
  type: pickle.PickleDataSet
  filepath: ${globals:paths.models}/regressor.pkl
  versioned: true

price_estimates:
  type: MemoryDataSet
"""

VARIANTS = (
    # Kedro 0.16.6 + kedro-mlflow 0.4: `.kedro.yml`, no `[tool.kedro]`; told, not read.
    Variant(K16, "clean", error=".kedro.yml:3: the project was made with Kedro 0.16.6 "),
    Variant(
        K16,
        "version-on-project-context",  # before 0.16.5 `.kedro.yml` held `context_path` only
        (
            (".kedro.yml", 'project_version: "0.16.6"\n', ""),
            (
                "src/credit_risk/run.py",
                '    or create new ones (e.g. as required by plugins)\n    """\n',
                '    or create new ones (e.g. as required by plugins)\n    """\n\n'
                '    project_name = "Credit Risk"\n'
                "    # `project_version` is the version of kedro used to generate the project\n"
                '    project_version = "0.16.4"\n',
            ),
        ),
        error="src/credit_risk/run.py:14: the project was made with Kedro 0.16.4 ",
    ),
    Variant(
        K16,
        "tool-kedro-in-pyproject",  # 0.16.5 read `[tool.kedro]` when `.kedro.yml` was absent
        added=(
            (
                "pyproject.toml",
                "[tool.kedro]\n"
                'context_path = "credit_risk.run.ProjectContext"\n'
                'project_name = "Credit Risk"\n'
                'project_version = "0.16.6"\n',
            ),
        ),
        removed=(".kedro.yml",),
        error="pyproject.toml:4: the project was made with Kedro 0.16.6;",
    ),
    # Kedro 0.17.7 + kedro-mlflow 0.7: hooks build a TemplatedConfigLoader.
    Variant(K17, "clean"),
    Variant(
        K17,
        "templated-remote-models",
        (("conf/base/globals.yml", "models: data/06_models", "models: s3://spam/models"),),
        frozenset({("training", "KML002", "vectorizer"), ("training", "KML002", "classifier")}),
    ),
    Variant(
        K17,
        "memory-dataset-artifact",
        (
            (
                "conf/base/catalog.yml",
                "type: kedro.extras.datasets.pickle.PickleDataSet\n"
                "  filepath: ${folders.models}/vectorizer.pkl",
                "type: MemoryDataSet",
            ),
        ),
        frozenset({("training", "KML001", "vectorizer")}),
    ),
    Variant(
        K17,
        "legacy-factory-input-name-typo",
        (
            (
                "src/spam_filter/pipeline_registry.py",
                'input_name="incoming_messages"',
                'input_name="incoming_message"',
            ),
        ),
        frozenset({("training", "KML005", None), ("training", "KML003", "incoming_messages")}),
    ),
    Variant(
        K17,
        "template-without-value",
        (("conf/base/catalog.yml", "${folders.raw}/messages.csv", "${folders.rw}/messages.csv"),),
        error="conf/base/catalog.yml",
    ),
    Variant(K17, "no-local-env", removed=("conf/local",), error="conf/local"),
    Variant(
        K17,
        "jinja-in-globals",  # 0.17.0's TemplatedConfigLoader rendered its globals too
        (("conf/base/globals.yml", "  models: data/06_models\n", '  models: "{{ models }}"\n'),),
        error="conf/base/globals.yml:4: Jinja2 (`{{`)",
    ),
    Variant(
        K17,
        "registry-in-hooks",  # Kedro 0.17.0/0.17.1: register_pipelines was a hook
        (
            (
                "src/spam_filter/hooks.py",
                "class ProjectHooks:\n",
                "class ProjectHooks:\n"
                "    @hook_impl\n"
                "    def register_pipelines(self):\n"
                "        from kedro_mlflow.pipeline import pipeline_ml_factory\n\n"
                "        from spam_filter.pipelines import inference, training\n\n"
                "        pair = pipeline_ml_factory(\n"
                "            training.create_pipeline(),\n"
                "            inference.create_pipeline(),\n"
                '            input_name="incoming_messages",\n'
                "        )\n"
                '        return {"training": pair, "__default__": pair}\n\n',
            ),
        ),
        removed=("src/spam_filter/pipeline_registry.py",),
        hidden_in_sum=False,
    ),
    # Kedro 0.18.14 + kedro-mlflow 0.11: TemplatedConfigLoader in settings, find_pipelines.
    Variant(K18, "clean"),
    Variant(
        K18,
        "feature-list-grows",  # read from conf at import: both pipelines follow it
        (("conf/base/features.yml", "  - rooms\n", "  - rooms\n  - garden\n"),),
    ),
    Variant(
        K18,
        "imputer-pattern-removed",
        (
            (
                "conf/base/catalog.yml",
                '"{name}_imputer":\n  type: pickle.PickleDataSet\n'
                "  filepath: ${paths.models}/{name}_imputer.pkl\n",
                "",
            ),
        ),
        frozenset(
            {
                ("training_ml", "KML001", "surface_imputer"),
                ("training_ml", "KML001", "rooms_imputer"),
            }
        ),
    ),
    Variant(
        K18,
        "parameter-typo",
        (
            (
                "src/house_prices/pipelines/inference/pipeline.py",
                '"params:inference"',
                '"params:inferense"',
            ),
        ),
        frozenset({("training_ml", "KML006", "params:inferense")}),
    ),
    Variant(
        K18,
        "columns-read-with-pandas",
        (
            PANDAS_COLUMNS,
            (
                "src/house_prices/pipelines/training/pipeline.py",
                "from functools import partial\n",
                "from functools import partial\n\nimport pandas as pd\n",
            ),
        ),
        needs=("pandas",),
    ),
    Variant(K18, "unknown-env", args=("--env", "prdo"), error="conf/prdo"),
    Variant(
        K18,
        "model-logged-by-a-logger-dataset",  # it logs to MLflow: no local file to ship
        (
            (
                "conf/base/catalog.yml",
                "regressor:\n  type: pickle.PickleDataSet\n"
                "  filepath: ${paths.models}/regressor.pkl\n  versioned: true\n",
                "regressor:\n  type: kedro_mlflow.io.models.MlflowModelLoggerDataSet\n"
                "  flavor: mlflow.sklearn\n",
            ),
        ),
        frozenset({("training_ml", "KML002", "regressor")}),
    ),
    Variant(
        K18,
        "log-model-kwargs-with-code-path",  # MLflow 2's name, and its pin allows MLflow <3 only
        (
            (
                "src/house_prices/pipeline_registry.py",
                '"signature": "auto"}',
                '"signature": "auto", "code_path": ["src/house_prices"]}',
            ),
        ),
    ),
    Variant(
        K18,
        "log-model-kwargs-with-code-path-on-mlflow-3",  # the project says MLflow 3: refused
        (
            (
                "src/house_prices/pipeline_registry.py",
                '"signature": "auto"}',
                '"signature": "auto", "code_path": ["src/house_prices"]}',
            ),
            (
                "src/requirements.txt",
                "kedro-mlflow==0.11.10\n",
                "kedro-mlflow==0.11.10\nmlflow>=3\n",
            ),
        ),
        frozenset({("training_ml", "KML205", "code_path")}),
    ),
    Variant(
        K18,
        "settings-compare-a-plugin-version",  # kedro-viz is in neither environment
        (
            (
                "src/house_prices/settings.py",
                "SESSION_STORE_CLASS = SQLiteStore\n",
                "import kedro_viz\n\nif kedro_viz.__version__ >= '6.0':\n"
                "    SESSION_STORE_CLASS = SQLiteStore\n",
            ),
        ),
        needs=("kedro_viz",),
    ),
    Variant(
        K18,
        "inference-parameters-in-ini",  # 0.18's ConfigLoader read .ini through anyconfig
        added=(("conf/base/parameters/inference.ini", "[inference]\ncurrency = EUR\n"),),
        removed=("conf/base/parameters/inference.yml",),
    ),
    Variant(
        K18,
        "jinja-in-templated-catalog",  # rendered by Jinja2 first: not read as plain YAML
        (
            (
                "conf/base/catalog.yml",
                "price_estimates:\n  type: MemoryDataSet\n",
                "{% for kind in ['price', 'rent'] %}\n{{ kind }}_estimates:\n"
                "  type: MemoryDataSet\n{% endfor %}\n",
            ),
        ),
        error="conf/base/catalog.yml:29: Jinja2 (`{%`)",
    ),
    Variant(
        K18,
        "inference-parameters-pickled",  # unpickling runs code: named, never read
        added=(("conf/local/parameters.pickle", "not read"),),
        error="conf/local/parameters.pickle",
    ),
    Variant(
        K18,
        "no-local-env",  # `{"globals_pattern": …}` leaves 0.18's default_run_env, `local`
        removed=("conf/local",),
        error="conf/local: the configuration environment folder does not exist",
    ),
    Variant(
        K18,
        "omegaconf-with-partial-loader-args",  # 0.18.5+: base/local still its defaults
        (
            (
                "src/house_prices/settings.py",
                "from kedro.config import TemplatedConfigLoader\n",
                "from kedro.config import OmegaConfigLoader\n",
            ),
            (
                "src/house_prices/settings.py",
                "CONFIG_LOADER_CLASS = TemplatedConfigLoader\n",
                "CONFIG_LOADER_CLASS = OmegaConfigLoader\n",
            ),
            (
                "src/house_prices/settings.py",
                '    "globals_pattern": "*globals.yml",\n',
                '    "config_patterns": {"features": ["features*"]},\n',
            ),
        ),
        added=(("conf/base/catalog.yml", OMEGACONF_CATALOG),),
    ),
    # Kedro 0.19.9 + kedro-mlflow 0.14: OmegaConfigLoader with globals, namespaces.
    Variant(K19, "clean"),
    Variant(
        K19,
        "input-name-typo",
        (
            (
                "src/fraud_detection/pipeline_registry.py",
                'input_name="transactions_to_score"',
                'input_name="transaction_to_score"',
            ),
        ),
        frozenset({("training", "KML005", None), ("training", "KML003", "transactions_to_score")}),
    ),
    Variant(
        K19,
        "namespaced-artifact-unlisted",
        (("conf/base/catalog.yml", "fraud.encoder:", "fraud.encoders:"),),
        frozenset({("training", "KML001", "fraud.encoder")}),
    ),
    Variant(
        K19,
        "version-checked-at-import",
        (
            (
                "src/fraud_detection/pipeline_registry.py",
                "    pipelines = find_pipelines()\n",
                "    pipelines = find_pipelines()\n"
                "    if kedro_mlflow.__version__ < '0.12':\n"
                "        raise RuntimeError('kedro-mlflow too old')\n",
            ),
            (
                "src/fraud_detection/pipeline_registry.py",
                "from kedro.framework.project import find_pipelines\n",
                "import kedro_mlflow\nfrom kedro.framework.project import find_pipelines\n",
            ),
        ),
        needs=("kedro_mlflow",),
    ),
    Variant(K19, "unknown-env", args=("--env", "prdo"), error="conf/prdo"),
    Variant(
        K19,
        "log-model-kwargs-with-code-path",  # kedro-mlflow~=0.14 runs MLflow 2: it takes it
        (
            (
                "src/fraud_detection/pipeline_registry.py",
                '"signature": "auto"}',
                '"signature": "auto", "code_path": ["src/fraud_detection"]}',
            ),
        ),
    ),
)


def _available(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _assert_verdict(variant: Variant, run: CliRun, lean: bool) -> None:
    """``run`` gave the variant's verdict, or (``lean``) the one-line exit 2 it allows."""
    missing = [m for m in variant.needs if lean or not _available(m)]
    if variant.error is not None:
        assert run.code == 2, run.stdout + run.stderr
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1, run.stderr
        assert variant.error in lines[0], lines[0]
        assert "Traceback" not in run.stderr
    elif missing:
        assert run.code == 2, run.stdout + run.stderr
        message = run.stderr.strip().splitlines()[-1]
        assert any(f"`{m}`" in message for m in missing), message
        assert "additional_dependencies" in message and ".py:" in message, message
    else:
        # Warnings (KML203) are reported and exit 0. KML205 judges the project's own MLflow,
        # so the verdict is the same with MLflow installed or not (the lean environment).
        assert run.code == (1 if variant.expected else 0), run.stdout + run.stderr
        assert run.pairs == variant.verdict, run.stderr


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.id)
def test_variant_verdict(variant: Variant, tmp_path: Path) -> None:
    project = variant.build(tmp_path)
    before = tree_digest(project)
    run = run_cli("check", project, "--format", "json", *variant.args)
    _assert_verdict(variant, run, lean=False)
    assert tree_digest(project) == before


@pytest.mark.parametrize("fixture", [K17, K18, K19])
def test_kedro_version_is_reported(fixture: str, tmp_path: Path) -> None:
    project = Variant(fixture, "clean").build(tmp_path)
    run = run_cli("check", project, "--format", "json")
    recorded = {K17: "0.17.7", K18: "0.18.14", K19: "0.19.9"}[fixture]
    assert run.json["project"]["kedro_version"] == recorded
    verbose = run_cli("check", project, "-v")
    assert f"Kedro {recorded}" in verbose.stderr


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.id)
def test_lean_environment_agrees(variant: Variant, tmp_path: Path, lean_python: Path) -> None:
    """The pre-commit case gives the full environment's verdict, or a clear exit 2."""
    project = variant.build(tmp_path)
    run = run_cli("check", project, "--format", "json", *variant.args, python=lean_python)
    _assert_verdict(variant, run, lean=True)


@pytest.mark.parametrize(
    "example", sorted(p.name for p in EXAMPLES.iterdir() if (p / "pyproject.toml").is_file())
)
def test_lean_environment_agrees_on_examples(example: str, lean_python: Path) -> None:
    full = run_cli("check", EXAMPLES / example, "--format", "json")
    lean = run_cli("check", EXAMPLES / example, "--format", "json", python=lean_python)
    assert (lean.code, lean.pairs) == (full.code, full.pairs), lean.stderr


def test_a_kedro_016_project_is_told_its_version_and_the_range_read(tmp_path: Path) -> None:
    """Not "is not in a Kedro project": the version found, the range, what to do; from below."""
    project = Variant(K16, "clean").build(tmp_path)
    before = tree_digest(project)
    for where in (project, project / "src" / "credit_risk" / "pipelines"):
        run = run_cli("check", where)
        assert run.code == 2, run.stdout + run.stderr
        assert run.stderr.splitlines() == [
            "kedro-ml-lint: error: .kedro.yml:3: the project was made with Kedro 0.16.6 (it has "
            "`.kedro.yml`); kedro-ml-lint reads projects of Kedro 0.17 to 1.x; upgrade it to "
            "Kedro 0.17 or later first (Kedro 0.17.0's migration guide moves `.kedro.yml` to "
            "`[tool.kedro]` in `pyproject.toml`)"
        ]
    assert tree_digest(project) == before


def test_a_kedro_yml_claiming_017_is_told_where_017_reads_metadata(tmp_path: Path) -> None:
    """A 0.16 project half-moved to 0.17 (version bumped, `[tool.kedro]` not written)."""
    project = Variant(K16, "clean").build(tmp_path)
    kedro_yml = project / ".kedro.yml"
    kedro_yml.write_text(kedro_yml.read_text().replace('"0.16.6"', '"0.17.0"'))
    with pytest.raises(NotAKedroProjectError) as raised:
        refuse_older_project(project / "src", None)
    assert (raised.value.path, raised.value.line) == (".kedro.yml", 3)
    assert "records Kedro 0.17.0" in raised.value.message
    assert "`[tool.kedro]` in `pyproject.toml`" in raised.value.message
    refuse_older_project(project / "src", project)  # a `[tool.kedro]` at the root wins


def test_a_subfolder_finds_its_project(tmp_path: Path) -> None:
    project = Variant(K19, "clean").build(tmp_path)
    inside = project / "src" / "fraud_detection" / "pipelines"
    run = run_cli("check", "--format", "json", cwd=inside)
    assert run.code == 0, run.stderr
    assert run.json["project"]["root"] == str(project)


@pytest.mark.parametrize("command", [("graph", "--format", "json"), ("check", "--diff")])
def test_other_commands_find_the_project_from_a_subfolder(
    command: tuple[str, ...], tmp_path: Path
) -> None:
    variant = VARIANTS[[v.id for v in VARIANTS].index(f"{K19}:namespaced-artifact-unlisted")]
    project = variant.build(tmp_path)
    run = run_cli(*command, cwd=project / "conf" / "base")
    assert run.code in (0, 1), run.stderr
    assert "fraud.encoder" in run.stdout + run.stderr  # the graph, or the refused fix


def test_pair_level_violation_points_at_the_factory_call(tmp_path: Path) -> None:
    """kedro-mlflow's factory, called from the registry: the call's line, not the def."""
    variant = VARIANTS[[v.id for v in VARIANTS].index(f"{K19}:input-name-typo")]
    project = variant.build(tmp_path)
    run = run_cli("check", project, "--format", "json")
    kml005 = next(v for v in run.json["violations"] if v["code"] == "KML005")
    registry = project / "src/fraud_detection/pipeline_registry.py"
    line = next(
        n
        for n, text in enumerate(registry.read_text().splitlines(), 1)
        if "pipeline_ml_factory(" in text
    )
    assert (kml005["location"]["path"], kml005["location"]["line"]) == (
        "src/fraud_detection/pipeline_registry.py",
        line,
    )


def test_hook_preflight_stops_a_broken_run_on_the_installed_kedro(tmp_path: Path) -> None:
    """The hook's lint works on Kedro 0.19 as on 1.x: a real ``kedro run``, stopped first."""
    import subprocess
    import sys

    from kedro import __version__ as kedro_version
    from project_factory import NODES, write_project

    root = write_project(
        tmp_path / "demo",
        catalog="features:\n  type: MemoryDataset\n",  # scaler and model: in memory only
        nodes=NODES.replace("def fit(*args):\n", "def fit(*args):\n    open('ran', 'w').close()\n"),
    )
    (root / "src/demo/settings.py").write_text(
        "from kedro_ml_lint.hooks import MlflowPipelineHook\n\n"
        "HOOKS = (MlflowPipelineHook(log_model=False),)\n"
        # Kedro matches the distribution name exactly; kedro-mlflow 2.x names itself so.
        'DISABLE_HOOKS_FOR_PLUGINS = ("kedro_mlflow",)\n'
    )
    option = "--pipeline" if kedro_version.startswith("0.") else "--pipelines"
    proc = subprocess.run(
        [sys.executable, "-m", "kedro", "run", option, "training"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert "KML001" in output and "scaler" in output and "model" in output
    assert not (root / "ran").exists()  # stopped before its first node
