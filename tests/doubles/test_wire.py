"""Routing and parsing of Bedrock's REST-JSON requests against botocore's own serializer (no sockets)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.awsrequest import prepare_request_dict
from botocore.serialize import create_serializer

from rehearsal.service_model import get_service_model
from rehearsal.wire import Route, Router, WireError, jsonable, parse_request
from tests.doubles.samples import LABEL_VALUE, TIMESTAMP, sample_params

MODEL = get_service_model()
ROUTER = Router(MODEL)
SERIALIZER = create_serializer("rest-json", include_validation=False)


def on_the_wire(operation: str, params: dict) -> tuple[str, str, dict[str, list[str]], dict[str, str], bytes]:
    """(method, raw path, query, headers, body) exactly as botocore would send ``params``."""
    request = SERIALIZER.serialize_to_request(params, MODEL.operation_model(operation))
    prepare_request_dict(request, endpoint_url="http://127.0.0.1:9")
    url = urlsplit(request["url"])
    body = request["body"] if isinstance(request["body"], bytes) else request["body"].encode()
    return request["method"], url.path, parse_qs(url.query, keep_blank_values=True), dict(request["headers"]), body


def round_trip(operation: str, params: dict) -> tuple[str, dict]:
    method, path, query, headers, body = on_the_wire(operation, params)
    match = ROUTER.match(method, path, query)
    assert match is not None, f"{operation}: {method} {path} routes nowhere"
    return match.operation, parse_request(MODEL.operation_model(match.operation), match.labels, query, headers, body)


@pytest.mark.parametrize("full", [False, True], ids=["required-members", "every-member"])
def test_every_operation_routes_to_itself_and_parses_back_to_its_parameters(full):
    # Given a sample request for each of the model's operations, serialised by botocore
    failures = []
    for name in MODEL.operation_names:
        params = sample_params(MODEL.operation_model(name), full=full)
        # When routed and parsed
        routed, parsed = round_trip(name, params)
        # Then it is the same operation with the same parameters (types included)
        if routed != name or parsed != params:
            failures.append((name, routed, params, parsed))
    assert failures == []
    assert len(MODEL.operation_names) == 133  # botocore 1.44.8 (shared/reference/bedrock.md H)


def test_the_samples_cover_every_location_and_type_the_model_uses():
    # The round trip above proves little if the samples miss a location: count what they exercise
    seen: Counter[tuple[str, str]] = Counter()
    used: Counter[tuple[str, str]] = Counter()
    for name in MODEL.operation_names:
        shape = MODEL.operation_model(name).input_shape
        if shape is None:
            continue
        params = sample_params(MODEL.operation_model(name), full=True)
        for member_name, member in shape.members.items():
            key = (member.serialization.get("location") or "body", member.type_name)
            used[key] += 1
            if member_name in params:
                seen[key] += 1
    assert set(seen) == set(used), f"never sampled: {set(used) - set(seen)}"
    assert {("uri", "string"), ("querystring", "timestamp"), ("querystring", "integer")} <= set(seen)
    assert {("querystring", "boolean"), ("header", "string"), ("body", "blob"), ("body", "timestamp")} <= set(seen)


def test_labels_are_percent_decoded_and_query_types_converted():
    # Given an ARN (with ':' and '/') as a label, and typed query members
    _op, params = round_trip("GetModelCustomizationJob", {"jobIdentifier": LABEL_VALUE})
    assert params == {"jobIdentifier": LABEL_VALUE}
    routed, params = round_trip(
        "ListModelCustomizationJobs",
        {"creationTimeAfter": TIMESTAMP, "maxResults": 7, "statusEquals": "InProgress", "sortOrder": "Ascending"},
    )
    assert routed == "ListModelCustomizationJobs"
    assert params["creationTimeAfter"] == TIMESTAMP and params["maxResults"] == 7
    routed, params = round_trip("ListCustomModels", {"isOwned": False})
    assert params == {"isOwned": False}


def test_tagging_reads_resource_arn_from_the_body():
    arn = "arn:aws:bedrock:us-east-1:111122223333:provisioned-model/abcdefghijkl"
    routed, params = round_trip("TagResource", {"resourceARN": arn, "tags": [{"key": "k", "value": "v"}]})
    assert (routed, params) == ("TagResource", {"resourceARN": arn, "tags": [{"key": "k", "value": "v"}]})


def test_the_idempotency_header_member_is_read():
    # StartAutomatedReasoningPolicyBuildWorkflow carries clientRequestToken in x-amz-client-token
    op = MODEL.operation_model("StartAutomatedReasoningPolicyBuildWorkflow")
    params = {**sample_params(op), "clientRequestToken": "tok-1"}
    method, path, query, headers, body = on_the_wire(op.name, params)
    assert headers["x-amz-client-token"] == "tok-1"
    match = ROUTER.match(method, path, query)
    assert parse_request(op, match.labels, query, headers, body)["clientRequestToken"] == "tok-1"


def test_greedy_labels_static_queries_and_the_most_literal_template_win():
    # Given S3-like templates (the bedrock model has no greedy label and no static query; other models do)
    router = Router(
        routes=[
            Route.build("GetObject", "GET", "/{Bucket}/{Key+}"),
            Route.build("ListObjects", "GET", "/{Bucket}"),
            Route.build("GetBucketVersioning", "GET", "/{Bucket}?versioning"),
            Route.build("GetObjectAcl", "GET", "/{Bucket}/{Key+}?acl"),
            Route.build("GetReport", "GET", "/{Bucket}/reports/latest"),
        ]
    )
    # Then a greedy label keeps its slashes (decoded once), a static query selects its operation,
    # and a literal segment beats a label
    m = router.match("GET", "/my-bucket/a/b%20c.txt")
    assert (m.operation, m.labels) == ("GetObject", {"Bucket": "my-bucket", "Key": "a/b c.txt"})
    assert router.match("GET", "/my-bucket/a/b", {"acl": [""]}).operation == "GetObjectAcl"
    assert router.match("GET", "/my-bucket", {"versioning": [""]}).operation == "GetBucketVersioning"
    assert router.match("GET", "/my-bucket").operation == "ListObjects"
    assert router.match("GET", "/my-bucket/reports/latest").operation == "GetReport"
    # A non-greedy label never spans a slash (botocore encodes one inside a label as %2F)
    assert router.match("GET", "/a%2Fb").labels == {"Bucket": "a/b"}


def test_no_route_and_method_hints():
    assert ROUTER.match("GET", "/no-such-thing") is None
    assert ROUTER.match("DELETE", "/model-customization-jobs") is None
    assert ROUTER.methods_at("/model-customization-jobs") == ["GET", "POST"]


def test_values_that_do_not_convert_are_passed_on_for_the_model_to_reject():
    op = MODEL.operation_model("ListModelCustomizationJobs")
    params = parse_request(op, {}, {"maxResults": ["many"], "creationTimeAfter": ["yesterday"]}, {}, b"")
    assert params == {"maxResults": "many", "creationTimeAfter": "yesterday"}


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]"])
def test_a_body_that_is_not_a_json_object_is_a_serialization_error(body):
    op = MODEL.operation_model("CreateProvisionedModelThroughput")
    with pytest.raises(WireError) as raised:
        parse_request(op, {}, {}, {}, body)
    assert (raised.value.code, raised.value.status) == ("SerializationException", 400)


def test_body_timestamps_blobs_and_nulls():
    # Timestamps arrive as epoch seconds from other SDKs, nulls mean absent
    op = MODEL.operation_model("CreateProvisionedModelThroughput")
    params = parse_request(op, {}, {}, {}, b'{"modelUnits": 1, "commitmentDuration": null, "extra": 1}')
    assert params == {"modelUnits": 1, "extra": 1}  # "extra" is left for the model validation to refuse
    from rehearsal.wire import _timestamp

    assert _timestamp(1767322800, None) == dt.datetime(2026, 1, 2, 3, 0, tzinfo=dt.UTC)
    assert _timestamp("2026-01-02T03:00:00Z", "iso8601") == dt.datetime(2026, 1, 2, 3, 0, tzinfo=dt.UTC)


def test_jsonable_renders_datetimes_bytes_and_sets():
    value = {"t": dt.datetime(2026, 1, 2, tzinfo=dt.UTC), "b": b"\x00", "s": {"b", "a"}, "n": None, "o": object}
    rendered = jsonable(value)
    assert rendered["t"] == "2026-01-02T00:00:00Z" and rendered["b"] == "AA==" and rendered["s"] == ["a", "b"]
    assert rendered["n"] is None and rendered["o"].startswith("<class")
