"""How a sweep's winner is chosen: completed trials ranked by loss, evaluated candidates by score and the gate,
and the record changes that write the decision (once, whoever writes first). Pure rules over records."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tailor import records
from tailor.jobs import record as job_record
from tailor.jobs.sweep import COMPLETED, DECIDED, EVALUATING, FAILED, IN_PROGRESS, KIND


@dataclass(frozen=True)
class Ranking:
    """Completed trials with a loss, best first; the loss compared, and why when it is not the validation loss."""

    ranked: tuple[dict[str, Any], ...]
    metric: str  # validationLoss | trainingLoss
    note: str | None
    excluded: tuple[tuple[dict[str, Any], str], ...]  # (trial, why it was not considered)


def loss_of(value: Any) -> float | None:
    """One number: a list (one loss per validation set) counts as its mean."""
    if isinstance(value, list):
        numbers = [float(v) for v in value if isinstance(v, (int, float)) and not isinstance(v, bool)]
        return sum(numbers) / len(numbers) if numbers else None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def rank_by_loss(trials: Sequence[dict[str, Any]]) -> Ranking:
    completed = [t for t in trials if t.get("status") == "Completed"]
    excluded = [
        (t, f"{t.get('status')}" + (f": {t['note']}" if t.get("note") else "")) for t in trials if t not in completed
    ]
    with_validation = [t for t in completed if loss_of(t.get("validationLoss")) is not None]
    if completed and len(with_validation) == len(completed):
        metric, note = "validationLoss", None
    else:
        metric = "trainingLoss"
        note = "no validation loss reported for every trial: the training loss is compared instead"
    ranked = [t for t in completed if loss_of(t.get(metric)) is not None]
    excluded += [(t, f"Completed without a {label(metric)}") for t in completed if t not in ranked]
    ranked.sort(key=lambda t: (loss_of(t.get(metric)), int(t["index"])))
    return Ranking(tuple(ranked), metric, note, tuple(excluded))


def decide_by_loss(
    record: dict[str, Any], ranking: Ranking, trial_records: Mapping[str, dict[str, Any] | None]
) -> dict[str, Any]:
    if not ranking.ranked:
        why = "; ".join(f"trial {t['index']} {reason}" for t, reason in ranking.excluded) or "no trials"
        return {"status": FAILED, "failureMessage": f"no trial completed with a loss to compare ({why})"[:1500]}
    best = ranking.ranked[0]
    value = loss_of(best.get(ranking.metric))
    reason = f"lowest {label(ranking.metric)} ({num(value)}) of {len(ranking.ranked)} completed trial(s)"
    if ranking.note:
        reason += f"; {ranking.note}"
    return _winner(best, trial_records, metric=ranking.metric, value=value, reason=reason)


def _winner(
    best: dict[str, Any],
    trial_records: Mapping[str, dict[str, Any] | None],
    *,
    metric: str,
    value: float | None,
    reason: str,
) -> dict[str, Any]:
    trial = trial_records.get(best["name"]) or {}
    return {
        "status": COMPLETED,
        "jobArn": trial.get("jobArn"),
        "customModelArn": trial.get("customModelArn"),
        "trainingLoss": trial.get("trainingLoss"),
        "validationLoss": trial.get("validationLoss"),
        "winner": {"index": best["index"], "name": best["name"], "metric": metric, "value": value},
        "decision": reason[:1500],
    }


def decided(sweep_name: str, decision: dict[str, Any], when: datetime) -> records.Change:
    def change(current: dict[str, Any] | None) -> dict[str, Any] | None:
        if current is None or current.get("kind") != KIND or current.get("sweepName") != sweep_name:
            return None
        if current.get("status") in DECIDED:
            return None  # decided already (a duplicate or concurrent pass): once
        return {**current, **decision, "decidedAt": job_record.iso(when), "endTime": job_record.iso(when)}

    return change


def evaluating(sweep_name: str, candidates: list[str], metric: str, note: str | None, when: datetime) -> records.Change:
    def change(current: dict[str, Any] | None) -> dict[str, Any] | None:
        if current is None or current.get("kind") != KIND or current.get("sweepName") != sweep_name:
            return None
        if current.get("status") != IN_PROGRESS:
            return None
        return {
            **current,
            "status": EVALUATING,
            "candidates": candidates,
            "lossMetric": metric,
            "lossNote": note,
            "evaluationStartedAt": job_record.iso(when),
            "updatedAt": job_record.iso(when),
        }

    return change


def decide_by_score(record: dict[str, Any], trial_records: Mapping[str, dict[str, Any] | None]) -> dict[str, Any]:
    """The evaluated candidates' winner and its gate; called once every evaluation has ended."""
    settings = record["evaluation"]
    metric, higher = settings["metric"], bool(settings.get("higherIsBetter", True))
    evaluations = record.get("evaluations") or {}
    trials = {t["name"]: t for t in record["trials"]}
    scored = [
        (trials[n], float(evaluations[n]["score"]))
        for n in record.get("candidates", [])
        if n in trials and isinstance((evaluations.get(n) or {}).get("score"), (int, float))
    ]
    unscored = [
        f"trial {trials[n]['index']}: {(evaluations.get(n) or {}).get('error') or 'no score'}"
        for n in record.get("candidates", [])
        if n in trials and not isinstance((evaluations.get(n) or {}).get("score"), (int, float))
    ]
    if not scored:
        why = "; ".join(unscored) or "no candidates"
        return {"status": FAILED, "failureMessage": f"no candidate could be evaluated ({why}); nothing is served"}
    order = {name: position for position, name in enumerate(record.get("candidates", []))}
    scored.sort(key=lambda pair: ((-pair[1] if higher else pair[1]), order.get(pair[0]["name"], 0)))
    best, score = scored[0]
    best_word = "highest" if higher else "lowest"
    by = label(record.get("lossMetric") or "validationLoss")
    reason = f"{best_word} {metric} ({num(score)}) of {len(scored)} evaluated trial(s), the best by {by}"
    if unscored:
        reason += f"; not scored: {'; '.join(unscored)}"
    gate = settings.get("gate") or {}
    failure = _gate_failure(gate, score, higher, evaluations.get("base"))
    decision = _winner(best, trial_records, metric=metric, value=score, reason=reason)
    decision["winner"]["score"] = score
    if failure is not None:
        # The winner is named (so the record says which model came closest) but nothing is served.
        return {
            **decision,
            "status": FAILED,
            "jobArn": None,
            "customModelArn": None,
            "gatePassed": False,
            "failureMessage": f"the gate failed: {failure}; nothing is served",
            "decision": reason + f"; gate failed: {failure}",
        }
    return {**decision, "gatePassed": bool(gate)} if gate else decision


def _gate_failure(gate: Mapping[str, Any], score: float, higher: bool, base: Mapping[str, Any] | None) -> str | None:
    if gate.get("minScore") is not None and score < float(gate["minScore"]):
        return f"the best score {num(score)} is below min_score {num(gate['minScore'])}"
    if gate.get("maxScore") is not None and score > float(gate["maxScore"]):
        return f"the best score {num(score)} is above max_score {num(gate['maxScore'])}"
    if gate.get("betterThanBase"):
        base_score = (base or {}).get("score")
        if not isinstance(base_score, (int, float)):
            why = (base or {}).get("error") or "no score"
            return f"the base model could not be scored ({why}), so better_than_base cannot be met"
        better = score > base_score if higher else score < base_score
        if not better:
            return f"the best score {num(score)} is not better than the base model's {num(base_score)}"
    return None


def label(metric: str) -> str:
    return {"validationLoss": "validation loss", "trainingLoss": "training loss"}.get(metric, metric)


def num(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
