"""Emptying a versioned bucket before CloudFormation deletes it, when the config says the data goes.

CloudFormation cannot delete a bucket that holds anything, and every Tailor bucket is versioned: with
`retention.data: destroy`, `make destroy` would stop at DELETE_FAILED on the first bucket with a dataset, an
output or an access log in it. CDK's own `autoDeleteObjects` needs wildcard actions (`s3:DeleteObject*`,
`s3:GetBucket*`, `s3:List*`), so Tailor empties its buckets with one custom resource per bucket
(`Custom::TailorBucketEmptier`) whose Delete removes every object version and delete marker.

It empties a bucket only while its stack is being deleted (DELETE_IN_PROGRESS, or ROLLBACK_IN_PROGRESS after a
failed first deploy): CloudFormation also deletes the resource when the config switches to `retention.data:
retain`, or a failed update rolls back to a template without it, and then the stack is UPDATE_*_CLEANUP_IN_PROGRESS
and the bucket stays, so the kept data stays whole. (CDK's own handler marks the bucket with a tag instead; the
stack's status says the same thing without depending on tags, which the local emulator does not keep.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from botocore.exceptions import ClientError

log = logging.getLogger(__name__)

DELETING = ("DELETE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS")  # the stack's statuses in which its buckets go
BATCH = 1000  # DeleteObjects takes at most 1,000 keys per request (S3 API reference)
SAFETY_SECONDS = 60  # stop with this much of the invocation left, so the failure is ours and readable


class NotEmptyYet(Exception):
    """The invocation ran out of time with versions left: CloudFormation reports this line, and the next
    delete (make destroy again) continues where this one stopped."""


def on_event(
    event: dict[str, Any], s3: Any, cloudformation: Any, *, remaining_seconds: Callable[[], float]
) -> dict[str, Any]:
    bucket = str(event["ResourceProperties"]["BucketName"])
    if event["RequestType"] == "Delete":
        status = stack_status(cloudformation, str(event["StackId"]))
        if status in DELETING:
            deleted = empty(s3, bucket, remaining_seconds=remaining_seconds)
            log.info("bucket %s: %d object versions and delete markers deleted", bucket, deleted)
        else:
            log.info("bucket %s kept: its stack is %s, not being deleted", bucket, status)
    # The bucket's name is the physical id. A bucket CloudFormation replaces in an update keeps its old contents
    # (the stack is then in an update's cleanup, not being deleted): Tailor never sets what would replace one.
    return {"PhysicalResourceId": bucket}


def stack_status(cloudformation: Any, stack_id: str) -> str:
    """The status of the stack the request came from (its id, so a deleted stack of the same name is not read)."""
    return str(cloudformation.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"])


def empty(s3: Any, bucket: str, *, remaining_seconds: Callable[[], float]) -> int:
    """Deletes every version and delete marker of `bucket`; 0 when it is already gone."""
    deleted = 0
    for batch in _batches(s3, bucket):
        if remaining_seconds() < SAFETY_SECONDS:
            raise NotEmptyYet(
                f"bucket {bucket}: {deleted} object versions deleted and more remain; the time of one invocation "
                "is up: delete the stack again (make destroy) and it continues"
            )
        answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        errors = answer.get("Errors") or []
        if errors:
            first = errors[0]
            raise RuntimeError(
                f"bucket {bucket}: {len(errors)} of {len(batch)} versions could not be deleted, first "
                f"{first.get('Key')!r} ({first.get('Code')}: {first.get('Message')})"
            )
        deleted += len(batch)
    return deleted


def _batches(s3: Any, bucket: str) -> Iterator[list[dict[str, str]]]:
    """The bucket's versions and delete markers, a DeleteObjects batch at a time. Each batch is listed afresh
    from the start of what is left, so no listing ever continues from a marker that was just deleted."""
    while True:
        try:
            page = s3.list_object_versions(Bucket=bucket, MaxKeys=BATCH)
        except ClientError as exc:
            if _code(exc) == "NoSuchBucket":
                return  # already deleted: a repeated Delete is success
            raise
        batch = [
            {"Key": item["Key"], "VersionId": item["VersionId"]}
            for kind in ("Versions", "DeleteMarkers")
            for item in page.get(kind) or []
        ][:BATCH]
        if not batch:
            return
        yield batch


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
