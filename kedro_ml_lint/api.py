"""The library entry points: ``lint_project`` and ``lint_pipelines``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kedro_ml_lint import engine
from kedro_ml_lint.diagnostics import Location, Severity, Violation
from kedro_ml_lint.loader.catalog import CatalogView
from kedro_ml_lint.loader.disk import missing_on_disk
from kedro_ml_lint.loader.pairs import (
    CliPair,
    NodeLocator,
    PairDeclaration,
    declared_pairs,
    node_specs,
)
from kedro_ml_lint.loader.project import Project, load_project
from kedro_ml_lint.loader.sources import noqa_directives
from kedro_ml_lint.model import PairModel, PairSource, Role, Wiring, build_pair
from kedro_ml_lint.model.names import flatten_parameter_keys
from kedro_ml_lint.settings import LintSettings, build_settings


@dataclass(frozen=True)
class PairInfo:
    """A checked pair, as reported in JSON ``pairs``."""

    pipeline: str
    input_name: str | None
    source: PairSource

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape of docs/design.md §5."""
        return {
            "pipeline": self.pipeline,
            "input_name": self.input_name,
            "source": self.source.value,
        }


@dataclass
class LintResult:
    """What ``lint_project`` found.

    Attributes:
        project: The project root.
        pairs: The pairs that were checked.
        violations: Every remaining violation, sorted by location.
        warnings: Notes that did not stop the analysis (lite-import mocks…).
        settings: The settings the run used.
        models: The pair models, for callers that go on (graph, fix).
        declarations: The pairs as declared, with their kedro pipelines (for ``--log``).
        fixed: Violations ``--fix`` repaired (``fix.applied`` is true); they are not in
            ``violations``.
        unused_noqa: ``# noqa`` comments that silenced nothing (``--show-unused-noqa``).
        loaded: The loaded project (its configuration can be read again through it).
        kedro_version: The Kedro version the project was made with, as its
            ``pyproject.toml`` records it; ``None`` for pipelines checked without a project.
    """

    project: Path
    pairs: list[PairInfo]
    violations: list[Violation]
    warnings: list[str] = field(default_factory=list)
    settings: LintSettings = field(default_factory=LintSettings)
    models: list[PairModel] = field(default_factory=list, repr=False)
    declarations: list[PairDeclaration] = field(default_factory=list, repr=False)
    fixed: list[Violation] = field(default_factory=list)
    unused_noqa: list[engine.UnusedNoqa] = field(default_factory=list)
    loaded: Project | None = field(default=None, repr=False)
    kedro_version: str | None = None

    def failing(self, strict: bool = False) -> list[Violation]:
        """The violations that fail the check: errors, and warnings too when ``strict``."""
        return [v for v in self.violations if strict or v.severity is Severity.ERROR]


class _ProjectLocator:
    """Positions in one project, for one pair."""

    def __init__(self, project: Project, declaration: PairDeclaration, fix_catalog: str) -> None:
        self._project = project
        self._declaration = declaration
        self._fix_catalog = fix_catalog
        self._nodes = NodeLocator(
            project.root,
            {
                Role.TRAINING: declaration.training,
                Role.INFERENCE: declaration.inference,
            },
        )

    def catalog_entry(self, key: str) -> engine.Placement | None:
        position = self._project.catalog_index.position(key)
        if position is None:
            return None
        return engine.Placement(Location(position.path, position.line), position.noqa)

    def node(self, role: Role, name: str, subject: str | None = None) -> engine.Placement | None:
        return self._nodes.node(role, name, subject)

    def pair(self, name: str) -> Location | None:
        return self._declaration.location

    def new_entry(self) -> Location | None:
        """The fix-catalog's last line (line 1 when it is empty or not there yet)."""
        try:
            text = (self._project.root / self._fix_catalog).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = ""
        return Location(Path(self._fix_catalog).as_posix(), max(1, len(text.splitlines())))


def lint_project(
    project_dir: str | Path = ".",
    env: str | None = None,
    conf_source: str | None = None,
    *,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    cli_pair: CliPair | None = None,
    pipelines: Sequence[str] = (),
    lite: bool = True,
    artifacts_on_disk: bool = False,
) -> LintResult:
    """Check every training/inference pair of a Kedro project, statically.

    Args:
        project_dir: The project root.
        env: Configuration environment layered over ``base``.
        conf_source: Another configuration folder than ``conf/``.
        select: Rule codes or prefixes to run (overrides pyproject).
        ignore: Rule codes or prefixes to skip (overrides pyproject).
        cli_pair: A pair named explicitly; replaces the declared ones.
        pipelines: Check only the pairs with these names.
        lite: Mock missing third-party modules while importing the project.
        artifacts_on_disk: Also check that each artifact's file exists (KML101), as
            ``--log`` and the hook do before logging.

    Returns:
        The pairs checked and the violations found.

    Raises:
        KedroMlLintError: When the project cannot be analysed.
    """
    project = load_project(project_dir, env=env, conf_source=conf_source, lite=lite)
    settings = build_settings(project.lint_config, select=select, ignore=ignore)
    declarations = declared_pairs(project, cli_pair, pipelines)
    rules = settings.selection.rules(artifacts_on_disk)
    violations: list[Violation] = []
    models: list[PairModel] = []
    suppressed: set[tuple[Location, str]] = set()
    for declaration in declarations:
        model = build_pair(
            declaration.name,
            node_specs(declaration.training),
            node_specs(declaration.inference),
            declaration.input_name,
            project.catalog.resolve,
            project.parameter_keys,
            declaration.source,
            declaration.wiring,
        )
        if artifacts_on_disk:
            missing = missing_on_disk(project.root, model.datasets.values())
            model = replace(model, missing_on_disk=missing)
        models.append(model)
        locator = _ProjectLocator(project, declaration, settings.fix_catalog)
        violations += engine.run([model], settings.selection, locator, rules, suppressed)
    directives = [
        (Location(p.path, p.line), p.noqa)
        for p in project.catalog_index.directives()
        if p.noqa is not None
    ] + [
        (Location(path.relative_to(project.root).as_posix(), line), codes)
        for path, line, codes in noqa_directives(project.source_files())
    ]
    return LintResult(
        project=project.root,
        pairs=[PairInfo(d.name, d.input_name, d.source) for d in declarations],
        violations=sorted(violations, key=Violation.sort_key),
        warnings=project.warnings,
        settings=settings,
        models=models,
        declarations=declarations,
        unused_noqa=engine.unused_noqa(directives, suppressed, {r.code for r in rules}),
        loaded=project,
        kedro_version=str(project.kedro_version),
    )


def lint_pipelines(
    training: Any,
    inference: Any,
    input_name: str | None,
    catalog_config: Mapping[str, Any] | None = None,
    parameters: Mapping[str, Any] | None = None,
    *,
    name: str = "pipeline",
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    per_dataset_ignores: Mapping[str, Sequence[str]] | None = None,
    project_root: str | Path | None = None,
    artifacts_on_disk: bool = False,
    wiring: Wiring | None = None,
) -> list[Violation]:
    """Check one pair of kedro ``Pipeline`` objects against the contract.

    Args:
        training: The training pipeline.
        inference: The inference pipeline.
        input_name: The dataset served at predict time.
        catalog_config: Catalog configuration as in ``catalog.yml``; ``None`` is an
            empty catalog, in which every artifact is a ``MemoryDataset``.
        parameters: The project's parameters; ``None`` skips KML006.
        name: The name reported as each violation's ``pipeline``.
        select: Rule codes or prefixes to run.
        ignore: Rule codes or prefixes to skip.
        per_dataset_ignores: Dataset name or glob -> codes silenced for it, as in
            ``[tool.kedro-ml-lint]``.
        project_root: Relative filepaths are read from here (default: the current folder).
        artifacts_on_disk: Also check that each artifact's file exists (KML101).
        wiring: How the pair would be logged (hooks, factory, arguments); ``None`` skips
            the wiring rules (KML2xx).

    Returns:
        The violations, sorted; their locations point at node functions when known.
    """
    table = {"per-dataset-ignores": dict(per_dataset_ignores)} if per_dataset_ignores else {}
    settings = build_settings(table, select=select, ignore=ignore)
    model = build_pair(
        name,
        node_specs(training),
        node_specs(inference),
        input_name,
        CatalogView(catalog_config or {}).resolve,
        flatten_parameter_keys(parameters) if parameters is not None else None,
        PairSource.CLI,
        wiring,
    )
    if artifacts_on_disk:
        root = Path(project_root) if project_root is not None else Path.cwd()
        model = replace(model, missing_on_disk=missing_on_disk(root, model.datasets.values()))
    locator = _PipelinesLocator(training, inference)
    return engine.run(
        [model], settings.selection, locator, settings.selection.rules(artifacts_on_disk)
    )


class _PipelinesLocator(engine.NoLocations):
    """Node functions are the only positions a bare pair of pipelines has."""

    def __init__(self, training: Any, inference: Any) -> None:
        self._nodes = NodeLocator(None, {Role.TRAINING: training, Role.INFERENCE: inference})

    def node(self, role: Role, name: str, subject: str | None = None) -> engine.Placement | None:
        return self._nodes.node(role, name, subject)
