"""``check --watch``: run again whenever a file the verdict depends on changes.

The watching is watchfiles' (inotify, FSEvents…, debounced): one run per burst of
changes, after a clear screen on a terminal. Ctrl-C while waiting ends the watch cleanly
(exit 0); during a run it interrupts the run as it would without ``--watch``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

# Written by kedro-ml-lint itself (the snapshot cache, the --fix lock): never a reason to
# run again, or a run would trigger the next.
OWN_FOLDERS = (".kedro-ml-lint-cache", ".kedro-ml-lint")


def watch_project(
    paths: Sequence[Path], run: Callable[[], None], say: Callable[[str], None]
) -> None:
    """Run ``run`` now, then after every change under ``paths``, until Ctrl-C.

    Args:
        paths: Folders (watched recursively) and files to watch.
        run: One check; it prints its own report.
        say: Prints one line to stderr.
    """
    import click
    import watchfiles

    watch_filter = watchfiles.DefaultFilter(
        ignore_dirs=(*watchfiles.DefaultFilter.ignore_dirs, *OWN_FOLDERS)
    )
    shown = ", ".join(_shown(path) for path in paths)
    waiting = f"watching {shown} for changes (Ctrl-C to stop)"
    started = False
    try:
        # The first (empty) yield comes once the watcher is live: the first run starts only
        # then, so a change made during it, or right after the line is printed, is seen.
        for changes in watchfiles.watch(
            *paths, watch_filter=watch_filter, yield_on_timeout=True, rust_timeout=200
        ):
            if started and not changes:
                continue
            click.clear()  # a terminal only: a pipe or a file keeps every run
            if started:
                changed = sorted({_shown(Path(path)) for _, path in changes})
                say(f"changed: {', '.join(changed)}; checking again")
            started = True
            run()
            say(waiting)
    except KeyboardInterrupt:
        return


def _shown(path: Path) -> str:
    """A path as the user would type it: relative to the current folder when inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
