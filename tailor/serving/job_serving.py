"""Serving for jobs: a job's `serve` block waits as a pending record until the job completes, then starts here.

Called by the completion handler after every event and reconcile pass, so a lost event delays serving by one
period at most; the job ARN makes the create token, so repeats adopt what the first call bought.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from tailor import aws, naming, records
from tailor.jobs import record as job_record
from tailor.serving.lifecycle import ServingError, ensure
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
