"""The run-time pass over an environment's sweeps, called by the completion handler after every event and
reconcile pass: it copies each trial's status and losses into the sweep record and, once every trial has ended,
decides by loss, or hands the best trials to the evaluation (tailor/jobs/evaluation.py, driven by
tailor/serving/job_serving.py), which decides by score. Every write is a versioned update that only moves the
record forward, and the one notification is sent by the writer whose update recorded the decision, so
duplicates and concurrent passes notify once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from tailor import aws, records
from tailor.jobs import queue
from tailor.jobs.sweep import COMPLETED, IN_PROGRESS, KIND, TRIAL_ENDED, summary, trial_record_name, with_trials
from tailor.jobs.sweep_decision import decide_by_loss, decided, evaluating, rank_by_loss
from tailor.jobs.sweep_report import notify

log = logging.getLogger(__name__)


def refresh(clients: Any, environment: str, *, topic_arn: str, now: Callable[[], datetime]) -> list[tuple[str, str]]:
    """Brings every sweep record of the environment up to date; returns (sweep key, what happened)."""
    listing = dict(queue.job_records(clients.ssm, environment))
    done = []
    for name, record in listing.items():
        if record.get("kind") != KIND:
            continue
        try:
            done.append((str(record.get("jobKey")), _refresh_one(clients, name, record, listing, topic_arn, now)))
        except ClientError as exc:
            # One sweep Bedrock or SSM refuses must not hold back the others; the next pass tries again.
            log.error("sweep %s could not be refreshed: %s", record.get("jobKey"), exc)
            done.append((str(record.get("jobKey")), f"error: {aws.error_code(exc)}"))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            # A record edited by hand (or written by a newer Tailor): reported, never a crash of every pass.
            log.error("sweep record %s is not one this Tailor can read: %r", name, exc)
            done.append((str(record.get("jobKey")), "unreadable"))
    return done


def _refresh_one(
    clients: Any,
    name: str,
    record: dict[str, Any],
    listing: Mapping[str, dict[str, Any]],
    topic_arn: str,
    now: Callable[[], datetime],
) -> str:
    env, key, sweep_name = record["environment"], record["jobKey"], record["sweepName"]
    trial_records = {t["name"]: listing.get(trial_record_name(env, key, t["name"])) for t in record["trials"]}
    # A trial record of another job (an older trial's, before its resource went) does not describe this trial.
    trial_records = {n: r if r is not None and r.get("jobName") == n else None for n, r in trial_records.items()}
    summaries = {n: summary(r) for n, r in trial_records.items()}
    updated = records.update(clients.ssm, name, with_trials(sweep_name, summaries, now()))
    record = updated or record
    action = "refreshed" if updated else "unchanged"
    if record.get("status") == IN_PROGRESS and all(s["status"] in TRIAL_ENDED for s in summaries.values()):
        action = _trials_ended(clients, name, record, trial_records, topic_arn, now)
    if record.get("status") == COMPLETED:
        _delete_losers(clients, name, record, trial_records)
    return action


def _trials_ended(
    clients: Any,
    name: str,
    record: dict[str, Any],
    trial_records: Mapping[str, dict[str, Any] | None],
    topic_arn: str,
    now: Callable[[], datetime],
) -> str:
    ranking = rank_by_loss(record["trials"])
    if record.get("evaluation") is None or not ranking.ranked:
        decision = decide_by_loss(record, ranking, trial_records)
        written = records.update(clients.ssm, name, decided(record["sweepName"], decision, now()))
        if written is None:
            return "unchanged"
        notify(clients, topic_arn, written)
        return "decided"
    top = int(record["evaluation"].get("top", 1))
    candidates = [t["name"] for t in ranking.ranked[:top]]
    written = records.update(
        clients.ssm, name, evaluating(record["sweepName"], candidates, ranking.metric, ranking.note, now())
    )
    return "evaluating" if written is not None else "unchanged"


def _delete_losers(
    clients: Any, name: str, record: dict[str, Any], trial_records: Mapping[str, dict[str, Any] | None]
) -> None:
    """With retention.custom_models: delete, the losing trials' models go once the winner is chosen."""
    if record.get("retainCustomModels", True) or record.get("losersDeleted"):
        return
    winner = (record.get("winner") or {}).get("name")
    for trial_name, trial in trial_records.items():
        model = (trial or {}).get("customModelArn")
        if trial_name == winner or not model:
            continue
        try:
            clients.bedrock.delete_custom_model(modelIdentifier=model)
        except ClientError as exc:
            if aws.error_code(exc) != "ResourceNotFoundException":
                log.error("could not delete losing trial %s's model %s: %s", trial_name, model, exc)
                return  # the next pass tries again
    sweep_name = record["sweepName"]

    def marked(current: dict[str, Any] | None) -> dict[str, Any] | None:
        if current is None or current.get("sweepName") != sweep_name or current.get("losersDeleted"):
            return None
        return {**current, "losersDeleted": True}

    records.update(clients.ssm, name, marked)
