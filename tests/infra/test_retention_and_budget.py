"""The key outlives whatever it encrypts, and the budget watches this environment's spend, not the account's."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import aws_cdk as cdk
import pytest

from app import build_app
from rehearsal.iam import Place, roles
from tailor.errors import UserError
from tests.conftest import ROOT
from tests.infra.conftest import synth

ACCOUNT = "111122223333"


def _config(name: str, retention: str, *, encrypt: bool = True, policy: str = "{}") -> str:
    return textwrap.dedent(f"""\
        environment: {name}
        account: "{ACCOUNT}"
        region: us-east-1
        retention: {retention}
        encrypt_custom_models: {str(encrypt).lower()}
        policy: {policy}
        jobs:
          bot:
            type: fine_tuning
            base_model: amazon.nova-micro-v1:0:128k
            training_data: examples/data/support/train.jsonl
        """)


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    config = tmp_path_factory.mktemp("config")
    (config / "keepmodels.yaml").write_text(_config("keepmodels", "{data: destroy, custom_models: retain}"))
    (config / "dropall.yaml").write_text(_config("dropall", "{data: destroy, custom_models: delete}"))
    (config / "plainmodels.yaml").write_text(
        _config("plainmodels", "{data: destroy, custom_models: retain}", encrypt=False)
    )
    (config / "teambudget.yaml").write_text(
        _config("teambudget", "{data: retain}", policy="{monthly_budget_usd: 500, deny_create_over_budget: true}")
    )
    (config / "acctbudget.yaml").write_text(
        _config("acctbudget", "{data: retain}", policy="{monthly_budget_usd: 500, budget_scope: account}")
    )
    directory = tmp_path_factory.mktemp("cdk.out")
    synth(directory, config_dir=config)
    return directory


def _resources(out, stack: str, kind: str) -> list[dict]:
    template = json.loads((out / f"{stack}.template.json").read_text())
    return [r for r in template["Resources"].values() if r["Type"] == kind]


@pytest.mark.parametrize(
    ("environment", "policy"),
    [("keepmodels", "Retain"), ("dropall", "Delete"), ("plainmodels", "Delete")],
)
def test_the_key_is_kept_while_a_retained_custom_model_is_encrypted_with_it(out, environment, policy):
    # Given data that is destroyed with the stack, and custom models retained (encrypted or not) or deleted
    (key,) = _resources(out, f"Tailor-{environment}-Data", "AWS::KMS::Key")
    # Then the key stays exactly when a retained model needs it to stay readable
    assert key["DeletionPolicy"] == policy and key["UpdateReplacePolicy"] == policy


def test_a_budget_counts_only_the_spend_tagged_with_its_environment_by_default(out):
    (budget,) = _resources(out, "Tailor-teambudget-Guard", "AWS::Budgets::Budget")
    filters = budget["Properties"]["Budget"]["CostFilters"]
    assert filters == {"Service": ["Amazon Bedrock"], "TagKeyValue": ["user:environment$teambudget"]}
    assert len(_resources(out, "Tailor-teambudget-Jobs", "AWS::Budgets::BudgetsAction")) == 1


def test_an_account_wide_budget_says_so_and_carries_no_tag_filter(out):
    (budget,) = _resources(out, "Tailor-acctbudget-Guard", "AWS::Budgets::Budget")
    assert budget["Properties"]["Budget"]["CostFilters"] == {"Service": ["Amazon Bedrock"]}


def test_an_account_wide_budget_cannot_deny_this_environments_creates(tmp_path):
    # Given an account-wide budget whose 100 % would attach the deny policy
    config = tmp_path / "config"
    config.mkdir()
    (config / "shared.yaml").write_text(
        _config(
            "shared",
            "{data: retain}",
            policy="{monthly_budget_usd: 500, budget_scope: account, deny_create_over_budget: true}",
        )
    )
    # Then synth refuses it with the reason, before any stack is built
    with pytest.raises(UserError, match="another team's inference"):
        build_app(cdk.App(outdir=str(tmp_path / "out")), root=ROOT, config_dir=config)


def _template(out, stack: str) -> dict:
    return json.loads((out / f"{stack}.template.json").read_text())


def test_data_destroyed_with_the_stack_is_emptied_first_bucket_by_bucket(out):
    resources = _template(out, "Tailor-dropall-Data")["Resources"]
    buckets = {name: r for name, r in resources.items() if r["Type"] == "AWS::S3::Bucket"}
    emptiers = {name: r for name, r in resources.items() if r["Type"] == "Custom::TailorBucketEmptier"}
    # one emptier per bucket, naming it, for buckets that go with the stack
    assert sorted(e["Properties"]["BucketName"]["Ref"] for e in emptiers.values()) == sorted(buckets)
    assert all(bucket["DeletionPolicy"] == "Delete" for bucket in buckets.values())
    # each bucket policy goes before its emptier runs: no access log lands in a bucket being emptied
    for policy in (r for r in resources.values() if r["Type"] == "AWS::S3::BucketPolicy"):
        bucket = policy["Properties"]["Bucket"]["Ref"]
        (emptier,) = [n for n, e in emptiers.items() if e["Properties"]["BucketName"]["Ref"] == bucket]
        assert emptier in policy["DependsOn"]


def test_the_emptier_may_only_read_its_own_stack_and_list_and_delete_versions_of_its_own_buckets(out):
    resources = _template(out, "Tailor-dropall-Data")["Resources"]
    (role,) = [n for n, r in resources.items() if r["Type"] == "AWS::IAM::Role" and "EmptierHandlerRole" in n]
    statements = [
        s
        for r in resources.values()
        if r["Type"] == "AWS::IAM::Policy" and {"Ref": role} in r["Properties"]["Roles"]
        for s in r["Properties"]["PolicyDocument"]["Statement"]
        if str(s["Action"]).startswith(("s3:", "['s3:", "cloudformation:"))
    ]
    (describe,) = [s for s in statements if s["Action"] == "cloudformation:DescribeStacks"]
    assert describe["Resource"] == {"Ref": "AWS::StackId"}  # whether its own stack is being deleted
    statements.remove(describe)
    actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert actions == {"s3:ListBucketVersions", "s3:DeleteObject", "s3:DeleteObjectVersion"}
    buckets = {n for n, r in resources.items() if r["Type"] == "AWS::S3::Bucket"}
    for statement in statements:
        named = json.dumps(statement["Resource"])
        assert any(b in named for b in buckets), statement


def test_retained_data_has_no_emptier(out):
    resources = _template(out, "Tailor-teambudget-Data")["Resources"]
    assert not [r for r in resources.values() if r["Type"] == "Custom::TailorBucketEmptier"]
    assert all(r["DeletionPolicy"] == "Retain" for r in resources.values() if r["Type"] == "AWS::S3::Bucket")


def test_the_emptiers_describe_stacks_is_allowed_on_its_own_stack_id_only(out):
    # through IAM's evaluator, with Ref AWS::StackId resolved as the deployed stack reports it
    stack = "Tailor-dropall-Data"
    own = f"arn:aws:cloudformation:us-east-1:{ACCOUNT}:stack/{stack}/c05c1f07-c325-47bf-9343-f257c8e4c3fc"
    place = Place(account=ACCOUNT, region="us-east-1")
    every = roles(Path(out), place, deployed={stack: {"AWS::StackId": own}})
    (role,) = [r for key, r in every.items() if key.startswith(f"{stack}/EmptierHandlerRole")]
    assert role.decide("cloudformation:DescribeStacks", own, place) == "Allow"
    other = f"arn:aws:cloudformation:us-east-1:{ACCOUNT}:stack/Tailor-dropall-Jobs/0d1e2f3a"
    assert role.decide("cloudformation:DescribeStacks", other, place) == "ImplicitDeny"
    recreated = own.rsplit("/", 1)[0] + "/another-id"  # a stack of the same name deployed again
    assert role.decide("cloudformation:DescribeStacks", recreated, place) == "ImplicitDeny"
