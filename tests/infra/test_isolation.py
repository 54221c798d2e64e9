"""Two environments in one account cannot touch each other: every role's policy evaluated by a real IAM evaluator.

The templates come from a synth of two fixture environments (`alpha`, `beta`) sharing an account; each role's
synthesized policies are evaluated by ministack's IAM evaluator against requests on resources tagged for its own
environment and for the other one.
"""

from __future__ import annotations

import json
import textwrap

import pytest

from rehearsal.iam import Place, roles
from tests.conftest import ROOT
from tests.infra.conftest import synth

ACCOUNT = "111122223333"
PLACE = Place(account=ACCOUNT, region="us-east-1")
MODEL = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:custom-model/amazon.nova-micro-v1:0:128k/abcdefghijkl"
PT = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:provisioned-model/abcdefghijkl"
DEPLOYMENT = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:custom-model-deployment/abcdefghijkl"
JOB = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:model-customization-job/amazon.nova-micro-v1:0:128k/abcdefghijkl"
EVALUATION = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:evaluation-job/abcdefghijkl"
DESTRUCTIVE = [
    ("bedrock:DeleteProvisionedModelThroughput", PT),
    ("bedrock:DeleteCustomModelDeployment", DEPLOYMENT),
    ("bedrock:UpdateProvisionedModelThroughput", PT),
    ("bedrock:UpdateCustomModelDeployment", DEPLOYMENT),
    ("bedrock:TagResource", PT),
    ("bedrock:TagResource", DEPLOYMENT),
    ("bedrock:TagResource", JOB),
    ("bedrock:TagResource", MODEL),
    ("bedrock:StopModelCustomizationJob", JOB),
    ("bedrock:DeleteCustomModel", MODEL),
    ("bedrock:StopEvaluationJob", EVALUATION),
]


def _config(name: str, *, unmanaged: str) -> str:
    return textwrap.dedent(f"""\
        environment: {name}
        account: "{ACCOUNT}"
        region: us-east-1
        policy: {{max_throughput_hours: 8, unmanaged_throughput: {unmanaged}}}
        jobs:
          bot:
            type: fine_tuning
            base_model: amazon.nova-micro-v1:0:128k
            training_data: examples/data/support/train.jsonl
            serve: {{mode: provisioned, model_units: 1, hours: 2}}
          tuned:
            type: fine_tuning
            base_model: amazon.nova-micro-v1:0:128k
            training_data: examples/data/support/train.jsonl
            validation_data: examples/data/support/validation.jsonl
            sweep:
              epochCount: [2, 3]
              evaluate:
                dataset: examples/data/support/evaluation.jsonl
                task_type: QuestionAndAnswer
                metrics: [Builtin.Accuracy]
                top: 1
        throughputs:
          eval: {{model: {MODEL}, model_units: 1, hours: 1}}
        """)


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory):
    config = tmp_path_factory.mktemp("config")
    (config / "alpha.yaml").write_text(_config("alpha", unmanaged="delete"))
    (config / "beta.yaml").write_text(_config("beta", unmanaged="report"))
    out = tmp_path_factory.mktemp("cdk.out")
    synth(out, config_dir=config)
    return out


def _tags(environment: str) -> dict[str, str]:
    return {"environment": environment, "managed-by": "tailor"}


def _roles_of(synthesized, environment: str):
    return {k: r for k, r in roles(synthesized, PLACE).items() if k.startswith(f"Tailor-{environment}-")}


def test_no_role_of_one_environment_may_delete_update_stop_or_retag_the_others_resources(synthesized):
    # Given every role the alpha environment synthesizes
    alpha = _roles_of(synthesized, "alpha")
    assert len(alpha) >= 8
    # When each asks to act on beta's resources (tagged environment=beta), changing only Tailor's runtime tags
    allowed = [
        (key, action, resource)
        for key, role in alpha.items()
        for action, resource in DESTRUCTIVE
        if role.decide(action, resource, PLACE, resource_tags=_tags("beta"), request_tags={"expires-at": "x"})
        == "Allow"
    ]
    # Then IAM allows none of it
    assert allowed == []


def test_each_environment_can_still_act_on_its_own_resources(synthesized):
    # Given alpha's roles, and the requests its handlers make on alpha's own resources
    alpha = _roles_of(synthesized, "alpha")
    own = {"resource_tags": _tags("alpha"), "request_tags": {"expires-at": "2026-12-01T10:00:00Z"}}

    def allowed(action: str, resource: str) -> list[str]:
        return sorted(k.split("/")[1] for k, r in alpha.items() if r.decide(action, resource, PLACE, **own) == "Allow")

    # Then teardown, the serving provider and job completion can delete and re-tag what alpha made
    deleters = allowed("bedrock:DeleteProvisionedModelThroughput", PT)
    assert any(k.startswith("TeardownHandlerRole") for k in deleters)
    assert any(k.startswith("ServingProviderOnEvent") for k in deleters)
    assert any(k.startswith("ServingProviderIsComplete") for k in deleters)
    assert any(k.startswith("TeardownHandlerRole") for k in allowed("bedrock:TagResource", PT))
    # and the job provider can stop alpha's jobs and delete its models
    assert any(k.startswith("JobProviderHandlerRole") for k in allowed("bedrock:StopModelCustomizationJob", JOB))
    assert any(k.startswith("JobProviderHandlerRole") for k in allowed("bedrock:DeleteCustomModel", MODEL))
    # and a sweep's evaluations are stopped by the sweep resource (deleted) and by the completion handler
    stoppers = allowed("bedrock:StopEvaluationJob", EVALUATION)
    assert any(k.startswith("JobProviderHandlerRole") for k in stoppers)
    assert any(k.startswith("CompletionHandlerRole") for k in stoppers)


def test_no_role_may_change_the_tags_that_say_who_owns_a_resource(synthesized):
    # Given every role of both environments
    every = roles(synthesized, PLACE)
    # When one tries to rewrite `environment` or `managed-by` on its own environment's throughput
    relabel = [
        key
        for key, role in every.items()
        for tags in ({"environment": "beta"}, {"managed-by": "someone"})
        if role.decide("bedrock:TagResource", PT, PLACE, resource_tags=_tags(key.split("-")[1]), request_tags=tags)
        == "Allow"
    ]
    # Then none may
    assert relabel == []


def test_only_unmanaged_throughput_delete_may_delete_what_tailor_did_not_make_and_never_another_tailors(synthesized):
    # Given alpha (unmanaged_throughput: delete) and beta (report)
    alpha, beta = _roles_of(synthesized, "alpha"), _roles_of(synthesized, "beta")

    def teardown(group):
        (role,) = [r for k, r in group.items() if "TeardownHandlerRole" in k]
        return role

    untagged = {"resource_tags": {}}
    # Then alpha's teardown may delete an untagged PT, beta's may not
    assert teardown(alpha).decide("bedrock:DeleteProvisionedModelThroughput", PT, PLACE, **untagged) == "Allow"
    assert teardown(beta).decide("bedrock:DeleteProvisionedModelThroughput", PT, PLACE, **untagged) != "Allow"
    # and neither may delete a PT another Tailor environment made
    for role in (teardown(alpha), teardown(beta)):
        tags = {"resource_tags": _tags("gamma")}
        assert role.decide("bedrock:DeleteProvisionedModelThroughput", PT, PLACE, **tags) != "Allow"


def test_every_destructive_or_tagging_statement_carries_a_tag_condition(synthesized):
    # Given every policy statement of every template
    unconditioned = []
    for template in sorted(synthesized.glob("*.template.json")):
        for logical_id, resource in json.loads(template.read_text())["Resources"].items():
            if resource["Type"] != "AWS::IAM::Policy":
                continue
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                risky = [a for a in actions if a.split(":")[1].startswith(("Delete", "Update", "Tag", "Stop"))]
                unguarded = statement["Effect"] == "Allow" and "Condition" not in statement
                if unguarded and a_bedrock(risky) and not only_models(statement):
                    unconditioned.append((template.name, logical_id, risky))
    # Then none grants Delete/Update/Tag/Stop on Bedrock resources without a condition, but for the model a
    # repoint points to: Update*'s other required resource, the throughput or deployment, carries the condition
    assert unconditioned == []


def a_bedrock(actions: list[str]) -> bool:
    return any(a.startswith("bedrock:") for a in actions)


def only_models(statement: dict) -> bool:
    resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    return all(a.startswith("bedrock:Update") for a in actions) and all(
        ":custom-model/" in json.dumps(r) for r in resources
    )


def test_the_fixture_datasets_exist():
    assert (ROOT / "examples" / "data" / "support" / "train.jsonl").is_file()
