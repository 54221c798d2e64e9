"""Synth assertions for the cost guard.

Teardown can only delete, every delivery path has retries and a DLQ, alarms page.
"""

from __future__ import annotations

import json
from datetime import UTC

import pytest
from aws_cdk.assertions import Match

from tests.infra.conftest import template

pytestmark = pytest.mark.infra


def _policy_statements(t, role_prefix: str) -> list[dict]:
    roles = [k for k in t.find_resources("AWS::IAM::Role") if k.startswith(role_prefix)]
    assert len(roles) == 1, roles
    return [
        s
        for p in t.find_resources("AWS::IAM::Policy").values()
        if {"Ref": roles[0]} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statements: list[dict]) -> set[str]:
    return {a for s in statements for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}


def test_teardown_role_deletes_only_throughput_and_deployments(assembly):
    actions = _actions(_policy_statements(template(assembly, "Tailor-dev-Guard"), "TeardownHandlerRole"))
    assert {a for a in actions if "Delete" in a} == {
        "bedrock:DeleteProvisionedModelThroughput",
        "bedrock:DeleteCustomModelDeployment",
        "scheduler:DeleteSchedule",
    }
    assert not {
        a for a in actions if ("Create" in a or "Update" in a or a == "iam:PassRole") and a != "logs:CreateLogStream"
    }


def test_the_scheduler_role_only_invokes_teardown_and_reaches_the_dead_letter_queue(assembly):
    t = template(assembly, "Tailor-dev-Guard")
    t.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {
                        "Action": "sts:AssumeRole",
                        "Effect": "Allow",
                        "Principal": {"Service": "scheduler.amazonaws.com"},
                        "Condition": {"StringEquals": {"aws:SourceAccount": Match.any_value()}},
                    }
                ]
            }
        },
    )
    statements = _policy_statements(t, "SchedulingRole")
    assert _actions(statements) == {"lambda:InvokeFunction", "sqs:SendMessage", "kms:Decrypt", "kms:GenerateDataKey"}
    invoke = next(s for s in statements if s["Action"] == "lambda:InvokeFunction")
    assert invoke["Resource"]["Fn::GetAtt"][0].startswith("TeardownHandlerFunction")
    t.has_resource_properties("AWS::Scheduler::ScheduleGroup", {"Name": "tailor-dev"})


def test_every_delivery_path_to_teardown_has_retries_and_a_dead_letter_queue(assembly):
    t = template(assembly, "Tailor-dev-Guard")
    queue = next(iter(t.find_resources("AWS::SQS::Queue")))
    t.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "rate(5 minutes)",
            "Targets": [
                Match.object_like(
                    {
                        "Input": json.dumps({"tailor": "sweep"}, separators=(",", ":")),
                        "RetryPolicy": Match.object_like({"MaximumRetryAttempts": 2}),
                        "DeadLetterConfig": {"Arn": {"Fn::GetAtt": [queue, "Arn"]}},
                    }
                )
            ],
        },
    )
    t.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "MaximumRetryAttempts": 2,
            "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": [queue, "Arn"]}}},
        },
    )
    t.has_resource_properties("AWS::SQS::Queue", {"KmsMasterKeyId": Match.any_value()})


def test_run_time_schedules_have_retry_policy_dead_letter_queue_and_delete_after_firing(wiring, clients):
    """Teardown schedules are made by handlers, not CloudFormation: the real call, read back from moto."""
    from datetime import datetime

    from tailor.serving.schedules import schedule_teardown

    arn = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abcdefghijkl"
    name = schedule_teardown(clients.scheduler, wiring, arn, datetime(2026, 11, 25, 13, 0, tzinfo=UTC))
    schedule = clients.scheduler.get_schedule(Name=name, GroupName=wiring.schedule_group)
    assert schedule["ActionAfterCompletion"] == "DELETE" and schedule["ScheduleExpressionTimezone"] == "UTC"
    assert (
        schedule["Target"]["RetryPolicy"]["MaximumRetryAttempts"] > 0
        and schedule["Target"]["DeadLetterConfig"]["Arn"] == wiring.dead_letter_queue_arn
    )
    assert (
        schedule["Target"]["RoleArn"] == wiring.scheduler_role_arn
        and schedule["Target"]["Arn"] == wiring.teardown_function_arn
    )


def test_alarms_on_dead_letters_teardown_errors_overruns_and_a_silent_reconciler_notify_the_topic(assembly):
    t = template(assembly, "Tailor-dev-Guard")
    alarms = t.find_resources("AWS::CloudWatch::Alarm")
    metrics = {a["Properties"].get("MetricName") for a in alarms.values()}
    assert metrics == {"ApproximateNumberOfMessagesVisible", "Errors", "ManagedPastExpiry", "ManagedServing"}
    topic_import = {"Fn::ImportValue": "Tailor-dev-TopicArn"}
    assert all(a["Properties"]["AlarmActions"] == [topic_import] for a in alarms.values())
    silent = next(a for a in alarms.values() if a["Properties"]["MetricName"] == "ManagedServing")["Properties"]
    assert silent["TreatMissingData"] == "breaching" and silent["EvaluationPeriods"] == 3


def test_budget_notifies_at_50_80_100_percent_and_prod_denies_new_spend_at_100(assembly):
    budget = next(iter(template(assembly, "Tailor-dev-Guard").find_resources("AWS::Budgets::Budget").values()))[
        "Properties"
    ]
    assert budget["Budget"]["BudgetLimit"] == {"Amount": 1500, "Unit": "USD"}
    assert sorted(n["Notification"]["Threshold"] for n in budget["NotificationsWithSubscribers"]) == [50, 80, 100]
    assert template(assembly, "Tailor-dev-Jobs").find_resources("AWS::Budgets::BudgetsAction") == {}
    prod = template(assembly, "Tailor-prod-Jobs")
    (action,) = prod.find_resources("AWS::Budgets::BudgetsAction").values()
    assert (
        action["Properties"]["ActionThreshold"] == {"Type": "PERCENTAGE", "Value": 100}
        and len(action["Properties"]["Definition"]["IamActionDefinition"]["Roles"]) == 4
    )
    deny = next(p for p in prod.find_resources("AWS::IAM::ManagedPolicy").values())["Properties"]["PolicyDocument"][
        "Statement"
    ]
    assert deny == [
        {
            "Effect": "Deny",
            "Action": sorted(
                [
                    "bedrock:CreateProvisionedModelThroughput",
                    "bedrock:CreateCustomModelDeployment",
                    "bedrock:CreateModelCustomizationJob",
                ]
            ),
            "Resource": "*",
        }
    ]


def test_the_topic_and_key_let_alarms_and_budgets_deliver(assembly):
    t = template(assembly, "Tailor-dev-Data")
    t.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Sid": "ServicePublish",
                                "Principal": {"Service": ["budgets.amazonaws.com", "cloudwatch.amazonaws.com"]},
                            }
                        )
                    ]
                )
            }
        },
    )


def test_serving_entries_are_custom_resources_after_their_jobs_with_a_bounded_wait(assembly):
    t = template(assembly, "Tailor-dev-Jobs")
    servings = t.find_resources("Custom::TailorServing")
    assert len(servings) == 3
    jobs = {k for k in t.find_resources("Custom::TailorCustomizationJob")}
    by_key = {json.loads(r["Properties"]["Spec"])["key"]: r for r in servings.values()}
    assert any(d in jobs for d in by_key["support-bot"]["DependsOn"])
    assert all(int(r["Properties"]["ServiceTimeout"]) <= 3600 for r in servings.values())
    spec = json.loads(by_key["micro-eval"]["Properties"]["Spec"])
    assert (spec["hours"], spec["commitment"], spec["model_units"]) == (4, None, 1)


def test_only_the_scheduler_role_can_be_passed_to_scheduler(assembly):
    t = template(assembly, "Tailor-dev-Jobs")
    statements = [
        s
        for p in t.find_resources("AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "iam:PassRole"
    ]
    scheduler = [
        s for s in statements if s["Condition"] == {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}
    ]
    assert scheduler and all(s["Resource"] == {"Fn::ImportValue": "Tailor-dev-SchedulerRoleArn"} for s in scheduler)
    # plus the Bedrock service role's, to the two handlers that start queued jobs
    assert len(statements) == len(scheduler) + 2


def test_synth_refuses_a_plan_over_budget_before_building_any_stack(tmp_path):
    import aws_cdk as cdk
    import yaml

    from app import build_app
    from tailor.errors import UserError
    from tests.conftest import ROOT

    # Given dev's config with a budget below its worst case ($151.80)
    data = yaml.safe_load((ROOT / "config" / "dev.yaml").read_text())
    data["policy"]["monthly_budget_usd"] = 100
    (tmp_path / "dev.yaml").write_text(yaml.safe_dump(data))
    app = cdk.App(outdir=str(tmp_path / "out"))
    # When synth runs, then it stops with one line naming the budget and no stack exists
    with pytest.raises(UserError) as raised:
        build_app(app, root=ROOT, config_dir=tmp_path)
    (problem,) = raised.value.problems
    assert "policy.monthly_budget_usd: the worst case this month is $151.80, over the $100.00 budget" in str(problem)
    assert app.node.children == []


def test_every_eventbridge_rule_target_in_every_template_has_retries_and_the_dead_letter_queue(assembly):
    outdir, _ = assembly
    targets = []
    for path in outdir.glob("*.template.json"):
        for resource in json.loads(path.read_text())["Resources"].values():
            if resource["Type"] == "AWS::Events::Rule":
                targets += [(path.name, t) for t in resource["Properties"]["Targets"]]
    assert len(targets) == 2 * 3  # per environment: the sweep, job state changes, job re-checks
    for name, target in targets:
        assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1 and "DeadLetterConfig" in target, (name, target)
    jobs = template(assembly, "Tailor-dev-Jobs")
    jobs.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {"DestinationConfig": {"OnFailure": {"Destination": {"Fn::ImportValue": "Tailor-dev-DeadLetterQueueArn"}}}},
    )
    template(assembly, "Tailor-dev-Guard").has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Sid": "JobsStackRules",
                                "Principal": {"Service": "events.amazonaws.com"},
                            }
                        )
                    ]
                )
            }
        },
    )


def test_synth_refuses_a_bad_local_dataset_with_file_and_line_and_builds_nothing(tmp_path):
    import aws_cdk as cdk
    import yaml

    from app import build_app
    from tailor.errors import UserError
    from tests.conftest import ROOT, make_example_root

    # Given a checkout whose dev config's local training file has a malformed second line
    root = make_example_root(tmp_path / "checkout")
    good = (ROOT / "examples/data/support/train.jsonl").read_text().splitlines()[0]
    (root / "bad.jsonl").write_text(good + "\n{not json\n")
    data = yaml.safe_load((ROOT / "config" / "dev.yaml").read_text())
    data["jobs"]["support-bot"]["training_data"] = "bad.jsonl"
    (root / "config" / "dev.yaml").write_text(yaml.safe_dump(data))
    app = cdk.App(outdir=str(tmp_path / "out"))
    # When synth runs, then it stops with the file and line, and no stack (so no asset upload) exists
    with pytest.raises(UserError) as raised:
        build_app(app, root=root, config_dir=root / "config", only="dev")
    assert any("bad.jsonl:2:" in str(p) for p in raised.value.problems), raised.value.problems
    assert app.node.children == []
