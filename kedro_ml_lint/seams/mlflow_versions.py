"""What MLflow's ``mlflow.pyfunc.log_model`` accepts, without importing MLflow (KML205).

Importing MLflow costs seconds, which ``check`` never pays (docs/design.md §10). Two
sources: the installed MLflow's own signature, read from its file's syntax tree (checked
against MLflow 2.x and 3.x, where ``log_model`` is a plain ``def`` in
``mlflow/pyfunc/__init__.py``), and a table of the parameters of eleven releases from 1.14.1
to 3.17.2, for a project whose MLflow is not the installed one (docs/design.md §2).
"""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from kedro_ml_lint.model.wiring import MlflowRange
from kedro_ml_lint.seams.versions import distribution_version


def installed_version() -> str | None:
    """The installed MLflow's version (full or skinny); ``None`` when it is not installed."""
    return distribution_version("mlflow") or distribution_version("mlflow-skinny")


@cache
def log_model_parameters() -> frozenset[str] | None:
    """The parameters of the installed ``mlflow.pyfunc.log_model``; ``None`` when unknown."""
    if installed_version() is None:
        return None  # a folder named `mlflow` on the path is not MLflow
    try:
        spec = importlib.util.find_spec("mlflow")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    source = Path(next(iter(spec.submodule_search_locations))) / "pyfunc" / "__init__.py"
    try:
        tree = ast.parse(source.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return None
    for statement in tree.body:
        if isinstance(statement, ast.FunctionDef) and statement.name == "log_model":
            arguments = statement.args
            if arguments.kwarg is not None:
                return None  # takes anything: nothing to check
            every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
            return frozenset(argument.arg for argument in every)
    return None


# ``mlflow.pyfunc.log_model``'s parameters at these releases, each read from the release's
# own ``mlflow/pyfunc/__init__.py`` (the mlflow-skinny wheel; no ``**kwargs`` in any). Between
# two rows a parameter is known only where both agree: ``code_paths`` appeared between
# 2.11.3 and 2.12.2, ``name`` in 3.0.0, when ``code_path`` went.
LOG_MODEL_PARAMETERS: dict[str, frozenset[str]] = {
    version: frozenset(names.split())
    for version, names in {
        "1.14.1": "artifact_path artifacts await_registration_for code_path conda_env "
        "data_path input_example loader_module python_model registered_model_name signature",
        "1.20.2": "artifact_path artifacts await_registration_for code_path conda_env "
        "data_path extra_pip_requirements input_example loader_module pip_requirements "
        "python_model registered_model_name signature",
        "2.0.1": "artifact_path artifacts await_registration_for code_path conda_env "
        "data_path extra_pip_requirements input_example loader_module pip_requirements "
        "python_model registered_model_name signature",
        "2.9.2": "artifact_path artifacts await_registration_for code_path conda_env "
        "data_path extra_pip_requirements input_example loader_module metadata model_config "
        "pip_requirements python_model registered_model_name signature",
        "2.11.3": "artifact_path artifacts await_registration_for code_path conda_env "
        "data_path example_no_conversion extra_pip_requirements input_example loader_module "
        "metadata model_config pip_requirements python_model registered_model_name signature",
        "2.12.2": "artifact_path artifacts await_registration_for code_path code_paths "
        "conda_env data_path example_no_conversion extra_pip_requirements input_example "
        "loader_module metadata model_config pip_requirements python_model "
        "registered_model_name resources signature streamable",
        "2.22.0": "artifact_path artifacts auth_policy await_registration_for code_path "
        "code_paths conda_env data_path example_no_conversion extra_pip_requirements "
        "infer_code_paths input_example loader_module metadata model_config pip_requirements "
        "prompts python_model registered_model_name resources signature streamable",
        "3.0.0": "artifact_path artifacts auth_policy await_registration_for code_paths "
        "conda_env data_path extra_pip_requirements infer_code_paths input_example "
        "loader_module metadata model_config model_id model_type name params pip_requirements "
        "prompts python_model registered_model_name resources signature step streamable tags",
        "3.17.2": "artifact_path artifacts auth_policy await_registration_for code_paths "
        "conda_env data_path extra_pip_requirements infer_code_paths input_example "
        "loader_module metadata model_config model_id model_type name params pip_requirements "
        "prompts python_model registered_model_name resources signature step streamable tags "
        "uv_extras uv_groups uv_project_path",
    }.items()
}
_ROWS = sorted(LOG_MODEL_PARAMETERS, key=Version)
# The minor releases of each major MLflow had when the table was made: with the table's rows
# and the versions a specifier names, the versions a range is judged at.
_MINORS = {1: 30, 2: 22, 3: 17}


def known_versions(*extra: str) -> list[Version]:
    """MLflow releases the judgement looks at: every minor's ``.0``, the table's rows, ``extra``."""
    found = {
        Version(f"{major}.{minor}.0")
        for major, last in _MINORS.items()
        for minor in range(last + 1)
    }
    found |= {Version(v) for v in LOG_MODEL_PARAMETERS}
    for text in extra:
        try:
            found.add(Version(text))
        except InvalidVersion:
            continue
    return sorted(found)


def versions_in(specifiers: SpecifierSet, *extra: str) -> tuple[str, ...]:
    """The known MLflow releases (plus those ``specifiers`` name) that ``specifiers`` allow."""
    named = [spec.version.rstrip(".*") for spec in specifiers]
    return tuple(
        str(v) for v in known_versions(*named, *extra) if specifiers.contains(v, prereleases=True)
    )


def range_of(text: str, reason: str) -> MlflowRange:
    """The range ``text`` (a specifier such as ``>=3,<4``), for ``reason``."""
    return MlflowRange(text, reason, versions_in(SpecifierSet(text)))


def unknown_range(reason: str) -> MlflowRange:
    """No MLflow declared: every known release is possible."""
    return MlflowRange(None, reason, tuple(str(v) for v in known_versions()))


def accepts(version: str, key: str) -> bool | None:
    """Whether ``mlflow.pyfunc.log_model`` of MLflow ``version`` takes ``key``.

    ``None`` when the table cannot tell: between two rows that disagree, before the first
    row for a parameter it has, after the last row for one it lacks (a later release may
    add it) or for another major.
    """
    rows = _ROWS
    at = Version(version)
    below = [r for r in rows if Version(r) <= at]
    above = [r for r in rows if Version(r) >= at]
    if below and above:
        low, high = key in LOG_MODEL_PARAMETERS[below[-1]], key in LOG_MODEL_PARAMETERS[above[0]]
        return low if low == high else None
    if above:  # older than the table: parameters were only added before MLflow 3
        return False if key not in LOG_MODEL_PARAMETERS[above[0]] else None
    newest = below[-1]
    if Version(newest).major == at.major and key in LOG_MODEL_PARAMETERS[newest]:
        return True
    return None


def refused_keys(keys: Iterable[str], mlflow: MlflowRange) -> frozenset[str]:
    """The ``keys`` that ``log_model`` refuses in every MLflow of the range (KML205).

    The installed MLflow's own signature decides when every version of the range has its
    major; otherwise the table does, and a key refused by some versions but not all (or
    where the table cannot tell) is not refused: only what holds across the range is.
    """
    keys = frozenset(keys)
    installed = installed_version()
    if installed is not None and mlflow.major == _major(installed):
        accepted = log_model_parameters()
        if accepted is not None:
            return keys - accepted
    return refused_by_table(keys, mlflow.versions)


def refused_by_table(keys: Iterable[str], versions: Iterable[str]) -> frozenset[str]:
    """The ``keys`` the table says every one of ``versions`` refuses (none for no version)."""
    versions = tuple(versions)
    if not versions:
        return frozenset()
    return frozenset(key for key in keys if all(accepts(v, key) is False for v in versions))


def _major(version: str) -> int | None:
    try:
        return Version(version).major
    except InvalidVersion:
        return None
