"""``check --watch`` as a real process: a real file change, a second run, SIGINT ends it."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ENCODER = "\nencoder:\n  type: pickle.PickleDataset\n  filepath: data/06_models/encoder.pkl\n"


def _reader(stream, name: str, lines: queue.Queue) -> None:
    for line in iter(stream.readline, ""):
        lines.put((name, line))
    stream.close()


def _wait_for(lines: queue.Queue, seen: list, text: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            item = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        seen.append(item)
        if text in item[1]:
            return
    raise AssertionError(f"no `{text}` in {timeout} s; saw: {seen}")


def test_a_change_to_the_catalog_runs_the_check_again_and_ctrl_c_ends_it(example) -> None:
    root: Path = example("churn-broken")
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "GITHUB_WORKSPACE")},
        "NO_COLOR": "1",
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "kedro_ml_lint", "check", str(root), "--watch"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=root,
    )
    lines: queue.Queue = queue.Queue()
    threads = [
        threading.Thread(target=_reader, args=(process.stdout, "out", lines), daemon=True),
        threading.Thread(target=_reader, args=(process.stderr, "err", lines), daemon=True),
    ]
    for thread in threads:
        thread.start()
    seen: list = []
    try:
        _wait_for(lines, seen, "for changes (Ctrl-C to stop)")
        assert any("Found 8 errors" in line for _, line in seen), seen
        with (root / "conf" / "base" / "catalog.yml").open("a", encoding="utf-8") as handle:
            handle.write(ENCODER)  # persists `encoder`: KML001 goes away
        _wait_for(lines, seen, "checking again")
        assert any("conf/base/catalog.yml" in line for _, line in seen[-1:]), seen[-1]
        _wait_for(lines, seen, "for changes (Ctrl-C to stop)")
        second = [line for _, line in seen if line.startswith("Found ")]
        assert second == [
            "Found 8 errors (2 pairs checked). 1 fixable with `--fix`.\n",
            "Found 7 errors (2 pairs checked).\n",
        ]
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    for thread in threads:
        thread.join(timeout=5)
    while not lines.empty():
        seen.append(lines.get())
    assert code == 0, seen
    assert not any("Traceback" in line for _, line in seen), seen
    # One run per change: the cache and lock folders it writes itself trigger nothing.
    assert sum("checking again" in line for _, line in seen) == 1, seen
