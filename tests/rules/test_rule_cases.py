"""Data-driven rule cases: ``tests/rules/cases/<CODE>.yml``, in the spirit of sqlfluff's
``std_rule_cases``.

Each file is a mapping: ``rule: <CODE>`` and one entry per case, keyed by a name that starts
with ``pass_`` or ``fail_``::

    fail_missing_entry:
      catalog: {}                       # as in catalog.yml (patterns welcome); may be omitted
      parameters: {model: {threshold: 0.5}}   # optional; omitted = unknown (KML006 skipped)
      namespace: churn                  # optional; wraps both pipelines in that namespace
      training:
        - {name: fit, inputs: [customers], outputs: [model]}
      inference:
        - {name: predict, inputs: [model, instances], outputs: [predictions]}
      input_name: instances             # omitted = None
      violations: [[KML001, model]]     # fail_ only: the exact (code, subject) pairs
      fixes: {model: safe}              # optional: fix applicability per subject
      files: [data/06_models/model.pkl] # optional: files that exist under the project root
      wiring: {factory: kedro-mlflow, our_hook: false, kedro_mlflow_hook: true}
                                        # optional: how the pair is logged (KML2xx); the
                                        # fields of ``kedro_ml_lint.model.Wiring``
      publishing: true                  # optional: lint as ``check --log`` does (it is the
                                        # logger: the rules about who logs do not run)
      suggests: {scaler: scalar}        # optional: subject (null: the pair) -> the name its
                                        # message suggests ("did you mean"), null: none

The case is linted with only its file's rule selected, through the public
``lint_pipelines`` on real kedro ``Pipeline`` objects, from a temporary project root holding
``files`` (rules that look at artifacts on disk, KML1xx, run with ``artifacts_on_disk``).
Only codes, subjects, fix applicabilities and suggestions are compared, never the rest of a
message's text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from kedro.pipeline import Pipeline, node
from ruamel.yaml import YAML

from kedro_ml_lint import lint_pipelines
from kedro_ml_lint.diagnostics import Applicability, Violation
from kedro_ml_lint.model import Factory, MlflowRange, Wiring
from kedro_ml_lint.rules import RULES, RULES_BY_CODE

CASES_DIR = Path(__file__).parent / "cases"
DOCS = resources.files("kedro_ml_lint.rules").joinpath("docs")
CASE_KEYS = frozenset(
    {
        "catalog",
        "parameters",
        "namespace",
        "training",
        "inference",
        "input_name",
        "violations",
        "fixes",
        "files",
        "wiring",
        "publishing",
        "suggests",
    }
)
NODE_KEYS = frozenset({"name", "inputs", "outputs"})
DOC_SECTIONS = (
    "## What it does",
    "## Why is this bad?",
    "## Example",
    "## Use instead",
    "## Fix safety",
    "## Exceptions",
)
SECRET = "supersecret"

# Cases spell namespaced names (`churn.model`) by hand; kedro warns about the dots.
pytestmark = pytest.mark.filterwarnings("ignore:One or more dataset names contain:UserWarning")


def _load_yaml(text: str) -> Any:
    # ruamel's safe loader rejects duplicate keys, so a copy-pasted case name cannot hide another.
    return YAML(typ="safe", pure=True).load(text)


@dataclass(frozen=True)
class Case:
    """One pass_/fail_ case of one rule."""

    code: str
    name: str
    spec: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.code}-{self.name}"

    @property
    def expected(self) -> list[tuple[str, str | None]]:
        return _sorted((code, subject) for code, subject in self.spec.get("violations") or [])


def _sorted(pairs: Any) -> list[tuple[str, str | None]]:
    return sorted(pairs, key=lambda p: (p[0], p[1] or ""))


def _load_cases() -> list[Case]:
    cases = []
    for path in sorted(CASES_DIR.glob("*.yml")):
        data = _load_yaml(path.read_text(encoding="utf-8"))
        code = data.pop("rule")
        assert code == path.stem, f"{path.name}: `rule: {code}` does not match the file name"
        for name, spec in data.items():
            cases.append(Case(code, name, dict(spec)))
    return cases


CASES = _load_cases()
FAIL_CASES = [c for c in CASES if c.name.startswith("fail_")]
FIXABLE_CASES = [
    c for c in FAIL_CASES if any(v == "safe" for v in (c.spec.get("fixes") or {}).values())
]


def _returning(n_outputs: int) -> Callable[..., Any]:
    """A node function taking anything and returning ``n_outputs`` values."""

    def func(*args: Any) -> Any:
        return (None,) * n_outputs if n_outputs > 1 else None

    return func


def build_pipeline(nodes: list[dict[str, Any]], namespace: str | None = None) -> Pipeline:
    """A real kedro ``Pipeline`` from a case's node list."""
    built = []
    for spec in nodes:
        unknown = set(spec) - NODE_KEYS
        assert not unknown, f"unknown node keys {sorted(unknown)}"
        outputs = list(spec.get("outputs") or [])
        built.append(
            node(
                _returning(len(outputs)),
                list(spec.get("inputs") or []) or None,
                (outputs[0] if len(outputs) == 1 else outputs) or None,
                name=spec["name"],
            )
        )
    return Pipeline(built, namespace=namespace)


def lint_case(spec: dict[str, Any], select: list[str], root: Path) -> list[Violation]:
    """Lint a case from project root ``root``, where its ``files`` are created."""
    for relative in spec.get("files") or []:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    namespace = spec.get("namespace")
    on_disk = any(
        rule.needs_artifacts_on_disk
        for rule in RULES
        if any(s == "ALL" or rule.code.startswith(s) for s in select)
    )
    return lint_pipelines(
        build_pipeline(spec.get("training") or [], namespace),
        build_pipeline(spec.get("inference") or [], namespace),
        spec.get("input_name"),
        spec.get("catalog"),
        spec.get("parameters"),
        select=select,
        project_root=root,
        artifacts_on_disk=on_disk,
        wiring=_wiring(spec.get("wiring")),
        publishing=bool(spec.get("publishing")),
    )


def _wiring(spec: dict[str, Any] | None) -> Wiring | None:
    if spec is None:
        return None
    fields = dict(spec)
    fields["factory"] = Factory(fields["factory"])
    fields["sums"] = tuple(fields.get("sums") or ())
    fields["log_model_refused"] = frozenset(fields.get("log_model_refused") or ())
    if fields.get("mlflow") is not None:
        mlflow = dict(fields["mlflow"])
        fields["mlflow"] = MlflowRange(
            mlflow.get("text"), mlflow.get("reason", ""), tuple(mlflow.get("versions") or ())
        )
    return Wiring(**fields)


def _found(violations: list[Violation]) -> list[tuple[str, str | None]]:
    return _sorted((v.code, v.subject) for v in violations)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule_case(case: Case, tmp_path: Path) -> None:
    unknown = set(case.spec) - CASE_KEYS
    assert not unknown, f"unknown case keys {sorted(unknown)}"
    assert case.name.startswith(("pass_", "fail_")), "case names start with pass_ or fail_"
    if case.name.startswith("fail_"):
        assert case.expected, "a fail_ case lists its `violations`"
        assert {code for code, _ in case.expected} == {case.code}, "only the file's rule runs"
    else:
        assert "violations" not in case.spec, "a pass_ case expects no violations"

    violations = lint_case(case.spec, [case.code], tmp_path)

    assert _found(violations) == case.expected
    for violation in violations:
        assert violation.name == RULES_BY_CODE[case.code].name
        assert violation.pair == "pipeline"
    expected_fixes = case.spec.get("fixes") or {}
    if expected_fixes:
        actual = {v.subject: v.fix.applicability.value if v.fix else None for v in violations}
        assert {s: actual.get(s) for s in expected_fixes} == expected_fixes
    for subject, name in (case.spec.get("suggests") or {}).items():
        [message] = [v.message for v in violations if v.subject == subject]
        suggested = re.findall(r"did you mean `([^`]+)`\?", message)
        assert suggested == ([name] if name is not None else []), message


@pytest.mark.parametrize("case", FIXABLE_CASES, ids=lambda c: c.id)
def test_safe_fixes_relint_clean(case: Case, tmp_path: Path) -> None:
    """Applying every safe fix to the catalog leaves nothing for KML001 or KML002 to say."""
    violations = lint_case(case.spec, [case.code], tmp_path)
    catalog = dict(case.spec.get("catalog") or {})
    fixed = set()
    for violation in violations:
        fix = violation.fix
        if fix is None or fix.applicability is not Applicability.SAFE:
            continue
        assert fix.edits, "a safe fix carries its edits"
        for edit in fix.edits:
            assert edit.dataset not in catalog, "a safe fix only adds entries"
            catalog[edit.dataset] = dict(edit.entry)
        fixed.add(violation.subject)
    assert fixed

    again = lint_case({**case.spec, "catalog": catalog}, ["KML001", "KML002"], tmp_path)

    assert not {v.subject for v in again} & fixed
    remaining = [p for p in _found(again) if p[0] == case.code]
    assert remaining == [p for p in case.expected if p[1] not in fixed]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_no_secret_in_any_output(case: Case, tmp_path: Path) -> None:
    violations = lint_case(case.spec, ["ALL"], tmp_path)
    dumped = json.dumps([v.to_dict() for v in violations]) + repr(violations)
    dumped += "".join(v.fix.title for v in violations if v.fix)
    assert SECRET not in dumped


def test_secret_cases_exist() -> None:
    """The secret test above is only meaningful if some case embeds the secret in a URL."""
    assert any(SECRET in json.dumps(c.spec) for c in FAIL_CASES)


# --- rule docs and the case inventory --------------------------------------------------------


def _front_matter(text: str) -> tuple[dict[str, Any], str]:
    assert text.startswith("---\n"), "a rule doc starts with YAML front matter"
    head, _, body = text[4:].partition("\n---\n")
    return _load_yaml(head), body


def _cases_by_code() -> Iterator[tuple[str, list[str]]]:
    for rule in RULES:
        yield rule.code, [c.name for c in CASES if c.code == rule.code]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_rule_has_doc(rule: Any) -> None:
    doc = DOCS.joinpath(f"{rule.code}.md")
    assert doc.is_file(), f"missing rules/{rule.code}.md"
    meta, body = _front_matter(doc.read_text(encoding="utf-8"))

    assert meta == {
        "code": rule.code,
        "name": rule.name,
        "severity": rule.severity.value,
        "fix": rule.fix.value if rule.fix else "none",
    }
    positions = [body.find(f"\n{section}\n") for section in DOC_SECTIONS]
    assert all(p >= 0 for p in positions), dict(zip(DOC_SECTIONS, positions, strict=True))
    assert positions == sorted(positions), "sections are in the documented order"


def test_no_doc_without_rule() -> None:
    docs = {entry.name[:-3] for entry in DOCS.iterdir() if entry.name.endswith(".md")}
    assert docs <= set(RULES_BY_CODE), sorted(docs - set(RULES_BY_CODE))


def test_no_cases_without_rule() -> None:
    assert {c.code for c in CASES} <= set(RULES_BY_CODE)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_rule_has_pass_and_fail_cases(rule: Any) -> None:
    names = dict(_cases_by_code())[rule.code]
    assert any(n.startswith("pass_") for n in names), f"no pass_ case for {rule.code}"
    assert any(n.startswith("fail_") for n in names), f"no fail_ case for {rule.code}"
