"""An S3 bucket with the project's non-negotiable defaults."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_constructs.nag import NIST, acknowledge

NO_REPLICATION = (
    "Cross-Region replication would put a second copy of training data, and its bill, in another Region, which a "
    "data-residency policy may forbid; versioning guards against overwrites and deletes, and every object can be "
    "made again: datasets from the config's sources at the next deploy, job outputs by running the job again."
)
SSE_S3_FOR_LOGS = (
    "The access-log bucket: S3 server access logging cannot deliver to a bucket whose default encryption is "
    "SSE-KMS (S3 user guide, server access logging), so it uses SSE-S3; it holds request logs, no data."
)


class SecureBucket(Construct):
    """Blocks public access, enforces TLS, keeps versions, encrypts with the given key (SSE-S3 without one).

    Retained on stack deletion unless the environment's config says `retention.data: destroy`.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        retain: bool,
        key: kms.IKey | None = None,
        access_log_bucket: s3.IBucket | None = None,
        access_log_prefix: str | None = None,
    ) -> None:
        super().__init__(scope, id_)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            encryption=s3.BucketEncryption.KMS if key else s3.BucketEncryption.S3_MANAGED,
            encryption_key=key,
            bucket_key_enabled=bool(key),
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_log_bucket,
            server_access_logs_prefix=access_log_prefix,
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
            lifecycle_rules=[s3.LifecycleRule(abort_incomplete_multipart_upload_after=Duration.days(7))],
        )
        acknowledge(self.bucket, "S3BucketReplicationEnabled", NO_REPLICATION, pack=NIST)
        if key is None:
            acknowledge(self.bucket, "S3DefaultEncryptionKMS", SSE_S3_FOR_LOGS, pack=NIST)
