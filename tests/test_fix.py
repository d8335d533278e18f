"""``check --fix`` / ``--diff``: append-only, byte-preserving, atomic, idempotent edits."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from conftest import EXAMPLES, examples, run_cli, tree_digest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from project_factory import CATALOG, write_project
from ruamel.yaml import YAML

from kedro_ml_lint.diagnostics import Applicability, CatalogEdit, Fix, Severity, Violation
from kedro_ml_lint.files import write_atomic
from kedro_ml_lint.fix import FixWriteError, Refusal, append_entries, plan_fixes
from kedro_ml_lint.reading.catalog import CatalogIndex

# `model` renamed `other` must write a file of its own, or --fix refuses to add `model`.
OWN_FILE, OTHER_FILE = "data/06_models/model.pkl", "data/06_models/other.pkl"

CATALOG_FILE = "conf/base/catalog.yml"
PICKLE = "pickle.PickleDataset"
EXAMPLES_RUN = settings(
    max_examples=examples(ci=150, slow=1000),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def edit(name: str) -> CatalogEdit:
    return CatalogEdit(name, (("type", PICKLE), ("filepath", f"data/06_models/{name}.pkl")))


def violation(name: str, applicability: Applicability = Applicability.SAFE) -> Violation:
    fix = Fix("add an entry", applicability, (edit(name),))
    return Violation(
        "KML001", "inference-input-not-persisted", Severity.ERROR, "m", "p", name, fix=fix
    )


def load(text: str):
    return YAML(typ="safe", pure=True).load(text.lstrip("\ufeff"))


def entry_dict(name: str) -> dict[str, str]:
    return dict(edit(name).entry)


# --- the text transformation -----------------------------------------------------------

ODD_CATALOG = (
    "\ufeff# A catalog with every oddity we could think of.\r\n"
    "_csv: &csv   # an anchor\r\n"
    "    type: pandas.CSVDataset\r\n"
    "\r\n"
    "'quoted key':   {type: pickle.PickleDataset,    filepath: data/06_models/q.pkl}  # flow\r\n"
    '"double"  :\r\n'
    "    <<: *csv\r\n"
    "    filepath:   'data/01_raw/double.csv'   \r\n"
    "    load_args: {sep: ';'}\r\n"
    "list_holder:\r\n"
    "    type: partitions.PartitionedDataset\r\n"
    "    path: data/parts\r\n"
    "    dataset:\r\n"
    "        type: pandas.CSVDataset\r\n"
    "    metadata:\r\n"
    "        tags:\r\n"
    "        - a\r\n"
    "        -   b\r\n"
    "model:  # noqa: KML002\r\n"
    "    type: pickle.PickleDataset\r\n"
    "    filepath: s3://user:supersecret@bucket/model.pkl\r\n"
    "# trailing comment without a newline"
)


def test_odd_file_keeps_every_byte_and_gains_parseable_entries() -> None:
    insertion = append_entries(ODD_CATALOG, [edit("encoder"), edit("churn.scaler")])
    assert insertion.added == ("encoder", "churn.scaler")
    new = ODD_CATALOG + insertion.suffix
    assert new.startswith(ODD_CATALOG)
    assert "\n" not in insertion.suffix.replace("\r\n", "")  # the file's CRLF line ends
    document = load(new)
    assert document == {
        **load(ODD_CATALOG),
        "encoder": entry_dict("encoder"),
        "churn.scaler": entry_dict("churn.scaler"),
    }
    # New entries follow the file's 4-space indentation.
    assert "\r\n    type: pickle.PickleDataset\r\n" in insertion.suffix
    assert append_entries(new, [edit("encoder"), edit("churn.scaler")]).suffix == ""


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        ("a:\n  filepath: ${globals:folder}/a.csv\n", Refusal.TEMPLATED),
        ("# uses ${x} in a comment only\na: {type: MemoryDataset}\n", Refusal.TEMPLATED),
        ("{a: {type: MemoryDataset}}\n", Refusal.FLOW_STYLE),
        ('{"a": {"type": "MemoryDataset"}}', Refusal.FLOW_STYLE),
        ("- a\n- b\n", Refusal.NOT_A_MAPPING),
        ("a: [unclosed\n", Refusal.UNREADABLE),
        ("a:\n  type: x\n...\n", Refusal.UNSTABLE),
        ("encoder:\n  type: MemoryDataset\n", Refusal.ALREADY_DEFINED),
    ],
)
def test_files_that_are_never_rewritten(text: str, refusal: Refusal) -> None:
    insertion = append_entries(text, [edit("encoder")])
    assert insertion.suffix == ""
    assert insertion.added == ()
    assert insertion.refused == {"encoder": refusal}


@pytest.mark.parametrize("text", ["", "# comments only\n", "\n\n", "# no newline"])
def test_empty_files_get_the_entry(text: str) -> None:
    insertion = append_entries(text, [edit("encoder")])
    assert load(text + insertion.suffix) == {"encoder": entry_dict("encoder")}


def test_repeated_dataset_is_added_once() -> None:
    insertion = append_entries("", [edit("model"), edit("model")])
    assert insertion.added == ("model",)
    assert insertion.suffix.count("model:") == 1


# Generated catalogs: keys in every quoting, block/flow/odd-spaced entries, comments,
# blank lines, anchors, CRLF, BOM, and no final newline.
NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,6}(\.[a-z][a-z0-9_]{0,4})?", fullmatch=True)


@st.composite
def catalogs(draw: st.DrawFn) -> tuple[str, list[str]]:
    names = draw(st.lists(NAMES, max_size=6, unique=True))
    indent = " " * draw(st.sampled_from([2, 4]))
    chunks = []
    if draw(st.booleans()):
        chunks.append("# header comment\n\n")
    for name in names:
        key = draw(st.sampled_from([name, f'"{name}"', f"'{name}'"]))
        comment = draw(st.sampled_from(["", "  # a comment", "  # noqa: KML002", " #x"]))
        style = draw(st.sampled_from(["block", "flow", "odd", "nested"]))
        if style == "block":
            chunks.append(
                f"{key}:{comment}\n{indent}type: pandas.CSVDataset\n"
                f"{indent}filepath: data/01_raw/{name}.csv\n"
            )
        elif style == "flow":
            chunks.append(f"{key}: {{type: {PICKLE}, filepath: 'x/{name}.pkl'}}{comment}\n")
        elif style == "odd":
            chunks.append(f"{key}   :{comment}\n{indent}type:    {PICKLE}   \n")
        else:
            chunks.append(
                f"{key}:\n{indent}type: partitions.PartitionedDataset\n{indent}dataset:\n"
                f"{indent * 2}type: pandas.CSVDataset{comment}\n{indent}args: [1, 2]\n"
            )
        chunks.append(draw(st.sampled_from(["", "\n", "\n\n", "# between\n", "   \n"])))
    text = "".join(chunks)
    if draw(st.booleans()):
        text = text.rstrip("\n")
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    if draw(st.booleans()):
        text = "\ufeff" + text
    extra = draw(st.lists(NAMES, max_size=3))
    reused = draw(st.lists(st.sampled_from(names), max_size=2)) if names else []
    return text, [*extra, *reused]


@EXAMPLES_RUN
@given(catalogs())
def test_appending_keeps_bytes_parses_back_and_is_idempotent(case: tuple[str, list[str]]) -> None:
    text, names = case
    before = load(text) or {}
    insertion = append_entries(text, [edit(n) for n in names])
    new = text + insertion.suffix
    wanted = [n for n in dict.fromkeys(names) if n not in before]
    assert list(insertion.added) == wanted
    assert set(insertion.refused) == {n for n in names if n in before}
    assert (load(new) or {}) == {**before, **{n: entry_dict(n) for n in wanted}}
    again = append_entries(new, [edit(n) for n in names])
    assert again.suffix == "" and again.added == ()


@EXAMPLES_RUN
@given(catalogs())
def test_new_entries_are_located_by_the_loader(tmp_path_factory, case) -> None:
    text, names = case
    insertion = append_entries(text, [edit(n) for n in names])
    folder = tmp_path_factory.mktemp("index")
    path = folder / "catalog.yml"
    path.write_bytes((text + insertion.suffix).encode("utf-8"))
    index = CatalogIndex(folder, [path])
    lines = (text + insertion.suffix).splitlines()
    for name in insertion.added:
        position = index.position(name)
        assert position is not None
        assert lines[position.line - 1].startswith(f"{name}:")


@EXAMPLES_RUN
@given(catalogs(), st.integers(min_value=0, max_value=10_000))
def test_templated_files_are_never_touched(case: tuple[str, list[str]], where: int) -> None:
    text, names = case
    position = where % (len(text) + 1)
    templated = text[:position] + "\n# ${globals:root}\n" + text[position:]
    insertion = append_entries(templated, [edit(n) for n in names or ["model"]])
    assert insertion.suffix == "" and insertion.added == ()
    assert set(insertion.refused.values()) <= {Refusal.TEMPLATED}


# --- plans, diffs and atomic writes ------------------------------------------------------


def test_plan_only_uses_safe_fixes_with_edits(tmp_path: Path) -> None:
    (tmp_path / "conf/base").mkdir(parents=True)
    (tmp_path / CATALOG_FILE).write_text("a:\n  type: MemoryDataset\n")
    found = [
        violation("safe"),
        violation("unsafe@pickle", Applicability.UNSAFE),
        violation("display", Applicability.DISPLAY_ONLY),
    ]
    plan = plan_fixes(tmp_path, CATALOG_FILE, found)
    assert [v.subject for v in plan.fixes] == ["safe"]
    assert load(plan.after.decode()) == {"a": {"type": "MemoryDataset"}, "safe": entry_dict("safe")}
    assert plan.after.startswith(plan.before or b"")


def test_plan_creates_a_missing_file_and_diffs_from_dev_null(tmp_path: Path) -> None:
    plan = plan_fixes(tmp_path, "conf/base/catalog_models.yml", [violation("model")])
    assert plan.before is None and plan.changed
    assert plan.diff().splitlines()[:2] == ["--- /dev/null", "+++ b/conf/base/catalog_models.yml"]
    plan.write()
    assert load((tmp_path / "conf/base/catalog_models.yml").read_text()) == {
        "model": entry_dict("model")
    }


def test_diff_redacts_credentials_and_marks_missing_newline(tmp_path: Path) -> None:
    (tmp_path / "conf/base").mkdir(parents=True)
    text = "scaler:\n  type: pickle.PickleDataset\n  filepath: s3://AKIA:supersecret@b/s.pkl"
    (tmp_path / CATALOG_FILE).write_text(text)
    diff = plan_fixes(tmp_path, CATALOG_FILE, [violation("model")]).diff()
    assert "supersecret" not in diff and "AKIA" not in diff
    assert "\\ No newline at end of file" in diff
    added = [line[1:] for line in diff.splitlines() if line.startswith("+") and line[1:2] != "+"]
    assert "model:" in added


def test_failed_replace_leaves_the_original_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "conf/base").mkdir(parents=True)
    catalog = tmp_path / CATALOG_FILE
    catalog.write_bytes(CATALOG.encode())
    plan = plan_fixes(tmp_path, CATALOG_FILE, [violation("encoder")])

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(FixWriteError) as caught:
        plan.write()
    assert caught.value.path == CATALOG_FILE
    assert catalog.read_bytes() == CATALOG.encode()
    assert sorted(p.name for p in catalog.parent.iterdir()) == ["catalog.yml"]


def test_failed_flush_leaves_the_original(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "catalog.yml"
    target.write_bytes(b"a: 1\n")

    def broken_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        write_atomic(target, b"a: 1\nb: 2\n")
    assert target.read_bytes() == b"a: 1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["catalog.yml"]


def test_atomic_write_keeps_mode_and_follows_symlinks(tmp_path: Path) -> None:
    real = tmp_path / "real.yml"
    real.write_bytes(b"a: 1\n")
    real.chmod(0o640)
    link = tmp_path / "catalog.yml"
    link.symlink_to(real)
    write_atomic(link, b"a: 1\nb: 2\n")
    assert link.is_symlink()
    assert real.read_bytes() == b"a: 1\nb: 2\n"
    assert stat.S_IMODE(real.stat().st_mode) == 0o640


# --- through the real CLI -----------------------------------------------------------------


@pytest.mark.integration
def test_fix_broken_example_then_second_fix_changes_nothing(example) -> None:
    root = example("churn-broken")
    catalog = root / CATALOG_FILE
    before = catalog.read_bytes()
    run = run_cli("check", root, "--fix", "--format", "json")
    assert run.code == 1, run.stderr  # unfixable violations remain
    after = catalog.read_bytes()
    assert after.startswith(before) and after != before
    assert load(after.decode())["encoder"] == {
        "type": PICKLE,
        "filepath": "data/06_models/encoder.pkl",
    }
    document = run.json
    assert document["summary"] == {"violations": 7, "fixed": 1, "fixable": 0}
    applied = {
        (v["code"], v["subject"]) for v in document["violations"] if (v["fix"] or {}).get("applied")
    }
    assert applied == {("KML001", "encoder")}
    assert ("training", "KML001", "encoder") in run.pairs  # listed, as fixed
    digest = tree_digest(root)
    again = run_cli("check", root, "--fix", "--format", "json")
    assert again.code == 1
    assert again.json["summary"] == {"violations": 7, "fixed": 0, "fixable": 0}
    assert tree_digest(root) == digest
    assert "supersecret" not in run.stdout + run.stderr + again.stdout + again.stderr


@pytest.mark.integration
def test_fix_everything_exits_zero_and_text_counts_fixed(tmp_path: Path) -> None:
    catalog = CATALOG.replace("model:  # the fitted model", "other:  # not the model").replace(
        OWN_FILE,
        OTHER_FILE,  # a file of its own: --fix adds no second entry for one file
    )
    root = write_project(tmp_path, catalog=catalog)
    assert run_cli("check", root, "--format", "json").pairs == {("training", "KML001", "model")}
    run = run_cli("check", root, "--fix")
    assert run.code == 0, run.stdout + run.stderr
    assert (root / CATALOG_FILE).read_text().startswith(catalog.lstrip("\n"))
    assert run_cli("check", root).code == 0


@pytest.mark.integration
def test_diff_writes_nothing_and_matches_what_fix_writes(example) -> None:
    root = example("churn-broken")
    digest = tree_digest(root)
    run = run_cli("check", root, "--diff")
    assert run.code == 1
    assert tree_digest(root) == digest
    lines = run.stdout.splitlines()
    assert lines[:2] == [f"--- a/{CATALOG_FILE}", f"+++ b/{CATALOG_FILE}"]
    assert "supersecret" not in run.stdout + run.stderr
    added = "".join(line[1:] + "\n" for line in lines[3:] if line.startswith("+"))
    before = (root / CATALOG_FILE).read_text()
    assert run_cli("check", root, "--fix").code == 1
    assert (root / CATALOG_FILE).read_text() == before + added
    # Nothing left to fix: an empty diff and exit 0, like ruff.
    clean = run_cli("check", root, "--diff")
    assert clean.code == 0 and clean.stdout == ""


@pytest.mark.integration
def test_templated_catalog_is_refused_and_reported_not_applied(tmp_path: Path) -> None:
    catalog = (
        CATALOG.replace("model:  # the fitted model", "other:")
        .replace(OWN_FILE, OTHER_FILE)
        .replace("data/06_models/scaler.pkl", "${_folder}/scaler.pkl")
        + "_folder: data/06_models\n"
    )
    root = write_project(tmp_path, catalog=catalog)
    digest = tree_digest(root)
    run = run_cli("check", root, "--fix", "--format", "json")
    assert run.code == 1
    assert tree_digest(root) == digest
    (kml001,) = run.json["violations"]
    assert (kml001["code"], kml001["subject"]) == ("KML001", "model")
    assert kml001["fix"]["applied"] is False
    assert run.json["summary"]["fixed"] == 0
    notes = [line for line in run.stderr.splitlines() if "warning" in line]
    assert any("`model`" in line and "KML001" in line and CATALOG_FILE in line for line in notes)
    assert run_cli("check", root, "--diff").code == 0


@pytest.mark.integration
def test_fix_catalog_setting_creates_the_file(tmp_path: Path) -> None:
    catalog = CATALOG.replace("model:  # the fitted model", "other:").replace(OWN_FILE, OTHER_FILE)
    extra = '[tool.kedro-ml-lint]\nfix-catalog = "conf/base/catalog_models.yml"\n'
    root = write_project(tmp_path, catalog=catalog, pyproject_extra=extra)
    run = run_cli("check", root, "--fix", "--format", "json")
    assert run.code == 0, run.stderr
    assert run.json["summary"] == {"violations": 0, "fixed": 1, "fixable": 0}
    assert load((root / "conf/base/catalog_models.yml").read_text()) == {
        "model": entry_dict("model")
    }
    assert (root / CATALOG_FILE).read_text() == catalog.lstrip("\n")


@pytest.mark.integration
def test_unwritable_fix_catalog_is_exit_2_and_changes_nothing(tmp_path: Path) -> None:
    catalog = CATALOG.replace("model:  # the fitted model", "other:").replace(OWN_FILE, OTHER_FILE)
    extra = '[tool.kedro-ml-lint]\nfix-catalog = "conf/base/catalog.yml/nested.yml"\n'
    root = write_project(tmp_path, catalog=catalog, pyproject_extra=extra)
    digest = tree_digest(root)
    run = run_cli("check", root, "--fix")
    assert run.code == 2
    assert run.stderr.startswith("kedro-ml-lint: error: conf/base/catalog.yml/nested.yml")
    assert tree_digest(root) == digest


@pytest.mark.integration
def test_display_only_fix_is_never_applied(tmp_path: Path) -> None:
    catalog = CATALOG.replace(
        "type: pickle.PickleDataset\n  filepath: data/06_models/model.pkl", "type: MemoryDataset"
    )
    root = write_project(tmp_path, catalog=catalog)
    digest = tree_digest(root)
    run = run_cli("check", root, "--fix", "--format", "json")
    assert run.code == 1
    assert tree_digest(root) == digest
    (kml001,) = run.json["violations"]
    assert kml001["fix"] == {**kml001["fix"], "applicability": "display-only", "applied": False}


@pytest.mark.integration
def test_clean_example_fix_is_a_no_op() -> None:
    digest = tree_digest(EXAMPLES / "churn")
    assert run_cli("check", EXAMPLES / "churn", "--fix").code == 0
    assert tree_digest(EXAMPLES / "churn") == digest
