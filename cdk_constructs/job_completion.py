"""Completion tracking: job state-change events plus a scheduled reconciliation, both into one handler.

The same handler advances the environment's job queue (it starts queued jobs as slots free, so it may create
jobs like the job provider), decides sweeps, deletes losing trials' models where retention says so and, for a
sweep that evaluates its best trials, runs the evaluations: for those it gets the evaluation service role
Bedrock assumes (built here: only this construct's handler passes it).
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cdk_constructs import bedrock_policies
from cdk_constructs.job_provider import queue_statements
from cdk_constructs.nag import acknowledge_wildcard_resource
from cdk_constructs.tailor_function import TailorFunction
from tailor import naming
from tailor.config.job import Job
from tailor.jobs import inputs
from tailor.serving.schedules import SERVE_JOBS_VARIABLE, Wiring

TERMINAL_STATUSES = ["Completed", "Failed", "Stopped"]


class JobCompletion(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        environment: str,
        key: kms.IKey,
        topic_arn: str,
        reconcile_every: Duration,
        wiring: Wiring,
        serves_jobs: bool,
        dead_letter_queue: sqs.IQueue,
        base_model_ids: tuple[str, ...] = (),
    ) -> None:
        super().__init__(scope, id_)
        stack = Stack.of(self)
        self.handler = TailorFunction(
            self,
            "Handler",
            handler="functions.job_completion.handler",
            key=key,
            timeout=Duration.minutes(5),
            description=f"Tailor {environment}: records job outcomes and notifies",
            # Without job serving the completion handler neither needs nor gets any serving wiring or permission.
            environment={**wiring.to_environment(), SERVE_JOBS_VARIABLE: "1"}
            if serves_jobs
            else Wiring(environment, topic_arn, "", "", "", "").to_environment(),
        )
        self.function = self.handler.function
        prefix = naming.job_record_prefix(environment).strip("/")
        jobs = stack.format_arn(service="bedrock", resource="model-customization-job", resource_name="*")
        records = stack.format_arn(service="ssm", resource="parameter", resource_name=prefix + "/*")
        self.handler.role.add_to_policy(
            iam.PolicyStatement(sid="ReadJobs", actions=["bedrock:GetModelCustomizationJob"], resources=[jobs])
        )
        self.handler.role.add_to_policy(
            iam.PolicyStatement(
                sid="ListRecords",
                actions=["ssm:GetParametersByPath"],
                resources=[stack.format_arn(service="ssm", resource="parameter", resource_name=prefix)],
            )
        )
        self.handler.role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteRecords", actions=["ssm:GetParameter", "ssm:PutParameter"], resources=[records]
            )
        )
        self._grant_queue(stack, environment, base_model_ids)
        acknowledge_wildcard_resource(
            self.handler.role,
            jobs,
            "Job ARNs end in a service-generated id; read-only Get on this account's and Region's jobs.",
        )
        acknowledge_wildcard_resource(
            self.handler.role,
            records,
            "The job records of this environment only: one SSM parameter per job key under its own path.",
        )
        # Undeliverable events and invocations that fail every retry land in the Guard stack's alarmed queue.
        target = targets.LambdaFunction(
            self.function, retry_attempts=8, max_event_age=Duration.hours(6), dead_letter_queue=dead_letter_queue
        )
        lambda_.CfnEventInvokeConfig(
            self,
            "AsyncFailures",
            function_name=self.function.function_name,
            qualifier="$LATEST",
            maximum_retry_attempts=2,
            maximum_event_age_in_seconds=6 * 3600,
            destination_config=lambda_.CfnEventInvokeConfig.DestinationConfigProperty(
                on_failure=lambda_.CfnEventInvokeConfig.OnFailureProperty(destination=dead_letter_queue.queue_arn)
            ),
        )
        self.handler.role.add_to_policy(
            iam.PolicyStatement(sid="DeadLetters", actions=["sqs:SendMessage"], resources=[dead_letter_queue.queue_arn])
        )
        self.handler.role.add_to_policy(
            iam.PolicyStatement(
                sid="DeadLetterKey", actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[key.key_arn]
            )
        )
        # `jobStatus`, not `status`: a pattern on detail.status silently never matches (bedrock.md D).
        self.state_change_rule = events.Rule(
            self,
            "JobStateChange",
            description=f"Tailor {environment}: customization jobs reaching a final state",
            event_pattern=events.EventPattern(
                source=["aws.bedrock"],
                detail_type=["Model Customization Job State Change"],
                detail={"jobStatus": TERMINAL_STATUSES, "jobName": [{"prefix": f"{naming.PROJECT}-{environment}-"}]},
            ),
            targets=[target],
        )
        self.reconcile_rule = events.Rule(
            self,
            "Reconcile",
            description=f"Tailor {environment}: re-checks unfinished jobs in case an event was lost",
            schedule=events.Schedule.rate(reconcile_every),
            targets=[target],
        )
        self.evaluation_role: iam.Role | None = None

    def _grant_queue(self, stack: Stack, environment: str, base_model_ids: tuple[str, ...]) -> None:
        """Starting queued jobs (what the job provider's Create does when a slot is free), stopping a job whose
        record vanished while it started, and deleting the models of a sweep's losing trials."""
        role = self.handler.role
        jobs = stack.format_arn(service="bedrock", resource="model-customization-job", resource_name="*")
        models = stack.format_arn(service="bedrock", resource="custom-model", resource_name="*")
        foundation = [
            stack.format_arn(service="bedrock", account="", resource="foundation-model", resource_name=m)
            for m in sorted(set(base_model_ids))
        ]
        for statement in (
            iam.PolicyStatement(
                sid="StartQueuedJobs",
                actions=["bedrock:CreateModelCustomizationJob"],
                resources=[jobs, models, *foundation],
            ),
            bedrock_policies.tag_new("TagQueuedJobsAndModels", environment, [jobs, models]),
            bedrock_policies.act_on_own("StopOrphanedJobs", environment, ["bedrock:StopModelCustomizationJob"], [jobs]),
            bedrock_policies.act_on_own("RemoveLosingModels", environment, ["bedrock:DeleteCustomModel"], [models]),
            *queue_statements(stack, environment),
        ):
            role.add_to_policy(statement)
        acknowledge_wildcard_resource(
            role, models, "Custom-model ARNs end in a service-generated id; tagged at creation, deleted by tag."
        )
        acknowledge_wildcard_resource(
            role,
            "*",
            "ListModelCustomizationJobs has no resource-level permission: the queue counts the account's running "
            "jobs against the account-wide quota.",
        )

    def enable_evaluations(
        self,
        *,
        environment: str,
        sweeps: Sequence[Job],
        data_bucket: s3.IBucket,
        output_bucket: s3.IBucket,
        key: kms.IKey,
    ) -> iam.Role:
        """The role Bedrock's evaluation jobs assume, and what the handler needs to run them on it.

        Trust is limited to this account's evaluation jobs (aws:SourceAccount, aws:SourceArn), as for the
        customization role [docs:model-evaluation-security-service-roles]. How an evaluation job is authorized to
        invoke a Provisioned Throughput is UNCONFIRMED: the role holds bedrock:InvokeModel on this account's
        provisioned models and on the base and judge models it names.
        """
        stack = Stack.of(self)
        evaluations = stack.format_arn(service="bedrock", resource="evaluation-job", resource_name="*")
        throughputs = stack.format_arn(service="bedrock", resource="provisioned-model", resource_name="*")
        prefix = f"evaluations/{environment}/*"
        self.evaluation_role = iam.Role(
            self,
            "EvaluationRole",
            description=f"Tailor {environment}: assumed by Amazon Bedrock model evaluation jobs",
            assumed_by=iam.ServicePrincipal(
                "bedrock.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": evaluations},
                },
            ),
        )
        models = sorted({arn for job in sweeps for arn in _evaluated_models(stack, job)})
        datasets = sorted({_dataset_arn(data_bucket, environment, job) for job in sweeps})
        for statement in (
            iam.PolicyStatement(sid="ReadPrompts", actions=["s3:GetObject"], resources=datasets),
            iam.PolicyStatement(
                sid="WriteResults",
                actions=["s3:GetObject", "s3:PutObject"],
                resources=[output_bucket.arn_for_objects(prefix)],
            ),
            iam.PolicyStatement(sid="ListResults", actions=["s3:ListBucket"], resources=[output_bucket.bucket_arn]),
            iam.PolicyStatement(
                sid="InvokeEvaluatedModels", actions=["bedrock:InvokeModel"], resources=[throughputs, *models]
            ),
            iam.PolicyStatement(
                sid="UseKeyThroughS3",
                actions=["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                resources=[key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"}},
            ),
        ):
            self.evaluation_role.add_to_policy(statement)
        for resource, reason in (
            (throughputs, "The evaluation throughputs are created at run time; their ARNs end in a generated id."),
            (output_bucket.arn_for_objects(prefix), "Evaluation results of this environment, under its own prefix."),
            *(
                (m, "A judge reached through a system inference profile, in any Region it routes to.")
                for m in models
                if "*" in m
            ),
        ):
            acknowledge_wildcard_resource(self.evaluation_role, resource, reason)
        role = self.handler.role
        for statement in (
            iam.PolicyStatement(
                sid="RunEvaluations",
                actions=["bedrock:CreateEvaluationJob"],
                resources=[evaluations, throughputs, *models],
            ),
            iam.PolicyStatement(
                sid="WatchEvaluations",
                actions=["bedrock:GetEvaluationJob", "bedrock:ListEvaluationJobs"],
                resources=[evaluations],
            ),
            # Stopping only this environment's (see JobProvider's StopOwnEvaluations: aws:ResourceTag UNCONFIRMED).
            bedrock_policies.act_on_own(
                "StopOwnEvaluations", environment, ["bedrock:StopEvaluationJob"], [evaluations]
            ),
            bedrock_policies.tag_new("TagNewEvaluations", environment, [evaluations]),
            iam.PolicyStatement(
                sid="PassEvaluationRole",
                actions=["iam:PassRole"],
                resources=[self.evaluation_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}},
            ),
            iam.PolicyStatement(
                sid="ReadScores", actions=["s3:GetObject"], resources=[output_bucket.arn_for_objects(prefix)]
            ),
            iam.PolicyStatement(sid="FindScores", actions=["s3:ListBucket"], resources=[output_bucket.bucket_arn]),
            iam.PolicyStatement(sid="DecryptScores", actions=["kms:Decrypt"], resources=[key.key_arn]),
        ):
            role.add_to_policy(statement)
        for resource, reason in (
            (evaluations, "Evaluation-job ARNs end in a service-generated id; this account's and Region's only."),
            (throughputs, "The evaluation throughputs are created at run time; their ARNs end in a generated id."),
            (output_bucket.arn_for_objects(prefix), "Evaluation results of this environment, under its own prefix."),
            *(
                (m, "A judge reached through a system inference profile, in any Region it routes to.")
                for m in models
                if "*" in m
            ),
        ):
            acknowledge_wildcard_resource(role, resource, reason)
        return self.evaluation_role


def _evaluated_models(stack: Stack, job: Job) -> list[str]:
    """The base model (compared with the winner) and the judge, as the evaluation names them."""
    assert job.sweep is not None and job.sweep.evaluation is not None
    arns = [
        stack.format_arn(
            service="bedrock", account="", resource="foundation-model", resource_name=job.model.foundation_model_id
        )
    ]
    judge = job.sweep.evaluation.judge_model
    if judge:
        head = judge.split(".", 1)[0]
        if len(head) <= 4 and judge.count(".") >= 2:  # a system inference profile (us.amazon...): UNCONFIRMED Regions
            arns.append(stack.format_arn(service="bedrock", resource="inference-profile", resource_name=judge))
            model = judge.split(".", 1)[1]
            arns.append(f"arn:{Aws.PARTITION}:bedrock:*::foundation-model/{model}")
        else:
            arns.append(
                stack.format_arn(service="bedrock", account="", resource="foundation-model", resource_name=judge)
            )
    return arns


def _dataset_arn(data_bucket: s3.IBucket, environment: str, job: Job) -> str:
    assert job.sweep is not None and job.sweep.evaluation is not None
    key = inputs.evaluation_dataset_key(environment, job)
    if key is not None:
        return data_bucket.arn_for_objects(key)
    bucket, object_key = naming.split_s3_uri(job.sweep.evaluation.dataset.location)
    return f"arn:{Aws.PARTITION}:s3:::{bucket}/{object_key}"
