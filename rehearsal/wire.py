"""Bedrock's REST-JSON wire format, read from botocore's service model: route a request, parse its parameters.

The inverse of botocore's ``RestJSONSerializer`` for the ``bedrock`` model (2023-04-20), so a request any
boto3 client sends comes back as the parameters the caller passed:

* routing: each operation's ``http.method`` and ``http.requestUri``; ``{label}`` matches one path segment
  (botocore percent-encodes ``/`` and ``:`` in it), ``{label+}`` (greedy) matches the rest of the path with
  its slashes; a static query in the template (``/x?versioning``) must be present.  When several templates
  match, the most literal one wins (as Smithy routers do); the bedrock model has no two that overlap.
* ``location: uri`` members from the path (percent-decoded), ``querystring`` members (lists as repeated keys,
  a ``map`` member takes the remaining keys), ``header`` members (``jsonvalue`` headers base64 JSON, lists
  comma-separated), ``headers`` prefix maps, and the rest from the JSON body (or the ``payload`` member).
* types from the shapes: timestamps (``iso8601`` by default in query strings, ``rfc822`` in headers,
  epoch seconds or the shape's ``timestampFormat`` in the body) become aware datetimes, integers and
  booleans in strings become ``int``/``bool``, blobs are base64-decoded.  A value that does not convert is
  passed on unchanged, so the double's model validation rejects it with AWS's wording and the member path.

Nothing here knows Bedrock's semantics; :mod:`rehearsal.http` feeds the result to the double.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape
from botocore.utils import parse_to_aware_datetime

from rehearsal.service_model import get_service_model

__all__ = ["Route", "RouteMatch", "Router", "WireError", "jsonable", "parse_request"]

UTC = dt.UTC
_LABEL = re.compile(r"\{([^}]+)\}")


class WireError(Exception):
    """A request that cannot be read as the operation's input: answered as an AWS error, never a traceback."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Route:
    operation: str
    method: str
    template: str  # the path part of requestUri
    labels: tuple[tuple[str, str], ...]  # (regex group, label name as written in the template, '+' stripped)
    static_query: tuple[tuple[str, str | None], ...]
    pattern: re.Pattern[str]
    specificity: tuple[int, int, int, int]

    @classmethod
    def build(cls, operation: str, method: str, request_uri: str) -> Route:
        path, _, query = request_uri.partition("?")
        static: list[tuple[str, str | None]] = []
        for part in filter(None, query.split("&")):
            key, eq, value = part.partition("=")
            static.append((key, value if eq else None))
        regex, labels, pos, literal, greedy = [], [], 0, 0, 0
        for i, m in enumerate(_LABEL.finditer(path)):
            regex.append(re.escape(path[pos : m.start()]))
            literal += m.start() - pos
            name = m.group(1)
            group = f"g{i}"
            if name.endswith("+"):
                greedy += 1
                regex.append(f"(?P<{group}>.+)")
                name = name[:-1]
            else:
                regex.append(f"(?P<{group}>[^/]+)")
            labels.append((group, name))
            pos = m.end()
        regex.append(re.escape(path[pos:]))
        literal += len(path) - pos
        # Most specific first: more literal characters, more static query keys, fewer greedy labels, fewer labels.
        specificity = (-literal, -len(static), greedy, len(labels))
        pattern = re.compile("".join(regex))
        return cls(operation, method.upper(), path, tuple(labels), tuple(static), pattern, specificity)

    def matches_query(self, query: Mapping[str, list[str]]) -> bool:
        return all(key in query and (value is None or value in query[key]) for key, value in self.static_query)


@dataclass(frozen=True)
class RouteMatch:
    route: Route
    labels: dict[str, str]  # label name -> percent-decoded value

    @property
    def operation(self) -> str:
        return self.route.operation


class Router:
    """Every operation of the service model, by HTTP method and request URI template."""

    def __init__(self, service_model: ServiceModel | None = None, *, routes: list[Route] | None = None):
        """Routes from ``service_model`` (default: botocore's bedrock model), or the given ``routes``."""
        self.service_model = service_model or get_service_model()
        if routes is None:
            routes = [
                Route.build(name, op.http["method"], op.http["requestUri"])
                for name in self.service_model.operation_names
                for op in [self.service_model.operation_model(name)]
            ]
        self.routes: tuple[Route, ...] = tuple(sorted(routes, key=lambda r: r.specificity))

    def match(self, method: str, raw_path: str, query: Mapping[str, list[str]] | None = None) -> RouteMatch | None:
        """The operation for a request line's method and raw (still percent-encoded) path, or None."""
        query = query or {}
        for route in self.routes:
            if route.method != method.upper():
                continue
            m = route.pattern.fullmatch(raw_path)
            if m is None or not route.matches_query(query):
                continue
            return RouteMatch(route, {name: unquote(m.group(group)) for group, name in route.labels})
        return None

    def methods_at(self, raw_path: str) -> list[str]:
        """The methods some operation accepts at this path (to explain a 404)."""
        return sorted({r.method for r in self.routes if r.pattern.fullmatch(raw_path)})


# --------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------


def parse_request(
    operation: OperationModel,
    labels: Mapping[str, str],
    query: Mapping[str, list[str]],
    headers: Mapping[str, str],
    body: bytes,
) -> dict[str, Any]:
    """The operation's input parameters from the routed request's pieces (see the module docstring)."""
    shape = operation.input_shape
    if shape is None:
        return {}
    lower_headers = {k.lower(): v for k, v in headers.items()}
    params: dict[str, Any] = {}
    bound_query: set[str] = set()
    query_map_member: str | None = None
    body_members: dict[str, Shape] = {}
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire_name = member.serialization.get("name", name)
        if location == "uri":
            if wire_name in labels:
                params[name] = _from_string(member, labels[wire_name], where="uri")
        elif location == "querystring":
            if member.type_name == "map":
                query_map_member = name
                continue
            bound_query.add(wire_name)
            if wire_name not in query:
                continue
            values = query[wire_name]
            if isinstance(member, ListShape):
                params[name] = [_from_string(member.member, v, where="querystring") for v in values]
            else:
                params[name] = _from_string(member, values[-1], where="querystring")
        elif location == "header":
            if wire_name.lower() in lower_headers:
                params[name] = _from_header(member, lower_headers[wire_name.lower()])
        elif location == "headers":
            prefix = wire_name.lower()
            found = {k[len(prefix) :]: v for k, v in lower_headers.items() if k.startswith(prefix)}
            if found:
                params[name] = found
        elif location is None:
            body_members[name] = member
    if query_map_member is not None:
        rest = {k: v for k, v in query.items() if k not in bound_query}
        if rest:
            map_shape = shape.members[query_map_member]
            assert isinstance(map_shape, MapShape)
            value_shape = map_shape.value
            params[query_map_member] = {k: (v if value_shape.type_name == "list" else v[-1]) for k, v in rest.items()}
    params.update(_parse_body(shape, body_members, body))
    return params


def _parse_body(shape: StructureShape, body_members: dict[str, Shape], body: bytes) -> dict[str, Any]:
    payload = shape.serialization.get("payload")
    if payload is not None:
        member = shape.members[payload]
        if member.type_name in ("blob", "string"):
            if not body:
                return {}
            return {payload: body if member.type_name == "blob" else body.decode("utf-8", errors="replace")}
        document = _load_json(body)
        return {} if document is None else {payload: _from_json(member, document)}
    if not body_members:
        return {}
    document = _load_json(body)
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise WireError("SerializationException", "The request body must be a JSON object.")
    by_wire_name = {m.serialization.get("name", n): n for n, m in body_members.items()}
    out: dict[str, Any] = {}
    for key, value in document.items():
        if value is None:
            continue  # null is absent, as AWS reads it
        name = by_wire_name.get(key)
        if name is None:
            out[key] = value  # not a body member: the double's model validation reports it as unknown
        else:
            out[name] = _from_json(body_members[name], value)
    return out


def _load_json(body: bytes) -> Any:
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WireError("SerializationException", f"The request body is not valid JSON: {exc}.") from None


def _from_json(shape: Shape, value: Any) -> Any:
    t = shape.type_name
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        if getattr(shape, "is_document_type", False):
            return value
        by_wire_name = {m.serialization.get("name", n): n for n, m in shape.members.items()}
        out = {}
        for key, item in value.items():
            if item is None:
                continue
            name = by_wire_name.get(key)
            out[name if name is not None else key] = _from_json(shape.members[name], item) if name is not None else item
        return out
    if isinstance(shape, ListShape) and isinstance(value, list):
        return [_from_json(shape.member, v) for v in value]
    if isinstance(shape, MapShape) and isinstance(value, dict):
        return {k: _from_json(shape.value, v) for k, v in value.items()}
    if t == "timestamp":
        return _timestamp(value, shape.serialization.get("timestampFormat"))
    if t == "blob" and isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return value
    return value


def _from_string(shape: Shape, text: str, *, where: str) -> Any:
    t = shape.type_name
    if t in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            return text
    if t in ("float", "double"):
        try:
            return float(text)
        except ValueError:
            return text
    if t == "boolean":
        lowered = text.lower()
        return True if lowered == "true" else False if lowered == "false" else text
    if t == "timestamp":
        default = "rfc822" if where == "header" else "iso8601"
        return _timestamp(text, shape.serialization.get("timestampFormat") or default)
    return text


def _from_header(shape: Shape, text: str) -> Any:
    if shape.type_name == "string" and shape.serialization.get("jsonvalue"):
        try:
            return json.loads(base64.b64decode(text))
        except (binascii.Error, ValueError):
            return text
    if isinstance(shape, ListShape):
        return [_from_string(shape.member, part.strip(), where="header") for part in text.split(",") if part.strip()]
    return _from_string(shape, text, where="header")


def _timestamp(value: Any, fmt: str | None) -> Any:
    """An aware datetime from any of botocore's timestamp renderings; the raw value if none fits."""
    try:
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)):
            return dt.datetime.fromtimestamp(value, tz=UTC)
        if isinstance(value, str):
            if fmt == "unixTimestamp" or re.fullmatch(r"-?\d+(\.\d+)?", value):
                return dt.datetime.fromtimestamp(float(value), tz=UTC)
            return parse_to_aware_datetime(value)
    except (ValueError, OverflowError, OSError):
        pass
    return value


# --------------------------------------------------------------------------
# JSON rendering (call log, state)
# --------------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """``value`` with datetimes as ISO 8601 UTC strings and bytes as base64: safe for ``json.dumps``."""
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return [jsonable(v) for v in items]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
