"""Kedro's private APIs, each reached here and nowhere else (docs/design.md §8).

Kedro does not promise to keep a name starting with ``_``; every one kedro-ml-lint uses is
behind a function of this module, which says what it needs it for and which Kedro versions
it was checked against. On a Kedro upgrade this is the file to revisit. The Kedro 0.19
lane runs kedro 0.19.15 and the main environment kedro 1.7.0 (§12); the dataset privates
are those of ``kedro.io.core`` and kedro-datasets' file datasets (9.6.0 here).

Kedro is imported only inside the functions: importing this module costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from kedro_ml_lint.seams.patching import swapped_attribute

CHECKED_AGAINST = "kedro 0.19.15, 1.7.0; kedro-datasets 9.6.0"


def empty_hook_manager() -> Any:
    """A hook manager with no plugin registered, for building a project's context.

    Private: ``kedro.framework.hooks.manager._create_hook_manager``. Needed because a
    ``KedroContext`` requires a hook manager and the catalog must be built without running
    the project's hooks (``kedro_ml_lint.publishing.catalog``).
    Checked against kedro 0.19.15 and 1.7.0 (same name, no arguments).
    """
    from kedro.framework.hooks.manager import _create_hook_manager

    return _create_hook_manager()


def session_hooks(session: Any) -> list[Any]:
    """The hooks a ``KedroSession`` registered: ``settings.HOOKS`` and the plugins' own.

    Private: ``KedroSession._hook_manager`` (a pluggy ``PluginManager``). Needed by the
    wiring tests, whose oracle for what ``settings.HOOKS`` and ``DISABLE_HOOKS_FOR_PLUGINS``
    mean is the set of hooks a real session registers (docs/design.md §2).
    Checked against kedro 0.19.15 and 1.7.0.
    """
    return list(session._hook_manager.get_plugins())


def unsorted_nodes(pipeline: Any) -> list[Any] | None:
    """A Kedro ``Pipeline``'s nodes in insertion order; ``None`` when not available.

    Private: ``Pipeline._nodes``. ``Pipeline.nodes`` sorts topologically, which the
    contract never needs and which costs more than the whole check on large pipelines.
    Checked against kedro 0.19.15 and 1.7.0 (a ``list`` of ``Node``).
    """
    nodes = getattr(pipeline, "_nodes", None)
    return list(nodes) if isinstance(nodes, list) else None


@contextmanager
def patched_node_construction(
    make_init: Callable[[Callable[..., None]], Callable[..., None]],
    make_copy: Callable[[Callable[..., Any]], Callable[..., Any]],
) -> Iterator[None]:
    """Replace ``Node.__init__`` and ``Node._copy`` in the block, then put them back.

    ``make_init`` and ``make_copy`` receive the original method and return its replacement.
    Private: ``kedro.pipeline.node.Node._copy`` (what ``pipeline(...)`` calls to namespace or
    rename a node; ``Node.__init__`` is patched too). Needed so that every node records
    the project line that created it and a copied node keeps its original's
    (``kedro_ml_lint.importing.capture``).
    Checked against kedro 0.19.15 and 1.7.0 (``_copy(self, **overwrite_params)``).
    """
    from kedro.pipeline.node import Node

    original_init = Node.__init__
    original_copy = Node._copy
    with (
        swapped_attribute(Node, "__init__", make_init(original_init)),
        swapped_attribute(Node, "_copy", make_copy(original_copy)),
    ):
        yield


def dataset_init_config(dataset: Any) -> dict[str, Any]:
    """The arguments a dataset was created with, ``type`` included; ``{}`` when unknown.

    Private: ``AbstractDataset._init_config()`` (kedro 1.x; absent in 0.19.15, hence ``{}``).
    Needed to re-create an artifact's dataset inside a logged model.
    Checked against kedro 0.19.15 (absent) and 1.7.0.
    """
    init_config = getattr(dataset, "_init_config", None)
    return dict(init_config()) if callable(init_config) else {}


def dataset_reads_a_file(dataset: Any) -> bool:
    """Whether a dataset keeps a ``_filepath`` (kedro-datasets' file datasets do).

    Private: ``_filepath`` of kedro-datasets' datasets. Needed to tell a file-backed
    artifact, which can be logged with a model, from any other.
    Checked against kedro 1.7.0 with kedro-datasets 9.6.0 (logging needs Kedro 1.x, §12).
    """
    return hasattr(dataset, "_filepath")


def dataset_protocol(dataset: Any) -> Any:
    """The fsspec protocol a dataset reads from; ``"file"`` when it does not say.

    Private: ``_protocol`` of kedro-datasets' fsspec datasets. Needed to refuse an artifact
    that is not on the local disk.
    Checked against kedro 1.7.0 with kedro-datasets 9.6.0 (logging needs Kedro 1.x, §12).
    """
    return getattr(dataset, "_protocol", "file")


def dataset_load_path(dataset: Any) -> Any:
    """The path a dataset loads from: for a versioned one, its version's.

    Private: ``AbstractVersionedDataset._get_load_path()``, else ``_filepath`` (file
    datasets) or ``_path`` (folder datasets such as partitions). Needed to log the very
    file a model was trained on. Raises what Kedro raises (``VersionNotFoundError`` …).
    Checked against kedro 1.7.0 with kedro-datasets 9.6.0 (logging needs Kedro 1.x, §12).
    """
    get_load_path = getattr(dataset, "_get_load_path", None)
    if callable(get_load_path):
        return get_load_path()
    return getattr(dataset, "_filepath", None) or dataset._path
