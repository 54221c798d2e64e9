"""`tailor status` on a sweep: a queued trial says what it waits for, a decided sweep shows its trials and winner."""

from __future__ import annotations

from datetime import UTC, datetime

from tailor.jobs import sweep_refresh
from tailor.ops import status
from tests.handlers.jobs.test_sweep import TOPIC, deploy, finish_all, without_evaluation
from tests.simulation.harness import sweep_environment, sweep_specs

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def test_status_shows_the_queue_then_the_sweeps_table_with_its_winner(clients, bedrock_double, tmp_path):
    env = sweep_environment(tmp_path, change=without_evaluation)
    specs = sweep_specs(env)
    deploy(clients, specs)
    # While two trials run and the rest wait for a slot
    report = status.status(clients, env, now=NOW)
    (row,) = [j for j in report["jobs"] if j["key"] == "support-bot"]
    assert row["stage"] == "sweep" and row["status"] == "InProgress"
    trials = report["sweeps"]["support-bot"]["trials"]
    assert [t["status"] for t in trials].count("InProgress") == 2
    assert {t["status"] for t in trials[2:]} == {"queued"}
    # When every trial has ended and the sweep decided
    names = [s.job_name for s in specs.trials]
    finish_all(bedrock_double, clients, {n: (0.3 - i * 0.01, 0.4 - i * 0.01) for i, n in enumerate(names)})
    sweep_refresh.refresh(clients, "dev", topic_arn=TOPIC, now=lambda: NOW)
    report = status.status(clients, env, now=NOW)
    # Then the job line names the winner and the table marks it, one line per trial
    (row,) = [j for j in report["jobs"] if j["key"] == "support-bot"]
    assert row["note"] == f"winner {names[-1]}"
    text = status.render(report)
    table = text.split("Sweep support-bot (Completed; * marks the winner):\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert len(table) == 1 + len(names)
    assert [line.startswith("*") for line in table[1:]] == [False] * (len(names) - 1) + [True]
