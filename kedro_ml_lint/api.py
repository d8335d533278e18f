"""The library entry points: ``lint_project`` and ``lint_pipelines``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro_ml_lint import engine
from kedro_ml_lint.diagnostics import Location, Severity, Violation
from kedro_ml_lint.model import MlflowRange, PairFacts, PairSource, Role, Wiring, build_pair
from kedro_ml_lint.model.names import flatten_parameter_keys
from kedro_ml_lint.reading.options import CliPair, LoadOptions, run_environment
from kedro_ml_lint.reading.snapshot import ProjectSnapshot, SnapshotLocator
from kedro_ml_lint.settings import CommandLineCodes, ConfigFile, LintSettings, build_settings

if TYPE_CHECKING:
    from kedro_ml_lint.reading.pairs import PairDeclaration
    from kedro_ml_lint.reading.project import Project

# The project loader (and with it Kedro) is imported only when a project is loaded: a
# cache hit never imports it (docs/design.md §13).


@dataclass(frozen=True)
class PairInfo:
    """A checked pair, as reported in JSON ``pairs`` (its ``name`` is the JSON ``pipeline``)."""

    name: str
    input_name: str | None
    source: PairSource
    mlflow: MlflowRange | None = None  # what KML205 judged against (registry pairs)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape of docs/design.md §5."""
        return {
            "pipeline": self.name,
            "input_name": self.input_name,
            "source": self.source.value,
            "mlflow": self.mlflow.to_dict() if self.mlflow is not None else None,
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
        facts: What the rules read about each pair, for callers that go on (graph, fix).
        declarations: The pairs as declared, with their kedro pipelines (for ``--log``).
        fixed: Violations ``--fix`` repaired (``fix.applied`` is true); they are not in
            ``violations``.
        unused_noqa: ``# noqa`` comments that silenced nothing (``--show-unused-noqa``).
        loaded: The loaded project (its configuration can be read again through it).
        kedro_version: The Kedro version the project was made with, as its
            ``pyproject.toml`` records it; ``None`` for pipelines checked without a project.
        loader_class: The config loader's class name, ``None`` without a project.
        cache: ``hit`` (the snapshot came from the cache: ``loaded`` and ``declarations``
            are empty), ``miss`` (loaded, then stored) or ``off``.
        cache_problem: Why the cache was not read or not written, if it was not (the
            run went on uncached): said under ``-v``.
        cache_warning: Why the cache was refused for a reason the user should fix (a key
            that is not theirs alone): said on every run, never fatal.
        cache_stale: On a miss of an existing entry, the first input that had changed
            (``file …``, ``path …``, ``folder …``, ``the environment``): said under ``-v``.
    """

    project: Path
    pairs: list[PairInfo]
    violations: list[Violation]
    warnings: list[str] = field(default_factory=list)
    settings: LintSettings = field(default_factory=LintSettings)
    facts: list[PairFacts] = field(default_factory=list, repr=False)
    declarations: list[PairDeclaration] = field(default_factory=list, repr=False)
    fixed: list[Violation] = field(default_factory=list)
    unused_noqa: list[engine.UnusedNoqa] = field(default_factory=list)
    loaded: Project | None = field(default=None, repr=False)
    kedro_version: str | None = None
    loader_class: str | None = None
    cache: str = "off"
    cache_problem: str | None = None
    cache_warning: str | None = None
    cache_stale: str | None = None

    def failing(self, strict: bool = False) -> list[Violation]:
        """The violations that fail the check: errors, and warnings too when ``strict``."""
        return [v for v in self.violations if strict or v.severity is Severity.ERROR]


def lint_project(
    project_dir: str | Path = ".",
    env: str | None = None,
    conf_source: str | None = None,
    *,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    command_line: CommandLineCodes | None = None,
    config: ConfigFile | None = None,
    cli_pair: CliPair | None = None,
    pipelines: Sequence[str] = (),
    lite: bool = True,
    artifacts_on_disk: bool = False,
    cache: bool = False,
    publishing: bool = False,
    exact: bool = False,
    defer: bool = True,
) -> LintResult:
    """Check every training/inference pair of a Kedro project, statically.

    Args:
        project_dir: The project root.
        env: Configuration environment layered over ``base``; else ``KEDRO_ENV``, else
            the project's default run environment, as ``kedro run`` picks it.
        conf_source: Another configuration folder than ``conf/``.
        select: Rule codes or prefixes to run (replaces the configured ``select``).
        ignore: Rule codes or prefixes to skip (replaces the configured ``ignore``).
        command_line: The command line's ``--select``, ``--extend-select`` and ``--ignore``,
            resolved above the configuration as ruff resolves them (docs/configuration.md).
        config: The settings table to read instead of the project's
            ``[tool.kedro-ml-lint]`` (``--config``, ``--isolated``); the project's ``pairs``
            are read from its ``pyproject.toml`` whatever this says.
        cli_pair: A pair named explicitly; replaces the declared ones.
        pipelines: Check only the pairs with these names.
        lite: Mock missing third-party modules while importing the project.
        artifacts_on_disk: Also check that each artifact's file exists (KML101), as
            ``--log`` and the hook do before logging.
        cache: Serve the project's structure from ``.kedro-ml-lint-cache/`` when nothing
            the load read has changed, and store it after a load (docs/design.md §13).
            The verdict is the same; a hit leaves ``loaded`` and ``declarations`` empty.
        publishing: The caller logs the pairs itself (``check --log``, ``log_models``):
            the rules about which hook would log them (KML201) do not run.
        exact: Take no shortcut: no cache, no stand-ins, no deferred import, the catalog
            read by the config loader itself (``--exact``, docs/design.md §5).
        defer: Import the project's heavy libraries (pandas, scikit-learn…) on first real
            use while the registry loads; ``False`` imports them at the ``import``. The
            verdict is the same (docs/design.md §4).

    Returns:
        The pairs checked and the violations found.

    Raises:
        KedroMlLintError: When the project cannot be analysed.
    """
    if exact:  # every shortcut off: what the project's own `kedro run` would read
        cache = lite = defer = False
    if conf_source is not None and _is_archive(conf_source):
        return _lint_with_archive(
            project_dir,
            env,
            conf_source,
            select=select,
            ignore=ignore,
            cli_pair=cli_pair,
            pipelines=pipelines,
            lite=lite,
            artifacts_on_disk=artifacts_on_disk,
            publishing=publishing,
            exact=exact,
            defer=defer,
            command_line=command_line,
            config=config,
        )
    # Resolved before the cache key is built: a cached verdict is one environment's.
    options = LoadOptions(
        run_environment(env), conf_source, cli_pair, tuple(pipelines), lite, defer
    )
    store = _cache_for(project_dir, options) if cache else None
    snapshot = _cached_snapshot(store) if store is not None else None
    project: Project | None = None
    declarations: list[PairDeclaration] = []
    codes = _Codes(select, ignore, command_line, config)
    if snapshot is None:
        project, declarations, snapshot = _load(project_dir, options, store, codes, exact)
    result = _report(snapshot, codes, artifacts_on_disk, publishing)
    result.loaded, result.declarations = project, declarations
    if store is not None:
        outcome = store.outcome
        result.cache, result.cache_problem = outcome.status, outcome.problem
        result.cache_warning, result.cache_stale = outcome.warning, outcome.stale
    return result


@dataclass(frozen=True)
class _Codes:
    """The selectors and the settings table a run was given (applied after the load)."""

    select: Sequence[str] | None
    ignore: Sequence[str] | None
    command_line: CommandLineCodes | None
    config: ConfigFile | None

    def settings(self, project_table: Mapping[str, Any]) -> LintSettings:
        """The settings from the project's table, or the one the run was given instead."""
        table: Mapping[str, Any] = project_table
        path: str | None = "pyproject.toml"
        if self.config is not None:
            table, path = self.config.table, self.config.path
        return build_settings(
            table, self.select, self.ignore, command_line=self.command_line, path=path
        )


def _is_archive(conf_source: str) -> bool:
    """Whether Kedro reads ``conf_source`` as a tar/zip archive.

    The archive module is imported here, not at the top: it brings ``tempfile``, ``shutil``
    and ``mimetypes``, which every ``check`` (a cache hit included) would pay at start-up.
    """
    from kedro_ml_lint.reading.conf_archive import archive_protocol

    return archive_protocol(conf_source) is not None


def _lint_with_archive(
    project_dir: str | Path, env: str | None, conf_source: str, **options: Any
) -> LintResult:
    """``lint_project`` on configuration packaged as an archive (``kedro package``'s).

    The archive's configuration folder is read from an unpacked copy; locations and
    messages name its members (``conf.tar.gz!conf/base/catalog.yml``). Uncached: the copy
    is new each run, so a cache entry would never be found again.
    """
    from kedro_ml_lint.errors import KedroMlLintError
    from kedro_ml_lint.reading.conf_archive import unpacked_archive

    with unpacked_archive(conf_source) as unpacked:
        try:
            result = lint_project(project_dir, env, str(unpacked.folder), cache=False, **options)
        except KedroMlLintError as exc:
            exc.message = unpacked.text(exc.message)
            exc.args = (exc.message, *exc.args[1:])
            if exc.path is not None:
                exc.path = unpacked.member(exc.path) or unpacked.text(exc.path)
            raise

        def mapped(violation: Violation) -> Violation:
            location = violation.location
            member = unpacked.member(location.path) if location is not None else None
            if location is None or member is None:
                return violation
            return violation.with_location(replace(location, path=member))

        result.violations = [mapped(v) for v in result.violations]
        result.fixed = [mapped(v) for v in result.fixed]
        result.warnings = [unpacked.text(w) for w in result.warnings]
    return result


def _cache_for(project_dir: str | Path, options: LoadOptions) -> Any:
    """The cache entry for these options, ``None`` when there is no project to key it on."""
    from kedro_ml_lint._version import __version__
    from kedro_ml_lint.cache.store import Store
    from kedro_ml_lint.reading.codec import schema_fingerprint
    from kedro_ml_lint.reading.pyproject import find_project_root
    from kedro_ml_lint.vocabulary import CACHE_DIR

    start = Path(project_dir).expanduser().resolve()
    root = find_project_root(start) if start.is_dir() else None
    if root is None:
        return None  # the load says why, uncached
    conf_source, cli_pair = options.conf_source, options.cli_pair
    folder = str((Path.cwd() / Path(conf_source).expanduser()).resolve()) if conf_source else None
    key = {
        "format": f"kedro-ml-lint-cache/2/{schema_fingerprint(ProjectSnapshot)}",
        "kedro_ml_lint": __version__,
        "root": str(root),
        "env": options.env,
        "conf_source": folder,
        "cli_pair": [cli_pair.training, cli_pair.inference, cli_pair.input_name]
        if cli_pair
        else None,
        "pipelines": list(options.pipelines),
        "lite": options.lite,
        "defer": options.defer,  # the same verdict, but its -v notes say how it was reached
    }
    return Store(root / CACHE_DIR, root, key)


def _cached_snapshot(store: Any) -> ProjectSnapshot | None:
    """The stored snapshot, decoded against its declared types; ``None`` on any doubt."""
    from kedro_ml_lint.reading.codec import CodecError, decode

    payload = store.lookup()
    if payload is None:
        return None
    try:
        return decode(ProjectSnapshot, payload)
    except (CodecError, ValueError, KeyError, TypeError, AttributeError):
        store.outcome.status = "miss"  # mistyped: never trusted, rewritten after the load
        return None


def _load(
    project_dir: str | Path,
    options: LoadOptions,
    store: Any,
    codes: _Codes,
    exact: bool,
) -> tuple[Project, list[PairDeclaration], ProjectSnapshot]:
    """Load the project and take its snapshot; with a cache, record the load and store it."""
    from contextlib import nullcontext

    from kedro_ml_lint.cache.recording import recorded
    from kedro_ml_lint.reading.codec import encode
    from kedro_ml_lint.reading.pairs import declared_pairs
    from kedro_ml_lint.reading.project import load_project
    from kedro_ml_lint.reading.snapshot import take_snapshot

    if store is not None:
        store.prepare()
    root = str(store.project_root) if store is not None else None
    with recorded(root) if store is not None else nullcontext() as recording:
        project = load_project(
            project_dir,
            env=options.env,
            conf_source=options.conf_source,
            lite=options.lite,
            exact=exact,
            defer=options.defer,
        )
        codes.settings(project.lint_config)  # its errors come before the pairs'
        declarations = declared_pairs(project, options.cli_pair, options.pipelines)
        snapshot = take_snapshot(project, declarations)
    if store is not None:
        store.store(lambda: encode(snapshot), recording)
    return project, declarations, snapshot


def _report(
    snapshot: ProjectSnapshot,
    codes: _Codes,
    artifacts_on_disk: bool,
    publishing: bool,
) -> LintResult:
    """The verdict on a snapshot: the one path after the load, cached or not."""
    settings = codes.settings(snapshot.lint_config)
    rules = settings.selection.rules(artifacts_on_disk, publishing)
    root = Path(snapshot.root)
    violations: list[Violation] = []
    facts: list[PairFacts] = []
    suppressed: set[tuple[Location, str]] = set()
    for pair in snapshot.pairs:
        pair_facts = build_pair(
            pair.name,
            pair.training,
            pair.inference,
            pair.input_name,
            snapshot.resolve,
            snapshot.parameter_keys,
            pair.source,
            pair.wiring,
            snapshot.catalog_entries,
        )
        if artifacts_on_disk:
            from kedro_ml_lint.reading.disk import missing_on_disk

            on_disk = missing_on_disk(root, pair_facts.datasets.values())
            pair_facts = replace(pair_facts, missing_on_disk=on_disk)
        facts.append(pair_facts)
        locator = SnapshotLocator(snapshot, pair, settings.fix_catalog)
        violations += engine.run([pair_facts], settings.selection, locator, rules, suppressed)
    directives = [(d.location, d.codes) for d in snapshot.directives]
    return LintResult(
        project=root,
        pairs=[
            PairInfo(p.name, p.input_name, p.source, p.wiring.mlflow if p.wiring else None)
            for p in snapshot.pairs
        ],
        violations=sorted(violations, key=Violation.sort_key),
        warnings=list(snapshot.warnings),
        settings=settings,
        facts=facts,
        unused_noqa=engine.unused_noqa(directives, suppressed, {r.code for r in rules}),
        kedro_version=snapshot.kedro_version,
        loader_class=snapshot.loader_class,
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
    publishing: bool = False,
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
        publishing: The caller logs the pair itself: the rules about which hook would
            log it (KML201) do not run.

    Returns:
        The violations, sorted; their locations point at node functions when known.
    """
    from kedro_ml_lint.reading.catalog import CatalogView
    from kedro_ml_lint.reading.disk import missing_on_disk
    from kedro_ml_lint.reading.pairs import node_specs

    table = {"per-dataset-ignores": dict(per_dataset_ignores)} if per_dataset_ignores else {}
    settings = build_settings(table, select=select, ignore=ignore)
    catalog = CatalogView(catalog_config or {})
    model = build_pair(
        name,
        node_specs(training),
        node_specs(inference),
        input_name,
        catalog.resolve,
        flatten_parameter_keys(parameters) if parameters is not None else None,
        PairSource.CLI,
        wiring,
        catalog.entries(),
    )
    if artifacts_on_disk:
        root = Path(project_root) if project_root is not None else Path.cwd()
        model = replace(model, missing_on_disk=missing_on_disk(root, model.datasets.values()))
    locator = _PipelinesLocator(training, inference)
    return engine.run(
        [model],
        settings.selection,
        locator,
        settings.selection.rules(artifacts_on_disk, publishing),
    )


class _PipelinesLocator(engine.NoLocations):
    """Node functions are the only positions a bare pair of pipelines has."""

    def __init__(self, training: Any, inference: Any) -> None:
        from kedro_ml_lint.reading.pairs import NodeLocator

        self._nodes = NodeLocator(None, {Role.TRAINING: training, Role.INFERENCE: inference})

    def node(self, role: Role, name: str, subject: str | None = None) -> engine.Placement | None:
        return self._nodes.node(role, name, subject)
