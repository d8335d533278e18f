"""``MlflowPipelineHook``: lint a PipelineML before its run, log its model after it.

Register it in the project's ``settings.py``::

    from kedro_ml_lint.hooks import MlflowPipelineHook

    HOOKS = (MlflowPipelineHook(),)

The pairs are found by the run's *pipeline names* in the project's registry, never by
``isinstance`` on the pipeline Kedro hands to the hook: since Kedro 1.2 the session sums
the requested pipelines into a plain ``Pipeline``, and a hook that checks the type of that
object silently logs nothing (kedro-mlflow #690).
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import traceback
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import click
from kedro.framework.hooks import hook_impl

from kedro_ml_lint.diagnostics import Severity, Violation
from kedro_ml_lint.errors import EXIT_CLEAN, EXIT_ERROR, EXIT_VIOLATIONS
from kedro_ml_lint.model.redact import redact_text
from kedro_ml_lint.rules.kml101_artifact_missing_on_disk import RULE as artifact_missing_on_disk
from kedro_ml_lint.rules.kml201_pair_never_logged import RULE as pair_never_logged
from kedro_ml_lint.vocabulary import DEFAULT_PIPELINE

logger = logging.getLogger(__name__)
# Kedro's RichHandler renders markup by default: a finding's `[training]` suffix would vanish.
LITERAL = {"markup": False}


class _HookError(click.ClickException):
    """An error ``kedro run`` prints as a message, not as a traceback box.

    Kedro's CLI is click: a ``ClickException`` that reaches it is shown with its ``show``
    and the process exits with its ``exit_code`` (Kedro's own ``KedroCliError`` is one; it
    is not the base here because importing it configures Kedro's logging, which a
    ``settings.py`` import must not do). When Kedro is verbose (its ``kedro`` logger at
    ``DEBUG``) the traceback comes first.
    """

    def show(self, file: IO[Any] | None = None) -> None:
        """Print the message (after the traceback when Kedro is verbose) on stderr.

        Whatever the run wrote to stdout and still holds in a buffer (Kedro's and plugins'
        logs, a node's prints) is flushed first: where both streams go to one terminal or
        one CI log, the message is the last thing there.
        """
        _flush(sys.stdout)
        if logging.getLogger("kedro").isEnabledFor(logging.DEBUG):
            click.secho("".join(traceback.format_exception(self)), nl=False, fg="yellow", err=True)
        click.secho(self.format_message(), fg="red", err=True, file=file)
        _flush(file or sys.stderr)


class PipelineContractError(_HookError):
    """Raised by the hook when a PipelineML about to run (or to be logged) breaks a rule.

    ``kedro run`` prints the violations (errors: warnings never stop a run) one per line, as
    ``check`` prints them, under a header that counts them as ``check``'s summary does, and
    exits 1.
    """

    def __init__(self, violations: Sequence[Violation], when: str) -> None:
        from kedro_ml_lint.report.text import violation_line

        count = len(violations)
        super().__init__(
            f"kedro-ml-lint: {when}: {count} error{'s' if count != 1 else ''}\n"  # as check counts
            + "\n".join(violation_line(v) for v in violations)
        )
        self.violations = list(violations)

    exit_code = EXIT_VIOLATIONS


class PreflightError(_HookError):
    """The project could not be checked before the run: ``check``'s one line, exit code 2."""

    exit_code = EXIT_ERROR


class GateRefusedError(_HookError):
    """Raised by the hook when its ``gate`` refuses the new version (nothing was kept).

    ``kedro run`` prints the gate's table and one line, as ``check --log --gate`` does, and
    exits 1.
    """

    exit_code = EXIT_VIOLATIONS

    def __init__(self, lines: Sequence[str], refusal: str) -> None:
        super().__init__("\n".join([*lines, f"kedro-ml-lint: {refusal}"]))


class MlflowPipelineHook:
    """Check every pair a run trains before it runs; log it as an MLflow model after it.

    ``before_pipeline_run`` finds the registered PipelineML pairs whose training nodes the
    run executes, whatever pipelines were asked for (``__default__``, a sum, several
    ``--pipelines``), and checks them exactly as ``kedro-ml-lint check --pipeline <pair>``
    does (same settings, ``# noqa`` comments and locations: it *is* that command, run on the
    project). An error stops the run before any node executes with
    :class:`PipelineContractError`; warnings are logged. ``after_pipeline_run`` checks that
    the artifacts are on disk (KML101) and logs each pair whose training nodes all ran, as
    ``kedro-ml-lint check --log`` does, from the run's own catalog (so ``--params`` and
    ``--load-versions`` of the run are what gets logged). A run that executes only part of
    a pair's training nodes (``--nodes``, ``--tags``…) is checked, not logged, and says so
    in one INFO line: its artifacts would mix fresh and stale fits.

    Args:
        tracking_uri: Where to log; else ``MLFLOW_TRACKING_URI``; else MLflow's default.
        experiment: The experiment to log to (created when missing); else MLflow's default.
        registered_model_name: Also register each logged model under this name.
        alias: Point this registry alias at the registered version, inside the store
            transaction (``check --log --alias``; needs ``registered_model_name``).
        gate: Compare the new version with the alias's holder first (``--gate``): a
            breaking difference keeps nothing and fails the run (:class:`GateRefusedError`).
        verify_env: ``"uv"`` or ``"virtualenv"`` (``--verify-env``): before it is kept, each
            model predicts its input example in a new environment built from its
            requirements alone.
        log_model: ``False`` only checks before the run (and needs no MLflow).
        select: Rule codes or prefixes to run; default: ``[tool.kedro-ml-lint]`` ``select``.
        ignore: Rule codes or prefixes to skip; default: ``[tool.kedro-ml-lint]`` ``ignore``.
            ``per-dataset-ignores`` of that table apply too.
    """

    def __init__(
        self,
        *,
        tracking_uri: str | None = None,
        experiment: str | None = None,
        registered_model_name: str | None = None,
        log_model: bool = True,
        select: Sequence[str] | None = None,
        ignore: Sequence[str] | None = None,
        alias: str | None = None,
        gate: bool = False,
        verify_env: str | None = None,
    ) -> None:
        # Nothing here needs MLflow: `settings.py` imports in a lean pre-commit environment
        # too; a run that will log checks for it before its first node (`ready_to_log`).
        self.tracking_uri = tracking_uri
        self.experiment = experiment
        self.registered_model_name = registered_model_name
        self.alias = alias
        self.gate = gate
        self.verify_env = verify_env
        self.log_model = log_model
        self._select = list(select) if select is not None else None
        self._ignore = list(ignore) if ignore is not None else None
        self._project_path: Path | None = None
        self._env: str | None = None
        self._conf_source: str | None = None
        self._config_loader: Any = None
        self._pairs: dict[str, Any] = {}

    def ready_to_log(self) -> None:
        """Raise when this hook is to log models and the installed MLflow cannot.

        Raises:
            MlflowNotInstalledError: MLflow is not installed.
            UnsupportedVersionError: Kedro or MLflow is of a version the logging does not
                support.
            PreflightError: ``registered_model_name`` or ``alias`` is a name MLflow refuses,
                ``alias`` comes without ``registered_model_name``, ``gate`` without
                ``alias``, or ``verify_env``'s manager cannot build an environment here.
        """
        if self.log_model:
            from kedro_ml_lint.publishing.errors import require_supported_versions

            require_supported_versions("`MlflowPipelineHook`")
            from kedro_ml_lint.publishing.publish import Destination, refuse_bad_destination
            from kedro_ml_lint.publishing.store import refuse_bad_model_name

            try:
                refuse_bad_model_name(
                    self.registered_model_name, what="MlflowPipelineHook(registered_model_name)"
                )
                refuse_bad_destination(
                    Destination(
                        registered_model_name=self.registered_model_name,
                        alias=self.alias,
                        gate=self.gate,
                    ),
                    self.verify_env,
                )
            except Exception as exc:  # PublishError: the run stops before its first node
                raise PreflightError(f"kedro-ml-lint: MlflowPipelineHook: {exc}") from exc

    # ------------------------------------------------------------------ hooks

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        """Keep where the project and its configuration are, for the run's hooks."""
        self._project_path = Path(context.project_path).resolve()
        self._env = getattr(context, "env", None)
        self._config_loader = getattr(context, "config_loader", None)
        conf_source = getattr(self._config_loader, "conf_source", None)
        self._conf_source = str(conf_source) if conf_source else None
        self._pairs = {}
        # Say which model was logged whenever Kedro itself is chatty (its default).
        if logger.level == logging.NOTSET and logging.getLogger("kedro").isEnabledFor(logging.INFO):
            logger.setLevel(logging.INFO)

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        """Check the pairs this run trains; raise before any node executes."""
        self._pairs = {}
        complete, partial = _trained_pairs(set(pipeline.nodes))
        for name, missing in partial.items():
            logger.info(
                "kedro-ml-lint: not logging `%s`: this run executes only part of its training "
                "nodes (not %s)",
                name,
                ", ".join(f"`{node}`" for node in missing[:3])
                + (f" and {len(missing) - 3} more" if len(missing) > 3 else ""),
                extra=LITERAL,
            )
        checked = [*complete, *partial]
        if not checked:
            return
        if complete:
            self.ready_to_log()
        root = self._project_path or Path.cwd()
        if _source_checkout(root) is None:
            self._packaged_preflight(root, checked)
            self._pairs = complete
            return
        violations = preflight_findings(self._preflight(checked), logs=self.log_model)
        errors = [v for v in violations if v.severity is Severity.ERROR]
        if errors:
            _fail_active_mlflow_run()
            raise PipelineContractError(errors, "the run is stopped before any node ran")
        for warning in violations:
            log_finding(warning)
        self._pairs = complete

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        """Check the artifacts are on disk and log each pair the run trained as a model."""
        complete, self._pairs = self._pairs, {}
        if not self.log_model or not complete:
            return
        violations = self._missing_artifacts(complete)
        if violations:
            raise PipelineContractError(violations, "the model is not logged")
        from kedro.framework.project import PACKAGE_NAME

        from kedro_ml_lint.progress import Progress
        from kedro_ml_lint.publishing.errors import GateRefused
        from kedro_ml_lint.publishing.publish import log_pipeline_ml
        from kedro_ml_lint.publishing.summary import summary_lines

        try:
            models = log_pipeline_ml(
                complete,
                catalog=catalog,
                project_root=self._project_path or Path.cwd(),
                package_name=str(PACKAGE_NAME),
                tracking_uri=self.tracking_uri,
                experiment=self.experiment,
                registered_model_name=self.registered_model_name,
                extra_tags=_training_tags(run_params),
                progress=Progress.for_stderr(
                    logging.getLogger("kedro").isEnabledFor(logging.DEBUG)
                ),
                alias=self.alias,
                gate=self.gate,
                verify_env=self.verify_env,
            )
        except GateRefused as refused:  # rolled back; the run fails, as `check` exits 1
            raise GateRefusedError(refused.report.lines(), refused.rolled_back) from refused
        # Printed, not logged: a log handler (Kedro's rich one) would wrap the links and
        # prefix every line; this block is for copying. Same stream as Kedro's logs.
        _flush(sys.stderr)
        click.echo("\n".join(summary_lines(models)))

    # ------------------------------------------------------------------ helpers

    def preflight_command(self, names: Iterable[str]) -> list[str]:
        """The ``kedro-ml-lint check --pipeline <name>…`` command line the pre-flight runs."""
        root = self._project_path or Path.cwd()
        command = [sys.executable, "-m", "kedro_ml_lint", "check", str(root), "--format", "json"]
        for name in names:
            command += ["--pipeline", name]
        if self._env:
            command += ["--env", self._env]
        # A folder, or the archive `kedro package` ships (`--conf-source conf-….tar.gz`).
        if self._conf_source and Path(self._conf_source).exists():
            command += ["--conf-source", self._conf_source]
        if self._select is not None:
            command += ["--select", ",".join(self._select)]
        if self._ignore is not None:
            command += ["--ignore", ",".join(self._ignore)]
        return command

    def _preflight(self, names: Iterable[str]) -> list[Violation]:
        """``kedro-ml-lint check --pipeline <name>…`` on the project: one front end."""
        root = self._project_path or Path.cwd()
        proc = subprocess.run(
            self.preflight_command(names), capture_output=True, text=True, cwd=root
        )
        if proc.returncode not in (EXIT_CLEAN, EXIT_VIOLATIONS):
            lines = proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"]
            raise PreflightError(f"kedro-ml-lint: the project cannot be checked: {lines[-1]}")
        report = json.loads(proc.stdout)
        return [Violation.from_dict(v) for v in report["violations"]]

    def _packaged_preflight(self, root: Path, names: Iterable[str]) -> None:
        """The pre-flight of a packaged deployment: what the run itself can read.

        A project installed as a wheel and run with ``python -m <package> --conf-source
        <archive>`` has no ``pyproject.toml``, so ``check`` has no project to load. The
        installed pairs are checked in this process against the run's own configuration
        (its config loader reads the archive as Kedro does). Its findings are logged as
        warnings and never stop the run: the ``# noqa`` comments, ``per-dataset-ignores``
        and ``[tool.kedro-ml-lint]`` settings that may silence them are in the source
        checkout, which ``check`` gates. When even that cannot run, one INFO line says
        why and the run goes on: the tool never stops a run for its own reasons.
        """
        from kedro.framework.project import pipelines

        from kedro_ml_lint.api import lint_pipelines

        names = list(names)
        try:
            catalog_config = self._config("catalog")
            parameters = self._config("parameters")
            violations: list[Violation] = []
            for name in names:
                pipeline_ml = pipelines[name]
                violations += lint_pipelines(
                    pipeline_ml,
                    pipeline_ml.inference,
                    pipeline_ml.input_name,
                    catalog_config=catalog_config,
                    parameters=parameters,
                    name=name,
                    select=self._select,
                    ignore=self._ignore,
                    project_root=root,
                    publishing=self.log_model,
                )
        except Exception as exc:  # the tool's own trouble never stops a run
            logger.info(
                "kedro-ml-lint: pre-flight skipped: no `pyproject.toml` at or above `%s` (a "
                "packaged deployment) and the installed pipelines could not be checked "
                "(%s: %s)",
                root,
                type(exc).__name__,
                redact_text(str(exc)).splitlines()[0] if str(exc) else "",
                extra=LITERAL,
            )
            return
        logger.info(
            "kedro-ml-lint: packaged deployment (no `pyproject.toml` at or above `%s`): "
            "checked %s against this run's configuration; `# noqa` comments and "
            "the `tool.kedro-ml-lint` settings are in the source checkout, so findings are "
            "warnings here",
            root,
            ", ".join(f"`{name}`" for name in names),
            extra=LITERAL,
        )
        for violation in violations:
            log_finding(violation)

    def _missing_artifacts(self, pairs: Mapping[str, Any]) -> list[Violation]:
        """KML101 on each pair: every artifact's file exists after the run."""
        from kedro_ml_lint.api import lint_pipelines

        catalog_config = self._config("catalog")
        violations: list[Violation] = []
        for name, pipeline_ml in pairs.items():
            violations += lint_pipelines(
                pipeline_ml,
                pipeline_ml.inference,
                pipeline_ml.input_name,
                catalog_config=catalog_config,
                name=name,
                select=[artifact_missing_on_disk.code],
                project_root=self._project_path,
                artifacts_on_disk=True,
            )
        return violations

    def _config(self, key: str) -> dict[str, Any]:
        if self._config_loader is None:
            return {}
        try:
            config = self._config_loader[key]
        except Exception:  # MissingConfigException: no such file is an empty config
            return {}
        return dict(config) if isinstance(config, Mapping) else {}


def log_finding(violation: Violation) -> None:
    """Log one finding as a WARNING line, as ``check`` prints it (markup off: see LITERAL)."""
    from kedro_ml_lint.report.text import violation_line

    logger.warning("kedro-ml-lint: %s", violation_line(violation), extra=LITERAL)


def _flush(stream: IO[Any] | None) -> None:
    try:
        if stream is not None:
            stream.flush()
    except (OSError, ValueError):  # closed or broken: nothing to order any more
        pass


def _fail_active_mlflow_run() -> None:
    """End the MLflow run a plugin started for this run (kedro-mlflow's), as ``FAILED``.

    Kedro calls no ``on_pipeline_error`` for an error raised in ``before_pipeline_run``, so
    kedro-mlflow does not end its run as it does when a node fails; MLflow would end it at
    exit as ``FINISHED`` (wrongly) and, for a tracking server, print its run links after
    the violations. Ended here, its lines come before them. Never imports MLflow.
    """
    mlflow = sys.modules.get("mlflow")
    if mlflow is None:
        return
    try:
        while mlflow.active_run() is not None:
            mlflow.end_run("FAILED")
    except Exception:  # the store is gone: MLflow says so itself; the violations matter more
        logger.debug("kedro-ml-lint: could not end the active MLflow run", exc_info=True)


def preflight_findings(violations: Sequence[Violation], *, logs: bool) -> list[Violation]:
    """What the pre-flight ``check`` found that concerns a run this hook watches.

    A hook that logs (``logs``) logs every pair the run trains, so KML201 ("no hook logs
    it") cannot be true of that run, whatever the static reading of ``settings.HOOKS``
    concluded: it is dropped. A hook that only checks keeps it.
    """
    if not logs:
        return list(violations)
    return [v for v in violations if v.code != pair_never_logged.code]


def _source_checkout(start: Path) -> Path | None:
    """The project's source checkout (``pyproject.toml`` with ``[tool.kedro]``), if any."""
    from kedro_ml_lint.reading.pyproject import find_project_root

    return find_project_root(start)


def _training_tags(run_params: Mapping[str, Any]) -> dict[str, str]:
    """Which training made the model: the Kedro session and, if any, the MLflow run."""
    from kedro_ml_lint.publishing.describe import training_tags

    session_id = run_params.get("run_id") or run_params.get("session_id")  # Kedro 1.x: run_id
    return training_tags(str(session_id) if session_id else None)


def _trained_pairs(ran: set[Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The registered pairs whose training nodes the run executes: all, or only some.

    Returns:
        The pairs trained whole, by registry name; and those trained in part, with the
        names of their training nodes the run leaves out.
    """
    from kedro.framework.project import pipelines

    from kedro_ml_lint.reading.pairs import is_pipeline_ml

    complete: dict[str, Any] = {}
    partial: dict[str, list[str]] = {}
    seen: set[int] = set()
    # `__default__` last: a pair registered under its own name too is reported by that name.
    for name in sorted(pipelines, key=lambda n: (n == DEFAULT_PIPELINE, n)):
        candidate = pipelines[name]
        if not is_pipeline_ml(candidate) or id(candidate) in seen:
            continue
        seen.add(id(candidate))
        training = set(candidate.nodes)
        if training <= ran:
            complete[str(name)] = candidate
        elif training & ran:
            partial[str(name)] = sorted(node.name for node in training - ran)
    return complete, partial
