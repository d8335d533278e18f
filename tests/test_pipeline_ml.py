"""``PipelineML`` stays bound to its inference pipeline through every filter."""

from __future__ import annotations

import pytest
from kedro.pipeline import Pipeline, node

from kedro_ml_lint import PipelineML, pipeline_ml_factory


def fit(*args):
    return args[0]


def predict(*args):
    return args[0]


@pytest.fixture
def pair() -> PipelineML:
    training = Pipeline(
        [
            node(fit, "features", "clean", name="clean", tags=["prep"]),
            node(fit, ["clean", "params:opts"], "scaler", name="fit_scaler", tags=["fit"]),
            node(fit, ["clean", "scaler"], "model", name="fit_model", tags=["fit"]),
        ]
    )
    inference = Pipeline(
        [node(predict, ["instances", "scaler", "model"], "predictions", name="predict")]
    )
    return pipeline_ml_factory(
        training,
        inference,
        "instances",
        kpm_kwargs={"copy_mode": "assign"},
        log_model_kwargs={"name": "churn"},
    )


def _bound(result: object, pair: PipelineML) -> bool:
    return (
        isinstance(result, PipelineML)
        and result.inference is pair.inference
        and result.input_name == pair.input_name
        and result.kpm_kwargs == pair.kpm_kwargs
        and result.log_model_kwargs == pair.log_model_kwargs
    )


def test_factory_builds_a_pipeline_of_training_nodes(pair: PipelineML) -> None:
    assert isinstance(pair, Pipeline)
    assert {n.name for n in pair.nodes} == {"clean", "fit_scaler", "fit_model"}
    assert pair.inputs() == {"features", "params:opts"}
    assert isinstance(pair.training, Pipeline) and not isinstance(pair.training, PipelineML)
    assert pair.call_site is not None and pair.call_site[0] == __file__


@pytest.mark.parametrize(
    ("apply", "names"),
    [
        (lambda p: p.only_nodes_with_tags("fit"), {"fit_scaler", "fit_model"}),
        (lambda p: p.filter(tags=["fit"], node_names=["fit_model"]), {"fit_model"}),
        (lambda p: p.only_nodes("clean"), {"clean"}),
        (lambda p: p.from_nodes("fit_scaler"), {"fit_scaler", "fit_model"}),
        (lambda p: p.to_nodes("fit_scaler"), {"clean", "fit_scaler"}),
        (lambda p: p.from_inputs("scaler"), {"fit_model"}),
        (lambda p: p.to_outputs("clean"), {"clean"}),
        (lambda p: p.only_nodes_with_inputs("clean"), {"fit_scaler", "fit_model"}),
        (lambda p: p.only_nodes_with_outputs("model"), {"fit_model"}),
        (
            lambda p: p & Pipeline([n for n in p.nodes if n.name != "clean"]),
            {"fit_scaler", "fit_model"},
        ),
        (
            lambda p: p - Pipeline([n for n in p.nodes if n.name == "clean"]),
            {"fit_scaler", "fit_model"},
        ),
        (lambda p: p.tag("extra"), {"clean", "fit_scaler", "fit_model"}),
    ],
    ids=[
        "tags",
        "filter",
        "only_nodes",
        "from_nodes",
        "to_nodes",
        "from_inputs",
        "to_outputs",
        "with_inputs",
        "with_outputs",
        "and",
        "sub",
        "tag",
    ],
)
def test_filters_keep_the_binding(pair: PipelineML, apply, names: set[str]) -> None:
    result = apply(pair)
    assert _bound(result, pair)
    assert {n.name for n in result.nodes} == names


def test_tag_tags_training_nodes(pair: PipelineML) -> None:
    assert all("extra" in n.tags for n in pair.tag("extra").nodes)


def test_sum_with_an_empty_pipeline_keeps_the_pair(pair: PipelineML) -> None:
    # Kedro >= 1.2 merges the requested pipelines onto Pipeline([]).
    merged = Pipeline([])
    merged += pair
    assert merged is pair
    assert pair + Pipeline([]) is pair
    assert sum([pair]) is pair


def test_union_with_other_nodes_is_a_plain_pipeline(pair: PipelineML) -> None:
    other = Pipeline([node(fit, "x", "y", name="other")])
    for union in (pair + other, other + pair, pair | other):
        assert type(union) is Pipeline
        assert len(union.nodes) == 4


def test_equality(pair: PipelineML) -> None:
    same = pipeline_ml_factory(
        pair.training,
        pair.inference,
        "instances",
        kpm_kwargs={"copy_mode": "assign"},
        log_model_kwargs={"name": "churn"},
    )
    assert same == pair
    other = pipeline_ml_factory(pair.training, pair.inference, "scaler")
    assert other != pair


def test_broken_contract_does_not_raise_at_construction(pair: PipelineML) -> None:
    broken = pipeline_ml_factory(pair.training, pair.inference, "not_an_input")
    assert broken.input_name == "not_an_input"
    unset = pipeline_ml_factory(pair.training, pair.inference, None)
    assert unset.input_name is None


def test_wrong_argument_types_raise(pair: PipelineML) -> None:
    with pytest.raises(TypeError):
        pipeline_ml_factory(pair.training, "inference", "instances")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        pipeline_ml_factory(pair.training, pair.inference, 3)  # type: ignore[arg-type]


def test_lint_pipelines_honours_per_dataset_ignores(pair: PipelineML) -> None:
    from kedro_ml_lint import lint_pipelines

    catalog = {"scaler": {"type": "pickle.PickleDataset", "filepath": "s3://b/scaler.pkl"}}
    found = lint_pipelines(pair.training, pair.inference, "instances", catalog)
    assert {(v.code, v.subject) for v in found} == {("KML002", "scaler"), ("KML001", "model")}
    quiet = lint_pipelines(
        pair.training,
        pair.inference,
        "instances",
        catalog,
        per_dataset_ignores={"sca*": ["KML002"], "model": ["KML0"]},
    )
    assert quiet == []
