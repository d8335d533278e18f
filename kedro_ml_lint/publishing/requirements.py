"""The served model's pip requirements: what its code and artifacts actually import.

MLflow infers requirements by loading the saved model in a subprocess and recording the
modules it imports (``mlflow.infer_pip_requirements``). The same import set is found here
without a subprocess: the imports of the project modules the inference nodes live in
(followed through the project's own modules), the libraries of node functions that are
not project code, and the classes the artifacts' pickles name. Each top-level module is
mapped to its installed distribution by MLflow's own map (``log_model`` builds it anyway:
one scan of the installed packages per process) and pinned; ``kedro``, ``kedro-datasets``
and ``cloudpickle`` always are. The project's declared requirements are used only for what is
imported (with their version specifiers and URLs, credentials removed), so template
leftovers (``jupyterlab``, ``notebook``, ``ipython``) never reach the served model.
"""

from __future__ import annotations

import ast
import codecs
import importlib.util
import locale
import pickletools
import re
import sys
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

from kedro_ml_lint.model.redact import redact_requirement_line
from kedro_ml_lint.publishing.errors import PublishError

# Our own distribution: its code ships with the model (``code_paths``); MLflow adds itself.
_NEVER = frozenset({"kedro-ml-lint", "mlflow", "mlflow-skinny", "mlflow-tracing"})
# Notebook and developer tooling: never needed to serve, whatever imports it.
_TOOLING = frozenset(
    {
        "ipython",
        "ipykernel",
        "ipywidgets",
        "jupyter",
        "jupyterlab",
        "jupyter-core",
        "jupyter-client",
        "notebook",
        "kedro-viz",
        "kedro-telemetry",
        "pytest",
        "ruff",
        "black",
        "mypy",
    }
)
# Pinned to the versions the model was built and checked with.
_PINNED = ("kedro", "kedro-datasets", "cloudpickle")
# Query parameters of a requirement URL that carry a secret.
# pip reads these byte-order marks (pip._internal.utils.encoding.auto_decode); UTF-32 is
# tried first because its little-endian mark begins with UTF-16's.
_BOMS = (
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)
_CODING = re.compile(rb"coding[:=]\s*([-\w.]+)")


def pip_requirements(
    project_root: str | Path,
    imported: Iterable[str],
    extra: Iterable[str] = (),
) -> list[str]:
    """The served model's pip requirements.

    Args:
        project_root: The project root (its declared requirements are read there).
        imported: Top-level modules the model's code and artifacts import.
        extra: ``extra_pip_requirements`` of ``log_model_kwargs``, kept (redacted).

    Returns:
        Requirement strings, each distribution once, credentials removed.

    Raises:
        PublishError: When the project's requirements file cannot be read.
    """
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    declared: dict[str, Requirement] = {}
    for line in _project_requirement_lines(Path(project_root)):
        try:
            requirement = Requirement(redact_requirement_line(line))
        except InvalidRequirement:
            continue  # not a requirement of a named distribution: cannot be matched
        key = canonicalize_name(requirement.name)
        if key in declared:
            declared[key].extras |= requirement.extras
        else:
            declared[key] = requirement
    wanted = [*_PINNED, *sorted(_distributions(imported) - set(_PINNED))]
    result: list[str] = []
    for name in wanted:
        key = canonicalize_name(name)
        if key in _NEVER or key in _TOOLING:
            continue
        installed = _installed_version(name)
        requirement = declared.get(key) or Requirement(name)
        if name in _PINNED or not (requirement.specifier or requirement.url):
            if installed is None:
                continue
            extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
            result.append(f"{requirement.name}{extras}=={installed}")
        else:
            result.append(str(requirement))
    for line in extra:
        redacted = redact_requirement_line(str(line))
        if redacted not in result:
            result.append(redacted)
    return result


def _distributions(modules: Iterable[str]) -> set[str]:
    """The installed distributions that provide these top-level modules."""
    from kedro_ml_lint.seams.mlflow_private import modules_to_distributions

    providers = modules_to_distributions()
    found: set[str] = set()
    for module in modules:
        if module in sys.stdlib_module_names:
            continue
        found.update(providers.get(module, ()))
    return found


def _installed_version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


# --------------------------------------------------------------------------- import set


def imported_modules(
    pipeline: Any, project_packages: Iterable[str], artifacts: Iterable[str]
) -> set[str]:
    """Top-level modules the inference pipeline's code and its artifacts import.

    Args:
        pipeline: The inference ``Pipeline``.
        project_packages: The project's own top-level packages (their imports are followed).
        artifacts: The artifact files; pickles among them name the classes they hold.
    """
    own = set(project_packages)
    found: set[str] = set()
    seen: set[str] = set()
    pending: list[str] = []
    for node in pipeline.nodes:
        func = node.func
        while hasattr(func, "func"):  # functools.partial and friends
            func = func.func
        module = str(getattr(func, "__module__", "") or "")
        if module.split(".", 1)[0] in own:
            pending.append(module)
        elif module:
            found.add(module.split(".", 1)[0])
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        for name in _imports_of(module):
            if name.split(".", 1)[0] in own:
                pending.append(name)
            else:
                found.add(name.split(".", 1)[0])
    for path in artifacts:
        found |= {name.split(".", 1)[0] for name in _pickled_modules(Path(path))}
    return found - own


def _imports_of(module: str) -> set[str]:
    """The absolute names ``module``'s source imports (relative imports resolved)."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return set()
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return set()
    try:
        tree = ast.parse(Path(spec.origin).read_bytes())
    except (OSError, SyntaxError, ValueError):
        return set()
    package = module if spec.submodule_search_locations else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            names.add(base)
            # `from pkg import submodule`: follow the submodule when it is one.
            names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return {name for name in names if name and _is_module(name)}


def _is_module(name: str) -> bool:
    if "." not in name:
        return True
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _pickled_modules(path: Path) -> set[str]:
    """Modules named by the classes and functions a pickle file holds (nothing else)."""
    modules: set[str] = set()
    strings: list[str | None] = []
    memo: dict[int, str | None] = {}
    try:
        with open(path, "rb") as stream:
            for opcode, arg, _ in pickletools.genops(stream):
                name = opcode.name
                if name in ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE"):
                    strings.append(str(arg))
                    continue
                if name in ("MEMOIZE", "BINPUT", "LONG_BINPUT", "PUT"):  # the stack is unchanged
                    index = len(memo) if name == "MEMOIZE" else int(str(arg))
                    memo[index] = strings[-1] if strings else None
                    continue
                if name in ("BINGET", "LONG_BINGET", "GET"):
                    strings.append(memo.get(int(str(arg))))
                    continue
                elif name == "STACK_GLOBAL" and len(strings) >= 2 and strings[-2]:
                    modules.add(str(strings[-2]))
                elif name in ("GLOBAL", "INST"):
                    modules.add(str(arg).split(" ", 1)[0])
                elif name == "STOP":
                    break
                strings.append(None)  # the top of the stack is no longer a string
    except Exception:  # not a pickle (a CSV, a parquet file…): it names no class
        return modules
    return modules


# --------------------------------------------------------------------------- declared


def _project_requirement_lines(root: Path) -> list[str]:
    for candidate in (root / "requirements.txt", root / "src" / "requirements.txt"):
        if candidate.is_file():
            return requirement_file_lines(candidate)
    from kedro_ml_lint.reading.pyproject import read_pyproject

    try:
        dependencies = read_pyproject(root).get("project", {}).get("dependencies", [])
    except Exception:
        return []
    return [str(d) for d in dependencies if isinstance(d, str)]


def requirement_file_lines(path: Path) -> list[str]:
    """The requirement lines of a pip requirements file, decoded as pip decodes it.

    Comments, blank lines and option lines (``-r``, ``--index-url``…) are left out.

    Raises:
        PublishError: When the file cannot be read or decoded (it is named).
    """
    try:
        text = _decode_as_pip(path.read_bytes())
    except (OSError, UnicodeError, LookupError) as exc:
        raise PublishError(
            f"cannot read the requirements file `{path}`: {type(exc).__name__}: {exc}"
        ) from exc
    lines = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith(("#", "-")):
            lines.append(line)
    return lines


def _decode_as_pip(data: bytes) -> str:
    """Decode as pip's ``auto_decode``: a byte-order mark, else a coding line, else locale."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding)
    for line in data.split(b"\n")[:2]:
        if line[:1] == b"#" and (match := _CODING.search(line)):
            return data.decode(match.group(1).decode("ascii"))
    return data.decode(locale.getpreferredencoding(False) or sys.getdefaultencoding())
