"""Issue 20: from ``didSave`` to ``publishDiagnostics``, beside ``check`` on the same change.

Run from the repository root::

    python benchmarks/server.py              # 3 cold rounds, 15 warm saves
    python benchmarks/server.py --cold 5 --warm 25

On a copy of examples/churn, with the cache on (as users have it) and a scratch user cache
folder, each save appends one comment line to ``conf/base/catalog.yml`` (a real change: the
cache misses, the verdict stays). Interleaved, in one run:

- **server, cold**: a new ``kedro-ml-lint server`` process, initialized; the catalog is
  changed and opened and saved at once: the time from ``didSave`` to the first
  ``publishDiagnostics`` (the worker is still warming up when the save arrives);
- ``check``, cold: a new ``kedro-ml-lint check`` process after the same kind of change;
- **server, warm**: the same server, N saves, each after a change: ``didSave`` to publish;
- ``check`` after each warm change, for the same N changes.

Prints the medians (p50) and p90, the ratios, and the load average. Targets: warm p50 at
most 0.3 s, cold at most 1.2 times a cold ``check``. Exits 1 when one is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "churn"
WARM_TARGET = 0.3  # seconds, p50
COLD_TARGET = 1.2  # times a cold check


class Client:
    """A pygls client that times each save until the next publish of the saved file."""

    def __init__(self) -> None:
        self.client = LanguageClient("kedro-ml-lint-bench", "1")
        self.publishes: dict[str, int] = {}
        self.arrived = asyncio.Event()

        self.logs: list[str] = []

        @self.client.feature(types.WINDOW_LOG_MESSAGE)
        def log(params: types.LogMessageParams) -> None:
            self.logs.append(params.message)

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def publish(params: types.PublishDiagnosticsParams) -> None:
            self.publishes[params.uri] = self.publishes.get(params.uri, 0) + 1
            self.arrived.set()

    async def start(self, env: dict[str, str]) -> None:
        await self.client.start_io(sys.executable, "-m", "kedro_ml_lint", "server", env=env)
        await self.client.initialize_async(
            types.InitializeParams(capabilities=types.ClientCapabilities())
        )
        self.client.initialized(types.InitializedParams())

    async def save(self, path: Path, text: str, version: int, opening: bool) -> float:
        """Send the buffer (open or change) and didSave; seconds until its publish."""
        uri = path.as_uri()
        seen = self.publishes.get(uri, 0)
        if opening:
            item = types.TextDocumentItem(uri=uri, language_id="yaml", version=version, text=text)
            self.client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=item))
        else:
            self.client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                    content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
                )
            )
        started = time.perf_counter()
        self.client.text_document_did_save(
            types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        while self.publishes.get(uri, 0) <= seen:
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), 300)
        return time.perf_counter() - started

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()


def change(catalog: Path, counter: list[int]) -> str:
    """Append one comment line to the catalog on disk; return the new text."""
    counter[0] += 1
    text = catalog.read_text() + f"# benchmark save {counter[0]}\n"
    catalog.write_text(text)
    return text


def timed_check(project: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "kedro_ml_lint", "check", str(project)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return time.perf_counter() - started


async def bench(cold_rounds: int, warm_saves: int) -> dict[str, list[float]]:
    scratch = Path(tempfile.mkdtemp(prefix="kml-server-bench-"))
    times: dict[str, list[float]] = {
        "server, cold": [],
        "check, cold": [],
        "server, warm": [],
        "check, after each warm change": [],
    }
    try:
        project = scratch / "churn"
        shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__", ".kedro-*"))
        catalog = project / "conf" / "base" / "catalog.yml"
        env = {
            **os.environ,
            "DO_NOT_TRACK": "1",
            "KEDRO_DISABLE_TELEMETRY": "true",
            "KEDRO_ML_LINT_NO_CACHE": "0",
            "XDG_CACHE_HOME": str(scratch / "user-cache"),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        }
        counter = [0]
        timed_check(project, env)  # warm-up: page cache, .pyc files, import records, the key
        for round_ in range(cold_rounds):
            order = ["server", "check"] if round_ % 2 == 0 else ["check", "server"]
            for who in order:
                text = change(catalog, counter)
                if who == "check":
                    times["check, cold"].append(timed_check(project, env))
                    continue
                client = Client()
                await client.start(env)
                times["server, cold"].append(await client.save(catalog, text, 1, opening=True))
                if round_ == cold_rounds - 1:  # the last cold server goes on, warm
                    for save in range(warm_saves):
                        text = change(catalog, counter)
                        times["server, warm"].append(
                            await client.save(catalog, text, save + 2, opening=False)
                        )
                        change(catalog, counter)
                        times["check, after each warm change"].append(timed_check(project, env))
                        # put the buffer back in step with the disk
                        text = catalog.read_text()
                print(f"server log, round {round_}:", *client.logs, sep="\n  ", file=sys.stderr)
                await client.stop()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", type=int, default=3, help="cold rounds (a new server each)")
    parser.add_argument("--warm", type=int, default=15, help="warm saves in one server")
    args = parser.parse_args()
    times = asyncio.run(bench(args.cold, args.warm))
    print(f"load average at the end {os.getloadavg()}")
    print("| contender | n | p50 (s) | p90 (s) |")
    print("|---|---|---|---|")
    for name, found in times.items():
        p90 = statistics.quantiles(found, n=10)[-1] if len(found) > 1 else found[0]
        print(f"| {name} | {len(found)} | {statistics.median(found):.3f} | {p90:.3f} |")
    warm = statistics.median(times["server, warm"])
    cold = statistics.median(times["server, cold"]) / statistics.median(times["check, cold"])
    warm_ok, cold_ok = warm <= WARM_TARGET, cold <= COLD_TARGET
    print(f"warm p50 {warm:.3f} s (target <= {WARM_TARGET} s): {'PASS' if warm_ok else 'MISS'}")
    print(f"cold server / cold check {cold:.2f}x (target <= {COLD_TARGET}x): "
          f"{'PASS' if cold_ok else 'MISS'}")  # fmt: skip
    return 0 if warm_ok and cold_ok else 1


if __name__ == "__main__":
    sys.exit(main())
