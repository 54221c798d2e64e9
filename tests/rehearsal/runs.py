"""The rehearsal tier's runs, started in the background when the session starts, read by the tier's tests.

Each run is a real `python -m rehearsal` with its own emulator and local Bedrock on their own loopback ports.
The runs spend their minutes waiting on the emulator's clocks, not on the CPU, so they all start with the
session's first test (tests/conftest.py's `rehearsal_runs`), whichever xdist worker runs it first, and go on
while the other tiers run; the tier's tests, collected last, wait for their own run's outcome. Under xdist the
runs live in a directory every worker of the session shares, so a run starts once whichever worker asks.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 900
SHORT = ("--short",)
# run -> (the shipped example it rehearses, its arguments); a test names its run as its `run` parameter's default
RUNS = {
    "dev": ("config/dev.yaml", ()),
    "sweep": ("examples/config/sweep.yaml", ()),
    "stack-failure": ("config/dev.yaml", (*SHORT, "--inject", "stack-failure")),
    "missed-schedule": ("config/dev.yaml", (*SHORT, "--inject", "no-schedule", "--inject", "left-billed")),
}


@dataclass(frozen=True)
class Run:
    directory: Path

    def result(self) -> tuple[int, str]:
        """The run's exit code (-1 if it never ended) and everything it printed."""
        done = self.directory / "exit-code"
        deadline = time.monotonic() + TIMEOUT_S + 120
        while not done.exists() and time.monotonic() < deadline:
            time.sleep(2)
        output = (self.directory / "output.txt").read_text(errors="replace")
        return (int(done.read_text()) if done.exists() else -1), output


def wanted(items: Iterable[Any]) -> list[str]:
    """The runs the selected tests read."""
    names = set()
    for item in items:
        function = getattr(item, "function", None)
        if item.get_closest_marker("rehearsal") and getattr(function, "__defaults__", None):
            names.add(function.__defaults__[0])
    return sorted(n for n in names if n in RUNS)


def start_all(names: list[str], root: Path) -> tuple[dict[str, Run], list[threading.Thread]]:
    """Starts each run not yet started under `root` (one lock across workers); returns every run and the waiters
    of those this process started."""
    root.mkdir(parents=True, exist_ok=True)
    started = []
    with (root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for name in names:
            if not (root / name).exists():
                example, args = RUNS[name]
                started.append(_start(root / name, example, args))
    return {name: Run(root / name) for name in names}, started


def wait_for(waiters: list[threading.Thread]) -> None:
    """At the end of the session: another worker may still be waiting on a run this one started."""
    for waiter in waiters:
        waiter.join(timeout=TIMEOUT_S + 120)


def _start(directory: Path, example: str, args: tuple[str, ...]) -> threading.Thread:
    config = directory / "config"
    config.mkdir(parents=True)
    source = ROOT / example
    shutil.copy(source, config / source.name)  # the shipped example, not the user's files
    command = [sys.executable, "-m", "rehearsal", source.stem, "--config-dir", str(config)]
    command += ["--run-dir", str(directory / "run"), *args]
    with (directory / "output.txt").open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)

    def wait() -> None:
        try:
            code = process.wait(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.terminate()  # the rehearsal stops its servers (their own process groups) on SIGTERM
            try:
                code = process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                code = process.wait()
        partial = directory / "exit-code.partial"
        partial.write_text(str(code))
        os.replace(partial, directory / "exit-code")

    waiter = threading.Thread(target=wait, name=f"rehearsal {directory.name}", daemon=True)
    waiter.start()
    return waiter
