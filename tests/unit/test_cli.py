"""The `tailor` command: exit 0 valid, 1 invalid, 2 usage; messages, never tracebacks."""

from __future__ import annotations

import pytest

from tailor.cli import main
from tests.conftest import ROOT

TRAIN = str(ROOT / "examples/data/support/train.jsonl")


def test_a_valid_file_exits_0(capsys):
    assert main(["validate", TRAIN, "--base-model", "amazon.nova-micro-v1:0:128k", "--type", "fine_tuning"]) == 0
    assert "valid: 24 records" in capsys.readouterr().out


def test_an_invalid_file_exits_1_with_line_numbers(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"prompt": "hi", "completion": "there"}\n\xff\xfe not json\n')
    assert (
        main(["validate", str(bad), "--base-model", "amazon.titan-text-express-v1:0:8k", "--type", "fine_tuning"]) == 1
    )
    err = capsys.readouterr().err
    assert f"{bad}:2:" in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["validate", TRAIN, "--base-model", "amazon.nova-mega", "--type", "fine_tuning"],
            "unknown --base-model 'amazon.nova-mega'; catalog models:",
        ),
        (
            ["validate", TRAIN, "--base-model", "amazon.nova-micro-v1:0:128k", "--type", "continued_pre_training"],
            "does not support --type continued_pre_training; it supports: fine_tuning, distillation",
        ),
        (
            ["validate", "/nonexistent.jsonl", "--base-model", "amazon.nova-micro-v1:0:128k", "--type", "fine_tuning"],
            "no such file",
        ),
        (
            [
                "validate",
                TRAIN,
                "--base-model",
                "amazon.nova-2-lite-v1:0:256k",
                "--type",
                "fine_tuning",
                "--role",
                "validation",
            ],
            "takes no validation set",
        ),
    ],
)
def test_usage_errors_exit_2_with_a_message(capsys, argv, message):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["validate", TRAIN],
        ["validate", TRAIN, "--base-model", "x", "--type", "sft"],
        ["validate", TRAIN, "--base-model", "x", "--type", "fine_tuning", "--max-errors", "0"],
        [],
    ],
)
def test_argument_errors_exit_2(argv):
    with pytest.raises(SystemExit) as raised:
        main(argv)
    assert raised.value.code == 2


def test_plan_prints_every_environment_without_the_cdk(capsys, example_root):
    assert main(["plan", "--config-dir", str(example_root / "config")]) == 0
    out = capsys.readouterr().out
    assert "Plan for dev" in out and "Plan for prod" in out and "learningRateWarmupSteps=10*" in out
    assert out.count("Worst case this month: $") == 2


def test_plan_of_a_broken_config_exits_1(tmp_path, capsys):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "dev.yaml").write_text(
        "environment: dev\nregion: us-east-1\njobs: {a: {type: fine_tuning, base_model: nope}}\n"
    )
    assert main(["plan", "--config-dir", str(tmp_path / "config")]) == 1
    assert 'jobs.a.base_model: "nope" is not in the catalog' in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["plan", "nosuchenv", "--config-dir", "{examples}"],
            "tailor: error: ENV 'nosuchenv': no config/nosuchenv.yaml; available environments: dev, prod",
        ),
        (
            ["plan", "--config-dir", "/nonexistent-config"],
            "tailor: error: --config-dir /nonexistent-config: no such directory",
        ),
    ],
)
def test_plan_argument_mistakes_exit_2_with_one_line(argv, message, capsys, example_root):
    assert main([a.format(examples=example_root / "config") for a in argv]) == 2
    assert capsys.readouterr().err.strip() == message


def test_plan_outside_a_checkout_names_the_directory_it_looked_in_not_a_flag_never_passed(
    tmp_path, monkeypatch, capsys
):
    # Given a directory without config/
    monkeypatch.chdir(tmp_path)
    # When tailor plan runs without --config-dir
    code = main(["plan"])
    # Then it says where it looked and how to point elsewhere, in one line
    assert code == 2
    assert capsys.readouterr().err.strip() == (
        f"tailor: error: no config/ directory in {tmp_path}; run tailor from the Tailor checkout, "
        "or pass --config-dir DIR"
    )


def test_a_corrupt_plan_file_exits_2_naming_it(tmp_path, capsys):
    (tmp_path / "plan-dev.json").write_text("{bad")
    assert main(["plan", "--from-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"tailor: error: {tmp_path / 'plan-dev.json'}: not a plan file (") and err.count("\n") == 1
