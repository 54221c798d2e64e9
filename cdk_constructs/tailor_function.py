"""A Python Lambda function running Tailor code, with the project's defaults in one place.

Observability lives here too: active X-Ray tracing and the Powertools settings for every Tailor function, and
`ActiveTracing`, the aspect that turns tracing on for the functions and state machine the CDK Provider framework
creates (it exposes no option for either), so a custom resource's trace runs from CloudFormation's request
through the framework into Tailor's handler.
"""

from __future__ import annotations

import jsii
from aws_cdk import AssetHashType, Duration, IAspect, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct, IConstruct

from cdk_constructs import lambda_bundle
from cdk_constructs.nag import acknowledge
from tailor import observability

RUNTIME = lambda_.Runtime.PYTHON_3_14
LOG_LEVEL = "INFO"
# X-Ray's write actions take no resource ARN (Service Authorization Reference, AWS X-Ray: no resource types).
XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
# Step Functions' X-Ray tracing also reads the sampling rules (Step Functions developer guide, "X-Ray and Step
# Functions", the policy it shows for a state machine's role).
XRAY_SAMPLING_ACTIONS = ("xray:GetSamplingRules", "xray:GetSamplingTargets")
XRAY_REASON = (
    "Active X-Ray tracing: X-Ray's PutTraceSegments/PutTelemetryRecords (and GetSamplingRules/GetSamplingTargets) "
    "take no resource ARN."
)


def service_name(handler: str) -> str:
    """The Powertools service of a handler ("functions.serving_resource.on_event" -> "serving-resource"): the
    `service` key of its log lines and the name of its trace."""
    return handler.split(".")[1].replace("_", "-")


def code_asset() -> lambda_.Code:
    """One asset for every function: the handlers (functions/), the pure domain package they adapt (tailor/),
    which synth-time code imports too so a rule exists once, and the pinned SDK (see lambda_bundle)."""
    directory, content_hash = lambda_bundle.build()
    return lambda_.Code.from_asset(str(directory), asset_hash=content_hash, asset_hash_type=AssetHashType.CUSTOM)


class TailorFunction(Construct):
    """Own role (no AWS managed policy), a log group with retention, KMS-encrypted logs, JSON log lines,
    active tracing, and Powertools configured (service name, metrics namespace, log level)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        handler: str,
        description: str,
        key: kms.IKey,
        timeout: Duration,
        environment: dict[str, str] | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.THREE_MONTHS,
        memory_size: int = 512,
    ) -> None:
        super().__init__(scope, id_)
        self.log_group = logs.LogGroup(
            self, "LogGroup", retention=log_retention, encryption_key=key, removal_policy=RemovalPolicy.DESTROY
        )
        self.role = iam.Role(
            self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"), description=f"Tailor: {description}"
        )
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler=handler,
            code=code_asset(),
            description=description,
            timeout=timeout,
            memory_size=memory_size,
            role=self.role,
            environment={
                "POWERTOOLS_SERVICE_NAME": service_name(handler),
                "POWERTOOLS_METRICS_NAMESPACE": observability.NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": LOG_LEVEL,
                **(environment or {}),
            },
            environment_encryption=key,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            tracing=lambda_.Tracing.ACTIVE,
        )
        acknowledge(self.role, "IAM5", XRAY_REASON, finding="Resource::*")
        # Lambda writes to the log group we created; scope the permission to it instead of a managed policy.
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[self.log_group.log_group_arn]
            )
        )
        key.grant_encrypt_decrypt(iam.ServicePrincipal(f"logs.{Stack.of(self).region}.amazonaws.com"))


@jsii.implements(IAspect)
class ActiveTracing:
    """Active X-Ray tracing on every Lambda function and state machine the CDK Provider framework makes, with the
    permissions it needs on their roles (TailorFunction traces itself)."""

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, lambda_.Function) and not isinstance(node.node.scope, TailorFunction):
            resource = node.node.default_child
            if isinstance(resource, lambda_.CfnFunction) and resource.tracing_config is None:
                resource.tracing_config = lambda_.CfnFunction.TracingConfigProperty(mode="Active")
                self._grant(node.role, XRAY_ACTIONS)
        elif isinstance(node, sfn.CfnStateMachine) and node.tracing_configuration is None:
            node.tracing_configuration = sfn.CfnStateMachine.TracingConfigurationProperty(enabled=True)
            role = node.node.scope.node.try_find_child("Role") if node.node.scope is not None else None
            self._grant(role, XRAY_ACTIONS + XRAY_SAMPLING_ACTIONS)

    @staticmethod
    def _grant(role: object, actions: tuple[str, ...]) -> None:
        if not isinstance(role, iam.Role):
            raise TypeError(f"cannot grant X-Ray to {role!r}: tracing needs the function's or machine's own role")
        role.add_to_policy(iam.PolicyStatement(sid="Tracing", actions=list(actions), resources=["*"]))
        acknowledge(role, "IAM5", XRAY_REASON, finding="Resource::*")
