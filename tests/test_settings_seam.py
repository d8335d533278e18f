"""Kedro's settings configured with dynaconf's stack reads made cheap, and exact.

``seams.kedro_settings.stack_without_source`` gives dynaconf's modules an ``inspect`` whose
``stack()`` skips the frames' source lines; what dynaconf reads of it (filenames) must be
what the real ``inspect.stack()`` gives, and a dynaconf that reads anything else is left alone.
"""

from __future__ import annotations

import inspect
import sys
import types
from pathlib import Path

import dynaconf.loaders.py_loader
import dynaconf.utils.files
import pytest

from kedro_ml_lint.seams.kedro_settings import stack_without_source


def _filenames_seen_by(module: types.ModuleType) -> tuple[list[str], list[str]]:
    """The stack's filenames as ``module`` reads them, and as ``inspect`` itself gives them."""
    seen = [item.filename for item in module.inspect.stack()]
    real = [item.filename for item in inspect.stack()]
    return seen, real


def _deep(depth: int, module: types.ModuleType) -> tuple[list[str], list[str]]:
    return _filenames_seen_by(module) if depth == 0 else _deep(depth - 1, module)


@pytest.mark.parametrize("module", [dynaconf.utils.files, dynaconf.loaders.py_loader])
def test_dynaconf_reads_the_same_filenames_without_source_context(
    module: types.ModuleType,
) -> None:
    with stack_without_source():
        assert module.inspect is not inspect  # swapped: this dynaconf reads filenames only
        seen, real = _deep(12, module)
        entry = module.inspect.stack()[-1]
    assert module.inspect is inspect  # put back
    assert seen == real and len(seen) > 12
    assert entry.filename == inspect.stack()[-1].filename
    assert entry.code_context is None  # no source was read


def test_dynaconf_finds_the_same_settings_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "settings.toml").write_text("a = 1\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    found = dynaconf.utils.files.find_file("settings.toml")
    with stack_without_source():
        assert (
            dynaconf.utils.files.find_file("settings.toml")
            == found
            == str(tmp_path / "settings.toml")
        )


def test_a_dynaconf_that_reads_more_of_inspect_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "files.py"
    source.write_text(
        "import inspect\n"
        "def find_file():\n"
        "    here = inspect.currentframe()\n"
        "    return inspect.stack()[-1].filename, here\n",
        encoding="utf-8",
    )
    other = types.ModuleType("dynaconf.utils.files")
    other.__file__ = str(source)
    other.inspect = inspect  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "dynaconf.utils.files", other)
    with stack_without_source():
        assert other.inspect is inspect  # type: ignore[attr-defined]
        assert dynaconf.loaders.py_loader.inspect is not inspect  # the other one still is
