"""Synth-level checks: security invariants, the shared provider, cdk-nag and cfn-lint on every template."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from aws_cdk.assertions import Match, Template

from tests.conftest import ROOT
from tests.infra.conftest import synth, template

pytestmark = pytest.mark.infra


def test_cdk_nag_reports_no_unacknowledged_finding(assembly):
    outdir, _ = assembly
    report = (
        json.loads((outdir / "validation-report.json").read_text())
        if (outdir / "validation-report.json").exists()
        else {"pluginReports": []}
    )
    assert all(r["conclusion"] == "success" for r in report["pluginReports"]), report


def test_cfn_lint_finds_nothing_at_all_in_any_template_with_the_projects_settings(assembly):
    outdir, _ = assembly
    templates = sorted(str(p) for p in outdir.glob("*.template.json"))
    assert len(templates) == 6  # Data, Guard and Jobs per environment
    # When cfn-lint runs as `make synth` runs it (from the checkout, so .cfnlintrc.yaml applies), at every level
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--non-zero-exit-code", "informational", "--", *templates],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    # Then there is no error, no warning and no informational finding: a healthy synth prints only the plan
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


def test_cfn_lint_settings_ignore_only_checks_that_say_why(tmp_path):
    settings = yaml.safe_load((ROOT / ".cfnlintrc.yaml").read_text())
    text = (ROOT / ".cfnlintrc.yaml").read_text()
    assert set(settings) == {"ignore_checks"}
    for check in settings["ignore_checks"]:
        # each ignored check is introduced by a comment naming it and its reason
        assert re.search(rf"^\s*# {check} .{{20,}}", text, re.M), check


def test_every_feature_flag_the_cdk_recommends_is_configured(assembly):
    # Given the feature-flag report the CDK writes into the assembly (what `cdk synth` counts as "not configured")
    outdir, _ = assembly
    manifest = json.loads((outdir / "manifest.json").read_text())
    (report,) = [a for a in manifest["artifacts"].values() if a["type"] == "cdk:feature-flag-report"]
    flags = report["properties"]["flags"]
    # Then no flag is left to a default that differs from the recommended value
    unconfigured = [
        name
        for name, flag in flags.items()
        if "userValue" not in flag
        and flag.get("unconfiguredBehavesLike", {}).get("v2", False) != flag.get("recommendedValue", False)
    ]
    assert unconfigured == []


def test_the_flags_set_against_the_recommendation_keep_stateful_resources_and_stack_tags_as_they_were(assembly):
    outdir, _ = assembly
    # enablePartitionLiterals stays off: the KMS key policy and each job's request keep `Ref AWS::Partition`, so
    # a deploy does not rewrite the key policy or update a job resource (which would stop a running job)
    key = template(assembly, "Tailor-dev-Data").find_resources("AWS::KMS::Key")
    assert len(key) == 1 and '{"Ref": "AWS::Partition"}' in json.dumps(key)
    jobs = template(assembly, "Tailor-prod-Jobs").find_resources("Custom::TailorCustomizationJob").values()
    (profile_job,) = [j for j in jobs if ":inference-profile/" in json.dumps(j)]  # the teacher's ARN is built
    assert '{"Ref": "AWS::Partition"}' in json.dumps(profile_job)
    # explicitStackTags stays off: the stacks themselves keep the environment's tags, not only their resources
    manifest = json.loads((outdir / "manifest.json").read_text())
    stacks = [a for a in manifest["artifacts"].values() if a["type"] == "aws:cloudformation:stack"]
    assert len(stacks) == 6
    assert all(a["properties"]["tags"]["managed-by"] == "tailor" for a in stacks)


def test_the_bedrock_service_role_trusts_only_this_accounts_jobs(assembly):
    t = template(assembly, "Tailor-prod-Jobs")
    t.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {
                        "Action": "sts:AssumeRole",
                        "Effect": "Allow",
                        "Principal": {"Service": "bedrock.amazonaws.com"},
                        "Condition": {
                            "StringEquals": {"aws:SourceAccount": "111122223333"},
                            "ArnLike": {
                                "aws:SourceArn": {
                                    "Fn::Join": [
                                        "",
                                        [
                                            "arn:",
                                            {"Ref": "AWS::Partition"},
                                            ":bedrock:us-east-1:111122223333:model-customization-job/*",
                                        ],
                                    ]
                                }
                            },
                        },
                    }
                ]
            }
        },
    )


def test_pass_role_is_scoped_to_the_service_role_and_to_bedrock(assembly):
    t = template(assembly, "Tailor-dev-Jobs")
    statements = [
        s
        for p in t.find_resources("AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if "iam:PassRole" in json.dumps(s["Action"]) and "bedrock" in json.dumps(s.get("Condition"))
    ]
    # Two roles start jobs from the queue: the job provider's handler and the completion handler.
    assert len(statements) == 2
    service_role = next(k for k in t.find_resources("AWS::IAM::Role") if k.startswith("BedrockServiceRole"))
    for statement in statements:
        assert statement["Action"] == "iam:PassRole"
        assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}}
        assert statement["Resource"] == {"Fn::GetAtt": [service_role, "Arn"]}


def test_no_policy_grants_a_wildcard_action(assembly):
    outdir, _ = assembly
    for path in outdir.glob("*.template.json"):
        for resource in json.loads(path.read_text())["Resources"].values():
            if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::Role"):
                docs = [resource["Properties"].get("PolicyDocument")] + [
                    p["PolicyDocument"] for p in resource["Properties"].get("Policies", [])
                ]
                for doc in filter(None, docs):
                    for statement in doc["Statement"]:
                        actions = (
                            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                        )
                        assert not any("*" in a for a in actions), (path.name, statement)


def test_buckets_block_public_access_enforce_ssl_version_and_are_retained_in_prod(assembly):
    t = template(assembly, "Tailor-prod-Data")
    buckets = t.find_resources("AWS::S3::Bucket")
    assert len(buckets) == 3
    for bucket in buckets.values():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
        assert bucket["DeletionPolicy"] == "Retain"
    kms_buckets = [
        b
        for b in buckets.values()
        if b["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"][
            "SSEAlgorithm"
        ]
        == "aws:kms"
    ]
    assert len(kms_buckets) == 2  # data and output; the access-log bucket cannot be SSE-KMS
    policies = t.find_resources("AWS::S3::BucketPolicy")
    assert len(policies) == 3 and all("aws:SecureTransport" in json.dumps(p) for p in policies.values())
    t.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    t.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})


def test_dev_data_is_destroyed_with_the_stack_as_its_config_says(assembly):
    buckets = template(assembly, "Tailor-dev-Data").find_resources("AWS::S3::Bucket")
    assert {b["DeletionPolicy"] for b in buckets.values()} == {"Delete"}


def test_the_completion_rule_matches_job_status_of_this_environment(assembly):
    template(assembly, "Tailor-dev-Jobs").has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.bedrock"],
                "detail-type": ["Model Customization Job State Change"],
                "detail": {"jobStatus": ["Completed", "Failed", "Stopped"], "jobName": [{"prefix": "tailor-dev-"}]},
            }
        },
    )
    template(assembly, "Tailor-dev-Jobs").has_resource_properties(
        "AWS::Events::Rule", {"ScheduleExpression": "rate(5 minutes)"}
    )


def test_each_job_is_a_custom_resource_with_its_full_request(assembly):
    t = template(assembly, "Tailor-dev-Jobs")
    jobs = t.find_resources("Custom::TailorCustomizationJob")
    assert len(jobs) == 4
    assert {r["Properties"]["ServiceToken"]["Fn::GetAtt"][0] for r in jobs.values()} == {
        next(k for k in t.find_resources("AWS::Lambda::Function") if "frameworkonEvent" in k)
    }
    assert all(
        r["Properties"]["ServiceTimeout"] == "1200" or r["Properties"]["ServiceTimeout"] == 1200 for r in jobs.values()
    )


def test_the_lambda_asset_ships_only_handlers_and_the_domain_package(assembly):
    outdir, _ = assembly
    handler_assets = [d for d in outdir.glob("asset.*") if d.is_dir() and (d / "functions").is_dir()]
    assert len(handler_assets) == 1
    top = {p.name for p in handler_assets[0].iterdir()}
    assert {"functions", "tailor", "boto3", "botocore"} <= top  # the SDK: tests/infra/test_lambda_asset.py
    assert not {"tests", "rehearsal", "cdk_constructs", "stacks", "config", "catalog"} & top
    assert not list(handler_assets[0].rglob("__pycache__"))


def _functions(outdir: Path, env: str) -> int:
    return len(
        Template.from_json(json.loads((outdir / f"Tailor-{env}-Jobs.template.json").read_text())).find_resources(
            "AWS::Lambda::Function"
        )
    )


def test_forty_jobs_need_no_more_functions_than_four(tmp_path, assembly):
    # Given a config with 40 jobs reading S3 data, each served when it completes
    data = yaml.safe_load((ROOT / "config" / "dev.yaml").read_text())
    template_job = {
        "type": "fine_tuning",
        "base_model": "amazon.nova-micro-v1:0:128k",
        "serve": {"mode": "provisioned", "hours": 1},
    }
    data["jobs"] = {
        f"job-{i}": {**template_job, "training_data": f"s3://team-data/set-{i}/train.jsonl"} for i in range(40)
    }
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "dev.yaml").write_text(yaml.safe_dump(data))
    # When
    synth(tmp_path / "out", config_dir)
    # Then the Lambda count per environment is the same as for the 4-job example
    outdir, _ = assembly
    assert _functions(tmp_path / "out", "dev") == _functions(outdir, "dev") == 8
    forty = Template.from_json(json.loads((tmp_path / "out" / "Tailor-dev-Jobs.template.json").read_text()))
    assert len(forty.find_resources("Custom::TailorCustomizationJob")) == 40
    assert len(forty.find_resources("Custom::TailorServing")) == 41  # 40 serve blocks and the micro-eval throughput


def test_plan_files_are_written_next_to_the_templates(assembly):
    outdir, _ = assembly
    plan = json.loads((outdir / "plan-dev.json").read_text())
    assert [j["key"] for j in plan["jobs"]] == ["support-bot", "support-distilled", "docs-refresh", "math-grader"]
    assert plan["jobs"][0]["training_records"] == 24


@pytest.fixture(scope="module")
def sweep_assembly(tmp_path_factory, example_root):
    """examples/config/sweep.yaml synthesized as an environment of its own (cdk-nag runs; synth raises on a finding)."""
    config = tmp_path_factory.mktemp("sweep-config")
    (config / "sweep.yaml").write_text((example_root / "examples" / "config" / "sweep.yaml").read_text())
    outdir = tmp_path_factory.mktemp("sweep-out")
    synth(outdir, config, root=example_root)
    return outdir


def _sweep_template(outdir: Path) -> Template:
    return Template.from_json(json.loads((outdir / "Tailor-sweep-Jobs.template.json").read_text()))


def test_a_sweep_is_a_job_resource_per_trial_and_one_sweep_resource_served_by_the_same_provider(sweep_assembly):
    t = _sweep_template(sweep_assembly)
    trials, sweeps = t.find_resources("Custom::TailorCustomizationJob"), t.find_resources("Custom::TailorSweep")
    assert len(trials) == 6 and len(sweeps) == 1
    tokens = {r["Properties"]["ServiceToken"]["Fn::GetAtt"][0] for r in [*trials.values(), *sweeps.values()]}
    assert len(tokens) == 1  # one provider for the trials and the sweep: no Lambda per sweep
    assert len(t.find_resources("AWS::Lambda::Function")) == 8
    # each trial's logical id carries its settings hash, so adding a value adds resources and renames none
    assert all(re.fullmatch(r"JobsupportbotTrial[0-9a-f]{8}[0-9A-F]{8}", k) for k in trials)


def test_the_evaluation_role_trusts_only_this_accounts_evaluation_jobs(sweep_assembly):
    t = _sweep_template(sweep_assembly)
    roles = [
        r
        for r in t.find_resources("AWS::IAM::Role").values()
        if "evaluation" in json.dumps(r["Properties"].get("Description", ""))
    ]
    (role,) = roles
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "bedrock.amazonaws.com"}
    assert set(statement["Condition"]) == {"StringEquals", "ArnLike"}
    assert "evaluation-job/*" in json.dumps(statement["Condition"]["ArnLike"])


def test_the_completion_handler_may_start_queued_jobs_and_run_evaluations_but_never_with_a_wildcard_action(
    sweep_assembly,
):
    t = _sweep_template(sweep_assembly)
    policies = t.find_resources("AWS::IAM::Policy")
    completion = next(p for k, p in policies.items() if k.startswith("CompletionHandlerRoleDefaultPolicy"))
    actions = {
        a
        for s in completion["Properties"]["PolicyDocument"]["Statement"]
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    assert {
        "bedrock:CreateModelCustomizationJob",
        "bedrock:ListModelCustomizationJobs",
        "bedrock:CreateEvaluationJob",
        "bedrock:GetEvaluationJob",
        "bedrock:CreateProvisionedModelThroughput",
        "iam:PassRole",
    } <= actions
    assert not [a for a in actions if "*" in a]


def test_the_sweep_templates_pass_cfn_lint(sweep_assembly):
    templates = sorted(str(p) for p in sweep_assembly.glob("*.template.json"))
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--non-zero-exit-code", "informational", "--", *templates],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


def test_a_plain_job_keeps_its_logical_id_beside_the_queue_and_sweeps(assembly):
    # The ids of config/dev.yaml's job resources before sweeps and the queue existed: a new id would replace
    # (and so stop) every running job at the next deploy.
    jobs = template(assembly, "Tailor-dev-Jobs").find_resources("Custom::TailorCustomizationJob")
    assert set(jobs) == {
        "JobsupportbotD3D201BB",
        "Jobsupportdistilled399A192E",
        "Jobdocsrefresh185AC334",
        "Jobmathgrader1F3570C6",
    }
