"""Bedrock policy statements that keep each environment to its own resources (used by every Tailor role).

Dev and prod may share an account: without conditions, dev's functions could delete prod's throughput, stop
prod's jobs or rewrite the tags the handlers' ownership checks read. So every destructive or tagging action is
conditioned on the resource's `environment` and `managed-by` tags (which Tailor sets in every create call), and
tag changes on existing resources are limited to the keys the handlers write at run time.

Condition keys per action are from the Service Authorization Reference for Amazon Bedrock (as mirrored by
iann0036/iam-dataset, 2026-11): aws:ResourceTag on Get/Update/Delete of provisioned-model and
custom-model-deployment, Stop of model-customization-job, Delete of custom-model; aws:RequestTag and
aws:TagKeys on TagResource. UNCONFIRMED against a live account: whether Bedrock also authorizes the tags of a
create call as bedrock:TagResource (the create-time statement below covers it if it does).
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_iam as iam

from tailor import naming
from tailor.serving.model import RUNTIME_TAG_KEYS, TAG_ENVIRONMENT, TAG_MANAGED_BY


def owned(environment: str) -> dict[str, dict[str, str]]:
    """The resource carries this environment's tags: Tailor made it for this environment."""
    return {
        "StringEquals": {
            f"aws:ResourceTag/{TAG_ENVIRONMENT}": environment,
            f"aws:ResourceTag/{TAG_MANAGED_BY}": naming.PROJECT,
        }
    }


def act_on_own(sid: str, environment: str, actions: Sequence[str], resources: Sequence[str]) -> iam.PolicyStatement:
    """Delete, update or stop: only what carries this environment's tags."""
    return iam.PolicyStatement(sid=sid, actions=list(actions), resources=list(resources), conditions=owned(environment))


def retag_own(sid: str, environment: str, resources: Sequence[str]) -> iam.PolicyStatement:
    """Tag changes on this environment's resources, and only of the keys the handlers write at run time
    (expires-at, the warning marker): never `environment` or `managed-by`, so ownership cannot be moved."""
    return iam.PolicyStatement(
        sid=sid,
        actions=["bedrock:TagResource"],
        resources=list(resources),
        conditions={**owned(environment), "ForAllValues:StringEquals": {"aws:TagKeys": list(RUNTIME_TAG_KEYS)}},
    )


def tag_new(sid: str, environment: str, resources: Sequence[str]) -> iam.PolicyStatement:
    """The tags of a create call: they must name this environment, and the resource must carry no Tailor tag
    yet, so this cannot relabel another environment's resource as this one's."""
    return iam.PolicyStatement(
        sid=sid,
        actions=["bedrock:TagResource"],
        resources=list(resources),
        conditions={
            "StringEquals": {
                f"aws:RequestTag/{TAG_ENVIRONMENT}": environment,
                f"aws:RequestTag/{TAG_MANAGED_BY}": naming.PROJECT,
            },
            "Null": {f"aws:ResourceTag/{TAG_MANAGED_BY}": "true"},
        },
    )


def delete_unmanaged(sid: str, resources: Sequence[str]) -> iam.PolicyStatement:
    """`unmanaged_throughput: delete`: what carries no managed-by tag at all, so never another Tailor
    environment's resource."""
    return iam.PolicyStatement(
        sid=sid,
        actions=["bedrock:DeleteProvisionedModelThroughput", "bedrock:DeleteCustomModelDeployment"],
        resources=list(resources),
        conditions={"Null": {f"aws:ResourceTag/{TAG_MANAGED_BY}": "true"}},
    )
