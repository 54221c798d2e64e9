"""`tailor`: validate data, print plans, list the catalog and the config schema, without running the CDK.

Exit codes: 0 fine, 1 invalid data or config (a plan whose worst-case month exceeds its budget included),
2 usage error (bad arguments, unknown model or type, a malformed plan file, AWS unreachable or credentials
missing). Every message is one line per problem; no command prints a traceback for a user's mistake.

One module per command (tailor/cli/<command>.py), each with NAME, HELP, add_arguments(parser) and
run(args) -> int, listed in COMMANDS. Commands that call AWS wrap the calls in `common.aws_access(...)`
and make clients with `common.aws_client(...)` (short timeouts, one line on failure).
"""

from __future__ import annotations

import argparse
import os
import sys
from types import ModuleType
from typing import Any

from tailor.cli import models, plan, preview, schema, serving, status, validate
from tailor.cli.common import CommandError
from tailor.errors import UserError

COMMANDS: tuple[ModuleType, ...] = (validate, plan, preview, status, serving, models, schema)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tailor", description="Amazon Bedrock model customization as code.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        sub = commands.add_parser(command.NAME, help=command.HELP, description=command.HELP)
        command.add_arguments(sub)
        sub.set_defaults(run=command.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except UserError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    except CommandError as exc:
        print(f"tailor: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tailor: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `tailor models | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _live(plan_dict: dict[str, Any]) -> dict[str, Any]:
    """`tailor plan --live`'s SSM read; kept here because tests replace `tailor.cli._live`."""
    return plan.live(plan_dict)
