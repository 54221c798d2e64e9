"""The job resource's data step, before anything is bought: copy local datasets, validate S3 ones.

Local datasets arrive as CDK assets and are copied to their content-addressed key under the environment's key;
S3 datasets were not visible at synth, so they are streamed and validated here.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from tailor import aws, naming
from tailor.datasets import validate_stream
from tailor.jobs.spec import DatasetCheck, DatasetCopy, JobResourceError

MAX_REASON_ERRORS = 5


def copy_datasets(copies: tuple[DatasetCopy, ...], clients: Any) -> None:
    """Local datasets arrive as CDK assets; copy them to their content-addressed key (once: same key, same bytes)."""
    for copy in copies:
        source_bucket, source_key = naming.split_s3_uri(copy.source)
        bucket, key = naming.split_s3_uri(copy.destination)
        try:
            clients.s3.head_object(Bucket=bucket, Key=key)
            continue
        except ClientError as exc:
            if aws.error_code(exc) not in ("404", "NoSuchKey", "NotFound"):
                raise JobResourceError(
                    f"cannot check {copy.destination}: {aws.error_code(exc)}: {aws.error_message(exc)}"
                ) from None
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
                f"cannot copy dataset to {copy.destination}: {aws.error_code(exc)}: {aws.error_message(exc)}"
            ) from None


def check_datasets(checks: tuple[DatasetCheck, ...], clients: Any) -> None:
    """S3 datasets were not visible at synth: stream and validate them before anything is bought."""
    for check in checks:
        bucket, key = naming.split_s3_uri(check.uri)
        try:
            body = clients.s3.get_object(Bucket=bucket, Key=key)["Body"]
        except ClientError as exc:
            raise JobResourceError(
                f"cannot read {check.role} data {check.uri}: {aws.error_code(exc)}: {aws.error_message(exc)}"
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
