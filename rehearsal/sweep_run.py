"""The rehearsal of an environment whose jobs sweep: the trials through the queue, the decision, the winner served.

The course after the first deploy (rehearsal/scenario.py deploys, checks IAM and destroys around it):
- the deploy starts `policy.max_concurrent_jobs` trials and queues the rest;
- each trial's end is delivered to the completion rule as EventBridge would; the queue starts the next ones;
- with `evaluate`, the best trials by loss get a throughput and an evaluation each, moved along by the reconcile
  schedule alone (no rule carries evaluation events), and their scores come from the result files the local
  Bedrock writes into the emulator's S3, where Bedrock would write them;
- the sweep record names the winner (lowest loss, or best score past the gate), one message announces it, only
  the winner is served, and with `retention.custom_models: delete` the losers' models are gone.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from tailor import naming, records
from tailor.config.job import Job
from tailor.jobs import sweep_decision
from tailor.serving.model import TAG_EXPIRES_AT

if TYPE_CHECKING:
    from rehearsal.scenario import Rehearsal

JOB_SECONDS = 20.0  # a trial's training time in the local Bedrock: six trials two at a time take three rounds
EVALUATION_SECONDS = 5.0


def sweeps(rh: Rehearsal) -> list[Job]:
    return [job for job in rh.env.jobs.values() if job.sweep is not None]


def bedrock_settings() -> list[str]:
    """Losses that vary with each trial's hyperparameters (so a sweep has a winner), and quick evaluations."""
    return ["--job-metrics", "hyperparameters", "--evaluation-seconds", str(EVALUATION_SECONDS)]


def rehearse(rh: Rehearsal) -> None:
    jobs = sweeps(rh)
    _check_queued_at_deploy(rh, jobs)
    _run_until_decided(rh, jobs)
    for job in jobs:
        record = rh._job_record(job.key)
        _check_trials(rh, job, record)
        _check_decision(rh, job, record)
        _check_served(rh, job, record)
        _check_losers_deleted(rh, job, record)
    rh._check_datasets_under_the_key()
    shown = rh._tailor("status", rh.env_name, "--config-dir", str(rh.run / "config"), record="status")
    rh.check(
        "tailor status names each sweep's winner and shows its trials' table",
        all(
            f"winner {_winner(rh._job_record(j.key)).get('name')}" in shown and f"Sweep {j.key} (" in shown
            for j in jobs
        ),
        f"{len(shown.splitlines())} lines (status.txt in the run directory)",
    )


def _check_queued_at_deploy(rh: Rehearsal, jobs: list[Job]) -> None:
    limit = rh.env.policy.max_concurrent_jobs
    trials = [t for job in jobs for t in job.trials]
    started = rh._job_starts()
    queued = [t.name for job in jobs for t in job.trials if _trial_record(rh, job, t).get("status") == "queued"]
    expected = min(limit, len(trials))
    rh.check(
        f"the deploy starts {expected} trials (policy.max_concurrent_jobs: {limit}) and queues the other "
        f"{len(trials) - expected}",
        len(started) == len(set(started)) == expected and len(queued) == len(trials) - expected,
        f"started {len(started)}; queued {len(queued)}",
    )


def _run_until_decided(rh: Rehearsal, jobs: list[Job]) -> None:
    pattern, target = rh._completion_rule()
    delivered: set[str] = set()
    seen = 0
    trials = sum(len(job.trials) for job in jobs)
    rounds = -(-trials // rh.env.policy.max_concurrent_jobs)
    # each round: the training plus a delivery; then the evaluation's throughput, its job and the decision, each
    # brought along by a reconcile pass (one a minute, the emulator's schedule ticks every 10 s)
    deadline = time.monotonic() + rounds * (float(rh.options.job_seconds or JOB_SECONDS) + 30) + 420
    while time.monotonic() < deadline:
        seen = rh.deliver_job_events(pattern, target, since=seen, delivered=delivered, skip=None)
        if all(rh._job_record(job.key).get("decidedAt") for job in jobs):
            break
        time.sleep(3)
    rh.check(
        "the deployed rule's pattern matches each trial's state-change event (TestEventPattern)",
        len(delivered) >= trials,
        f"{len(delivered)} events matched and delivered for {trials} trials",
    )


def _check_trials(rh: Rehearsal, job: Job, record: dict[str, Any]) -> None:
    started = [name for name in rh._job_starts() if name.startswith(f"{naming.PROJECT}-{rh.env_name}-{job.key}-")]
    wanted = sorted(t.name for t in job.trials)
    ended = {t.get("name"): t.get("status") for t in record.get("trials", [])}
    from rehearsal.scenario import _most_at_once

    most = _most_at_once(rh.control.events(), rh.env_name)
    limit = rh.env.policy.max_concurrent_jobs
    rh.check(
        f"jobs.{job.key}: every trial started exactly once, never more than {limit} at a time, and each ended",
        sorted(started) == wanted and most <= limit and all(ended.get(n) == "Completed" for n in wanted),
        f"{len(started)} starts for {len(wanted)} trials; at most {most} InProgress together; "
        + ", ".join(f"{n.rsplit('-', 1)[-1]} {ended.get(n)}" for n in wanted),
    )


def _check_decision(rh: Rehearsal, job: Job, record: dict[str, Any]) -> None:
    assert job.sweep is not None
    ranking = sweep_decision.rank_by_loss(record.get("trials", []))
    winner = _winner(record)
    evaluation = job.sweep.evaluation
    if evaluation is None:
        best = ranking.ranked[0]["name"] if ranking.ranked else None
        rh.check(
            f"jobs.{job.key}: the trial with the lowest loss wins, and the record says why",
            bool(best) and winner.get("name") == best and record.get("status") == "Completed",
            f"winner {winner.get('name')}: {record.get('decision')}",
        )
    else:
        candidates = [t["name"] for t in ranking.ranked[: evaluation.top]]
        scored = {k: v for k, v in (record.get("evaluations") or {}).items() if k != "base"}
        retired = all(v.get("status") == "scored" and v.get("retired") for v in scored.values())
        rh.check(
            f"jobs.{job.key}: the {evaluation.top} best by loss are evaluated, each on its own throughput, "
            "each throughput retired",
            record.get("candidates") == candidates and set(scored) == set(candidates) and retired,
            f"candidates {[c.rsplit('-', 1)[-1] for c in candidates]}; "
            + ", ".join(f"{k.rsplit('-', 1)[-1]} {v.get('status')} {v.get('score')}" for k, v in scored.items()),
        )
        best = max(candidates, key=lambda n: (scored.get(n, {}).get("score") or 0, -candidates.index(n)), default=None)
        rh.check(
            f"jobs.{job.key}: the best-scored candidate wins, and the gate decides whether it is served",
            bool(best) and winner.get("name") == best and record.get("gatePassed") is not None,
            f"winner {winner.get('name')}; gate passed: {record.get('gatePassed')}; {record.get('decision')}",
        )
    announced = [s for s in rh._notifications() if f"sweep {job.key}" in s]
    rh.check(f"jobs.{job.key}: one message announces the decision", len(announced) == 1, "; ".join(announced))


def _check_served(rh: Rehearsal, job: Job, record: dict[str, Any]) -> None:
    if job.serve is None:
        return
    deadline = time.monotonic() + 120
    serving = rh._serving_record(job.key) or {}
    while record.get("status") == "Completed" and serving.get("status") != "active" and time.monotonic() < deadline:
        time.sleep(3)
        serving = rh._serving_record(job.key) or {}
    billed = rh.control.billed()
    served = rh._billed(serving.get("arn"))
    if record.get("status") == "Completed":
        ok = bool(
            served
            and serving.get("modelArn") == record.get("customModelArn")
            and served["tags"].get(TAG_EXPIRES_AT)
            and rh._schedule_for(served)
            and [b["arn"] for b in billed] == [served["arn"]]
        )
    else:  # the gate refused the winner: nothing is served
        ok = not billed
    rh.check(
        f"jobs.{job.key}.serve: only the winner is served (evaluation throughputs gone), with its expiry and schedule",
        ok,
        f"billed {[b['name'] for b in billed]}; serving {serving.get('arn')} of {serving.get('modelArn')}",
    )


def _check_losers_deleted(rh: Rehearsal, job: Job, record: dict[str, Any]) -> None:
    models = [m for m in rh._custom_models() if m.startswith(f"{naming.PROJECT}-{rh.env_name}-{job.key}-")]
    winner = _winner(record).get("name")
    if job.retain_custom_model or record.get("status") != "Completed":
        ok, rule = len(models) == len(job.trials), "kept (retained, or no winner)"
    else:
        ok, rule = len(models) == 1 and record.get("losersDeleted") is True, "deleted once the winner was chosen"
    rh.check(
        f"jobs.{job.key}: the losing trials' models are {rule}",
        ok,
        f"{len(models)} trial models left; winner {winner}",
    )


def _winner(record: dict[str, Any]) -> dict[str, Any]:
    winner = record.get("winner")
    return winner if isinstance(winner, dict) else {}


def _trial_record(rh: Rehearsal, job: Job, trial: Job) -> dict[str, Any]:
    from tailor.jobs.sweep import trial_record_name

    return records.get(rh.aws.ssm, trial_record_name(rh.env_name, job.key, trial.name)) or {}
