"""Serving for jobs: a job's `serve` block waits as a pending record until the job completes, then starts here.

Called by the completion handler after every event and reconcile pass, so a lost event delays serving by one
period at most; the job ARN makes the create token, so repeats adopt what the first call bought.

A sweep's record says Completed (with its winner's job and model) only once the sweep is decided and its gate
passed, so its `serve` block serves the winner and nothing before. Evaluating a sweep's best trials needs
serving too (a throughput per evaluated trial), so that is driven from here as well: `evaluate_sweeps`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from tailor import aws, naming, records
from tailor.jobs import evaluation, queue, sweep, sweep_decision, sweep_report
from tailor.jobs import record as job_record
from tailor.serving.lifecycle import ServingError, ensure, retire
from tailor.serving.model import PROVISIONED, describe, format_time, parse_time
from tailor.serving.schedules import Wiring

log = logging.getLogger(__name__)
SUBJECT_MAX = 100


def serve_completed(clients: Any, wiring: Wiring, *, now: datetime) -> list[str]:
    """Starts every pending serving whose job has completed; the job ARN makes the create token, so repeats adopt."""
    started = []
    for name, serving in list(records.all_records(clients.ssm, naming.serving_record_prefix(wiring.environment))):
        if serving.get("status") != "pending" or not serving.get("jobRecordName"):
            continue
        job = records.get(clients.ssm, serving["jobRecordName"])
        model_arn = job_record.completed_model(job)
        if job is None or model_arn is None:
            continue
        latest = records.get(clients.ssm, name)  # removed from the config meanwhile? then nothing may be bought
        if not latest or latest.get("status") != "pending" or latest.get("name") != serving.get("name"):
            continue
        try:
            active = ensure(clients, wiring, latest, model_arn, generation=job["jobArn"], now=now)
            # The job's own record points at what serves its model, so one read answers "where do I call it?".
            pointer = {"servingArn": active["arn"], "servingExpiresAt": active["expiresAt"]}
            records.update(clients.ssm, serving["jobRecordName"], _pointing(job["jobArn"], pointer))
            started.append(serving["key"])
        except (ServingError, ClientError) as exc:
            # One entry Bedrock refuses (quota, the budget's deny policy) must not hold back the others.
            reason = str(exc) if isinstance(exc, ServingError) else f"{aws.error_code(exc)}: {aws.error_message(exc)}"
            log.error("cannot serve %s: %s", serving.get("key"), reason)
            clients.sns.publish(
                TopicArn=wiring.topic_arn,
                Subject=f"Tailor {wiring.environment}: {serving.get('key')} not served"[:SUBJECT_MAX],
                Message=(
                    f"Serving {serving.get('key')} for the completed job {job.get('jobName')} could "
                    f"not start: {reason}. Tailor retries at every reconcile pass."
                ),
            )
    return started


def _pointing(job_arn: str, pointer: dict[str, Any]) -> records.Change:
    """Adds the pointer to the job's record only while it still describes that job (a replacement may have
    started meanwhile: its record is not overwritten)."""

    def change(current: dict[str, Any] | None) -> dict[str, Any] | None:
        return {**current, **pointer} if current is not None and current.get("jobArn") == job_arn else None

    return change


# ----------------------------------------------------------------------------------- evaluating sweep winners
EVALUATION_SERVING_KIND = "evaluation-serving"
EVALUATION_RUN_LIMIT_HOURS = 24  # an evaluation job still running after this is stopped and counted as failed
SCORED, EVALUATION_FAILED, WAITING_FOR_THROUGHPUT, EVALUATING_NOW = "scored", "failed", "serving", "evaluating"


def evaluate_sweeps(clients: Any, wiring: Wiring, *, now: datetime) -> list[str]:
    """Moves every sweep under evaluation one step, and retires what a redefined sweep left running.

    Each candidate trial gets a short-lived Provisioned Throughput (the same create-or-adopt, expiry tag and
    teardown schedule as any serving), then an evaluation job on it; the throughput is retired as soon as its
    job ends. When every evaluation has ended the winner is chosen by score and its gate
    (tailor/jobs/sweep_decision.py), the decision recorded once and announced once; serve_completed then serves
    it. Returns the keys of sweeps decided in this pass.
    """
    decided = []
    for name, record in list(queue.job_records(clients.ssm, wiring.environment)):
        if record.get("kind") != sweep.KIND:
            continue
        try:
            if record.get("retire"):
                record = _retire_leftovers(clients, wiring, name, record, now) or record
            if record.get("status") == sweep.EVALUATING and _evaluate(clients, wiring, name, record, now):
                decided.append(str(record.get("jobKey")))
        except (ServingError, ClientError) as exc:
            # One sweep Bedrock refuses must not hold back the others; the next pass tries again.
            reason = str(exc) if isinstance(exc, ServingError) else f"{aws.error_code(exc)}: {aws.error_message(exc)}"
            log.error("evaluation of sweep %s could not move on: %s", record.get("jobKey"), reason)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            log.error("sweep record %s is not one this Tailor can read: %r", name, exc)
    return decided


def _evaluate(clients: Any, wiring: Wiring, name: str, record: dict[str, Any], now: datetime) -> bool:
    settings = record["evaluation"]
    subjects = list(record.get("candidates") or [])
    if (settings.get("gate") or {}).get("betterThanBase"):
        subjects.append(evaluation.BASE)
    states = {k: dict(v) for k, v in (record.get("evaluations") or {}).items()}
    for subject in subjects:
        state = states.get(subject) or {}
        if state.get("status") not in (SCORED, EVALUATION_FAILED):
            states[subject] = _step(clients, wiring, record, subject, state, now)
    written = records.update(clients.ssm, name, _with_evaluations(record["sweepName"], states, now))
    record = written or record
    if not all((states.get(s) or {}).get("status") in (SCORED, EVALUATION_FAILED) for s in subjects):
        return False
    env, key = record["environment"], record["jobKey"]
    trial_records = {
        t["name"]: records.get(clients.ssm, sweep.trial_record_name(env, key, t["name"])) for t in record["trials"]
    }
    decision = sweep_decision.decide_by_score(record, trial_records)
    final = records.update(clients.ssm, name, sweep_decision.decided(record["sweepName"], decision, now))
    if final is None:
        return False
    sweep_report.notify(clients, wiring.topic_arn, final)
    return True


def _with_evaluations(sweep_name: str, states: dict[str, dict[str, Any]], now: datetime) -> records.Change:
    def change(current: dict[str, Any] | None) -> dict[str, Any] | None:
        if current is None or current.get("sweepName") != sweep_name or current.get("status") != sweep.EVALUATING:
            return None
        merged = {**(current.get("evaluations") or {}), **states}
        if merged == current.get("evaluations"):
            return None
        return {**current, "evaluations": merged, "updatedAt": format_time(now)}

    return change


def _step(
    clients: Any, wiring: Wiring, record: dict[str, Any], subject: str, state: dict[str, Any], now: datetime
) -> dict[str, Any]:
    state = {"startedAt": format_time(now), **state}
    try:
        if subject != evaluation.BASE and state.get("status") in (None, WAITING_FOR_THROUGHPUT):
            state = _serve_for_evaluation(clients, wiring, record, subject, state, now)
        elif subject == evaluation.BASE and state.get("status") is None:
            state = _start_evaluation(clients, record, subject, state, record["evaluation"]["baseModelIdentifier"])
        if state.get("status") == EVALUATING_NOW:
            state = _poll_evaluation(clients, record, state, now)
    except ClientError as exc:
        code = aws.error_code(exc)
        if code in queue.WAIT_CODES:
            state["note"] = f"{code}: {aws.error_message(exc)}"[:300]
        else:
            state = {**state, "status": EVALUATION_FAILED, "error": f"{code}: {aws.error_message(exc)}"[:300]}
    except ServingError as exc:
        state["note"] = str(exc)[:300]
    hours = float(record["evaluation"]["hours"])
    waiting = state.get("status") in (None, WAITING_FOR_THROUGHPUT) and subject != evaluation.BASE
    if waiting and _since(state.get("startedAt"), now) > hours:
        state = {
            **state,
            "status": EVALUATION_FAILED,
            "error": f"no throughput within {hours:g} h: {state.get('note')}",
        }
    if state.get("status") in (SCORED, EVALUATION_FAILED) and state.get("throughputArn") and not state.get("retired"):
        served = describe(clients.bedrock, PROVISIONED, state["throughputArn"])
        if served is not None:
            retire(clients, wiring, served, now=now, reason="its evaluation ended")
        state["retired"] = True
    return state


def _serve_for_evaluation(
    clients: Any, wiring: Wiring, record: dict[str, Any], subject: str, state: dict[str, Any], now: datetime
) -> dict[str, Any]:
    env, key, settings = record["environment"], record["jobKey"], record["evaluation"]
    trial = records.get(clients.ssm, sweep.trial_record_name(env, key, subject))
    model_arn = job_record.completed_model(trial)
    if trial is None or model_arn is None:
        return {**state, "status": EVALUATION_FAILED, "error": "the trial's model is gone"}
    serving_key = f"eval-{subject.rsplit('-', 1)[-1]}"
    serving_record = {
        "kind": EVALUATION_SERVING_KIND,
        "environment": env,
        "key": serving_key,
        "source": "evaluation",
        "mode": PROVISIONED,
        "name": naming.serving_name(env, serving_key, naming.settings_hash([record["sweepName"], subject])),
        "model": {"kind": "custom_model", "value": model_arn},
        "modelUnits": int(settings.get("modelUnits", 1)),
        "hours": float(settings["hours"]),
        "commitment": None,
        "revision": 0,
        "recordName": sweep.evaluation_record_name(env, key, subject),
        "jobRecordName": None,
        "tags": {"tailor:job": key},
        "status": "pending",
        "arn": None,
    }
    active = ensure(clients, wiring, serving_record, model_arn, generation=str(trial["jobArn"]), now=now)
    state = {
        **state,
        "status": WAITING_FOR_THROUGHPUT,
        "throughputArn": active["arn"],
        "expiresAt": active["expiresAt"],
    }
    served = describe(clients.bedrock, PROVISIONED, active["arn"])
    if served is None or served.status == "Failed":
        detail = served.failure_message if served is not None else "deleted"
        return {**state, "status": EVALUATION_FAILED, "error": f"its throughput failed: {detail}"}
    if served.status != "InService":
        return state
    return _start_evaluation(clients, record, subject, state, active["arn"])


def _start_evaluation(
    clients: Any, record: dict[str, Any], subject: str, state: dict[str, Any], model_identifier: str
) -> dict[str, Any]:
    env, key = record["environment"], record["jobKey"]
    name = evaluation.job_name(env, key, record["sweepName"], subject)
    trial = next((t for t in record["trials"] if t["name"] == subject), None)
    what = f"trial {trial['index']}" if trial else "its base model"
    job_request = evaluation.request(
        record["evaluation"], name=name, model_identifier=model_identifier, environment=env, job_key=key, what=what
    )
    arn = evaluation.start(clients.bedrock, job_request)
    return {**state, "status": EVALUATING_NOW, "evaluationJobArn": arn, "evaluationJobName": name}


def _poll_evaluation(clients: Any, record: dict[str, Any], state: dict[str, Any], now: datetime) -> dict[str, Any]:
    status, failure = evaluation.state(clients.bedrock, state["evaluationJobArn"])
    state = {**state, "evaluationStatus": status, "evaluatingSince": state.get("evaluatingSince") or format_time(now)}
    if status in evaluation.RUNNING:
        if _since(state["evaluatingSince"], now) > EVALUATION_RUN_LIMIT_HOURS:
            evaluation.stop(clients.bedrock, state["evaluationJobArn"])
            return {
                **state,
                "status": EVALUATION_FAILED,
                "error": f"still {status} after {EVALUATION_RUN_LIMIT_HOURS} h",
            }
        return state
    if status != "Completed":
        return {**state, "status": EVALUATION_FAILED, "error": f"the evaluation job {status}: {failure or 'no reason'}"}
    settings = record["evaluation"]
    scores = evaluation.read_scores(clients.s3, settings["outputUri"], state["evaluationJobName"])
    score = scores.get(settings["metric"])
    if score is None:
        found = ", ".join(sorted(scores)) or "none"
        return {
            **state,
            "status": EVALUATION_FAILED,
            "error": f"no {settings['metric']} in its results (found: {found})",
        }
    return {**state, "status": SCORED, "score": round(score, 6), "scores": {k: round(v, 6) for k, v in scores.items()}}


def _retire_leftovers(
    clients: Any, wiring: Wiring, name: str, record: dict[str, Any], now: datetime
) -> dict[str, Any] | None:
    """Throughputs and jobs of an evaluation whose sweep was redefined meanwhile: nothing may keep billing."""
    for left in record.get("retire") or []:
        if left.get("evaluationJobArn") and left.get("status") not in (SCORED, EVALUATION_FAILED):
            evaluation.stop(clients.bedrock, str(left["evaluationJobArn"]))
        if left.get("throughputArn"):
            served = describe(clients.bedrock, PROVISIONED, str(left["throughputArn"]))
            if served is not None:
                retire(clients, wiring, served, now=now, reason="its sweep was redefined")
    sweep_name = record["sweepName"]

    def cleared(current: dict[str, Any] | None) -> dict[str, Any] | None:
        if current is None or current.get("sweepName") != sweep_name or not current.get("retire"):
            return None
        return {**current, "retire": []}

    return records.update(clients.ssm, name, cleared)


def _since(text: str | None, now: datetime) -> float:
    """Hours since an ISO time written by this module (0 when unreadable)."""
    when = parse_time(text)
    return 0.0 if when is None else (now - when).total_seconds() / 3600
