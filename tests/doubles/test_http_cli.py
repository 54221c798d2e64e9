"""`python -m rehearsal.http` in its own process: the ready line, a real client, clean exit on signals, errors."""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

from rehearsal.control import Control

ROOT = Path(__file__).resolve().parents[2]


def start(*args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    return subprocess.Popen(
        [sys.executable, "-m", "rehearsal.http", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def ready_line(proc: subprocess.Popen[str], timeout: float = 30.0) -> str:
    """The first stdout line, or fail after ``timeout`` (never hang on a server that did not start)."""
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            proc.kill()
            raise AssertionError(f"no ready line within {timeout} s; stderr: {proc.communicate()[1]}")
    return proc.stdout.readline().strip()


def stop(proc: subprocess.Popen[str], signum: int) -> tuple[int, str]:
    proc.send_signal(signum)
    try:
        _out, err = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:  # pragma: no cover - the failure this test exists for
        proc.kill()
        raise
    return proc.returncode, err


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_the_command_serves_a_boto3_client_and_exits_cleanly(tmp_path, signum):
    # Given the server started as the rehearsal starts it, logging to a file
    log = tmp_path / "bedrock.jsonl"
    proc = start("--port", "0", "--job-seconds", "manual", "--log-file", str(log))
    try:
        # When it is ready
        line = ready_line(proc)
        assert line.startswith("listening on http://127.0.0.1:"), line
        url = line.split()[-1]
        # Then a boto3 client configured like a Lambda worker (endpoint, any 12-digit key) is answered
        client = boto3.client(
            "bedrock",
            region_name="eu-west-1",
            endpoint_url=url,
            aws_access_key_id="444455556666",
            aws_secret_access_key="whatever",
            aws_session_token=None,
        )
        arn = client.create_provisioned_model_throughput(
            modelUnits=1,
            provisionedModelName="pt",
            modelId="amazon.nova-micro-v1:0:128k",
            commitmentDuration="OneMonth",
        )["provisionedModelArn"]
        assert arn.startswith("arn:aws:bedrock:eu-west-1:444455556666:provisioned-model/")
        # and so is the harness's control client
        harness = Control(url)
        assert harness.wait_ready()["status"] == "ok"
        assert [b["arn"] for b in harness.billed()] == [arn]
    finally:
        code, err = stop(proc, signum)
    # And a signal ends it with exit 0, no traceback; the request is in the log file
    assert code == 0, err
    assert "Traceback" not in err
    (entry,) = [json.loads(line) for line in log.read_text().splitlines()]
    assert (entry["operation"], entry["status"], entry["account"]) == (
        "CreateProvisionedModelThroughput",
        201,
        "444455556666",
    )


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ["--job-seconds", "fast"],
            "argument --job-seconds: invalid seconds (a number >= 0, or 'manual') value: 'fast'",
        ),
        (["--job-concurrency", "-1"], "argument --job-concurrency: invalid quota"),
        (["--stage-fractions", "0.5,0.2"], "stage_fractions: is [0.5, 0.2]; allowed:"),
        (["--account", "abc"], "account: is 'abc'; allowed: 12 digits"),
        (["--commitment-delete-code", "Nope"], "argument --commitment-delete-code: invalid choice: 'Nope'"),
    ],
)
def test_bad_arguments_exit_2_with_one_clear_message(args, message):
    proc = start(*args)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert message in err and "Traceback" not in err


def test_a_port_in_use_exits_1_with_the_reason():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = start("--port", str(port))
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert f"cannot use 127.0.0.1:{port}" in err and "Traceback" not in err


def test_the_ready_line_comes_quickly():
    # The rehearsal waits for this line before deploying: it must not take long
    began = time.monotonic()
    proc = start("--port", "0")
    try:
        assert ready_line(proc).startswith("listening on ")
        elapsed = time.monotonic() - began
    finally:
        stop(proc, signal.SIGTERM)
    assert elapsed < 10, elapsed
