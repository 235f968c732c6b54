"""A realistic, made-up run for the results/table/chart tests — test data, never used by the product.

The figures mimic a 2-core laptop with a 2 s mail provider: the blocking variants
take seconds, blocking/sync stalls the bystander, the queue answers in milliseconds.
"""
import copy

FAKE_SUMMARY = {
    "run_id": "20261204T120000Z-test",
    "broker": "redis",
    "profile": "quick",
    "parameters": {"users": 20, "duration_s": 10, "mail_latency_s": 2.0, "client_timeout_s": 30, "workers": 4},
    "machine": {"cpu_count": 2, "platform": "Linux-test", "python": "3.11.9"},
    "variants": {
        "blocking_await": {
            "latency_ms": {"p50": 2010.0, "p95": 2050.0, "p99": 2080.0},
            "bystander_ms": {"p50": 3.0, "p99": 11.0},
            "accepted_rps": 9.8,
            "submitted": 100, "delivered_unique": 100, "lost": 0, "duplicates": 0, "client_errors": 0,
        },
        "blocking_sync": {
            "latency_ms": {"p50": 18000.0, "p95": 30000.0, "p99": 30000.0},
            "bystander_ms": {"p50": 1900.0, "p99": 4100.0},
            "accepted_rps": 0.5,
            "submitted": 12, "delivered_unique": 6, "lost": 0, "duplicates": 0, "client_errors": 6,
        },
        "fire_and_forget": {
            "latency_ms": {"p50": 4.0, "p95": 9.0, "p99": 15.0},
            "bystander_ms": {"p50": 3.0, "p99": 14.0},
            "accepted_rps": 410.0,
            "submitted": 4100, "delivered_unique": 4100, "lost": 0, "duplicates": 0, "client_errors": 0,
        },
        "queue": {
            "latency_ms": {"p50": 5.0, "p95": 12.0, "p99": 21.0},
            "bystander_ms": {"p50": 3.0, "p99": 16.0},
            "accepted_rps": 350.0,
            "submitted": 3500, "delivered_unique": 3500, "lost": 0, "duplicates": 0, "client_errors": 0,
        },
    },
    "baseline": {"health_rps": 520.0, "health_latency_ms": {"p50": 2.5, "p95": 5.0, "p99": 9.0}},
    "scaling": [
        {"workers": 1, "jobs_per_s": 0.5},
        {"workers": 2, "jobs_per_s": 0.99},
        {"workers": 4, "jobs_per_s": 1.96},
        {"workers": 8, "jobs_per_s": 3.85},
    ],
    "cpu_bound": [
        {"worker_type": "thread", "workers": 1, "jobs_per_s": 9.5},
        {"worker_type": "thread", "workers": 2, "jobs_per_s": 9.6},
        {"worker_type": "thread", "workers": 4, "jobs_per_s": 9.4},
        {"worker_type": "process", "workers": 1, "jobs_per_s": 9.5},
        {"worker_type": "process", "workers": 2, "jobs_per_s": 18.2},
        {"worker_type": "process", "workers": 4, "jobs_per_s": 18.5},
    ],
    "reliability": [],
    "performance": {
        "throughput_ratio": {"queue_rps": 350.0, "health_rps": 520.0, "ratio": 0.673, "min_ratio": 0.5, "ok": True},
        "queue_latency": {"queue_p50_ms": 5.0, "health_p50_ms": 2.5, "limit_ms": 6.0, "ok": True},
        "load_generator": {"cpu_share": 0.62, "saturated_share": 0.9, "saturated": False},
        "wall_time": {"seconds": 48.0, "budget_seconds": 60.0, "ok": True},
    },
}

FAKE_RELIABILITY = [
    {"variant": "blocking_await", "signal": "SIGKILL", "acks_late": False,
     "submitted": 200, "delivered_unique": 180, "lost": 0, "duplicates": 0, "client_errors": 20},
    {"variant": "fire_and_forget", "signal": "SIGKILL", "acks_late": False,
     "submitted": 200, "delivered_unique": 171, "lost": 29, "duplicates": 0, "client_errors": 0},
    {"variant": "queue", "signal": "SIGINT", "acks_late": False,
     "submitted": 200, "delivered_unique": 200, "lost": 0, "duplicates": 0, "client_errors": 0, "retried": 14},
    {"variant": "queue", "signal": "SIGKILL", "acks_late": False,
     "submitted": 200, "delivered_unique": 197, "lost": 3, "duplicates": 0, "client_errors": 0},
    {"variant": "queue", "signal": "SIGKILL", "acks_late": True,
     "submitted": 200, "delivered_unique": 200, "lost": 0, "duplicates": 1, "client_errors": 0},
]  # fmt: skip

FAKE_HISTORY = {
    "blocking_await": [{"t": t, "p50": 3.0, "p99": 10.0 + t % 3} for t in range(0, 10)],
    "blocking_sync": [{"t": t, "p50": 1500.0 + 100 * t, "p99": 2000.0 + 200 * t} for t in range(0, 10)],
    "fire_and_forget": [{"t": t, "p50": 3.0, "p99": 14.0} for t in range(0, 10)],
    "queue": [{"t": t, "p50": 3.0, "p99": 16.0} for t in range(0, 10)],
}

FAKE_BACKLOG = [{"t": t / 2, "depth": max(0, 400 - 25 * t) if t > 3 else 100 * t} for t in range(0, 24)]


def fake_summary(**changes) -> dict:
    """A deep copy of FAKE_SUMMARY with top-level keys replaced."""
    summary = copy.deepcopy(FAKE_SUMMARY)
    summary.update(copy.deepcopy(changes))
    return summary
