"""A sweep's `Custom::TailorSweep` resource and the record it writes, with what that record keeps of each trial.

A sweep's trials are ordinary job resources (one `Custom::TailorCustomizationJob` each, named from its own
settings, so CloudFormation owns their lifecycle and a redeploy adopts them); their records live one level
below the sweep's, at /<project>/<env>/jobs/<key>/trials/<hash>. The sweep itself is a `Custom::TailorSweep`
resource whose Create and Update write the sweep record at /<project>/<env>/jobs/<key>: the trials, how the
winner is chosen, and (once decided) the winner's job and model, which is what a job's `serve` block serves.

At run time the record is kept up to date by sweep_refresh.py, the winner is chosen by sweep_decision.py,
and sweep_report.py says what happened.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tailor import naming, records
from tailor.jobs import record as job_record
from tailor.jobs.datasets import copy_datasets
from tailor.jobs.spec import DatasetCopy, JobResourceError

KIND = "sweep"
RESOURCE_TYPE = "Custom::TailorSweep"
SPEC_VERSION = 1
IN_PROGRESS, EVALUATING, COMPLETED, FAILED = "InProgress", "Evaluating", "Completed", "Failed"
DECIDED = (COMPLETED, FAILED)
TRIAL_ENDED = job_record.TERMINAL


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


# ------------------------------------------------------------------------------------------ what the record keeps
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


def with_trials(sweep_name: str, summaries: Mapping[str, dict[str, Any]], when: datetime) -> records.Change:
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
