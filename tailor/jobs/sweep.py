"""A sweep at deploy and run time: its record, the choice of its winner, and what it tells people.

A sweep's trials are ordinary job resources (one `Custom::TailorCustomizationJob` each, named from its own
settings, so CloudFormation owns their lifecycle and a redeploy adopts them); their records live one level
below the sweep's, at /<project>/<env>/jobs/<key>/trials/<hash>. The sweep itself is a `Custom::TailorSweep`
resource whose Create and Update write the sweep record at /<project>/<env>/jobs/<key>: the trials, how the
winner is chosen, and (once decided) the winner's job and model, which is what a job's `serve` block serves.

The completion handler calls `refresh` after every event and reconcile pass: it copies each trial's status and
losses into the sweep record and, once every trial has ended, chooses the winner by loss, or hands the best
trials to the evaluation (tailor/jobs/evaluation.py, driven by tailor/serving/job_serving.py) and chooses by
score. Every write is a versioned update that only moves the record forward, and the one notification is sent
by the writer whose update recorded the decision, so duplicates and concurrent passes notify once.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from tailor import aws, naming, records
from tailor.jobs import queue
from tailor.jobs import record as job_record
from tailor.jobs.datasets import copy_datasets
from tailor.jobs.spec import DatasetCopy, JobResourceError

log = logging.getLogger(__name__)
KIND = "sweep"
RESOURCE_TYPE = "Custom::TailorSweep"
SPEC_VERSION = 1
IN_PROGRESS, EVALUATING, COMPLETED, FAILED = "InProgress", "Evaluating", "Completed", "Failed"
DECIDED = (COMPLETED, FAILED)
TRIAL_ENDED = job_record.TERMINAL
SUBJECT_MAX = 100


def trial_record_name(environment: str, job_key: str, trial_name: str) -> str:
    """A trial's record, below its sweep's: /<project>/<env>/jobs/<key>/trials/<settings hash>."""
    return f"{naming.job_record_name(environment, job_key)}/trials/{trial_name.rsplit('-', 1)[-1]}"


def evaluation_record_name(environment: str, job_key: str, subject: str) -> str:
    """Where the Provisioned Throughput an evaluation runs on is recorded (a serving record, not a config entry)."""
    return f"{naming.job_record_name(environment, job_key)}/evaluations/{subject.rsplit('-', 1)[-1]}"


def sweep_resource_id(environment: str, job_key: str) -> str:
    return f"{naming.PROJECT}-{environment}-{job_key}-sweep"


# ------------------------------------------------------------------------------------------------ the resource
@dataclass(frozen=True)
class TrialRef:
    index: int
    name: str
    values: dict[str, Any]


@dataclass(frozen=True)
class SweepSpec:
    """The `Custom::TailorSweep` resource's properties (synth writes them, the job provider's handler reads them)."""

    environment: str
    job_key: str
    sweep_name: str
    trials: tuple[TrialRef, ...]
    retain_custom_models: bool
    evaluation: dict[str, Any] | None = None  # run-time settings: tailor.jobs.evaluation.settings
    dataset_copies: tuple[DatasetCopy, ...] = field(default=())
    data_key_arn: str | None = None

    @property
    def record_name(self) -> str:
        return naming.job_record_name(self.environment, self.job_key)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": SPEC_VERSION,
            "kind": KIND,
            "environment": self.environment,
            "jobKey": self.job_key,
            "sweepName": self.sweep_name,
            "trials": [{"index": t.index, "name": t.name, "values": t.values} for t in self.trials],
            "retainCustomModels": self.retain_custom_models,
            "evaluation": self.evaluation,
            "datasetCopies": [{"source": c.source, "destination": c.destination} for c in self.dataset_copies],
            "dataKeyArn": self.data_key_arn,
        }


def is_sweep(properties: Mapping[str, Any]) -> bool:
    try:
        raw = json.loads(properties["Spec"])
    except (KeyError, TypeError, ValueError):
        return False
    return isinstance(raw, dict) and raw.get("kind") == KIND


def parse_sweep_spec(properties: Mapping[str, Any]) -> SweepSpec:
    try:
        raw = json.loads(properties["Spec"])
        if raw.get("version") != SPEC_VERSION:
            raise JobResourceError(
                f"unsupported sweep spec version {raw.get('version')!r}; this handler understands {SPEC_VERSION}"
            )
        return SweepSpec(
            raw["environment"],
            raw["jobKey"],
            raw["sweepName"],
            tuple(TrialRef(int(t["index"]), str(t["name"]), dict(t["values"])) for t in raw["trials"]),
            bool(raw["retainCustomModels"]),
            raw.get("evaluation"),
            tuple(DatasetCopy(c["source"], c["destination"]) for c in raw.get("datasetCopies", [])),
            raw.get("dataKeyArn"),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise JobResourceError(
            f"malformed sweep properties ({exc.__class__.__name__}: {exc}); redeploy with this version of Tailor"
        ) from None


def on_event(event: dict[str, Any], clients: Any, *, now: Callable[[], datetime]) -> dict[str, Any]:
    spec = parse_sweep_spec(event["ResourceProperties"])
    physical_id = sweep_resource_id(spec.environment, spec.job_key)
    kind = event["RequestType"]
    if kind in ("Create", "Update"):
        copy_datasets(spec.dataset_copies, clients, key_arn=spec.data_key_arn)
        if spec.evaluation is not None and spec.evaluation.get("datasetCheck"):
            from tailor.jobs.evaluation import check_prompt_dataset

            check_prompt_dataset(clients.s3, spec.evaluation)
        records.update(clients.ssm, spec.record_name, define(spec, now()))
        return {"PhysicalResourceId": physical_id, "Data": {"SweepName": spec.sweep_name}}
    if kind == "Delete":
        _delete(spec, clients, event.get("PhysicalResourceId", physical_id))
        return {"PhysicalResourceId": event.get("PhysicalResourceId", physical_id)}
    raise JobResourceError(f"unknown RequestType {kind!r}")


def define(spec: SweepSpec, when: datetime) -> records.Change:
    """The record for this definition, keeping what the trials and any decision already recorded.

    Another definition (a trial added or removed, another evaluation) is a new decision: the winner is cleared
    and chosen again once every trial has ended, and the throughputs of an evaluation in flight are retired.
    """

    def change(current: dict[str, Any] | None) -> dict[str, Any] | None:
        same = current is not None and current.get("kind") == KIND and current.get("sweepName") == spec.sweep_name
        previous = {t["name"]: t for t in (current or {}).get("trials", [])} if current else {}
        trials = [
            {
                **{k: v for k, v in previous.get(t.name, {}).items() if k in _SUMMARY},
                "index": t.index,
                "name": t.name,
                "values": t.values,
            }
            for t in spec.trials
        ]
        for trial in trials:
            trial.setdefault("status", "pending")
        definition = {
            "kind": KIND,
            "environment": spec.environment,
            "jobKey": spec.job_key,
            "jobName": spec.sweep_name,  # what `tailor status` and `tailor preview` compare with the config
            "sweepName": spec.sweep_name,
            "trials": trials,
            "retainCustomModels": spec.retain_custom_models,
            "evaluation": spec.evaluation,
        }
        if same and current is not None:
            wanted = {**current, **definition}
            return None if wanted == current else {**wanted, "updatedAt": job_record.iso(when)}
        leftovers = list((current or {}).get("retire", []))
        if current is not None and current.get("kind") == KIND:
            leftovers += [e for e in (current.get("evaluations") or {}).values() if e.get("throughputArn")]
        return {
            **definition,
            "status": IN_PROGRESS,
            "jobArn": None,
            "customModelArn": None,
            "trainingLoss": None,
            "validationLoss": None,
            "failureMessage": None,
            "winner": None,
            "decision": None,
            "candidates": [],
            "evaluations": {},
            "retire": leftovers,
            "creationTime": job_record.iso(when),
            "endTime": None,
            "updatedAt": job_record.iso(when),
        }

    return change


def _delete(spec: SweepSpec, clients: Any, physical_id: str) -> None:
    """Stack deletion (or the sweep block removed): evaluations are stopped and their throughputs deleted; the
    trials' own resources stop their jobs and remove their records. The record goes only if it still is this
    sweep's (a plain job of the same key may have replaced it)."""
    current = records.get(clients.ssm, spec.record_name)
    if current is None or current.get("kind") != KIND:
        return
    from tailor.jobs.evaluation import stop_all

    stop_all(clients, current)
    latest = records.get(clients.ssm, spec.record_name)
    if latest is not None and latest.get("kind") == KIND:
        records.delete(clients.ssm, spec.record_name)


# ------------------------------------------------------------------------------------------- run time: refresh
_SUMMARY = ("status", "trainingLoss", "validationLoss", "note")


def summary(record: dict[str, Any] | None) -> dict[str, Any]:
    """What the sweep record keeps of a trial (no ARNs: they are in the trial's own record, and the sweep record
    must stay under SSM's 8 KB for 20 trials)."""
    if record is None:
        return {"status": "pending"}
    out: dict[str, Any] = {"status": record.get("status") or "pending"}
    for key in ("trainingLoss", "validationLoss"):
        if record.get(key) is not None:
            out[key] = record[key]
    if record.get("status") == "Failed" and record.get("failureMessage"):
        out["note"] = str(record["failureMessage"])[:120]
    return out


def refresh(clients: Any, environment: str, *, topic_arn: str, now: Callable[[], datetime]) -> list[tuple[str, str]]:
    """Brings every sweep record of the environment up to date; returns (sweep key, what happened)."""
    listing = dict(queue.job_records(clients.ssm, environment))
    done = []
    for name, record in listing.items():
        if record.get("kind") != KIND:
            continue
        try:
            done.append((str(record.get("jobKey")), _refresh_one(clients, name, record, listing, topic_arn, now)))
        except ClientError as exc:
            # One sweep Bedrock or SSM refuses must not hold back the others; the next pass tries again.
            log.error("sweep %s could not be refreshed: %s", record.get("jobKey"), exc)
            done.append((str(record.get("jobKey")), f"error: {aws.error_code(exc)}"))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            # A record edited by hand (or written by a newer Tailor): reported, never a crash of every pass.
            log.error("sweep record %s is not one this Tailor can read: %r", name, exc)
            done.append((str(record.get("jobKey")), "unreadable"))
    return done


def _refresh_one(
    clients: Any,
    name: str,
    record: dict[str, Any],
    listing: Mapping[str, dict[str, Any]],
    topic_arn: str,
    now: Callable[[], datetime],
) -> str:
    env, key, sweep_name = record["environment"], record["jobKey"], record["sweepName"]
    trial_records = {t["name"]: listing.get(trial_record_name(env, key, t["name"])) for t in record["trials"]}
    # A trial record of another job (an older trial's, before its resource went) does not describe this trial.
    trial_records = {n: r if r is not None and r.get("jobName") == n else None for n, r in trial_records.items()}
    summaries = {n: summary(r) for n, r in trial_records.items()}
    updated = records.update(clients.ssm, name, _with_trials(sweep_name, summaries, now()))
    record = updated or record
    action = "refreshed" if updated else "unchanged"
    if record.get("status") == IN_PROGRESS and all(s["status"] in TRIAL_ENDED for s in summaries.values()):
        action = _trials_ended(clients, name, record, trial_records, topic_arn, now)
    if record.get("status") == COMPLETED:
        _delete_losers(clients, name, record, trial_records)
    return action


def _with_trials(sweep_name: str, summaries: Mapping[str, dict[str, Any]], when: datetime) -> records.Change:
    def change(current: dict[str, Any] | None) -> dict[str, Any] | None:
        if current is None or current.get("kind") != KIND or current.get("sweepName") != sweep_name:
            return None
        trials = []
        for trial in current["trials"]:
            kept = {k: v for k, v in trial.items() if k not in _SUMMARY}
            trials.append({**kept, **summaries.get(trial["name"], {"status": "pending"})})
        if trials == current["trials"]:
            return None
        return {**current, "trials": trials, "updatedAt": job_record.iso(when)}

    return change


def _trials_ended(
    clients: Any,
    name: str,
    record: dict[str, Any],
    trial_records: Mapping[str, dict[str, Any] | None],
    topic_arn: str,
    now: Callable[[], datetime],
) -> str:
    ranking = rank_by_loss(record["trials"])
    if record.get("evaluation") is None or not ranking.ranked:
        decision = decide_by_loss(record, ranking, trial_records)
        written = records.update(clients.ssm, name, _decided(record["sweepName"], decision, now()))
        if written is None:
            return "unchanged"
        notify(clients, topic_arn, written)
        return "decided"
    top = int(record["evaluation"].get("top", 1))
    candidates = [t["name"] for t in ranking.ranked[:top]]
    written = records.update(
        clients.ssm, name, _evaluating(record["sweepName"], candidates, ranking.metric, ranking.note, now())
    )
    return "evaluating" if written is not None else "unchanged"


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
    excluded += [(t, f"Completed without a {_label(metric)}") for t in completed if t not in ranked]
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
    reason = f"lowest {_label(ranking.metric)} ({_num(value)}) of {len(ranking.ranked)} completed trial(s)"
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


def _decided(sweep_name: str, decision: dict[str, Any], when: datetime) -> records.Change:
    def change(current: dict[str, Any] | None) -> dict[str, Any] | None:
        if current is None or current.get("kind") != KIND or current.get("sweepName") != sweep_name:
            return None
        if current.get("status") in DECIDED:
            return None  # decided already (a duplicate or concurrent pass): once
        return {**current, **decision, "decidedAt": job_record.iso(when), "endTime": job_record.iso(when)}

    return change


def _evaluating(
    sweep_name: str, candidates: list[str], metric: str, note: str | None, when: datetime
) -> records.Change:
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
    by = _label(record.get("lossMetric") or "validationLoss")
    reason = f"{best_word} {metric} ({_num(score)}) of {len(scored)} evaluated trial(s), the best by {by}"
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
        return f"the best score {_num(score)} is below min_score {_num(gate['minScore'])}"
    if gate.get("maxScore") is not None and score > float(gate["maxScore"]):
        return f"the best score {_num(score)} is above max_score {_num(gate['maxScore'])}"
    if gate.get("betterThanBase"):
        base_score = (base or {}).get("score")
        if not isinstance(base_score, (int, float)):
            why = (base or {}).get("error") or "no score"
            return f"the base model could not be scored ({why}), so better_than_base cannot be met"
        better = score > base_score if higher else score < base_score
        if not better:
            return f"the best score {_num(score)} is not better than the base model's {_num(base_score)}"
    return None


def _delete_losers(
    clients: Any, name: str, record: dict[str, Any], trial_records: Mapping[str, dict[str, Any] | None]
) -> None:
    """With retention.custom_models: delete, the losing trials' models go once the winner is chosen."""
    if record.get("retainCustomModels", True) or record.get("losersDeleted"):
        return
    winner = (record.get("winner") or {}).get("name")
    for trial_name, trial in trial_records.items():
        model = (trial or {}).get("customModelArn")
        if trial_name == winner or not model:
            continue
        try:
            clients.bedrock.delete_custom_model(modelIdentifier=model)
        except ClientError as exc:
            if aws.error_code(exc) != "ResourceNotFoundException":
                log.error("could not delete losing trial %s's model %s: %s", trial_name, model, exc)
                return  # the next pass tries again
    sweep_name = record["sweepName"]

    def marked(current: dict[str, Any] | None) -> dict[str, Any] | None:
        if current is None or current.get("sweepName") != sweep_name or current.get("losersDeleted"):
            return None
        return {**current, "losersDeleted": True}

    records.update(clients.ssm, name, marked)


# --------------------------------------------------------------------------------------- what people are told
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
        ["*" if r["winner"] else "", str(r["trial"]), *(_num(r.get(a)) for a in axes), r["status"]]
        + [_num(r["trainingLoss"]), _num(r["validationLoss"])]
        + ([_num(r["score"])] if scored else [])
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
        what = f"score at least {_num(gate['minScore'])}"
    elif gate.get("maxScore") is not None:
        what = f"score at most {_num(gate['maxScore'])}"
    else:
        base = ((record.get("evaluations") or {}).get("base") or {}).get("score")
        what = f"better than the base model (which scored {_num(base)})"
    return f"{what}: {'passed' if record.get('status') == COMPLETED else 'failed'}"


def _label(metric: str) -> str:
    return {"validationLoss": "validation loss", "trainingLoss": "training loss"}.get(metric, metric)


def _num(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
