"""The environment's job queue against moto (SSM) and the Bedrock double: never more jobs than allowed, each
started once, in order, whatever is repeated, raced, refused or deleted meanwhile."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from tailor import records
from tailor.jobs import completion, queue, queue_lock
from tailor.jobs.resource import on_event
from tests.handlers.helpers import event, spec, stage_assets

KEYS = ("support-bot", "support-distilled", "docs-refresh", "math-grader")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def now():
    return NOW


def specs(limit=2):
    """The four dev jobs, in the config's order, as the queue sees them."""
    return [
        replace(spec(key), max_concurrent_jobs=limit, queue_position=queue.position(i + 1))
        for i, key in enumerate(KEYS)
    ]


def create(clients, spec_):
    stage_assets(clients.s3, spec_)
    return on_event(event("Create", spec_), clients, now=now)["PhysicalResourceId"]


def status_of(clients, spec_):
    return (records.get(clients.ssm, spec_.record_name) or {}).get("status")


def running(bedrock_double):
    return {j.name for j in bedrock_double.jobs.values() if j.status in ("InProgress", "Stopping")}


def test_jobs_beyond_the_limit_are_queued_and_start_in_the_configs_order_as_slots_free(clients, bedrock_double):
    # Given four jobs and room for two, created by CloudFormation in reverse order
    bot, distilled, docs, math = specs()
    ids = {s.job_name: create(clients, s) for s in (math, docs, distilled, bot)}
    # Then the first two to arrive started (their physical id is the job ARN) and the others wait, by name
    assert running(bedrock_double) == {math.job_name, docs.job_name}
    assert [status_of(clients, s) for s in (bot, distilled)] == ["queued", "queued"]
    assert ids[bot.job_name] == bot.job_name and ":model-customization-job/" in ids[math.job_name]
    queued_record = records.get(clients.ssm, bot.record_name)
    assert queue.request_of(queued_record) == bot.request and queued_record["jobArn"] is None
    # When one finishes and completion advances the queue
    bedrock_double.finish_job(ids[math.job_name], "Completed")
    started = queue.advance(clients, "dev", now=now).started
    # Then the first waiting job in the config's order starts, and the other still waits
    assert list(started) == [bot.job_name] and status_of(clients, distilled) == "queued"
    assert records.get(clients.ssm, bot.record_name)["jobArn"] == started[bot.job_name]
    bedrock_double.finish_job(ids[docs.job_name], "Failed")
    assert list(queue.advance(clients, "dev", now=now).started) == [distilled.job_name]
    # and every job was started exactly once
    assert sorted(c.params["jobName"] for c in bedrock_double.calls_to("CreateModelCustomizationJob")) == sorted(
        s.job_name for s in (bot, distilled, docs, math)
    )


def test_a_lower_policy_limit_holds_jobs_back_even_when_bedrock_has_room(clients, bedrock_double):
    # Given policy.max_concurrent_jobs 1 (the account's other teams need the second slot)
    bot, distilled, *_ = specs(limit=1)
    create(clients, bot)
    create(clients, distilled)
    # Then one runs and the other waits, whatever Bedrock would allow
    assert running(bedrock_double) == {bot.job_name} and status_of(clients, distilled) == "queued"
    assert queue.advance(clients, "dev", now=now).started == {}


def test_jobs_of_other_environments_or_teams_count_against_the_quota(clients, bedrock_double):
    # Given someone else's job running in the account
    other = {**spec("support-bot").request, "jobName": "team-b-job", "customModelName": "team-b-model"}
    other["clientRequestToken"] = "team-b-token"
    stage_assets(clients.s3, spec("support-bot"))
    bedrock_double.client.create_model_customization_job(**other)
    bot, distilled, *_ = specs()
    # When two of ours are created
    create(clients, bot)
    create(clients, distilled)
    # Then only one of ours fits beside it
    assert running(bedrock_double) == {"team-b-job", bot.job_name} and status_of(clients, distilled) == "queued"


def test_bedrocks_own_refusal_keeps_the_job_queued_and_it_starts_when_a_slot_frees(clients, bedrock_double):
    # Given an account whose real quota (1) is below the policy's (2)
    bedrock_double.job_concurrency_quota = 1
    bot, distilled, *_ = specs()
    first = create(clients, bot)
    # When the second is created, Bedrock refuses it: the deploy goes on, the job waits with the reason
    assert create(clients, distilled) == distilled.job_name
    waiting = records.get(clients.ssm, distilled.record_name)
    assert waiting["status"] == "queued" and "ServiceQuotaExceededException" in waiting["queueNote"]
    # Then, once the first ends, the next pass starts it
    bedrock_double.finish_job(first, "Completed")
    assert list(queue.advance(clients, "dev", now=now).started) == [distilled.job_name]


def test_a_start_repeated_after_a_crash_adopts_the_job_the_first_one_started(clients, bedrock_double):
    # Given a queued job whose start reached Bedrock, but whose advancer died before recording it
    bot, distilled, *_ = specs(limit=1)
    create(clients, bot)
    create(clients, distilled)
    bedrock_double.finish_job(bedrock_double.client.get_model_customization_job(jobIdentifier=bot.job_name)["jobArn"])
    arn = bedrock_double.client.create_model_customization_job(**distilled.request)["jobArn"]
    assert status_of(clients, distilled) == "queued"
    # When the queue is advanced again (twice: a duplicate delivery)
    queue.advance(clients, "dev", now=now)
    queue.advance(clients, "dev", now=now)
    # Then the record describes that job, and no second job exists
    assert records.get(clients.ssm, distilled.record_name)["jobArn"] == arn
    assert [j.name for j in bedrock_double.jobs.values()].count(distilled.job_name) == 1


def test_deleting_a_queued_resource_means_its_job_never_starts(clients, bedrock_double):
    # Given a queued job (stack deletion, or the job removed from the config)
    bot, distilled, *_ = specs(limit=1)
    first = create(clients, bot)
    physical = create(clients, distilled)
    # When CloudFormation deletes its resource, and a slot frees afterwards
    on_event(event("Delete", distilled, physical_id=physical), clients, now=now)
    bedrock_double.finish_job(first, "Completed")
    # Then nothing is left to start
    assert records.get(clients.ssm, distilled.record_name) is None
    assert queue.advance(clients, "dev", now=now).started == {}
    assert distilled.job_name not in {j.name for j in bedrock_double.jobs.values()}


class _DeletesRecordOnStart:
    """Bedrock, while a Delete of the job's resource removes its record between the start and its recording."""

    def __init__(self, bedrock, ssm, record_name):
        self._bedrock, self._ssm, self._record = bedrock, ssm, record_name

    def create_model_customization_job(self, **request):
        answer = self._bedrock.create_model_customization_job(**request)
        records.delete(self._ssm, self._record)
        return answer

    def __getattr__(self, name):
        return getattr(self._bedrock, name)


def test_a_job_whose_record_vanished_while_it_started_is_stopped(clients, bedrock_double):
    # Given a queued job, and its resource deleted at the very moment the queue starts it
    bot, distilled, *_ = specs(limit=1)
    first = create(clients, bot)
    create(clients, distilled)
    bedrock_double.finish_job(first, "Completed")
    racing = SimpleNamespace(
        **{**vars(clients), "bedrock": _DeletesRecordOnStart(clients.bedrock, clients.ssm, distilled.record_name)}
    )
    # When the queue advances
    queue.advance(racing, "dev", now=now)
    # Then the job it started is stopped at once: nothing runs that no resource owns
    job = next(j for j in bedrock_double.jobs.values() if j.name == distilled.job_name)
    assert job.status in ("Stopping", "Stopped")


def test_a_queued_start_bedrock_refuses_for_good_fails_its_record_and_says_so(clients, bedrock_double):
    # Given a queued job whose start Bedrock then refuses for good (its role was deleted meanwhile)
    bot, distilled, *_ = specs(limit=1)
    first = create(clients, bot)
    create(clients, distilled)
    bedrock_double.finish_job(first, "Completed")
    bedrock_double.fail_next("CreateModelCustomizationJob", "ValidationException", "Could not assume the role")
    sent = []
    notify = completion.start_failures(
        SimpleNamespace(sns=SimpleNamespace(publish=lambda **m: sent.append(m))), "topic"
    )
    # When the queue advances
    result = queue.advance(clients, "dev", now=now, on_failed=notify)
    # Then the job is recorded Failed with the reason, announced once, and never retried
    record = records.get(clients.ssm, distilled.record_name)
    assert record["status"] == "Failed" and record["startFailed"] is True
    assert "ValidationException: Could not assume the role" in record["failureMessage"] and "request" not in record
    assert list(result.failed) == [distilled.job_name]
    (message,) = sent
    assert "support-distilled" in message["Subject"] and "Could not assume the role" in message["Message"]
    assert queue.advance(clients, "dev", now=now).started == {}


def test_one_advancer_at_a_time_and_a_lock_left_by_a_dead_one_is_broken_after_its_lease(clients, bedrock_double):
    # Given a queued job and another advancer holding the lock
    bot, distilled, *_ = specs(limit=1)
    first = create(clients, bot)
    create(clients, distilled)
    bedrock_double.finish_job(first, "Completed")
    name = queue_lock.lock_name("dev")
    clients.ssm.put_parameter(Name=name, Value=json.dumps({"owner": "other", "at": NOW.isoformat()}), Type="String")
    # When this one tries, briefly
    waits = []
    busy = queue.advance(clients, "dev", now=now, sleep=waits.append, wait_s=3)
    # Then it waited, then left the start to the next pass
    assert busy.busy and busy.started == {} and waits == [1.0, 1.0, 1.0]
    # and once the holder is past its lease (it died), the lock is broken and the job starts
    later = lambda: NOW + queue_lock.LOCK_LEASE + timedelta(seconds=1)  # noqa: E731
    assert list(queue.advance(clients, "dev", now=later).started) == [distilled.job_name]
    assert records.get(clients.ssm, name) is None  # released


def test_a_queued_replacement_rolled_back_keeps_the_old_job_and_nothing_starts_later(clients, bedrock_double):
    # Given a running job, replaced by a new revision that has to wait (the only slot is the old job's)
    old = replace(spec("support-bot"), max_concurrent_jobs=1)
    new = replace(spec("support-bot", revision=1), max_concurrent_jobs=1)
    first = create(clients, old)
    physical = on_event(event("Update", new, physical_id=first, old=old), clients, now=now)["PhysicalResourceId"]
    assert physical == new.job_name and status_of(clients, new) == "queued"
    # When the stack update fails elsewhere: CloudFormation rolls back, then deletes the replacement
    kept = on_event(event("Update", old, physical_id=physical, old=new), clients, now=now)["PhysicalResourceId"]
    on_event(event("Delete", new, physical_id=physical), clients, now=now)
    bedrock_double.finish_job(first, "Completed")
    topic = clients.sns.create_topic(Name="tailor-dev")["TopicArn"]
    completion.reconcile(clients, environment="dev", topic_arn=topic, now=now)
    # Then the old job is kept, its record describes it, and the replacement never starts
    assert kept == first
    assert records.get(clients.ssm, old.record_name)["jobArn"] == first
    assert queue.advance(clients, "dev", now=now).started == {}
    assert [j.name for j in bedrock_double.jobs.values()] == [old.job_name]


@pytest.mark.parametrize("order", ["update-then-delete", "delete-then-update"])
def test_a_replacement_that_started_from_the_queue_is_stopped_by_the_rollback(clients, bedrock_double, order):
    # Given a queued replacement that the queue started before CloudFormation rolled the update back
    old = replace(spec("support-bot"), max_concurrent_jobs=1)
    new = replace(spec("support-bot", revision=1), max_concurrent_jobs=2)
    first = create(clients, old)
    physical = on_event(
        event("Update", replace(new, max_concurrent_jobs=1), physical_id=first, old=old), clients, now=now
    )["PhysicalResourceId"]
    records.update(clients.ssm, new.record_name, lambda r: {**r, "maxConcurrentJobs": 2})
    queue.advance(clients, "dev", now=now)
    assert new.job_name in running(bedrock_double)
    # When CloudFormation rolls back and cleans up, in either order
    rollback = event("Update", old, physical_id=physical, old=new)
    cleanup = event("Delete", new, physical_id=physical)
    for step in (rollback, cleanup) if order == "update-then-delete" else (cleanup, rollback):
        on_event(step, clients, now=now)
    # Then the replacement is stopped, the old job runs on, and the record describes it
    assert running(bedrock_double) == {old.job_name} | {
        j.name for j in bedrock_double.jobs.values() if j.status == "Stopping"
    }
    assert next(j for j in bedrock_double.jobs.values() if j.name == new.job_name).status in ("Stopping", "Stopped")
    assert records.get(clients.ssm, old.record_name)["jobArn"] == first


def test_a_start_refused_while_the_job_provider_advanced_the_queue_is_announced_by_the_next_completion_pass(
    clients, bedrock_double
):
    # Given a queued job whose start Bedrock refused for good while another resource's Create advanced the queue
    bot, distilled, docs, _ = specs(limit=1)
    first = create(clients, bot)
    create(clients, distilled)
    bedrock_double.finish_job(first, "Completed")
    bedrock_double.fail_next("CreateModelCustomizationJob", "ValidationException", "Could not assume the role")
    create(clients, docs)  # its advance meets distilled's refusal first: the provider cannot publish
    topic = clients.sns.create_topic(Name="tailor-dev")["TopicArn"]
    sent = []
    publish = clients.sns.publish
    clients.sns.publish = lambda **m: (sent.append(m), publish(**m))[1]
    # When completion runs, twice
    first_pass = completion.announce_failed_starts(clients, environment="dev", topic_arn=topic)
    second_pass = completion.announce_failed_starts(clients, environment="dev", topic_arn=topic)
    # Then the refusal is announced once, with its reason
    assert first_pass == [distilled.job_name] and second_pass == []
    (message,) = sent
    assert "support-distilled" in message["Subject"] and "Could not assume the role" in message["Message"]
