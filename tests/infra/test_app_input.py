"""`make synth` (app.py) on hostile input: refused at once, in one line, before any stack or asset exists."""

from __future__ import annotations

import time

import aws_cdk as cdk
import pytest
import yaml

from app import build_app
from tailor.errors import UserError
from tests.conftest import ROOT, make_example_root
from tests.unit.config.test_yamlio import bomb_config


@pytest.fixture
def checkout(tmp_path):
    return make_example_root(tmp_path / "checkout")


def refused(checkout, tmp_path) -> list[str]:
    app = cdk.App(outdir=str(tmp_path / "out"))
    with pytest.raises(UserError) as raised:
        build_app(app, root=checkout, config_dir=checkout / "config", only="dev")
    assert app.node.children == []  # no stack, so no asset upload
    return [str(p) for p in raised.value.problems]


def test_an_alias_tree_is_refused_by_synth_in_well_under_a_second(checkout, tmp_path):
    (checkout / "config" / "dev.yaml").write_text(bomb_config("epochCount"))
    started = time.monotonic()
    (problem,) = refused(checkout, tmp_path)
    assert time.monotonic() - started < 1
    assert "config/dev.yaml: its aliases (*name) expand to more than 100,000 values" in problem


def test_a_dataset_outside_the_repository_is_never_uploaded(checkout, tmp_path):
    outside = tmp_path / "outside.jsonl"
    outside.write_text((ROOT / "examples/data/support/train.jsonl").read_text())
    data = yaml.safe_load((checkout / "config" / "dev.yaml").read_text())
    data["jobs"]["support-bot"]["training_data"] = str(outside)
    (checkout / "config" / "dev.yaml").write_text(yaml.safe_dump(data))
    (problem,) = refused(checkout, tmp_path)
    assert "jobs.support-bot.training_data" in problem and "is an absolute path" in problem


def test_an_unknown_environment_names_the_ones_there_are_not_a_flag(checkout, tmp_path):
    app = cdk.App(outdir=str(tmp_path / "out"))
    with pytest.raises(UserError) as raised:
        build_app(app, root=checkout, config_dir=checkout / "config", only="staging")
    (problem,) = raised.value.problems
    assert str(problem) == (
        'config/staging.yaml: no such file: there is no environment "staging"; available environments: dev, prod'
    )
