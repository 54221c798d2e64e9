"""Choosing a sweep's winner (pure): by loss, by score and its gate, and what the record and message say."""

from __future__ import annotations

import pytest

from tailor.jobs import sweep, sweep_decision, sweep_report


def trial(index, status="Completed", training=None, validation=None, note=None):
    out = {"index": index, "name": f"tailor-dev-bot-{index:08d}", "values": {"epochCount": index}, "status": status}
    if training is not None:
        out["trainingLoss"] = training
    if validation is not None:
        out["validationLoss"] = validation
    if note:
        out["note"] = note
    return out


def record(trials, **extra):
    return {
        "kind": "sweep",
        "environment": "dev",
        "jobKey": "bot",
        "sweepName": "tailor-dev-bot-sweep0001",
        "status": "InProgress",
        "trials": trials,
        "retainCustomModels": True,
        **extra,
    }


TRIAL_RECORDS = {
    f"tailor-dev-bot-{i:08d}": {"jobArn": f"arn:job/{i}", "customModelArn": f"arn:model/{i}", "trainingLoss": 0.1}
    for i in range(1, 7)
}


def test_the_lowest_validation_loss_wins_and_a_tie_goes_to_the_first_trial():
    ranking = sweep_decision.rank_by_loss(
        [trial(1, validation=0.3), trial(2, validation=0.2), trial(3, validation=0.2)]
    )
    assert [t["index"] for t in ranking.ranked] == [2, 3, 1] and ranking.metric == "validationLoss"
    decision = sweep_decision.decide_by_loss(record([]), ranking, TRIAL_RECORDS)
    assert decision["status"] == "Completed" and decision["winner"]["index"] == 2
    assert decision["jobArn"] == "arn:job/2" and decision["customModelArn"] == "arn:model/2"
    assert decision["decision"] == "lowest validation loss (0.2) of 3 completed trial(s)"


def test_without_a_validation_loss_for_every_trial_the_training_loss_is_compared_and_the_record_says_so():
    ranking = sweep_decision.rank_by_loss([trial(1, training=0.5, validation=0.1), trial(2, training=0.4)])
    assert ranking.metric == "trainingLoss" and [t["index"] for t in ranking.ranked] == [2, 1]
    decision = sweep_decision.decide_by_loss(record([]), ranking, TRIAL_RECORDS)
    assert "lowest training loss (0.4)" in decision["decision"]
    assert "no validation loss reported for every trial: the training loss is compared instead" in decision["decision"]


def test_a_loss_per_validation_set_counts_as_their_mean():
    assert sweep_decision.loss_of([0.2, 0.4]) == pytest.approx(0.3) and sweep_decision.loss_of(None) is None
    assert sweep_decision.loss_of(float("nan")) is None and sweep_decision.loss_of(True) is None


def test_failed_and_stopped_trials_are_not_considered_and_with_none_left_nothing_wins():
    ranking = sweep_decision.rank_by_loss(
        [trial(1, "Failed", note="bad data"), trial(2, "Stopped"), trial(3, training=None)]
    )
    decision = sweep_decision.decide_by_loss(record([]), ranking, TRIAL_RECORDS)
    assert decision["status"] == "Failed"
    assert decision["failureMessage"] == (
        "no trial completed with a loss to compare (trial 1 Failed: bad data; trial 2 Stopped; "
        "trial 3 Completed without a training loss)"
    )


def evaluated(scores, gate, *, higher=True, base=None, candidates=None):
    names = [f"tailor-dev-bot-{i:08d}" for i in (1, 2, 3)]
    evaluations = {n: {"status": "scored", "score": s} for n, s in zip(names, scores, strict=True) if s is not None}
    evaluations.update(
        {n: {"status": "failed", "error": "throughput failed"} for n, s in zip(names, scores, strict=True) if s is None}
    )
    if base is not None:
        evaluations["base"] = base
    return record(
        [trial(1, validation=0.1), trial(2, validation=0.2), trial(3, validation=0.3)],
        status="Evaluating",
        candidates=candidates or names,
        lossMetric="validationLoss",
        evaluations=evaluations,
        evaluation={"metric": "Builtin.Accuracy", "higherIsBetter": higher, "gate": gate},
    )


def test_the_best_score_wins_among_the_evaluated_and_an_unscored_one_is_named():
    decision = sweep_decision.decide_by_score(evaluated([0.6, 0.8, None], {}), TRIAL_RECORDS)
    assert decision["status"] == "Completed" and decision["winner"]["index"] == 2 and decision["winner"]["score"] == 0.8
    assert "highest Builtin.Accuracy (0.8) of 2 evaluated trial(s)" in decision["decision"]
    assert "not scored: trial 3: throughput failed" in decision["decision"]


def test_a_lower_is_better_metric_picks_the_lowest_score():
    decision = sweep_decision.decide_by_score(evaluated([0.6, 0.8, 0.7], {}, higher=False), TRIAL_RECORDS)
    assert decision["winner"]["index"] == 1 and "lowest Builtin.Accuracy" in decision["decision"]


@pytest.mark.parametrize(
    "gate, base, passes, why",
    [
        ({"minScore": 0.75}, None, True, None),
        ({"minScore": 0.85}, None, False, "the best score 0.8 is below min_score 0.85"),
        ({"betterThanBase": True}, {"status": "scored", "score": 0.5}, True, None),
        (
            {"betterThanBase": True},
            {"status": "scored", "score": 0.8},
            False,
            "is not better than the base model's 0.8",
        ),
        (
            {"betterThanBase": True},
            {"status": "failed", "error": "the evaluation job Failed"},
            False,
            "the base model could not be scored (the evaluation job Failed), so better_than_base cannot be met",
        ),
    ],
)
def test_the_gate_decides_whether_the_winner_is_served(gate, base, passes, why):
    decision = sweep_decision.decide_by_score(evaluated([0.6, 0.8, 0.7], gate, base=base), TRIAL_RECORDS)
    assert decision["winner"]["index"] == 2  # named either way: the record says which came closest
    if passes:
        assert decision["status"] == "Completed" and decision["customModelArn"] == "arn:model/2"
        assert decision["gatePassed"] is True
    else:
        assert decision["status"] == "Failed" and decision["customModelArn"] is None and decision["jobArn"] is None
        assert why in decision["failureMessage"] and decision["failureMessage"].endswith("nothing is served")


def test_no_candidate_scored_means_nothing_is_served():
    decision = sweep_decision.decide_by_score(evaluated([None, None, None], {}), TRIAL_RECORDS)
    assert decision["status"] == "Failed" and "no candidate could be evaluated" in decision["failureMessage"]


def test_the_rows_and_the_table_show_every_trial_its_values_losses_score_and_the_winner():
    decided = {
        **evaluated([0.6, 0.8, None], {}),
        "winner": {"index": 2, "name": "tailor-dev-bot-00000002"},
        "status": "Completed",
    }
    rows = sweep_report.sweep_rows(decided)
    assert [r["trial"] for r in rows] == [1, 2, 3] and [r["winner"] for r in rows] == [False, True, False]
    assert rows[0] == {
        "trial": 1,
        "name": "tailor-dev-bot-00000001",
        "epochCount": 1,
        "status": "Completed",
        "trainingLoss": None,
        "validationLoss": 0.1,
        "score": 0.6,
        "winner": False,
        "note": None,
    }
    assert rows[2]["note"] == "throughput failed"
    lines = sweep_report.table(decided)
    assert lines[0].split() == ["#", "epochCount", "status", "training", "loss", "validation", "loss", "score"]
    assert lines[2].startswith("*  2") and lines[2].split()[-1] == "0.8"


def test_the_message_says_who_won_why_and_what_happens_to_the_losers():
    decided = {
        **record([trial(1, validation=0.2), trial(2, validation=0.1)]),
        **sweep_decision.decide_by_loss(
            record([]), sweep_decision.rank_by_loss([trial(1, validation=0.2), trial(2, validation=0.1)]), TRIAL_RECORDS
        ),
        "retainCustomModels": False,
    }
    assert sweep_report.subject(decided) == "Tailor dev: sweep bot chose trial 2"
    text = sweep_report.message(decided)
    assert "trial 2 (tailor-dev-bot-00000002) won" in text and "lowest validation loss (0.1)" in text
    assert "Losing trials' custom models are deleted now" in text and "/tailor/dev/jobs/bot" in text
    failed = {**record([trial(1, "Failed", note="bad")]), "status": "Failed", "failureMessage": "no trial completed"}
    assert sweep_report.subject(failed) == "Tailor dev: sweep bot has no winner to serve"
    assert "Nothing is served" in sweep_report.message(failed)


def test_a_redefinition_clears_the_decision_and_retires_the_evaluations_in_flight():
    from datetime import UTC, datetime

    spec = sweep.SweepSpec(
        "dev", "bot", "tailor-dev-bot-sweep0002", (sweep.TrialRef(1, "tailor-dev-bot-00000001", {}),), True
    )
    old = {
        **record([trial(1, validation=0.1)]),
        "status": "Evaluating",
        "evaluations": {"tailor-dev-bot-00000001": {"throughputArn": "arn:pt/1", "status": "serving"}},
    }
    new = sweep.define(spec, datetime(2026, 1, 1, tzinfo=UTC))(old)
    assert new["sweepName"] == "tailor-dev-bot-sweep0002" and new["status"] == "InProgress" and new["winner"] is None
    assert new["retire"] == [{"throughputArn": "arn:pt/1", "status": "serving"}]
    # the trial's summary is kept: it is the same job
    assert new["trials"][0]["status"] == "Completed" and new["trials"][0]["validationLoss"] == 0.1
    # and defining it again changes nothing
    assert sweep.define(spec, datetime(2026, 1, 2, tzinfo=UTC))(new) is None
