"""An import-linter contract that names private modules of external packages.

import-linter keeps an external package as one node (``mlflow``), so its built-in
``forbidden`` contract cannot forbid ``mlflow.tracking._tracking_service`` alone. This
contract reads the import statements behind each edge to an external package instead:
only the seams may import a private module or name of ``kedro``, ``mlflow`` or
``kedro_mlflow`` (docs/design.md §8). Registered in ``[tool.importlinter]`` of
pyproject.toml; ``lint-imports`` runs from the repository root, which it puts on the path.
"""

from __future__ import annotations

import re

import grimp
from importlinter import Contract, ContractCheck, fields, output

# ``from kedro.framework.hooks.manager import _create_hook_manager``,
# ``from mlflow.tracking._tracking_service import utils``, ``import mlflow._x as y``.
_PRIVATE = re.compile(r"(^|[\s.,(])_[A-Za-z0-9]\w*")
_ALIAS = re.compile(r"\s+as\s+\w+")


class PrivateImportsContract(Contract):
    """Only ``seams`` import a private (``_``-prefixed) module or name of ``packages``.

    Configuration options:
        - packages: External top-level packages whose privates are watched.
        - seams: The modules (and their descendants) allowed to import them.
    """

    type_name = "private_imports"

    packages = fields.ListField(subfield=fields.StringField())
    seams = fields.ListField(subfield=fields.StringField())

    def _is_seam(self, module: str) -> bool:
        seams: list[str] = self.seams  # type: ignore[attr-defined]
        return any(module == seam or module.startswith(f"{seam}.") for seam in seams)

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        """Kept when no module outside the seams imports a private of ``packages``."""
        illegal = []
        packages: list[str] = self.packages  # type: ignore[attr-defined]
        for package in packages:
            if package not in graph.modules:
                continue
            for importer in sorted(graph.find_modules_that_directly_import(package)):
                if self._is_seam(importer):
                    continue
                for detail in graph.get_import_details(importer=importer, imported=package):
                    statement = detail["line_contents"]
                    names = _ALIAS.sub("", statement.split("#", 1)[0])  # `as _x` is ours
                    if _PRIVATE.search(names):
                        illegal.append((importer, detail["line_number"], statement))
        return ContractCheck(kept=not illegal, metadata={"illegal": illegal})

    def render_broken_contract(self, check: ContractCheck) -> None:
        """Print each offending import statement with its module and line."""
        output.print_error("Private APIs imported outside a compat seam:", bold=False)
        output.new_line()
        for importer, line_number, statement in check.metadata["illegal"]:
            output.print_error(f"- {importer} (l.{line_number}): {statement}", bold=False)
        output.new_line()
        output.print_error(
            "Reach them through a seam (kedro_ml_lint.seams).",
            bold=False,
        )
