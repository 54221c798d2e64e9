"""docs/quickstart.md, executed: every command of its bash blocks runs in a fresh checkout-shaped directory,
as far as it can without an AWS account. Each command is classified below; one the test does not know fails
it, so the quick start cannot grow a step nobody ran.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass

import pytest

from tests.conftest import ROOT, make_example_root

QUICKSTART = ROOT / "docs" / "quickstart.md"
ACCOUNT = "123456789012"
NEEDS_AWS = "needs an AWS account and credentials"


@dataclass(frozen=True)
class Step:
    command: str  # as written, continuation lines joined, a heredoc's body included
    action: str  # "run" | "instead" | "skip"
    detail: str = ""  # what runs instead, or why it is skipped


# (pattern, action, detail): the first that matches a command decides.
RULES: list[tuple[str, str, str]] = [
    (r"git clone ", "skip", "the test runs inside this checkout"),
    (r"make install$", "skip", "the test runs in an installed checkout (make test installs first)"),
    (r"export PATH=", "skip", "the test puts its own `tailor` first on PATH"),
    (r"sed -i\.bak \"s/ACCOUNT_ID/\$\(aws sts ", "instead", f"the account id {ACCOUNT} written in place"),
    (r"export AWS_PROFILE=|aws |npx cdk bootstrap", "skip", NEEDS_AWS),
    (r"make synth ENV=(\S+)$", "instead", "tailor plan \\1 (the same checks without the CDK; tests/infra synthesizes)"),
    (r"make plan ENV=(\S+)$", "instead", "tailor plan \\1"),
    (r"make (deploy|destroy|diff)\b", "skip", NEEDS_AWS),
    (r"tailor (preview|status|serving)\b", "skip", NEEDS_AWS),
    (r"tailor plan .*--live", "skip", NEEDS_AWS),
    (r"tailor (validate|models|plan|schema)\b", "run", ""),
    (r"(cat > \S+ <<'EOF'|mkdir -p |cp )", "run", ""),
]


def commands(markdown: str) -> list[str]:
    """Each command of each ```bash block: comments dropped, `\\` continuations joined, heredocs kept whole."""
    out: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", markdown, re.S):
        lines = block.splitlines()
        index = 0
        while index < len(lines):
            line = lines[index]
            index += 1
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            while line.endswith("\\") and index < len(lines):
                line = line[:-1] + lines[index].strip()
                index += 1
            heredoc = re.search(r"<<'(\w+)'$", line)
            if heredoc:
                end = lines.index(heredoc.group(1), index)
                line = "\n".join([line, *lines[index : end + 1]])
                index = end + 1
            out.append(line)
    return out


def classify(command: str) -> Step:
    first = command.splitlines()[0]
    bare = re.sub(r"\s+#.*$", "", first)  # a trailing comment is not part of the command
    for pattern, action, detail in RULES:
        match = re.search(pattern, bare)
        if match:
            return Step(command, action, match.expand(detail) if action == "instead" else detail)
    raise AssertionError(f"docs/quickstart.md has a command this test does not know; classify it: {first}")


STEPS = [classify(c) for c in commands(QUICKSTART.read_text())]


def test_the_quick_start_covers_the_first_hour_with_the_commands_users_are_told():
    written = "\n".join(s.command for s in STEPS)
    for expected in (
        "cat > config/sandbox.yaml",
        "tailor validate data/sandbox/train.jsonl",
        "make synth ENV=sandbox",
        "tailor preview sandbox",
        "make deploy ENV=sandbox",
        "tailor status sandbox",
        "tailor serving extend sandbox first-job --hours 2",
        "tailor serving expire sandbox first-job",
        "make destroy ENV=sandbox",
    ):
        assert expected in written, expected
    # the steps are numbered and in this order
    headings = re.findall(r"^## (\d+)\. ", QUICKSTART.read_text(), re.M)
    assert headings == [str(n) for n in range(1, len(headings) + 1)] and len(headings) >= 10


@pytest.fixture
def checkout(tmp_path):
    root = make_example_root(tmp_path / "checkout")
    shutil.copy(ROOT / "config" / "schema.json", root / "config" / "schema.json")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "tailor"  # what make install writes, pointed at this checkout's code
    shim.write_text(f'#!/bin/sh\nPYTHONPATH="{ROOT}" exec "{sys.executable}" -m tailor.cli "$@"\n')
    shim.chmod(0o755)
    return root, bin_dir


def test_every_quick_start_command_that_needs_no_account_succeeds(checkout):
    root, bin_dir = checkout
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    ran: list[str] = []
    outputs: dict[str, str] = {}
    for step in STEPS:
        if step.action == "skip":
            continue
        if step.command.startswith("sed -i.bak"):
            config = root / "config" / "sandbox.yaml"
            config.write_text(config.read_text().replace("ACCOUNT_ID", ACCOUNT))
            ran.append("account set")
            continue
        command = step.detail.split(" (")[0] if step.action == "instead" else step.command
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", command],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
        ran.append(command.splitlines()[0])
        outputs[command.splitlines()[0]] = result.stdout
    # Then what a user reaches before any deploy all ran: their config is valid and within its budget
    assert any(r.startswith("tailor validate") for r in ran) and "tailor plan sandbox" in ran
    assert (
        "data/sandbox/train.jsonl: valid: 24 records"
        in outputs[next(r for r in ran if r.startswith("tailor validate"))]
    )
    plan = outputs["tailor plan sandbox"]
    assert "Plan for sandbox (us-east-1, account 123456789012): 1 job(s)" in plan and "first-job" in plan
    assert "of the $100.00 budget" in plan and "jobs.first-job.serve" in plan
    assert "amazon.nova-micro-v1:0:128k" in outputs["tailor models --region us-east-1 --type fine_tuning"]


def test_the_skipped_steps_are_only_those_that_need_an_account_or_an_install():
    reasons = {s.detail for s in STEPS if s.action == "skip"}
    assert reasons <= {
        NEEDS_AWS,
        "the test runs inside this checkout",
        "the test runs in an installed checkout (make test installs first)",
        "the test puts its own `tailor` first on PATH",
    }


def test_the_template_in_the_quick_start_is_not_one_of_the_shipped_examples():
    # The examples carry placeholder ARNs and say so; the quick start's environment must not point at them.
    for name in ("dev", "prod"):
        head = (ROOT / "config" / f"{name}.yaml").read_text().splitlines()[:4]
        assert any("EXAMPLE" in line for line in head) and any("placeholder" in line for line in head)
    template = next(s.command for s in STEPS if s.command.startswith("cat > config/sandbox.yaml"))
    assert "111122223333" not in template and "arn:" not in template
