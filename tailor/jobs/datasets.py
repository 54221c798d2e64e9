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


def copy_datasets(copies: tuple[DatasetCopy, ...], clients: Any, *, key_arn: str | None) -> None:
    """Local datasets arrive as CDK assets; copy them to their content-addressed key (once: same key, same bytes).

    Each copy names the environment's key: `aws:kms` alone would encrypt with the aws/s3 managed key.
    """
    encryption = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": key_arn} if key_arn else {}
    for copy in copies:
        source_bucket, source_key = naming.split_s3_uri(copy.source)
        bucket, key = naming.split_s3_uri(copy.destination)
        if _exists(clients, bucket, key, copy.destination):
            continue
        try:
            # Managed copy: multipart above 8 MB, so files beyond CopyObject's 5 GB limit work too.
            clients.s3.copy(
                {"Bucket": source_bucket, "Key": source_key},
                bucket,
                key,
                ExtraArgs={**encryption, "ContentType": "application/jsonl"},
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


def _exists(clients: Any, bucket: str, key: str, uri: str) -> bool:
    """Whether the content-addressed copy is there already (a re-delivered Create, or a second job on the same data).

    S3 answers a missing key with 403, not 404, to a caller without s3:ListBucket; the provider role has it, but
    a 403 is still taken as "not there": the copy that follows then reports a real permission problem itself.
    """
    try:
        clients.s3.head_object(Bucket=bucket, Key=key)
        return True
    except ClientError as exc:
        if aws.error_code(exc) in ("404", "NoSuchKey", "NotFound", "403", "Forbidden", "AccessDenied"):
            return False
        raise JobResourceError(f"cannot check {uri}: {aws.error_code(exc)}: {aws.error_message(exc)}") from None
