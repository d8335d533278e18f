"""Find the training/inference pairs of a project and reduce each to what the rules read."""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import Path
from typing import Any

from kedro_ml_lint.diagnostics import Location, Placement
from kedro_ml_lint.errors import (
    NoPairFoundError,
    PipelineNotFoundError,
    ProjectCodeError,
    SettingsError,
)
from kedro_ml_lint.importing.capture import node_site
from kedro_ml_lint.importing.deferred import real
from kedro_ml_lint.model import Factory, Logger, MlflowRange, NodeSpec, PairSource, Role, Wiring
from kedro_ml_lint.model.names import did_you_mean
from kedro_ml_lint.pipeline_ml import LOG_MODEL_KWARGS_DEFAULT
from kedro_ml_lint.reading import plugin_hooks
from kedro_ml_lint.reading.dependencies import (
    KEDRO_MLFLOW_DISTRIBUTION,
    declared_requirements,
    project_mlflow,
)
from kedro_ml_lint.reading.options import CliPair
from kedro_ml_lint.reading.project import Project
from kedro_ml_lint.reading.pyproject import table_line
from kedro_ml_lint.reading.sources import node_call_noqa
from kedro_ml_lint.seams import kedro_mlflow as kedro_mlflow_compat
from kedro_ml_lint.seams import mlflow_versions as mlflow_compat
from kedro_ml_lint.seams.kedro_private import unsorted_nodes
from kedro_ml_lint.seams.kedro_settings import settings_items
from kedro_ml_lint.seams.versions import distribution_version
from kedro_ml_lint.vocabulary import DEFAULT_PIPELINE as DEFAULT_PIPELINE
from kedro_ml_lint.vocabulary import PYPROJECT

# What kedro-ml-lint's logging (its hook, `--log`) runs on: the `[mlflow]` extra (§12).
OUR_MLFLOW = ">=3,<4"
# The model's name: each factory passes it under the name its MLflow takes (`artifact_path`
# before MLflow 3, `name` since), whichever the project wrote.
MODEL_NAME_KEYS = frozenset({"name", "artifact_path"})
HOW_TO_DECLARE = (
    "declare one with `pipeline_ml_factory(training, inference, input_name)` in the "
    "pipeline registry, a `[[tool.kedro-ml-lint.pairs]]` table in pyproject.toml, or "
    "`--training NAME --inference NAME --input-name DATASET`"
)


@dataclass(frozen=True)
class PairDeclaration:
    """A training/inference pair as declared, before it is reduced to its ``PairFacts``.

    Attributes:
        name: The name the pair is known by.
        training: The training ``Pipeline``.
        inference: The inference ``Pipeline``.
        input_name: The served input, ``None`` when not given.
        source: Where the pair was declared.
        location: Where the declaration is written, when known.
        aliases: Other registry names of the same PipelineML (``__default__``…): the pair
            is reported once, under ``name``, and ``--pipeline`` selects it by any of them.
        wiring: What would log the pair (registry pairs only).
    """

    name: str
    training: Any
    inference: Any
    input_name: str | None
    source: PairSource
    location: Location | None = None
    aliases: tuple[str, ...] = ()
    wiring: Wiring | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the pair answers to."""
        return (self.name, *self.aliases)


def is_pipeline_ml(pipeline: Any) -> bool:
    """Duck-typed: ours, kedro-mlflow's, anything with ``.inference`` and ``.input_name``."""
    return hasattr(pipeline, "inference") and hasattr(pipeline, "input_name")


def declared_pairs(
    project: Project, cli_pair: CliPair | None = None, only: Sequence[str] = ()
) -> list[PairDeclaration]:
    """Every pair to check: from the command line if given, else registry and config.

    Args:
        project: The loaded project.
        cli_pair: A pair named on the command line; it replaces the declared ones.
        only: Keep only pairs with these names (``--pipeline``).

    Raises:
        NoPairFoundError: When nothing declares a pair.
        PipelineNotFoundError: When a pair or ``only`` names an unknown pipeline.
    """
    if cli_pair is not None:
        pairs = [_cli_pair(project, cli_pair)]
    else:
        pairs = _registry_pairs(project) + _config_pairs(project)
    if not pairs:
        raise NoPairFoundError(f"no training/inference pair found; {HOW_TO_DECLARE}")
    if only:
        names = {name for pair in pairs for name in pair.names}
        for name in only:
            if name not in names:
                raise PipelineNotFoundError(
                    f"`--pipeline {name}` names no pair{did_you_mean(name, names)} "
                    f"(pairs: {', '.join(f'`{n}`' for n in sorted(names))})"
                )
        pairs = [pair for pair in pairs if set(pair.names) & set(only)]
    return pairs


def _registry_pairs(project: Project) -> list[PairDeclaration]:
    pairs: list[PairDeclaration] = []
    names_of: dict[int, list[str]] = {}
    # ``__default__`` often *is* one of the other pipelines: report it under its own name.
    for name in sorted(project.registry, key=lambda n: (n == DEFAULT_PIPELINE, n)):
        pipeline = project.registry[name]
        if is_pipeline_ml(pipeline):
            names_of.setdefault(id(pipeline), []).append(name)
    wiring = _ProjectWiring.of(project)
    for first, *aliases in names_of.values():
        name, pipeline = first, project.registry[first]
        for part, value in (("training", pipeline), ("inference", pipeline.inference)):
            if not hasattr(value, "nodes"):
                raise ProjectCodeError(
                    f"the registry's `{name}` looks like a PipelineML but its {part} is a "
                    f"{type(value).__name__}, not a kedro Pipeline",
                    *_where(_call_site(project, pipeline)),
                )
        pairs.append(
            PairDeclaration(
                name=name,
                training=pipeline,
                inference=pipeline.inference,
                input_name=pipeline.input_name,
                source=PairSource.PIPELINE_ML,
                location=_call_site(project, pipeline),
                aliases=tuple(aliases),
                wiring=wiring.of_pair(pipeline),
            )
        )
    return pairs


@dataclass(frozen=True)
class _ProjectWiring:
    """What every pair of a project shares in its wiring: read once per load."""

    our_hook: bool
    kedro_mlflow_hook: bool
    kedro_version: str | None
    kedro_mlflow_version: str | None
    # The MLflow the project declares (its requirements, else its kedro-mlflow pin).
    declared_mlflow: MlflowRange | None
    # Registered plain pipelines (sums, `__default__`…) -> the names of their nodes.
    plain_pipelines: dict[str, frozenset[str]]

    @classmethod
    def of(cls, project: Project) -> _ProjectWiring:
        settings = project.settings
        hooks = settings_items(settings, "HOOKS")  # any iterable, as Kedro registers them
        declared = declared_requirements(project.root, project.package_dir.parent)
        kedro_mlflow_there = kedro_mlflow_compat.in_project_environment(
            any(d.name == KEDRO_MLFLOW_DISTRIBUTION for d in declared), project.package_dir.parent
        )
        return cls(
            our_hook=any(_is_our_logging_hook(hook) for hook in hooks),
            kedro_mlflow_hook=plugin_hooks.hook_runs(settings, kedro_mlflow_there),
            kedro_version=distribution_version("kedro"),
            kedro_mlflow_version=distribution_version("kedro-mlflow"),
            declared_mlflow=project_mlflow(declared),
            plain_pipelines={
                str(name): frozenset(node.name for node in pipeline_nodes(other))
                for name, other in project.registry.items()
                if not is_pipeline_ml(other) and hasattr(other, "nodes")
            },
        )

    def of_pair(self, pipeline: Any) -> Wiring:
        """What would log ``pipeline`` after a ``kedro run`` of the project (KML2xx)."""
        training_nodes = {node.name for node in pipeline_nodes(pipeline)}
        log_model_kwargs = plain(getattr(pipeline, "log_model_kwargs", None) or {})
        factory = (
            Factory.KEDRO_MLFLOW
            if kedro_mlflow_compat.made_by_kedro_mlflow(pipeline)
            else Factory.KEDRO_ML_LINT
        )
        mlflow = self._mlflow(factory)
        return Wiring(
            factory=factory,
            our_hook=self.our_hook,
            kedro_mlflow_hook=self.kedro_mlflow_hook,
            sums=tuple(
                sorted(
                    name for name, nodes in self.plain_pipelines.items() if training_nodes <= nodes
                )
            ),
            kpm_kwargs=plain(getattr(pipeline, "kpm_kwargs", None) or {}),
            log_model_kwargs=log_model_kwargs,
            kedro_version=self.kedro_version,
            kedro_mlflow_version=self.kedro_mlflow_version,
            mlflow=mlflow,
            # Parsing MLflow's source costs tens of ms: only a pair that passes arguments pays.
            log_model_refused=(
                mlflow_compat.refused_keys(set(log_model_kwargs) - MODEL_NAME_KEYS, mlflow)
                if set(log_model_kwargs) - set(LOG_MODEL_KWARGS_DEFAULT)
                else frozenset()
            ),
        )

    def _mlflow(self, factory: Factory) -> MlflowRange:
        """The MLflow a pair is judged against: the project's, as far as it says."""
        if self.declared_mlflow is not None:
            return self.declared_mlflow
        loggers = Wiring(factory, self.our_hook, self.kedro_mlflow_hook).loggers
        if loggers == (Logger.KEDRO_ML_LINT,):
            return mlflow_compat.range_of(
                OUR_MLFLOW,
                "kedro-ml-lint's `MlflowPipelineHook` logs the pair, and it needs "
                f"`mlflow{OUR_MLFLOW}` (the `[mlflow]` extra)",
            )
        return mlflow_compat.unknown_range(
            "nothing in the project pins `mlflow` or `kedro-mlflow` (requirements*.txt, "
            "requirements*.in, pyproject.toml): only what holds for every MLflow is checked"
        )


def plain(value: Any) -> Any:
    """``value`` as plain JSON data, for the snapshot (docs/design.md §13).

    Mappings and sequences are kept; any other object (a runner, a signature) becomes its
    class name in angle brackets: the wiring rules read keys and plain values only.
    """
    value = real(value)  # a deferred library's value is read as the real one
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return f"<{type(value).__name__}>"


def _is_our_logging_hook(hook: Any) -> bool:
    """kedro-ml-lint's ``MlflowPipelineHook`` (or a subclass), with logging on."""
    named = any(
        cls.__module__ == "kedro_ml_lint.hooks" and cls.__name__ == "MlflowPipelineHook"
        for cls in type(hook).__mro__
    )
    return named and bool(getattr(hook, "log_model", True))


def _where(location: Location | None) -> tuple[str | None, int | None]:
    return (location.path, location.line) if location else (None, None)


def _config_pairs(project: Project) -> list[PairDeclaration]:
    tables = project.lint_config.get("pairs", [])
    if not isinstance(tables, list):
        raise SettingsError(
            "`pairs` must be an array of tables: `[[tool.kedro-ml-lint.pairs]]`",
            PYPROJECT,
            table_line(project.root, "tool.kedro-ml-lint"),
        )
    pairs = []
    for number, table in enumerate(tables):
        line = table_line(project.root, "tool.kedro-ml-lint.pairs", number)
        if not isinstance(table, dict):
            raise SettingsError("each `pairs` entry must be a table", PYPROJECT, line)
        missing = [k for k in ("training", "inference") if not isinstance(table.get(k), str)]
        if missing:
            raise SettingsError(
                f"the pair table lacks {' and '.join(f'`{k}`' for k in missing)} "
                "(registered pipeline names)",
                PYPROJECT,
                line,
            )
        input_name = table.get("input_name")
        if input_name is not None and not isinstance(input_name, str):
            raise SettingsError("`input_name` must be a dataset name (a string)", PYPROJECT, line)
        name = table.get("name", table["training"])
        pairs.append(
            PairDeclaration(
                name=str(name),
                training=_registered(project, table["training"], PYPROJECT, line),
                inference=_registered(project, table["inference"], PYPROJECT, line),
                input_name=input_name,
                source=PairSource.CONFIG,
                location=Location(PYPROJECT, line or 1),
            )
        )
    return pairs


def _cli_pair(project: Project, cli: CliPair) -> PairDeclaration:
    return PairDeclaration(
        name=cli.training,
        training=_registered(project, cli.training),
        inference=_registered(project, cli.inference),
        input_name=cli.input_name,
        source=PairSource.CLI,
        location=_registry_location(project),
    )


def _registered(
    project: Project, name: str, path: str | None = None, line: int | None = None
) -> Any:
    if name not in project.registry:
        known = sorted(project.registry)
        raise PipelineNotFoundError(
            f"no pipeline `{name}` in the registry{did_you_mean(name, known)} "
            f"(registered: {', '.join(f'`{n}`' for n in known) or 'none'})",
            path,
            line,
        )
    return project.registry[name]


def _call_site(project: Project, pipeline: Any) -> Location | None:
    site = getattr(pipeline, "call_site", None)
    if site:
        relative = project.relative(site[0])
        if relative:
            return Location(relative, site[1])
    return _registry_location(project)


def _registry_location(project: Project) -> Location | None:
    registry = project.package_dir / "pipeline_registry.py"
    if not registry.is_file():
        return None
    path = registry.relative_to(project.root).as_posix()
    for number, line in enumerate(registry.read_text().splitlines(), start=1):
        if line.lstrip().startswith("def register_pipelines"):
            return Location(path, number)
    return Location(path, 1)


def pipeline_nodes(pipeline: Any) -> list[Any]:
    """A pipeline's nodes in any order.

    ``Pipeline.nodes`` sorts them topologically, which the contract never needs and which
    costs more than the whole check on large pipelines; Kedro's private ``_nodes`` (reached
    through :mod:`~kedro_ml_lint.seams.kedro_private`) is the same set unsorted.
    """
    nodes = unsorted_nodes(pipeline)
    return nodes if nodes is not None else list(pipeline.nodes)


def node_specs(pipeline: Any) -> list[NodeSpec]:
    """Reduce a kedro ``Pipeline`` to the model's node specs."""
    return [NodeSpec(n.name, tuple(n.inputs), tuple(n.outputs)) for n in pipeline_nodes(pipeline)]


class NodeLocator:
    """Source positions of nodes' functions, looked up only for violations.

    Args:
        root: Paths are made relative to it; functions outside it have no location.
        pipelines: The pipelines whose nodes may be located, by role.
    """

    def __init__(self, root: Path | None, pipelines: dict[Role, Any]) -> None:
        self._root = root.resolve() if root else None
        self._pipelines = pipelines

    @cached_property
    def _nodes(self) -> dict[tuple[Role, str], Any]:
        # Indexed on the first violation only: a clean run never pays for it.
        return {
            (role, node.name): node
            for role, pipeline in self._pipelines.items()
            for node in pipeline_nodes(pipeline)
        }

    def node(self, role: Role, name: str, subject: str | None = None) -> Placement | None:
        """Where node ``name`` was created, and the ``# noqa`` that applies to ``subject``.

        The ``node(...)`` call recorded while the registry loaded, else the node's function.
        """
        node = self._nodes.get((role, name))
        if node is None:
            return None
        site = node_site(node)
        if site is not None:
            path = Path(site[0]).resolve()
            location = self._location(path, site[1])
            if location is not None:
                found = node_call_noqa(path, site[1], subject)
                if found is None:
                    return Placement(location)
                line, codes = found
                comment = Location(location.path, line) if line != site[1] else None
                return Placement(location, codes, comment)
        location = self._function(node)  # a `def` line: no noqa is read there
        return Placement(location, silenceable=False) if location is not None else None

    def _function(self, node: Any) -> Location | None:
        func = node.func
        while isinstance(func, partial):
            func = func.func
        try:
            func = inspect.unwrap(func)
            filename = inspect.getsourcefile(func)
            line = func.__code__.co_firstlineno
        except (TypeError, AttributeError, ValueError):
            return None
        if filename is None or not Path(filename).is_file():  # ``<string>``, stdin, exec
            return None
        return self._location(Path(filename).resolve(), line)

    def _location(self, path: Path, line: int) -> Location | None:
        if self._root is None:
            return Location(path.as_posix(), line)
        try:
            return Location(path.relative_to(self._root).as_posix(), line)
        except ValueError:
            return None
