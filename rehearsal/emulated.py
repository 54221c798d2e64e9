"""boto3 clients for the rehearsal's harness side: AWS services at the emulator, Bedrock at the local Bedrock."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import boto3
from botocore.config import Config

SERVICES = (
    "cloudformation",
    "events",
    "lambda",
    "logs",
    "s3",
    "scheduler",
    "sns",
    "sqs",
    "ssm",
    "cloudwatch",
)


def clients(*, emulator: str, bedrock: str, account: str, region: str) -> SimpleNamespace:
    session = boto3.Session(aws_access_key_id=account, aws_secret_access_key="rehearsal", region_name=region)
    config = Config(retries={"mode": "standard", "total_max_attempts": 3}, read_timeout=120)
    made: dict[str, Any] = {}
    for name in SERVICES:
        made[name] = session.client(name, endpoint_url=emulator, config=config)  # type: ignore[call-overload]
    made["bedrock"] = session.client("bedrock", endpoint_url=bedrock, config=config)
    made["lambda_"] = made.pop("lambda")
    return SimpleNamespace(**made)
