"""`tailor schema`: the JSON Schema of config/<env>.yaml, for editors (see tailor/config/json_schema.py).

Prints it; --output FILE writes it (the committed copy is config/schema.json); --check FILE exits 1 when
FILE differs from what this checkout generates, so CI can tell a stale copy.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tailor.cli.common import CommandError
from tailor.config.catalog import DEFAULT_CATALOG, load_catalog
from tailor.config.json_schema import SCHEMA_FILE, render_schema

NAME = "schema"
HELP = f"print the JSON Schema of the environment config (committed as {SCHEMA_FILE})"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--output", type=Path, help=f"write it to this file, e.g. {SCHEMA_FILE}")
    target.add_argument("--check", type=Path, metavar="FILE", help="exit 1 if FILE is not what would be written")
    parser.add_argument("--catalog", type=Path, default=DEFAULT_CATALOG)


def run(args: argparse.Namespace) -> int:
    text = render_schema(load_catalog(args.catalog))
    if args.check is not None:
        try:
            current = args.check.read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"--check {args.check}: cannot be read ({exc.__class__.__name__})") from None
        if current != text:
            print(
                f"{args.check}: out of date with the validator and catalog; run `tailor schema --output {args.check}`",
                file=sys.stderr,
            )
            return 1
        return 0
    if args.output is not None:
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"--output {args.output}: cannot be written ({exc.__class__.__name__})") from None
        print(f"wrote {args.output}")
        return 0
    sys.stdout.write(text)
    return 0
