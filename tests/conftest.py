"""Fixtures that start real parts: a private redis-server, the mail provider, uvicorn, a Huey worker."""
import os

import psutil
import pytest

from offload_lab.stack import Stack, redis_server_path

IN_CI = os.environ.get("CI", "").lower() == "true"


def require_redis() -> None:
    """Skip without redis-server locally; under CI=true a missing Redis is a failure."""
    if redis_server_path() is None:
        message = "redis-server is not on PATH (apt-get install redis-server)"
        if IN_CI:
            pytest.fail(message + " — CI must install it", pytrace=False)
        pytest.skip(message)


# Fast settings for tests: short provider latency, short retry delays.
TEST_ENV = {"RETRY_DELAY": "0.3", "BROKER_PROBE_INTERVAL": "0.1"}


@pytest.fixture
def make_stack(tmp_path):
    """Start a stack with the given options; everything it started is stopped after the test."""
    stacks = []

    def start(broker: str = "redis", **options) -> Stack:
        if broker == "redis":
            require_redis()
        options.setdefault("mail_latency", 0.2)
        options["env"] = {**TEST_ENV, **options.get("env", {})}
        stack = Stack(tmp_path / f"stack{len(stacks)}", broker=broker, **options)
        stacks.append(stack)
        return stack.start()

    yield start
    for stack in stacks:
        stack.stop()


@pytest.fixture(params=["redis", "sqlite"])
def broker(request):
    """Run a test once per broker backend."""
    return request.param


@pytest.fixture(scope="session", autouse=True)
def no_process_survives():
    yield
    survivors = [p for p in psutil.Process().children(recursive=True) if p.is_running()]
    survivors = [p for p in survivors if p.status() != psutil.STATUS_ZOMBIE]
    assert not survivors, f"processes left behind by the suite: {[(p.pid, p.cmdline()) for p in survivors]}"
