"""A 6-trial sweep in an account whose quota runs 2 customization jobs at once, on one simulated clock.

Each run deploys the sweep as CloudFormation would (the six trial resources and the sweep's, in a shuffled
order, then its serving), lets the local Bedrock train each job for an hour, delivers each job's state change
as EventBridge would (or loses it, or delivers it twice), fires the reconcile schedule every five minutes, and
runs functions/job_completion.py whole for every delivery. The assertions are about what the account saw.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest

from rehearsal.bedrock import losses_from_hyperparameters
from tailor import records
from tailor.jobs import sweep_decision
from tests.simulation.harness import SweepSimulation, make_world, sweep_environment, sweep_specs

# Where the run of the example writes its record and notification (docs/sweeps.md shows them): set to a file.
SHOW = os.environ.get("TAILOR_SWEEP_EXAMPLE_OUT")
SHOW_EVALUATED = os.environ.get("TAILOR_SWEEP_EVALUATION_OUT")


def without_evaluation(data):
    del data["jobs"]["support-bot"]["sweep"]["evaluate"]


def world(tmp_path, change=without_evaluation):
    env = sweep_environment(tmp_path, change=change)
    return env, sweep_specs(env)


def expected_winner(specs, *, failed=()) -> str:
    """The trial the double's losses make best: the lowest validation loss (the first on a tie)."""
    names = [s.job_name for s in specs.trials if s.job_name not in failed]
    losses = {s.job_name: losses_from_hyperparameters(s.request["hyperParameters"])[1] for s in specs.trials}
    return min(names, key=lambda name: (losses[name], names.index(name)))


def winner_messages(sim) -> list[dict]:
    return [m for m in sim.messages if "sweep support-bot" in m["subject"]]


def test_six_trials_run_two_at_a_time_each_once_and_the_lowest_validation_loss_wins(aws, tmp_path):
    # Given six trials and a quota of two; the winner's completion event is lost, another trial's arrives twice
    env, specs = world(tmp_path)
    best = expected_winner(specs)
    other = next(s.job_name for s in specs.trials if s.job_name != best)
    sim = SweepSimulation(*make_world(), lose=(best,), duplicate=(other,))
    # When the stack is deployed and five hours pass (three rounds of one-hour jobs, with room for lost events)
    sim.deploy_sweep(specs, seed=7)
    sim.run(hours=5)
    # Then no more than two ever ran at once, and Bedrock never had to refuse a start
    assert sim.most_running == 2
    assert all(code is None for _, code in sim.starts()), sim.starts()
    # and every trial was started exactly once
    assert Counter(name for name, _ in sim.starts()) == {s.job_name: 1 for s in specs.trials}
    assert {j.name for j in sim.double.jobs.values()} == {s.job_name for s in specs.trials}
    # and the winner is the trial with the lowest validation loss, though its own event never arrived
    record = sim.sweep_record()
    assert sim.lost_events == [best]
    assert record["status"] == "Completed" and record["winner"]["name"] == best
    winner_job = next(j for j in sim.double.jobs.values() if j.name == best)
    assert record["customModelArn"] == winner_job.output_model_arn
    assert "lowest validation loss" in record["decision"]
    # and it was announced once, naming every trial
    (message,) = winner_messages(sim)
    for index in range(1, 7):
        assert f"\n*  {index} " in message["message"] or f"\n   {index} " in message["message"]
    # and only the winner was ever served (for its two hours: the throughput is gone by now)
    assert [life.arn for life in sim.lives.values()] == [
        records.get(sim.clients.ssm, "/tailor/dev/serving/support-bot")["arn"]
    ]
    assert records.get(sim.clients.ssm, "/tailor/dev/serving/support-bot")["modelArn"] == winner_job.output_model_arn
    # and no trial was announced on its own (its sweep speaks for all of them)
    assert not [m for m in sim.messages if " job support-bot " in m["subject"]]
    if SHOW:
        Path(SHOW).write_text(
            json.dumps(record, indent=2, sort_keys=True) + "\n\n" + message["subject"] + "\n\n" + message["message"]
        )


def test_a_failing_trial_does_not_block_the_others_and_is_named_in_the_decision(aws, tmp_path):
    # Given the trial that would have won fails, and another trial's events are all lost
    env, specs = world(tmp_path)
    best = expected_winner(specs)
    lost = next(s.job_name for s in specs.trials if s.job_name != best)
    double, clients, wiring = make_world()
    double.plan_job_outcome(best, "Failed", failure_message="Training stopped: the data has 3 malformed records")
    sim = SweepSimulation(double, clients, wiring, lose=(lost,))
    # When it runs to the end
    sim.deploy_sweep(specs, seed=3)
    sim.run(hours=5)
    # Then the next best wins; the failure is in the record, the table and the one message
    record = sim.sweep_record()
    assert record["status"] == "Completed"
    assert record["winner"]["name"] == expected_winner(specs, failed=(best,))
    failed = next(t for t in record["trials"] if t["name"] == best)
    assert failed["status"] == "Failed" and "malformed" in failed["note"]
    (message,) = winner_messages(sim)
    assert "Failed" in message["message"]
    assert sim.most_running <= 2 and len(sim.starts()) == 6


def test_retention_delete_removes_the_losers_models_and_keeps_the_winners(aws, tmp_path):
    # Given the example's retention.custom_models: delete
    env, specs = world(tmp_path)
    sim = SweepSimulation(*make_world())
    # When the sweep is decided
    sim.deploy_sweep(specs, seed=1)
    sim.run(hours=4)
    # Then only the winner's custom model is left
    record = sim.sweep_record()
    assert record["losersDeleted"] is True
    assert [m.arn for m in sim.double.custom_models.values()] == [record["customModelArn"]]


def test_stack_deletion_stops_running_trials_and_clears_the_queue(aws, tmp_path):
    # Given the sweep deployed and half an hour in: two trials training, four queued
    env, specs = world(tmp_path)
    sim = SweepSimulation(*make_world())
    physical = sim.deploy_sweep(specs, seed=5)
    sim.run(minutes=30)
    queued = [
        r
        for n, r in records.all_records(sim.clients.ssm, "/tailor/dev/jobs/support-bot/trials")
        if r["status"] == "queued"
    ]
    assert len(queued) == 4 and sim.most_running == 2
    # When the stack is deleted, and time goes on
    sim.delete_sweep(specs, physical)
    sim.run(hours=3)
    # Then the running trials were stopped, nothing queued ever started, and no record is left
    assert len(sim.starts()) == 2
    assert {j.status for j in sim.double.jobs.values()} == {"Stopped"}
    assert list(records.all_records(sim.clients.ssm, "/tailor/dev/jobs")) == []
    assert sim.double.throughputs == {}


def test_adding_one_value_starts_only_the_new_trials(aws, tmp_path):
    # Given a decided sweep
    env, specs = world(tmp_path)
    sim = SweepSimulation(*make_world())
    sim.deploy_sweep(specs, seed=2)
    sim.run(hours=4)
    first = sim.sweep_record()
    assert first["status"] == "Completed"

    # When a fourth learning rate is added and the stack updated: the six existing resources are unchanged
    def more(data):
        without_evaluation(data)
        data["jobs"]["support-bot"]["sweep"]["learningRate"].append(0.00007)

    env2, specs2 = world(tmp_path / "more", more)
    old = {s.job_name for s in specs.trials}
    new = [s for s in specs2.trials if s.job_name not in old]
    assert len(new) == 2 and {s.job_name for s in specs2.trials} >= old
    from tailor.jobs import resource as job_resource
    from tests.simulation.harness import cfn_event

    for spec in new:
        sim._act(
            "stack-update",
            lambda spec=spec: job_resource.on_event(cfn_event("Create", spec), sim.clients, now=sim.clock),
        )
    sim._act(
        "stack-update",
        lambda: job_resource.on_event(
            cfn_event("Update", specs2.sweep, physical_id="tailor-dev-support-bot-sweep", old=specs.sweep),
            sim.clients,
            now=sim.clock,
        ),
    )
    sim.run(hours=3)
    # Then only the two new trials were started, and the sweep was decided again over all eight
    assert len(sim.starts()) == 8
    record = sim.sweep_record()
    assert record["sweepName"] == specs2.sweep.sweep_name and record["status"] == "Completed"
    assert len(record["trials"]) == 8 and all(t["status"] == "Completed" for t in record["trials"])
    assert record["winner"]["name"] == expected_winner(specs2)


@pytest.mark.parametrize("gate, passes", [({"better_than_base": True}, True), ({"min_score": 0.9}, False)])
def test_an_evaluation_gate_serves_the_best_scored_winner_only_when_it_passes(aws, tmp_path, gate, passes):
    # Given the example's evaluation of the two best trials (on Provisioned Throughput) with a gate
    def gated(data):
        data["jobs"]["support-bot"]["sweep"]["evaluate"]["gate"] = gate

    env, specs = world(tmp_path, gated)
    sim = SweepSimulation(*make_world())
    # When the trials train, then the evaluations run
    sim.deploy_sweep(specs, seed=4)
    sim.run(hours=6)
    record = sim.sweep_record()
    # Then exactly the two best by loss were evaluated, each on its own throughput, each retired after
    ranking = sweep_decision.rank_by_loss(record["trials"])
    candidates = [t["name"] for t in ranking.ranked[:2]]
    assert record["candidates"] == candidates
    scored = {k: v for k, v in record["evaluations"].items() if k != "base"}
    assert set(scored) == set(candidates) and all(v["status"] == "scored" and v["retired"] for v in scored.values())
    evaluation_pts = [p for p in sim.double.throughputs.values() if "eval" in p.name]
    assert evaluation_pts == []  # every evaluation throughput is gone
    # and the winner is the best score among them
    best = max(candidates, key=lambda n: (scored[n]["score"], -candidates.index(n)))
    assert record["winner"]["name"] == best
    (message,) = winner_messages(sim)
    if passes:
        assert record["status"] == "Completed" and record["gatePassed"] is True
        assert record["evaluations"]["base"]["status"] == "scored"
        serving = records.get(sim.clients.ssm, "/tailor/dev/serving/support-bot")
        assert serving["modelArn"] == record["customModelArn"]  # the winner, served once it passed
        assert len(sim.lives) == 3  # two evaluation throughputs, then the winner's
        assert "chose trial" in message["subject"]
        if SHOW_EVALUATED:
            Path(SHOW_EVALUATED).write_text(
                json.dumps(record, indent=2, sort_keys=True) + "\n\n" + message["subject"] + "\n\n" + message["message"]
            )
    else:
        assert record["status"] == "Failed" and record["customModelArn"] is None
        assert "below min_score 0.9" in record["failureMessage"] and "nothing is served" in record["failureMessage"]
        assert records.get(sim.clients.ssm, "/tailor/dev/serving/support-bot")["status"] == "pending"
        assert len(sim.lives) == 2  # the two evaluation throughputs, and nothing served
        assert "no winner" in message["subject"] and "Nothing is served" in message["message"]
