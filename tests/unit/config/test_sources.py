"""Local datasets are uploaded as deployment assets, so they must be files inside the repository."""

from __future__ import annotations

import copy
import shutil

import pytest
import yaml

from tailor.config.environment import load_environment
from tailor.errors import UserError
from tests.conftest import ROOT
from tests.unit.config.test_environment import CATALOG, DEV

INSIDE = "the repository (checkout/), written relative to it"


@pytest.fixture
def checkout(tmp_path):
    """A repository with the example data, and a dataset outside it that must never be uploaded."""
    root = tmp_path / "checkout"
    shutil.copytree(ROOT / "examples", root / "examples")
    (root / "config").mkdir()
    shutil.copy(ROOT / "examples/data/support/train.jsonl", tmp_path / "outside.jsonl")
    return root


def load_with(root, training_data):
    data = copy.deepcopy(DEV)
    data["jobs"]["support-bot"]["training_data"] = training_data
    (root / "config" / "dev.yaml").write_text(yaml.safe_dump(data))
    return load_environment(root / "config" / "dev.yaml", CATALOG, base_dir=root)


def refusal(root, training_data) -> str:
    with pytest.raises(UserError) as raised:
        load_with(root, training_data)
    (problem,) = [p for p in raised.value.problems if p.path == "jobs.support-bot.training_data"]
    return str(problem)


def test_an_absolute_path_is_refused_even_to_an_existing_file(checkout):
    outside = str(checkout.parent / "outside.jsonl")
    message = refusal(checkout, outside)
    assert f'"{outside}" is an absolute path; a local dataset must be a file inside {INSIDE}' in message
    assert "upload it to S3 and use an S3 object URI such as s3://" in message


def test_a_home_relative_path_is_refused(checkout):
    assert '"~/train.jsonl" is an absolute path' in refusal(checkout, "~/train.jsonl")


def test_dot_dot_out_of_the_repository_is_refused(checkout):
    message = refusal(checkout, "../outside.jsonl")
    assert '"../outside.jsonl" leads out of the repository through ..' in message


def test_a_symbolic_link_out_of_the_repository_is_refused(checkout):
    (checkout / "examples" / "linked.jsonl").symlink_to(checkout.parent / "outside.jsonl")
    message = refusal(checkout, "examples/linked.jsonl")
    assert '"examples/linked.jsonl" leads out of the repository through a symbolic link' in message


def test_a_linked_directory_out_of_the_repository_is_refused(checkout):
    (checkout / "data").symlink_to(checkout.parent)
    assert "through a symbolic link" in refusal(checkout, "data/outside.jsonl")


def test_dot_dot_and_links_that_stay_inside_the_repository_are_fine(checkout):
    (checkout / "examples" / "alias.jsonl").symlink_to(checkout / "examples/data/support/train.jsonl")
    for written in ("examples/data/../data/support/train.jsonl", "examples/alias.jsonl"):
        env = load_with(checkout, written)
        assert env.jobs["support-bot"].training.path == (checkout / "examples/data/support/train.jsonl").resolve()


def test_s3_data_is_the_way_to_data_kept_elsewhere(checkout):
    env = load_with(checkout, "s3://team-data/support/train.jsonl")
    assert env.jobs["support-bot"].training.location == "s3://team-data/support/train.jsonl"
