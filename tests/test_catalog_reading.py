"""Reading the catalog without OmegaConf's nodes gives what Kedro's own loader gives.

``read_plain_catalog`` (seams/kedro_catalog.py) skips building a ``DictConfig`` when no
value interpolates. These tests hold it to the installed Kedro's ``OmegaConfigLoader``:
generated catalogs (YAML 1.1 and 1.2 spellings of numbers, booleans and nulls, OmegaConf's
own float rule, anchors and merge keys, interpolations, duplicate keys, several files and
environments) read both ways give the same configuration, key order included, or the fast
way declines and Kedro's reading runs, errors and all.
"""

from __future__ import annotations

import math
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import examples
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from kedro.config import OmegaConfigLoader

from kedro_ml_lint.errors import ProjectConfigError
from kedro_ml_lint.reading.catalog import CatalogView
from kedro_ml_lint.reading.config_errors import config_error
from kedro_ml_lint.reading.project import _read_config
from kedro_ml_lint.seams.kedro_catalog import read_plain_catalog

RUN = settings(
    max_examples=examples(ci=200, slow=2000),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
# Spellings whose meaning differs between YAML 1.1, YAML 1.2 and OmegaConf's own float
# rule (``1e3`` is a float to OmegaConf, a string to plain PyYAML), or that only look odd.
SCALARS = [
    "yes", "No", "on", "OFF", "y", "n", "true", "False", "TRUE", "~", "null", "Null", "",
    "1e3", "1.0e+3", "1E-2", ".5", "5.", "+1", "-0", "0x1F", "0o17", "017", "0b101",
    "1_000", "1_0.5", "12:30", "190:20:30.15", ".inf", "-.Inf", ".NaN", "2001-12-14",
    "2001-12-14t21:59:43.10-05:00", "3.14", "'quoted'", '"tab\\there"', '"\\u00e9"',
    "hello world", "???", "data/01_raw/x.csv", "s3://bucket/x.pq", "1.2.3", "0.1.0",
    "[1, two, 3.0]", "{a: 1, b: [x]}", "!!str 12", "!!float 1", "!!binary aGVsbG8=",
    "!!timestamp 2001-12-14", "'\\x24{x}'", '"\\x24{_base_0.type}"',
]  # fmt: skip
INTERPOLATIONS = ["${_base_0.type}", "${globals:bucket}", "'${globals:missing, dflt}'", "${.x}"]
NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,5}", fullmatch=True)


@contextmanager
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings():  # OmegaConf's deprecation notes on resolver registration
        warnings.simplefilter("ignore")
        yield


def _loader(conf: Path, **kwargs: Any) -> OmegaConfigLoader:
    with _quiet():
        return OmegaConfigLoader(str(conf), base_env="base", default_run_env="local", **kwargs)


def _same(a: Any, b: Any) -> bool:
    """Equal in value, type and key order (NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def _write(conf: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = conf / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (conf / "local").mkdir(parents=True, exist_ok=True)


def _kedro(conf: Path, **kwargs: Any) -> tuple[Any, BaseException | None]:
    try:
        with _quiet():
            return _loader(conf, **kwargs)["catalog"], None
    except Exception as exc:
        return None, exc


def _compare(conf: Path, **kwargs: Any) -> Any:
    """Read ``conf`` both ways; the plain result (``None`` when it declined)."""
    with _quiet():
        plain = read_plain_catalog(_loader(conf, **kwargs))
    expected, error = _kedro(conf, **kwargs)
    if error is not None:
        assert plain is None, f"Kedro raises {error!r}, the fast path read {plain!r}"
        return None
    assert plain is None or _same(plain, expected), (plain, expected)
    if plain is not None and all(isinstance(v, dict) for v in plain.values()):
        ours, theirs = CatalogView(plain), CatalogView(expected)
        for name in [*plain, "anything_x", "other"]:
            assert ours.resolve(name) == theirs.resolve(name)
    return plain


# What the fast way must decline although Kedro reads it: values OmegaConf keeps as nodes
# of its own kind (bytes, dates) and an interpolation spelled with an escape.
DECLINED = {"!!binary aGVsbG8=", "!!timestamp 2001-12-14", '"\\x24{_base_0.type}"'}


@st.composite
def _entry(draw: st.DrawFn, interpolate: bool) -> tuple[str, bool]:
    """One catalog entry's body, two-space indented, and whether it is plain."""
    lines = [draw(st.sampled_from(["  type: pandas.CSVDataset", "  <<: *base"]))]
    values = [draw(st.sampled_from(SCALARS)) for _ in range(draw(st.integers(0, 3)))]
    lines += [f"  k{index}: {value}" for index, value in enumerate(values)]
    if draw(st.booleans()):
        values.append(draw(st.sampled_from(SCALARS)))
        lines.append("  nested:\n    x: " + values[-1])
    if interpolate:
        lines.append("  i: " + draw(st.sampled_from(INTERPOLATIONS)))
    twice = draw(st.integers(0, 19)) == 0
    if twice:  # a key twice in one mapping: OmegaConf refuses it
        lines.append(lines[-1])
    plain = not interpolate and not twice and not DECLINED & set(values)
    return "\n".join(lines) + "\n", plain


@st.composite
def _catalogs(draw: st.DrawFn) -> tuple[dict[str, str], bool]:
    """Files of a conf folder, and whether reading them needs no OmegaConf node at all."""
    interpolate = draw(st.integers(0, 4)) == 0
    names = draw(st.lists(NAMES, min_size=1, max_size=6, unique=True))
    files = ["base/catalog.yml", "base/catalog_more.yml", "local/catalog.yml"]
    # An anchor per file (aliases do not cross files), under keys that do not clash.
    texts = {
        path: f"_base_{index}: &base\n  type: pickle.PickleDataset\n  x: 1\n"
        for index, path in enumerate(files)
    }
    texts["base/globals.yml"] = "bucket: s3://b\n"
    texts["base/catalog.yml"] += '"{name}_x":\n  type: pandas.ParquetDataset\n'
    texts["base/catalog.yml"] += "  filepath: data/{name}.pq\n"
    plain = True
    where = {}
    for name in names:
        where[name] = draw(st.sampled_from(files))
        body, plain_entry = draw(_entry(interpolate))
        texts[where[name]] += f"{name}:\n{body}"
        plain = plain and plain_entry
    clash = draw(st.sampled_from(["none", "none", "override", "override", "entry", "underscore"]))
    if clash == "entry":  # the same entry in two files of one environment: Kedro refuses
        texts["base/catalog_more.yml"] += f"{names[0]}:\n  type: x\n"
        plain = False
    elif clash == "underscore":  # allowed, and deep-merged by OmegaConf
        texts["base/catalog_more.yml"] += "_base_0:\n  y: 2\n"
        plain = False
    elif clash == "override" and where[names[0]] != "local/catalog.yml":
        texts["local/catalog.yml"] += f"{names[0]}:\n  type: y\n"  # replaces base's, whole
    return texts, plain


@RUN
@given(_catalogs())
def test_the_fast_reading_is_kedros_reading(case: tuple[dict[str, str], bool]) -> None:
    texts, plain = case
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "conf"
        _write(conf, texts)
        result = _compare(conf)
        event("read the fast way" if result is not None else "read by Kedro")
        if plain:  # nothing the fast way must decline: it must not decline
            assert result is not None


@pytest.mark.parametrize("strategy", ["destructive", "soft"])
def test_environments_merge_as_kedro_merges_them(tmp_path: Path, strategy: str) -> None:
    conf = tmp_path / "conf"
    _write(
        conf,
        {
            "base/catalog.yml": "a:\n  type: x\n  keep: 1\nb:\n  type: y\n_hidden:\n  z: 1\n",
            "base/sub/catalog_extra.yml": "c:\n  type: z\n",
            "base/.hidden/catalog.yml": "secret:\n  type: never\n",
            "local/catalog.yml": "a:\n  type: local\nd:\n  type: w\n",
        },
    )
    result = _compare(conf, merge_strategy={"catalog": strategy})
    assert result is not None
    assert "secret" not in result and "_hidden" not in result
    assert result["a"]["type"] == "local"


def test_the_scale_benchmarks_catalog_is_read_the_fast_way(tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    lines = ['"{name}_p":\n  type: pandas.ParquetDataset\n  filepath: d/{name}.pq\n']
    lines += [f"t_{i}:\n  type: pandas.ParquetDataset\n  filepath: d/{i}.pq\n" for i in range(1000)]
    _write(conf, {"base/catalog.yml": "\n".join(lines)})
    result = _compare(conf)
    assert result is not None and len(result) == 1001


@pytest.mark.parametrize(
    "text",
    [
        "a:\n  type: ${_t}\n_t: x\n",  # an interpolation
        'a:\n  type: "\\x24{_t}"\n_t: x\n',  # one spelled with an escape
        "a:\n  type: x\n  type: y\n",  # a duplicate key
        "a:\n  when: !!timestamp 2001-12-14\n",  # a date: OmegaConf has no node for it
        "- a\n- b\n",  # not a mapping
        "a: [1, 2\n",  # not YAML
    ],
)
def test_the_fast_way_declines_what_it_cannot_vouch_for(tmp_path: Path, text: str) -> None:
    conf = tmp_path / "conf"
    _write(conf, {"base/catalog.yml": text})
    with _quiet():
        assert read_plain_catalog(_loader(conf)) is None
    _compare(conf)


def test_the_alias_limit_is_kedros(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = tmp_path / "conf"
    entries = "".join(f"e{i}:\n  type: x\n" for i in range(60))
    _write(conf, {"base/catalog.yml": entries})
    monkeypatch.setenv("OMEGACONF_MAX_YAML_EXPANDED_NODES", "100")
    with _quiet():
        assert read_plain_catalog(_loader(conf)) is None
    assert _kedro(conf)[1] is not None
    monkeypatch.delenv("OMEGACONF_MAX_YAML_EXPANDED_NODES")
    assert _compare(conf) is not None


def test_a_subclassed_or_preset_loader_is_left_to_itself(tmp_path: Path) -> None:
    class Custom(OmegaConfigLoader):
        pass

    conf = tmp_path / "conf"
    _write(conf, {"base/catalog.yml": "a:\n  type: x\n"})
    with _quiet():
        assert read_plain_catalog(Custom(str(conf), base_env="base")) is None
        preset = _loader(conf)
        preset["catalog"] = {"b": {"type": "y"}}
        assert read_plain_catalog(preset) is None


def test_errors_are_kedros_own_with_file_and_line(tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    _write(
        conf,
        {
            "base/catalog.yml": "a:\n  type: x\n",
            "base/catalog_b.yml": "b:\n  type: x\n  type: y\n",
        },
    )
    _, error = _kedro(conf)
    assert error is not None
    files = [conf / "base" / "catalog.yml", conf / "base" / "catalog_b.yml"]
    expected = config_error(error, "catalog", files, tmp_path)
    with pytest.raises(ProjectConfigError) as raised, _quiet():
        _read_config(_loader(conf), "catalog", tmp_path)
    assert raised.value.message == expected.message
    assert (raised.value.path, raised.value.line) == ("conf/base/catalog_b.yml", 3)


@pytest.mark.integration
def test_check_reports_alike_whichever_way_the_catalog_is_read(tmp_path: Path) -> None:
    """The same catalog, plain (read the fast way) and interpolating (read by Kedro)."""
    from conftest import run_cli
    from project_factory import CATALOG, write_project

    model = "data/06_models/model.pkl"
    assert model in CATALOG
    interpolating = CATALOG.replace(model, "${_models}/model.pkl") + "\n_models: data/06_models\n"
    override = "scaler:  # local replaces base's entry whole\n  type: MemoryDataset\n"
    reports = []
    for name, catalog in (("plain", CATALOG), ("interpolating", interpolating)):
        root = write_project(tmp_path / name, catalog=catalog)
        (root / "conf" / "local" / "catalog.yml").write_text(override, encoding="utf-8")
        reports.append(run_cli("check", root, "--format", "json"))
    plain, interpolated = reports
    assert plain.code == interpolated.code == 1, (plain.stderr, interpolated.stderr)
    assert plain.json["violations"] == interpolated.json["violations"]
    assert plain.pairs == {("training", "KML001", "scaler")}  # the override was read
