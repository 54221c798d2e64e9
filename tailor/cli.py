"""`tailor`: validate a dataset or print an environment's plan, without running the CDK.

Exit codes: 0 fine, 1 invalid data or config (a plan whose worst-case month exceeds its budget included),
2 usage error (bad arguments, unknown model or type, a plan file from an older Tailor).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC
from pathlib import Path
from typing import Any

from tailor.config.catalog import DEFAULT_CATALOG, load_catalog
from tailor.config.models import CUSTOMIZATION_TYPES
from tailor.errors import UserError

ROOT = Path.cwd()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tailor", description="Amazon Bedrock model customization as code.")
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser("validate", help="check a JSONL dataset against a base model's rules")
    validate.add_argument("file", type=Path)
    validate.add_argument("--base-model", required=True, help="catalog model id, e.g. amazon.nova-micro-v1:0:128k")
    validate.add_argument("--type", required=True, choices=CUSTOMIZATION_TYPES, dest="ctype")
    validate.add_argument("--role", choices=("training", "validation"), default="training")
    validate.add_argument("--max-errors", type=_positive, default=20)
    validate.add_argument("--catalog", type=Path, default=DEFAULT_CATALOG)
    plan = commands.add_parser("plan", help="print the plan of one or all environments")
    plan.add_argument("env", nargs="?", help="environment name (config/<env>.yaml); default: all")
    plan.add_argument("--from-dir", type=Path, help="render plan-*.json files written by `cdk synth` instead")
    plan.add_argument("--config-dir", type=Path, default=ROOT / "config")
    plan.add_argument("--catalog", type=Path, default=DEFAULT_CATALOG)
    plan.add_argument(
        "--live",
        action="store_true",
        help="add each serving entry's current state, read from SSM (needs AWS credentials)",
    )
    args = parser.parse_args(argv)
    try:
        return _validate(args) if args.command == "validate" else _plan(args)
    except UserError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1


def _validate(args: argparse.Namespace) -> int:
    from tailor.datasets import validate_path

    catalog = load_catalog(args.catalog)
    model = catalog.models.get(args.base_model)
    if model is None:
        return _usage(f"unknown --base-model {args.base_model!r}; catalog models: {', '.join(sorted(catalog.models))}")
    customization = model.customizations.get(args.ctype)
    if customization is None:
        return _usage(
            f"{args.base_model} does not support --type {args.ctype}; it supports: {', '.join(model.customizations)}"
        )
    rules = customization.training_rules if args.role == "training" else customization.validation_rules
    if rules is None:
        return _usage(f"{args.base_model} takes no validation set for {args.ctype}")
    if not args.file.is_file():
        return _usage(f"{args.file}: {'a directory, not a file' if args.file.is_dir() else 'no such file'}")
    report = validate_path(args.file, rules, max_errors=args.max_errors, source=str(args.file))
    for line in report.render():
        print(line, file=sys.stderr if not report.ok else sys.stdout)
    verdict = "valid" if report.ok else f"INVALID ({report.error_count} error{'s' if report.error_count != 1 else ''})"
    print(
        f"{args.file}: {verdict}: {report.records:,} records, "
        f"~{report.total_estimated_tokens:,} tokens, format {rules.format} for "
        f"{args.base_model} ({args.ctype}, {args.role})"
    )
    return 0 if report.ok else 1


def _plan(args: argparse.Namespace) -> int:
    from tailor.plan.build import budget_problems
    from tailor.plan.render import render

    if args.from_dir is not None:
        files = sorted(args.from_dir.glob(f"plan-{args.env or '*'}.json"))
        if not files:
            return _usage(f"no plan-*.json in {args.from_dir}; run `make synth` first")
        plans = []
        for file in files:
            try:
                plans.append(json.loads(file.read_text()))
            except (OSError, ValueError) as exc:
                return _usage(f"{file}: not a plan file ({exc}); run `make synth` again")
        stale = [
            f.name
            for f, p in zip(files, plans, strict=True)
            if not isinstance(p, dict) or not {"worst_case_month_usd", "environment", "servings"} <= set(p)
        ]
        if stale:
            return _usage(
                f"{', '.join(stale)} in {args.from_dir}: no cost figures (written by an older "
                "Tailor); run `make synth` again"
            )
    else:
        from tailor.config.environment import load_environments
        from tailor.jobs.preflight import check_datasets
        from tailor.plan.build import build_plan

        if not args.config_dir.is_dir():
            return _usage(f"--config-dir {args.config_dir}: no such directory")
        if args.env is not None and not (args.config_dir / f"{args.env}.yaml").is_file():
            available = ", ".join(sorted(f.stem for f in args.config_dir.glob("*.yaml"))) or "(none)"
            return _usage(
                f"ENV {args.env!r}: no {args.config_dir.name}/{args.env}.yaml; available environments: {available}"
            )
        catalog = load_catalog(args.catalog)
        environments = load_environments(
            args.config_dir, catalog, base_dir=args.config_dir.resolve().parent, only=args.env
        )
        plans = [build_plan(env, check_datasets(env)) for env in environments]
    if args.live:
        try:
            plans = [_live(p) for p in plans]
        except Exception as exc:  # credentials, network, access: one line, not a traceback
            return _usage(f"cannot read serving state from SSM: {type(exc).__name__}: {exc}")
    print("\n\n".join(render(p) for p in plans))
    problems = [problem for p in plans for problem in budget_problems(p, p["source"])]
    if problems:
        raise UserError(problems)
    return 0


def _live(plan: dict[str, Any]) -> dict[str, Any]:
    from datetime import datetime

    import boto3

    from tailor.serving.live_state import annotate

    return annotate(plan, boto3.client("ssm", region_name=plan["region"]), now=datetime.now(UTC))


def _usage(message: str) -> int:
    print(f"tailor: error: {message}", file=sys.stderr)
    return 2


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


if __name__ == "__main__":
    sys.exit(main())
