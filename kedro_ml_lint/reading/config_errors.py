"""Turn whatever Kedro's config loader raised into one message naming file and line.

Kedro wraps some YAML errors with the file's path (and a 0-based line), lets others
through from a ``StringIO`` (no path at all), and reports interpolation or type errors
with neither. When the error itself does not say where, the files are read again, one
by one, with the same YAML loader, to find the one at fault.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from kedro_ml_lint.diagnostics import relative_to_root
from kedro_ml_lint.errors import ProjectConfigError

_KEDRO_FILE_MESSAGE = re.compile(r"(?:file|in) (?P<path>\S+?\.(?:ya?ml|json))\b")
_QUOTED = re.compile(r"'(?P<token>[^'\s]+)'")
_UNSUPPORTED_RESOLVER = re.compile(r"Unsupported interpolation type (?P<name>[\w.\-]+)")
ENV_RESOLVER = "oc.env"


def config_error(
    exc: BaseException, key: str, files: Iterable[Path], root: Path
) -> ProjectConfigError:
    """A :class:`ProjectConfigError` for ``exc``, raised reading the ``key`` config."""
    if isinstance(exc, ProjectConfigError):  # already says where: keep it, root-relative
        path = relative(Path(exc.path), root) if exc.path else None
        return ProjectConfigError(exc.message, path, exc.line)
    files = list(files)
    unregistered = _UNSUPPORTED_RESOLVER.search(str(exc))
    if unregistered:
        return _resolver_error(unregistered.group("name"), key, files, root)
    detail = _detail(exc)
    path, line = _where_exc_says(exc, root)
    if path is None:
        path, line, problem = _where_files_say(files, root)
        detail = problem or detail
    if path is None:
        path, line = _interpolation_site(exc, files, root)
    return ProjectConfigError(f"cannot read the {key} configuration: {detail}", path, line)


def _resolver_error(name: str, key: str, files: list[Path], root: Path) -> ProjectConfigError:
    """``${name:…}`` with no such resolver: say where, and how Kedro would accept it."""
    usage = re.compile(r"\$\{\s*" + re.escape(name) + r"\s*:")
    path, line = _first_line(lambda text: bool(usage.search(text)), files, root)
    if name == ENV_RESOLVER:
        message = (
            f"`${{{name}:…}}` in the {key} configuration: Kedro reads environment variables "
            "only in credentials; move the value to `credentials.yml`, or register the "
            'resolver in `settings.py`: `CONFIG_LOADER_ARGS = {"custom_resolvers": '
            '{"oc.env": oc.env}}` (`from omegaconf.resolvers import oc`)'
        )
    else:
        message = (
            f"`${{{name}:…}}` in the {key} configuration uses the resolver `{name}`, which is "
            "not registered; register it in `settings.py`: `CONFIG_LOADER_ARGS = "
            f'{{"custom_resolvers": {{"{name}": ...}}}}`'
        )
    return ProjectConfigError(message, path, line)


def _first_line(
    wanted: Callable[[str], bool], files: list[Path], root: Path
) -> tuple[str | None, int | None]:
    """The first line of ``files`` that is ``wanted``: (path relative to root, 1-based line)."""
    for path in files:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        for number, text in enumerate(lines, start=1):
            if wanted(text):
                return relative(path, root), number
    return None, None


def chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and its causes, outermost first."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _detail(exc: BaseException) -> str:
    for cause in chain(exc):
        problem = getattr(cause, "problem", None)
        if problem:
            return f"invalid YAML: {problem}"
        if isinstance(cause, UnicodeDecodeError):
            return f"not valid UTF-8 ({cause.reason})"
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _mark(exc: BaseException) -> object | None:
    for cause in chain(exc):
        mark = getattr(cause, "problem_mark", None) or getattr(cause, "context_mark", None)
        if mark is not None:
            return mark
    return None


def _line_of(exc: BaseException) -> int | None:
    """The 1-based line a YAML error marks (PyYAML counts from 0)."""
    line = getattr(_mark(exc), "line", None)
    return line + 1 if isinstance(line, int) else None


def _where_exc_says(exc: BaseException, root: Path) -> tuple[str | None, int | None]:
    match = _KEDRO_FILE_MESSAGE.search(str(exc))
    if not match:
        return None, None
    return relative(Path(match.group("path")), root), _line_of(exc)


def _where_files_say(files: list[Path], root: Path) -> tuple[str | None, int | None, str | None]:
    from omegaconf import DictConfig, OmegaConf

    for path in files:
        try:
            loaded = OmegaConf.load(path)
        except UnicodeDecodeError as exc:
            bad_line = path.read_bytes()[: exc.start].count(b"\n") + 1
            return relative(path, root), bad_line, f"not valid UTF-8 ({exc.reason})"
        except Exception as exc:
            return relative(path, root), _line_of(exc), _detail(exc)
        if not isinstance(loaded, DictConfig) and loaded is not None and path.stat().st_size:
            kind = type(OmegaConf.to_container(loaded)).__name__
            return relative(path, root), 1, f"the top level is a {kind}, not a mapping"
    return None, None, None


def _interpolation_site(
    exc: BaseException, files: list[Path], root: Path
) -> tuple[str | None, int | None]:
    """Find the ``${…}`` line that mentions the name quoted in the error, if any."""
    tokens = [m.group("token") for m in _QUOTED.finditer(str(exc))]
    return _first_line(
        lambda text: "${" in text and any(token in text for token in tokens), files, root
    )


def relative(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` when inside it, else as given."""
    inside = relative_to_root(path, root)
    return path.as_posix() if inside is None else inside
