"""Import health: a heavy library is deferred only where its real import is known to succeed.

Deferring ``import xgboost`` skips its import; a broken install (a binary built for another
numpy) then passes a load that fails for real. So an import is deferred only when a sealed
record says that this very import (module and ``from`` names) succeeded with this
interpreter and this ``sys.path``, and everything that import read — its files, its
dependencies' files, the folders imports searched, the environment — is unchanged (the cache
package's validation, :mod:`kedro_ml_lint.cache.facts`). Without one, the library is
imported for real, inside a recording, and the record is written when that import succeeded
(docs/design.md §4).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kedro_ml_lint.cache.facts import Facts
from kedro_ml_lint.cache.recording import recorded

# Bumped when what a record holds changes: older records are then never read.
_FORMAT = "kedro-ml-lint-imports/1"


class ImportHealth:
    """The import records of this user, asked while one load defers.

    Args:
        project_root: The project being loaded (a key inside it is refused, and its own
            modules are not what a library's import depends on).

    Attributes:
        problem: Why no record can be used (then nothing is deferred), or ``None``.
        imported: Top-level libraries imported for real because no valid record said
            their import succeeds, and recorded for the next runs.
    """

    def __init__(self, project_root: Path) -> None:
        self.root = project_root
        self._facts = Facts("imports", project_root)
        self.problem = self._facts.problem
        self.imported: list[str] = []
        self._known: dict[str, bool] = {}  # one validation per import per load

    @property
    def usable(self) -> bool:
        """True when records can be read and written (the user's key is theirs alone)."""
        return self._facts.usable

    def known_good(self, name: str, fromlist: tuple[str, ...]) -> bool:
        """True when a valid record says this import succeeds here."""
        about = _about(name, fromlist)
        index = repr(sorted(about.items()))
        if index not in self._known:
            self._known[index] = self._facts.holds(about)
        return self._known[index]

    def imported_for_real(
        self, name: str, fromlist: tuple[str, ...], do_import: Callable[[], Any]
    ) -> Any:
        """``do_import()`` recorded; its record stored when it succeeded and can be.

        An import that raises raises here as it does for real, and nothing is stored.
        """
        about = _about(name, fromlist)  # sys.path as the import sees it
        with recorded(str(self.root), project_modules=False, shared_objects=True) as recording:
            module = do_import()
        top = name.partition(".")[0]
        # Not stored (its import ran a subprocess, read the clock…): imported for real
        # on every run, never deferred.
        if self._facts.store(about, recording) and top not in self.imported:
            self.imported.append(top)
        return module


def _about(name: str, fromlist: tuple[str, ...]) -> dict[str, Any]:
    """What a record is about: the import, the interpreter and where imports resolve."""
    return {
        "format": _FORMAT,
        "import": name,
        "from": sorted(set(fromlist)),
        "python": sys.version,
        "executable": sys.executable,
        # The project's folders included: a module there could shadow the library.
        "sys_path": [os.path.abspath(entry or ".") for entry in sys.path],
    }
