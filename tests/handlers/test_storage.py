"""The bucket emptier against moto's S3, which refuses to delete a bucket that still holds a version, and a
CloudFormation client whose answers botocore's Stubber checks against the service model."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

import functions.bucket_emptier as handler
from tailor import storage
from tests.conftest import REGION

BUCKET = "tailor-dev-data"
STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/Tailor-dev-Data/0e3a2f70-1a2b-11ef-9c3d-0a1b2c3d4e5f"


@pytest.fixture
def s3(aws):
    client = boto3.client("s3", region_name=REGION)
    client.create_bucket(Bucket=BUCKET)
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return client


def stack(status: str, times: int = 1):
    """A CloudFormation client that answers DescribeStacks for this stack `times` times with `status`."""
    client = boto3.client("cloudformation", region_name=REGION)
    stubber = Stubber(client)
    for _ in range(times):
        stubber.add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {
                        "StackId": STACK_ID,
                        "StackName": "Tailor-dev-Data",
                        "CreationTime": "2026-11-25T09:00:00Z",
                        "StackStatus": status,
                    }
                ]
            },
            {"StackName": STACK_ID},
        )
    stubber.activate()
    return client


def fill(s3, count: int, *, versions: int = 1, delete: bool = False) -> None:
    for i in range(count):
        for v in range(versions):
            s3.put_object(Bucket=BUCKET, Key=f"datasets/dev/k{i:05d}.jsonl", Body=f"{v}".encode())
        if delete:
            s3.delete_object(Bucket=BUCKET, Key=f"datasets/dev/k{i:05d}.jsonl")  # a delete marker on top


def held(s3) -> int:
    page = s3.list_object_versions(Bucket=BUCKET)
    return len(page.get("Versions", [])) + len(page.get("DeleteMarkers", []))


def event(kind: str, bucket: str = BUCKET) -> dict:
    return {
        "RequestType": kind,
        "StackId": STACK_ID,
        "ResourceProperties": {"BucketName": bucket},
        "PhysicalResourceId": bucket,
    }


def forever() -> float:
    return 900.0


@pytest.mark.parametrize("status", storage.DELETING)
def test_a_bucket_whose_stack_is_deleted_is_emptied_of_every_version_and_marker(s3, status):
    fill(s3, 3, versions=2, delete=True)
    with pytest.raises(ClientError, match="BucketNotEmpty"):
        s3.delete_bucket(Bucket=BUCKET)  # what CloudFormation would meet without the emptier
    result = storage.on_event(event("Delete"), s3, stack(status), remaining_seconds=forever)
    assert result == {"PhysicalResourceId": BUCKET}
    assert held(s3) == 0
    s3.delete_bucket(Bucket=BUCKET)


def test_more_versions_than_one_delete_request_takes_go_in_batches_of_a_thousand(s3):
    fill(s3, 1200, versions=2)
    calls = []
    real = s3.delete_objects

    def counted(**kwargs):
        calls.append(len(kwargs["Delete"]["Objects"]))
        return real(**kwargs)

    s3.delete_objects = counted
    assert storage.empty(s3, BUCKET, remaining_seconds=forever) == 2400
    assert held(s3) == 0 and max(calls) <= storage.BATCH and sum(calls) == 2400


@pytest.mark.parametrize(
    "status", ["UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"]
)
def test_an_emptier_removed_by_an_update_or_its_rollback_keeps_the_bucket_whole(s3, status):
    # CloudFormation deletes the emptier when the config switches to retain, or when a failed update that added it
    # rolls back: the bucket stays, and so must its data.
    fill(s3, 4)
    storage.on_event(event("Delete"), s3, stack(status), remaining_seconds=forever)
    assert held(s3) == 4


def test_create_and_update_touch_nothing(s3):
    fill(s3, 2)
    for kind in ("Create", "Update"):
        assert storage.on_event(event(kind), s3, stack("", times=0), remaining_seconds=forever) == {
            "PhysicalResourceId": BUCKET
        }
    assert held(s3) == 2


def test_a_bucket_already_gone_and_a_repeated_delete_are_success(s3):
    fill(s3, 2)
    deleting = stack("DELETE_IN_PROGRESS", times=4)
    storage.on_event(event("Delete"), s3, deleting, remaining_seconds=forever)
    storage.on_event(event("Delete"), s3, deleting, remaining_seconds=forever)  # CloudFormation delivers at least once
    s3.delete_bucket(Bucket=BUCKET)
    assert storage.on_event(event("Delete"), s3, deleting, remaining_seconds=forever) == {"PhysicalResourceId": BUCKET}
    assert storage.on_event(event("Delete", "never-existed"), s3, deleting, remaining_seconds=forever)


def test_out_of_time_it_fails_with_what_to_do_and_the_next_delete_continues(s3):
    fill(s3, 1500)
    clock = iter([600.0, 30.0])
    with pytest.raises(storage.NotEmptyYet, match=r"1000 object versions deleted and more remain.*make destroy"):
        storage.empty(s3, BUCKET, remaining_seconds=lambda: next(clock))
    assert held(s3) == 500
    assert storage.empty(s3, BUCKET, remaining_seconds=forever) == 500
    assert held(s3) == 0


def test_the_lambda_entry_point_reads_the_time_left_from_the_context(s3, monkeypatch):
    fill(s3, 3)

    class Context:
        aws_request_id = "r-1"
        function_name = "tailor-dev-emptier"

        @staticmethod
        def get_remaining_time_in_millis() -> int:
            return 30_000  # under the safety margin: nothing may be deleted

    clients = type("C", (), {"s3": s3, "cloudformation": stack("DELETE_IN_PROGRESS")})()
    monkeypatch.setattr(handler.aws, "Clients", lambda: clients)
    with pytest.raises(storage.NotEmptyYet):
        handler.on_event(event("Delete"), Context())
    assert held(s3) == 3
