"""Differential tests: kedro-ml-lint's verdict against what the real kedro-mlflow does.

For random training/inference pairs and catalogs, kedro-mlflow is run for real:

(a) ``pipeline_ml_factory(training, inference, input_name)`` raises or not;
(b) ``KedroPipelineModel(pipeline, catalog, input_name)`` on a real kedro ``DataCatalog``
    raises or not;
(c) ``extract_pipeline_artifacts`` — what ``mlflow.pyfunc.log_model`` is handed at log time —
    raises, or maps an artifact to a local path that is not where its data lives.

kedro-mlflow rejects the pair (a or b raises) **iff** kedro-ml-lint reports an error among
KML001-KML005 and KML007 (reading the whole ``parameters`` dict is what kedro-mlflow calls a
free input, so KML007 counts as a rejection here). Every disagreement must be explained by the
small classifier below (``explain_disagreement``), each class saying who is right and why, and
each shown by an example-based test. Anything else fails with the pair printed.

A second check per artifact compares KML001/KML002 with the dataset the real catalog
materialises (``catalog[name]``), so that two wrong reasons cannot hide behind one right verdict.

Profiles: 300 examples by default; ``HYPOTHESIS_PROFILE=slow`` runs 3000. The number of examples
in each class is printed at the end of the module.
"""

from __future__ import annotations

import copy
import logging
import os
import tempfile
import warnings
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import fsspec
import pytest
from fsspec.implementations.memory import MemoryFileSystem
from fsspec.registry import _registry as fsspec_registry  # restored after the module
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from kedro.io import CachedDataset, DataCatalog, MemoryDataset, SharedMemoryDataset
from kedro.io.core import DatasetError, DatasetNotFoundError
from kedro.pipeline import Pipeline, pipeline
from kedro_datasets.partitions import PartitionedDataset
from kedro_mlflow.mlflow import KedroPipelineModel
from kedro_mlflow.mlflow.kedro_pipeline_model import KedroPipelineModelError
from kedro_mlflow.pipeline import pipeline_ml_factory
from kedro_mlflow.pipeline.pipeline_ml import KedroMlflowPipelineMLError
from pipeline_specs import build

from kedro_ml_lint import lint_pipelines
from kedro_ml_lint.diagnostics import Severity

# Hypothesis profiles are global: tests/test_properties.py owns "slow" (2000 examples), so this
# module registers its own names rather than redefining that one.
settings.register_profile("kml-differential", max_examples=300, deadline=None)
settings.register_profile("kml-differential-slow", max_examples=3000, deadline=None)
PROFILE = settings.get_profile(
    "kml-differential-slow"
    if os.environ.get("HYPOTHESIS_PROFILE") == "slow"
    else "kml-differential"
)
RUN = settings(PROFILE, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

CONTRACT = ("KML001", "KML002", "KML003", "KML004", "KML005", "KML007")

# --- generated names --------------------------------------------------------------------------

# Plain, namespaced, matching the `{name}_m` pattern, and the usual served input.
PLAIN = ("a", "b", "c", "d_m", "ns.a", "ns.e_m", "instances")
# Always transcoded in both pipelines: `x@p` in one and `x@q` in the other is one dataset to kedro.
TRANSCODED = ("x@p", "x@q")
# `y` is plain in one pipeline and transcoded in the other (kedro forbids mixing the spellings
# inside one pipeline, not across the pair).
Y_SPELLINGS = (("y",), ("y@p", "y@q"))
PARAMS = ("params:p", "params:p.q", "params:r")
ALL_PARAMETERS = "parameters"
PREDICTION = "prediction"
LOCAL_PROTOCOLS = frozenset({"file", "local"})

# Local filepaths live under a temporary folder; nothing is ever written there.
ROOT = (Path(tempfile.gettempdir()) / "kml-differential").as_posix()
PICKLE = "pickle.PickleDataset"
MLFLOW_ARTIFACT = "kedro_mlflow.io.artifacts.MlflowArtifactDataset"

LOCAL_KINDS = ("local", "relative", "file_url", "versioned", "wrapper_local")
REMOTE_KINDS = ("s3", "s3_upper", "s3_userinfo", "gs", "abfs", "wrapper_s3", "partition_s3")
# An fsspec chained URL: kedro's `get_protocol_and_path` does not parse it (see Known.CHAINED_URL).
CHAINED_KINDS = ("chained",)
NO_FILE_KINDS = ("sql", "sql_bare", "tracking")
MEMORY_KINDS = ("memory", "memory_qualified", "shared_memory")
WRAPPED_LOCAL_KINDS = ("partition_local", "cached_local")
# Local files dominate, so that whole pairs kedro-mlflow accepts are common.
KIND = st.sampled_from(
    LOCAL_KINDS * 4
    + REMOTE_KINDS
    + CHAINED_KINDS
    + NO_FILE_KINDS
    + MEMORY_KINDS
    + WRAPPED_LOCAL_KINDS
)


def entry(kind: str, stem: str) -> dict[str, Any]:
    """A catalog entry of ``kind``; ``stem`` may hold pattern placeholders."""
    return {
        "local": {"type": PICKLE, "filepath": f"{ROOT}/{stem}.pkl"},
        "relative": {"type": PICKLE, "filepath": f"data/06_models/{stem}.pkl"},
        "file_url": {"type": PICKLE, "filepath": f"file://{ROOT}/{stem}.pkl"},
        "versioned": {"type": PICKLE, "filepath": f"{ROOT}/{stem}.pkl", "versioned": True},
        "wrapper_local": {
            "type": MLFLOW_ARTIFACT,
            "dataset": {"type": PICKLE, "filepath": f"{ROOT}/{stem}.pkl"},
        },
        "s3": {"type": PICKLE, "filepath": f"s3://bucket/{stem}.pkl"},
        "s3_upper": {"type": PICKLE, "filepath": f"S3://bucket/{stem}.pkl"},
        "s3_userinfo": {"type": PICKLE, "filepath": f"s3://key:secret@bucket/{stem}.pkl"},
        "gs": {"type": PICKLE, "filepath": f"gs://bucket/{stem}.pkl"},
        "abfs": {"type": PICKLE, "filepath": f"abfs://models/{stem}.pkl"},
        "chained": {"type": PICKLE, "filepath": f"simplecache::s3://bucket/{stem}.pkl"},
        "wrapper_s3": {
            "type": MLFLOW_ARTIFACT,
            "dataset": {"type": PICKLE, "filepath": f"s3://bucket/{stem}.pkl"},
        },
        "partition_s3": {
            "type": "partitions.PartitionedDataset",
            "path": f"s3://bucket/{stem}",
            "dataset": PICKLE,
        },
        # An in-memory SQLite connection: the dataset builds without any server or secret.
        "sql": {
            "type": "pandas.SQLTableDataset",
            "table_name": stem.replace("/", "_"),
            "credentials": {"con": "sqlite:///:memory:"},
        },
        # `table_name` only: kedro cannot even build it (no credentials).
        "sql_bare": {"type": "pandas.SQLTableDataset", "table_name": stem.replace("/", "_")},
        "tracking": {
            "type": "kedro_mlflow.io.models.MlflowModelTrackingDataset",
            "flavor": "mlflow.sklearn",
        },
        "memory": {"type": "MemoryDataset"},
        "memory_qualified": {"type": "kedro.io.MemoryDataset", "copy_mode": "assign"},
        "shared_memory": {"type": "SharedMemoryDataset"},
        "partition_local": {
            "type": "partitions.PartitionedDataset",
            "path": f"{ROOT}/{stem}",
            "dataset": PICKLE,
        },
        "cached_local": {
            "type": "kedro.io.CachedDataset",
            "dataset": {"type": PICKLE, "filepath": f"{ROOT}/{stem}.pkl"},
        },
    }[kind]


def strip(name: str) -> str:
    return name.split("@")[0]


def is_param(name: str) -> bool:
    return name == ALL_PARAMETERS or name.startswith("params:")


# --- the pair ---------------------------------------------------------------------------------


@dataclass
class Pair:
    training: Pipeline
    inference: Pipeline
    input_name: str | None
    catalog: dict[str, Any]

    @property
    def artifacts(self) -> list[str]:
        """The inference inputs that must come from training, as docs/design.md §2 defines them."""
        return sorted(
            n for n in self.inference.inputs() if n != self.input_name and not is_param(n)
        )

    @property
    def parameters(self) -> dict[str, Any]:
        """Parameters defining every ``params:`` either pipeline reads (KML006 is not at stake)."""
        tree: dict[str, Any] = {}
        names = {
            n[len("params:") :]
            for n in self.training.inputs() | self.inference.inputs()
            if n.startswith("params:")
        }
        for key in sorted(names, key=len):  # `p` before `p.q`, which turns `p` into a dict
            *parents, leaf = key.split(".")
            level = tree
            for parent in parents:
                if not isinstance(level.get(parent), dict):
                    level[parent] = {}
                level = level[parent]
            level.setdefault(leaf, 1)
        return tree

    def describe(self) -> str:
        def nodes(p: Pipeline) -> str:
            return "\n".join(
                f"    {n.name}: {sorted(n.inputs)} -> {sorted(n.outputs)}" for n in p.nodes
            )

        catalog = "\n".join(f"    {k}: {v}" for k, v in self.catalog.items())
        return (
            f"training:\n{nodes(self.training)}\ninference:\n{nodes(self.inference)}\n"
            f"input_name: {self.input_name!r}\ncatalog:\n{catalog}"
        )


# --- strategies -------------------------------------------------------------------------------


@st.composite
def dags(
    draw: st.DrawFn, pool: tuple[str, ...], favoured: tuple[str, ...] = ()
) -> list[tuple[list[str], list[str]]]:
    """Node specs in topological order: an output is never read or written earlier."""
    reads = st.sampled_from(pool * 4 + PARAMS + (ALL_PARAMETERS,))
    writes = st.sampled_from(favoured * 4 + pool)
    read: set[str] = set()
    written: set[str] = set()
    specs = []
    for _ in range(draw(st.integers(0, 4))):
        inputs = draw(st.lists(reads, min_size=0 if specs else 1, max_size=3, unique=True))
        read |= {strip(i) for i in inputs}
        outputs = draw(st.lists(writes, min_size=1, max_size=2, unique=True))
        outputs = [o for o in outputs if strip(o) not in read | written]
        outputs = list({strip(o): o for o in outputs}.values())
        written |= {strip(o) for o in outputs}
        specs.append((inputs, outputs))
    return specs


def built(specs: list[tuple[list[str], list[str]]]) -> Pipeline:
    try:
        return build(specs)
    except Exception:  # anything kedro rejects is not a pipeline a user can have
        assume(False)
        raise


@st.composite
def namespaced(draw: st.DrawFn, p: Pipeline, one_in: int) -> Pipeline:
    """Sometimes wrap ``p`` in kedro's ``namespace="ns"``, keeping some inputs global."""
    if not p.nodes or draw(st.integers(1, one_in)) != 1:
        return p
    free = sorted(n for n in p.inputs() if not is_param(n))
    params = sorted(n for n in p.inputs() if n.startswith("params:"))
    keep = draw(st.lists(st.sampled_from(free), unique=True)) if free else []
    keep_params = draw(st.lists(st.sampled_from(params), unique=True)) if params else []
    try:
        return pipeline(p, namespace="ns", inputs=set(keep), parameters=set(keep_params))
    except Exception:
        assume(False)
        raise


@st.composite
def catalogs(draw: st.DrawFn, names: list[str]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for name in names:
        if draw(st.integers(0, 2)):  # two in three names get an explicit entry
            config[name] = entry(draw(KIND), strip(name))
    for pattern, stem in (
        ("{name}_m", "{name}"),
        ("{ns}.{name}", "{ns}/{name}"),
        ("x@{fmt}", "x_{fmt}"),
    ):
        if draw(st.booleans()):
            config[pattern] = entry(draw(KIND), stem)
    catch_all = draw(st.sampled_from([None, None, "{default}", "{name}"]))
    if catch_all:
        config[catch_all] = entry(draw(KIND), catch_all)
    return config


@st.composite
def pairs(draw: st.DrawFn) -> Pair:
    training_y, inference_y = draw(st.permutations(Y_SPELLINGS))
    specs = draw(dags(PLAIN + TRANSCODED + inference_y))
    if draw(st.integers(0, 3)):  # mostly: one last node gathers every output into one
        sinks = sorted(built(specs).outputs()) or ["instances"]
        specs.append((sinks, [PREDICTION]))
    inference = draw(namespaced(built(specs), one_in=5))
    # Training mostly writes what inference reads (never `y` in the other spelling).
    favoured = tuple(n for n in sorted(inference.inputs()) if not is_param(n) and strip(n) != "y")
    training = draw(namespaced(built(draw(dags(PLAIN + TRANSCODED + training_y, favoured))), 8))

    inputs = sorted(inference.inputs())
    data_inputs = [n for n in inputs if not is_param(n)]
    choice = draw(st.integers(0, 5))
    if choice <= 3 and data_inputs:
        input_name: str | None = draw(st.sampled_from(data_inputs))
    elif choice == 4 and inputs:
        input_name = draw(st.sampled_from(inputs))
    else:
        input_name = draw(st.sampled_from([None, "", "missing", *sorted(inference.datasets())]))

    # Transcoded names also offer their bare name as a catalog key (kedro does not strip `@`).
    datasets = training.datasets() | inference.datasets()
    names = sorted({m for n in datasets if not is_param(n) for m in (n, strip(n))})
    return Pair(training, inference, input_name, draw(catalogs(names)))


# --- what kedro and kedro-mlflow do -----------------------------------------------------------


class _OfflineFileSystem(MemoryFileSystem):
    """Stands in for s3fs, gcsfs and adlfs, which CI does not install.

    Like them it connects lazily, so building a dataset on ``s3://…`` behaves as it would with
    the real library installed, and nothing touches the network or looks for credentials.
    """

    protocol = ("s3", "s3a", "gs", "gcs", "abfs", "az")


@contextmanager
def offline_remote_filesystems() -> Iterator[None]:
    saved = dict(fsspec_registry)
    for protocol in _OfflineFileSystem.protocol:
        fsspec.register_implementation(protocol, _OfflineFileSystem, clobber=True)
    try:
        yield
    finally:
        fsspec_registry.clear()
        fsspec_registry.update(saved)


def real_catalog(pair: Pair) -> DataCatalog:
    """The catalog as a kedro session builds it: configuration plus the parameters."""
    catalog = DataCatalog.from_config(copy.deepcopy(pair.catalog))
    parameters = pair.parameters
    catalog[ALL_PARAMETERS] = parameters
    stack: list[tuple[str, Mapping[str, Any]]] = [("", parameters)]
    while stack:
        prefix, mapping = stack.pop()
        for key, value in mapping.items():
            catalog[f"params:{prefix}{key}"] = value
            if isinstance(value, Mapping):
                stack.append((f"{prefix}{key}.", value))
    return catalog


class Storage(str, Enum):
    """What the real catalog makes of one artifact (``catalog[name]``)."""

    MISSING = "missing"  # DatasetNotFoundError: no entry, no pattern
    BROKEN = "broken"  # the dataset cannot be built (SQLTableDataset without credentials)
    MEMORY = "memory"  # a MemoryDataset
    SHARED_MEMORY = "shared-memory"  # SharedMemoryDataset: not a MemoryDataset subclass
    LOCAL = "local"  # a file on this machine
    REMOTE = "remote"  # a file behind a remote protocol
    NO_FILE = "no-file"  # no file of its own (SQL table, MLflow model tracking)
    WRAPPED_LOCAL = "wrapped-local"  # PartitionedDataset/CachedDataset over local files
    WRAPPED_REMOTE = "wrapped-remote"  # … over remote files


def storage(catalog: DataCatalog, name: str) -> tuple[Storage, str | None]:
    """What ``catalog[name]`` is, and the ``_filepath`` kedro-mlflow would log."""
    try:
        dataset = catalog[name]
    except DatasetNotFoundError:
        return Storage.MISSING, None
    except DatasetError:
        return Storage.BROKEN, None
    filepath = getattr(dataset, "_filepath", None)
    filepath = None if filepath is None else str(filepath)
    if isinstance(dataset, MemoryDataset):
        return Storage.MEMORY, filepath
    if isinstance(dataset, SharedMemoryDataset):
        return Storage.SHARED_MEMORY, filepath
    if isinstance(dataset, (PartitionedDataset, CachedDataset)):
        inner = dataset._dataset if isinstance(dataset, CachedDataset) else dataset
        local = getattr(inner, "_protocol", None) in LOCAL_PROTOCOLS
        return (Storage.WRAPPED_LOCAL if local else Storage.WRAPPED_REMOTE), filepath
    protocol = getattr(dataset, "_protocol", None)
    if protocol is None or filepath is None:
        return Storage.NO_FILE, filepath
    return (Storage.LOCAL if protocol in LOCAL_PROTOCOLS else Storage.REMOTE), filepath


@dataclass(frozen=True)
class MlflowVerdict:
    """What kedro-mlflow did with one pair; errors are exception type names."""

    factory_error: str | None
    model_error: str | None
    log_error: str | None  # None, an exception type, or "not-local"
    storages: Mapping[str, Storage]
    filepaths: Mapping[str, str | None]  # each artifact's `_filepath` as kedro parsed it

    @property
    def rejects(self) -> bool:
        return self.factory_error is not None or self.model_error is not None


def kedro_mlflow_verdict(pair: Pair, workdir: Path) -> MlflowVerdict:
    factory_error = model_error = log_error = None
    model: Any = pair.inference
    try:
        model = pipeline_ml_factory(pair.training, pair.inference, pair.input_name)
    except Exception as exc:
        factory_error = type(exc).__name__
    catalog = real_catalog(pair)
    # A dataset kedro failed to build is dropped from the catalog: probe on a fresh one.
    probe = real_catalog(pair)
    probed = {name: storage(probe, name) for name in pair.artifacts}
    storages = {name: found for name, (found, _) in probed.items()}
    filepaths = {name: filepath for name, (_, filepath) in probed.items()}
    kpm = None
    try:
        # On a rejected factory, the inference pipeline alone (KedroPipelineModel takes both).
        kpm = KedroPipelineModel(pipeline=model, catalog=catalog, input_name=pair.input_name)
    except Exception as exc:
        model_error = type(exc).__name__
    if kpm is not None:
        try:
            kpm.extract_pipeline_artifacts(workdir)
        except Exception as exc:
            log_error = type(exc).__name__
        else:
            # It returned a `file://` URI for every artifact: right only for local files.
            if any(s is not Storage.LOCAL for s in storages.values()):
                log_error = "not-local"
    return MlflowVerdict(factory_error, model_error, log_error, storages, filepaths)


def lint_errors(pair: Pair) -> set[tuple[str, str | None]]:
    violations = lint_pipelines(
        pair.training, pair.inference, pair.input_name, pair.catalog, select=list(CONTRACT)
    )
    return {(v.code, v.subject) for v in violations if v.severity is Severity.ERROR}


# --- the classifier ---------------------------------------------------------------------------


class Agreement(str, Enum):
    BOTH_REJECT = "agree: both reject"
    BOTH_ACCEPT = "agree: both accept"


class Known(str, Enum):
    """The documented disagreements, each with who is right (see the example tests below)."""

    # Lint right. kedro-mlflow builds the model, and `extract_pipeline_artifacts` turns
    # `s3://bucket/m.pkl` into `file://<cwd>/bucket/m.pkl` (it reads `dataset._filepath`, which
    # kedro stores without its protocol): `log_model` then fails on a missing file, or worse,
    # logs an unrelated local file. KML002 says so before training runs.
    REMOTE_FILEPATH = "lint right: remote filepath (kedro-mlflow fails at log time)"
    # Lint right. A dataset with no single file (SQL table, MLflow model tracking, a
    # Partitioned or Cached dataset, local or remote) passes kedro-mlflow's MemoryDataset
    # check, then
    # `extract_pipeline_artifacts` raises AttributeError (`_filepath`) or, for
    # MlflowModelTrackingDataset, hands MLflow the current directory. KML002 is right.
    NO_FILEPATH = "lint right: no filepath (kedro-mlflow fails at log time)"
    # Lint right. SharedMemoryDataset is memory, but not a MemoryDataset subclass, so
    # kedro-mlflow builds the model and fails in `extract_pipeline_artifacts`. KML001 is right.
    SHARED_MEMORY = "lint right: SharedMemoryDataset (kedro-mlflow fails at log time)"
    # Lint right, by docs/design.md §2. Inference reads `model@pickle` (or `model`), training writes
    # `model@joblib`: kedro itself treats them as one dataset (one file, two codecs; the
    # runner orders nodes by the name before `@`), and kedro-ml-lint's own PipelineML accepts
    # the pair. kedro-mlflow compares raw names and calls it a free input.
    TRANSCODING = "lint right: transcoded artifact (kedro-mlflow compares raw names)"
    # Lint stricter, deliberately. `simplecache::s3://bucket/m.pkl`: kedro's
    # `get_protocol_and_path` only recognises `proto://`, so kedro builds a *local*
    # PickleDataset at the relative path `simplecache::s3:/bucket/m.pkl`; training writes
    # there and kedro-mlflow logs that file. Nothing fails, but the data never reaches the
    # storage the user named: KML002 says the chain is not resolved by Kedro.
    CHAINED_URL = "lint stricter: chained fsspec URL (kedro writes a file of that literal name)"


# The classes where kedro-mlflow accepts the pair and then fails at log time.
LINT_RIGHT = {Known.REMOTE_FILEPATH, Known.NO_FILEPATH, Known.SHARED_MEMORY}


def is_chained(verdict: MlflowVerdict, name: str | None) -> bool:
    return name is not None and "::" in (verdict.filepaths.get(name) or "")


def kedro_mlflow_free_inputs(pair: Pair) -> set[str]:
    """``PipelineML._check_consistency``'s free inputs, restated to explain its error."""
    inference = pair.inference
    return (
        inference.inputs()
        - {pair.input_name}
        - pair.training.all_outputs()
        - pair.training.inputs()
        - {n for n in inference.inputs() if n.startswith("params:")}
    )


def explain_disagreement(
    pair: Pair, verdict: MlflowVerdict, errors: set[tuple[str, str | None]]
) -> set[Known] | None:
    """The known classes that explain every difference between the verdicts, or ``None``.

    An empty set means the verdicts agree (and, when both accept, the artifacts log).
    """
    reasons: set[Known] = set()
    if verdict.rejects and not errors:
        # Only the factory may refuse, only for free inputs, each one a transcoded spelling of
        # a training dataset; the model itself builds.
        training = {strip(d) for d in pair.training.datasets()}
        free = kedro_mlflow_free_inputs(pair)
        if not (
            verdict.model_error is None
            and len(pair.inference.outputs()) == 1
            and pair.input_name in pair.inference.inputs()
            and free
            and all(strip(f) in training for f in free)
        ):
            return None
        reasons.add(Known.TRANSCODING)
    elif not verdict.rejects and errors:
        # Each error lint reports must be a known one.
        for code, subject in errors:
            found = verdict.storages.get(subject) if subject else None
            if code == "KML002" and found is Storage.REMOTE:
                reasons.add(Known.REMOTE_FILEPATH)
            elif code == "KML002" and found in (
                Storage.NO_FILE,
                Storage.WRAPPED_LOCAL,
                Storage.WRAPPED_REMOTE,
            ):
                reasons.add(Known.NO_FILEPATH)
            elif code == "KML002" and found is Storage.LOCAL and is_chained(verdict, subject):
                reasons.add(Known.CHAINED_URL)
            elif code == "KML001" and found is Storage.SHARED_MEMORY:
                reasons.add(Known.SHARED_MEMORY)
            else:
                return None
        # "kedro-mlflow fails at log time" must hold whenever lint is said to be right.
        if reasons & LINT_RIGHT and verdict.log_error is None:
            return None
    if not errors and verdict.model_error is None and verdict.log_error is not None:
        # Lint lets the pair through and kedro-mlflow cannot log it: a gap in lint.
        return None
    return reasons


def classify(pair: Pair, verdict: MlflowVerdict, errors: set[tuple[str, str | None]]) -> str:
    """The class of one example; fails the test on an unexplained disagreement."""
    reasons = explain_disagreement(pair, verdict, errors)
    assert reasons is not None, (
        f"kedro-ml-lint and kedro-mlflow disagree, and no known class explains it\n"
        f"{pair.describe()}\n"
        f"kedro-mlflow: factory={verdict.factory_error} model={verdict.model_error} "
        f"log={verdict.log_error} storages={ {k: v.value for k, v in verdict.storages.items()} }\n"
        f"kedro-ml-lint errors: {sorted(errors, key=str)}"
    )
    if reasons:
        return " + ".join(sorted(r.value for r in reasons))
    if not verdict.rejects:
        return Agreement.BOTH_ACCEPT.value
    stage = "factory" if verdict.factory_error else "KedroPipelineModel"
    return f"{Agreement.BOTH_REJECT.value} (kedro-mlflow: {stage})"


# Per artifact: the KML001/KML002 codes each real storage calls for.
EXPECTED_CODES = {
    Storage.MISSING: {"KML001"},
    Storage.MEMORY: {"KML001"},
    Storage.SHARED_MEMORY: {"KML001"},
    Storage.LOCAL: set(),  # but a chained URL: {"KML002"} (Known.CHAINED_URL)
    Storage.REMOTE: {"KML002"},
    Storage.NO_FILE: {"KML002"},
    Storage.BROKEN: {"KML002"},  # only SQLTableDataset without credentials is generated
    Storage.WRAPPED_REMOTE: {"KML002"},
    Storage.WRAPPED_LOCAL: {"KML002"},  # no single file: kedro-mlflow crashes at log time
}


# --- fixtures ---------------------------------------------------------------------------------

COUNTS: Counter[str] = Counter()
QUIET = ("kedro", "kedro_mlflow", "kedro_datasets", "mlflow", "fsspec")


@pytest.fixture(scope="module", autouse=True)
def quiet_offline(request: pytest.FixtureRequest) -> Iterator[None]:
    """Silence kedro/kedro-mlflow logging, stub remote filesystems, then report the counts."""
    loggers = {name: logging.getLogger(name) for name in QUIET}
    levels = {name: logger.level for name, logger in loggers.items()}
    for logger in loggers.values():
        logger.setLevel(logging.CRITICAL)
    try:
        with offline_remote_filesystems():
            yield
    finally:
        for name, logger in loggers.items():
            logger.setLevel(levels[name])
    plugins = request.config.pluginmanager
    reporter = plugins.get_plugin("terminalreporter")
    capture = plugins.get_plugin("capturemanager")
    if COUNTS and reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line("")
            reporter.write_sep("-", f"differential classes ({sum(COUNTS.values())} examples)")
            for label, count in COUNTS.most_common():
                reporter.write_line(f"{count:6d}  {label}")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where ``extract_pipeline_artifacts`` pickles the parameters."""
    return tmp_path_factory.mktemp("differential")


# --- the differential property ----------------------------------------------------------------


@pytest.mark.integration
@RUN
@given(pair=pairs())
def test_lint_agrees_with_kedro_mlflow(pair: Pair, workdir: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        verdict = kedro_mlflow_verdict(pair, workdir)
        errors = lint_errors(pair)
    COUNTS[classify(pair, verdict, errors)] += 1

    # Per artifact, KML001/KML002 name exactly what the real catalog materialises.
    for name, found in verdict.storages.items():
        codes = {code for code, subject in errors if subject == name} & {"KML001", "KML002"}
        expected = {"KML002"} if is_chained(verdict, name) else EXPECTED_CODES[found]
        assert codes == expected, (name, found.value, pair.describe())
    flagged = {subject for code, subject in errors if code in ("KML001", "KML002", "KML003")}
    assert flagged <= set(pair.artifacts), pair.describe()

    # KML003 names exactly kedro-mlflow's free inputs, less their transcoded spellings of a
    # training dataset (Known.TRANSCODING) and `parameters` (KML007's business).
    free = kedro_mlflow_free_inputs(pair)
    if len(pair.inference.outputs()) == 1 and pair.input_name in pair.inference.inputs():
        # With its first two checks passed, the real factory raises iff the restatement finds
        # a free input: the restatement is kedro-mlflow's rule.
        assert bool(free) == (verdict.factory_error is not None), pair.describe()
    training = {strip(d) for d in pair.training.datasets()}
    expected_free = {f for f in free if f != ALL_PARAMETERS and strip(f) not in training}
    assert {s for c, s in errors if c == "KML003"} == expected_free, pair.describe()


# --- the documented cases, one example each ---------------------------------------------------

Verdicts = tuple[Pair, MlflowVerdict, set[tuple[str, str | None]]]


def _training(*outputs: str) -> Pipeline:
    return build([(["raw", "params:p"], [o]) for o in outputs])


def _inference(*artifacts: str) -> Pipeline:
    return build([(["instances", *artifacts], [PREDICTION])])


def _case(
    workdir: Path,
    catalog: dict[str, Any],
    training: Pipeline | None = None,
    inference: Pipeline | None = None,
    input_name: str = "instances",
) -> Verdicts:
    """Both verdicts on a pair; by default training writes `model`, inference reads it."""
    pair = Pair(
        training or _training("model"), inference or _inference("model"), input_name, catalog
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pair, kedro_mlflow_verdict(pair, workdir), lint_errors(pair)


def test_local_pickle_both_accept(workdir: Path) -> None:
    pair, verdict, errors = _case(workdir, {"model": entry("local", "model")})
    assert (verdict.rejects, verdict.log_error, errors) == (False, None, set())
    assert classify(pair, verdict, errors) == Agreement.BOTH_ACCEPT.value


def test_remote_filepath_lint_is_right(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    pair, verdict, errors = _case(tmp_path, {"model": entry("s3", "model")})
    assert (verdict.factory_error, verdict.model_error) == (None, None)
    # What kedro-mlflow would hand MLflow: a local path unrelated to the S3 object.
    kpm = KedroPipelineModel(
        pipeline=pipeline_ml_factory(pair.training, pair.inference, "instances"),
        catalog=real_catalog(pair),
        input_name="instances",
    )
    uri = kpm.extract_pipeline_artifacts(tmp_path)["model"]
    assert uri == (tmp_path / "bucket" / "model.pkl").resolve().as_uri()
    assert errors == {("KML002", "model")}
    assert classify(pair, verdict, errors) == Known.REMOTE_FILEPATH.value


@pytest.mark.parametrize("kind", ["sql", "tracking", "partition_s3"])
def test_no_filepath_lint_is_right(workdir: Path, kind: str) -> None:
    pair, verdict, errors = _case(workdir, {"model": entry(kind, "model")})
    assert not verdict.rejects
    assert verdict.log_error in ("AttributeError", "not-local")
    assert errors == {("KML002", "model")}
    assert classify(pair, verdict, errors) == Known.NO_FILEPATH.value


def test_shared_memory_lint_is_right(workdir: Path) -> None:
    pair, verdict, errors = _case(workdir, {"model": entry("shared_memory", "model")})
    assert (verdict.rejects, verdict.log_error) == (False, "AttributeError")
    assert errors == {("KML001", "model")}
    assert classify(pair, verdict, errors) == Known.SHARED_MEMORY.value


@pytest.mark.parametrize(
    ("written", "read"), [("model@joblib", "model@pickle"), ("model@joblib", "model")]
)
def test_transcoded_artifact_lint_is_right(workdir: Path, written: str, read: str) -> None:
    catalog = {written: entry("local", "model"), read: entry("local", "model")}
    pair, verdict, errors = _case(workdir, catalog, _training(written), _inference(read))
    assert verdict.factory_error == KedroMlflowPipelineMLError.__name__
    assert (verdict.model_error, verdict.log_error) == (None, None)
    assert errors == set()
    assert classify(pair, verdict, errors) == Known.TRANSCODING.value


@pytest.mark.parametrize("kind", WRAPPED_LOCAL_KINDS)
def test_wrapped_local_artifact_lint_is_right(workdir: Path, kind: str) -> None:
    """A local Partitioned/CachedDataset has no single file: kedro-mlflow crashes at log time."""
    pair, verdict, errors = _case(workdir, {"model": entry(kind, "model")})
    assert (verdict.rejects, verdict.log_error) == (False, "AttributeError")
    assert errors == {("KML002", "model")}
    assert classify(pair, verdict, errors) == Known.NO_FILEPATH.value


def test_parameters_as_input_name_both_accept(workdir: Path) -> None:
    """Served as ``input_name``, the ``parameters`` dict comes from the caller."""
    inference = build([([ALL_PARAMETERS, "model"], [PREDICTION])])
    catalog = {"model": entry("local", "model")}
    pair, verdict, errors = _case(workdir, catalog, inference=inference, input_name=ALL_PARAMETERS)
    assert (verdict.rejects, verdict.log_error) == (False, None)
    assert errors == set()
    assert classify(pair, verdict, errors) == Agreement.BOTH_ACCEPT.value


def test_chained_url_lint_is_stricter(workdir: Path) -> None:
    pair, verdict, errors = _case(workdir, {"model": entry("chained", "model")})
    assert (verdict.rejects, verdict.log_error) == (False, None)
    assert verdict.storages == {"model": Storage.LOCAL}  # kedro: a local relative path
    assert errors == {("KML002", "model")}
    assert classify(pair, verdict, errors) == Known.CHAINED_URL.value


def test_sql_without_credentials_both_reject(workdir: Path) -> None:
    pair, verdict, errors = _case(workdir, {"model": entry("sql_bare", "model")})
    assert verdict.model_error == DatasetError.__name__  # kedro cannot build it
    assert errors == {("KML002", "model")}
    assert classify(pair, verdict, errors).startswith(Agreement.BOTH_REJECT.value)


@pytest.mark.parametrize(
    ("catalog", "error"),
    [
        ({}, DatasetNotFoundError),
        ({"model": entry("memory", "model")}, KedroPipelineModelError),
        ({"model": entry("memory_qualified", "model")}, KedroPipelineModelError),
        ({"{default}": entry("memory", "{default}")}, KedroPipelineModelError),
        ({"{name}_x": entry("local", "{name}")}, DatasetNotFoundError),
    ],
)
def test_memory_artifact_both_reject(
    workdir: Path, catalog: dict[str, Any], error: type[Exception]
) -> None:
    _, verdict, errors = _case(workdir, catalog)
    assert verdict.model_error == error.__name__
    assert errors == {("KML001", "model")}


def test_namespaced_artifact_by_pattern_both_accept(workdir: Path) -> None:
    catalog = {"{ns}.{name}": entry("local", "{ns}/{name}")}
    _, verdict, errors = _case(workdir, catalog, _training("ns.model"), _inference("ns.model"))
    assert (verdict.rejects, verdict.log_error, errors) == (False, None, set())


def test_free_input_both_reject(workdir: Path) -> None:
    catalog = {"encoder": entry("local", "encoder"), "model": entry("local", "model")}
    _, verdict, errors = _case(workdir, catalog, inference=_inference("model", "encoder"))
    assert verdict.factory_error == KedroMlflowPipelineMLError.__name__
    assert errors == {("KML003", "encoder")}


def test_parameters_read_by_inference_both_reject(workdir: Path) -> None:
    # kedro-mlflow: a free input (and a MemoryDataset); lint: KML007, counted as a rejection.
    catalog = {"model": entry("local", "model")}
    _, verdict, errors = _case(workdir, catalog, inference=_inference("model", ALL_PARAMETERS))
    assert verdict.factory_error == KedroMlflowPipelineMLError.__name__
    assert verdict.model_error == KedroPipelineModelError.__name__
    assert errors == {("KML007", ALL_PARAMETERS)}


@pytest.mark.parametrize("input_name", ["prediction", "intermediate", "missing", ""])
def test_input_name_not_a_free_input_both_reject(workdir: Path, input_name: str) -> None:
    inference = build(
        [(["instances", "model"], ["intermediate"]), (["intermediate"], [PREDICTION])]
    )
    catalog = {"model": entry("local", "model")}
    _, verdict, errors = _case(workdir, catalog, inference=inference, input_name=input_name)
    assert verdict.factory_error == KedroMlflowPipelineMLError.__name__
    assert ("KML005", None) in errors


def test_two_outputs_both_reject(workdir: Path) -> None:
    inference = build([(["instances", "model"], [PREDICTION, "scores"])])
    _, verdict, errors = _case(workdir, {"model": entry("local", "model")}, inference=inference)
    assert verdict.factory_error == KedroMlflowPipelineMLError.__name__
    assert verdict.model_error == "ValueError"
    assert errors == {("KML004", None)}
