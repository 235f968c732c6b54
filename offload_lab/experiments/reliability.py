"""Experiment "reliability": what survives when the process doing the work is killed.

    run(profile: str | Profile, run_dir: Path, progress=None, broker="auto") -> dict

    progress(label: str, done_seconds: float, total_seconds: float), if given, is
    called about twice a second.

Three parts, every scenario on its own stack, all scenarios at once (in threads):

Chaos (one row per scenario in SCENARIOS). Setup: a stack whose mail provider
  answers 451 (try again later) at `reliability_transient_rate`. Drive:
  `reliability_clients` httpx clients send up to `reliability_jobs` requests,
  paced evenly over `reliability_seconds`, while a chaos loop sends the
  scenario's signal to the working process (web for the blocking and
  fire-and-forget variants, the worker for the queue) `reliability_kills` times
  at moments drawn from `random.Random(f"{reliability_seed}/{scenario}")`, and
  restarts it each time. Observe: every request's answer, then, after the app has
  settled (nothing queued, scheduled, leased or at the provider) or
  `reliability_drain_timeout` ran out, the provider's log.
Durability (one row per persistence mode). A stack without a worker; POST
  `durability_jobs` queue requests as fast as a few clients can; `kill -9`
  Redis right after the last 202; restart it on the same port and data dir;
  count the jobs still queued. `kill -9` kills the process, not the machine:
  what Redis has written is in the kernel's page cache and survives it, so
  everysec and always can only differ after a power cut or a kernel crash,
  which this lab cannot cause.
Outage. Queue requests at `outage_rps` for a while, then Redis is frozen
  (SIGSTOP: connections hang) for half of `outage_seconds` and down (stopped,
  connections refused) for the other half, then restarted on the same port and
  data dir (AOF everysec); the load goes on until it is accepted again. Nothing
  else is restarted. "recovered_after_s" runs from the moment Redis is started
  again to the first 202 for a request sent after it.

Record: `run_dir/reliability/`: `<scenario>_requests.csv` (one line per request),
`kills.csv` (planned and actual kill moments), the stacks' logs under `stacks/`;
the returned dict:

    {
      "reliability": [{"variant", "signal", "acks_late", "submitted", "delivered_unique", "lost",
                       "duplicates", "client_errors", "connection_refused", "kills",
                       "delivered_unconfirmed", "transient_failures", "retried" (queue rows only)}],
      "durability": [{"appendfsync": "off" | "everysec" | "always", "accepted", "survived", "lost"}],
      "outage": {"outage_seconds", "accepted", "refused_503", "max_503_latency_ms", "lost",
                 "recovered_after_s", "frozen_seconds", "down_seconds", "accepted_before",
                 "accepted_during", "accepted_after", "other_errors", "delivered_after_503",
                 "web_restarted", "worker_restarted"} | None,
      "skipped": {name: reason},  # what needs Redis when the broker is SQLite
      "broker": "redis" | "sqlite", "parameters": profile.parameters(), "seconds": wall time,
    }

"submitted" counts the 2xx answers (each carries a job id: a promise);
"lost" the promises the provider never accepted; "duplicates" the provider's
acceptances beyond one per promised job id; "client_errors" the requests that
got no 2xx (non-2xx, timeout, connection refused or reset), "connection_refused"
those of them that found no process listening (the web process was down);
"transient_failures" the promised jobs the provider answered 451 at least once
(the queue retries them: "retried"; fire-and-forget loses them); "delivered_unconfirmed"
emails the provider accepted for requests the client got no 2xx for (a caller
who retries those sends them twice). The durability and outage parts need Redis;
with SQLite they are skipped (`durability` empty, `outage` None) and said so in
"skipped", and so is the acks-late row (acknowledged delivery is Redis-only).
"""
import csv
import itertools
import random
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
from huey.storage import RedisStorage

from offload_lab.experiments.common import Progress, count_deliveries, make_stack, queue_storage
from offload_lab.mailsink import read_log
from offload_lab.profiles import Profile, get_profile
from offload_lab.stack import StackError, redis_server_path

RETRY_DELAY_SECONDS = "0.5"  # shorter than the app's default, so that retries end within the drain
SETTLED_SECONDS = 1.0  # nothing queued, scheduled, leased or at the provider for this long: drained
POLL_SECONDS = 0.1
STACK_START_SECONDS = 4.0  # all stacks at once on two cores; for the progress estimate only
SETTLE_ESTIMATE_SECONDS = 8.0  # the last restart, the drain, the durability bursts; for the estimate only
SYNC_TIMEOUT = 60.0  # how long a scenario waits for the others at a common start
MIN_UP_SECONDS = 1.0  # a restarted process serves at least this long before the next kill
RESTART_ATTEMPTS = 3  # a restart under load may time out; try again before giving up on the scenario
KILL_WINDOW = (0.1, 0.9)  # kills fall in this share of the drive, so that load surrounds each one
DURABILITY_CLIENTS = 4
APPENDFSYNC = {"off": None, "everysec": "everysec", "always": "always"}
OUTAGE_BEFORE_SECONDS = 1.0  # load before the outage
OUTAGE_AFTER_SECONDS = 1.5  # load after the first 202 that follows it
OUTAGE_RECOVERY_TIMEOUT = 15.0  # give up waiting for a 202 after this long
OUTAGE_CLIENTS = 4
PATHS = {
    "blocking_await": "/blocking/users/{user_id}/welcome-email?mode=await",
    "blocking_sync": "/blocking/users/{user_id}/welcome-email?mode=sync",
    "fire_and_forget": "/fire-and-forget/users/{user_id}/welcome-email",
    "queue": "/queue/users/{user_id}/welcome-email",
}
REQUEST_COLUMNS = ["index", "user_id", "sent_s", "latency_ms", "status", "job_id", "error"]
KILL_COLUMNS = ["scenario", "kill", "target", "signal", "planned_s", "at_s", "old_pid", "new_pid", "back_after_s"]


@dataclass(frozen=True)
class Scenario:
    variant: str
    signal: str
    acks_late: bool = False

    @property
    def name(self) -> str:
        return f"{self.variant}_{self.signal}" + ("_acks_late" if self.acks_late else "")

    @property
    def target(self) -> str:
        """The process that does the work: the one the chaos loop kills."""
        return "worker" if self.variant == "queue" else "web"


SCENARIOS = (
    Scenario("blocking_await", "SIGKILL"),
    Scenario("blocking_sync", "SIGKILL"),
    Scenario("fire_and_forget", "SIGKILL"),
    Scenario("queue", "SIGINT"),  # Huey's graceful stop: running jobs finish first
    Scenario("queue", "SIGTERM"),  # Huey stops at once; SIGNAL_INTERRUPTED puts the job back
    Scenario("queue", "SIGKILL"),
    Scenario("queue", "SIGKILL", acks_late=True),
)


def run(profile: "str | Profile", run_dir: Path, progress=None, broker: str = "auto") -> dict:
    profile = get_profile(profile)
    out_dir = Path(run_dir) / "reliability"
    out_dir.mkdir(parents=True, exist_ok=True)
    broker_used = "redis" if broker == "redis" or broker.startswith("redis://") or (
        broker == "auto" and redis_server_path()) else "sqlite"  # fmt: skip
    estimate = STACK_START_SECONDS + profile.reliability_seconds + profile.outage_seconds + SETTLE_ESTIMATE_SECONDS
    progress = Progress(progress, estimate)
    started = time.monotonic()

    # setup: which parts this broker can run
    scenarios = [s for s in SCENARIOS if broker_used == "redis" or not s.acks_late]
    skipped = {}
    if broker_used != "redis":
        reason = "needs Redis (the broker is SQLite)"
        skipped = {Scenario("queue", "SIGKILL", True).name: reason, "durability": reason, "outage": reason}

    # drive, observe: every part on its own stack, started together once all stacks are up
    # (start-ups cost the most CPU); the Redis kill -9 bursts wait until the chaos load is over.
    parts = len(scenarios) + (0 if skipped else len(APPENDFSYNC) + 1)
    phases = Phases(parts, len(scenarios))
    with ThreadPoolExecutor(max_workers=parts, thread_name_prefix="reliability") as pool:
        chaos = [pool.submit(run_scenario, profile, s, out_dir, broker, phases) for s in scenarios]
        durability = [] if skipped else [pool.submit(run_durability, profile, mode, out_dir, phases)
                                         for mode in APPENDFSYNC]  # fmt: skip
        outage = None if skipped else pool.submit(run_outage, profile, out_dir, phases)
        futures = [*chaos, *durability, *([outage] if outage else [])]
        while not all(future.done() for future in futures):
            done = sum(future.done() for future in futures)
            progress(f"reliability: {done} of {len(futures)} scenarios done", time.monotonic() - started)
            time.sleep(0.5)
        errors = [future.exception() for future in futures if future.exception() is not None]
        for error in sorted(errors, key=lambda error: isinstance(error, threading.BrokenBarrierError)):
            raise error  # the part that failed first, not the ones that stopped waiting for it
        measured = [future.result() for future in chaos]

    # record
    write_csv(out_dir / "kills.csv", [kill for _, kills in measured for kill in kills], KILL_COLUMNS)
    return {
        "reliability": [row for row, _ in measured],
        "durability": [future.result() for future in durability],
        "outage": outage.result() if outage else None,
        "skipped": skipped,
        "broker": broker_used,
        "parameters": profile.parameters(),
        "seconds": round(time.monotonic() - started, 1),
    }


class Phases:
    """All parts start driving at once; the durability bursts start when every chaos load is over.

    A part that fails breaks the barriers, so that the others stop waiting for it.
    """

    def __init__(self, parts: int, chaos_parts: int):
        self.started = threading.Barrier(parts)
        self.chaos_left = chaos_parts
        self.chaos_over = threading.Event()
        self.lock = threading.Lock()
        if not chaos_parts:
            self.chaos_over.set()

    def start_together(self) -> None:
        self.started.wait(SYNC_TIMEOUT)

    def chaos_driven(self) -> None:
        with self.lock:
            self.chaos_left -= 1
            if self.chaos_left <= 0:
                self.chaos_over.set()

    def wait_for_chaos(self) -> None:
        self.chaos_over.wait(SYNC_TIMEOUT)

    def abort(self) -> None:
        self.started.abort()
        self.chaos_over.set()


# --- chaos -------------------------------------------------------------------------------
def run_scenario(profile: Profile, scenario: Scenario, out_dir: Path, broker: str,
                 phases: Phases) -> tuple[dict, list[dict]]:  # fmt: skip
    """One row of the reliability table, and the kills that made it."""
    # Its own queue name: with --broker redis://... all scenarios share one Redis.
    env = {"RETRY_DELAY": RETRY_DELAY_SECONDS, "QUEUE_NAME": f"reliability-{scenario.name}"}
    if scenario.acks_late:
        env |= {"ACKS_LATE": "true", "LEASE_SECONDS": str(profile.reliability_lease_seconds)}
    planned, provider_seed = kill_plan(profile, scenario)
    stack = make_stack(profile, out_dir / "stacks" / scenario.name, broker, env=env,
                       transient_rate=profile.reliability_transient_rate, seed=provider_seed,
                       start_worker=scenario.target == "worker")  # fmt: skip
    try:
        stack.start()
        https = [httpx.Client(base_url=stack.web_url, timeout=profile.request_timeout)
                 for _ in range(profile.reliability_clients)]  # ready before the clock starts  # fmt: skip
        phases.start_together()
        requests: list[dict] = []
        t0 = time.monotonic()
        clients = threading.Thread(target=send_paced, args=(https, PATHS[scenario.variant], profile.reliability_jobs,
                                                             profile.reliability_seconds, t0, requests))  # fmt: skip
        clients.start()
        kills, earliest = [], 0.0
        for number, at in enumerate(planned, 1):
            kills.append(kill_and_restart(stack, scenario, number, at, max(at, earliest), t0))
            earliest = time.monotonic() - t0 + MIN_UP_SECONDS
        clients.join()
        for http in https:
            http.close()
        phases.chaos_driven()
        settle(stack, scenario, profile.reliability_drain_timeout)
        deliveries = read_log(stack.mail_log)
        retried = {attempt.job_id for attempt in stack.sink.attempts if attempt.code != 250}
    except BaseException:
        phases.abort()
        raise
    finally:
        stack.stop()

    write_csv(out_dir / f"{scenario.name}_requests.csv", requests, REQUEST_COLUMNS)
    return summarize(scenario, requests, stack.mail_log, deliveries, retried, len(kills)), kills


def kill_plan(profile: Profile, scenario: Scenario) -> tuple[list[float], int]:
    """The kill moments (seconds into the load) and the provider's seed: the same for the same profile."""
    chaos_random = random.Random(f"{profile.reliability_seed}/{scenario.name}")
    provider_seed = chaos_random.randrange(2**32)
    low, high = KILL_WINDOW
    moments = sorted(chaos_random.uniform(low, high) * profile.reliability_seconds
                     for _ in range(profile.reliability_kills))  # fmt: skip
    return moments, provider_seed


def send_paced(https: list[httpx.Client], path: str, jobs: int, seconds: float, t0: float,
               records: list[dict]) -> None:  # fmt: skip
    """Up to `jobs` POSTs spread evenly over `seconds`, one thread per client; one record each in `records`.

    A client that falls behind (a blocking endpoint) sends fewer: nothing starts after `seconds`.
    """
    numbers, lock = itertools.count(), threading.Lock()
    interval = seconds / max(jobs, 1)

    def client(http: httpx.Client) -> None:
        while (index := next(numbers)) < jobs:
            due = t0 + index * interval
            if time.monotonic() < due:
                time.sleep(due - time.monotonic())
            if time.monotonic() - t0 > seconds:
                return
            record = send_one(http, path, index, t0)
            with lock:
                records.append(record)

    threads = [threading.Thread(target=client, args=(http,)) for http in https]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    records.sort(key=lambda record: record["index"])


def send_one(http: httpx.Client, path: str, index: int, t0: float) -> dict:
    user_id = index % 1000 + 1
    record = {"index": index, "user_id": user_id, "sent_s": round(time.monotonic() - t0, 3),
              "status": "", "job_id": "", "error": ""}  # fmt: skip
    started = time.monotonic()
    try:
        response = http.post(path.format(user_id=user_id))
        record["status"] = response.status_code
        if response.is_success:
            record["job_id"] = response.json()["job_id"]
    except httpx.HTTPError as error:
        record["error"] = type(error).__name__
    record["latency_ms"] = round((time.monotonic() - started) * 1000, 1)
    return record


def kill_and_restart(stack, scenario: Scenario, number: int, planned_s: float, due_s: float, t0: float) -> dict:
    """Wait until `due_s` (the planned moment, or later if the last restart ran late), kill, restart."""
    if time.monotonic() < t0 + due_s:
        time.sleep(t0 + due_s - time.monotonic())
    old_pid = stack.processes[scenario.target].pid
    at = time.monotonic()
    stack.kill(scenario.target, getattr(signal, scenario.signal))
    for attempt in range(1, RESTART_ATTEMPTS + 1):
        try:
            stack.restart(scenario.target)
            break
        except StackError:
            if attempt == RESTART_ATTEMPTS:
                raise
    return {"scenario": scenario.name, "kill": number, "target": scenario.target, "signal": scenario.signal,
            "planned_s": round(planned_s, 3), "at_s": round(at - t0, 3), "old_pid": old_pid,
            "new_pid": stack.processes[scenario.target].pid,
            "back_after_s": round(time.monotonic() - at, 3)}  # fmt: skip


def settle(stack, scenario: Scenario, timeout: float) -> bool:
    """Wait until nothing is queued, scheduled for a retry, leased or at the provider; False on timeout.

    Jobs that a kill lost are in none of those places, so a lossy run settles as fast as a clean one.
    """
    storage = queue_storage(stack) if scenario.target == "worker" else None
    deadline = time.monotonic() + timeout
    quiet_since, size = time.monotonic(), -1
    while time.monotonic() < deadline:
        log_size = stack.mail_log.stat().st_size
        busy = stack.sink.in_flight > 0 or log_size != size
        if storage is not None and not busy:
            busy = storage.queue_size() + storage.schedule_size() + leased(storage) > 0
        if busy:
            quiet_since, size = time.monotonic(), log_size
        elif time.monotonic() - quiet_since >= SETTLED_SECONDS:
            return True
        time.sleep(POLL_SECONDS)
    return False


def leased(storage) -> int:
    """Jobs held under an acks-late lease (see demo_app/acks.py); 0 without acks late."""
    if not isinstance(storage, RedisStorage):
        return 0
    return storage.conn.zcard(f"huey.leases.{storage.name}")


def summarize(scenario: Scenario, requests: list[dict], mail_log: Path, deliveries: list[dict],
              retried: set[str], kills: int) -> dict:  # fmt: skip
    promised = [record["job_id"] for record in requests if record["job_id"]]
    counts = count_deliveries(promised, mail_log)
    row = {
        "variant": scenario.variant,
        "signal": scenario.signal,
        "acks_late": scenario.acks_late,
        **counts,
        "client_errors": sum(1 for record in requests if not record["job_id"]),
        "connection_refused": sum(1 for record in requests if record["error"] == "ConnectError"),
        "kills": kills,
        "delivered_unconfirmed": len({d["job_id"] for d in deliveries} - set(promised)),
        "transient_failures": len(retried & set(promised)),
    }
    if scenario.variant == "queue":
        row["retried"] = len(retried & set(promised))
    return row


# --- durability ------------------------------------------------------------------------------
def run_durability(profile: Profile, mode: str, out_dir: Path, phases: Phases) -> dict:
    """A backlog in Redis, kill -9 right after the last 202, restart: how much of it is left."""
    stack = make_stack(profile, out_dir / "stacks" / f"durability_{mode}", "redis",
                       appendfsync=APPENDFSYNC[mode], start_worker=False)  # fmt: skip
    try:
        stack.start()
        phases.start_together()
        phases.wait_for_chaos()  # a burst as fast as possible would slow the chaos parts down
        per_client = [profile.durability_jobs // DURABILITY_CLIENTS] * DURABILITY_CLIENTS
        per_client[0] += profile.durability_jobs % DURABILITY_CLIENTS
        answers: list[list[int]] = [[] for _ in per_client]  # one list per client: no lock needed

        def client(jobs: int, statuses: list[int]) -> None:
            with httpx.Client(base_url=stack.web_url, timeout=profile.request_timeout) as http:
                for number in range(jobs):
                    try:
                        statuses.append(http.post(PATHS["queue"].format(user_id=number % 1000 + 1)).status_code)
                    except httpx.HTTPError:
                        statuses.append(0)

        threads = [threading.Thread(target=client, args=args) for args in zip(per_client, answers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        stack.kill("redis", signal.SIGKILL)
        stack.restart("redis")  # same port, same data dir: it reads back what it had written
        survived = stack.queue_depth()
    except BaseException:
        phases.abort()
        raise
    finally:
        stack.stop()
    accepted = sum(statuses.count(202) for statuses in answers)
    return {"appendfsync": mode, "accepted": accepted, "survived": survived, "lost": max(accepted - survived, 0)}


# --- outage ------------------------------------------------------------------------------------
def run_outage(profile: Profile, out_dir: Path, phases: Phases) -> dict:
    """Queue requests while Redis hangs, then is down, then comes back; nothing else is restarted."""
    stack = make_stack(profile, out_dir / "stacks" / "outage", "redis", appendfsync="everysec",
                       env={"RETRY_DELAY": RETRY_DELAY_SECONDS})  # fmt: skip
    try:
        stack.start()
        phases.start_together()
        pids = {name: stack.processes[name].pid for name in ("web", "worker")}
        redis_process = stack.processes["redis"]
        interval = 1.0 / profile.outage_rps
        records, lock, stop = [], threading.Lock(), threading.Event()
        numbers = itertools.count()
        t0 = time.monotonic()

        def client() -> None:
            with httpx.Client(base_url=stack.web_url, timeout=profile.request_timeout) as http:
                while not stop.is_set():
                    index = next(numbers)
                    due = t0 + index * interval
                    if time.monotonic() < due:
                        time.sleep(due - time.monotonic())
                    record = send_one(http, PATHS["queue"], index, t0)
                    with lock:
                        records.append(record)

        threads = [threading.Thread(target=client) for _ in range(OUTAGE_CLIENTS)]
        for thread in threads:
            thread.start()
        time.sleep(OUTAGE_BEFORE_SECONDS)
        frozen = profile.outage_seconds / 2
        outage_start = time.monotonic() - t0
        redis_process.signal(signal.SIGSTOP)  # frozen: connections open, nothing answers
        time.sleep(frozen)
        redis_process.signal(signal.SIGCONT)
        stack.kill("redis", signal.SIGTERM)  # down: connections refused
        time.sleep(profile.outage_seconds - frozen)
        outage_end = time.monotonic() - t0
        stack.restart("redis")  # same port, same data dir (AOF)
        recovered = wait_for_a_202_after(records, lock, outage_end, t0 + outage_end + OUTAGE_RECOVERY_TIMEOUT)
        time.sleep(OUTAGE_AFTER_SECONDS)
        stop.set()
        for thread in threads:
            thread.join()

        promised = [record["job_id"] for record in records if record["job_id"]]
        drain_until = time.monotonic() + profile.reliability_drain_timeout
        while not set(promised) <= {d["job_id"] for d in read_log(stack.mail_log)} and time.monotonic() < drain_until:
            time.sleep(POLL_SECONDS)
        restarted = {name: stack.processes[name].pid != pid or not stack.processes[name].running()
                     for name, pid in pids.items()}  # fmt: skip
        deliveries = read_log(stack.mail_log)
    except BaseException:
        phases.abort()
        raise
    finally:
        stack.stop()

    write_csv(out_dir / "outage_requests.csv", sorted(records, key=lambda r: r["index"]), REQUEST_COLUMNS)
    refused = [record for record in records if record["status"] == 503]

    def accepted(since: float, until: float) -> int:
        return sum(1 for r in records if r["job_id"] and since <= r["sent_s"] < until)

    return {
        "outage_seconds": profile.outage_seconds,
        "accepted": len(promised),
        "refused_503": len(refused),
        "max_503_latency_ms": max((r["latency_ms"] for r in refused), default=None),
        "lost": count_deliveries(promised, stack.mail_log)["lost"],
        "recovered_after_s": None if recovered is None else round(recovered - outage_end, 3),
        "frozen_seconds": frozen,
        "down_seconds": profile.outage_seconds - frozen,
        "accepted_before": accepted(0, outage_start),
        "accepted_during": accepted(outage_start, outage_end),
        "accepted_after": accepted(outage_end, float("inf")),
        "other_errors": sum(1 for r in records if not r["job_id"] and r["status"] != 503),
        "delivered_after_503": len({d["job_id"] for d in deliveries} - set(promised)),
        "web_restarted": restarted["web"],
        "worker_restarted": restarted["worker"],
    }


def wait_for_a_202_after(records: list[dict], lock: threading.Lock, since_s: float, deadline: float) -> float | None:
    """Seconds since t0 at which the first request sent after `since_s` got its 202; None if none by `deadline`."""
    while time.monotonic() < deadline:
        with lock:
            answered = [r["sent_s"] + r["latency_ms"] / 1000 for r in records if r["job_id"] and r["sent_s"] >= since_s]
        if answered:
            return min(answered)
        time.sleep(POLL_SECONDS)
    return None


def write_csv(path: Path, rows: list[dict], columns: list[str]) -> Path:
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path
