"""One CloudWatch dashboard per environment: what is training, what is serving, what it costs, is the guard alive.

Every Tailor metric on it comes from tailor/observability.py (names, namespace, the one Environment dimension),
so a widget can only show what a function emits (tests/infra/test_observability.py checks the synthesized body);
the rest are the services' own metrics: Lambda's for the teardown function, SQS's for the dead-letter queues.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from tailor import naming, observability

WIDTH = 24  # the dashboard grid's full width
BUDGET_PERIOD = Duration.hours(1)  # Budgets refreshes a few times a day; an hour's maximum shows each change


class EnvironmentDashboard(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        environment: str,
        period: Duration,
        teardown_function: lambda_.IFunction,
        alarms: tuple[cloudwatch.IAlarm, ...],
        dead_letter_queue: sqs.IQueue,
        undelivered_queue_name: str,
        monthly_budget_usd: float | None,
    ) -> None:
        super().__init__(scope, id_)
        self.environment = environment
        self.period = period
        region = Stack.of(self).region
        self.name = naming.dashboard_name(environment)
        self.url = naming.dashboard_url(environment, region)

        def lambda_metric(metric: cloudwatch.Metric, label: str) -> cloudwatch.IMetric:
            return metric.with_(label=label, period=period)

        rows: list[list[cloudwatch.IWidget]] = [
            [
                cloudwatch.TextWidget(
                    markdown=(
                        f"# Tailor {environment}\n"
                        f"Serving, jobs, the cost guard (teardown + reconciler every {period.to_minutes():g} min) "
                        "and spend. Alarms mail the environment's topic; job and serving records live in SSM under "
                        f"`/{naming.PROJECT}/{environment}/`."
                    ),
                    width=WIDTH,
                    height=2,
                )
            ],
            [
                cloudwatch.GraphWidget(
                    title="Serving alive",
                    left=[
                        self.metric(observability.MANAGED_SERVING, "Maximum", "managed by Tailor"),
                        self.metric(observability.UNMANAGED_SERVING, "Maximum", "not managed (report/delete)"),
                        self.metric(observability.ORPHANED_SERVING, "Maximum", "orphaned (owner gone)"),
                    ],
                    width=9,
                ),
                cloudwatch.SingleValueWidget(
                    title="Minutes to the next expiry",
                    metrics=[self.metric(observability.NEXT_EXPIRY_MINUTES, "Minimum", "next expiry (min)")],
                    width=5,
                ),
                cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(alarms), width=10),
            ],
            [
                cloudwatch.GraphWidget(
                    title="Managed serving past its expiry (alarm at 1)",
                    left=[self.metric(observability.MANAGED_PAST_EXPIRY, "Maximum", "past expiry")],
                    left_annotations=[cloudwatch.HorizontalAnnotation(value=1, label="alarm")],
                    width=8,
                ),
                cloudwatch.GraphWidget(
                    title="Reconciler runs and errors",
                    left=[
                        self.metric(observability.MANAGED_SERVING, "SampleCount", "sweeps"),
                        lambda_metric(teardown_function.metric_invocations(statistic="Sum"), "invocations"),
                        lambda_metric(teardown_function.metric_errors(statistic="Sum"), "errors"),
                        lambda_metric(teardown_function.metric_throttles(statistic="Sum"), "throttles"),
                    ],
                    width=8,
                ),
                cloudwatch.GraphWidget(
                    title="Teardown duration (ms)",
                    left=[
                        lambda_metric(teardown_function.metric_duration(statistic="Maximum"), "max"),
                        lambda_metric(teardown_function.metric_duration(statistic="Average"), "average"),
                    ],
                    width=8,
                ),
            ],
            [
                cloudwatch.GraphWidget(
                    title="Teardown outcomes",
                    left=[
                        self.metric(name, "Sum", action)
                        for action, name in observability.TEARDOWN_OUTCOMES.items()
                        if name != observability.TEARDOWN_DEFERRED
                    ]
                    + [
                        self.metric(observability.TEARDOWN_DEFERRED, "Sum", "deferred (busy)"),
                        self.metric(observability.EXPIRY_TAMPERED, "Sum", "expiry held to policy"),
                        self.metric(observability.LISTING_FAILURES, "Sum", "listing failures"),
                    ],
                    stacked=False,
                    width=12,
                ),
                cloudwatch.GraphWidget(
                    title="Idle guard: serving torn down early",
                    left=[self.metric(observability.IDLE_TORN_DOWN, "Sum", "idle, torn down")],
                    width=6,
                ),
                cloudwatch.GraphWidget(
                    title="Dead letters (alarm at 1)",
                    left=[
                        dead_letter_queue.metric_approximate_number_of_messages_visible(
                            statistic="Maximum", period=period, label="undeliverable teardown/reconcile events"
                        ),
                        cloudwatch.Metric(
                            namespace="AWS/SQS",
                            metric_name="ApproximateNumberOfMessagesVisible",
                            dimensions_map={"QueueName": undelivered_queue_name},
                            statistic="Maximum",
                            period=period,
                            label="undelivered notifications",
                        ),
                    ],
                    width=6,
                ),
            ],
            [
                cloudwatch.GraphWidget(
                    title="Jobs by state",
                    left=[self.metric(observability.JOBS_IN_PROGRESS, "Maximum", "in progress")],
                    right=[self.metric(name, "Sum", state.lower()) for state, name in observability.JOB_STATES.items()],
                    width=12 if monthly_budget_usd is not None else WIDTH,
                ),
                *self._budget(monthly_budget_usd),
            ],
        ]
        self.dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=self.name, default_interval=Duration.days(1), widgets=rows
        )

    def metric(self, name: str, statistic: str, label: str) -> cloudwatch.Metric:
        """A Tailor metric of this environment, exactly as the functions emit it."""
        if name not in observability.emitted():
            raise ValueError(f"{name} is not a metric Tailor emits (tailor/observability.py)")
        return cloudwatch.Metric(
            namespace=observability.NAMESPACE,
            metric_name=name,
            dimensions_map={observability.DIMENSION: self.environment},
            statistic=statistic,
            period=BUDGET_PERIOD
            if name in (observability.BUDGET_ACTUAL, observability.BUDGET_FORECAST)
            else self.period,
            label=label,
        )

    def _budget(self, monthly_usd: float | None) -> list[cloudwatch.IWidget]:
        if monthly_usd is None:
            return []
        return [
            cloudwatch.GraphWidget(
                title="Budget: actual and forecast spend this month (USD)",
                left=[
                    self.metric(observability.BUDGET_ACTUAL, "Maximum", "actual"),
                    self.metric(observability.BUDGET_FORECAST, "Maximum", "forecast"),
                ],
                left_annotations=[cloudwatch.HorizontalAnnotation(value=monthly_usd, label="monthly budget")],
                width=12,
            )
        ]
