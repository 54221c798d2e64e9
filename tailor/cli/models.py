"""`tailor models [MODEL] [--region R] [--type T]`: the catalog by Region and customization type, with each
model's hyperparameter ranges and defaults, its dataset format and its teachers, so nobody reads YAML to choose.

--json prints the same rows for scripts. Exit 0, 2 for an unknown model, Region or type (or no match).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tailor.cli.common import CommandError
from tailor.config.catalog import DEFAULT_CATALOG, load_catalog
from tailor.config.models import CUSTOMIZATION_TYPES, Catalog, Customization, Hyperparameter, Model
from tailor.config.schema import did_you_mean

NAME = "models"
HELP = "list the catalog's models per Region and customization type, with hyperparameter ranges"


@dataclass(frozen=True)
class Row:
    region: str
    type: str
    model: Model
    customization: Customization


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", nargs="?", help="a model id, or part of one (e.g. nova-micro)")
    parser.add_argument("--region", help="only this Region, e.g. us-east-1")
    parser.add_argument("--type", dest="ctype", help=f"only this customization type: {', '.join(CUSTOMIZATION_TYPES)}")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--catalog", type=Path, default=DEFAULT_CATALOG)


def run(args: argparse.Namespace) -> int:
    catalog = load_catalog(args.catalog)
    rows = select(catalog, model=args.model, region=args.region, ctype=args.ctype)
    print(json.dumps([as_json(r, catalog) for r in rows], indent=2) if args.json else "\n".join(render(rows, catalog)))
    return 0


def select(catalog: Catalog, *, model: str | None, region: str | None, ctype: str | None) -> list[Row]:
    """The (Region, type, model) rows matching every filter given; CommandError naming what exists otherwise."""
    if ctype is not None and ctype not in CUSTOMIZATION_TYPES:
        raise CommandError(_unknown("--type", ctype, CUSTOMIZATION_TYPES))
    if region is not None and region not in catalog.regions:
        raise CommandError(
            f"--region {region!r} has no customizable model in the catalog; "
            f"Regions that do: {', '.join(catalog.regions)}"
        )
    models = list(catalog.models.values())
    if model is not None:
        models = [m for m in models if model == m.model_id] or [m for m in models if model.lower() in m.model_id]
        if not models:
            raise CommandError(
                f"no catalog model id is or contains {model!r}; catalog models: {', '.join(sorted(catalog.models))}"
            )
    rows = [
        Row(r, t, m, c)
        for m in models
        for t, c in m.customizations.items()
        for r in c.regions
        if (region is None or r == region) and (ctype is None or t == ctype)
    ]
    if not rows:
        where = " and ".join(
            part
            for part in (
                f"model {model}" if model else "",
                f"type {ctype}" if ctype else "",
                f"Region {region}" if region else "",
            )
            if part
        )
        offers = sorted({f"{t} in {r}" for m in models for t, c in m.customizations.items() for r in c.regions})
        raise CommandError(f"no catalog entry matches {where}; the models asked for offer: {', '.join(offers)}")
    return sorted(rows, key=lambda r: (r.region, CUSTOMIZATION_TYPES.index(r.type), r.model.model_id))


def render(rows: list[Row], catalog: Catalog) -> list[str]:
    lines = [
        f"Catalog {catalog.source}: {len({r.model.model_id for r in rows})} model(s). Ranges are what `make synth` "
        "accepts; defaults are filled in when a config leaves a hyperparameter out.",
    ]
    region = ctype = None
    for row in rows:
        if row.region != region:
            region, ctype = row.region, None
            lines += ["", row.region]
        if row.type != ctype:
            ctype = row.type
            lines.append(f"  {row.type}")
        model = row.model
        facts = [model.name, model.status]
        facts.append("Provisioned Throughput" if model.provisioned_throughput else "no Provisioned Throughput")
        if row.region in model.on_demand_regions:
            facts.append("on-demand deployment")
        lines.append(f"    {model.model_id}  ({'; '.join(facts)})")
        lines.append(
            f"      data: {row.customization.training_rules.format} JSON Lines{_validation(row.customization)}"
        )
        teachers = _teachers(catalog, row)
        if teachers:
            lines.append(f"      teachers: {', '.join(teachers)}")
        hps = list(row.customization.hyperparameters.values())
        width = max((len(h.name) for h in hps), default=0)
        lines += [f"      {h.name.ljust(width)}  {_range(h)}" for h in hps]
        if not hps:
            lines.append("      (no hyperparameters)")
    return lines


def as_json(row: Row, catalog: Catalog) -> dict[str, Any]:
    return {
        "region": row.region,
        "type": row.type,
        "model": row.model.model_id,
        "name": row.model.name,
        "status": row.model.status,
        "provisioned_throughput": row.model.provisioned_throughput,
        "on_demand_deployment": row.region in row.model.on_demand_regions,
        "format": row.customization.training_rules.format,
        "validation_data": row.customization.validation_rules is not None,
        "teachers": _teachers(catalog, row),
        "hyperparameters": {
            h.name: {
                "type": h.type,
                **(
                    {"choices": list(h.choices)}
                    if h.type == "enum"
                    else {"min": _n(h, h.minimum), "max": _n(h, h.maximum)}
                ),
                "default": h.default,
            }
            for h in row.customization.hyperparameters.values()
        },
    }


def _n(spec: Hyperparameter, value: float | None) -> float | int | None:
    return int(value) if spec.type == "int" and value is not None else value


def _range(spec: Hyperparameter) -> str:
    default = "no default" if spec.default is None else f"default {spec.default}"
    return f"{spec.allowed_text()}; {default}"


def _validation(customization: Customization) -> str:
    return ", with validation_data" if customization.validation_rules is not None else ", no validation_data"


def _teachers(catalog: Catalog, row: Row) -> list[str]:
    if row.type != "distillation":
        return []
    return list(catalog.teachers_for(row.model.model_id, row.region))


def _unknown(flag: str, value: str, allowed: tuple[str, ...]) -> str:
    guess = did_you_mean(value, allowed)
    hint = f"did you mean {guess}? " if guess else ""
    return f"{flag} {value!r} is unknown; {hint}allowed: {', '.join(allowed)}"
