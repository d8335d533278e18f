"""The one way kedro-ml-lint swaps a library's attribute for a block, then puts it back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def swapped_attribute(owner: Any, name: str, value: Any) -> Iterator[None]:
    """``owner.name`` is ``value`` in the block, then what it was.

    ``unittest.mock.patch.object`` without importing ``unittest.mock`` (and asyncio with
    it): 0.1 s of every load.
    """
    original = vars(owner).get(name, _ABSENT)
    setattr(owner, name, value)
    try:
        yield
    finally:
        if original is _ABSENT:
            delattr(owner, name)  # it was inherited, or answered by a module's __getattr__
        else:
            setattr(owner, name, original)


_ABSENT = object()
