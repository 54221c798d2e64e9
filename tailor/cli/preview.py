"""`tailor preview ENV [--confirm] [--yes]`: what the next deploy starts, stops, buys and deletes.

Compares the config with what is deployed (the handlers' SSM records and Bedrock). Without credentials it
prints the synth-only plan and says it could not compare. With --confirm (what `make deploy` runs) it asks
before a deploy goes on, unless --yes or the CI variable is set; exit 1 when the answer is no.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from tailor.cli.common import CommandError, aws_access, aws_client, config_dir
from tailor.config.catalog import DEFAULT_CATALOG, load_catalog
from tailor.jobs.preflight import load_checked
from tailor.ops import preview
from tailor.plan.build import build_plan
from tailor.plan.render import render

NAME = "preview"
HELP = "compare the config with what is deployed: what the next deploy starts, stops (!), buys and deletes"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("env", help="environment (config/<env>.yaml)")
    parser.add_argument("--confirm", action="store_true", help="ask before going on (make deploy)")
    parser.add_argument("--yes", action="store_true", help="with --confirm: do not ask")
    parser.add_argument("--config-dir", type=Path)
    parser.add_argument("--catalog", type=Path, default=DEFAULT_CATALOG)


def run(args: argparse.Namespace) -> int:
    directory = config_dir(args.config_dir)
    (checked,) = load_checked(directory, load_catalog(args.catalog), base_dir=directory.resolve().parent, only=args.env)
    env, plan = checked.environment, build_plan(checked.environment, checked.stats)
    clients = SimpleNamespace(ssm=aws_client("ssm", env.region), bedrock=aws_client("bedrock", env.region))
    try:
        with aws_access(f"reading what {env.name} has deployed"):
            changes = preview.preview(clients, env, plan, now=datetime.now(UTC))
        print(preview.render(changes, env.name))
        stops = any("STOPS" in c["detail"] for c in changes)
    except CommandError as exc:
        print(render(plan))
        # On stderr, like every diagnostic: stdout stays the plan alone.
        print(
            f"tailor: could not compare with what is deployed ({exc}); the plan above is what the config asks for",
            file=sys.stderr,
        )
        stops = False
    if not args.confirm or args.yes or os.environ.get("CI"):
        return 0
    if not sys.stdin.isatty():
        print(
            "tailor: not a terminal, so nobody can confirm: run `make deploy ENV=... YES=1` to go on", file=sys.stderr
        )
        return 1
    prompt = "Running jobs will be STOPPED. Deploy anyway? [y/N] " if stops else "Deploy? [y/N] "
    return 0 if input(prompt).strip().lower() in ("y", "yes") else 1
