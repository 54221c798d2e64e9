"""`tailor status ENV [--json]`: what each job and serving entry is doing now, and what serving costs.

Per job: state (with Bedrock's training stage while it runs), started and ended, losses, the custom model or
the failure. Per serving entry: mode, ARN, state, when it expires and in how long, spent so far and the worst
case left. Standard AWS credentials; without them, one line and exit 2.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from tailor.cli.common import aws_access, aws_client, operator_environment
from tailor.config.catalog import DEFAULT_CATALOG
from tailor.ops import status

NAME = "status"
HELP = "show what a deployed environment's jobs and serving are doing now, and what serving costs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("env", help="environment (config/<env>.yaml)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--config-dir", type=Path)
    parser.add_argument("--catalog", type=Path, default=DEFAULT_CATALOG)


def run(args: argparse.Namespace) -> int:
    env = operator_environment(args)
    clients = SimpleNamespace(ssm=aws_client("ssm", env.region), bedrock=aws_client("bedrock", env.region))
    with aws_access(f"reading {env.name}'s records and Bedrock"):
        report = status.status(clients, env, now=datetime.now(UTC))
    print(json.dumps(report, indent=2, default=str) if args.json else status.render(report))
    return 0
