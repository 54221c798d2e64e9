"""What every `tailor` command shares: the usage error, default paths, and the one way AWS is reached.

A command that talks to AWS wraps its calls in `aws_access("what it was doing")` and makes its clients with
`aws_client`: missing or expired credentials, an unreachable endpoint and a refused call then end the command
with one line and exit 2 instead of a traceback, and short timeouts with few retries mean it cannot hang.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tailor.config.environment import Environment

CONNECT_TIMEOUT_S = 5
READ_TIMEOUT_S = 20
MAX_ATTEMPTS = 3  # a person is waiting: fail in well under a minute, never the handlers' 3.5-minute budget


class CommandError(Exception):
    """A mistake in how a command was called, or an outside failure: `tailor: error: <message>`, exit 2."""


def config_dir(given: Path | None) -> Path:
    """--config-dir as given, else ./config; a missing one is named the way the user wrote it (or did not)."""
    if given is not None:
        if not given.is_dir():
            raise CommandError(f"--config-dir {given}: no such directory")
        return given
    default = Path.cwd() / "config"
    if not default.is_dir():
        raise CommandError(
            f"no config/ directory in {Path.cwd()}; run tailor from the Tailor checkout, or pass --config-dir DIR"
        )
    return default


def operator_environment(args: argparse.Namespace) -> Environment:
    """The environment a day-two command (status, serving extend/expire) acts on, from --config-dir and
    --catalog. Datasets need not be on this machine: nothing here reads them (an operator may have only the
    config)."""
    from tailor.config.catalog import load_catalog
    from tailor.config.environment import environment_files, load_environment

    directory = config_dir(args.config_dir)
    files = environment_files(directory, only=args.env)
    catalog = load_catalog(args.catalog)
    return load_environment(files[0], catalog, base_dir=directory.resolve().parent, require_files=False)


def positive(text: str) -> int:
    """argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def aws_client(service: str, region: str) -> Any:
    """A boto3 client for interactive use: short timeouts and few retries, so a command cannot hang."""
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
        user_agent_extra="tailor-cli",
    )
    return boto3.client(service, region_name=region, config=config)  # type: ignore[call-overload]


@contextmanager
def aws_access(action: str) -> Iterator[None]:
    """Turns every way reaching AWS fails into CommandError(`<action>: <one line>`)."""
    try:
        yield
    except CommandError:
        raise
    except Exception as exc:  # classified below; anything unknown is still one line
        raise CommandError(f"{action}: {describe_aws_failure(exc)}") from None


def describe_aws_failure(exc: BaseException) -> str:
    """One line saying what went wrong reaching AWS and, where there is one, the fix."""
    from botocore import exceptions as bex

    if isinstance(exc, (bex.NoCredentialsError, bex.PartialCredentialsError)):
        return (
            "no AWS credentials found; sign in first (aws sso login, or set AWS_PROFILE or AWS_ACCESS_KEY_ID), "
            "then run this again"
        )
    if isinstance(exc, (bex.TokenRetrievalError, bex.SSOTokenLoadError, bex.UnauthorizedSSOTokenError)):
        return "your AWS SSO session has expired or was never started; run `aws sso login` and try again"
    if isinstance(exc, bex.ProfileNotFound):
        return f"{exc}; check AWS_PROFILE against ~/.aws/config"
    if isinstance(exc, bex.NoRegionError):
        return "no AWS Region is set; set AWS_REGION (Tailor's own commands take it from the config)"
    if isinstance(exc, (bex.EndpointConnectionError, bex.ConnectTimeoutError, bex.ReadTimeoutError)):
        return f"cannot reach AWS ({_one_line(exc)}); check the network, a proxy, or the Region"
    if isinstance(exc, bex.ClientError):
        error = exc.response.get("Error", {})
        code, message = str(error.get("Code", "Unknown")), _one_line(error.get("Message", ""))
        if code in ("ExpiredToken", "ExpiredTokenException", "RequestExpired"):
            return f"your AWS credentials have expired ({code}); sign in again and retry"
        if code in ("UnrecognizedClientException", "InvalidClientTokenId", "InvalidSignatureException"):
            return f"AWS does not accept these credentials ({code}): {message}"
        if code in ("AccessDenied", "AccessDeniedException"):
            return f"access denied ({code}): {message}"
        return f"{code}: {message}" if message else code
    return f"{type(exc).__name__}: {_one_line(exc)}"


def _one_line(value: object) -> str:
    return " ".join(str(value).split())[:500]
