"""The job custom resource's properties: what synth writes into the template and the handler reads back.

Versioned, so a handler can refuse properties written by a Tailor it does not understand with one line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any

from tailor.datasets import DatasetRules

SPEC_VERSION = 1


class JobResourceError(Exception):
    """A one-line reason CloudFormation shows to the user."""


@dataclass(frozen=True)
class DatasetCheck:
    uri: str
    role: str
    rules: DatasetRules


@dataclass(frozen=True)
class DatasetCopy:
    source: str  # the CDK asset object of a local dataset
    destination: str  # its content-addressed key in the training-data bucket


@dataclass(frozen=True)
class Spec:
    environment: str
    job_key: str
    request: dict[str, Any]
    record_name: str
    retain_custom_model: bool
    dataset_checks: tuple[DatasetCheck, ...] = field(default=())
    dataset_copies: tuple[DatasetCopy, ...] = field(default=())
    # The environment's key: every dataset copy names it (without it S3 would use the aws/s3 managed key).
    # None in properties written before it existed: such copies take the bucket's default encryption.
    data_key_arn: str | None = None
    # The queue (queue.py): the most jobs the account runs at once, and this job's place in the start order.
    # Properties written before the queue existed take the documented default and start first.
    max_concurrent_jobs: int = 2
    queue_position: str = "0000-0000"
    trial_of: str | None = None  # the sweep (its job key) this job is a trial of

    @property
    def job_name(self) -> str:
        return str(self.request["jobName"])

    def to_json(self) -> dict[str, Any]:
        return {
            "version": SPEC_VERSION,
            "environment": self.environment,
            "jobKey": self.job_key,
            "request": self.request,
            "recordName": self.record_name,
            "retainCustomModel": self.retain_custom_model,
            "datasetChecks": [{"uri": c.uri, "role": c.role, "rules": c.rules.to_json()} for c in self.dataset_checks],
            "datasetCopies": [{"source": c.source, "destination": c.destination} for c in self.dataset_copies],
            "dataKeyArn": self.data_key_arn,
            "maxConcurrentJobs": self.max_concurrent_jobs,
            "queuePosition": self.queue_position,
            "trialOf": self.trial_of,
        }


def parse_spec(properties: dict[str, Any]) -> Spec:
    try:
        raw = json.loads(properties["Spec"])
        if raw.get("version") != SPEC_VERSION:
            raise JobResourceError(
                f"unsupported spec version {raw.get('version')!r}; this handler understands {SPEC_VERSION}"
            )
        checks = tuple(
            DatasetCheck(
                c["uri"],
                c["role"],
                _rules(c["rules"]),
            )
            for c in raw.get("datasetChecks", [])
        )
        copies = tuple(DatasetCopy(c["source"], c["destination"]) for c in raw.get("datasetCopies", []))
        return Spec(
            raw["environment"],
            raw["jobKey"],
            raw["request"],
            raw["recordName"],
            bool(raw["retainCustomModel"]),
            checks,
            copies,
            raw.get("dataKeyArn"),
            int(raw.get("maxConcurrentJobs", 2)),
            str(raw.get("queuePosition", "0000-0000")),
            raw.get("trialOf"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise JobResourceError(
            f"malformed resource properties ({exc.__class__.__name__}: {exc}); redeploy with this version of Tailor"
        ) from None


def _rules(raw: dict[str, Any]) -> DatasetRules:
    """Rules written by any Tailor version: a key this version no longer has is dropped, not an error, so a
    Delete or a rollback that replays old properties never fails on the validator's vocabulary."""
    known = {f.name for f in fields(DatasetRules)}
    return DatasetRules.from_json({k: v for k, v in raw.items() if k in known})
