"""The training/inference pair as one networkx DAG, and the sets the rules read."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import networkx as nx

from kedro_ml_lint.model.catalog import DatasetSpec
from kedro_ml_lint.model.names import is_parameter, strip_transcoding
from kedro_ml_lint.model.wiring import Wiring


class Role(str, Enum):
    """Which of the two pipelines a node belongs to."""

    TRAINING = "training"
    INFERENCE = "inference"


class PairSource(str, Enum):
    """Where a pair was declared (the JSON ``pairs[].source`` field)."""

    PIPELINE_ML = "pipeline_ml"
    CONFIG = "config"
    CLI = "cli"


@dataclass(frozen=True)
class NodeSpec:
    """A Kedro node reduced to what the contract needs.

    Attributes:
        name: The node's full name.
        inputs: Input dataset names, in the node's order.
        outputs: Output dataset names, in the node's order.
    """

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]


def dataset_vertex(name: str) -> tuple[str, str]:
    """The graph vertex of a dataset."""
    return ("dataset", name)


def node_vertex(role: Role, name: str) -> tuple[str, str, str]:
    """The graph vertex of a node; the same node may sit in both pipelines."""
    return ("node", role.value, name)


def build_graph(training: Iterable[NodeSpec], inference: Iterable[NodeSpec]) -> nx.DiGraph:
    """Both pipelines as one directed graph: ``dataset -> node -> dataset`` edges.

    Each pipeline alone is acyclic (Kedro checks it); the union may loop when inference
    feeds training, which the contract does not forbid.

    Node vertices carry ``role``; dataset vertices carry ``roles``, the set of pipelines
    that read or write them.
    """
    import networkx as nx  # only violations and pictures need the graph: import on demand

    graph = nx.DiGraph()
    for role, nodes in ((Role.TRAINING, training), (Role.INFERENCE, inference)):
        for node in nodes:
            vertex = node_vertex(role, node.name)
            graph.add_node(vertex, kind="node", role=role, name=node.name)
            for name in node.inputs:
                _touch_dataset(graph, name, role)
                graph.add_edge(dataset_vertex(name), vertex)
            for name in node.outputs:
                _touch_dataset(graph, name, role)
                graph.add_edge(vertex, dataset_vertex(name))
    return graph


def _touch_dataset(graph: nx.DiGraph, name: str, role: Role) -> None:
    vertex = dataset_vertex(name)
    if vertex in graph:
        graph.nodes[vertex]["roles"].add(role)
    else:
        graph.add_node(vertex, kind="dataset", name=name, roles={role})


@dataclass(frozen=True)
class DatasetFlow:
    """What one pipeline reads and writes, with Kedro's ``inputs()``/``outputs()`` semantics."""

    all_inputs: frozenset[str]
    all_outputs: frozenset[str]

    @cached_property
    def _intermediate_bases(self) -> frozenset[str]:
        return frozenset(map(strip_transcoding, self.all_inputs)) & frozenset(
            map(strip_transcoding, self.all_outputs)
        )

    @cached_property
    def inputs(self) -> frozenset[str]:
        """Free inputs: read but not produced inside (names compared without ``@fmt``)."""
        return frozenset(
            n for n in self.all_inputs if strip_transcoding(n) not in self._intermediate_bases
        )

    @cached_property
    def outputs(self) -> frozenset[str]:
        """Final outputs: produced but not read inside."""
        return frozenset(
            n for n in self.all_outputs if strip_transcoding(n) not in self._intermediate_bases
        )

    @cached_property
    def bases(self) -> frozenset[str]:
        """Every dataset the pipeline touches, without transcoding suffixes."""
        return frozenset(map(strip_transcoding, self.all_inputs | self.all_outputs))


def flow_of(nodes: Iterable[NodeSpec]) -> DatasetFlow:
    """One pipeline's dataset flow, straight from its nodes (no graph needed)."""
    inputs: set[str] = set()
    outputs: set[str] = set()
    for node in nodes:
        inputs.update(node.inputs)
        outputs.update(node.outputs)
    return DatasetFlow(frozenset(inputs), frozenset(outputs))


@dataclass(frozen=True)
class PairFacts:
    """Everything the rules may look at for one training/inference pair.

    Attributes:
        name: The name the pair is known by (registry key or configured name).
        input_name: The dataset served at predict time, ``None`` when not given.
        training_nodes: The training pipeline's nodes.
        inference_nodes: The inference pipeline's nodes.
        training: The training pipeline's dataset flow.
        inference: The inference pipeline's dataset flow.
        datasets: The catalog's view of every artifact.
        parameter_keys: Every defined ``params:`` name, or ``None`` when unknown.
        source: Where the pair was declared.
        missing_on_disk: Artifacts whose local file does not exist yet; ``None`` when
            the disk was not looked at (only ``--log`` and the hook look).
        wiring: What would log the pair after a run; ``None`` when not read (a pair given
            as pipelines, or not declared by a factory in the registry).
        catalog_entries: Every explicit catalog entry -> the file it writes (``None``: no
            file); empty when unknown.
    """

    name: str
    input_name: str | None
    training_nodes: tuple[NodeSpec, ...]
    inference_nodes: tuple[NodeSpec, ...]
    training: DatasetFlow
    inference: DatasetFlow
    datasets: dict[str, DatasetSpec]
    parameter_keys: frozenset[str] | None = None
    source: PairSource = PairSource.PIPELINE_ML
    missing_on_disk: frozenset[str] | None = None
    wiring: Wiring | None = None
    catalog_entries: Mapping[str, str | None] = field(default_factory=dict)

    @cached_property
    def graph(self) -> nx.DiGraph:
        """Both pipelines as one graph (see :func:`build_graph`), built on first use.

        A clean pair never needs it: the rules read the flows; placing a violation and
        drawing the pair do.
        """
        return build_graph(self.training_nodes, self.inference_nodes)

    @property
    def artifacts(self) -> list[str]:
        """Inference inputs that training must hand over: all but ``input_name`` and params."""
        return sorted(
            n for n in self.inference.inputs if n != self.input_name and not is_parameter(n)
        )

    @property
    def unused_entries(self) -> list[str]:
        """Catalog entries neither pipeline of the pair reads or writes, sorted.

        Where a misspelt key hides: ``scalar:`` configured while the nodes say ``scaler``.
        """
        used = {
            strip_transcoding(name)
            for flow in (self.training, self.inference)
            for name in (*flow.all_inputs, *flow.all_outputs)
        }
        return sorted(name for name in self.catalog_entries if strip_transcoding(name) not in used)

    def writers(self, dataset: str) -> list[str]:
        """Names of the training nodes that write ``dataset`` (transcoding ignored), sorted."""
        base = strip_transcoding(dataset)
        return sorted(
            node.name
            for node in self.training_nodes
            if any(strip_transcoding(output) == base for output in node.outputs)
        )

    @cached_property
    def _readers(self) -> dict[Role, dict[str, list[str]]]:
        index: dict[Role, dict[str, set[str]]] = {Role.TRAINING: {}, Role.INFERENCE: {}}
        for role, nodes in (
            (Role.TRAINING, self.training_nodes),
            (Role.INFERENCE, self.inference_nodes),
        ):
            for node in nodes:
                for name in node.inputs:
                    index[role].setdefault(name, set()).add(node.name)
        return {role: {k: sorted(v) for k, v in found.items()} for role, found in index.items()}

    def readers(self, dataset: str, role: Role = Role.INFERENCE) -> list[str]:
        """Names of the ``role`` nodes that read ``dataset``, sorted.

        Read from the node specs, not the graph: placing a violation never imports networkx
        (only drawing a pair does).
        """
        return list(self._readers[role].get(dataset, ()))


def build_pair(
    name: str,
    training: Iterable[NodeSpec],
    inference: Iterable[NodeSpec],
    input_name: str | None,
    resolve: Callable[[str], DatasetSpec],
    parameter_keys: frozenset[str] | None = None,
    source: PairSource = PairSource.PIPELINE_ML,
    wiring: Wiring | None = None,
    catalog_entries: Mapping[str, str | None] | None = None,
) -> PairFacts:
    """Assemble a :class:`PairFacts`, resolving each artifact through ``resolve``.

    Args:
        name: The name the pair is known by.
        training: The training pipeline's nodes.
        inference: The inference pipeline's nodes.
        input_name: The dataset served at predict time.
        resolve: Maps a dataset name to what the catalog says about it.
        parameter_keys: Every defined ``params:`` name, or ``None`` when unknown.
        source: Where the pair was declared.
        wiring: What would log the pair after a run, when known.
        catalog_entries: Every explicit catalog entry -> the file it writes, when known.
    """
    training_nodes, inference_nodes = tuple(training), tuple(inference)
    pair = PairFacts(
        name=name,
        input_name=input_name,
        training_nodes=training_nodes,
        inference_nodes=inference_nodes,
        training=flow_of(training_nodes),
        inference=flow_of(inference_nodes),
        datasets={},
        parameter_keys=parameter_keys,
        source=source,
        wiring=wiring,
        catalog_entries=dict(catalog_entries or {}),
    )
    pair.datasets.update({artifact: resolve(artifact) for artifact in pair.artifacts})
    return pair
