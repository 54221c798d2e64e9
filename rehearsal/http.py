"""A local Bedrock over HTTP: the project's Bedrock double on a loopback port, for any boto3 client.

Run it in its own process (the rehearsal does)::

    python -m rehearsal.http --port 4599 --job-seconds 20 --throughput-seconds 5
    # prints "listening on http://127.0.0.1:4599" once ready; SIGTERM or Ctrl-C stops it (exit 0)
    AWS_ENDPOINT_URL_BEDROCK=http://127.0.0.1:4599 aws bedrock list-custom-models   # any SDK client works

or in-process (the tests do)::

    with BedrockServer(LocalBedrock(Settings(job_seconds=0.2))) as server:
        client = boto3.client("bedrock", endpoint_url=server.url, ...)

Each request is routed and parsed from botocore's bedrock model (:mod:`rehearsal.wire`) and answered by
:meth:`BedrockDouble.respond <rehearsal.bedrock.BedrockDouble.respond>`: the same validation, state and
REST-JSON responses (status, ``x-amzn-ErrorType``, ``x-amzn-RequestId``) the tests get in-process.  One double
per account and Region: the account is the SigV4 access key id when it is 12 digits (``111122223333``), else
``Settings.account``; the Region is the credential scope's.  The double runs on the wall clock
(:class:`~rehearsal.clock.WallClock`): jobs, PTs and deployments move by themselves after their delays, and
Bedrock's default quotas are on.  A lock around the whole registry serialises requests (the double is not
re-entrant across threads, and Bedrock's rules are checked against a consistent state).

Idempotency tokens: botocore fills a missing ``clientRequestToken`` with a uuid4 before the request leaves the
client, so over HTTP a caller's token and botocore's look alike.  The server treats a uuid4-shaped token as
botocore's (``Call.injected_tokens``, ``tokens_injected`` in the call log; refused with
``MissingClientToken`` under ``--require-client-tokens``).  A caller who passes uuid4 tokens of its own is
misread; Tailor's tokens are SHA-256 hex digests, never uuid4-shaped.

Harness endpoints, JSON in and out, under ``/_double/`` (see ``rehearsal/README.md``): health, state, calls,
events, eventbridge, billed, settings, clock, jobs/finish, jobs/outcome, evaluations/finish, evaluations/scores,
status, faults, holds, reset.

Evaluation jobs write their result file (the documented S3 layout) through ``--results-s3-endpoint``: an S3 the
caller's handlers read (the emulator's), reached with the standard credential chain; without it no file is written.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import math
import re
import signal
import socket
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

from rehearsal.bedrock import (
    DEFAULT_CUSTOMIZABLE_MODELS,
    BedrockDouble,
    DoubleError,
    MissingClientTokenError,
    PlannedOutcome,
    PlannedScores,
    UnimplementedOperationError,
    fault_status,
)
from rehearsal.clock import WallClock
from rehearsal.service_model import get_service_model
from rehearsal.wire import Router, WireError, jsonable, parse_request

__all__ = ["BedrockServer", "HttpReply", "LocalBedrock", "Settings", "main", "serving", "settings_from_args"]

HOST = "127.0.0.1"  # loopback only: nothing but this machine may reach the local Bedrock
CONTROL_PREFIX = "/_double"
_UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", re.IGNORECASE)
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request")
_ACCOUNT = re.compile(r"[0-9]{12}")
_REGION = re.compile(r"[a-z0-9-]{1,20}")
_DELAYS = ("job_seconds", "stop_seconds", "throughput_seconds", "deployment_seconds", "evaluation_seconds")
JOB_METRICS = ("fixed", "hyperparameters")
_QUOTAS = (
    "job_concurrency_quota",
    "model_unit_quota",
    "no_commitment_throughput_quota",
    "no_commitment_model_units_per_throughput",
    "commitment_model_unit_quota",
)
_FLAGS = ("allow_base_model_without_commitment", "any_base_model", "require_client_tokens")
_CODES = {
    "commitment_delete_code": ("ValidationException", "ConflictException"),
    "stop_not_running_code": ("ValidationException", "ConflictException"),
}


# --------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Settings:
    """What drives every double the server makes.  Delays in seconds (None: only ``/_double/jobs/finish``
    or ``/_double/status`` move that resource); quotas per account and Region (None: unlimited)."""

    account: str = "000000000000"  # for access keys that are not 12 digits (LocalStack's convention)
    region: str = "us-east-1"  # for unsigned requests
    job_seconds: float | None = 20.0
    stage_fractions: tuple[float, float] = (0.2, 0.4)
    stop_seconds: float | None = 2.0
    throughput_seconds: float | None = 5.0
    deployment_seconds: float | None = 5.0
    job_concurrency_quota: int | None = 2
    model_unit_quota: int | None = None
    no_commitment_throughput_quota: int | None = 2
    no_commitment_model_units_per_throughput: int | None = 1
    commitment_model_unit_quota: int | None = None
    allow_base_model_without_commitment: bool = False
    any_base_model: bool = False  # else only DEFAULT_CUSTOMIZABLE_MODELS of the Region can be customized
    commitment_delete_code: str = "ValidationException"
    stop_not_running_code: str = "ValidationException"
    require_client_tokens: bool = False
    evaluation_seconds: float | None = 30.0
    job_metrics: str = "fixed"  # fixed (0.1, 0.2) | hyperparameters (they vary per job: a sweep has a winner)
    results_s3_endpoint: str | None = None  # where evaluation result files are written (an S3-compatible URL)

    def __post_init__(self) -> None:
        if not _ACCOUNT.fullmatch(self.account):
            raise ValueError(f"account: is {self.account!r}; allowed: 12 digits")
        if not _REGION.fullmatch(self.region):
            raise ValueError(f"region: is {self.region!r}; allowed: a Region name such as us-east-1")
        for name in _DELAYS:
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not math.isfinite(value) or value < 0):
                raise ValueError(f"{name}: is {value!r}; allowed: a number of seconds >= 0, or null")
        for name in _QUOTAS:
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ValueError(f"{name}: is {value!r}; allowed: a whole number >= 0, or null (unlimited)")
        first, second = self.stage_fractions
        if not 0 <= first <= second <= 1:
            raise ValueError(
                f"stage_fractions: is {list(self.stage_fractions)!r}; allowed: [validation end, data processing "
                "end] as fractions of job_seconds with 0 <= validation <= data processing <= 1"
            )
        for name, allowed in _CODES.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name}: is {getattr(self, name)!r}; allowed: {', '.join(allowed)}")
        if self.job_metrics not in JOB_METRICS:
            raise ValueError(f"job_metrics: is {self.job_metrics!r}; allowed: {', '.join(JOB_METRICS)}")
        if self.results_s3_endpoint is not None and not re.fullmatch(r"https?://\S+", self.results_s3_endpoint):
            raise ValueError(f"results_s3_endpoint: is {self.results_s3_endpoint!r}; allowed: an http(s) URL, or null")

    @classmethod
    def without_quotas(cls, **changes: Any) -> Settings:
        """Every quota off and base models allowed without commitment (the double's own defaults)."""
        return cls(
            **{
                **{name: None for name in _QUOTAS},
                "allow_base_model_without_commitment": True,
                **changes,
            }
        )

    def updated(self, changes: dict[str, Any]) -> Settings:
        """A copy with ``changes`` (JSON values) applied; ValueError naming the key and what is allowed."""
        fields = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - fields)
        if unknown:
            raise ValueError(f"{', '.join(unknown)}: unknown setting; allowed: {', '.join(sorted(fields))}")
        typed: dict[str, Any] = {}
        for name, value in changes.items():
            if name in _DELAYS:
                if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                    raise ValueError(f"{name}: is {value!r}; allowed: a number of seconds >= 0, or null")
                typed[name] = None if value is None else float(value)
            elif name in _FLAGS:
                if not isinstance(value, bool):
                    raise ValueError(f"{name}: is {value!r}; allowed: true or false")
                typed[name] = value
            elif name == "stage_fractions":
                if not (isinstance(value, list) and len(value) == 2 and all(_is_number(v) for v in value)):
                    raise ValueError(f"stage_fractions: is {value!r}; allowed: a list of two fractions")
                typed[name] = (float(value[0]), float(value[1]))
            else:
                typed[name] = value
        return dataclasses.replace(self, **typed)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _delay(seconds: float | None) -> dt.timedelta | None:
    return None if seconds is None else dt.timedelta(seconds=seconds)


def _apply(double: BedrockDouble, settings: Settings) -> None:
    """Put the settings into a double (new or running): delays and quotas take effect at its next tick."""
    double.job_duration = _delay(settings.job_seconds)
    double.job_stage_fractions = settings.stage_fractions
    double.stop_delay = _delay(settings.stop_seconds)
    double.throughput_ready_delay = _delay(settings.throughput_seconds)
    double.deployment_ready_delay = _delay(settings.deployment_seconds)
    for name in _QUOTAS:
        setattr(double, name, getattr(settings, name))
    double.allow_base_model_without_commitment = settings.allow_base_model_without_commitment
    double.commitment_delete_code = settings.commitment_delete_code
    double.stop_not_running_code = settings.stop_not_running_code
    double.require_client_tokens = settings.require_client_tokens
    double.evaluation_duration = _delay(settings.evaluation_seconds)
    double.job_metrics = "hyperparameters" if settings.job_metrics == "hyperparameters" else (0.1, 0.2)


# --------------------------------------------------------------------------
# The registry: doubles, log, timeline, faults, control
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpReply:
    status: int
    headers: dict[str, str]
    body: bytes


class ControlError(Exception):
    """A harness request the control API refuses: answered 4xx with ``{"error": message}``."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass
class _PendingFault:
    operation: str
    code: str
    message: str
    http_status: int
    after_apply: bool
    remaining: int
    account: str | None
    region: str | None

    def applies(self, operation: str, account: str, region: str) -> bool:
        return (
            self.remaining > 0
            and self.operation == operation
            and self.account in (None, account)
            and self.region in (None, region)
        )


@dataclass
class LocalBedrock:
    """Everything the server serves, independent of the transport: :meth:`handle` takes a request's
    method, target, headers and body and returns the reply."""

    settings: Settings = field(default_factory=Settings)
    clock: WallClock = field(default_factory=WallClock)
    log_file: IO[str] | None = None

    def __post_init__(self) -> None:
        self.router = Router(get_service_model())
        self.doubles: dict[tuple[str, str], BedrockDouble] = {}
        self.log: list[dict[str, Any]] = []  # one entry per request, control requests excepted
        self.events: list[dict[str, Any]] = []  # every double's transitions, in the order they were applied
        self.errors: list[str] = []  # the server's own failures (a bug here, never a user's mistake)
        self.faults: list[_PendingFault] = []
        self._outcomes: list[PlannedOutcome] = []  # shared by every double
        self._scores: list[PlannedScores] = []  # shared by every double
        self._results: Any = None  # the S3 client evaluation results are written with, made on first use
        self._holds: set[str] = set()  # shared by every double
        self._seen: dict[tuple[str, str], int] = {}
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ doubles
    def double_for(self, account: str, region: str) -> BedrockDouble:
        with self._lock:
            key = (account, region)
            double = self.doubles.get(key)
            if double is None:
                double = BedrockDouble(
                    account=account,
                    region=region,
                    clock=self.clock,
                    foundation_models=None if self.settings.any_base_model else "default",
                )
                _apply(double, self.settings)
                double.job_outcomes = self._outcomes
                double.evaluation_scores = self._scores
                double.evaluation_results = self._write_result
                double.holds = self._holds
                self.doubles[key] = double
                self._seen[key] = 0
            return double

    def _write_result(self, uri: str, body: bytes) -> None:
        """An evaluation's result file, into the S3 at ``results_s3_endpoint`` (nothing without one)."""
        endpoint = self.settings.results_s3_endpoint
        if endpoint is None:
            return
        if self._results is None:
            import boto3  # only a server that writes results needs it

            self._results = boto3.client("s3", endpoint_url=endpoint, region_name=self.settings.region)
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        try:
            self._results.put_object(Bucket=bucket, Key=key, Body=body)
        except Exception as exc:  # the job still ends Completed: the reader then reports missing results
            self.errors.append(f"writing evaluation results to {uri} failed: {type(exc).__name__}: {exc}")

    def _collect(self) -> None:
        """Append every double's new transitions to the global timeline."""
        for key, double in self.doubles.items():
            new = double.transitions[self._seen[key] :]
            self._seen[key] = len(double.transitions)
            for t in new:
                self.events.append(
                    {
                        "seq": len(self.events) + 1,
                        "account": key[0],
                        "region": key[1],
                        **jsonable(dataclasses.asdict(t)),
                    }
                )

    def _tick_all(self) -> None:
        for double in self.doubles.values():
            double.tick()
        self._collect()

    # ------------------------------------------------------------------ dispatch
    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> HttpReply:
        """Answer one HTTP request (never raises: a failure here is a 500 with its reason)."""
        split = urlsplit(target)
        query = parse_qs(split.query, keep_blank_values=True)
        with self._lock:
            try:
                if split.path == CONTROL_PREFIX or split.path.startswith(CONTROL_PREFIX + "/"):
                    return self._control(method.upper(), split.path[len(CONTROL_PREFIX) :] or "/", query, body)
                return self._bedrock(method.upper(), split.path, query, headers, body)
            except Exception as exc:  # a bug in the server itself: say so, never hang or drop the connection
                message = f"Local Bedrock internal error: {type(exc).__name__}: {exc}"
                self.errors.append(message)
                return _aws_error(500, "InternalFailure", message, str(uuid.uuid4()))

    def _request_id(self) -> str:
        return str(uuid.UUID(int=len(self.log) + 1, version=4))

    def _bedrock(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes
    ) -> HttpReply:
        request_id = self._request_id()
        account, region = self._caller(headers, query)
        entry: dict[str, Any] = {
            "seq": len(self.log) + 1,
            "time": jsonable(self.clock()),
            "account": account,
            "region": region,
            "method": method,
            "path": path,
            "operation": None,
            "attempt": _attempt(headers),
            "params": None,
            "tokens_injected": [],
            "request_id": request_id,
        }
        match = self.router.match(method, path, query)
        if match is None:
            methods = self.router.methods_at(path)
            detail = (
                f"; this path takes {', '.join(methods)}"
                if methods
                else "; the local Bedrock serves only the bedrock control plane "
                f"(botocore model {self.router.service_model.api_version})"
            )
            reply = _aws_error(
                404, "UnknownOperationException", f"No Bedrock operation matches {method} {path}{detail}.", request_id
            )
            return self._logged(entry, reply, None)
        op_name = match.operation
        entry["operation"] = op_name
        opm = self.router.service_model.operation_model(op_name)
        try:
            params = parse_request(opm, match.labels, query, headers, body)
        except WireError as exc:
            return self._logged(entry, _aws_error(exc.status, exc.code, exc.message, request_id), None)
        injected = [m for m in opm.idempotent_members if isinstance(params.get(m), str) and _UUID4.fullmatch(params[m])]
        caller = {k: v for k, v in params.items() if k not in injected}
        entry.update(params=jsonable(params), tokens_injected=injected)
        double = self.double_for(account, region)
        double.tick()  # the target's tags and status as of now, before the call changes them
        entry["resource_arn"] = _target(double, params)
        entry["resource_tags"] = dict(double.tags.get(entry["resource_arn"] or "", {})) or None
        self._arm_fault(double, op_name, account, region)
        try:
            wire = double.respond(
                op_name, params, caller_params=caller, attempt=entry["attempt"], request_id=request_id
            )
        except UnimplementedOperationError as exc:
            reply = _aws_error(501, "NotImplemented", f"Local Bedrock: {exc}", request_id)
        except MissingClientTokenError as exc:
            reply = _aws_error(400, "MissingClientToken", f"Local Bedrock: {exc}", request_id)
        except DoubleError as exc:  # a response the double built breaks the model, or another double bug
            reply = _aws_error(500, "InternalFailure", f"Local Bedrock bug: {exc}", request_id)
        else:
            reply = HttpReply(wire.status, dict(wire.headers), wire.body)
        call = double.calls[-1] if double.calls else None
        if entry["resource_arn"] is None and call is not None and call.response:
            entry["resource_arn"] = next((call.response[k] for k in _CREATED if k in call.response), None)
        return self._logged(entry, reply, call)

    def _caller(self, headers: dict[str, str], query: dict[str, list[str]]) -> tuple[str, str]:
        """(account, Region) from the SigV4 credential scope (header or presigned query), else the defaults."""
        lower = {k.lower(): v for k, v in headers.items()}
        scope = _CREDENTIAL.search(lower.get("authorization", ""))
        if scope is None and "X-Amz-Credential" in query:
            scope = _CREDENTIAL.search("Credential=" + query["X-Amz-Credential"][-1])
        if scope is None:
            return self.settings.account, self.settings.region
        access_key, _date, region, _service = scope.groups()
        account = access_key if _ACCOUNT.fullmatch(access_key) else self.settings.account
        return account, region if _REGION.fullmatch(region) else self.settings.region

    def _arm_fault(self, double: BedrockDouble, operation: str, account: str, region: str) -> None:
        for fault in self.faults:
            if fault.applies(operation, account, region):
                fault.remaining -= 1
                double.fail_next(
                    operation,
                    fault.code,
                    fault.message,
                    fault.http_status,
                    after_apply=fault.after_apply,
                    allow_unmodelled=True,
                )
                break
        self.faults = [f for f in self.faults if f.remaining > 0]

    def _logged(self, entry: dict[str, Any], reply: HttpReply, call: Any) -> HttpReply:
        entry["status"] = reply.status
        error_type = reply.headers.get("x-amzn-ErrorType")
        entry["error_code"] = error_type
        if error_type is not None:
            with contextlib.suppress(ValueError):
                entry["error_message"] = json.loads(reply.body).get("message")
        elif call is not None and call.response is not None:
            entry["response"] = jsonable(call.response)
        self.log.append(entry)
        self._collect()
        if self.log_file is not None:
            self.log_file.write(json.dumps(entry, sort_keys=True) + "\n")
            self.log_file.flush()
        return reply

    # ------------------------------------------------------------------ control API
    def _control(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> HttpReply:
        routes: dict[tuple[str, str], Callable[[dict[str, Any], dict[str, list[str]]], Any]] = {
            ("GET", "/health"): self._c_health,
            ("GET", "/state"): self._c_state,
            ("GET", "/calls"): self._c_calls,
            ("GET", "/events"): self._c_events,
            ("GET", "/eventbridge"): self._c_eventbridge,
            ("GET", "/billed"): self._c_billed,
            ("GET", "/settings"): lambda _b, _q: self.settings.as_dict(),
            ("POST", "/settings"): self._c_settings,
            ("POST", "/clock"): self._c_clock,
            ("POST", "/jobs/finish"): self._c_finish,
            ("POST", "/jobs/outcome"): self._c_outcome,
            ("POST", "/evaluations/finish"): self._c_finish_evaluation,
            ("POST", "/evaluations/scores"): self._c_scores,
            ("POST", "/status"): self._c_status,
            ("POST", "/faults"): self._c_fault,
            ("DELETE", "/faults"): self._c_clear_faults,
            ("POST", "/holds"): self._c_hold,
            ("DELETE", "/holds"): self._c_release,
            ("POST", "/reset"): self._c_reset,
        }
        handler = routes.get((method, path.rstrip("/") or "/"))
        if handler is None:
            known = ", ".join(f"{m} {CONTROL_PREFIX}{p}" for m, p in routes)
            return _json_reply(404, {"error": f"no control endpoint {method} {CONTROL_PREFIX}{path}; known: {known}"})
        try:
            data = json.loads(body) if body.strip() else {}
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return _json_reply(400, {"error": f"the request body is not valid JSON: {exc}"})
        if not isinstance(data, dict):
            return _json_reply(400, {"error": "the request body must be a JSON object"})
        try:
            result = handler(data, query)
        except ControlError as exc:
            return _json_reply(exc.status, {"error": exc.message})
        self._collect()
        return _json_reply(200, jsonable(result))

    def _c_health(self, _body: dict[str, Any], _query: dict[str, list[str]]) -> dict[str, Any]:
        implemented = sorted(
            name for name in self.router.service_model.operation_names if hasattr(BedrockDouble, f"_op_{name}")
        )
        return {
            "status": "ok",
            "time": self.clock(),
            "clock_offset_seconds": self.clock.offset_seconds,
            "operations": len(self.router.routes),
            "implemented": implemented,
            "errors": len(self.errors) + sum(len(d.errors) for d in self.doubles.values()),
        }

    def _c_state(self, _body: dict[str, Any], query: dict[str, list[str]]) -> dict[str, Any]:
        self._tick_all()
        wanted_account = query.get("account", [None])[-1]
        wanted_region = query.get("region", [None])[-1]
        accounts = [
            double.snapshot()
            for (account, region), double in sorted(self.doubles.items())
            if wanted_account in (None, account) and wanted_region in (None, region)
        ]
        self._collect()
        return {
            "time": self.clock(),
            "settings": self.settings.as_dict(),
            "accounts": accounts,
            "billed": self._billed(),
            "pending_faults": [dataclasses.asdict(f) for f in self.faults],
            "holds": sorted(self._holds),
            "server_errors": list(self.errors),
            "requests": len(self.log),
            "events": len(self.events),
        }

    def _c_calls(self, _body: dict[str, Any], query: dict[str, list[str]]) -> list[dict[str, Any]]:
        since = _int_query(query, "since")
        return [e for e in self.log if e["seq"] > since]

    def _c_events(self, _body: dict[str, Any], query: dict[str, list[str]]) -> list[dict[str, Any]]:
        self._tick_all()
        since = _int_query(query, "since")
        return [e for e in self.events if e["seq"] > since]

    def _c_eventbridge(self, _body: dict[str, Any], query: dict[str, list[str]]) -> list[dict[str, Any]]:
        """The job state changes as EventBridge PutEvents entries (what Bedrock would publish), for a harness
        to forward to the emulator's default bus: ``[{"seq": n, "entry": {...}}, ...]`` after ``?since=``."""
        self._tick_all()
        since = _int_query(query, "since")
        return [
            {
                "seq": e["seq"],
                "entry": {
                    "Source": "aws.bedrock",
                    "DetailType": "Model Customization Job State Change",
                    "Resources": [e["arn"]],
                    "Detail": json.dumps(e["detail"], sort_keys=True),
                    "Time": e["time"],
                },
            }
            for e in self.events
            if e["seq"] > since and e.get("detail") is not None
        ]

    def _c_billed(self, _body: dict[str, Any], _query: dict[str, list[str]]) -> list[dict[str, Any]]:
        self._tick_all()
        return self._billed()

    def _billed(self) -> list[dict[str, Any]]:
        """Whatever still costs money by the hour: every PT and deployment, in any status."""
        out = []
        for (account, region), double in sorted(self.doubles.items()):
            for pt in double.throughputs.values():
                out.append(
                    {
                        "account": account,
                        "region": region,
                        "kind": "provisioned-model",
                        "arn": pt.arn,
                        "name": pt.name,
                        "status": pt.status,
                        "model_units": pt.model_units,
                        "commitment": pt.commitment_duration,
                        "since": pt.creation_time,
                        "tags": dict(double.tags.get(pt.arn, {})),
                    }
                )
            for dep in double.deployments.values():
                out.append(
                    {
                        "account": account,
                        "region": region,
                        "kind": "custom-model-deployment",
                        "arn": dep.arn,
                        "name": dep.name,
                        "status": dep.status,
                        "since": dep.created_at,
                        "tags": dict(double.tags.get(dep.arn, {})),
                    }
                )
        return out

    def _c_settings(self, body: dict[str, Any], _query: dict[str, list[str]]) -> dict[str, Any]:
        try:
            settings = self.settings.updated(body)
        except (ValueError, TypeError) as exc:
            raise ControlError(f"settings: {exc}") from None
        self._tick_all()  # what was due under the old delays happens under them
        self.settings = settings
        for double in self.doubles.values():
            _apply(double, settings)
            double.foundation_models = None if settings.any_base_model else _default_models(double.region)
        return settings.as_dict()

    def _c_clock(self, body: dict[str, Any], _query: dict[str, list[str]]) -> dict[str, Any]:
        _only(body, {"advance_seconds", "set", "reset"}, "clock")
        if "advance_seconds" in body:
            seconds = body["advance_seconds"]
            if not _is_number(seconds) or not math.isfinite(seconds) or seconds < 0:
                raise ControlError(f"clock.advance_seconds: is {seconds!r}; allowed: a number of seconds >= 0")
            self.clock.advance(seconds=seconds)
        elif "set" in body:
            try:
                when = dt.datetime.fromisoformat(str(body["set"]).replace("Z", "+00:00"))
            except ValueError:
                when = None
            if when is None or when.tzinfo is None:
                raise ControlError(f"clock.set: is {body['set']!r}; allowed: an ISO 8601 time with a zone")
            self.clock.set(when)
        elif body.get("reset") is True:
            self.clock.reset()
        else:
            raise ControlError("clock: give advance_seconds, set or reset: true")
        self._tick_all()
        return {"time": self.clock(), "clock_offset_seconds": self.clock.offset_seconds}

    def _find(self, identifier: Any, registry: str, body: dict[str, Any]) -> BedrockDouble:
        """The double holding a job/PT/deployment with this name or ARN (optionally in account/region)."""
        if not isinstance(identifier, str) or not identifier:
            raise ControlError(f"{registry}: a name or ARN is required")
        account, region = body.get("account"), body.get("region")
        found = []
        for (acct, reg), double in sorted(self.doubles.items()):
            if account not in (None, acct) or region not in (None, reg):
                continue
            records = getattr(double, registry)
            if identifier in records or any(r.name == identifier for r in records.values()):
                found.append(double)
        if not found:
            known = sorted(r.name for d in self.doubles.values() for r in getattr(d, registry).values())
            raise ControlError(f"no {registry[:-1]} named {identifier!r}; known: {known or 'none'}", status=404)
        if len(found) > 1:
            where = ", ".join(f"{d.account}/{d.region}" for d in found)
            raise ControlError(f"{identifier!r} exists in {where}; add account and region", status=409)
        return found[0]

    def _c_finish(self, body: dict[str, Any], _query: dict[str, list[str]]) -> dict[str, Any]:
        _only(
            body,
            {"job", "status", "failure_message", "training_loss", "validation_loss", "account", "region"},
            "jobs/finish",
        )
        self._tick_all()
        double = self._find(body.get("job"), "jobs", body)
        status = body.get("status", "Completed")
        if status not in ("Completed", "Failed", "Stopped"):
            raise ControlError(f"jobs/finish.status: is {status!r}; allowed: Completed, Failed, Stopped")
        training, validation = double.losses_for(double._job_named(body["job"]))
        try:
            job = double.finish_job(
                body["job"],
                status,
                training_loss=body.get("training_loss", training),
                validation_loss=body.get("validation_loss", validation),
                failure_message=body.get("failure_message"),
            )
        except ValueError as exc:
            raise ControlError(f"jobs/finish: {exc}", status=409) from None
        return double._op_GetModelCustomizationJob({"jobIdentifier": job.arn})

    def _c_outcome(self, body: dict[str, Any], _query: dict[str, list[str]]) -> dict[str, Any]:
        _only(
            body,
            {"name_contains", "status", "failure_message", "times", "training_loss", "validation_loss"},
            "jobs/outcome",
        )
        name = body.get("name_contains")
        if not isinstance(name, str) or not name:
            raise ControlError("jobs/outcome.name_contains: required; allowed: a non-empty part of job names")
        times = body.get("times", 1)
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise ControlError(f"jobs/outcome.times: is {times!r}; allowed: a whole number >= 1")
        status = body.get("status")
        if status not in ("Completed", "Failed", "Stopped"):
            raise ControlError(f"jobs/outcome.status: is {status!r}; allowed: Completed, Failed, Stopped")
        losses = {k: body.get(k) for k in ("training_loss", "validation_loss")}
        for key, value in losses.items():
            if value is not None and not _is_number(value):
                raise ControlError(f"jobs/outcome.{key}: is {value!r}; allowed: a number, or absent")
        outcome = PlannedOutcome(name, status, body.get("failure_message"), times, **losses)
        self._outcomes.append(outcome)
        return {"planned": [dataclasses.asdict(o) for o in self._outcomes]}

    def _c_finish_evaluation(self, body: dict[str, Any], _query: dict[str, list[str]]) -> dict[str, Any]:
        _only(body, {"job", "status", "scores", "failure", "account", "region"}, "evaluations/finish")
        self._tick_all()
        double = self._find(body.get("job"), "evaluations", body)
        status = body.get("status", "Completed")
        if status not in ("Completed", "Failed", "Stopped"):
            raise ControlError(f"evaluations/finish.status: is {status!r}; allowed: Completed, Failed, Stopped")
        scores = _scores(body.get("scores"), "evaluations/finish.scores") if "scores" in body else None
        try:
            job = double.finish_evaluation(body["job"], status, scores=scores, failure=body.get("failure"))
        except ValueError as exc:
            raise ControlError(f"evaluations/finish: {exc}", status=409) from None
        return {**double._op_GetEvaluationJob({"jobIdentifier": job.arn}), "scores": job.scores}

    def _c_scores(self, body: dict[str, Any], _query: dict[str, list[str]]) -> dict[str, Any]:
        _only(body, {"model_contains", "scores", "status", "times"}, "evaluations/scores")
        fragment = body.get("model_contains")
        if not isinstance(fragment, str) or not fragment:
            raise ControlError("evaluations/scores.model_contains: required; allowed: part of a model id or name")
        times = body.get("times", 1)
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise ControlError(f"evaluations/scores.times: is {times!r}; allowed: a whole number >= 1")
        status = body.get("status", "Completed")
        if status not in ("Completed", "Failed"):
            raise ControlError(f"evaluations/scores.status: is {status!r}; allowed: Completed, Failed")
        self._scores.append(
            PlannedScores(fragment, _scores(body.get("scores"), "evaluations/scores.scores"), status, times)
        )
        return {"planned": [dataclasses.asdict(s) for s in self._scores]}

    def _c_status(self, body: dict[str, Any], _query: dict[str, list[str]]) -> dict[str, Any]:
        _only(body, {"resource", "status", "failure_message", "account", "region"}, "status")
        self._tick_all()
        resource, status, message = body.get("resource"), body.get("status"), body.get("failure_message")
        for registry in ("throughputs", "deployments"):
            try:
                double = self._find(resource, registry, body)
            except ControlError as missing:
                if missing.status != 404:
                    raise
                continue
            assert isinstance(resource, str)  # _find refuses anything else
            if registry == "throughputs":
                if status not in ("Creating", "InService", "Updating", "Failed"):
                    raise ControlError(
                        f"status.status: is {status!r}; allowed for a PT: Creating, InService, Updating, Failed"
                    )
                pt = double.set_throughput_status(resource, status, message)
                return double._op_GetProvisionedModelThroughput({"provisionedModelId": pt.arn})
            if status not in ("Creating", "Active", "Failed"):
                raise ControlError(f"status.status: is {status!r}; allowed for a deployment: Creating, Active, Failed")
            dep = double.set_deployment_status(resource, status, message)
            return double._op_GetCustomModelDeployment({"customModelDeploymentIdentifier": dep.arn})
        raise ControlError(f"status: no provisioned throughput or deployment named {resource!r}", 404)

    def _c_fault(self, body: dict[str, Any], _query: dict[str, list[str]]) -> dict[str, Any]:
        _only(
            body, {"operation", "code", "times", "http_status", "message", "after_apply", "account", "region"}, "faults"
        )
        operation, code = body.get("operation"), body.get("code")
        if not isinstance(operation, str) or not isinstance(code, str):
            raise ControlError(
                'faults: operation and code are required, e.g. {"operation": '
                '"CreateProvisionedModelThroughput", "code": "ThrottlingException", "times": 2}'
            )
        times = body.get("times", 1)
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise ControlError(f"faults.times: is {times!r}; allowed: a whole number >= 1")
        http_status = body.get("http_status")
        if http_status is not None and (isinstance(http_status, bool) or not isinstance(http_status, int)):
            raise ControlError(f"faults.http_status: is {http_status!r}; allowed: a 4xx or 5xx status")
        after_apply = body.get("after_apply", False)
        if not isinstance(after_apply, bool):
            raise ControlError(f"faults.after_apply: is {after_apply!r}; allowed: true or false")
        try:
            name, status = fault_status(operation, code, http_status)
        except ValueError as exc:
            raise ControlError(f"faults: {exc}") from None
        self.faults.append(
            _PendingFault(
                name,
                code,
                str(body.get("message") or f"Injected by the local Bedrock ({code})"),
                status,
                after_apply,
                times,
                body.get("account"),
                body.get("region"),
            )
        )
        return {"pending": [dataclasses.asdict(f) for f in self.faults]}

    def _c_clear_faults(self, _body: dict[str, Any], _query: dict[str, list[str]]) -> dict[str, Any]:
        self.faults.clear()
        for double in self.doubles.values():
            double.clear_faults()
        return {"pending": []}

    def _c_hold(self, body: dict[str, Any], _query: dict[str, list[str]]) -> dict[str, Any]:
        _only(body, {"resource"}, "holds")
        resource = body.get("resource")
        if not isinstance(resource, str) or not resource:
            raise ControlError("holds.resource: required; allowed: an ARN or a part of resource names")
        self._tick_all()  # what was due before the hold still happens
        self._holds.add(resource)
        return {"holds": sorted(self._holds)}

    def _c_release(self, _body: dict[str, Any], query: dict[str, list[str]]) -> dict[str, Any]:
        resource = query.get("resource", [None])[-1]
        if resource is None:
            self._holds.clear()
        else:
            self._holds.discard(resource)
        self._tick_all()
        return {"holds": sorted(self._holds)}

    def _c_reset(self, _body: dict[str, Any], _query: dict[str, list[str]]) -> dict[str, Any]:
        """Forget every resource, request, event, fault, hold and planned outcome; the clock back to real
        time.  Settings stay as they are now (POST /_double/settings changes them)."""
        self.doubles.clear()
        self._seen.clear()
        self.log.clear()
        self.events.clear()
        self.errors.clear()
        self.faults.clear()
        self._outcomes.clear()
        self._scores.clear()
        self._holds.clear()
        self.clock.reset()
        return {"status": "reset", "settings": self.settings.as_dict()}


# The member naming the resource a call acts on, and where the double keeps that kind (None: any kind, by ARN).
_TARGETS = (
    ("resourceARN", None),
    ("jobIdentifier", "jobs"),
    ("modelIdentifier", "custom_models"),
    ("provisionedModelId", "throughputs"),
    ("customModelDeploymentIdentifier", "deployments"),
)
_CREATED = ("jobArn", "provisionedModelArn", "customModelDeploymentArn")


def _target(double: BedrockDouble, params: dict[str, Any]) -> str | None:
    """The ARN of the resource a request acts on (a name resolved), for the log: a harness evaluating IAM
    needs the resource ARN and its tags as they were when the call was made."""
    for member, registry in _TARGETS:
        identifier = params.get(member)
        if not isinstance(identifier, str):
            continue
        kinds = [registry] if registry else ["jobs", "custom_models", "throughputs", "deployments", "evaluations"]
        for kind in kinds:
            records: dict[str, Any] = getattr(double, kind)
            if identifier in records:
                return identifier
            named = next((arn for arn, record in records.items() if record.name == identifier), None)
            if named is not None and registry is not None:
                return str(named)
        return identifier if identifier.startswith("arn:") else None
    return None


def _default_models(region: str) -> frozenset[str] | None:
    return DEFAULT_CUSTOMIZABLE_MODELS.get(region)


def _scores(value: Any, where: str) -> dict[str, float]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and _is_number(v) for k, v in value.items()):
        raise ControlError(f"{where}: is {value!r}; allowed: an object of metric name to number")
    return {k: float(v) for k, v in value.items()}


def _only(body: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ControlError(f"{where}: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")


def _int_query(query: dict[str, list[str]], name: str) -> int:
    raw = query.get(name, ["0"])[-1]
    try:
        return int(raw)
    except ValueError:
        raise ControlError(f"?{name}=: is {raw!r}; allowed: a whole number") from None


def _attempt(headers: dict[str, str]) -> int:
    """botocore's retry attempt from ``amz-sdk-request: attempt=N; max=M`` (1 when absent)."""
    lower = {k.lower(): v for k, v in headers.items()}
    m = re.search(r"attempt=(\d+)", lower.get("amz-sdk-request", ""))
    return int(m.group(1)) if m else 1


def _aws_error(status: int, code: str, message: str, request_id: str) -> HttpReply:
    data = json.dumps({"message": message}).encode("utf-8")
    return HttpReply(
        status,
        {
            "x-amzn-RequestId": request_id,
            "x-amzn-ErrorType": code,
            "Content-Type": "application/json",
            "Content-Length": str(len(data)),
        },
        data,
    )


def _json_reply(status: int, payload: Any) -> HttpReply:
    data = json.dumps(payload, sort_keys=True).encode("utf-8")
    return HttpReply(status, {"Content-Type": "application/json", "Content-Length": str(len(data))}, data)


# --------------------------------------------------------------------------
# The HTTP server
# --------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects
    timeout = 60  # an idle keep-alive connection is closed after a minute
    disable_nagle_algorithm = True  # headers and body go out as two writes: without this, ~40 ms per response
    server: _Server

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except ValueError as exc:
            reply = _aws_error(400, "SerializationException", f"Unreadable request body: {exc}", str(uuid.uuid4()))
        else:
            reply = self.server.local.handle(self.command, self.path, dict(self.headers.items()), body)
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():  # trailers
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        return self.rfile.read(length) if length else b""

    def log_message(self, format: str, *args: Any) -> None:  # the stdlib's signature (its parameter names)
        """Silent: every request is in the call log (and in --log-file when given)."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, local: LocalBedrock):
        self.local = local
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__((HOST, port), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """Close idle keep-alive connections so their threads end and ``server_close`` does not wait."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class BedrockServer:
    """The local Bedrock on ``127.0.0.1:port`` (0 = a free port) in a background thread."""

    def __init__(self, local: LocalBedrock | None = None, *, port: int = 0):
        self.local = local or LocalBedrock()
        self._server = _Server(port, self.local)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> BedrockServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="local-bedrock", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.drop_connections()
        self._server.server_close()

    def __enter__(self) -> BedrockServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


# --------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------


def _seconds(text: str) -> float | None:
    if text.lower() in ("none", "manual"):
        return None
    value = float(text)
    if not math.isfinite(value) or value < 0:
        raise ValueError(text)
    return value


def _quota(text: str) -> int | None:
    if text.lower() in ("none", "unlimited"):
        return None
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


def _fractions(text: str) -> tuple[float, float]:
    first, second = (float(part) for part in text.split(","))
    return first, second


_seconds.__name__ = "seconds (a number >= 0, or 'manual')"
_quota.__name__ = "quota (a whole number >= 0, or 'unlimited')"
_fractions.__name__ = "fractions (two numbers such as 0.2,0.4)"


def _parser() -> argparse.ArgumentParser:
    d = Settings()
    p = argparse.ArgumentParser(
        prog="python -m rehearsal.http",
        description="Serve the Bedrock double on 127.0.0.1 for any boto3 client (AWS_ENDPOINT_URL_BEDROCK).",
    )
    p.add_argument("--port", type=int, default=0, help="port to listen on (default 0: a free one, printed)")
    p.add_argument("--account", default=d.account, help=f"account for non-12-digit access keys ({d.account})")
    p.add_argument("--region", default=d.region, help=f"Region of unsigned requests ({d.region})")
    p.add_argument("--job-seconds", type=_seconds, default=d.job_seconds, help="job start to end ('manual')")
    p.add_argument("--stage-fractions", type=_fractions, default=d.stage_fractions, help="validation,data ends")
    p.add_argument("--stop-seconds", type=_seconds, default=d.stop_seconds, help="Stopping -> Stopped")
    p.add_argument("--throughput-seconds", type=_seconds, default=d.throughput_seconds, help="PT -> InService")
    p.add_argument("--deployment-seconds", type=_seconds, default=d.deployment_seconds, help="deployment -> Active")
    p.add_argument("--job-concurrency", type=_quota, default=d.job_concurrency_quota, dest="job_concurrency_quota")
    p.add_argument(
        "--no-commitment-pts",
        type=_quota,
        default=d.no_commitment_throughput_quota,
        dest="no_commitment_throughput_quota",
        help="PTs without commitment per account and Region (2)",
    )
    p.add_argument(
        "--no-commitment-mus",
        type=_quota,
        default=d.no_commitment_model_units_per_throughput,
        dest="no_commitment_model_units_per_throughput",
        help="model units per PT without commitment (1)",
    )
    p.add_argument(
        "--commitment-mus",
        type=_quota,
        default=d.commitment_model_unit_quota,
        dest="commitment_model_unit_quota",
        help="model units across committed PTs (unlimited; AWS's default is 0)",
    )
    p.add_argument("--model-units", type=_quota, default=d.model_unit_quota, dest="model_unit_quota")
    p.add_argument("--no-quotas", action="store_true", help="every quota off, base-model PTs without commitment ok")
    p.add_argument("--allow-base-model-without-commitment", action="store_true")
    p.add_argument("--any-base-model", action="store_true", help="customize any model id, not only the catalog's")
    p.add_argument(
        "--commitment-delete-code", choices=_CODES["commitment_delete_code"], default=d.commitment_delete_code
    )
    p.add_argument("--stop-not-running-code", choices=_CODES["stop_not_running_code"], default=d.stop_not_running_code)
    p.add_argument("--require-client-tokens", action="store_true", help="refuse Create* with a botocore token")
    p.add_argument(
        "--evaluation-seconds", type=_seconds, default=d.evaluation_seconds, help="evaluation job start to end"
    )
    p.add_argument("--job-metrics", choices=JOB_METRICS, default=d.job_metrics, help="fixed losses or per settings")
    p.add_argument("--results-s3-endpoint", default=None, help="S3 URL evaluation result files are written to")
    p.add_argument("--log-file", type=Path, help="append one JSON line per request")
    return p


def settings_from_args(args: argparse.Namespace) -> Settings:
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(Settings) if hasattr(args, f.name)}
    if args.no_quotas:
        values.update({name: None for name in _QUOTAS}, allow_base_model_without_commitment=True)
    return Settings(**values)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_from_args(args)
    except ValueError as exc:
        parser.error(str(exc))
    log_file: IO[str] | None = None
    try:
        if args.log_file is not None:
            log_file = args.log_file.open("a", encoding="utf-8")
        server = BedrockServer(LocalBedrock(settings, log_file=log_file), port=args.port)
    except OSError as exc:
        where = args.log_file if log_file is None and args.log_file is not None else f"{HOST}:{args.port}"
        print(f"rehearsal.http: cannot use {where}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    server.start()
    print(f"listening on {server.url}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        if log_file is not None:
            log_file.close()
    print("stopped", file=sys.stderr, flush=True)
    return 0


@contextlib.contextmanager
def serving(settings: Settings | None = None, **kwargs: Any) -> Iterator[BedrockServer]:
    """``with serving(Settings(...)) as server:``: a started server, stopped on exit."""
    server = BedrockServer(LocalBedrock(settings or Settings(), **kwargs))
    try:
        yield server.start()
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
