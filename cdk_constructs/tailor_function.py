"""A Python Lambda function running Tailor code, with the project's defaults in one place."""

from __future__ import annotations

from aws_cdk import AssetHashType, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk_constructs import lambda_bundle

RUNTIME = lambda_.Runtime.PYTHON_3_14


def code_asset() -> lambda_.Code:
    """One asset for every function: the handlers (functions/), the pure domain package they adapt (tailor/),
    which synth-time code imports too so a rule exists once, and the pinned SDK (see lambda_bundle)."""
    directory, content_hash = lambda_bundle.build()
    return lambda_.Code.from_asset(str(directory), asset_hash=content_hash, asset_hash_type=AssetHashType.CUSTOM)


class TailorFunction(Construct):
    """Own role (no AWS managed policy), a log group with retention, and KMS-encrypted logs."""

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
            environment=environment or {},
            environment_encryption=key,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
        )
        # Lambda writes to the log group we created; scope the permission to it instead of a managed policy.
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[self.log_group.log_group_arn]
            )
        )
        key.grant_encrypt_decrypt(iam.ServicePrincipal(f"logs.{Stack.of(self).region}.amazonaws.com"))
