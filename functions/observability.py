"""Powertools for AWS Lambda in every handler: structured logs with correlation keys, traces, EMF metrics.

One Logger, Tracer and Metrics per process, as Powertools recommends (created at import, reused while the
worker is warm). A handler adopts all three with one decorator:

    @observability.entry
    def handler(event, context): ...

- Logs: every line is one JSON object with the environment, and the job key, serving key and ARN the event is
  about, plus Lambda's request id and cold-start flag; the domain's own `logging` loggers (tailor.*) write
  through the same formatter, so their lines carry the same keys.
- Traces: Tracer patches botocore, so each AWS call is a subsegment of the invocation's X-Ray trace. It is off
  outside Lambda (no LAMBDA_TASK_ROOT), in tests and benchmarks alike.
- Metrics: `sink()` hands the domain a MetricSink writing the embedded metric format; whatever the invocation
  put is flushed as one JSON line on stdout when it ends, even when it fails, and CloudWatch Logs turns it into
  metrics (no PutMetricData call, no permission). Dimensions: Environment only, so the alarms keep matching.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

from tailor import observability

ENVIRONMENT_VARIABLE = "TAILOR_ENVIRONMENT"  # tailor.serving.schedules.Wiring's; absent on the job resource
DOMAIN_LOGGER = "tailor"

Result = TypeVar("Result")
Handler = Callable[[dict[str, Any], Any], Result]

logger = Logger(utc=True)  # service: POWERTOOLS_SERVICE_NAME, set per function by cdk_constructs/tailor_function.py
tracer = Tracer(patch_modules=("botocore",))
# service="": no `service` dimension. A metric is its whole dimension set, and the alarms and the dashboard ask
# for {Environment} alone (Powertools adds `service` whenever a service name is configured).
metrics = Metrics(namespace=observability.NAMESPACE, service="")
logging.getLogger(DOMAIN_LOGGER)  # registered now, so the copy below reaches every tailor.* logger made later
copy_config_to_registered_loggers(source_logger=logger, include={DOMAIN_LOGGER})


class EmfSink:
    """The domain's MetricSink in Lambda: Powertools Metrics, flushed by `entry` when the invocation ends."""

    def __init__(self, environment: str) -> None:
        metrics.set_default_dimensions(**{observability.DIMENSION: environment})

    def put(self, name: str, value: float, unit: str = "Count") -> None:
        metrics.add_metric(name=name, unit=unit, value=value)


def sink(environment: str | None = None) -> EmfSink:
    return EmfSink(environment or os.environ[ENVIRONMENT_VARIABLE])


def entry(handler: Handler[Result]) -> Handler[Result]:
    """Logger context and correlation keys, the traced handler, and the metrics flush, around one handler."""
    # The response is not recorded in the trace: a custom resource's may hold presigned URLs.
    traced: Handler[Result] = tracer.capture_lambda_handler(handler, capture_response=False)

    @functools.wraps(handler)
    def wrapped(event: dict[str, Any], context: Any) -> Result:
        logger.clear_state()  # nothing from the previous invocation of this warm worker
        logger.append_keys(name="%(name)s")  # the emitting logger (tailor.serving.reconciler, ...), as copied above
        if context is not None and hasattr(context, "aws_request_id"):
            logger.append_keys(request_id=context.aws_request_id, function_name=context.function_name)
        logger.append_keys(cold_start=_cold_start(), **correlation_keys(event))
        try:
            return traced(event, context)
        except Exception:
            logger.exception("invocation failed")
            raise
        finally:
            flush()

    return wrapped


def flush() -> None:
    """Write what this invocation put as one EMF line (nothing at all when it put nothing)."""
    if metrics.metric_set:
        metrics.flush_metrics()


def correlation_keys(event: Mapping[str, Any]) -> dict[str, str]:
    """The environment, job key, serving key and ARN an event is about, as far as it says (never raises)."""
    spec = _spec(event)
    raw_detail = event.get("detail")
    detail: Mapping[str, Any] = raw_detail if isinstance(raw_detail, Mapping) else {}
    physical = event.get("PhysicalResourceId")
    keys = {
        "environment": os.environ.get(ENVIRONMENT_VARIABLE) or spec.get("environment") or event.get("environment"),
        "job_key": spec.get("jobKey"),
        # the serving spec calls its key "key" (tailor/serving/resource.py ServingSpec)
        "serving_key": spec.get("key"),
        "arn": event.get("arn")
        or detail.get("jobArn")
        or (physical if isinstance(physical, str) and physical.startswith("arn:") else None),
        "request_type": event.get("RequestType"),
        "logical_id": event.get("LogicalResourceId"),
        "job_status": detail.get("jobStatus"),
        "tailor_event": event.get("tailor"),
    }
    return {k: str(v) for k, v in keys.items() if v}


def record_jobs(outcomes: Iterable[Any], *, environment: str, reconciled: bool) -> None:
    """Jobs by state, for the completion handler: one count per final state it recorded; on a reconcile, how many
    recorded jobs are still running (a gauge, so the dashboard shows work in flight)."""
    out = sink(environment)
    running = 0
    for outcome in outcomes:
        status = getattr(outcome, "status", None)
        if getattr(outcome, "action", None) == "recorded" and status in observability.JOB_STATES:
            out.put(observability.JOB_STATES[status], 1)
        elif status not in observability.JOB_STATES and status is not None:
            running += 1
    if reconciled:
        out.put(observability.JOBS_IN_PROGRESS, running)


def _spec(event: Mapping[str, Any]) -> dict[str, Any]:
    properties = event.get("ResourceProperties")
    if not isinstance(properties, Mapping) or not isinstance(properties.get("Spec"), str):
        return {}
    try:
        spec = json.loads(properties["Spec"])
    except ValueError:
        return {}
    return spec if isinstance(spec, dict) else {}


_COLD = {"start": True}


def _cold_start() -> bool:
    cold, _COLD["start"] = _COLD["start"], False
    return cold
