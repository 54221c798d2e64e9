"""Records every AWS call a rehearsal Lambda worker makes, for the IAM check (standard library only).

Copied into the emulator's site-packages with a .pth line (rehearsal/processes.py), so it loads in every worker
process before the function's code: when `botocore.client` is imported (the function's bundled botocore, from
its asset), `BaseClient._make_api_call` is wrapped to append one JSON line per call to $TAILOR_CALL_LOG. Calls
made outside a Lambda worker (no AWS_LAMBDA_FUNCTION_NAME: the emulator itself) are not recorded. Without
TAILOR_CALL_LOG it does nothing at all.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import json
import os
import sys
import time
from typing import Any

LOG = os.environ.get("TAILOR_CALL_LOG")
FUNCTION = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")


def _patch(module: Any) -> None:
    original = module.BaseClient._make_api_call

    def _make_api_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        entry = {
            "time": time.time(),
            "function": FUNCTION,
            "service": self.meta.service_model.service_name,
            "signing_name": self.meta.service_model.signing_name,
            "operation": operation_name,
            "params": _plain(api_params),
            "region": self.meta.region_name,
        }
        try:
            result = original(self, operation_name, api_params)
            entry["outcome"] = "ok"
            return result
        except Exception as exc:
            entry["outcome"] = getattr(exc, "response", {}).get("Error", {}).get("Code") or type(exc).__name__
            raise
        finally:
            with open(str(LOG), "a", encoding="utf-8") as out:
                out.write(json.dumps(entry, default=str) + "\n")

    module.BaseClient._make_api_call = _make_api_call


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k not in ("Body", "Payload")}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != "botocore.client":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is None or spec.loader is None:
            return None
        loader = spec.loader
        exec_module = loader.exec_module

        def exec_and_patch(module: Any) -> None:
            exec_module(module)
            _patch(module)

        loader.exec_module = exec_and_patch  # type: ignore[method-assign]
        return spec


if LOG and FUNCTION:
    sys.meta_path.insert(0, _Finder())
