"""The command line: the only place that prints or exits."""

from __future__ import annotations

import logging
import os
import sys
import traceback
from importlib import resources
from pathlib import Path

import click

from kedro_ml_lint import __version__
from kedro_ml_lint.errors import KedroMlLintError

EXIT_CLEAN, EXIT_VIOLATIONS, EXIT_ERROR = 0, 1, 2
FORMAT_NAMES = ("text", "json")


def _fail(message: str, verbose: bool) -> None:
    if verbose:
        traceback.print_exc()
    click.echo(f"kedro-ml-lint: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


def _use_color(output: Path | None) -> bool:
    return output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="kedro-ml-lint")
def main() -> None:
    """Check Kedro training/inference pipeline pairs before they are logged to MLflow."""


@main.command()
@click.argument("project_dir", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--env", "-e", help="Configuration environment layered over `base`.")
@click.option("--conf-source", help="Configuration folder to read instead of `conf/`.")
@click.option("--training", help="Registered name of the training pipeline of an explicit pair.")
@click.option("--inference", help="Registered name of the inference pipeline of an explicit pair.")
@click.option("--input-name", help="The dataset the explicit pair serves.")
@click.option("--pipeline", "pipelines", multiple=True, help="Check only this pair (repeatable).")
@click.option("--select", help="Comma-separated rule codes or prefixes to run.")
@click.option("--ignore", help="Comma-separated rule codes or prefixes to skip.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMAT_NAMES),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to this file instead of stdout.",
)
@click.option("--no-lite", is_flag=True, help="Import the project's modules for real.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when violations remain.")
@click.option("--quiet", "-q", is_flag=True, help="Print violations only, no summary or notes.")
@click.option("--verbose", "-v", is_flag=True, help="Show tracebacks and Kedro's own logs.")
def check(
    project_dir: Path,
    env: str | None,
    conf_source: str | None,
    training: str | None,
    inference: str | None,
    input_name: str | None,
    pipelines: tuple[str, ...],
    select: str | None,
    ignore: str | None,
    output_format: str,
    output: Path | None,
    no_lite: bool,
    exit_zero: bool,
    quiet: bool,
    verbose: bool,
) -> None:
    """Check the training/inference pairs of the Kedro project in PROJECT_DIR."""
    from kedro_ml_lint.api import lint_project
    from kedro_ml_lint.loader.pairs import CliPair
    from kedro_ml_lint.report import FORMATS
    from kedro_ml_lint.settings import parse_codes

    explicit = (training, inference, input_name)
    if any(explicit) and not all(explicit):
        raise click.UsageError("--training, --inference and --input-name go together")
    cli_pair = CliPair(training, inference, input_name) if all(explicit) else None  # type: ignore[arg-type]
    _quiet_kedro(verbose)
    try:
        result = lint_project(
            project_dir,
            env=env,
            conf_source=conf_source,
            select=parse_codes(select),
            ignore=parse_codes(ignore),
            cli_pair=cli_pair,
            pipelines=pipelines,
            lite=not no_lite,
        )
    except KedroMlLintError as exc:
        _fail(str(exc), verbose)
        return
    except Exception as exc:  # a bug or an unforeseen project: still one line
        _fail(f"unexpected {type(exc).__name__}: {exc} (run with -v for the traceback)", verbose)
        return
    if not quiet:
        for note in result.warnings:
            click.echo(f"kedro-ml-lint: warning: {note}", err=True)
    report = FORMATS[output_format](result, color=_use_color(output))
    if quiet and output_format == "text":
        report = "".join(report.splitlines(keepends=True)[:-1])
    if output is not None:
        output.write_text(report, encoding="utf-8")
    else:
        click.echo(report, nl=False, color=_use_color(None))
    sys.exit(EXIT_CLEAN if exit_zero or not result.violations else EXIT_VIOLATIONS)


def _quiet_kedro(verbose: bool) -> None:
    """Kedro logs to stdout while a project loads; only ``-v`` lets it.

    Kedro reads ``KEDRO_LOGGING_CONFIG`` when ``kedro.framework.project`` is first
    imported, so this runs before any kedro import.
    """
    if not verbose:
        config = resources.files("kedro_ml_lint").joinpath("logging.yml")
        os.environ["KEDRO_LOGGING_CONFIG"] = str(config)
        logging.getLogger("kedro").setLevel(logging.ERROR)


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
    doc = resources.files("kedro_ml_lint.rules").joinpath("docs", f"{code}.md")
    click.echo(doc.read_text(encoding="utf-8"), nl=False)


@click.group(name="kedro-ml-lint")
def kedro_commands() -> None:
    """Kedro project commands (entry point ``kedro.project_commands``)."""


@kedro_commands.group(name="ml-lint")
def ml_lint() -> None:
    """Check this project's training/inference pairs (kedro-ml-lint)."""


ml_lint.add_command(check)
ml_lint.add_command(rules_table)
ml_lint.add_command(rule_doc)
