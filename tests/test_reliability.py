"""What survives a crash, proven with real processes and real signals (issue 4).

Every test makes the mail provider *hold* a message (a long latency), kills a
part while it holds it, and then counts what the provider accepted. The provider
only accepts a message whose sender is still connected when it answers, so a
killed sender means "not delivered" — the ground truth the lessons count from.
"""
import signal
import time

import httpx
import pytest

from helpers import delivered_ids, wait_for

HOLD_SECONDS = 4.0  # how long the provider holds a message while we kill something
FAST = 0.05  # provider latency once the test is done holding
LEASE_SECONDS = 2.0
QUEUE_KEY = "huey.redis.welcomeemails"
LEASE_KEY = "huey.leases.welcomeemails"
RELIABILITY_ENV = {"JOB_HEARTBEAT_SECONDS": "0.2", "STALE_AFTER_SECONDS": "1"}
ACKS_LATE_ENV = {**RELIABILITY_ENV, "ACKS_LATE": "true", "LEASE_SECONDS": str(LEASE_SECONDS)}


def enqueue(stack) -> str:
    response = httpx.post(stack.web_url + "/queue/users/1/welcome-email", timeout=10)
    assert response.status_code == 202, response.text
    return response.json()["job_id"]


def enqueue_when_up(stack) -> str:
    """Enqueue as a client honouring Retry-After would, until the broker takes the job."""
    post = lambda: httpx.post(stack.web_url + "/queue/users/1/welcome-email", timeout=10)  # noqa: E731
    response = wait_for(lambda: (r := post()).status_code == 202 and r, what="a 202 from the queue")
    return response.json()["job_id"]


def job(stack, job_id: str) -> dict:
    return httpx.get(f"{stack.web_url}/jobs/{job_id}", timeout=5).json()


def provider_holds_a_message(stack) -> None:
    wait_for(lambda: stack.sink.in_flight >= 1, what="the provider to hold a message")


def settle(stack, seconds: float) -> None:
    """Give the system time to do something it should not do (deliver a lost job)."""
    time.sleep(seconds)


# --- plain Huey (at-most-once) --------------------------------------------------------


def test_plain_huey_loses_the_job_when_its_worker_is_killed(make_stack):
    stack = make_stack(mail_latency=HOLD_SECONDS, workers=1, env=RELIABILITY_ENV)
    lost = enqueue(stack)
    provider_holds_a_message(stack)
    stack.kill("worker", signal.SIGKILL)
    stack.sink.latency = FAST
    # The record cannot know the worker died, but it says how long it has been silent.
    stale = wait_for(lambda: (record := job(stack, lost)).get("stale") and record, what="a stale running record")
    assert stale["state"] == "running" and stale["last_seen_s"] > 1
    stack.restart("worker")
    later = enqueue(stack)  # proves the new worker runs jobs...
    wait_for(lambda: later in delivered_ids(stack), what="a later job")
    settle(stack, LEASE_SECONDS)
    assert lost not in delivered_ids(stack)  # ...but the killed one is gone for good
    assert stack.queue_depth() == 0


def test_plain_huey_sigint_lets_the_running_job_finish(make_stack):
    stack = make_stack(mail_latency=HOLD_SECONDS / 2, workers=1, env=RELIABILITY_ENV)
    job_id = enqueue(stack)
    provider_holds_a_message(stack)
    stack.kill("worker", signal.SIGINT)  # graceful: Huey waits for the task
    assert delivered_ids(stack).count(job_id) == 1
    assert job(stack, job_id)["state"] == "succeeded"


def test_plain_huey_sigterm_puts_the_running_job_back(make_stack):
    # Four threads: three sit idle on the queue while the fourth is interrupted. The
    # job must not go back where those dying threads would take it with them.
    stack = make_stack(mail_latency=HOLD_SECONDS, workers=4, env=RELIABILITY_ENV)
    job_id = enqueue(stack)
    provider_holds_a_message(stack)
    stack.kill("worker", signal.SIGTERM)  # interrupts the task: SIGNAL_INTERRUPTED puts it back
    assert job(stack, job_id)["state"] == "queued"
    stack.sink.latency = FAST
    stack.restart("worker")
    wait_for(lambda: job(stack, job_id)["state"] == "succeeded", what="the job to succeed after the restart")
    settle(stack, 1.0)
    assert delivered_ids(stack).count(job_id) == 1


# --- acks late (at-least-once) ---------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_acks_late_delivers_a_killed_workers_job_once_after_its_lease(make_stack, signum):
    stack = make_stack(mail_latency=HOLD_SECONDS, workers=1, env=ACKS_LATE_ENV)
    redis = stack.redis_client()
    first = enqueue(stack)
    provider_holds_a_message(stack)
    assert redis.zcard(LEASE_KEY) == 1 and redis.zcard(QUEUE_KEY) == 0
    assert job(stack, first)["attempts"] == 1
    stack.kill("worker", signum)  # SIGTERM runs SIGNAL_INTERRUPTED, which leaves the job to its lease

    # The new worker's only thread gets busy with a second job, so that the first
    # one, put back when its lease runs out, waits in the queue where we can see it.
    second = enqueue(stack)
    stack.restart("worker")
    wait_for(lambda: job(stack, second)["state"] == "running", what="the second job to start")
    back = wait_for(lambda: (record := job(stack, first))["state"] == "queued" and record, what="the lease to run out")
    assert back["attempts"] == 1 and "requeued_at" in back  # attempts kept: the lost run is not a retry
    assert redis.zcard(QUEUE_KEY) == 1

    stack.sink.latency = FAST
    wait_for(lambda: job(stack, first)["state"] == "succeeded", timeout=30, what="the first job to succeed")
    settle(stack, LEASE_SECONDS)
    assert delivered_ids(stack).count(first) == 1
    assert delivered_ids(stack).count(second) == 1
    assert redis.zcard(LEASE_KEY) == 0


def test_acks_late_a_long_task_keeps_its_lease(make_stack):
    stack = make_stack(mail_latency=LEASE_SECONDS * 2.5, workers=1, env=ACKS_LATE_ENV)
    job_id = enqueue(stack)
    wait_for(lambda: job(stack, job_id)["state"] == "succeeded", timeout=30, what="the long job")
    settle(stack, LEASE_SECONDS)
    assert delivered_ids(stack).count(job_id) == 1  # never handed to a second run
    assert stack.redis_client().zcard(LEASE_KEY) == 0


def test_acks_late_graceful_stop_acknowledges_the_last_job(make_stack):
    stack = make_stack(mail_latency=HOLD_SECONDS / 2, workers=1, env=ACKS_LATE_ENV)
    job_id = enqueue(stack)
    provider_holds_a_message(stack)
    stack.kill("worker", signal.SIGINT)
    assert stack.redis_client().zcard(LEASE_KEY) == 0  # released by the on_shutdown hook
    stack.restart("worker")
    settle(stack, LEASE_SECONDS * 1.5)
    assert delivered_ids(stack).count(job_id) == 1


def test_acks_late_is_refused_on_sqlite(make_stack, tmp_path):
    from offload_lab.stack import StackError

    with pytest.raises(StackError, match="ACKS_LATE=true needs a Redis broker"):
        make_stack(broker="sqlite", env={"ACKS_LATE": "true"})


# --- idempotent sending ------------------------------------------------------------------


@pytest.mark.parametrize("idempotent", [True, False])
def test_a_redelivered_job_is_sent_once_when_sending_is_idempotent(make_stack, idempotent):
    env = {**ACKS_LATE_ENV, "IDEMPOTENT_SENDING": str(idempotent).lower()}
    stack = make_stack(mail_latency=FAST, workers=1, env=env, start_worker=False)
    redis = stack.redis_client()
    job_id = enqueue(stack)
    ((message, score),) = redis.zrange(QUEUE_KEY, 0, -1, withscores=True)  # the job, as the broker holds it
    stack.start_worker_process()
    wait_for(lambda: job(stack, job_id)["state"] == "succeeded", what="the first run")
    first_finish = job(stack, job_id)["finished_at"]

    redis.zadd(QUEUE_KEY, {message: score})  # the same message again: what a redelivery looks like
    wait_for(lambda: job(stack, job_id)["finished_at"] > first_finish, what="the second run")
    assert job(stack, job_id)["state"] == "succeeded"
    assert delivered_ids(stack).count(job_id) == (1 if idempotent else 2)


# --- fire-and-forget ---------------------------------------------------------------------------


def test_fire_and_forget_loses_a_pending_send_when_the_web_process_dies(make_stack):
    stack = make_stack(mail_latency=HOLD_SECONDS, start_worker=False)
    response = httpx.post(stack.web_url + "/fire-and-forget/users/1/welcome-email", timeout=10)
    assert response.status_code == 202
    provider_holds_a_message(stack)
    stack.kill("web", signal.SIGKILL)
    settle(stack, HOLD_SECONDS + 1)
    assert response.json()["job_id"] not in delivered_ids(stack)
    assert stack.sink.in_flight == 0


# --- the broker itself -----------------------------------------------------------------------------


@pytest.mark.parametrize("appendfsync, survives", [("always", True), (None, False)])
def test_a_backlog_survives_redis_kill_9_only_with_aof(make_stack, appendfsync, survives):
    stack = make_stack(mail_latency=0.0, appendfsync=appendfsync, start_worker=False)
    job_ids = [enqueue(stack) for _ in range(20)]
    assert stack.queue_depth() == 20
    stack.kill("redis", signal.SIGKILL)
    stack.restart("redis")  # same port, same data dir
    assert stack.queue_depth() == (20 if survives else 0)
    stack.start_worker_process()
    if survives:
        wait_for(lambda: set(job_ids) <= set(delivered_ids(stack)), what="the whole backlog")
    else:
        later = enqueue_when_up(stack)
        wait_for(lambda: later in delivered_ids(stack), what="a job enqueued after the restart")
        assert not set(job_ids) & set(delivered_ids(stack))


def test_redis_outage_gives_503_then_202_without_restarting_anything(make_stack):
    stack = make_stack(mail_latency=0.0, appendfsync="always")
    pids = {name: stack.processes[name].pid for name in ("web", "worker")}
    before = enqueue(stack)
    wait_for(lambda: before in delivered_ids(stack), what="a job before the outage")

    stack.kill("redis", signal.SIGTERM)
    started = time.monotonic()
    response = httpx.post(stack.web_url + "/queue/users/1/welcome-email", timeout=10)
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert time.monotonic() - started < 3.0  # bounded by BROKER_TIMEOUT: never a hang

    stack.restart("redis")
    after = enqueue_when_up(stack)
    wait_for(lambda: after in delivered_ids(stack), what="delivery after the outage")
    assert {name: stack.processes[name].pid for name in ("web", "worker")} == pids
