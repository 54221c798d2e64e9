"""The evaluation's requests, prompt datasets and scores, checked against botocore's model and the docs' layout."""

from __future__ import annotations

import json
import re

import boto3
import pytest

from rehearsal.service_model import validate_request
from tailor.config.evaluation import Evaluation, Gate
from tailor.config.sources import DataSource
from tailor.jobs import evaluation
from tests.conftest import REGION

SETTINGS = evaluation.settings(
    Evaluation(
        DataSource("s3://team-data/prompts.jsonl"),
        "QuestionAndAnswer",
        ("Builtin.Accuracy",),
        "Builtin.Accuracy",
        None,
        2,
        Gate(),
        1.0,
    ),
    job_key="support-bot",
    dataset_uri="s3://tailor-dev-data/datasets/dev/support-bot/evaluation/0123456789abcdef/evaluation.jsonl",
    role_arn="arn:aws:iam::111122223333:role/tailor-dev-evaluation",
    output_uri="s3://tailor-dev-output/evaluations/dev/support-bot/",
    base_model_id="amazon.nova-micro-v1:0",
    dataset_check=False,
)
PT = "arn:aws:bedrock:us-east-1:111122223333:provisioned-model/abcdefghijkl"


@pytest.mark.parametrize("model", [PT, "amazon.nova-micro-v1:0"])
@pytest.mark.parametrize("judge", [None, "amazon.nova-pro-v1:0"])
def test_the_request_is_valid_for_botocores_model_for_a_throughput_and_for_a_base_model(model, judge):
    settings = {**SETTINGS, "judgeModel": judge, "metrics": ["Builtin.Correctness"] if judge else ["Builtin.Accuracy"]}
    name = evaluation.job_name(
        "dev", "support-bot", "tailor-dev-support-bot-0a1b2c3d", "tailor-dev-support-bot-11112222"
    )
    request = evaluation.request(
        settings, name=name, model_identifier=model, environment="dev", job_key="support-bot", what="trial 1"
    )
    validate_request("CreateEvaluationJob", request)  # raises on any violation of the service model
    assert re.fullmatch(r"[a-z0-9](-*[a-z0-9]){0,62}", request["jobName"])
    assert re.fullmatch(r"[0-9a-f]{64}", request["clientRequestToken"])  # a SHA-256 of the name: repeats adopt
    assert request["inferenceConfig"] == {"models": [{"bedrockModel": {"modelIdentifier": model}}]}
    assert ("evaluatorModelConfig" in request["evaluationConfig"]["automated"]) == bool(judge)


def test_an_evaluation_job_name_is_deterministic_per_subject_and_attempt():
    args = ("dev", "support-bot", "tailor-dev-support-bot-0a1b2c3d")
    assert evaluation.job_name(*args, "base") == evaluation.job_name(*args, "base")
    assert evaluation.job_name(*args, "base") != evaluation.job_name(*args, "base", attempt=1)
    assert evaluation.job_name(*args, "base") != evaluation.job_name(*args, "tailor-dev-support-bot-11112222")


def lines(*records):
    return [json.dumps(r).encode() if not isinstance(r, bytes) else r for r in records]


def test_a_valid_question_and_answer_dataset_passes():
    found, count = evaluation.validate_prompts(
        lines(
            {"prompt": "Hi?", "referenceResponse": "Hello.", "category": "greeting"},
            b"",
            {"prompt": "A?", "referenceResponse": "B."},
        ),
        task_type="QuestionAndAnswer",
        metrics=["Builtin.Accuracy"],
    )
    assert (found, count) == ([], 2)


@pytest.mark.parametrize(
    "record, task, metrics, expected",
    [
        (b"{not json", "Generation", ["Builtin.Toxicity"], "not a JSON object"),
        ([1, 2], "Generation", ["Builtin.Toxicity"], "is a JSON list; each line must be an object with a prompt"),
        ({"prompt": ""}, "Generation", ["Builtin.Toxicity"], "needs a non-empty string `prompt`"),
        (
            {"prompt": "x", "answer": "y"},
            "Generation",
            ["Builtin.Toxicity"],
            "unknown key(s) answer; allowed: prompt, referenceResponse, category",
        ),
        (
            {"prompt": "x"},
            "QuestionAndAnswer",
            ["Builtin.Toxicity"],
            "needs a non-empty `referenceResponse`: question-and-answer tasks",
        ),
        ({"prompt": "x"}, "Generation", ["Builtin.Robustness"], "the accuracy and robustness metrics compare"),
        ({"prompt": "x", "category": 3}, "Generation", ["Builtin.Toxicity"], "`category` must be a string"),
    ],
)
def test_each_bad_prompt_is_named_by_its_line(record, task, metrics, expected):
    good = {"prompt": "ok", "referenceResponse": "fine"}
    found, _ = evaluation.validate_prompts(lines(good, record), task_type=task, metrics=metrics)
    assert len(found) == 1 and found[0][0] == 2 and expected in found[0][1]


def test_an_empty_or_oversized_dataset_is_refused():
    assert evaluation.validate_prompts([], task_type="Generation", metrics=[])[0] == [
        (0, "has no prompts; an evaluation needs at least one")
    ]
    found, count = evaluation.validate_prompts(lines(*[{"prompt": "p"}] * 1001), task_type="Generation", metrics=[])
    assert count == 1001 and found == [(0, "has 1,001 prompts; an evaluation job takes at most 1,000")]


def test_scores_are_read_from_every_result_file_and_averaged_over_prompts(aws):
    # Given result files at the documented layout, metric names with and without Builtin., and other files
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="tailor-dev-output")
    base = "evaluations/dev/support-bot/tailor-dev-x-1/uuid/models/pt/taskTypes/QuestionAndAnswer/datasets/d/"
    s3.put_object(
        Bucket="tailor-dev-output",
        Key=base + "a_output.jsonl",
        Body=b"\n".join(
            lines(
                {"automatedEvaluationResult": {"scores": [{"metricName": "Accuracy", "result": 0.5}]}},
                {"automatedEvaluationResult": {"scores": [{"metricName": "Builtin.Accuracy", "result": 0.7}]}},
                b"garbage",
                {"automatedEvaluationResult": {"scores": [{"metricName": "Accuracy", "result": None}]}},
            )
        ),
    )
    s3.put_object(
        Bucket="tailor-dev-output",
        Key=base + "b_output.jsonl",
        Body=json.dumps({"automatedEvaluationResult": {"scores": [{"metricName": "Accuracy", "result": 0.9}]}}),
    )
    s3.put_object(Bucket="tailor-dev-output", Key=base + "custom_metrics.json", Body=b"{}")
    s3.put_object(
        Bucket="tailor-dev-output", Key="evaluations/dev/support-bot/tailor-dev-x-10/u/a_output.jsonl", Body=b"{}"
    )
    # When the job's scores are read
    scores = evaluation.read_scores(s3, "s3://tailor-dev-output/evaluations/dev/support-bot/", "tailor-dev-x-1")
    # Then each metric is the mean over its prompts, under its Builtin. name, from this job's files only
    assert scores == {"Builtin.Accuracy": pytest.approx(0.7)}
