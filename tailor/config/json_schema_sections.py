"""The schema's sections other than a job: the policy, tags, VPC and serving (a job's `serve` and a
`throughputs` entry), and the small helpers every section uses to turn the validator's rules into JSON Schema."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from tailor.config import serving, sources
from tailor.config.policy import (
    BUDGET_SCOPES,
    IDLE_MIN_MINUTES,
    MAX_CONCURRENT_JOBS,
    MIN_HOURS,
    UNMANAGED_ACTIONS,
    Policy,
)
from tailor.config.schema import TAG_TEXT

TAG_KEY = r"(?!aws:)[a-zA-Z0-9\s._:/=+@-]{1,128}"
MAX_TAGS = 40
MAX_POLICY_HOURS = 24 * 31
MAX_WARN_MINUTES = 24 * 60
_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string"}


def policy_schema() -> dict[str, Any]:
    defaults = {f.name: f.default for f in fields(Policy)}
    properties = {
        "max_throughput_hours": number("No serving lives longer.", MIN_HOURS, MAX_POLICY_HOURS),
        "default_throughput_hours": number("Hours of a serving entry that gives none.", MIN_HOURS),
        "allow_commitment": {
            "description": "Allow 1- or 6-month terms (they cannot be deleted early).",
            "type": "boolean",
        },
        "unmanaged_throughput": {
            "description": "What the reconciler does with throughput Tailor did not create.",
            "enum": list(UNMANAGED_ACTIONS),
        },
        "warn_before_minutes": {
            "description": "One SNS warning this long before each expiry.",
            "type": "integer",
            "minimum": 0,
            "maximum": MAX_WARN_MINUTES,
        },
        "monthly_budget_usd": number("Synth fails when the plan's worst-case month exceeds it.", 1),
        "deny_create_over_budget": {
            "description": "At 100 % of the budget, deny new throughput, deployments and jobs.",
            "type": "boolean",
        },
        "dry_run": {
            "description": "The reconciler reports what it would delete and deletes nothing.",
            "type": "boolean",
        },
        "budget_scope": {
            "description": "Whose Bedrock spend the budget counts: this environment's tagged spend, or the account's.",
            "enum": list(BUDGET_SCOPES),
        },
        "idle_minutes": {
            "description": "Serving nobody called for this long is torn down early (off when absent).",
            "type": ["integer", "null"],
            "minimum": IDLE_MIN_MINUTES,
            "maximum": MAX_WARN_MINUTES,
        },
        "max_concurrent_jobs": {
            "description": "Jobs running at once in the account and Region (its quota); more wait in the queue.",
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_CONCURRENT_JOBS,
        },
    }
    for name, default in defaults.items():  # a policy field added without a description here still gets its type
        if name not in properties:
            properties[name] = {"type": _JSON_TYPES[type(default)]} if type(default) in _JSON_TYPES else {}
    for name, spec in properties.items():
        if defaults.get(name) is not None:
            spec["default"] = defaults[name]
    return {"type": "object", "additionalProperties": False, "properties": properties}


def tags_schema() -> dict[str, Any]:
    return {
        "description": "Tags on every stack, job and custom model.",
        "type": ["object", "null"],
        "maxProperties": MAX_TAGS,
        "propertyNames": {"pattern": full(TAG_KEY)},
        "additionalProperties": {
            "type": ["string", "number"],
            "maxLength": 256,
            "pattern": full(TAG_TEXT),
        },
    }


def vpc_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["subnet_ids", "security_group_ids"],
        "properties": {
            "subnet_ids": _id_list(sources.SUBNET_ID, sources.MAX_SUBNETS),
            "security_group_ids": _id_list(sources.SECURITY_GROUP_ID, sources.MAX_SECURITY_GROUPS),
        },
    }


def _serving_properties() -> dict[str, Any]:
    return {
        "mode": {"enum": list(serving.MODES)},
        "model_units": {"description": "Provisioned Throughput model units.", "type": "integer", "minimum": 1},
        "hours": number("How long it lives; within policy.max_throughput_hours.", MIN_HOURS),
        "commitment": {
            "description": "A 1- or 6-month term: no hours, no deletion before the term ends.",
            "enum": list(serving.COMMITMENTS),
        },
        "revision": {"description": "Bump to recreate identical serving.", "type": "integer", "minimum": 0},
    }


def _serving_rules() -> list[dict[str, Any]]:
    return [
        {
            "if": {"properties": {"mode": {"const": "on_demand"}}, "required": ["mode"]},
            "then": {"not": {"anyOf": [{"required": ["model_units"]}, {"required": ["commitment"]}]}},
        },
        {"not": {"required": ["commitment", "hours"]}},
    ]


def serve_schema() -> dict[str, Any]:
    properties = _serving_properties()
    assert set(properties) == set(serving.SERVE_KEYS)
    return {
        "description": "Serve the job's model when it completes, for `hours`.",
        "type": "object",
        "additionalProperties": False,
        "required": ["mode"],
        "properties": properties,
        "allOf": _serving_rules(),
    }


def throughput_schema(models: list[str]) -> dict[str, Any]:
    properties = {
        "model": {
            "description": "A custom model ARN, a job key of this config, or a catalog base model (commitment only).",
            "type": "string",
        },
        "base_model": {"description": "The catalog model a custom model ARN was customized from.", "enum": models},
        **_serving_properties(),
    }
    assert set(properties) == set(serving.THROUGHPUT_KEYS)
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["model"],
        "properties": properties,
        "allOf": _serving_rules(),
    }


def number(description: str, minimum: float, maximum: float | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description, "type": "number", "minimum": minimum}
    if maximum is not None:
        out["maximum"] = maximum
    return out


def _id_list(pattern: str, most: int) -> dict[str, Any]:
    return {"type": "array", "minItems": 1, "maxItems": most, "items": {"type": "string", "pattern": full(pattern)}}


def full(pattern: str) -> str:
    """The validator's patterns are fullmatch()ed; JSON Schema patterns match anywhere unless anchored."""
    return f"^(?:{pattern})$"
