"""The shared AWS helper: every way reaching AWS fails is one line and exit 2, and nothing waits long."""

from __future__ import annotations

import time

import boto3
import pytest
from botocore import exceptions as bex

from tailor.cli import main
from tailor.cli.common import CommandError, aws_access, describe_aws_failure
from tests.conftest import ROOT


@pytest.mark.parametrize(
    "exc, text",
    [
        (bex.NoCredentialsError(), "no AWS credentials found; sign in first"),
        (bex.TokenRetrievalError(provider="sso", error_msg="expired"), "run `aws sso login`"),
        (bex.ProfileNotFound(profile="nope"), "The config profile (nope) could not be found; check AWS_PROFILE"),
        (bex.EndpointConnectionError(endpoint_url="https://ssm.us-east-1.amazonaws.com/"), "cannot reach AWS"),
        (
            bex.ClientError({"Error": {"Code": "ExpiredTokenException", "Message": "x"}}, "GetParameter"),
            "your AWS credentials have expired (ExpiredTokenException)",
        ),
        (
            bex.ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not\nallowed"}}, "GetParameter"),
            "access denied (AccessDeniedException): not allowed",
        ),
        (bex.ClientError({"Error": {"Code": "ThrottlingException"}}, "GetParameter"), "ThrottlingException"),
        (OSError("connection refused"), "OSError: connection refused"),
    ],
)
def test_each_failure_is_described_in_one_line(exc, text):
    described = describe_aws_failure(exc)
    assert text in described and "\n" not in described


def test_aws_access_names_what_it_was_doing():
    with pytest.raises(CommandError, match=r"^cannot read X: no AWS credentials found"), aws_access("cannot read X"):
        raise bex.NoCredentialsError()


@pytest.fixture
def no_credentials(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata lookup: nothing leaves the host
    # boto3's default session keeps the credentials an earlier test in this worker resolved: start a fresh one.
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)


def test_plan_live_without_credentials_is_one_line_exit_2(no_credentials, example_root, capsys):
    # When a real boto3 client finds no credentials
    code = main(["plan", "dev", "--live", "--config-dir", str(example_root / "config")])
    # Then
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("tailor: error: cannot read serving state from SSM: no AWS credentials found")


def test_plan_live_against_an_endpoint_that_refuses_connections_gives_up_quickly(monkeypatch, example_root, capsys):
    # Given credentials but an SSM endpoint on a closed loopback port
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:9")
    started = time.monotonic()
    code = main(["plan", "dev", "--live", "--config-dir", str(example_root / "config")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "cannot read serving state from SSM: cannot reach AWS" in err
    assert time.monotonic() - started < 30  # three attempts with short timeouts, not the handlers' minutes


def test_status_without_credentials_is_one_line_exit_2(no_credentials, example_root, capsys):
    # When `tailor status` finds no credentials
    code = main(["status", "dev", "--config-dir", str(example_root / "config")])
    # Then one line says so and what it was reading, and nothing else is printed
    out, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1 and out == ""
    assert err.startswith("tailor: error: ") and "no AWS credentials found" in err


def test_preview_without_credentials_shows_the_plan_and_says_it_could_not_compare(no_credentials, example_root, capsys):
    # When `tailor preview` cannot read what is deployed
    code = main(["preview", "dev", "--config-dir", str(example_root / "config")])
    # Then it shows what the config asks for, and one line says why it is not a comparison
    out, err = capsys.readouterr()
    assert code == 0 and "Worst case this month" in out
    (line,) = [line for line in err.splitlines() if line.strip()]
    assert line.startswith("tailor: could not compare with what is deployed") and "no AWS credentials found" in line


@pytest.fixture
def config_only(tmp_path):
    """A checkout holding the configs but not the datasets (git-ignored data, an operator's laptop)."""
    import shutil

    (tmp_path / "config").mkdir()
    shutil.copy(ROOT / "config" / "dev.yaml", tmp_path / "config" / "dev.yaml")
    return tmp_path / "config"


@pytest.mark.parametrize(
    "command",
    [["serving", "expire", "dev", "micro-eval"], ["serving", "extend", "dev", "micro-eval", "--hours", "1"]],
    ids=["expire", "extend"],
)
def test_operator_commands_need_the_config_but_not_the_datasets(no_credentials, config_only, command, capsys):
    # When serving must end and this machine has only the config
    code = main([*command, "--config-dir", str(config_only)])
    # Then the command gets as far as AWS (here: no credentials, exit 2), with no word about the datasets
    err = capsys.readouterr().err
    assert code == 2 and "no AWS credentials found" in err and "not found" not in err


def test_the_plan_still_requires_the_datasets(config_only, capsys):
    assert main(["plan", "dev", "--config-dir", str(config_only)]) == 1
    assert 'local file "examples/data/support/train.jsonl" not found' in capsys.readouterr().err


def test_read_without_the_datasets_the_jobs_say_their_names_are_unknown(config_only):
    from tailor.config.catalog import load_catalog
    from tailor.config.environment import load_environment

    env = load_environment(config_only / "dev.yaml", load_catalog(), base_dir=config_only.parent, require_files=False)
    assert not env.jobs["support-bot"].data_present and env.jobs["math-grader"].data_present is False
    assert "micro-eval" in env.throughputs
    with_data = load_environment(ROOT / "config" / "dev.yaml", load_catalog(), base_dir=ROOT)
    assert all(job.data_present for job in with_data.jobs.values())
