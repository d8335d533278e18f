"""The worker process: the only place the server's projects are imported.

``python -m kedro_ml_lint.server.worker`` reads one JSON request a line on stdin and writes
one JSON reply a line on stdout; whatever the project's code prints goes to ``/dev/null``
(the reply stream is a private copy of the original stdout). A request that runs past its
timeout makes :mod:`faulthandler` dump every thread's stack to stderr and end the process:
the server reads where the project hung from that dump (:mod:`kedro_ml_lint.server.supervisor`).
"""

from __future__ import annotations

import faulthandler
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any, TextIO

from kedro_ml_lint.errors import KedroMlLintError
from kedro_ml_lint.quiet import quiet_kedro_as_check_does

_LOADED: set[str] = set()  # the roots this process has loaded once


def check(request: dict[str, Any]) -> dict[str, Any]:
    """Lint the project at ``request["root"]`` as ``check`` does; the reply as JSON data.

    Request keys: ``root``; ``env``, ``select``, ``ignore`` (``check``'s options);
    ``cache`` (use the snapshot cache, on this process's first load of the root).
    """
    from kedro_ml_lint.api import lint_project
    from kedro_ml_lint.server.hover import hover_facts

    root = Path(request["root"])
    # The cache serves this process's first load of a project (a hit makes the editor's
    # first verdict fast; a miss is stored for the next start). Later loads follow an edit,
    # so they would miss anyway, and recording a load costs more than the load itself in
    # a warm process (docs/design.md §14): they go uncached, with the same verdict.
    cache = bool(request.get("cache")) and str(root) not in _LOADED
    _LOADED.add(str(root))
    try:
        result = lint_project(
            root,
            env=request.get("env"),
            select=request.get("select"),
            ignore=request.get("ignore"),
            cache=cache,
        )
    except KedroMlLintError as exc:
        return {"ok": False, "error": {"message": exc.message, "path": exc.path, "line": exc.line}}
    except (Exception, SystemExit) as exc:  # the project's own code failed: say where
        path, line = _innermost(exc, root)
        message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return {"ok": False, "error": {"message": message, "path": path, "line": line}}
    return {
        "ok": True,
        "root": str(result.project),
        "violations": [_with_noqa_line(v) for v in result.violations],
        "fixes": _fixes(result),
        "hover": hover_facts(result),
        "warnings": list(result.warnings),
        "fix_catalog": result.settings.fix_catalog,
    }


def _with_noqa_line(violation: Any) -> dict[str, Any]:
    """The violation as ``check --format json`` gives it, and where a ``# noqa`` silences it.

    That is ``--add-noqa``'s line: a node's call, not its ``def``; none for a pair's own rules.
    """
    where = violation.noqa_line
    noqa = None if where is None else {"path": where.path, "line": where.line}
    return {**violation.to_dict(), "noqa": noqa}


def _fixes(result: Any) -> dict[str, Any]:
    """What ``--fix`` would write: the whole plan, and each violation's own edit."""
    from kedro_ml_lint.fix import plan_fixes, verified_plan

    try:
        plan = verified_plan(result)
    except KedroMlLintError as exc:  # --fix would refuse: no quick fix either
        return {"all": None, "each": {}, "refused": str(exc)}

    def shape(one: Any) -> dict[str, Any] | None:
        if not one.changed:
            return None
        return {
            "path": one.display_path,
            "before": one.before.decode("utf-8") if one.before is not None else None,
            "after": one.after.decode("utf-8"),
        }

    each = {}
    for violation in plan.fixes:
        single = plan_fixes(result.project, result.settings.fix_catalog, [violation])
        key = f"{violation.pair}\0{violation.code}\0{violation.subject or ''}"
        each[key] = shape(single)
    return {"all": shape(plan), "each": each, "refused": None}


def _innermost(exc: BaseException, root: Path) -> tuple[str | None, int | None]:
    """The innermost frame of ``exc`` in the project's files, relative to ``root``."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        try:
            relative = Path(frame.filename).relative_to(root)
        except ValueError:
            continue
        return relative.as_posix(), frame.lineno
    return None, None


def _serve(requests: TextIO, replies: TextIO, path: list[str]) -> None:
    for line in requests:
        request = json.loads(line)
        # A load puts the project's source folder first and leaves it: the next load (another
        # project, or the shadow copy) starts from the same path, and so the same cache key.
        sys.path[:] = path
        timeout = float(request.get("timeout") or 0)
        if timeout > 0:  # a hang: dump every stack to stderr and exit (the server reads it)
            faulthandler.dump_traceback_later(timeout, exit=True)
        started = time.perf_counter()
        try:
            reply = check(request)
        except Exception as exc:  # a bug of ours: one diagnostic, and the worker lives on
            message = f"internal error ({type(exc).__name__}: {exc}); please report it"
            reply = {"ok": False, "error": {"message": message, "path": None, "line": None}}
        finally:
            faulthandler.cancel_dump_traceback_later()
        reply["id"] = request.get("id")
        reply["seconds"] = round(time.perf_counter() - started, 4)  # the server logs it
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


def _quiet_kedro() -> None:
    """Kedro's logging as ``check`` (without ``-v``) sets it, before Kedro is imported.

    Not only quieter: ``check`` loads with ``KEDRO_LOGGING_CONFIG`` set, and the cache and the
    import records key on the environment, so the worker's loads must see the same one to
    share them (without it, every first load imported scikit-learn for real: 3x a cold check).
    """
    quiet_kedro_as_check_does()


def main() -> None:
    """Serve requests until stdin closes.

    ``argv[1]``, when given, replaces the first entry of ``sys.path`` (``python -m`` puts the
    working folder there): the server passes its own, which for ``kedro-ml-lint server`` is
    the folder of the console scripts, as for ``kedro-ml-lint check``; with the same path,
    the worker's cache entries are ``check``'s (docs/design.md §13 keys on ``sys.path``).
    """
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)  # the project's prints never reach the reply stream
    sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 (the process's own stdin)
    sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    sys.dont_write_bytecode = True  # a shadow file rewritten within a second: no stale .pyc
    faulthandler.enable()  # a crash dumps the stack to stderr too
    _quiet_kedro()
    # Warm: the first check does not pay for importing Kedro.
    import kedro_ml_lint.api
    import kedro_ml_lint.reading.project  # noqa: F401

    path = list(sys.path)
    if len(sys.argv) > 1:  # the server's own first entry: the cache key's sys.path is check's
        path[0] = sys.argv[1]
    _serve(requests, replies, path)


if __name__ == "__main__":
    main()
