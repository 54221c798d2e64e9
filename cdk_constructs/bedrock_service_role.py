"""The role Bedrock assumes to run customization jobs: read inputs, write outputs, nothing else."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_constructs.nag import acknowledge_wildcard_resource
from tailor.config.job import Job
from tailor.jobs import inputs
from tailor.jobs.inputs import ModelTarget, S3Object


class BedrockServiceRole(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        environment: str,
        data_bucket: s3.IBucket,
        output_bucket: s3.IBucket,
        key: kms.IKey,
        jobs: Sequence[Job],
    ) -> None:
        super().__init__(scope, id_)
        external_inputs = inputs.external_inputs(jobs)
        grader_arns = inputs.graders(jobs)
        vpc_subnet_ids, vpc_security_group_ids = inputs.vpc_ids(jobs)
        stack = Stack.of(self)
        job_arns = stack.format_arn(service="bedrock", resource="model-customization-job", resource_name="*")
        # Confused-deputy guard: only Bedrock jobs of this account (and Region) can assume the role.
        self.role = iam.Role(
            self,
            "Role",
            description=f"Tailor {environment}: assumed by Amazon Bedrock model customization jobs",
            assumed_by=iam.ServicePrincipal(
                "bedrock.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": job_arns},
                },
            ),
        )
        output_prefix = f"jobs/{environment}/*"
        statements = [
            iam.PolicyStatement(
                sid="ReadTrainingData", actions=["s3:GetObject"], resources=[data_bucket.arn_for_objects("datasets/*")]
            ),
            iam.PolicyStatement(sid="ListTrainingData", actions=["s3:ListBucket"], resources=[data_bucket.bucket_arn]),
            iam.PolicyStatement(
                sid="WriteOutput",
                actions=["s3:GetObject", "s3:PutObject"],
                resources=[output_bucket.arn_for_objects(output_prefix)],
            ),
            iam.PolicyStatement(sid="ListOutput", actions=["s3:ListBucket"], resources=[output_bucket.bucket_arn]),
            iam.PolicyStatement(
                sid="UseKeyThroughS3AndBedrock",
                actions=["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant"],
                resources=[key.key_arn],
                conditions={
                    "StringEquals": {
                        "kms:ViaService": [f"s3.{stack.region}.amazonaws.com", f"bedrock.{stack.region}.amazonaws.com"]
                    }
                },
            ),
        ]
        if external_inputs:
            statements.append(
                iam.PolicyStatement(
                    sid="ReadExternalInputs",
                    actions=["s3:GetObject"],
                    resources=sorted({f"arn:{Aws.PARTITION}:s3:::{o.bucket}/{o.key}" for o in external_inputs}),
                )
            )
            statements.append(
                iam.PolicyStatement(
                    sid="ListExternalInputs",
                    actions=["s3:ListBucket"],
                    resources=sorted({f"arn:{Aws.PARTITION}:s3:::{o.bucket}" for o in external_inputs}),
                )
            )
        teacher_arns = [_model_arn(stack, t) for t in inputs.teacher_targets(jobs)]
        if teacher_arns:
            statements.append(
                iam.PolicyStatement(
                    sid="InvokeTeachers", actions=["bedrock:InvokeModel"], resources=sorted(set(teacher_arns))
                )
            )
        if grader_arns:
            statements.append(
                iam.PolicyStatement(
                    sid="InvokeGraders", actions=["lambda:InvokeFunction"], resources=sorted(set(grader_arns))
                )
            )
        if vpc_subnet_ids:
            statements += _vpc_statements(stack, vpc_subnet_ids, vpc_security_group_ids)
        self.policy = iam.Policy(self, "Policy", statements=statements)
        self.role.attach_inline_policy(self.policy)
        for resource, reason in _wildcards(
            data_bucket, output_bucket, output_prefix, external_inputs, stack, bool(vpc_subnet_ids)
        ):
            acknowledge_wildcard_resource(self.policy, resource, reason)

    def grant_pass_role(self, grantee: iam.IGrantable) -> None:
        """PassRole on exactly this role, and only to Bedrock."""
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}},
            )
        )


def _wildcards(
    data_bucket: s3.IBucket,
    output_bucket: s3.IBucket,
    output_prefix: str,
    external: tuple[S3Object, ...],
    stack: Stack,
    vpc: bool,
) -> list[tuple[str, str]]:
    found = [
        (
            data_bucket.arn_for_objects("datasets/*"),
            (
                "Bedrock reads the content-addressed training and validation files under "
                "datasets/ (keys hold content hashes)."
            ),
        ),
        (
            output_bucket.arn_for_objects(output_prefix),
            (
                "Bedrock writes job metrics under this environment's output prefix; object names "
                "are chosen by the service."
            ),
        ),
    ]
    found += [
        (
            f"arn:{Aws.PARTITION}:s3:::{o.bucket}/{o.key}",
            (
                "Read-only on the model-invocation log prefix named in the config; Bedrock "
                "chooses which log objects to read."
            ),
        )
        for o in external
        if o.key.endswith("*")
    ]
    if vpc:
        found += [
            ("*", "ec2:Describe* calls for VPC jobs support no resource-level permissions (bedrock.md F)."),
            (
                stack.format_arn(service="ec2", resource="network-interface", resource_name="*"),
                (
                    "ENI ids are created by Bedrock at run time; conditioned on the BedrockManaged "
                    "tag and the configured subnets."
                ),
            ),
        ]
    return found


def _vpc_statements(stack: Stack, subnets: tuple[str, ...], groups: tuple[str, ...]) -> list[iam.PolicyStatement]:
    """ENI permissions Bedrock needs for VPC jobs (bedrock.md F), tied to Bedrock-managed, job-tagged ENIs."""
    subnet_arns = [stack.format_arn(service="ec2", resource="subnet", resource_name=s) for s in subnets]
    group_arns = [stack.format_arn(service="ec2", resource="security-group", resource_name=g) for g in groups]
    eni_arns = stack.format_arn(service="ec2", resource="network-interface", resource_name="*")
    return [
        iam.PolicyStatement(
            sid="DescribeNetwork",
            actions=[
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeVpcs",
                "ec2:DescribeDhcpOptions",
                "ec2:DescribeSubnets",
                "ec2:DescribeSecurityGroups",
            ],
            resources=["*"],
        ),
        iam.PolicyStatement(
            sid="CreateJobEnis",
            actions=["ec2:CreateNetworkInterface"],
            resources=[eni_arns],
            conditions={"StringEquals": {"aws:RequestTag/BedrockManaged": "true"}},
        ),
        iam.PolicyStatement(
            sid="UseSubnetsAndGroups", actions=["ec2:CreateNetworkInterface"], resources=subnet_arns + group_arns
        ),
        iam.PolicyStatement(
            sid="ManageJobEnis",
            actions=[
                "ec2:CreateNetworkInterfacePermission",
                "ec2:DeleteNetworkInterface",
                "ec2:DeleteNetworkInterfacePermission",
            ],
            resources=[eni_arns],
            conditions={
                "StringEquals": {"ec2:ResourceTag/BedrockManaged": "true"},
                "ArnEquals": {"ec2:Subnet": subnet_arns},
            },
        ),
        iam.PolicyStatement(
            sid="TagJobEnis",
            actions=["ec2:CreateTags"],
            resources=[eni_arns],
            conditions={
                "StringEquals": {"ec2:CreateAction": "CreateNetworkInterface"},
                "ForAllValues:StringEquals": {"aws:TagKeys": ["BedrockManaged", "BedrockModelCustomizationJobArn"]},
            },
        ),
    ]


def _model_arn(stack: Stack, target: ModelTarget) -> str:
    if target.resource == "inference-profile":
        return stack.format_arn(service="bedrock", resource="inference-profile", resource_name=target.name)
    return stack.format_arn(
        service="bedrock", region=target.region, account="", resource="foundation-model", resource_name=target.name
    )
