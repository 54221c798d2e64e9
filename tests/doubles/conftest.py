"""Fixtures for the tests of the Bedrock double itself (tests/doubles only)."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config

from rehearsal.bedrock import BedrockDouble, FakeClock

ACCOUNT = "111122223333"
REGION = "us-east-1"


def make_client(config: Config | None = None):
    """A real bedrock client with dummy credentials (nothing reaches AWS once attached)."""
    return boto3.client(
        "bedrock",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=config or Config(retries={"mode": "standard", "total_max_attempts": 3}),
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def double(clock: FakeClock) -> BedrockDouble:
    d = BedrockDouble(account=ACCOUNT, region=REGION, clock=clock)
    yield d
    # A loud error swallowed by code under test must still fail the test.
    d.assert_no_errors()


@pytest.fixture
def client(double: BedrockDouble):
    return double.attach(make_client())
