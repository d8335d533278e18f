"""docs/editors.md: every snippet parses, and names the command and settings the server has."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import fields
from pathlib import Path

import pytest
import tomllib

from kedro_ml_lint.server.lsp import Options

DOC = Path(__file__).resolve().parents[1] / "docs" / "editors.md"
SETTINGS = {f.name for f in fields(Options)}


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_the_helix_snippet_is_valid_toml_starting_the_server() -> None:
    (snippet,) = blocks("toml")
    config = tomllib.loads(snippet)
    server = config["language-server"]["kedro-ml-lint"]
    assert [server["command"], *server["args"]] == ["kedro-ml-lint", "server"]
    assert set(server["config"]) <= SETTINGS
    assert {"python", "yaml", "toml"} == {
        language["name"]
        for language in config["language"]
        if "kedro-ml-lint" in language["language-servers"]
    }


def test_the_json_snippets_parse_and_the_settings_table_is_the_servers() -> None:
    package, wire = blocks("json")
    assert json.loads(package)["dependencies"]["vscode-languageclient"]
    diagnostic = json.loads(wire)["params"]["diagnostics"][0]
    assert diagnostic["source"] == "kedro-ml-lint"
    table = re.findall(r"^\| `(\w+)`(?:, `(\w+)`)? \|", DOC.read_text(encoding="utf-8"), re.M)
    assert {name for row in table for name in row if name} == SETTINGS


def test_every_snippet_starts_kedro_ml_lint_server() -> None:
    (lua,) = blocks("lua")
    (js,) = blocks("js")
    (elisp,) = blocks("elisp")
    assert '{ "kedro-ml-lint", "server" }' in lua
    assert 'command: "kedro-ml-lint", args: ["server"]' in js
    assert '("kedro-ml-lint" "server"' in elisp
    assert set(re.findall(r"(\w+) = [\d.]+", lua)) <= SETTINGS


@pytest.mark.integration
def test_the_neovim_snippet_is_valid_lua() -> None:
    luac = shutil.which("luac") or shutil.which("luac5.4")
    if luac is None:
        pytest.skip("no Lua compiler here (apt-get install lua5.4)")
    (lua,) = blocks("lua")
    result = subprocess.run([luac, "-p", "-"], input=lua, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
