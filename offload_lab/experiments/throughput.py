"""Experiment "throughput": how much each variant accepts, and how the queue's workers scale.

    run(profile: str | Profile, run_dir: Path, progress=None, broker="auto", stack=None) -> dict

    With `stack` (a running Stack from `experiments.common.make_stack`, so without
    backpressure), that stack is used and left running — changed: the worker
    count and type, CPU_WORK_MS and the provider latency are this experiment's
    afterwards. Run it after the latency experiment, never before.

    progress(label: str, done_seconds: float, total_seconds: float), if given, is
    called about five times a second.

Setup: one stack with the profile's workers and no backpressure (BACKLOG_LIMIT
  out of reach), so that what we see is the app's speed, not its limit.
Drive and observe, in four parts:
  1. saturation — `saturation_users` Locust users without pause on GET /health
     (the baseline) and then on each variant: accepted (2xx) requests per second.
     The queue's backlog from that run is flushed afterwards.
  2. scaling — the same burst of `scaling_jobs` queue requests against 1, 2, 4, 8
     worker threads (the worker is restarted for each), I/O-bound jobs at
     `scaling_mail_latency` s each: jobs/s from the first request to the last
     delivery, beside the ideal workers / latency; the queue depth (ZCARD of
     Huey's key, via Huey's storage class) sampled while the burst drains.
  3. cpu — CPU-bound jobs (CPU_WORK_MS, provider latency 0) on thread against
     process workers, beside the core count: `core_limit_jobs_per_s` is what the
     cores allow (min(cores, workers) * 1000 / CPU_WORK_MS). Threads reach past one
     core only where the work releases the GIL (Pillow's C code does, partly).
Record: raw Locust CSVs in `run_dir/throughput/`, stack logs in
  `run_dir/throughput/stack/`; the returned dict:

    {
      "variants": {variant: {"accepted_rps", "p50_ms", "client_errors", "web_cpu_ms_per_request"}},
      "baseline": {"health_rps", "p50_ms", "client_errors", "web_cpu_ms_per_request"},
      "scaling": [{"workers", "jobs_per_s", "ideal_jobs_per_s", "jobs", "seconds"}],
      "backlog": [{"workers", "series": [{"t", "depth", "delivered"}]}],
      "cpu_bound": [{"worker_type", "workers", "jobs_per_s", "jobs", "cores", "core_limit_jobs_per_s"}],
      "loadgen": {label: {"cores", "peak_cores", "processes", "saturated"}},
      "loadgen_cpu_share": the busiest Locust run's mean share of one core (the /health run, usually),
      "broker": "redis" | "sqlite", "parameters": profile.parameters(), "seconds": wall time,
    }
"""
import os
import time
from contextlib import nullcontext
from pathlib import Path

import psutil

from offload_lab import loadgen
from offload_lab.experiments.common import (
    HEALTH, VARIANTS, Progress, count_deliveries, enqueue_burst, make_stack, queue_storage,
    wait_until_quiet,
)  # fmt: skip
from offload_lab.mailsink import read_log
from offload_lab.profiles import Profile, get_profile
from offload_lab.stack import Stack

LOCUST_OVERHEAD_SECONDS = 1.0  # for the progress estimate only
STACK_START_SECONDS = 3.0
WORKER_RESTART_SECONDS = 1.5
SAMPLE_SECONDS = 0.05  # queue depth sampling while a burst drains
SPAWN_AT_ONCE = 1000  # users started per second: a saturation run starts at full load
STALLING = ("blocking_sync",)  # variants that leave the app busy after Locust stops
DRAIN_TIMEOUT_FACTOR = 4  # give a burst this many times its ideal time before giving up


def run(profile: "str | Profile", run_dir: Path, progress=None, broker: str = "auto",
        stack: Stack | None = None) -> dict:  # fmt: skip
    profile = get_profile(profile)
    out_dir = Path(run_dir) / "throughput"
    saturation_step = profile.saturation_seconds + LOCUST_OVERHEAD_SECONDS
    scaling_seconds = sum(WORKER_RESTART_SECONDS + ideal_seconds(profile, w) for w in profile.scaling_workers)
    progress = Progress(progress, STACK_START_SECONDS + saturation_step * (len(VARIANTS) + 1) + scaling_seconds
                        + 2 * (WORKER_RESTART_SECONDS + 1))  # fmt: skip
    started = time.monotonic()

    progress("throughput: starting the stack")
    with nullcontext(stack) if stack is not None else make_stack(profile, out_dir / "stack", broker) as stack:
        progress.advance(STACK_START_SECONDS)
        variants, loadgen_cpu, baseline = {}, {}, {}

        # 1. saturation: the baseline first, then every variant under the same users
        for label, (user_class, request_name) in {"health": HEALTH, **VARIANTS}.items():
            web_cpu_before = cpu_seconds(stack.processes["web"].pid)
            measured = saturate(stack, profile, user_class, out_dir, label, progress)
            endpoint = measured.for_name(request_name)
            accepted = endpoint["count"] - endpoint["failures"]
            accepted_rps = round(accepted / profile.saturation_seconds, 1)
            web_cpu_ms = 1000 * (cpu_seconds(stack.processes["web"].pid) - web_cpu_before) / max(accepted, 1)
            loadgen_cpu[label] = measured.cpu.as_dict()
            figures = {"p50_ms": endpoint["p50"], "client_errors": endpoint["failures"],
                       "web_cpu_ms_per_request": round(web_cpu_ms, 3)}  # fmt: skip
            if label == "health":
                baseline = {"health_rps": accepted_rps, **figures}
            else:
                variants[label] = {"accepted_rps": accepted_rps, **figures}
            settle(stack, profile, stalled=label in STALLING)
            progress.advance(saturation_step)

        # 2. scaling: the same burst against more and more worker threads
        stack.sink.latency = profile.scaling_mail_latency
        scaling, backlog = [], []
        for workers in profile.scaling_workers:
            progress(f"throughput: burst on {workers} worker(s)")
            restart_worker(stack, workers=workers, worker_type="thread")
            point, series = drain_burst(stack, profile.scaling_jobs, ideal_seconds(profile, workers))
            ideal = workers / profile.scaling_mail_latency
            scaling.append({"workers": workers, **point, "ideal_jobs_per_s": round(ideal, 1)})
            backlog.append({"workers": workers, "series": series})
            progress.advance(WORKER_RESTART_SECONDS + ideal_seconds(profile, workers))

        # 3. CPU-bound jobs: threads share one interpreter, processes share the cores
        stack.sink.latency = 0.0
        stack.env["CPU_WORK_MS"] = str(profile.cpu_work_ms)
        cores = os.cpu_count() or 1
        cpu_bound = []
        for worker_type in ("thread", "process"):
            progress(f"throughput: CPU-bound jobs on {worker_type} workers")
            restart_worker(stack, workers=profile.cpu_workers, worker_type=worker_type)
            expected = profile.cpu_jobs * profile.cpu_work_ms / 1000
            point, _ = drain_burst(stack, profile.cpu_jobs, expected)
            core_limit = min(cores, profile.cpu_workers) * 1000 / profile.cpu_work_ms
            cpu_bound.append({"worker_type": worker_type, "workers": profile.cpu_workers,
                              "jobs_per_s": point["jobs_per_s"], "jobs": point["jobs"], "cores": cores,
                              "core_limit_jobs_per_s": round(core_limit, 1)})  # fmt: skip
            progress.advance(WORKER_RESTART_SECONDS + 1)
        broker_used = stack.broker

    return {
        "variants": variants,
        "baseline": baseline,
        "scaling": scaling,
        "backlog": backlog,
        "cpu_bound": cpu_bound,
        "loadgen": loadgen_cpu,
        "loadgen_cpu_share": max(cpu["cores"] for cpu in loadgen_cpu.values()),
        "broker": broker_used,
        "parameters": profile.parameters(),
        "seconds": round(time.monotonic() - started, 1),
    }


def cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def ideal_seconds(profile: Profile, workers: int) -> float:
    return profile.scaling_jobs * profile.scaling_mail_latency / workers


def saturate(stack: Stack, profile: Profile, user_class: str, out_dir: Path, label: str, progress):
    """Users without pause: the most the app accepts per second."""
    return loadgen.run_locust(
        stack.web_url, [user_class], profile.saturation_users, profile.saturation_seconds, out_dir, label,
        pace=0, request_timeout=profile.request_timeout, spawn_rate=SPAWN_AT_ONCE,
        progress=lambda _label, done, _total: progress(f"throughput: saturating {label}", done),
    )  # fmt: skip


def settle(stack: Stack, profile: Profile, stalled: bool) -> None:
    """Start the next run on an idle app: flush the backlog, let in-process sends finish.

    After blocking/sync the app still owes every user a request, served one per
    provider latency; restarting the web process is quicker than waiting.
    """
    storage = queue_storage(stack)
    storage.flush_queue()
    storage.close()
    if stalled:
        stack.restart("web")
    wait_until_quiet(stack, quiet_seconds=2 * profile.mail_latency, timeout=profile.drain_timeout)


def restart_worker(stack: Stack, workers: int, worker_type: str) -> None:
    stack.workers, stack.worker_type = workers, worker_type
    stack.restart("worker")


def drain_burst(stack: Stack, jobs: int, ideal: float) -> tuple[dict, list[dict]]:
    """Enqueue `jobs` over HTTP, then sample the queue depth until the mail log has them all."""
    storage = queue_storage(stack)
    started = time.time()
    job_ids = enqueue_burst(stack, jobs)
    series = []
    deadline = time.monotonic() + DRAIN_TIMEOUT_FACTOR * ideal + 5
    wanted = set(job_ids)
    while time.monotonic() < deadline:
        delivered = [r for r in read_log(stack.mail_log) if r["job_id"] in wanted]
        series.append({"t": round(time.time() - started, 3), "depth": storage.queue_size(),
                       "delivered": len({r["job_id"] for r in delivered})})  # fmt: skip
        if series[-1]["delivered"] == len(wanted):
            break
        time.sleep(SAMPLE_SECONDS)
    storage.close()
    counts = count_deliveries(job_ids, stack.mail_log)
    last = max((r["received_at"] for r in read_log(stack.mail_log) if r["job_id"] in wanted), default=started)
    seconds = max(last - started, 1e-6)
    point = {"jobs": jobs, "delivered": counts["delivered_unique"], "seconds": round(seconds, 3),
             "jobs_per_s": round(counts["delivered_unique"] / seconds, 2)}  # fmt: skip
    return point, series
