"""Builds the CreateModelCustomizationJob request for a job (pure; runs at synth with CDK tokens as values).

Field names and shapes checked against botocore 1.44.8's bedrock service model (bedrock.md A.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tailor import naming
from tailor.config.environment import Environment
from tailor.config.job import Job

MANAGED_BY = naming.PROJECT


@dataclass(frozen=True)
class Deployment:
    """Deploy-time values (tokens at synth) the request refers to."""

    role_arn: str
    output_bucket: str
    kms_key_arn: str | None
    dataset_uris: dict[str, str]  # "training" / "validation-<i>" -> s3:// URI of uploaded or given data
    teacher_profile_arn: str | None = None  # when the teacher is reached through a system inference profile


def build_request(env: Environment, job: Job, deployment: Deployment) -> dict[str, Any]:
    request: dict[str, Any] = {
        "jobName": job.name,
        "customModelName": job.name,
        "roleArn": deployment.role_arn,
        "baseModelIdentifier": job.base_model,
        "customizationType": job.customization.api_type,
        "clientRequestToken": naming.client_request_token(job.name),
        "trainingDataConfig": _training(job, deployment),
        "outputDataConfig": {"s3Uri": f"s3://{deployment.output_bucket}/{output_prefix(env.name, job)}"},
        "jobTags": _tags(env, job),
        "customModelTags": _tags(env, job),
    }
    if job.validation:
        request["validationDataConfig"] = {
            "validators": [{"s3Uri": deployment.dataset_uris[f"validation-{i}"]} for i in range(len(job.validation))]
        }
    if job.customization.hyperparameter_style == "string_map" and job.hyperparameters:
        request["hyperParameters"] = {name: format_value(value) for name, value in sorted(job.hyperparameters.items())}
    if deployment.kms_key_arn:
        request["customModelKmsKeyId"] = deployment.kms_key_arn
    if job.vpc is not None:
        request["vpcConfig"] = {
            "subnetIds": list(job.vpc.subnet_ids),
            "securityGroupIds": list(job.vpc.security_group_ids),
        }
    customization = _customization_config(job, deployment)
    if customization:
        request["customizationConfig"] = customization
    return request


def output_prefix(environment: str, job: Job) -> str:
    """jobs/<env>/<key>/, and a folder of its own for each trial of a sweep (they share the job key)."""
    prefix = naming.output_prefix(environment, job.key)
    return f"{prefix}trials/{job.settings_digest}/" if job.trial is not None else prefix


def format_value(value: Any) -> str:
    """hyperParameters is a map of strings (an int is a ParamValidationError); repr keeps floats exact."""
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1:
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def _training(job: Job, deployment: Deployment) -> dict[str, Any]:
    if job.invocation_logs is not None:
        logs: dict[str, Any] = {
            "usePromptResponse": job.invocation_logs.use_prompt_response,
            "invocationLogSource": {"s3Uri": job.invocation_logs.s3_uri},
        }
        if job.invocation_logs.request_metadata_filters:
            logs["requestMetadataFilters"] = _plain(job.invocation_logs.request_metadata_filters)
        return {"invocationLogsConfig": logs}
    return {"s3Uri": deployment.dataset_uris["training"]}


def _customization_config(job: Job, deployment: Deployment) -> dict[str, Any] | None:
    if job.type == "distillation":
        if job.teacher_profile and not deployment.teacher_profile_arn:
            raise ValueError(
                f"job {job.key}: the teacher is reached through inference profile "
                f"{job.teacher_profile}; its ARN is required"
            )
        teacher: dict[str, Any] = {"teacherModelIdentifier": deployment.teacher_profile_arn or job.teacher_model}
        if job.teacher_max_response_length is not None:
            teacher["maxResponseLengthForInference"] = job.teacher_max_response_length
        return {"distillationConfig": {"teacherModelConfig": teacher}}
    if job.type == "reinforcement_fine_tuning":
        rft: dict[str, Any] = {"graderConfig": {"lambdaGrader": {"lambdaArn": job.grader_lambda_arn}}}
        if job.hyperparameters:
            rft["hyperParameters"] = dict(sorted(job.hyperparameters.items()))
        return {"rftConfig": rft}
    return None


def _tags(env: Environment, job: Job) -> list[dict[str, str]]:
    tags = {
        **env.tags,
        **job.tags,
        naming.TAG_MANAGED_BY: MANAGED_BY,
        naming.TAG_ENVIRONMENT: env.name,
        "tailor:job": job.key,
    }
    return [{"key": k, "value": v} for k, v in sorted(tags.items())]


def _plain(value: Any) -> Any:
    if isinstance(value, dict) or hasattr(value, "items"):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
