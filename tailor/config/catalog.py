"""The model catalog (catalog/models.yaml) as frozen, validated objects.

The catalog is data a user edits, so it is validated like a config: every mistake is reported with
its path and what is allowed, and nothing downstream ever sees a half-valid entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tailor.config import schema
from tailor.config.catalog_datasets import parse_dataset
from tailor.config.models import (
    CUSTOMIZATION_TYPES,
    Catalog,
    Customization,
    Hyperparameter,
    InferenceProfile,
    Model,
    Price,
    Teacher,
)
from tailor.config.yamlio import load_yaml
from tailor.errors import Problems, show

HYPERPARAMETER_STYLES = ("string_map", "rft_typed")
HYPERPARAMETER_TYPES = ("int", "float", "enum")
INVOCATIONS = ("on_demand", "inference_profile")
# What the plan reads; a misspelt name would silently leave a cost out of the budget check.
PRICE_NAMES = ("training_per_1k_tokens", "storage_per_month", "provisioned_per_mu_hour")
REGION_PATTERN = r"[a-z]{2}(-gov)?-[a-z]+-\d"
DEFAULT_CATALOG = Path(__file__).resolve().parents[2] / "catalog" / "models.yaml"


def load_catalog(path: Path = DEFAULT_CATALOG) -> Catalog:
    display = _display(path)
    raw = load_yaml(path, display=display)
    problems = Problems(display)
    catalog = parse_catalog(raw, problems, display)
    problems.raise_if_any()
    return catalog


def parse_catalog(raw: Any, problems: Problems, display: str) -> Catalog:
    top = schema.mapping(problems, "", raw, required=("version", "models", "teachers"), optional=("x-shared",))
    schema.integer(problems, "version", top.get("version"), minimum=1, maximum=1)
    models: dict[str, Model] = {}
    broken: set[str] = set()  # models already reported: teachers naming them must not add a follow-on error
    for model_id, entry in schema.entries(problems, "models", top.get("models")).items():
        model = _parse_model(problems, f"models.{model_id}", str(model_id), entry)
        if model is not None:
            models[model.model_id] = model
        else:
            broken.add(str(model_id))
    teachers: dict[str, Teacher] = {}
    for teacher_id, entry in schema.entries(problems, "teachers", top.get("teachers")).items():
        teacher = _parse_teacher(problems, f"teachers.{teacher_id}", str(teacher_id), entry, models, broken)
        if teacher is not None:
            teachers[teacher.model_id] = teacher
    regions = sorted({r for m in models.values() for c in m.customizations.values() for r in c.regions})
    return Catalog(display, MappingProxyType(models), MappingProxyType(teachers), tuple(regions))


def _parse_model(problems: Problems, path: str, model_id: str, entry: Any) -> Model | None:
    before = len(problems)
    entry = schema.mapping(
        problems,
        path,
        entry,
        required=(
            "name",
            "provider",
            "foundation_model_id",
            "status",
            "on_demand_regions",
            "provisioned_throughput",
            "customizations",
        ),
        optional=("prices",),
    )
    name = schema.string(problems, f"{path}.name", entry.get("name"))
    provider = schema.string(problems, f"{path}.provider", entry.get("provider"))
    fm_id = schema.string(problems, f"{path}.foundation_model_id", entry.get("foundation_model_id"))
    status = schema.string(problems, f"{path}.status", entry.get("status"), choices=("current", "legacy"))
    on_demand = schema.string_list(
        problems,
        f"{path}.on_demand_regions",
        entry.get("on_demand_regions"),
        pattern=REGION_PATTERN,
        allowed_text="an AWS Region such as us-east-1",
    )
    pt = schema.boolean(problems, f"{path}.provisioned_throughput", entry.get("provisioned_throughput"), False)
    prices: dict[str, Price] = {}
    for price_name, price in schema.entries(problems, f"{path}.prices", entry.get("prices")).items():
        if price_name not in PRICE_NAMES:
            problems.add(f"{path}.prices.{price_name}", f"unknown price; allowed here: {', '.join(PRICE_NAMES)}")
            continue
        price_entry = _parse_price(problems, f"{path}.prices.{price_name}", price)
        if price_entry:
            prices[str(price_name)] = price_entry
    customizations: dict[str, Customization] = {}
    for ctype, spec in schema.mapping(
        problems, f"{path}.customizations", entry.get("customizations"), optional=CUSTOMIZATION_TYPES
    ).items():
        parsed = _parse_customization(problems, f"{path}.customizations.{ctype}", ctype, spec)
        if parsed:
            customizations[ctype] = parsed
    if len(problems) > before or name is None or provider is None or fm_id is None or status is None:
        return None
    return Model(
        model_id,
        name,
        provider,
        fm_id,
        status,
        on_demand,
        pt,
        MappingProxyType(prices),
        MappingProxyType(customizations),
    )


def _parse_price(problems: Problems, path: str, entry: Any) -> Price | None:
    entry = schema.mapping(problems, path, entry, required=("usd", "unit", "source", "as_of", "confirmed"))
    usd = schema.number(problems, f"{path}.usd", entry.get("usd"), minimum=0)
    unit = schema.string(problems, f"{path}.unit", entry.get("unit"))
    source = schema.string(problems, f"{path}.source", entry.get("source"))
    as_of = schema.string(
        problems,
        f"{path}.as_of",
        entry.get("as_of"),
        pattern=r"\d{4}-\d{2}-\d{2}",
        allowed_text="a date as YYYY-MM-DD (quote it)",
    )
    confirmed = schema.boolean(problems, f"{path}.confirmed", entry.get("confirmed"), False)
    if usd is None or unit is None or source is None or as_of is None:
        return None
    return Price(float(usd), unit, source, as_of, confirmed)


def _parse_customization(problems: Problems, path: str, ctype: str, entry: Any) -> Customization | None:
    before = len(problems)
    entry = schema.mapping(
        problems, path, entry, required=("regions", "hyperparameter_style", "hyperparameters", "dataset")
    )
    regions = schema.string_list(
        problems,
        f"{path}.regions",
        entry.get("regions"),
        pattern=REGION_PATTERN,
        allowed_text="an AWS Region such as us-east-1",
    )
    style = schema.string(
        problems, f"{path}.hyperparameter_style", entry.get("hyperparameter_style"), choices=HYPERPARAMETER_STYLES
    )
    if style == "rft_typed" and ctype != "reinforcement_fine_tuning":
        problems.add(
            f"{path}.hyperparameter_style", "rft_typed is only for reinforcement_fine_tuning; allowed here: string_map"
        )
    hps: dict[str, Hyperparameter] = {}
    for hp_name, hp in schema.entries(problems, f"{path}.hyperparameters", entry.get("hyperparameters")).items():
        parsed = _parse_hyperparameter(problems, f"{path}.hyperparameters.{hp_name}", str(hp_name), hp)
        if parsed:
            hps[str(hp_name)] = parsed
    training, validation = parse_dataset(problems, f"{path}.dataset", entry.get("dataset"))
    if len(problems) > before or training is None or style is None:
        return None
    return Customization(ctype, regions, style, MappingProxyType(hps), training, validation)


def _parse_hyperparameter(problems: Problems, path: str, name: str, entry: Any) -> Hyperparameter | None:
    before = len(problems)
    entry = schema.mapping(problems, path, entry, required=("type",), optional=("min", "max", "default", "choices"))
    hp_type = schema.string(problems, f"{path}.type", entry.get("type"), choices=HYPERPARAMETER_TYPES)
    if hp_type == "enum":
        choices = schema.string_list(problems, f"{path}.choices", entry.get("choices"))
        if not choices:
            problems.add(f"{path}.choices", "an enum needs a non-empty list of choices")
        spec = Hyperparameter(name, "enum", choices=choices)
    elif hp_type in ("int", "float"):
        lo = schema.number(problems, f"{path}.min", entry.get("min"))
        hi = schema.number(problems, f"{path}.max", entry.get("max"))
        if lo is None or hi is None:
            problems.add(path, f"a {hp_type} hyperparameter needs numeric min and max")
            return None
        if lo > hi:
            problems.add(path, f"min {lo} is above max {hi}")
        spec = Hyperparameter(name, hp_type, float(lo), float(hi))
    else:
        return None
    default = entry.get("default")
    if default is not None:
        message = spec.check(default)
        if message:
            problems.add(f"{path}.default", message)
        else:
            spec = Hyperparameter(
                spec.name, spec.type, spec.minimum, spec.maximum, spec.normalise(default), spec.choices
            )
    return None if len(problems) > before else spec


def _parse_teacher(
    problems: Problems, path: str, teacher_id: str, entry: Any, models: Mapping[str, Model], broken: set[str]
) -> Teacher | None:
    before = len(problems)
    entry = schema.mapping(problems, path, entry, required=("students", "regions", "invocation", "inference_profiles"))
    students = schema.string_list(problems, f"{path}.students", entry.get("students"))
    for index, student in enumerate(students):
        model = models.get(student)
        if model is None and student in broken:
            continue  # reported where the model is defined
        if model is None:
            problems.add(f"{path}.students[{index}]", f"{show(student)} is not a model in this catalog")
        elif "distillation" not in model.customizations:
            problems.add(f"{path}.students[{index}]", f"{student} has no distillation customization in this catalog")
    regions = schema.string_list(
        problems,
        f"{path}.regions",
        entry.get("regions"),
        pattern=REGION_PATTERN,
        allowed_text="an AWS Region such as us-east-1",
    )
    invocation = schema.string_list(problems, f"{path}.invocation", entry.get("invocation"), choices=INVOCATIONS)
    if not invocation:
        problems.add(f"{path}.invocation", f"needs at least one of {', '.join(INVOCATIONS)}")
    profiles = {}
    for region, profile in schema.entries(
        problems, f"{path}.inference_profiles", entry.get("inference_profiles")
    ).items():
        ppath = f"{path}.inference_profiles.{region}"
        profile = schema.mapping(problems, ppath, profile, required=("id", "regions"))
        pid = schema.string(problems, f"{ppath}.id", profile.get("id"))
        pregions = schema.string_list(
            problems,
            f"{ppath}.regions",
            profile.get("regions"),
            pattern=REGION_PATTERN,
            allowed_text="an AWS Region such as us-east-1",
        )
        if pid:
            profiles[str(region)] = InferenceProfile(pid, pregions)
    if "inference_profile" in invocation:
        for region in regions:
            if region not in profiles:
                problems.add(
                    f"{path}.inference_profiles",
                    f"invocation includes inference_profile but no profile is given for {region}",
                )
    if len(problems) > before:
        return None
    return Teacher(teacher_id, students, regions, invocation, MappingProxyType(profiles))


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
