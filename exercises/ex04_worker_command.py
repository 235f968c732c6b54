"""Exercise 04 (lesson 04): the right worker for the job, and the right way to stop it.

1. `worker_command(job_kind, cores)` returns the command line (a list of strings) that
   starts a Huey consumer for `demo_app.queue.huey`:
   - for "io" jobs (they mostly wait on the network): a worker type that can wait on
     many jobs at once, with more workers than cores;
   - for "cpu" jobs (they compute): a worker type that uses every core, one worker per core.
   Start it with "huey_consumer", "demo_app.queue.huey", then the options (-k, -w).
2. `stop_signal(finish_running_jobs)` returns the `signal.Signals` member to send to a
   consumer started with default options: one that lets running jobs finish when
   `finish_running_jobs` is true, one that stops at once (but still lets Huey fire
   SIGNAL_INTERRUPTED) when it is false.
"""
import signal  # noqa: F401  (you will need it)


def worker_command(job_kind: str, cores: int) -> list[str]:
    raise NotImplementedError("exercise 04: pick -k and -w for io and cpu jobs")


def stop_signal(finish_running_jobs: bool):
    raise NotImplementedError("exercise 04: pick the signal")
