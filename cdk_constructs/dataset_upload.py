"""Ships a local dataset to the training-data bucket under a content-addressed key.

CDK uploads the file as an asset; the job resource copies it into the data bucket (KMS-encrypted, access
logged) before starting the job. No BucketDeployment: its grants need wildcard actions and an extra Lambda.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct


class DatasetUpload(Construct):
    """The key embeds the file's hash, so a job's URI always names the exact bytes it was validated with."""

    def __init__(self, scope: Construct, id_: str, *, file: Path, bucket: s3.IBucket, key: str) -> None:
        super().__init__(scope, id_)
        self.asset = s3_assets.Asset(self, "Asset", path=str(file))
        self.source_uri = self.asset.s3_object_url
        self.uri = f"s3://{bucket.bucket_name}/{key}"

    def grant_copy_source(self, grantee: iam.IGrantable) -> None:
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"], resources=[self.asset.bucket.arn_for_objects(self.asset.s3_object_key)]
            )
        )
