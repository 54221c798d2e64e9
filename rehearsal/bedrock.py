"""A stateful Amazon Bedrock control-plane double, plugged into a REAL boto3 client.

Why: moto 5.2.5 has no Provisioned Throughput (PT) or custom-model deployment
API, drops ``customizationConfig``, ignores ``clientRequestToken`` and uses
ARNs that do not match the real regexes (shared/reference/bedrock.md G).  This
double keeps state, validates every request and every response against
botocore's service model (:mod:`rehearsal.service_model`), and answers a
real ``boto3.client("bedrock")`` so callers see ordinary ``ClientError``\\s,
paginators and retries.

Usage::

    double = BedrockDouble(account="111122223333", region="us-east-1")
    client = boto3.client("bedrock", region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    double.attach(client)            # every call on `client` is now answered by `double`
    arn = client.create_provisioned_model_throughput(...)["provisionedModelArn"]
    double.settle()                  # Creating -> InService
    double.clock.advance(hours=1)

How it plugs in (``attach(client, via="send")``, the default)
-------------------------------------------------------------
1. ``before-parameter-build.bedrock`` (registered first, so it runs before
   botocore's ``generate_idempotent_uuid``): snapshot the caller's parameters.
   A ``clientRequestToken`` missing there but present later was auto-filled by
   botocore (a uuid4): the call is recorded with ``injected_tokens``.  With
   ``require_client_tokens=True`` such a call fails loudly.
2. botocore validates parameters (``ParamValidator``), serialises, resolves the
   endpoint and SigV4-signs the request as usual (so the client needs some
   credentials, e.g. ``testing``/``testing``).
3. ``before-send.bedrock``: the double answers instead of the HTTP layer, with
   a REST-JSON HTTP response (status, ``x-amzn-ErrorType`` header, JSON body).
   botocore's real parser turns it into the result dict or a ``ClientError``
   (so ``client.exceptions.ResourceNotFoundException`` catches it), and
   botocore's real retry handler sees it.  botocore calls EVERY before-send
   handler, so ``attach`` removes other before-send responders from this one
   client (moto's ``mock_aws`` catch-all would otherwise also process the
   request and raise NotImplementedError for PT calls); ``detach`` restores them.

Retries (checked with botocore 1.44.8): ``botocore.stub.Stubber`` answers on
``before-call``, which short-circuits ``Endpoint.make_request``; the retry
loop (``Endpoint._send_request`` -> ``needs-retry`` event) is never reached,
so a stubbed ``ThrottlingException`` surfaces on the first attempt with no
retry and no ``RetryAttempts`` count.  ``attach(client, via="call")`` reproduces
that Stubber behaviour (retries bypassed, parsed dicts returned directly).
With the default ``via="send"`` the answer enters below the retry loop: a
429 ``ThrottlingException`` or 500 ``InternalServerException`` is retried per
the client's retry config (legacy: 5 attempts; standard: 3), the same
parameters (and the same auto-filled token) are re-sent, each attempt is a
separate entry in :attr:`BedrockDouble.calls` (``call.attempt``), and a final
success reports ``ResponseMetadata.RetryAttempts``.  Back-off sleeps are real
``time.sleep`` calls in ``botocore.endpoint``; wrap the code under test in
``with double.instant_retries():`` to turn them into fake-clock advances.

Served over HTTP (``rehearsal/http.py``)
----------------------------------------
The same double answers real HTTP requests: the server routes each request to
an operation from botocore's model, parses it into parameters and calls
:meth:`BedrockDouble.respond`, which is the code path ``before-send`` uses
(validation, state, the REST-JSON response with ``x-amzn-ErrorType``).  One
implementation serves the tests and the rehearsal.  Over the wire the double
cannot see which ``clientRequestToken`` botocore filled in; the server treats
a uuid4-shaped token as botocore's (a heuristic, see ``rehearsal/README.md``).

Time
----
Every transition is driven by ``clock`` and applied at the start of each call
(or by :meth:`tick`), stamped with the time it was due.  With a
:class:`~rehearsal.clock.FakeClock` and the default delays nothing moves by
itself: tests call ``settle()`` / ``finish_job()`` exactly as before.  With
``job_duration`` set, a job walks its ``statusDetails`` stages (validation,
data processing, training) and ends ``Completed`` with metrics and a custom
model after that long (or as :meth:`plan_job_outcome` says);
``throughput_ready_delay`` and ``deployment_ready_delay`` do the same for PTs
and deployments; :meth:`hold` keeps chosen resources where they are (a PT
stuck in ``Creating``).  Every status change is appended to
:attr:`BedrockDouble.transitions` (the timeline a harness prints).

Quotas (all off unless set; the HTTP server turns Bedrock's defaults on):
``job_concurrency_quota`` (jobs InProgress/Stopping), ``model_unit_quota``
(MUs across all PTs), ``no_commitment_throughput_quota`` (no-commitment PTs),
``no_commitment_model_units_per_throughput``, ``commitment_model_unit_quota``
(MUs across committed PTs) and ``allow_base_model_without_commitment``.

Loud failures (never a silent success): an operation the double does not
implement raises :class:`UnimplementedOperationError`; a response the double
builds that breaks the output shape raises
:class:`~rehearsal.service_model.ResponseViolation`; tagging an ARN kind
the double does not model raises :class:`UnimplementedOperationError`.  These
propagate out of the client call (botocore does not retry them) and are also
kept in :attr:`BedrockDouble.errors` (``assert_no_errors()``), in case the
code under test swallows exceptions.  A request that breaks the service model
gets what AWS gives, a ``ValidationException`` with the AWS wording plus the
path; it is recorded in :attr:`BedrockDouble.rejections`.  With
``strict=True`` it raises :class:`~rehearsal.service_model.RequestViolation`
(an ``AssertionError``) instead.

Error codes: see ``ERROR_CODES_USED`` at the bottom of this module; every code
is one botocore models for the operation.  Which code AWS returns for a given
business rule is mostly UNCONFIRMED (no AWS account here); each such choice is
marked ``UNCONFIRMED`` at the place it is raised.  Messages are invented except
"The provided job name is currently in use." (the text Airflow's
BedrockCustomizeModelOperator matches).
"""

from __future__ import annotations

import base64
import calendar
import contextlib
import copy
import datetime as dt
import hashlib
import json
import math
import re
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from botocore.awsrequest import AWSResponse
from botocore.model import ListShape, MapShape, Shape, StructureShape
from botocore.utils import parse_to_aware_datetime

from rehearsal.clock import FakeClock, WallClock
from rehearsal.service_model import (
    RequestViolation,
    ResponseViolation,
    get_service_model,
    operation_model,
    validate_error,
    validate_request,
    validate_response,
)

UTC = dt.UTC

__all__ = [
    "BedrockDouble",
    "BEDROCK_DEFAULT_QUOTAS",
    "BedrockServiceError",
    "Call",
    "CustomModelRecord",
    "DEFAULT_CUSTOMIZABLE_MODELS",
    "DeploymentRecord",
    "DoubleError",
    "FakeClock",
    "JobRecord",
    "MissingClientTokenError",
    "PlannedOutcome",
    "ThroughputRecord",
    "Transition",
    "UnimplementedOperationError",
    "WallClock",
    "WireResponse",
    "EvaluationJobRecord",
    "PlannedScores",
    "fault_status",
    "losses_from_hyperparameters",
]

# Customizable foundation models per Region (shared/reference/bedrock.md C,
# docs:custom-model-fine-tuning).  Used to reject CreateModelCustomizationJob
# with an unknown base model (e.g. "amazon.nova-micro-v1:0" without the
# ":128k" context suffix).  Pass foundation_models=None to accept any
# well-formed id, or your own set.  Titan/Cohere legacy ids are deliberately
# absent (UNCONFIRMED availability).
DEFAULT_CUSTOMIZABLE_MODELS: dict[str, frozenset[str]] = {
    "us-east-1": frozenset(
        {
            "amazon.nova-2-lite-v1:0:256k",
            "amazon.nova-canvas-v1:0",
            "amazon.nova-lite-v1:0:300k",
            "amazon.nova-micro-v1:0:128k",
            "amazon.nova-pro-v1:0:300k",
        }
    ),
    "us-west-2": frozenset(
        {
            "anthropic.claude-3-haiku-20240307-v1:0:200k",
            "meta.llama3-1-8b-instruct-v1:0:128k",
            "meta.llama3-1-70b-instruct-v1:0:128k",
            "meta.llama3-2-1b-instruct-v1:0:128k",
            "meta.llama3-2-3b-instruct-v1:0:128k",
            "meta.llama3-2-11b-instruct-v1:0:128k",
            "meta.llama3-2-90b-instruct-v1:0:128k",
            "meta.llama3-3-70b-instruct-v1:0:128k",
        }
    ),
}

# Bedrock's default quotas, which the HTTP server applies (constructor arguments of BedrockDouble; the
# double itself defaults to none of them, so the tests opt in).  Sources:
# - no-commitment PTs: "For custom models with no commitment, a quota of one model unit is available for each
#   Provisioned Throughput. You can create up to two Provisioned Throughputs per account." and "Base model ...
#   no commitment: Not available" (docs:prov-throughput, an earlier version of the page; the current page says
#   "By default, your account provides you with 2 MUs to distribute between Provisioned Throughputs with no
#   commitment", docs:prov-thru-purchase, and newer still that even these need a Support request).
# - concurrent customization jobs: 2, UNCONFIRMED in AWS docs; terraform-provider-aws PR #37990 says 2 per
#   account and not adjustable.
# - committed MUs: "By default, your account has no model units for purchasing Provisioned Throughputs with
#   commitment" (botocore CreateProvisionedModelThroughput docstring), i.e. 0; left unlimited here so a
#   commitment can be rehearsed at all: pass commitment_model_unit_quota=0 to rehearse an account without them.
BEDROCK_DEFAULT_QUOTAS: dict[str, Any] = {
    "job_concurrency_quota": 2,
    "no_commitment_throughput_quota": 2,
    "no_commitment_model_units_per_throughput": 1,
    "allow_base_model_without_commitment": False,
}

_CTX_KEY = "tailor_bedrock_double"
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_JOB_STAGES = ("validationDetails", "dataProcessingDetails", "trainingDetails")
_JOB_ACTIVE = ("InProgress", "Stopping")
# With job_duration set: validation ends at 20 % of it and data processing at 40 %; training takes the rest.
_DEFAULT_STAGE_FRACTIONS = (0.2, 0.4)
# Codes AWS commonly returns without modelling them per operation.
_GENERIC_CODES = {
    "ServiceUnavailableException": 503,
    "ServiceUnavailable": 503,
    "InternalFailure": 500,
    "RequestTimeout": 408,
    "RequestTimeoutException": 408,
    "UnrecognizedClientException": 403,
    "ExpiredTokenException": 403,
    "TooManyRequestsException": 429,
}


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


class DoubleError(AssertionError):
    """The double refuses to pretend: a test or the code under test must change."""


class UnimplementedOperationError(DoubleError, NotImplementedError):
    """The operation (or resource kind) is not implemented by the double."""


class MissingClientTokenError(DoubleError):
    """``require_client_tokens=True`` and botocore had to auto-fill the token."""


class BedrockServiceError(Exception):
    """A service error the double returns to the client as an HTTP error response."""

    def __init__(
        self, code: str, message: str, *, http_status: int | None = None, fields: dict[str, Any] | None = None
    ):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.fields = dict(fields or {})
        if http_status is None:
            shape = cast(
                "Shape | None",
                get_service_model().shape_for_error_code(code),  # type: ignore[arg-type]  # stubs: int -> Shape
            )
            if shape is not None:
                http_status = shape.metadata.get("error", {}).get("httpStatusCode")
            http_status = http_status or _GENERIC_CODES.get(code, 400)
        self.http_status = http_status

    def body(self) -> dict[str, Any]:
        return {"message": self.message, **self.fields}


def fault_status(
    operation_name: str, code: str, http_status: int | None = None, *, allow_unmodelled: bool = False
) -> tuple[str, int]:
    """(API operation name, HTTP status) of an injectable fault; ValueError for an unknown operation,
    a code the operation does not model (unless generic or ``allow_unmodelled``) or a bad status."""
    try:
        opm = operation_model(operation_name)
    except KeyError:
        raise ValueError(f"bedrock has no operation {operation_name!r}") from None
    modelled = {s.name for s in opm.error_shapes}
    if code not in modelled and code not in _GENERIC_CODES and not allow_unmodelled:
        raise ValueError(f"{code!r} is not an error of {opm.name} (modelled: {sorted(modelled)})")
    if http_status is not None and not 400 <= http_status <= 599:
        raise ValueError(f"http_status must be a 4xx or 5xx status, not {http_status}")
    return opm.name, http_status or BedrockServiceError(code, "").http_status


def _validation(message: str) -> BedrockServiceError:
    return BedrockServiceError("ValidationException", message)


def _not_found(message: str) -> BedrockServiceError:
    return BedrockServiceError("ResourceNotFoundException", message)


def _conflict(message: str) -> BedrockServiceError:
    return BedrockServiceError("ConflictException", message)


# --------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------


class Call(tuple[str, dict[str, Any]]):
    """One HTTP attempt answered by the double.

    Unpacks as ``(operation_name, params)`` where ``params`` are the parameters
    exactly as the caller passed them (before botocore filled idempotency
    tokens).  Extra attributes: ``sent_params`` (what went on the wire, tokens
    included), ``injected_tokens`` (members botocore auto-filled, e.g.
    ``["clientRequestToken"]``), ``attempt`` (1 = first try, 2 = first retry),
    ``error_code`` (the code returned, or None on success), ``time`` (the
    double's clock when it answered), ``status`` (the HTTP status returned, None
    when the double raised), ``error_message``, ``response`` (the result on
    success) and ``failure`` (the loud error the double raised, if any).
    """

    sent_params: dict[str, Any]
    injected_tokens: list[str]
    attempt: int
    error_code: str | None
    time: dt.datetime | None
    status: int | None
    error_message: str | None
    response: dict[str, Any] | None
    failure: str | None

    def __new__(
        cls,
        operation_name: str,
        params: dict[str, Any],
        sent_params: dict[str, Any],
        injected_tokens: list[str],
        attempt: int,
    ) -> Call:
        self = super().__new__(cls, (operation_name, params))
        self.sent_params = sent_params
        self.injected_tokens = injected_tokens
        self.attempt = attempt
        self.error_code = None
        self.time = None
        self.status = None
        self.error_message = None
        self.response = None
        self.failure = None
        return self

    @property
    def operation_name(self) -> str:
        return self[0]

    @property
    def params(self) -> dict[str, Any]:
        return self[1]

    @property
    def token_injected(self) -> bool:
        return bool(self.injected_tokens)

    def __repr__(self) -> str:
        extra = f", attempt={self.attempt}" if self.attempt != 1 else ""
        err = f", error={self.error_code}" if self.error_code else ""
        inj = f", injected={self.injected_tokens}" if self.injected_tokens else ""
        return f"Call({self[0]!r}, {self[1]!r}{extra}{inj}{err})"


@dataclass
class JobRecord:
    arn: str
    name: str
    request: dict[str, Any]  # every field of the effective request (token included)
    client_request_token: str | None
    token_explicit: bool
    foundation_model_id: str
    foundation_model_arn: str
    base_model_arn: str  # FM ARN, or the source custom model ARN when customizing a custom model
    source_model_arn: str | None
    customization_type: str
    kms_key_arn: str | None
    output_model_name: str
    creation_time: dt.datetime
    last_modified_time: dt.datetime
    status_changed_at: dt.datetime
    seq: int
    status: str = "InProgress"
    # stage -> {"status", "creationTime", "lastModifiedTime"}
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)
    end_time: dt.datetime | None = None
    failure_message: str | None = None
    output_model_arn: str | None = None
    training_metrics: dict[str, Any] | None = None
    validation_metrics: list[Any] | None = None

    @property
    def tags_at_creation(self) -> list[dict[str, str]]:
        return cast("list[dict[str, str]]", self.request.get("jobTags", []))


@dataclass
class CustomModelRecord:
    arn: str
    name: str
    foundation_model_id: str
    foundation_model_arn: str
    base_model_arn: str
    creation_time: dt.datetime
    seq: int
    status: str = "Active"
    job_arn: str | None = None
    job_name: str | None = None
    customization_type: str | None = "FINE_TUNING"
    kms_key_arn: str | None = None
    hyper_parameters: dict[str, Any] | None = None
    training_data_config: dict[str, Any] | None = None
    validation_data_config: dict[str, Any] | None = None
    output_data_config: dict[str, Any] | None = None
    customization_config: dict[str, Any] | None = None
    training_metrics: dict[str, Any] | None = None
    validation_metrics: list[Any] | None = None
    failure_message: str | None = None


@dataclass
class ThroughputRecord:
    arn: str
    name: str
    model_arn: str
    desired_model_arn: str
    foundation_model_arn: str
    model_units: int
    desired_model_units: int
    creation_time: dt.datetime
    last_modified_time: dt.datetime
    status_changed_at: dt.datetime
    seq: int
    request: dict[str, Any]
    client_request_token: str | None
    status: str = "Creating"
    commitment_duration: str | None = None
    commitment_expiration_time: dt.datetime | None = None
    failure_message: str | None = None


@dataclass
class DeploymentRecord:
    arn: str
    name: str
    model_arn: str
    created_at: dt.datetime
    last_updated_at: dt.datetime
    status_changed_at: dt.datetime
    seq: int
    request: dict[str, Any]
    client_request_token: str | None
    description: str | None = None
    status: str = "Creating"
    failure_message: str | None = None
    update_model_arn: str | None = None
    update_status: str | None = None


@dataclass(frozen=True)
class Transition:
    """One status change, stamped with the time it was due (the timeline of a run).

    ``kind``: job, custom-model, provisioned-model or custom-model-deployment.  ``old`` is None
    for a creation and ``new`` is "Deleted" for a deletion.  ``stage``: the ``statusDetails``
    member for a job stage change; ``"update"`` for a deployment's ``updateDetails``.  ``cause``:
    the operation that made it, "time" (a delay elapsed) or "control" (a test or harness call).
    ``detail``: for a job's own status change, the ``detail`` of the EventBridge event Bedrock
    sends ("Model Customization Job State Change", shared/reference/bedrock.md D) as it was then.
    """

    time: dt.datetime
    kind: str
    arn: str
    name: str
    old: str | None
    new: str
    cause: str
    stage: str | None = None
    detail: dict[str, Any] | None = None


@dataclass
class PlannedOutcome:
    """How the next ``times`` jobs whose name contains ``name_contains`` end when their time is up
    (with these losses, when given, instead of the double's ``job_metrics``)."""

    name_contains: str
    status: str
    failure_message: str | None = None
    times: int = 1
    training_loss: float | None = None
    validation_loss: float | None = None


@dataclass
class EvaluationJobRecord:
    """A model evaluation job (CreateEvaluationJob): automated, one model, results written at its end."""

    arn: str
    name: str
    request: dict[str, Any]
    client_request_token: str | None
    model_identifier: str
    creation_time: dt.datetime
    last_modified_time: dt.datetime
    status_changed_at: dt.datetime
    seq: int
    status: str = "InProgress"
    failure_messages: list[str] = field(default_factory=list)
    scores: dict[str, Any] | None = None  # metric name (without "Builtin.") -> mean score, once Completed


@dataclass
class PlannedScores:
    """The scores of the next ``times`` evaluations of a model whose identifier (a PT ARN, a foundation-model
    id) or served custom model's name contains ``model_contains``; ``status`` Failed ends them failed."""

    model_contains: str
    scores: dict[str, Any]
    status: str = "Completed"
    times: int = 1


def losses_from_hyperparameters(hyper_parameters: dict[str, Any] | None) -> tuple[float, float]:
    """(trainingLoss, validationLoss) that vary with a job's hyperparameters, deterministically, so a sweep has a
    winner to find: lowest near learningRate 3e-5 and 3 epochs, plus a few thousandths from a hash of the set
    (no tie between two settings).  A stand-in, not a model of training."""
    values = hyper_parameters or {}

    def number(name: str, default: float) -> float:
        try:
            return float(values.get(name, default))
        except (TypeError, ValueError):
            return default

    rate = max(number("learningRate", 1e-5), 1e-12)
    epochs = number("epochCount", 2)
    digest = hashlib.sha256(json.dumps(values, sort_keys=True).encode()).digest()
    jitter = int.from_bytes(digest[:2], "big") / 65535 * 0.004
    validation = 0.12 + 0.05 * abs(math.log10(rate) - math.log10(3e-5)) + 0.02 * abs(epochs - 3) + jitter
    training = max(0.01, validation - 0.03)
    return round(training, 6), round(validation, 6)


@dataclass(frozen=True)
class WireResponse:
    """A REST-JSON HTTP response: what Bedrock would put on the wire."""

    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class _Fault:
    code: str
    message: str
    http_status: int
    after_apply: bool
    fields: dict[str, Any]


class _RawBody:
    """Minimal stand-in for urllib3's response, as AWSResponse.content expects."""

    def __init__(self, data: bytes):
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def _add_months(when: dt.datetime, months: int) -> dt.datetime:
    years, month0 = divmod(when.month - 1 + months, 12)
    year = when.year + years
    month = month0 + 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return when.replace(year=year, month=month, day=day)


def _as_datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, (int, float)):
        return dt.datetime.fromtimestamp(value, tz=UTC)
    return parse_to_aware_datetime(value)


def _fmt_timestamp(value: dt.datetime, fmt: str) -> Any:
    value = value.astimezone(UTC)
    if fmt == "iso8601":
        return value.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    if fmt == "rfc822":
        from email.utils import format_datetime

        return format_datetime(value, usegmt=True)
    return value.timestamp()


def _strip_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


# --------------------------------------------------------------------------
# The double
# --------------------------------------------------------------------------


class BedrockDouble:
    """Stateful Bedrock control plane; see the module docstring.

    Constructor options (keyword-only after ``clock``):

    ``strict``: a request breaking the service model raises ``RequestViolation``
        instead of returning ``ValidationException``.
    ``require_client_tokens``: Create* without an explicit ``clientRequestToken``
        raises ``MissingClientTokenError``.
    ``stop_delay``: fake-clock time for Stopping -> Stopped (default 60 s;
        ``None`` = only ``settle()``/``finish_job``).
    ``throughput_ready_delay`` / ``deployment_ready_delay``: time for PT
        Creating/Updating -> InService and deployment Creating -> Active /
        Updating -> UpdateCompleted (default ``None``: only ``settle()`` or
        ``set_*_status``).
    ``foundation_models``: customizable base models, default
        ``DEFAULT_CUSTOMIZABLE_MODELS[region]`` (any id if the Region is not
        listed); ``None`` accepts any well-formed id.
    ``kms_aliases``: alias name -> key id, to resolve ``alias/...`` KMS ids
        (default: a uuid5 derived from the alias).
    ``job_duration``: time from CreateModelCustomizationJob to the job's end,
        walking its stages on the way (default ``None``: only ``finish_job``).
        ``job_stage_fractions``: when validation and data processing end, as
        fractions of it.  ``job_metrics``: (trainingLoss, validationLoss) of a
        job ended by time.
    ``job_metrics="hyperparameters"``: losses from :func:`losses_from_hyperparameters`
        (they vary per job, so a sweep has a winner).  ``evaluation_duration``: time from
        CreateEvaluationJob to its end (default ``None``: only :meth:`finish_evaluation`);
        ``evaluation_results(s3_uri, body)`` receives each finished job's result file.
    ``job_concurrency_quota``, ``model_unit_quota``: None = unlimited; else
        ServiceQuotaExceededException past it.
    ``no_commitment_throughput_quota`` (PTs without commitment per account and
        Region), ``no_commitment_model_units_per_throughput``,
        ``commitment_model_unit_quota`` (MUs across committed PTs): None =
        unlimited; ``allow_base_model_without_commitment=False`` refuses a
        no-commitment PT for a base model.  See ``BEDROCK_DEFAULT_QUOTAS``.
    ``tag_limit``: tags per resource (200).  ``default_page_size``: maxResults
        default for List* (100, UNCONFIRMED).  ``stop_not_running_code``: code for
        StopModelCustomizationJob on a job not InProgress (ValidationException,
        UNCONFIRMED; ConflictException is also modelled for Stop).
        ``commitment_delete_code``: code for DeleteProvisionedModelThroughput
        inside the commitment term (ValidationException, UNCONFIRMED;
        ConflictException is also modelled for Delete).
    """

    def __init__(
        self,
        account: str = "111122223333",
        region: str = "us-east-1",
        clock: Callable[[], dt.datetime] | None = None,
        *,
        strict: bool = False,
        require_client_tokens: bool = False,
        stop_delay: dt.timedelta | None = dt.timedelta(seconds=60),
        throughput_ready_delay: dt.timedelta | None = None,
        deployment_ready_delay: dt.timedelta | None = None,
        foundation_models: Any = "default",
        kms_aliases: dict[str, str] | None = None,
        job_duration: dt.timedelta | None = None,
        job_stage_fractions: tuple[float, float] = _DEFAULT_STAGE_FRACTIONS,
        job_metrics: tuple[float | None, float | None] | str = (0.1, 0.2),
        evaluation_duration: dt.timedelta | None = None,
        evaluation_results: Callable[[str, bytes], None] | None = None,
        job_concurrency_quota: int | None = None,
        model_unit_quota: int | None = None,
        no_commitment_throughput_quota: int | None = None,
        no_commitment_model_units_per_throughput: int | None = None,
        commitment_model_unit_quota: int | None = None,
        allow_base_model_without_commitment: bool = True,
        tag_limit: int = 200,
        default_page_size: int = 100,
        stop_not_running_code: str = "ValidationException",
        commitment_delete_code: str = "ValidationException",
    ):
        if not re.fullmatch(r"[0-9]{12}", account):
            raise ValueError("account must be 12 digits")
        if not re.fullmatch(r"[a-z0-9-]{1,20}", region):
            raise ValueError("region must match [a-z0-9-]{1,20}")
        self.account = account
        self.region = region
        self.clock: Callable[[], dt.datetime] = clock if clock is not None else FakeClock()
        self.strict = strict
        self.require_client_tokens = require_client_tokens
        self.stop_delay = stop_delay
        self.throughput_ready_delay = throughput_ready_delay
        self.deployment_ready_delay = deployment_ready_delay
        if foundation_models == "default":
            foundation_models = DEFAULT_CUSTOMIZABLE_MODELS.get(region)
        self.foundation_models = None if foundation_models is None else frozenset(foundation_models)
        self.kms_aliases = dict(kms_aliases or {})
        first, second = job_stage_fractions
        if not 0 <= first <= second <= 1:
            raise ValueError("job_stage_fractions must be two fractions 0 <= validation <= data processing <= 1")
        self.job_duration = job_duration
        self.job_stage_fractions = (float(first), float(second))
        self.job_metrics = job_metrics
        self.evaluation_duration = evaluation_duration
        # Where an evaluation's result file goes (its s3:// URI and body): the double keeps no S3, so a test puts
        # it into moto's and the HTTP server into the emulator's S3. None: results are not written.
        self.evaluation_results = evaluation_results
        self.job_concurrency_quota = job_concurrency_quota
        self.model_unit_quota = model_unit_quota
        self.no_commitment_throughput_quota = no_commitment_throughput_quota
        self.no_commitment_model_units_per_throughput = no_commitment_model_units_per_throughput
        self.commitment_model_unit_quota = commitment_model_unit_quota
        self.allow_base_model_without_commitment = allow_base_model_without_commitment
        self.tag_limit = tag_limit
        self.default_page_size = default_page_size
        self.stop_not_running_code = stop_not_running_code
        if commitment_delete_code not in ("ValidationException", "ConflictException"):
            raise ValueError("commitment_delete_code must be ValidationException or ConflictException")
        self.commitment_delete_code = commitment_delete_code

        # Inspection
        self.calls: list[Call] = []
        self.jobs: dict[str, JobRecord] = {}
        self.custom_models: dict[str, CustomModelRecord] = {}
        self.throughputs: dict[str, ThroughputRecord] = {}
        self.deployments: dict[str, DeploymentRecord] = {}
        self.evaluations: dict[str, EvaluationJobRecord] = {}
        self.evaluation_scores: list[PlannedScores] = []
        self.tags: dict[str, dict[str, str]] = {}
        self.rejections: list[tuple[str, RequestViolation]] = []
        self.errors: list[BaseException] = []
        self.retry_sleeps: list[float] = []
        self.transitions: list[Transition] = []
        # Shared, not copied: the HTTP server hands every double (one per account and Region) the same
        # list and set, so a harness plans outcomes and holds without knowing which account will ask.
        self.job_outcomes: list[PlannedOutcome] = []
        self.holds: set[str] = set()  # resource ARNs or name substrings whose time-driven changes wait

        self._service_model = get_service_model()
        self._lock = threading.RLock()
        self._counter = 0
        self._seq = 0
        self._faults: dict[str, deque[_Fault]] = {}
        self._tokens: dict[tuple[str, str], str] = {}  # (operation, token) -> resource ARN
        self._clients: list[Any] = []
        self._call: Call | None = None

    # ------------------------------------------------------------------
    # Wiring
    # ------------------------------------------------------------------
    def attach(self, client: Any, *, via: str = "send") -> Any:
        """Answer every call of ``client`` (a real ``boto3.client("bedrock")``).

        ``via="send"`` (default): answer on ``before-send`` with an HTTP
        response; botocore parses it and its retry handler applies.
        ``via="call"``: answer on ``before-call`` like ``Stubber`` (no
        retries, no HTTP parsing).  Returns ``client``.
        """
        meta = client.meta
        if meta.service_model.service_name != "bedrock":
            raise ValueError(f"BedrockDouble attaches to 'bedrock' clients, not {meta.service_model.service_name!r}")
        if meta.region_name != self.region:
            raise ValueError(f"client region {meta.region_name!r} != double region {self.region!r}")
        if via not in ("send", "call"):
            raise ValueError("via must be 'send' or 'call'")
        if getattr(client, "_tailor_bedrock_double", None) is not None:
            raise ValueError("client already has a BedrockDouble attached; detach it first")
        uid = f"tailor-bedrock-double-{id(self)}"
        events = meta.events
        events.register_first("before-parameter-build.bedrock", self._on_parameter_build, unique_id=f"{uid}-params")
        removed: list[tuple[str, Any]] = []
        if via == "send":
            removed = self._remove_foreign_send_handlers(events)
            events.register("before-send.bedrock", self._on_before_send, unique_id=f"{uid}-send")
        else:
            events.register("before-call.bedrock", self._on_before_call, unique_id=f"{uid}-call")
        client._tailor_bedrock_double = (self, via, removed)
        self._clients.append(client)
        return client

    @staticmethod
    def _send_handlers(events: Any) -> list[Any]:
        emitter = getattr(events, "_emitter", events)
        trie = getattr(emitter, "_handlers", None)
        if trie is None:  # pragma: no cover - botocore internals changed
            raise DoubleError("cannot inspect this client's before-send handlers; use attach(client, via='call')")
        return list(trie.prefix_search("before-send.bedrock.ListCustomModels"))

    def _remove_foreign_send_handlers(self, events: Any) -> list[tuple[str, Any]]:
        """Every ``before-send`` handler runs (botocore's emit does not stop at the
        first answer), so another responder on this client would also process
        each request: moto's ``mock_aws`` registers one on every client and
        would raise NotImplementedError for PT operations, or create moto-side
        jobs.  Remove such handlers from this client only (restored by
        ``detach``); fail if one cannot be removed."""
        removed = []
        for handler in self._send_handlers(events):
            for event_name in ("before-send", "before-send.bedrock"):
                events.unregister(event_name, handler)
                if handler not in self._send_handlers(events):
                    removed.append((event_name, handler))
                    break
            else:
                raise DoubleError(
                    f"another before-send handler ({handler!r}) is registered on this client and could not be "
                    "removed; it would also see every request. Use attach(client, via='call')."
                )
        return removed

    def detach(self, client: Any) -> None:
        attached = getattr(client, "_tailor_bedrock_double", None)
        if not attached or attached[0] is not self:
            raise ValueError("client is not attached to this double")
        uid = f"tailor-bedrock-double-{id(self)}"
        events = client.meta.events
        events.unregister("before-parameter-build.bedrock", unique_id=f"{uid}-params")
        events.unregister("before-send.bedrock", unique_id=f"{uid}-send")
        events.unregister("before-call.bedrock", unique_id=f"{uid}-call")
        for event_name, handler in attached[2]:
            events.register(event_name, handler)
        client._tailor_bedrock_double = None
        self._clients.remove(client)

    def _on_parameter_build(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        context[_CTX_KEY] = {"caller": copy.deepcopy(params), "live": params}

    def _on_before_send(self, request: Any, event_name: str, **_: Any) -> AWSResponse:
        op_name = event_name.rsplit(".", 1)[-1]
        context = request.context or {}
        attempt = int(context.get("retries", {}).get("attempt", 1))
        wire = self._respond(op_name, context.get(_CTX_KEY), attempt, None)
        return AWSResponse(
            request.url,
            wire.status,
            dict(wire.headers),  # type: ignore[arg-type]  # the stubs want HTTPHeaders; botocore wraps a dict itself
            _RawBody(wire.body),
        )

    def respond(
        self,
        operation_name: str,
        params: dict[str, Any],
        *,
        caller_params: dict[str, Any] | None = None,
        attempt: int = 1,
        request_id: str | None = None,
    ) -> WireResponse:
        """Answer one request given as parameters: the HTTP response Bedrock would send.

        What ``before-send`` does for an attached client, for callers that parsed a request
        themselves (the HTTP server).  ``params`` are the parameters as sent (tokens included);
        ``caller_params`` what the caller passed before botocore filled tokens (default: the same,
        i.e. no token counts as injected).  Loud errors (:class:`DoubleError`) propagate.
        """
        with self._lock:
            caller = params if caller_params is None else caller_params
            stash = {"caller": copy.deepcopy(caller), "live": copy.deepcopy(params)}
            return self._respond(operation_model(operation_name, self._service_model).name, stash, attempt, request_id)

    def _respond(
        self, op_name: str, stash: dict[str, Any] | None, attempt: int, request_id: str | None
    ) -> WireResponse:
        with self._lock:
            status, body, error = self._serve(op_name, stash, attempt)
            headers = {"x-amzn-RequestId": request_id or self._request_id(), "Content-Type": "application/json"}
            if error is not None:
                headers["x-amzn-ErrorType"] = error.code
                payload = error.body()
            else:
                extra_headers, payload = self._to_wire(op_name, cast("dict[str, Any]", body))  # a body unless an error
                headers.update(extra_headers)
            data = json.dumps(payload).encode("utf-8")
            headers["Content-Length"] = str(len(data))
            return WireResponse(status, headers, data)

    def _on_before_call(self, model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> tuple[Any, ...]:
        status, body, error = self._serve(model.name, context.get(_CTX_KEY), 1)
        request_id = self._request_id()
        headers = {"x-amzn-requestid": request_id, "content-type": "application/json"}
        meta = {"RequestId": request_id, "HTTPStatusCode": status, "HTTPHeaders": headers, "RetryAttempts": 0}
        if error is not None:
            headers["x-amzn-errortype"] = error.code
            parsed = {"Error": {"Code": error.code, "Message": error.message}, "ResponseMetadata": meta, **error.body()}
        else:
            parsed = {**copy.deepcopy(cast("dict[str, Any]", body)), "ResponseMetadata": meta}  # a body unless an error
        return (
            AWSResponse(None, status, headers, None),  # type: ignore[arg-type]  # botocore takes url=None and a dict
            parsed,
        )

    def _request_id(self) -> str:
        return str(uuid.UUID(int=len(self.calls) + 1, version=4))

    # ------------------------------------------------------------------
    # Core dispatch
    # ------------------------------------------------------------------
    def _serve(
        self, op_name: str, stash: dict[str, Any] | None, attempt: int
    ) -> tuple[int, dict[str, Any] | None, BedrockServiceError | None]:
        with self._lock:
            self._call = cast("Call | None", None)  # not narrowed to None: _dispatch sets it
            try:
                status, body, error = self._dispatch(op_name, stash, attempt)
                call = self._call
                if call is not None:
                    call.status = status
                    call.error_message = error.message if error is not None else None
                    call.response = copy.deepcopy(body) if error is None else None
                return status, body, error
            except Exception as exc:
                if self._call is not None:
                    self._call.failure = f"{type(exc).__name__}: {exc}"
                raise
            finally:
                self._call = None  # transitions noted outside a call are "time" or "control"

    def _dispatch(
        self, op_name: str, stash: dict[str, Any] | None, attempt: int
    ) -> tuple[int, dict[str, Any] | None, BedrockServiceError | None]:
        with self._lock:
            if stash is None:
                err = DoubleError(
                    f"{op_name}: no parameters captured; was the client attached with BedrockDouble.attach()?"
                )
                self.errors.append(err)
                raise err
            opm = self._service_model.operation_model(op_name)
            caller = stash["caller"]
            sent = copy.deepcopy(stash["live"])
            injected = [m for m in opm.idempotent_members if m in sent and m not in caller]
            call = Call(op_name, caller, sent, injected, attempt)
            self.calls.append(call)
            self._call = call
            self._tick()
            call.time = self._now()

            fault = self._take_fault(op_name)
            if fault is not None and not fault.after_apply:
                call.error_code = fault.code
                return (
                    fault.http_status,
                    None,
                    BedrockServiceError(fault.code, fault.message, http_status=fault.http_status, fields=fault.fields),
                )

            handler = getattr(self, f"_op_{op_name}", None)
            if handler is None:
                err = UnimplementedOperationError(
                    f"BedrockDouble does not implement {op_name}; implement it in rehearsal/bedrock.py "
                    f"or do not call it (params: {caller!r})"
                )
                self.errors.append(err)
                raise err
            if injected and self.require_client_tokens:
                err = MissingClientTokenError(
                    f"{op_name} called without {', '.join(injected)}: botocore auto-filled a uuid4, so a retried "
                    f"invocation would not be idempotent (params: {caller!r})"
                )
                self.errors.append(err)
                raise err
            try:
                validate_request(op_name, sent)
            except RequestViolation as violation:
                self.rejections.append((op_name, violation))
                if self.strict:
                    self.errors.append(violation)
                    raise
                call.error_code = "ValidationException"
                error = _validation(violation.aws_message())
                return error.http_status, None, error

            try:
                result = handler(sent)
            except BedrockServiceError as error:
                self._check_error(op_name, error)
                call.error_code = error.code
                return error.http_status, None, error
            except DoubleError as err:
                self.errors.append(err)
                raise
            try:
                validate_response(op_name, result)
            except ResponseViolation as violation:
                self.errors.append(violation)
                raise
            if fault is not None:
                call.error_code = fault.code
                return (
                    fault.http_status,
                    None,
                    BedrockServiceError(fault.code, fault.message, http_status=fault.http_status, fields=fault.fields),
                )
            return int(opm.http.get("responseCode", 200)), result, None

    def _check_error(self, op_name: str, error: BedrockServiceError) -> None:
        try:
            validate_error(error.code, error.body(), operation=op_name)
        except ResponseViolation as violation:
            self.errors.append(violation)
            raise

    def _to_wire(self, op_name: str, body: dict[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
        shape = self._service_model.operation_model(op_name).output_shape
        headers: dict[str, str] = {}
        payload: dict[str, Any] = {}
        if shape is None:
            return headers, payload
        for name, value in body.items():
            member = shape.members[name]
            location = member.serialization.get("location")
            if location == "header":
                headers[member.serialization.get("name", name)] = str(self._wire_value(member, value))
            elif location is None:
                payload[member.serialization.get("name", name)] = self._wire_value(member, value)
            else:  # pragma: no cover - no such member in the implemented operations
                raise DoubleError(f"{op_name}: output location {location!r} not supported")
        return headers, payload

    def _wire_value(self, shape: Shape, value: Any) -> Any:
        t = shape.type_name
        if t == "structure":
            members = cast(StructureShape, shape).members
            return {
                members[k].serialization.get("name", k): self._wire_value(members[k], v)
                for k, v in value.items()
                if v is not None
            }
        if t == "list":
            return [self._wire_value(cast(ListShape, shape).member, v) for v in value]
        if t == "map":
            return {k: self._wire_value(cast(MapShape, shape).value, v) for k, v in value.items()}
        if t == "timestamp":
            fmt = shape.serialization.get("timestampFormat") or "unixTimestamp"
            return _fmt_timestamp(value, fmt)
        if t == "blob":
            return base64.b64encode(value).decode("ascii")
        return value

    # ------------------------------------------------------------------
    # Time, ids, lookups
    # ------------------------------------------------------------------
    def _now(self) -> dt.datetime:
        now = self.clock()
        if not isinstance(now, dt.datetime) or now.tzinfo is None or now.utcoffset() != dt.timedelta(0):
            raise DoubleError(f"clock must return an aware UTC datetime, got {now!r}")
        return now.astimezone(UTC)

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _new_id(self, kind: str) -> str:
        """12 lowercase alphanumerics, deterministic from a counter."""
        self._counter += 1
        digest = hashlib.sha256(f"{self.account}/{self.region}/{kind}/{self._counter}".encode()).digest()
        num = int.from_bytes(digest[:16], "big")
        chars = []
        for _ in range(12):
            num, rem = divmod(num, 36)
            chars.append(_ID_ALPHABET[rem])
        return "".join(chars)

    def _arn(self, resource: str) -> str:
        return f"arn:aws:bedrock:{self.region}:{self.account}:{resource}"

    def _fm_arn(self, fm_id: str) -> str:
        return f"arn:aws:bedrock:{self.region}::foundation-model/{fm_id}"

    def _find_job(self, identifier: str) -> JobRecord:
        job = self.jobs.get(identifier)
        if job is None and not identifier.startswith("arn:"):
            job = next((j for j in self.jobs.values() if j.name == identifier), None)
        if job is None:
            raise _not_found(f"Model customization job {identifier} not found.")
        return job

    def _find_model(self, identifier: str) -> CustomModelRecord:
        model = self.custom_models.get(identifier)
        if model is None and not identifier.startswith("arn:"):
            model = next((m for m in self.custom_models.values() if m.name == identifier), None)
        if model is None:
            raise _not_found(f"Custom model {identifier} not found.")
        return model

    def _find_throughput(self, identifier: str) -> ThroughputRecord:
        pt = self.throughputs.get(identifier)
        if pt is None and not identifier.startswith("arn:"):
            pt = next((p for p in self.throughputs.values() if p.name == identifier), None)
        if pt is None:
            raise _not_found(f"Provisioned model {identifier} not found.")
        return pt

    def _find_deployment(self, identifier: str) -> DeploymentRecord:
        dep = self.deployments.get(identifier)
        if dep is None and not identifier.startswith("arn:"):
            dep = next((d for d in self.deployments.values() if d.name == identifier), None)
        if dep is None:
            raise _not_found(f"Custom model deployment {identifier} not found.")
        return dep

    def _resolve_foundation_model(self, identifier: str, *, check_catalog: bool) -> tuple[str, str]:
        m = re.fullmatch(r"arn:aws(?:-[^:]+)?:bedrock:([a-z0-9-]+)::foundation-model/(.+)", identifier)
        if m:
            region, fm_id = m.groups()
            if region != self.region:
                # UNCONFIRMED: code/message for a foundation-model ARN of another Region.
                raise _validation(f"The foundation model {identifier} is not in Region {self.region}.")
        elif identifier.startswith("arn:"):
            raise _validation(f"The provided model identifier {identifier} is invalid.")
        else:
            fm_id = identifier
        if check_catalog and self.foundation_models is not None and fm_id not in self.foundation_models:
            # UNCONFIRMED: code/message for a base model that cannot be customized here.
            raise _validation(
                f"The provided base model {fm_id} does not support customization in {self.region} "
                f"(BedrockDouble.foundation_models: {sorted(self.foundation_models)})."
            )
        return fm_id, self._fm_arn(fm_id)

    def _resolve_model(
        self, identifier: str, *, check_catalog: bool, purpose: str
    ) -> tuple[str, str, CustomModelRecord | None]:
        """(foundation model id, foundation model ARN, custom model or None) for a model identifier."""
        is_custom = ":custom-model/" in identifier or (not identifier.startswith("arn:") and "." not in identifier)
        if is_custom:
            model = self._find_model(identifier)
            if model.status != "Active":
                # UNCONFIRMED code: using a custom model that is not Active.
                raise _validation(
                    f"Custom model {model.name} is {model.status}, not Active; cannot use it for {purpose}."
                )
            return model.foundation_model_id, model.foundation_model_arn, model
        fm_id, fm_arn = self._resolve_foundation_model(identifier, check_catalog=check_catalog)
        return fm_id, fm_arn, None

    def _kms_key_arn(self, key_id: str | None) -> str | None:
        if key_id is None:
            return None
        if key_id.startswith("arn:") and ":key/" in key_id:
            return key_id
        if key_id.startswith("arn:") and ":alias/" in key_id:
            alias = key_id.split(":alias/", 1)[1]
        elif key_id.startswith("alias/"):
            alias = key_id[len("alias/") :]
        else:
            return f"arn:aws:kms:{self.region}:{self.account}:key/{key_id}"
        resolved = self.kms_aliases.get(alias) or str(uuid.uuid5(uuid.NAMESPACE_URL, f"kms-alias/{alias}"))
        return f"arn:aws:kms:{self.region}:{self.account}:key/{resolved}"

    def _idempotent(
        self, op: str, params: dict[str, Any], existing_request: Callable[[str], dict[str, Any] | None]
    ) -> str | None:
        """ARN of the resource an earlier identical request created with the same token, else None."""
        token = params.get("clientRequestToken")
        if token is None:
            return None
        arn = self._tokens.get((op, token))
        if arn is None:
            return None
        before = existing_request(arn)
        strip: Callable[[dict[str, Any]], dict[str, Any]] = lambda d: {  # noqa: E731
            k: v for k, v in d.items() if k != "clientRequestToken"
        }
        if before is not None and strip(before) != strip(params):
            # UNCONFIRMED: AWS does not document the reaction to a reused token with other parameters.
            raise _validation(f"The clientRequestToken {token} was already used with different parameters for {op}.")
        return arn

    def _creation_tags(self, arn: str, tags: list[Any] | None) -> None:
        if not tags:
            return
        self._check_tag_keys(tags)
        merged = {t["key"]: t["value"] for t in tags}
        if len(merged) > self.tag_limit:
            raise BedrockServiceError(
                "TooManyTagsException",
                f"Too many tags for {arn} (limit {self.tag_limit}).",
                fields={"resourceName": arn},
            )
        self.tags[arn] = merged

    @staticmethod
    def _check_tag_keys(tags: list[Any]) -> None:
        for tag in tags:
            if tag["key"].lower().startswith("aws:"):
                # UNCONFIRMED for Bedrock: the "aws:" prefix is reserved across AWS tagging.
                raise _validation(f"Tag keys starting with 'aws:' are reserved: {tag['key']!r}.")

    # ------------------------------------------------------------------
    # Time-driven transitions
    # ------------------------------------------------------------------
    def _note(
        self,
        kind: str,
        arn: str,
        name: str,
        old: str | None,
        new: str,
        when: dt.datetime,
        cause: str | None = None,
        stage: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Record a status change in :attr:`transitions` (cause: the current operation unless given)."""
        if cause is None:
            cause = self._call.operation_name if self._call is not None else "control"
        self.transitions.append(Transition(when, kind, arn, name, old, new, cause, stage, detail))

    def _job_event_detail(self, job: JobRecord) -> dict[str, Any]:
        """The EventBridge ``detail`` for a job state change, as the docs' example has it (bedrock.md D):
        ``jobStatus``, not ``status``.  UNCONFIRMED: whether Bedrock sends one for every status or only
        for some (Tailor's rule matches Completed, Failed and Stopped), and whether statusDetails is in it."""
        view = self._op_GetModelCustomizationJob({"jobIdentifier": job.arn})
        keys = (
            "jobName",
            "jobArn",
            "outputModelName",
            "outputModelArn",
            "roleArn",
            "failureMessage",
            "creationTime",
            "lastModifiedTime",
            "endTime",
            "baseModelArn",
            "hyperParameters",
            "trainingDataConfig",
            "validationDataConfig",
            "outputDataConfig",
        )
        return {"version": "0.0", **{k: view[k] for k in keys if k in view}, "jobStatus": job.status}

    def _held(self, arn: str, name: str) -> bool:
        return any(h == arn or (not h.startswith("arn:") and h in name) for h in self.holds)

    def _tick(self) -> None:
        mark = len(self.transitions)
        self._apply_due(self._now())
        # Applied kind by kind, each stamped when it was due: keep the timeline in time order (stable on ties).
        self.transitions[mark:] = sorted(self.transitions[mark:], key=lambda t: t.time)

    def _apply_due(self, now: dt.datetime) -> None:
        if self.job_duration is not None:
            for job in list(self.jobs.values()):
                if job.status == "InProgress" and not self._held(job.arn, job.name):
                    self._advance_job_by_time(job, now)
        if self.stop_delay is not None:
            for job in self.jobs.values():
                if job.status == "Stopping" and now - job.status_changed_at >= self.stop_delay:
                    self._complete_stop(job, job.status_changed_at + self.stop_delay, cause="time")
        if self.throughput_ready_delay is not None:
            for pt in self.throughputs.values():
                if (
                    pt.status in ("Creating", "Updating")
                    and now - pt.status_changed_at >= self.throughput_ready_delay
                    and not self._held(pt.arn, pt.name)
                ):
                    self._pt_in_service(pt, pt.status_changed_at + self.throughput_ready_delay, cause="time")
        if self.deployment_ready_delay is not None:
            for dep in self.deployments.values():
                if now - dep.status_changed_at >= self.deployment_ready_delay and not self._held(dep.arn, dep.name):
                    self._deployment_ready(dep, dep.status_changed_at + self.deployment_ready_delay, cause="time")
        for ev in self.evaluations.values():
            if (
                ev.status == "Stopping"
                and self.stop_delay is not None
                and now - ev.status_changed_at >= self.stop_delay
            ):
                self._set_evaluation_status(ev, "Stopped", ev.status_changed_at + self.stop_delay, cause="time")
            elif (
                ev.status == "InProgress"
                and self.evaluation_duration is not None
                and now - ev.creation_time >= self.evaluation_duration
                and not self._held(ev.arn, ev.name)
            ):
                self._end_evaluation(ev, ev.creation_time + self.evaluation_duration, cause="time")

    def _advance_job_by_time(self, job: JobRecord, now: dt.datetime) -> None:
        """Walk the stages due by ``now`` (each stamped with its due time), then end the job."""
        assert self.job_duration is not None
        start = job.creation_time
        first, second = self.job_stage_fractions
        boundaries = (
            (start + self.job_duration * first, _JOB_STAGES[0], _JOB_STAGES[1]),
            (start + self.job_duration * second, _JOB_STAGES[1], _JOB_STAGES[2]),
        )
        for due, done, following in boundaries:
            if now < due:
                return
            if job.stages[done]["status"] == "InProgress":
                self._set_stage(job, done, "Completed", due, cause="time")
                if job.stages[following]["status"] == "NotStarted":
                    self._set_stage(job, following, "InProgress", due, cause="time")
        end = start + self.job_duration
        if now < end:
            return
        outcome = self._take_outcome(job.name)
        status = outcome.status if outcome else "Completed"
        training_loss, validation_loss = self.losses_for(job)
        if outcome is not None and outcome.training_loss is not None:
            training_loss = outcome.training_loss
        if outcome is not None and outcome.validation_loss is not None:
            validation_loss = outcome.validation_loss
        self._end_job(
            job,
            status,
            end,
            training_loss=training_loss,
            validation_loss=validation_loss,
            failure_message=outcome.failure_message if outcome else None,
            cause="time",
        )

    def losses_for(self, job: JobRecord) -> tuple[float | None, float | None]:
        """The losses a job ends with by time: fixed, or (``job_metrics="hyperparameters"``) from its settings."""
        if self.job_metrics == "hyperparameters":
            return losses_from_hyperparameters(job.request.get("hyperParameters"))
        if isinstance(self.job_metrics, str):
            raise DoubleError(
                f"job_metrics: is {self.job_metrics!r}; allowed: (training, validation) or 'hyperparameters'"
            )
        return self.job_metrics

    def _take_outcome(self, job_name: str) -> PlannedOutcome | None:
        for outcome in self.job_outcomes:
            if outcome.name_contains in job_name and outcome.times > 0:
                outcome.times -= 1
                if outcome.times == 0:
                    self.job_outcomes.remove(outcome)
                return outcome
        return None

    def _set_stage(self, job: JobRecord, stage: str, status: str, when: dt.datetime, cause: str | None = None) -> None:
        old = job.stages[stage]["status"]
        job.stages[stage].update(status=status, lastModifiedTime=when)
        job.last_modified_time = when
        self._note("job", job.arn, job.name, old, status, when, cause, stage=stage)

    def _set_job_status(self, job: JobRecord, status: str, when: dt.datetime, cause: str | None = None) -> None:
        old = job.status
        job.status = status
        job.last_modified_time = when
        job.status_changed_at = when
        self._note("job", job.arn, job.name, old, status, when, cause, detail=self._job_event_detail(job))

    def _complete_stop(self, job: JobRecord, when: dt.datetime, cause: str | None = None) -> None:
        for stage in job.stages.values():
            if stage["status"] == "Stopping":
                stage["status"] = "Stopped"
                stage["lastModifiedTime"] = when
        job.end_time = when
        self._set_job_status(job, "Stopped", when, cause)

    def _pt_in_service(self, pt: ThroughputRecord, when: dt.datetime, cause: str | None = None) -> None:
        old = pt.status
        pt.status = "InService"
        pt.model_arn = pt.desired_model_arn
        pt.model_units = pt.desired_model_units
        pt.failure_message = None
        pt.last_modified_time = when
        pt.status_changed_at = when
        self._note("provisioned-model", pt.arn, pt.name, old, "InService", when, cause)

    def _deployment_ready(self, dep: DeploymentRecord, when: dt.datetime, cause: str | None = None) -> bool:
        changed = False
        if dep.status == "Creating":
            dep.status = "Active"
            changed = True
            self._note("custom-model-deployment", dep.arn, dep.name, "Creating", "Active", when, cause)
        if dep.update_status == "Updating":
            dep.model_arn = dep.update_model_arn or dep.model_arn
            dep.update_status = "UpdateCompleted"
            changed = True
            self._note(
                "custom-model-deployment", dep.arn, dep.name, "Updating", "UpdateCompleted", when, cause, "update"
            )
        if changed:
            dep.last_updated_at = when
            dep.status_changed_at = when
        return changed

    def _end_job(
        self,
        job: JobRecord,
        status: str,
        when: dt.datetime,
        *,
        training_loss: float | None,
        validation_loss: float | None,
        failure_message: str | None,
        cause: str | None = None,
    ) -> None:
        """End an active job at ``when``: Completed (with metrics and its custom model), Failed or Stopped."""
        if status == "Completed":
            for name, stage in job.stages.items():
                if stage["status"] != "Completed":
                    self._set_stage(job, name, "Completed", when, cause)
            validators = job.request.get("validationDataConfig", {}).get("validators", [])
            if training_loss is not None:
                job.training_metrics = {"trainingLoss": float(training_loss)}
            if validation_loss is not None and validators:
                job.validation_metrics = [{"validationLoss": float(validation_loss)} for _ in validators]
            model_arn = self._arn(f"custom-model/{job.foundation_model_id}/{self._new_id('custom-model')}")
            req = job.request
            model = CustomModelRecord(
                arn=model_arn,
                name=job.output_model_name,
                foundation_model_id=job.foundation_model_id,
                foundation_model_arn=job.foundation_model_arn,
                base_model_arn=job.base_model_arn,
                creation_time=when,
                seq=self._next_seq(),
                status="Active",
                job_arn=job.arn,
                job_name=job.name,
                customization_type=job.customization_type,
                kms_key_arn=job.kms_key_arn,
                hyper_parameters=copy.deepcopy(req.get("hyperParameters")),
                training_data_config=copy.deepcopy(req["trainingDataConfig"]),
                validation_data_config=copy.deepcopy(req.get("validationDataConfig", {"validators": []})),
                output_data_config=copy.deepcopy(req["outputDataConfig"]),
                customization_config=copy.deepcopy(req.get("customizationConfig")),
                training_metrics=copy.deepcopy(job.training_metrics),
                validation_metrics=copy.deepcopy(job.validation_metrics),
            )
            self.custom_models[model_arn] = model
            if req.get("customModelTags"):
                self.tags[model_arn] = {t["key"]: t["value"] for t in req["customModelTags"]}
            job.output_model_arn = model_arn
            self._note("custom-model", model_arn, model.name, None, "Active", when, cause)
        else:
            final = "Failed" if status == "Failed" else "Stopped"
            for name, stage in job.stages.items():
                if stage["status"] in ("InProgress", "Stopping"):
                    self._set_stage(job, name, final, when, cause)
            if status == "Failed":
                job.failure_message = failure_message or "Model customization failed (injected by BedrockDouble)."
        job.end_time = when
        self._set_job_status(job, status, when, cause)

    # ------------------------------------------------------------------
    # Control API (for tests and the HTTP server's harness endpoints)
    # ------------------------------------------------------------------
    def tick(self) -> None:
        """Apply the time-driven transitions due at ``clock()`` now.

        They are otherwise applied at the start of each API call, so after
        ``clock.advance`` the inspection dicts lag until the next call or tick."""
        with self._lock:
            self._tick()

    def settle(self) -> list[tuple[str, str, str]]:
        """Finish every pending transition now; return ``[(arn, old, new), ...]``.

        Jobs Stopping -> Stopped; PTs Creating/Updating -> InService;
        deployments Creating -> Active and update Updating -> UpdateCompleted.
        InProgress jobs are left alone: use :meth:`finish_job`.  Holds apply only
        to changes made by time: ``settle`` is an explicit order and overrides them.
        """
        with self._lock:
            now = self._now()
            changes = []
            for job in self.jobs.values():
                if job.status == "Stopping":
                    self._complete_stop(job, now, cause="control")
                    changes.append((job.arn, "Stopping", "Stopped"))
            for pt in self.throughputs.values():
                if pt.status in ("Creating", "Updating"):
                    old = pt.status
                    self._pt_in_service(pt, now, cause="control")
                    changes.append((pt.arn, old, "InService"))
            for dep in self.deployments.values():
                old = dep.status if dep.status == "Creating" else f"update:{dep.update_status}"
                if self._deployment_ready(dep, now, cause="control"):
                    changes.append((dep.arn, old, "Active" if old == "Creating" else "update:UpdateCompleted"))
            return changes

    def _job_named(self, name_or_arn: str) -> JobRecord:
        job = self.jobs.get(name_or_arn) or next((j for j in self.jobs.values() if j.name == name_or_arn), None)
        if job is None:
            raise KeyError(f"no job {name_or_arn!r}")
        return job

    def finish_job(
        self,
        name_or_arn: str,
        status: str = "Completed",
        training_loss: float | None = 0.1,
        validation_loss: float | None = 0.2,
        failure_message: str | None = None,
    ) -> JobRecord:
        """End a job.  ``Completed`` creates its custom model (Active, with
        metrics and ``customModelTags``) and sets ``outputModelArn``; ``Failed``
        sets ``failureMessage``; ``Stopped`` ends it as if stopped."""
        with self._lock:
            job = self._job_named(name_or_arn)
            if status not in ("Completed", "Failed", "Stopped"):
                raise ValueError("status must be Completed, Failed or Stopped")
            if job.status not in _JOB_ACTIVE:
                raise ValueError(f"job {job.name} is already {job.status}")
            if job.status == "Stopping" and status == "Completed":
                raise ValueError(f"job {job.name} is Stopping; it can only end Stopped or Failed")
            self._end_job(
                job,
                status,
                self._now(),
                training_loss=training_loss,
                validation_loss=validation_loss,
                failure_message=failure_message,
                cause="control",
            )
            return job

    def plan_job_outcome(
        self, name_contains: str, status: str, failure_message: str | None = None, times: int = 1
    ) -> PlannedOutcome:
        """Make the next ``times`` jobs whose name contains ``name_contains`` end ``status``
        (Completed, Failed or Stopped) when ``job_duration`` is up, instead of Completed."""
        if status not in ("Completed", "Failed", "Stopped"):
            raise ValueError("status must be Completed, Failed or Stopped")
        if times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            outcome = PlannedOutcome(name_contains, status, failure_message, times)
            self.job_outcomes.append(outcome)
            return outcome

    def hold(self, name_or_arn: str) -> None:
        """Keep matching resources (an ARN, or any PT/deployment/job whose name contains the text)
        where they are: time no longer moves them (a PT stuck in Creating).  ``settle`` still does."""
        if not name_or_arn:
            raise ValueError("hold needs an ARN or a non-empty name fragment")
        with self._lock:
            self.holds.add(name_or_arn)

    def release(self, name_or_arn: str | None = None) -> None:
        """Undo :meth:`hold` (all holds when None); what was due happens at the next call or tick."""
        with self._lock:
            if name_or_arn is None:
                self.holds.clear()
            else:
                self.holds.discard(name_or_arn)

    def advance_job_stage(self, name_or_arn: str) -> str:
        """Move an InProgress job to its next stage (validation -> data processing -> training)."""
        with self._lock:
            job = self._job_named(name_or_arn)
            if job.status != "InProgress":
                raise ValueError(f"job {job.name} is {job.status}")
            now = self._now()
            for i, name in enumerate(_JOB_STAGES):
                stage = job.stages[name]
                if stage["status"] == "InProgress":
                    if i + 1 == len(_JOB_STAGES):
                        raise ValueError("job is training; use finish_job()")
                    self._set_stage(job, name, "Completed", now, cause="control")
                    self._set_stage(job, _JOB_STAGES[i + 1], "InProgress", now, cause="control")
                    return _JOB_STAGES[i + 1]
            raise ValueError(f"job {job.name} has no stage in progress")  # pragma: no cover

    def set_throughput_status(
        self, name_or_arn: str, status: str, failure_message: str | None = None
    ) -> ThroughputRecord:
        """Force a PT status: InService (applies a pending model update), Failed, Updating or Creating."""
        with self._lock:
            pt = self.throughputs.get(name_or_arn) or next(
                (p for p in self.throughputs.values() if p.name == name_or_arn), None
            )
            if pt is None:
                raise KeyError(f"no provisioned throughput {name_or_arn!r}")
            now = self._now()
            if status == "InService":
                self._pt_in_service(pt, now, cause="control")
            elif status in ("Failed", "Updating", "Creating"):
                old = pt.status
                pt.status = status
                pt.failure_message = (
                    (failure_message or "Provisioning failed (injected by BedrockDouble).")
                    if status == "Failed"
                    else None
                )
                pt.last_modified_time = now
                pt.status_changed_at = now
                self._note("provisioned-model", pt.arn, pt.name, old, status, now, "control")
            else:
                raise ValueError("status must be Creating, InService, Updating or Failed")
            return pt

    def set_deployment_status(
        self, name_or_arn: str, status: str, failure_message: str | None = None
    ) -> DeploymentRecord:
        """Force a deployment status: Creating, Active (also completes a pending update) or Failed."""
        with self._lock:
            dep = self.deployments.get(name_or_arn) or next(
                (d for d in self.deployments.values() if d.name == name_or_arn), None
            )
            if dep is None:
                raise KeyError(f"no deployment {name_or_arn!r}")
            now = self._now()
            if status == "Active":
                old = dep.status
                if old not in ("Creating", "Active"):
                    dep.status = "Active"
                    dep.failure_message = None
                    dep.last_updated_at = now
                    dep.status_changed_at = now
                    self._note("custom-model-deployment", dep.arn, dep.name, old, "Active", now, "control")
                self._deployment_ready(dep, now, cause="control")
            elif status in ("Creating", "Failed"):
                old = dep.status
                dep.status = status
                dep.failure_message = (
                    (failure_message or "Deployment failed (injected by BedrockDouble).")
                    if status == "Failed"
                    else None
                )
                dep.last_updated_at = now
                dep.status_changed_at = now
                self._note("custom-model-deployment", dep.arn, dep.name, old, status, now, "control")
            else:
                raise ValueError("status must be Creating, Active or Failed")
            return dep

    def add_custom_model(
        self,
        name: str,
        base_model_id: str = "amazon.nova-micro-v1:0:128k",
        *,
        status: str = "Active",
        tags: dict[str, str] | None = None,
        customization_type: str = "FINE_TUNING",
    ) -> str:
        """Seed a custom model without running a job (e.g. for PT tests); returns its ARN."""
        with self._lock:
            if any(m.name == name for m in self.custom_models.values()):
                raise ValueError(f"custom model {name!r} exists")
            fm_id, fm_arn = self._resolve_foundation_model(base_model_id, check_catalog=False)
            now = self._now()
            arn = self._arn(f"custom-model/{fm_id}/{self._new_id('custom-model')}")
            self.custom_models[arn] = CustomModelRecord(
                arn=arn,
                name=name,
                foundation_model_id=fm_id,
                foundation_model_arn=fm_arn,
                base_model_arn=fm_arn,
                creation_time=now,
                seq=self._next_seq(),
                status=status,
                customization_type=customization_type,
                output_data_config={"s3Uri": "s3://tailor-double-output/seeded/"},
                training_data_config={"s3Uri": "s3://tailor-double-input/seeded/train.jsonl"},
            )
            if tags:
                self.tags[arn] = dict(tags)
            return arn

    def fail_next(
        self,
        operation_name: str,
        code: str,
        message: str = "Injected by BedrockDouble.fail_next",
        http_status: int | None = None,
        times: int = 1,
        *,
        after_apply: bool = False,
        allow_unmodelled: bool = False,
        fields: dict[str, Any] | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``operation_name`` fail with ``code``.

        ``operation_name``: API name or client method name.  ``http_status``:
        default from the model's error shape (Throttling 429, InternalServer
        500, AccessDenied 403, ResourceNotFound 404, others 400).  The fault is
        taken before validation and before any state change; with
        ``after_apply=True`` the operation is applied first and its response
        replaced by the error (a "lost response": Bedrock created the
        resource, the caller saw a failure).  ``code`` must be modelled for
        the operation unless it is a generic AWS code (ServiceUnavailable...)
        or ``allow_unmodelled=True``: this catches typos like "ThrottledException".
        """
        if times < 1:
            raise ValueError("times must be >= 1")
        name, status = fault_status(operation_name, code, http_status, allow_unmodelled=allow_unmodelled)
        with self._lock:
            queue = self._faults.setdefault(name, deque())
            for _ in range(times):
                queue.append(_Fault(code, message, status, after_apply, dict(fields or {})))

    def _take_fault(self, op_name: str) -> _Fault | None:
        queue = self._faults.get(op_name)
        if queue:
            return queue.popleft()
        return None

    def pending_faults(self) -> dict[str, int]:
        return {op: len(q) for op, q in self._faults.items() if q}

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def snapshot(self) -> dict[str, Any]:
        """Everything the double holds, as Get* would show it (after applying what is due now).

        Jobs, custom models, PTs and deployments (each with its ``tags``), holds, planned outcomes,
        pending faults, loud errors, rejected requests and the settings that drive time and quotas:
        what a harness prints and checks ("nothing left billed": no PT or deployment left)."""
        with self._lock:
            self._tick()

            def tagged(view: dict[str, Any], arn: str) -> dict[str, Any]:
                return {**view, "tags": dict(self.tags.get(arn, {}))}

            return {
                "account": self.account,
                "region": self.region,
                "time": self._now(),
                "jobs": [tagged(self._op_GetModelCustomizationJob({"jobIdentifier": arn}), arn) for arn in self.jobs],
                "custom_models": [
                    tagged(self._op_GetCustomModel({"modelIdentifier": arn}), arn) for arn in self.custom_models
                ],
                "provisioned_throughputs": [
                    tagged(self._op_GetProvisionedModelThroughput({"provisionedModelId": arn}), arn)
                    for arn in self.throughputs
                ],
                "custom_model_deployments": [
                    tagged(self._op_GetCustomModelDeployment({"customModelDeploymentIdentifier": arn}), arn)
                    for arn in self.deployments
                ],
                "evaluation_jobs": [
                    {
                        **tagged(self._op_GetEvaluationJob({"jobIdentifier": arn}), arn),
                        "scores": dict(self.evaluations[arn].scores or {}),
                    }
                    for arn in self.evaluations
                ],
                "holds": sorted(self.holds),
                "planned_outcomes": [dict(vars(o)) for o in self.job_outcomes],
                "pending_faults": self.pending_faults(),
                "errors": [f"{type(e).__name__}: {e}" for e in self.errors],
                "rejections": [f"{op}: {violation.aws_message()}" for op, violation in self.rejections],
                "calls": len(self.calls),
                "settings": self.settings(),
            }

    def settings(self) -> dict[str, Any]:
        """The delays (seconds, None = only by explicit control) and quotas (None = unlimited) in force."""

        def seconds(delay: dt.timedelta | None) -> float | None:
            return None if delay is None else delay.total_seconds()

        return {
            "job_seconds": seconds(self.job_duration),
            "job_stage_fractions": list(self.job_stage_fractions),
            "stop_seconds": seconds(self.stop_delay),
            "throughput_seconds": seconds(self.throughput_ready_delay),
            "deployment_seconds": seconds(self.deployment_ready_delay),
            "evaluation_seconds": seconds(self.evaluation_duration),
            "job_metrics": self.job_metrics if isinstance(self.job_metrics, str) else list(self.job_metrics),
            "job_concurrency_quota": self.job_concurrency_quota,
            "model_unit_quota": self.model_unit_quota,
            "no_commitment_throughput_quota": self.no_commitment_throughput_quota,
            "no_commitment_model_units_per_throughput": self.no_commitment_model_units_per_throughput,
            "commitment_model_unit_quota": self.commitment_model_unit_quota,
            "allow_base_model_without_commitment": self.allow_base_model_without_commitment,
            "commitment_delete_code": self.commitment_delete_code,
            "stop_not_running_code": self.stop_not_running_code,
        }

    def calls_to(self, operation_name: str) -> list[Call]:
        """The recorded attempts of one operation (API or method name)."""
        name = operation_model(operation_name, self._service_model).name
        return [c for c in self.calls if c.operation_name == name]

    def assert_no_errors(self) -> None:
        """Fail if the double raised a loud error (possibly swallowed by the code under test)."""
        if self.errors:
            raise DoubleError(
                f"BedrockDouble recorded {len(self.errors)} error(s): " + "; ".join(map(str, self.errors))
            )

    @contextlib.contextmanager
    def instant_retries(self) -> Iterator[list[float]]:
        """Replace botocore's retry back-off ``time.sleep`` by fake-clock advances.

        Patches the ``time`` module reference inside ``botocore.endpoint`` for
        the duration of the block (process-wide; not thread-safe).  Yields the
        list of requested sleep durations (also in ``self.retry_sleeps``).
        """
        from botocore import endpoint as _endpoint

        endpoint_module: Any = _endpoint  # botocore-stubs do not declare the module's `time` import

        original = endpoint_module.time
        double = self
        sleeps: list[float] = []

        class _Time:
            def __getattr__(self, name: str) -> Any:
                return getattr(original, name)

            @staticmethod
            def sleep(seconds: float) -> None:
                sleeps.append(seconds)
                double.retry_sleeps.append(seconds)
                if isinstance(double.clock, FakeClock):
                    double.clock.advance(seconds=seconds)

        endpoint_module.time = _Time()
        try:
            yield sleeps
        finally:
            endpoint_module.time = original

    # ------------------------------------------------------------------
    # Pagination
    # ------------------------------------------------------------------
    def _page(
        self, op: str, params: dict[str, Any], items: list[Any], time_of: Callable[[Any], dt.datetime]
    ) -> tuple[list[Any], str | None]:
        descending = params.get("sortOrder", "Descending") == "Descending"  # UNCONFIRMED default order
        items = sorted(items, key=lambda r: (time_of(r), r.seq), reverse=descending)
        filters = {k: v for k, v in params.items() if k not in ("nextToken", "maxResults")}
        fingerprint = hashlib.sha256(json.dumps(filters, sort_keys=True, default=str).encode()).hexdigest()[:16]
        start = 0
        token = params.get("nextToken")
        if token is not None:
            try:
                data = json.loads(base64.urlsafe_b64decode(token.encode()).decode())
                assert data["op"] == op and data["f"] == fingerprint
                last = (dt.datetime.fromisoformat(data["t"]), int(data["s"]))
            except Exception:
                # UNCONFIRMED: code/message for a foreign, stale or tampered token.
                raise _validation("The provided pagination token is invalid.") from None
            keys = [(time_of(r), r.seq) for r in items]
            start = next(
                (i for i, k in enumerate(keys) if (k < last if descending else k > last)),
                len(items),
            )
        size = params.get("maxResults", self.default_page_size)
        page = items[start : start + size]
        next_token = None
        if start + size < len(items) and page:
            last_item = page[-1]
            data = {"op": op, "f": fingerprint, "t": time_of(last_item).isoformat(), "s": last_item.seq}
            next_token = base64.urlsafe_b64encode(json.dumps(data).encode()).decode()
        return page, next_token

    @staticmethod
    def _time_filter(value: dt.datetime, after: Any, before: Any) -> bool:
        return (after is None or value > _as_datetime(after)) and (before is None or value < _as_datetime(before))

    # ------------------------------------------------------------------
    # Model customization jobs
    # ------------------------------------------------------------------
    def _op_CreateModelCustomizationJob(self, p: dict[str, Any]) -> dict[str, Any]:
        op = "CreateModelCustomizationJob"
        existing = self._idempotent(op, p, lambda arn: self.jobs[arn].request if arn in self.jobs else None)
        if existing is not None:
            return {"jobArn": existing}
        name = p["jobName"]
        if any(j.name == name for j in self.jobs.values()):
            # Code UNCONFIRMED (ValidationException per Airflow's tests; some callers expect
            # ConflictException); the message is the one Airflow's operator matches.
            raise _validation("The provided job name is currently in use.")
        model_name = p["customModelName"]
        if any(m.name == model_name for m in self.custom_models.values()) or any(
            j.output_model_name == model_name and j.status in _JOB_ACTIVE for j in self.jobs.values()
        ):
            # UNCONFIRMED code/message.  Failed/Stopped jobs are taken to release the name.
            raise _validation(f"The provided custom model name {model_name} is currently in use.")
        fm_id, fm_arn, source = self._resolve_model(
            p["baseModelIdentifier"], check_catalog=True, purpose="customization"
        )
        ctype = p.get("customizationType", "FINE_TUNING")
        config = p.get("customizationConfig") or {}
        # UNCONFIRMED consistency rules between customizationType and customizationConfig.
        if ctype == "IMPORTED":
            raise _validation("customizationType IMPORTED is not valid for a model customization job.")
        if "distillationConfig" in config and ctype != "DISTILLATION":
            raise _validation("customizationConfig.distillationConfig requires customizationType DISTILLATION.")
        if "rftConfig" in config and ctype != "REINFORCEMENT_FINE_TUNING":
            raise _validation("customizationConfig.rftConfig requires customizationType REINFORCEMENT_FINE_TUNING.")
        if ctype == "DISTILLATION" and "distillationConfig" not in config:
            raise _validation("customizationType DISTILLATION requires customizationConfig.distillationConfig.")
        if ctype == "REINFORCEMENT_FINE_TUNING" and "rftConfig" not in config:
            raise _validation("customizationType REINFORCEMENT_FINE_TUNING requires customizationConfig.rftConfig.")
        training = p["trainingDataConfig"]
        if not training.get("s3Uri") and not training.get("invocationLogsConfig"):
            # UNCONFIRMED wording; a job without any training data cannot run.
            raise _validation("trainingDataConfig needs s3Uri or invocationLogsConfig.")
        if self.job_concurrency_quota is not None:
            running = sum(1 for j in self.jobs.values() if j.status in _JOB_ACTIVE)
            if running >= self.job_concurrency_quota:
                raise BedrockServiceError(
                    "ServiceQuotaExceededException",
                    f"You have reached the quota of {self.job_concurrency_quota} concurrent model customization "
                    f"jobs in account {self.account} in {self.region} ({running} in progress). Wait for one to end "
                    "or stop one.",
                )
        self._check_tag_keys(p.get("jobTags", []) + p.get("customModelTags", []))
        now = self._now()
        arn = self._arn(f"model-customization-job/{fm_id}/{self._new_id('model-customization-job')}")
        token = p.get("clientRequestToken")
        job = JobRecord(
            arn=arn,
            name=name,
            request=copy.deepcopy(p),
            client_request_token=token,
            token_explicit=token is not None and "clientRequestToken" not in cast(Call, self._call).injected_tokens,
            foundation_model_id=fm_id,
            foundation_model_arn=fm_arn,
            base_model_arn=source.arn if source else fm_arn,
            source_model_arn=source.arn if source else None,
            customization_type=ctype,
            kms_key_arn=self._kms_key_arn(p.get("customModelKmsKeyId")),
            output_model_name=model_name,
            creation_time=now,
            last_modified_time=now,
            status_changed_at=now,
            seq=self._next_seq(),
            stages={
                stage: {
                    "status": "InProgress" if i == 0 else "NotStarted",
                    "creationTime": now,
                    "lastModifiedTime": now,
                }
                for i, stage in enumerate(_JOB_STAGES)
            },
        )
        self._creation_tags(arn, p.get("jobTags"))
        self.jobs[arn] = job
        if token is not None:
            self._tokens[(op, token)] = arn
        self._note("job", arn, name, None, "InProgress", now, detail=self._job_event_detail(job))
        self._note("job", arn, name, "NotStarted", "InProgress", now, stage=_JOB_STAGES[0])
        return {"jobArn": arn}

    def _job_status_details(self, job: JobRecord) -> dict[str, Any]:
        return {name: dict(stage) for name, stage in job.stages.items()}

    def _op_GetModelCustomizationJob(self, p: dict[str, Any]) -> dict[str, Any]:
        job = self._find_job(p["jobIdentifier"])
        req = job.request
        return _strip_none(
            {
                "jobArn": job.arn,
                "jobName": job.name,
                "outputModelName": job.output_model_name,
                "outputModelArn": job.output_model_arn,
                "clientRequestToken": job.client_request_token,
                "roleArn": req["roleArn"],
                "status": job.status,
                "statusDetails": self._job_status_details(job),
                "failureMessage": job.failure_message,
                "creationTime": job.creation_time,
                "lastModifiedTime": job.last_modified_time,
                "endTime": job.end_time,
                # FoundationModelArn-typed: for a job customizing a custom model this is the
                # underlying foundation model (UNCONFIRMED what AWS returns there).
                "baseModelArn": job.foundation_model_arn,
                "hyperParameters": copy.deepcopy(req.get("hyperParameters")),
                "trainingDataConfig": copy.deepcopy(req["trainingDataConfig"]),
                # Required in the response; UNCONFIRMED that AWS returns empty validators when none were given.
                "validationDataConfig": copy.deepcopy(req.get("validationDataConfig", {"validators": []})),
                "outputDataConfig": copy.deepcopy(req["outputDataConfig"]),
                "customizationType": job.customization_type,
                "outputModelKmsKeyArn": job.kms_key_arn,
                "trainingMetrics": copy.deepcopy(job.training_metrics),
                "validationMetrics": copy.deepcopy(job.validation_metrics),
                "vpcConfig": copy.deepcopy(req.get("vpcConfig")),
                "customizationConfig": copy.deepcopy(req.get("customizationConfig")),
            }
        )

    def _op_StopModelCustomizationJob(self, p: dict[str, Any]) -> dict[str, Any]:
        job = self._find_job(p["jobIdentifier"])
        if job.status != "InProgress":
            # UNCONFIRMED: ValidationException vs ConflictException (both modelled for Stop).
            raise BedrockServiceError(
                self.stop_not_running_code, f"Job {job.name} is {job.status}; only InProgress jobs can be stopped."
            )
        now = self._now()
        for name, stage in job.stages.items():
            if stage["status"] == "InProgress":
                self._set_stage(job, name, "Stopping", now)
        self._set_job_status(job, "Stopping", now)
        return {}

    def _op_ListModelCustomizationJobs(self, p: dict[str, Any]) -> dict[str, Any]:
        items = [
            j
            for j in self.jobs.values()
            if self._time_filter(j.creation_time, p.get("creationTimeAfter"), p.get("creationTimeBefore"))
            and ("statusEquals" not in p or j.status == p["statusEquals"])
            and ("nameContains" not in p or p["nameContains"] in j.name)
        ]
        page, token = self._page("ListModelCustomizationJobs", p, items, lambda j: j.creation_time)
        summaries = [
            _strip_none(
                {
                    "jobArn": j.arn,
                    "baseModelArn": j.base_model_arn,
                    "jobName": j.name,
                    "status": j.status,
                    "statusDetails": self._job_status_details(j),
                    "lastModifiedTime": j.last_modified_time,
                    "creationTime": j.creation_time,
                    "endTime": j.end_time,
                    "customModelArn": j.output_model_arn,
                    "customModelName": j.output_model_name,
                    "customizationType": j.customization_type,
                }
            )
            for j in page
        ]
        return _strip_none({"modelCustomizationJobSummaries": summaries, "nextToken": token})

    # ------------------------------------------------------------------
    # Custom models
    # ------------------------------------------------------------------
    def _op_GetCustomModel(self, p: dict[str, Any]) -> dict[str, Any]:
        m = self._find_model(p["modelIdentifier"])
        return _strip_none(
            {
                "modelArn": m.arn,
                "modelName": m.name,
                "jobName": m.job_name,
                "jobArn": m.job_arn,
                "baseModelArn": m.base_model_arn,
                "customizationType": m.customization_type,
                "modelKmsKeyArn": m.kms_key_arn,
                "hyperParameters": copy.deepcopy(m.hyper_parameters),
                "trainingDataConfig": copy.deepcopy(m.training_data_config),
                "validationDataConfig": copy.deepcopy(m.validation_data_config),
                "outputDataConfig": copy.deepcopy(m.output_data_config),
                "trainingMetrics": copy.deepcopy(m.training_metrics),
                "validationMetrics": copy.deepcopy(m.validation_metrics),
                "creationTime": m.creation_time,
                "customizationConfig": copy.deepcopy(m.customization_config),
                "modelStatus": m.status,
                "failureMessage": m.failure_message,
            }
        )

    def _op_ListCustomModels(self, p: dict[str, Any]) -> dict[str, Any]:
        owned = p.get("isOwned")
        items = [
            m
            for m in self.custom_models.values()
            if self._time_filter(m.creation_time, p.get("creationTimeAfter"), p.get("creationTimeBefore"))
            and ("nameContains" not in p or p["nameContains"] in m.name)
            and ("baseModelArnEquals" not in p or m.base_model_arn == p["baseModelArnEquals"])
            and ("foundationModelArnEquals" not in p or m.foundation_model_arn == p["foundationModelArnEquals"])
            and ("modelStatus" not in p or m.status == p["modelStatus"])
            and owned is not False  # every model here is owned; isOwned=False lists shared models: none
        ]
        page, token = self._page("ListCustomModels", p, items, lambda m: m.creation_time)
        summaries = [
            _strip_none(
                {
                    "modelArn": m.arn,
                    "modelName": m.name,
                    "creationTime": m.creation_time,
                    "baseModelArn": m.base_model_arn,
                    # ModelName pattern allows no ':'; UNCONFIRMED that AWS strips the version suffix.
                    "baseModelName": m.foundation_model_id.split(":", 1)[0],
                    "customizationType": m.customization_type,
                    "ownerAccountId": self.account,
                    "modelStatus": m.status,
                }
            )
            for m in page
        ]
        return _strip_none({"modelSummaries": summaries, "nextToken": token})

    def _op_DeleteCustomModel(self, p: dict[str, Any]) -> dict[str, Any]:
        m = self._find_model(p["modelIdentifier"])
        users = [pt.arn for pt in self.throughputs.values() if m.arn in (pt.model_arn, pt.desired_model_arn)]
        users += [d.arn for d in self.deployments.values() if m.arn in (d.model_arn, d.update_model_arn)]
        users += [j.arn for j in self.jobs.values() if j.source_model_arn == m.arn and j.status in _JOB_ACTIVE]
        if users:
            raise _conflict(f"Custom model {m.name} is in use by {', '.join(users)}; delete those first.")
        del self.custom_models[m.arn]
        self.tags.pop(m.arn, None)
        self._note("custom-model", m.arn, m.name, m.status, "Deleted", self._now())
        return {}

    # ------------------------------------------------------------------
    # Provisioned Throughput
    # ------------------------------------------------------------------
    def _op_CreateProvisionedModelThroughput(self, p: dict[str, Any]) -> dict[str, Any]:
        op = "CreateProvisionedModelThroughput"
        existing = self._idempotent(
            op, p, lambda arn: self.throughputs[arn].request if arn in self.throughputs else None
        )
        if existing is not None:
            return {"provisionedModelArn": existing}
        name = p["provisionedModelName"]
        if any(pt.name == name for pt in self.throughputs.values()):
            # UNCONFIRMED code (no ConflictException is modelled for this operation).
            raise _validation(f"A provisioned model named {name} already exists.")
        fm_id, fm_arn, model = self._resolve_model(p["modelId"], check_catalog=False, purpose="Provisioned Throughput")
        units = p["modelUnits"]
        if self.model_unit_quota is not None:
            used = sum(pt.model_units for pt in self.throughputs.values())
            if used + units > self.model_unit_quota:
                raise BedrockServiceError(
                    "ServiceQuotaExceededException",
                    f"Model units quota exceeded: {used} in use + {units} requested > {self.model_unit_quota}.",
                )
        self._check_throughput_quotas(units, p.get("commitmentDuration"), model)
        self._check_tag_keys(p.get("tags", []))
        now = self._now()
        arn = self._arn(f"provisioned-model/{self._new_id('provisioned-model')}")
        model_arn = model.arn if model else fm_arn
        duration = p.get("commitmentDuration")
        # Commitment term counted from creation, in calendar months (UNCONFIRMED: AWS may count from InService).
        expiration = _add_months(now, {"OneMonth": 1, "SixMonths": 6}[duration]) if duration else None
        self._creation_tags(arn, p.get("tags"))
        self.throughputs[arn] = ThroughputRecord(
            arn=arn,
            name=name,
            model_arn=model_arn,
            desired_model_arn=model_arn,
            foundation_model_arn=fm_arn,
            model_units=units,
            desired_model_units=units,
            creation_time=now,
            last_modified_time=now,
            status_changed_at=now,
            seq=self._next_seq(),
            request=copy.deepcopy(p),
            client_request_token=p.get("clientRequestToken"),
            commitment_duration=duration,
            commitment_expiration_time=expiration,
        )
        if p.get("clientRequestToken") is not None:
            self._tokens[(op, p["clientRequestToken"])] = arn
        self._note("provisioned-model", arn, name, None, "Creating", now)
        return {"provisionedModelArn": arn}

    def _check_throughput_quotas(self, units: int, duration: str | None, model: CustomModelRecord | None) -> None:
        """Bedrock's PT rules by commitment (BEDROCK_DEFAULT_QUOTAS has the sources).  Messages are
        written in Bedrock's style; AWS's exact wording is UNCONFIRMED."""
        where = f"account {self.account} in {self.region}"
        if duration is None:
            if model is None and not self.allow_base_model_without_commitment:
                # UNCONFIRMED code: docs say a no-commitment PT is "Not available" for base models.
                raise _validation(
                    "Provisioned Throughput without commitment is available only for custom models; "
                    "choose a commitmentDuration (OneMonth or SixMonths) for a base model."
                )
            per_pt = self.no_commitment_model_units_per_throughput
            if per_pt is not None and units > per_pt:
                raise BedrockServiceError(
                    "ServiceQuotaExceededException",
                    f"A Provisioned Throughput with no commitment can have at most {per_pt} model unit(s) in "
                    f"{where}; {units} requested. Request a quota increase or buy a commitment.",
                )
            limit = self.no_commitment_throughput_quota
            existing = [pt.name for pt in self.throughputs.values() if pt.commitment_duration is None]
            if limit is not None and len(existing) >= limit:
                raise BedrockServiceError(
                    "ServiceQuotaExceededException",
                    f"You have reached the quota of {limit} Provisioned Throughputs with no commitment in {where} "
                    f"({', '.join(sorted(existing))}). Delete one or request a quota increase.",
                )
        elif self.commitment_model_unit_quota is not None:
            used = sum(pt.model_units for pt in self.throughputs.values() if pt.commitment_duration is not None)
            if used + units > self.commitment_model_unit_quota:
                raise BedrockServiceError(
                    "ServiceQuotaExceededException",
                    f"Model units for Provisioned Throughputs with commitment exceeded in {where}: {used} in use + "
                    f"{units} requested > {self.commitment_model_unit_quota}. Request model units from AWS Support.",
                )

    def _pt_view(self, pt: ThroughputRecord) -> dict[str, Any]:
        return _strip_none(
            {
                "modelUnits": pt.model_units,
                "desiredModelUnits": pt.desired_model_units,
                "provisionedModelName": pt.name,
                "provisionedModelArn": pt.arn,
                "modelArn": pt.model_arn,
                "desiredModelArn": pt.desired_model_arn,
                "foundationModelArn": pt.foundation_model_arn,
                "status": pt.status,
                "creationTime": pt.creation_time,
                "lastModifiedTime": pt.last_modified_time,
                "commitmentDuration": pt.commitment_duration,
                "commitmentExpirationTime": pt.commitment_expiration_time,
            }
        )

    def _op_GetProvisionedModelThroughput(self, p: dict[str, Any]) -> dict[str, Any]:
        pt = self._find_throughput(p["provisionedModelId"])
        view = self._pt_view(pt)
        if pt.failure_message:
            view["failureMessage"] = pt.failure_message
        return view

    def _op_UpdateProvisionedModelThroughput(self, p: dict[str, Any]) -> dict[str, Any]:
        pt = self._find_throughput(p["provisionedModelId"])
        if pt.status in ("Creating", "Updating"):
            # UNCONFIRMED code (no ConflictException is modelled for Update).
            raise _validation(f"Provisioned model {pt.name} is {pt.status}; wait until it is InService.")
        now = self._now()
        new_name = p.get("desiredProvisionedModelName")
        if new_name is not None and new_name != pt.name and any(o.name == new_name for o in self.throughputs.values()):
            raise _validation(f"A provisioned model named {new_name} already exists.")  # UNCONFIRMED code
        desired_arn = None
        if p.get("desiredModelId") is not None:
            _fm_id, fm_arn, model = self._resolve_model(
                p["desiredModelId"], check_catalog=False, purpose="Provisioned Throughput"
            )
            if fm_arn != pt.foundation_model_arn:
                # Docs: only the base model or a custom model of the same base.  Code UNCONFIRMED.
                raise _validation(
                    f"desiredModelId must be {pt.foundation_model_arn} or a custom model customized from it."
                )
            desired_arn = model.arn if model else fm_arn
        if new_name is not None:
            pt.name = new_name
        if desired_arn is not None and desired_arn != pt.model_arn:
            pt.desired_model_arn = desired_arn
            self._note("provisioned-model", pt.arn, pt.name, pt.status, "Updating", now)
            pt.status = "Updating"
            pt.status_changed_at = now
        pt.last_modified_time = now
        return {}

    def _op_DeleteProvisionedModelThroughput(self, p: dict[str, Any]) -> dict[str, Any]:
        pt = self._find_throughput(p["provisionedModelId"])
        if pt.status in ("Creating", "Updating"):
            raise _conflict(f"Provisioned model {pt.name} is {pt.status}; try again when it is InService or Failed.")
        now = self._now()
        if pt.commitment_expiration_time is not None and now < pt.commitment_expiration_time:
            # Docs: "You can't delete a Provisioned Throughput before the commitment term is over."
            # UNCONFIRMED code: ValidationException by default (the docstring states it as a rule about the
            # request, as Google's analogous API answers 400 "Cannot delete capacity commitment before commitment
            # end time"); ConflictException is also modelled for Delete: commitment_delete_code picks it, and
            # Tailor's teardown must hold either way (it checks commitmentExpirationTime before deleting).
            raise BedrockServiceError(
                self.commitment_delete_code,
                f"Provisioned model {pt.name} has a {pt.commitment_duration} commitment until "
                f"{pt.commitment_expiration_time.isoformat()}; it cannot be deleted before the term ends.",
            )
        del self.throughputs[pt.arn]
        self.tags.pop(pt.arn, None)
        self._note("provisioned-model", pt.arn, pt.name, pt.status, "Deleted", now)
        return {}

    def _op_ListProvisionedModelThroughputs(self, p: dict[str, Any]) -> dict[str, Any]:
        items = [
            pt
            for pt in self.throughputs.values()
            if self._time_filter(pt.creation_time, p.get("creationTimeAfter"), p.get("creationTimeBefore"))
            and ("statusEquals" not in p or pt.status == p["statusEquals"])
            and ("modelArnEquals" not in p or pt.model_arn == p["modelArnEquals"])
            and ("nameContains" not in p or p["nameContains"] in pt.name)
        ]
        page, token = self._page("ListProvisionedModelThroughputs", p, items, lambda pt: pt.creation_time)
        return _strip_none({"provisionedModelSummaries": [self._pt_view(pt) for pt in page], "nextToken": token})

    # ------------------------------------------------------------------
    # Custom model deployments (on-demand)
    # ------------------------------------------------------------------
    def _op_CreateCustomModelDeployment(self, p: dict[str, Any]) -> dict[str, Any]:
        op = "CreateCustomModelDeployment"
        existing = self._idempotent(
            op, p, lambda arn: self.deployments[arn].request if arn in self.deployments else None
        )
        if existing is not None:
            return {"customModelDeploymentArn": existing}
        name = p["modelDeploymentName"]
        if any(d.name == name for d in self.deployments.values()):
            raise _validation(f"A custom model deployment named {name} already exists.")  # UNCONFIRMED code
        model = self._find_model(p["modelArn"])
        if model.status != "Active":
            raise _validation(
                f"Custom model {model.name} is {model.status}; only Active models can be deployed."
            )  # UNCONFIRMED
        self._check_tag_keys(p.get("tags", []))
        now = self._now()
        arn = self._arn(f"custom-model-deployment/{self._new_id('custom-model-deployment')}")
        self._creation_tags(arn, p.get("tags"))
        self.deployments[arn] = DeploymentRecord(
            arn=arn,
            name=name,
            model_arn=model.arn,
            created_at=now,
            last_updated_at=now,
            status_changed_at=now,
            seq=self._next_seq(),
            request=copy.deepcopy(p),
            client_request_token=p.get("clientRequestToken"),
            description=p.get("description"),
        )
        if p.get("clientRequestToken") is not None:
            self._tokens[(op, p["clientRequestToken"])] = arn
        self._note("custom-model-deployment", arn, name, None, "Creating", now)
        return {"customModelDeploymentArn": arn}

    def _op_GetCustomModelDeployment(self, p: dict[str, Any]) -> dict[str, Any]:
        d = self._find_deployment(p["customModelDeploymentIdentifier"])
        update = None
        if d.update_status is not None:
            update = {"modelArn": d.update_model_arn, "updateStatus": d.update_status}
        return _strip_none(
            {
                "customModelDeploymentArn": d.arn,
                "modelDeploymentName": d.name,
                "modelArn": d.model_arn,
                "createdAt": d.created_at,
                "status": d.status,
                "description": d.description,
                "updateDetails": update,
                "failureMessage": d.failure_message,
                "lastUpdatedAt": d.last_updated_at,
            }
        )

    def _op_UpdateCustomModelDeployment(self, p: dict[str, Any]) -> dict[str, Any]:
        d = self._find_deployment(p["customModelDeploymentIdentifier"])
        if d.status != "Active" or d.update_status == "Updating":
            # UNCONFIRMED code (no ConflictException is modelled for Update).
            raise _validation(
                f"Deployment {d.name} is {d.status}/{d.update_status}; it can be updated only when Active."
            )
        model = self._find_model(p["modelArn"])
        if model.status != "Active":
            raise _validation(
                f"Custom model {model.name} is {model.status}; only Active models can be deployed."
            )  # UNCONFIRMED
        now = self._now()
        d.update_model_arn = model.arn
        self._note("custom-model-deployment", d.arn, d.name, d.update_status, "Updating", now, stage="update")
        d.update_status = "Updating"
        d.last_updated_at = now
        d.status_changed_at = now
        return {"customModelDeploymentArn": d.arn}

    def _op_DeleteCustomModelDeployment(self, p: dict[str, Any]) -> dict[str, Any]:
        d = self._find_deployment(p["customModelDeploymentIdentifier"])
        if d.status == "Creating" or d.update_status == "Updating":
            raise _conflict(f"Deployment {d.name} is being created or updated; try again later.")  # UNCONFIRMED rule
        del self.deployments[d.arn]
        self.tags.pop(d.arn, None)
        self._note("custom-model-deployment", d.arn, d.name, d.status, "Deleted", self._now())
        return {}

    def _op_ListCustomModelDeployments(self, p: dict[str, Any]) -> dict[str, Any]:
        items = [
            d
            for d in self.deployments.values()
            if self._time_filter(d.created_at, p.get("createdAfter"), p.get("createdBefore"))
            and ("nameContains" not in p or p["nameContains"] in d.name)
            and ("statusEquals" not in p or d.status == p["statusEquals"])
            and ("modelArnEquals" not in p or d.model_arn == p["modelArnEquals"])
        ]
        page, token = self._page("ListCustomModelDeployments", p, items, lambda d: d.created_at)
        summaries = [
            _strip_none(
                {
                    "customModelDeploymentArn": d.arn,
                    "customModelDeploymentName": d.name,
                    "modelArn": d.model_arn,
                    "createdAt": d.created_at,
                    "status": d.status,
                    "lastUpdatedAt": d.last_updated_at,
                    "failureMessage": d.failure_message,
                }
            )
            for d in page
        ]
        return _strip_none({"modelDeploymentSummaries": summaries, "nextToken": token})

    # ------------------------------------------------------------------
    # Model evaluation jobs (automated, one model: what Tailor's sweeps run)
    # ------------------------------------------------------------------
    def _op_CreateEvaluationJob(self, p: dict[str, Any]) -> dict[str, Any]:
        op = "CreateEvaluationJob"
        existing = self._idempotent(
            op, p, lambda arn: self.evaluations[arn].request if arn in self.evaluations else None
        )
        if existing is not None:
            return {"jobArn": existing}
        name = p["jobName"]
        if any(e.name == name for e in self.evaluations.values()):
            # UNCONFIRMED code and wording (ConflictException is modelled for this operation).
            raise _conflict(f"An evaluation job named {name} already exists.")
        config = p["evaluationConfig"]
        if "automated" not in config:
            raise UnimplementedOperationError("BedrockDouble models automated evaluation jobs only, not human ones.")
        inference = p["inferenceConfig"]
        models = inference.get("models") or []
        if "models" not in inference or len(models) != 1 or "bedrockModel" not in models[0]:
            # API reference, EvaluationInferenceConfig: automated jobs evaluate a single model.
            raise _validation("An automated model evaluation job evaluates exactly one Amazon Bedrock model.")
        identifier = models[0]["bedrockModel"]["modelIdentifier"]
        if ":provisioned-model/" in identifier:
            pt = self._find_throughput(identifier)
            if pt.status != "InService":
                # UNCONFIRMED: the code and wording for a throughput that cannot serve yet.
                raise _validation(f"Provisioned model {pt.name} is {pt.status}, not InService.")
        now = self._now()
        arn = self._arn(f"evaluation-job/{self._new_id('evaluation-job')}")
        token = p.get("clientRequestToken")
        job = EvaluationJobRecord(
            arn=arn,
            name=name,
            request=copy.deepcopy(p),
            client_request_token=token,
            model_identifier=identifier,
            creation_time=now,
            last_modified_time=now,
            status_changed_at=now,
            seq=self._next_seq(),
        )
        self._creation_tags(arn, p.get("jobTags"))
        self.evaluations[arn] = job
        if token is not None:
            self._tokens[(op, token)] = arn
        self._note("evaluation-job", arn, name, None, "InProgress", now)
        return {"jobArn": arn}

    def _find_evaluation(self, identifier: str) -> EvaluationJobRecord:
        job = self.evaluations.get(identifier)
        if job is None:
            raise _not_found(f"Evaluation job {identifier} not found.")
        return job

    def _op_GetEvaluationJob(self, p: dict[str, Any]) -> dict[str, Any]:
        job = self._find_evaluation(p["jobIdentifier"])
        req = job.request
        return _strip_none(
            {
                "jobName": job.name,
                "status": job.status,
                "jobArn": job.arn,
                "jobDescription": req.get("jobDescription"),
                "roleArn": req["roleArn"],
                "customerEncryptionKeyId": req.get("customerEncryptionKeyId"),
                "jobType": "Automated",
                "applicationType": req.get("applicationType", "ModelEvaluation"),
                "evaluationConfig": copy.deepcopy(req["evaluationConfig"]),
                "inferenceConfig": copy.deepcopy(req["inferenceConfig"]),
                "outputDataConfig": copy.deepcopy(req["outputDataConfig"]),
                "creationTime": job.creation_time,
                "lastModifiedTime": job.last_modified_time,
                "failureMessages": list(job.failure_messages) or None,
            }
        )

    def _op_StopEvaluationJob(self, p: dict[str, Any]) -> dict[str, Any]:
        job = self._find_evaluation(p["jobIdentifier"])
        if job.status != "InProgress":
            # UNCONFIRMED: the code for stopping a job that is not running.
            raise _conflict(f"Evaluation job {job.name} is {job.status}; only InProgress jobs can be stopped.")
        self._set_evaluation_status(job, "Stopping", self._now())
        return {}

    def _op_ListEvaluationJobs(self, p: dict[str, Any]) -> dict[str, Any]:
        items = [
            e
            for e in self.evaluations.values()
            if self._time_filter(e.creation_time, p.get("creationTimeAfter"), p.get("creationTimeBefore"))
            and ("statusEquals" not in p or e.status == p["statusEquals"])
            and ("nameContains" not in p or p["nameContains"] in e.name)
        ]
        # EvaluationSummaries holds 1-5 items in botocore's model: a page is at most 5 (UNCONFIRMED what AWS
        # does with a larger maxResults), and an empty listing omits the member.
        p = {**p, "maxResults": min(int(p.get("maxResults", 5)), 5)}
        page, token = self._page("ListEvaluationJobs", p, items, lambda e: e.creation_time)
        summaries = [
            {
                "jobArn": e.arn,
                "jobName": e.name,
                "status": e.status,
                "creationTime": e.creation_time,
                "jobType": "Automated",
                "evaluationTaskTypes": [
                    c["taskType"] for c in e.request["evaluationConfig"]["automated"]["datasetMetricConfigs"]
                ],
                "modelIdentifiers": [e.model_identifier],
                "applicationType": e.request.get("applicationType", "ModelEvaluation"),
            }
            for e in page
        ]
        return _strip_none({"jobSummaries": summaries or None, "nextToken": token})

    def _set_evaluation_status(
        self, job: EvaluationJobRecord, status: str, when: dt.datetime, cause: str | None = None
    ) -> None:
        old = job.status
        job.status = status
        job.last_modified_time = when
        job.status_changed_at = when
        self._note("evaluation-job", job.arn, job.name, old, status, when, cause)

    def _evaluated_model_name(self, identifier: str) -> str:
        """What planned scores match besides the identifier: the served custom model's name (a trial's job name)."""
        pt = self.throughputs.get(identifier)
        if pt is None:
            return ""
        model = self.custom_models.get(pt.model_arn)
        return model.name if model is not None else ""

    def _score_for(self, job: EvaluationJobRecord) -> tuple[str, dict[str, Any]]:
        name = self._evaluated_model_name(job.model_identifier)
        for planned in self.evaluation_scores:
            if planned.times > 0 and (planned.model_contains in job.model_identifier or planned.model_contains in name):
                planned.times -= 1
                if planned.times == 0:
                    self.evaluation_scores.remove(planned)
                return planned.status, dict(planned.scores)
        metrics = [
            m.removeprefix("Builtin.")
            for c in job.request["evaluationConfig"]["automated"]["datasetMetricConfigs"]
            for m in c["metricNames"]
        ]
        pt = self.throughputs.get(job.model_identifier)
        model = self.custom_models.get(pt.model_arn) if pt is not None else None
        if model is not None:
            # A trial's score follows its validation loss (a lower loss scores higher), so the loss ranking and
            # the evaluation mostly agree; the base model scores 0.5.
            loss = (model.validation_metrics or [{}])[0].get("validationLoss") or 0.3
            score = round(max(0.0, min(1.0, 1.0 - 2 * float(loss))), 6)
        else:
            score = 0.5
        return "Completed", {m: score for m in metrics}

    def _end_evaluation(
        self,
        job: EvaluationJobRecord,
        when: dt.datetime,
        *,
        status: str | None = None,
        scores: dict[str, Any] | None = None,
        failure: str | None = None,
        cause: str | None = None,
    ) -> None:
        planned_status, planned_scores = self._score_for(job) if status is None else (status, scores or {})
        if planned_status == "Completed":
            job.scores = {k.removeprefix("Builtin."): float(v) for k, v in planned_scores.items()}
            self._write_results(job)
        else:
            job.failure_messages = [failure or "Model evaluation failed (injected by BedrockDouble)."]
        self._set_evaluation_status(job, planned_status, when, cause)

    def _write_results(self, job: EvaluationJobRecord) -> None:
        """The result file at the documented path [docs:model-evaluation-report-s3]: two lines per dataset whose
        scores average to the job's score (so a reader must take the mean), handed to ``evaluation_results``."""
        if self.evaluation_results is None or not job.scores:
            return
        output = job.request["outputDataConfig"]["s3Uri"].rstrip("/")
        model_id = job.model_identifier.rsplit("/", 1)[-1]
        job_id = job.arn.rsplit("/", 1)[-1]
        for config in job.request["evaluationConfig"]["automated"]["datasetMetricConfigs"]:
            dataset = config["dataset"]["name"]
            uri = (
                f"{output}/{job.name}/{job_id}/models/{model_id}/taskTypes/{config['taskType']}/datasets/"
                f"{dataset}/{uuid.uuid5(uuid.NAMESPACE_URL, job.arn)}_output.jsonl"
            )
            lines = []
            for sign in (1, -1):
                scores = []
                for metric, value in job.scores.items():
                    spread = min(0.05, value, 1 - value) if 0 <= value <= 1 else 0.0
                    scores.append({"metricName": metric, "result": round(value + sign * spread, 6)})
                lines.append(
                    json.dumps(
                        {
                            "automatedEvaluationResult": {"scores": scores},
                            "inputRecord": {"prompt": "(the double reads no dataset)"},
                            "modelResponses": [{"response": "(no inference)", "modelIdentifier": job.model_identifier}],
                        }
                    )
                )
            self.evaluation_results(uri, ("\n".join(lines) + "\n").encode())

    def finish_evaluation(
        self,
        name_or_arn: str,
        status: str = "Completed",
        scores: dict[str, Any] | None = None,
        failure: str | None = None,
    ) -> EvaluationJobRecord:
        """End an evaluation job now: Completed with ``scores`` (metric -> mean; default: as planned or derived
        from the evaluated model) and its result file, or Failed/Stopped."""
        with self._lock:
            job = self.evaluations.get(name_or_arn) or next(
                (e for e in self.evaluations.values() if e.name == name_or_arn), None
            )
            if job is None:
                raise KeyError(f"no evaluation job {name_or_arn!r}")
            if job.status not in ("InProgress", "Stopping"):
                raise ValueError(f"evaluation job {job.name} is already {job.status}")
            if status not in ("Completed", "Failed", "Stopped"):
                raise ValueError("status must be Completed, Failed or Stopped")
            if status == "Completed" and scores is None:
                self._end_evaluation(job, self._now(), cause="control")
            else:
                self._end_evaluation(job, self._now(), status=status, scores=scores, failure=failure, cause="control")
            return job

    def plan_evaluation_scores(
        self, model_contains: str, scores: dict[str, Any], *, status: str = "Completed", times: int = 1
    ) -> PlannedScores:
        """How the next ``times`` evaluations of a matching model end (scores per metric, or Failed)."""
        if status not in ("Completed", "Failed"):
            raise ValueError("status must be Completed or Failed")
        with self._lock:
            planned = PlannedScores(model_contains, dict(scores), status, times)
            self.evaluation_scores.append(planned)
            return planned

    # ------------------------------------------------------------------
    # Tagging
    # ------------------------------------------------------------------
    def _taggable(self, arn: str) -> str:
        m = re.fullmatch(r"arn:aws(?:-[^:]+)?:bedrock:([a-z0-9-]*):([0-9]{12}|):([a-z0-9-]+)/.+", arn)
        if m is None:
            raise _not_found(f"Resource {arn} not found.")  # UNCONFIRMED for non-ARN identifiers
        registries: dict[str, Mapping[str, object]] = {
            "model-customization-job": self.jobs,
            "custom-model": self.custom_models,
            "provisioned-model": self.throughputs,
            "custom-model-deployment": self.deployments,
            "evaluation-job": self.evaluations,
        }
        registry = registries.get(m.group(3))
        if registry is None:
            raise UnimplementedOperationError(
                f"BedrockDouble does not model {m.group(3)!r} resources, so it cannot tag {arn}."
            )
        if arn not in registry:
            raise _not_found(f"Resource {arn} not found.")
        return arn

    def _op_TagResource(self, p: dict[str, Any]) -> dict[str, Any]:
        arn = self._taggable(p["resourceARN"])
        self._check_tag_keys(p["tags"])
        merged = dict(self.tags.get(arn, {}))
        merged.update({t["key"]: t["value"] for t in p["tags"]})
        if len(merged) > self.tag_limit:
            raise BedrockServiceError(
                "TooManyTagsException",
                f"Too many tags for {arn} (limit {self.tag_limit}).",
                fields={"resourceName": arn},
            )
        self.tags[arn] = merged
        return {}

    def _op_UntagResource(self, p: dict[str, Any]) -> dict[str, Any]:
        arn = self._taggable(p["resourceARN"])
        current = self.tags.get(arn, {})
        for key in p["tagKeys"]:
            current.pop(key, None)
        if current:
            self.tags[arn] = current
        else:
            self.tags.pop(arn, None)
        return {}

    def _op_ListTagsForResource(self, p: dict[str, Any]) -> dict[str, Any]:
        arn = self._taggable(p["resourceARN"])
        return {"tags": [{"key": k, "value": v} for k, v in self.tags.get(arn, {}).items()]}


#: Every error code the double itself returns, and on which operations (besides
#: ValidationException for any request breaking the service model, and codes
#: injected with fail_next).  UNCONFIRMED = the code AWS uses for that rule is
#: not documented or not verified against a live account.
ERROR_CODES_USED = {
    "ValidationException": [
        "CreateModelCustomizationJob: job name in use ('The provided job name is currently in use.'; code UNCONFIRMED)",
        "CreateModelCustomizationJob: custom model name in use (UNCONFIRMED)",
        (
            "CreateModelCustomizationJob: base model not customizable / other Region / "
            "type-config mismatch / no training data (UNCONFIRMED)"
        ),
        "Create*: clientRequestToken reused with different parameters (UNCONFIRMED)",
        "StopModelCustomizationJob: job not InProgress (UNCONFIRMED; configurable via stop_not_running_code)",
        "CreateProvisionedModelThroughput / Update: duplicate name (UNCONFIRMED)",
        "Create/Update PT and deployments: custom model not Active (UNCONFIRMED)",
        "UpdateProvisionedModelThroughput: PT Creating/Updating, or desired model of another base (UNCONFIRMED)",
        "DeleteProvisionedModelThroughput: inside the commitment term (UNCONFIRMED code, configurable via "
        "commitment_delete_code; rule documented)",
        "CreateProvisionedModelThroughput: no commitment for a base model (UNCONFIRMED code; docs: 'Not available')",
        "CreateCustomModelDeployment: duplicate name; UpdateCustomModelDeployment: not Active (UNCONFIRMED)",
        "List*: invalid nextToken (UNCONFIRMED)",
        "CreateEvaluationJob: not exactly one Bedrock model; a provisioned model not InService (UNCONFIRMED)",
        "TagResource & Create*: tag key with 'aws:' prefix (UNCONFIRMED for Bedrock)",
    ],
    "ResourceNotFoundException": ["Get/Stop/Delete/Update/Tag*: unknown name or ARN; Create*: unknown custom model"],
    "ConflictException": [
        "CreateEvaluationJob: name in use; StopEvaluationJob: job not InProgress (both UNCONFIRMED)",
        "DeleteCustomModel: used by a PT, deployment or running job",
        "DeleteProvisionedModelThroughput: PT Creating or Updating",
        "DeleteCustomModelDeployment: deployment Creating or Updating (UNCONFIRMED rule)",
    ],
    "ServiceQuotaExceededException": [
        "CreateModelCustomizationJob past job_concurrency_quota",
        "CreateEvaluationJob: never (no evaluation quota is modelled; AWS's is UNCONFIRMED)",
        "CreateProvisionedModelThroughput past model_unit_quota, no_commitment_throughput_quota, "
        "no_commitment_model_units_per_throughput or commitment_model_unit_quota (wording UNCONFIRMED)",
    ],
    "TooManyTagsException": ["TagResource / Create*: more than tag_limit (200) tags on a resource"],
}
