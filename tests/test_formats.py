"""Output formats: text (warnings, summary, colour), SARIF (schema-validated), GitHub
annotations, Markdown, statistics."""

from __future__ import annotations

import json
import re
from collections import Counter
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from conftest import EXAMPLES, REPO, CliRun, run_cli

from kedro_ml_lint.api import LintResult, PairInfo
from kedro_ml_lint.diagnostics import Location, Severity, Violation
from kedro_ml_lint.model import PairSource
from kedro_ml_lint.report import RenderOptions, github, sarif, text
from kedro_ml_lint.report.ruledocs import first_paragraph, rule_doc, split_front_matter
from kedro_ml_lint.rules import RULES
from kedro_ml_lint.rules.base import Rule

SCHEMA = json.loads((REPO / "tests/data/sarif-2.1.0-rtm.5.json").read_text(encoding="utf-8"))
BROKEN = EXAMPLES / "churn-broken"
SECRETS = ("supersecret", "AKIAEXAMPLE")
ANNOTATION = re.compile(r"^::(?P<command>error|warning) (?P<properties>[^:]*)::(?P<message>.*)$")


def sarif_errors(document: dict) -> list[str]:
    validator = jsonschema.Draft4Validator(SCHEMA)
    return [error.message for error in validator.iter_errors(document)]


@pytest.fixture(scope="module")
def broken_json() -> CliRun:
    run = run_cli("check", BROKEN, "--format", "json")
    assert run.code == 1
    return run


# --- text ---------------------------------------------------------------------------------

RED, YELLOW = "\x1b[31m", "\x1b[33m"


def _violation(code: str, severity: Severity, line: int = 1) -> Violation:
    return Violation(
        code, "name", severity, "message", "p", None, Location("src/p/registry.py", line)
    )


@pytest.mark.parametrize(
    ("errors", "warnings", "summary"),
    [
        (0, 0, "All checks passed! (1 pair checked)"),
        (1, 0, "Found 1 error (1 pair checked)."),
        (2, 0, "Found 2 errors (1 pair checked)."),
        (0, 1, "Found 1 warning (1 pair checked)."),
        (0, 3, "Found 3 warnings (1 pair checked)."),
        (1, 1, "Found 1 error and 1 warning (1 pair checked)."),
        (2, 1, "Found 2 errors and 1 warning (1 pair checked)."),
        (1, 2, "Found 1 error and 2 warnings (1 pair checked)."),
    ],
)
def test_text_summary_counts_errors_and_warnings_apart(
    errors: int, warnings: int, summary: str
) -> None:
    violations = [_violation("KML001", Severity.ERROR, n) for n in range(errors)]
    violations += [_violation("KML206", Severity.WARNING, 100 + n) for n in range(warnings)]
    lines = text.render(_result(violations)).splitlines()
    assert lines[-1] == summary
    assert len(lines) == errors + warnings + 1


def test_text_marks_warnings_and_leaves_errors_as_they_were() -> None:
    error, warning = _violation("KML001", Severity.ERROR), _violation("KML206", Severity.WARNING)
    assert text.violation_line(error) == "src/p/registry.py:1:1: KML001 message [p]"
    assert text.violation_line(warning) == "src/p/registry.py:1:1: KML206 [warning] message [p]"


def test_text_colours_errors_red_and_warnings_yellow_only_when_asked() -> None:
    error, warning = _violation("KML001", Severity.ERROR), _violation("KML206", Severity.WARNING)
    coloured = text.render(_result([error, warning]), RenderOptions(color=True)).splitlines()
    assert RED in coloured[0] and YELLOW not in coloured[0]
    assert YELLOW in coloured[1] and RED not in coloured[1]
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured[1]) == text.violation_line(warning)
    plain = text.render(_result([error, warning]))
    assert "\x1b[" not in plain


# --- SARIF -------------------------------------------------------------------------------


def test_schema_is_the_official_draft4_schema() -> None:
    jsonschema.Draft4Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert "2.1.0" in SCHEMA["id"]


@pytest.mark.integration
def test_sarif_of_broken_example_validates_and_matches_json(broken_json: CliRun) -> None:
    run = run_cli("check", BROKEN, "--format", "sarif")
    assert run.code == 1
    document = json.loads(run.stdout)
    assert sarif_errors(document) == []
    assert document["version"] == "2.1.0"
    (sarif_run,) = document["runs"]
    driver = sarif_run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == (
        "kedro-ml-lint",
        broken_json.json["tool"]["version"],
    )
    assert driver["informationUri"].startswith("https://")
    assert [rule["id"] for rule in driver["rules"]] == [rule.code for rule in RULES]
    results = sarif_run["results"]
    expected = {
        (v["code"], v["pipeline"], v["subject"], v["location"]["path"], v["location"]["line"])
        for v in broken_json.json["violations"]
    }
    got = set()
    for result in results:
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        artifact = physical["artifactLocation"]
        assert artifact["uriBaseId"] == "%SRCROOT%"
        assert (BROKEN / artifact["uri"]).is_file()
        assert physical["region"]["startColumn"] == 1
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] == "error"
        properties = result["properties"]
        got.add(
            (
                result["ruleId"],
                properties["pipeline"],
                properties["subject"],
                artifact["uri"],
                physical["region"]["startLine"],
            )
        )
    assert got == expected
    root = sarif_run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert root == BROKEN.resolve().as_uri() + "/"
    for secret in SECRETS:
        assert secret not in run.stdout + run.stderr


def test_sarif_rules_come_from_the_rule_docs() -> None:
    document = json.loads(sarif.render(_result([])))
    assert sarif_errors(document) == []
    assert document["runs"][0]["results"] == []
    rules = {rule["id"]: rule for rule in document["runs"][0]["tool"]["driver"]["rules"]}
    docs = resources.files("kedro_ml_lint.rules").joinpath("docs")
    for rule in RULES:
        descriptor = rules[rule.code]
        assert descriptor["shortDescription"]["text"] == rule.summary
        doc = docs.joinpath(f"{rule.code}.md")
        if not doc.is_file():  # rule docs are being written: the summary stands in
            assert descriptor["fullDescription"]["text"] == rule.summary
            continue
        meta, body = split_front_matter(doc.read_text(encoding="utf-8"))
        assert (meta["code"], meta["name"]) == (rule.code, descriptor["name"])
        assert descriptor["fullDescription"]["markdown"] == first_paragraph(body, "## What it does")
        assert descriptor["help"]["markdown"].startswith("#")
        assert descriptor["defaultConfiguration"]["level"] == meta["severity"]


def test_sarif_location_fallback_and_workspace_prefix(tmp_path: Path) -> None:
    project = tmp_path / "repo" / "ml project"
    project.mkdir(parents=True)
    placed = Violation(
        "KML001",
        "inference-input-not-persisted",
        Severity.ERROR,
        "m",
        "p",
        "model",
        Location("conf/base/catalog.yml", 3),
    )
    floating = Violation("KML004", "inference-output-not-single", Severity.ERROR, "m", "p")
    result = _result([placed, floating], project)
    document = json.loads(sarif.render(result, RenderOptions(workspace=tmp_path / "repo")))
    assert sarif_errors(document) == []
    uris = [
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in document["runs"][0]["results"]
    ]
    assert uris == ["ml%20project/conf/base/catalog.yml", "ml%20project/pyproject.toml"]
    base = document["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base == (tmp_path / "repo").resolve().as_uri() + "/"


def test_rule_doc_falls_back_without_a_doc() -> None:
    rule = Rule("KML998", "made-up", "A summary.", check=lambda pair: iter(()))
    doc = rule_doc(rule)
    assert (doc.code, doc.name, doc.description, doc.markdown) == (
        "KML998",
        "made-up",
        "A summary.",
        "",
    )


def test_front_matter_and_first_paragraph() -> None:
    text = "---\ncode: X1\nname: 'x'\n---\n# x\n\n## What it does\n\nLine one\nline two.\n\nMore.\n"
    meta, body = split_front_matter(text)
    assert meta == {"code": "X1", "name": "x"}
    assert first_paragraph(body, "## What it does") == "Line one line two."
    assert split_front_matter("no front matter") == ({}, "no front matter")


# --- GitHub annotations ------------------------------------------------------------------


def unescape(text: str) -> str:
    for escaped, raw in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(escaped, raw)
    return text


def parse_annotation(line: str) -> tuple[str, dict[str, str], str]:
    match = ANNOTATION.match(line)
    assert match, line
    properties = dict(part.split("=", 1) for part in match["properties"].split(","))
    return (
        match["command"],
        {k: unescape(v) for k, v in properties.items()},
        unescape(match["message"]),
    )


def test_annotation_escaping_round_trips() -> None:
    violation = Violation(
        "KML002",
        "inference-input-not-local",
        Severity.ERROR,
        "100% remote:\r\nsee `s3://b`, really",
        "pair,1",
        "x",
        Location("conf/odd,name:v2/catalog.yml", 7, 3),
    )
    line = github.annotation(violation)
    assert "\n" not in line and "\r" not in line
    command, properties, message = parse_annotation(line)
    assert command == "error"
    assert properties == {
        "file": "conf/odd,name:v2/catalog.yml",
        "line": "7",
        "col": "3",
        "title": "KML002",
    }
    assert message == "100% remote:\r\nsee `s3://b`, really [pair,1]"
    assert github.escape_property("a:b,c%") == "a%3Ab%2Cc%25"
    assert github.escape_data("a:b,c%\n") == "a:b,c%25%0A"


@pytest.mark.integration
def test_github_format_lines_match_the_json_report(broken_json: CliRun) -> None:
    run = run_cli("check", BROKEN, "--format", "github")
    assert run.code == 1
    parsed = [parse_annotation(line) for line in run.stdout.splitlines()]
    got = {(p["title"], p["file"], int(p["line"]), int(p["col"])) for _, p, _ in parsed}
    expected = {
        (v["code"], v["location"]["path"], v["location"]["line"], v["location"]["column"])
        for v in broken_json.json["violations"]
    }
    assert got == expected
    assert {command for command, _, _ in parsed} == {"error"}
    for secret in SECRETS:
        assert secret not in run.stdout + run.stderr


@pytest.mark.integration
def test_github_actions_switches_the_default_format(tmp_path: Path, example) -> None:
    project = example("churn-broken")
    env = {"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(tmp_path)}
    auto = run_cli("check", project, env=env)
    assert auto.code == 1
    files = {parse_annotation(line)[1]["file"] for line in auto.stdout.splitlines()}
    assert files and all(f.startswith("churn-broken/") for f in files)
    explicit = run_cli("check", project, "--format", "text", env=env)
    assert explicit.code == 1
    assert not explicit.stdout.startswith("::")
    assert explicit.stdout.splitlines()[0].startswith("conf/base/catalog.yml:")


# --- Markdown, statistics, --output ------------------------------------------------------


@pytest.mark.integration
def test_markdown_has_a_row_per_violation_and_a_graph_per_pair(broken_json: CliRun) -> None:
    run = run_cli("check", BROKEN, "--format", "markdown")
    assert run.code == 1
    rows = [line for line in run.stdout.splitlines() if line.startswith("| **KML")]
    codes = Counter(re.match(r"\| \*\*(KML\d{3})\*\*", row)[1] for row in rows)
    assert codes == Counter(v["code"] for v in broken_json.json["violations"])
    assert all(row.count(" | ") == 4 for row in rows)  # five cells: no unescaped pipe
    blocks = re.findall(r"```mermaid\n(.*?)```", run.stdout, flags=re.S)
    assert len(blocks) == len(broken_json.json["pairs"])
    for block in blocks:
        assert block.startswith("flowchart LR")
        assert re.search(r"^  class \w+ violation$", block, flags=re.M)
    assert "<br/>KML001" in run.stdout
    for secret in SECRETS:
        assert secret not in run.stdout


@pytest.mark.integration
def test_markdown_of_a_clean_project_has_graph_but_no_table() -> None:
    run = run_cli("check", EXAMPLES / "churn", "--format", "markdown")
    assert run.code == 0
    assert "| Code |" not in run.stdout
    assert run.stdout.count("```mermaid") == 1
    assert " violation" not in run.stdout.split("classDef")[0]


@pytest.mark.integration
def test_statistics_text_and_json(broken_json: CliRun) -> None:
    expected = Counter(v["code"] for v in broken_json.json["violations"])
    text = run_cli("check", BROKEN, "--statistics")
    assert text.code == 1
    rows = [line.split("\t") for line in text.stdout.splitlines()]
    assert {code: int(count) for count, code, _ in rows} == expected
    fixable = {code for _, code, rest in rows if rest.startswith("[*]")}
    assert fixable == {"KML001"}
    counts = [int(count) for count, _, _ in rows]
    assert counts == sorted(counts, reverse=True)
    as_json = run_cli("check", BROKEN, "--statistics", "--format", "json")
    assert {row["code"]: row["count"] for row in as_json.json} == expected
    assert run_cli("check", BROKEN, "--statistics", "--format", "sarif").code == 2


@pytest.mark.integration
def test_output_file_for_sarif(tmp_path: Path) -> None:
    report = tmp_path / "out" / "report.sarif"
    report.parent.mkdir()
    run = run_cli("check", EXAMPLES / "churn", "--format", "sarif", "--output", report)
    assert run.code == 0 and run.stdout == ""
    document = json.loads(report.read_text())
    assert sarif_errors(document) == []
    assert document["runs"][0]["results"] == []
    missing = run_cli("check", EXAMPLES / "churn", "--output", tmp_path / "nope" / "r.txt")
    assert missing.code == 2


def _result(violations: list[Violation], project: Path = Path("/project")) -> LintResult:
    return LintResult(
        project=project,
        pairs=[PairInfo("p", "instances", PairSource.CLI)],
        violations=violations,
    )
