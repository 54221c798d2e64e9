"""A client for the local Bedrock's harness endpoints (``/_double/...``), for a harness in another process.

    bedrock = Control("http://127.0.0.1:4599")
    bedrock.wait_ready()
    bedrock.plan_job_outcome("support-bot", "Failed", failure_message="Input data is invalid")
    bedrock.fault("CreateProvisionedModelThroughput", "ThrottlingException", times=2)
    ...
    for entry in bedrock.eventbridge(since=seen):     # forward to the emulator's EventBridge
        events.put_events(Entries=[entry["entry"]])
    assert bedrock.billed() == []                     # nothing left billed

Every method returns the decoded JSON; a refusal raises :class:`ControlRequestError` with the server's
one-line reason (``settings: job_seconds: is -1.0; allowed: ...``).  Only the standard library is used.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

__all__ = ["Control", "ControlRequestError"]


class ControlRequestError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class Control:
    def __init__(self, url: str, *, timeout: float = 10.0):
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None, **query: Any) -> Any:
        params = {k: v for k, v in query.items() if v is not None}
        target = f"{self.url}/_double{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(target, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            payload = error.read()
            try:
                message = json.loads(payload).get("error") or json.loads(payload).get("message")
            except (ValueError, AttributeError):
                message = payload.decode("utf-8", errors="replace")
            raise ControlRequestError(error.code, str(message)) from None

    def _object(self, method: str, path: str, body: dict[str, Any] | None = None, **query: Any) -> dict[str, Any]:
        result = self._call(method, path, body, **query)
        if not isinstance(result, dict):
            raise ControlRequestError(200, f"{method} {path} answered {type(result).__name__}, not a JSON object")
        return result

    def _list(self, path: str, **query: Any) -> list[dict[str, Any]]:
        result = self._call("GET", path, None, **query)
        if not isinstance(result, list):
            raise ControlRequestError(200, f"GET {path} answered {type(result).__name__}, not a JSON list")
        return result

    # ------------------------------------------------------------------ reading
    def health(self) -> dict[str, Any]:
        return self._object("GET", "/health")

    def wait_ready(self, timeout: float = 30.0) -> dict[str, Any]:
        """Poll ``/health`` until the server answers (a process just started); TimeoutError after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.health()
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the local Bedrock at {self.url} did not answer within {timeout} s") from None
                time.sleep(0.05)

    def state(self, *, account: str | None = None, region: str | None = None) -> dict[str, Any]:
        return self._object("GET", "/state", account=account, region=region)

    def billed(self) -> list[dict[str, Any]]:
        return self._list("/billed")

    def calls(self, *, since: int = 0) -> list[dict[str, Any]]:
        return self._list("/calls", since=since)

    def events(self, *, since: int = 0) -> list[dict[str, Any]]:
        return self._list("/events", since=since)

    def eventbridge(self, *, since: int = 0) -> list[dict[str, Any]]:
        return self._list("/eventbridge", since=since)

    def settings(self, **changes: Any) -> dict[str, Any]:
        """The settings in force; with keyword arguments, change them first (``job_seconds=5``)."""
        return self._object("POST", "/settings", changes) if changes else self._object("GET", "/settings")

    # ------------------------------------------------------------------ steering
    def advance(self, seconds: float) -> dict[str, Any]:
        return self._object("POST", "/clock", {"advance_seconds": seconds})

    def set_time(self, iso_time: str) -> dict[str, Any]:
        return self._object("POST", "/clock", {"set": iso_time})

    def reset_clock(self) -> dict[str, Any]:
        return self._object("POST", "/clock", {"reset": True})

    def finish_job(self, job: str, status: str = "Completed", **extra: Any) -> dict[str, Any]:
        """End a job now (``failure_message``, ``training_loss``, ``validation_loss``, ``account``, ``region``)."""
        return self._object("POST", "/jobs/finish", {"job": job, "status": status, **extra})

    def plan_job_outcome(
        self, name_contains: str, status: str, *, failure_message: str | None = None, times: int = 1
    ) -> dict[str, Any]:
        body = {"name_contains": name_contains, "status": status, "times": times}
        if failure_message is not None:
            body["failure_message"] = failure_message
        return self._object("POST", "/jobs/outcome", body)

    def set_status(self, resource: str, status: str, **extra: Any) -> dict[str, Any]:
        """Force a PT or deployment status (``failure_message``, ``account``, ``region``)."""
        return self._object("POST", "/status", {"resource": resource, "status": status, **extra})

    def fault(self, operation: str, code: str, *, times: int = 1, **extra: Any) -> dict[str, Any]:
        """The next ``times`` calls of ``operation`` fail with ``code`` (``http_status``, ``message``,
        ``after_apply``, ``account``, ``region``)."""
        return self._object("POST", "/faults", {"operation": operation, "code": code, "times": times, **extra})

    def clear_faults(self) -> dict[str, Any]:
        return self._object("DELETE", "/faults")

    def hold(self, resource: str) -> dict[str, Any]:
        return self._object("POST", "/holds", {"resource": resource})

    def release(self, resource: str | None = None) -> dict[str, Any]:
        return self._object("DELETE", "/holds", resource=resource)

    def reset(self) -> dict[str, Any]:
        return self._object("POST", "/reset")
