"""Custom::TailorServing: a job's `serve` block or a `throughputs` entry, as a CloudFormation resource.

The physical id is the serving name, which changes exactly when a new resource is needed (units, revision,
base model, a new job); `hours` and a same-base model change update in place. Create waits for InService within
a bound and then reports the pending state instead of holding the stack; Delete never reports success while
the resource still exists.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from tailor import aws, naming, records
from tailor.jobs import record as job_record
from tailor.serving.lifecycle import ServingError, ensure, retire, set_expiry
from tailor.serving.model import PROVISIONED, TAG_STACK, describe, format_time, parse_time
from tailor.serving.schedules import Wiring, remove_teardown
from tailor.serving.teardown import teardown

log = logging.getLogger(__name__)
SPEC_VERSION = 1
CREATE_WAIT = timedelta(minutes=20)  # below the Provider's total timeout (30 min), itself below CloudFormation's hour


@dataclass(frozen=True)
class ServingSpec:
    environment: str
    key: str
    source: str
    mode: str
    name: str
    model_kind: str
    model_value: str
    model_units: int
    hours: float | None
    commitment: str | None
    revision: int
    record_name: str
    job_record_name: str | None
    tags: dict[str, str]

    def to_json(self) -> str:
        return json.dumps({"version": SPEC_VERSION, **self.__dict__}, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_properties(cls, properties: dict[str, Any]) -> ServingSpec:
        raw = json.loads(properties["Spec"])
        raw.pop("version", None)
        return cls(**raw)

    def record(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "key": self.key,
            "source": self.source,
            "mode": self.mode,
            "name": self.name,
            "model": {"kind": self.model_kind, "value": self.model_value},
            "modelUnits": self.model_units,
            "hours": self.hours,
            "commitment": self.commitment,
            "revision": self.revision,
            "recordName": self.record_name,
            "jobRecordName": self.job_record_name,
            "tags": self.tags,
            "status": "pending",
            "arn": None,
        }


def spec_for(environment: str, tags: dict[str, str], serving: Any) -> ServingSpec:
    """The resource's properties for a validated `tailor.config.serving.Serving` (synth time and tests)."""
    job_key = serving.model.value if serving.model.kind == "job" else None
    return ServingSpec(
        environment=environment,
        key=serving.key,
        source=serving.source,
        mode=serving.mode,
        name=serving.name,
        model_kind=serving.model.kind,
        model_value=serving.model.value,
        model_units=serving.model_units,
        hours=serving.hours,
        commitment=serving.commitment,
        revision=serving.revision,
        record_name=naming.serving_record_name(environment, serving.key),
        job_record_name=naming.job_record_name(environment, job_key) if job_key else None,
        tags=dict(tags),
    )


def on_event(event: dict[str, Any], clients: Any, wiring: Wiring, *, now: datetime) -> dict[str, Any]:
    kind, stack_id = event["RequestType"], event.get("StackId")
    spec = ServingSpec.from_properties(event["ResourceProperties"])
    try:
        if kind == "Delete":
            return _delete(clients, wiring, spec, event["PhysicalResourceId"], stack_id, now)
        if kind == "Create" or spec.name != event.get("PhysicalResourceId"):
            return _start(
                clients, wiring, spec, event["RequestId"], stack_id, now
            )  # a new name on Update is a replacement
        return _update(
            clients,
            wiring,
            spec,
            ServingSpec.from_properties(event["OldResourceProperties"]),
            event["RequestId"],
            stack_id,
            now,
        )
    except ServingError as exc:
        raise ServingError(f"{spec.environment}/{spec.key}: {exc}") from None


def is_complete(event: dict[str, Any], clients: Any, wiring: Wiring, *, now: datetime) -> dict[str, Any]:
    spec = ServingSpec.from_properties(event["ResourceProperties"])
    if event["RequestType"] == "Delete":
        served = describe(clients.bedrock, spec.mode, event["PhysicalResourceId"])
        if served is None or not _ours(served, wiring, event.get("StackId")):
            return {"IsComplete": True}
        outcome = teardown(
            clients, wiring, served.arn, now=now, reason="removed from the config or its stack deleted", force=True
        )
        if outcome.action == "committed":
            raise ServingError(
                f"{served.arn} cannot be deleted: {outcome.detail}; delete the stack after that, or keep the entry"
            )
        return {"IsComplete": outcome.action in ("deleted", "gone")}
    record = records.get(clients.ssm, spec.record_name) or {}
    if record.get("status") != "active" or record.get("name") != spec.name:
        return {"IsComplete": True, "Data": {"Status": record.get("status", "pending")}}
    served = describe(clients.bedrock, spec.mode, record["arn"])
    if served is None:
        return {"IsComplete": True, "Data": {"Status": "deleted"}}
    if served.status == "Failed":
        if record.get("startedBy") == event.get("RequestId"):  # this deploy bought it: the deploy fails with it
            raise ServingError(
                f"{spec.key}: {served.arn} failed to start: "
                f"{served.failure_message or 'Bedrock gave no reason'}; CloudFormation rolls back "
                "and deletes it"
            )
        # Failed after an earlier deploy had moved on: report and clean it up; this update (or rollback) succeeds.
        settled = _settle_active(clients, wiring, spec, record, now)
        return {"IsComplete": True, "Data": {"Status": settled["status"]}}
    data = {"Arn": served.arn, "Status": served.status, "ExpiresAt": record.get("expiresAt") or ""}
    if not served.busy:
        return {"IsComplete": True, "Data": data}
    wait_until = parse_time((event.get("Data") or {}).get("WaitUntil"))
    if wait_until is not None and now >= wait_until:
        log.warning(
            "%s is still %s after %s; the stack goes on and its teardown is armed regardless",
            served.arn,
            served.status,
            CREATE_WAIT,
        )
        return {"IsComplete": True, "Data": data}
    return {"IsComplete": False}


def _ours(served: Any, wiring: Wiring, stack_id: str | None) -> bool:
    """Made by this environment and, when both are known, by this stack: a Delete replayed from a deleted
    stack must not remove what a new stack of the same config has since created under the same name."""
    made_by = served.tags.get(TAG_STACK)
    return served.managed_by(wiring.environment) and (made_by is None or stack_id is None or made_by == stack_id)


def _start(
    clients: Any,
    wiring: Wiring,
    spec: ServingSpec,
    request_id: str,
    stack_id: str | None,
    now: datetime,
    *,
    revived_from: tuple[ServingSpec, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    record = {**spec.record(), "stackId": stack_id, "startedBy": request_id}
    if revived_from is not None:
        # Kept so that a rollback of this deploy (the old properties replayed) can put the "gone" record back.
        old, gone = revived_from
        kept = {k: gone.get(k) for k in ("status", "arn", "expiresAt", "deletedAt", "deletedReason", "hours")}
        record["revivedFrom"] = {"spec": old.to_json(), "record": {**kept, "revivedFrom": None}}
    model_arn = _model_arn(clients, spec)
    if model_arn is None:
        records.put(clients.ssm, spec.record_name, {**record, "updatedAt": format_time(now)})
        status, arn, expires = "pending", "", ""
    else:
        active = ensure(clients, wiring, record, model_arn, generation=request_id, now=now)
        status, arn, expires = active["status"], active["arn"], active["expiresAt"]
    return {
        "PhysicalResourceId": spec.name,
        "Data": {"Status": status, "Arn": arn, "ExpiresAt": expires, "WaitUntil": format_time(now + CREATE_WAIT)},
    }


def _update(
    clients: Any,
    wiring: Wiring,
    spec: ServingSpec,
    old: ServingSpec,
    request_id: str,
    stack_id: str | None,
    now: datetime,
) -> dict[str, Any]:
    current = records.get(clients.ssm, spec.record_name)
    changed = spec.hours != old.hours or spec.model_value != old.model_value
    if current is None or current.get("name") != spec.name or current.get("status") in ("pending", "removed"):
        return _start(clients, wiring, spec, request_id, stack_id, now)
    if current.get("status") == "active":
        current = _settle_active(clients, wiring, spec, current, now)
    revived = current.get("revivedFrom")
    if current.get("status") == "active" and revived and revived.get("spec") == spec.to_json():
        # Back to the exact properties under which it had ended (a rollback of the deploy that revived it, or
        # that config written again): the state before that deploy is restored, and gone stays gone.
        served = describe(clients.bedrock, spec.mode, current["arn"])
        if served is not None:
            retire(clients, wiring, served, now=now, reason="its revival was rolled back")
        current = {**current, **revived["record"], "updatedAt": format_time(now)}
        records.put(clients.ssm, spec.record_name, current)
        return _done(spec, current, now)
    if current.get("status") == "deleted":
        if changed:  # a new `hours` (or model) brings expired serving back; an unchanged config leaves it gone
            return _start(clients, wiring, spec, request_id, stack_id, now, revived_from=(old, current))
        return _done(spec, current, now)
    record = {**current, **{k: v for k, v in spec.record().items() if k not in ("status", "arn")}}
    if spec.model_value != old.model_value and spec.model_kind != "job":
        record = _repoint(clients, record, spec, now)
    if spec.hours != old.hours and spec.hours is not None:
        record = set_expiry(clients, wiring, record, spec.hours, now=now) or record
    records.put(clients.ssm, spec.record_name, {**record, "updatedAt": format_time(now)})
    return _done(spec, record, now)


def _settle_active(
    clients: Any, wiring: Wiring, spec: ServingSpec, current: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """An active record whose resource was deleted out of band, or failed after its create returned, is settled
    as gone before an update goes on: a failed throughput must not make every later update and rollback fail."""
    served = describe(clients.bedrock, spec.mode, current["arn"])
    if served is not None and served.status != "Failed":
        return current
    reason = "deleted outside Tailor"
    if served is not None:
        reason = f"failed to start: {served.failure_message or 'Bedrock gave no reason'}"
        teardown(clients, wiring, served.arn, now=now, reason=reason, force=True)  # recorded and notified there
    settled = {**current, "status": "deleted", "deletedAt": format_time(now), "deletedReason": reason}
    records.put(clients.ssm, spec.record_name, settled)
    return settled


def _repoint(clients: Any, record: dict[str, Any], spec: ServingSpec, now: datetime) -> dict[str, Any]:
    """Same base model, another custom model: Bedrock swaps it in place (UpdateProvisionedModelThroughput).

    A swap to the model it already serves (or is switching to) does nothing: that is what a rollback asks for
    after a swap Bedrock refused, and asking again would be refused again and wedge the rollback.
    """
    model_arn = _model_arn(clients, spec)
    served = describe(clients.bedrock, record["mode"], record["arn"])
    if model_arn is None or served is None or served.serves(model_arn):
        return {**record, "modelArn": model_arn or record.get("modelArn")}
    try:
        if record["mode"] == PROVISIONED:
            clients.bedrock.update_provisioned_model_throughput(
                provisionedModelId=record["arn"], desiredModelId=model_arn
            )
        else:
            clients.bedrock.update_custom_model_deployment(
                customModelDeploymentIdentifier=record["arn"], modelArn=model_arn
            )
    except ClientError as exc:
        raise ServingError(
            f"cannot switch {record['arn']} to {model_arn}: {aws.error_code(exc)}: "
            f"{aws.error_message(exc)}; deploy again once it is InService"
        ) from None
    return {**record, "modelArn": model_arn}


def _delete(
    clients: Any, wiring: Wiring, spec: ServingSpec, physical_id: str, stack_id: str | None, now: datetime
) -> dict[str, Any]:
    served = describe(clients.bedrock, spec.mode, physical_id)
    if served is not None and _ours(served, wiring, stack_id):
        outcome = teardown(
            clients, wiring, served.arn, now=now, reason="removed from the config or its stack deleted", force=True
        )
        if outcome.action == "committed":
            raise ServingError(
                f"{served.arn} cannot be deleted: {outcome.detail}; delete the stack after that, or keep the entry"
            )
    current = records.get(clients.ssm, spec.record_name)
    if current is not None and current.get("name") == physical_id and current.get("stackId") in (None, stack_id):
        if served is None and current.get("arn"):
            # Deleted out of band before its expiry: the schedule was made at run time, outside CloudFormation, so
            # nothing else removes it with the stack.
            remove_teardown(clients.scheduler, wiring.schedule_group, current["arn"], current.get("expiresAt"))
        # A tombstone, not a deletion: job completion re-reads the record right before it starts serving, and
        # must find "removed" rather than nothing (a replacement's new record has another name and is kept).
        records.put(clients.ssm, spec.record_name, {**current, "status": "removed", "updatedAt": format_time(now)})
    return {"PhysicalResourceId": physical_id}


def _done(spec: ServingSpec, record: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {
        "PhysicalResourceId": spec.name,
        "Data": {
            "Status": record.get("status", ""),
            "Arn": record.get("arn") or "",
            "ExpiresAt": record.get("expiresAt") or "",
            "WaitUntil": format_time(now + CREATE_WAIT),
        },
    }


def _model_arn(clients: Any, spec: ServingSpec) -> str | None:
    """The model to serve now, or None while a job's model does not exist yet (completion serves it later)."""
    if spec.model_kind != "job":
        return spec.model_value
    return job_record.completed_model(records.get(clients.ssm, spec.job_record_name) if spec.job_record_name else None)
