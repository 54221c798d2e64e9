"""Builds realistic custom-resource events from the shipped example config (the same code path synth uses)."""

from __future__ import annotations

import json
from functools import cache

from tailor import naming
from tailor.config.catalog import load_catalog
from tailor.config.environment import Environment, load_environment
from tailor.jobs.request import Deployment, build_request
from tailor.jobs.spec import DatasetCheck, DatasetCopy, Spec
from tests.conftest import ACCOUNT, REGION, ROOT

DATA_BUCKET = "tailor-dev-data"
OUTPUT_BUCKET = "tailor-dev-output"
ASSET_BUCKET = f"cdk-hnb659fds-assets-{ACCOUNT}-{REGION}"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/tailor-dev-bedrock"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@cache
def environment(name: str = "dev") -> Environment:
    return load_environment(ROOT / "config" / f"{name}.yaml", load_catalog(), base_dir=ROOT)


def spec(
    job_key: str = "support-bot",
    *,
    env: str = "dev",
    s3_training: str | None = None,
    retain: bool | None = None,
    revision: int | None = None,
) -> Spec:
    config = environment(env)
    job = config.jobs[job_key]
    if revision is not None:
        from dataclasses import replace

        job = replace(job, revision=revision, name=naming.job_name(config.name, job.key, f"{revision:08d}"))
    uris, copies = {}, []
    sources = ([("training", job.training)] if job.training else []) + [
        (f"validation-{i}", v) for i, v in enumerate(job.validation)
    ]
    for role, source in sources:
        if source.is_local:
            key = naming.dataset_key(config.name, job.key, role, source.sha256, source.path.name)
            uris[role] = f"s3://{DATA_BUCKET}/{key}"
            copies.append(DatasetCopy(f"s3://{ASSET_BUCKET}/{source.sha256}.jsonl", uris[role]))
        else:
            uris[role] = source.location
    checks = ()
    if s3_training is not None:
        uris["training"] = s3_training
        copies = [c for c in copies if not c.destination.endswith("/train.jsonl") or "/training/" not in c.destination]
        checks = (DatasetCheck(s3_training, "training", job.customization.training_rules),)
    deployment = Deployment(
        ROLE_ARN,
        OUTPUT_BUCKET,
        KEY_ARN,
        uris,
        f"arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/{job.teacher_profile}" if job.teacher_profile else None,
    )
    return Spec(
        config.name,
        job.key,
        build_request(config, job, deployment),
        naming.job_record_name(config.name, job.key),
        job.retain_custom_model if retain is None else retain,
        checks,
        tuple(copies),
        KEY_ARN,
    )


def event(request_type: str, spec_: Spec, *, physical_id: str | None = None, old: Spec | None = None) -> dict:
    body = {
        "RequestType": request_type,
        "RequestId": "req-1",
        "StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/Tailor-dev-Jobs/abc",
        "LogicalResourceId": "JobSupportBot",
        "ResourceType": "Custom::TailorCustomizationJob",
        "ResourceProperties": {"ServiceToken": "arn:aws:lambda:token", "Spec": json.dumps(spec_.to_json())},
    }
    if physical_id:
        body["PhysicalResourceId"] = physical_id
    if old is not None:
        body["OldResourceProperties"] = {"ServiceToken": "arn:aws:lambda:token", "Spec": json.dumps(old.to_json())}
    return body


def stage_assets(s3, spec_: Spec) -> None:
    """What `cdk deploy` does before the custom resource runs: buckets exist and local datasets are uploaded assets."""
    existing = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    for bucket in (DATA_BUCKET, OUTPUT_BUCKET, ASSET_BUCKET):
        if bucket not in existing:
            s3.create_bucket(Bucket=bucket)
    config = environment(spec_.environment)
    job = config.jobs[spec_.job_key]
    for source in ([job.training] if job.training else []) + list(job.validation):
        if source.is_local:
            s3.put_object(Bucket=ASSET_BUCKET, Key=f"{source.sha256}.jsonl", Body=source.path.read_bytes())
