"""A job's sweep block at synth: trials from a grid or a seeded random search, each checked against the catalog
and named from its own settings; every mistake one message naming where, what and what is allowed."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from tailor import naming
from tailor.config.catalog import load_catalog
from tailor.config.environment import load_environment
from tailor.config.policy import Policy
from tailor.config.sweep import MAX_TRIALS, parse_sweep
from tailor.errors import Problems, UserError
from tests.conftest import ROOT

CATALOG = load_catalog()
EXAMPLE = yaml.safe_load((ROOT / "examples" / "config" / "sweep.yaml").read_text())
MICRO = CATALOG.models["amazon.nova-micro-v1:0:128k"]


def load(tmp_path: Path, change=None, name: str = "sweep"):
    data = copy.deepcopy(EXAMPLE)
    data["environment"] = name
    if change is not None:
        change(data)
    path = tmp_path / "config" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_environment(path, CATALOG, base_dir=ROOT)


def problems(tmp_path: Path, change) -> list[str]:
    with pytest.raises(UserError) as raised:
        load(tmp_path, change)
    return [str(p).split(": ", 1)[1] for p in raised.value.problems]  # without the file name


def sweep_of(data) -> dict:
    return data["jobs"]["support-bot"]["sweep"]


def test_the_example_is_a_grid_of_six_trials_each_named_from_its_own_settings(tmp_path):
    # Given / When the shipped example is loaded
    job = load(tmp_path).jobs["support-bot"]
    # Then every combination is one trial, the first name written varying slowest
    assert [dict(t.trial.values) for t in job.trials] == [
        {"learningRate": lr, "epochCount": epochs} for lr in (1e-05, 3e-05, 5e-05) for epochs in (2, 3)
    ]
    assert [t.trial.index for t in job.trials] == [1, 2, 3, 4, 5, 6]
    # each trial trains with the job's own settings and its values, and has a job name of its own
    assert all(t.hyperparameters["learningRateWarmupSteps"] == 10 for t in job.trials)
    assert all(t.hyperparameters["learningRate"] == t.trial.values["learningRate"] for t in job.trials)
    names = [t.name for t in job.trials]
    assert len(set(names)) == 6 and all(n.startswith("tailor-sweep-support-bot-") and len(n) <= 63 for n in names)
    # and the sweep has a name of its own, which its serving follows
    assert job.name not in names and job.serve.name != job.name


def test_trial_names_are_stable_and_adding_a_value_keeps_every_existing_one(tmp_path):
    # Given the example and the same with one more learning rate
    before = load(tmp_path).jobs["support-bot"]
    again = load(tmp_path / "again").jobs["support-bot"]
    after = load(tmp_path / "after", lambda d: sweep_of(d)["learningRate"].append(0.00007)).jobs["support-bot"]
    # Then the same config names the same trials, and the new value adds two trials without renaming any
    assert [t.name for t in again.trials] == [t.name for t in before.trials]
    assert {t.name for t in before.trials} < {t.name for t in after.trials}
    assert len(after.trials) == 8
    # and the sweep itself is renamed (it must be decided again)
    assert after.name != before.name


def test_a_trial_is_never_named_as_the_plain_job_it_repeats(tmp_path):
    # Given a plain job with exactly one trial's settings
    def plain(data):
        job = data["jobs"]["support-bot"]
        del job["sweep"]
        job["hyperparameters"] = {"learningRateWarmupSteps": 10, "learningRate": 0.00001, "epochCount": 2}

    single = load(tmp_path / "plain", plain).jobs["support-bot"]
    trial = load(tmp_path).jobs["support-bot"].trials[0]
    # Then the trial is a new job: adopting the plain one would let its old resource's Delete stop it
    assert dict(trial.hyperparameters) == dict(single.hyperparameters)
    assert trial.name != single.name


def test_plain_jobs_keep_the_names_they_had_before_sweeps_existed():
    # The hashes of config/dev.yaml's jobs as synthesized before this feature: a change would restart every job
    env = load_environment(ROOT / "config" / "dev.yaml", CATALOG, base_dir=ROOT)
    assert {k: j.name for k, j in env.jobs.items()} == {
        "support-bot": "tailor-dev-support-bot-3497dc95",
        "support-distilled": "tailor-dev-support-distilled-b6d86a01",
        "docs-refresh": "tailor-dev-docs-refresh-96f8954a",
        "math-grader": "tailor-dev-math-grader-f5b2ab1f",
    }
    assert all(j.sweep is None and j.trials == () for j in env.jobs.values())


def random_search(count=6, seed=7, **axes):
    def change(data):
        sweep_of(data).pop("learningRate")
        sweep_of(data).pop("epochCount")
        sweep_of(data)["random"] = {
            "count": count,
            "seed": seed,
            **(axes or {"learningRate": {"min": 0.000005, "max": 0.00005, "log": True}, "epochCount": [2, 3]}),
        }

    return change


def test_a_random_search_is_the_same_for_the_same_seed_within_its_ranges_and_keeps_earlier_draws(tmp_path):
    # Given the same random search twice, one with one more draw, and one with another seed
    first = load(tmp_path / "a", random_search()).jobs["support-bot"]
    again = load(tmp_path / "b", random_search()).jobs["support-bot"]
    more = load(tmp_path / "c", random_search(count=7)).jobs["support-bot"]
    other = load(tmp_path / "d", random_search(seed=8)).jobs["support-bot"]
    values = [dict(t.trial.values) for t in first.trials]
    # Then it draws the same six trials, distinct, inside the ranges, rounded to three significant digits
    assert values == [dict(t.trial.values) for t in again.trials]
    assert len({tuple(sorted(v.items())) for v in values}) == 6
    for v in values:
        assert 0.000005 <= v["learningRate"] <= 0.00005 and v["epochCount"] in (2, 3)
        assert float(f"{v['learningRate']:.3g}") == v["learningRate"]
    # and a seventh draw keeps the first six (so it starts one new trial only); another seed draws others
    assert [dict(t.trial.values) for t in more.trials][:6] == values
    assert [dict(t.trial.values) for t in other.trials] != values


def test_a_random_range_defaults_to_the_catalogs(tmp_path):
    job = load(tmp_path, random_search(count=4, learningRate={"log": True})).jobs["support-bot"]
    assert all(1e-06 <= t.trial.values["learningRate"] <= 1e-04 for t in job.trials)


@pytest.mark.parametrize(
    "change, expected",
    [
        (
            lambda d: sweep_of(d)["learningRate"].append(0.5),
            "jobs.support-bot.sweep.learningRate[3]: is 0.5; allowed: a number from 1e-06 to 0.0001",
        ),
        (
            lambda d: sweep_of(d).update(epochCount=[2, 2]),
            "jobs.support-bot.sweep.epochCount[1]: 2 is listed twice; each value is one trial axis point",
        ),
        (
            lambda d: sweep_of(d).update(epochCount=3),
            "jobs.support-bot.sweep.epochCount: must be a non-empty list of values to try, got 3; allowed values: "
            "a whole number from 1 to 5",
        ),
        (
            lambda d: sweep_of(d).update(learningrate=[0.00001]),
            "jobs.support-bot.sweep.learningrate: unknown key; did you mean learningRate? allowed here: "
            "epochCount, learningRate, learningRateWarmupSteps, random, evaluate",
        ),
        (
            lambda d: d["jobs"]["support-bot"]["hyperparameters"].update(epochCount=2),
            "jobs.support-bot.sweep.epochCount: is also set in hyperparameters (2); a swept hyperparameter takes its "
            "values from the sweep only: remove it from hyperparameters",
        ),
        (
            lambda d: sweep_of(d).update(random={"count": 3}),
            "jobs.support-bot.sweep: use either a grid (hyperparameter names with lists of values) or random: {...}, "
            "not both",
        ),
        (
            lambda d: sweep_of(d).update(learningRate=[0.00001], epochCount=[2]),
            "jobs.support-bot.sweep: makes 1 trial; a sweep needs at least 2 (for one, use hyperparameters)",
        ),
        (
            lambda d: sweep_of(d).update(
                learningRate=[0.00001, 0.00002, 0.00003, 0.00004, 0.00005], epochCount=[1, 2, 3, 4, 5]
            ),
            f"jobs.support-bot.sweep: makes 25 trials; at most {MAX_TRIALS} are allowed (each is a customization "
            "job, run a few at a time within the account's quota): use fewer values or a random search",
        ),
        (
            random_search(count=5, epochCount=[2, 3]),
            "jobs.support-bot.sweep.random.count: is 5, but only 2 distinct trials could be drawn within these "
            "ranges; lower count or widen the ranges",
        ),
        (
            random_search(learningRate={"min": 0, "max": 0.00005, "log": True}),
            "jobs.support-bot.sweep.random.learningRate.min: is 0; allowed: a number from 1e-06 to 0.0001 (the "
            "catalog's range for learningRate)",
        ),
        (
            random_search(learningRate={"min": 0.00005, "max": 0.00001}),
            "jobs.support-bot.sweep.random.learningRate: min 5e-05 is above max 1e-05",
        ),
        (
            random_search(count=30),
            f"jobs.support-bot.sweep.random.count: is 30; allowed: 2 to {MAX_TRIALS}",
        ),
        (
            lambda d: sweep_of(d).clear(),
            "jobs.support-bot.sweep: names no hyperparameter to sweep; write a grid ({learningRate: [0.00001, "
            "0.00003]}) or random: {count: 6, seed: 7, learningRate: {min: ..., max: ..., log: true}}; sweepable "
            "here: epochCount, learningRate, learningRateWarmupSteps",
        ),
    ],
)
def test_each_sweep_mistake_is_one_message_naming_where_what_and_what_is_allowed(tmp_path, change, expected):
    assert problems(tmp_path, change) == [expected]


def evaluate(**changes):
    def change(data):
        block = sweep_of(data)["evaluate"]
        for key, value in changes.items():
            if value is None:
                block.pop(key, None)
            else:
                block[key] = value

    return change


@pytest.mark.parametrize(
    "change, expected",
    [
        (
            evaluate(task_type="QnA"),
            'jobs.support-bot.sweep.evaluate.task_type: is "QnA"; allowed: Summarization, Classification, '
            "QuestionAndAnswer, Generation, Custom",
        ),
        (
            evaluate(metrics=["Builtin.Accuracy", "Builtin.Helpfulness"]),
            "jobs.support-bot.sweep.evaluate.metrics: mixes automatic metrics (Builtin.Accuracy) with judge metrics "
            "(Builtin.Helpfulness); one evaluation uses one kind: automatic ones alone, or judge ones with "
            "judge_model",
        ),
        (
            evaluate(metrics=["Builtin.Helpfulness"], gate={"min_score": 0.5}),
            "jobs.support-bot.sweep.evaluate.judge_model: is required for the judge metrics Builtin.Helpfulness: "
            "the model that scores them",
        ),
        (
            evaluate(metrics=["Builtin.Toxicity"], gate={"min_score": 0.1}),
            "jobs.support-bot.sweep.evaluate.gate.min_score: is for a metric where higher is better; this metric "
            "is better low: use max_score",
        ),
        (
            evaluate(gate={"min_score": 0.5, "better_than_base": True}),
            "jobs.support-bot.sweep.evaluate.gate: needs exactly one of min_score: <number>, max_score: <number> or "
            "better_than_base: true",
        ),
        (
            evaluate(hours=12),
            "jobs.support-bot.sweep.evaluate.hours: is 12; allowed: 0.25 to 8",
        ),
        (
            evaluate(top=7),
            "jobs.support-bot.sweep.evaluate.top: is 7; allowed: 1 to 5",
        ),
        (
            evaluate(dataset="examples/data/support/missing.jsonl"),
            'jobs.support-bot.sweep.evaluate.dataset: local file "examples/data/support/missing.jsonl" not found '
            "(paths are relative to main/); or use an S3 object URI such as s3://my-bucket/path/train.jsonl",
        ),
        (
            evaluate(metric="Builtin.Toxicity"),
            'jobs.support-bot.sweep.evaluate.metric: is "Builtin.Toxicity"; allowed: Builtin.Accuracy',
        ),
    ],
)
def test_each_evaluation_mistake_is_one_message(tmp_path, change, expected):
    found = problems(tmp_path, change)
    assert found == [expected.replace("main/", f"{ROOT.name}/")]


def test_an_evaluation_needs_provisioned_throughput_for_the_trials_models(tmp_path):
    # Given a model the catalog says cannot run on Provisioned Throughput
    model = replace(MICRO, provisioned_throughput=False)
    found = Problems("dev.yaml")
    block = copy.deepcopy(EXAMPLE["jobs"]["support-bot"]["sweep"])
    # When the sweep is parsed
    sweep = parse_sweep(
        found,
        "jobs.x.sweep",
        block,
        customization=model.customizations["fine_tuning"],
        fixed={},
        model=model,
        policy=Policy(),
        base_dir=ROOT,
    )
    # Then it is refused, saying why a throughput is needed
    assert sweep is None
    ((problem),) = found.items
    assert problem.path == "jobs.x.sweep.evaluate" and "provisioned-model ARN" in problem.message


def test_a_judge_evaluation_and_a_max_score_gate_are_accepted(tmp_path):
    job = load(
        tmp_path,
        evaluate(
            metrics=["Builtin.Correctness", "Builtin.Harmfulness"],
            metric="Builtin.Harmfulness",
            judge_model="amazon.nova-pro-v1:0",
            gate={"max_score": 0.2},
        ),
    ).jobs["support-bot"]
    evaluation = job.sweep.evaluation
    assert evaluation.judge_model == "amazon.nova-pro-v1:0" and evaluation.higher_is_better is False
    assert evaluation.gate.max_score == 0.2 and "lowest Builtin.Harmfulness" in job.sweep.selection_text


def test_the_queue_limit_is_validated_and_defaults_to_two(tmp_path):
    assert load(tmp_path, lambda d: d["policy"].pop("max_concurrent_jobs")).policy.max_concurrent_jobs == 2
    assert problems(tmp_path / "x", lambda d: d["policy"].update(max_concurrent_jobs=0)) == [
        "policy.max_concurrent_jobs: is 0; allowed: 1 to 100"
    ]


def test_the_sweep_name_and_trial_names_fit_bedrocks_limits_at_the_longest_keys(tmp_path):
    key = "k" * naming.MAX_JOB_KEY_LEN

    def longest(data):
        data["jobs"] = {key: data["jobs"]["support-bot"]}

    job = load(tmp_path, longest, name="e" * naming.MAX_ENV_LEN).jobs[key]
    assert all(len(t.name) <= naming.BEDROCK_NAME_MAX for t in job.trials) and len(job.name) <= 63


def test_the_example_is_valid_under_the_committed_schema_which_knows_the_sweep_block():
    import json

    from cfnlint.jsonschema import StandardValidator

    schema = json.loads((ROOT / "config" / "schema.json").read_text())
    text = (ROOT / "examples" / "config" / "sweep.yaml").read_text()
    assert text.splitlines()[0] == "# yaml-language-server: $schema=../../config/schema.json"
    assert [e.message for e in StandardValidator(schema).iter_errors(yaml.safe_load(text))] == []
    # and an editor underlines what the validator refuses here too
    broken = copy.deepcopy(EXAMPLE)
    broken["jobs"]["support-bot"]["sweep"]["evaluate"]["task_type"] = "QnA"
    broken["jobs"]["support-bot"]["sweep"]["learningRate"] = 0.00001
    assert len(list(StandardValidator(schema).iter_errors(broken))) == 2
