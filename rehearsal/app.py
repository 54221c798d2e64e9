"""The CDK app the rehearsal synthesizes: Tailor's own `build_app`, over the rehearsal's copy of the config.

`cdk synth --app "python rehearsal/app.py" -c env=dev -c rehearsal:config=<dir>`: the same stacks, constructs
and handlers a real deploy gets, read from another directory of environment files (rehearsal/config.py writes
it); nothing else differs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import aws_cdk as cdk

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import build_app  # noqa: E402
from tailor.errors import UserError  # noqa: E402


def main() -> int:
    app = cdk.App()
    config_dir = app.node.try_get_context("rehearsal:config")
    if not config_dir:
        print("rehearsal/app.py needs -c rehearsal:config=<directory of environment files>", file=sys.stderr)
        return 2
    try:
        build_app(app, root=ROOT, config_dir=Path(config_dir), only=app.node.try_get_context("env"))
    except UserError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
