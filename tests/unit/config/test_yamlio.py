"""What a config file can do to the loader: nothing hangs, nothing grows without bound, a wrong format is one hint."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tailor.config.environment import load_environment
from tailor.config.yamlio import MAX_BYTES, MAX_EXPANDED_NODES, WrittenInt, parse_yaml
from tailor.errors import UserError
from tests.conftest import ROOT
from tests.unit.config.test_environment import CATALOG, DEV

# Nine levels of nine aliases: under 400 bytes that expand to 9**9 (387 million) strings.
LEVELS = "abcdefghi"
BOMB_ANCHORS = 'x-a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"x-{b}: &{b} [{','.join('*' + a for _ in range(9))}]\n" for a, b in zip(LEVELS, LEVELS[1:], strict=False)
)


def bomb_config(field: str) -> str:
    """dev.yaml with the alias tree's root placed at `field` (the anchors before it, as unknown keys)."""
    body = yaml.safe_dump(DEV, sort_keys=False)
    if field == "region":
        body = body.replace("region: us-east-1", "region: *i")
    elif field == "epochCount":
        body = body.replace("epochCount: 2", "epochCount: *i", 1)
    elif field == "tags":
        body = body.replace("tags:\n", "tags:\n  huge: *i\n", 1)
    return BOMB_ANCHORS + body


def write(tmp_path: Path, text: str, name: str = "dev") -> Path:
    path = tmp_path / "config" / f"{name}.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def one_problem(path: Path) -> str:
    with pytest.raises(UserError) as raised:
        load_environment(path, CATALOG, base_dir=ROOT)
    assert len(raised.value.problems) == 1, raised.value.problems
    return str(raised.value.problems[0])


@pytest.mark.parametrize("field", ["region", "epochCount", "tags"])
def test_an_alias_tree_in_any_field_is_refused_at_once_by_tailor_plan(tmp_path, field):
    # Given dev's config with a few hundred bytes of alias tree in one field
    assert len(BOMB_ANCHORS.encode()) < 400
    path = write(tmp_path, bomb_config(field))
    # When `tailor plan` reads it (a separate process: before the limit, this never returned)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "tailor.cli", "plan", "dev", "--config-dir", str(path.parent)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    # Then it exits 1 with one line naming the file and the limit
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("\n") == 1 and "expand to more than 100,000 values" in result.stderr
    assert time.monotonic() - started < 10  # interpreter start included
    # and the load itself takes well under a second
    started = time.monotonic()
    assert "config/dev.yaml: its aliases (*name) expand to more than" in one_problem(path)
    assert time.monotonic() - started < 0.5


def test_aliases_a_person_would_write_still_work(tmp_path):
    text = yaml.safe_dump(DEV, sort_keys=False).replace(
        "hyperparameters:\n      epochCount: 2\n      learningRate: 1.0e-05\n",
        "hyperparameters: &tuned\n      epochCount: 2\n      learningRate: 1.0e-05\n",
        1,
    )
    assert "&tuned" in text
    env = load_environment(write(tmp_path, text), CATALOG, base_dir=ROOT)
    assert env.jobs["support-bot"].hyperparameters["epochCount"] == 2


def test_the_catalog_with_its_shared_anchors_is_far_below_the_limit():
    from tailor.config import yamlio

    node = yaml.compose((ROOT / "catalog" / "models.yaml").read_text())
    sizes: dict[int, int] = {}

    def size(n):  # the same count as the loader's, recursively (the catalog is shallow)
        if id(n) not in sizes:
            sizes[id(n)] = 1 + sum(size(c) for c in yamlio._children(n))
        return sizes[id(n)]

    assert size(node) * 10 < MAX_EXPANDED_NODES


@pytest.mark.parametrize(
    "text, message",
    [
        ("a: &a [*a]\n", "line 1: an alias refers to a value that contains it"),
        ("a: " + "[" * 5000 + "]" * 5000 + "\n", "is nested too deeply to read"),
    ],
)
def test_recursive_and_deeply_nested_documents_are_one_line(text, message):
    with pytest.raises(UserError) as raised:
        parse_yaml(text, name="f.yaml")
    (problem,) = raised.value.problems
    assert message in str(problem)


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path):
    path = write(tmp_path, "# padding\n" * (MAX_BYTES // 10 + 1))
    assert f"bytes; at most {MAX_BYTES:,} allowed for a Tailor environment config" in one_problem(path)


def test_integers_written_another_way_keep_what_was_written():
    value = parse_yaml("a: 012345670123\nb: 17\n", name="f.yaml")
    assert value["a"] == 0o12345670123 and isinstance(value["a"], WrittenInt) and value["a"].written == "012345670123"
    assert type(value["b"]) is int
    copied = copy.deepcopy(value)
    assert copied["a"].written == "012345670123" and json.dumps(copied) == '{"a": 1402433619, "b": 17}'


@pytest.mark.parametrize(
    "text, looks_like",
    [
        pytest.param(
            (ROOT / "examples/data/support/train.jsonl").read_text(), "it looks like JSON Lines", id="dataset"
        ),
        pytest.param('[project]\nname = "x"\n\n[tool.ruff]\nline-length = 120\n', "it looks like TOML", id="toml"),
        pytest.param(
            "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  B:\n    Type: AWS::S3::Bucket\n"
            "    Properties:\n      BucketName: !Ref Name\n",
            "it looks like a CloudFormation template",
            id="cloudformation-yaml",
        ),
        pytest.param(
            json.dumps({"Resources": {f"B{i}": {"Type": "AWS::S3::Bucket"} for i in range(300)}}),
            "it looks like a CloudFormation template",
            id="cloudformation-json",
        ),
        pytest.param(
            json.dumps({"environment": "dev", "servings": [], "worst_case_month_usd": 1, "jobs": []}),
            "it looks like a Tailor plan file",
            id="plan-file",
        ),
        pytest.param((ROOT / "catalog" / "models.yaml").read_text(), "it looks like the model catalog", id="catalog"),
    ],
)
def test_a_whole_file_in_another_format_gets_one_hint_naming_the_format(tmp_path, text, looks_like):
    problem = one_problem(write(tmp_path, text))
    assert "config/dev.yaml: is not a Tailor environment config" in problem and looks_like in problem


def test_an_unquoted_account_with_a_leading_zero_is_quoted_as_the_user_wrote_it(tmp_path):
    # Given `account: 012345670123`, which YAML 1.1 reads as the octal number 1402433619
    text = yaml.safe_dump(DEV).replace("environment: dev\n", "environment: dev\naccount: 012345670123\n")
    # Then the suggestion is what the user wrote, quoted, not "001402433619"
    assert one_problem(write(tmp_path, text)).endswith(
        "account: is 012345670123 unquoted, which YAML reads as the number 1402433619; quote it as written: "
        'account: "012345670123"'
    )
