"""The rehearsal tier: the shipped dev example deployed into ministack with the pinned CDK CLI and driven
through its whole lifecycle, the sweep example through its trials, evaluation and winner, and the rehearsal
shown to fail when a stack fails, a schedule does not fire or something is left billed. Each run is a real
`python -m rehearsal` (servers, CDK CLI, Lambda workers).

The runs spend their time waiting on the emulator's clocks (training, schedules, reconcile periods), not on the
CPU, so the tier starts every selected run at once, each with its own emulator and local Bedrock on their own
loopback ports, and each test waits for its own: the tier takes as long as its longest run, not their sum. The
tests share one xdist group (`make test` runs `--dist loadgroup`), so one worker holds the runs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.rehearsal, pytest.mark.xdist_group("rehearsal")]
TIMEOUT_S = 900
SHORT = ("--short",)
# run -> (the shipped example it rehearses, its arguments); the tests below name the run they read
RUNS = {
    "dev": ("config/dev.yaml", ()),
    "sweep": ("examples/config/sweep.yaml", ()),
    "stack-failure": ("config/dev.yaml", (*SHORT, "--inject", "stack-failure")),
    "missed-schedule": ("config/dev.yaml", (*SHORT, "--inject", "no-schedule", "--inject", "left-billed")),
}


@dataclass
class Run:
    process: subprocess.Popen[bytes]
    log: Path

    def result(self) -> tuple[int, str]:
        try:
            code = self.process.wait(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()  # its servers are in process groups of their own: the rehearsal stops them on exit
            code = self.process.wait()
        return code, self.log.read_text(errors="replace")


def start(directory: Path, example: str, args: tuple[str, ...]) -> Run:
    config = directory / "config"
    config.mkdir(parents=True)
    source = ROOT / example
    shutil.copy(source, config / source.name)  # the shipped example, not the user's files
    command = [sys.executable, "-m", "rehearsal", source.stem, "--config-dir", str(config)]
    command += ["--run-dir", str(directory / "run"), *args]
    log = directory / "output.txt"
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    return Run(process, log)


@pytest.fixture(scope="module")
def runs(request, tmp_path_factory):
    """Every run a selected test of this module reads (the default of its `run` parameter), started together."""
    wanted = {
        item.function.__defaults__[0] if item.function.__defaults__ else None
        for item in request.session.items
        if item.module is request.module
    }
    started = {
        name: start(tmp_path_factory.mktemp(f"rehearsal-{name}"), *RUNS[name]) for name in RUNS if name in wanted
    }
    yield started
    for run in started.values():
        if run.process.poll() is None:
            run.process.terminate()
            run.process.wait(timeout=60)


def results(output: str) -> dict[str, bool]:
    return {m.group(2): m.group(1) == "PASS" for m in re.finditer(r"^  (PASS|FAIL)  (.+)$", output, re.M)}


def passed(checks: dict[str, bool], beginning: str) -> bool:
    found = [ok for name, ok in checks.items() if name.startswith(beginning)]
    return bool(found) and all(found)


def test_the_dev_example_deploys_runs_and_tears_itself_down_on_the_emulator(runs, run="dev"):
    code, output = runs[run].result()
    checks = results(output)
    assert code == 0, output[-6000:]
    assert len(checks) >= 20 and all(checks.values())
    for essential in (
        "the deploy starts 2 jobs",
        "every job started exactly once",
        "datasets copied under the environment's key",
        "a hyperparameter change replaces the job and stops the old one",
        "nothing left billed: no throughput, no deployment, no running job",
        "every AWS call each function made is allowed",
    ):
        assert passed(checks, essential), essential
    assert "Timeline" in output and "Not rehearsed, or changed for the emulator" in output


def test_the_sweep_example_runs_its_trials_within_the_quota_and_serves_only_the_winner(runs, run="sweep"):
    code, output = runs[run].result()
    checks = results(output)
    assert code == 0, output[-6000:]
    for essential in (
        "the deploy starts 2 trials (policy.max_concurrent_jobs: 2) and queues the other 4",
        "jobs.support-bot: every trial started exactly once, never more than 2 at a time, and each ended",
        "jobs.support-bot: the 2 best by loss are evaluated",
        "jobs.support-bot: the best-scored candidate wins",
        "jobs.support-bot: one message announces the decision",
        "jobs.support-bot.serve: only the winner is served",
        "jobs.support-bot: the losing trials' models are deleted once the winner was chosen",
        "nothing left billed: no throughput, no deployment, no running job",
        "every AWS call each function made is allowed",
    ):
        assert passed(checks, essential), essential
    assert all(checks.values())


def test_the_rehearsal_fails_when_a_stack_fails(runs, run="stack-failure"):
    code, output = runs[run].result()
    assert code == 1, output[-3000:]
    assert not results(output)["first deploy: cdk deploy --all succeeds"]


def test_the_rehearsal_fails_when_a_schedule_does_not_fire_and_when_something_is_left_billed(
    runs, run="missed-schedule"
):
    code, output = runs[run].result()
    checks = results(output)
    assert code == 1, output[-3000:]
    assert not checks["micro-eval ends at its expiry through the real Scheduler and the teardown function"]
    assert not checks["nothing left billed: no throughput, no deployment, no running job"]
    assert checks["first deploy: cdk deploy --all succeeds"]
