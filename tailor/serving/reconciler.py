"""The reconciler: every few minutes, enforce the environment's serving policy on the whole account and Region.

It is the backstop for every lost path (a schedule that was never created, was deleted or failed; a teardown
that crashed or met a busy resource): whatever managed serving is past its expires-at is deleted at the next
pass, so no fault costs more than one period. It also warns before expiry, reports (or deletes) throughput
Tailor did not create, never touches a commitment inside its term, holds every managed life to creation +
policy.max_throughput_hours whatever its tag says, reports Tailor serving whose own reconciler is gone, and
publishes what it saw as metrics, even when a listing or a resource failed.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from tailor import aws, naming, observability, records
from tailor.serving import heartbeat, idle
from tailor.serving.model import (
    COMMITMENT_TERM,
    TAG_ENVIRONMENT,
    TAG_EXPIRES_AT,
    TAG_WARNED,
    Served,
    expiry,
    format_time,
    list_all,
    parse_time,
)
from tailor.serving.schedules import Wiring
from tailor.serving.teardown import Outcome, teardown

log = logging.getLogger(__name__)
METRIC_NAMESPACE = observability.NAMESPACE


class SweepError(Exception):
    """Some resources could not be handled; the pass still covered all the others and published its metrics."""


@dataclass(frozen=True)
class SweepPolicy:
    warn_before_minutes: int
    unmanaged: str  # report | delete
    dry_run: bool
    max_hours: float  # no managed life is longer, counted from creation, whatever its expires-at tag says
    every_minutes: int = 5  # this reconciler's period, published in its heartbeat
    idle_minutes: int | None = None  # the idle guard's window (None: off)

    @classmethod
    def from_json(cls, text: str) -> SweepPolicy:
        raw = json.loads(text)
        return cls(
            int(raw["warnBeforeMinutes"]),
            raw["unmanaged"],
            bool(raw["dryRun"]),
            float(raw["maxHours"]),
            int(raw.get("everyMinutes", 5)),
            raw.get("idleMinutes"),
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "warnBeforeMinutes": self.warn_before_minutes,
                "unmanaged": self.unmanaged,
                "dryRun": self.dry_run,
                "maxHours": self.max_hours,
                "everyMinutes": self.every_minutes,
                "idleMinutes": self.idle_minutes,
            },
            sort_keys=True,
        )


@dataclass
class SweepReport:
    managed: int = 0
    deleted: list[str] = field(default_factory=list)
    would_delete: list[str] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)
    warned: list[str] = field(default_factory=list)
    expiry_assigned: list[str] = field(default_factory=list)
    committed: list[tuple[str, str]] = field(default_factory=list)  # (arn, term end)
    unmanaged: list[str] = field(default_factory=list)
    past_expiry: list[str] = field(default_factory=list)  # managed, past expires-at, still alive after this pass
    # expires-at pushed beyond creation + max_throughput_hours (by a person or a role): held to the policy
    tampered: list[str] = field(default_factory=list)
    orphaned: list[tuple[str, str]] = field(default_factory=list)  # (arn, environment) whose reconciler is gone
    listing_failures: list[str] = field(default_factory=list)
    idle: list[str] = field(default_factory=list)  # torn down early: nobody called them for the idle window
    alive: list[tuple[str, str]] = field(default_factory=list)  # (arn, expires-at): managed, serving, not yet due

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


def sweep(
    clients: Any, wiring: Wiring, policy: SweepPolicy, *, now: datetime, metrics: observability.MetricSink
) -> SweepReport:
    report = SweepReport()
    failed = []
    listing = list_all(clients.bedrock)
    report.listing_failures = listing.failures
    owners = heartbeat.Owners(clients.ssm, now)
    for served in listing.served:
        try:
            if served.managed_by(wiring.environment):
                report.managed += 1
                _managed(clients, wiring, policy, served, now, report)
            elif not served.managed_by_tailor:
                _unmanaged(clients, wiring, policy, served, now, report)
            elif not owners.alive(owner := served.tags.get(TAG_ENVIRONMENT, "")):
                # Another Tailor environment's, and nobody enforces its policy any more: say so, touch nothing.
                report.orphaned.append((served.arn, owner))
        except ClientError as exc:
            # One resource Bedrock keeps refusing (a deny, a stuck delete) must not end the pass for every resource
            # listed after it, nor keep ManagedPastExpiry unpublished: carry on, then fail the invocation below.
            log.error("sweep could not handle %s: %s", served.arn, exc, extra={"arn": served.arn})
            failed.append(f"{served.arn} ({aws.error_code(exc)})")
    heartbeat.beat(clients.ssm, wiring.environment, policy.every_minutes, now)
    _report_changes(clients, wiring, policy, report)
    _publish(metrics, report, now)
    log.info("sweep %s", json.dumps(report.as_dict(), default=str))
    problems = [f"{len(failed)} resource(s) could not be handled: {', '.join(failed)}"] if failed else []
    problems += [f"listing failed: {failure}" for failure in listing.failures]
    if problems:
        raise SweepError("; ".join(problems))
    return report


def _managed(
    clients: Any, wiring: Wiring, policy: SweepPolicy, served: Served, now: datetime, report: SweepReport
) -> None:
    term_end = served.term_end(now)
    if term_end is not None:
        end = format_time(term_end)
        report.committed.append((served.arn, end))
        _warn_once(
            clients,
            wiring,
            policy,
            served,
            term_end,
            now,
            report,
            f"its commitment term ends {end} and then renews automatically",
        )
        return
    tag = served.tags.get(TAG_EXPIRES_AT)
    expires = served.expires_at
    if expires is None and tag == COMMITMENT_TERM:
        if served.commitment_end is None:
            # Bought with a commitment whose term Bedrock does not show yet (still Creating): never an overrun.
            report.committed.append((served.arn, "term end not yet known"))
            return
        expires = served.commitment_end  # the term is over: nothing keeps it any longer
    elif expires is None:
        # Tailor's tag lost or edited: give it the longest life the policy allows, counted from its creation.
        expires = expiry(served.created, policy.max_hours)
        clients.bedrock.tag_resource(
            resourceARN=served.arn, tags=[{"key": TAG_EXPIRES_AT, "value": format_time(expires)}]
        )
        report.expiry_assigned.append(served.arn)
    elif expires > (longest := expiry(served.created, policy.max_hours)):
        # Anyone with TagResource (or the console) can push expires-at out; the policy's maximum still holds.
        report.tampered.append(served.arn)
        expires = longest
    if now >= expires:
        try:
            # Not forced: teardown re-reads the tag, so an expiry extended since the list was taken is respected.
            outcome = teardown(
                clients,
                wiring,
                served.arn,
                now=now,
                reason=f"expired at {format_time(expires)} (reconciler)",
                dry_run=policy.dry_run,
                max_hours=policy.max_hours,
            )
        except ClientError:
            report.past_expiry.append(served.arn)  # still alive past its expiry: the overrun alarm must count it
            raise
        _count(outcome, report)
        if outcome.action in ("would-delete", "deferred", "committed"):
            report.past_expiry.append(served.arn)
        return
    if policy.idle_minutes and idle.is_idle(clients.cloudwatch, served, minutes=policy.idle_minutes, now=now):
        outcome = teardown(
            clients,
            wiring,
            served.arn,
            now=now,
            reason=f"idle: no invocations for {policy.idle_minutes} minutes (policy.idle_minutes)",
            force=True,
            dry_run=policy.dry_run,
        )
        _count(outcome, report)
        if outcome.action in ("deleted", "would-delete"):
            report.idle.append(served.arn)
            return
    report.alive.append((served.arn, format_time(expires)))
    _warn_once(
        clients, wiring, policy, served, expires, now, report, f"it will be deleted at {format_time(expires)} (UTC)"
    )


def _warn_once(
    clients: Any,
    wiring: Wiring,
    policy: SweepPolicy,
    served: Served,
    ends: datetime,
    now: datetime,
    report: SweepReport,
    what: str,
) -> None:
    ends_text = format_time(ends)
    if now < ends - timedelta(minutes=policy.warn_before_minutes) or served.tags.get(TAG_WARNED) == ends_text:
        return
    key = served.tags.get("tailor-serving", served.name)
    clients.sns.publish(
        TopicArn=wiring.topic_arn,
        Subject=f"Tailor {wiring.environment}: {key} ends soon"[:100],
        Message=(
            f"{served.arn} ({key}) serves {served.model_arn}: {what}.\nTo keep it longer, "
            "raise `hours` in the config (within policy.max_throughput_hours) and deploy."
        ),
    )
    clients.bedrock.tag_resource(resourceARN=served.arn, tags=[{"key": TAG_WARNED, "value": ends_text}])
    report.warned.append(served.arn)


def _unmanaged(
    clients: Any, wiring: Wiring, policy: SweepPolicy, served: Served, now: datetime, report: SweepReport
) -> None:
    term_end = served.term_end(now)
    if term_end is not None:
        report.committed.append((served.arn, format_time(term_end)))
        report.unmanaged.append(served.arn)
        return
    if policy.unmanaged == "delete":
        outcome = teardown(
            clients,
            wiring,
            served.arn,
            now=now,
            reason="not managed by Tailor (policy.unmanaged_throughput: delete)",
            force=True,
            dry_run=policy.dry_run,
            unmanaged=True,
        )
        _count(outcome, report)
        if outcome.action == "deleted":
            return
    report.unmanaged.append(served.arn)


def _count(outcome: Outcome, report: SweepReport) -> None:
    bucket = {"deleted": report.deleted, "would-delete": report.would_delete, "deferred": report.deferred}.get(
        outcome.action
    )
    if bucket is not None and outcome.arn is not None:
        bucket.append(outcome.arn)


def _report_changes(clients: Any, wiring: Wiring, policy: SweepPolicy, report: SweepReport) -> None:
    """One message when the set of resources to look at changes, not one every five minutes."""
    lines = [f"  unmanaged (policy: {policy.unmanaged}): {arn}" for arn in report.unmanaged]
    lines += [f"  would delete (dry run): {arn}" for arn in report.would_delete]
    lines += [
        f"  expires-at beyond creation + {policy.max_hours:g} h (policy.max_throughput_hours), held to that: {arn}"
        for arn in report.tampered
    ]
    lines += [
        f"  orphaned: managed by Tailor environment {owner or '?'}, whose reconciler has not run recently: {arn}"
        for arn, owner in report.orphaned
    ]
    digest = hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()
    name = f"{naming.reconciler_record_prefix(wiring.environment)}reported"
    previous = records.get(clients.ssm, name) or {}
    if previous.get("digest") == digest:
        return
    records.put(clients.ssm, name, {"digest": digest, "count": len(lines)})
    if not lines:
        return
    lines += [f"  committed until {end}: {arn}" for arn, end in report.committed]
    if report.orphaned:
        lines += [
            "",
            "An orphan keeps billing until someone deletes it: redeploy its environment (its reconciler then deletes",
            "it when due), or delete it by hand (aws bedrock delete-provisioned-model-throughput / "
            "delete-custom-model-deployment).",
        ]
    clients.sns.publish(
        TopicArn=wiring.topic_arn,
        Subject=f"Tailor {wiring.environment}: serving report"[:100],
        Message="\n".join([f"The reconciler for {wiring.environment} found resources to look at:", *lines]),
    )


def _publish(metrics: observability.MetricSink, report: SweepReport, now: datetime) -> None:
    """Every sweep metric on every pass, zeros included: ManagedServing's sample count is the heartbeat the
    "reconciler silent" alarm counts, and a gauge that stops at its last non-zero value would mislead."""
    values = {
        observability.MANAGED_PAST_EXPIRY: len(report.past_expiry),
        observability.MANAGED_SERVING: report.managed,
        observability.UNMANAGED_SERVING: len(report.unmanaged),
        observability.SERVING_DELETED: len(report.deleted),
        observability.TEARDOWN_DEFERRED: len(report.deferred),
        observability.EXPIRY_TAMPERED: len(report.tampered),
        observability.ORPHANED_SERVING: len(report.orphaned),
        observability.LISTING_FAILURES: len(report.listing_failures),
        observability.IDLE_TORN_DOWN: len(report.idle),
    }
    for name in observability.SWEEP_METRICS:
        metrics.put(name, values[name])
    if report.alive:
        soonest = min(t for _, expires in report.alive if (t := parse_time(expires)) is not None)
        metrics.put(observability.NEXT_EXPIRY_MINUTES, max(0.0, (soonest - now).total_seconds() / 60), "None")
