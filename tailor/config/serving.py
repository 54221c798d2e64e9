"""The serving half of an environment's config: its cleanup policy, job `serve` blocks and `throughputs`.

Every rule here exists so that nothing accepted at synth can be bought without a way to end it:
a throughput has hours within the policy, or a commitment the policy allows (and then no hours, since a
committed throughput cannot be deleted before its term ends).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tailor import naming
from tailor.config import schema
from tailor.config.models import Catalog, Model
from tailor.config.policy import MIN_HOURS, Policy
from tailor.errors import Problems, show

MODES = ("provisioned", "on_demand")
COMMITMENTS = {"one_month": "OneMonth", "six_months": "SixMonths"}
SERVE_KEYS = ("mode", "model_units", "hours", "commitment", "revision")
THROUGHPUT_KEYS = ("model", "base_model") + SERVE_KEYS
# custom-model/<base model id>/<12 lower-alnum> (bedrock.md A.2); imported models have no base id in the ARN.
CUSTOM_MODEL_ARN = (
    r"arn:aws(-[a-z]+)*:bedrock:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"custom-model/(?:(?P<base>[^/]+)/)?(?P<id>[a-z0-9]{12}|imported/[a-z0-9]{12})"
)


@dataclass(frozen=True)
class ModelRef:
    """What a serving entry serves: a job of this config (its output model), a custom model ARN, or a base model."""

    kind: str  # "job" | "custom_model" | "foundation_model"
    value: str  # job key | custom model ARN | catalog base-model id


@dataclass(frozen=True)
class Serving:
    key: str  # the job key (serve) or the throughputs entry name
    source: str  # "job" | "throughput"
    mode: str  # provisioned | on_demand
    model: ModelRef
    base_model: Model  # the catalog entry it is priced and checked against
    model_units: int  # 0 for on_demand
    hours: float | None  # None only with a commitment
    commitment: str | None  # API value: OneMonth | SixMonths
    revision: int
    name: str = ""  # deterministic PT/deployment name, set once the environment is known


def parse_serve(
    problems: Problems, path: str, raw: Any, *, job_key: str, job_model: Model, region: str | None, policy: Policy
) -> Serving | None:
    """A job's `serve` block: its output model, served once training completes."""
    raw = schema.mapping(problems, path, raw, required=("mode",), optional=SERVE_KEYS[1:])
    return _serving(
        problems,
        path,
        raw,
        key=job_key,
        source="job",
        model=ModelRef("job", job_key),
        base=job_model,
        region=region,
        policy=policy,
    )


def parse_throughputs(
    problems: Problems,
    raw: Any,
    *,
    catalog: Catalog,
    jobs: Mapping[str, Any],
    region: str | None,
    account: str | None,
    policy: Policy,
) -> dict[str, Serving]:
    out: dict[str, Serving] = {}
    for key, entry in schema.entries(problems, "throughputs", raw).items():
        path = f"throughputs.{key}"
        if not isinstance(key, str) or not re.fullmatch(naming.KEY_PATTERN, key) or len(key) > naming.MAX_JOB_KEY_LEN:
            problems.add(
                path,
                (
                    f"name {show(key)} is not allowed; use {naming.KEY_PATTERN_TEXT}, at most "
                    f"{naming.MAX_JOB_KEY_LEN} characters"
                ),
            )
            continue
        if key in jobs:
            problems.add(
                path,
                f"has the same name as job {key}; to serve that job's model use jobs.{key}.serve, or pick another name",
            )
            continue
        entry = schema.mapping(problems, path, entry, required=("model",), optional=THROUGHPUT_KEYS[1:])
        resolved = _model_ref(problems, path, entry, catalog=catalog, jobs=jobs, region=region, account=account)
        if resolved is None:
            continue
        ref, base = resolved
        serving = _serving(
            problems, path, entry, key=key, source="throughput", model=ref, base=base, region=region, policy=policy
        )
        if serving is not None:
            out[key] = serving
    return out


def _model_ref(
    problems: Problems,
    path: str,
    entry: dict[str, Any],
    *,
    catalog: Catalog,
    jobs: Mapping[str, Any],
    region: str | None,
    account: str | None,
) -> tuple[ModelRef, Model] | None:
    value = schema.string(problems, f"{path}.model", entry.get("model"))
    declared_base = schema.string(problems, f"{path}.base_model", entry.get("base_model"))
    if value is None:
        return None
    if value.startswith("arn:"):
        match = re.fullmatch(CUSTOM_MODEL_ARN, value)
        if match is None:
            problems.add(
                f"{path}.model",
                (
                    f"{show(value)} is not a custom model ARN; allowed: "
                    "arn:aws:bedrock:<region>:<account>:custom-model/<base model id>/<id>, a job key "
                    f"of this config ({', '.join(jobs) or 'none'}), or a catalog base model id"
                ),
            )
            return None
        if region and match["region"] != region:
            problems.add(
                f"{path}.model",
                (
                    f"is in {match['region']} but this environment deploys to {region}; Provisioned "
                    "Throughput serves models of its own Region (copy the model first)"
                ),
            )
            return None
        if account and match["account"] != account:
            problems.add(
                f"{path}.model", f"belongs to account {match['account']}, not this environment's account {account}"
            )
            return None
        if declared_base and match["base"] and declared_base != match["base"]:
            problems.add(
                f"{path}.base_model",
                (
                    f"is {declared_base} but the model ARN says it was customized from "
                    f"{match['base']}; remove base_model or correct it"
                ),
            )
            return None
        base_id = declared_base or match["base"]
        base = catalog.models.get(base_id) if base_id else None
        if base is None:
            problems.add(
                f"{path}.base_model",
                (
                    f"Tailor cannot tell which catalog model {show(value)} was customized from; add "
                    f"base_model: <one of {', '.join(sorted(catalog.models))}> so it can be checked "
                    "and priced"
                ),
            )
            return None
        return ModelRef("custom_model", value), base
    if declared_base is not None:
        problems.add(
            f"{path}.base_model",
            "is only for a custom model ARN; a job key or catalog model already names its base model",
        )
        return None
    if value in jobs:
        return ModelRef("job", value), jobs[value].model
    if value in catalog.models:
        return ModelRef("foundation_model", value), catalog.models[value]
    problems.add(
        f"{path}.model",
        (
            f"{show(value)} is neither a job of this config ({', '.join(jobs) or 'none'}), a "
            "catalog model, nor a custom model ARN"
        ),
    )
    return None


def _serving(
    problems: Problems,
    path: str,
    raw: dict[str, Any],
    *,
    key: str,
    source: str,
    model: ModelRef,
    base: Model,
    region: str | None,
    policy: Policy,
) -> Serving | None:
    before = len(problems)
    if "mode" in raw and raw["mode"] is None:
        problems.add(f"{path}.mode", f"is empty; allowed: {', '.join(MODES)}")
    mode = schema.string(problems, f"{path}.mode", raw.get("mode") or "provisioned", choices=MODES)
    commitment_text = schema.string(problems, f"{path}.commitment", raw.get("commitment"), choices=tuple(COMMITMENTS))
    commitment = COMMITMENTS.get(commitment_text or "")
    units = schema.integer(problems, f"{path}.model_units", raw.get("model_units"), minimum=1)
    hours = schema.number(problems, f"{path}.hours", raw.get("hours"), minimum=MIN_HOURS)
    revision = schema.integer(problems, f"{path}.revision", raw.get("revision", 0), minimum=0) or 0
    if hours is not None and hours > policy.max_throughput_hours:
        problems.add(
            f"{path}.hours",
            (
                f"is {hours}; the environment's policy allows at most "
                f"{policy.max_throughput_hours} (policy.max_throughput_hours)"
            ),
        )
    if mode == "on_demand":
        if units is not None:
            problems.add(
                f"{path}.model_units", "is only for mode: provisioned; an on-demand deployment is billed per token"
            )
        if commitment:
            problems.add(f"{path}.commitment", "is only for mode: provisioned")
        if model.kind == "foundation_model":
            problems.add(
                f"{path}.mode",
                (
                    f"{base.model_id} is a base model: call it on demand directly; on-demand "
                    "deployments are for custom models"
                ),
            )
        elif region and not base.on_demand_regions:
            problems.add(
                f"{path}.mode",
                (
                    f"custom {base.model_id} models cannot be deployed on demand in any Region (the catalog "
                    "lists no on_demand_regions for it); use mode: provisioned"
                ),
            )
        elif region and region not in base.on_demand_regions:
            problems.add(
                f"{path}.mode",
                (
                    f"custom {base.model_id} models can be deployed on demand only in "
                    f"{', '.join(base.on_demand_regions)} (catalog), not in {region}; use mode: provisioned"
                ),
            )
    elif mode == "provisioned":
        if not base.provisioned_throughput:
            problems.add(
                f"{path}.mode", f"custom {base.model_id} models cannot run on Provisioned Throughput (catalog)"
            )
        if commitment:
            if not policy.allow_commitment:
                problems.add(
                    f"{path}.commitment",
                    (
                        "the environment's policy does not allow commitments (policy.allow_commitment: "
                        "false): a committed throughput cannot be deleted before its term ends"
                    ),
                )
            if hours is not None:
                problems.add(
                    f"{path}.hours",
                    (
                        f"cannot be combined with commitment: {commitment_text}; a committed throughput "
                        "cannot be torn down before its term ends, so it has no time-to-live. Remove one "
                        "of them"
                    ),
                )
        elif model.kind == "foundation_model":
            problems.add(
                f"{path}.commitment",
                (
                    f"Provisioned Throughput for a base model ({base.model_id}) is sold only with a "
                    "commitment (one_month or six_months); no-commitment hourly throughput is for "
                    "custom models"
                ),
            )
    if len(problems) > before or mode is None:
        return None
    if mode == "provisioned" and not commitment and hours is None:
        hours = policy.default_throughput_hours
    if mode == "on_demand" and hours is None:
        hours = policy.default_throughput_hours
    return Serving(
        key, source, mode, model, base, (units or 1) if mode == "provisioned" else 0, hours, commitment, revision
    )


def named(serving: Serving, environment: str, job_name: str | None) -> Serving:
    """Fixes the physical name: what must be a new resource changes it; hours and a same-base model do not."""
    from dataclasses import replace

    identity = {
        "environment": environment,
        "key": serving.key,
        "source": serving.source,
        "mode": serving.mode,
        "model_kind": serving.model.kind,
        "base_model": serving.base_model.model_id,
        # A new job trains a new model: its serving is replaced rather than pointed elsewhere.
        "job": job_name if serving.model.kind == "job" else None,
        "foundation_model": serving.model.value if serving.model.kind == "foundation_model" else None,
        "model_units": serving.model_units,
        "commitment": serving.commitment,
        "revision": serving.revision,
    }
    return replace(serving, name=naming.serving_name(environment, serving.key, naming.settings_hash(identity)))
