"""The one custom-resource provider every Custom::TailorServing in a stack shares.

onEvent starts or ends serving; isComplete polls until a throughput is InService (bounded, then reported as
pending) or, on Delete, until it is really gone: a stack never hears "deleted" while something is still billed.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import custom_resources as cr
from constructs import Construct

from cdk_constructs.nag import acknowledge_wildcard_resource
from cdk_constructs.serving_grants import ServingGrants
from cdk_constructs.tailor_function import TailorFunction
from tailor.serving.schedules import Wiring

QUERY_INTERVAL = Duration.seconds(30)
TOTAL_TIMEOUT = Duration.minutes(30)  # a multiple of the interval, below the resource's service timeout
SERVICE_TIMEOUT = Duration.minutes(40)  # below CloudFormation's one-hour ceiling for custom resources


class ServingProvider(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        environment: str,
        key: kms.IKey,
        grants: ServingGrants,
        wiring: Wiring,
    ) -> None:
        super().__init__(scope, id_)
        self.on_event = TailorFunction(
            self,
            "OnEvent",
            handler="functions.serving_resource.on_event",
            key=key,
            timeout=Duration.minutes(5),
            description=f"Tailor {environment}: starts, updates and ends serving",
            environment=wiring.to_environment(),
        )
        self.is_complete = TailorFunction(
            self,
            "IsComplete",
            handler="functions.serving_resource.is_complete",
            key=key,
            timeout=Duration.minutes(5),
            description=f"Tailor {environment}: waits for serving to start or to be gone",
            environment=wiring.to_environment(),
        )
        grants.grant_start(self.on_event.role, self, update=True)
        grants.grant_finish(self.is_complete.role, self)
        framework_logs = logs.LogGroup(
            self, "FrameworkLogs", retention=logs.RetentionDays.THREE_MONTHS, encryption_key=key
        )
        waiter_logs = logs.LogGroup(self, "WaiterLogs", retention=logs.RetentionDays.THREE_MONTHS, encryption_key=key)
        # Our own roles: the framework's defaults carry the AWSLambdaBasicExecutionRole managed policy.
        self.framework_roles = []
        for name in ("FrameworkOnEventRole", "FrameworkCompleteRole"):
            role = iam.Role(
                self,
                name,
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                description=f"Tailor {environment}: serving provider framework",
            )
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[framework_logs.log_group_arn]
                )
            )
            self.framework_roles.append(role)
        self.provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=self.on_event.function,
            is_complete_handler=self.is_complete.function,
            query_interval=QUERY_INTERVAL,
            total_timeout=TOTAL_TIMEOUT,
            log_group=framework_logs,
            framework_on_event_role=self.framework_roles[0],
            framework_complete_and_timeout_role=self.framework_roles[1],
            provider_function_env_encryption=key,
            disable_waiter_state_machine_logging=False,
            # Every event, but without execution data: that would put the presigned CloudFormation
            # response URL in the logs.
            waiter_state_machine_log_options=cr.LogOptions(
                destination=waiter_logs, level=sfn.LogLevel.ALL, include_execution_data=False
            ),
        )
        self.service_token = self.provider.service_token
        invoke_reason = (
            "Added by the CDK Provider framework's grantInvoke: the handler function and its versions, nothing else."
        )
        for role, function in (
            (self.framework_roles[0], self.on_event.function),
            (self.framework_roles[0], self.is_complete.function),
            (self.framework_roles[1], self.is_complete.function),
            (self.framework_roles[1], self.on_event.function),
        ):
            acknowledge_wildcard_resource(role, f"{function.function_arn}:*", invoke_reason)
        waiter = self.provider.node.find_child("waiter-state-machine")
        waiter_role = waiter.node.find_child("Role")
        for child in ("framework-isComplete", "framework-onTimeout"):
            framework_function = self.provider.node.find_child(child)
            assert isinstance(framework_function, lambda_.Function)  # the Provider framework's own functions
            acknowledge_wildcard_resource(waiter_role, f"{framework_function.function_arn}:*", invoke_reason)
        acknowledge_wildcard_resource(
            waiter_role,
            "*",
            (
                "CloudWatch Logs log-delivery actions for the waiter's logging take no resource "
                "ARN (added by the Provider framework)."
            ),
        )
