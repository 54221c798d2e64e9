"""Stateful resources of an environment: kept apart so stateless changes never put data at risk."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from cdk_constructs.bucket_emptier import BucketEmptier
from cdk_constructs.data_storage import DataStorage
from cdk_constructs.notification_topic import NotificationTopic
from tailor import naming
from tailor.config.environment import Environment
from tailor.jobs import inputs


@dataclass(frozen=True)
class SharedData:
    """What the stateless stack imports, through exports with fixed, readable names."""

    key_arn: str
    data_bucket_arn: str
    output_bucket_arn: str
    topic_arn: str
    undelivered_queue_name: str  # the topic's dead-letter queue, on the Guard stack's dashboard

    def imported(self, scope: Construct) -> ImportedData:
        """The shared resources as constructs of `scope`'s stack (references to the exports, nothing created)."""
        key = kms.Key.from_key_arn(scope, "Key", self.key_arn)
        return ImportedData(
            key=key,
            data_bucket=s3.Bucket.from_bucket_attributes(
                scope, "TrainingDataBucket", bucket_arn=self.data_bucket_arn, encryption_key=key
            ),
            output_bucket=s3.Bucket.from_bucket_attributes(
                scope, "OutputBucket", bucket_arn=self.output_bucket_arn, encryption_key=key
            ),
            topic=sns.Topic.from_topic_arn(scope, "Topic", self.topic_arn),
        )


@dataclass(frozen=True)
class ImportedData:
    key: kms.IKey
    data_bucket: s3.IBucket
    output_bucket: s3.IBucket
    topic: sns.ITopic


class DataStack(Stack):
    def __init__(self, scope: Construct, id_: str, *, env_config: Environment, **kwargs: Any) -> None:
        super().__init__(scope, id_, **kwargs)
        self.storage = DataStorage(
            self,
            "Storage",
            environment=env_config.name,
            retain=env_config.retain_data,
            retain_key=inputs.models_need_the_key(env_config),
        )
        if not env_config.retain_data:
            # retention.data: destroy means the data goes with the stack: versioned buckets must be emptied first.
            BucketEmptier(
                self,
                "Emptier",
                environment=env_config.name,
                key=self.storage.key,
                buckets={
                    "AccessLogs": self.storage.access_log_bucket,
                    "TrainingData": self.storage.data_bucket,
                    "Output": self.storage.output_bucket,
                },
            )
        self.notifications = NotificationTopic(
            self, "Notifications", environment=env_config.name, key=self.storage.key, emails=env_config.emails
        )
        self.shared = SharedData(
            key_arn=self.export_value(self.storage.key.key_arn, name=naming.export_name(env_config.name, "KeyArn")),
            data_bucket_arn=self.export_value(
                self.storage.data_bucket.bucket_arn, name=naming.export_name(env_config.name, "TrainingDataBucketArn")
            ),
            output_bucket_arn=self.export_value(
                self.storage.output_bucket.bucket_arn, name=naming.export_name(env_config.name, "OutputBucketArn")
            ),
            topic_arn=self.export_value(
                self.notifications.topic.topic_arn, name=naming.export_name(env_config.name, "TopicArn")
            ),
            undelivered_queue_name=self.export_value(
                self.notifications.undelivered.queue_name,
                name=naming.export_name(env_config.name, "UndeliveredNotificationsQueueName"),
            ),
        )
