"""What the exercise checks share.

A check imports the exercise it checks with the `exercise` fixture: from `exercises/`
(your work) by default, or from `exercises/solutions/` when EXERCISES_USE_SOLUTIONS=1
(what tests/test_exercises.py does, so that every solution is proven to pass).
"""
import importlib.util
import os
import signal
from pathlib import Path

import psutil
import pytest

from offload_lab.stack import Stack

EXERCISES = Path(__file__).resolve().parent.parent
USE_SOLUTIONS = os.environ.get("EXERCISES_USE_SOLUTIONS", "") == "1"


def load_exercise(name: str):
    folder = EXERCISES / "solutions" if USE_SOLUTIONS else EXERCISES
    path = folder / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"exercise_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def exercise():
    """`exercise("ex07_percentiles")` imports your file (or the solution)."""
    return load_exercise


@pytest.fixture
def held_stack(tmp_path):
    """Web app and mail provider, no worker, a provider that holds each message for 3 s.

    The broker is SQLite: the fire-and-forget route never touches it, and no Redis is needed.
    """
    stack = Stack(tmp_path / "stack", broker="sqlite", start_worker=False, mail_latency=3.0,
                  env={"BROKER_PROBE_INTERVAL": "0.1"})  # fmt: skip
    stack.start()
    yield stack
    stack.kill("web", signal.SIGKILL)
    stack.stop()


@pytest.fixture(scope="session", autouse=True)
def no_process_survives():
    yield
    survivors = [p for p in psutil.Process().children(recursive=True) if p.is_running()]
    survivors = [p for p in survivors if p.status() != psutil.STATUS_ZOMBIE]
    assert not survivors, f"processes left behind: {[(p.pid, p.cmdline()) for p in survivors]}"
