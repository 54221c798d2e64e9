"""Narrow cdk-nag acknowledgments: one rule, one finding, on the construct that causes it, with its reason."""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct

PACK = "AwsSolutions"


def acknowledge(scope: IConstruct, rule: str, reason: str, *, finding: str | None = None) -> None:
    rule_id = f"{PACK}::{PACK}-{rule}" + (f"[{finding}]" if finding else "")
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def acknowledge_wildcard_resource(scope: IConstruct, resource: str, reason: str) -> None:
    """AwsSolutions-IAM5 for one resource ARN pattern (a token is rendered the way cdk-nag prints it)."""
    acknowledge(scope, "IAM5", reason, finding=f"Resource::{nag_text(Stack.of(scope).resolve(resource))}")


def nag_text(value: Any) -> str:
    """CloudFormation JSON as cdk-nag renders it in finding ids: Ref -> <X>, GetAtt -> <L.A>, imports by name."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Ref":
            return f"<{arg}>"
        if fn == "Fn::GetAtt":
            return f"<{arg[0]}.{arg[1]}>"
        if fn == "Fn::ImportValue":
            return nag_text(arg)
        if fn == "Fn::Join":
            separator, parts = arg
            return str(separator).join(nag_text(p) for p in parts)
    raise ValueError(f"cannot render {value!r} as cdk-nag text")
