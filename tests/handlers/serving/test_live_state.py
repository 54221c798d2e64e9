"""`tailor plan --live`: each serving entry's state from the SSM records, including 'expired and stays gone'."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3

from tailor import naming, records
from tailor.cli import main
from tailor.jobs.preflight import check_datasets
from tailor.plan.build import build_plan
from tailor.serving.live_state import annotate
from tests.conftest import REGION, ROOT
from tests.handlers.helpers import environment

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_given_records_in_every_state_then_each_serving_entry_says_what_it_is_doing(aws):
    env = environment("dev")
    plan = build_plan(env, check_datasets(env))
    names = {s["key"]: s["name"] for s in plan["servings"]}
    ssm = boto3.client("ssm", region_name=REGION)
    records.put(
        ssm, naming.serving_record_name("dev", "support-bot"), {"name": names["support-bot"], "status": "pending"}
    )
    records.put(
        ssm,
        naming.serving_record_name("dev", "micro-eval"),
        {
            "name": names["micro-eval"],
            "status": "deleted",
            "deletedAt": "2026-11-25T10:00:00Z",
            "deletedReason": "expired at 2026-11-25T10:00:00Z (schedule)",
        },
    )
    states = {s["key"]: s["state"] for s in annotate(plan, ssm, now=NOW)["servings"]}
    assert states == {
        "support-bot": "pending: starts when its job completes",
        "support-distilled": "not deployed",
        "micro-eval": (
            "gone since 2026-11-25T10:00:00Z (expired at 2026-11-25T10:00:00Z (schedule)); "
            "stays gone until its hours or revision change"
        ),
    }


def test_active_and_overdue_and_replaced_states(aws):
    from tailor.serving.live_state import state

    assert (
        state({"name": "n", "status": "active", "expiresAt": "2026-11-25T13:30:00Z"}, "n", NOW)
        == "active until 2026-11-25T13:30:00Z (1 h 30 min left)"
    )
    assert state({"name": "n", "status": "active", "expiresAt": "2026-11-25T11:00:00Z"}, "n", NOW).startswith(
        "past its expiry"
    )
    assert (
        state({"name": "old", "status": "active"}, "n", NOW)
        == "deployed with other settings: the next deploy replaces it"
    )


def test_the_cli_adds_a_now_column_and_fails_in_one_line_without_access(aws, capsys, monkeypatch):
    from tailor import cli

    assert main(["plan", "dev", "--live", "--config-dir", str(ROOT / "config")]) == 0
    out = capsys.readouterr().out
    assert " now" in out and "not deployed" in out

    def unreachable(plan):
        raise OSError("connection refused")

    monkeypatch.setattr(cli, "_live", unreachable)
    assert main(["plan", "dev", "--live"]) == 2
    assert (
        capsys.readouterr().err.strip()
        == "tailor: error: cannot read serving state from SSM: OSError: connection refused"
    )
