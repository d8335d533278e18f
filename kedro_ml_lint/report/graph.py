"""Pictures of a pair: training and inference nodes, artifacts, served input and output.

Rendering is pure: :func:`picture` turns a ``PairFacts`` and its violations into plain data,
and :func:`to_mermaid`, :func:`to_dot` and :func:`to_json` turn pictures into text. A
dataset a rule flags is highlighted and labelled with the rule codes; codes of pair-level
rules (KML004, KML005) are shown on the pair's frame, and on the vertices they concern.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from kedro_ml_lint.diagnostics import Violation
from kedro_ml_lint.model import PairFacts, Role
from kedro_ml_lint.model.names import is_parameter
from kedro_ml_lint.rules.kml004_inference_output_not_single import (
    RULE as inference_output_not_single,  # the inference outputs are the problem
)
from kedro_ml_lint.rules.kml005_input_name_not_inference_input import (
    RULE as input_name_not_inference_input,  # the served input is the problem
)

SCHEMA_VERSION = 1


class Category(str, Enum):
    """What a vertex is in the pair."""

    TRAINING_NODE = "training-node"
    INFERENCE_NODE = "inference-node"
    INPUT = "input"  # the served input, ``input_name``
    OUTPUT = "output"  # a final output of the inference pipeline
    ARTIFACT = "artifact"  # handed from training to inference
    PARAMETER = "parameter"
    DATASET = "dataset"  # any other dataset (training data, intermediates)


@dataclass(frozen=True)
class Vertex:
    """One vertex of a pair's picture.

    Attributes:
        id: Stable identifier: ``dataset:<name>`` or ``node:<role>:<name>``.
        kind: ``dataset`` or ``node``.
        name: The dataset's or node's name.
        category: What the vertex is in the pair.
        roles: The pipelines that touch it (``training``, ``inference``).
        codes: The rule codes that flag it, sorted.
    """

    id: str
    kind: str
    name: str
    category: Category
    roles: tuple[str, ...]
    codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class PairPicture:
    """Everything needed to draw one pair.

    Attributes:
        name: The pair's name.
        input_name: The served input.
        vertices: Nodes and datasets, sorted by id.
        edges: ``(source id, target id)``, sorted.
        codes: Every rule code reported on the pair, sorted.
    """

    name: str
    input_name: str | None
    vertices: tuple[Vertex, ...]
    edges: tuple[tuple[str, str], ...]
    codes: tuple[str, ...] = field(default=())


def picture(pair: PairFacts, violations: Iterable[Violation]) -> PairPicture:
    """Reduce ``pair`` and the violations reported on it to a picture.

    Args:
        pair: The pair.
        violations: Violations; those of other pairs are ignored.
    """
    mine = [v for v in violations if v.pair == pair.name]
    flagged: dict[str, set[str]] = {}
    for violation in mine:
        for name in _flagged_datasets(pair, violation):
            flagged.setdefault(name, set()).add(violation.code)
    graph = pair.graph
    vertices: dict[str, Vertex] = {}
    for _, data in graph.nodes(data=True):
        if data["kind"] == "node":
            role = data["role"]
            category = Category.TRAINING_NODE if role is Role.TRAINING else Category.INFERENCE_NODE
            key = node_id(role, data["name"])
            vertices[key] = Vertex(key, "node", data["name"], category, (role.value,))
        else:
            name = data["name"]
            key = dataset_id(name)
            vertices[key] = Vertex(
                key,
                "dataset",
                name,
                _category(pair, name),
                tuple(sorted(r.value for r in data["roles"])),
                tuple(sorted(flagged.get(name, ()))),
            )
    for name, codes in flagged.items():  # a flagged name no node touches: draw it alone
        key = dataset_id(name)
        if key not in vertices:
            vertices[key] = Vertex(
                key, "dataset", name, _category(pair, name), (), tuple(sorted(codes))
            )
    edges = sorted((_vertex_id(graph.nodes[a]), _vertex_id(graph.nodes[b])) for a, b in graph.edges)
    return PairPicture(
        name=pair.name,
        input_name=pair.input_name,
        vertices=tuple(vertices[k] for k in sorted(vertices)),
        edges=tuple(edges),
        codes=tuple(sorted({v.code for v in mine})),
    )


def pictures(pairs: Sequence[PairFacts], violations: Sequence[Violation]) -> list[PairPicture]:
    """One picture per pair, in the given order."""
    return [picture(pair, violations) for pair in pairs]


def dataset_id(name: str) -> str:
    """The stable id of a dataset vertex."""
    return f"dataset:{name}"


def node_id(role: Role, name: str) -> str:
    """The stable id of a node vertex."""
    return f"node:{role.value}:{name}"


def _vertex_id(data: dict[str, Any]) -> str:
    if data["kind"] == "node":
        return node_id(data["role"], data["name"])
    return dataset_id(data["name"])


def _flagged_datasets(pair: PairFacts, violation: Violation) -> list[str]:
    if violation.subject is not None:
        return [violation.subject]
    if violation.code == inference_output_not_single.code:
        return sorted(pair.inference.outputs)
    if violation.code == input_name_not_inference_input.code and pair.input_name:
        return [pair.input_name]
    return []


def _category(pair: PairFacts, name: str) -> Category:
    if name == pair.input_name:
        return Category.INPUT
    if name in pair.inference.outputs:
        return Category.OUTPUT
    if is_parameter(name):
        return Category.PARAMETER
    if name in pair.artifacts:
        return Category.ARTIFACT
    return Category.DATASET


# --- JSON --------------------------------------------------------------------------------


def to_json(items: Sequence[PairPicture]) -> str:
    """``{"schema_version": 1, "pairs": [{pipeline, input_name, codes, vertices, edges}]}``."""
    document = {
        "schema_version": SCHEMA_VERSION,
        "pairs": [
            {
                "pipeline": item.name,
                "input_name": item.input_name,
                "codes": list(item.codes),
                "vertices": [
                    {
                        "id": v.id,
                        "kind": v.kind,
                        "name": v.name,
                        "category": v.category.value,
                        "roles": list(v.roles),
                        "codes": list(v.codes),
                    }
                    for v in item.vertices
                ],
                "edges": [{"source": a, "target": b} for a, b in item.edges],
            }
            for item in items
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# --- Mermaid -----------------------------------------------------------------------------

MERMAID_CLASSES = {
    "violation": "fill:#ffd7d5,stroke:#d1242f,stroke-width:3px,color:#000",
    "input": "fill:#ddf4ff,stroke:#0969da,color:#000",
    "output": "fill:#dafbe1,stroke:#1a7f37,color:#000",
    "artifact": "fill:#fff8c5,stroke:#9a6700,color:#000",
    "parameter": "fill:#f6f8fa,stroke:#8c959f,stroke-dasharray:3 3,color:#000",
}


def to_mermaid(items: Sequence[PairPicture]) -> str:
    """A Mermaid flowchart: one frame per pair, holding its training and inference frames."""
    lines = ["flowchart LR"]
    for number, item in enumerate(items):
        lines += _mermaid_pair(item, f"p{number}")
    lines += [f"  classDef {name} {style}" for name, style in MERMAID_CLASSES.items()]
    return "\n".join(lines) + "\n"


def mermaid_class(vertex: Vertex) -> str | None:
    """The Mermaid class of a vertex: ``violation`` wins over its category."""
    if vertex.codes:
        return "violation"
    if vertex.category.value in MERMAID_CLASSES:
        return vertex.category.value
    return None


def _mermaid_pair(item: PairPicture, prefix: str) -> list[str]:
    ids = {v.id: f"{prefix}_{i}" for i, v in enumerate(item.vertices)}
    title = wrap_label(f"pair {item.name}")
    # The codes under the name, three a line: the frame is no wider than its pipelines.
    codes = [", ".join(item.codes[i : i + 3]) for i in range(0, len(item.codes), 3)]
    title = "<br>".join([title, *map(_mermaid_text, codes)])
    lines = [f'  subgraph {prefix}["{title}"]', "    direction LR"]
    groups = _groups(item)
    for role in (Role.TRAINING, Role.INFERENCE):
        lines.append(f'    subgraph {prefix}_{role.value}["{role.value}"]')
        lines += [f"      {_mermaid_vertex(v, ids[v.id])}" for v in groups[role.value]]
        lines.append("    end")
    lines += [f"    {_mermaid_vertex(v, ids[v.id])}" for v in groups["shared"]]
    lines.append("  end")
    lines += [f"  {ids[a]} --> {ids[b]}" for a, b in item.edges]
    for vertex in item.vertices:
        css = mermaid_class(vertex)
        if css:
            lines.append(f"  class {ids[vertex.id]} {css}")
    return lines


def _groups(item: PairPicture) -> dict[str, list[Vertex]]:
    """Nodes and one-pipeline datasets go in their pipeline's frame; shared ones between."""
    groups: dict[str, list[Vertex]] = {"training": [], "inference": [], "shared": []}
    for vertex in item.vertices:
        if len(vertex.roles) == 1 and vertex.category not in (Category.INPUT, Category.OUTPUT):
            groups[vertex.roles[0]].append(vertex)
        else:
            groups["shared"].append(vertex)
    return groups


def _mermaid_vertex(vertex: Vertex, key: str) -> str:
    label = wrap_label(vertex.name)
    if vertex.codes:
        label += "<br/>" + _mermaid_text(", ".join(vertex.codes))
    if vertex.kind == "node":
        return f'{key}["{label}"]'
    if vertex.category is Category.INPUT:
        return f'{key}[/"{label}"/]'
    if vertex.category is Category.OUTPUT:
        return f'{key}[\\"{label}"\\]'
    return f'{key}(["{label}"])'


# GitHub renders a Mermaid picture in its ~830 px column: a label past this many characters is
# broken onto lines, at its dots and underscores (namespaces, snake_case words).
LABEL_WIDTH = 20
_BREAKS = re.compile(r"(?<=[._])")


def wrap_label(name: str, width: int = LABEL_WIDTH) -> str:
    """A Mermaid label for ``name``: lines of about ``width`` characters joined by ``<br>``.

    Lines end after a ``.`` or ``_`` (kept, so the name reads whole); a piece longer than
    ``width`` with neither stays on its own line. Each line is escaped as labels are.
    """
    lines: list[str] = []
    for piece in _BREAKS.split(name):
        if lines and len(lines[-1]) + len(piece) <= width:
            lines[-1] += piece
        elif piece:
            lines.append(piece)
    return "<br>".join(_mermaid_text(line) for line in lines)


def _mermaid_text(text: str) -> str:
    """Mermaid labels are quoted; quotes and angle brackets become entity codes."""
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


# --- Graphviz DOT ------------------------------------------------------------------------

DOT_STYLES = {
    "violation": 'style="filled,bold", fillcolor="#ffd7d5", color="#d1242f", penwidth=3',
    "input": 'style=filled, fillcolor="#ddf4ff", color="#0969da"',
    "output": 'style=filled, fillcolor="#dafbe1", color="#1a7f37"',
    "artifact": 'style=filled, fillcolor="#fff8c5", color="#9a6700"',
    "parameter": 'style=dashed, color="#8c959f"',
}
DOT_SHAPES = {"node": "box", "dataset": "ellipse"}


def to_dot(items: Sequence[PairPicture]) -> str:
    """One Graphviz ``digraph``: a cluster per pair holding training and inference clusters."""
    lines = [
        'digraph "kedro-ml-lint" {',
        "  rankdir=LR;",
        '  node [fontname="Helvetica"];',
    ]
    for number, item in enumerate(items):
        lines += _dot_pair(item, f"p{number}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_pair(item: PairPicture, prefix: str) -> list[str]:
    def ident(vertex_id: str) -> str:
        return _dot_string(f"{prefix}/{vertex_id}")

    title = f"pair {item.name}"
    if item.codes:
        title += "\n" + ", ".join(item.codes)
    lines = [
        f"  subgraph {_dot_string(f'cluster_{prefix}')} {{",
        f"    label={_dot_string(title)};",
    ]
    groups = _groups(item)
    for role in (Role.TRAINING, Role.INFERENCE):
        lines.append(f"    subgraph {_dot_string(f'cluster_{prefix}_{role.value}')} {{")
        lines.append(f"      label={_dot_string(role.value)};")
        lines += [f"      {ident(v.id)} [{_dot_attributes(v)}];" for v in groups[role.value]]
        lines.append("    }")
    lines += [f"    {ident(v.id)} [{_dot_attributes(v)}];" for v in groups["shared"]]
    lines.append("  }")
    lines += [f"  {ident(a)} -> {ident(b)};" for a, b in item.edges]
    return lines


def _dot_attributes(vertex: Vertex) -> str:
    label = vertex.name + ("\n" + ", ".join(vertex.codes) if vertex.codes else "")
    attributes = [f"label={_dot_string(label)}", f"shape={DOT_SHAPES[vertex.kind]}"]
    css = mermaid_class(vertex)
    if css:
        attributes += [DOT_STYLES[css], f"class={_dot_string(css)}"]
    if vertex.codes:
        attributes.append(f"tooltip={_dot_string(', '.join(vertex.codes))}")
    return ", ".join(attributes)


def _dot_string(text: str) -> str:
    r"""A double-quoted DOT string; a newline becomes DOT's ``\n`` line break."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


GRAPH_FORMATS = {"mermaid": to_mermaid, "dot": to_dot, "json": to_json}
