"""``kedro-ml-lint server``: the check's verdict in the editor, over the Language Server Protocol.

The server process speaks LSP on stdio and never imports a project: a worker process
(:mod:`kedro_ml_lint.server.worker`) runs ``lint_project`` for it, so that a project whose
code hangs or crashes costs one diagnostic, not the editor (docs/design.md §14).
"""
