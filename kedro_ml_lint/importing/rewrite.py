"""The project's own modules as compiled while a load defers: no Deferred reaches C code.

A :class:`~kedro_ml_lint.importing.deferred.Deferred` is a proxy: Python lets it intercept
every operation written as a protocol (calls, operators, ``isinstance``…), but not what C
code reads off the object itself: identity (``is``), ``type(x)``, ``id(x)``, whether a
public attribute exists before first use (``hasattr``, ``getattr(x, name, default)``), nor
``PyType_Check`` in ``raise``/``except``/``ABCMeta.register``/``callable``. While a load
defers, the project's own source files are compiled through this rewrite (as pytest
rewrites ``assert``; every node keeps its location, so tracebacks and the node sites read
from frames are unchanged), in which such operations receive real values:

- every argument of every call (one walk into plain lists, tuples, dicts and sets), so
  ``type``, ``id``, ``hasattr``, ``getattr``, ``dir``, ``vars``, ``callable``, ``enum``'s
  functional API, ``functools.partial``/``wraps``, ``dataclasses.field``, ``abc`` and Kedro's
  ``node()`` never see a Deferred;
- the operands of ``is``, ``==``, ``<``, ``in``…, of arithmetic and of unary operators;
- subscripts (``Tuple[pd.DataFrame, ...]``: ``typing`` checks its arguments);
- ``raise`` and ``except`` types, a class's bases, keywords, decorators and the values its
  body assigns (``enum``, ``dataclasses`` and metaclasses read them);
- inside the body of a ``try`` that has handlers, and of a ``with`` (whose manager may
  swallow an error), for as long as it runs, reading a library's attribute imports the
  library at once: an attribute that does not exist raises there, as it would for real.

Nothing else changes: a module that only names a library (annotations, defaults, module
attributes) still never imports it. Functions the project defines keep the rewrite after
the load; on real values every helper is the identity.
"""

from __future__ import annotations

import ast
import warnings
from typing import Any

# Names no source can spell (as pytest's `@py_assert`): they cannot clash with the project's.
REAL = "@kml_real"  # a value, resolved
ARGUMENT = "@kml_argument"  # a call argument: resolved, and inside plain containers
STARRED = "@kml_starred"  # `*args`
KEYWORDS = "@kml_keywords"  # `**kwargs`
EAGER = "@kml_eager"  # a context manager: attribute reads resolve while it is entered


def _wrap(helper: str, node: ast.expr) -> ast.expr:
    call = ast.Call(func=ast.Name(id=helper, ctx=ast.Load()), args=[node], keywords=[])
    return ast.copy_location(call, node)


class _Rewrite(ast.NodeTransformer):
    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        node.args = [
            ast.copy_location(ast.Starred(_wrap(STARRED, a.value), ast.Load()), a)
            if isinstance(a, ast.Starred)
            else _wrap(ARGUMENT, a)
            for a in node.args
        ]
        for keyword in node.keywords:
            keyword.value = _wrap(ARGUMENT if keyword.arg else KEYWORDS, keyword.value)
        return node

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        self.generic_visit(node)
        index = node.slice
        if isinstance(index, ast.Tuple):
            index.elts = [
                e if isinstance(e, (ast.Slice, ast.Starred)) else _wrap(REAL, e) for e in index.elts
            ]
        elif not isinstance(index, ast.Slice):
            node.slice = _wrap(REAL, index)
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        node.left = _wrap(REAL, node.left)
        node.comparators = [_wrap(REAL, c) for c in node.comparators]
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        node.left, node.right = _wrap(REAL, node.left), _wrap(REAL, node.right)
        return node

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        node.operand = _wrap(REAL, node.operand)
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        node.value = _wrap(REAL, node.value)
        return node

    def visit_Raise(self, node: ast.Raise) -> ast.AST:
        self.generic_visit(node)
        if node.exc is not None:
            node.exc = _wrap(REAL, node.exc)
        if node.cause is not None:
            node.cause = _wrap(REAL, node.cause)
        return node

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.type, ast.Tuple):
            node.type.elts = [_wrap(REAL, e) for e in node.type.elts]
        elif node.type is not None:
            node.type = _wrap(REAL, node.type)
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        self.generic_visit(node)
        node.bases = [b if isinstance(b, ast.Starred) else _wrap(REAL, b) for b in node.bases]
        for keyword in node.keywords:
            keyword.value = _wrap(REAL if keyword.arg else KEYWORDS, keyword.value)
        node.decorator_list = [_wrap(REAL, d) for d in node.decorator_list]
        for statement in node.body:  # what enum, dataclasses and metaclasses read
            if isinstance(statement, (ast.Assign, ast.AnnAssign)) and statement.value:
                statement.value = _wrap(ARGUMENT, statement.value)
        return node

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.AST:
        self.generic_visit(node)
        node.decorator_list = [_wrap(REAL, d) for d in node.decorator_list]
        return node

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def _eager_body(self, node: Any) -> ast.AST:
        self.generic_visit(node)
        if node.body and (not hasattr(node, "handlers") or node.handlers):
            first, last = node.body[0], node.body[-1]
            region = ast.With(
                items=[ast.withitem(context_expr=ast.Name(id=EAGER, ctx=ast.Load()))],
                body=node.body,
            )
            ast.copy_location(region, first)
            region.end_lineno, region.end_col_offset = last.end_lineno, last.end_col_offset
            node.body = [region]
        return node

    visit_Try = _eager_body
    visit_With = _eager_body
    visit_AsyncWith = _eager_body
    if hasattr(ast, "TryStar"):  # Python 3.11+
        visit_TryStar = _eager_body


def rewritten(source: bytes | str, filename: str) -> Any:
    """``source`` compiled with real values where C code would see a Deferred.

    Args:
        source: A Python module's source.
        filename: Its path (for tracebacks and frames).

    Returns:
        The module's code object.
    """
    # A compiler's warning (`"\d"`: invalid escape sequence) says nothing about deferral,
    # and Python shows it once, when it writes the .pyc: it must not make the load retry.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = ast.parse(source, filename)
        tree = ast.fix_missing_locations(_Rewrite().visit(tree))
        return compile(tree, filename, "exec", dont_inherit=True)
