"""What Tailor knows about a served model: its tags, its expiry, and a uniform view of PTs and deployments.

Shared by every handler that touches serving (the serving custom resource, job completion, teardown and the
reconciler), so the meaning of `expires-at` and of "managed by this environment" is written once.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tailor import aws, naming

TAG_MANAGED_BY = naming.TAG_MANAGED_BY
TAG_ENVIRONMENT = naming.TAG_ENVIRONMENT
TAG_EXPIRES_AT = "expires-at"
TAG_SERVING_KEY = "tailor-serving"
TAG_STACK = (
    "tailor-stack"  # the CloudFormation stack whose resource made it: a replayed Delete of another stack leaves it
)
TAG_WARNED = "tailor-warned"  # holds the expires-at value a warning was sent for: one warning per expiry
# Set when a start failed after Bedrock had bought the resource: it is expired at once and nothing extends it again
# (a rollback replays the old hours; an adoption applies the record's): it goes at the next sweep.
TAG_FAILED_START = "tailor-failed-start"
# The only tags the handlers change on an existing resource; IAM lets no Tailor role change any other.
RUNTIME_TAG_KEYS = (TAG_EXPIRES_AT, TAG_WARNED, TAG_FAILED_START)
COMMITMENT_TERM = "commitment-term"  # expires-at of a committed PT: it ends with its term, not on a schedule
PROVISIONED, ON_DEMAND = "provisioned", "on_demand"
BUSY = ("Creating", "Updating")  # states in which Bedrock refuses a delete (ConflictException)
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def format_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime(TIME_FORMAT)


def parse_time(text: str | None) -> datetime | None:
    try:
        return datetime.strptime(text or "", TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def expiry(created: datetime, hours: float) -> datetime:
    """Rounded up to the minute: Scheduler fires to the minute, and rounding down would shorten a promise."""
    end = created.astimezone(UTC) + timedelta(hours=hours)
    return datetime.fromtimestamp(math.ceil(end.timestamp() / 60) * 60, tz=UTC)


def managed_tags(environment: str, key: str, expires_at: str, user_tags: Mapping[str, str]) -> list[dict[str, str]]:
    tags = {
        **user_tags,
        TAG_MANAGED_BY: naming.PROJECT,
        TAG_ENVIRONMENT: environment,
        TAG_SERVING_KEY: key,
        TAG_EXPIRES_AT: expires_at,
    }
    return [{"key": k, "value": v} for k, v in sorted(tags.items())]


@dataclass(frozen=True)
class Served:
    """A Provisioned Throughput or custom-model deployment as the account has it now."""

    arn: str
    mode: str
    name: str
    status: str
    created: datetime
    model_arn: str | None
    commitment_end: datetime | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    failure_message: str | None = None
    desired_model_arn: str | None = None  # the model an update in progress is switching to

    def serves(self, model_arn: str) -> bool:
        """Already serving (or switching to) this model: a repoint to it has nothing to do."""
        return model_arn in (self.model_arn, self.desired_model_arn)

    def managed_by(self, environment: str) -> bool:
        return naming.owned_by(self.tags, environment)

    @property
    def managed_by_tailor(self) -> bool:
        return self.tags.get(TAG_MANAGED_BY) == naming.PROJECT

    @property
    def expires_at(self) -> datetime | None:
        return parse_time(self.tags.get(TAG_EXPIRES_AT))

    def term_end(self, now: datetime) -> datetime | None:
        """The end of a commitment term still running at `now` (nothing may delete it before), else None."""
        return self.commitment_end if self.commitment_end is not None and now < self.commitment_end else None

    @property
    def busy(self) -> bool:
        return self.status in BUSY


def _not_found(exc: ClientError) -> bool:
    return aws.error_code(exc) == "ResourceNotFoundException"


def tags_of(bedrock: Any, arn: str) -> dict[str, str]:
    tags = bedrock.list_tags_for_resource(resourceARN=arn).get("tags") or []
    return {t["key"]: t["value"] for t in tags}


def describe(bedrock: Any, mode: str, identifier: str) -> Served | None:
    """The resource by name or ARN, with its tags; None when it does not exist (any more)."""
    try:
        if mode == PROVISIONED:
            view = bedrock.get_provisioned_model_throughput(provisionedModelId=identifier)
            served = _from_throughput(view)
        else:
            view = bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=identifier)
            served = _from_deployment(view)
        return Served(**{**served.__dict__, "tags": tags_of(bedrock, served.arn)})
    except ClientError as exc:
        if _not_found(exc):
            return None
        raise


def mode_of(arn: str) -> str:
    return ON_DEMAND if ":custom-model-deployment/" in arn else PROVISIONED


@dataclass
class Listing:
    """Every PT and deployment the account and Region showed, and the listings that failed (each fails alone)."""

    served: list[Served] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # "ListCustomModelDeployments: <code>: <message>"


_LISTINGS = (
    ("list_provisioned_model_throughputs", "provisionedModelSummaries", "ListProvisionedModelThroughputs"),
    ("list_custom_model_deployments", "modelDeploymentSummaries", "ListCustomModelDeployments"),
)


def list_all(bedrock: Any) -> Listing:
    """Every PT and deployment in the account and Region, all pages, each with its tags.

    The lists have no tag filter, so tags are read per resource. A listing Bedrock refuses (a Region without
    on-demand deployment, a throttle that outlasted the retries, a deny) is recorded and the other still runs:
    a sweep must never skip the throughput pass because deployments could not be listed, or the reverse.
    """
    listing = Listing()
    for method, key, operation in _LISTINGS:
        found: list[Served] = []
        convert = _from_throughput if key == "provisionedModelSummaries" else _from_deployment
        try:
            for page in bedrock.get_paginator(method).paginate():
                found += [_with_tags(bedrock, convert(summary)) for summary in page.get(key, [])]
        except (ClientError, BotoCoreError) as exc:
            detail = f"{aws.error_code(exc)}: {aws.error_message(exc)}" if isinstance(exc, ClientError) else repr(exc)
            logging.getLogger(__name__).error("%s failed: %s", operation, detail)
            listing.failures.append(f"{operation}: {detail}")
        listing.served += found  # a listing that failed part-way still hands on what it saw
    return listing


def _with_tags(bedrock: Any, served: Served) -> Served:
    try:
        return Served(**{**served.__dict__, "tags": tags_of(bedrock, served.arn)})
    except ClientError as exc:
        # Deleted since the list, or its tags unreadable: one resource must not end the sweep for all the others.
        # It comes back untagged; every path that would act on that re-reads the resource first.
        if not _not_found(exc):
            logging.getLogger(__name__).warning("tags of %s unreadable: %s", served.arn, exc)
        return served


def _from_throughput(view: dict[str, Any]) -> Served:
    return Served(
        arn=view["provisionedModelArn"],
        mode=PROVISIONED,
        name=view["provisionedModelName"],
        status=view["status"],
        created=view["creationTime"],
        model_arn=view.get("modelArn"),
        commitment_end=view.get("commitmentExpirationTime"),
        failure_message=view.get("failureMessage"),
        desired_model_arn=view.get("desiredModelArn"),
    )


def _from_deployment(view: dict[str, Any]) -> Served:
    status = view["status"]
    if (view.get("updateDetails") or {}).get("updateStatus") == "Updating":
        status = "Updating"
    return Served(
        arn=view["customModelDeploymentArn"],
        mode=ON_DEMAND,
        name=view.get("modelDeploymentName") or view.get("customModelDeploymentName") or "",
        status=status,
        created=view["createdAt"],
        model_arn=view.get("modelArn"),
        failure_message=view.get("failureMessage"),
        desired_model_arn=(view.get("updateDetails") or {}).get("modelArn"),
    )
