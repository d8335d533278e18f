"""Everything a report needs from a loaded project, as plain frozen data.

``lint_project`` builds its report from a :class:`ProjectSnapshot` on every run: a cold run
loads the project and takes the snapshot (and may store it), a warm run reads a stored one
whose recorded inputs are unchanged. One code path after the snapshot means the cache
cannot drift from the uncached verdict (docs/design.md §13).

This module is imported on the warm path, so it never imports Kedro (nor the project
loader) at module level.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro_ml_lint.diagnostics import Location, Placement
from kedro_ml_lint.model import DatasetSpec, NodeSpec, PairSource, Role, Wiring
from kedro_ml_lint.model.names import is_parameter
from kedro_ml_lint.model.pair import flow_of

if TYPE_CHECKING:
    from kedro_ml_lint.reading.pairs import PairDeclaration
    from kedro_ml_lint.reading.project import Project


@dataclass(frozen=True)
class NodePlace:
    """Where an inference node was created, and the ``# noqa`` for each of its inputs.

    Attributes:
        default: The placement for no particular input (``None``: nowhere known).
        by_input: Inputs whose placement differs from ``default`` (a ``# noqa`` on the
            input's own line inside the ``node(...)`` call).
    """

    default: Placement | None
    by_input: dict[str, Placement | None] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class PairSnapshot:
    """One declared pair, reduced to data.

    Fields that :class:`~kedro_ml_lint.reading.pairs.PairDeclaration` also has (other than
    the two pipelines) are copied from it by name: a new declaration field is one line here.

    Attributes:
        name: The name the pair is known by.
        input_name: The served input, ``None`` when not given.
        source: Where the pair was declared.
        location: Where the declaration is written, when known.
        aliases: Other registry names of the same PipelineML.
        training: The training pipeline's nodes.
        inference: The inference pipeline's nodes.
        places: Inference node name -> where it is written.
        wiring: What would log the pair (registry pairs only; KML2xx).
    """

    name: str
    input_name: str | None
    source: PairSource
    location: Location | None
    aliases: tuple[str, ...]
    training: tuple[NodeSpec, ...]
    inference: tuple[NodeSpec, ...]
    places: dict[str, NodePlace]
    wiring: Wiring | None = None


# PairSnapshot fields computed from the declaration rather than copied from it.
_DERIVED = frozenset({"training", "inference", "places"})


@dataclass(frozen=True)
class Directive:
    """A ``# noqa`` comment the run consults: where, and the codes (empty: bare)."""

    location: Location
    codes: frozenset[str]


@dataclass(frozen=True)
class ProjectSnapshot:
    """A loaded project as the rules, locators, noqa and reports see it.

    Attributes:
        root: The project root (absolute).
        kedro_version: The Kedro version the project was made with.
        loader_class: The config loader's class name (``-v``).
        lint_config: The ``[tool.kedro-ml-lint]`` table.
        parameter_keys: Every ``params:`` name the parameters define.
        datasets: What the catalog says about every artifact of every pair.
        catalog_places: Catalog key (entry or pattern) -> where it is written, with its noqa.
        catalog_entries: Every explicit catalog entry -> the file it writes (``None``: no
            file): the misspelt keys KML001 suggests, the files ``--fix`` must not write twice.
        directives: Every ``# noqa`` (catalog key lines, then Python), for
            ``--show-unused-noqa``.
        warnings: Notes from the load that did not stop it.
        pairs: The pairs to check.
    """

    root: str
    kedro_version: str
    loader_class: str
    lint_config: dict[str, Any]
    parameter_keys: frozenset[str]
    datasets: dict[str, DatasetSpec]
    catalog_places: dict[str, Placement]
    catalog_entries: dict[str, str | None]
    directives: tuple[Directive, ...]
    warnings: tuple[str, ...]
    pairs: tuple[PairSnapshot, ...]

    def resolve(self, name: str) -> DatasetSpec:
        """What the catalog made of artifact ``name`` when the project was loaded."""
        return self.datasets[name]


class SnapshotLocator:
    """Positions in a snapshot, for one pair (an ``engine.Locator``)."""

    def __init__(
        self, snapshot: ProjectSnapshot, pair: PairSnapshot, fix_catalog: str | None = None
    ) -> None:
        self._snapshot = snapshot
        self._pair = pair
        self._fix_catalog = fix_catalog

    def catalog_entry(self, key: str) -> Placement | None:
        """The position of catalog key ``key`` and its ``# noqa``."""
        return self._snapshot.catalog_places.get(key)

    def node(self, role: Role, name: str, subject: str | None = None) -> Placement | None:
        """Where inference node ``name`` was created, with the ``# noqa`` for ``subject``."""
        # Violations are placed on the inference nodes that read them (docs/design.md §4).
        if role is not Role.INFERENCE:
            return None
        place = self._pair.places.get(name)
        if place is None:
            return None
        if subject is not None and subject in place.by_input:
            return place.by_input[subject]
        return place.default

    def pair(self, name: str) -> Location | None:
        """Where the pair is declared."""
        return self._pair.location

    def new_entry(self) -> Location | None:
        """The fix-catalog's last line (line 1 when it is empty or not there yet).

        Read now, not from the snapshot: the line a new entry goes after is only a
        position, and the fix-catalog is read live on every run anyway by ``--fix``.
        """
        if self._fix_catalog is None:
            return None
        try:
            text = (Path(self._snapshot.root) / self._fix_catalog).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = ""
        return Location(Path(self._fix_catalog).as_posix(), max(1, len(text.splitlines())))


def take_snapshot(project: Project, declarations: Sequence[PairDeclaration]) -> ProjectSnapshot:
    """Reduce a loaded project and its selected pairs to a :class:`ProjectSnapshot`."""
    from kedro_ml_lint.reading.pairs import NodeLocator, node_specs
    from kedro_ml_lint.reading.sources import mentions_kml, noqa_directives

    pairs = []
    datasets: dict[str, DatasetSpec] = {}
    for declaration in declarations:
        training = tuple(node_specs(declaration.training))
        inference = tuple(node_specs(declaration.inference))
        locator = NodeLocator(project.root, {Role.INFERENCE: declaration.inference})
        places = {}
        for spec in inference:
            default = locator.node(Role.INFERENCE, spec.name)
            by_input = {}
            written = default is not None and default.noqa is None
            if written and mentions_kml(project.root / default.location.path):  # type: ignore[union-attr]
                for subject in spec.inputs:
                    placed = locator.node(Role.INFERENCE, spec.name, subject)
                    if placed != default:
                        by_input[subject] = placed
            places[spec.name] = NodePlace(default, by_input)
        copied = {
            f.name: getattr(declaration, f.name)
            for f in dataclasses.fields(PairSnapshot)
            if f.name not in _DERIVED
        }
        pairs.append(PairSnapshot(**copied, training=training, inference=inference, places=places))
        for name in _artifact_candidates(inference, declaration.input_name):
            if name not in datasets:
                datasets[name] = project.catalog.resolve(name)
    keys = {spec.key for spec in datasets.values() if spec.key is not None}
    catalog_places = {}
    for key in keys:
        position = project.catalog_index.position(key)
        if position is not None:
            catalog_places[key] = Placement(Location(position.path, position.line), position.noqa)
    directives = [
        Directive(Location(p.path, p.line), p.noqa)
        for p in project.catalog_index.directives()
        if p.noqa is not None
    ]
    directives += [
        Directive(Location(path.relative_to(project.root).as_posix(), line), codes)
        for path, line, codes in noqa_directives(project.source_files())
    ]
    return ProjectSnapshot(
        root=str(project.root),
        kedro_version=str(project.kedro_version),
        loader_class=project.config.loader_class,
        lint_config=project.lint_config,
        parameter_keys=frozenset(project.parameter_keys),
        datasets=datasets,
        catalog_places=catalog_places,
        catalog_entries=project.catalog.entries(),
        directives=tuple(directives),
        warnings=tuple(project.warnings),
        pairs=tuple(pairs),
    )


def _artifact_candidates(inference: Sequence[NodeSpec], input_name: str | None) -> set[str]:
    """Every name ``build_pair`` may resolve: the inference pipeline's free inputs."""
    return {n for n in flow_of(inference).inputs if n != input_name and not is_parameter(n)}
