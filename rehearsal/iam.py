"""Each synthesized role's policies, evaluated by a real IAM evaluator (ministack's, not one of ours).

moto does not enforce IAM and ministack's own enforcement mis-models Bedrock resources, so Tailor's roles are
checked here instead: the policies come from the synthesized templates, intrinsic functions resolved to the
account and Region the rehearsal deploys to; `ministack.core.iam_evaluator` decides Allow or Deny for a request
context (action, resource ARN, resource and request tags). The infra tests use it for the isolation between
environments, the rehearsal for every AWS call each function really made.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ministack.core import iam_evaluator as evaluator  # type: ignore[import-untyped]  # ministack ships no type hints


@dataclass(frozen=True)
class Place:
    account: str
    region: str
    partition: str = "aws"


@dataclass
class Role:
    stack: str
    logical_id: str
    documents: list[dict[str, Any]] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.stack}/{self.logical_id}"

    def decide(
        self,
        action: str,
        resource: str,
        place: Place,
        *,
        resource_tags: Mapping[str, str] | None = None,
        request_tags: Mapping[str, str] | None = None,
        context: Mapping[str, str] | None = None,
    ) -> str:
        """ "Allow", "Deny" or "ImplicitDeny" for this role making that request."""
        service_context = {k.lower(): v for k, v in (context or {}).items()}
        service_context.update({f"aws:resourcetag/{k}".lower(): v for k, v in (resource_tags or {}).items()})
        ctx = evaluator.EvalContext(
            principal_arn=f"arn:{place.partition}:sts::{place.account}:assumed-role/{self.logical_id}/rehearsal",
            principal_type="AssumedRole",
            principal_account=place.account,
            action=action,
            resource_arn=resource,
            region=place.region,
            source_ip="127.0.0.1",
            secure_transport=True,
            request_tags=dict(request_tags or {}),
            tag_keys=list(request_tags or {}),
            service_context=service_context,
        )
        parsed = [evaluator.parse_policy_document(doc) for doc in self.documents]
        return str(evaluator.evaluate(ctx, parsed).decision)


Deployed = Mapping[str, Mapping[str, str]]  # stack -> logical id -> physical id, as CloudFormation reports them


def roles(
    template_dir: Path,
    place: Place,
    *,
    exports: Mapping[str, str] | None = None,
    deployed: Deployed | None = None,
) -> dict[str, Role]:
    """Every AWS::IAM::Role of every template in the directory, with the policies attached to it there.

    With the deployed stacks' exports and physical ids, references resolve to the real names and ARNs; without
    them (synth only), to stand-ins that are unique per resource.
    """
    found: dict[str, Role] = {}
    for path in sorted(template_dir.glob("*.template.json")):
        stack = path.name.removesuffix(".template.json")
        resources = json.loads(path.read_text())["Resources"]
        resolver = _Resolver(place, stack, resources, exports or {}, (deployed or {}).get(stack, {}))
        for logical_id, resource in resources.items():
            if resource["Type"] == "AWS::IAM::Role":
                role = found.setdefault(f"{stack}/{logical_id}", Role(stack, logical_id))
                for inline in resource.get("Properties", {}).get("Policies", []):
                    role.documents.append(resolver.resolve(inline["PolicyDocument"]))
        for resource in resources.values():
            if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                document = resolver.resolve(resource["Properties"]["PolicyDocument"])
                for ref in resource["Properties"].get("Roles", []):
                    if isinstance(ref, dict) and "Ref" in ref and f"{stack}/{ref['Ref']}" in found:
                        found[f"{stack}/{ref['Ref']}"].documents.append(document)
    return found


def role_of_function(template_dir: Path, stack: str, function_logical_id: str, place: Place) -> Role:
    """The role a synthesized Lambda function runs as."""
    resources = json.loads((template_dir / f"{stack}.template.json").read_text())["Resources"]
    role_ref = resources[function_logical_id]["Properties"]["Role"]
    logical = role_ref["Fn::GetAtt"][0] if isinstance(role_ref, dict) and "Fn::GetAtt" in role_ref else None
    if logical is None:
        raise ValueError(f"{stack}/{function_logical_id}: role {role_ref!r} is not a role of that template")
    return roles(template_dir, place)[f"{stack}/{logical}"]


class _Resolver:
    """CloudFormation intrinsics as the rehearsal's account and Region would resolve them (enough for ARNs)."""

    def __init__(
        self,
        place: Place,
        stack: str,
        resources: Mapping[str, Any],
        exports: Mapping[str, str],
        physical: Mapping[str, str],
    ) -> None:
        self.place, self.stack, self.resources, self.exports = place, stack, resources, exports
        self.physical = physical

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((fn, arg),) = value.items()
            if fn == "Ref":
                return self._ref(arg)
            if fn == "Fn::Join":
                separator, parts = arg
                return separator.join(str(self.resolve(p)) for p in parts)
            if fn == "Fn::GetAtt":
                return self._attribute(*arg) if isinstance(arg, list) else self._attribute(*arg.split(".", 1))
            if fn == "Fn::ImportValue":
                name = self.resolve(arg)
                return self.exports.get(name, f"import:{name}")
            if fn == "Fn::Select":
                index, items = arg
                return self.resolve(items)[int(index)]
            if fn == "Fn::Split":
                separator, text = arg
                return str(self.resolve(text)).split(separator)
        return {k: self.resolve(v) for k, v in value.items()}

    def _ref(self, name: str) -> str:
        pseudo = {
            "AWS::Partition": self.place.partition,
            "AWS::Region": self.place.region,
            "AWS::AccountId": self.place.account,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.stack,
        }
        if name in pseudo:
            return pseudo[name]
        if name == "AWS::StackId":  # the stack's ARN, known once deployed (deployed_of records it under this key)
            return self.physical.get(
                name,
                f"arn:{self.place.partition}:cloudformation:{self.place.region}:"
                f"{self.place.account}:stack/{self.stack}/stand-in",
            )
        return self.physical.get(name, f"{self.stack}-{name}")  # Ref is the physical id (a topic's is its ARN)

    def _attribute(self, logical_id: str, attribute: str) -> str:
        kind = self.resources.get(logical_id, {}).get("Type", "")
        physical = self.physical.get(logical_id, f"{self.stack}-{logical_id}")
        p, region, account = self.place.partition, self.place.region, self.place.account
        if attribute == "Arn":
            arns = {
                "AWS::IAM::Role": f"arn:{p}:iam::{account}:role/{physical}",
                "AWS::Lambda::Function": f"arn:{p}:lambda:{region}:{account}:function:{physical}",
                "AWS::KMS::Key": f"arn:{p}:kms:{region}:{account}:key/{physical}",
                "AWS::S3::Bucket": f"arn:{p}:s3:::{physical}",
                "AWS::SQS::Queue": f"arn:{p}:sqs:{region}:{account}:{physical.rsplit('/', 1)[-1]}",
                "AWS::SNS::Topic": physical,
                "AWS::Logs::LogGroup": f"arn:{p}:logs:{region}:{account}:log-group:{physical}:*",
                "AWS::Events::Rule": f"arn:{p}:events:{region}:{account}:rule/{physical.rsplit('/', 1)[-1]}",
                "AWS::StepFunctions::StateMachine": physical,
                "AWS::Scheduler::ScheduleGroup": f"arn:{p}:scheduler:{region}:{account}:schedule-group/{physical}",
            }
            if kind in arns:
                return arns[kind]
        if attribute == "QueueUrl" or (kind == "AWS::SQS::Queue" and attribute == "QueueName"):
            return physical
        service = kind.split("::")[1].lower() if kind.count("::") == 2 else "unknown"
        return f"arn:{p}:{service}:{region}:{account}:{physical}"


def decisions(role: Role, requests: Iterable[tuple[str, str]], place: Place, **tags: Any) -> dict[str, str]:
    """{action: decision} for (action, resource) pairs made with the same tags."""
    return {action: role.decide(action, resource, place, **tags) for action, resource in requests}
