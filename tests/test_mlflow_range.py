"""Which MLflow KML205 judges ``log_model_kwargs`` against (issue 18, item 4).

The project's MLflow comes from its declarations (requirement files, ``pyproject.toml``),
else from the range its kedro-mlflow pin implies; a key is refused only where every MLflow
of that range refuses it. Pure functions on small files: the fast lane.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet

from kedro_ml_lint.model import MlflowRange
from kedro_ml_lint.reading.dependencies import declared_requirements, project_mlflow
from kedro_ml_lint.seams import mlflow_versions as mlflow_compat
from kedro_ml_lint.seams.kedro_mlflow import implied_mlflow

KNOWN = [str(v) for v in mlflow_compat.known_versions()]
KEYS = sorted(set().union(*mlflow_compat.LOG_MODEL_PARAMETERS.values()) | {"flavour"})


@pytest.mark.parametrize(
    ("version", "key", "accepted"),
    [
        ("2.9.2", "code_path", True),
        ("2.22.0", "code_path", True),
        ("3.0.0", "code_path", False),
        ("3.5.0", "code_path", False),
        ("2.11.3", "code_paths", False),
        ("2.12.0", "code_paths", None),  # between 2.11.3 (without) and 2.12.2 (with)
        ("2.15.0", "code_paths", True),
        ("1.0.0", "code_paths", False),  # older than the table: never had it
        ("1.0.0", "code_path", None),  # older than the table: cannot tell
        ("2.22.0", "name", False),
        ("3.5.0", "name", True),
        ("3.99.0", "uv_groups", True),  # newer, same major: kept
        ("3.99.0", "flavour", None),  # newer: a release may add it
        ("4.0.0", "name", None),
    ],
)
def test_the_table_knows_what_each_release_takes(
    version: str, key: str, accepted: bool | None
) -> None:
    assert mlflow_compat.accepts(version, key) is accepted


def _range(text: str | None) -> MlflowRange:
    if text is None:
        return mlflow_compat.unknown_range("unknown")
    return mlflow_compat.range_of(text, "test")


@pytest.mark.parametrize(
    ("text", "keys", "refused"),
    [
        ("==2.9.2", {"code_path", "signature"}, set()),
        ("<3", {"code_path"}, set()),
        (">=1.0.0,<3.0.0", {"code_paths"}, set()),  # 2.12+ takes it
        ("<2.12", {"code_paths"}, {"code_paths"}),
        ("<3", {"name"}, {"name"}),
        (">=3,<4", {"code_path", "code_paths"}, {"code_path"}),
        (">=2", {"code_path"}, set()),  # MLflow 2 takes it, 3 does not: not judged
        (None, {"code_path", "name"}, set()),  # unknown: what depends on the version is not
        (None, {"flavour"}, {"flavour"}),  # ...but no MLflow ever took `flavour`
        ("==2.22.0", {"flavour", "example_no_conversion"}, {"flavour"}),
    ],
)
def test_a_key_is_refused_only_where_every_version_refuses_it(
    text: str | None, keys: set[str], refused: set[str]
) -> None:
    assert mlflow_compat.refused_keys(keys, _range(text)) == refused


@settings(max_examples=examples(200, 800), deadline=None)
@given(
    st.lists(st.sampled_from(KNOWN), min_size=1, max_size=8, unique=True),
    st.lists(st.sampled_from(KNOWN), max_size=8, unique=True),
    st.sets(st.sampled_from(KEYS), max_size=6),
)
def test_refused_is_what_every_version_refuses_and_a_wider_range_refuses_less(
    versions: list[str], more: list[str], keys: set[str]
) -> None:
    narrow = MlflowRange("custom", "test", tuple(versions))
    wide = MlflowRange("custom", "test", tuple(dict.fromkeys([*versions, *more])))
    refused = mlflow_compat.refused_by_table(keys, narrow.versions)
    assert refused == {
        k for k in keys if all(mlflow_compat.accepts(v, k) is False for v in versions)
    }
    assert mlflow_compat.refused_by_table(keys, wide.versions) <= refused


@pytest.mark.parametrize(
    ("pin", "ranges"),
    [
        ("==0.7.6", (">=1.0.0,<2.0.0",)),
        ("==0.11.7", (">=1.0.0,<2.0.0",)),
        ("==0.11.10", (">=1.0.0,<3.0.0",)),
        ("~=0.14.0", (">=2.7.0,<3.0.0",)),
        (">=0.13,<0.15", (">=1.29.0,<3.0.0", ">=2.7.0,<3.0.0")),
        (">=2.0,<3", (">=3.0.0,<4.0.0",)),
        ("==9.9", ()),  # a release the table does not know: unknown
    ],
)
def test_a_kedro_mlflow_pin_implies_its_releases_mlflow(pin: str, ranges: tuple[str, ...]) -> None:
    assert implied_mlflow(SpecifierSet(pin))[1] == ranges


def _project(root: Path, files: dict[str, str]) -> MlflowRange | None:
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    if "pyproject.toml" not in files:
        (root / "pyproject.toml").write_text('[tool.kedro]\npackage_name = "p"\n')
    return project_mlflow(declared_requirements(root, root / "src"))


def test_kedro_mlflow_pin_in_src_requirements(tmp_path: Path) -> None:
    found = _project(tmp_path, {"src/requirements.txt": "kedro~=0.18.14\nkedro-mlflow==0.11.10\n"})
    assert found is not None and found.text == ">=1.0.0,<3.0.0"
    assert "src/requirements.txt:2" in found.reason
    assert found.major is None  # 1.x and 2.x


def test_an_mlflow_requirement_wins_over_the_kedro_mlflow_pin(tmp_path: Path) -> None:
    found = _project(
        tmp_path,
        {
            "src/requirements.txt": "kedro-mlflow==0.11.10  # plugin\n-r ../requirements-ml.in\n",
            "requirements-ml.in": "mlflow>=3  # serving\n",
        },
    )
    assert found is not None and found.text == ">=3" and found.major == 3
    assert "requirements-ml.in:1" in found.reason


def test_several_mlflow_requirements_all_hold(tmp_path: Path) -> None:
    found = _project(
        tmp_path,
        {
            "requirements.txt": "mlflow-skinny[databricks]>=2.0\n",
            "pyproject.toml": '[project]\nname = "p"\ndependencies = ["mlflow<2.12"]\n'
            '[project.optional-dependencies]\nserve = ["kedro-mlflow==2.0.3"]\n'
            '[tool.kedro]\npackage_name = "p"\n',
        },
    )
    assert found is not None and found.major == 2
    assert mlflow_compat.refused_keys({"code_paths", "name"}, found) == {"code_paths", "name"}


def test_an_unversioned_mlflow_says_nothing(tmp_path: Path) -> None:
    assert _project(tmp_path, {"requirements.txt": "mlflow\npandas\n"}) is None
    implied = _project(tmp_path, {"requirements.txt": "mlflow\nkedro-mlflow>=2\n"})
    assert implied is not None and implied.major == 3


def test_nothing_declared_is_unknown(tmp_path: Path) -> None:
    assert _project(tmp_path, {"src/requirements.txt": "# nothing\n--index-url x\n-e .\n"}) is None


def test_pip_compile_output_with_hashes_and_constraints(tmp_path: Path) -> None:
    found = _project(
        tmp_path,
        {
            "requirements.txt": "-c constraints.txt\nkedro-mlflow==0.11.10 \\\n"
            "    --hash=sha256:0123 \\\n    --hash=sha256:4567\n    # via -r requirements.in\n",
            "constraints.txt": "mlflow==2.9.2 --hash=sha256:89ab\n",
        },
    )
    assert found is not None and found.text == "==2.9.2"
    assert "constraints.txt:1" in found.reason


def test_malformed_declarations_are_skipped(tmp_path: Path) -> None:
    found = _project(
        tmp_path,
        {
            "requirements.txt": "mlflow >>= 2\n-r\n-r ../../outside.txt\nkedro-mlflow===\n",
            "pyproject.toml": '[project]\nname = "p"\ndependencies = "mlflow==2.9.2"\n'
            '[project.optional-dependencies]\nx = "kedro-mlflow==0.11.10"\n'
            '[tool.kedro]\npackage_name = "p"\n',
        },
    )
    assert found is None
