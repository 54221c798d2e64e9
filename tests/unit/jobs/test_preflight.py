"""Checks across a job's files: Bedrock counts training and validation records together against one cap."""

from __future__ import annotations

import pytest
import yaml

from tailor.errors import UserError
from tailor.jobs.preflight import load_checked
from tests.unit.config.test_environment import CATALOG

RECORD = (
    '{"schemaVersion": "bedrock-conversation-2024", "messages": [{"role": "user", "content": [{"text": "hi"}]}, '
    '{"role": "assistant", "content": [{"text": "hello"}]}]}\n'
)


def checkout(tmp_path, training: int, validation: int):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.jsonl").write_text(RECORD * training)
    (tmp_path / "data" / "validation.jsonl").write_text(RECORD * validation)
    (tmp_path / "config").mkdir()
    config = {
        "environment": "dev",
        "region": "us-east-1",
        "jobs": {
            "bot": {
                "type": "fine_tuning",
                "base_model": "amazon.nova-micro-v1:0:128k",
                "training_data": "data/train.jsonl",
                "validation_data": "data/validation.jsonl",
            }
        },
    }
    (tmp_path / "config" / "dev.yaml").write_text(yaml.safe_dump(config))
    return tmp_path


def test_files_each_within_their_bound_but_over_the_joint_cap_are_refused_at_synth(tmp_path):
    root = checkout(tmp_path, 15_000, 5_001)  # Nova Micro: 20,000 together
    with pytest.raises(UserError) as raised:
        load_checked(root / "config", CATALOG, base_dir=root)
    (problem,) = [str(p) for p in raised.value.problems]
    assert problem.startswith("config/dev.yaml: jobs.bot: its training and validation data hold 20,001 records")
    assert "data/train.jsonl 15,000, data/validation.jsonl 5,001" in problem and "at most 20,000" in problem


def test_at_the_joint_cap_the_job_passes(tmp_path):
    root = checkout(tmp_path, 15_000, 5_000)
    (checked,) = load_checked(root / "config", CATALOG, base_dir=root)
    assert checked.stats[("bot", "training")].records + checked.stats[("bot", "validation-0")].records == 20_000
