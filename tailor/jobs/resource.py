"""Lifecycle of the `Custom::TailorCustomizationJob` resource (pure logic over injected clients).

- Create starts the job (or adopts the one a previous delivery of the same request started) and returns
  its ARN at once: training outlives any custom resource, completion is tracked by events (completion.py).
  Every start goes through the environment's queue (queue.py): when the account's concurrent jobs are at the
  quota, the job is recorded `queued` and the resource returns at once with the job's name as its physical
  id; the completion handler starts it when a slot frees. A physical id is therefore a job ARN (started at
  Create) or a job name (queued at Create); both identify the same job.
- Update with the same job name is a no-op; a new name (settings changed, or `revision`) starts a new job
  and returns a new physical id, so CloudFormation deletes the old resource, which stops the old job.
- Delete stops a running job, treats a missing job as success, and deletes the custom model only when the
  config says so.
Every failure is raised as one line, which the CDK Provider framework returns to CloudFormation at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from tailor import aws, records
from tailor.jobs import queue
from tailor.jobs import record as job_record
from tailor.jobs import sweep as sweep_resource
from tailor.jobs.datasets import check_datasets, copy_datasets
from tailor.jobs.spec import JobResourceError, Spec, parse_spec

log = logging.getLogger(__name__)
ADOPTABLE = ("InProgress", "Completed")
NAME_IN_USE = queue.NAME_IN_USE


def on_event(
    event: dict[str, Any],
    clients: Any,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    if sweep_resource.is_sweep(event["ResourceProperties"]):
        return sweep_resource.on_event(event, clients, now=now)
    request_type = event["RequestType"]
    spec = parse_spec(event["ResourceProperties"])
    if request_type == "Create":
        return _create(spec, clients, now, sleep)
    if request_type == "Update":
        old, physical_id = parse_spec(event["OldResourceProperties"]), event["PhysicalResourceId"]
        if old.job_name == spec.job_name:
            return {"PhysicalResourceId": physical_id, "Data": _data(physical_id, spec)}
        kept = _rollback_target(spec, clients, physical_id, now)
        if kept is not None:
            return {"PhysicalResourceId": kept, "Data": _data(kept, spec)}
        return _create(spec, clients, now, sleep, replaces=physical_id)
    if request_type == "Delete":
        _delete(event["PhysicalResourceId"], spec, clients)
        return {"PhysicalResourceId": event["PhysicalResourceId"]}
    raise JobResourceError(f"unknown RequestType {request_type!r}")


def _create(
    spec: Spec,
    clients: Any,
    now: Callable[[], datetime],
    sleep: Callable[[float], None],
    *,
    replaces: str | None = None,
) -> dict[str, Any]:
    job_arn = _existing_job(spec, clients)
    if job_arn is not None:
        return {"PhysicalResourceId": job_arn, "Data": _data(job_arn, spec)}
    copy_datasets(spec.dataset_copies, clients, key_arn=spec.data_key_arn)
    check_datasets(spec.dataset_checks, clients)
    base = job_record.started(spec.environment, spec.job_key, spec.job_name, "", now())
    if spec.trial_of is not None:
        base["trialOf"] = spec.trial_of
    if replaces is not None and _names_a_job(replaces, spec):
        # Until CloudFormation's cleanup deletes the old job, a rollback may still keep it instead.
        base["replaces"] = replaces
    waiting = queue.queued(
        base, spec.request, position_=spec.queue_position, limit=spec.max_concurrent_jobs, when=now()
    )
    try:
        records.update(clients.ssm, spec.record_name, _queue_unless_started(spec.job_name, waiting))
    except ClientError as exc:
        raise JobResourceError(
            f"job {spec.job_name} was not started: recording it in SSM failed "
            f"({aws.error_code(exc)}: {aws.error_message(exc)})"
        ) from None
    try:
        outcome = queue.advance(clients, spec.environment, now=now, sleep=sleep)
    except ClientError as exc:
        # CloudFormation sends no Delete after a failed Create: nothing of this resource may run or wait on.
        _forget_failed_start(spec, clients)
        raise JobResourceError(
            f"job {spec.job_name} was not started: the queue could not be read or written "
            f"({aws.error_code(exc)}: {aws.error_message(exc)})"
        ) from None
    if spec.job_name in outcome.failed:
        _forget_failed_start(spec, clients)
        raise JobResourceError(outcome.failed[spec.job_name])
    current = records.get(clients.ssm, spec.record_name) or {}
    if current.get("jobName") == spec.job_name and current.get("jobArn"):
        return {"PhysicalResourceId": str(current["jobArn"]), "Data": _data(str(current["jobArn"]), spec)}
    log.info("%s queued (%d of %s jobs running)", spec.job_name, outcome.running or 0, outcome.limit)
    return {"PhysicalResourceId": spec.job_name, "Data": _data("", spec)}


def _queue_unless_started(job_name: str, waiting: dict[str, Any]) -> records.Change:
    """A re-delivered Create must not turn its started job's record back into a queued one."""

    def change(current: dict[str, Any] | None) -> dict[str, Any] | None:
        if current is not None and current.get("jobName") == job_name and current.get("jobArn"):
            return None
        return waiting

    return change


def _forget_failed_start(spec: Spec, clients: Any) -> None:
    """A Create that failed leaves no record (and, stopped, no job): CloudFormation sends it no Delete."""
    job = _job_named(spec, clients)
    if (
        job is not None
        and job.get("status") == "InProgress"
        and job.get("clientRequestToken")
        in (
            None,
            spec.request["clientRequestToken"],
        )
    ):
        _stop_quietly(clients, str(job["jobArn"]))
    record = records.get(clients.ssm, spec.record_name)
    if record is not None and record.get("jobName") == spec.job_name:
        records.delete(clients.ssm, spec.record_name)


def _names_a_job(physical_id: str, spec: Spec) -> bool:
    """A job ARN (started at Create) or one of this environment's job names (queued at Create); anything else is
    the id CloudFormation gives a resource whose Create failed."""
    return ":model-customization-job/" in physical_id or physical_id.startswith(f"tailor-{spec.environment}-")


def _describes(record: dict[str, Any] | None, physical_id: str) -> bool:
    return record is not None and physical_id in (record.get("jobArn"), record.get("jobName"))


def _existing_job(spec: Spec, clients: Any) -> str | None:
    """A re-delivered Create (or a retried deployment) finds the job the first delivery started."""
    try:
        job = clients.bedrock.get_model_customization_job(jobIdentifier=spec.job_name)
    except ClientError as exc:
        if aws.error_code(exc) == "ResourceNotFoundException":
            return None
        raise JobResourceError(
            f"cannot look up job {spec.job_name}: {aws.error_code(exc)}: {aws.error_message(exc)}"
        ) from None
    status = job.get("status")
    token = job.get("clientRequestToken")
    if token is not None and token != spec.request["clientRequestToken"]:
        raise JobResourceError(
            f"a job named {spec.job_name} exists but was not started by this resource "
            "(different request token); rename the job key or set a new revision"
        )
    if status not in ADOPTABLE:
        raise JobResourceError(
            f"job {spec.job_name} already exists with status {status}; job names cannot be "
            "reused, so set `revision` for this job in the config to start a new run"
        )
    # Adopting also repairs the record: missing (a previous delivery died between starting the job and recording
    # it) or describing another job (a rollback that keeps this one).
    _describe_in_record(spec, clients, job)
    log.info("adopting existing job %s (%s)", job["jobArn"], status)
    return str(job["jobArn"])


def _rollback_target(spec: Spec, clients: Any, physical_id: str, now: Callable[[], datetime]) -> str | None:
    """The job this resource already stands for, when an Update asks for it again: a rollback.

    CloudFormation rolls an Update back by sending the old properties again. When the failed update never
    replaced the job (it failed starting the new one), the resource still is the old job, whatever its status
    (a retried Failed job included): nothing must start. When the replacement had started, the record names the
    job it replaced until the cleanup deletes that one: the rollback keeps the old job as it is.
    """
    job = _job_named(spec, clients)
    if job is None:
        return None
    record = records.get(clients.ssm, spec.record_name) or {}
    ours = {physical_id, record.get("replaces")} | ({record.get("jobArn")} if record.get("restoredFrom") else set())
    if job["jobArn"] not in ours and job["jobName"] not in ours:
        return None
    _describe_in_record(spec, clients, job, when=now())
    log.info("rollback keeps job %s (%s) as it is", job["jobArn"], job.get("status"))
    return str(job["jobArn"])


def _job_named(spec: Spec, clients: Any) -> dict[str, Any] | None:
    try:
        return dict(clients.bedrock.get_model_customization_job(jobIdentifier=spec.job_name))
    except ClientError as exc:
        if aws.error_code(exc) == "ResourceNotFoundException":
            return None
        raise JobResourceError(
            f"cannot look up job {spec.job_name}: {aws.error_code(exc)}: {aws.error_message(exc)}"
        ) from None


def _describe_in_record(spec: Spec, clients: Any, job: dict[str, Any], *, when: datetime | None = None) -> None:
    def describing(current: dict[str, Any] | None) -> dict[str, Any] | None:
        if current is not None and current.get("jobArn") == job["jobArn"]:
            return None  # already this job's record (moved forward by completion, perhaps: left as it is)
        return job_record.of_job(spec.environment, spec.job_key, job, when or datetime.now(UTC))

    records.update(clients.ssm, spec.record_name, describing)


def _delete(physical_id: str, spec: Spec, clients: Any) -> None:
    if not _names_a_job(physical_id, spec):
        return  # Create never returned a job (it failed): nothing of ours exists
    if ":model-customization-job/" not in physical_id:
        # Queued at Create: the record goes first, so an advancer starting it now finds it gone and stops what it
        # started; the job is then looked up by name, in case it started before that.
        _forget_record(physical_id, spec, clients)
        _end_job(physical_id, spec, clients)
        return
    _end_job(physical_id, spec, clients)
    _forget_record(physical_id, spec, clients)


def _end_job(physical_id: str, spec: Spec, clients: Any) -> None:
    try:
        job = clients.bedrock.get_model_customization_job(jobIdentifier=physical_id)
    except ClientError as exc:
        if aws.error_code(exc) == "ResourceNotFoundException":
            job = None
        else:
            raise JobResourceError(
                f"cannot look up job {physical_id}: {aws.error_code(exc)}: {aws.error_message(exc)}"
            ) from None
    if job is not None and job.get("clientRequestToken") not in (None, spec.request["clientRequestToken"]):
        log.warning("%s was not started by this resource (another request token); left as it is", physical_id)
        return
    if job is not None:
        if job["status"] == "InProgress":
            _stop(clients, physical_id)
        elif job["status"] == "Completed" and not spec.retain_custom_model and job.get("outputModelArn"):
            _delete_model(clients, job["outputModelArn"])


def _forget_record(physical_id: str, spec: Spec, clients: Any) -> None:
    record = records.get(clients.ssm, spec.record_name)
    if record is not None and _describes(record, physical_id):
        if record.get("replaces"):
            # A replacement removed by a rollback's cleanup: CloudFormation keeps the job it replaced, and the
            # record describes that one again (its serving then starts when it completes).
            _restore_replaced(spec, clients, record, physical_id)
        else:
            records.delete(clients.ssm, spec.record_name)
    elif record is not None and record.get("replaces") == physical_id:
        # The old job of a replacement that succeeded: the replacement is final.
        records.update(clients.ssm, spec.record_name, _without_replaces(physical_id))


def _restore_replaced(spec: Spec, clients: Any, record: dict[str, Any], physical_id: str) -> None:
    try:
        replaced = clients.bedrock.get_model_customization_job(jobIdentifier=record["replaces"])
    except ClientError as exc:
        if aws.error_code(exc) != "ResourceNotFoundException":
            raise JobResourceError(
                f"cannot look up job {record['replaces']}: {aws.error_code(exc)}: {aws.error_message(exc)}"
            ) from None
        records.delete(clients.ssm, spec.record_name)
        return
    restored = {**job_record.of_job(spec.environment, spec.job_key, replaced, datetime.now(UTC))}
    restored["restoredFrom"] = physical_id

    def back(current: dict[str, Any] | None) -> dict[str, Any] | None:
        return restored if _describes(current, physical_id) else None

    records.update(clients.ssm, spec.record_name, back)


def _without_replaces(old_arn: str) -> records.Change:
    def change(current: dict[str, Any] | None) -> dict[str, Any] | None:
        if current is None or current.get("replaces") != old_arn:
            return None
        return {k: v for k, v in current.items() if k != "replaces"}

    return change


def _stop(clients: Any, job_arn: str) -> None:
    try:
        clients.bedrock.stop_model_customization_job(jobIdentifier=job_arn)
    except ClientError as exc:
        if aws.error_code(exc) in ("ResourceNotFoundException", "ConflictException", "ValidationException"):
            return  # already stopping, stopped or finished between our read and the stop
        raise JobResourceError(f"cannot stop job {job_arn}: {aws.error_code(exc)}: {aws.error_message(exc)}") from None


def _stop_quietly(clients: Any, job_arn: str) -> None:
    try:
        _stop(clients, job_arn)
    except JobResourceError:
        log.exception("could not stop %s after a failed create; the reconciler will report it", job_arn)


def _delete_model(clients: Any, model_arn: str) -> None:
    try:
        clients.bedrock.delete_custom_model(modelIdentifier=model_arn)
    except ClientError as exc:
        if aws.error_code(exc) == "ResourceNotFoundException":
            return
        hint = (
            " (delete the Provisioned Throughput or deployment that uses it first)"
            if aws.error_code(exc) == "ConflictException"
            else ""
        )
        raise JobResourceError(
            f"cannot delete custom model {model_arn}: {aws.error_code(exc)}: {aws.error_message(exc)}{hint}"
        ) from None


def _data(job_arn: str, spec: Spec) -> dict[str, str]:
    return {"JobArn": job_arn, "JobName": spec.job_name, "CustomModelName": spec.request["customModelName"]}
