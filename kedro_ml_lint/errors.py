"""Small exception classes: each is raised when one thing stops the analysis.

And the exit codes they end a command with, defined here once (docs/design.md §5): every
command, the CLI's and the hook's, imports them from this module.
"""

from __future__ import annotations

EXIT_CLEAN = 0  # no error-severity violation remains
EXIT_VIOLATIONS = 1  # an error remains (any violation with --strict; --diff: something to apply)
EXIT_ERROR = 2  # could not run: a KedroMlLintError, a usage error
EXIT_SIGNAL_BASE = 128  # + the signal's number: the shell's convention (130 SIGINT, 143 SIGTERM)


class KedroMlLintError(Exception):
    """Raised when the analysis cannot run; the CLI turns it into exit code 2.

    Args:
        message: One line saying what is wrong and what to do.
        path: The file at fault, relative to the project root where possible.
        line: The 1-based line in ``path``, when one is known.
    """

    def __init__(self, message: str, path: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line

    def __str__(self) -> str:
        where = ""
        if self.path:
            where = f"{self.path}:{self.line}: " if self.line else f"{self.path}: "
        return f"{where}{self.message}"


class NotAKedroProjectError(KedroMlLintError):
    """Raised when the folder has no ``pyproject.toml`` with a ``[tool.kedro]`` table."""


class ProjectConfigError(KedroMlLintError):
    """Raised when a configuration file (YAML, TOML) cannot be read."""


class ProjectCodeError(KedroMlLintError):
    """Raised when the project's own Python code fails to import."""


class PipelineNotFoundError(KedroMlLintError):
    """Raised when a pair names a pipeline that the registry does not define."""


class NoPairFoundError(KedroMlLintError):
    """Raised when the project declares no training/inference pair to check."""


class SettingsError(KedroMlLintError):
    """Raised when ``[tool.kedro-ml-lint]`` or a command-line option is invalid."""


class Interrupted(BaseException):
    """Raised when SIGINT or SIGTERM stops a command; the CLI exits ``128 + signum``.

    A ``BaseException``, like ``KeyboardInterrupt``: ``except Exception`` does not catch it.

    Args:
        signum: The signal's number (``signal.SIGINT``, ``signal.SIGTERM``).
        note: What the interrupted work left behind, for the one line the CLI prints.
    """

    def __init__(self, signum: int, note: str = "") -> None:
        super().__init__(signum, note)
        self.signum = signum
        self.note = note

    @property
    def exit_code(self) -> int:
        """The shell's convention for a process stopped by a signal: 130, 143."""
        return EXIT_SIGNAL_BASE + self.signum


class KedroPipelineModelError(KedroMlLintError, ValueError):
    """Raised when a pipeline cannot be turned into (or run as) a ``KedroPipelineModel``."""
