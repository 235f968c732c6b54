"""Check for exercise 04: the command is parsed by Huey's own option parser."""
import signal

import pytest
from huey.consumer_options import OptionParserHandler

pytestmark = pytest.mark.exercise


@pytest.fixture
def ex(exercise):
    return exercise("ex04_worker_command")


def parse(argv: list[str]):
    assert argv[:2] == ["huey_consumer", "demo_app.queue.huey"], "start with the program and the Huey object"
    options, arguments = OptionParserHandler().get_option_parser().parse_args(argv[1:])
    assert arguments == ["demo_app.queue.huey"]
    return options


@pytest.mark.parametrize("cores", [1, 2, 8])
def test_io_jobs_get_many_waiting_workers(ex, cores):
    options = parse(ex.worker_command("io", cores))
    assert options.worker_type in ("thread", "greenlet"), "I/O-bound jobs wait: threads (or greenlets)"
    assert options.workers > cores, "waiting workers cost little: use more than the cores"


@pytest.mark.parametrize("cores", [1, 2, 8])
def test_cpu_jobs_get_one_process_per_core(ex, cores):
    options = parse(ex.worker_command("cpu", cores))
    assert options.worker_type == "process", "threads share one GIL: only processes use several cores"
    assert options.workers == cores


def test_stop_signals(ex):
    assert ex.stop_signal(True) == signal.SIGINT
    assert ex.stop_signal(False) == signal.SIGTERM
