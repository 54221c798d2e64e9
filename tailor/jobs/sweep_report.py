"""What a sweep tells people: one row per trial (for `tailor status` and the message), the table, and the one
notification sent when the sweep is decided."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tailor import naming
from tailor.jobs.sweep import COMPLETED
from tailor.jobs.sweep_decision import loss_of, num

SUBJECT_MAX = 100


def sweep_rows(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per trial, for `tailor status` and the notification: its place, values, status, losses, score and
    whether it won (what `tailor status` prints as the sweep's table)."""
    winner = (record.get("winner") or {}).get("name")
    evaluations = record.get("evaluations") or {}
    rows = []
    for trial in record.get("trials", []):
        score = (evaluations.get(trial["name"]) or {}).get("score")
        rows.append(
            {
                "trial": trial["index"],
                "name": trial["name"],
                **{k: v for k, v in (trial.get("values") or {}).items()},
                "status": trial.get("status", "pending"),
                "trainingLoss": loss_of(trial.get("trainingLoss")),
                "validationLoss": loss_of(trial.get("validationLoss")),
                "score": score,
                "winner": trial["name"] == winner,
                "note": trial.get("note") or (evaluations.get(trial["name"]) or {}).get("error"),
            }
        )
    return rows


def table(record: Mapping[str, Any]) -> list[str]:
    """The sweep as text: one line per trial, the winner marked."""
    rows = sweep_rows(record)
    trials: list[dict[str, Any]] = list(record.get("trials") or [])
    axes = list((trials[0].get("values") or {}) if trials else {})
    scored = any(r["score"] is not None for r in rows)
    header = ["", "#", *axes, "status", "training loss", "validation loss"] + (["score"] if scored else [])
    body = [
        ["*" if r["winner"] else "", str(r["trial"]), *(num(r.get(a)) for a in axes), r["status"]]
        + [num(r["trainingLoss"]), num(r["validationLoss"])]
        + ([num(r["score"])] if scored else [])
        for r in rows
    ]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in [header, *body]]


def notify(clients: Any, topic_arn: str, record: dict[str, Any]) -> None:
    clients.sns.publish(TopicArn=topic_arn, Subject=subject(record), Message=message(record))


def subject(record: Mapping[str, Any]) -> str:
    env, key = record.get("environment"), record.get("jobKey")
    winner = record.get("winner") or {}
    if record.get("status") == COMPLETED:
        text = f"Tailor {env}: sweep {key} chose trial {winner.get('index')}"
    else:
        text = f"Tailor {env}: sweep {key} has no winner to serve"
    return text[:SUBJECT_MAX]


def message(record: Mapping[str, Any]) -> str:
    env, key = record.get("environment"), record.get("jobKey")
    winner = record.get("winner") or {}
    lines = []
    if record.get("status") == COMPLETED:
        lines.append(
            f"Sweep {key} in environment {env} is decided: trial {winner.get('index')} ({winner.get('name')}) won."
        )
        lines += ["", f"Why:            {record.get('decision')}", f"Custom model:   {record.get('customModelArn')}"]
    else:
        lines.append(f"Sweep {key} in environment {env} ended without a model to serve.")
        lines += ["", f"Why:            {record.get('failureMessage')}"]
        if winner:
            lines.append(
                f"Closest:        trial {winner.get('index')} ({winner.get('name')}), {record.get('decision')}"
            )
    gate = _gate_line(record)
    if gate:
        lines.append(f"Gate:           {gate}")
    lines += ["", *table(record), ""]
    if record.get("status") == COMPLETED:
        lines.append(
            "Only the winner is served: if the job has a serve block, a separate message follows when serving starts."
        )
        lines.append(
            "Losing trials' custom models are "
            + (
                "retained (retention.custom_models / retain_custom_model)."
                if record.get("retainCustomModels", True)
                else "deleted now (retention.custom_models: delete)."
            )
        )
    else:
        lines.append("Nothing is served and every trial's custom model is kept, so it can be inspected.")
    lines.append(f"Record: /{naming.PROJECT}/{env}/jobs/{key} in SSM Parameter Store (each trial's below it).")
    return "\n".join(lines)


def _gate_line(record: Mapping[str, Any]) -> str | None:
    settings = record.get("evaluation") or {}
    gate = settings.get("gate") or {}
    if not settings or not any(v not in (None, False) for v in gate.values()):
        return None
    if gate.get("minScore") is not None:
        what = f"score at least {num(gate['minScore'])}"
    elif gate.get("maxScore") is not None:
        what = f"score at most {num(gate['maxScore'])}"
    else:
        base = ((record.get("evaluations") or {}).get("base") or {}).get("score")
        what = f"better than the base model (which scored {num(base)})"
    return f"{what}: {'passed' if record.get('status') == COMPLETED else 'failed'}"
