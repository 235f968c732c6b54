"""Each variant behaves as the lessons say, proven over real HTTP against real parts."""
import threading
import time

import httpx
import pytest

from helpers import delivered_ids, wait_for


def post(stack, path: str, **kwargs) -> httpx.Response:
    return httpx.post(stack.web_url + path, timeout=30, **kwargs)


def job_state(stack, job_id: str) -> dict:
    return httpx.get(f"{stack.web_url}/jobs/{job_id}", timeout=5).json()


# --- blocking ------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["await", "sync"])
def test_blocking_answers_only_after_the_email_was_delivered(make_stack, mode):
    stack = make_stack(start_worker=False)
    response = post(stack, f"/blocking/users/1/welcome-email?mode={mode}")
    assert response.status_code == 200
    assert response.json()["job_id"] in delivered_ids(stack)  # already in the provider's log


def health_during_slow_request(stack, mode: str) -> list[str]:
    """Send a slow blocking request, then /health while it is in the provider; return who finished first."""
    finished: list[str] = []
    slow = threading.Thread(
        target=lambda: (post(stack, f"/blocking/users/1/welcome-email?mode={mode}"), finished.append("blocking"))
    )
    slow.start()
    wait_for(lambda: stack.sink.in_flight == 1, what="the provider to hold the message")
    httpx.get(stack.web_url + "/health", timeout=30)
    finished.append("health")
    slow.join()
    return finished


def test_sync_mode_makes_every_other_request_wait(make_stack):
    stack = make_stack(start_worker=False, mail_latency=1.5)
    assert health_during_slow_request(stack, "sync") == ["blocking", "health"]


def test_await_mode_keeps_serving_other_requests(make_stack):
    stack = make_stack(start_worker=False, mail_latency=1.5)
    assert health_during_slow_request(stack, "await") == ["health", "blocking"]


# --- fire-and-forget -------------------------------------------------------------------


def test_fire_and_forget_answers_before_delivery_and_delivers_later(make_stack):
    stack = make_stack(start_worker=False, mail_latency=1.0)
    response = post(stack, "/fire-and-forget/users/1/welcome-email")
    assert response.status_code == 202
    job_id = response.json()["job_id"]
    assert job_id not in delivered_ids(stack)
    wait_for(lambda: job_id in delivered_ids(stack), what="the in-process send")


# --- queue -----------------------------------------------------------------------------


def test_queue_answers_202_with_the_job_already_in_the_broker(make_stack, broker):
    stack = make_stack(broker, start_worker=False)
    response = post(stack, "/queue/users/1/welcome-email")
    assert response.status_code == 202
    job_id = response.json()["job_id"]
    assert response.headers["Location"] == f"/jobs/{job_id}"
    assert job_state(stack, job_id)["state"] == "queued"
    assert stack.queue_depth() == 1
    stack.restart("worker")
    wait_for(lambda: job_id in delivered_ids(stack), what="the worker to deliver the job")


def test_job_goes_queued_running_succeeded(make_stack, broker):
    stack = make_stack(broker, mail_latency=1.0)
    job_id = post(stack, "/queue/users/1/welcome-email").json()["job_id"]
    states = [job_state(stack, job_id)["state"]]
    deadline = time.monotonic() + 20
    while states[-1] != "succeeded" and time.monotonic() < deadline:
        time.sleep(0.05)
        state = job_state(stack, job_id)["state"]
        if state != states[-1]:
            states.append(state)
    assert states in (["queued", "running", "succeeded"], ["running", "succeeded"])
    assert "running" in states
    assert delivered_ids(stack).count(job_id) == 1


def test_transient_errors_are_retried_with_growing_gaps(make_stack, broker):
    stack = make_stack(broker, mail_latency=0.1, env={"RETRY_DELAY": "1.5", "RETRY_BACKOFF": "2"})
    stack.sink.scripted_replies.extend(["451 4.3.0 try again later"] * 2)
    job_id = post(stack, "/queue/users/1/welcome-email").json()["job_id"]
    wait_for(lambda: job_state(stack, job_id)["state"] == "succeeded", what="the third attempt to succeed")
    record = job_state(stack, job_id)
    assert record["attempts"] == 3
    tries = [attempt.at for attempt in stack.sink.attempts if attempt.job_id == job_id]
    assert [a.code for a in stack.sink.attempts if a.job_id == job_id] == [451, 451, 250]
    first_gap, second_gap = tries[1] - tries[0], tries[2] - tries[1]
    assert first_gap >= 1.5 and second_gap > first_gap  # exponential backoff: 1.5 s, then 3 s


def test_permanent_error_fails_at_once(make_stack, broker):
    stack = make_stack(broker, mail_latency=0.1)
    stack.sink.scripted_replies.append("550 5.1.1 no such mailbox")
    job_id = post(stack, "/queue/users/1/welcome-email").json()["job_id"]
    wait_for(lambda: job_state(stack, job_id)["state"] == "failed", what="the job to fail")
    record = job_state(stack, job_id)
    assert record["attempts"] == 1
    assert "550" in record["error"]
    time.sleep(1.0)  # no second attempt follows
    assert [a.code for a in stack.sink.attempts if a.job_id == job_id] == [550]


def test_a_user_deleted_before_the_job_runs_fails_without_retries(make_stack):
    from demo_app.users import delete_user

    stack = make_stack(start_worker=False)
    job_id = post(stack, "/queue/users/7/welcome-email").json()["job_id"]
    delete_user(stack.run_dir / "users.db", 7)
    stack.restart("worker")
    wait_for(lambda: job_state(stack, job_id)["state"] == "failed", what="the job to fail")
    record = job_state(stack, job_id)
    assert record["attempts"] == 1 and "no longer exists" in record["error"]
    assert job_id not in delivered_ids(stack)


def test_finished_job_records_are_trimmed(make_stack, broker):
    stack = make_stack(broker, mail_latency=0.0, env={"KEEP_SUCCEEDED": "3", "KEEP_FAILED": "1"})
    ids = [post(stack, f"/queue/users/{i}/welcome-email").json()["job_id"] for i in range(1, 6)]
    wait_for(lambda: len(delivered_ids(stack)) == 5, what="five deliveries")
    wait_for(lambda: httpx.get(f"{stack.web_url}/jobs/{ids[0]}").status_code == 404, what="trimming")
    codes = [httpx.get(f"{stack.web_url}/jobs/{job_id}").status_code for job_id in ids]
    assert codes.count(200) == 3 and codes.count(404) == 2


def test_a_higher_priority_job_enqueued_later_runs_first(make_stack, broker):
    stack = make_stack(broker, start_worker=False, workers=1, mail_latency=0.0)
    low = post(stack, "/queue/users/1/welcome-email").json()["job_id"]
    high = post(stack, "/queue/users/2/welcome-email?priority=10").json()["job_id"]
    stack.restart("worker")
    wait_for(lambda: len(delivered_ids(stack)) == 2, what="both deliveries")
    assert delivered_ids(stack) == [high, low]


# --- errors ------------------------------------------------------------------------------

VARIANT_PATHS = [
    "/blocking/users/{id}/welcome-email",
    "/blocking/users/{id}/welcome-email?mode=sync",
    "/fire-and-forget/users/{id}/welcome-email",
    "/queue/users/{id}/welcome-email",
]


def test_error_rows_of_the_contract(make_stack):
    stack = make_stack(start_worker=False)
    for path in VARIANT_PATHS:
        for bad_id in ("abc", "1.5", "%20"):
            response = post(stack, path.format(id=bad_id))
            assert response.status_code == 422 and response.json()["detail"], path
        response = post(stack, path.format(id=5000))
        assert response.status_code == 404 and "5000" in response.json()["detail"]
    response = post(stack, "/blocking/users/1/welcome-email?mode=later")
    assert response.status_code == 422 and response.json()["detail"]
    response = httpx.get(stack.web_url + "/jobs/no-such-job")
    assert response.status_code == 404 and response.json()["detail"]
    assert stack.sink.attempts == []  # no bad request sent anything


def test_backlog_above_the_limit_is_refused_with_retry_after(make_stack):
    stack = make_stack(start_worker=False, env={"BACKLOG_LIMIT": "2"})
    codes = [post(stack, f"/queue/users/{i}/welcome-email").status_code for i in (1, 2, 3)]
    assert codes == [202, 202, 503]
    refused = post(stack, "/queue/users/4/welcome-email")
    assert refused.headers["Retry-After"].isdigit() and "jobs are waiting" in refused.json()["detail"]
    assert stack.queue_depth() == 2  # nothing half-enqueued


def test_a_name_with_cr_lf_injects_no_header(make_stack):
    stack = make_stack(mail_latency=0.0)
    job_id = post(stack, "/queue/users/6/welcome-email").json()["job_id"]  # user 6: "Evil\r\nBcc: ..."
    wait_for(lambda: job_id in delivered_ids(stack), what="delivery")
    (attempt,) = [a for a in stack.sink.attempts if a.job_id == job_id]
    header_names = [line.split(":", 1)[0].lower() for line in attempt.headers.splitlines() if not line[:1].isspace()]
    assert "bcc" not in header_names
    assert attempt.to == "user6@example.test"


def test_hung_broker_gives_503_quickly_then_recovers_without_restart(make_stack):
    import signal

    stack = make_stack(mail_latency=0.0)
    web_pid = stack.processes["web"].pid
    stack.processes["redis"].signal(signal.SIGSTOP)  # a hung broker: connections open, no answers
    try:
        started = time.monotonic()
        response = post(stack, "/queue/users/1/welcome-email")
        elapsed = time.monotonic() - started
        assert response.status_code == 503 and response.headers["Retry-After"]
        assert "did not answer" in response.json()["detail"]
        assert elapsed < 3.0  # bounded by BROKER_TIMEOUT, never a hang
        wait_for(lambda: httpx.get(stack.web_url + "/health").json()["broker"] == "down", what="probe: down")
    finally:
        stack.processes["redis"].signal(signal.SIGCONT)
    wait_for(lambda: httpx.get(stack.web_url + "/health").json()["broker"] == "up", what="probe: up")
    response = post(stack, "/queue/users/1/welcome-email")
    assert response.status_code == 202
    wait_for(lambda: response.json()["job_id"] in delivered_ids(stack), what="delivery after recovery")
    assert stack.processes["web"].pid == web_pid  # recovered without a restart


def test_health_does_not_call_the_broker(make_stack):
    stack = make_stack(start_worker=False)
    client = stack.redis_client()
    before = int(client.info("stats")["total_commands_processed"])
    with httpx.Client(base_url=stack.web_url) as web:
        for _ in range(200):
            assert web.get("/health").json() == {"status": "ok", "broker": "up"}
    after = int(client.info("stats")["total_commands_processed"])
    # Only the background probe (every 0.1 s in tests) and our own INFO calls hit Redis.
    assert after - before < 100


def test_graceful_stop_finishes_pending_sends_and_shuts_down_cleanly(make_stack):
    stack = make_stack(start_worker=False, mail_latency=1.0)
    job_id = post(stack, "/fire-and-forget/users/1/welcome-email").json()["job_id"]
    stack.processes["web"].stop()  # SIGTERM: uvicorn's graceful shutdown
    assert job_id in delivered_ids(stack)  # the pending send finished before the process left
    stack.restart("web")
    stack.processes["web"].stop()  # and once more with nothing pending
    log = stack.processes["web"].log_path.read_text()
    assert "Application shutdown complete" in log and "Traceback" not in log
