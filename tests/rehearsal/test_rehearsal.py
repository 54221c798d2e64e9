"""The rehearsal tier: the shipped dev example deployed into ministack with the pinned CDK CLI and driven
through its whole lifecycle, and the rehearsal shown to fail when a stack fails, a schedule does not fire or
something is left billed. Each run is a real `python -m rehearsal` (servers, CDK CLI, Lambda workers)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.rehearsal
TIMEOUT_S = 900


def rehearse(tmp_path, *args: str) -> tuple[int, str]:
    config = tmp_path / "config"
    config.mkdir()
    shutil.copy(ROOT / "config" / "dev.yaml", config / "dev.yaml")  # the shipped example, not the user's files
    command = [
        sys.executable,
        "-m",
        "rehearsal",
        "dev",
        "--config-dir",
        str(config),
        "--run-dir",
        str(tmp_path / "run"),
    ]
    done = subprocess.run([*command, *args], cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT_S)
    return done.returncode, done.stdout + done.stderr


def results(output: str) -> dict[str, bool]:
    return {m.group(2): m.group(1) == "PASS" for m in re.finditer(r"^  (PASS|FAIL)  (.+)$", output, re.M)}


def test_the_dev_example_deploys_runs_and_tears_itself_down_on_the_emulator(tmp_path):
    code, output = rehearse(tmp_path)
    checks = results(output)
    assert code == 0, output[-6000:]
    assert len(checks) >= 20 and all(checks.values())
    for essential in (
        "every job starts once",
        "datasets copied under the environment's key",
        "a hyperparameter change replaces the job and stops the old one",
        "nothing left billed: no throughput, no deployment, no running job",
    ):
        assert checks[essential], essential
    assert any(name.startswith("every AWS call each function made") for name in checks)
    assert "Timeline" in output and "Not rehearsed, or changed for the emulator" in output


def test_the_rehearsal_fails_when_a_stack_fails(tmp_path):
    code, output = rehearse(tmp_path, "--short", "--inject", "stack-failure")
    assert code == 1
    assert not results(output)["first deploy: cdk deploy --all succeeds"]


def test_the_rehearsal_fails_when_a_schedule_does_not_fire_and_when_something_is_left_billed(tmp_path):
    code, output = rehearse(tmp_path, "--short", "--inject", "no-schedule", "--inject", "left-billed")
    checks = results(output)
    assert code == 1
    assert not checks["micro-eval ends at its expiry through the real Scheduler and the teardown function"]
    assert not checks["nothing left billed: no throughput, no deployment, no running job"]
    assert checks["first deploy: cdk deploy --all succeeds"]
