"""Exercise 04, a solution."""
import signal

IO_WORKERS_PER_CORE = 8  # waiting threads cost little; the provider's concurrency is the real limit


def worker_command(job_kind: str, cores: int) -> list[str]:
    if job_kind == "io":
        worker_type, workers = "thread", cores * IO_WORKERS_PER_CORE
    elif job_kind == "cpu":
        worker_type, workers = "process", cores  # one GIL per process: one process per core
    else:
        raise ValueError(f"job_kind must be 'io' or 'cpu', got {job_kind!r}")
    return ["huey_consumer", "demo_app.queue.huey", "-k", worker_type, "-w", str(workers)]


def stop_signal(finish_running_jobs: bool):
    # Huey's defaults: SIGINT is the graceful stop, SIGTERM interrupts (see -g/--graceful-signal).
    return signal.SIGINT if finish_running_jobs else signal.SIGTERM
