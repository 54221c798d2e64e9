"""Evaluating a sweep's best trials with Amazon Bedrock model evaluation jobs (CreateEvaluationJob).

What is confirmed, and where (botocore 1.44.8 bedrock model unless a docs page is named):
- The request: jobName `[a-z0-9](-*[a-z0-9]){0,62}`, roleArn, evaluationConfig.automated with 1-5
  datasetMetricConfigs (taskType, dataset {name, datasetLocation.s3Uri}, 1-25 metricNames) and, for
  judge metrics, evaluatorModelConfig.bedrockEvaluatorModels (one model); inferenceConfig.models;
  outputDataConfig.s3Uri; clientRequestToken.
- An automated job evaluates ONE model (API reference, EvaluationInferenceConfig: "For automated model
  evaluation jobs, only a single model is supported"): each trial, and the base model, is its own job.
- EvaluationBedrockModelIdentifier accepts a provisioned-model ARN and foundation-model ids, not a
  custom-model or custom-model-deployment ARN (checked against its pattern): a custom model is evaluated
  through a Provisioned Throughput, started and retired by tailor/serving/job_serving.py.
- GetEvaluationJob takes the job ARN only (EvaluationJobIdentifier) and returns status InProgress |
  Completed | Failed | Stopping | Stopped | Deleting, but no scores. No EventBridge event is documented for
  evaluation jobs: the completion handler's reconcile schedule polls them.
- Scores are in S3 [docs:model-evaluation-report-s3]: <output>/<job-name>/<job-uuid>/models/<model-id>/
  taskTypes/<task>/datasets/<dataset>/<file-uuid>_output.jsonl, one line per prompt with
  automatedEvaluationResult.scores[] of {metricName, result}. The metric names there ("Accuracy" in the
  docs' example, without "Builtin."): both spellings are read. The job's score is the mean over prompts.
- Custom prompt datasets [docs:model-evaluation-prompt-datasets-custom]: JSON Lines, at most 1,000 prompts
  per job; `prompt` required; `referenceResponse` required for question-and-answer tasks and for the
  accuracy and robustness metrics; `category` optional.
UNCONFIRMED: how a job reaches a Provisioned Throughput (the evaluation role holds bedrock:InvokeModel on
this account's provisioned models); whether the base model can be evaluated by its foundation-model id in
every Region (some need an inference profile); the judge models Bedrock offers per Region.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from tailor import aws, naming
from tailor.config.evaluation import Evaluation
from tailor.jobs.spec import JobResourceError

log = logging.getLogger(__name__)
MAX_PROMPTS = 1000
PROMPT_KEYS = ("prompt", "referenceResponse", "category")
NEEDS_REFERENCE_METRICS = ("Builtin.Accuracy", "Builtin.Robustness")
ENDED = ("Completed", "Failed", "Stopped")
RUNNING = ("InProgress", "Stopping")
BASE = "base"  # the subject key of the base model's evaluation in a sweep record
MAX_REASON_ERRORS = 5


def settings(
    evaluation: Evaluation,
    *,
    job_key: str,
    dataset_uri: str,
    role_arn: str,
    output_uri: str,
    base_model_id: str,
    dataset_check: bool,
) -> dict[str, Any]:
    """What the completion handler needs at run time (in the sweep resource's properties and record)."""
    gate = evaluation.gate
    return {
        "datasetUri": dataset_uri,
        "datasetName": f"{job_key}-prompts",
        "datasetCheck": dataset_check,  # S3 data: validated by the sweep resource at deploy
        "taskType": evaluation.task_type,
        "metrics": list(evaluation.metrics),
        "metric": evaluation.metric,
        "higherIsBetter": evaluation.higher_is_better,
        "judgeModel": evaluation.judge_model,
        "top": evaluation.top,
        "gate": {
            "minScore": gate.min_score,
            "maxScore": gate.max_score,
            "betterThanBase": gate.better_than_base,
        },
        "hours": evaluation.hours,
        "modelUnits": evaluation.model_units,
        "roleArn": role_arn,
        "outputUri": output_uri,
        "baseModelIdentifier": base_model_id,
    }


# ---------------------------------------------------------------------------------------- the prompt dataset
def validate_prompts(
    lines: Iterable[bytes], *, task_type: str, metrics: Iterable[str], max_errors: int = 20
) -> tuple[list[tuple[int, str]], int]:
    """(line number, problem) for each bad line, at most `max_errors` of them, and the number of prompts."""
    needs_reference = task_type == "QuestionAndAnswer" or any(m in NEEDS_REFERENCE_METRICS for m in metrics)
    problems: list[tuple[int, str]] = []
    count = 0
    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text:
            continue
        count += 1
        problem = _prompt_problem(text, needs_reference, task_type)
        if problem is not None and len(problems) < max_errors:
            problems.append((number, problem))
    if count == 0:
        problems.append((0, "has no prompts; an evaluation needs at least one"))
    elif count > MAX_PROMPTS:
        problems.append((0, f"has {count:,} prompts; an evaluation job takes at most {MAX_PROMPTS:,}"))
    return problems, count


def _prompt_problem(text: bytes, needs_reference: bool, task_type: str) -> str | None:
    try:
        record = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        return f"not a JSON object ({str(exc).split(':')[0]}); each line is one prompt, e.g. " + json.dumps(
            {"prompt": "...", "referenceResponse": "..."}
        )
    if not isinstance(record, dict):
        return f"is a JSON {type(record).__name__}; each line must be an object with a prompt"
    unknown = sorted(set(record) - set(PROMPT_KEYS))
    if unknown:
        return f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(PROMPT_KEYS)}"
    prompt = record.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        return "needs a non-empty string `prompt`"
    reference = record.get("referenceResponse")
    if reference is not None and not isinstance(reference, str):
        return "`referenceResponse` must be a string"
    if needs_reference and not (isinstance(reference, str) and reference.strip()):
        why = "question-and-answer tasks" if task_type == "QuestionAndAnswer" else "the accuracy and robustness metrics"
        return f"needs a non-empty `referenceResponse`: {why} compare the model's answer with it"
    if record.get("category") is not None and not isinstance(record["category"], str):
        return "`category` must be a string"
    return None


def check_prompt_dataset(s3: Any, run_settings: dict[str, Any]) -> None:
    """An S3 prompt dataset was not visible at synth: validate it before anything is evaluated (deploy time)."""
    uri = str(run_settings["datasetUri"])
    bucket, key = naming.split_s3_uri(uri)
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    except ClientError as exc:
        raise JobResourceError(
            f"cannot read the evaluation dataset {uri}: {aws.error_code(exc)}: {aws.error_message(exc)}"
        ) from None
    problems, _ = validate_prompts(
        body.iter_lines(),
        task_type=run_settings["taskType"],
        metrics=run_settings["metrics"],
        max_errors=MAX_REASON_ERRORS,
    )
    if problems:
        shown = "; ".join(f"{uri}:{line}: {text}" if line else f"{uri}: {text}" for line, text in problems)
        raise JobResourceError(f"the evaluation dataset is invalid, the sweep was not deployed: {shown}")


# ------------------------------------------------------------------------------------------------- the jobs
def job_name(environment: str, job_key: str, sweep_name: str, subject: str, attempt: int = 0) -> str:
    """Deterministic and lower-case (evaluation job names allow no capitals): the same subject of the same sweep
    definition is always the same job, so a repeated start adopts it."""
    digest = naming.settings_hash(["evaluation", sweep_name, subject, attempt])
    return naming.job_name(environment, job_key, digest)


def request(
    run_settings: dict[str, Any], *, name: str, model_identifier: str, environment: str, job_key: str, what: str
) -> dict[str, Any]:
    automated: dict[str, Any] = {
        "datasetMetricConfigs": [
            {
                "taskType": run_settings["taskType"],
                "dataset": {
                    "name": run_settings["datasetName"],
                    "datasetLocation": {"s3Uri": run_settings["datasetUri"]},
                },
                "metricNames": list(run_settings["metrics"]),
            }
        ]
    }
    if run_settings.get("judgeModel"):
        automated["evaluatorModelConfig"] = {
            "bedrockEvaluatorModels": [{"modelIdentifier": run_settings["judgeModel"]}]
        }
    return {
        "jobName": name,
        "jobDescription": f"Tailor {environment}: sweep {job_key}, {what}"[:200],
        "clientRequestToken": naming.client_request_token(name),
        "roleArn": run_settings["roleArn"],
        "jobTags": [
            {"key": naming.TAG_ENVIRONMENT, "value": environment},
            {"key": naming.TAG_MANAGED_BY, "value": naming.PROJECT},
            {"key": "tailor:job", "value": job_key},
        ],
        "applicationType": "ModelEvaluation",
        "evaluationConfig": {"automated": automated},
        "inferenceConfig": {"models": [{"bedrockModel": {"modelIdentifier": model_identifier}}]},
        "outputDataConfig": {"s3Uri": run_settings["outputUri"]},
    }


def start(bedrock: Any, job_request: dict[str, Any]) -> str:
    """Starts the job, or finds the one an earlier pass started under this name (the token makes it the same)."""
    try:
        return str(bedrock.create_evaluation_job(**job_request)["jobArn"])
    except ClientError as exc:
        if aws.error_code(exc) not in ("ConflictException", "ValidationException"):
            raise
        found = find(bedrock, job_request["jobName"])
        if found is None:
            raise
        return found


def find(bedrock: Any, name: str) -> str | None:
    for page in bedrock.get_paginator("list_evaluation_jobs").paginate(nameContains=name):
        for summary in page.get("jobSummaries", []):
            if summary.get("jobName") == name:
                return str(summary["jobArn"])
    return None


def state(bedrock: Any, arn: str) -> tuple[str, str | None]:
    """(status, failure text); a job that no longer exists reads as Failed."""
    try:
        job = bedrock.get_evaluation_job(jobIdentifier=arn)
    except ClientError as exc:
        if aws.error_code(exc) == "ResourceNotFoundException":
            return "Failed", "the evaluation job no longer exists"
        raise
    failures = job.get("failureMessages") or []
    return str(job["status"]), ("; ".join(failures)[:500] or None)


def read_scores(s3: Any, output_uri: str, name: str) -> dict[str, float]:
    """The mean score per metric (named Builtin.<Metric>) over every prompt of the job's result files."""
    bucket, prefix = naming.split_s3_uri(output_uri.rstrip("/") + "/")
    totals: dict[str, list[float]] = {}
    for key in _result_keys(s3, bucket, f"{prefix}{name}/"):
        body = s3.get_object(Bucket=bucket, Key=key)["Body"]
        for metric, value in _scores(body.iter_lines()):
            totals.setdefault(metric, []).append(value)
    return {metric: sum(values) / len(values) for metric, values in totals.items() if values}


def _result_keys(s3: Any, bucket: str, prefix: str) -> Iterator[str]:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            if str(item["Key"]).endswith("_output.jsonl"):
                yield str(item["Key"])


def _scores(lines: Iterable[bytes]) -> Iterator[tuple[str, float]]:
    for raw in lines:
        try:
            record = json.loads(raw)
        except ValueError:
            continue
        result = record.get("automatedEvaluationResult") if isinstance(record, dict) else None
        for score in (result or {}).get("scores") or []:
            name, value = score.get("metricName"), score.get("result")
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if isinstance(name, str) and number and math.isfinite(value):
                yield (name if name.startswith("Builtin.") else f"Builtin.{name}"), float(value)


def stop(bedrock: Any, arn: str) -> None:
    try:
        bedrock.stop_evaluation_job(jobIdentifier=arn)
    except ClientError as exc:
        if aws.error_code(exc) not in ("ResourceNotFoundException", "ConflictException", "ValidationException"):
            raise


def stop_all(clients: Any, sweep_record: dict[str, Any]) -> None:
    """Ends everything an evaluation of this sweep still runs: its jobs stopped, its throughputs deleted.

    Called when the sweep's resource is deleted (the stack, or the sweep block removed). A throughput is
    deleted only while it carries this environment's tags; its teardown schedule then finds it gone.
    """
    environment = sweep_record.get("environment")
    subjects = list((sweep_record.get("evaluations") or {}).values()) + list(sweep_record.get("retire") or [])
    for subject in subjects:
        if subject.get("evaluationJobArn") and subject.get("status") not in ENDED:
            try:
                stop(clients.bedrock, str(subject["evaluationJobArn"]))
            except ClientError as exc:
                log.error("could not stop evaluation %s: %s", subject["evaluationJobArn"], exc)
        if subject.get("throughputArn"):
            _delete_throughput(clients.bedrock, str(subject["throughputArn"]), str(environment))


def _delete_throughput(bedrock: Any, arn: str, environment: str) -> None:
    try:
        tags = {t["key"]: t["value"] for t in bedrock.list_tags_for_resource(resourceARN=arn).get("tags") or []}
        if not naming.owned_by(tags, environment):
            log.warning("not deleting %s: not this environment's (tags %s)", arn, tags)
            return
        bedrock.delete_provisioned_model_throughput(provisionedModelId=arn)
    except ClientError as exc:
        if aws.error_code(exc) == "ResourceNotFoundException":
            return
        # Creating (ConflictException) or refused: its expires-at tag and the reconciler still end it.
        log.error("could not delete evaluation throughput %s now: %s", arn, exc)


def expired(started_at: str | None, now: datetime, hours: float) -> bool:
    """An evaluation step waiting longer than its throughput may live has failed."""
    if not started_at:
        return False
    try:
        began = datetime.fromisoformat(started_at)
    except ValueError:
        return False
    return (now - began).total_seconds() > hours * 3600
