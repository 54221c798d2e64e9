"""The rehearsal: deploy an environment into the emulator with the pinned CDK CLI and drive its whole lifecycle.

Train, complete, serve, expire, tear down, destroy; each step checked against what the emulator, the local
Bedrock and the functions' own AWS calls say, printed as a timeline and a summary. A failed check fails the run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rehearsal import cdk, config, emulated, processes, sweep_run
from rehearsal.calls import check_calls, deployed_of, functions_of
from rehearsal.control import Control
from rehearsal.timeline import Timeline
from tailor import naming, observability
from tailor.config.catalog import load_catalog
from tailor.config.environment import Environment, load_environment
from tailor.errors import UserError
from tailor.serving.model import TAG_EXPIRES_AT, parse_time

ROOT = processes.ROOT
REGION_DEFAULT = "us-east-1"
JOB_SECONDS = 40  # each job's training time in the local Bedrock
SERVE_SECONDS = 5
EXPIRE_AHEAD = timedelta(seconds=150)  # the shortest life `tailor serving extend` gives, plus a margin


class RehearsalFailed(Exception):
    """A step could not go on (its check failed and the next steps depend on it)."""


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Options:
    environment: str
    run_dir: Path
    job_seconds: float | None = None  # each job's training time; default JOB_SECONDS (a sweep's trials: shorter)
    keep: bool = False
    short: bool = False  # deploy, one expiry, destroy: what the failure-injection tests need
    config_dir: Path = ROOT / "config"
    inject: tuple[str, ...] = ()  # stack-failure | no-schedule | left-billed: to show the rehearsal catches them


@dataclass
class Rehearsal:
    options: Options
    checks: list[Check] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    functions: dict[str, tuple[str, str]] = field(default_factory=dict)  # physical name -> (stack, logical id)
    deployed: dict[str, dict[str, str]] = field(default_factory=dict)  # stack -> logical id -> physical id
    exports: dict[str, str] = field(default_factory=dict)
    replaced: list[str] = field(default_factory=list)  # names of jobs a deploy replaced (each started once)
    held: str | None = None  # the running job kept InProgress for the replacement step
    held_change: tuple[str, Any] = ("", None)  # the hyperparameter and value that replace it

    def __post_init__(self) -> None:
        self.run = self.options.run_dir
        self.timeline = Timeline()
        self.env_name = self.options.environment

    # ------------------------------------------------------------------------------------------------ running
    def main(self) -> int:
        self.run.mkdir(parents=True, exist_ok=True)
        source = self.options.config_dir / f"{self.env_name}.yaml"
        catalog = load_catalog()
        user_env = load_environment(source, catalog, base_dir=ROOT)  # the user's config must be valid first
        self.region = user_env.region
        swept = any(j.sweep is not None for j in user_env.jobs.values())
        if self.options.job_seconds is None:
            self.options.job_seconds = sweep_run.JOB_SECONDS if swept else JOB_SECONDS
        settings = self._bedrock_settings(user_env) + (sweep_run.bedrock_settings() if swept else [])
        processes.require_emulator()
        bedrock = processes.start_local_bedrock(self.run, args=settings, account=config.ACCOUNT)
        self.timeline.add("harness", f"local Bedrock on {bedrock.url} ({' '.join(settings)})")
        try:
            emulator = processes.start_emulator(
                self.run,
                account=config.ACCOUNT,
                region=self.region,
                bedrock_url=bedrock.url,
                call_log=self.run / "function-calls.jsonl",
            )
        except BaseException:
            bedrock.stop()  # nothing started is left running
            raise
        self.timeline.add("harness", f"ministack on {emulator.url}")
        self.control = Control(bedrock.url)
        if swept:  # evaluation results land in the emulator's S3, where the sweep's reader looks for them
            self.control.settings(results_s3_endpoint=emulator.url)
        self.aws = emulated.clients(
            emulator=emulator.url, bedrock=bedrock.url, account=config.ACCOUNT, region=self.region
        )
        self.cli = cdk.Cli(
            endpoint=emulator.url,
            account=config.ACCOUNT,
            region=self.region,
            run_dir=self.run,
            log=self.run / "cdk.log",
        )
        self.tailor_env = {**self.cli.env, "AWS_ENDPOINT_URL_BEDROCK": bedrock.url}
        try:
            with processes.running(bedrock, emulator):
                self._scenario(source, catalog)
        except RehearsalFailed as exc:
            self.check(str(exc), False, "the rehearsal stopped here")
        except KeyboardInterrupt:
            self.check("interrupted", False, "Ctrl-C or SIGTERM: the servers were stopped")
        except Exception as exc:  # a harness step that broke: a failed rehearsal, reported, never a traceback
            (self.run / "harness-error.txt").write_text(traceback.format_exc())
            self.check(
                f"harness step failed: {type(exc).__name__}: {exc}"[:300], False, f"see {self.run}/harness-error.txt"
            )
        finally:
            if not self.options.keep:
                shutil.rmtree(self.run / "emulator-tmp", ignore_errors=True)  # the functions' unpacked code
            self._report()
        return 0 if self.checks and all(c.ok for c in self.checks) else 1

    def _scenario(self, source: Path, catalog: Any) -> None:
        self._timed("bootstrap", self.cli.bootstrap)
        rehearsal_config = config.with_models(config.rehearse(source), self._seed_models(source))
        self.notes += [f"config {c.path}: {c.what} ({c.why})" for c in rehearsal_config.changes]
        self.env = self._write_and_load(rehearsal_config, catalog)
        if not self.options.short and not sweep_run.sweeps(self):
            self._hold_a_job()
        self._deploy("first deploy", expect_changes=True)
        self._notifications()  # subscribes a queue to the environment's topic, to read every message from here on
        if sweep_run.sweeps(self):  # trials, decision and winner instead of the plain jobs' course
            sweep_run.rehearse(self)
            self._check_observability()
            self._destroy()
            self._check_iam()
            self._collect_bedrock_events()
            return
        self._check_queued_at_deploy()
        self._check_datasets_under_the_key()
        self._check_throughputs_bought()
        self._extend_throughput_to_soon()
        if not self.options.short:
            self._deploy("unchanged deploy", expect_changes=False)
            self._replace_a_job(rehearsal_config, catalog)
            withheld = self._complete_jobs()
            self._check_job_serving()
            self._show_status()
            self._start_expiries()  # while the withheld job's completion is still to come
            self._check_withheld(withheld)
            self._check_each_job_started_once()
        self._await_expiries()
        self._check_observability()
        self._destroy()
        self._check_iam()
        self._collect_bedrock_events()

    # ------------------------------------------------------------------------------------------------ steps
    def _bedrock_settings(self, env: Environment) -> list[str]:
        jobs = env.policy.max_concurrent_jobs
        self.notes.append(
            f"local Bedrock: {jobs} concurrent jobs, as policy.max_concurrent_jobs says (Bedrock's default of 2 is "
            "UNCONFIRMED in AWS's documentation)"
        )
        legacy = sorted({j.base_model for j in env.jobs.values() if j.model.status == "legacy"})
        if legacy:
            self.notes.append(
                f"local Bedrock: any base model accepted; {', '.join(legacy)} is legacy in the catalog (absent from "
                "AWS's current customization table): a real deploy may refuse it"
            )
        return [
            "--job-seconds",
            str(self.options.job_seconds),
            "--throughput-seconds",
            str(SERVE_SECONDS),
            "--deployment-seconds",
            str(SERVE_SECONDS),
            "--job-concurrency",
            str(jobs),
            "--any-base-model",
        ]

    def _seed_models(self, source: Path) -> dict[str, str]:
        """Custom models that throughputs entries name must exist: one finished job each in the local Bedrock."""
        models = {}
        for key in config.rehearse(source).custom_model_arns():
            job = self.aws.bedrock.create_model_customization_job(
                jobName=f"rehearsal-seed-{key}",
                customModelName=f"rehearsal-seed-{key}",
                roleArn=f"arn:aws:iam::{config.ACCOUNT}:role/rehearsal-seed",
                baseModelIdentifier=self._base_of(source, key),
                trainingDataConfig={"s3Uri": "s3://rehearsal-seed/train.jsonl"},
                outputDataConfig={"s3Uri": "s3://rehearsal-seed/output/"},
                clientRequestToken=naming.client_request_token(f"rehearsal-seed-{key}"),
            )
            self.control.finish_job(job["jobArn"], "Completed")
            models[key] = self.aws.bedrock.get_model_customization_job(jobIdentifier=job["jobArn"])["outputModelArn"]
            self.timeline.add("harness", f"seeded custom model {models[key].rsplit('/', 1)[-1]} for throughputs.{key}")
        return models

    def _base_of(self, source: Path, key: str) -> str:
        import re

        from tailor.config.serving import CUSTOM_MODEL_ARN

        arn = config.rehearse(source).custom_model_arns()[key]
        match = re.fullmatch(CUSTOM_MODEL_ARN, arn)
        entry = (config.rehearse(source).raw.get("throughputs") or {})[key]
        return str(entry.get("base_model") or (match["base"] if match else "amazon.nova-micro-v1:0:128k"))

    def _write_and_load(self, rehearsal_config: config.RehearsalConfig, catalog: Any) -> Environment:
        path = rehearsal_config.write(self.run / "config", self.env_name)
        env = load_environment(path, catalog, base_dir=ROOT)
        # The run directory is shaped like a checkout, so `tailor ... --config-dir <run>/config` finds the local
        # datasets where the config says they are (relative to the config directory's parent).
        for job in env.jobs.values():
            for source in (job.training, *job.validation):
                if source is not None and source.path is not None:
                    target = self.run / source.location
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(source.path, target)
        return env

    def _deploy(self, label: str, *, expect_changes: bool) -> None:
        started = time.time()
        synth = self._timed(f"synth ({label})", lambda: self.cli.synth(self.env_name, self.run / "config", self._out()))
        if not synth.ok:
            raise RehearsalFailed(f"{label}: cdk synth failed: {synth.tail(8)}")
        if "stack-failure" in self.options.inject and expect_changes:
            self.control.fault("CreateModelCustomizationJob", "ValidationException", times=10)
            self.timeline.add("harness", "injected: every CreateModelCustomizationJob fails")
        outcome = self._timed(label, lambda: self.cli.deploy(self._out()))
        deployed, self.exports = deployed_of(self.aws, self.env_name)
        self.deployed.update(deployed)
        self.functions.update(functions_of(deployed, self._out()))
        self.check(
            f"{label}: cdk deploy --all succeeds",
            outcome.ok,
            f"{outcome.seconds:.0f} s" if outcome.ok else outcome.tail(12),
        )
        if not outcome.ok:
            raise RehearsalFailed(f"{label} failed")
        if not expect_changes:
            unchanged = outcome.output.count("(no changes)")
            new_calls = self._provider_calls(since=started)
            self.check(
                f"{label}: no stack changed and Bedrock was asked for nothing",
                unchanged >= 3 and not new_calls,
                f"{unchanged} stacks unchanged; {len(new_calls)} Bedrock create/update/delete calls",
            )

    def _out(self) -> Path:
        return self.run / "cdk.out"

    def _job_starts(self) -> list[str]:
        return [
            str(c["params"].get("jobName"))
            for c in self.control.calls()
            if c.get("operation") == "CreateModelCustomizationJob"
            and 200 <= int(c.get("status") or 0) < 300
            and not str(c["params"].get("jobName", "")).startswith("rehearsal-seed")
        ]

    def _check_queued_at_deploy(self) -> None:
        limit = self.env.policy.max_concurrent_jobs
        started = self._job_starts()
        queued = [k for k in self.env.jobs if self._job_record(k).get("status") == "queued"]
        expected = min(limit, len(self.env.jobs))
        self.check(
            f"the deploy starts {expected} jobs (policy.max_concurrent_jobs: {limit}) and queues the rest",
            len(started) == len(set(started)) == expected and len(queued) == len(self.env.jobs) - expected,
            f"started {len(started)}; queued: {', '.join(sorted(queued)) or 'none'}",
        )

    def _check_each_job_started_once(self) -> None:
        started = self._job_starts()
        wanted = {j.name for j in self.env.jobs.values()} | set(self.replaced)
        most = _most_at_once(self.control.events(), self.env_name)
        limit = self.env.policy.max_concurrent_jobs
        self.check(
            f"every job started exactly once, never more than {limit} at a time",
            sorted(started) == sorted(wanted) and most <= limit,
            f"{len(started)} starts for {len(wanted)} jobs; at most {most} InProgress together",
        )

    def _check_datasets_under_the_key(self) -> None:
        key_arn = self._export("KeyArn")
        bucket = self._export("TrainingDataBucketArn").rsplit(":", 1)[-1]
        found, wrong = 0, []
        for job in self.env.jobs.values():
            for role, source in _datasets(job):
                if source.sha256 is None or source.path is None:
                    continue
                key = naming.dataset_key(self.env_name, job.key, role, source.sha256, source.path.name)
                head = self.aws.s3.head_object(Bucket=bucket, Key=key)
                found += 1
                if head.get("SSEKMSKeyId") != key_arn or head.get("ServerSideEncryption") != "aws:kms":
                    wrong.append(f"{key}: {head.get('ServerSideEncryption')} {head.get('SSEKMSKeyId')}")
        self.check(
            "datasets copied under the environment's key",
            found > 0 and not wrong,
            f"{found} copies with SSEKMSKeyId = the Data stack's key" + (f"; wrong: {wrong}" if wrong else ""),
        )

    def _check_throughputs_bought(self) -> None:
        for key in self.env.throughputs:
            record = self._serving_record(key)
            served = self._billed(record.get("arn") if record else None)
            schedule = self._schedule_for(served) if served else None
            self.check(
                f"throughputs.{key} bought at deploy with its expiry and a one-time schedule",
                bool(served and served["tags"].get(TAG_EXPIRES_AT) and schedule),
                f"{(served or {}).get('arn')} expires-at {(served or {}).get('tags', {}).get(TAG_EXPIRES_AT)}; "
                f"schedule {schedule}",
            )

    def _extend_throughput_to_soon(self) -> None:
        """Shortens each throughputs entry's life through the operator path, so its schedule fires within the run."""
        self.soon: dict[str, datetime] = {}
        for key in self.env.throughputs:
            self.soon[key] = self._shorten(key)
            if "no-schedule" in self.options.inject:
                self._delete_schedule(key)
                self._pause_reconciler()

    def _hold_a_job(self) -> None:
        """Before the first deploy: one job, once it starts (at the deploy or from the queue), stays InProgress
        until the replacement step stops it; jobs train for seconds here, and a slow machine would otherwise see
        every job finished before the step begins. Held by name, so its replacement (a new name) is not."""
        key, name, value = _a_hyperparameter_change(self.env, set(self.env.jobs))
        if key is not None:
            self.control.hold(self.env.jobs[key].name)
            self.held, self.held_change = key, (name, value)
            self.timeline.add("harness", f"holding {self.env.jobs[key].name} InProgress for the replacement step")

    def _wait_running(self, name: str) -> bool:
        """Until the held job is InProgress: it may wait in the queue for a slot (one round of training)."""
        rounds = -(-len(self.env.jobs) // self.env.policy.max_concurrent_jobs)
        deadline = time.monotonic() + rounds * (float(self.options.job_seconds or JOB_SECONDS) + 30) + 60
        while time.monotonic() < deadline:
            if self._jobs().get(name, {}).get("status") == "InProgress":
                return True
            time.sleep(3)
        return False

    def _replace_a_job(self, rehearsal_config: config.RehearsalConfig, catalog: Any) -> None:
        job = self.held
        name, value = self.held_change
        if job is None:
            self.notes.append("no job has an integer hyperparameter to change: the replacement was skipped")
            return
        old = self.env.jobs[job]
        if not self._wait_running(old.name):
            raise RehearsalFailed(f"{old.name} never ran (held for the replacement step)")
        changed = config.with_hyperparameter(rehearsal_config, job, name, value)
        self.env = self._write_and_load(changed, catalog)
        self.timeline.add("harness", f"jobs.{job}.hyperparameters.{name} -> {value}")
        shown = self._tailor("preview", self.env_name, "--config-dir", str(self.run / "config"), record="preview")
        line = next((row for row in shown.splitlines() if f"jobs.{job} " in row), "")
        self.check(
            "tailor preview says which running job the deploy will stop",
            line.startswith("REPLACE") and "STOPS" in line and old.name in line,
            line.strip() or shown.strip()[-300:],
        )
        self._deploy(f"deploy changing jobs.{job}.{name}", expect_changes=True)
        new = self.env.jobs[job]
        state = self._jobs()
        record = self._job_record(job)
        stopped = state.get(old.name, {}).get("status") in ("Stopping", "Stopped")
        # The new job starts at once if a slot is free, else when the old one's stop frees it
        started = new.name != old.name and (new.name in state or record.get("jobName") == new.name)
        self.replaced.append(old.name)
        self.check(
            "a hyperparameter change replaces the job and stops the old one",
            stopped and started,
            (
                f"old {old.name} {state.get(old.name, {}).get('status')}; new {new.name} "
                f"{state.get(new.name, {}).get('status') or record.get('status')}"
            ),
        )
        self.control.release(old.name)

    def _complete_jobs(self) -> str | None:
        """Forwards each job's completion to the completion rule's target, but one: the reconcile rule must
        bring that one in by itself (an event lost). Returns that one's key."""
        withheld = next(iter(sorted(self.env.jobs)), None)
        pattern, target = self._completion_rule()
        delivered: set[str] = set()
        seen = 0
        # The queue runs them policy.max_concurrent_jobs at a time: a round of job_seconds per slot-full.
        rounds = -(-(len(self.env.jobs) + len(self.replaced)) // self.env.policy.max_concurrent_jobs)
        deadline = time.monotonic() + rounds * (float(self.options.job_seconds or JOB_SECONDS) + 30) + 180
        while time.monotonic() < deadline:
            seen = self.deliver_job_events(pattern, target, since=seen, delivered=delivered, skip=withheld)
            if all(self._job_record(k).get("status") == "Completed" for k in self.env.jobs if k != withheld):
                break
            time.sleep(3)
        self.check(
            "the deployed rule's pattern matches Bedrock's job state-change event (TestEventPattern)",
            bool(delivered),
            f"{len(delivered)} events matched and delivered",
        )
        return withheld

    def deliver_job_events(
        self, pattern: str, target: str, *, since: int, delivered: set[str], skip: str | None
    ) -> int:
        """Forwards each new job end the local Bedrock announced to the completion rule's target, as EventBridge
        would, after checking the deployed rule matches it (ministack refuses aws.* sources on PutEvents). Jobs of
        `skip` are left to the reconcile rule. Returns the last event seen."""
        seen = since
        for entry in self.control.eventbridge(since=since):
            seen = max(seen, entry["seq"])
            detail = json.loads(entry["entry"]["Detail"])
            name = detail.get("jobName", "")
            if not name.startswith(f"{naming.PROJECT}-{self.env_name}-"):
                continue
            event = _as_event(entry["entry"], self.region)
            matches = self.aws.events.test_event_pattern(EventPattern=pattern, Event=json.dumps(event))["Result"]
            job_key = _key_of(self.env, name)
            if detail.get("jobStatus") in ("Completed", "Failed", "Stopped") and job_key not in (skip, None):
                if not matches:
                    self.check(f"the completion rule matches {name}'s {detail['jobStatus']} event", False, pattern)
                    continue
                self.aws.lambda_.invoke(FunctionName=target, InvocationType="Event", Payload=json.dumps(event))
                delivered.add(name)
                self.timeline.add("harness", f"{name} {detail['jobStatus']}: event delivered to the completion rule")
        return seen

    def _check_withheld(self, withheld: str | None) -> None:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and withheld and self._job_record(withheld).get("status") != "Completed":
            time.sleep(3)
        records = {k: self._job_record(k) for k in self.env.jobs}
        self.check(
            "jobs complete: every record says Completed, with its model and losses",
            all(r.get("status") == "Completed" and r.get("customModelArn") for r in records.values()),
            ", ".join(f"{k}: {r.get('status')}" for k, r in records.items()),
        )
        if withheld:
            self.check(
                f"the reconcile schedule alone brings in {withheld}'s completion (its event was never delivered)",
                records[withheld].get("status") == "Completed",
                f"record {records[withheld].get('status')} at {records[withheld].get('updatedAt')}",
            )
        subjects = self._notifications()
        self.check(
            "a notification per completed job",
            all(any(f"job {k} Completed" in s for s in subjects) for k in self.env.jobs),
            f"{len(subjects)} messages",
        )

    def _check_job_serving(self) -> None:
        for job in self.env.jobs.values():
            if job.serve is None:
                continue
            deadline = time.monotonic() + 120
            record = self._serving_record(job.key) or {}
            while record.get("status") != "active" and time.monotonic() < deadline:
                time.sleep(3)
                record = self._serving_record(job.key) or {}
            served = self._billed(record.get("arn"))
            schedule = self._schedule_for(served) if served else None
            self.check(
                f"jobs.{job.key}.serve starts when its job completes, with its expiry and a one-time schedule",
                bool(served and served["tags"].get(TAG_EXPIRES_AT) and schedule),
                f"{record.get('arn')} ({record.get('mode')}) expires-at {record.get('expiresAt')}",
            )

    def _show_status(self) -> None:
        shown = self._tailor("status", self.env_name, "--config-dir", str(self.run / "config"), record="status")
        serving = [k for k in self.soon] + [j.key for j in self.env.jobs.values() if j.serve is not None]
        self.check(
            "tailor status shows every job's state and every live serving entry's expiry and cost",
            all(k in shown for k in self.env.jobs) and all(k in shown for k in serving) and "expires" in shown,
            f"{len(shown.splitlines())} lines (status.txt in the run directory)",
        )

    def _start_expiries(self) -> None:
        """One job's serving loses its schedule (the reconciler must end it), another is ended by the operator."""
        served_jobs = [j.key for j in self.env.jobs.values() if j.serve is not None]
        self.lost = served_jobs[0] if served_jobs else None
        self.operator = served_jobs[1] if len(served_jobs) > 1 else None
        for key in (self.lost, self.operator):
            if key:
                self._wait_settled(key)  # Bedrock refuses deletes while Creating: the paths tested are the settled ones
        if self.lost:
            self.soon[self.lost] = self._shorten(self.lost)
            self._delete_schedule(self.lost)
        if self.operator:
            self._tailor("serving", "expire", self.env_name, self.operator, "--config-dir", str(self.run / "config"))
            self.soon[self.operator] = datetime.now(UTC)

    def _await_expiries(self) -> None:
        lost, operator = getattr(self, "lost", None), getattr(self, "operator", None)
        # one reconciler period and its rule's tick past the last expiry, and a margin for a slow machine
        deadline = max(self.soon.values(), default=datetime.now(UTC)) + timedelta(minutes=2)
        pending = dict(self.soon)
        while pending and datetime.now(UTC) < deadline:
            for key in list(pending):
                record = self._serving_record(key) or {}
                if record.get("status") == "deleted":
                    pending.pop(key)
            time.sleep(3)
        for key, when in self.soon.items():
            record = self._serving_record(key) or {}
            deleted = parse_time(record.get("deletedAt"))
            overrun = (deleted - when).total_seconds() if deleted else None
            how = "operator" if key == operator else ("reconciler" if key == lost else "schedule")
            reason = record.get("deletedReason") or ""
            expected = {"schedule": "(schedule)", "reconciler": "(reconciler)", "operator": "(schedule)"}[how]
            self.check(
                {
                    "schedule": f"{key} ends at its expiry through the real Scheduler and the teardown function",
                    "reconciler": f"{key}'s deleted schedule is recovered by the reconciler within one period",
                    "operator": f"`tailor serving expire` ends {key} now, through the teardown function",
                }[how],
                record.get("status") == "deleted" and expected in reason and overrun is not None and overrun <= 90,
                f"deleted {record.get('deletedAt')} ({reason}); {overrun:.0f} s after its expiry"
                if overrun is not None
                else f"still {record.get('status')}",
            )
        notified = self._notifications()
        self.check(
            "each deletion is notified",
            all(any(f"{key} serving deleted" in s for s in notified) for key in self.soon),
            f"{sum('serving deleted' in s for s in notified)} deletion messages",
        )

    def _destroy(self) -> None:
        if "left-billed" in self.options.inject:
            self.aws.bedrock.create_custom_model_deployment(
                modelDeploymentName="rehearsal-stray",
                modelArn=self._seeded_models()[0],
                clientRequestToken=naming.client_request_token("rehearsal-stray"),
            )
            self.timeline.add("harness", "injected: a deployment nothing deletes")
        if self.env.retain_data:
            for part in ("Data",):
                self.aws.cloudformation.update_termination_protection(
                    StackName=naming.stack_name(self.env_name, part), EnableTerminationProtection=False
                )
        outcome = self._timed("destroy", lambda: self.cli.destroy(self._out()))
        self.check(
            "cdk destroy --all succeeds", outcome.ok, f"{outcome.seconds:.0f} s" if outcome.ok else outcome.tail(12)
        )
        billed = self.control.billed()
        running = [
            n
            for n, j in self._jobs().items()
            if j.get("status") in ("InProgress", "Stopping") and not n.startswith("rehearsal-seed")
        ]
        self.check(
            "nothing left billed: no throughput, no deployment, no running job",
            not billed and not running,
            f"billed {[b['name'] for b in billed]}; running {running}",
        )
        data = naming.stack_name(self.env_name, "Data")
        template = json.loads((self._out() / f"{data}.template.json").read_text())["Resources"]
        buckets = {self.deployed[data][k] for k, r in template.items() if r["Type"] == "AWS::S3::Bucket"}
        left = buckets & {b["Name"] for b in self.aws.s3.list_buckets()["Buckets"]}
        emptied = [
            c
            for c in self._function_calls()
            if c.get("operation") == "DeleteObjects" and "Emptier" in self.functions.get(c["function"], ("", ""))[1]
        ]
        self.check(
            "the data stays or goes as retention.data says (emptied first, so real CloudFormation can delete it)",
            left == buckets if self.env.retain_data else not left and bool(emptied),
            f"{len(left)} of {len(buckets)} buckets left; {len(emptied)} DeleteObjects calls by the bucket emptier",
        )
        models = self._custom_models()
        kept = [m for m in models if m.startswith(f"{naming.PROJECT}-{self.env_name}-")]
        retained = {j.name for j in self.env.jobs.values() if j.retain_custom_model}
        self.check(
            "custom models are retained or deleted as retention says",
            set(kept) >= retained and (self.env.retain_custom_models or not (set(kept) - retained)),
            (
                f"left: {sorted(kept) or 'none'}; retention.custom_models "
                f"{'retain' if self.env.retain_custom_models else 'delete'}"
            ),
        )

    def _check_observability(self) -> None:
        """What the functions write is what the dashboard and alarms read: EMF metrics under {Environment}, JSON log
        lines with the correlation keys, and a dashboard that names only metrics something emits."""
        stack = naming.stack_name(self.env_name, "Guard")
        template = json.loads((self._out() / f"{stack}.template.json").read_text())["Resources"]
        (group,) = [
            self.deployed[stack][r["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]]
            for logical, r in template.items()
            if r["Type"] == "AWS::Lambda::Function" and logical.startswith("Teardown")
        ]
        lines = []
        for page in self.aws.logs.get_paginator("filter_log_events").paginate(logGroupName=group):
            for event in page["events"]:
                try:
                    lines.append(json.loads(event["message"]))
                except ValueError:
                    continue
        emf = [d for d in lines if isinstance(d, dict) and "_aws" in d]
        blocks = [b for d in emf for b in d["_aws"].get("CloudWatchMetrics", [])]
        logs = [d for d in lines if isinstance(d, dict) and "_aws" not in d and "level" in d]
        self.check(
            "the teardown function's metrics are EMF lines under Tailor/{Environment}, its log lines carry the keys",
            bool(blocks)
            and all(b["Namespace"] == observability.NAMESPACE and b["Dimensions"] == [["Environment"]] for b in blocks)
            and any(observability.MANAGED_SERVING in d for d in emf)
            and bool(logs)
            and all(d.get("environment") == self.env_name for d in logs),
            f"{len(emf)} EMF lines, {len(logs)} log lines in {group}",
        )
        body = json.loads(
            self.aws.cloudwatch.get_dashboard(DashboardName=naming.dashboard_name(self.env_name))["DashboardBody"]
        )
        named = {
            item
            for widget in body.get("widgets", [])
            for metric in (widget.get("properties") or {}).get("metrics") or []
            for i, item in enumerate(metric)
            if i > 0 and isinstance(metric[i - 1], str) and metric[i - 1] == observability.NAMESPACE
        }
        url = self.exports.get(naming.export_name(self.env_name, "DashboardUrl"))
        self.check(
            "the dashboard is deployed, names only metrics the functions emit, and its URL is exported",
            bool(named)
            and named <= observability.emitted()
            and url == naming.dashboard_url(self.env_name, self.region),
            f"{len(named)} Tailor metrics on it; unknown: {sorted(named - observability.emitted()) or 'none'}",
        )

    def _check_iam(self) -> None:
        found = check_calls(
            self.run / "function-calls.jsonl",
            self._out(),
            self._place(),
            self.functions,
            self.control.calls(),
            exports=self.exports,
            deployed=self.deployed,
        )
        self.check(
            "every AWS call each function made is allowed by its role's synthesized policy (ministack's IAM evaluator)",
            found.checked > 0 and not found.denied,
            found.summary(),
        )
        self.notes += found.notes

    # ------------------------------------------------------------------------------------------------ helpers
    def check(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append(Check(name, ok, detail))
        self.timeline.add("check", f"{'PASS' if ok else 'FAIL'} {name}")

    def _timed(self, label: str, action: Any) -> Any:
        start = time.monotonic()
        self.timeline.add("harness", f"{label} ...")
        result = action()
        self.timings[label] = time.monotonic() - start
        return result

    def _tailor(self, *args: str, record: str | None = None) -> str:
        command = [sys.executable, "-m", "tailor.cli", *args]
        done = subprocess.run(
            command,
            cwd=ROOT,
            env={**self.tailor_env, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        if record:
            (self.run / f"{record}.txt").write_text(done.stdout + done.stderr)
        summary = (done.stdout.strip() or done.stderr.strip()).splitlines()
        self.timeline.add("tailor", f"tailor {' '.join(args)} -> {summary[0] if summary else ''}")
        if done.returncode != 0:
            raise RehearsalFailed(f"tailor {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def _shorten(self, key: str) -> datetime:
        record = self._serving_record(key) or {}
        created = parse_time(record.get("createdAt")) or datetime.now(UTC)
        target = datetime.now(UTC) + EXPIRE_AHEAD
        hours = (target - created).total_seconds() / 3600
        self._tailor(
            "serving", "extend", self.env_name, key, "--hours", f"{hours:.4f}", "--config-dir", str(self.run / "config")
        )
        return parse_time((self._serving_record(key) or {}).get("expiresAt")) or target

    def _wait_settled(self, key: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            served = self._billed((self._serving_record(key) or {}).get("arn"))
            if served is None or served.get("status") in ("InService", "Active"):
                return
            time.sleep(2)

    def _delete_schedule(self, key: str) -> None:
        served = self._billed((self._serving_record(key) or {}).get("arn"))
        schedule = self._schedule_for(served) if served else None
        if schedule:
            self.aws.scheduler.delete_schedule(Name=schedule, GroupName=naming.schedule_group(self.env_name))
            self.timeline.add("harness", f"deleted {key}'s teardown schedule {schedule} (a lost schedule)")

    def _pause_reconciler(self) -> None:
        for page in self.aws.events.get_paginator("list_rules").paginate():
            for rule in page["Rules"]:
                if rule["Name"].startswith(naming.stack_name(self.env_name, "Guard")):
                    self.aws.events.disable_rule(Name=rule["Name"])
        self.timeline.add("harness", "injected: the reconciler's rule disabled")

    def _schedule_for(self, served: dict[str, Any]) -> str | None:
        name = naming.teardown_schedule_name(served["arn"], served["tags"].get(TAG_EXPIRES_AT, ""))
        try:
            self.aws.scheduler.get_schedule(Name=name, GroupName=naming.schedule_group(self.env_name))
            return name
        except self.aws.scheduler.exceptions.ResourceNotFoundException:
            return None

    def _completion_rule(self) -> tuple[str, str]:
        stack = naming.stack_name(self.env_name, "Jobs")
        for resource in self.aws.cloudformation.describe_stack_resources(StackName=stack)["StackResources"]:
            if resource["ResourceType"] == "AWS::Events::Rule" and resource["LogicalResourceId"].startswith(
                "CompletionJobStateChange"
            ):
                name = resource["PhysicalResourceId"].rsplit("/", 1)[-1]
                rule = self.aws.events.describe_rule(Name=name)
                (target,) = self.aws.events.list_targets_by_rule(Rule=name)["Targets"]
                return rule["EventPattern"], target["Arn"]
        raise RehearsalFailed(f"no job state-change rule in {stack}")

    def _export(self, what: str) -> str:
        wanted = naming.export_name(self.env_name, what)
        for page in self.aws.cloudformation.get_paginator("list_exports").paginate():
            for export in page["Exports"]:
                if export["Name"] == wanted:
                    return str(export["Value"])
        raise RehearsalFailed(f"no export {wanted}")

    def _notifications(self) -> list[str]:
        if not hasattr(self, "_queue_url"):
            self._queue_url = self.aws.sqs.create_queue(QueueName=f"rehearsal-{self.env_name}-notifications")[
                "QueueUrl"
            ]
            queue_arn = self.aws.sqs.get_queue_attributes(QueueUrl=self._queue_url, AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]
            self.aws.sns.subscribe(TopicArn=self._export("TopicArn"), Protocol="sqs", Endpoint=queue_arn)
            self._subjects: list[str] = []
        while True:
            batch = self.aws.sqs.receive_message(QueueUrl=self._queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return list(self._subjects)
            for message in batch:
                body = json.loads(message["Body"])
                subject = body.get("Subject") or ""
                self._subjects.append(subject)
                sent = parse_time(str(body.get("Timestamp", ""))[:19] + "Z")
                self.timeline.add("sns", subject, when=sent)
                self.aws.sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])

    def _function_calls(self) -> list[dict[str, Any]]:
        """Every AWS call the deployed Python functions made (rehearsal/call_hook.py writes them)."""
        log = self.run / "function-calls.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines() if line.strip()] if log.exists() else []

    def _provider_calls(self, *, since: float) -> list[dict[str, Any]]:
        """Bedrock create/update/delete/stop calls since `since` from the functions CloudFormation invokes (the job
        and serving providers), read from the functions' own call log: the completion handler's reconcile passes
        start queued jobs at any time, and are not the deploy's doing."""
        return [
            c
            for c in self._function_calls()
            if c.get("time", 0) >= since
            and c.get("service") == "bedrock"
            and str(c.get("operation", "")).startswith(("Create", "Update", "Delete", "Stop"))
            and "Completion" not in self.functions.get(c.get("function", ""), ("", "Completion"))[1]
        ]

    def _mutating_calls(self) -> list[dict[str, Any]]:
        return [
            c
            for c in self.control.calls()
            if c.get("operation", "").startswith(("Create", "Update", "Delete", "Stop"))
            and not str(c.get("params", {}).get("jobName", "")).startswith("rehearsal-")
        ]

    def _jobs(self) -> dict[str, dict[str, Any]]:
        state = self.control.state(account=config.ACCOUNT, region=self.region)
        return {j["jobName"]: j for j in _first(state, "jobs")}

    def _custom_models(self) -> list[str]:
        state = self.control.state(account=config.ACCOUNT, region=self.region)
        return [m["modelName"] for m in _first(state, "custom_models")]

    def _seeded_models(self) -> list[str]:
        state = self.control.state(account=config.ACCOUNT, region=self.region)
        return [m["modelArn"] for m in _first(state, "custom_models") if m["modelName"].startswith("rehearsal-seed")]

    def _job_arn(self, name: str) -> str:
        return str(self._jobs()[name]["jobArn"])

    def _billed(self, arn: str | None) -> dict[str, Any] | None:
        return next((b for b in self.control.billed() if b["arn"] == arn), None)

    def _serving_record(self, key: str) -> dict[str, Any] | None:
        return self._record(naming.serving_record_name(self.env_name, key))

    def _job_record(self, key: str) -> dict[str, Any]:
        return self._record(naming.job_record_name(self.env_name, key)) or {}

    def _record(self, name: str) -> dict[str, Any] | None:
        try:
            value = self.aws.ssm.get_parameter(Name=name)["Parameter"]["Value"]
        except self.aws.ssm.exceptions.ParameterNotFound:
            return None
        record = json.loads(value)
        return record if isinstance(record, dict) else None

    def _place(self) -> Any:
        from rehearsal.iam import Place

        return Place(account=config.ACCOUNT, region=self.region)

    def _collect_bedrock_events(self) -> None:
        for when, text in self._bedrock_events():
            self.timeline.add("bedrock", text, when=when)

    def _report(self) -> None:
        print(self.timeline.render())
        print()
        print(f"Rehearsal of {self.env_name}: {sum(c.ok for c in self.checks)} of {len(self.checks)} checks passed")
        for c in self.checks:
            print(f"  {'PASS' if c.ok else 'FAIL'}  {c.name}")
            print(f"        {c.detail}")
        if self.timings:
            print("Timings: " + ", ".join(f"{k} {v:.0f} s" for k, v in self.timings.items()))
        if self.notes:
            print("Not rehearsed, or changed for the emulator:")
            print("\n".join(f"  - {n}" for n in self.notes))
        print(f"Logs: {self.run}")

    def _bedrock_events(self) -> list[tuple[datetime, str]]:
        try:
            events = self.control.events()
        except Exception:  # the server is gone: the timeline has what was collected
            return []
        out = []
        for e in events:
            if str(e.get("name", "")).startswith("rehearsal-"):
                continue
            when = parse_time(str(e.get("time", ""))[:19] + "Z") or datetime.now(UTC)
            stage = f" {e['stage']}" if e.get("stage") else ""
            out.append(
                (when, f"{e.get('kind')} {e.get('name')}{stage}: {e.get('old')} -> {e.get('new')} ({e.get('cause')})")
            )
        return out


def _first(state: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """The state of the rehearsal's one account and Region (the server keeps one per pair)."""
    if key in state:
        return list(state[key])
    for value in state.values():
        if isinstance(value, dict) and key in value:
            return list(value[key])
        if isinstance(value, list):
            for item in value:
                if isinstance(item, dict) and key in item:
                    return list(item[key])
    return []


def _datasets(job: Any) -> list[tuple[str, Any]]:
    from tailor.jobs import inputs

    return inputs.datasets(job)


def _key_of(env: Environment, job_name: str) -> str | None:
    return next((k for k, j in env.jobs.items() if j.name == job_name), None) or next(
        (k for k in env.jobs if job_name.startswith(f"{naming.PROJECT}-{env.name}-{k}-")), None
    )


def _as_event(entry: dict[str, Any], region: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": f"rehearsal-{abs(hash(entry['Detail']))}",
        "detail-type": entry["DetailType"],
        "source": entry["Source"],
        "account": config.ACCOUNT,
        "time": entry.get("Time") or datetime.now(UTC).isoformat(),
        "region": region,
        "resources": entry["Resources"],
        "detail": json.loads(entry["Detail"]),
    }


def _most_at_once(events: list[dict[str, Any]], environment: str) -> int:
    """The most of this environment's jobs InProgress at the same time, from the local Bedrock's timeline."""
    running: set[str] = set()
    most = 0
    for event in events:
        name = str(event.get("name", ""))
        if event.get("kind") != "job" or event.get("stage") or not name.startswith(f"{naming.PROJECT}-{environment}-"):
            continue
        if event.get("new") == "InProgress":
            running.add(name)
        else:
            running.discard(name)
        most = max(most, len(running))
    return most


def _a_hyperparameter_change(env: Environment, running: set[str]) -> tuple[str | None, str, Any]:
    for key, job in sorted(env.jobs.items()):
        if key not in running:
            continue
        for name, spec in job.customization.hyperparameters.items():
            value = job.hyperparameters.get(name)
            if spec.type == "int" and isinstance(value, int) and spec.maximum is not None:
                return key, name, value + 1 if value + 1 <= spec.maximum else value - 1
    return None, "", None


def _seconds(text: str) -> float:
    """--job-seconds: a positive number, said in one line before anything starts."""
    import argparse

    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"is {text!r}; allowed: a number of seconds above 0")
    return value


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m rehearsal", description="Rehearse an environment's lifecycle.")
    parser.add_argument("env", help="environment (config/<env>.yaml)")
    parser.add_argument("--run-dir", type=Path, default=None)
    parser.add_argument("--job-seconds", type=_seconds, default=None, help=f"each job's training ({JOB_SECONDS:.0f} s)")
    parser.add_argument("--config-dir", type=Path, default=ROOT / "config")
    parser.add_argument("--short", action="store_true", help="deploy, one expiry through its schedule, destroy")
    parser.add_argument("--keep", action="store_true", help="keep the emulator's unpacked function code")
    parser.add_argument("--inject", action="append", choices=("stack-failure", "no-schedule", "left-billed"))
    args = parser.parse_args(argv)
    if not (args.config_dir / f"{args.env}.yaml").is_file():
        print(f"rehearsal: error: no {args.config_dir}/{args.env}.yaml", file=sys.stderr)
        return 2
    run_dir = args.run_dir or ROOT / ".rehearsal" / f"{args.env}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}"
    os.environ.pop("AWS_PROFILE", None)
    options = Options(
        args.env,
        run_dir,
        job_seconds=args.job_seconds,
        keep=args.keep,
        short=args.short,
        config_dir=args.config_dir,
        inject=tuple(args.inject or ()),
    )
    try:
        return Rehearsal(options).main()
    except UserError as exc:  # the user's own config does not validate: the same lines as make synth
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    except processes.RehearsalSetupError as exc:
        print(f"rehearsal: error: {exc}", file=sys.stderr)
        return 2
