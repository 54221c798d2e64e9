"""cdk-nag: the packs synth runs, and narrow acknowledgments: one rule, one finding, one construct, one reason.

Three packs run over every stack (app.py): AwsSolutions, Serverless and NIST 800-53 R5. An acknowledgment names
its pack (acknowledging a rule in one pack does not cover the same check in another). Constructs acknowledge
what is specific to them where they are built; `acknowledge_inherent` acknowledges, per resource, the findings
every resource of one kind has for the same reason (the CDK Provider framework's functions, Tailor's functions,
IAM policies), so such a reason is written once and a resource of any other kind still fails synth.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, IPolicyValidationPlugin, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import custom_resources as cr
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks, ServerlessChecks
from constructs import IConstruct

AWS_SOLUTIONS = "AwsSolutions"
SERVERLESS = "Serverless"
NIST = "NIST.800.53.R5"
PACKS = (AWS_SOLUTIONS, SERVERLESS, NIST)
PACK = AWS_SOLUTIONS  # the default of acknowledge(): most acknowledgments in the constructs are AwsSolutions'

# The Provider framework's own functions (aws-cdk-lib custom-resources/provider-framework), by construct id.
FRAMEWORK_FUNCTIONS = ("framework-onEvent", "framework-isComplete", "framework-onTimeout")


def plugins(scope: IConstruct) -> list[IPolicyValidationPlugin]:
    """The packs, in PACKS order."""
    return [AwsSolutionsChecks(scope), ServerlessChecks(scope), NIST80053R5Checks(scope)]


def acknowledge(scope: IConstruct, rule: str, reason: str, *, finding: str | None = None, pack: str = PACK) -> None:
    rule_id = f"{pack}::{pack}-{rule}" + (f"[{finding}]" if finding else "")
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def acknowledge_wildcard_resource(scope: IConstruct, resource: str, reason: str) -> None:
    """AwsSolutions-IAM5 for one resource ARN pattern (a token is rendered the way cdk-nag prints it)."""
    acknowledge(scope, "IAM5", reason, finding=f"Resource::{nag_text(Stack.of(scope).resolve(resource))}")


def nag_text(value: Any) -> str:
    """CloudFormation JSON as cdk-nag renders it in finding ids: Ref -> <X>, GetAtt -> <L.A>, imports by name."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Ref":
            return f"<{arg}>"
        if fn == "Fn::GetAtt":
            return f"<{arg[0]}.{arg[1]}>"
        if fn == "Fn::ImportValue":
            return nag_text(arg)
        if fn == "Fn::Join":
            separator, parts = arg
            return str(separator).join(nag_text(p) for p in parts)
    raise ValueError(f"cannot render {value!r} as cdk-nag text")


# ------------------------------------------------------------------------------------ findings of a whole kind
NO_VPC = (
    "Tailor's functions reach only AWS APIs (Bedrock, S3, SSM, SNS, Scheduler, CloudWatch, Budgets) over TLS with "
    "IAM-signed requests, and no resource inside a VPC; a VPC would add NAT or eight interface endpoints per "
    "environment and change no data path (a job's own VPC is config `vpc`, used by Bedrock, not by these functions)."
)
NO_RESERVED_CONCURRENCY = (
    "Reserving concurrency takes it from every other function in the account (Lambda keeps 100 unreserved, so "
    "small accounts could not deploy at all); each of these runs once per resource change, event or period, and "
    "a throttled asynchronous invocation is retried by Lambda for up to 6 hours, the reconciler catching any "
    "expiry it missed within one period."
)
INLINE_POLICY = (
    "CDK writes a role's statements into that role's own AWS::IAM::Policy, attached to it alone and deleted "
    "with it; a customer-managed policy could be attached to other principals. Every statement is scoped and "
    "checked by AwsSolutions-IAM5."
)
ASYNC_DESTINATION = (
    "Invoked asynchronously (EventBridge, Scheduler): failures after Lambda's retries go to the on-failure "
    "destination of its EventInvokeConfig, the environment's alarmed dead-letter queue; this rule checks only "
    "the older DeadLetterConfig, and both together would deliver each failure twice."
)
SYNC_HANDLER = (
    "Invoked synchronously by the CDK Provider framework (onEvent/isComplete): an error goes back to the framework, "
    "which reports FAILED to CloudFormation; a dead-letter queue applies to asynchronous invocations only."
)
FRAMEWORK_ON_EVENT = (
    "The CDK Provider framework's entry function, invoked by CloudFormation: its framework catches every error "
    "and answers FAILED to CloudFormation, and a request it never answers fails the resource at its service "
    "timeout; the framework exposes no dead-letter option."
)
FRAMEWORK_SYNC = (
    "The CDK Provider framework's isComplete/onTimeout function, invoked synchronously by the waiter state "
    "machine, whose retries and timeout branch handle its errors; a dead-letter queue applies to asynchronous "
    "invocations only."
)
FRAMEWORK_MEMORY = (
    "The CDK Provider framework's relay function: CDK sizes it (128 MB) and exposes no memory option; it only "
    "forwards the request to Tailor's handler, whose memory is set explicitly."
)


def acknowledge_inherent(scope: IConstruct) -> None:
    """Acknowledge, resource by resource, the findings that every resource of a known kind has for one reason."""
    providers = [c for c in scope.node.find_all() if isinstance(c, cr.Provider)]
    handlers = {
        h.node.path
        for p in providers
        for h in (p.on_event_handler, p.is_complete_handler)
        if h is not None and isinstance(h, lambda_.Function)
    }
    destined = _functions_with_failure_destinations(scope)
    for provider in providers:
        for name in FRAMEWORK_FUNCTIONS:
            function = provider.node.try_find_child(name)
            if isinstance(function, lambda_.Function):
                on_event = name == "framework-onEvent"
                _acknowledge_function(function, dead_letters=FRAMEWORK_ON_EVENT if on_event else FRAMEWORK_SYNC)
                acknowledge(function, "LambdaDefaultMemorySize", FRAMEWORK_MEMORY, pack=SERVERLESS)
    from cdk_constructs.tailor_function import TailorFunction  # tailor_function imports this module

    for construct in scope.node.find_all():
        if isinstance(construct, TailorFunction):
            function = construct.function
            if function.node.path in handlers:
                _acknowledge_function(function, dead_letters=SYNC_HANDLER)
            elif function.node.path in destined:
                _acknowledge_function(function, dead_letters=ASYNC_DESTINATION)
            else:  # neither: its dead-letter finding stays, so whoever adds such a function decides
                _acknowledge_function(function, dead_letters=None)
        elif isinstance(construct, iam.Policy):
            acknowledge(construct, "IAMNoInlinePolicy", INLINE_POLICY, pack=NIST)


def _acknowledge_function(function: lambda_.Function, *, dead_letters: str | None) -> None:
    acknowledge(function, "LambdaInsideVPC", NO_VPC, pack=NIST)
    acknowledge(function, "LambdaConcurrency", NO_RESERVED_CONCURRENCY, pack=NIST)
    if dead_letters is not None:
        acknowledge(function, "LambdaDLQ", dead_letters, pack=SERVERLESS)
        acknowledge(function, "LambdaDLQ", dead_letters, pack=NIST)


def _functions_with_failure_destinations(scope: IConstruct) -> set[str]:
    """Paths of the functions an EventInvokeConfig with an on-failure destination names (by Ref, $LATEST)."""
    found = set()
    functions = {
        (Stack.of(f).node.path, str(Stack.of(f).resolve(f.function_name))): f.node.path
        for f in scope.node.find_all()
        if isinstance(f, lambda_.Function)
    }
    for config in scope.node.find_all():
        if isinstance(config, lambda_.CfnEventInvokeConfig):
            stack = Stack.of(config)
            destination = stack.resolve(config.destination_config) or {}
            if (destination.get("onFailure") or {}).get("destination"):
                path = functions.get((stack.node.path, str(stack.resolve(config.function_name))))
                if path is not None:
                    found.add(path)
    return found
