"""``check --add-noqa``: a ``# noqa: KMLxxx`` on every line a violation is reported on.

:func:`add_noqa_comment` is pure (the language server reuses it); :func:`add_noqa` applies
it to a project's files atomically, under the fix lock, as ``--fix`` writes. The comment is
the one the noqa parser reads (``reading/catalog.py``): codes already on the line are kept
and the new ones merged in, so a second run changes nothing.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kedro_ml_lint.errors import KedroMlLintError
from kedro_ml_lint.files import write_atomic
from kedro_ml_lint.fix.lock import fix_lock
from kedro_ml_lint.reading.catalog import NOQA_COMMENT as _NOQA  # the parser's own grammar

if TYPE_CHECKING:
    from kedro_ml_lint.api import LintResult
    from kedro_ml_lint.diagnostics import Violation

_CODE_SEPARATOR = re.compile(r"[\s,]+")
_LINE = re.compile(r"[^\n]*\n|[^\n]+$")
LANGUAGES = {".py": "python", ".yml": "yaml", ".yaml": "yaml"}


class NoqaWriteError(KedroMlLintError):
    """Raised when ``--add-noqa`` cannot read or write a file (it is left intact)."""


def add_noqa_comment(text: str, line: int, codes: Iterable[str], language: str) -> str:
    """``text`` with ``# noqa`` for ``codes`` on its 1-based ``line``.

    A line without a noqa comment gets ``  # noqa: CODE, CODE`` at its end (before its line
    ending); a ``# noqa: …`` with codes gets the missing ones appended to its list (its
    other codes, another linter's included, and any words after them are kept). Nothing
    changes when the line already names every code, when it holds a bare ``# noqa`` (in
    YAML it silences every code already; in Python it is another linter's, which a code
    list would narrow), when the line does not exist, or where a comment at the end of a
    Python line would change the code (after a backslash continuation, inside a multi-line
    string). Shared by ``--add-noqa`` and the language server's quick fix.

    Args:
        text: The file's content.
        line: The 1-based line the violations are reported on.
        codes: The rule codes to silence there.
        language: ``"python"`` or ``"yaml"``.

    Returns:
        The new content; ``text`` itself when nothing had to change.

    Raises:
        ValueError: For another language.
    """
    if language not in ("python", "yaml"):
        raise ValueError(f"no noqa comments in {language!r}")
    # Lines end at "\n" only, as Python's and YAML's line numbers count them (not at the
    # form feeds and Unicode separators `str.splitlines` also splits on).
    lines = _LINE.findall(text)
    if not codes or not 0 < line <= len(lines):
        return text
    raw = lines[line - 1]
    body = raw.rstrip("\r\n")
    ending = raw[len(body) :]
    wanted = sorted({code.upper() for code in codes})
    if not wanted or (language == "python" and not _comment_fits(text, line)):
        return text
    match = _NOQA.search(body)
    if match is not None:
        listed = match.group("codes")
        if listed is None:
            return text  # bare: YAML's silences everything; Python's is another linter's
        present = [code for code in _CODE_SEPARATOR.split(listed) if code]
        missing = [code for code in wanted if code not in {c.upper() for c in present}]
        if not missing:
            return text
        start, end = match.span("codes")
        body = body[:start] + ", ".join([*present, *missing]) + body[end:]
    else:
        if not body.strip() or (language == "python" and body.endswith("\\")):
            return text
        body = f"{body.rstrip()}  # noqa: {', '.join(wanted)}"
    lines[line - 1] = body + ending
    return "".join(lines)


def language_of(path: str) -> str | None:
    """The comment language of a project file; ``None`` where no ``# noqa`` is read."""
    return LANGUAGES.get(Path(path).suffix.lower())


def _comment_fits(text: str, line: int) -> bool:
    """False when a comment at the end of Python ``line`` would land inside a string."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return True  # mid-edit code: a comment at the end of a line is still a comment
    strings = {tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}
    return not any(
        token.start[0] <= line < token.end[0] for token in tokens if token.type in strings
    )


@dataclass
class NoqaOutcome:
    """What ``--add-noqa`` did.

    Attributes:
        added: How many lines got a new or a longer noqa comment.
        files: The files written, relative to the project root.
        notes: Violations that no comment on their line can silence, one line each.
    """

    added: int = 0
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def add_noqa(lint: Callable[[], LintResult]) -> NoqaOutcome:
    """Lint, then write a noqa comment on every reported line, under the fix lock.

    Args:
        lint: ``lint_project`` bound to the command line's options.

    Raises:
        NoqaWriteError: When a file cannot be read or written (the others are kept).
        FixLockError: When the lock cannot be created; nothing is written.
    """
    result = lint()
    if not _placeable(result.violations, result.project):
        return NoqaOutcome(notes=_unplaceable(result.violations, result.project))
    with fix_lock(result.project):
        result = lint()  # another writer may have changed the files meanwhile
        outcome = NoqaOutcome(notes=_unplaceable(result.violations, result.project))
        for path, wanted in sorted(_by_file(result.violations, result.project).items()):
            _apply(result.project, path, wanted, outcome)
    return outcome


def _apply(root: Path, relative: str, wanted: dict[int, set[str]], outcome: NoqaOutcome) -> None:
    path = root / relative
    try:
        data = path.read_bytes()
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise NoqaWriteError(
            f"cannot read the file: {reason}; nothing was written", relative
        ) from exc
    language = LANGUAGES[Path(relative).suffix.lower()]
    new = text
    for line, codes in sorted(wanted.items()):
        changed = add_noqa_comment(new, line, codes, language)
        if changed != new:
            outcome.added += 1
        new = changed
    if new == text:
        return
    try:
        write_atomic(path, new.encode("utf-8"))
    except OSError as exc:
        raise NoqaWriteError(
            f"cannot write the noqa comments: {exc.strerror or exc}; the file is unchanged",
            relative,
        ) from exc
    outcome.files.append(relative)


def _by_file(violations: Iterable[Violation], root: Path) -> dict[str, dict[int, set[str]]]:
    """``path -> line -> codes`` for every violation a comment can silence."""
    found: dict[str, dict[int, set[str]]] = {}
    for violation in _placeable(violations, root):
        assert violation.noqa_line is not None
        lines = found.setdefault(violation.noqa_line.path, {})
        lines.setdefault(violation.noqa_line.line, set()).add(violation.code)
    return found


def _placeable(violations: Iterable[Violation], root: Path) -> list[Violation]:
    return [v for v in violations if _where(v, root) is not None]


def _where(violation: Violation, root: Path) -> str | None:
    location = violation.noqa_line
    if location is None or Path(location.path).suffix.lower() not in LANGUAGES:
        return None
    path = (root / location.path).resolve()
    if not path.is_relative_to(root.resolve()) or not path.is_file():
        return None
    return location.path


def _unplaceable(violations: Iterable[Violation], root: Path) -> list[str]:
    return [
        f"no `# noqa` can silence {v.code} for "
        f"{f'`{v.subject}`' if v.subject else f'the pair `{v.pair}`'}: no catalog entry or "
        "`node(...)` line holds it; deselect it in `[tool.kedro-ml-lint]` instead"
        for v in violations
        if _where(v, root) is None
    ]
