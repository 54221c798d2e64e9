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
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}.items():
    os.environ[name] = value
os.environ.pop("AWS_PROFILE", None)


def pytest_collection_modifyitems(session, config, items):
    """The rehearsal tier last: its runs start with the session (below) and go on while the other tiers run;
    its tests only wait for their outcomes."""
    items.sort(key=lambda item: item.get_closest_marker("rehearsal") is not None)


@pytest.fixture(scope="session", autouse=True)
def rehearsal_runs(request, tmp_path_factory):
    """The rehearsal runs the selected tests read, started in the background by the session's first test."""
    from tests.rehearsal import runs

    names = runs.wanted(request.session.items)
    if not names:
        yield {}
        return
    session = os.environ.get("PYTEST_XDIST_TESTRUNUID")  # the same for every worker of one run, unique per run
    base = tmp_path_factory.getbasetemp()
    started, waiters = runs.start_all(names, base.parent / f"rehearsals-{session}" if session else base / "rehearsals")
    yield started
    runs.wait_for(waiters)


@pytest.fixture
def aws():
    from moto import mock_aws

    with mock_aws():
        yield


@pytest.fixture
def bedrock_double(aws):
    from rehearsal.bedrock import BedrockDouble

    double = BedrockDouble(
        account=ACCOUNT, region=REGION, strict=True, require_client_tokens=True, foundation_models=None
    )
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
        scheduler=boto3.client("scheduler", region_name=REGION),
        cloudwatch=boto3.client("cloudwatch", region_name=REGION),
    )


@pytest.fixture
def wiring(clients):
    """What CDK wires into the serving handlers, made for real in moto: topic, dead-letter queue, schedule group."""
    from tailor.serving.schedules import Wiring

    topic = clients.sns.create_topic(Name="tailor-dev")["TopicArn"]
    sqs = boto3.client("sqs", region_name=REGION)
    dlq = sqs.get_queue_attributes(
        QueueUrl=sqs.create_queue(QueueName="tailor-dev-dlq")["QueueUrl"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    clients.scheduler.create_schedule_group(Name="tailor-dev")
    return Wiring(
        environment="dev",
        topic_arn=topic,
        schedule_group="tailor-dev",
        teardown_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:tailor-dev-teardown",
        scheduler_role_arn=f"arn:aws:iam::{ACCOUNT}:role/tailor-dev-scheduler",
        dead_letter_queue_arn=dlq,
    )


def wiring_environment(monkeypatch, wiring) -> None:
    for name, value in {
        "TAILOR_ENVIRONMENT": wiring.environment,
        "TAILOR_TOPIC_ARN": wiring.topic_arn,
        "TAILOR_SCHEDULE_GROUP": wiring.schedule_group,
        "TAILOR_TEARDOWN_FUNCTION_ARN": wiring.teardown_function_arn,
        "TAILOR_SCHEDULER_ROLE_ARN": wiring.scheduler_role_arn,
        "TAILOR_DEAD_LETTER_QUEUE_ARN": wiring.dead_letter_queue_arn,
        "TAILOR_SERVE_JOBS": "1",
    }.items():
        monkeypatch.setenv(name, value)


EXAMPLE_ENVIRONMENTS = ("dev", "prod")


def make_example_root(root: Path) -> Path:
    """A checkout-shaped directory holding only what the shipped examples need: config/dev.yaml and prod.yaml,
    the catalog and the example datasets (copies, not links: datasets may not lead out of their repository).
    Tests that load "every environment" use it, so a user's own config/<env>.yaml changes no test result.
    """
    import shutil

    (root / "config").mkdir(parents=True)
    for name in EXAMPLE_ENVIRONMENTS:
        shutil.copy(ROOT / "config" / f"{name}.yaml", root / "config" / f"{name}.yaml")
    shutil.copytree(ROOT / "catalog", root / "catalog")
    shutil.copytree(ROOT / "examples", root / "examples", ignore=shutil.ignore_patterns("__pycache__"))
    return root


@pytest.fixture(scope="session")
def example_root(tmp_path_factory):
    """make_example_root, once per session (read-only: copy it before changing anything in it)."""
    return make_example_root(tmp_path_factory.mktemp("checkout"))
