"""Deterministic names shared by synth-time code and the Lambda handlers.

Every physical name is a pure function of the config, so a re-delivered request finds what the first
delivery created instead of creating a second one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

PROJECT = "tailor"
# The tags that make a Bedrock resource this environment's (serving, evaluation throughputs, jobs): nothing is
# deleted without both.
TAG_MANAGED_BY = "managed-by"
TAG_ENVIRONMENT = "environment"
# Environment and job keys become parts of Bedrock names: customModelName allows `([0-9a-zA-Z][_-]?){1,63}`
# (no dots, no two separators in a row) and jobName <= 63 characters.
KEY_PATTERN = r"[a-z0-9]+(-[a-z0-9]+)*"
KEY_PATTERN_TEXT = "lower-case letters and digits in words joined by single hyphens, e.g. support-bot"
MAX_ENV_LEN = 12
MAX_JOB_KEY_LEN = 32
HASH_LEN = 8
BEDROCK_NAME_MAX = 63


def settings_hash(settings: Any) -> str:
    """Short hash of the effective settings; a change in any of them means a new job."""
    canonical = json.dumps(settings, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:HASH_LEN]


def job_name(environment: str, job_key: str, digest: str) -> str:
    name = f"{PROJECT}-{environment}-{job_key}-{digest}"
    if len(name) > BEDROCK_NAME_MAX:  # config validation bounds the parts; this guards the arithmetic
        raise ValueError(f"job name {name!r} exceeds {BEDROCK_NAME_MAX} characters")
    return name


def client_request_token(name: str) -> str:
    """Idempotency token for a named Bedrock create call.

    The token must match `[a-zA-Z0-9]([-a-zA-Z0-9]{0,254}[a-zA-Z0-9])?`; a hash keeps it valid whatever the name.
    """
    return hashlib.sha256(f"{PROJECT}|{name}".encode()).hexdigest()


def serving_name(environment: str, key: str, digest: str) -> str:
    """Provisioned Throughput and deployment names allow `([0-9a-zA-Z][_-]?){1,63}`: keys keep single hyphens."""
    return job_name(environment, key, digest)


def serving_record_prefix(environment: str) -> str:
    return f"/{PROJECT}/{environment}/serving/"


def serving_record_name(environment: str, key: str) -> str:
    return f"{serving_record_prefix(environment)}{key}"


def schedule_group(environment: str) -> str:
    return f"{PROJECT}-{environment}"


def teardown_schedule_name(arn: str, expires_at: str) -> str:
    """One schedule per (resource, expiry): anyone holding the ARN and its expires-at tag can find it again.

    Scheduler names allow 1-64 of `[0-9a-zA-Z-_.]`.
    """
    digest = hashlib.sha256(f"{arn}|{expires_at}".encode()).hexdigest()[:16]
    return f"{PROJECT}-teardown-{digest}"


def stack_name(environment: str, part: str) -> str:
    return f"Tailor-{environment}-{part}"


def job_record_prefix(environment: str) -> str:
    return f"/{PROJECT}/{environment}/jobs/"


def job_record_name(environment: str, job_key: str) -> str:
    return f"{job_record_prefix(environment)}{job_key}"


def dataset_key(environment: str, job_key: str, role: str, sha256: str, filename: str) -> str:
    """Content-addressed S3 key: new content, new key, so a job never reads data changed under it."""
    return f"datasets/{environment}/{job_key}/{role}/{sha256[:16]}/{filename}"


def output_prefix(environment: str, job_key: str) -> str:
    return f"jobs/{environment}/{job_key}/"


def split_s3_uri(uri: str) -> tuple[str, str]:
    """s3://bucket/key -> (bucket, key); the key may be empty or a prefix."""
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


def reconciler_record_prefix(environment: str) -> str:
    return f"/{PROJECT}/{environment}/reconciler/"


def heartbeat_record_name(environment: str) -> str:
    """Written by an environment's reconciler at every pass; read by the others to find orphaned serving."""
    return f"{reconciler_record_prefix(environment)}heartbeat"


def export_name(environment: str, what: str) -> str:
    """The CloudFormation export an environment's stacks share (and the `tailor` commands read)."""
    return f"Tailor-{environment}-{what}"


def dashboard_name(environment: str) -> str:
    """Fixed, so its URL is known before it exists (dashboard names allow letters, digits, - and _)."""
    return f"{PROJECT}-{environment}"


def dashboard_url(environment: str, region: str) -> str:
    """The environment's CloudWatch dashboard in the console of the commercial partition (cdk.json's only one)."""
    name = dashboard_name(environment)
    return f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards/dashboard/{name}"


def owned_by(tags: Mapping[str, str], environment: str) -> bool:
    """Tagged as made by Tailor for this environment: the one test before anything is deleted."""
    return tags.get(TAG_MANAGED_BY) == PROJECT and tags.get(TAG_ENVIRONMENT) == environment
