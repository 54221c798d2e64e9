"""The schema of one job: its keys, the rules the catalog gives per base model (the types it takes, each type's
hyperparameter ranges), its sweep with its evaluation, and its invocation-log source."""

from __future__ import annotations

from typing import Any

from tailor.config import evaluation, job, sources, sweep
from tailor.config.json_schema_sections import full, number
from tailor.config.models import CUSTOMIZATION_TYPES, Catalog, Hyperparameter
from tailor.config.policy import MIN_HOURS

MAX_DESCRIPTION = 200


def job_schema(catalog: Catalog, models: list[str]) -> dict[str, Any]:
    data = {
        "type": "string",
        "pattern": f"^(?:{sources.S3_URI}|(?![/~])(?:.*)\\.jsonl)$",
        "description": "A .jsonl file inside the repository (relative to it), or s3://bucket/key.jsonl.",
    }
    properties = {
        "type": {"enum": list(CUSTOMIZATION_TYPES)},
        "base_model": {"description": "A catalog model id (`tailor models` lists them).", "enum": models},
        "training_data": data,
        "validation_data": {
            "anyOf": [data, {"type": "array", "items": data, "minItems": 1, "maxItems": sources.MAX_VALIDATION_SETS}]
        },
        "hyperparameters": {
            "description": "Checked against the catalog's ranges for the base model and type; defaults filled in.",
            "type": ["object", "null"],
        },
        "revision": {"description": "Bump to re-run identical settings.", "type": "integer", "minimum": 0},
        "teacher_model": {"description": "Distillation only: the teacher.", "enum": sorted(catalog.teachers)},
        "teacher_max_response_length": {"type": "integer", "minimum": 1},
        "invocation_logs": _invocation_logs(),
        "grader": {
            "type": "object",
            "additionalProperties": False,
            "required": ["lambda_arn"],
            "properties": {"lambda_arn": {"type": "string", "pattern": full(job.LAMBDA_ARN)}},
        },
        "vpc": {"$ref": "#/definitions/vpc"},
        "tags": {"$ref": "#/definitions/tags"},
        "retain_custom_model": {"type": "boolean"},
        "description": {"type": "string", "maxLength": MAX_DESCRIPTION},
        "serve": {"$ref": "#/definitions/serve"},
        "sweep": _sweep(data),
    }
    assert set(properties) == set(job.JOB_KEYS)
    rules: list[dict[str, Any]] = [
        {"if": _is("type", "distillation"), "then": {"required": ["teacher_model"]}},
        {"if": _is("type", "reinforcement_fine_tuning"), "then": {"required": ["grader"]}},
        {
            "if": {"properties": {"type": {"enum": ["fine_tuning", "continued_pre_training"]}}, "required": ["type"]},
            "then": {"required": ["training_data"]},
        },
    ]
    for model_id in models:
        model = catalog.models[model_id]
        rules.append(
            {"if": _is("base_model", model_id), "then": {"properties": {"type": {"enum": list(model.customizations)}}}}
        )
        for ctype, customization in model.customizations.items():
            hps = {name: _hyperparameter(spec) for name, spec in customization.hyperparameters.items()}
            rules.append(
                {
                    "if": {
                        "properties": {"base_model": {"const": model_id}, "type": {"const": ctype}},
                        "required": ["base_model", "type"],
                    },
                    "then": {"properties": {"hyperparameters": {"properties": hps, "additionalProperties": False}}},
                }
            )
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["type", "base_model"],
        "properties": properties,
        "allOf": rules,
    }


def _sweep(data: dict[str, Any]) -> dict[str, Any]:
    """Hyperparameter names with lists (a grid), or `random`; the names and values are checked per model."""
    axis = {
        "anyOf": [
            {"type": "array", "minItems": 1},
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {"min": {"type": "number"}, "max": {"type": "number"}, "log": {"type": "boolean"}},
            },
        ]
    }
    metrics = sorted(evaluation.METRICS)
    evaluate = {
        "description": "Evaluate the best trials by loss with a Bedrock model evaluation job; serve only what passes.",
        "type": "object",
        "additionalProperties": False,
        "required": ["dataset", "task_type", "metrics"],
        "properties": {
            "dataset": {**data, "description": "A prompt dataset (prompt, referenceResponse, category per line)."},
            "task_type": {"enum": list(evaluation.TASK_TYPES)},
            "metrics": {"type": "array", "minItems": 1, "maxItems": evaluation.MAX_METRICS, "items": {"enum": metrics}},
            "metric": {"description": "The metric the winner is chosen by (default: the first).", "enum": metrics},
            "judge_model": {"description": "The judge for judge metrics.", "type": "string"},
            "top": {
                "description": "How many of the best trials by loss are evaluated.",
                "type": "integer",
                "minimum": 1,
            },
            "gate": {
                "type": "object",
                "additionalProperties": False,
                "minProperties": 1,
                "maxProperties": 1,
                "properties": {
                    "min_score": {"type": "number"},
                    "max_score": {"type": "number"},
                    "better_than_base": {"const": True},
                },
            },
            "hours": number("The longest each evaluation's Provisioned Throughput lives.", MIN_HOURS),
            "model_units": {"type": "integer", "minimum": 1},
        },
    }
    return {
        "description": (
            "A hyperparameter sweep: hyperparameter names with lists of values (every combination is a trial) or "
            f"random: {{count, seed, <name>: {{min, max, log}} | [values]}}; at most {sweep.MAX_TRIALS} trials."
        ),
        "type": "object",
        "properties": {
            "random": {
                "type": "object",
                "required": ["count"],
                "properties": {
                    "count": {"type": "integer", "minimum": sweep.MIN_TRIALS, "maximum": sweep.MAX_TRIALS},
                    "seed": {"type": "integer", "minimum": 0},
                },
                "additionalProperties": axis,
            },
            "evaluate": evaluate,
        },
        "additionalProperties": {"type": "array", "minItems": 1},
    }


def _invocation_logs() -> dict[str, Any]:
    pair = {
        "type": "object",
        "minProperties": 1,
        "maxProperties": 1,
        "additionalProperties": {"type": "string", "minLength": 1, "maxLength": sources.MAX_METADATA_TEXT},
    }
    single = {
        "type": "object",
        "minProperties": 1,
        "maxProperties": 1,
        "additionalProperties": False,
        "properties": {"equals": pair, "not_equals": pair},
    }
    group = {"type": "array", "minItems": 1, "maxItems": sources.MAX_FILTERS, "items": single}
    return {
        "description": "Distillation or RFT from model-invocation logs instead of training_data.",
        "type": "object",
        "additionalProperties": False,
        "required": ["s3_uri"],
        "properties": {
            "s3_uri": {"type": "string", "pattern": full(sources.LOG_S3_URI)},
            "use_prompt_response": {"type": "boolean"},
            "filters": {
                "type": "object",
                "minProperties": 1,
                "maxProperties": 1,
                "additionalProperties": False,
                "properties": {"equals": pair, "not_equals": pair, "and_all": group, "or_all": group},
            },
        },
    }


def _hyperparameter(spec: Hyperparameter) -> dict[str, Any]:
    out: dict[str, Any] = {"description": spec.allowed_text()}
    if spec.type == "enum":
        out["enum"] = list(spec.choices)
    else:
        out["type"] = "integer" if spec.type == "int" else "number"
        out["minimum"] = int(spec.minimum) if spec.type == "int" and spec.minimum is not None else spec.minimum
        out["maximum"] = int(spec.maximum) if spec.type == "int" and spec.maximum is not None else spec.maximum
    if spec.default is not None:
        out["default"] = spec.default
    return out


def _is(key: str, value: str) -> dict[str, Any]:
    return {"properties": {key: {"const": value}}, "required": [key]}
