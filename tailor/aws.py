"""The one place boto3 clients are made: lazily, cached per process, with an explicit retry policy.

Standard mode retries throttling and 5xx with capped exponential backoff. Worst case per call:
5 attempts x 30 s read timeout + backoff (< 60 s) = about 3.5 minutes, below every handler's timeout.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from botocore.config import _RetryDict
    from botocore.exceptions import ClientError

RETRY_CONFIG: _RetryDict = {"mode": "standard", "total_max_attempts": 5}
CONNECT_TIMEOUT_S = 5
READ_TIMEOUT_S = 30


@functools.cache
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        retries=RETRY_CONFIG.copy(),
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
        user_agent_extra="tailor",
    )
    _announce_sdk()
    return boto3.client(service, config=config)  # type: ignore[call-overload]  # service names are checked at run time


@functools.cache
def _announce_sdk() -> None:
    """One line per cold start naming the SDK in use: the bundled one, not the Lambda runtime's."""
    import boto3
    import botocore

    logging.getLogger(__name__).info(
        "boto3 %s, botocore %s from %s", boto3.__version__, botocore.__version__, botocore.__file__
    )


class Clients:
    """What a handler needs, resolved on first use; tests pass their own object with the same attributes."""

    @property
    def bedrock(self) -> Any:
        return client("bedrock")

    @property
    def ssm(self) -> Any:
        return client("ssm")

    @property
    def s3(self) -> Any:
        return client("s3")

    @property
    def sns(self) -> Any:
        return client("sns")

    @property
    def scheduler(self) -> Any:
        return client("scheduler")

    @property
    def cloudwatch(self) -> Any:
        return client("cloudwatch")

    @property
    def cloudformation(self) -> Any:
        return client("cloudformation")

    @property
    def budgets(self) -> Any:
        return client("budgets")


def error_code(exc: ClientError) -> str:
    """The service's error code ("ThrottlingException", "404", ...), "Unknown" when the response has none."""
    return str(exc.response.get("Error", {}).get("Code", "Unknown"))


def error_message(exc: ClientError) -> str:
    """The service's message on one line, at most 500 characters: it is shown to people and to CloudFormation."""
    return " ".join(str(exc.response.get("Error", {}).get("Message", "")).split())[:500]
