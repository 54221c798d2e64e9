"""`tailor plan --from-dir`: any malformed plan file is exit 2 and one line, never a traceback."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tailor.cli import main
from tailor.plan.file import PlanFileError, read_plan_file
from tests.unit.plan.test_build import example

GOOD = example("dev")


def run(tmp_path, plan: Any, capsys) -> tuple[int, str]:
    (tmp_path / "plan-dev.json").write_text(json.dumps(plan) if not isinstance(plan, str) else plan)
    code = main(["plan", "--from-dir", str(tmp_path)])
    return code, capsys.readouterr().err


def test_a_plan_file_with_only_the_three_keys_once_checked_is_one_line_exit_2(tmp_path, capsys):
    # Given the keys the old check looked for, and nothing else
    code, err = run(tmp_path, {"worst_case_month_usd": 1.0, "environment": "dev", "servings": []}, capsys)
    # Then
    assert code == 2 and err.count("\n") == 1
    assert err == (
        f"tailor: error: {tmp_path / 'plan-dev.json'}: not a plan file this Tailor can read (source: missing); "
        "run `make synth` again to rewrite it\n"
    )


@pytest.mark.parametrize(
    "mutate, where",
    [
        (lambda p: p["jobs"][0].pop("hyperparameters"), "jobs[0].hyperparameters: missing"),
        (lambda p: p["servings"][1].update(model="x"), 'servings[1].model: is "x"; expected an object'),
        (
            lambda p: p["servings"][0].update(model_units="1"),
            'servings[0].model_units: is "1"; expected a whole number',
        ),
        (lambda p: p.update(worst_case_month_usd=True), "worst_case_month_usd: is true; expected a number"),
        (lambda p: p.update(budget_usd=0), "budget_usd: is 0; expected a number above 0 or null"),
        (lambda p: p["servings"][0].update(state=3), "servings[0].state: is 3; expected a string"),
        (lambda p: p.update(jobs={}), "jobs: is an object; expected a list"),
    ],
)
def test_each_malformed_field_is_named(tmp_path, capsys, mutate, where):
    plan = copy.deepcopy(GOOD)
    mutate(plan)
    code, err = run(tmp_path, plan, capsys)
    assert code == 2 and err.count("\n") == 1 and f"({where})" in err


@pytest.mark.parametrize("text", ["[]", "null", "{bad", "[" * 100_000, '"a plan"'])
def test_a_file_that_is_not_a_plan_object_is_one_line(tmp_path, capsys, text):
    code, err = run(tmp_path, text, capsys)
    assert code == 2 and err.count("\n") == 1 and "run `make synth` again" in err


def test_a_valid_plan_file_reads_back_as_written(tmp_path):
    (tmp_path / "plan-dev.json").write_text(json.dumps(GOOD))
    assert read_plan_file(tmp_path / "plan-dev.json") == GOOD


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key and index path in a JSON value."""
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            out += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += paths(item, (*prefix, index))
    return out


PATHS = paths(GOOD)
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=False),
    st.text(max_size=3),
    st.just([]),
    st.just({}),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(PATHS), action=st.sampled_from(["delete", "replace"]), junk=JUNK)
def test_any_deleted_or_retyped_field_ends_in_a_rendered_plan_or_one_line(tmp_path, capsys, path, action, junk):
    # Given a real plan with one field deleted or replaced by a value of another type
    plan = copy.deepcopy(GOOD)
    parent = plan
    for step in path[:-1]:
        parent = parent[step]
    if action == "delete":
        del parent[path[-1]]
    else:
        parent[path[-1]] = junk
    # When it is rendered, then it renders (0 or 1: a budget verdict) or is refused in one line; never a traceback
    code, err = run(tmp_path, plan, capsys)
    assert code in (0, 1, 2)
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("tailor: error: ")


def test_the_reader_raises_its_own_error_type(tmp_path):
    (tmp_path / "plan-dev.json").write_text("{}")
    with pytest.raises(PlanFileError):
        read_plan_file(tmp_path / "plan-dev.json")
