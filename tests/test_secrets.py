"""Secrets in the catalog never reach any output of any command, in any format."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from project_factory import write_project

from kedro_ml_lint.cache.store import NO_CACHE_ENV
from kedro_ml_lint.cli import main
from kedro_ml_lint.model.redact import (
    redact_requirement_line,
    redact_text,
    redact_value,
    redact_yaml_lines,
)
from kedro_ml_lint.vocabulary import CACHE_DIR

HEAD = """
instances:
  type: pandas.CSVDataset
  filepath: data/01_raw/instances.csv

scaler:  # noqa: KML003
"""
# AWS secret keys hold `/` and `+`; the prefix keeps a secret from matching anything else.
SECRETS = st.from_regex(r"Zq9[A-Za-z0-9/+]{8,24}", fullmatch=True)
TOKENS = st.from_regex(r"Zq9[A-Za-z0-9_\-]{8,24}", fullmatch=True)


def _quoted(value: str, style: str) -> str:
    return {"plain": value, "double": f'"{value}"', "single": f"'{value}'"}[style]


@st.composite
def scaler_entries(draw: st.DrawFn) -> tuple[str, str]:
    """The `scaler` entry's body (its secret on the last lines) and the secret."""
    style = draw(st.sampled_from(["plain", "double", "single"]))
    shape = draw(
        st.sampled_from(
            [
                "url-password",
                "url-token",
                "sas-with-space",
                "presigned",
                "chained",
                "con-url",
                "con-odbc",
                "load-args",
                "save-args-flow",
                "storage-options",
                "block-scalar",
            ]
        )
    )
    secret = draw(TOKENS if shape in ("url-token", "con-odbc") else SECRETS)
    pickle = "  type: pickle.PickleDataset\n"
    sql = "  type: pandas.SQLTableDataset\n  table_name: scaler\n"
    remote = "  filepath: s3://bucket/models/scaler.pkl\n"

    def filepath(url: str) -> str:
        return f"  filepath: {_quoted(url, style)}\n"

    def con(value: str, quoting: str = style) -> str:
        return f"  credentials:\n    con: {_quoted(value, quoting)}\n"

    body = {
        "url-password": filepath(f"s3://AKIAEX:{secret}@bucket/m/scaler.pkl"),
        "url-token": filepath(f"abfs://{secret}@container/scaler.pkl"),
        "sas-with-space": filepath(f"https://a.blob.core.net/c/churn model.pkl?sv=1&sig={secret}"),
        "presigned": filepath(f"https://b.s3.amazonaws.com/m.pkl?X-Amz-Signature={secret}&X=1"),
        "chained": filepath(f"simplecache::s3://K:{secret}@b/scaler.pkl"),
        "con-url": con(f"mssql+pyodbc://user:{secret}@host/db?driver=ODBC"),
        "con-odbc": con(f"DRIVER={{ODBC 18}};SERVER=h;UID=u;PWD={secret}", "double"),
        "load-args": f"{remote}  load_args:\n    password: {_quoted(secret, style)}\n",
        "save-args-flow": f"{remote}  save_args: {{a: 4, token: {_quoted(secret, style)}}}\n",
        "storage-options": f"{remote}  fs_args:\n    storage_options:\n"
        f"      aws_secret_access_key: {_quoted(secret, style)}\n",
        "block-scalar": f"{remote}  fs_args:\n    password: |\n      {secret}\n",
    }[shape]
    kind = sql if shape.startswith("con") else pickle
    return HEAD + kind + body, secret


def _invoke(*args: str | Path, cached: bool = False) -> str:
    env = {"NO_COLOR": "1", **({NO_CACHE_ENV: "0"} if cached else {})}
    result = CliRunner().invoke(main, [str(a) for a in args], env=env)
    assert result.exit_code in (0, 1), (args, result.output, result.exception)
    return result.stdout + result.stderr


def _all_outputs(root: Path, cached: bool = False) -> dict[str, str]:
    outputs = {}
    for fmt in ("text", "json", "sarif", "github", "markdown"):
        outputs[f"check {fmt}"] = _invoke("check", root, "--format", fmt, cached=cached)
    outputs["diff"] = _invoke("check", root, "--diff", cached=cached)
    outputs["statistics"] = _invoke("check", root, "--statistics", cached=cached)
    outputs["unused noqa"] = _invoke("check", root, "--show-unused-noqa", cached=cached)
    report = root.parent / f"{root.name}-report.sarif"
    outputs["output"] = _invoke(
        "check", root, "--format", "sarif", "--output", report, cached=cached
    )
    outputs["output file"] = report.read_text(encoding="utf-8")
    for fmt in ("mermaid", "dot", "json"):
        outputs[f"graph {fmt}"] = _invoke("graph", root, "--format", fmt, cached=cached)
    return outputs


def _files_under(folder: Path) -> dict[str, str]:
    return {
        str(path): path.read_bytes().decode("utf-8", "replace")
        for path in (folder.rglob("*") if folder.is_dir() else ())
        if path.is_file()
    }


# Every command and format on a real project per example (~4 s each): the integration lane.
@pytest.mark.integration
@settings(
    max_examples=int(os.environ.get("SECRETS_EXAMPLES", "12")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(scaler_entries())
def test_no_output_of_any_command_contains_a_secret(
    tmp_path_factory: pytest.TempPathFactory, case: tuple[str, str]
) -> None:
    catalog, secret = case
    root = write_project(tmp_path_factory.mktemp("secret") / "project", catalog=catalog)
    # With the snapshot cache on, as users run it: the first command loads the project, the
    # others are served from what it stored (a load each cost seconds), so the entry and
    # the user's cache folder are outputs too.
    outputs = _all_outputs(root, cached=True)
    outputs["verbose"] = _invoke("check", root, "-v", cached=True)
    assert "(from the cache)" in outputs["verbose"]  # the others were served, not loaded
    outputs.update(_files_under(root / CACHE_DIR))
    outputs.update(_files_under(Path(os.environ["XDG_CACHE_HOME"])))
    assert "KML001" in outputs["check text"] and "+model:" in outputs["diff"]
    # The diff's context is the end of the file, where the secret is.
    assert "***" in outputs["diff"]
    outputs["fix"] = _invoke("check", root, "--fix", "--format", "json", "-v")
    assert "model:" in (root / "conf/base/catalog.yml").read_text(encoding="utf-8")
    leaks = [name for name, text in outputs.items() if secret in text]
    assert not leaks, (secret, {name: outputs[name] for name in leaks})


@pytest.mark.integration
def test_verbose_subprocess_with_kedro_logs_does_not_leak(tmp_path: Path) -> None:
    """`-v` lets Kedro log and prints tracebacks: a real process, everything captured."""
    secret = "Zq9Sup3r/Secr3t+Key"
    catalog = HEAD + f"  type: pickle.PickleDataset\n  filepath: s3://AKIA:{secret}@b/s.pkl\n"
    root = write_project(tmp_path / "project", catalog=catalog)
    runs = [
        run_cli("check", root, "-v", "--format", "json", process=True),
        run_cli("graph", root, "-v", process=True),
        run_cli("check", root, "-v", "--diff", process=True),
    ]
    broken = tmp_path / "broken"
    shutil.copytree(root, broken)
    # A project that stops with exit 2 (-v prints the traceback).
    (broken / "conf/base/parameters.yml").write_text("threshold: [unclosed\n")
    runs.append(run_cli("check", broken, "-v", process=True))
    assert runs[-1].code == 2
    # An exit-2 message quoting a URL (pathlib turned `s3://` into `s3:/`).
    runs.append(
        run_cli("check", root, "--conf-source", f"s3://AKIA:{secret}@bucket/conf", process=True)
    )
    assert runs[-1].code == 2 and "s3:/***@bucket/conf" in runs[-1].stderr
    for run in runs:
        assert secret not in run.stdout + run.stderr


# --- the redaction functions themselves -------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("s3://KEY:SE/CR/ET@bucket/m.pkl", "s3://***@bucket/m.pkl"),
        ("s3://KEY:p@ss@bucket/m.pkl", "s3://***@bucket/m.pkl"),
        ("s3://bucket/models/m@v1.pkl", "s3://bucket/models/m@v1.pkl"),  # a path, not a user
        ("https://a.net/c/churn model.pkl?sv=1&sig=S", "https://a.net/c/churn model.pkl?***"),
        ("simplecache::s3://K:S@b/m.pkl", "simplecache::s3://***@b/m.pkl"),
        ("data/06_models/token=1/m.pkl", "data/06_models/token=1/m.pkl"),  # local: read by KML101
    ],
)
def test_redact_value(value: str, shown: str) -> None:
    assert redact_value(value) == shown


def test_redact_text_and_lines() -> None:
    assert redact_text("Server=h;UID=u;PWD=se;cret") == "Server=h;UID=u;PWD=***;cret"
    assert redact_text("AccountKey=abc==;x=1") == "AccountKey=***;x=1"
    lines = [
        "a:\n",
        '  con: "DRIVER={x};PWD=secret"\n',
        "  load_args: {sep: ',', password: secret}\n",
        "  token: |\n",
        "    secret\n",
        "  type: x\n",
    ]
    shown = "".join(redact_yaml_lines(lines))
    assert "secret" not in shown
    assert "  type: x\n" in shown and "sep: ','" in shown


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ("git+https://oauth2:TOKEN@gitlab.com/x/y.git@v1.0#egg=y",
         "git+https://gitlab.com/x/y.git@v1.0#egg=y"),
        ("pkg @ https://user:pw@host/pkg-1.0.whl?sig=TOKEN", "pkg @ https://host/pkg-1.0.whl"),
        ("--extra-index-url https://__token__:TOKEN@pypi.example/simple",
         "--extra-index-url https://pypi.example/simple"),
        ("numpy==1.26.4 ; python_version >= '3.10'", "numpy==1.26.4 ; python_version >= '3.10'"),
        ("kedro[pandas]>=1.0", "kedro[pandas]>=1.0"),
    ],
)  # fmt: skip
def test_redact_requirement_line(line: str, shown: str) -> None:
    assert redact_requirement_line(line) == shown


def test_diff_redacts_old_lines_but_shows_new_entries_as_written(tmp_path: Path) -> None:
    """Dataset names are not secrets: `api_key_model` is added and shown verbatim."""
    from kedro_ml_lint.diagnostics import Applicability, CatalogEdit, Fix, Severity, Violation
    from kedro_ml_lint.fix import plan_fixes

    name = "api_key_model"
    entry = (("type", "pickle.PickleDataset"), ("filepath", f"data/06_models/{name}.pkl"))
    fix = Fix("add", Applicability.SAFE, (CatalogEdit(name, entry),))
    found = Violation("KML001", "n", Severity.ERROR, "m", "p", name, fix=fix)
    catalog = tmp_path / "catalog.yml"
    catalog.write_text("db:\n  type: x\n  credentials:\n    password: Zq9secret\n")
    diff = plan_fixes(tmp_path, "catalog.yml", [found]).diff()
    assert "Zq9secret" not in diff
    added = [line[1:] for line in diff.splitlines() if line.startswith("+") and line[1:2] != "+"]
    assert added == ["", f"{name}:", "  type: pickle.PickleDataset", f"  filepath: {entry[1][1]}"]


def test_redaction_is_linear_on_huge_names() -> None:
    """The corpus has 100 KB dataset names; a quadratic regex took minutes on one."""
    import time

    name = "a" * 100_000
    start = time.perf_counter()
    assert redact_text(name) == name
    assert redact_yaml_lines([f"{name}:\n", f"  {name}: x\n"])[0] == f"{name}:\n"
    assert redact_text(f"s3://{name}:{name}@b/x") == "s3://***@b/x"
    assert time.perf_counter() - start < 10  # about 0.1 s; quadratic was minutes
