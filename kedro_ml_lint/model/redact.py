"""Hide secrets before any text leaves the linter: the one place that knows their shapes.

Secrets reach the linter through the catalog: credentials in URLs (``s3://KEY:SECRET@b/…``,
whose password may hold ``/`` or ``@``), signed URLs whose query string is the secret
(S3 presigned, Azure SAS, even when the path has a space), connection strings
(``…;PWD=secret``) and YAML keys that name a secret (``password:``, ``con:``…). Every
output that quotes the catalog goes through these functions; over-redacting is fine, a
leak is not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "***"
# Words that, as a part of a key (``aws_secret_access_key``, ``AccountKey``, ``PWD``),
# make its value a secret.
SECRET_WORDS = frozenset(
    {
        "apikey",
        "auth",
        "authorization",
        "bearer",
        "con",
        "conn",
        "connection",
        "cookie",
        "credential",
        "credentials",
        "creds",
        "key",
        "pass",
        "passphrase",
        "passwd",
        "password",
        "private",
        "pwd",
        "sas",
        "secret",
        "session",
        "sig",
        "signature",
        "token",
    }
)

# ``s3://``, and ``s3:/`` too: ``pathlib`` collapses the double slash of a URL given as a path.
# Lookbehinds make every pattern start at a word's beginning only: linear, not quadratic, on a
# 100 KB dataset name.
_SCHEME = r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*:/{1,2}"
_STOP = r"\s'\"`<>"  # characters that end a URL inside free text
# How far the path of a URL may reach across spaces before its ``?``: a bound keeps a failing
# search short, so text with many ``x:/`` in a row stays linear.
_MAX = 4096
_SCHEME_START = re.compile(_SCHEME)
# Free text cut into words (and the runs of separators between them, kept).
_WORDS = re.compile(rf"([{_STOP}]+)")
# The query string of a URL; the path before it may hold spaces (``churn model.pkl``).
_URL_QUERY = re.compile(rf"(?P<head>{_SCHEME}[^?\n\r'\"`<>]{{0,{_MAX}}}?)\?(?P<query>[^{_STOP}]*)")
# ``name=value`` parts of connection strings and query-like text; ODBC braces and quotes too.
_ASSIGNMENT = re.compile(
    r"(?<![\w.\-])(?P<name>[A-Za-z_][\w.\-]*)(?P<eq>\s*=\s*)"
    r"(?P<value>\{[^}]*\}?|\"[^\"]*\"?|'[^']*'?|[^;&\s\"',}\]]*)"
)
# A YAML/JSON key followed by ``:`` (block or flow style, quoted or not).
_KEY = re.compile(r"(?P<key>\"[^\"]*\"|'[^']*'|(?<![\w.\-])[A-Za-z_][\w.\-]*)\s*:(?=\s|$)")
_WORD_BOUNDARY = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")
# Words so telling that they mark a secret anywhere in a key (``mytoken``, ``db_password2``).
_STRONG_WORDS = ("password", "passwd", "secret", "token", "apikey", "credential")


def names_secret(key: str) -> bool:
    """True when a key (``password``, ``aws_secret_access_key``, ``PWD``…) holds a secret."""
    bare = key.strip("\"' ")
    words = [w.lower() for w in _WORD_BOUNDARY.split(bare) if w]
    lowered = bare.lower()
    return any(word in SECRET_WORDS for word in words) or any(w in lowered for w in _STRONG_WORDS)


def redact_url_credentials(text: str) -> str:
    """Hide the userinfo, query string and fragment of every URL in ``text``."""
    if ":/" not in text:  # the cheap test first: most text holds no URL at all
        return text
    # Word by word: userinfo and signed queries hold no whitespace or quotes. Linear.
    text = "".join(_redact_word(word) for word in _WORDS.split(text))
    if "?" in text:
        # A signed URL whose path holds a space (``…/churn model.pkl?sig=…``).
        text = _URL_QUERY.sub(lambda m: f"{m.group('head')}?{MASK}", text)
    return text


def redact_value(value: str) -> str:
    """Redact one configuration value that is a path, URL or connection string.

    The whole of ``value`` is one string, so a URL's end is known: ``user:pa/ss@host`` and
    ``…/churn model.pkl?sig=…`` are hidden whatever they hold. A local path is returned
    unchanged (KML101 reads it).
    """
    return "::".join(
        _redact_url(link) if _SCHEME_START.match(link) else link for link in value.split("::")
    )


def _redact_word(word: str) -> str:
    match = _SCHEME_START.search(word)
    return word if match is None else word[: match.start()] + _redact_url(word[match.start() :])


def _redact_url(url: str) -> str:
    """``url`` (it starts with its scheme) without its userinfo, query string and fragment."""
    scheme = _SCHEME_START.match(url)
    assert scheme is not None
    head, rest = url[: scheme.end()], url[scheme.end() :]
    for mark in "?#":
        if mark in rest:
            rest = rest.split(mark, 1)[0] + mark + MASK
    userinfo, at, host = rest.rpartition("@")
    # A userinfo without ``/`` (``token@``), or one with a password (``key:se/cret@``; it may
    # hold ``@`` too); ``bucket/model@v1.pkl`` is a path.
    if at and ("/" not in userinfo or ":" in userinfo.split("/", 1)[0]):
        rest = f"{MASK}@{host}"
    return head + rest


def _redact_assignments(text: str) -> str:
    def hide(match: re.Match[str]) -> str:
        if not names_secret(match.group("name")) or not match.group("value"):
            return match.group(0)
        return f"{match.group('name')}{match.group('eq')}{MASK}"

    return _ASSIGNMENT.sub(hide, text) if "=" in text else text


def redact_text(text: str) -> str:
    """Redact URLs and ``secret=value`` parts anywhere in free text (a message, a line)."""
    return _redact_assignments(redact_url_credentials(text))


def redact_yaml_lines(lines: Iterable[str]) -> list[str]:
    """Redact configuration lines as shown in a diff or a context excerpt.

    Besides what :func:`redact_text` hides, the value of every key that names a secret
    (``password: …``, ``con: …``, ``{token: …}``) is replaced up to the end of its line,
    and so are the lines of a multi-line value under such a key (``password: |``).
    Line ends are kept. Lines are catalog lines: a top-level key is a dataset name.

    Args:
        lines: The lines, with or without their line ends.
    """
    out: list[str] = []
    block_indent: int | None = None  # inside the multi-line value of a secret key
    for line in lines:
        body = line.rstrip("\r\n")
        end = line[len(body) :]
        indent = len(body) - len(body.lstrip(" -"))
        if block_indent is not None:
            if not body.strip() or indent > block_indent:
                out.append((" " * indent + MASK if body.strip() else body) + end)
                continue
            block_indent = None
        redacted, opens_block = _redact_secret_keys(redact_text(body))
        if opens_block:
            block_indent = indent
        out.append(redacted + end)
    return out


def _redact_secret_keys(line: str) -> tuple[str, bool]:
    """Cut ``line`` after the first key that names a secret; say if its value continues below.

    A key at column 0 is a dataset's name (``api_key_model:``), not a secret, unless it
    starts with ``_``: such keys only feed interpolation and may hold anything.
    """
    for match in _KEY.finditer(line):
        if match.start() == 0 and not match.group("key").strip("\"'").startswith("_"):
            continue
        if names_secret(match.group("key")):
            value = line[match.end() :].split(" #", 1)[0].strip()
            quoted = value[:1] in ("'", '"')
            continues = value in ("", "|", ">", "|-", ">-", "|+", ">+") or (
                quoted and not (len(value) > 1 and value.endswith(value[0]))
            )
            return line[: match.end()] + (f" {MASK}" if value else ""), continues
    return line, False


def redact_requirement_line(line: str) -> str:
    """Remove credentials from one pip requirement line.

    ``git+https://oauth2:TOKEN@host/x.git`` becomes ``git+https://host/x.git``; a signed
    URL loses its query string; ``--index-url https://user:pw@host/simple`` loses the
    userinfo. The rest of the line (name, extras, markers, options) is kept.

    Args:
        line: One line of a ``requirements.txt`` (or a ``pip`` requirement string).

    Returns:
        The line without userinfo, tokens or signatures.
    """
    if ":/" in line:
        line = "".join(_redact_requirement_word(word) for word in _WORDS.split(line))
    return _redact_assignments(line)


def _redact_requirement_word(word: str) -> str:
    match = _SCHEME_START.search(word)
    if match is None:
        return word
    rest = word[match.end() :]
    # pip needs ``/`` and ``@`` in a password percent-encoded, and ``@rev`` follows the path:
    # the userinfo ends at the first ``@`` and holds no ``/``.
    userinfo, at, after = rest.partition("@")
    if at and "/" not in userinfo:
        rest = after
    path, question, query = rest.partition("?")
    if question:
        # ``#egg=name`` / ``#subdirectory=…`` fragments are pip's, not secrets: kept.
        _, hash_mark, fragment = query.partition("#")
        rest = path + hash_mark + fragment
    return word[: match.end()] + rest
