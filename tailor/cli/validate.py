"""`tailor validate FILE --base-model M --type T`: check one JSONL dataset against a base model's rules.

Exit 0 valid, 1 invalid (errors as FILE:LINE: message), 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tailor.cli.common import CommandError, positive
from tailor.config.catalog import DEFAULT_CATALOG, load_catalog
from tailor.config.models import CUSTOMIZATION_TYPES

NAME = "validate"
HELP = "check a JSONL dataset against a base model's rules"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path)
    parser.add_argument("--base-model", required=True, help="catalog model id, e.g. amazon.nova-micro-v1:0:128k")
    parser.add_argument("--type", required=True, choices=CUSTOMIZATION_TYPES, dest="ctype")
    parser.add_argument("--role", choices=("training", "validation"), default="training")
    parser.add_argument("--max-errors", type=positive, default=20)
    parser.add_argument("--catalog", type=Path, default=DEFAULT_CATALOG)


def run(args: argparse.Namespace) -> int:
    from tailor.datasets import validate_path

    catalog = load_catalog(args.catalog)
    model = catalog.models.get(args.base_model)
    if model is None:
        raise CommandError(
            f"unknown --base-model {args.base_model!r}; catalog models: {', '.join(sorted(catalog.models))} "
            "(`tailor models` lists them with their types and Regions)"
        )
    customization = model.customizations.get(args.ctype)
    if customization is None:
        raise CommandError(
            f"{args.base_model} does not support --type {args.ctype}; it supports: {', '.join(model.customizations)}"
        )
    rules = customization.training_rules if args.role == "training" else customization.validation_rules
    if rules is None:
        raise CommandError(f"{args.base_model} takes no validation set for {args.ctype}")
    if not args.file.is_file():
        raise CommandError(f"{args.file}: {'a directory, not a file' if args.file.is_dir() else 'no such file'}")
    report = validate_path(args.file, rules, max_errors=args.max_errors, source=str(args.file))
    for line in report.render():
        print(line, file=sys.stderr if not report.ok else sys.stdout)
    verdict = "valid" if report.ok else f"INVALID ({report.error_count} error{'s' if report.error_count != 1 else ''})"
    print(
        f"{args.file}: {verdict}: {report.records:,} records, "
        f"~{report.total_estimated_tokens:,} tokens, format {rules.format} for "
        f"{args.base_model} ({args.ctype}, {args.role})"
    )
    return 0 if report.ok else 1
