"""`tailor plan [ENV]`: what each environment's config starts and what its month can cost, without the CDK.

From the config (every config and dataset problem reported in one run), or with --from-dir from the
plan-<env>.json files `make synth` wrote; --live adds each serving entry's state read from SSM.
Exit 0, 1 when a config is invalid or a worst case exceeds its budget, 2 for a usage error.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tailor.cli.common import CommandError, aws_access, aws_client, config_dir
from tailor.config.catalog import DEFAULT_CATALOG, load_catalog
from tailor.errors import UserError

NAME = "plan"
HELP = "print the plan of one or all environments"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("env", nargs="?", help="environment name (config/<env>.yaml); default: all")
    parser.add_argument("--from-dir", type=Path, help="render plan-*.json files written by `make synth` instead")
    parser.add_argument("--config-dir", type=Path, help="directory of <env>.yaml files (default: ./config)")
    parser.add_argument("--catalog", type=Path, default=DEFAULT_CATALOG)
    parser.add_argument(
        "--live",
        action="store_true",
        help="add each serving entry's current state, read from SSM (needs AWS credentials)",
    )


def run(args: argparse.Namespace) -> int:
    from tailor.plan.cost import budget_problems
    from tailor.plan.render import render

    plans = _from_files(args.from_dir, args.env) if args.from_dir is not None else _from_config(args)
    if args.live:
        import tailor.cli

        with aws_access("cannot read serving state from SSM"):
            plans = [tailor.cli._live(p) for p in plans]  # looked up at call time: tests replace it
    print("\n\n".join(render(p) for p in plans))
    problems = [problem for p in plans for problem in budget_problems(p, p["source"])]
    if problems:
        raise UserError(problems)
    return 0


def live(plan: dict[str, Any]) -> dict[str, Any]:
    from tailor.serving.live_state import annotate

    return annotate(plan, aws_client("ssm", plan["region"]), now=datetime.now(UTC))


def _from_files(directory: Path, env: str | None) -> list[dict[str, Any]]:
    from tailor.plan.file import PlanFileError, read_plan_file

    if not directory.is_dir():
        raise CommandError(f"--from-dir {directory}: no such directory; run `make synth` first")
    files = sorted(directory.glob(f"plan-{env or '*'}.json"))
    if not files:
        wanted = f"plan-{env}.json" if env else "plan-*.json"
        raise CommandError(f"no {wanted} in {directory}; run `make synth` first")
    try:
        return [read_plan_file(file) for file in files]
    except PlanFileError as exc:
        raise CommandError(str(exc)) from None


def _from_config(args: argparse.Namespace) -> list[dict[str, Any]]:
    from tailor.jobs.preflight import load_checked
    from tailor.plan.build import build_plan

    directory = config_dir(args.config_dir)
    if args.env is not None and not (directory / f"{args.env}.yaml").is_file():
        available = ", ".join(sorted(f.stem for f in directory.glob("*.yaml"))) or "(none)"
        raise CommandError(
            f"ENV {args.env!r}: no {directory.name}/{args.env}.yaml; available environments: {available}"
        )
    catalog = load_catalog(args.catalog)
    checked = load_checked(directory, catalog, base_dir=directory.resolve().parent, only=args.env)
    return [build_plan(c.environment, c.stats) for c in checked]
