"""Run Locust headless in its own process and read what it measured from its output files.

    result = run_locust(stack.web_url, ["QueueUser"], users=20, seconds=5,
                        out_dir=run_dir / "latency", label="queue", pace=2)
    result.stats["/queue/users/[id]/welcome-email"]["p50"]

Locust is never imported here: importing it monkey-patches the whole process
with gevent, which would break pytest, a Jupyter kernel and the lab itself. It
runs as `locust --headless --csv ... --csv-full-history --json-file ...` with
the user classes in `benchmarks/`, and this module reads `<label>.json` (totals
and response-time histograms per request name, written after the last user
stopped — Locust's `_stats.csv` is written earlier and misses the requests that
finish during --stop-timeout) and `<label>_stats_history.csv` (one row per
second) — never its console text. While it runs, psutil measures how much CPU
Locust itself used: a load generator that needs a whole core measures itself,
not the app.

Signature:
    run_locust(host, user_classes, users, seconds, out_dir, label, *, spawn_rate=None,
               pace=None, request_timeout=None, stop_timeout=None, job_log=None,
               request_log=None, processes=1, progress=None) -> LocustResult
    `seconds` is rounded up to whole seconds (Locust's --run-time). `stop_timeout`
    lets each user finish the request it is waiting for when the time is up
    (otherwise Locust drops it unrecorded — and the slowest requests are the ones
    that get dropped).
    progress(label: str, done_seconds: float, total_seconds: float) is called about
    five times a second while Locust runs.
"""
import csv
import json
import math
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"
SATURATED_CORE_SHARE = 0.9  # a Locust process above 90% of one core is the bottleneck
SAMPLE_SECONDS = 0.2
MIN_CPU_WINDOW_SECONDS = 0.6
START_GRACE_SECONDS = 15.0  # Locust's own start-up and final CSV writing
STOP_GRACE_SECONDS = 5.0
PERCENTILES = {"p50": 0.50, "p95": 0.95, "p99": 0.99}
HISTORY_COLUMNS = {"p50": "50%", "p95": "95%", "p99": "99%"}


class LocustError(RuntimeError):
    """Locust did not run or wrote no results; the message points at its log."""


@dataclass
class CpuShare:
    """Locust's own CPU use, in cores (1.0 = one core busy all the time), per Locust process."""

    per_process: dict[int, float] = field(default_factory=dict)
    peak: float = 0.0  # the highest share of one process over one sample interval

    @property
    def busiest(self) -> float:
        """The mean share of one core used by the busiest Locust process over the run."""
        return max(self.per_process.values(), default=0.0)

    @property
    def saturated(self) -> bool:
        return self.busiest > SATURATED_CORE_SHARE

    def as_dict(self) -> dict:
        return {"cores": round(self.busiest, 3), "peak_cores": round(self.peak, 3),
                "processes": len(self.per_process), "saturated": self.saturated}  # fmt: skip


@dataclass
class LocustResult:
    label: str
    stats: dict[str, dict]  # request name -> count, failures, rps, p50, p95, p99, avg (ms)
    history: list[dict]  # one row per second and request name (see read_history)
    cpu: CpuShare
    seconds: float  # wall time of the Locust process
    csv_prefix: Path

    def for_name(self, name: str) -> dict:
        return self.stats.get(name, empty_stats())


# --- running ------------------------------------------------------------------
def locust_command(host, user_classes, users, seconds, csv_prefix, *, spawn_rate=None, pace=None,
                   request_timeout=None, stop_timeout=None, job_log=None, request_log=None,
                   processes=1) -> list[str]:  # fmt: skip
    argv = [sys.executable, "-m", "locust", "-f", str(BENCHMARKS), *user_classes,
            "--headless", "--host", host, "--users", str(users),
            "--spawn-rate", str(spawn_rate or users), "--run-time", f"{math.ceil(seconds)}s",
            "--csv", str(csv_prefix), "--csv-full-history", "--json-file", str(csv_prefix), "--only-summary",
            "--exit-code-on-error", "0"]  # fmt: skip
    if pace is not None:
        argv += ["--pace", str(pace)]
    if request_timeout is not None:
        argv += ["--request-timeout", str(request_timeout)]
    if stop_timeout is not None:
        argv += ["--stop-timeout", f"{math.ceil(stop_timeout)}s"]
    if job_log is not None:
        argv += ["--job-log", str(job_log)]
    if request_log is not None:
        argv += ["--request-log", str(request_log)]
    if processes != 1:
        argv += ["--processes", str(processes)]
    return argv


def run_locust(host: str, user_classes: list[str], users: int, seconds: float, out_dir: Path, label: str, *,
               spawn_rate: float | None = None, pace: float | None = None, request_timeout: float | None = None,
               stop_timeout: float | None = None, job_log: Path | None = None,
               request_log: Path | None = None, processes: int = 1, progress=None) -> LocustResult:  # fmt: skip
    """Run the given user classes against `host` for `seconds`; always stop Locust before returning."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_prefix = out_dir / label
    for stale in (Path(f"{csv_prefix}.json"), Path(f"{csv_prefix}_stats_history.csv"), job_log, request_log):
        if stale is not None:
            Path(stale).unlink(missing_ok=True)  # a failed run must not be read as an old one
    argv = locust_command(host, user_classes, users, seconds, csv_prefix, spawn_rate=spawn_rate, pace=pace,
                          request_timeout=request_timeout, stop_timeout=stop_timeout, job_log=job_log,
                          request_log=request_log, processes=processes)  # fmt: skip
    log_path = out_dir / f"{label}_locust.log"
    with log_path.open("wb") as log:
        locust = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
    started = time.monotonic()
    cpu = CpuShare()
    try:
        watch(locust, cpu, seconds + (stop_timeout or 0), label, progress, Path(f"{csv_prefix}_stats_history.csv"))
    finally:
        stop(locust)
    wall = time.monotonic() - started
    stats_path = Path(f"{csv_prefix}.json")
    if not stats_path.exists():
        raise LocustError(f"Locust wrote no {stats_path.name} (exit code {locust.returncode}); see {log_path}")
    return LocustResult(label, read_stats(stats_path), read_history(Path(f"{csv_prefix}_stats_history.csv")),
                        cpu, wall, csv_prefix)  # fmt: skip


def watch(locust: subprocess.Popen, cpu: CpuShare, seconds: float, label: str, progress, history: Path) -> None:
    """Sample Locust's CPU time until it exits (or overstays its run time).

    Only the load phase counts: sampling starts when Locust writes its first
    history row, so that its own start-up (imports) does not look like load.
    """
    started = time.monotonic()
    deadline = started + seconds + START_GRACE_SECONDS
    first_seen: dict[int, tuple[float, float]] = {}  # pid -> (wall, cpu seconds) when first sampled
    last_seen: dict[int, tuple[float, float]] = {}
    while locust.poll() is None:
        now = time.monotonic()
        if now > deadline:
            raise LocustError(f"Locust ({label}) still running {now - started:.0f}s after a {seconds}s run")
        if first_seen or has_rows(history):
            for pid, used in cpu_seconds(locust.pid).items():
                first_seen.setdefault(pid, (now, used))
                if pid in last_seen and now > last_seen[pid][0]:
                    cpu.peak = max(cpu.peak, (used - last_seen[pid][1]) / (now - last_seen[pid][0]))
                last_seen[pid] = (now, used)
        for pid, (first_wall, first_cpu) in first_seen.items():
            last_wall, last_cpu = last_seen[pid]
            if last_wall - first_wall >= MIN_CPU_WINDOW_SECONDS:  # too short a window says nothing
                cpu.per_process[pid] = (last_cpu - first_cpu) / (last_wall - first_wall)
        if progress is not None:
            progress(label, min(now - started, seconds), seconds)
        time.sleep(SAMPLE_SECONDS)


def has_rows(csv_path: Path) -> bool:
    """True once a CSV has a row below its header."""
    try:
        with csv_path.open("rb") as file:
            return len(file.read(4096).splitlines()) > 1
    except FileNotFoundError:
        return False


def cpu_seconds(pid: int) -> dict[int, float]:
    """User + system CPU seconds of Locust and of its worker processes (--processes)."""
    try:
        parent = psutil.Process(pid)
        family = [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return {}
    used = {}
    for process in family:
        try:
            times = process.cpu_times()
            used[process.pid] = times.user + times.system
        except psutil.NoSuchProcess:
            pass
    if len(used) > 1:  # with --processes the parent only coordinates: count the workers
        used.pop(pid, None)
    return used


def stop(locust: subprocess.Popen) -> None:
    """Ask Locust to stop (it writes its CSVs on SIGTERM), then make sure it did."""
    if locust.poll() is None:
        signal_group(locust, signal.SIGTERM)
        try:
            locust.wait(STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            pass
    signal_group(locust, signal.SIGKILL)  # also any --processes worker left behind
    locust.wait()


def signal_group(locust: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(locust.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


# --- reading ------------------------------------------------------------------
def number(text: str) -> float | None:
    """Locust writes "N/A" or an empty cell where there is no value yet."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else value


def empty_stats() -> dict:
    return {"count": 0, "failures": 0, "rps": 0.0, "avg": None, **{key: None for key in PERCENTILES}}


def read_stats(path: Path) -> dict[str, dict]:
    """Totals per request name, and "Aggregated" over all of them, from Locust's `--json-file` output."""
    entries = json.loads(Path(path).read_text())
    stats = {entry["name"]: summarize_entry([entry]) for entry in entries}
    stats["Aggregated"] = summarize_entry(entries)
    return stats


def summarize_entry(entries: list[dict]) -> dict:
    """count, failures, rps, avg and p50/p95/p99 (ms) of one or more Locust stats entries."""
    histogram: dict[float, int] = {}
    for entry in entries:
        for response_time, count in entry["response_times"].items():
            histogram[float(response_time)] = histogram.get(float(response_time), 0) + count
    count = sum(entry["num_requests"] for entry in entries)
    if not count:
        return empty_stats()
    first = min(entry["start_time"] for entry in entries)
    last = max(entry["last_request_timestamp"] or first for entry in entries)
    return {
        "count": count,
        "failures": sum(entry["num_failures"] for entry in entries),
        "rps": count / (last - first) if last > first else 0.0,
        "avg": sum(entry["total_response_time"] for entry in entries) / count,
        **{key: percentile(histogram, count, share) for key, share in PERCENTILES.items()},
    }


def percentile(histogram: dict[float, int], count: int, share: float) -> float:
    """The response time below which `share` of the requests fall, as Locust computes it (rounded ms buckets)."""
    wanted = int(count * share)
    seen = 0
    for response_time in sorted(histogram, reverse=True):
        seen += histogram[response_time]
        if count - seen <= wanted:
            return response_time
    return 0.0


def read_history(path: Path) -> list[dict]:
    """Locust's `<prefix>_stats_history.csv`: one row per second and name, percentiles of the last seconds."""
    if not Path(path).exists():
        return []
    with Path(path).open(newline="") as file:
        rows = list(csv.DictReader(file))
    if not rows:
        return []
    start = int(rows[0]["Timestamp"])
    return [
        {
            "t": int(row["Timestamp"]) - start,
            "name": row["Name"],
            "users": int(row["User Count"]),
            "rps": number(row["Requests/s"]) or 0.0,
            "failures_per_s": number(row["Failures/s"]) or 0.0,
            **{key: number(row[column]) for key, column in HISTORY_COLUMNS.items()},
            "count": int(row["Total Request Count"]),
            "failures": int(row["Total Failure Count"]),
        }
        for row in rows
    ]


def read_job_log(path: Path) -> list[str]:
    """The job ids the app promised (the benchmarks' --job-log), in the order they were answered."""
    path = Path(path)
    if not path.exists():
        return []
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def read_request_log(path: Path) -> list[dict]:
    """The benchmarks' --request-log: one {started_at, name, ms, ok} per request, in order of start."""
    path = Path(path)
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        started_at, rest = line.split(",", 1)
        name, response_ms, ok = rest.rsplit(",", 2)  # a request name may contain commas, numbers do not
        records.append({"started_at": float(started_at), "name": name, "ms": float(response_ms), "ok": ok == "1"})
    return sorted(records, key=lambda record: record["started_at"])


def latency_over_time(records: list[dict], name: str, bin_seconds: float) -> list[dict]:
    """p50/p99 of the requests named `name`, by when they started: [{t, p50, p99, count}] per bin."""
    chosen = [record for record in records if record["name"] == name]
    if not chosen:
        return []
    start = min(record["started_at"] for record in chosen)
    bins: dict[int, list[float]] = {}
    for record in chosen:
        bins.setdefault(int((record["started_at"] - start) // bin_seconds), []).append(record["ms"])
    return [
        {"t": round(index * bin_seconds, 3), "p50": exact_percentile(times, 0.50),
         "p99": exact_percentile(times, 0.99), "count": len(times)}  # fmt: skip
        for index, times in sorted(bins.items())
    ]


def exact_percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of a few exact values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]
