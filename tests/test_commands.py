"""The commands the README documents work as typed."""
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from helpers import delivered_ids, wait_for
from offload_lab.stack import Process, free_port

BIN = Path(sys.executable).parent


def test_huey_consumer_by_hand_runs_the_queued_jobs(make_stack):
    stack = make_stack(start_worker=False, mail_latency=0.0)
    job_id = httpx.post(stack.web_url + "/queue/users/1/welcome-email").json()["job_id"]
    consumer = Process("consumer", [str(BIN / "huey_consumer"), "demo_app.queue.huey", "-w", "1"],
                       stack.logs / "consumer.log", stack.app_env)  # fmt: skip
    consumer.start()
    try:
        wait_for(lambda: job_id in delivered_ids(stack), what="huey_consumer to deliver")
    finally:
        consumer.stop()


def test_demo_starts_everything_and_ctrl_c_stops_it(tmp_path):
    port = free_port()
    demo = subprocess.Popen(
        [str(BIN / "offload-lab"), "demo", "--port", str(port), "--smtp-port", str(free_port()),
         "--latency", "0.1", "--run-dir", str(tmp_path)],  # fmt: skip
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: _answers(url + "/health"), timeout=30, what="the demo's web app")
        wait_for(lambda: (tmp_path / "logs" / "worker.log").exists(), what="the worker")
        job_id = httpx.post(url + "/queue/users/3/welcome-email").json()["job_id"]
        wait_for(lambda: job_id in [r["job_id"] for r in _mail_log(tmp_path)], what="delivery")
    finally:
        demo.send_signal(signal.SIGINT)
        output, _ = demo.communicate(timeout=30)
    assert demo.returncode == 0
    assert f"curl -i -X POST {url}/queue/users/3/welcome-email" in output
    assert "all stopped" in output
    time.sleep(0.2)
    assert not _answers(url + "/health")


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _mail_log(run_dir: Path) -> list[dict]:
    from offload_lab.mailsink import read_log

    return read_log(run_dir / "mail.jsonl")


def test_redis_server_is_available_in_ci():
    import os

    if os.environ.get("CI") == "true":
        assert shutil.which("redis-server"), ".ci/run must install redis-server"


def test_a_port_taken_after_it_was_chosen_is_replaced(tmp_path, monkeypatch):
    import socket

    from offload_lab import stack as stack_module

    squatter = socket.socket()
    squatter.bind(("127.0.0.1", 0))
    squatter.listen()
    taken = squatter.getsockname()[1]
    real_free_port = stack_module.free_port
    ports = iter([taken])  # the web app's first port is already taken by someone else
    monkeypatch.setattr(stack_module, "free_port", lambda: next(ports, None) or real_free_port())
    try:
        with stack_module.Stack(tmp_path, broker="sqlite", start_worker=False, mail_latency=0) as stack:
            assert stack.web_port != taken
            assert httpx.get(stack.web_url + "/health").status_code == 200
    finally:
        squatter.close()


def test_reproduce_command_prints_the_table_of_its_run(tmp_path, monkeypatch, capsys):
    """The CLI wiring; the run itself is proven by notebook 05's test (tests/test_notebooks.py)."""
    import shutil as files

    from offload_lab import cli, reproduce

    run_dir = tmp_path / "run-1"
    files.copytree(Path(__file__).resolve().parents[1] / "results" / "reference", run_dir)
    calls = []
    monkeypatch.setattr(reproduce, "reproduce", lambda *args, **kwargs: calls.append((args, kwargs)) or run_dir)
    assert cli.main(["reproduce", "--profile", "quick", "--results-dir", str(tmp_path)]) == 0
    assert calls[0][0] == ("quick",) and calls[0][1]["broker"] == "auto"
    printed = capsys.readouterr().out
    assert "Queue + worker" in printed and "wall time" in printed and str(run_dir) in printed
