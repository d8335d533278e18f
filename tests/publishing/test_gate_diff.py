"""The gate's comparison (``publishing/gate.py``): MLflow's own signature classes in, a diff out.

Pure and quick once MLflow is imported; no store, no model.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mlflow.models import ModelSignature
from mlflow.types.schema import ColSpec, DataType, ParamSchema, ParamSpec, Schema, TensorSpec

from kedro_ml_lint.publishing.gate import (
    GATE_TAG,
    TAG_LIMIT,
    GateReport,
    compare_predictions,
    compare_requirements,
    compare_signatures,
    signature_summary,
)

pytestmark = pytest.mark.integration  # importing MLflow starts a process (uname)

TYPES = [DataType.long, DataType.double, DataType.string, DataType.boolean, DataType.integer]
NAMES = st.text(alphabet="abcdefghij_", min_size=1, max_size=8)


@st.composite
def columns(draw: st.DrawFn, min_size: int = 1) -> list[ColSpec]:
    names = draw(st.lists(NAMES, min_size=min_size, max_size=6, unique=True))
    return [
        ColSpec(draw(st.sampled_from(TYPES)), name, required=draw(st.booleans())) for name in names
    ]


@st.composite
def params(draw: st.DrawFn) -> ParamSchema | None:
    names = draw(st.lists(NAMES, max_size=4, unique=True))
    if not names:
        return None
    return ParamSchema([ParamSpec(name, DataType.double, 0.5) for name in names])


def signature(inputs: list[ColSpec], param_schema: ParamSchema | None = None) -> ModelSignature:
    outputs = Schema(
        [ColSpec(DataType.double, "churn_probability"), ColSpec(DataType.long, "churn")]
    )
    return ModelSignature(inputs=Schema(inputs), outputs=outputs, params=param_schema)


def pairs(differences: list) -> set[tuple[str, str, str, bool]]:
    return {(d.part, d.subject, d.change, d.breaking) for d in differences}


CHURN = [
    ColSpec(DataType.long, "tenure_months"),
    ColSpec(DataType.double, "monthly_charges"),
    ColSpec(DataType.long, "support_calls"),
    ColSpec(DataType.string, "plan"),
]
THRESHOLD = ParamSchema([ParamSpec("threshold", DataType.double, 0.5)])


@settings(max_examples=60, deadline=None)
@given(columns(), params())
def test_a_signature_compared_with_itself_has_no_difference(
    inputs: list[ColSpec], param_schema: ParamSchema | None
) -> None:
    same = signature(inputs, param_schema)
    assert compare_signatures(same, signature(list(inputs), param_schema)) == []
    assert signature_summary([]) == "same"


@settings(max_examples=60, deadline=None)
@given(columns(min_size=2), st.data())
def test_removing_any_input_column_is_breaking(inputs: list[ColSpec], data: st.DataObject) -> None:
    gone = data.draw(st.sampled_from(inputs))
    found = compare_signatures(signature(inputs), signature([c for c in inputs if c is not gone]))
    assert pairs(found) == {("input", gone.name, "removed", True)}


@settings(max_examples=60, deadline=None)
@given(columns(), st.data())
def test_changing_any_input_type_is_breaking(inputs: list[ColSpec], data: st.DataObject) -> None:
    changed = data.draw(st.sampled_from(inputs))
    other = data.draw(st.sampled_from([t for t in TYPES if t != changed.type]))
    new = [ColSpec(other, c.name, required=c.required) if c is changed else c for c in inputs]
    found = compare_signatures(signature(inputs), signature(new))
    assert pairs(found) == {("input", changed.name, "type changed", True)}


@settings(max_examples=40, deadline=None)
@given(columns(), NAMES, st.booleans())
def test_an_added_column_breaks_only_when_required(
    inputs: list[ColSpec], name: str, required: bool
) -> None:
    if name in {c.name for c in inputs}:
        return
    new = [*inputs, ColSpec(DataType.double, name, required=required)]
    found = compare_signatures(signature(inputs), signature(new))
    change = "added, required" if required else "added, optional"
    assert pairs(found) == {("input", name, change, required)}


def test_a_renamed_column_is_a_removal_and_a_required_addition() -> None:
    renamed = [*CHURN[:3], ColSpec(DataType.string, "tariff")]
    found = compare_signatures(signature(CHURN), signature(renamed))
    assert pairs(found) == {
        ("input", "plan", "removed", True),
        ("input", "tariff", "added, required", True),
    }
    assert found[0].breaking and found[1].breaking  # breaking ones first


def test_parameters_removed_or_retyped_break_added_or_redefaulted_do_not() -> None:
    holder = ParamSchema(
        [ParamSpec("threshold", DataType.double, 0.5), ParamSpec("top", DataType.long, 3)]
    )
    new = ParamSchema(
        [
            ParamSpec("threshold", DataType.double, 0.6),
            ParamSpec("top", DataType.string, "3"),
            ParamSpec("explain", DataType.boolean, False),
        ]
    )
    found = compare_signatures(signature(CHURN, holder), signature(CHURN, new))
    assert pairs(found) == {
        ("param", "threshold", "default changed", False),
        ("param", "top", "type changed", True),
        ("param", "explain", "added", False),
    }
    removed = compare_signatures(signature(CHURN, THRESHOLD), signature(CHURN))
    assert pairs(removed) == {("param", "threshold", "removed", True)}


def test_output_changes_are_listed_never_breaking() -> None:
    holder = signature(CHURN)
    new = ModelSignature(
        inputs=Schema(CHURN),
        outputs=Schema([ColSpec(DataType.string, "churn"), ColSpec(DataType.double, "score")]),
    )
    found = compare_signatures(holder, new)
    assert pairs(found) == {
        ("output", "churn_probability", "removed", False),
        ("output", "churn", "type changed", False),
        ("output", "score", "added", False),
    }
    assert signature_summary(found).startswith("compatible: ")


def test_no_new_input_schema_and_a_switch_to_tensors_are_breaking() -> None:
    found = compare_signatures(signature(CHURN), None)
    assert ("input", "(signature)", "no input schema", True) in pairs(found)
    tensors = ModelSignature(inputs=Schema([TensorSpec(np_float(), (-1, 4), "x")]))
    switched = compare_signatures(signature(CHURN), tensors)
    assert ("input", "(schema)", "columns and tensors switched", True) in pairs(switched)
    # A holder without a signature: nothing to break, said so.
    assert pairs(compare_signatures(None, signature(CHURN))) == {
        ("input", "(signature)", "holder had none", False),
        ("output", "(schema)", "added", False),
    }


def np_float() -> object:
    import numpy as np

    return np.dtype("float64")


def test_tensor_shapes_are_compared() -> None:
    import numpy as np

    holder = ModelSignature(inputs=Schema([TensorSpec(np.dtype("float64"), (-1, 4), "x")]))
    new = ModelSignature(inputs=Schema([TensorSpec(np.dtype("float64"), (-1, 5), "x")]))
    assert pairs(compare_signatures(holder, new)) == {("input", "x", "type changed", True)}


def test_requirements_major_changes_added_and_removed_are_listed() -> None:
    holder = ["mlflow==3.1.0", "pandas==1.5.3", "scikit-learn==1.4.2", "kedro~=0.19.0"]
    new = ["mlflow==3.17.2", "pandas==2.2.1", "scikit_learn==1.5.0", "kedro>=1.0", "pyarrow==15"]
    found, words = compare_requirements(holder, new)
    assert pairs(found) == {
        ("requirement", "pandas", "major version 1 -> 2", False),
        ("requirement", "kedro", "major version 0 -> 1", False),
        ("requirement", "pyarrow", "added", False),
    }
    assert words == "major changes: pandas 1->2, kedro 0->1; added: pyarrow"
    assert compare_requirements(holder, holder) == ([], "no major version change")
    assert compare_requirements(None, new)[1] == "not compared (holder has no requirements.txt)"


def test_predictions_are_shown_cell_by_cell() -> None:
    import pandas as pd

    holder = pd.DataFrame({"churn_probability": [0.1, 0.7, 0.4], "churn": [0, 1, 0]})
    new = pd.DataFrame({"churn_probability": [0.1, 0.8, 0.4], "churn": [0, 1, 1]})
    found, words = compare_predictions(holder, new)
    assert [(d.subject, d.holder, d.new) for d in found] == [
        ("row 1 churn_probability", "0.7", "0.8"),
        ("row 2 churn", "0", "1"),
    ]
    assert words == "differ on 2 of the 3 rows of the input example"
    assert not any(d.breaking for d in found)
    assert compare_predictions(holder, holder.copy()) == (
        [],
        "same on the 3 rows of the input example",
    )
    _, failed = compare_predictions(None, new, holder_error="KeyError: 'plan'")
    assert failed == "holder failed: KeyError: 'plan'"


def test_the_report_refuses_on_breaking_rows_and_its_tags_are_short() -> None:
    found = compare_signatures(signature(CHURN, THRESHOLD), signature(CHURN[:3]))
    report = GateReport(
        "champion",
        "models:/churn/2",
        "models:/churn/1",
        tuple(found),
        signature_summary(found),
        "major changes: " + ", ".join(f"package{i} 1->2" for i in range(100)),
        "same on the 5 rows of the input example",
    )
    assert [d.subject for d in report.breaking] == ["plan", "threshold"]
    lines = report.lines()
    assert lines[0] == (
        "Gate `champion`: refused, 2 breaking differences (models:/churn/1 -> models:/churn/2)"
    )
    assert any("BREAKING: removed" in line and "plan" in line for line in lines)
    tags = report.tags()
    assert set(tags) == {
        GATE_TAG + part for part in ("compared_with", "signature", "requirements", "predictions")
    }
    assert tags[GATE_TAG + "compared_with"] == "models:/churn/1"
    assert all(len(value) <= TAG_LIMIT for value in tags.values())
    unset = GateReport("champion", "models:/churn/1", None)
    assert unset.breaking == [] and "pointed at no version" in unset.lines()[0]
    assert unset.tags()[GATE_TAG + "compared_with"] == "none (`champion` was unset)"


def test_a_failed_prediction_is_said_in_mlflows_last_words() -> None:
    from mlflow.exceptions import MlflowException

    from kedro_ml_lint.publishing.alias import _reason

    error = MlflowException(
        "Failed to enforce schema of data '   x\n0  1.5' with schema '['x': long]'. "
        "Error: Incompatible input types for column x."
    )
    assert _reason(error) == "Incompatible input types for column x."


def test_a_refused_gate_whose_roll_back_failed_still_shows_its_table(
    example, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    """The transaction raises ``PublishError`` from ``GateRefused`` when cleaning up failed
    too: the table says why the gate refused, then the one error line says what is left."""
    from conftest import run_cli

    import kedro_ml_lint.publishing as publishing
    from kedro_ml_lint.publishing import GateRefused, PublishError

    found = compare_signatures(signature(CHURN, THRESHOLD), signature(CHURN[:3]))
    report = GateReport("champion", "models:/churn/2", "models:/churn/1", tuple(found))

    def refused_and_left(*_: object, **__: object) -> None:
        try:
            raise GateRefused(report)
        except GateRefused as refusal:
            raise PublishError(
                "logging the model failed (the gate refused …); cleaning up failed too "
                "(database is locked); the next `--log` to this tracking store removes run r1"
            ) from refusal

    monkeypatch.setattr(publishing, "log_models", refused_and_left)
    project = example("churn")
    for artifact in ("encoder", "scaler", "model"):  # as training leaves them (never read)
        (project / "data/06_models" / f"{artifact}.pkl").write_bytes(b"")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    run = run_cli(
        "check", project, "--log", "--tracking-uri", uri,
        "--registered-model-name", "churn", "--alias", "champion", "--gate",
    )  # fmt: skip
    assert run.code == 2, run.stdout + run.stderr
    assert report.lines()[0] in run.stdout
    assert any("BREAKING: removed" in line for line in run.stdout.splitlines())
    (error,) = [line for line in run.stderr.splitlines() if line.startswith("kedro-ml-lint")]
    assert "cleaning up failed too" in error and "removes run r1" in error
