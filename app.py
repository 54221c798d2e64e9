#!/usr/bin/env python3
"""CDK entry point: validate every environment's config once, then compose its stacks.

`cdk synth` synthesizes all environments in config/; `cdk synth -c env=dev` only dev.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import aws_cdk as cdk

from cdk_constructs import nag
from cdk_constructs.tailor_function import ActiveTracing
from stacks.data_stack import DataStack
from stacks.guard_stack import GuardStack
from stacks.jobs_stack import JobsStack
from tailor import naming
from tailor.config.catalog import load_catalog
from tailor.errors import UserError
from tailor.jobs.preflight import load_checked
from tailor.plan.build import build_plan, write_plan
from tailor.plan.cost import budget_problems

ROOT = Path(__file__).resolve().parent


def build_app(app: cdk.App, *, root: Path = ROOT, config_dir: Path | None = None, only: str | None = None) -> cdk.App:
    catalog = load_catalog(root / "catalog" / "models.yaml")
    # Config and dataset problems of every environment come out together, in one run.
    checked = load_checked(config_dir or root / "config", catalog, base_dir=root, only=only)
    environments = [c.environment for c in checked]
    plans = [build_plan(c.environment, c.stats) for c in checked]
    over_budget = [problem for plan in plans for problem in budget_problems(plan, plan["source"])]
    if over_budget:
        raise UserError(over_budget)  # nothing is synthesized, so nothing can be deployed or bought
    default_account = os.environ.get("CDK_DEFAULT_ACCOUNT")
    for env, plan in zip(environments, plans, strict=True):
        target = cdk.Environment(account=env.account or default_account, region=env.region)
        tags = {**env.tags, "managed-by": "tailor", "environment": env.name}
        data = DataStack(
            app,
            naming.stack_name(env.name, "Data"),
            env_config=env,
            env=target,
            termination_protection=env.retain_data,
            description=f"Tailor {env.name}: data, keys and notifications (stateful)",
        )
        guard = GuardStack(
            app,
            naming.stack_name(env.name, "Guard"),
            env_config=env,
            shared=data.shared,
            env=target,
            description=f"Tailor {env.name}: serving teardown, reconciler, alarms and budget",
        )
        guard.add_stack_dependency(data)
        jobs = JobsStack(
            app,
            naming.stack_name(env.name, "Jobs"),
            env_config=env,
            shared=data.shared,
            guard=guard.outputs,
            env=target,
            description=f"Tailor {env.name}: customization jobs, serving and completion tracking",
        )
        jobs.add_stack_dependency(guard)
        for stack in (data, guard, jobs):
            for key, value in tags.items():
                cdk.Tags.of(stack).add(key, value)
        write_plan(plan, Path(app.outdir))
    cdk.Aspects.of(app).add(ActiveTracing())
    nag.acknowledge_inherent(app)
    cdk.Validations.of(app).add_plugins(*nag.plugins(app))  # AwsSolutions, Serverless, NIST 800-53 R5
    return app


def main() -> int:
    app = cdk.App()
    try:
        build_app(app, only=app.node.try_get_context("env"))
    except UserError as exc:
        print(f"Configuration errors ({len(exc.problems)}):", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    try:
        app.synth()
    except RuntimeError as exc:
        if "ValidationFailed" not in str(exc):
            raise
        print(
            (
                "cdk-nag found unacknowledged findings (listed above); report: "
                f"{Path(app.outdir) / 'validation-report.json'}"
            ),
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
