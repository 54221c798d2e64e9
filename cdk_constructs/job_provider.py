"""The one custom-resource provider every customization job in a stack shares."""

from __future__ import annotations

from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import custom_resources as cr
from constructs import Construct

from cdk_constructs import bedrock_policies
from cdk_constructs.nag import acknowledge_wildcard_resource
from cdk_constructs.tailor_function import TailorFunction
from tailor import naming
from tailor.jobs import queue_lock
from tailor.jobs.spec import DatasetCheck

# Below the framework function's fixed 15 minutes; room for streaming a 10 GB dataset from S3 before starting.
HANDLER_TIMEOUT = Duration.minutes(14)
# Lambda allots one full vCPU at 1,769 MB; the validator is CPU-bound (168 MB/s on one core here), so a 10 GB
# file takes about a minute instead of the ~3.5 a 512 MB function's fraction of a core would need.
HANDLER_MEMORY_MB = 1769


def queue_statements(stack: Stack, environment: str) -> list[iam.PolicyStatement]:
    """What advancing the job queue takes (tailor/jobs/queue.py), for every role that does it.

    ListModelCustomizationJobs supports no resource-level permission (it lists the account's jobs), hence `*`:
    the queue counts every running job in the account and Region against the quota. The lock is one parameter.
    """
    records_path = naming.job_record_prefix(environment).strip("/")
    return [
        iam.PolicyStatement(sid="CountRunningJobs", actions=["bedrock:ListModelCustomizationJobs"], resources=["*"]),
        iam.PolicyStatement(
            sid="FindQueuedJobs",
            actions=["ssm:GetParametersByPath"],
            resources=[stack.format_arn(service="ssm", resource="parameter", resource_name=records_path)],
        ),
        iam.PolicyStatement(
            sid="QueueLock",
            actions=["ssm:GetParameter", "ssm:PutParameter", "ssm:DeleteParameter"],
            resources=[
                stack.format_arn(
                    service="ssm", resource="parameter", resource_name=queue_lock.lock_name(environment).strip("/")
                )
            ],
        ),
    ]


class JobProvider(Construct):
    """One handler and one Provider, whatever the number of jobs (their count does not grow with jobs).

    The handler also serves the sweeps' `Custom::TailorSweep` resources (the same function: no more Lambdas for
    sweeps) and advances the environment's job queue when it queues a job.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        environment: str,
        key: kms.IKey,
        base_model_ids: tuple[str, ...],
        evaluations: bool = False,
    ) -> None:
        super().__init__(scope, id_)
        stack = Stack.of(self)
        self.handler = TailorFunction(
            self,
            "Handler",
            handler="functions.job_resource.on_event",
            key=key,
            timeout=HANDLER_TIMEOUT,
            memory_size=HANDLER_MEMORY_MB,
            description=f"Tailor {environment}: starts, adopts and stops customization jobs",
        )
        self.function = self.handler.function
        jobs = stack.format_arn(service="bedrock", resource="model-customization-job", resource_name="*")
        models = stack.format_arn(service="bedrock", resource="custom-model", resource_name="*")
        foundation = [
            stack.format_arn(service="bedrock", account="", resource="foundation-model", resource_name=m)
            for m in sorted(set(base_model_ids))
        ]
        records = stack.format_arn(
            service="ssm", resource="parameter", resource_name=naming.job_record_prefix(environment).strip("/") + "/*"
        )
        for statement in (
            iam.PolicyStatement(
                sid="StartJobs", actions=["bedrock:CreateModelCustomizationJob"], resources=[jobs, models, *foundation]
            ),
            bedrock_policies.tag_new("TagNewJobsAndModels", environment, [jobs, models]),
            iam.PolicyStatement(sid="TrackJobs", actions=["bedrock:GetModelCustomizationJob"], resources=[jobs]),
            bedrock_policies.act_on_own("StopOwnJobs", environment, ["bedrock:StopModelCustomizationJob"], [jobs]),
            iam.PolicyStatement(sid="ReadModels", actions=["bedrock:GetCustomModel"], resources=[models]),
            bedrock_policies.act_on_own("RemoveOwnModels", environment, ["bedrock:DeleteCustomModel"], [models]),
            iam.PolicyStatement(
                sid="JobRecords",
                actions=["ssm:GetParameter", "ssm:PutParameter", "ssm:DeleteParameter"],
                resources=[records],
            ),
            *queue_statements(stack, environment),
        ):
            self.handler.role.add_to_policy(statement)
        if evaluations:
            self._grant_evaluation_cleanup(stack, environment)
        for resource, reason in (
            (
                jobs,
                (
                    "Job ARNs end in a service-generated id unknown until the job exists; scoped to "
                    "this account and Region."
                ),
            ),
            (
                models,
                "Custom-model ARNs end in a service-generated id; needed to tag new models and delete retired ones.",
            ),
            (records, "The job records of this environment only: one SSM parameter per job key under its own path."),
        ):
            acknowledge_wildcard_resource(self.handler.role, resource, reason)
        framework_log_group = logs.LogGroup(
            self, "FrameworkLogs", retention=logs.RetentionDays.THREE_MONTHS, encryption_key=key
        )
        # Our own role: the framework's default one carries the AWSLambdaBasicExecutionRole managed policy.
        self.framework_role = iam.Role(
            self,
            "FrameworkRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Tailor {environment}: custom-resource provider framework",
        )
        self.framework_role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[framework_log_group.log_group_arn]
            )
        )
        self.provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=self.function,
            log_group=framework_log_group,
            framework_on_event_role=self.framework_role,
            provider_function_env_encryption=key,
        )
        acknowledge_wildcard_resource(
            self.framework_role,
            f"{self.function.function_arn}:*",
            "Added by the CDK Provider framework's grantInvoke: the handler function and its versions, nothing else.",
        )
        self.service_token = self.provider.service_token

    def grant_dataset_writes(self, bucket: s3.IBucket, key: kms.IKey, *, environment: str) -> None:
        """Copying uploaded datasets into the data bucket: explicit actions (bucket grants use wildcards)."""
        datasets = bucket.arn_for_objects(f"datasets/{environment}/*")
        self.handler.role.add_to_policy(
            iam.PolicyStatement(sid="CopyDatasets", actions=["s3:GetObject", "s3:PutObject"], resources=[datasets])
        )
        acknowledge_wildcard_resource(
            self.handler.role,
            datasets,
            (
                "Content-addressed dataset keys of this environment "
                "(datasets/<env>/<job>/<role>/<sha256>/<file>), unknown until synth hashes the "
                "files."
            ),
        )
        # Without ListBucket, S3 answers the existence check (HeadObject) of a missing copy with 403, not 404.
        # Whether a prefix condition counts for that check is undocumented, so the bucket (datasets only) is whole.
        self.handler.role.add_to_policy(
            iam.PolicyStatement(sid="FindDatasetCopies", actions=["s3:ListBucket"], resources=[bucket.bucket_arn])
        )
        self.handler.role.add_to_policy(
            iam.PolicyStatement(
                sid="EncryptDatasets", actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[key.key_arn]
            )
        )

    def _grant_evaluation_cleanup(self, stack: Stack, environment: str) -> None:
        """A sweep's resource, deleted, stops its evaluations and deletes the throughputs they run on."""
        evaluations = stack.format_arn(service="bedrock", resource="evaluation-job", resource_name="*")
        throughputs = stack.format_arn(service="bedrock", resource="provisioned-model", resource_name="*")
        for statement in (
            # Evaluation-job ARNs carry random ids: only the tags say whose a job is (aws:ResourceTag on
            # StopEvaluationJob is UNCONFIRMED in the Service Authorization Reference; if Bedrock does not
            # evaluate it, the stop is denied and the evaluation ends by itself).
            bedrock_policies.act_on_own(
                "StopOwnEvaluations", environment, ["bedrock:StopEvaluationJob"], [evaluations]
            ),
            iam.PolicyStatement(
                sid="ReadEvaluationServing", actions=["bedrock:ListTagsForResource"], resources=[throughputs]
            ),
            bedrock_policies.act_on_own(
                "DeleteOwnEvaluationServing", environment, ["bedrock:DeleteProvisionedModelThroughput"], [throughputs]
            ),
        ):
            self.handler.role.add_to_policy(statement)
        acknowledge_wildcard_resource(
            self.handler.role,
            evaluations,
            "Evaluation-job ARNs end in a service-generated id; only this account's and Region's are stopped.",
        )
        acknowledge_wildcard_resource(
            self.handler.role,
            throughputs,
            "PT ARNs end in a service-generated id; deletion is conditioned on this environment's tags.",
        )

    def grant_evaluation_dataset_read(self, uri: str) -> None:
        """An S3 prompt dataset a sweep's evaluation names: validated by the sweep resource before it is used."""
        bucket, key = naming.split_s3_uri(uri)
        self.handler.role.add_to_policy(
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[f"arn:{Aws.PARTITION}:s3:::{bucket}/{key}"])
        )

    def grant_dataset_reads(self, checks: tuple[DatasetCheck, ...]) -> None:
        """S3 datasets the config names: the handler streams and validates each before starting its job."""
        for check in checks:
            bucket, key = naming.split_s3_uri(check.uri)
            self.handler.role.add_to_policy(
                iam.PolicyStatement(actions=["s3:GetObject"], resources=[f"arn:{Aws.PARTITION}:s3:::{bucket}/{key}"])
            )
