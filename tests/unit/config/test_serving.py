"""Serving config: every accepted entry has an end; every refused one says where, what and what is allowed."""

from __future__ import annotations

import copy
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tailor.config.environment import load_environment
from tailor.errors import UserError
from tests.conftest import ROOT
from tests.unit.config.test_environment import CATALOG, DEV, write

ARN = "arn:aws:bedrock:us-east-1:111122223333:custom-model/amazon.nova-micro-v1:0:128k/abcdefghijkl"


def load(tmp_path, mutate):
    data = copy.deepcopy(DEV)
    mutate(data)
    return load_environment(write(tmp_path, data), CATALOG, base_dir=ROOT)


def problems_of(tmp_path, mutate) -> list[str]:
    with pytest.raises(UserError) as raised:
        load(tmp_path, mutate)
    return [str(p) for p in raised.value.problems]


def serve(**block):
    return lambda d: d["jobs"]["support-bot"].update(serve=block)


def throughput(**entry):
    return lambda d: d.setdefault("throughputs", {}).update(extra=entry)


def test_given_the_dev_example_then_every_serving_entry_has_hours_and_a_stable_name():
    env = load_environment(ROOT / "config" / "dev.yaml", CATALOG, base_dir=ROOT)
    assert [(s.key, s.mode, s.hours) for s in env.servings] == [
        ("support-bot", "provisioned", 2),
        ("support-distilled", "on_demand", 4),
        ("micro-eval", "provisioned", 4),
    ]
    assert all(re.fullmatch(r"([0-9a-zA-Z][_-]?){1,63}", s.name) for s in env.servings)
    assert load_environment(ROOT / "config" / "dev.yaml", CATALOG, base_dir=ROOT).servings == env.servings


def test_given_no_hours_then_the_policy_default_applies(tmp_path):
    env = load(tmp_path, serve(mode="provisioned"))
    assert env.jobs["support-bot"].serve.hours == 2 and env.jobs["support-bot"].serve.model_units == 1


def test_hours_change_keeps_the_name_but_units_revision_and_a_new_job_change_it(tmp_path):
    base = load(tmp_path, serve(mode="provisioned", hours=2)).jobs["support-bot"]
    longer = load(tmp_path, serve(mode="provisioned", hours=6)).jobs["support-bot"]
    more = load(tmp_path, serve(mode="provisioned", model_units=2)).jobs["support-bot"]
    again = load(tmp_path, serve(mode="provisioned", revision=1)).jobs["support-bot"]

    def retrained(d):
        serve(mode="provisioned")(d)
        d["jobs"]["support-bot"]["hyperparameters"]["epochCount"] = 3

    new_job = load(tmp_path, retrained).jobs["support-bot"]
    assert longer.serve.name == base.serve.name
    assert len({base.serve.name, more.serve.name, again.serve.name, new_job.serve.name}) == 4


def test_a_throughput_can_name_a_job_a_custom_model_arn_or_a_committed_base_model(tmp_path):
    def entries(d):
        d["policy"]["allow_commitment"] = True
        d["throughputs"] = {
            "from-job": {"model": "support-bot", "hours": 1},
            "from-arn": {"model": ARN, "model_units": 1},
            "base": {"model": "amazon.nova-lite-v1:0:300k", "commitment": "one_month"},
        }

    env = load(tmp_path, entries)
    kinds = {k: (s.model.kind, s.base_model.model_id, s.hours, s.commitment) for k, s in env.throughputs.items()}
    assert kinds == {
        "from-job": ("job", "amazon.nova-micro-v1:0:128k", 1, None),
        "from-arn": ("custom_model", "amazon.nova-micro-v1:0:128k", 2, None),
        "base": ("foundation_model", "amazon.nova-lite-v1:0:300k", None, "OneMonth"),
    }


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (
            serve(mode="provisioned", hours=12),
            (
                r"jobs.support-bot.serve.hours: is 12; the environment's policy allows at most 8 "
                r"\(policy.max_throughput_hours\)"
            ),
        ),
        (serve(mode="provisioned", hours=0.1), r"jobs.support-bot.serve.hours: is 0.1; allowed: at least 0.25"),
        (serve(mode="provisioned", model_units=0), r"jobs.support-bot.serve.model_units: is 0; allowed: at least 1"),
        (serve(mode="rented"), r"jobs.support-bot.serve.mode: is \"rented\"; allowed: provisioned, on_demand"),
        (
            serve(mode="provisioned", commitment="one_month"),
            r"serve.commitment: the environment's policy does not allow commitments \(policy.allow_commitment: false\)",
        ),
        (
            lambda d: (
                d["policy"].update(allow_commitment=True),
                serve(mode="provisioned", commitment="six_months", hours=2)(d),
            ),
            (
                r"serve.hours: cannot be combined with commitment: six_months; a committed "
                r"throughput cannot be torn down before its term ends"
            ),
        ),
        (
            serve(mode="provisioned", commitment="forever"),
            r"serve.commitment: is \"forever\"; allowed: one_month, six_months",
        ),
        (
            serve(mode="on_demand", model_units=1),
            r"serve.model_units: is only for mode: provisioned; an on-demand deployment is billed per token",
        ),
        (
            lambda d: d.update(
                region="us-west-2",
                jobs={
                    "llama": {
                        "type": "fine_tuning",
                        "base_model": "meta.llama3-2-1b-instruct-v1:0:128k",
                        "training_data": "s3://bucket/train.jsonl",
                        "serve": {"mode": "on_demand"},
                    }
                },
            ),
            (
                r"jobs.llama.serve.mode: custom meta.llama3-2-1b-instruct-v1:0:128k models cannot be "
                r"deployed on demand in any Region \(the catalog lists no on_demand_regions for it\); use mode: "
                r"provisioned"
            ),
        ),
        (
            throughput(model="amazon.nova-lite-v1:0:300k", hours=2),
            (
                r"throughputs.extra.commitment: Provisioned Throughput for a base model "
                r"\(amazon.nova-lite-v1:0:300k\) is sold only with a commitment"
            ),
        ),
        (
            throughput(model="amazon.nova-lite-v1:0:300k", mode="on_demand"),
            r"throughputs.extra.mode: amazon.nova-lite-v1:0:300k is a base model: call it on demand directly",
        ),
        (
            throughput(model=ARN.replace("us-east-1", "us-west-2")),
            r"throughputs.extra.model: is in us-west-2 but this environment deploys to us-east-1",
        ),
        (
            throughput(model="arn:aws:bedrock:us-east-1:111122223333:custom-model/imported/abcdefghijkl"),
            (
                r"throughputs.extra.base_model: Tailor cannot tell which catalog model .* was "
                r"customized from; add base_model: <one of "
            ),
        ),
        (
            throughput(model="arn:aws:s3:::bucket"),
            r"throughputs.extra.model: \"arn:aws:s3:::bucket\" is not a custom model ARN",
        ),
        (
            throughput(model="no-such-thing"),
            (
                r"throughputs.extra.model: \"no-such-thing\" is neither a job of this config "
                r"\(docs-refresh, math-grader, support-bot, support-distilled\), a catalog model, "
                r"nor a custom model ARN"
            ),
        ),
        (
            throughput(model=ARN, colour="red"),
            (
                r"throughputs.extra.colour: unknown key; allowed here: model, base_model, mode, "
                r"model_units, hours, commitment, revision"
            ),
        ),
        (
            lambda d: d.setdefault("throughputs", {}).update({"support-bot": {"model": ARN}}),
            (
                r"throughputs.support-bot: has the same name as job support-bot; to serve that "
                r"job's model use jobs.support-bot.serve"
            ),
        ),
        (
            lambda d: d["policy"].update(default_throughput_hours=9),
            r"policy.default_throughput_hours: is 9; it cannot exceed max_throughput_hours \(8\)",
        ),
        (
            lambda d: d["policy"].update(unmanaged_throughput="ignore"),
            r"policy.unmanaged_throughput: is \"ignore\"; allowed: report, delete",
        ),
        (
            lambda d: d["policy"].update(monthly_budget_usd=None, deny_create_over_budget=True),
            r"policy.deny_create_over_budget: needs monthly_budget_usd",
        ),
        # YAML's .nan compares false with every bound and .inf breaks JSON: both must be refused where they are written.
        (
            serve(mode="provisioned", hours=float("nan")),
            r"jobs.support-bot.serve.hours: is nan; allowed: a finite number, at least 0.25",
        ),
        (
            lambda d: d["policy"].update(max_throughput_hours=float("nan")),
            r"policy.max_throughput_hours: is nan; allowed: a finite number",
        ),
        (
            lambda d: d["policy"].update(monthly_budget_usd=float("inf")),
            r"policy.monthly_budget_usd: is inf; allowed: a finite number, at least 1",
        ),
        (serve(mode=None, hours=2), r"jobs.support-bot.serve.mode: is empty; allowed: provisioned, on_demand"),
        (throughput(model=ARN, mode=None), r"throughputs.extra.mode: is empty; allowed: provisioned, on_demand"),
        (
            throughput(model=ARN, base_model="amazon.nova-lite-v1:0:300k"),
            (
                r"throughputs.extra.base_model: is amazon.nova-lite-v1:0:300k but the model ARN "
                r"says it was customized from amazon.nova-micro-v1:0:128k"
            ),
        ),
    ],
)
def test_each_serving_mistake_gets_a_clear_message(tmp_path, mutate, expected):
    problems = problems_of(tmp_path, mutate)
    assert any(re.search(expected, p) for p in problems), problems
    assert all(p.split(": ")[0].endswith("config/dev.yaml") for p in problems), problems


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    hours=st.one_of(st.none(), st.floats(min_value=-5, max_value=50, allow_nan=False)),
    units=st.one_of(st.none(), st.integers(min_value=-1, max_value=4)),
    commitment=st.sampled_from([None, "one_month", "six_months"]),
    allow=st.booleans(),
    mode=st.sampled_from(["provisioned", "on_demand"]),
    max_hours=st.sampled_from([1, 8, 24]),
)
def test_property_no_accepted_config_yields_serving_without_an_end(
    tmp_path, hours, units, commitment, allow, mode, max_hours
):
    block = {
        k: v
        for k, v in {"mode": mode, "hours": hours, "model_units": units, "commitment": commitment}.items()
        if v is not None
    }

    def mutate(d):
        d["policy"] = {
            "max_throughput_hours": max_hours,
            "default_throughput_hours": min(2, max_hours),
            "allow_commitment": allow,
        }
        d["jobs"]["support-bot"]["serve"] = block

    try:
        env = load(tmp_path, mutate)
    except UserError:
        return
    served = env.jobs["support-bot"].serve
    # Given an accepted entry, then it either expires within the policy or is a commitment the policy allows.
    if served.commitment is None:
        assert served.hours is not None and 0.25 <= served.hours <= max_hours
    else:
        assert allow and served.hours is None and served.mode == "provisioned"
    assert (served.model_units >= 1) == (served.mode == "provisioned")
