"""Lifecycle of the `Custom::TailorCustomizationJob` resource (pure logic over injected clients).

- Create starts the job (or adopts the one a previous delivery of the same request started) and returns
  its ARN at once: training outlives any custom resource, completion is tracked by events (completion.py).
- Update with the same job name is a no-op; a new name (settings changed, or `revision`) starts a new job
  and returns a new physical id, so CloudFormation deletes the old resource, which stops the old job.
- Delete stops a running job, treats a missing job as success, and deletes the custom model only when the
  config says so.
Every failure is raised as one line, which the CDK Provider framework returns to CloudFormation at once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from tailor import records
from tailor.datasets import DatasetRules, validate_stream
from tailor.jobs import record as job_record

log = logging.getLogger(__name__)
SPEC_VERSION = 1
ADOPTABLE = ("InProgress", "Completed")
NAME_IN_USE = "currently in use"  # the ValidationException text for a taken job name (Airflow's operator relies on it)
MAX_REASON_ERRORS = 5


class JobResourceError(Exception):
    """A one-line reason CloudFormation shows to the user."""


@dataclass(frozen=True)
class DatasetCheck:
    uri: str
    role: str
    rules: DatasetRules


@dataclass(frozen=True)
class DatasetCopy:
    source: str  # the CDK asset object of a local dataset
    destination: str  # its content-addressed key in the training-data bucket


@dataclass(frozen=True)
class Spec:
    environment: str
    job_key: str
    request: dict[str, Any]
    record_name: str
    retain_custom_model: bool
    dataset_checks: tuple[DatasetCheck, ...] = field(default=())
    dataset_copies: tuple[DatasetCopy, ...] = field(default=())

    @property
    def job_name(self) -> str:
        return self.request["jobName"]

    def to_json(self) -> dict[str, Any]:
        return {
            "version": SPEC_VERSION,
            "environment": self.environment,
            "jobKey": self.job_key,
            "request": self.request,
            "recordName": self.record_name,
            "retainCustomModel": self.retain_custom_model,
            "datasetChecks": [
                {"uri": c.uri, "role": c.role, "rules": _rules_json(c.rules)} for c in self.dataset_checks
            ],
            "datasetCopies": [{"source": c.source, "destination": c.destination} for c in self.dataset_copies],
        }


def parse_spec(properties: dict[str, Any]) -> Spec:
    try:
        raw = json.loads(properties["Spec"])
        if raw.get("version") != SPEC_VERSION:
            raise JobResourceError(
                f"unsupported spec version {raw.get('version')!r}; this handler understands {SPEC_VERSION}"
            )
        checks = tuple(
            DatasetCheck(
                c["uri"],
                c["role"],
                DatasetRules(**{k: tuple(v) if isinstance(v, list) else v for k, v in c["rules"].items()}),
            )
            for c in raw.get("datasetChecks", [])
        )
        copies = tuple(DatasetCopy(c["source"], c["destination"]) for c in raw.get("datasetCopies", []))
        return Spec(
            raw["environment"],
            raw["jobKey"],
            raw["request"],
            raw["recordName"],
            bool(raw["retainCustomModel"]),
            checks,
            copies,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise JobResourceError(
            f"malformed resource properties ({exc.__class__.__name__}: {exc}); redeploy with this version of Tailor"
        ) from None


def on_event(
    event: dict[str, Any], clients: Any, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> dict[str, Any]:
    request_type = event["RequestType"]
    spec = parse_spec(event["ResourceProperties"])
    if request_type == "Create":
        return _create(spec, clients, now)
    if request_type == "Update":
        old = parse_spec(event["OldResourceProperties"])
        if old.job_name == spec.job_name:
            return {"PhysicalResourceId": event["PhysicalResourceId"], "Data": _data(event["PhysicalResourceId"], spec)}
        return _create(spec, clients, now)
    if request_type == "Delete":
        _delete(event["PhysicalResourceId"], spec, clients)
        return {"PhysicalResourceId": event["PhysicalResourceId"]}
    raise JobResourceError(f"unknown RequestType {request_type!r}")


def _create(spec: Spec, clients: Any, now: Callable[[], datetime]) -> dict[str, Any]:
    job_arn = _existing_job(spec, clients)
    if job_arn is None:
        _copy_datasets(spec, clients)
        _check_datasets(spec, clients)
        job_arn = _start(spec, clients)
        try:
            records.put(
                clients.ssm,
                spec.record_name,
                job_record.started(spec.environment, spec.job_key, spec.job_name, job_arn, now()),
            )
        except ClientError as exc:
            # CloudFormation sends no Delete after a failed Create: stop what we started before reporting.
            _stop_quietly(clients, job_arn)
            raise JobResourceError(
                f"job {spec.job_name} was started and then stopped: recording it in SSM failed "
                f"({_code(exc)}: {_message(exc)})"
            ) from None
    return {"PhysicalResourceId": job_arn, "Data": _data(job_arn, spec)}


def _existing_job(spec: Spec, clients: Any) -> str | None:
    """A re-delivered Create (or a retried deployment) finds the job the first delivery started."""
    try:
        job = clients.bedrock.get_model_customization_job(jobIdentifier=spec.job_name)
    except ClientError as exc:
        if _code(exc) == "ResourceNotFoundException":
            return None
        raise JobResourceError(f"cannot look up job {spec.job_name}: {_code(exc)}: {_message(exc)}") from None
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
    # Adopting also repairs a missing record (e.g. a previous delivery died between starting the job and recording it).
    if records.get(clients.ssm, spec.record_name) is None:
        records.put(
            clients.ssm,
            spec.record_name,
            job_record.started(
                spec.environment,
                spec.job_key,
                spec.job_name,
                job["jobArn"],
                job.get("creationTime") or datetime.now(UTC),
            ),
        )
    log.info("adopting existing job %s (%s)", job["jobArn"], status)
    return job["jobArn"]


def _start(spec: Spec, clients: Any) -> str:
    try:
        return clients.bedrock.create_model_customization_job(**spec.request)["jobArn"]
    except ClientError as exc:
        if _code(exc) == "ValidationException" and NAME_IN_USE in _message(exc):
            adopted = _existing_job(spec, clients)  # a concurrent delivery won the race
            if adopted:
                return adopted
        raise JobResourceError(
            f"CreateModelCustomizationJob failed for {spec.job_name}: {_code(exc)}: {_message(exc)}"
        ) from None


def _copy_datasets(spec: Spec, clients: Any) -> None:
    """Local datasets arrive as CDK assets; copy them to their content-addressed key (once: same key, same bytes)."""
    for copy in spec.dataset_copies:
        source_bucket, source_key = _split_s3(copy.source)
        bucket, key = _split_s3(copy.destination)
        try:
            clients.s3.head_object(Bucket=bucket, Key=key)
            continue
        except ClientError as exc:
            if _code(exc) not in ("404", "NoSuchKey", "NotFound"):
                raise JobResourceError(f"cannot check {copy.destination}: {_code(exc)}: {_message(exc)}") from None
        try:
            # Managed copy: multipart above 8 MB, so files beyond CopyObject's 5 GB limit work too.
            clients.s3.copy(
                {"Bucket": source_bucket, "Key": source_key},
                bucket,
                key,
                ExtraArgs={"ServerSideEncryption": "aws:kms", "ContentType": "application/jsonl"},
            )
        except ClientError as exc:
            raise JobResourceError(
                f"cannot copy dataset to {copy.destination}: {_code(exc)}: {_message(exc)}"
            ) from None


def _check_datasets(spec: Spec, clients: Any) -> None:
    """S3 datasets were not visible at synth: stream and validate them before anything is bought."""
    for check in spec.dataset_checks:
        bucket, key = _split_s3(check.uri)
        try:
            body = clients.s3.get_object(Bucket=bucket, Key=key)["Body"]
        except ClientError as exc:
            raise JobResourceError(
                f"cannot read {check.role} data {check.uri}: {_code(exc)}: {_message(exc)}"
            ) from None
        report = validate_stream(
            body, check.rules, source=check.uri, max_errors=MAX_REASON_ERRORS, dataset_bucket=bucket
        )
        if not report.ok:
            shown = "; ".join(str(f) for f in report.errors[:MAX_REASON_ERRORS])
            more = report.error_count - min(len(report.errors), MAX_REASON_ERRORS)
            raise JobResourceError(
                f"{check.role} data is invalid, no job was started: {shown}"
                + (f" (and {more} more errors)" if more else "")
            )


def _delete(physical_id: str, spec: Spec, clients: Any) -> None:
    if ":model-customization-job/" not in physical_id:
        return  # Create never returned a job (it failed): nothing of ours exists
    try:
        job = clients.bedrock.get_model_customization_job(jobIdentifier=physical_id)
    except ClientError as exc:
        if _code(exc) == "ResourceNotFoundException":
            job = None
        else:
            raise JobResourceError(f"cannot look up job {physical_id}: {_code(exc)}: {_message(exc)}") from None
    if job is not None:
        if job["status"] == "InProgress":
            _stop(clients, physical_id)
        elif job["status"] == "Completed" and not spec.retain_custom_model and job.get("outputModelArn"):
            _delete_model(clients, job["outputModelArn"])
    record = records.get(clients.ssm, spec.record_name)
    if record is not None and record.get("jobArn") == physical_id:
        records.delete(clients.ssm, spec.record_name)


def _stop(clients: Any, job_arn: str) -> None:
    try:
        clients.bedrock.stop_model_customization_job(jobIdentifier=job_arn)
    except ClientError as exc:
        if _code(exc) in ("ResourceNotFoundException", "ConflictException", "ValidationException"):
            return  # already stopping, stopped or finished between our read and the stop
        raise JobResourceError(f"cannot stop job {job_arn}: {_code(exc)}: {_message(exc)}") from None


def _stop_quietly(clients: Any, job_arn: str) -> None:
    try:
        _stop(clients, job_arn)
    except JobResourceError:
        log.exception("could not stop %s after a failed create; the reconciler will report it", job_arn)


def _delete_model(clients: Any, model_arn: str) -> None:
    try:
        clients.bedrock.delete_custom_model(modelIdentifier=model_arn)
    except ClientError as exc:
        if _code(exc) == "ResourceNotFoundException":
            return
        hint = (
            " (delete the Provisioned Throughput or deployment that uses it first)"
            if _code(exc) == "ConflictException"
            else ""
        )
        raise JobResourceError(f"cannot delete custom model {model_arn}: {_code(exc)}: {_message(exc)}{hint}") from None


def _data(job_arn: str, spec: Spec) -> dict[str, str]:
    return {"JobArn": job_arn, "JobName": spec.job_name, "CustomModelName": spec.request["customModelName"]}


def _split_s3(uri: str) -> tuple[str, str]:
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


def _rules_json(rules: DatasetRules) -> dict[str, Any]:
    from dataclasses import asdict

    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(rules).items()}


def _code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "Unknown")


def _message(exc: ClientError) -> str:
    return " ".join(str(exc.response.get("Error", {}).get("Message", "")).split())[:500]
