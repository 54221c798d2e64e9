"""The idle guard: managed serving that nobody has called for `policy.idle_minutes` is torn down early.

A throughput bills by the hour whether or not anyone calls it; the guard ends it once its Invocations metric has
been zero for the whole window. A new resource gets the same window as grace, so it is never judged before it
could have been called. Metric and dimension: AWS/Bedrock `Invocations` with `ModelId` = the PT or deployment
ARN, as Bedrock's runtime metrics page lists ModelId and third-party tools query PTs this way (UNCONFIRMED for
deployments). Missing data counts as no calls: CloudWatch publishes nothing for a model nobody called.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tailor.serving.model import Served

NAMESPACE = "AWS/Bedrock"
METRIC = "Invocations"
DIMENSION = "ModelId"
SERVING_STATES = ("InService", "Active")


def is_idle(cloudwatch: Any, served: Served, *, minutes: int, now: datetime) -> bool:
    """True when `served` has been up for the whole window and nobody called it during it."""
    window = timedelta(minutes=minutes)
    if served.status not in SERVING_STATES or now - served.created < window:
        return False
    answer = cloudwatch.get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName=METRIC,
        Dimensions=[{"Name": DIMENSION, "Value": served.arn}],
        StartTime=now - window,
        EndTime=now,
        Period=minutes * 60,
        Statistics=["Sum"],
    )
    return sum(float(point.get("Sum", 0)) for point in answer.get("Datapoints", [])) == 0
