"""The command line: the only place that prints or exits."""

from __future__ import annotations

import os
import signal
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from functools import partial, wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from kedro_ml_lint._version import __version__
from kedro_ml_lint.errors import (
    EXIT_CLEAN,
    EXIT_ERROR,
    EXIT_VIOLATIONS,
    Interrupted,
    KedroMlLintError,
)
from kedro_ml_lint.quiet import quiet_kedro_as_check_does
from kedro_ml_lint.report import FORMAT_NAMES, STATISTICS_FORMAT_NAMES
from kedro_ml_lint.report.console import COLOR_CHOICES, FORMAT_VARIABLE

if TYPE_CHECKING:
    from kedro_ml_lint.api import LintResult
    from kedro_ml_lint.checking import CheckRequest
    from kedro_ml_lint.progress import Progress
    from kedro_ml_lint.publishing.transaction import PublishedModel
    from kedro_ml_lint.settings import CommandLineCodes, ConfigFile, Resolved

GRAPH_FORMAT_NAMES = ("mermaid", "dot", "json")
# publishing.verify_env.ENV_MANAGERS, the default first (tests/publishing/test_verify_env.py
# keeps them equal): importing it would put subprocess and tempfile on every start-up.
VERIFY_ENV_MANAGERS = ("uv", "virtualenv")
T = TypeVar("T")


def _fail(message: str, verbose: bool, code: int = EXIT_ERROR) -> NoReturn:
    from kedro_ml_lint.model.redact import redact_text

    if verbose:  # the traceback quotes messages and arguments: redacted like the line
        click.echo(redact_text(traceback.format_exc()).rstrip("\n"), err=True)

    # One line, always: messages relayed from libraries (MLflow's) may span several; and
    # they may quote a URL or connection string from the project's configuration.
    click.echo(f"kedro-ml-lint: error: {redact_text(' '.join(message.split()))}", err=True)
    sys.exit(code)


def _call(action: Callable[[], T], verbose: bool) -> T:
    """Run ``action``; anything that stops it is one line on stderr and exit code 2.

    SIGINT and SIGTERM are one line too, and exit 130 and 143 (docs/design.md §5).
    """
    try:
        with _signals_interrupt():
            return action()
    except Interrupted as exc:
        name = signal.Signals(exc.signum).name
        _fail(
            f"interrupted by {name}" + (f"; {exc.note}" if exc.note else ""), verbose, exc.exit_code
        )
    except KeyboardInterrupt:
        _fail("interrupted by SIGINT", verbose, Interrupted(signal.SIGINT).exit_code)
    except KedroMlLintError as exc:
        _fail(str(exc), verbose)
    except Exception as exc:  # a bug or an unforeseen project: still one line
        _fail(f"unexpected {type(exc).__name__}: {exc} (run with -v for the traceback)", verbose)


@contextmanager
def _signals_interrupt() -> Iterator[None]:
    """SIGINT and SIGTERM raise ``Interrupted``, which unwinds (and rolls back ``--log``)."""

    def interrupt(signum: int, frame: object) -> None:
        raise Interrupted(signum)

    previous = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    for number, handler in previous.items():
        if handler is not signal.SIG_IGN:
            signal.signal(number, interrupt)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)


def _warn(message: str) -> None:
    click.echo(f"kedro-ml-lint: warning: {message}", err=True)


def _emit(text: str, output: Path | None, verbose: bool, color: bool = False) -> None:
    if output is None:
        click.echo(text, nl=False, color=color)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail(f"{output}: cannot write the report: {exc.strerror or exc}", verbose)


def _project_dir(ctx: click.Context, project_dir: Path | None) -> Path:
    """PROJECT_DIR, else the project ``kedro`` found (plugin), else the current folder."""
    if project_dir is not None:
        return project_dir
    metadata = ctx.find_root().obj
    found = getattr(metadata, "project_path", None)
    return Path(found) if found else Path(".")


@dataclass(frozen=True)
class ProjectArgs:
    """The command-line options that say which project and which pairs (check, graph)."""

    project_dir: Path | None
    env: str | None
    conf_source: str | None
    training: str | None
    inference: str | None
    input_name: str | None
    pipelines: tuple[str, ...]
    no_lite: bool
    no_defer: bool
    no_cache: bool
    exact: bool
    verbose: bool


def _project_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the project options; the command receives them as one ``project`` argument."""
    options = [
        click.argument(
            "project_dir", required=False, type=click.Path(file_okay=False, path_type=Path)
        ),
        click.option(
            "--env",
            "-e",
            help="Configuration environment layered over `base` [default: KEDRO_ENV, else local].",
        ),
        click.option("--conf-source", help="Configuration folder to read instead of `conf/`."),
        click.option("--training", help="Registered name of the training pipeline of a pair."),
        click.option("--inference", help="Registered name of the inference pipeline of a pair."),
        click.option("--input-name", help="The dataset the explicit pair serves."),
        click.option("--pipeline", "pipelines", multiple=True, help="Only this pair (repeatable)."),
        click.option(
            "--no-lite", is_flag=True, help="No stand-ins: a missing library is an import error."
        ),
        click.option(
            "--no-defer",
            is_flag=True,
            help="Import the project's heavy libraries at the `import`, not on first use.",
        ),
        click.option(
            "--no-cache",
            is_flag=True,
            help="Load the project even if nothing it read has changed "
            "[also: KEDRO_ML_LINT_NO_CACHE=1].",
        ),
        click.option(
            "--exact",
            is_flag=True,
            help="Take no shortcut: no cache, no stand-ins, no deferred import, the catalog "
            "read by the config loader (the reference verdict).",
        ),
        click.option("--verbose", "-v", is_flag=True, help="Show tracebacks and Kedro's logs."),
    ]
    names = [field.name for field in fields(ProjectArgs)]

    @wraps(command)
    def with_project(*args: Any, **kwargs: Any) -> Any:
        project = ProjectArgs(**{name: kwargs.pop(name) for name in names})
        return command(*args, project=project, **kwargs)

    wrapped: Callable[..., Any] = with_project
    for option in reversed(options):
        wrapped = option(wrapped)
    return wrapped


def _linter(
    ctx: click.Context,
    project: ProjectArgs,
    *,
    lite: bool,
    defer: bool,
    artifacts_on_disk: bool = False,
    publishing: bool = False,
    cache: bool = False,
    command_line: CommandLineCodes | None = None,
    config: ConfigFile | None = None,
) -> Callable[[], LintResult]:
    """``lint_project`` bound to the command line's options (called again after --fix)."""
    from kedro_ml_lint.api import lint_project
    from kedro_ml_lint.reading.options import CliPair

    explicit = (project.training, project.inference, project.input_name)
    if any(explicit) and not all(explicit):
        raise click.UsageError("--training, --inference and --input-name go together")
    cli_pair = CliPair(*explicit) if all(explicit) else None  # type: ignore[arg-type]
    return partial(
        lint_project,
        _project_dir(ctx, project.project_dir),
        env=project.env,
        conf_source=project.conf_source,
        cli_pair=cli_pair,
        pipelines=project.pipelines,
        lite=lite,
        defer=defer,
        artifacts_on_disk=artifacts_on_disk,
        publishing=publishing,
        cache=cache,
        exact=project.exact,
        command_line=command_line,
        config=config,
    )


def _cache_wanted(no_cache: bool) -> bool:
    """The cache serves read-only runs unless ``--no-cache`` or the variable turn it off."""
    from kedro_ml_lint.cache.store import disabled_by_environment

    return not no_cache and not disabled_by_environment()


class _Main(click.Group):
    """The command-line group; a real command-line run skips interpreter teardown."""

    def main(self, args: Any = None, *rest: Any, **options: Any) -> Any:
        standalone = options.pop("standalone_mode", True)
        try:
            try:
                returned = super().main(  # type: ignore[call-overload]
                    args, *rest, standalone_mode=False, **options
                )
            except click.UsageError as exc:
                if not standalone:
                    raise
                _usage_error(exc)
            except click.ClickException as exc:
                if not standalone:
                    raise
                exc.show()
                sys.exit(exc.exit_code)
            except click.Abort:
                if not standalone:
                    raise
                click.echo("Aborted!", err=True)
                sys.exit(1)
            if not standalone:
                return returned
            sys.exit(returned if isinstance(returned, int) else EXIT_CLEAN)
        except SystemExit as exc:
            # Only the process's own command line (the console script, ``python -m``), never
            # an in-process caller (click's CliRunner passes ``args``).
            if args is None and options.get("standalone_mode", True):
                _exit_now(exc.code)
            raise


def _usage_error(exc: click.UsageError) -> NoReturn:
    """A usage error is one line too, as every error of the command line (exit 2).

    Click's own form (a usage line, a hint, an error) spans four; the line names the
    command's ``--help`` instead.
    """
    command = exc.ctx.command_path if exc.ctx is not None else "kedro-ml-lint"
    message = " ".join(exc.format_message().split())
    click.echo(f"kedro-ml-lint: error: {message} (see `{command} --help`)", err=True)
    sys.exit(exc.exit_code)


def _exit_now(code: Any) -> None:
    """End the process once the report is out, without tearing the interpreter down.

    Tearing down the modules a project import loaded (pandas, scikit-learn…) costs ~0.3 s,
    ~1 s once ``--log`` imported MLflow and SQLAlchemy. ``atexit`` handlers still run
    (``logging.shutdown`` closes every log file, MLflow ends its runs and removes its temporary
    folders) and both streams are flushed first; with another thread alive (the project's,
    MLflow's) the normal exit runs instead.
    """
    import threading

    if threading.active_count() > 1:
        return
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # sys.exit("message"): Python prints it and exits 1
        print(code, file=sys.stderr)
        status = 1
    import atexit

    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: what Python's own exit would meet too
        return
    os._exit(status)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="kedro-ml-lint")
def main() -> None:
    """Check Kedro training/inference pipeline pairs before they are logged to MLflow."""


@main.command()
@_project_options
@click.option(
    "--select",
    help="Comma-separated rule codes or prefixes to run; replaces the configured selection.",
)
@click.option("--extend-select", help="Comma-separated rule codes or prefixes to run as well.")
@click.option(
    "--ignore",
    help="Comma-separated rule codes or prefixes to skip, on top of the configured ignores.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read the settings from this TOML file instead of [tool.kedro-ml-lint].",
)
@click.option(
    "--isolated", is_flag=True, help="Ignore all configuration files (pairs stay the project's)."
)
@click.option(
    "--output-format",
    "--format",
    "output_format",
    type=click.Choice(FORMAT_NAMES),
    envvar=FORMAT_VARIABLE,
    show_envvar=True,
    help="Output format [default: text, or github when GITHUB_ACTIONS=true].",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report (or the diff) to this file instead of stdout.",
)
@click.option(
    "--color",
    "color_choice",
    type=click.Choice(COLOR_CHOICES),
    help="Colour the text report [default: auto: on a terminal, unless NO_COLOR; "
    "FORCE_COLOR forces it].",
)
@click.option("--fix", is_flag=True, help="Apply the safe fixes to the fix-catalog file.")
@click.option("--diff", is_flag=True, help="Print the safe fixes as a unified diff; write nothing.")
@click.option(
    "--exit-non-zero-on-fix",
    is_flag=True,
    help="With --fix, exit 1 when something was fixed, even if nothing remains.",
)
@click.option(
    "--add-noqa", is_flag=True, help="Write `# noqa: KMLxxx` on every line with a violation."
)
@click.option("--statistics", is_flag=True, help="Count the violations per rule instead.")
@click.option("--show-unused-noqa", is_flag=True, help="Warn about `# noqa` that silence nothing.")
@click.option(
    "--show-settings",
    is_flag=True,
    help="Print the resolved settings and where each value came from; check nothing.",
)
@click.option(
    "--watch", "-w", is_flag=True, help="Check again whenever conf/, src/ or pyproject.toml change."
)
@click.option(
    "--log",
    "log_model",
    is_flag=True,
    help="When no violation remains, log each pair to MLflow as a servable model "
    "(needs kedro-ml-lint[mlflow]).",
)
@click.option(
    "--tracking-uri", help="MLflow tracking URI for --log [default: $MLFLOW_TRACKING_URI]."
)
@click.option("--experiment", help="MLflow experiment for --log (created when missing).")
@click.option("--registered-model-name", help="With --log, also register the model (one pair).")
@click.option(
    "--alias",
    help="With --registered-model-name, point this registry alias at the new version "
    "(rolled back with the rest on failure).",
)
@click.option(
    "--gate",
    is_flag=True,
    help="With --alias, compare the new version with the alias's holder first; a breaking "
    "signature change is refused (exit 1, a table of differences) and nothing is kept.",
)
@click.option(
    "--verify-env",
    is_flag=True,
    help="With --log, before a model is kept, predict its input example in a new environment "
    "built from its requirements alone (mlflow.models.predict).",
)
@click.option(
    "--verify-env-manager",
    type=click.Choice(VERIFY_ENV_MANAGERS),
    help=f"The environment manager --verify-env builds with [default: {VERIFY_ENV_MANAGERS[0]}].",
)
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when violations remain.")
@click.option("--strict", is_flag=True, help="Warnings fail the check (and block --log) too.")
@click.option("--quiet", "-q", is_flag=True, help="Print violations only, no summary or notes.")
@click.pass_context
def check(ctx: click.Context, project: ProjectArgs, **flags: Any) -> None:
    """Check the training/inference pairs of the Kedro project in PROJECT_DIR."""
    args = CheckArgs(**flags)
    _refuse_conflicts(args)
    verbose = project.verbose
    codes = _call(lambda: _codes(args), verbose)
    config = _call(lambda: _config_file(args), verbose)
    if args.show_settings:
        _show_settings(ctx, project, args, codes, config)
        sys.exit(EXIT_CLEAN)
    writes = args.fix or args.diff or args.add_noqa
    if writes and project.conf_source:
        flag = "--fix" if args.fix else "--diff" if args.diff else "--add-noqa"
        _call(lambda: _refuse_fixing_an_archive(project.conf_source, flag), verbose)
    if args.log_model:
        from kedro_ml_lint.publishing import require_mlflow

        _call(lambda: require_mlflow("`check --log`"), verbose)
        if args.registered_model_name is not None:  # refused before the project is even loaded
            from kedro_ml_lint.publishing import refuse_bad_model_name

            name = args.registered_model_name
            _call(lambda: refuse_bad_model_name(name, what="--registered-model-name"), verbose)
        if args.alias is not None:
            from kedro_ml_lint.publishing import refuse_bad_alias

            alias = args.alias
            _call(lambda: refuse_bad_alias(alias, what="--alias"), verbose)
    lint = _linter(
        ctx,
        project,
        lite=not (project.no_lite or args.log_model),  # a mocked module cannot be served
        defer=not (project.no_defer or args.log_model or writes),  # what they write is real
        artifacts_on_disk=args.log_model,
        publishing=args.log_model,  # --log is the logger: KML201's question does not arise
        # Only runs that only read use the cache: --fix, --diff and --log load for real.
        cache=_cache_wanted(project.no_cache) and not (writes or args.log_model),
        command_line=codes,
        config=config,
    )
    _quiet_kedro(verbose)
    if args.add_noqa:
        sys.exit(_add_noqa(lint, verbose))
    if args.watch:
        from kedro_ml_lint.watch import watch_project

        root = _call(lambda: _project_root(ctx, project), verbose)
        watch_project(
            _watched(root, project, args),
            lambda: _keep_going(ctx, project, args, lint),
            lambda line: click.echo(f"kedro-ml-lint: {line}", err=True),
        )
        sys.exit(EXIT_CLEAN)
    sys.exit(_check_once(ctx, project, args, lint))


@dataclass(frozen=True)
class CheckArgs:
    """The options of ``check`` past the project's."""

    select: str | None
    extend_select: str | None
    ignore: str | None
    config_path: Path | None
    isolated: bool
    output_format: str | None
    output: Path | None
    color_choice: str | None
    fix: bool
    diff: bool
    exit_non_zero_on_fix: bool
    add_noqa: bool
    statistics: bool
    show_unused_noqa: bool
    show_settings: bool
    watch: bool
    log_model: bool
    tracking_uri: str | None
    experiment: str | None
    registered_model_name: str | None
    alias: str | None
    gate: bool
    verify_env: bool
    verify_env_manager: str | None
    exit_zero: bool
    strict: bool
    quiet: bool


def _refuse_conflicts(args: CheckArgs) -> None:
    """Options that cannot go together are a usage error (exit 2, one line)."""
    if args.config_path is not None and args.isolated:
        raise click.UsageError("--config and --isolated cannot be used together")
    if args.statistics and (args.output_format or "text") not in STATISTICS_FORMAT_NAMES:
        raise click.UsageError("--statistics prints text or json")
    alone = {"--add-noqa": args.add_noqa, "--show-settings": args.show_settings}
    others = {"--fix": args.fix, "--diff": args.diff, "--log": args.log_model}
    others["--watch"] = args.watch
    for name, given in alone.items():
        clashing = [other for other, on in {**alone, **others}.items() if on and other != name]
        if given and clashing:
            raise click.UsageError(f"{name} cannot be used with {clashing[0]}")
    if args.watch and args.log_model:
        raise click.UsageError("--watch cannot be used with --log")
    if args.gate and args.alias is None:
        raise click.UsageError("--gate needs --alias (the gate compares with its holder)")
    if args.alias is not None and not args.log_model:
        raise click.UsageError("--alias needs --log")
    if args.alias is not None and args.registered_model_name is None:
        raise click.UsageError("--alias needs --registered-model-name (it names a version)")
    if args.verify_env and not args.log_model:
        raise click.UsageError("--verify-env needs --log")
    if args.verify_env_manager is not None and not args.verify_env:
        raise click.UsageError("--verify-env-manager needs --verify-env")


def _codes(args: CheckArgs) -> CommandLineCodes:
    from kedro_ml_lint.settings import CommandLineCodes, parse_codes

    select = parse_codes(args.select)
    return CommandLineCodes(
        select=tuple(select) if select is not None else None,
        extend_select=tuple(parse_codes(args.extend_select) or ()),
        ignore=tuple(parse_codes(args.ignore) or ()),
    )


def _config_file(args: CheckArgs) -> ConfigFile | None:
    """The settings table ``--config`` or ``--isolated`` put in place of the project's."""
    from kedro_ml_lint.settings import ConfigFile

    if args.isolated:
        return ConfigFile({}, "isolated (--isolated)")
    if args.config_path is None:
        return None
    from kedro_ml_lint.reading.pyproject import read_settings_file

    path = args.config_path
    return ConfigFile(read_settings_file(path), f"{path} (--config)", str(path))


def _project_root(ctx: click.Context, project: ProjectArgs) -> Path:
    """The root of the project PROJECT_DIR names (exit 2 when there is none)."""
    from kedro_ml_lint.errors import NotAKedroProjectError
    from kedro_ml_lint.reading.pyproject import find_project_root

    start = _project_dir(ctx, project.project_dir).expanduser().resolve()
    root = find_project_root(start) if start.is_dir() else None
    if root is None:
        raise NotAKedroProjectError(
            f"`{project.project_dir or '.'}` is not in a Kedro project: no `pyproject.toml` "
            "with a `[tool.kedro]` table here or above"
        )
    return root


def _show_settings(
    ctx: click.Context,
    project: ProjectArgs,
    args: CheckArgs,
    codes: CommandLineCodes,
    config: ConfigFile | None,
) -> None:
    """``--show-settings``: the resolved settings and their sources; nothing is loaded."""
    from kedro_ml_lint.reading.pyproject import lint_table, read_pyproject
    from kedro_ml_lint.report import console
    from kedro_ml_lint.report.show_settings import render
    from kedro_ml_lint.settings import PYPROJECT_LABEL, ConfigFile, describe

    verbose = project.verbose
    root = _call(lambda: _project_root(ctx, project), verbose)
    if config is None:
        table = _call(lambda: lint_table(read_pyproject(root)), verbose)
        config = ConfigFile({k: v for k, v in table.items() if k != "pairs"}, PYPROJECT_LABEL)
    _, rows = _call(lambda: describe(config, codes), verbose)
    source = ctx.get_parameter_source("output_format")
    rows += [
        console.output_format(
            args.output_format,
            source is click.core.ParameterSource.ENVIRONMENT,
            os.environ,
        ),
        console.color(args.color_choice, os.environ, _is_terminal(args.output)),
        _cache_setting(project.no_cache),
    ]
    _emit(render(root, rows), args.output, verbose)


def _cache_setting(no_cache: bool) -> Resolved:
    """Whether the snapshot cache serves this run, and what turned it off."""
    from kedro_ml_lint.settings import Resolved

    if no_cache:
        return Resolved("cache", False, "command line (--no-cache)")
    if not _cache_wanted(False):
        return Resolved("cache", False, "environment (KEDRO_ML_LINT_NO_CACHE)")
    return Resolved("cache", True, "default")


def _is_terminal(output: Path | None) -> bool:
    return output is None and sys.stdout.isatty()


def _request(ctx: click.Context, args: CheckArgs) -> CheckRequest:
    """What ``check`` was asked to do once the project is loaded."""
    from kedro_ml_lint.checking import CheckRequest
    from kedro_ml_lint.report import RenderOptions, console

    source = ctx.get_parameter_source("output_format")
    output_format = console.output_format(
        args.output_format, source is click.core.ParameterSource.ENVIRONMENT, os.environ
    ).value
    colour = console.color(args.color_choice, os.environ, _is_terminal(args.output)).value
    workspace = os.environ.get("GITHUB_WORKSPACE")
    return CheckRequest(
        output_format=output_format,
        statistics=args.statistics,
        fix=args.fix,
        diff=args.diff,
        strict=args.strict,
        exit_zero=args.exit_zero,
        exit_non_zero_on_fix=args.exit_non_zero_on_fix,
        show_unused_noqa=args.show_unused_noqa,
        render=RenderOptions(
            color=colour == "always",
            quiet=args.quiet,
            workspace=Path(workspace) if workspace else None,
        ),
    )


def _check_once(
    ctx: click.Context, project: ProjectArgs, args: CheckArgs, lint: Callable[[], LintResult]
) -> int:
    """Run the check, print the report and the notes; return the exit code."""
    from kedro_ml_lint.checking import run_check

    verbose = project.verbose
    request = _request(ctx, args)
    if request.statistics and request.output_format not in STATISTICS_FORMAT_NAMES:
        raise click.UsageError("--statistics prints text or json")
    progress = _progress(args.log_model, verbose)
    with progress.step("loading and checking the project (its code imported for real)"):
        outcome = _call(lambda: run_check(lint, request), verbose)
    if verbose:
        _warn(_project_line(outcome.result))
        for pair in outcome.result.pairs:  # what KML205 judged `log_model_kwargs` against
            if pair.mlflow is not None:
                assumed = pair.mlflow.text or "unknown"
                _warn(f"MLflow for `{pair.name}`: {assumed} ({pair.mlflow.reason})")
        _explain_deferral(outcome.result)
        _explain_cache(outcome.result)
    if outcome.result.cache_warning:  # the user's to fix: said without -v too
        _warn(outcome.result.cache_warning)
    for note in outcome.notes:
        _warn(note)
    _emit(outcome.report, args.output, verbose, color=request.render.color)
    for line in outcome.after:
        click.echo(line, err=True)
    if args.log_model and outcome.may_log:  # never after --diff: it may not log
        _log(
            outcome.result,
            project,
            args.tracking_uri,
            args.experiment,
            args.registered_model_name,
            (args.verify_env_manager or VERIFY_ENV_MANAGERS[0]) if args.verify_env else None,
            to_stderr=request.output_format != "text" or args.output is not None,
            progress=progress,
            alias=args.alias,
            gate=args.gate,
        )
    return outcome.exit_code


def _keep_going(
    ctx: click.Context, project: ProjectArgs, args: CheckArgs, lint: Callable[[], LintResult]
) -> None:
    """One run of ``--watch``: a run that cannot finish says why and waits for the next change."""
    try:
        _check_once(ctx, project, args, lint)
    except SystemExit as exc:
        if exc.code not in (None, EXIT_CLEAN, EXIT_VIOLATIONS, EXIT_ERROR):
            raise  # interrupted: 130 or 143


def _watched(root: Path, project: ProjectArgs, args: CheckArgs) -> list[Path]:
    """What the verdict depends on: the configuration, the code, pyproject.toml."""
    from kedro_ml_lint.vocabulary import PYPROJECT

    conf = Path(project.conf_source).expanduser() if project.conf_source else root / "conf"
    paths = [conf, root / "src", root / PYPROJECT]
    if args.config_path is not None:
        paths.append(args.config_path)
    return [path.resolve() for path in paths if path.exists()]


def _add_noqa(lint: Callable[[], LintResult], verbose: bool) -> int:
    """``--add-noqa``: silence every reported violation where it is reported."""
    from kedro_ml_lint.fix.noqa import add_noqa

    outcome = _call(lambda: add_noqa(lint), verbose)
    for note in outcome.notes:
        _warn(note)
    count = outcome.added
    click.echo(f"Added {count} noqa directive{'' if count == 1 else 's'}.", err=True)
    return EXIT_CLEAN


def _refuse_fixing_an_archive(conf_source: str | None, flag: str) -> None:
    """``--fix``/``--diff`` edit configuration files: an archive is not one, refuse it."""
    from kedro_ml_lint.errors import KedroMlLintError
    from kedro_ml_lint.reading.conf_archive import archive_protocol

    if conf_source and archive_protocol(conf_source) is not None:
        raise KedroMlLintError(
            f"{flag} cannot edit the configuration archive `{conf_source}`: fix the "
            "configuration folder it was packaged from (or check that folder with "
            "--conf-source) and package it again; nothing was written"
        )


def _log(
    result: LintResult,
    project: ProjectArgs,
    tracking_uri: str | None,
    experiment: str | None,
    registered_model_name: str | None,
    verify_env: str | None,
    to_stderr: bool,
    progress: Progress,
    alias: str | None = None,
    gate: bool = False,
) -> None:
    """``--log``: publish each pair, then one block saying where the models went.

    A refused gate prints its table where the summary would go and exits 1 (2 when the
    roll-back failed too: the table, then the error naming what is left).
    """
    from kedro_ml_lint.publishing import GateRefused, PublishError, log_models
    from kedro_ml_lint.publishing.summary import summary_lines

    def show_table(refused: GateRefused) -> None:
        for line in refused.report.lines():
            click.echo(line, err=to_stderr)

    def publish() -> list[PublishedModel] | GateRefused:
        try:
            return log_models(
                result,
                env=project.env,
                conf_source=project.conf_source,
                tracking_uri=tracking_uri,
                experiment=experiment,
                registered_model_name=registered_model_name,
                progress=progress,
                alias=alias,
                gate=gate,
                verify_env=verify_env,
            )
        except GateRefused as refused:  # rolled back: the registry is as it was
            return refused
        except PublishError as error:
            if isinstance(error.__cause__, GateRefused):  # refused, and the roll-back failed:
                show_table(error.__cause__)  # why, before what is left
            raise

    models = _call(publish, project.verbose)
    if isinstance(models, GateRefused):
        show_table(models)
        _fail(models.rolled_back, False, EXIT_VIOLATIONS)
    for line in summary_lines(models):
        click.echo(line, err=to_stderr)


def _progress(log_model: bool, verbose: bool) -> Progress:
    """Progress of ``--log``'s long steps on stderr: in a terminal, or with ``-v``."""
    from kedro_ml_lint.progress import NO_PROGRESS, Progress

    return Progress.for_stderr(verbose) if log_model else NO_PROGRESS


@main.command()
@_project_options
@click.option(
    "--format",
    "graph_format",
    type=click.Choice(GRAPH_FORMAT_NAMES),
    default="mermaid",
    show_default=True,
    help="Picture format.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the picture to this file instead of stdout.",
)
@click.pass_context
def graph(
    ctx: click.Context,
    project: ProjectArgs,
    graph_format: str,
    output: Path | None,
) -> None:
    """Draw each pair of PROJECT_DIR, its violating datasets highlighted with their codes."""
    from kedro_ml_lint.report.graph import GRAPH_FORMATS, pictures

    verbose = project.verbose
    lint = _linter(
        ctx,
        project,
        lite=not project.no_lite,
        defer=not project.no_defer,
        cache=_cache_wanted(project.no_cache),  # a picture reads only, like check
    )
    _quiet_kedro(verbose)
    result = _call(lint, verbose)
    if verbose:
        _explain_deferral(result)
        _explain_cache(result)
    if result.cache_warning:  # the user's to fix: said without -v too
        _warn(result.cache_warning)
    for note in result.warnings:
        _warn(note)
    _emit(GRAPH_FORMATS[graph_format](pictures(result.facts, result.violations)), output, verbose)
    sys.exit(EXIT_CLEAN)


def _explain_cache(result: LintResult) -> None:
    """``-v``: why the cache was not used, or which input made it miss (one line)."""
    if result.cache_problem:
        _warn(f"cache not used: {result.cache_problem}")
    elif result.cache_stale:
        _warn(f"cache miss: {result.cache_stale} changed since it was stored")


def _explain_deferral(result: LintResult) -> None:
    """``-v``: why a deferred load was imported again for real, in one line.

    And which libraries were imported for real to learn that their import succeeds here
    (deferred from the next run on).
    """
    from kedro_ml_lint.model.redact import redact_text

    retried = getattr(result.loaded, "deferral", None)
    if retried:  # it quotes a warning or an error of the project: no secret in the output
        _warn(redact_text(" ".join(retried.split())))
    recorded = getattr(result.loaded, "import_recorded", ())
    if recorded:
        _warn(
            f"deferred import: {', '.join(recorded)} imported for real, no valid import "
            "record yet (recorded: deferred from the next run on)"
        )


def _project_line(result: Any) -> str:
    """``-v``: which project, made with which Kedro, read how."""
    from kedro import __version__ as kedro_version

    loader = result.loader_class or "unknown"
    cached = " (from the cache)" if result.cache == "hit" else ""
    return (
        f"project {result.project}: made with Kedro {result.kedro_version}, read with "
        f"Kedro {kedro_version} ({loader}){cached}"
    )


def _quiet_kedro(verbose: bool) -> None:
    """Kedro logs to stdout while a project loads; only ``-v`` lets it.

    Kedro reads ``KEDRO_LOGGING_CONFIG`` when ``kedro.framework.project`` is first
    imported, so this runs before any kedro import.
    """
    if not verbose:
        quiet_kedro_as_check_does()


@main.command(name="export")
@click.argument("model_uri")
@click.argument("directory", metavar="DIR", type=click.Path(path_type=Path))
@click.option(
    "--target",
    required=True,
    type=click.Choice(["mlserver", "kserve"]),
    help="mlserver: model-settings.json and settings.json; kserve: an InferenceService.",
)
@click.option("--name", help="The model's name (default: the registered or logged model's).")
@click.option(
    "--storage-uri", help="kserve: where DIR/<name>/ is uploaded (default: a placeholder)."
)
@click.option("--tracking-uri", help="MLflow tracking URI (default: MLFLOW_TRACKING_URI).")
@click.option("--verbose", "-v", is_flag=True, help="Show the traceback of an error.")
def export(
    model_uri: str,
    directory: Path,
    target: str,
    name: str | None,
    storage_uri: str | None,
    tracking_uri: str | None,
    verbose: bool,
) -> None:
    """Write what MLServer or KServe needs to serve the logged model MODEL_URI into DIR."""
    from kedro_ml_lint.publishing import export_model

    exported = _call(
        lambda: export_model(
            model_uri,
            directory,
            target,
            name=name,
            storage_uri=storage_uri,
            tracking_uri=tracking_uri,
        ),
        verbose,
    )
    from kedro_ml_lint.model.redact import redact_text

    click.echo(f"Exported {redact_text(model_uri)} for {target} to {directory}/{exported.name}/")
    for file in exported.files:
        click.echo(f"  wrote {directory / file}")
    if target == "mlserver":
        click.echo(f"  serve it: mlserver start {directory}")
    elif exported.placeholder:
        click.echo(
            f"  upload {directory / exported.name}/ and replace the storageUri placeholder "
            f"in {directory / exported.files[0]} (or export again with --storage-uri)",
        )


@main.command(name="server")
def server() -> None:
    """Run the language server on stdio (for editors: docs/editors.md)."""
    try:
        from kedro_ml_lint.server.lsp import serve
    except ImportError as exc:  # pygls/lsprotocol are core dependencies: a broken install
        _fail(
            f"the language server needs pygls and lsprotocol: {exc}; reinstall kedro-ml-lint", False
        )
    serve()


@main.command(name="clean")
@click.argument("project_dir", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def clean(ctx: click.Context, project_dir: Path | None) -> None:
    """Remove the cache folder (.kedro-ml-lint-cache) of the project in PROJECT_DIR."""
    from kedro_ml_lint.cache.store import clean as remove_cache
    from kedro_ml_lint.reading.pyproject import find_project_root
    from kedro_ml_lint.vocabulary import CACHE_DIR

    start = _project_dir(ctx, project_dir).expanduser().resolve()
    root = find_project_root(start) if start.is_dir() else None
    if root is None:
        _fail(f"`{project_dir or '.'}` is not in a Kedro project", False)
    try:
        removed = remove_cache(root / CACHE_DIR)
    except OSError as exc:
        _fail(f"{root / CACHE_DIR}: cannot remove it: {exc.strerror or exc}", False)
    click.echo(f"Removed {root / CACHE_DIR}" if removed else f"No cache in {root}", err=True)


@main.command(name="rules")
def rules_table() -> None:
    """List every rule: code, name and whether it has a fix."""
    from kedro_ml_lint.rules import RULES

    width = max(len(rule.name) for rule in RULES)
    for rule in RULES:
        fix = rule.fix.value if rule.fix else "-"
        click.echo(f"{rule.code}  {rule.name:<{width}}  fix: {fix:<6}  {rule.summary}")


@main.command(name="rule")
@click.argument("code")
def rule_doc(code: str) -> None:
    """Show the documentation of rule CODE (e.g. KML001)."""
    from kedro_ml_lint.model.names import did_you_mean
    from kedro_ml_lint.rules import RULES_BY_CODE

    code = code.upper()
    if code not in RULES_BY_CODE:
        click.echo(
            f"kedro-ml-lint: error: unknown rule `{code}`{did_you_mean(code, RULES_BY_CODE)}",
            err=True,
        )
        sys.exit(EXIT_ERROR)
    from kedro_ml_lint.report.ruledocs import shipped_doc

    click.echo(shipped_doc(RULES_BY_CODE[code]), nl=False)


@click.group(name="kedro-ml-lint")
def kedro_commands() -> None:
    """Kedro project commands (entry point ``kedro.project_commands``)."""


@kedro_commands.group(name="ml-lint")
def ml_lint() -> None:
    """Check this project's training/inference pairs (kedro-ml-lint).

    PROJECT_DIR defaults to the Kedro project the ``kedro`` command runs in.
    """


ml_lint.add_command(check)
ml_lint.add_command(graph)
ml_lint.add_command(clean)
ml_lint.add_command(rules_table)
ml_lint.add_command(rule_doc)
