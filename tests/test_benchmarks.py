"""The load side: Locust users against a real stack, and how the lab reads Locust's files.

Locust always runs in a subprocess here: importing it would monkey-patch pytest with gevent.
"""
import json
import subprocess
import sys

import psutil
import pytest

from offload_lab import loadgen
from offload_lab.experiments.common import VARIANTS, count_deliveries, enqueue_burst, queue_storage

ALL_REQUEST_NAMES = {name for _, name in VARIANTS.values()} | {"/health", "/health (bystander)"}


def locust(*args: str, cwd=loadgen.ROOT) -> subprocess.CompletedProcess:
    """The command a load tester types, run from the project root so that [tool.locust] applies."""
    return subprocess.run([sys.executable, "-m", "locust", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60)  # fmt: skip


# --- against a real stack --------------------------------------------------------------
def test_headless_run_of_all_users_has_no_failures(make_stack, tmp_path):
    stack = make_stack(mail_latency=0.05)
    report = tmp_path / "all"
    done = locust("--headless", "-u", "20", "-r", "20", "-t", "3s", "--host", stack.web_url,
                  "--pace", "2", "--stop-timeout", "10", "--json-file", str(report), "--only-summary")  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    stats = loadgen.read_stats(report.with_suffix(".json"))
    assert ALL_REQUEST_NAMES <= set(stats), f"requests seen: {sorted(stats)}"
    assert stats["Aggregated"]["failures"] == 0, done.stderr[-2000:]


def test_one_variant_runs_alone_and_its_job_ids_are_delivered(make_stack, tmp_path):
    stack = make_stack(mail_latency=0.05, workers=4)
    result = loadgen.run_locust(stack.web_url, ["QueueUser"], users=4, seconds=2, out_dir=tmp_path, label="queue",
                                pace=5, job_log=tmp_path / "jobs.txt",
                                request_log=tmp_path / "requests.csv")  # fmt: skip
    assert set(result.stats) == {"/queue/users/[id]/welcome-email", "Aggregated"}
    queued = result.stats["/queue/users/[id]/welcome-email"]
    assert queued["count"] > 0 and queued["failures"] == 0
    assert queued["p50"] is not None and queued["p50"] <= queued["p95"] <= queued["p99"]
    promised = loadgen.read_job_log(tmp_path / "jobs.txt")
    assert len(promised) == queued["count"]
    assert len(loadgen.read_request_log(tmp_path / "requests.csv")) == queued["count"]
    assert result.history, "the per-second history is read too"
    assert (tmp_path / "queue_stats_history.csv").exists() and (tmp_path / "queue.json").exists()
    assert 0 <= result.cpu.busiest and result.cpu.as_dict()["processes"] == 1


def test_queue_depth_is_read_from_the_broker(make_stack):
    stack = make_stack(start_worker=False)
    enqueue_burst(stack, 5)
    storage = queue_storage(stack)
    assert storage.queue_size() == 5
    storage.close()


def test_locust_is_stopped_when_the_lab_fails_mid_run(make_stack, tmp_path):
    stack = make_stack(start_worker=False)

    def fail(*_):
        raise KeyboardInterrupt  # what Ctrl-C looks like to the lab

    with pytest.raises(KeyboardInterrupt):
        loadgen.run_locust(stack.web_url, ["HealthUser"], users=2, seconds=30, out_dir=tmp_path, label="x",
                           progress=fail)  # fmt: skip
    alive = [p for p in psutil.Process().children(recursive=True) if "locust" in " ".join(p.cmdline())]
    assert not alive


# --- reading Locust's files (samples written by hand, in Locust 2.x's format) ----------
def entry(name: str, response_times: dict, failures: int = 0, start=100.0, last=104.0) -> dict:
    return {"name": name, "method": "GET", "start_time": start, "last_request_timestamp": last,
            "num_requests": sum(response_times.values()), "num_none_requests": 0, "num_failures": failures,
            "total_response_time": float(sum(int(t) * n for t, n in response_times.items())),
            "max_response_time": 0, "min_response_time": 0, "total_content_length": 0,
            "response_times": response_times, "num_reqs_per_sec": {}, "num_fail_per_sec": {}}  # fmt: skip


def test_read_stats_computes_percentiles_like_locust(tmp_path):
    path = tmp_path / "sample.json"
    # 100 requests: 90 at 2 ms, 8 at 10 ms, 2 at 300 ms
    path.write_text(json.dumps([entry("/health", {"2": 90, "10": 8, "300": 2}, failures=1),
                                entry("/queue", {"4": 10}, start=100.0, last=102.0)]))  # fmt: skip
    stats = loadgen.read_stats(path)
    health = stats["/health"]
    assert (health["count"], health["failures"]) == (100, 1)
    assert (health["p50"], health["p95"], health["p99"]) == (2.0, 10.0, 300.0)
    assert health["rps"] == pytest.approx(25.0)
    assert health["avg"] == pytest.approx((180 + 80 + 600) / 100)
    assert stats["/queue"]["rps"] == pytest.approx(5.0)
    total = stats["Aggregated"]
    assert (total["count"], total["failures"]) == (110, 1)
    assert total["p50"] == 2.0 and total["p99"] == 300.0


def test_an_empty_request_name_has_no_percentiles():
    assert loadgen.summarize_entry([]) == loadgen.empty_stats()
    assert loadgen.LocustResult("x", {}, [], loadgen.CpuShare(), 0.0, None).for_name("/nope")["p50"] is None


def test_read_history_tolerates_locusts_na_cells(tmp_path):
    header = ("Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,"
              "99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,"
              "Total Average Response Time,Total Min Response Time,Total Max Response Time,"
              "Total Average Content Size")  # fmt: skip
    rows = [
        "1000,0,,Aggregated,0.000000,0.000000,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,0,0,0,0.0,0,0,0.0",
        "1001,9,GET,/health (bystander),10.0,0.0,2,2,3,3,4,5,6,7,7,7,7,10,0,2,2.5,1,7,29.0",
        "1002,9,GET,/health (bystander),9.0,1.0,3,3,3,3,4,800,900,950,950,950,950,19,1,2,40.1,1,950,29.0",
    ]
    path = tmp_path / "h.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    history = loadgen.read_history(path)
    assert history[0] == {"t": 0, "name": "Aggregated", "users": 0, "rps": 0.0, "failures_per_s": 0.0,
                          "p50": None, "p95": None, "p99": None, "count": 0, "failures": 0}  # fmt: skip
    assert history[2]["t"] == 2 and history[2]["p99"] == 950.0 and history[2]["failures"] == 1
    assert loadgen.read_history(tmp_path / "missing.csv") == []


def test_count_deliveries_finds_lost_and_duplicated_jobs(tmp_path):
    mail_log = tmp_path / "mail.jsonl"
    delivered = ["a", "b", "b", "c", "stranger"]  # "stranger" was never promised to this client
    mail_log.write_text("".join(json.dumps({"job_id": j, "to": "x@y", "received_at": 1.0}) + "\n" for j in delivered))
    counts = count_deliveries(["a", "b", "c", "d", "a"], mail_log)
    assert counts == {"submitted": 4, "delivered_unique": 3, "lost": 1, "duplicates": 1}


def test_job_log_and_cpu_share(tmp_path):
    (tmp_path / "jobs.txt").write_text("j1\n\nj2\n")
    assert loadgen.read_job_log(tmp_path / "jobs.txt") == ["j1", "j2"]
    assert loadgen.read_job_log(tmp_path / "none.txt") == []
    assert loadgen.CpuShare({1: 0.95}).saturated and not loadgen.CpuShare({1: 0.5, 2: 0.6}).saturated


def test_the_locust_command_line():
    argv = loadgen.locust_command("http://h:1", ["QueueUser"], 5, 2.5, "/tmp/x", pace=0, job_log="/tmp/j",
                                  stop_timeout=3, processes=2)  # fmt: skip
    assert argv[1:3] == ["-m", "locust"] and "QueueUser" in argv and "--headless" in argv
    for flag, value in {"--run-time": "3s", "--pace": "0", "--job-log": "/tmp/j", "--stop-timeout": "3s",
                        "--processes": "2", "--json-file": "/tmp/x", "--csv": "/tmp/x"}.items():  # fmt: skip
        assert argv[argv.index(flag) + 1] == value
    assert "--csv-full-history" in argv


def test_summary_parts_fit_the_summary_contract():
    from offload_lab.experiments.common import summary_parts
    from offload_lab.profiles import get_profile
    from offload_lab.results import make_summary, performance_checks

    def measured(p50):
        return {"latency_ms": {"p50": p50, "p95": p50, "p99": p50}, "bystander_ms": {"p50": 1.0, "p99": 2.0},
                "submitted": 3, "delivered_unique": 3, "lost": 0, "duplicates": 0, "client_errors": 0,
                "drained": True}  # fmt: skip

    latency = {"variants": {name: measured(5.0) for name in VARIANTS},
               "baseline": {"health_latency_ms": {"p50": 3.0, "p95": 4.0, "p99": 6.0}}}  # fmt: skip
    throughput = {"variants": {name: {"accepted_rps": 100.0, "p50_ms": 9.0} for name in VARIANTS},
                  "baseline": {"health_rps": 150.0, "p50_ms": 4.0},
                  "scaling": [{"workers": 1, "jobs_per_s": 9.1, "ideal_jobs_per_s": 10.0}],
                  "cpu_bound": [{"worker_type": "thread", "workers": 4, "jobs_per_s": 20.0, "cores": 2}]}  # fmt: skip
    parts = summary_parts(latency, throughput)
    assert parts["variants"]["queue"]["accepted_rps"] == 100.0 and parts["baseline"]["health_rps"] == 150.0
    performance = performance_checks(parts["variants"], parts["baseline"], 0.5, 30.0, 60.0)
    summary = make_summary(run_id="r", broker="redis", profile="quick", parameters=get_profile("quick").parameters(),
                           performance=performance, **parts)  # fmt: skip
    assert summary["performance"]["throughput_ratio"]["ok"]


def test_bystander_latency_over_time_from_the_request_log(tmp_path):
    log = tmp_path / "requests.csv"
    log.write_text("100.30,/health (bystander),900.00,1\n100.00,/health (bystander),2.00,1\n"
                   "100.10,/queue/users/[id]/welcome-email,5.00,0\n100.05,/health (bystander),4.00,1\n")  # fmt: skip
    records = loadgen.read_request_log(log)
    assert [r["started_at"] for r in records] == [100.0, 100.05, 100.1, 100.3]
    assert records[2] == {"started_at": 100.1, "name": "/queue/users/[id]/welcome-email", "ms": 5.0, "ok": False}
    history = loadgen.latency_over_time(records, "/health (bystander)", bin_seconds=0.25)
    assert history == [{"t": 0.0, "p50": 2.0, "p99": 4.0, "count": 2},
                       {"t": 0.25, "p50": 900.0, "p99": 900.0, "count": 1}]  # fmt: skip
    assert loadgen.latency_over_time(records, "/nope", 0.25) == []
