"""The IAM check of a rehearsal: every AWS call each function made, against that function's synthesized role.

The calls come from the worker hook (rehearsal/call_hook.py: function, operation, parameters); for Bedrock
calls, the local Bedrock's own log adds the resource ARN and the resource's tags at the time of the call. Each
call becomes the IAM request(s) AWS authorizes for it (action, resource ARN, condition context) and is evaluated
by ministack's IAM evaluator against the role's policies from the templates in cdk.out (rehearsal/iam.py).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rehearsal.iam import Place, Role, roles
from tailor import naming
from tailor.config.catalog import load_catalog


@dataclass
class Findings:
    checked: int = 0
    denied: list[str] = field(default_factory=list)
    per_role: Counter[str] = field(default_factory=Counter)
    unattributed: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        head = f"{self.checked} IAM requests from {len(self.per_role)} functions checked, {len(self.denied)} denied"
        return head + (": " + "; ".join(self.denied[:5]) if self.denied else "")


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    resource_tags: dict[str, str] = field(default_factory=dict)
    request_tags: dict[str, str] = field(default_factory=dict)
    context: dict[str, str] = field(default_factory=dict)


def check_calls(
    call_log: Path,
    template_dir: Path,
    place: Place,
    functions: dict[str, tuple[str, str]],
    bedrock_calls: list[dict[str, Any]],
    *,
    exports: dict[str, str],
    deployed: dict[str, dict[str, str]],
) -> Findings:
    findings = Findings()
    if not call_log.is_file():
        findings.notes.append("IAM check: no calls were recorded (the worker hook did not load)")
        return findings
    by_key = roles(template_dir, place, exports=exports, deployed=deployed)
    catalog = load_catalog()
    for line in call_log.read_text().splitlines():
        call = json.loads(line)
        role = _role_for(functions, by_key, template_dir, call.get("function") or "")
        if role is None:
            findings.unattributed += 1
            continue
        for request in _requests(call, place, bedrock_calls, catalog):
            findings.checked += 1
            findings.per_role[role.logical_id] += 1
            decision = role.decide(
                request.action,
                request.resource,
                place,
                resource_tags=request.resource_tags,
                request_tags=request.request_tags,
                context=request.context,
            )
            if decision != "Allow":
                findings.denied.append(f"{role.logical_id}: {request.action} on {request.resource} ({decision})")
    findings.notes += [
        "IAM check: calls AWS makes on a function's behalf (KMS for encrypted S3/SNS/SSM, the Provider framework's "
        "Node functions) are not recorded; the Bedrock create calls are checked on the resources the Service "
        "Authorization Reference lists for them"
    ]
    if findings.unattributed:
        findings.notes.append(
            f"IAM check: {findings.unattributed} calls from functions outside Tailor's stacks skipped"
        )
    return findings


def deployed_of(aws: Any, environment: str) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """The environment's stacks as deployed: stack -> logical id -> physical id, and every export's value."""
    deployed: dict[str, dict[str, str]] = {}
    for part in ("Data", "Guard", "Jobs"):
        stack = naming.stack_name(environment, part)
        try:
            resources = aws.cloudformation.describe_stack_resources(StackName=stack)["StackResources"]
        except Exception:  # not deployed (yet, or any more): nothing to resolve there
            continue
        deployed[stack] = {r["LogicalResourceId"]: r.get("PhysicalResourceId", "") for r in resources}
        if resources:  # Ref AWS::StackId (the stack's ARN), as the bucket emptier's policy names it
            deployed[stack]["AWS::StackId"] = resources[0]["StackId"]
    exports = {
        e["Name"]: e["Value"]
        for page in aws.cloudformation.get_paginator("list_exports").paginate()
        for e in page.get("Exports", [])
    }
    return deployed, exports


def functions_of(deployed: dict[str, dict[str, str]], template_dir: Path) -> dict[str, tuple[str, str]]:
    """Physical function name -> (stack, logical id)."""
    found: dict[str, tuple[str, str]] = {}
    for stack, resources in deployed.items():
        template = json.loads((template_dir / f"{stack}.template.json").read_text())["Resources"]
        for logical, physical in resources.items():
            if template.get(logical, {}).get("Type") == "AWS::Lambda::Function":
                found[physical.rsplit(":", 1)[-1]] = (stack, logical)
    return found


def _role_for(
    functions: dict[str, tuple[str, str]], by_key: dict[str, Role], template_dir: Path, function: str
) -> Role | None:
    if function not in functions:
        return None
    stack, logical = functions[function]
    template = json.loads((template_dir / f"{stack}.template.json").read_text())
    role_ref = template["Resources"][logical]["Properties"]["Role"]
    logical_role = role_ref["Fn::GetAtt"][0]
    return by_key.get(f"{stack}/{logical_role}")


def _requests(call: dict[str, Any], place: Place, bedrock_log: list[dict[str, Any]], catalog: Any) -> list[Request]:
    service, operation, params = call["service"], call["operation"], call.get("params") or {}
    arn = f"arn:{place.partition}"
    if service == "ssm":
        name = str(params.get("Name") or params.get("Path") or "").split(":", 1)[0]
        return [Request(f"ssm:{operation}", f"{arn}:ssm:{place.region}:{place.account}:parameter{name}")]
    if service == "s3":
        bucket, key = params.get("Bucket", ""), params.get("Key", "")
        target = f"{arn}:s3:::{bucket}/{key}"
        if operation in ("HeadObject", "GetObject"):
            return [Request("s3:GetObject", target)]
        if operation in ("PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"):
            return [Request("s3:PutObject", target)]
        if operation in ("CopyObject", "UploadPartCopy"):
            source = params.get("CopySource")
            source_arn = (
                f"{arn}:s3:::{source['Bucket']}/{source['Key']}"
                if isinstance(source, dict)
                else f"{arn}:s3:::{str(source).lstrip('/')}"
            )
            return [Request("s3:PutObject", target), Request("s3:GetObject", source_arn)]
        if operation in ("ListObjects", "ListObjectsV2"):
            return [Request("s3:ListBucket", f"{arn}:s3:::{bucket}")]
        if operation == "ListObjectVersions":
            return [Request("s3:ListBucketVersions", f"{arn}:s3:::{bucket}")]
        if operation == "DeleteObjects":
            # S3 authorizes a multi-object delete per object: DeleteObjectVersion for a version, else DeleteObject
            objects = (params.get("Delete") or {}).get("Objects") or []
            return [
                Request(
                    "s3:DeleteObjectVersion" if o.get("VersionId") else "s3:DeleteObject",
                    f"{arn}:s3:::{bucket}/{o.get('Key', '')}",
                )
                for o in objects
            ]
        # Bucket-level operations (no Key) act on the bucket's ARN, object-level ones on bucket/key.
        return [Request(f"s3:{operation}", target if key else f"{arn}:s3:::{bucket}")]
    if service == "cloudformation":
        return [Request(f"cloudformation:{operation}", str(params.get("StackName", "*")))]
    if service == "sns":
        return [Request(f"sns:{operation}", str(params.get("TopicArn", "*")))]
    if service == "scheduler":
        group, schedule_name = params.get("GroupName", "default"), params.get("Name")
        schedule = f"{arn}:scheduler:{place.region}:{place.account}:schedule/{group}/{schedule_name}"
        out = [Request(f"scheduler:{operation}", schedule)]
        role = (params.get("Target") or {}).get("RoleArn")
        if role:
            out.append(Request("iam:PassRole", role, context={"iam:PassedToService": "scheduler.amazonaws.com"}))
        return out
    if service == "monitoring" or call.get("signing_name") == "monitoring":
        return [Request(f"cloudwatch:{operation}", "*", context={"cloudwatch:namespace": str(params.get("Namespace"))})]
    if service == "bedrock":
        return _bedrock_requests(operation, params, call, place, bedrock_log, catalog)
    return [Request(f"{service}:{operation}", "*")]


def _bedrock_requests(
    operation: str, params: dict[str, Any], call: dict[str, Any], place: Place, log: list[dict[str, Any]], catalog: Any
) -> list[Request]:
    seen = _matching(log, operation, params, call.get("time"))
    resource = str((seen or {}).get("resource_arn") or "*")
    tags = dict((seen or {}).get("resource_tags") or {})
    action = f"bedrock:{operation}"
    base = f"arn:{place.partition}:bedrock:{place.region}:{place.account}"
    if resource == "*":  # a name the service did not find: IAM authorizes the ARN it would have had
        named = _by_name(operation, params, base)
        resource = named or resource
    if operation.startswith("List") and operation != "ListTagsForResource":
        return [Request(action, "*")]
    if operation == "CreateModelCustomizationJob":
        model = catalog.models.get(params.get("baseModelIdentifier"))
        fm = model.foundation_model_id if model else params.get("baseModelIdentifier")
        request_tags = {t["key"]: t["value"] for t in params.get("customModelTags") or []}
        return [
            Request(
                action,
                f"arn:{place.partition}:bedrock:{place.region}::foundation-model/{fm}",
                request_tags=request_tags,
            ),
            Request(action, f"{base}:custom-model/new", request_tags=request_tags),
            Request(
                "iam:PassRole", str(params.get("roleArn")), context={"iam:PassedToService": "bedrock.amazonaws.com"}
            ),
        ]
    if operation in ("CreateProvisionedModelThroughput", "CreateCustomModelDeployment"):
        request_tags = {t["key"]: t["value"] for t in params.get("tags") or []}
        model = str(params.get("modelId") or params.get("modelArn"))
        return [Request(action, model, request_tags=request_tags)]
    if operation == "TagResource":
        request_tags = {t["key"]: t["value"] for t in params.get("tags") or []}
        return [Request(action, str(params.get("resourceARN")), resource_tags=tags, request_tags=request_tags)]
    return [Request(action, resource, resource_tags=tags)]


def _by_name(operation: str, params: dict[str, Any], base: str) -> str | None:
    kinds = {
        "jobIdentifier": "model-customization-job",
        "modelIdentifier": "custom-model",
        "provisionedModelId": "provisioned-model",
        "customModelDeploymentIdentifier": "custom-model-deployment",
    }
    for member, kind in kinds.items():
        value = params.get(member)
        if isinstance(value, str):
            return value if value.startswith("arn:") else f"{base}:{kind}/{value}"
    return None


def _matching(log: list[dict[str, Any]], operation: str, params: dict[str, Any], when: Any) -> dict[str, Any] | None:
    same = [c for c in log if c.get("operation") == operation and c.get("params") == params]
    return same[0] if same else None
