"""The rehearsal tier: the shipped dev example deployed into ministack with the pinned CDK CLI and driven
through its whole lifecycle, the sweep example through its trials, evaluation and winner, and the rehearsal
shown to fail when a stack fails, a schedule does not fire or something is left billed. Each run is a real
`python -m rehearsal` (servers, CDK CLI, Lambda workers).

The runs spend their time waiting on the emulator's clocks (training, schedules, reconcile periods), not on the
CPU: they start in the background with the session's first test (tests/rehearsal/runs.py), and these tests,
collected last, read their outcomes."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.rehearsal


def results(output: str) -> dict[str, bool]:
    return {m.group(2): m.group(1) == "PASS" for m in re.finditer(r"^  (PASS|FAIL)  (.+)$", output, re.M)}


def passed(checks: dict[str, bool], beginning: str) -> bool:
    found = [ok for name, ok in checks.items() if name.startswith(beginning)]
    return bool(found) and all(found)


def test_the_dev_example_deploys_runs_and_tears_itself_down_on_the_emulator(rehearsal_runs, run="dev"):
    code, output = rehearsal_runs[run].result()
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


def test_the_sweep_example_runs_its_trials_within_the_quota_and_serves_only_the_winner(rehearsal_runs, run="sweep"):
    code, output = rehearsal_runs[run].result()
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


def test_the_rehearsal_fails_when_a_stack_fails(rehearsal_runs, run="stack-failure"):
    code, output = rehearsal_runs[run].result()
    assert code == 1, output[-3000:]
    assert not results(output)["first deploy: cdk deploy --all succeeds"]


def test_the_rehearsal_fails_when_a_schedule_does_not_fire_and_when_something_is_left_billed(
    rehearsal_runs, run="missed-schedule"
):
    code, output = rehearsal_runs[run].result()
    checks = results(output)
    assert code == 1, output[-3000:]
    assert not checks["micro-eval ends at its expiry through the real Scheduler and the teardown function"]
    assert not checks["nothing left billed: no throughput, no deployment, no running job"]
    assert checks["first deploy: cdk deploy --all succeeds"]
