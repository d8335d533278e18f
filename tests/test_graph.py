"""``kedro-ml-lint graph``: pictures of a pair, violating datasets highlighted with codes."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest
from conftest import EXAMPLES, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from kedro_ml_lint import engine
from kedro_ml_lint.model import DatasetSpec, NodeSpec, Origin, PairFacts, build_pair
from kedro_ml_lint.report.graph import (
    LABEL_WIDTH,
    Category,
    PairPicture,
    picture,
    to_dot,
    to_json,
    to_mermaid,
    wrap_label,
)

TRAINING = [
    NodeSpec("fit_scaler", ("features", "params:alpha"), ("scaler",)),
    NodeSpec("fit_model", ("features", "scaler"), ("model",)),
]
CLEAN_INFERENCE = [
    NodeSpec("scale", ("instances", "scaler"), ("scaled",)),
    NodeSpec("predict", ("scaled", "model", "params:threshold"), ("predictions",)),
]
BROKEN_INFERENCE = [
    NodeSpec("scale", ("instances", "scaler", "encoder"), ("scaled",)),
    NodeSpec("predict", ("scaled", "model"), ("predictions", "summary")),
]
CATALOG = {
    "scaler": {"type": "pickle.PickleDataset", "filepath": "data/06_models/scaler.pkl"},
    "model": {"type": "pickle.PickleDataset", "filepath": "data/06_models/model.pkl"},
    "instances": {"type": "pandas.CSVDataset", "filepath": "data/01_raw/instances.csv"},
}
REMOTE_MODEL = {"type": "pickle.PickleDataset", "filepath": "s3://user:supersecret@b/model.pkl"}
VERTEX = re.compile(r'^\s+(?P<id>p\d+_\d+)(?:\[|\(\[|\[/|\[\\)"(?P<label>[^"]*)"', re.M)
MERMAID_CLASS = re.compile(r"^  class (?P<id>p\d+_\d+) (?P<css>\w+)$", re.M)
MERMAID_EDGE = re.compile(r"^  (?P<a>p\d+_\d+) --> (?P<b>p\d+_\d+)$", re.M)
DOT_VERTEX = re.compile(r'^\s+"(?P<id>[^"]+)" \[(?P<attributes>.*)\];$', re.M)
DOT_EDGE = re.compile(r'^\s+"(?P<a>[^"]+)" -> "(?P<b>[^"]+)";$', re.M)


def pair(inference: list[NodeSpec], input_name: str | None) -> PairFacts:
    """The clean inference gets the local catalog; the broken one a remote model."""
    catalog = CATALOG if inference is CLEAN_INFERENCE else {**CATALOG, "model": REMOTE_MODEL}

    def resolve(name: str) -> DatasetSpec:
        if name in catalog:
            return DatasetSpec.from_config(name, catalog[name], Origin.ENTRY, name)
        return DatasetSpec.unconfigured(name)

    keys = frozenset({"alpha", "threshold"})
    return build_pair("churn", TRAINING, inference, input_name, resolve, keys)


def drawn(model: PairFacts) -> PairPicture:
    return picture(model, engine.run([model]))


def by_name(item: PairPicture) -> dict[str, tuple[Category, tuple[str, ...]]]:
    return {v.name: (v.category, v.codes) for v in item.vertices if v.kind == "dataset"}


def test_clean_pair_picture() -> None:
    model = pair(CLEAN_INFERENCE, "instances")
    item = drawn(model)
    assert item.codes == ()
    assert by_name(item) == {
        "features": (Category.DATASET, ()),
        "params:alpha": (Category.PARAMETER, ()),
        "params:threshold": (Category.PARAMETER, ()),
        "scaler": (Category.ARTIFACT, ()),
        "model": (Category.ARTIFACT, ()),
        "instances": (Category.INPUT, ()),
        "scaled": (Category.DATASET, ()),
        "predictions": (Category.OUTPUT, ()),
    }
    nodes = {v.id: v.category for v in item.vertices if v.kind == "node"}
    assert nodes == {
        "node:training:fit_scaler": Category.TRAINING_NODE,
        "node:training:fit_model": Category.TRAINING_NODE,
        "node:inference:scale": Category.INFERENCE_NODE,
        "node:inference:predict": Category.INFERENCE_NODE,
    }
    assert len(item.edges) == model.graph.number_of_edges()
    assert ("dataset:scaler", "node:inference:scale") in item.edges
    assert ("node:training:fit_scaler", "dataset:scaler") in item.edges
    assert not any(css == "violation" for _, css in MERMAID_CLASS.findall(to_mermaid([item])))


def test_broken_pair_picture_flags_subjects_outputs_and_input_name() -> None:
    item = drawn(pair(BROKEN_INFERENCE, "instance"))
    flagged = {name: codes for name, (_, codes) in by_name(item).items() if codes}
    assert flagged == {
        "encoder": ("KML001", "KML003"),
        "instances": ("KML003",),  # with `input_name` wrong, it is an artifact
        "model": ("KML002",),
        "predictions": ("KML004",),
        "summary": ("KML004",),
        "instance": ("KML005",),  # drawn although no node reads it
    }
    lonely = next(v for v in item.vertices if v.name == "instance")
    assert (lonely.category, lonely.roles) == (Category.INPUT, ())
    assert item.codes == ("KML001", "KML002", "KML003", "KML004", "KML005")


def test_mermaid_highlights_and_labels_violations() -> None:
    item = drawn(pair(BROKEN_INFERENCE, "instance"))
    text = to_mermaid([item])
    assert text.startswith("flowchart LR\n")
    labels = {m["id"]: m["label"] for m in VERTEX.finditer(text)}
    classes = {m["id"]: m["css"] for m in MERMAID_CLASS.finditer(text)}
    names = {label.split("<br/>")[0]: key for key, label in labels.items()}
    assert set(names) == {v.name for v in item.vertices}
    for vertex in item.vertices:
        key = names[vertex.name]
        if vertex.codes:
            assert classes[key] == "violation"
            assert labels[key].split("<br/>")[1] == ", ".join(vertex.codes)
        else:
            assert classes.get(key) != "violation"
            assert "<br/>" not in labels[key]
    assert len(MERMAID_EDGE.findall(text)) == len(item.edges)
    assert text.count("subgraph") == text.count("\n    end") + text.count("\n  end")
    assert "supersecret" not in text


def test_dot_is_well_formed_and_highlights_violations() -> None:
    items = [drawn(pair(BROKEN_INFERENCE, "instance")), drawn(pair(CLEAN_INFERENCE, "instances"))]
    text = to_dot(items)
    assert text.startswith('digraph "kedro-ml-lint" {') and text.rstrip().endswith("}")
    assert text.count("{") == text.count("}")
    vertices = {m["id"]: m["attributes"] for m in DOT_VERTEX.finditer(text)}
    edges = DOT_EDGE.findall(text)
    assert len(vertices) == sum(len(i.vertices) for i in items)
    assert len(edges) == sum(len(i.edges) for i in items)
    assert all(a in vertices and b in vertices for a, b in edges)
    for number, item in enumerate(items):
        for vertex in item.vertices:
            attributes = vertices[f"p{number}/{vertex.id}"]
            if vertex.codes:
                assert 'class="violation"' in attributes
                assert f'label="{vertex.name}\\n{", ".join(vertex.codes)}"' in attributes
            else:
                assert "violation" not in attributes
    try:
        import pydot  # optional: a real parser when it is installed
    except ImportError:
        return
    (graph,) = pydot.graph_from_dot_data(text)
    assert graph.get_name().strip('"') == "kedro-ml-lint"


def test_json_is_the_picture() -> None:
    item = drawn(pair(BROKEN_INFERENCE, "instance"))
    document = json.loads(to_json([item]))
    assert document["schema_version"] == 1
    (data,) = document["pairs"]
    assert (data["pipeline"], data["input_name"], data["codes"]) == (
        "churn",
        "instance",
        list(item.codes),
    )
    assert [v["id"] for v in data["vertices"]] == [v.id for v in item.vertices]
    assert {(e["source"], e["target"]) for e in data["edges"]} == set(item.edges)


# --- through the real CLI -----------------------------------------------------------------


def graph_json(*args: str | Path) -> dict:
    run = run_cli("graph", *args, "--format", "json")
    assert run.code == 0, run.stderr
    return run.json


@pytest.mark.integration
def test_cli_graph_of_clean_example() -> None:
    (data,) = graph_json(EXAMPLES / "churn")["pairs"]
    assert data["codes"] == []
    assert all(v["codes"] == [] for v in data["vertices"])
    categories = {v["name"]: v["category"] for v in data["vertices"] if v["kind"] == "dataset"}
    assert categories["instances"] == "input"
    assert categories["predictions"] == "output"
    assert {n for n, c in categories.items() if c == "artifact"} == {"encoder", "scaler", "model"}
    ids = {v["id"] for v in data["vertices"]}
    assert all(e["source"] in ids and e["target"] in ids for e in data["edges"])


@pytest.mark.integration
def test_cli_graph_of_broken_example_matches_check() -> None:
    check = run_cli("check", EXAMPLES / "churn-broken", "--format", "json")
    document = graph_json(EXAMPLES / "churn-broken")
    pairs = {data["pipeline"]: data for data in document["pairs"]}
    assert set(pairs) == {"training", "legacy"}
    for violation in check.json["violations"]:
        data = pairs[violation["pipeline"]]
        assert violation["code"] in data["codes"]
        if violation["subject"] is not None:
            (vertex,) = [v for v in data["vertices"] if v["name"] == violation["subject"]]
            assert violation["code"] in vertex["codes"]
    legacy = {v["name"]: v["codes"] for v in pairs["legacy"]["vertices"]}
    assert legacy["instance"] == ["KML005"]
    assert legacy["legacy.predictions"] == legacy["legacy.summary"] == ["KML004"]


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
@pytest.mark.integration
def test_cli_graph_text_formats_and_pipeline_option(fmt: str, tmp_path: Path) -> None:
    out = tmp_path / f"pair.{fmt}"
    run = run_cli(
        "graph", EXAMPLES / "churn-broken", "--pipeline", "training", "--format", fmt, "-o", out
    )
    assert run.code == 0 and run.stdout == ""
    text = out.read_text()
    assert "encoder" in text and "KML001" in text and "legacy" not in text
    assert "supersecret" not in text
    assert run_cli("graph", EXAMPLES / "churn-broken", "--pipeline", "nope").code == 2


# --- wrapped Mermaid labels (GitHub's column width) -------------------------------------

NAME_PARTS = st.lists(st.text("abcdefghij", min_size=1, max_size=12), min_size=1, max_size=6)


@settings(deadline=None)
@given(parts=NAME_PARTS, separators=st.lists(st.sampled_from("._"), min_size=6, max_size=6))
def test_a_wrapped_label_reads_as_the_name_in_lines_that_fit(
    parts: list[str], separators: list[str]
) -> None:
    name = "".join(part + sep for part, sep in zip(parts, separators, strict=False))[:-1]
    lines = wrap_label(name).split("<br>")
    assert "".join(lines) == name  # nothing lost, nothing added: breaks only
    for line in lines:
        # Only a piece longer than the width on its own (no dot or underscore to break at).
        assert len(line) <= LABEL_WIDTH or not re.search(r"[._].", line), lines
    for first, second in itertools.pairwise(lines):
        assert first[-1] in "._"  # a break follows a dot or an underscore
        assert len(first) + len(re.split(r"(?<=[._])", second)[0]) > LABEL_WIDTH  # it had to


def test_short_names_stay_on_one_line_and_labels_are_escaped() -> None:
    assert wrap_label("model") == "model"
    assert wrap_label("legacy.split_numeric_features") == "legacy.split_<br>numeric_features"
    assert wrap_label('a"b<c>') == "a#quot;b#lt;c#gt;"
