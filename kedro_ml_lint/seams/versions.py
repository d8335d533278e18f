"""Which Kedro and which distributions are installed: the versions kedro-ml-lint runs next to."""

from __future__ import annotations

import re
from dataclasses import dataclass

_VERSION = re.compile(r"^\s*(\d+)\.(\d+)")


@dataclass(frozen=True, order=True)
class KedroVersion:
    """A Kedro ``major.minor`` and the text it was read from."""

    major: int
    minor: int
    text: str = ""

    @classmethod
    def parse(cls, text: str) -> KedroVersion | None:
        """``0.18.2`` → ``KedroVersion(0, 18)``; ``None`` when ``text`` is no version."""
        match = _VERSION.match(text)
        return cls(int(match.group(1)), int(match.group(2)), text.strip()) if match else None

    def __str__(self) -> str:
        return self.text or f"{self.major}.{self.minor}"

    @property
    def minor_version(self) -> tuple[int, int]:
        """``(major, minor)``."""
        return (self.major, self.minor)


def distribution_version(name: str) -> str | None:
    """The installed version of distribution ``name``; ``None`` when it is not installed."""
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def installed_kedro() -> KedroVersion:
    """The Kedro kedro-ml-lint runs on."""
    from kedro import __version__

    version = KedroVersion.parse(__version__)
    assert version is not None, __version__
    return version
