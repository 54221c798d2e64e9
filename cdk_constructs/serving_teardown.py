"""The teardown function: target of every one-time expiry schedule and of the recurring reconciler sweep.

Its role can delete Provisioned Throughput and custom-model deployments and nothing else: it creates nothing,
so a bug here can end serving early at worst, never buy any.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from cdk_constructs import bedrock_policies
from cdk_constructs.dead_letter_queue import DeadLetterQueue
from cdk_constructs.nag import acknowledge_wildcard_resource
from cdk_constructs.tailor_function import TailorFunction
from tailor import naming, observability
from tailor.config.policy import Policy
from tailor.serving.reconciler import SweepPolicy
from tailor.serving.schedules import SWEEP_POLICY_VARIABLE, Wiring


class ServingTeardown(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        environment: str,
        policy: Policy,
        reconcile_every: Duration,
        key: kms.IKey,
        topic: sns.ITopic,
        dead_letter_queue: DeadLetterQueue,
        budget_name: str | None = None,
    ) -> None:
        super().__init__(scope, id_)
        stack = Stack.of(self)
        sweep = SweepPolicy(
            policy.warn_before_minutes,
            policy.unmanaged_throughput,
            policy.dry_run,
            policy.max_throughput_hours,
            int(reconcile_every.to_minutes()),
            policy.idle_minutes,
        )
        self.handler = TailorFunction(
            self,
            "Handler",
            handler="functions.teardown.handler",
            key=key,
            timeout=Duration.minutes(10),
            description=f"Tailor {environment}: deletes expired serving and enforces the cleanup policy",
            environment={
                # Only what removing schedules needs: this function creates none.
                **Wiring(environment, topic.topic_arn, naming.schedule_group(environment), "", "", "").to_environment(),
                SWEEP_POLICY_VARIABLE: sweep.to_json(),
                # The reconciler reports the budget's spend as metrics for the dashboard (functions/teardown.py).
                **(
                    {observability.BUDGET_VARIABLE: budget_name, observability.ACCOUNT_VARIABLE: stack.account}
                    if budget_name
                    else {}
                ),
            },
        )
        self.function, self.role = self.handler.function, self.handler.role
        throughputs = stack.format_arn(service="bedrock", resource="provisioned-model", resource_name="*")
        deployments = stack.format_arn(service="bedrock", resource="custom-model-deployment", resource_name="*")
        serving_records = stack.format_arn(
            service="ssm", resource="parameter", resource_name=f"{naming.PROJECT}/{environment}/serving/*"
        )
        reconciler_records = stack.format_arn(
            service="ssm", resource="parameter", resource_name=f"{naming.PROJECT}/{environment}/reconciler/*"
        )
        heartbeats = stack.format_arn(
            service="ssm", resource="parameter", resource_name=f"{naming.PROJECT}/*/reconciler/heartbeat"
        )
        statements = [
            iam.PolicyStatement(
                sid="ReadServing",
                actions=[
                    "bedrock:GetProvisionedModelThroughput",
                    "bedrock:GetCustomModelDeployment",
                    "bedrock:ListTagsForResource",
                ],
                resources=[throughputs, deployments],
            ),
            bedrock_policies.retag_own("RetagOwnServing", environment, [throughputs, deployments]),
            bedrock_policies.act_on_own(
                "DeleteOwnServing",
                environment,
                ["bedrock:DeleteProvisionedModelThroughput", "bedrock:DeleteCustomModelDeployment"],
                [throughputs, deployments],
            ),
            # UNCONFIRMED: the List operations are not documented with resource-level permissions.
            iam.PolicyStatement(
                sid="ListServing",
                actions=["bedrock:ListProvisionedModelThroughputs", "bedrock:ListCustomModelDeployments"],
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="Records",
                actions=["ssm:GetParameter", "ssm:PutParameter"],
                resources=[serving_records, reconciler_records],
            ),
            iam.PolicyStatement(
                sid="FindRecords",
                actions=["ssm:GetParametersByPath"],
                resources=[
                    stack.format_arn(
                        service="ssm", resource="parameter", resource_name=f"{naming.PROJECT}/{environment}/serving"
                    )
                ],
            ),
            # Read-only, every environment's: serving of an environment whose reconciler is gone is reported.
            iam.PolicyStatement(sid="ReadHeartbeats", actions=["ssm:GetParameter"], resources=[heartbeats]),
        ]
        if budget_name:
            # Service Authorization Reference, AWS Budgets: DescribeBudget needs budgets:ViewBudget on the budget.
            statements.append(
                iam.PolicyStatement(
                    sid="ReadBudget",
                    actions=["budgets:ViewBudget"],
                    resources=[
                        stack.format_arn(service="budgets", region="", resource="budget", resource_name=budget_name)
                    ],
                )
            )
        if policy.idle_minutes:  # the idle guard reads Bedrock's invocation metrics (no resource-level permission)
            statements.append(
                iam.PolicyStatement(sid="ReadInvocations", actions=["cloudwatch:GetMetricStatistics"], resources=["*"])
            )
        if policy.unmanaged_throughput == "delete":
            statements.append(bedrock_policies.delete_unmanaged("DeleteUnmanagedServing", [throughputs, deployments]))
        for statement in statements:
            self.role.add_to_policy(statement)
        for resource, reason in (
            (
                throughputs,
                (
                    "PT ARNs end in a service-generated id; the handler deletes only those tagged "
                    "for this environment and past expiry."
                ),
            ),
            (
                deployments,
                (
                    "Deployment ARNs end in a service-generated id; deleted only when tagged for "
                    "this environment and past expiry."
                ),
            ),
            (
                "*",
                (
                    "ListProvisionedModelThroughputs/ListCustomModelDeployments and GetMetricStatistics take no "
                    "resource ARN (metrics go out as EMF log lines: no PutMetricData)."
                ),
            ),
            (
                serving_records,
                "The serving records of this environment only: one SSM parameter per serving key under its own path.",
            ),
            (reconciler_records, "The reconciler's own state under this environment's path."),
            (heartbeats, "Read-only: each Tailor environment's reconciler heartbeat, to report orphaned serving."),
        ):
            acknowledge_wildcard_resource(self.role, resource, reason)
        # The L1 form: SqsDestination would grant kms:GenerateDataKey*/ReEncrypt* (wildcard actions);
        # grant_send is explicit.
        lambda_.CfnEventInvokeConfig(
            self,
            "AsyncFailures",
            function_name=self.function.function_name,
            qualifier="$LATEST",
            maximum_retry_attempts=2,
            maximum_event_age_in_seconds=6 * 3600,
            destination_config=lambda_.CfnEventInvokeConfig.DestinationConfigProperty(
                on_failure=lambda_.CfnEventInvokeConfig.OnFailureProperty(destination=dead_letter_queue.queue.queue_arn)
            ),
        )
        dead_letter_queue.grant_send(self.role)
        self.reconcile_rule = events.Rule(
            self,
            "Reconcile",
            schedule=events.Schedule.rate(reconcile_every),
            description=f"Tailor {environment}: sweep serving past its expiry (backstop for lost schedules)",
            targets=[
                targets.LambdaFunction(
                    self.function,
                    event=events.RuleTargetInput.from_object({"tailor": "sweep"}),
                    dead_letter_queue=dead_letter_queue.queue,
                    retry_attempts=2,
                    max_event_age=Duration.minutes(30),
                )
            ],
        )
        self.errors_alarm = cloudwatch.Alarm(
            self,
            "Errors",
            alarm_description=(
                f"Tailor {environment}: the teardown function failed; expired serving may still be billed"
            ),
            metric=self.function.metric_errors(period=Duration.minutes(5), statistic="Sum"),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

        def metric(name: str, statistic: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=observability.NAMESPACE,
                metric_name=name,
                dimensions_map={observability.DIMENSION: environment},
                period=reconcile_every,
                statistic=statistic,
            )

        self.past_expiry_alarm = cloudwatch.Alarm(
            self,
            "PastExpiry",
            alarm_description=f"Tailor {environment}: managed serving is alive past its expires-at",
            metric=metric(observability.MANAGED_PAST_EXPIRY, "Maximum"),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        # A reconciler that stopped running publishes nothing: three silent periods are an alarm of their own.
        self.silent_alarm = cloudwatch.Alarm(
            self,
            "ReconcilerSilent",
            alarm_description=(
                f"Tailor {environment}: the reconciler has not reported for three periods; expiry is not being enforced"
            ),
            metric=metric(observability.MANAGED_SERVING, "SampleCount"),
            threshold=1,
            evaluation_periods=3,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )
        for alarm in (self.errors_alarm, self.past_expiry_alarm, self.silent_alarm):
            alarm.add_alarm_action(actions.SnsAction(topic))
