"""Kedro 0.17/0.18's ``ConfigLoader`` and ``TemplatedConfigLoader``, read statically.

Kedro 0.19 removed both, so a project that names them in ``settings.py`` (0.18) or in
its ``register_config_loader`` hook (0.17) gets these classes in their place while it
is loaded. They keep the semantics that era's ``kedro run`` had (checked against
Kedro 0.17.7 and 0.18.14's ``kedro/config``):

- configuration paths ``base`` then the run environment, each of which must exist;
- files matched by glob patterns, recursively, with one of the suffixes Kedro's
  ``SUPPORTED_EXTENSIONS`` listed (``.yml``, ``.yaml``, ``.json``, ``.ini``,
  ``.pickle``, ``.properties``, ``.xml``), hidden files included only when a pattern
  names them;
- each file read as anyconfig 0.10 (Kedro's ``anyconfig~=0.10``) read it: YAML with
  PyYAML's safe loader (plus ``!!python/unicode``), JSON with ``json``, INI with
  ``configparser`` (a section per top-level key, values kept as strings, ``%(…)s``
  interpolated, a non-empty ``[DEFAULT]`` kept as the key ``DEFAULT``);
- a top-level key in two files of one environment is an error; the run environment
  replaces ``base``'s top-level keys; keys starting with ``_`` are dropped;
- ``TemplatedConfigLoader``: ``${path.to.value}`` and ``${key|default}`` replaced
  from the globals files and ``globals_dict`` (which wins), a whole-string template
  keeping the global's type, with or without globals (since 0.17.3; before, a loader
  without globals left templates as written).

Refused with exit 2 naming the file (docs/design.md §12), never read as something else:

- Jinja2 (``{{``, ``{%``, ``{#``) in a file Kedro rendered with Jinja2 through
  anyconfig (``ac_template=True``) before parsing it, which kedro-ml-lint does not do:
  0.18's ``TemplatedConfigLoader`` rendered its files but not its globals files nor
  ``ConfigLoader``'s; 0.17's loaders (built by its hook, given the paths) are held to
  every file, globals included, as 0.17.0's ``TemplatedConfigLoader`` rendered its
  globals too and kedro-ml-lint does not tell 0.17 releases apart;
- ``.pickle`` files (unpickling runs code a static check must not run) and
  ``.properties``/``.xml`` files (anyconfig's own parsers, not reproduced exactly).

Not emulated: JMESPath expressions beyond dotted keys (rare in catalogs).
"""

from __future__ import annotations

import configparser
import json
import re
from collections.abc import Iterable, Mapping
from glob import iglob
from pathlib import Path
from typing import Any

import yaml
from kedro.config import AbstractConfigLoader, BadConfigException, MissingConfigException

from kedro_ml_lint.errors import ProjectConfigError

# Kedro 0.17/0.18's ``kedro.config.common.SUPPORTED_EXTENSIONS``: a file with one of
# these suffixes is read (and counts for duplicate keys); any other is not.
SUPPORTED_SUFFIXES = (".yml", ".yaml", ".json", ".ini", ".pickle", ".properties", ".xml")
_YAML_SUFFIXES = (".yml", ".yaml")
_REFUSED = {
    ".pickle": "unpickling runs code, which a static check does not do",
    ".properties": "kedro-ml-lint does not reproduce anyconfig's Java-properties parser",
    ".xml": "kedro-ml-lint does not reproduce anyconfig's XML-to-dict mapping",
}
# What Jinja2 would render: an expression, a statement or a comment.
_JINJA = re.compile(r"\{[{%#]")
DEFAULT_PATTERNS: dict[str, list[str]] = {
    "catalog": ["catalog*", "catalog*/**", "**/catalog*"],
    "parameters": ["parameters*", "parameters*/**", "**/parameters*"],
    "credentials": ["credentials*", "credentials*/**", "**/credentials*"],
    "logging": ["logging*", "logging*/**", "**/logging*"],
}
_TEMPLATE = re.compile(r"\$\{(?P<path>[A-Za-z0-9_.]+)(?:\|(?P<default>[^}]*))?\}")
_WHOLE_TEMPLATE = re.compile(rf"^{_TEMPLATE.pattern}$")


class LegacyConfigLoader(AbstractConfigLoader):
    """Kedro 0.17/0.18's ``ConfigLoader``.

    Args:
        conf_source: The configuration folder (0.18), or a list of configuration paths
            (0.17's ``conf_paths``, given by its ``register_config_loader`` hook).
        env: The run environment; ``default_run_env`` when ``None``.
        runtime_params: Accepted and unused, as in Kedro 0.18.
        config_patterns: Extra or replaced glob patterns per key (0.18).
        base_env: The base environment's folder name.
        default_run_env: The environment used when ``env`` is ``None``.
        **kwargs: Other arguments of that era (``extra_params``, ``log_warnings``).
    """

    def __init__(
        self,
        conf_source: str | Path | Iterable[str] | None = None,
        env: str | None = None,
        runtime_params: dict[str, Any] | None = None,
        config_patterns: dict[str, list[str]] | None = None,  # positional in 0.18 too
        *,
        base_env: str = "base",
        default_run_env: str = "local",
        conf_paths: str | Iterable[str] | None = None,
        **kwargs: Any,
    ) -> None:
        paths = conf_paths if conf_paths is not None else conf_source
        if paths is None:
            raise ValueError("a config loader needs `conf_source` (or `conf_paths`)")
        # 0.18 gave ``conf_source`` (a folder); 0.17's hook gave the paths themselves.
        # A 0.17 loader's files may all have been rendered with Jinja2 (see above).
        self.jinja_everywhere = not isinstance(paths, str | Path)
        if isinstance(paths, str | Path):
            source = Path(paths)
            run_env = env or default_run_env
            self.conf_paths = list(dict.fromkeys([str(source / base_env), str(source / run_env)]))
        else:  # 0.17: the paths themselves
            self.conf_paths = [str(p) for p in paths]
            source = Path(self.conf_paths[0]).parent if self.conf_paths else Path("conf")
        super().__init__(conf_source=str(source), env=env, runtime_params=runtime_params)
        self.base_env = base_env
        self.default_run_env = default_run_env
        self.config_patterns = {**DEFAULT_PATTERNS, **(config_patterns or {})}

    def __getitem__(self, key: str) -> Any:
        if key not in self.config_patterns:
            raise KeyError(key)
        return self.get(*self.config_patterns[key])

    def get(self, *patterns: Any) -> Any:
        """The merged configuration of the files matching ``patterns`` (0.17's API)."""
        return load_patterns(self.conf_paths, patterns, jinja=self.jinja_everywhere)

    def files(self, key: str) -> list[Path]:
        """The files read for ``key``, run environment first (for file:line lookups)."""
        patterns = self.config_patterns.get(key, [f"{key}*"])
        return [f for path in reversed(self.conf_paths) for f in _lookup(Path(path), patterns)]


class LegacyTemplatedConfigLoader(LegacyConfigLoader):
    """Kedro 0.17/0.18's ``TemplatedConfigLoader``: ``${…}`` filled from globals.

    Args:
        conf_source: As for :class:`LegacyConfigLoader`.
        env: As for :class:`LegacyConfigLoader`.
        runtime_params: As for :class:`LegacyConfigLoader`.
        config_patterns: As for :class:`LegacyConfigLoader`.
        globals_pattern: Glob of the files holding the template values.
        globals_dict: Template values given in code; they win over the files.
        **kwargs: As for :class:`LegacyConfigLoader`.
    """

    def __init__(
        self,
        conf_source: str | Path | Iterable[str] | None = None,
        env: str | None = None,
        runtime_params: dict[str, Any] | None = None,
        config_patterns: dict[str, list[str]] | None = None,
        *,
        globals_pattern: str | None = None,
        globals_dict: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(conf_source, env, runtime_params, config_patterns, **kwargs)
        # 0.18 read the globals files with ``ac_template=False``.
        from_files = (
            load_patterns(self.conf_paths, [globals_pattern], jinja=self.jinja_everywhere)
            if globals_pattern
            else {}
        )
        self._globals = {**from_files, **(globals_dict or {})}

    def get(self, *patterns: Any) -> Any:
        """The merged configuration with every ``${…}`` filled in.

        Raises:
            ProjectConfigError: When a file holds Jinja2, which Kedro rendered first.
        """
        return fill_templates(load_patterns(self.conf_paths, patterns, jinja=True), self._globals)


def load_patterns(
    conf_paths: Iterable[str], patterns: Iterable[str], *, jinja: bool = False
) -> dict[str, Any]:
    """Kedro 0.17/0.18's ``_get_config_from_patterns``: load, check and merge.

    Args:
        conf_paths: The environment folders, lowest precedence first.
        patterns: Glob patterns of the files to read.
        jinja: Whether Kedro rendered the files with Jinja2 (``ac_template``).

    Raises:
        MissingConfigException: When no file matches.
        BadConfigException: When a file cannot be parsed or two files of one
            environment define the same key.
        ProjectConfigError: When a configuration path is missing, a file is one
            kedro-ml-lint refuses to read (Jinja2 under ``jinja``, ``.pickle``,
            ``.properties``, ``.xml``), or an INI file is invalid.
    """
    patterns = [p for p in patterns if p]
    config: dict[str, Any] = {}
    processed: set[Path] = set()
    for conf_path in conf_paths:
        if not Path(conf_path).is_dir():
            # Kedro raised a ValueError here: the run stopped, nothing was read as empty.
            raise ProjectConfigError(
                "the configuration folder does not exist, and Kedro 0.17/0.18's config "
                "loader stops `kedro run` without it",
                _shown(Path(conf_path)),
            )
        files = sorted(set(_lookup(Path(conf_path), patterns)) - processed)
        seen: dict[Path, set[str]] = {}
        env_config: dict[str, Any] = {}
        for path in files:
            single = _load_file(path, jinja=jinja)
            for other, keys in seen.items():
                common = sorted(keys & single.keys())
                if common:
                    raise BadConfigException(
                        f"Duplicate keys found in {_shown(path)} and {_shown(other)}: "
                        f"{', '.join(common)}"
                    )
            seen[path] = set(single)
            env_config.update(single)
        config.update(env_config)
        processed |= set(files)
    if not processed:
        raise MissingConfigException(
            f"No files found in {list(conf_paths)} matching the glob pattern(s): {patterns}"
        )
    return config


def _lookup(conf_path: Path, patterns: Iterable[str]) -> list[Path]:
    found: set[Path] = set()
    root = conf_path.resolve()
    for pattern in patterns:
        # ``Path.glob`` skips files when a pattern ends with ``**``: Kedro used iglob too.
        for each in iglob(str(root / pattern), recursive=True):
            path = Path(each).resolve()
            if path.is_file() and path.suffix in SUPPORTED_SUFFIXES:
                found.add(path)
    return sorted(found)


def _load_file(path: Path, *, jinja: bool = False) -> dict[str, Any]:
    """One file's top-level keys, minus those starting with ``_``, as anyconfig read it."""
    if path.suffix in _REFUSED:
        raise ProjectConfigError(
            f"Kedro 0.17/0.18 read `{path.suffix}` configuration through anyconfig; "
            f"{_REFUSED[path.suffix]}: write it as YAML (or JSON) instead",
            _shown(path),
        )
    text = path.read_text(encoding="utf-8")
    if jinja:
        _refuse_jinja(path, text)
    try:
        if path.suffix in _YAML_SUFFIXES:
            data = yaml.load(text, Loader=_Loader)  # a safe loader
        elif path.suffix == ".ini":
            data = _read_ini(text, path)
        else:
            data = json.loads(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise BadConfigException(f"Invalid config file {path}: {exc}") from exc
    if data is None:
        return {}
    # Kedro called ``.items()`` and ``k.startswith("_")``: anything else failed there.
    if not isinstance(data, Mapping) or not all(isinstance(k, str) for k in data):
        raise BadConfigException(f"Couldn't load config file: {path}")
    return {k: v for k, v in data.items() if not k.startswith("_")}


# anyconfig 0.10 took libyaml's safe loader when PyYAML had it, the pure one otherwise.
_SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SAFE_LOADER):
    """anyconfig 0.10's YAML loader: PyYAML's safe one, ``!!python/unicode`` a string."""


_Loader.add_constructor(
    "tag:yaml.org,2002:python/unicode",
    lambda loader, node: loader.construct_scalar(node),
)


def _read_ini(text: str, path: Path) -> dict[str, Any]:
    """Read INI as anyconfig 0.10 did (no ``ac_parse_value``): sections of strings."""
    parser = configparser.ConfigParser()
    try:
        parser.read_string(text, source=str(path))
        data: dict[str, Any] = {}
        defaults = parser.defaults()
        if defaults:  # raw, as ``defaults()`` gives them
            data[configparser.DEFAULTSECT] = dict(defaults)
        for section in parser.sections():
            data[section] = dict(parser.items(section))  # interpolated, defaults merged
    except configparser.Error as exc:
        if isinstance(exc, configparser.InterpolationError):
            # configparser's message quotes the raw value, which may be a secret.
            message = (
                f"a `%` interpolation in option `{exc.option}` of section `[{exc.section}]` "
                f"cannot be resolved ({type(exc).__name__}); write `%%` for a literal `%`"
            )
        else:  # its first line names the file, section and option, never a value
            message = str(exc).splitlines()[0].replace(f"{path}", path.name)
        raise ProjectConfigError(
            f"invalid INI file: {message}", _shown(path), _ini_error_line(exc, text)
        ) from exc
    return data


def _ini_error_line(exc: configparser.Error, text: str) -> int | None:
    line = getattr(exc, "lineno", None)
    if line is None and isinstance(exc, configparser.ParsingError) and exc.errors:
        line = exc.errors[0][0]
    if line is None and isinstance(exc, configparser.InterpolationError):
        line = _option_line(text, exc.section, exc.option)
    return line if isinstance(line, int) else None


def _option_line(text: str, section: str, option: str) -> int | None:
    """The line of ``option`` in ``[section]`` (options compare lower-cased, as read)."""
    inside = False
    for number, line in enumerate(text.splitlines(), start=1):
        header = re.match(r"\[(?P<name>.+)\]", line)
        if header:
            inside = header.group("name") == section
        elif inside and re.split(r"[=:]", line, maxsplit=1)[0].strip().lower() == option:
            return number
    return None


def _refuse_jinja(path: Path, text: str) -> None:
    match = _JINJA.search(text)
    if match is None:
        return
    line = text.count("\n", 0, match.start()) + 1
    raise ProjectConfigError(
        f"Jinja2 (`{match.group(0)}`) in a file TemplatedConfigLoader reads: Kedro 0.17/0.18 "
        "rendered it with Jinja2 before parsing it, which kedro-ml-lint does not do; "
        "write the rendered entries out, or use `${…}` templates with `globals_pattern`",
        _shown(path),
        line,
    )


def _shown(path: Path) -> str:
    """``path`` relative to the working directory (the project root while it loads)."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def fill_templates(value: Any, values: Mapping[str, Any]) -> Any:
    """Replace ``${dotted.key}`` and ``${key|default}`` the way TemplatedConfigLoader did.

    Raises:
        BadConfigException: When a template names no value and has no default.
    """
    if isinstance(value, Mapping):
        filled: dict[Any, Any] = {}
        for key, item in value.items():
            if isinstance(key, str):
                new_key = fill_templates(key, values)
                if not isinstance(new_key, str):
                    raise BadConfigException(
                        f"When formatting '{key}' key, only string values can be used. "
                        f"'{new_key}' found"
                    )
                key = new_key
            filled[key] = fill_templates(item, values)
        return filled
    if isinstance(value, list):
        return [fill_templates(item, values) for item in value]
    if isinstance(value, str):
        whole = _WHOLE_TEMPLATE.match(value)
        if whole:
            return _lookup_template(whole, values)
        return _TEMPLATE.sub(lambda m: str(_lookup_template(m, values)), value)
    return value


def _lookup_template(match: re.Match[str], values: Mapping[str, Any]) -> Any:
    found: Any = values
    for part in match.group("path").split("."):
        found = found.get(part) if isinstance(found, Mapping) else None
    if found is None:
        if match.group("default") is None:
            raise BadConfigException(
                f"Failed to format pattern '{match.group(0)}': no config value found, "
                "no default provided"
            )
        return match.group("default")
    return found
