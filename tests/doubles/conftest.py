"""Fixtures for the tests of the Bedrock double itself (tests/doubles only)."""

from __future__ import annotations

import functools
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from rehearsal.bedrock import BedrockDouble, FakeClock
from rehearsal.http import BedrockServer, LocalBedrock, Settings

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


# ------------------------------------------------------------------ the local Bedrock over HTTP


@functools.cache
def _session() -> boto3.session.Session:
    # One session for every HTTP client: a new session re-reads the service model (tens of ms a client).
    return boto3.session.Session()


def http_client(
    server: BedrockServer,
    *,
    region: str = REGION,
    access_key: str = ACCOUNT,
    attempts: int = 3,
    config: Config | None = None,
):
    """A real boto3 bedrock client pointed at a local server, as a Lambda with AWS_ENDPOINT_URL_BEDROCK would be."""
    return _session().client(
        "bedrock",
        region_name=region,
        endpoint_url=server.url,
        aws_access_key_id=access_key,
        aws_secret_access_key="any-secret",
        aws_session_token=None,
        config=config or Config(retries={"mode": "standard", "total_max_attempts": attempts}),
    )


@pytest.fixture
def local_bedrock() -> Iterator[Callable[..., BedrockServer]]:
    """``local_bedrock(**settings)`` or ``local_bedrock(local=LocalBedrock(...))``: a started server on a free
    loopback port; every server is stopped at teardown, its connections closed."""
    servers: list[BedrockServer] = []

    def start(*, local: LocalBedrock | None = None, **settings: Any) -> BedrockServer:
        server = BedrockServer(local or LocalBedrock(Settings(**settings))).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
    for server in servers:
        # A loud error inside the server (a double bug, a server bug) fails the test that caused it.
        assert server.local.errors == [], server.local.errors


@pytest.fixture
def no_backoff(monkeypatch) -> list[float]:
    """botocore's retry back-off without the sleeping: the requested delays are collected instead."""
    import botocore.endpoint

    slept: list[float] = []

    class _Time:
        def __getattr__(self, name: str) -> Any:
            return getattr(time, name)

        @staticmethod
        def sleep(seconds: float) -> None:
            slept.append(seconds)

    monkeypatch.setattr(botocore.endpoint, "time", _Time())
    return slept


def control(server: BedrockServer, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """Call a /_double/ harness endpoint: (status, decoded JSON)."""
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request = urllib.request.Request(f"{server.url}/_double{path}", data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def ok(server: BedrockServer, method: str, path: str, body: Any = None) -> Any:
    status, payload = control(server, method, path, body)
    assert status == 200, payload
    return payload


def wait_for(read: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 5.0) -> Any:
    """Poll ``read`` until ``done(value)``; fail after ``timeout`` seconds (never hang)."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still not done after {timeout} s: {value!r}")
        time.sleep(0.02)
