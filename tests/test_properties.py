"""Property tests: the rules agree with an independent reference built on kedro's own
``Pipeline.inputs()``/``outputs()`` and a hand-written catalog resolution.

200 examples per property under CI, a quarter in the inner loop, 2000 with
``HYPOTHESIS_PROFILE=slow`` (``conftest.examples``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx
import pytest
from conftest import examples
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from kedro.pipeline import Pipeline
from parse import parse
from pipeline_specs import build

from kedro_ml_lint import lint_pipelines
from kedro_ml_lint.diagnostics import Applicability
from kedro_ml_lint.model import DatasetSpec, NodeSpec, Role, build_pair

RUN = settings(
    max_examples=examples(ci=200, slow=2000),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

SECRET = "supersecret"
PARAMS = ("params:p", "params:p.q", "params:r", "params:r.s.t", "parameters")
# Dataset names: plain, namespaced, matching the `{name}_m` pattern, always-transcoded `x@…`.
PLAIN = ("a", "b", "c", "d_m", "ns.a", "ns.e_m", "instances")
TRANSCODED = ("x@p", "x@q")
# `y` is spelled plain in one pipeline and transcoded in the other (kedro forbids mixing the
# two spellings inside one pipeline, but across the pair it is legal).
Y_SPELLINGS = (("y",), ("y@p", "y@q"))

# Catalog entry kinds, and what the reference expects of each.
LOCAL_KINDS = ("local", "absolute", "file_url", "local_url", "wrapper_local")
REMOTE_KINDS = ("s3", "credentials", "gs", "abfs", "https", "chained", "wrapper_s3", "partition_s3")
# A PartitionedDataset is a folder of partitions, not one file MLflow can log.
NO_FILE_KINDS = ("sql", "tracking", "partition_local")
MEMORY_KINDS = ("memory", "memory_qualified", "shared_memory")
KINDS = LOCAL_KINDS + REMOTE_KINDS + NO_FILE_KINDS + MEMORY_KINDS
MEMORY = "memory"  # the reference's "nothing matched" kind


def entry(kind: str, stem: str) -> dict[str, Any]:
    """A catalog entry of ``kind``; ``stem`` may hold pattern placeholders."""
    pickle = "pickle.PickleDataset"
    return {
        "local": {"type": pickle, "filepath": f"data/06_models/{stem}.pkl"},
        "absolute": {"type": pickle, "filepath": f"/srv/models/{stem}.pkl"},
        "file_url": {"type": pickle, "filepath": f"file:///srv/models/{stem}.pkl"},
        "local_url": {"type": pickle, "filepath": f"local://models/{stem}.pkl"},
        "wrapper_local": {
            "type": "kedro_mlflow.io.artifacts.MlflowArtifactDataset",
            "dataset": {"type": pickle, "filepath": f"data/06_models/{stem}.pkl"},
        },
        "partition_local": {
            "type": "partitions.PartitionedDataset",
            "path": f"data/06_models/{stem}",
            "dataset": pickle,
        },
        "s3": {"type": pickle, "filepath": f"s3://bucket/{stem}.pkl"},
        "credentials": {"type": pickle, "filepath": f"s3://AKIA:{SECRET}@bucket/{stem}.pkl"},
        "gs": {"type": pickle, "filepath": f"gs://bucket/{stem}.pkl"},
        "abfs": {"type": pickle, "filepath": f"abfs://models/{stem}.pkl"},
        "https": {"type": pickle, "filepath": f"https://example.com/{stem}.pkl"},
        "chained": {"type": pickle, "filepath": f"simplecache::s3://bucket/{stem}.pkl"},
        "wrapper_s3": {
            "type": "kedro_mlflow.io.artifacts.MlflowArtifactDataset",
            "dataset": {"type": pickle, "filepath": f"s3://bucket/{stem}.pkl"},
        },
        "partition_s3": {
            "type": "partitions.PartitionedDataset",
            "path": f"s3://bucket/{stem}",
            "dataset": pickle,
        },
        "sql": {
            "type": "pandas.SQLTableDataset",
            "table_name": stem,
            "credentials": {"con": f"postgresql://u:{SECRET}@db/x"},
        },
        "tracking": {
            "type": "kedro_mlflow.io.models.MlflowModelTrackingDataset",
            "flavor": "mlflow.sklearn",
        },
        "memory": {"type": "MemoryDataset"},
        "memory_qualified": {"type": "kedro.io.MemoryDataset", "copy_mode": "assign"},
        "shared_memory": {"type": "SharedMemoryDataset"},
    }[kind]


# --- the reference ---------------------------------------------------------------------------


def strip(name: str) -> str:
    return name.split("@")[0]


def is_param(name: str) -> bool:
    return name == "parameters" or name.startswith("params:")


def specificity(pattern: str) -> int:
    return len(re.sub(r"\{.*?\}", "", pattern))


def reference_kind(name: str, kinds: Mapping[str, str]) -> str:
    """Explicit entry > most specific pattern (kedro's order) > catch-all > MemoryDataset."""
    if name in kinds and "{" not in name:
        return kinds[name]
    patterns = [k for k in kinds if "{" in k]
    specific = sorted(
        (p for p in patterns if specificity(p) > 0),
        key=lambda p: (-specificity(p), -p.count("{"), p),
    )
    catch_all = [p for p in patterns if specificity(p) == 0]
    for pattern in specific + catch_all:
        if parse(pattern, name) is not None:
            return kinds[pattern]
    return MEMORY


def defined_parameters(parameters: Mapping[str, Any]) -> set[str]:
    """The ``params:`` names kedro feeds, as ``KedroContext._get_parameters`` builds them."""
    names: set[str] = set()

    def add(key: str, value: Any) -> None:
        names.add(f"params:{key}")
        if isinstance(value, dict):
            for sub, sub_value in value.items():
                add(f"{key}.{sub}", sub_value)

    for key, value in parameters.items():
        add(key, value)
    return names


@dataclass
class Pair:
    training: Pipeline
    inference: Pipeline
    input_name: str | None
    catalog: dict[str, Any]
    kinds: dict[str, str]
    parameters: dict[str, Any] | None

    @property
    def artifacts(self) -> set[str]:
        return {n for n in self.inference.inputs() if n != self.input_name and not is_param(n)}

    def expected(self) -> set[tuple[str, str | None]]:
        training, inference = self.training, self.inference
        found: set[tuple[str, str | None]] = set()
        training_bases = {strip(d) for d in training.datasets()}
        for artifact in self.artifacts:
            kind = reference_kind(artifact, self.kinds)
            if kind == MEMORY or kind in MEMORY_KINDS:
                found.add(("KML001", artifact))
            elif kind in REMOTE_KINDS or kind in NO_FILE_KINDS:
                found.add(("KML002", artifact))
            if strip(artifact) not in training_bases:
                found.add(("KML003", artifact))
        if len(inference.outputs()) != 1:
            found.add(("KML004", None))
        if not self.input_name or self.input_name not in inference.inputs():
            found.add(("KML005", None))
        if self.parameters is not None:
            defined = defined_parameters(self.parameters)
            found |= {
                ("KML006", n)
                for n in inference.inputs()
                if n.startswith("params:") and n not in defined
            }
        # Served as `input_name`, the dict comes from the caller: nothing to persist.
        if "parameters" in inference.inputs() and self.input_name != "parameters":
            found.add(("KML007", "parameters"))
        return found

    def lint(self) -> list[Any]:
        return lint_pipelines(
            self.training, self.inference, self.input_name, self.catalog, self.parameters
        )


# --- strategies ------------------------------------------------------------------------------


@st.composite
def pipelines(draw: st.DrawFn, datasets: tuple[str, ...], min_nodes: int) -> Pipeline:
    """A random DAG over ``datasets``: nodes in topological order, outputs never read earlier."""
    count = draw(st.integers(min_nodes, 4))
    read: set[str] = set()
    written: set[str] = set()
    specs = []
    for _ in range(count):
        inputs = draw(
            st.lists(st.sampled_from(datasets + PARAMS), min_size=1, max_size=3, unique=True)
        )
        read |= {strip(i) for i in inputs}
        outputs = draw(st.lists(st.sampled_from(datasets), min_size=1, max_size=2, unique=True))
        # Keep kedro happy by construction: unique outputs, no cycle, no output==input.
        outputs = [o for o in outputs if strip(o) not in read | written]
        outputs = list({strip(o): o for o in outputs}.values())
        written |= {strip(o) for o in outputs}
        specs.append((inputs, outputs))
    try:
        # Both pipelines reuse the node names n0, n1…: the model must keep them apart.
        return build(specs)
    except Exception:  # anything kedro rejects is not a pipeline a user can have
        assume(False)
        raise


@st.composite
def catalogs(draw: st.DrawFn, names: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, str]]:
    kinds: dict[str, str] = {}
    config: dict[str, Any] = {}
    for name in draw(st.lists(st.sampled_from(names), unique=True)):
        kinds[name] = draw(st.sampled_from(KINDS))
        config[name] = entry(kinds[name], name)
    patterns = {"{name}_m": "{name}", "{ns}.{name}": "{ns}/{name}"}
    catch_all = draw(st.sampled_from([None, "{default}", "{name}"]))
    if catch_all:
        patterns[catch_all] = catch_all
    for pattern, stem in patterns.items():
        if pattern == catch_all or draw(st.booleans()):
            kinds[pattern] = draw(st.sampled_from(KINDS))
            config[pattern] = entry(kinds[pattern], stem)
    return config, kinds


parameter_values = st.recursive(
    st.integers(0, 3) | st.text("ab", max_size=2),
    lambda children: st.dictionaries(
        st.sampled_from(["p", "q", "r", "s", "t"]), children, max_size=3
    ),
    max_leaves=6,
)
parameter_dicts = st.dictionaries(
    st.sampled_from(["p", "q", "r", "p.q", "r.s"]), parameter_values, max_size=4
)


@st.composite
def pairs(draw: st.DrawFn) -> Pair:
    training_y, inference_y = draw(st.permutations(Y_SPELLINGS))
    training = draw(pipelines(PLAIN + TRANSCODED + training_y, min_nodes=0))
    inference = draw(pipelines(PLAIN + TRANSCODED + inference_y, min_nodes=0))
    names = tuple(sorted(n for n in training.datasets() | inference.datasets() if not is_param(n)))
    config, kinds = draw(catalogs(names or ("a",)))
    candidates = sorted(inference.inputs()) + sorted(inference.datasets()) + ["missing", ""]
    input_name = draw(st.one_of(st.none(), st.sampled_from(candidates)))
    if inference.inputs() and draw(st.booleans()):
        input_name = draw(st.sampled_from(sorted(inference.inputs())))
    parameters = draw(st.none() | parameter_dicts)
    return Pair(training, inference, input_name, config, kinds, parameters)


# --- properties ------------------------------------------------------------------------------


@RUN
@given(pairs())
def test_rules_agree_with_the_reference(pair: Pair) -> None:
    violations = pair.lint()
    found = [(v.code, v.subject) for v in violations]

    assert len(found) == len(set(found)), "each (code, subject) is reported once"
    assert set(found) == pair.expected()


@RUN
@given(
    pairs(), st.sampled_from(["KML001", "KML002", "KML003", "KML004", "KML005", "KML006", "KML007"])
)
def test_select_runs_exactly_one_rule(pair: Pair, code: str) -> None:
    violations = lint_pipelines(
        pair.training, pair.inference, pair.input_name, pair.catalog, pair.parameters, select=[code]
    )
    assert {(v.code, v.subject) for v in violations} == {p for p in pair.expected() if p[0] == code}


@RUN
@given(pairs())
def test_fix_applicability_and_no_secret(pair: Pair) -> None:
    explicit = {k for k in pair.catalog if "{" not in k}
    for violation in pair.lint():
        text = repr(violation) + str(violation.to_dict())
        assert SECRET not in text
        if violation.code != "KML001":
            continue
        name = violation.subject
        assert violation.fix is not None
        if name in explicit:
            assert violation.fix.applicability is Applicability.DISPLAY_ONLY
            assert not violation.fix.edits
            continue
        expected = Applicability.UNSAFE if "@" in name else Applicability.SAFE
        assert violation.fix.applicability is expected
        (edit,) = violation.fix.edits
        assert edit.dataset == name
        assert dict(edit.entry) == {
            "type": "pickle.PickleDataset",
            "filepath": f"data/06_models/{strip(name)}.pkl",
        }


@RUN
@given(pairs())
def test_applying_fixes_clears_kml001(pair: Pair) -> None:
    catalog = dict(pair.catalog)
    for violation in pair.lint():
        if violation.fix and violation.fix.applicability is not Applicability.DISPLAY_ONLY:
            for edit in violation.fix.edits:
                catalog[edit.dataset] = dict(edit.entry)
    fixed = lint_pipelines(
        pair.training,
        pair.inference,
        pair.input_name,
        catalog,
        pair.parameters,
        select=["KML001", "KML002"],
    )
    remaining_memory = {v.subject for v in fixed if v.code == "KML001"}
    assert remaining_memory == {
        a for a in pair.artifacts if a in pair.kinds and pair.kinds[a] in MEMORY_KINDS
    }


def _specs(pipeline: Pipeline) -> list[NodeSpec]:
    return [NodeSpec(n.name, tuple(n.inputs), tuple(n.outputs)) for n in pipeline.nodes]


def _has_cycle(edges: set[tuple[Any, Any]]) -> bool:
    """Kahn's algorithm on a plain edge set."""
    vertices = {v for edge in edges for v in edge}
    indegree = dict.fromkeys(vertices, 0)
    for _, target in edges:
        indegree[target] += 1
    ready = [v for v, d in indegree.items() if d == 0]
    seen = 0
    while ready:
        vertex = ready.pop()
        seen += 1
        for source, target in edges:
            if source == vertex:
                indegree[target] -= 1
                if indegree[target] == 0:
                    ready.append(target)
    return seen != len(vertices)


@RUN
@given(pairs())
def test_model_reproduces_kedro_flows(pair: Pair) -> None:
    training, inference = pair.training, pair.inference
    model = build_pair(
        "p", _specs(training), _specs(inference), pair.input_name, DatasetSpec.unconfigured
    )

    for flow, pipeline in ((model.training, training), (model.inference, inference)):
        assert flow.inputs == pipeline.inputs()
        assert flow.outputs == pipeline.outputs()
        assert flow.all_inputs == pipeline.all_inputs()
        assert flow.all_outputs == pipeline.all_outputs()
        assert flow.bases == {strip(d) for d in pipeline.datasets()}
    assert set(model.artifacts) == pair.artifacts
    assert model.artifacts == sorted(model.artifacts)
    assert set(model.datasets) == pair.artifacts

    graph = model.graph
    node_vertices = [v for v, d in graph.nodes(data=True) if d["kind"] == "node"]
    dataset_vertices = [v for v, d in graph.nodes(data=True) if d["kind"] == "dataset"]
    all_nodes = [("training", n) for n in training.nodes] + [
        ("inference", n) for n in inference.nodes
    ]
    assert len(node_vertices) == len(all_nodes)
    assert len(dataset_vertices) == len(training.datasets() | inference.datasets())
    assert graph.number_of_edges() == sum(
        len(set(n.inputs)) + len(set(n.outputs)) for _, n in all_nodes
    )
    for role, pipeline in (("training", training), ("inference", inference)):
        mine = [v for v in node_vertices if graph.nodes[v]["role"].value == role]
        sub = graph.subgraph(mine + [d for v in mine for d in nx.all_neighbors(graph, v)])
        assert nx.is_directed_acyclic_graph(sub)
        for vertex in mine:
            name = graph.nodes[vertex]["name"]
            kedro_node = next(n for n in pipeline.nodes if n.name == name)
            assert sorted(graph.nodes[d]["name"] for d in graph.predecessors(vertex)) == sorted(
                set(kedro_node.inputs)
            )
            assert sorted(graph.nodes[d]["name"] for d in graph.successors(vertex)) == sorted(
                set(kedro_node.outputs)
            )
    for dataset in training.datasets() | inference.datasets():
        for role, pipeline in ((Role.TRAINING, training), (Role.INFERENCE, inference)):
            assert model.readers(dataset, role) == sorted(
                n.name for n in pipeline.nodes if dataset in n.inputs
            )
    edges = {(("d", i), (role, n.name)) for role, n in all_nodes for i in n.inputs} | {
        ((role, n.name), ("d", o)) for role, n in all_nodes for o in n.outputs
    }
    assert nx.is_directed_acyclic_graph(graph) == (not _has_cycle(edges))
