"""The language server: LSP requests in, the worker's verdicts out as diagnostics.

The server process never imports a project. It keeps the open buffers (pygls), decides
which project a file belongs to, debounces edits, hands the check to the worker
(:mod:`kedro_ml_lint.server.supervisor`) in a thread, and turns the reply into diagnostics,
code actions and hovers. A check whose buffers changed while it ran is stale: its reply is
dropped and the newer check runs next.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from kedro_ml_lint._version import __version__
from kedro_ml_lint.fix.noqa import add_noqa_comment, language_of
from kedro_ml_lint.reading.pyproject import find_project_root
from kedro_ml_lint.server.hover import hover_markdown, lookup, name_at
from kedro_ml_lint.server.overlay import ShadowTree
from kedro_ml_lint.server.ranges import Span, path_to_uri, replacement, span_of, uri_to_path
from kedro_ml_lint.server.supervisor import Worker, WorkerFailure
from kedro_ml_lint.vocabulary import PYPROJECT

SOURCE = "kedro-ml-lint"
SHOW_DOCUMENTATION = "kedro-ml-lint.showRuleDocumentation"
FIX_ALL = f"{types.CodeActionKind.SourceFixAll.value}.kedro-ml-lint"
LOAD_FAILED = "the project could not be loaded: "
# The files a verdict can depend on: configuration, code, settings, requirements.
WATCHED = frozenset({".py", ".yml", ".yaml", ".toml", ".json", ".txt", ".in", ".cfg", ".ini"})
SEVERITIES = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning}
logger = logging.getLogger(__name__)


@dataclass
class Options:
    """What the client may set (``initializationOptions`` or ``kedro-ml-lint`` settings).

    Attributes:
        timeout: Seconds a project load may take before it is reported as hung.
        debounce: Seconds to wait after an edit to an unsaved buffer before checking.
        env: ``check --env``.
        select: ``check --select``.
        ignore: ``check --ignore``.
        cache: Use the snapshot cache as ``check`` does (``KEDRO_ML_LINT_NO_CACHE`` too).
    """

    timeout: float = 30.0
    debounce: float = 0.3
    env: str | None = None
    select: list[str] | None = None
    ignore: list[str] | None = None
    cache: bool = True

    def update(self, values: Any) -> None:
        """Take the known keys of a settings object; others are ignored."""
        if not isinstance(values, dict):
            return
        values = values.get("kedro-ml-lint", values)
        if not isinstance(values, dict):
            return
        for key in ("timeout", "debounce"):
            if isinstance(values.get(key), (int, float)) and values[key] >= 0:
                setattr(self, key, float(values[key]))
        if values.get("env") is None or isinstance(values.get("env"), str):
            self.env = values.get("env", self.env)
        for key in ("select", "ignore"):
            if isinstance(values.get(key), list):
                setattr(self, key, [str(code) for code in values[key]])
        if isinstance(values.get("cache"), bool):
            self.cache = values["cache"]


@dataclass
class Published:
    """One diagnostic as published, with what its code actions need."""

    diagnostic: types.Diagnostic
    violation: dict[str, Any] | None  # None: the load failed
    path: Path


@dataclass
class ProjectState:
    """What the server knows of one project."""

    root: Path
    generation: int = 0
    pending: asyncio.Task[None] | None = None  # a check still in its debounce
    shadow: ShadowTree | None = None
    reply: dict[str, Any] = field(default_factory=dict)
    published: dict[str, list[Published]] = field(default_factory=dict)
    saved: set[Path] = field(default_factory=set)  # files saved since the server started
    checked: tuple[Any, ...] | None = None  # the inputs of the verdict published last


class KedroMlLintServer(LanguageServer):
    """The server: one worker, any number of projects."""

    def __init__(self, worker: Worker | None = None) -> None:
        super().__init__("kedro-ml-lint", __version__)
        self.options = Options()
        self.worker = worker or Worker()
        self.projects: dict[Path, ProjectState] = {}
        self._shadows: Path | None = None  # made for the first unsaved buffer
        self._turn: asyncio.Lock | None = None

    # -- which project ---------------------------------------------------------------------

    def project_of(self, uri: str) -> ProjectState | None:
        """The project a document belongs to; ``None`` outside any Kedro project."""
        path = uri_to_path(uri)
        if path is None:
            return None
        root = find_project_root(path.parent)
        if root is None:
            return None
        root = root.resolve()
        if root not in self.projects:
            self.projects[root] = ProjectState(root)
        return self.projects[root]

    def schedule(self, uri: str, delay: float, saved: bool = False) -> None:
        """Check the document's project after ``delay`` seconds, replacing a pending check."""
        path = uri_to_path(uri)
        if path is None or path.suffix not in WATCHED:
            return
        state = self.project_of(uri)
        if state is None:
            return
        if saved:
            state.saved.add(path)
        state.generation += 1
        if state.pending is not None:
            # Still waiting out its debounce: it never starts. One that started is left to
            # finish (the worker is busy with it anyway); its verdict is dropped if stale.
            state.pending.cancel()
        task = asyncio.ensure_future(self._check_later(state, delay))
        task.add_done_callback(self._report_failure)
        state.pending = task

    def _report_failure(self, task: asyncio.Task[None]) -> None:
        """A check that raised (a bug of ours): said in the client's log, never silent."""
        if task.cancelled() or task.exception() is None:
            return
        error = task.exception()
        logger.error("check failed", exc_info=error)
        self.window_log_message(
            types.LogMessageParams(
                type=types.MessageType.Error, message=f"kedro-ml-lint server: {error!r}"
            )
        )

    async def _check_later(self, state: ProjectState, delay: float) -> None:
        await asyncio.sleep(delay)
        if state.pending is asyncio.current_task():
            state.pending = None  # past the debounce: no longer cancelled by an edit
        generation = state.generation
        if self._turn is None:
            self._turn = asyncio.Lock()
        async with self._turn:  # the worker answers one request at a time
            if generation != state.generation:
                return  # a newer edit came while waiting: its own check follows
            inputs = self._inputs(state)
            if inputs == state.checked:
                return  # the verdict out there is for these very inputs (an open, then a save)
            overlays = self._overlays(state.root)
            loop = asyncio.get_running_loop()
            started = time.perf_counter()
            reply = await loop.run_in_executor(None, self._run, state, overlays)
            stale = self._inputs(state) != inputs
            self.window_log_message(
                types.LogMessageParams(
                    type=types.MessageType.Log,
                    message=f"checked {state.root}{' (unsaved buffers)' if overlays else ''} "
                    f"in {time.perf_counter() - started:.3f} s "
                    f"(worker {reply.get('seconds', '-')} s){', stale' if stale else ''}",
                )
            )
            if stale:
                return  # the buffers or the saved files changed while it ran
            state.checked = inputs
            self._publish(state, reply)

    def _inputs(self, state: ProjectState) -> tuple[Any, ...]:
        """What a check of ``state`` reads that the server can see change.

        Every buffer's text, the open and saved files' stat on disk, the options.
        """
        buffers = tuple(
            sorted(
                (uri, document.source)
                for uri, document in self.workspace.text_documents.items()
                if self._under(uri, state.root)
            )
        )
        opened = {uri_to_path(uri) for uri, _ in buffers}
        files = []
        for path in sorted({p for p in opened if p is not None} | state.saved):
            try:
                stat = path.stat()
                files.append((str(path), stat.st_size, stat.st_mtime_ns, stat.st_ino))
            except OSError:
                files.append((str(path), -1, -1, -1))
        return buffers, tuple(files), repr(self.options)

    def _overlays(self, root: Path) -> dict[str, str]:
        """Open buffers under ``root`` whose text is not what the disk holds."""
        overlays: dict[str, str] = {}
        for uri, document in self.workspace.text_documents.items():
            path = uri_to_path(uri)
            if path is None:
                continue
            try:
                relative = path.resolve().relative_to(root).as_posix()
            except ValueError:
                continue
            try:
                on_disk = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                on_disk = None
            if document.source != on_disk:
                overlays[relative] = document.source
        return overlays

    def _run(self, state: ProjectState, overlays: dict[str, str]) -> dict[str, Any]:
        """Ask the worker (in a thread); a hang or crash becomes a failed reply."""
        from kedro_ml_lint.cache.store import disabled_by_environment

        target = state.root
        if overlays:
            if state.shadow is None:
                name = hashlib.sha256(str(state.root).encode()).hexdigest()[:16]
                if self._shadows is None:
                    self._shadows = Path(tempfile.mkdtemp(prefix="kedro-ml-lint-server-"))
                state.shadow = ShadowTree(state.root, self._shadows / name)
            target = state.shadow.sync(overlays)
        self.worker.looking_in(target)
        request = {
            "root": str(target),
            "env": self.options.env,
            "select": self.options.select,
            "ignore": self.options.ignore,
            "cache": self.options.cache and not disabled_by_environment(),
        }
        try:
            reply = self.worker.request(request, self.options.timeout)
        except WorkerFailure as failure:
            reply = {"ok": False, "error": {**vars(failure)}}
        reply["target"] = str(target)
        return reply

    # -- diagnostics -------------------------------------------------------------------------

    def _real(self, state: ProjectState, reply: dict[str, Any], path: str | None) -> Path:
        """A path from the reply, in the real project (relative ones hang off its root)."""
        if not path:
            return state.root / PYPROJECT
        candidate = Path(path)
        if not candidate.is_absolute():
            return state.root / candidate
        if state.shadow is not None and reply.get("target") == str(state.shadow.root):
            return Path(state.shadow.unshadow(path))
        return candidate

    def _unshadow(self, state: ProjectState, reply: dict[str, Any], text: str) -> str:
        if state.shadow is not None and reply.get("target") == str(state.shadow.root):
            return state.shadow.unshadow(text)
        return text

    def _publish(self, state: ProjectState, reply: dict[str, Any]) -> None:
        found: dict[str, list[Published]] = {}
        if reply.get("ok"):
            state.reply = reply
            for violation in reply["violations"]:
                location = violation.get("location") or {"path": PYPROJECT, "line": 1, "column": 1}
                path = self._real(state, reply, location["path"])
                span = span_of(self._text(path), location["line"], location["column"])
                diagnostic = self._diagnostic(path, span, violation)
                found.setdefault(path_to_uri(path), []).append(
                    Published(diagnostic, violation, path)
                )
        else:
            error = reply.get("error") or {}
            path = self._real(state, reply, error.get("path"))
            line = int(error.get("line") or 1)
            span = span_of(self._text(path), line, 1)
            message = LOAD_FAILED + self._unshadow(state, reply, str(error.get("message")))
            diagnostic = types.Diagnostic(
                range=self._range(path, span),
                message=message,
                severity=types.DiagnosticSeverity.Error,
                source=SOURCE,
            )
            found[path_to_uri(path)] = [Published(diagnostic, None, path)]
        # Open documents of the project hear the verdict too, empty or not (as ruff does).
        opened = {uri for uri in self.workspace.text_documents if self._under(uri, state.root)}
        for uri in set(state.published) | set(found) | opened:
            items = found.get(uri, [])
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=[i.diagnostic for i in items])
            )
        state.published = {uri: items for uri, items in found.items() if items}

    @staticmethod
    def _under(uri: str, root: Path) -> bool:
        path = uri_to_path(uri)
        return path is not None and path.resolve().is_relative_to(root)

    def _diagnostic(self, path: Path, span: Span, violation: dict[str, Any]) -> types.Diagnostic:
        return types.Diagnostic(
            range=self._range(path, span),
            message=violation["message"],
            severity=SEVERITIES.get(violation["severity"], types.DiagnosticSeverity.Error),
            code=violation["code"],
            code_description=_doc_link(violation["code"]),
            source=SOURCE,
            data={"pipeline": violation["pipeline"], "subject": violation.get("subject")},
        )

    def _text(self, path: Path) -> str | None:
        """The file's text as the editor has it (an open buffer), else as on disk."""
        document = self.workspace.text_documents.get(path_to_uri(path))
        if document is not None:
            return document.source
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def _range(self, path: Path, span: Span) -> types.Range:
        """``span`` (code points) in the position encoding agreed with the client."""
        lines = (self._text(path) or "").splitlines(keepends=True)
        codec = self.workspace.position_codec
        start = types.Position(span.line, span.start)
        end = types.Position(span.line, span.end)
        if span.line >= len(lines):
            return types.Range(start, end)
        return types.Range(
            codec.position_to_client_units(lines, start), codec.position_to_client_units(lines, end)
        )

    # -- code actions and hover --------------------------------------------------------------

    def code_actions(self, params: types.CodeActionParams) -> list[types.CodeAction]:
        """Quick fixes for the diagnostics on the requested range, and fix-all."""
        state = self.project_of(params.text_document.uri)
        if state is None:
            return []
        only = params.context.only
        actions: list[types.CodeAction] = []
        published = state.published.get(params.text_document.uri, [])
        wanted = only is None or any(
            kind.startswith(types.CodeActionKind.QuickFix.value) for kind in only
        )
        for item in published:
            if not wanted or item.violation is None:
                continue
            if not _overlaps(item.diagnostic.range, params.range):
                continue
            actions += self._quick_fixes(state, item)
        fix_all = (state.reply.get("fixes") or {}).get("all")
        if fix_all and (only is None or any(FIX_ALL.startswith(kind) for kind in only)):
            edit = self._edit(state, fix_all)
            if edit is not None:
                actions.append(
                    types.CodeAction(
                        title="kedro-ml-lint: fix all safely fixable violations",
                        kind=FIX_ALL,
                        edit=edit,
                    )
                )
        return actions

    def _quick_fixes(self, state: ProjectState, item: Published) -> list[types.CodeAction]:
        violation = item.violation
        assert violation is not None
        code = violation["code"]
        actions = []
        key = f"{violation['pipeline']}\0{code}\0{violation.get('subject') or ''}"
        fix = ((state.reply.get("fixes") or {}).get("each") or {}).get(key)
        if fix:
            edit = self._edit(state, fix)
            if edit is not None:
                title = (violation.get("fix") or {}).get("title") or "apply the safe fix"
                actions.append(
                    types.CodeAction(
                        title=f"{code}: {title}",
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[item.diagnostic],
                        edit=edit,
                        is_preferred=True,
                    )
                )
        # Where --add-noqa would write it: the line the engine says the comment silences.
        noqa = violation.get("noqa")
        noqa_path = self._real(state, state.reply, noqa["path"]) if noqa else None
        text = self._text(noqa_path) if noqa_path is not None else None
        language = language_of(noqa_path.name) if noqa_path is not None else None
        if noqa and noqa_path is not None and text is not None and language is not None:
            line = int(noqa["line"])
            new = add_noqa_comment(text, line, [code], language)
            change = replacement(text, new)
            if change is not None:
                actions.append(
                    types.CodeAction(
                        title=f"{code}: add `# noqa: {code}` where it silences this",
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[item.diagnostic],
                        edit=types.WorkspaceEdit(
                            changes={path_to_uri(noqa_path): [self._text_edit(text, change)]}
                        ),
                    )
                )
        actions.append(
            types.CodeAction(
                title=f"{code}: show the rule's documentation",
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[item.diagnostic],
                command=types.Command(
                    title=f"Show {code}'s documentation",
                    command=SHOW_DOCUMENTATION,
                    arguments=[code],
                ),
            )
        )
        return actions

    def _edit(self, state: ProjectState, fix: dict[str, Any]) -> types.WorkspaceEdit | None:
        """The fix plan's change to its file, as the editor's buffer has that file."""
        path = state.root / fix["path"]
        uri = path_to_uri(path)
        before = fix["before"]
        if before is None:  # --fix creates the file
            return types.WorkspaceEdit(
                document_changes=[
                    types.CreateFile(
                        uri=uri, options=types.CreateFileOptions(ignore_if_exists=True)
                    ),
                    types.TextDocumentEdit(
                        text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri),
                        edits=[
                            types.TextEdit(
                                range=types.Range(types.Position(0, 0), types.Position(0, 0)),
                                new_text=fix["after"],
                            )
                        ],
                    ),
                ]
            )
        if self._text(path) != before:
            return None  # the buffer moved on since the check: the next check offers it again
        change = replacement(before, fix["after"])
        if change is None:
            return None
        return types.WorkspaceEdit(changes={uri: [self._text_edit(before, change)]})

    def _text_edit(self, text: str, change: Any) -> types.TextEdit:
        lines = text.splitlines(keepends=True) or [""]
        codec = self.workspace.position_codec

        def position(line: int, column: int) -> types.Position:
            if line >= len(lines):
                return types.Position(line, column)
            return codec.position_to_client_units(lines, types.Position(line, column))

        return types.TextEdit(
            range=types.Range(position(*change.start), position(*change.end)),
            new_text=change.text,
        )

    def hover(self, params: types.HoverParams) -> types.Hover | None:
        """What the last check knows about the dataset name under the cursor."""
        state = self.project_of(params.text_document.uri)
        if state is None or not state.reply.get("hover"):
            return None
        document = self.workspace.get_text_document(params.text_document.uri)
        lines = document.lines
        if params.position.line >= len(lines):
            return None
        position = self.workspace.position_codec.position_from_client_units(lines, params.position)
        name = name_at(lines[position.line], position.character)
        path = uri_to_path(params.text_document.uri)
        in_parameters = path is not None and path.name.startswith("parameters")
        entries = lookup(state.reply["hover"], name, in_parameters) if name else None
        if not entries or name is None:
            return None
        return types.Hover(
            contents=types.MarkupContent(
                kind=types.MarkupKind.Markdown, value=hover_markdown(name, entries)
            )
        )

    def stop(self) -> None:
        """End the worker and remove the shadow copies."""
        import shutil

        self.worker.stop()
        if self._shadows is not None:
            shutil.rmtree(self._shadows, ignore_errors=True)


def _overlaps(a: types.Range, b: types.Range) -> bool:
    return (a.start.line, a.start.character) <= (b.end.line, b.end.character) and (
        b.start.line,
        b.start.character,
    ) <= (a.end.line, a.end.character)


def rule_doc_uri(code: str) -> str | None:
    """The ``file:`` URI of the rule's doc as shipped in the package, ``None`` if unknown."""
    from importlib import resources

    from kedro_ml_lint.rules import RULES_BY_CODE

    if code not in RULES_BY_CODE:
        return None
    path = Path(str(resources.files("kedro_ml_lint.rules").joinpath("docs", f"{code}.md")))
    return path.as_uri() if path.is_file() else None


def _doc_link(code: str) -> types.CodeDescription | None:
    uri = rule_doc_uri(code)
    return types.CodeDescription(href=uri) if uri else None


def build_server(worker: Worker | None = None) -> KedroMlLintServer:
    """The server with its features registered."""
    server = KedroMlLintServer(worker)

    @server.feature(types.INITIALIZE)
    def initialize(ls: KedroMlLintServer, params: types.InitializeParams) -> None:
        ls.options.update(params.initialization_options)
        ls.worker.start()  # warm while the editor opens its first file

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def configuration(ls: KedroMlLintServer, params: types.DidChangeConfigurationParams) -> None:
        ls.options.update(params.settings)
        for uri in list(ls.workspace.text_documents):  # the verdicts under the new options
            ls.schedule(uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: KedroMlLintServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: KedroMlLintServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, ls.options.debounce)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: KedroMlLintServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, 0, saved=True)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: KedroMlLintServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, 0)  # an unsaved buffer closed: the disk again

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL]),
    )
    def code_action(ls: KedroMlLintServer, params: types.CodeActionParams) -> Any:
        return ls.code_actions(params)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: KedroMlLintServer, params: types.HoverParams) -> types.Hover | None:
        return ls.hover(params)

    @server.command(SHOW_DOCUMENTATION)
    def show_documentation(ls: KedroMlLintServer, *arguments: Any) -> bool:
        uri = rule_doc_uri(str(arguments[0]).upper()) if arguments else None
        if uri is None:
            return False
        ls.window_show_document(types.ShowDocumentParams(uri=uri, take_focus=True))
        return True

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: KedroMlLintServer, params: Any) -> None:
        ls.stop()

    return server


def serve() -> None:
    """Run the server on stdio until the client exits it."""
    server = build_server()
    try:
        server.start_io()
    finally:
        server.stop()
