"""`tailor serving extend ENV KEY --hours N` and `tailor serving expire ENV KEY`: change live serving's life.

extend: a new life of N hours counted from creation (longer or shorter), within policy.max_throughput_hours;
re-tags, replaces the teardown schedule, records and notifies. expire: ends it now, through the teardown
function (the path the schedule takes). Both are idempotent and refuse commitments. A deploy of unchanged config
keeps what they did; a deploy that changes the entry's `hours` sets the life from the config again.
Uses the standard AWS credential chain; exit 0 done, 1 refused (with the reason), 2 usage or AWS unreachable.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from tailor.cli.common import CommandError, aws_access, aws_client, operator_environment
from tailor.config.catalog import DEFAULT_CATALOG
from tailor.serving import operations

NAME = "serving"
HELP = "extend, shorten or end live serving (a Provisioned Throughput or deployment) of a deployed environment"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    extend = actions.add_parser("extend", help="a new life of --hours, counted from creation")
    expire = actions.add_parser("expire", help="end it now, through the teardown function")
    for sub in (extend, expire):
        sub.add_argument("env", help="environment (config/<env>.yaml)")
        sub.add_argument("key", help="the serving entry: a job key (its serve block) or a throughputs name")
        sub.add_argument("--config-dir", type=Path)
        sub.add_argument("--catalog", type=Path, default=DEFAULT_CATALOG)
    extend.add_argument("--hours", type=_hours, required=True, help="hours from creation (e.g. 6, or 0.5)")


def run(args: argparse.Namespace) -> int:
    env = operator_environment(args)
    keys = {s.key for s in env.servings}
    if args.key not in keys:
        raise CommandError(
            f"{env.name} has no serving entry {args.key!r}; its entries: {', '.join(sorted(keys)) or 'none'}"
        )
    clients = SimpleNamespace(
        **{name: aws_client(name, env.region) for name in ("bedrock", "ssm", "scheduler", "sns", "cloudformation")},
        lambda_=aws_client("lambda", env.region),
    )
    now = datetime.now(UTC)
    try:
        with aws_access(f"reading {env.name}'s deployment"):
            wiring = operations.wiring_from_exports(clients.cloudformation, env.name)
        with aws_access(f"changing {env.name}/{args.key}"):
            if args.action == "extend":
                result = operations.extend(
                    clients, wiring, args.key, hours=args.hours, max_hours=env.policy.max_throughput_hours, now=now
                )
            else:
                result = operations.expire(clients, wiring, args.key, now=now)
    except operations.OperationError as exc:
        print(f"tailor: {exc}", file=sys.stderr)
        return 1
    detail = f" ({result.detail})" if result.detail else ""
    print(f"{env.name}/{result.key}: {result.action}; ends {result.expires_at or '-'}{detail}; {result.arn}")
    return 0


def _hours(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of hours") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value
