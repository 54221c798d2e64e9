"""A config mistake and a dataset mistake are reported by the same run, for every environment at once."""

from __future__ import annotations

import copy
import shutil

import pytest
import yaml

from tailor.cli import main
from tailor.errors import UserError
from tailor.jobs.preflight import load_checked
from tests.conftest import ROOT
from tests.unit.config.test_environment import CATALOG, DEV


@pytest.fixture
def checkout(tmp_path):
    """dev with a bad hyperparameter and a training file whose second line is not JSON; prod with a bad key."""
    root = tmp_path / "checkout"
    shutil.copytree(ROOT / "examples", root / "examples")
    (root / "config").mkdir()
    good = (ROOT / "examples/data/support/train.jsonl").read_text().splitlines()[0]
    (root / "examples" / "broken.jsonl").write_text(good + "\n{not json\n")
    dev = copy.deepcopy(DEV)
    dev["jobs"]["support-bot"]["training_data"] = "examples/broken.jsonl"
    dev["jobs"]["docs-refresh"]["hyperparameters"]["epochCount"] = 99
    (root / "config" / "dev.yaml").write_text(yaml.safe_dump(dev))
    prod = yaml.safe_load((ROOT / "config" / "prod.yaml").read_text())
    prod["policy"]["max_throughput_hour"] = 8
    (root / "config" / "prod.yaml").write_text(yaml.safe_dump(prod))
    return root


def test_load_checked_reports_config_and_dataset_problems_of_every_file_together(checkout):
    # When
    with pytest.raises(UserError) as raised:
        load_checked(checkout / "config", CATALOG, base_dir=checkout)
    # Then one error holds the config mistake and the dataset's line in dev, and prod's unknown key
    text = [str(p) for p in raised.value.problems]
    assert any("jobs.docs-refresh.hyperparameters.epochCount: is 99" in t for t in text), text
    assert any(t.startswith("examples/broken.jsonl:2:") for t in text), text
    assert any(
        "config/prod.yaml: policy.max_throughput_hour: unknown key; did you mean max_throughput_hours?" in t
        for t in text
    )


def test_tailor_plan_prints_both_kinds_in_one_run(checkout, capsys):
    code = main(["plan", "--config-dir", str(checkout / "config")])
    err = capsys.readouterr().err
    assert code == 1
    assert "epochCount: is 99" in err and "examples/broken.jsonl:2:" in err and "max_throughput_hour" in err


def test_a_dataset_is_checked_even_when_the_environment_has_a_top_level_mistake(checkout):
    dev = yaml.safe_load((checkout / "config" / "dev.yaml").read_text())
    dev["jobs"]["docs-refresh"]["hyperparameters"]["epochCount"] = 1
    dev["colour"] = "blue"
    dev["notifications"] = {"emails": ["ml-team"]}
    (checkout / "config" / "dev.yaml").write_text(yaml.safe_dump(dev))
    with pytest.raises(UserError) as raised:
        load_checked(checkout / "config", CATALOG, base_dir=checkout, only="dev")
    text = [str(p) for p in raised.value.problems]
    assert any("colour: unknown key" in t for t in text) and any("notifications.emails[0]" in t for t in text)
    assert any(t.startswith("examples/broken.jsonl:2:") for t in text), text
