"""The rule docs (``rules/docs/<CODE>.md``) as data: front matter and "What it does"."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

from kedro_ml_lint.rules import RULES, Rule

FRONT_MATTER = "---"
WHAT_IT_DOES = "## What it does"


@dataclass(frozen=True)
class RuleDoc:
    """What SARIF and the other reports say about a rule.

    Attributes:
        code: The rule code (``KML001``).
        name: The kebab-case name.
        severity: ``error`` or ``warning``.
        fix: ``safe``, ``unsafe``, ``display-only`` or ``none``.
        summary: The one-line summary from the rule table.
        description: The first paragraph of "What it does" (the summary when no doc).
        markdown: The whole doc without its front matter ("" when there is no doc).
    """

    code: str
    name: str
    severity: str
    fix: str
    summary: str
    description: str
    markdown: str


@cache
def rule_doc(rule: Rule) -> RuleDoc:
    """Read ``rule``'s doc shipped in the package; fall back to the rule's own metadata."""
    try:
        text = shipped_doc(rule)
    except (FileNotFoundError, OSError):
        text = ""
    meta, body = split_front_matter(text)
    return RuleDoc(
        code=rule.code,
        name=meta.get("name", rule.name),
        severity=meta.get("severity", rule.severity.value),
        fix=meta.get("fix", rule.fix.value if rule.fix else "none"),
        summary=rule.summary,
        description=first_paragraph(body, WHAT_IT_DOES) or rule.summary,
        markdown=body.strip() + "\n" if body.strip() else "",
    )


def shipped_doc(rule: Rule) -> str:
    """``rules/docs/<CODE>.md`` as shipped in the package, front matter included.

    Raises:
        OSError: The package ships no doc for ``rule``.
    """
    path = resources.files("kedro_ml_lint.rules").joinpath("docs", f"{rule.code}.md")
    return path.read_text(encoding="utf-8")


def all_rule_docs() -> list[RuleDoc]:
    """Every rule's doc, in the rule table's order."""
    return [rule_doc(rule) for rule in RULES]


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """``key: value`` lines between the leading ``---`` fences, and the rest."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != FRONT_MATTER:
        return {}, text
    meta: dict[str, str] = {}
    for number, line in enumerate(lines[1:], start=1):
        if line.strip() == FRONT_MATTER:
            return meta, "\n".join(lines[number + 1 :])
        key, sep, value = line.partition(":")
        if sep:
            meta[key.strip()] = value.strip().strip("\"'")
    return {}, text  # no closing fence: not front matter


def first_paragraph(markdown: str, heading: str) -> str:
    """The first paragraph under ``heading``, its lines joined by spaces."""
    lines = markdown.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == heading)
    except StopIteration:
        return ""
    paragraph: list[str] = []
    for line in lines[start + 1 :]:
        if line.startswith("#"):
            break
        if not line.strip():
            if paragraph:
                break
            continue
        paragraph.append(line.strip())
    return " ".join(paragraph)
