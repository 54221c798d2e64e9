"""Emptying a versioned bucket before CloudFormation deletes it, when the config says the data goes.

CloudFormation cannot delete a bucket that holds anything, and every Tailor bucket is versioned: with
`retention.data: destroy`, `make destroy` would stop at DELETE_FAILED on the first bucket with a dataset, an
output or an access log in it. CDK's own `autoDeleteObjects` needs wildcard actions (`s3:DeleteObject*`,
`s3:GetBucket*`, `s3:List*`), so Tailor empties its buckets with one custom resource per bucket
(`Custom::TailorBucketEmptier`) whose Delete removes every object version and delete marker.

It empties only a bucket that carries EMPTY_TAG: CloudFormation also deletes the resource when the config
switches to `retention.data: retain` (or a failed update rolls back to it), and in both cases it updates the
bucket, removing the tag, before it deletes the resource, so the kept data stays. The same order as CDK's
autoDeleteObjects handler relies on (aws-cdk-lib custom-resource-handlers, s3 auto-delete-objects).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from botocore.exceptions import ClientError

log = logging.getLogger(__name__)

EMPTY_TAG = ("tailor:empty-on-delete", "true")
BATCH = 1000  # DeleteObjects takes at most 1,000 keys per request (S3 API reference)
SAFETY_SECONDS = 60  # stop with this much of the invocation left, so the failure is ours and readable


class NotEmptyYet(Exception):
    """The invocation ran out of time with versions left: CloudFormation reports this line, and the next
    delete (make destroy again) continues where this one stopped."""


def on_event(event: dict[str, Any], s3: Any, *, remaining_seconds: Callable[[], float]) -> dict[str, Any]:
    bucket = str(event["ResourceProperties"]["BucketName"])
    if event["RequestType"] == "Delete":
        deleted = empty(s3, bucket, remaining_seconds=remaining_seconds)
        log.info("bucket %s: %d object versions and delete markers deleted", bucket, deleted)
    # The bucket's name is the physical id: a replaced bucket is a new resource, and its old one is emptied.
    return {"PhysicalResourceId": bucket}


def empty(s3: Any, bucket: str, *, remaining_seconds: Callable[[], float]) -> int:
    """Deletes every version and delete marker of `bucket` when it carries EMPTY_TAG; 0 when gone or untagged."""
    try:
        tagged = _tagged(s3, bucket)
    except ClientError as exc:
        if _code(exc) == "NoSuchBucket":
            return 0  # already deleted: a repeated Delete is success
        raise
    if not tagged:
        log.info("bucket %s does not carry %s=%s: kept as it is", bucket, *EMPTY_TAG)
        return 0
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
        page = s3.list_object_versions(Bucket=bucket, MaxKeys=BATCH)
        batch = [
            {"Key": item["Key"], "VersionId": item["VersionId"]}
            for kind in ("Versions", "DeleteMarkers")
            for item in page.get(kind) or []
        ][:BATCH]
        if not batch:
            return
        yield batch


def _tagged(s3: Any, bucket: str) -> bool:
    try:
        tags = s3.get_bucket_tagging(Bucket=bucket).get("TagSet") or []
    except ClientError as exc:
        if _code(exc) == "NoSuchTagSet":
            return False
        raise
    return any((t.get("Key"), t.get("Value")) == EMPTY_TAG for t in tags)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
