"""The rehearsal's two servers, each in its own process group on a free loopback port, always stopped.

ministack (the AWS emulator) runs from its own virtual environment (it pins an older botocore than Tailor's);
the local Bedrock is `python -m rehearsal.http`. ministack passes its own environment to the Lambda workers it
starts, so `AWS_ENDPOINT_URL_BEDROCK` set on it reaches every function: the production templates carry no
emulator setting. Logs of both stay in the run directory.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EMULATOR_PYTHON = ROOT / ".venv-emulator" / "bin" / "python"
NODE_BIN = ROOT / "node_modules" / ".bin"
HOOK_MODULE = "tailor_rehearsal_calls"
STOP_GRACE_S = 5.0


class RehearsalSetupError(Exception):
    """The rehearsal cannot start (a missing install, a server that does not come up): one line says why."""


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    url: str
    log: Path
    started: float = field(default_factory=time.monotonic)

    def stop(self) -> None:
        """The whole process group: ministack's Lambda workers are its children."""
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(STOP_GRACE_S)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_local_bedrock(run_dir: Path, *, args: list[str], account: str | None = None) -> Server:
    log = run_dir / "local-bedrock.log"
    calls = run_dir / "local-bedrock-calls.jsonl"
    command = [sys.executable, "-m", "rehearsal.http", "--port", "0", "--log-file", str(calls), *args]
    # Its own calls (evaluation result files into the emulator's S3) are the account's, as ministack reads keys.
    env = {
        **_clean_environment(),
        **({"AWS_ACCESS_KEY_ID": account, "AWS_SECRET_ACCESS_KEY": "rehearsal"} if account else {}),
    }
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log.open("wb"), start_new_session=True
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stdout.readline().decode().strip()
        if line.startswith("listening on "):
            return Server("local Bedrock", process, line.removeprefix("listening on "), log)
        if process.poll() is not None:
            break
    Server("local Bedrock", process, "", log).stop()
    raise RehearsalSetupError(f"the local Bedrock did not start; its log: {log}")


def require_emulator() -> None:
    """Before anything starts: the emulator's own virtual environment (make .venv-emulator/.installed)."""
    if not EMULATOR_PYTHON.is_file():
        raise RehearsalSetupError(f"no emulator environment at {EMULATOR_PYTHON.parent.parent}; run `make rehearse`")


def start_emulator(run_dir: Path, *, account: str, region: str, bedrock_url: str, call_log: Path) -> Server:
    require_emulator()
    _install_call_hook()
    port = free_port()
    tmp = run_dir / "emulator-tmp"
    tmp.mkdir(exist_ok=True)
    env = {
        **_clean_environment(),
        "GATEWAY_PORT": str(port),
        "BIND_HOST": "127.0.0.1",
        "AWS_ACCESS_KEY_ID": account,  # ministack's account is the access key when it is 12 digits
        "AWS_SECRET_ACCESS_KEY": "rehearsal",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "TMPDIR": str(tmp),  # where the workers unpack function code: removed with the run
        "PATH": f"{NODE_BIN}:{os.environ.get('PATH', '')}",  # the Provider framework's Node functions: Node 22
        # Reaches every Lambda worker (they inherit this environment): Bedrock calls go to the local Bedrock.
        "AWS_ENDPOINT_URL_BEDROCK": bedrock_url,
        "TAILOR_CALL_LOG": str(call_log),
    }
    log = run_dir / "emulator.log"
    process = subprocess.Popen(
        [str(EMULATOR_PYTHON), "-m", "ministack"],
        cwd=run_dir,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = Server("ministack", process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"{server.url}/_ministack/health", timeout=2) as answer:
                if answer.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise RehearsalSetupError(f"ministack did not start on port {port}; its log: {log}")


@contextlib.contextmanager
def running(*servers: Server) -> Iterator[None]:
    """Stops the servers on any exit, Ctrl-C and SIGTERM included."""
    previous = signal.getsignal(signal.SIGTERM)

    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        for server in reversed(servers):
            server.stop()
        signal.signal(signal.SIGTERM, previous)


def _clean_environment() -> dict[str, str]:
    drop = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")
    return {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("AWS_ENDPOINT_URL_")}


def _install_call_hook() -> None:
    """Puts the call recorder into the emulator's environment: its workers load site-packages at start, so the
    functions record their AWS calls without a line of rehearsal code in the asset or the templates."""
    site = subprocess.run(
        [str(EMULATOR_PYTHON), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    source = (ROOT / "rehearsal" / "call_hook.py").read_text()
    target = Path(site) / f"{HOOK_MODULE}.py"
    # Written whole, then renamed: rehearsals started together never let a worker read a half-written file.
    for path, text in ((target, source), (Path(site) / f"{HOOK_MODULE}.pth", f"import {HOOK_MODULE}\n")):
        if not path.is_file() or path.read_text() != text:
            partial = path.with_name(f".{path.name}.{os.getpid()}")
            partial.write_text(text)
            os.replace(partial, path)
