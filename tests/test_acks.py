"""The leased storage on its own, against a private redis-server: lease, acknowledge, renew, put back."""
import time

import pytest

from demo_app.acks import LeasedRedisStorage
from helpers import wait_for

LEASE = 0.5


@pytest.fixture
def redis_url(make_stack):
    return make_stack(start_worker=False).broker_url


def storage(url: str, name: str = "acks-test") -> LeasedRedisStorage:
    worker = LeasedRedisStorage(name, url=url, lease_seconds=LEASE, poll_seconds=0)
    worker.heartbeat.start = lambda: None  # these tests beat by hand (renew_and_reap)
    return worker


def test_dequeue_leases_the_message_and_the_next_dequeue_acknowledges_it(redis_url):
    worker = storage(redis_url)
    worker.enqueue(b"low", priority=0)
    worker.enqueue(b"high", priority=5)
    assert worker.dequeue() == b"high"  # Huey's priority order is kept
    assert (worker.queue_size(), worker.leased_count()) == (1, 1)
    assert worker.dequeue() == b"low"  # this thread came back: "high" has ended
    assert (worker.queue_size(), worker.leased_count()) == (0, 1)
    assert worker.dequeue() is None
    assert worker.leased_count() == 0
    worker.enqueue(b"last")
    worker.dequeue()
    worker.release()  # what a graceful stop does
    assert worker.leased_count() == 0


def test_a_lease_nobody_renews_goes_back_at_its_priority(redis_url):
    dead, alive = storage(redis_url), storage(redis_url)
    put_back = []
    alive.on_lease_expired = put_back.extend
    dead.enqueue(b"job", priority=5)
    assert dead.dequeue() == b"job"
    dead.held.clear()  # the worker died: nobody will renew or release it
    alive.renew_and_reap()
    assert put_back == []  # not yet expired
    time.sleep(LEASE * 1.5)
    alive.renew_and_reap()
    assert put_back == [b"job"]
    assert alive.leased_count() == 0
    assert alive.conn.zrange(alive.queue_key, 0, -1, withscores=True)[0][1] == -5  # same priority as before
    assert alive.dequeue() == b"job"


def test_a_renewed_lease_is_kept_however_long_the_task(redis_url):
    worker, other = storage(redis_url), storage(redis_url)
    put_back = []
    other.on_lease_expired = put_back.extend
    worker.enqueue(b"long job")
    worker.dequeue()
    deadline = time.monotonic() + LEASE * 4
    while time.monotonic() < deadline:
        worker.renew_and_reap()  # what its heartbeat does every LEASE / 4 seconds
        other.renew_and_reap()
        time.sleep(LEASE / 4)
    assert put_back == [] and worker.leased_count() == 1


def test_the_web_apps_enqueue_layout_is_what_the_lease_reads(make_stack):
    import httpx

    stack = make_stack(start_worker=False, env={"ACKS_LATE": "true"})
    job_id = httpx.post(stack.web_url + "/queue/users/1/welcome-email").json()["job_id"]
    worker = storage(stack.broker_url, name="welcome-emails")
    message = wait_for(worker.dequeue, what="the web's message")
    assert job_id.encode() in message  # the pickled task, without the 8-byte ordering prefix
    assert worker.leased_count() == 1
