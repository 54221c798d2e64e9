"""Tests of rehearsal/service_model.py: every rule type, on real Bedrock shapes."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from botocore.exceptions import ParamValidationError
from botocore.validate import validate_parameters
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rehearsal import service_model as sm
from rehearsal.service_model import (
    RequestViolation,
    ResponseViolation,
    ServiceModelViolation,
    check_shape,
    compile_pattern,
    get_service_model,
    translate_java_regex,
    validate_error,
    validate_request,
    validate_response,
)

MODEL = get_service_model()
ROLE = "arn:aws:iam::111122223333:role/TailorBedrockRole"
UTC = dt.UTC


def job_request(**overrides):
    """A valid CreateModelCustomizationJob request using most optional members."""
    req = {
        "jobName": "tailor-ft-2026-01-05",
        "customModelName": "tailor-nova-micro_v1",
        "roleArn": ROLE,
        "clientRequestToken": "0f3c2a9d-6a1e-4f1b-9c44-2a7d8e1b5c10",
        "baseModelIdentifier": "amazon.nova-micro-v1:0:128k",
        "customizationType": "DISTILLATION",
        "customModelKmsKeyId": "alias/tailor-models",
        "jobTags": [{"key": "project", "value": "tailor"}],
        "customModelTags": [{"key": "stage", "value": "dev"}],
        "trainingDataConfig": {
            "invocationLogsConfig": {
                "usePromptResponse": False,
                "invocationLogSource": {"s3Uri": "s3://tailor-logs/invocations/"},
                "requestMetadataFilters": {"equals": {"project": "tailor"}},
            }
        },
        "validationDataConfig": {"validators": [{"s3Uri": "s3://tailor-data/validation.jsonl"}]},
        "outputDataConfig": {"s3Uri": "s3://tailor-data/output/"},
        "hyperParameters": {"epochCount": "2"},
        "vpcConfig": {"subnetIds": ["subnet-0abc"], "securityGroupIds": ["sg-0abc"]},
        "customizationConfig": {
            "distillationConfig": {
                "teacherModelConfig": {
                    "teacherModelIdentifier": "amazon.nova-pro-v1:0",
                    "maxResponseLengthForInference": 1000,
                }
            }
        },
    }
    req.update(overrides)
    return req


def violation_of(operation, params):
    with pytest.raises(RequestViolation) as info:
        validate_request(operation, params)
    return info.value


def set_path(obj, path, value):
    """Set obj[...] along a dotted path with [i] list indexes; value DELETE removes the key."""
    parts = re.findall(r"[^.\[\]]+|\[\d+\]", path)
    for part in parts[:-1]:
        obj = obj[int(part[1:-1])] if part.startswith("[") else obj[part]
    last = parts[-1]
    if value is DELETE:
        del obj[last]
    elif last.startswith("["):
        obj[int(last[1:-1])] = value
    else:
        obj[last] = value


DELETE = object()


# ---------------------------------------------------------------- valid input


def test_valid_full_request_passes():
    # Given a request that uses distillation, invocation logs, VPC, KMS alias and tags
    # When it is validated / Then nothing is raised
    validate_request("CreateModelCustomizationJob", job_request())
    # and the snake_case method name works too
    validate_request("create_model_customization_job", job_request())


def test_valid_rft_request_passes():
    # Given an RFT job with typed hyper-parameters at their bounds
    req = job_request(
        customizationType="REINFORCEMENT_FINE_TUNING",
        customizationConfig={
            "rftConfig": {
                "graderConfig": {
                    "lambdaGrader": {"lambdaArn": "arn:aws:lambda:us-east-1:111122223333:function:grader:$LATEST"}
                },
                "hyperParameters": {"epochCount": 50, "batchSize": 16, "learningRate": 1e-7, "reasoningEffort": "high"},
            }
        },
    )
    # When validated / Then it passes
    validate_request("CreateModelCustomizationJob", req)


# ---------------------------------------------------------------- one test per rule


INVALID_REQUESTS = [
    # (id, operation, path to change, new value, expected path, expected rule)
    ("required-top", "CreateModelCustomizationJob", "jobName", DELETE, "jobName", "required"),
    (
        "required-nested",
        "CreateModelCustomizationJob",
        "trainingDataConfig.invocationLogsConfig.invocationLogSource",
        DELETE,
        "trainingDataConfig.invocationLogsConfig.invocationLogSource",
        "required",
    ),
    ("type-string", "CreateModelCustomizationJob", "jobName", 123, "jobName", "type"),
    (
        "type-boolean",
        "CreateModelCustomizationJob",
        "trainingDataConfig.invocationLogsConfig.usePromptResponse",
        "no",
        "trainingDataConfig.invocationLogsConfig.usePromptResponse",
        "type",
    ),
    ("type-list", "CreateModelCustomizationJob", "jobTags", {"key": "a", "value": "b"}, "jobTags", "type"),
    ("type-map", "CreateModelCustomizationJob", "hyperParameters", [("epochCount", "2")], "hyperParameters", "type"),
    (
        "type-map-value",
        "CreateModelCustomizationJob",
        "hyperParameters",
        {"epochCount": 2},
        "hyperParameters['epochCount']",
        "type",
    ),
    (
        "type-structure",
        "CreateModelCustomizationJob",
        "outputDataConfig",
        "s3://tailor-data/output/",
        "outputDataConfig",
        "type",
    ),
    (
        "type-integer",
        "CreateModelCustomizationJob",
        "customizationConfig.distillationConfig.teacherModelConfig.maxResponseLengthForInference",
        "1000",
        "customizationConfig.distillationConfig.teacherModelConfig.maxResponseLengthForInference",
        "type",
    ),
    (
        "type-integer-bool",
        "CreateModelCustomizationJob",
        "customizationConfig.distillationConfig.teacherModelConfig.maxResponseLengthForInference",
        True,
        "customizationConfig.distillationConfig.teacherModelConfig.maxResponseLengthForInference",
        "type",
    ),
    ("enum", "CreateModelCustomizationJob", "customizationType", "LORA", "customizationType", "enum"),
    ("max-string-64-char-jobName", "CreateModelCustomizationJob", "jobName", "j" * 64, "jobName", "max"),
    ("min-string", "CreateModelCustomizationJob", "jobName", "", "jobName", "min"),
    (
        "max-list",
        "CreateModelCustomizationJob",
        "validationDataConfig.validators",
        [{"s3Uri": f"s3://tailor-data/v{i}.jsonl"} for i in range(11)],
        "validationDataConfig.validators",
        "max",
    ),
    ("min-list", "CreateModelCustomizationJob", "vpcConfig.subnetIds", [], "vpcConfig.subnetIds", "min"),
    (
        "max-map",
        "CreateModelCustomizationJob",
        "trainingDataConfig.invocationLogsConfig.requestMetadataFilters",
        {"equals": {"a": "1", "b": "2"}},
        "trainingDataConfig.invocationLogsConfig.requestMetadataFilters.equals",
        "max",
    ),
    ("pattern-jobName-space", "CreateModelCustomizationJob", "jobName", "bad name", "jobName", "pattern"),
    (
        "pattern-customModelName-dots",
        "CreateModelCustomizationJob",
        "customModelName",
        "tailor..model",
        "customModelName",
        "pattern",
    ),
    (
        "pattern-token-arn",
        "CreateModelCustomizationJob",
        "clientRequestToken",
        "arn:aws:cloudformation:us-east-1:111122223333:stack/tailor/abc",
        "clientRequestToken",
        "pattern",
    ),
    (
        "pattern-tag-key",
        "CreateModelCustomizationJob",
        "jobTags",
        [{"key": "team!", "value": "ml"}],
        "jobTags[0].key",
        "pattern",
    ),
    (
        "pattern-s3",
        "CreateModelCustomizationJob",
        "outputDataConfig.s3Uri",
        "https://tailor-data.s3.amazonaws.com/out/",
        "outputDataConfig.s3Uri",
        "pattern",
    ),
    (
        "pattern-role",
        "CreateModelCustomizationJob",
        "roleArn",
        "arn:aws:iam::111122223333:user/alice",
        "roleArn",
        "pattern",
    ),
    (
        "union-none",
        "CreateModelCustomizationJob",
        "trainingDataConfig.invocationLogsConfig.invocationLogSource",
        {},
        "trainingDataConfig.invocationLogsConfig.invocationLogSource",
        "union",
    ),
    (
        "union-both",
        "CreateModelCustomizationJob",
        "customizationConfig",
        {
            "distillationConfig": {"teacherModelConfig": {"teacherModelIdentifier": "amazon.nova-pro-v1:0"}},
            "rftConfig": {
                "graderConfig": {"lambdaGrader": {"lambdaArn": "arn:aws:lambda:us-east-1:111122223333:function:g"}}
            },
        },
        "customizationConfig",
        "union",
    ),
    (
        "unknown-nested",
        "CreateModelCustomizationJob",
        "trainingDataConfig.s3uri",
        "s3://tailor-data/train.jsonl",
        "trainingDataConfig.s3uri",
        "unknown",
    ),
    ("unknown-top", "CreateModelCustomizationJob", "epochCount", "2", "epochCount", "unknown"),
]


@pytest.mark.parametrize(
    "operation,path,value,expected_path,expected_rule",
    [case[1:] for case in INVALID_REQUESTS],
    ids=[case[0] for case in INVALID_REQUESTS],
)
def test_invalid_create_job_request_names_path_and_rule(operation, path, value, expected_path, expected_rule):
    # Given a valid request with one member broken
    req = job_request()
    set_path(req, path, value)
    # When it is validated
    err = violation_of(operation, req)
    # Then the violation names the path and the rule, and the message names the operation
    assert (expected_path, expected_rule) in list(zip(err.paths, err.rules, strict=True)), str(err)
    assert isinstance(err, AssertionError)
    assert operation in str(err) and expected_path in str(err) and f"[{expected_rule}]" in str(err)


@pytest.mark.parametrize(
    "operation,params,expected_path,expected_rule",
    [
        (
            "CreateProvisionedModelThroughput",
            {"modelUnits": 0, "provisionedModelName": "pt", "modelId": "amazon.nova-micro-v1:0:128k"},
            "modelUnits",
            "min",
        ),
        (
            "CreateProvisionedModelThroughput",
            {
                "modelUnits": 1,
                "provisionedModelName": "pt",
                "modelId": "amazon.nova-micro-v1:0:128k",
                "commitmentDuration": "OneYear",
            },
            "commitmentDuration",
            "enum",
        ),
        (
            "CreateProvisionedModelThroughput",
            {"modelUnits": 1.5, "provisionedModelName": "pt", "modelId": "amazon.nova-micro-v1:0:128k"},
            "modelUnits",
            "type",
        ),
        ("ListProvisionedModelThroughputs", {"maxResults": 1001}, "maxResults", "max"),
        ("ListModelCustomizationJobs", {"creationTimeAfter": "not a date"}, "creationTimeAfter", "type"),
        (
            "TagResource",
            {
                "resourceARN": "arn:aws:bedrock:us-east-1:111122223333:provisioned-model/abcdefabcdef",
                "tags": [{"key": "k", "value": "v" * 257}],
            },
            "tags[0].value",
            "max",
        ),
    ],
)
def test_other_operations(operation, params, expected_path, expected_rule):
    # Given an invalid request for another operation / When validated / Then path and rule are named
    err = violation_of(operation, params)
    assert (expected_path, expected_rule) in list(zip(err.paths, err.rules, strict=True)), str(err)


@pytest.mark.parametrize(
    "field,value,rule",
    [
        ("epochCount", 51, "max"),
        ("epochCount", 0, "min"),
        ("learningRate", 1e-2, "max"),
        ("learningRate", "1e-5", "type"),
        ("batchSize", 8, "min"),
    ],
)
def test_float_and_integer_ranges(field, value, rule):
    # Given an RFT hyper-parameter out of range or of the wrong type
    hp = {field: value}
    req = job_request(
        customizationType="REINFORCEMENT_FINE_TUNING",
        customizationConfig={"rftConfig": {"hyperParameters": hp}},
    )
    # When validated / Then the typed path is reported
    err = violation_of("CreateModelCustomizationJob", req)
    assert (f"customizationConfig.rftConfig.hyperParameters.{field}", rule) in list(
        zip(err.paths, err.rules, strict=True)
    )


def test_long_and_double_shapes_directly():
    # Given the only long shape (NonNegativeLong, min 0) and a double shape (0..1)
    long_shape = MODEL.shape_for("NonNegativeLong")
    double_shape = MODEL.shape_for("AutomatedReasoningCheckTranslationConfidence")
    # When / Then valid values pass and invalid ones report type/min/max
    assert check_shape(long_shape, 5) == []
    assert [v.rule for v in check_shape(long_shape, -1)] == ["min"]
    assert [v.rule for v in check_shape(long_shape, 1.5)] == ["type"]
    assert check_shape(double_shape, 0.5) == [] and check_shape(double_shape, 1) == []
    assert [v.rule for v in check_shape(double_shape, 1.01)] == ["max"]
    assert [v.rule for v in check_shape(double_shape, True)] == ["type"]


def test_several_violations_are_all_reported_with_aws_wording():
    # Given a request with two broken members
    req = job_request(jobName="bad name", customModelName="m" * 64)
    # When validated
    err = violation_of("CreateModelCustomizationJob", req)
    # Then both are reported, in the AWS ValidationException wording
    assert set(err.paths) >= {"jobName", "customModelName"}
    msg = err.aws_message()
    assert msg.startswith("3 validation errors detected: ") or msg.startswith("2 validation errors detected: ")
    assert (
        "Value 'bad name' at 'jobName' failed to satisfy constraint: Member must satisfy regular expression pattern"
        in msg
    )
    assert "at 'customModelName' failed to satisfy constraint: Member must have length less than or equal to 63" in msg


def test_sensitive_values_are_redacted():
    # Given an invalid value inside a sensitive map (RequestMetadataMap)
    req = job_request()
    req["trainingDataConfig"]["invocationLogsConfig"]["requestMetadataFilters"] = {
        "equals": {"project": "secret value!"}
    }
    # When validated / Then the value is not echoed
    err = violation_of("CreateModelCustomizationJob", req)
    assert "secret value" not in str(err) and "secret value" not in err.aws_message()
    assert "'***'" in err.aws_message()


# ---------------------------------------------------------------- the gap botocore leaves


@pytest.mark.parametrize(
    "override",
    [
        {"jobName": "j" * 64},
        {"clientRequestToken": "arn:aws:cloudformation:us-east-1:111122223333:stack/tailor/abc"},
        {"jobName": "bad name!"},
        {"customizationType": "LORA"},
    ],
)
def test_botocore_accepts_what_we_reject(override):
    # Given a request that botocore's own ParamValidator accepts
    req = job_request(**override)
    shape = MODEL.operation_model("CreateModelCustomizationJob").input_shape
    validate_parameters(req, shape)  # no ParamValidationError
    # When our validator sees it / Then it is rejected
    with pytest.raises(RequestViolation):
        validate_request("CreateModelCustomizationJob", req)


def test_botocore_and_we_both_reject_union_with_two_members():
    # Given customizationConfig with both distillationConfig and rftConfig
    req = job_request(
        customizationConfig={
            "distillationConfig": {"teacherModelConfig": {"teacherModelIdentifier": "amazon.nova-pro-v1:0"}},
            "rftConfig": {},
        }
    )
    shape = MODEL.operation_model("CreateModelCustomizationJob").input_shape
    # Then botocore rejects it, and so do we, naming the union
    with pytest.raises(ParamValidationError):
        validate_parameters(req, shape)
    err = violation_of("CreateModelCustomizationJob", req)
    assert ("customizationConfig", "union") in list(zip(err.paths, err.rules, strict=True))


# ---------------------------------------------------------------- responses


def job_response(**overrides):
    now = dt.datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    resp = {
        "jobArn": (
            "arn:aws:bedrock:us-east-1:111122223333:model-customization-job/amazon.nova-micro-v1:0:128k/abcdefghijkl"
        ),
        "jobName": "tailor-ft",
        "outputModelName": "tailor-model",
        "roleArn": ROLE,
        "creationTime": now,
        "baseModelArn": "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0:128k",
        "trainingDataConfig": {"s3Uri": "s3://tailor-data/train.jsonl"},
        "validationDataConfig": {"validators": []},
        "outputDataConfig": {"s3Uri": "s3://tailor-data/output/"},
        "status": "InProgress",
        "ResponseMetadata": {"HTTPStatusCode": 200},
    }
    resp.update(overrides)
    return resp


def test_valid_response_passes():
    validate_response("GetModelCustomizationJob", job_response())


@pytest.mark.parametrize(
    "mutate,path,rule",
    [
        (lambda r: r.pop("jobArn"), "jobArn", "required"),
        (lambda r: r.update(status="Running"), "status", "enum"),
        (lambda r: r.update(creationTime=dt.datetime(2026, 1, 5, 9, 0)), "creationTime", "type"),
        (lambda r: r.update(creationTime="2026-01-05T09:00:00Z"), "creationTime", "type"),
        (
            lambda r: r.update(jobArn="arn:aws:bedrock:us-east-1:111122223333:model-customization-job/tailor-ft"),
            "jobArn",
            "pattern",
        ),
        (lambda r: r.update(trainingMetrics={"trainingLoss": "0.1"}), "trainingMetrics.trainingLoss", "type"),
        (lambda r: r.update(modelArn="x"), "modelArn", "unknown"),
    ],
    ids=["missing-required", "enum", "naive-datetime", "string-timestamp", "moto-style-arn", "float-type", "unknown"],
)
def test_invalid_response_is_rejected(mutate, path, rule):
    # Given a response the real API could not return
    resp = job_response()
    mutate(resp)
    # When validated / Then a ResponseViolation names the path and rule
    with pytest.raises(ResponseViolation) as info:
        validate_response("GetModelCustomizationJob", resp)
    assert (path, rule) in list(zip(info.value.paths, info.value.rules, strict=True)), str(info.value)
    assert "GetModelCustomizationJob response" in str(info.value)


def test_error_bodies_and_codes():
    # A modelled error with a valid body passes; a code the operation does not model fails.
    validate_error("ThrottlingException", {"message": "slow down"}, operation="CreateProvisionedModelThroughput")
    with pytest.raises(ResponseViolation):
        validate_error("ConflictException", {"message": "x"}, operation="CreateProvisionedModelThroughput")
    with pytest.raises(ResponseViolation):
        validate_error("TooManyTagsException", {"message": "x", "resourceName": "bad name"})


def test_violation_is_an_assertion_error_subclass():
    assert issubclass(RequestViolation, ServiceModelViolation)
    assert issubclass(ResponseViolation, AssertionError)


def test_unknown_operation_raises_key_error():
    with pytest.raises(KeyError):
        validate_request("CreateFancyThing", {})


# ---------------------------------------------------------------- patterns


def all_bedrock_patterns():
    return sorted(
        {MODEL.shape_for(n).metadata["pattern"] for n in MODEL.shape_names if "pattern" in MODEL.shape_for(n).metadata}
    )


def test_every_bedrock_pattern_uses_the_linear_engine():
    # Given every pattern in the installed Bedrock model (\p{L}, \p{M} included)
    patterns = all_bedrock_patterns()
    assert len(patterns) > 50
    # When compiled / Then none is skipped and none falls back to backtracking re
    engines = {p: compile_pattern(p).engine for p in patterns}
    assert set(engines.values()) == {"linear"}, {p: e for p, e in engines.items() if e != "linear"}
    assert not (set(patterns) & set(sm.SKIPPED_PATTERNS)) and not (set(patterns) & set(sm.FALLBACK_PATTERNS))


def test_pathological_job_name_is_linear_time():
    # Given the jobName pattern, exponential for Python's backtracking re
    pattern = MODEL.shape_for("JobName").metadata["pattern"]
    compiled = compile_pattern(pattern)
    # When matching a long run of '-' followed by an invalid character
    started = time.perf_counter()
    assert compiled.fullmatch("a" + "-" * 5000 + "!") is False
    assert compiled.fullmatch("a" + "-" * 5000 + "b") is True
    # Then it answers quickly (re.fullmatch would need ~2**5000 steps)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    "java,accepts,rejects",
    [
        (
            r"\p{L}[\p{L}\p{M}0-9_]*( [\p{L}\p{M}0-9_]+)*",
            ["Grüße", "日本 語", "e\u0301t\u00e9"],
            ["1abc", "a  b", "a-b"],
        ),
        (r"\p{Alpha}\p{Digit}+", ["a1", "Z99"], ["é1", "a"]),
        (r"\P{Digit}+", ["abc"], ["a1"]),
        (r"\p{IsLu}\p{Ll}*", ["Hello"], ["hello"]),
        (r"\Qa.b\E[0-9]", ["a.b1"], ["axb1"]),
        (r"[a-z]+\z", ["abc"], ["abc\n"]),
        (r"\w+", ["abc_1"], ["é"]),  # Java \w is ASCII
        (r"a.c", ["abc"], ["a\rc", "a\u2028c"]),  # Java '.' excludes line terminators
        (r"\bfoo\b.*", ["foo bar"], ["foobar"]),
        (
            r"s3://[a-z0-9][-.a-z0-9]{1,61}[a-z0-9](?:/[-!_*'().a-z0-9A-Z]+(?:/[-!_*'().a-z0-9A-Z]+)*)?/?",
            ["s3://bucket/key.jsonl", "s3://my.bucket/"],
            ["s3://Bucket/x", "s3://bucket/a b"],
        ),
    ],
)
def test_java_constructs(java, accepts, rejects):
    compiled = compile_pattern(java)
    assert compiled.engine == "linear"
    for text in accepts:
        assert compiled.fullmatch(text), (java, text)
    for text in rejects:
        assert not compiled.fullmatch(text), (java, text)


@pytest.mark.parametrize(
    "java",
    [r"[a-z&&[^aeiou]]+", r"[\P{L}x]", r"\p{InGreek}+", r"\R", r"[a[bc]]"],
)
def test_untranslatable_patterns_are_skipped_and_recorded(java):
    # Given a Java construct the translator does not support
    compiled = compile_pattern(java)
    # Then the check is skipped (documented) and recorded with a reason
    assert compiled.engine == "skipped" and compiled.fullmatch("anything")
    assert java in sm.SKIPPED_PATTERNS and sm.SKIPPED_PATTERNS[java]


def test_lookaround_falls_back_to_python_re():
    compiled = compile_pattern(r"(?!aws:)[a-z:]+")
    assert compiled.engine == "re"
    assert compiled.fullmatch("abc") and not compiled.fullmatch("aws:x")


def test_translation_is_identity_for_plain_patterns():
    pattern = MODEL.shape_for("IdempotencyToken").metadata["pattern"]
    assert translate_java_regex(pattern) == pattern


# The \p{L} pattern is left out: hypothesis builds its huge class slowly; test_java_constructs covers it.
_PATTERNS = [p for p in all_bedrock_patterns() if "\\p{" not in p]
_ALPHABET = st.sampled_from(
    list("aZ09-_.:/ *!+@=$\n\u00e9") + ["arn:aws:bedrock:", "s3://", "custom-model/", "amazon.nova"]
)


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_linear_engine_agrees_with_python_re(data):
    # Given any Bedrock pattern and either a string it should match or a random short string
    java = data.draw(st.sampled_from(_PATTERNS), label="pattern")
    compiled = compile_pattern(java)
    python = re.compile(compiled.python, re.ASCII)
    if data.draw(st.booleans(), label="from_regex"):
        text = data.draw(
            st.from_regex(python, fullmatch=True).filter(
                lambda s: len(s) <= 300 and not _JAVA_LINE_TERMINATORS & set(s)
            ),
            label="text",
        )
    else:
        text = "".join(data.draw(st.lists(_ALPHABET, max_size=6), label="text"))
    # When both engines match / Then they agree (Java's '.' also excludes \r, \x85, \u2028 and \u2029, which
    # Python's '.' matches: strings holding them differ by design and are left out)
    assert compiled.fullmatch(text) == (python.fullmatch(text) is not None), (java, text)


# Java's '.' matches neither of these, Python's does (Pattern docs, "Line terminators"); \n excludes both.
_JAVA_LINE_TERMINATORS = {"\r", "\x85", "\u2028", "\u2029"}


@pytest.mark.parametrize("text", ["arn:aws:iam:::role/\x85", "arn:aws:iam:::role/a\u2028", "arn:aws:iam:::role/\r"])
def test_java_dot_excludes_every_line_terminator(text):
    # Given the role ARN pattern and a role name holding a Java line terminator (a counterexample hypothesis found)
    compiled = compile_pattern(r"arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+")
    # Then the linear engine refuses it, as Java (and so Bedrock) would, though Python's '.' matches it
    assert not compiled.fullmatch(text)
    assert compiled.fullmatch("arn:aws:iam:::role/a")
