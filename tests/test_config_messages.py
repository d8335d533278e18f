"""Configuration errors say the real cause, with the file and line (exit 2, one line)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import run_cli, tree_digest
from project_factory import CATALOG, PARAMETERS, write_project

pytestmark = pytest.mark.integration  # every test runs the real CLI

ENV_CATALOG = CATALOG.replace("data/06_models/model.pkl", "${oc.env:MODEL_DIR}/model.pkl")
MODEL_LINE = CATALOG.lstrip("\n").splitlines().index("  filepath: data/06_models/model.pkl") + 1


def _one_error_line(run) -> str:
    assert run.code == 2, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    (line,) = run.stderr.splitlines()
    return line


def test_oc_env_in_the_catalog_names_file_line_and_the_two_ways_out(tmp_path: Path) -> None:
    root = write_project(tmp_path, catalog=ENV_CATALOG)
    digest = tree_digest(root)
    line = _one_error_line(run_cli("check", root, env={"MODEL_DIR": "data/06_models"}))
    assert line.startswith(f"kedro-ml-lint: error: conf/base/catalog.yml:{MODEL_LINE}: ")
    assert "`${oc.env:…}`" in line and "only in credentials" in line
    assert "CONFIG_LOADER_ARGS" in line and '"oc.env": oc.env' in line
    assert tree_digest(root) == digest


def test_oc_env_is_fine_once_the_resolver_is_registered(tmp_path: Path) -> None:
    """The advice works: with the resolver registered, Kedro (and the lint) read the catalog."""
    root = write_project(tmp_path, catalog=ENV_CATALOG)
    settings = root / "src/demo/settings.py"
    settings.write_text(
        settings.read_text(encoding="utf-8")  # the logging hook stays (KML201)
        + "from omegaconf.resolvers import oc\n\n"
        'CONFIG_LOADER_ARGS = {"custom_resolvers": {"oc.env": oc.env}}\n',
        encoding="utf-8",
    )
    run = run_cli("check", root, env={"MODEL_DIR": "data/06_models"})
    assert run.code == 0, run.stdout + run.stderr


def test_unregistered_resolver_in_parameters_names_it(tmp_path: Path) -> None:
    parameters = PARAMETERS + "folder: ${my_resolver:x}\n"
    root = write_project(tmp_path, parameters=parameters)
    line = _one_error_line(run_cli("check", root))
    number = parameters.lstrip("\n").splitlines().index("folder: ${my_resolver:x}") + 1
    assert line.startswith(f"kedro-ml-lint: error: conf/base/parameters.yml:{number}: ")
    assert "resolver `my_resolver`" in line and "not registered" in line


K18 = Path(__file__).parent / "fixtures" / "kedro018-house-prices"  # TemplatedConfigLoader


def _kedro018(tmp_path: Path) -> Path:
    root = tmp_path / K18.name
    shutil.copytree(K18, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_jinja_in_a_templated_catalog_names_its_line_and_the_way_out(tmp_path: Path) -> None:
    """Quoted, it parses as YAML: Kedro 0.18 rendered it to something else, so never read."""
    root = _kedro018(tmp_path)
    catalog = root / "conf/base/catalog.yml"
    text = catalog.read_text(encoding="utf-8")
    catalog.write_text(text.replace("${paths.raw}/houses.csv", '"{{ raw }}/houses.csv"'))
    digest = tree_digest(root)
    line = _one_error_line(run_cli("check", root))
    number = text.splitlines().index("  filepath: ${paths.raw}/houses.csv") + 1
    assert line == (
        f"kedro-ml-lint: error: conf/base/catalog.yml:{number}: Jinja2 (`{{{{`) in a file "
        "TemplatedConfigLoader reads: Kedro 0.17/0.18 rendered it with Jinja2 before parsing "
        "it, which kedro-ml-lint does not do; write the rendered entries out, or use `${…}` "
        "templates with `globals_pattern`"
    )
    assert tree_digest(root) == digest


def test_a_bad_ini_parameters_file_names_file_and_line(tmp_path: Path) -> None:
    root = _kedro018(tmp_path)
    (root / "conf/base/parameters/inference.yml").unlink()
    (root / "conf/base/parameters/inference.ini").write_text(
        "[inference]\ncurrency = EUR\ncurrency = USD\n"
    )
    assert _one_error_line(run_cli("check", root)) == (
        "kedro-ml-lint: error: conf/base/parameters/inference.ini:3: invalid INI file: While "
        "reading from 'inference.ini' [line 3]: option 'currency' in section 'inference' "
        "already exists"
    )


def test_a_pickled_configuration_file_is_refused_unread(tmp_path: Path) -> None:
    root = _kedro018(tmp_path)
    (root / "conf/local/catalog.pickle").write_bytes(b"\x80\x04N.")  # pickle.dumps(None)
    assert _one_error_line(run_cli("check", root)) == (
        "kedro-ml-lint: error: conf/local/catalog.pickle: Kedro 0.17/0.18 read `.pickle` "
        "configuration through anyconfig; unpickling runs code, which a static check does not "
        "do: write it as YAML (or JSON) instead"
    )
