"""A sweep in the plan: each trial's estimated training and storage, the evaluation's throughputs, and the sweep's
total against the budget, which synth refuses to exceed."""

from __future__ import annotations

import copy

import pytest
import yaml

from tailor.config.catalog import load_catalog
from tailor.config.environment import load_environment
from tailor.jobs.preflight import check_datasets
from tailor.plan.build import build_plan, render, write_plan
from tailor.plan.cost import budget_problems
from tailor.plan.file import read_plan_file
from tests.conftest import ROOT

CATALOG = load_catalog()
EXAMPLE = yaml.safe_load((ROOT / "examples" / "config" / "sweep.yaml").read_text())
MICRO = CATALOG.models["amazon.nova-micro-v1:0:128k"]


def plan_of(tmp_path, change=None):
    data = copy.deepcopy(EXAMPLE)
    if change is not None:
        change(data)
    path = tmp_path / "config" / "sweep.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    env = load_environment(path, CATALOG, base_dir=ROOT)
    return build_plan(env, check_datasets(env))


def test_each_trial_is_priced_with_its_own_epochs_and_the_sweep_adds_up(tmp_path):
    # Given the example's six trials (two epoch counts) and the evaluation of the two best
    plan = plan_of(tmp_path)
    (job,) = plan["jobs"]
    sweep = job["sweep"]
    rate = MICRO.prices["training_per_1k_tokens"].usd
    # Then each trial's tokens are the data's tokens times its own epochs
    by_epochs = {t["hyperparameters"]["epochCount"]: t["estimated_training_tokens"] for t in sweep["trials"]}
    assert by_epochs[3] * 2 == by_epochs[2] * 3
    assert all(
        t["estimated_training_usd"] == round(t["estimated_training_tokens"] / 1000 * rate, 2) for t in sweep["trials"]
    )
    # and every trial leaves a model a month can bill for, winner or not
    storage = MICRO.prices["storage_per_month"].usd
    assert sweep["storage_usd"] == round(6 * storage, 2) == job["storage_usd_per_month"]
    # and the evaluation is two throughputs of one model unit for at most two hours each
    pt = MICRO.prices["provisioned_per_mu_hour"].usd
    assert sweep["evaluation"]["worst_case_usd"] == round(2 * 1 * 2 * pt, 2)
    assert sweep["total_usd"] == round(sweep["training_usd"] + sweep["storage_usd"] + sweep["evaluation_usd"], 2)
    # and all of it is in the month's worst case, once
    items = {i["item"] for i in plan["worst_case_items"]}
    assert {f"jobs.support-bot trial {i} training" for i in range(1, 7)} <= items
    assert "jobs.support-bot.sweep.evaluate" in items and "jobs.support-bot storage" not in items
    assert sweep["max_concurrent_jobs"] == 2 and sweep["rounds"] == 3


def test_the_rendered_plan_lists_each_trial_and_the_sweeps_total_against_the_budget(tmp_path):
    text = render(plan_of(tmp_path))
    assert "support-bot  fine_tuning sweep (6 trials)" in text
    assert "Sweep jobs.support-bot: grid over learningRate x epochCount, 6 trials, at most 2 at a time" in text
    for line in ("1      tailor-sweep-support-bot-", "6      tailor-sweep-support-bot-"):
        assert line in text
    assert "evaluation $96.00~: the 2 best by loss, each on Provisioned Throughput" in text
    assert "sweep total: $107.70~ of the $1,500.00 budget (7 %)" in text
    assert "created for the sweep's winner once chosen (nothing if its gate fails), deleted 2 h later" in text
    assert "epochCount=swept, learningRate=swept" in text


def test_a_sweep_the_budget_cannot_hold_is_refused_with_what_it_costs_and_what_to_change(tmp_path):
    plan = plan_of(tmp_path, lambda d: d["policy"].update(monthly_budget_usd=100))
    (problem,) = budget_problems(plan, "examples/config/sweep.yaml")
    assert problem.path == "jobs.support-bot.sweep"
    assert problem.message == (
        "its 6 trials cost $107.70 (training $0.00, storage $11.70, evaluation $96.00), over the whole $100.00 "
        "budget; sweep fewer values, evaluate fewer trials (evaluate.top), or raise monthly_budget_usd"
    )


def test_a_sweep_whose_cost_cannot_be_known_is_refused_under_a_budget(tmp_path):
    def s3_data(data):
        data["jobs"]["support-bot"]["training_data"] = "s3://team-data/train.jsonl"

    plan = plan_of(tmp_path, s3_data)
    (problem,) = budget_problems(plan, "x.yaml")
    assert problem.path == "jobs.support-bot.sweep" and "cannot be priced (its data is in S3" in problem.message
    assert "use local training data" in problem.message
    # and without a budget it is only listed as not counted, once for all its trials
    plan = plan_of(tmp_path / "b", lambda d: (s3_data(d), d["policy"].pop("monthly_budget_usd")))
    assert budget_problems(plan, "x.yaml") == []
    assert [u for u in plan["unpriced"] if "training of 6 trials" in u] == [
        "jobs.support-bot training of 6 trials: its data is in S3, so its tokens are known only when the job runs"
    ]


def test_the_plan_file_round_trips_and_renders_the_same(tmp_path):
    plan = plan_of(tmp_path)
    path = write_plan(plan, tmp_path / "out")
    assert render(read_plan_file(path)) == render(plan)


@pytest.mark.parametrize("missing", ["trials", "total_usd", "rounds"])
def test_a_plan_file_with_a_broken_sweep_is_one_line(tmp_path, missing):
    import json

    from tailor.plan.file import PlanFileError

    plan = plan_of(tmp_path)
    del plan["jobs"][0]["sweep"][missing]
    path = tmp_path / "plan-sweep.json"
    path.write_text(json.dumps(plan))
    with pytest.raises(PlanFileError, match=f"jobs\\[0\\].sweep.{missing}: missing"):
        read_plan_file(path)
