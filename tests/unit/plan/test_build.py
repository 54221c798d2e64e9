"""The plan's money: per-job training and storage, serving worst cases, the month's total against the budget."""

from __future__ import annotations

import copy
import json
import re
import shutil

import yaml

from tailor.cli import main
from tailor.config.catalog import DEFAULT_CATALOG, load_catalog
from tailor.config.environment import load_environment
from tailor.jobs.preflight import check_datasets
from tailor.plan.build import build_plan, render, write_plan
from tailor.plan.cost import budget_problems
from tests.conftest import ROOT
from tests.unit.config.test_environment import CATALOG, DEV, write

MICRO = "amazon.nova-micro-v1:0:128k"
PRO = "amazon.nova-pro-v1:0:300k"


def rate(model: str, price: str) -> float:
    return CATALOG.models[model].prices[price].usd


def plan_of(tmp_path, mutate=lambda d: None, *, base=DEV, name="dev", catalog=CATALOG) -> dict:
    data = copy.deepcopy(base)
    mutate(data)
    env = load_environment(write(tmp_path, data, name), catalog, base_dir=ROOT)
    return build_plan(env, check_datasets(env))


def example(name: str) -> dict:
    env = load_environment(ROOT / "config" / f"{name}.yaml", CATALOG, base_dir=ROOT)
    return build_plan(env, check_datasets(env))


def by_key(items: list[dict], field: str = "key") -> dict[str, dict]:
    return {i[field]: i for i in items}


def budget(usd):
    return lambda d: (
        d["policy"].update(monthly_budget_usd=usd) if usd is not None else d["policy"].pop("monthly_budget_usd")
    )


# Per job: training and storage


def test_given_dev_when_planned_then_each_job_has_a_month_of_storage_and_a_priced_training_estimate():
    # When
    jobs = by_key(example("dev")["jobs"])
    # Then one custom model per job is stored for a month at the catalog rate
    for job in jobs.values():
        assert job["storage_usd_per_month"] == rate(job["base_model"], "storage_per_month")
        assert job["storage_price_confirmed"] is False
    # And training is tokens x epochs at the per-1k-token rate, where the catalog has that rate
    bot = jobs["support-bot"]
    assert bot["estimated_training_tokens"] > 0
    assert bot["estimated_training_usd"] == round(
        bot["estimated_training_tokens"] / 1000 * rate(MICRO, "training_per_1k_tokens"), 2
    )


def test_given_more_epochs_when_planned_then_training_costs_more_and_the_table_shows_it(tmp_path):
    # Given support-bot at the maximum of 5 epochs on Nova Pro, whose training rate is 8x Nova Micro's
    def bigger(d):
        d["jobs"]["support-bot"].update(base_model=PRO)
        d["jobs"]["support-bot"]["hyperparameters"]["epochCount"] = 5

    # When
    plan = plan_of(tmp_path, bigger)
    bot = by_key(plan["jobs"])["support-bot"]
    # Then
    assert (
        bot["estimated_training_usd"]
        == round(bot["estimated_training_tokens"] / 1000 * rate(PRO, "training_per_1k_tokens"), 2)
        > 0
    )
    lines = render(plan).splitlines()
    row = next(line for line in lines if line.startswith("support-bot "))
    assert "est. training $" in lines[2] and "storage $/mo" in lines[2]
    assert f"{bot['estimated_training_usd']:.2f}~" in row and "1.95~" in row


def test_given_unconfirmed_prices_when_rendered_then_figures_carry_a_mark_explained_under_the_tables():
    # When
    text = render(example("dev"))
    # Then
    assert "48.00~" in text
    assert "~ = from a catalog price marked confirmed: false (catalog/models.yaml)" in text


# Serving


def test_given_dev_hourly_throughputs_when_planned_then_worst_case_is_units_times_rate_times_hours():
    # When
    servings = by_key(example("dev")["servings"], "path")
    # Then 1 MU x $24 x 2 h and 1 MU x $24 x 4 h with today's catalog bound
    pt = rate(MICRO, "provisioned_per_mu_hour")
    bot, eval_ = servings["jobs.support-bot.serve"], servings["throughputs.micro-eval"]
    assert (bot["model_units"], bot["billed_hours"], bot["worst_case_usd"]) == (1, 2, 1 * pt * 2)
    assert (eval_["model_units"], eval_["billed_hours"], eval_["worst_case_usd"]) == (1, 4, 1 * pt * 4)
    assert pt == 24.0 and bot["worst_case_usd"] == 48.0
    assert bot["ends"] == "created when the job completes, deleted 2 h later"
    assert eval_["ends"] == "deleted 4 h after it is created"


def test_given_an_on_demand_deployment_when_planned_then_its_worst_case_is_zero_with_the_per_token_note():
    # When
    distilled = by_key(example("dev")["servings"], "path")["jobs.support-distilled.serve"]
    # Then
    assert (distilled["mode"], distilled["model_units"], distilled["worst_case_usd"]) == ("on_demand", 0, 0.0)
    assert (
        distilled["ends"]
        == "deployment created when the job completes, deleted 4 h later; billed per token, not bounded here"
    )


def test_given_a_committed_throughput_when_planned_then_a_31_day_month_is_charged_at_the_no_commitment_rate():
    # When
    bot = by_key(example("prod")["servings"], "path")["jobs.support-bot.serve"]
    # Then
    assert (bot["hours"], bot["billed_hours"], bot["commitment"]) == (None, 744, "OneMonth")
    assert bot["worst_case_usd"] == 744 * 1 * rate(PRO, "provisioned_per_mu_hour") == 17856.0
    assert bot["ends"] == "1-month commitment: cannot be deleted before the term ends; renews automatically"


def test_given_a_six_month_commitment_of_two_units_when_planned_then_the_month_counts_both_units(tmp_path):
    # Given
    def committed(d):
        d["policy"]["allow_commitment"] = True
        d["throughputs"]["steady"] = {
            "model": "amazon.nova-lite-v1:0:300k",
            "model_units": 2,
            "commitment": "six_months",
        }

    # When
    steady = by_key(plan_of(tmp_path, committed)["servings"], "path")["throughputs.steady"]
    # Then
    assert steady["worst_case_usd"] == 744 * 2 * rate("amazon.nova-lite-v1:0:300k", "provisioned_per_mu_hour")
    assert steady["ends"].startswith("6-month commitment: cannot be deleted before the term ends")


def test_given_servings_when_rendered_then_a_second_table_lists_units_hours_worst_case_and_end():
    # When
    lines = render(example("dev")).splitlines()
    # Then
    header = next(i for i, line in enumerate(lines) if line.startswith("serving "))
    assert all(c in lines[header] for c in ("model units", "hours", "worst case $", "ends"))
    eval_row = next(line for line in lines if line.startswith("throughputs.micro-eval"))
    assert "custom model abcdefghijkl (amazon.nova-micro-v1:0:128k)" in eval_row and "96.00~" in eval_row


# The month against the budget


def test_given_dev_when_planned_then_the_worst_case_month_is_training_plus_storage_plus_serving():
    # When
    plan = example("dev")
    # Then
    training = sum(j["estimated_training_usd"] or 0 for j in plan["jobs"])
    storage = sum(j["storage_usd_per_month"] for j in plan["jobs"])
    serving = sum(s["worst_case_usd"] for s in plan["servings"])
    assert storage == 4 * rate(MICRO, "storage_per_month") and serving == 48.0 + 96.0
    assert plan["worst_case_month_usd"] == round(training + storage + serving, 2)
    assert (plan["budget_usd"], plan["source"]) == (1500, "config/dev.yaml")


def test_given_a_budget_above_the_worst_case_then_no_problem_and_the_footer_shows_the_share():
    # When
    plan = example("dev")
    # Then
    assert budget_problems(plan, plan["source"]) == []
    share = round(plan["worst_case_month_usd"] / 1500 * 100)
    assert (
        f"Worst case this month: ${plan['worst_case_month_usd']:,.2f}~ of the $1,500.00 budget ({share} %)"
        in render(plan)
    )


def test_given_no_budget_then_the_footer_says_so_and_nothing_is_refused(tmp_path):
    # When
    plan = plan_of(tmp_path, budget(None))
    # Then
    assert plan["budget_usd"] is None and budget_problems(plan, plan["source"]) == []
    assert "; no budget set (policy.monthly_budget_usd)" in render(plan)


def test_given_a_worst_case_over_the_budget_then_one_problem_names_the_total_the_largest_three_and_the_fix(tmp_path):
    # Given a $100 budget against 2 + 4 throughput hours at $24 and four stored models
    plan = plan_of(tmp_path, budget(100))
    # When
    problems = budget_problems(plan, plan["source"])
    # Then
    assert len(problems) == 1
    problem = problems[0]
    assert (problem.source, problem.path) == (plan["source"], "policy.monthly_budget_usd")
    assert re.fullmatch(
        re.escape(f"the worst case this month is ${plan['worst_case_month_usd']:,.2f}, over the $100.00 budget; ")
        + re.escape("largest: throughputs.micro-eval $96.00, jobs.support-bot.serve $48.00, ")
        + r"jobs\.[a-z-]+ storage \$1\.95; "
        + re.escape("lower hours or model_units, remove entries, or raise monthly_budget_usd"),
        problem.message,
    )
    assert "(152 %): OVER BUDGET" in render(plan)


def test_given_the_plan_json_when_read_back_then_the_budget_check_gives_the_same_answer(tmp_path):
    # Given
    plan = plan_of(tmp_path, budget(100))
    # When
    written = json.loads(write_plan(plan, tmp_path / "out").read_text())
    # Then
    assert budget_problems(written, written["source"]) == budget_problems(plan, plan["source"]) != []


# What cannot be priced


def test_given_models_without_a_training_price_then_their_training_is_listed_not_counted():
    # When
    plan = example("dev")
    # Then
    assert (
        "jobs.docs-refresh training: the catalog has no training_per_1k_tokens price for "
        "amazon.titan-text-express-v1:0:8k"
    ) in plan["unpriced"]
    assert (
        "jobs.math-grader training: the catalog has no training_per_1k_tokens price for amazon.nova-2-lite-v1:0:256k"
        in plan["unpriced"]
    )
    assert by_key(plan["jobs"])["docs-refresh"]["estimated_training_usd"] is None
    assert not any(i["item"].endswith("training") and "support-bot" not in i["item"] for i in plan["worst_case_items"])
    text = render(plan)
    assert "not counted: jobs.math-grader training:" in text and "4 item(s) not counted (see Warnings)" in text


def test_given_data_in_s3_or_a_teacher_then_what_only_the_job_knows_is_listed_not_counted():
    # When
    unpriced = example("prod")["unpriced"]
    # Then
    assert "jobs.docs-refresh training: its data is in S3, so its tokens are known only when the job runs" in unpriced
    assert any(
        u.startswith("jobs.support-distilled teacher: amazon.nova-premier-v1:0 writes the responses") for u in unpriced
    )


def test_given_a_model_without_a_throughput_price_then_that_serving_is_listed_not_counted(tmp_path):
    # Given a catalog without Nova Micro's hourly rate
    raw = yaml.safe_load(DEFAULT_CATALOG.read_text())
    del raw["models"][MICRO]["prices"]["provisioned_per_mu_hour"]
    (tmp_path / "models.yaml").write_text(yaml.safe_dump(raw))
    catalog = load_catalog(tmp_path / "models.yaml")
    # When
    plan = plan_of(tmp_path, catalog=catalog)
    # Then
    assert by_key(plan["servings"], "path")["throughputs.micro-eval"]["worst_case_usd"] is None
    assert f"throughputs.micro-eval: the catalog has no provisioned_per_mu_hour price for {MICRO}" in plan["unpriced"]
    assert plan["worst_case_month_usd"] == round(example("dev")["worst_case_month_usd"] - 48.0 - 96.0, 2)


# The command


def config_dir(tmp_path, mutate) -> str:
    """A config dir beside a copy of the examples, so the dev config's relative data paths resolve (a link
    would lead out of the directory, which local datasets may not)."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    data = copy.deepcopy(DEV)
    mutate(data)
    return str(write(tmp_path, data).parent)


def test_given_a_config_over_budget_when_tailor_plan_then_tables_print_and_it_exits_1_with_one_line(tmp_path, capsys):
    # When
    code = main(["plan", "dev", "--config-dir", config_dir(tmp_path, budget(100))])
    # Then
    out, err = capsys.readouterr()
    assert code == 1
    assert "Plan for dev" in out and "throughputs.micro-eval" in out and "OVER BUDGET" in out
    assert err.count("\n") == 1 and err.startswith(
        "config/dev.yaml: policy.monthly_budget_usd: the worst case this month is $151.80"
    )


def test_given_a_config_within_budget_when_tailor_plan_then_it_exits_0(tmp_path, capsys):
    # When
    code = main(["plan", "dev", "--config-dir", config_dir(tmp_path, budget(1500))])
    # Then
    out, err = capsys.readouterr()
    assert code == 0 and "of the $1,500.00 budget" in out and err == ""


def test_given_synth_plan_files_over_budget_when_tailor_plan_from_dir_then_it_exits_1(tmp_path, capsys):
    # Given
    write_plan(plan_of(tmp_path, budget(100)), tmp_path / "out")
    # When
    code = main(["plan", "--from-dir", str(tmp_path / "out")])
    # Then
    assert code == 1 and "policy.monthly_budget_usd: the worst case this month" in capsys.readouterr().err


def test_given_a_plan_file_from_before_cost_figures_when_tailor_plan_from_dir_then_it_asks_for_a_new_synth(
    tmp_path, capsys
):
    # Given
    (tmp_path / "plan-dev.json").write_text(json.dumps({"environment": "dev", "jobs": []}))
    # When
    code = main(["plan", "--from-dir", str(tmp_path)])
    # Then
    err = capsys.readouterr().err
    assert (
        code == 2
        and "plan-dev.json in" in err
        and "no cost figures (written by an older Tailor); run `make synth` again" in err
    )


def test_given_a_budget_and_a_throughput_the_catalog_cannot_price_then_the_budget_check_refuses(monkeypatch):
    from dataclasses import replace

    from tailor.config.environment import load_environment
    from tailor.jobs.preflight import check_datasets
    from tailor.plan.build import build_plan
    from tests.conftest import ROOT
    from tests.unit.config.test_environment import CATALOG

    # Given dev, with the PT price of its served model removed from the catalog
    env = load_environment(ROOT / "config" / "dev.yaml", CATALOG, base_dir=ROOT)
    serve = env.jobs["support-bot"].serve
    unpriced_model = replace(
        serve.base_model, prices={k: v for k, v in serve.base_model.prices.items() if k != "provisioned_per_mu_hour"}
    )
    env = replace(
        env,
        jobs={
            **env.jobs,
            "support-bot": replace(env.jobs["support-bot"], serve=replace(serve, base_model=unpriced_model)),
        },
    )
    # When
    plan = build_plan(env, check_datasets(env))
    # Then the budget is not silently passed: the entry that cannot be priced is named
    (problem,) = budget_problems(plan, plan["source"])
    assert problem.path == "jobs.support-bot.serve"
    assert (
        "cannot be priced: the catalog has no provisioned_per_mu_hour for amazon.nova-micro-v1:0:128k"
        in problem.message
    )


def test_given_a_job_served_by_its_serve_block_and_a_throughputs_entry_then_the_plan_warns_of_two_bills(tmp_path):
    # Given
    plan = plan_of(
        tmp_path, lambda d: d.setdefault("throughputs", {}).update({"bot-eval": {"model": "support-bot", "hours": 1}})
    )
    # Then
    [bot] = [j for j in plan["jobs"] if j["key"] == "support-bot"]
    assert (
        "served twice: jobs.support-bot.serve and throughputs.bot-eval each buy their own throughput" in bot["warnings"]
    )
    assert "support-bot: served twice" in render(plan)
