"""One Bedrock model-customization job as a CloudFormation custom resource."""

from __future__ import annotations

from typing import Any

from aws_cdk import CustomResource, Duration, Stack
from constructs import Construct

RESOURCE_TYPE = "Custom::TailorCustomizationJob"


class CustomizationJob(Construct):
    """Starts the job at deploy and returns at once with its ARN; the stack never waits for training."""

    def __init__(self, scope: Construct, id_: str, *, service_token: str, spec: dict[str, Any]) -> None:
        super().__init__(scope, id_)
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=service_token,
            resource_type=RESOURCE_TYPE,
            # One JSON string: CloudFormation turns every scalar property into a string, which would lose
            # the types of hyperparameters, booleans and limits; tokens inside still resolve.
            properties={"Spec": Stack.of(self).to_json_string(spec)},
            service_timeout=Duration.minutes(20),
        )
        self.job_arn = self.resource.get_att_string("JobArn")
        self.job_name = self.resource.get_att_string("JobName")
