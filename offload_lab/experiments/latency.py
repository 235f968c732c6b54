"""Experiment "latency": every variant under the same load, with a bystander beside it.

    run(profile: str | Profile, run_dir: Path, progress=None, broker="auto", stack=None,
        *, variants=None) -> dict

    With `stack` (a running Stack), that stack is used and left running.
    With `variants` (names from VARIANTS, e.g. ["blocking_await", "blocking_sync"]),
    only those are driven; the default is all of them. The baseline always runs.

    progress(label: str, done_seconds: float, total_seconds: float), if given, is
    called about five times a second.

Setup: one stack (provider latency and workers from the profile).
Drive: for each variant, `users` Locust users at `pace` requests/s each, plus
  ten HealthBystander users asking GET /health once a second each; then the same load,
  bystanders included, with HealthUser on GET /health in the variant's place (the baseline).
Observe: Locust's output (percentiles per request name from its JSON file, the
  history per second from its CSV), the job ids each variant promised (the
  benchmarks' --job-log) and the mail provider's log.
Record: raw Locust files and job logs in `run_dir/latency/`, the stack's logs in
  `run_dir/latency/stack/`; the returned dict:

    {
      "variants": {variant: {"latency_ms": {p50, p95, p99}, "bystander_ms": {p50, p99},
                             "submitted", "delivered_unique", "lost", "duplicates",
                             "client_errors", "drained": bool}},
      "baseline": {"health_latency_ms": {p50, p95, p99}},
      "history": {variant or "health": [{t, name, users, rps, failures_per_s, p50, p95, p99,
                                          count, failures}]}   (Locust's per-second CSV rows, every
                                          request name; its percentiles cover the last 10 s),
      "bystander_history": {variant: [{t, p50, p99, count}]}   (the bystander's own requests, by
                                          when they started, in HISTORY_BIN_SECONDS bins: the chart's),
      "loadgen": {variant or "health": {"cores", "peak_cores", "processes", "saturated"}},
      "loadgen_cpu_share": the busiest Locust run's mean share of one core,
      "broker": "redis" | "sqlite", "parameters": profile.parameters(), "seconds": wall time,
    }

"submitted" counts the distinct job ids the app answered with (its promises);
"client_errors" the requests that failed (non-2xx, timeout, connection error).
`accepted_rps` and `baseline.health_rps` come from the throughput experiment.
"""
import time
from contextlib import nullcontext
from pathlib import Path

from offload_lab import loadgen
from offload_lab.experiments.common import (
    BYSTANDER, BYSTANDER_USERS, HEALTH, VARIANTS, Progress, count_deliveries, make_stack, wait_for_deliveries, wait_until_quiet,
)  # fmt: skip
from offload_lab.profiles import Profile, get_profile
from offload_lab.stack import Stack

LOCUST_OVERHEAD_SECONDS = 1.0  # start-up and CSV writing, for the progress estimate only
STACK_START_SECONDS = 3.0
HISTORY_BIN_SECONDS = 0.25  # bystander latency over time, by when each request started


def run(profile: "str | Profile", run_dir: Path, progress=None, broker: str = "auto", stack: Stack | None = None,
        *, variants: list[str] | None = None) -> dict:  # fmt: skip
    profile = get_profile(profile)
    unknown = set(variants or ()) - set(VARIANTS)
    if unknown:
        raise ValueError(f"unknown variants {sorted(unknown)}: choose from {', '.join(VARIANTS)}")
    selected = {name: VARIANTS[name] for name in VARIANTS if variants is None or name in variants}
    out_dir = Path(run_dir) / "latency"
    step_seconds = profile.latency_seconds + LOCUST_OVERHEAD_SECONDS
    progress = Progress(progress, STACK_START_SECONDS + step_seconds * (len(selected) + 1))
    started = time.monotonic()

    # setup
    progress("latency: starting the stack")
    with nullcontext(stack) if stack is not None else make_stack(profile, out_dir / "stack", broker) as stack:
        progress.advance(STACK_START_SECONDS)
        results, history, bystander_history, cpu = {}, {}, {}, {}

        # drive, observe: each variant beside the bystander
        for variant, (user_class, request_name) in selected.items():
            job_log = out_dir / f"{variant}_jobs.txt"
            request_log = out_dir / f"{variant}_requests.csv"
            measured = drive(stack.web_url, [user_class, BYSTANDER[0]], profile.users + BYSTANDER_USERS, profile,
                             out_dir, variant, progress, job_log=job_log, request_log=request_log)  # fmt: skip
            requests = loadgen.read_request_log(request_log)
            bystander_history[variant] = loadgen.latency_over_time(requests, BYSTANDER[1], HISTORY_BIN_SECONDS)
            promised = loadgen.read_job_log(job_log)
            drained = wait_for_deliveries(promised, stack.mail_log, profile.drain_timeout)
            wait_until_quiet(stack, quiet_seconds=profile.mail_latency + 0.1, timeout=profile.drain_timeout)
            results[variant] = summarize(measured, request_name, promised, stack.mail_log, drained)
            history[variant] = measured.history
            cpu[variant] = measured.cpu.as_dict()
            progress.advance(step_seconds)

        # the baseline: the same load, bystanders included, on GET /health instead of a variant
        measured = drive(stack.web_url, [HEALTH[0], BYSTANDER[0]], profile.users + BYSTANDER_USERS, profile,
                         out_dir, "health", progress)  # fmt: skip
        history["health"] = measured.history
        cpu["health"] = measured.cpu.as_dict()
        progress.advance(step_seconds)
        broker_used = stack.broker

    # record
    return {
        "variants": results,
        "baseline": {"health_latency_ms": percentiles(measured.for_name(HEALTH[1]))},
        "history": history,
        "bystander_history": bystander_history,
        "loadgen": cpu,
        "loadgen_cpu_share": max(share["cores"] for share in cpu.values()),
        "broker": broker_used,
        "parameters": profile.parameters(),
        "seconds": round(time.monotonic() - started, 1),
    }


def drive(host, user_classes, users, profile, out_dir, label, progress, job_log=None,
          request_log=None) -> loadgen.LocustResult:  # fmt: skip
    return loadgen.run_locust(
        host, user_classes, users, profile.latency_seconds, out_dir, label,
        pace=profile.pace, request_timeout=profile.request_timeout, job_log=job_log, request_log=request_log,
        stop_timeout=profile.request_timeout,  # a stalled request is a measurement, not a loss
        progress=lambda _label, done, _total: progress(f"latency: {label}", done),
    )  # fmt: skip


def summarize(measured: loadgen.LocustResult, request_name: str, promised: list[str], mail_log: Path,
              drained: bool) -> dict:  # fmt: skip
    endpoint = measured.for_name(request_name)
    bystander = measured.for_name(BYSTANDER[1])
    return {
        "latency_ms": percentiles(endpoint),
        "bystander_ms": {"p50": bystander["p50"], "p99": bystander["p99"]},
        **count_deliveries(promised, mail_log),
        "client_errors": endpoint["failures"],
        "drained": drained,
    }


def percentiles(stats: dict) -> dict:
    return {"p50": stats["p50"], "p95": stats["p95"], "p99": stats["p99"]}
