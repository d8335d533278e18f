"""The "add ``# noqa: KMLxxx``" quick fix: the comment ``--add-noqa`` writes, on one line."""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterable

# The directive as the loader reads it (loader/catalog.py): bare, or codes after a colon.
_DIRECTIVE = re.compile(
    r"#\s*noqa(?::\s*(?P<codes>[A-Za-z]+\d+(?:(?:\s*,\s*|\s+)[A-Za-z]+\d+)*))?", re.I
)
_SEPARATOR = re.compile(r"[\s,]+")
PYTHON, YAML, TOML = "python", "yaml", "toml"


def add_noqa_comment(text: str, line: int, codes: Iterable[str], language: str) -> str:
    """``text`` with ``codes`` silenced by a ``# noqa`` comment on 1-based ``line``.

    A line without a directive gets ``  # noqa: CODE, CODE`` at its end (after any other
    comment, as ruff's ``--add-noqa`` does); a directive that names codes gets the missing
    ones appended; a bare ``# noqa`` in YAML or TOML already silences everything. The text
    comes back unchanged where a comment cannot go: past the end, after a Python line
    continuation or inside a multi-line string, and on a Python line whose only directive
    is bare (it belongs to flake8 or ruff: turning it into ours would narrow theirs).

    Args:
        text: The file's text.
        line: The 1-based line to silence.
        codes: The rule codes (any case).
        language: ``python``, ``yaml`` or ``toml`` (all three comment with ``#``).
    """
    wanted = sorted({code.upper() for code in codes})
    lines = text.splitlines(keepends=True)
    if not wanted or not 1 <= line <= len(lines):
        return text
    raw = lines[line - 1]
    body = raw.rstrip("\r\n")
    ending = raw[len(body) :]
    if language == PYTHON and not _comment_fits(text, line, body):
        return text
    match = _DIRECTIVE.search(body)
    if match is None:
        new = f"{body.rstrip()}  # noqa: {', '.join(wanted)}"
    elif match.group("codes") is None:
        return text  # bare: ours in YAML and TOML (silences all), another linter's in Python
    else:
        present = [c for c in _SEPARATOR.split(match.group("codes")) if c]
        missing = [c for c in wanted if c not in {p.upper() for p in present}]
        if not missing:
            return text
        end = match.end("codes")
        new = f"{body[:end]}, {', '.join(missing)}{body[end:]}"
    lines[line - 1] = new + ending
    return "".join(lines)


def _comment_fits(text: str, line: int, body: str) -> bool:
    """False when a comment at the end of Python ``line`` would change the code."""
    if body.rstrip().endswith("\\"):
        return False
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return True  # mid-edit code: a comment at the end of a line is still a comment
    return not any(
        token.start[0] <= line < token.end[0]
        for token in tokens
        if token.type == tokenize.STRING or token.type == getattr(tokenize, "FSTRING_MIDDLE", -1)
    )


def language_of(path: str) -> str | None:
    """The comment language of a project file, ``None`` for one a noqa cannot go in."""
    suffix = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    return {"py": PYTHON, "yml": YAML, "yaml": YAML, "toml": TOML}.get(suffix)
