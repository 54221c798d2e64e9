"""Shared fixtures. No test talks to AWS: moto serves S3/SSM/SNS, a service-model-checked double serves Bedrock."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account

for name, value in {
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
}.items():
    os.environ[name] = value
os.environ.pop("AWS_PROFILE", None)


@pytest.fixture
def aws():
    from moto import mock_aws

    with mock_aws():
        yield


@pytest.fixture
def bedrock_double(aws):
    from tests.doubles.bedrock import BedrockDouble

    double = BedrockDouble(account=ACCOUNT, region=REGION, strict=True, require_client_tokens=True, foundation_models=None)
    client = boto3.client("bedrock", region_name=REGION)
    double.attach(client, via="call")
    double.client = client
    return double


@pytest.fixture
def clients(aws, bedrock_double):
    """The object handlers receive in place of tailor.aws.Clients()."""
    return SimpleNamespace(
        bedrock=bedrock_double.client,
        ssm=boto3.client("ssm", region_name=REGION),
        s3=boto3.client("s3", region_name=REGION),
        sns=boto3.client("sns", region_name=REGION),
    )
