"""What the experiments share: the variants, the stack they start, and how they count deliveries."""
import time
from collections import Counter
from pathlib import Path

import httpx
from huey.storage import PriorityRedisStorage, SqliteStorage

from demo_app.settings import Settings
from offload_lab.mailsink import read_log
from offload_lab.profiles import Profile
from offload_lab.stack import Stack

# Variant name in summary.json -> Locust user class in benchmarks/ and its request name.
VARIANTS = {
    "blocking_await": ("BlockingAwaitUser", "/blocking/users/[id]/welcome-email?mode=await"),
    "blocking_sync": ("BlockingSyncUser", "/blocking/users/[id]/welcome-email?mode=sync"),
    "fire_and_forget": ("FireAndForgetUser", "/fire-and-forget/users/[id]/welcome-email"),
    "queue": ("QueueUser", "/queue/users/[id]/welcome-email"),
}
HEALTH = ("HealthUser", "/health")
BYSTANDER = ("HealthBystander", "/health (bystander)")
BYSTANDER_USERS = 10  # HealthBystander.fixed_count in benchmarks/bystander.py
QUIET_POLL_SECONDS = 0.1
NO_BACKPRESSURE = "1000000"  # a backlog limit no experiment reaches: backpressure is not what we measure


class Progress:
    """Reports an experiment's steps as `callback(label, done_seconds, total_seconds)`.

    Call it like loadgen's callback while a step runs; `advance` when the step ends.
    """

    def __init__(self, callback, total_seconds: float):
        self.callback, self.total, self.done = callback, total_seconds, 0.0

    def __call__(self, label: str, done_in_step: float = 0.0, _step_total: float | None = None) -> None:
        if self.callback is not None:
            self.callback(label, min(self.done + done_in_step, self.total), self.total)

    def advance(self, seconds: float) -> None:
        self.done += seconds


def make_stack(profile: Profile, stack_dir: Path, broker: str = "auto", **options) -> Stack:
    """A stack with the profile's provider latency and workers, and no backpressure."""
    options.setdefault("workers", profile.workers)
    options.setdefault("mail_latency", profile.mail_latency)
    env = {"BACKLOG_LIMIT": NO_BACKPRESSURE, **options.pop("env", {})}
    return Stack(stack_dir, broker=broker, env=env, **options)


def queue_storage(stack: Stack):
    """Huey's own storage for the stack's queue: `.queue_size()` is the backlog, `.flush_queue()` empties it."""
    name = stack.env.get("QUEUE_NAME", Settings().queue_name)
    if stack.broker_url.startswith("sqlite:///"):
        return SqliteStorage(name, filename=stack.broker_url.removeprefix("sqlite:///"))
    return PriorityRedisStorage(name, url=stack.broker_url)


def count_deliveries(promised: list[str], mail_log: Path) -> dict:
    """Match the job ids the app promised with the messages the mail provider accepted."""
    received = Counter(record["job_id"] for record in read_log(mail_log))
    unique = set(promised)
    delivered = {job_id for job_id in unique if received[job_id] > 0}
    return {
        "submitted": len(unique),
        "delivered_unique": len(delivered),
        "lost": len(unique - delivered),
        "duplicates": sum(received[job_id] - 1 for job_id in delivered),
    }


def wait_for_deliveries(promised: list[str], mail_log: Path, timeout: float) -> bool:
    """Wait until every promised job id is in the mail log; False if `timeout` ran out first."""
    wanted = set(promised)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if wanted <= {record["job_id"] for record in read_log(mail_log)}:
            return True
        time.sleep(QUIET_POLL_SECONDS)
    return False


def wait_until_quiet(stack: Stack, quiet_seconds: float, timeout: float) -> None:
    """Wait until the mail log stops growing and /health answers, so the next run starts on an idle app.

    A blocking/sync run leaves requests queued in the app after Locust stops;
    fire-and-forget leaves sends in flight. Both would disturb the next variant.
    """
    deadline = time.monotonic() + timeout
    size, quiet_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        current = stack.mail_log.stat().st_size if stack.mail_log.exists() else 0
        if current != size:
            size, quiet_since = current, time.monotonic()
        elif time.monotonic() - quiet_since >= quiet_seconds and health_answers(stack):
            return
        time.sleep(QUIET_POLL_SECONDS)


def health_answers(stack: Stack, within: float = 0.5) -> bool:
    try:
        return httpx.get(stack.web_url + "/health", timeout=within).status_code == 200
    except httpx.HTTPError:
        return False


def enqueue_burst(stack: Stack, jobs: int) -> list[str]:
    """POST `jobs` queue requests back to back (much faster than any worker drains them); their job ids."""
    job_ids = []
    with httpx.Client(base_url=stack.web_url, timeout=10) as client:
        for number in range(jobs):
            user_id = number % 1000 + 1
            response = client.post(f"/queue/users/{user_id}/welcome-email")
            response.raise_for_status()
            job_ids.append(response.json()["job_id"])
    return job_ids


def summary_parts(latency: dict, throughput: dict) -> dict:
    """The keyword arguments of `results.make_summary` that these two experiments measure.

        make_summary(run_id=..., broker=..., profile=..., parameters=profile.parameters(),
                     performance=..., **summary_parts(latency_result, throughput_result))

    Per variant: percentiles, bystander and deliveries from the latency run, accepted
    requests/s at saturation from the throughput run; the baseline takes /health's
    p50/p95/p99 under the latency load and its requests/s at saturation.
    """
    variants = {
        name: {**measured, "accepted_rps": throughput["variants"][name]["accepted_rps"]}
        for name, measured in latency["variants"].items()
    }
    baseline = {"health_rps": throughput["baseline"]["health_rps"],
                "health_latency_ms": latency["baseline"]["health_latency_ms"]}  # fmt: skip
    return {"variants": variants, "baseline": baseline, "scaling": throughput["scaling"],
            "cpu_bound": throughput["cpu_bound"]}  # fmt: skip
