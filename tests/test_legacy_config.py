"""Kedro 0.17/0.18's config loaders, emulated: every file Kedro read, read as it read it.

Kedro 0.17/0.18 read ``.yml``/``.yaml``/``.json``/``.ini``/``.pickle``/``.properties``/
``.xml`` files through anyconfig 0.10 (``kedro.config.common.SUPPORTED_EXTENSIONS``);
``TemplatedConfigLoader`` rendered its files with Jinja2 first. What kedro-ml-lint reads,
it reads to the same data; what it cannot (Jinja2, pickles, properties, XML), it refuses
naming the file and line, never reading it as something else.
"""

from __future__ import annotations

import configparser
import pickle
import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kedro.config import BadConfigException, MissingConfigException

from kedro_ml_lint.eras import (
    config_loader_args,
    loader_environments,
)
from kedro_ml_lint.eras.legacy_config import (
    LegacyConfigLoader,
    LegacyTemplatedConfigLoader,
    load_patterns,
)
from kedro_ml_lint.errors import ProjectConfigError
from kedro_ml_lint.seams.versions import KedroVersion

CATALOG_INI = """\
[DEFAULT]
root = data/01_raw

[companies]
type = pandas.CSVDataSet
filepath = %(root)s/companies.csv
Load_Args = {"sep": ","}

[_template]
type = pandas.CSVDataSet
"""


def _conf(tmp_path: Path, files: dict[str, str]) -> Path:
    """A ``conf`` folder with ``base`` and ``local`` and the given files in it."""
    conf = tmp_path / "conf"
    for env in ("base", "local"):
        (conf / env).mkdir(parents=True, exist_ok=True)
    for relative, text in files.items():
        path = conf / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return conf


def test_an_ini_catalog_is_read_as_anyconfig_read_it(tmp_path: Path) -> None:
    """Sections are entries, values stay strings, ``%(…)s`` interpolates, keys lower-case."""
    conf = _conf(tmp_path, {"base/catalog.ini": CATALOG_INI})
    assert LegacyConfigLoader(str(conf))["catalog"] == {
        "DEFAULT": {"root": "data/01_raw"},  # raw, as `defaults()` gives it
        "companies": {
            "root": "data/01_raw",  # the defaults are in every section
            "type": "pandas.CSVDataSet",
            "filepath": "data/01_raw/companies.csv",
            "load_args": '{"sep": ","}',
        },
    }


def test_an_ini_entry_is_located_at_its_section_line_with_its_noqa(tmp_path: Path) -> None:
    """Violations point at `[name]`, where `# noqa: KML…` works as on a YAML key line."""
    from kedro_ml_lint.reading.catalog import CatalogIndex

    ini = CATALOG_INI + "\n[model]  # noqa: KML001\ntype = MemoryDataSet\n"
    conf = _conf(tmp_path, {"base/catalog.ini": ini})
    loader = LegacyConfigLoader(str(conf))
    # The comment after `[model]` is no part of the section name.
    assert set(loader["catalog"]) == {"DEFAULT", "companies", "model"}
    index = CatalogIndex(tmp_path, loader.files("catalog"))
    companies, model = index.position("companies"), index.position("model")
    assert companies is not None and (companies.path, companies.line) == (
        "conf/base/catalog.ini",
        4,
    )
    model_line = ini.splitlines().index("[model]  # noqa: KML001") + 1
    assert model is not None and (model.line, model.noqa) == (model_line, frozenset({"KML001"}))


def test_ini_json_and_yaml_files_of_one_environment_merge_and_clash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the project root while it loads: paths are shown from it
    conf = _conf(
        tmp_path,
        {
            "base/parameters.yml": "alpha: 0.1\n",
            "base/parameters/model.json": '{"model": {"depth": 3}}',
            "base/parameters/extra.ini": "[features]\nnames = a, b\n",
            "local/parameters.ini": "[model]\ndepth = 5\n",
        },
    )
    assert LegacyConfigLoader(str(conf))["parameters"] == {
        "alpha": 0.1,
        "model": {"depth": "5"},  # the run environment's file replaces the key
        "features": {"names": "a, b"},
    }
    (conf / "base/parameters/more.ini").write_text("[features]\nnames = c\n")
    with pytest.raises(BadConfigException) as raised:
        LegacyConfigLoader(str(conf))["parameters"]
    assert str(raised.value) == (
        "Duplicate keys found in conf/base/parameters/more.ini and "
        "conf/base/parameters/extra.ini: features"
    )


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("[a]\nx = 1\nx = 2\n", 3),  # DuplicateOptionError
        ("x = 1\n", 1),  # MissingSectionHeaderError
        ("[a]\nx = 1\nnot a pair\n", 3),  # ParsingError
        ("[a]\nx = 1\n\n[b]\nY = %(z)s\n", 5),  # InterpolationMissingOptionError
    ],
)
def test_a_bad_ini_file_is_named_with_its_line(tmp_path: Path, text: str, line: int) -> None:
    conf = _conf(tmp_path, {"base/catalog.ini": text})
    with pytest.raises(ProjectConfigError) as raised:
        LegacyConfigLoader(str(conf))["catalog"]
    assert raised.value.path is not None and raised.value.path.endswith("base/catalog.ini")
    assert raised.value.line == line
    assert raised.value.message.startswith("invalid INI file: ")


def test_an_ini_interpolation_error_does_not_show_the_value(tmp_path: Path) -> None:
    conf = _conf(tmp_path, {"base/parameters.ini": "[db]\npassword = s3cr%t\n"})
    with pytest.raises(ProjectConfigError) as raised:
        LegacyConfigLoader(str(conf))["parameters"]
    assert raised.value.line == 2
    assert "s3cr" not in str(raised.value) and "`password` of section `[db]`" in str(raised.value)


def test_a_pickle_is_refused_unread(tmp_path: Path) -> None:
    """Unpickling runs code: the file is named and never loaded."""
    marker = tmp_path / "ran"
    conf = _conf(tmp_path, {})
    (conf / "base/parameters.pickle").write_bytes(
        pickle.dumps(_Touch(str(marker)))  # loading it would create `marker`
    )
    with pytest.raises(ProjectConfigError) as raised:
        LegacyConfigLoader(str(conf))["parameters"]
    assert raised.value.path is not None and raised.value.path.endswith("base/parameters.pickle")
    assert "unpickling runs code" in raised.value.message
    assert not marker.exists()


class _Touch:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (self.path, "w"))


@pytest.mark.parametrize("suffix", [".xml", ".properties"])
def test_formats_read_by_anyconfigs_own_parsers_are_refused(tmp_path: Path, suffix: str) -> None:
    conf = _conf(tmp_path, {f"local/catalog{suffix}": "x = 1\n"})
    with pytest.raises(ProjectConfigError, match=f"`{suffix}` configuration"):
        LegacyConfigLoader(str(conf))["catalog"]


def test_a_subclass_passing_018s_arguments_positionally_gets_them(tmp_path: Path) -> None:
    """0.18's loaders took ``config_patterns`` as their fourth positional argument."""
    conf = _conf(tmp_path, {"base/spark.yml": "spark.master: local\n"})

    class SparkLoader(LegacyTemplatedConfigLoader):
        def __init__(self, conf_source: str, env: str | None = None, runtime_params=None):
            super().__init__(conf_source, env, runtime_params, {"spark": ["spark*"]})

    assert SparkLoader(str(conf))["spark"] == {"spark.master": "local"}


def test_other_suffixes_are_not_read_as_kedro_did_not(tmp_path: Path) -> None:
    conf = _conf(tmp_path, {"base/catalog.yml": "a: {type: MemoryDataSet}\n"})
    (conf / "base/catalog.toml").write_text("[b]\ntype = 'x'\n")
    (conf / "base/catalog.yml.bak").write_text("c: {}\n")
    assert LegacyConfigLoader(str(conf))["catalog"] == {"a": {"type": "MemoryDataSet"}}


JINJA_CATALOG = """\
# Jinja2, rendered by Kedro 0.17/0.18's TemplatedConfigLoader
cars:
{% for brand in ["vw", "bmw"] %}
  {{ brand }}_cars:
    type: pandas.CSVDataSet
{% endfor %}
"""


def test_jinja_in_a_templated_file_is_refused_at_its_first_tag(tmp_path: Path) -> None:
    conf = _conf(tmp_path, {"base/catalog.yml": JINJA_CATALOG})
    loader = LegacyTemplatedConfigLoader(str(conf))
    with pytest.raises(ProjectConfigError) as raised:
        loader["catalog"]
    assert raised.value.line == 3
    assert "Jinja2 (`{%`)" in raised.value.message
    assert "`${…}` templates" in raised.value.message


@pytest.mark.parametrize("tag", ["{{ x }}", "{# note #}"])
def test_every_jinja_tag_counts(tmp_path: Path, tag: str) -> None:
    conf = _conf(tmp_path, {"local/catalog.json": f'{{"a": {{"filepath": "{tag}"}}}}'})
    with pytest.raises(ProjectConfigError) as raised:
        LegacyTemplatedConfigLoader(str(conf))["catalog"]
    assert raised.value.line == 1 and f"(`{tag[:2]}`)" in raised.value.message


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="{}%#-ab: \n'\"", max_size=40))
def test_text_without_a_jinja_tag_renders_to_itself(text: str) -> None:
    """Why only `{{`, `{%`, `{#` are refused: without them Jinja2 gives the text back.

    Jinja2 itself is the oracle (anyconfig rendered with its default delimiters); it drops
    one trailing newline, which no YAML, JSON or INI reading sees.
    """
    jinja2 = pytest.importorskip("jinja2")
    from kedro_ml_lint.eras.legacy_config import _JINJA

    if _JINJA.search(text) is None:
        rendered = jinja2.Environment().from_string(text).render()
        assert rendered in (text, text.removesuffix("\n"))


def test_jinja_is_text_for_018s_plain_loader_and_in_its_globals(tmp_path: Path) -> None:
    """0.18's ConfigLoader and its globals files were not rendered: the text is the value."""
    conf = _conf(
        tmp_path,
        {
            "base/catalog.yml": 'a:\n  filepath: "data/{{ name }}.csv"\n',
            "base/globals.yml": 'folder: "{% raw %}"\n',
            "base/parameters.yml": "folder: ${folder}\n",
        },
    )
    assert LegacyConfigLoader(str(conf))["catalog"] == {"a": {"filepath": "data/{{ name }}.csv"}}
    loader = LegacyTemplatedConfigLoader(str(conf), globals_pattern="*globals.yml")
    assert loader["parameters"] == {"folder": "{% raw %}"}
    # 0.17 (the hook's paths): held to every file, as some 0.17 releases rendered them.
    conf_paths = [str(conf / "base"), str(conf / "local")]
    with pytest.raises(ProjectConfigError, match=r"Jinja2 \(`\{\{`\)"):
        LegacyConfigLoader(conf_paths)["catalog"]
    with pytest.raises(ProjectConfigError, match=r"globals.yml"):
        LegacyTemplatedConfigLoader(conf_paths, globals_pattern="*globals.yml")


def test_templates_are_filled_even_without_globals(tmp_path: Path) -> None:
    """Since 0.17.3 a default is used, and a template without one fails, with no globals."""
    conf = _conf(tmp_path, {"base/catalog.yml": "a:\n  filepath: ${folder|data}/a.csv\n"})
    conf_paths = [str(conf / "base"), str(conf / "local")]
    for loader in (LegacyTemplatedConfigLoader(str(conf)), LegacyTemplatedConfigLoader(conf_paths)):
        assert loader["catalog"] == {"a": {"filepath": "data/a.csv"}}
    (conf / "base/catalog.yml").write_text("a:\n  filepath: ${folder}/a.csv\n")
    with pytest.raises(BadConfigException, match="no config value found"):
        LegacyTemplatedConfigLoader(str(conf))["catalog"]


def test_yaml_reads_python_unicode_and_refuses_other_python_tags(tmp_path: Path) -> None:
    conf = _conf(tmp_path, {"base/parameters.yml": "name: !!python/unicode abc\n"})
    assert LegacyConfigLoader(str(conf))["parameters"] == {"name": "abc"}
    (conf / "base/parameters.yml").write_text("pair: !!python/tuple [1, 2]\n")
    with pytest.raises(BadConfigException, match="python/tuple"):
        LegacyConfigLoader(str(conf))["parameters"]


def test_a_missing_configuration_path_stops_instead_of_reading_nothing(tmp_path: Path) -> None:
    conf = _conf(tmp_path, {"base/catalog.yml": "a: {type: MemoryDataSet}\n"})
    with pytest.raises(ProjectConfigError) as raised:
        load_patterns([str(conf / "base"), str(conf / "prod")], ["catalog*"])
    assert raised.value.path is not None and raised.value.path.endswith("conf/prod")
    with pytest.raises(MissingConfigException):
        load_patterns([str(conf / "base")], ["parameters*"])


SECTION = st.text(string.ascii_letters + string.digits + "_-. ", min_size=1, max_size=8).map(
    str.strip
)
OPTION = st.text(string.ascii_lowercase + string.digits + "_", min_size=1, max_size=8)
VALUE = st.text(string.ascii_letters + string.digits + " _-./:,{}\"'", max_size=12).map(str.strip)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(SECTION.filter(bool), st.dictionaries(OPTION, VALUE, max_size=4)))
def test_ini_sections_read_back_as_written(
    tmp_path_factory: pytest.TempPathFactory, sections: dict[str, dict[str, str]]
) -> None:
    """Whatever sections and options: each section a key, its options as written."""
    sections = {k: v for k, v in sections.items() if k != configparser.DEFAULTSECT}
    text = "".join(
        f"[{name}]\n" + "".join(f"{key} = {value}\n" for key, value in options.items())
        for name, options in sections.items()
    )
    conf = _conf(tmp_path_factory.mktemp("ini"), {"base/parameters.ini": text})
    expected = {name: opts for name, opts in sections.items() if not name.startswith("_")}
    assert load_patterns([str(conf / "base")], ["parameters*"]) == expected


V018, V019 = KedroVersion(0, 18), KedroVersion(0, 19)


def test_a_018_omegaconfigloader_gets_018s_environments() -> None:
    from kedro.config import OmegaConfigLoader

    partial = {"config_patterns": {"spark": ["spark*"]}}
    assert config_loader_args(V018, OmegaConfigLoader, partial) == {
        "base_env": "base",
        "default_run_env": "local",
        **partial,
    }
    assert config_loader_args(V018, OmegaConfigLoader, {"base_env": "b"})["base_env"] == "b"
    assert config_loader_args(V019, OmegaConfigLoader, partial) == partial
    assert loader_environments(V018, OmegaConfigLoader, partial) == ("base", "local")


def test_018s_own_loaders_check_the_local_environment_with_partial_args() -> None:
    """`CONFIG_LOADER_ARGS = {"globals_pattern": …}` still reads `conf/local`."""
    partial = {"globals_pattern": "*globals.yml"}
    assert loader_environments(V018, LegacyTemplatedConfigLoader, partial) == ("base", "local")
    assert config_loader_args(V018, LegacyTemplatedConfigLoader, partial) == partial
    assert loader_environments(V018, object, partial) == ("base", "")
