"""``check --add-noqa``: the comment it writes is the one the noqa parser reads, merged, once.

The pure function first (cases, then hypothesis properties over random files and reported
lines), then the command on a copy of the broken example.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import EXAMPLES
from hypothesis import given, settings
from hypothesis import strategies as st

from kedro_ml_lint.cli import main
from kedro_ml_lint.fix.noqa import add_noqa_comment
from kedro_ml_lint.reading.catalog import noqa_codes
from kedro_ml_lint.reading.sources import _kml_noqa


@pytest.mark.parametrize(
    ("line", "codes", "language", "expected"),
    [
        ("model:\n", {"KML001"}, "yaml", "model:  # noqa: KML001\n"),
        ("model:  # the model\n", {"KML001"}, "yaml", "model:  # the model  # noqa: KML001\n"),
        ("model:  # noqa: KML002\n", {"KML001"}, "yaml", "model:  # noqa: KML002, KML001\n"),
        ("model:  # noqa: kml001\n", {"KML001"}, "yaml", "model:  # noqa: kml001\n"),
        ("model:  # noqa\n", {"KML001"}, "yaml", "model:  # noqa\n"),  # silences all already
        (
            "model:  # noqa: KML002 because the bucket is mounted\r\n",
            {"KML003", "KML001"},
            "yaml",
            "model:  # noqa: KML002, KML001, KML003 because the bucket is mounted\r\n",
        ),
        ("    node(\n", {"KML006", "KML001"}, "python", "    node(  # noqa: KML001, KML006\n"),
        ("    node(  # noqa: E501\n", {"KML001"}, "python", "    node(  # noqa: E501, KML001\n"),
        ("    node(  # noqa\n", {"KML001"}, "python", "    node(  # noqa\n"),  # flake8's, kept
        ("    x = 1 + \\\n", {"KML001"}, "python", "    x = 1 + \\\n"),  # a continuation
        ("model:", {"KML001"}, "yaml", "model:  # noqa: KML001"),  # no final newline
    ],
)
def test_add_noqa_comment(line: str, codes: set[str], language: str, expected: str) -> None:
    text = f"first: 1\n{line}last: 2\n" if line.endswith("\n") else f"first: 1\n{line}"
    want = f"first: 1\n{expected}last: 2\n" if line.endswith("\n") else f"first: 1\n{expected}"
    assert add_noqa_comment(text, 2, codes, language) == want


def test_a_line_out_of_range_or_an_unknown_language() -> None:
    assert add_noqa_comment("a: 1\n", 5, {"KML001"}, "yaml") == "a: 1\n"
    assert add_noqa_comment("a: 1\n", 0, {"KML001"}, "yaml") == "a: 1\n"
    with pytest.raises(ValueError, match="toml"):
        add_noqa_comment("a = 1\n", 1, {"KML001"}, "toml")


# --- properties --------------------------------------------------------------------------

CODES = st.sets(st.sampled_from(["KML001", "KML002", "KML003", "KML101", "KML205"]), min_size=1)
# What a catalog key or a `node(` line may hold before its comment: printable text.
PLAIN = st.text(
    st.characters(categories=("L", "N", "P", "S", "Zs"), exclude_characters="#\\"), max_size=30
)
EXISTING = st.sampled_from(
    ["", "  # a note", "  # noqa: KML002", "  # NOQA:kml003,KML001", "  # noqa: E501 why"]
)
LINES = st.lists(
    st.tuples(PLAIN, EXISTING).map(lambda t: (t[0].strip() or "key:") + t[1]),
    min_size=1,
    max_size=12,
)
ENDINGS = st.sampled_from(["\n", "\r\n"])


@settings(deadline=None, max_examples=150)
@given(
    lines=LINES,
    ending=ENDINGS,
    reported=st.lists(st.tuples(st.integers(1, 12), CODES), max_size=8),
    language=st.sampled_from(["yaml", "python"]),
)
def test_adding_is_idempotent_and_read_back_by_the_parser(
    lines: list[str], ending: str, reported: list[tuple[int, set[str]]], language: str
) -> None:
    text = ending.join(lines) + ending
    once = text
    for line, codes in reported:
        once = add_noqa_comment(once, line, codes, language)
    twice = once
    for line, codes in reported:
        twice = add_noqa_comment(twice, line, codes, language)
    assert twice == once  # a second run changes nothing
    before, after = text.split(ending), once.split(ending)
    assert len(before) == len(after)  # lines are only ever extended
    wanted: dict[int, set[str]] = {}
    for line, codes in reported:
        if line <= len(lines):
            wanted.setdefault(line, set()).update(codes)
    for number, (old, new) in enumerate(zip(before, after, strict=True), start=1):
        assert new.startswith(old.split("#", 1)[0])  # the content before a comment is kept
        if number not in wanted:
            assert new == old
            continue
        read = noqa_codes(new) if language == "yaml" else _kml_noqa(new)
        assert read is not None and wanted[number] <= read, (old, new)
        if old_codes := noqa_codes(old):
            assert old_codes <= noqa_codes(new)  # nothing that was there is dropped


# --- the command -------------------------------------------------------------------------


def _invoke(*args: str | Path):
    env = {"NO_COLOR": "1", "GITHUB_ACTIONS": None, "GITHUB_WORKSPACE": None}
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and p.suffix in (".py", ".yml") and "__pycache__" not in p.parts
    }


@pytest.mark.integration
@pytest.mark.usefixtures("_cli_side_effects_undone")
def test_add_noqa_silences_every_line_it_can_and_a_second_run_changes_nothing(
    example,
) -> None:
    root = example("churn-broken")
    before = _files(root)
    first = _invoke("check", root, "--add-noqa")
    assert first.exit_code == 0, first.stderr
    assert "Added 6 noqa directives." in first.stderr
    # The pair's own rules have no line to hold a comment: said, not written anywhere.
    assert first.stderr.count("no `# noqa` can silence") == 2
    after = _files(root)
    changed = sorted(path for path in after if after[path] != before[path])
    assert changed == [
        "conf/base/catalog.yml",
        "src/churn_broken/pipelines/inference/pipeline.py",
        "src/churn_broken/pipelines/legacy/pipeline.py",
    ]
    second = _invoke("check", root, "--add-noqa")
    assert "Added 0 noqa directives." in second.stderr
    assert _files(root) == after
    report = _invoke("check", root, "--format", "json", "--show-unused-noqa")
    remaining = sorted(v["code"] for v in json.loads(report.stdout)["violations"])
    assert remaining == ["KML004", "KML005"]
    assert "unused" not in report.stderr  # every comment written silences something


@pytest.mark.integration
@pytest.mark.usefixtures("_cli_side_effects_undone")
def test_exit_non_zero_on_fix(example) -> None:
    root = example("churn-broken")
    fixed = _invoke("check", root, "--select", "KML001", "--fix", "--exit-non-zero-on-fix")
    assert fixed.exit_code == 1, fixed.stderr  # nothing remains, but something was fixed
    assert "All checks passed! (2 pairs checked, 1 fixed)" in fixed.stdout
    again = _invoke("check", root, "--select", "KML001", "--fix", "--exit-non-zero-on-fix")
    assert again.exit_code == 0, again.stderr  # nothing to fix any more
    other = root.parent / "other"
    shutil.copytree(EXAMPLES / "churn-broken", other, ignore=shutil.ignore_patterns("__pycache__"))
    flags = ["--select", "KML001", "--fix", "--exit-non-zero-on-fix", "--exit-zero"]
    zero = _invoke("check", other, *flags)
    assert zero.exit_code == 0, zero.stderr  # --exit-zero wins, as in ruff
    assert "1 fixed" in zero.stdout


@pytest.mark.usefixtures("_cli_side_effects_undone")
@pytest.mark.parametrize(
    ("flags", "clash"),
    [
        (["--add-noqa", "--fix"], "--add-noqa cannot be used with --fix"),
        (["--show-settings", "--watch"], "--show-settings cannot be used with --watch"),
        (["--watch", "--log"], "--watch cannot be used with --log"),
    ],
)
def test_options_that_do_not_go_together(tmp_path: Path, flags: list[str], clash: str) -> None:
    run = _invoke("check", tmp_path, *flags)
    assert run.exit_code == 2
    assert run.stderr.count("\n") == 1 and clash in run.stderr
