"""Which artifacts' local files exist: the one place ``--log`` and the hook look at data."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from kedro_ml_lint.model import DatasetSpec
from kedro_ml_lint.model.names import is_local_path, storage_url


def local_path(root: Path, filepath: str) -> Path:
    """The absolute local path of a catalog ``filepath`` (relative to the project root)."""
    filepath = storage_url(filepath)
    if "://" in filepath:
        filepath = filepath.split("://", 1)[1]
    path = Path(filepath).expanduser()
    return path if path.is_absolute() else root / path


def exists_on_disk(root: Path, spec: DatasetSpec) -> bool:
    """True when ``spec``'s file is there; for a versioned dataset, any version of it."""
    assert spec.filepath is not None
    path = local_path(root, spec.filepath)
    if spec.versioned:
        # Kedro's layout: <filepath>/<version>/<file name>
        return any(path.glob(f"*/{path.name}"))
    return path.exists()


def missing_on_disk(root: Path, specs: Iterable[DatasetSpec]) -> frozenset[str]:
    """Names of the local, persisted artifacts whose data is not on disk.

    Memory and remote datasets are the business of KML001 and KML002, not of this check.
    """
    return frozenset(
        spec.name
        for spec in specs
        if not spec.is_memory
        and spec.filepath is not None
        and is_local_path(spec.filepath)
        and not exists_on_disk(root, spec)
    )
