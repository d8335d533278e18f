"""A real LSP client (pygls's) driving a real ``kedro-ml-lint server`` process.

Tests run a scenario with :func:`run`; :class:`Session` records every
``publishDiagnostics`` and answers ``window/showDocument``.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pygls.lsp.client import LanguageClient

REPO = Path(__file__).resolve().parents[1]
T = TypeVar("T")


def run(scenario: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run an async scenario to its end (no pytest-asyncio needed)."""
    return asyncio.run(scenario())


class Session:
    """One client connected to one server process."""

    def __init__(self, client: LanguageClient) -> None:
        self.client = client
        self.published: dict[str, list[tuple[float, list[types.Diagnostic]]]] = {}
        self.shown: list[str] = []
        self.logs: list[str] = []  # window/logMessage: one line per check
        self.versions: dict[str, int] = {}

    def latest(self, path: Path) -> list[types.Diagnostic] | None:
        """The last diagnostics published for ``path``; ``None`` when none were."""
        found = self.published.get(path.as_uri())
        return list(found[-1][1]) if found else None

    def count(self, path: Path) -> int:
        return len(self.published.get(path.as_uri(), []))

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s; published: {self.summary()}")
            await asyncio.sleep(0.01)

    async def next_publish(self, path: Path, after: int, timeout: float = 60.0) -> list[Any]:
        """Wait for publish number ``after + 1`` on ``path`` and return its diagnostics."""
        await self.wait_for(lambda: self.count(path) > after, timeout)
        return list(self.published[path.as_uri()][after][1])

    def summary(self) -> dict[str, list[str]]:
        return {
            uri: [f"{d.code}:{d.range.start.line}:{d.message[:60]}" for d in found[-1][1]]
            for uri, found in self.published.items()
        }

    def open(self, path: Path, text: str | None = None) -> None:
        uri = path.as_uri()
        self.versions[uri] = 1
        language = {".py": "python", ".toml": "toml"}.get(path.suffix, "yaml")
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri,
                    language_id=language,
                    version=1,
                    text=path.read_text(encoding="utf-8") if text is None else text,
                )
            )
        )

    def change(self, path: Path, text: str) -> None:
        """Replace the whole buffer (unsaved)."""
        uri = path.as_uri()
        self.versions[uri] += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=uri, version=self.versions[uri]
                ),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )

    def save(self, path: Path) -> None:
        self.client.text_document_did_save(
            types.DidSaveTextDocumentParams(
                text_document=types.TextDocumentIdentifier(uri=path.as_uri())
            )
        )

    async def code_actions(
        self, path: Path, diagnostic: types.Diagnostic, only: list[str] | None = None
    ) -> list[Any]:
        result = await self.client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
                range=diagnostic.range,
                context=types.CodeActionContext(diagnostics=[diagnostic], only=only),
            )
        )
        return list(result or [])

    async def hover(self, path: Path, line: int, character: int) -> types.Hover | None:
        return await self.client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
                position=types.Position(line=line, character=character),
            )
        )


def server_environment(**extra: str) -> dict[str, str]:
    """The server's environment: this checkout first on the path, the cache as asked."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


@asynccontextmanager
async def session(
    python: str = sys.executable,
    options: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> AsyncIterator[Session]:
    """Start ``python -m kedro_ml_lint server`` and initialize it; shut it down after."""
    client = LanguageClient("kedro-ml-lint-tests", "1")
    recorder = Session(client)

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def diagnostics(params: types.PublishDiagnosticsParams) -> None:
        recorder.published.setdefault(params.uri, []).append((time.monotonic(), params.diagnostics))

    @client.feature(types.WINDOW_LOG_MESSAGE)
    def log(params: types.LogMessageParams) -> None:
        recorder.logs.append(params.message)

    @client.feature(types.WINDOW_SHOW_DOCUMENT)
    def show(params: types.ShowDocumentParams) -> types.ShowDocumentResult:
        recorder.shown.append(params.uri)
        return types.ShowDocumentResult(success=True)

    await client.start_io(
        python, "-m", "kedro_ml_lint", "server", env=env or server_environment(), cwd=cwd
    )
    await client.initialize_async(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            initialization_options=options or {},
            root_uri=cwd.as_uri() if cwd else None,
        )
    )
    client.initialized(types.InitializedParams())
    try:
        yield recorder
    finally:
        try:
            await asyncio.wait_for(client.shutdown_async(None), 20)
            client.exit(None)
        finally:
            await client.stop()
