"""One serving entry (a job's `serve` block or a `throughputs` entry) as a CloudFormation custom resource."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import CustomResource
from constructs import Construct

from cdk_constructs.serving_provider import SERVICE_TIMEOUT
from tailor.config.serving import Serving
from tailor.serving.resource import spec_for

RESOURCE_TYPE = "Custom::TailorServing"


class ServedModel(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        service_token: str,
        environment: str,
        tags: Mapping[str, str],
        serving: Serving,
    ) -> None:
        super().__init__(scope, id_)
        spec = spec_for(environment, dict(tags), serving)
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=service_token,
            resource_type=RESOURCE_TYPE,
            properties={"Spec": spec.to_json()},
            service_timeout=SERVICE_TIMEOUT,
        )
        self.arn = self.resource.get_att_string("Arn")
        self.status = self.resource.get_att_string("Status")
        self.expires_at = self.resource.get_att_string("ExpiresAt")
