"""What acknowledged delivery costs: worker throughput and Redis round trips per job.

    python -m offload_lab.acks_cost [--jobs 500] [--workers 4] [--repeat 3]

For each configuration, a backlog of jobs is enqueued with the worker stopped,
then one worker drains it (provider latency 0, so the queue is the bottleneck).
Throughput is counted from the provider's log (first to last delivery). Round
trips are counted in a separate, smaller run with Redis MONITOR (which slows
Redis down, so it never runs during a timed drain): every command a client sent,
not the commands a Lua script ran inside Redis.
"""
import argparse
import hashlib
import statistics
import tempfile
import threading
import time
from collections import Counter

import httpx
from huey.storage import SCHEDULE_POP_LUA

from offload_lab.mailsink import read_log
from offload_lab.stack import Stack

CONFIGS = {
    "plain Huey, no idempotency": {"ACKS_LATE": "false", "IDEMPOTENT_SENDING": "false"},
    "plain Huey + idempotent sending": {"ACKS_LATE": "false", "IDEMPOTENT_SENDING": "true"},
    "acks late + idempotent sending": {"ACKS_LATE": "true", "IDEMPOTENT_SENDING": "true"},
}
DRAIN_TIMEOUT = 300.0


def script_names() -> dict[str, str]:
    """EVALSHA's first argument -> the script's name, so that round trips say what they did."""
    from demo_app import acks, broker  # only to name the scripts in the report

    scripts = {"lease_next": acks.LEASE_NEXT_LUA, "lease_heartbeat": acks.HEARTBEAT_LUA,
               "lease_release": acks.RELEASE_LUA, "job_finish": broker.FINISH_LUA,
               "job_heartbeat": broker.HEARTBEAT_LUA, "enqueue": broker.ENQUEUE_LUA}  # fmt: skip
    names = {hashlib.sha1(lua.encode()).hexdigest(): name for name, lua in scripts.items()}
    names[hashlib.sha1(SCHEDULE_POP_LUA.encode()).hexdigest()] = "huey_schedule_pop"  # Huey's scheduler, 1/s
    return names


def fill_backlog(stack: Stack, jobs: int) -> None:
    with httpx.Client(base_url=stack.web_url, timeout=10) as client:
        for _ in range(jobs):
            client.post("/queue/users/1/welcome-email").raise_for_status()


def drain(stack: Stack, jobs: int) -> float:
    """Start the worker, wait for every job; jobs per second between first and last delivery."""
    stack.start_worker_process()
    deadline = time.monotonic() + DRAIN_TIMEOUT
    while len(read_log(stack.mail_log)) < jobs:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {len(read_log(stack.mail_log))} of {jobs} delivered")
        time.sleep(0.05)
    times = sorted(record["received_at"] for record in read_log(stack.mail_log))
    return (len(times) - 1) / (times[-1] - times[0])


def round_trips(stack: Stack, jobs: int) -> Counter:
    """Commands sent by clients while the worker drains `jobs` jobs, per command name."""
    seen: Counter = Counter()
    stop = threading.Event()
    names = script_names()

    def watch():
        with stack.redis_client().monitor() as monitor:
            for command in monitor.listen():
                if stop.is_set():
                    return
                words = command["command"].split()
                if command["client_type"] == "lua" or words[0].upper() in ("PING", "ZCARD"):
                    continue
                name = words[0].upper()
                if name == "EVALSHA":
                    name = f"EVALSHA {names.get(words[1], words[1][:8])}"
                seen[name] += 1

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    time.sleep(0.5)
    drain(stack, jobs)
    stop.set()
    stack.redis_client().ping()  # wakes the monitor so that it sees the stop flag
    watcher.join(5)
    return seen


def run(jobs: int, workers: int, repeat: int, monitored_jobs: int) -> None:
    rates: dict[str, list[float]] = {name: [] for name in CONFIGS}
    trips: dict[str, Counter] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for round_no in range(repeat):
            for name, env in CONFIGS.items():  # interleaved, so drift hits every configuration alike
                with Stack(f"{tmp}/{round_no}-{len(rates[name])}-{hash(name)}", broker="redis", mail_latency=0.0,
                           workers=workers, env=env, start_worker=False) as stack:  # fmt: skip
                    fill_backlog(stack, jobs)
                    rates[name].append(drain(stack, jobs))
        for name, env in CONFIGS.items():
            with Stack(f"{tmp}/monitor-{hash(name)}", broker="redis", mail_latency=0.0, workers=workers, env=env,
                       start_worker=False) as stack:  # fmt: skip
                fill_backlog(stack, monitored_jobs)
                trips[name] = round_trips(stack, monitored_jobs)

    print(f"{jobs} jobs, {workers} worker threads, provider latency 0, {repeat} runs each (median, min-max):")
    for name in CONFIGS:
        print(f"  {name:34s} {statistics.median(rates[name]):7.1f} jobs/s  ({min(rates[name]):.1f}-{max(rates[name]):.1f})")
    print(f"Round trips to Redis per job from the worker ({monitored_jobs} jobs, MONITOR on, PING/ZCARD left out):")
    for name in CONFIGS:
        per_job = {command: round(count / monitored_jobs, 2) for command, count in trips[name].most_common()}
        print(f"  {name:34s} {sum(trips[name].values()) / monitored_jobs:5.2f}  {per_job}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--monitored-jobs", type=int, default=100)
    args = parser.parse_args()
    run(args.jobs, args.workers, args.repeat, args.monitored_jobs)


if __name__ == "__main__":
    main()
