"""Config and catalog validation: examples pass; each class of mistake gets one message naming where, what, allowed."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tailor import naming
from tailor.config.catalog import load_catalog, parse_catalog
from tailor.config.environment import load_environment, load_environments
from tailor.errors import Problems, UserError
from tests.conftest import ROOT

CATALOG = load_catalog()
DEV = yaml.safe_load((ROOT / "config" / "dev.yaml").read_text())


def write(tmp_path: Path, data: dict, name: str = "dev") -> Path:
    path = tmp_path / "config" / f"{name}.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(data))
    return path


def problems_of(tmp_path: Path, mutate) -> list[str]:
    data = copy.deepcopy(DEV)
    mutate(data)
    with pytest.raises(UserError) as raised:
        load_environment(write(tmp_path, data), CATALOG, base_dir=ROOT)
    return [str(p) for p in raised.value.problems]


def test_the_example_configs_load_with_all_four_customization_types(example_root):
    envs = load_environments(example_root / "config", CATALOG, base_dir=example_root)
    assert [e.name for e in envs] == ["dev", "prod"]
    for env in envs:
        assert {j.type for j in env.jobs.values()} == {
            "fine_tuning",
            "continued_pre_training",
            "distillation",
            "reinforcement_fine_tuning",
        }


def test_defaults_are_filled_from_the_catalog_and_user_values_kept():
    job = load_environment(ROOT / "config" / "dev.yaml", CATALOG, base_dir=ROOT).jobs["support-bot"]
    assert dict(job.hyperparameters) == {"epochCount": 2, "learningRate": 1e-05, "learningRateWarmupSteps": 10}
    assert job.user_hyperparameters == {"epochCount", "learningRate"}


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (
            lambda d: d.update(colour="blue"),
            r"config/dev.yaml: colour: unknown key; allowed here: environment, region, jobs",
        ),
        (
            lambda d: d["jobs"]["support-bot"]["hyperparameters"].update(epochCount=9),
            r"jobs.support-bot.hyperparameters.epochCount: is 9; allowed: a whole number from 1 to 5",
        ),
        (
            lambda d: d["jobs"]["support-bot"]["hyperparameters"].update(batchSize=8),
            (
                r"jobs.support-bot.hyperparameters.batchSize: unknown key; allowed here: "
                r"epochCount, learningRate, learningRateWarmupSteps"
            ),
        ),
        (
            lambda d: d["jobs"]["support-bot"]["hyperparameters"].update(learningRate="fast"),
            r"learningRate: is \"fast\"; allowed: a number from 1e-06 to 0.0001",
        ),
        (
            lambda d: d["jobs"]["support-bot"].update(base_model="amazon.nova-mega"),
            (
                r"jobs.support-bot.base_model: \"amazon.nova-mega\" is not in the catalog .*known "
                r"models: .*amazon.nova-micro-v1:0:128k"
            ),
        ),
        (
            lambda d: d["jobs"]["support-bot"].update(type="reinforcement_fine_tuning"),
            (
                r"jobs.support-bot.type: amazon.nova-micro-v1:0:128k does not support "
                r"reinforcement_fine_tuning; it supports: fine_tuning, distillation"
            ),
        ),
        (
            lambda d: d["jobs"]["support-bot"].update(type="tuning"),
            (
                r"jobs.support-bot.type: is \"tuning\"; allowed: fine_tuning, "
                r"continued_pre_training, distillation, reinforcement_fine_tuning"
            ),
        ),
        (
            lambda d: d["jobs"]["support-distilled"].update(teacher_model="amazon.nova-micro-v1:0"),
            (
                r"teacher_model: \"amazon.nova-micro-v1:0\" cannot teach "
                r"amazon.nova-lite-v1:0:300k in us-east-1; allowed: amazon.nova-pro-v1:0, "
                r"amazon.nova-premier-v1:0"
            ),
        ),
        (
            lambda d: d["jobs"]["support-distilled"].pop("teacher_model"),
            (
                r"distillation needs a teacher; allowed for amazon.nova-lite-v1:0:300k in "
                r"us-east-1: amazon.nova-pro-v1:0, amazon.nova-premier-v1:0"
            ),
        ),
        (
            lambda d: d["jobs"]["math-grader"].pop("grader"),
            r"jobs.math-grader.grader: reinforcement_fine_tuning needs a grader",
        ),
        (
            lambda d: d["jobs"]["math-grader"].update(grader={"lambda_arn": "my-function"}),
            r"grader.lambda_arn: is \"my-function\"; allowed: a Lambda function ARN",
        ),
        (
            lambda d: d.update(region="eu-west-1"),
            r"region: is \"eu-west-1\"; the catalog has customizable models in: us-east-1, us-west-2",
        ),
        (lambda d: d.update(region="us-west-2"), r"supports fine_tuning only in us-east-1, not in us-west-2"),
        (lambda d: d.update(environment="staging"), r"environment: is \"staging\" but the file is dev.yaml"),
        (
            lambda d: d.update(account=111122223333),
            r'account: is the number 111122223333; account ids are text .*: quote it: account: "111122223333"',
        ),
        (
            lambda d: d["jobs"]["support-bot"]["hyperparameters"].update(epochs=3),
            r"hyperparameters.epochs: unknown key; did you mean epochCount\? allowed here: epochCount, learningRate",
        ),
        (lambda d: d.update(regions="us-east-1"), r"regions: unknown key; did you mean region\? allowed here"),
        (
            lambda d: d["jobs"]["support-bot"].update(training_data="examples/data/nope.jsonl"),
            r"training_data: local file \"examples/data/nope.jsonl\" not found",
        ),
        (
            lambda d: d["jobs"]["support-bot"].update(training_data="s3://Bad_Bucket/x.jsonl"),
            r"training_data: is \"s3://Bad_Bucket/x.jsonl\"; allowed: an S3 object URI",
        ),
        (
            lambda d: d["jobs"]["math-grader"].update(
                validation_data="examples/data/math/train.jsonl",
                base_model="amazon.nova-2-lite-v1:0:256k",
                type="fine_tuning",
                grader=None,
            ),
            r"validation_data: this model takes no validation set for fine_tuning",
        ),
        (
            lambda d: d["jobs"]["support-bot"].update(invocation_logs={"s3_uri": "s3://logs/x/"}),
            r"invocation_logs: is only for distillation and reinforcement_fine_tuning",
        ),
        (
            lambda d: d["jobs"]["support-distilled"].update(
                invocation_logs={"s3_uri": "s3://logs-bucket/x/", "filters": {"equals": {"a": "b"}, "or_all": []}}
            ),
            r"filters: needs exactly one of equals, not_equals, and_all, or_all",
        ),
        (
            lambda d: d["jobs"].update({"Support_Bot": d["jobs"]["support-bot"]}),
            r"jobs.Support_Bot: job key \"Support_Bot\" is not allowed",
        ),
        (lambda d: d["jobs"]["support-bot"].update(revision=-1), r"revision: is -1; allowed: at least 0"),
        (lambda d: d.update(reconcile_every_minutes=90), r"reconcile_every_minutes: is 90; allowed: 1 to 60"),
        (
            lambda d: d["jobs"]["support-bot"].update(vpc={"subnet_ids": [], "security_group_ids": ["sg-12"]}),
            r"vpc.security_group_ids\[0\]: is \"sg-12\"; allowed: a security group id",
        ),
        (lambda d: d.update(tags={"aws:owner": "me"}), r"tags.aws:owner: tag keys are 1-128 characters"),
    ],
)
def test_each_mistake_gets_a_clear_message(tmp_path, mutate, expected):
    found = problems_of(tmp_path, mutate)
    assert any(re.search(expected, p) for p in found), found


def test_every_problem_is_reported_at_once(tmp_path):
    def many(d):
        d["jobs"]["support-bot"]["hyperparameters"]["epochCount"] = 0
        d["jobs"]["docs-refresh"]["hyperparameters"]["epochCount"] = 99
        d["jobs"]["math-grader"].pop("grader")

    assert len(problems_of(tmp_path, many)) == 3


def test_duplicate_yaml_keys_are_an_error_not_a_silent_overwrite(tmp_path):
    path = tmp_path / "dev.yaml"
    path.write_text("environment: dev\nregion: us-east-1\nregion: us-west-2\njobs: {}\n")
    with pytest.raises(UserError, match="duplicate key 'region'"):
        load_environment(path, CATALOG, base_dir=ROOT)


def test_an_unknown_environment_names_the_available_ones_and_no_flag_the_user_did_not_pass(example_root):
    with pytest.raises(UserError) as raised:
        load_environments(example_root / "config", CATALOG, base_dir=example_root, only="staging")
    (problem,) = raised.value.problems
    assert str(problem) == (
        'config/staging.yaml: no such file: there is no environment "staging"; available environments: dev, prod'
    )


@settings(max_examples=60, deadline=None)
@given(st.from_regex(naming.KEY_PATTERN, fullmatch=True).filter(lambda k: len(k) <= naming.MAX_JOB_KEY_LEN))
def test_any_accepted_job_key_yields_names_bedrock_accepts(key):
    name = naming.job_name("abcdefghijkl", key, "0123abcd")
    assert len(name) <= 63
    assert re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9\+\-\.])*", name)  # jobName
    assert re.fullmatch(r"([0-9a-zA-Z][_-]?){1,63}", name)  # customModelName
    assert re.fullmatch(r"[a-zA-Z0-9]([-a-zA-Z0-9]{0,254}[a-zA-Z0-9])?", naming.client_request_token(name))


@settings(max_examples=40, deadline=None)
@given(
    value=st.one_of(
        st.integers(-10, 20), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=5), st.booleans()
    )
)
def test_hyperparameter_checks_accept_exactly_the_catalog_range(tmp_path_factory, value):
    spec = CATALOG.models["amazon.nova-micro-v1:0:128k"].customizations["fine_tuning"].hyperparameters["epochCount"]
    accepted = spec.check(value) is None
    in_range = (
        not isinstance(value, (bool, str))
        and value == value
        and value not in (float("inf"), float("-inf"))
        and float(value).is_integer()
        and 1 <= value <= 5
    )
    assert accepted == in_range


def test_a_bad_catalog_entry_is_reported_with_its_path():
    raw = yaml.safe_load((ROOT / "catalog" / "models.yaml").read_text())
    raw["models"]["amazon.nova-micro-v1:0:128k"]["customizations"]["fine_tuning"]["hyperparameters"]["epochCount"][
        "default"
    ] = 9
    raw["models"]["amazon.nova-micro-v1:0:128k"]["customizations"]["fine_tuning"]["dataset"]["format"] = "csv"
    raw["teachers"]["amazon.nova-pro-v1:0"]["students"].append("amazon.nova-mega")
    problems = Problems("catalog/models.yaml")
    parse_catalog(raw, problems, "catalog/models.yaml")
    text = "\n".join(str(p) for p in problems.items)
    assert (
        "models.amazon.nova-micro-v1:0:128k.customizations.fine_tuning.hyperparameters.epochCount.default: "
        "is 9; allowed: a whole number from 1 to 5"
    ) in text
    assert 'dataset.format: is "csv"; allowed: prompt_completion' in text
    assert 'teachers.amazon.nova-pro-v1:0.students[2]: "amazon.nova-mega" is not a model in this catalog' in text


def test_a_misspelt_or_non_finite_catalog_price_is_refused():
    raw = yaml.safe_load((ROOT / "catalog" / "models.yaml").read_text())
    prices = raw["models"]["amazon.nova-micro-v1:0:128k"]["prices"]
    prices["provisoned_per_mu_hour"] = prices.pop("provisioned_per_mu_hour")
    prices["storage_per_month"] = {**prices["storage_per_month"], "usd": float("nan")}
    problems = Problems("catalog/models.yaml")
    parse_catalog(raw, problems, "catalog/models.yaml")
    text = "\n".join(str(p) for p in problems.items)
    assert (
        "prices.provisoned_per_mu_hour: unknown price; allowed here: "
        "training_per_1k_tokens, storage_per_month, provisioned_per_mu_hour"
    ) in text
    assert "prices.storage_per_month.usd: is nan; allowed: a finite number, at least 0" in text
