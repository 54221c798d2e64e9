"""config/schema.json stays in step with the validator: same keys, same choices, same bounds, same catalog.

Each probe asks the validator itself (a mutated copy of config/dev.yaml, loaded as `make synth` loads it) and
compares its answer, read from its own message, with the committed schema.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
import yaml
from cfnlint.jsonschema import StandardValidator  # a draft-07 validator cfn-lint ships (pinned in requirements-dev)

from tailor.config.environment import load_environment
from tailor.config.json_schema import render_schema
from tailor.errors import UserError
from tests.conftest import EXAMPLE_ENVIRONMENTS, ROOT
from tests.unit.config.test_environment import CATALOG, DEV

SCHEMA_PATH = ROOT / "config" / "schema.json"
SCHEMA = json.loads(SCHEMA_PATH.read_text())
UNKNOWN = "zz-unknown"
VPC = {"subnet_ids": ["subnet-0123456789abcdef0"], "security_group_ids": ["sg-0123456789abcdef0"]}


def node(pointer: str) -> dict[str, Any]:
    """The schema at a JSON pointer ("#/definitions/job/properties/serve"), following $ref."""
    found: Any = SCHEMA
    for part in pointer.lstrip("#/").split("/"):
        if part:
            found = found[part]
    while "$ref" in found:
        found = node(found["$ref"])
    return found


def problems(data: dict[str, Any], tmp_path) -> dict[str, str]:
    """Problems the validator reports for `data`, by path (several at one path joined by newlines)."""
    path = tmp_path / "config" / "dev.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(data))
    found: dict[str, str] = {}
    try:
        load_environment(path, CATALOG, base_dir=ROOT)
    except UserError as exc:
        for p in exc.problems:
            found[p.path] = f"{found[p.path]}\n{p.message}" if p.path in found else p.message
    return found


def put(data: dict[str, Any], where: tuple[str, ...], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(data)
    target = data
    for key in where[:-1]:
        target = target.setdefault(key, {})
    target[where[-1]] = value
    return data


def base() -> dict[str, Any]:
    data = copy.deepcopy(DEV)
    data["vpc"] = copy.deepcopy(VPC)  # so the vpc mapping is there to probe
    data["jobs"]["math-grader"]["vpc"] = copy.deepcopy(VPC)
    data["jobs"]["support-distilled"]["invocation_logs"] = {"s3_uri": "s3://logs-bucket/x/", "filters": {}}
    return data


def test_the_committed_schema_is_what_this_checkout_generates():
    assert SCHEMA_PATH.read_text() == render_schema(CATALOG), (
        "config/schema.json is out of step with the validator or catalog/models.yaml: "
        "run `tailor schema --output config/schema.json` and commit it"
    )


@pytest.mark.parametrize("name", EXAMPLE_ENVIRONMENTS)
def test_each_example_config_is_valid_under_the_schema_and_points_editors_at_it(name):
    text = (ROOT / "config" / f"{name}.yaml").read_text()
    assert text.splitlines()[0] == "# yaml-language-server: $schema=./schema.json"
    errors = [f"{list(e.path)}: {e.message}" for e in StandardValidator(SCHEMA).iter_errors(yaml.safe_load(text))]
    assert errors == []


PROBES = [
    ((), "#"),
    (("notifications",), "#/properties/notifications"),
    (("retention",), "#/properties/retention"),
    (("policy",), "#/properties/policy"),
    (("vpc",), "#/definitions/vpc"),
    (("jobs", "support-bot"), "#/definitions/job"),
    (("jobs", "support-bot", "serve"), "#/definitions/serve"),
    (("jobs", "math-grader", "grader"), "#/definitions/job/properties/grader"),
    (("jobs", "support-distilled", "invocation_logs"), "#/definitions/job/properties/invocation_logs"),
    (
        ("jobs", "support-distilled", "invocation_logs", "filters"),
        "#/definitions/job/properties/invocation_logs/properties/filters",
    ),
    (("throughputs", "micro-eval"), "#/definitions/throughput"),
]


@pytest.mark.parametrize("where, pointer", PROBES, ids=[".".join(w) or "top" for w, _ in PROBES])
def test_the_keys_the_schema_allows_are_the_keys_the_validator_allows(tmp_path, where, pointer):
    # When the validator meets an unknown key in that mapping
    found = problems(put(base(), (*where, UNKNOWN), 1), tmp_path)
    message = found[".".join((*where, UNKNOWN))]
    # Then the keys it lists as allowed are the schema's, and the schema refuses others
    allowed = set(re.search(r"allowed here: (.*)$", message, re.M).group(1).split(", "))
    assert allowed == set(node(pointer)["properties"])
    assert node(pointer)["additionalProperties"] is False


def test_the_hyperparameters_the_schema_allows_are_the_validators_for_a_model_and_type(tmp_path):
    found = problems(put(base(), ("jobs", "support-bot", "hyperparameters", UNKNOWN), 1), tmp_path)
    allowed = set(
        re.search(r"allowed here: (.*)$", found[f"jobs.support-bot.hyperparameters.{UNKNOWN}"]).group(1).split(", ")
    )
    (rule,) = [
        r["then"]["properties"]["hyperparameters"]
        for r in node("#/definitions/job")["allOf"]
        if r["if"].get("properties", {}).get("base_model", {}).get("const") == "amazon.nova-micro-v1:0:128k"
        and r["if"]["properties"].get("type", {}).get("const") == "fine_tuning"
    ]
    assert allowed == set(rule["properties"]) and rule["additionalProperties"] is False


def test_every_model_and_type_of_the_catalog_has_its_hyperparameter_ranges_in_the_schema():
    rules = {
        (r["if"]["properties"]["base_model"]["const"], r["if"]["properties"]["type"]["const"]): r["then"]
        for r in node("#/definitions/job")["allOf"]
        if "type" in r["if"].get("properties", {}) and "base_model" in r["if"]["properties"]
    }
    expected = {(m.model_id, t) for m in CATALOG.models.values() for t in m.customizations}
    assert set(rules) == expected
    for (model, ctype), then in rules.items():
        for name, spec in CATALOG.models[model].customizations[ctype].hyperparameters.items():
            schema_spec = then["properties"]["hyperparameters"]["properties"][name]
            if spec.type == "enum":
                assert schema_spec["enum"] == list(spec.choices)
            else:
                assert (schema_spec["minimum"], schema_spec["maximum"]) == (spec.minimum, spec.maximum)


ENUMS = [
    (("retention", "data"), "#/properties/retention/properties/data"),
    (("retention", "custom_models"), "#/properties/retention/properties/custom_models"),
    (("policy", "unmanaged_throughput"), "#/properties/policy/properties/unmanaged_throughput"),
    (("policy", "budget_scope"), "#/properties/policy/properties/budget_scope"),
    (("jobs", "support-bot", "type"), "#/definitions/job/properties/type"),
    (("jobs", "support-bot", "serve", "mode"), "#/definitions/serve/properties/mode"),
    (("jobs", "support-bot", "serve", "commitment"), "#/definitions/serve/properties/commitment"),
    (("throughputs", "micro-eval", "mode"), "#/definitions/throughput/properties/mode"),
]


@pytest.mark.parametrize("where, pointer", ENUMS, ids=[".".join(w) for w, _ in ENUMS])
def test_the_choices_the_schema_offers_are_the_validators(tmp_path, where, pointer):
    message = problems(put(base(), where, "zz-bogus"), tmp_path)[".".join(where)]
    assert set(re.search(r"allowed: (.*)$", message, re.M).group(1).split(", ")) == set(node(pointer)["enum"])


def test_the_regions_and_models_the_schema_offers_are_the_validators(tmp_path):
    region = problems(put(base(), ("region",), "zz-bogus-1"), tmp_path)["region"]
    assert (
        re.search(r"customizable models in: (.*)$", region).group(1).split(", ") == node("#/properties/region")["enum"]
    )
    model = problems(put(base(), ("jobs", "support-bot", "base_model"), "zz-bogus"), tmp_path)[
        "jobs.support-bot.base_model"
    ]
    assert (
        re.search(r"known models: (.*)$", model).group(1).split(", ")
        == node("#/definitions/job/properties/base_model")["enum"]
    )


BOUNDS = [
    (("reconcile_every_minutes",), "#/properties/reconcile_every_minutes"),
    (("policy", "max_throughput_hours"), "#/properties/policy/properties/max_throughput_hours"),
    (("policy", "default_throughput_hours"), "#/properties/policy/properties/default_throughput_hours"),
    (("policy", "warn_before_minutes"), "#/properties/policy/properties/warn_before_minutes"),
    (("policy", "monthly_budget_usd"), "#/properties/policy/properties/monthly_budget_usd"),
    (("jobs", "support-bot", "revision"), "#/definitions/job/properties/revision"),
    (
        ("jobs", "support-distilled", "teacher_max_response_length"),
        "#/definitions/job/properties/teacher_max_response_length",
    ),
    (("jobs", "support-bot", "serve", "model_units"), "#/definitions/serve/properties/model_units"),
    (("jobs", "support-bot", "serve", "hours"), "#/definitions/serve/properties/hours"),
    (("jobs", "support-bot", "serve", "revision"), "#/definitions/serve/properties/revision"),
]


@pytest.mark.parametrize("where, pointer", BOUNDS, ids=[".".join(w) for w, _ in BOUNDS])
def test_the_bounds_the_schema_states_are_where_the_validator_draws_them(tmp_path, where, pointer):
    spec = node(pointer)
    step = 1 if spec["type"] == "integer" else 0.01
    path = ".".join(where)
    data = base()
    data["policy"]["max_throughput_hours"] = 744  # the widest policy, so serving hours are bounded only by the schema
    data["policy"]["default_throughput_hours"] = 0.25
    for edge, outside in (("minimum", -step), ("maximum", step)):
        if edge not in spec:
            continue
        assert path not in problems(put(data, where, spec[edge]), tmp_path), (edge, spec[edge])
        assert path in problems(put(data, where, spec[edge] + outside), tmp_path), (edge, spec[edge] + outside)
