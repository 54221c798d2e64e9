"""The pinned CDK CLI (node_modules/.bin/cdk), pointed at the emulator: bootstrap, synth, deploy, destroy."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from rehearsal.processes import NODE_BIN, ROOT

CDK = NODE_BIN / "cdk"


@dataclass(frozen=True)
class Outcome:
    command: str
    seconds: float
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def tail(self, lines: int = 15) -> str:
        return "\n".join(self.output.strip().splitlines()[-lines:])


class Cli:
    def __init__(self, *, endpoint: str, account: str, region: str, run_dir: Path, log: Path) -> None:
        self.run_dir, self.log = run_dir, log
        keep = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") or k == "AWS_CA_BUNDLE"}
        self.env = {
            **keep,
            "PATH": f"{NODE_BIN}:{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
            "AWS_ENDPOINT_URL": endpoint,  # every service the CLI calls: the emulator
            "AWS_ACCESS_KEY_ID": account,
            "AWS_SECRET_ACCESS_KEY": "rehearsal",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_EC2_METADATA_DISABLED": "true",
            "CDK_DISABLE_CLI_TELEMETRY": "true",
            "CDK_DISABLE_VERSION_CHECK": "true",
        }
        self.account, self.region = account, region

    def run(self, *args: str, cwd: Path = ROOT, timeout: float = 900) -> Outcome:
        command = [str(CDK), *args]
        start = time.monotonic()
        try:
            done = subprocess.run(command, cwd=cwd, env=self.env, capture_output=True, text=True, timeout=timeout)
            code, output = done.returncode, done.stdout + done.stderr
        except subprocess.TimeoutExpired as exc:
            # On a timeout the captured output is bytes even with text=True (subprocess leaves it undecoded).
            partial = "".join(
                part.decode(errors="replace") if isinstance(part, bytes) else part
                for part in (exc.stdout or "", exc.stderr or "")
            )
            code, output = 124, f"timed out after {timeout:.0f} s\n{partial}"
        seconds = time.monotonic() - start
        with self.log.open("a") as out:
            out.write(f"\n$ cdk {' '.join(args)}   ({seconds:.1f} s, exit {code})\n{output}")
        return Outcome(f"cdk {args[0]}", seconds, code, output)

    def bootstrap(self) -> Outcome:
        # From an empty directory: in the repository it would synthesize the app (every environment) into cdk.out.
        empty = self.run_dir / "bootstrap"
        empty.mkdir(exist_ok=True)
        return self.run("bootstrap", f"aws://{self.account}/{self.region}", cwd=empty)

    def synth(self, environment: str, config_dir: Path, out: Path) -> Outcome:
        app = f"{sys.executable} {ROOT / 'rehearsal' / 'app.py'}"
        return self.run(
            "synth",
            "-q",
            "--app",
            app,
            "-c",
            f"env={environment}",
            "-c",
            f"rehearsal:config={config_dir}",
            "-o",
            str(out),
        )

    def deploy(self, out: Path) -> Outcome:
        return self.run("deploy", "--app", str(out), "--all", "--require-approval", "never", "--progress", "events")

    def destroy(self, out: Path) -> Outcome:
        return self.run("destroy", "--app", str(out), "--all", "--force")
