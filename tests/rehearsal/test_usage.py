"""`python -m rehearsal` refuses what it cannot rehearse in one line, before it starts anything (fast: no servers)."""

from __future__ import annotations

import shutil

import pytest

from rehearsal import processes, scenario
from tests.conftest import ROOT


def config_dir(tmp_path, text: str | None = None):
    directory = tmp_path / "config"
    directory.mkdir()
    if text is None:
        shutil.copy(ROOT / "config" / "dev.yaml", directory / "dev.yaml")
    else:
        (directory / "dev.yaml").write_text(text)
    return directory


def test_an_unknown_environment_is_one_line_exit_2(tmp_path, capsys):
    code = scenario.main(["nosuch", "--config-dir", str(config_dir(tmp_path)), "--run-dir", str(tmp_path / "run")])
    assert code == 2 and capsys.readouterr().err.count("\n") == 1


def test_an_invalid_config_prints_its_problems_like_synth_exit_1(tmp_path, capsys):
    directory = config_dir(tmp_path, "environment: dev\nregion: us-east-1\njobs: {bot: {type: fine_tuning}}\n")
    code = scenario.main(["dev", "--config-dir", str(directory), "--run-dir", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 1 and "jobs.bot" in err and "Traceback" not in err


def test_without_the_emulator_installed_it_says_what_to_run_and_starts_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(processes, "EMULATOR_PYTHON", tmp_path / "none" / "bin" / "python")
    started = []
    monkeypatch.setattr(processes, "start_local_bedrock", lambda *a, **k: started.append("bedrock"))
    code = scenario.main(["dev", "--config-dir", str(config_dir(tmp_path)), "--run-dir", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert (
        code == 2 and err == f"rehearsal: error: no emulator environment at {tmp_path / 'none'}; run `make rehearse`\n"
    )
    assert started == []


def test_a_cdk_command_that_times_out_keeps_what_it_printed_as_text(tmp_path, monkeypatch):
    # Given a CLI that prints a line, then hangs past the timeout
    from rehearsal import cdk

    slow = tmp_path / "cdk"
    slow.write_text("#!/bin/sh\necho 'Deploying Tailor-dev-Data'\nexec sleep 30\n")
    slow.chmod(0o755)
    monkeypatch.setattr(cdk, "CDK", slow)
    cli = cdk.Cli(
        endpoint="http://127.0.0.1:9",
        account="111122223333",
        region="us-east-1",
        run_dir=tmp_path,
        log=tmp_path / "cdk.log",
    )
    # When it runs with a short timeout
    outcome = cli.run("deploy", cwd=tmp_path, timeout=2)
    # Then the outcome says so and carries the line as text (subprocess hands bytes back on a timeout)
    assert outcome.returncode == 124 and "timed out after 2 s" in outcome.output
    assert "Deploying Tailor-dev-Data" in outcome.output and "b'" not in outcome.output


@pytest.mark.parametrize("value", ["-5", "0", "abc", "inf", "nan"])
def test_a_job_time_that_is_not_a_positive_number_is_refused_before_anything_starts(value, capsys):
    with pytest.raises(SystemExit) as exit_:
        scenario.main(["dev", "--job-seconds", value])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "--job-seconds: is" in err and "allowed: a number of seconds above 0" in err
