"""Configuration packaged as an archive: ``--conf-source conf-<package>.tar.gz`` (or ``.zip``).

``kedro package`` ships a project's configuration as ``dist/conf-<package>.tar.gz``, and
``kedro run --conf-source <archive>`` reads it in place: Kedro's ``OmegaConfigLoader`` opens
a tar or zip (told apart by ``mimetypes``, as here) through fsspec and takes the archive's
last top-level entry as the configuration folder. The linter reads the same members the same
way, unpacked into a private scratch folder, since its locations and read-back need files with
lines; every location and message then names the member instead, as ``ARCHIVE!MEMBER``
(``dist/conf-churn.tar.gz!conf/base/catalog.yml:3:1``).
"""

from __future__ import annotations

import mimetypes
import posixpath
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kedro_ml_lint.errors import ProjectConfigError

SEPARATOR = "!"  # between the archive and the member, as Java's jar: URLs and zipinfo say
_ARCHIVE_TYPES = {
    "application/x-tar": "tar",
    "application/zip": "zip",
    "application/x-zip-compressed": "zip",
    "application/zip-compressed": "zip",
}


def archive_protocol(conf_source: str | Path) -> str | None:
    """``"tar"`` or ``"zip"`` when Kedro would read ``conf_source`` as an archive, else ``None``."""
    mimetype, _ = mimetypes.guess_type(str(conf_source))
    return _ARCHIVE_TYPES.get(mimetype or "")


@dataclass(frozen=True)
class UnpackedArchive:
    """An archive's configuration folder, unpacked.

    Attributes:
        archive: The archive as the user named it (for messages).
        folder: The unpacked configuration folder (``<scratch>/<top-level entry>``).
        scratch: The scratch folder holding it; a path under it maps back to a member.
    """

    archive: str
    folder: Path
    scratch: Path

    def member(self, path: str | Path) -> str | None:
        """``ARCHIVE!MEMBER`` for a path of the unpacked copy; ``None`` for any other path."""
        try:
            inside = Path(path).resolve().relative_to(self.scratch.resolve())
        except (ValueError, OSError):
            return None
        return f"{self.archive}{SEPARATOR}{inside.as_posix()}"

    def text(self, message: str) -> str:
        """``message`` with every path of the unpacked copy named as the archive's member."""
        for scratch in dict.fromkeys((str(self.scratch.resolve()), str(self.scratch))):
            message = message.replace(scratch + "/", f"{self.archive}{SEPARATOR}")
        return message


@contextmanager
def unpacked_archive(conf_source: str | Path) -> Iterator[UnpackedArchive]:
    """Unpack the configuration folder of an archive Kedro reads as ``conf_source``.

    Raises:
        ProjectConfigError: The archive does not exist, cannot be read or holds no folder.
    """
    import fsspec

    archive = str(conf_source)
    path = Path(conf_source).expanduser()
    protocol = archive_protocol(path)
    assert protocol is not None
    if not path.is_file():
        raise ProjectConfigError(f"the configuration archive `{archive}` does not exist")
    scratch = Path(tempfile.mkdtemp(prefix="kedro-ml-lint-conf-"))
    try:
        try:
            fs = fsspec.filesystem(protocol, fo=str(path.resolve()))
            tops = fs.ls("", detail=False)
            if not tops:
                raise ProjectConfigError(f"the configuration archive `{archive}` is empty")
            top = str(tops[-1]).strip("/")  # the folder Kedro's OmegaConfigLoader reads
            for member in fs.find(top):
                name = posixpath.normpath(str(member).lstrip("/"))
                if name.startswith("..") or not fs.isfile(member):
                    continue  # a member that would land outside the copy is never read
                target = scratch / name
                target.parent.mkdir(parents=True, exist_ok=True)
                with fs.open(member, "rb") as source, open(target, "wb") as copy:
                    shutil.copyfileobj(source, copy)
        except ProjectConfigError:
            raise
        except Exception as exc:
            raise ProjectConfigError(
                f"the configuration archive `{archive}` cannot be read: {type(exc).__name__}: {exc}"
            ) from exc
        folder = scratch / top
        if not folder.is_dir():
            raise ProjectConfigError(
                f"the configuration archive `{archive}` holds no configuration folder "
                f"(its last top-level entry, `{top}`, is what Kedro reads)"
            )
        yield UnpackedArchive(archive, folder, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
