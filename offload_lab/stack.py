"""Start the demo stack — broker, mail provider, web app, worker — and always stop it.

    with Stack(run_dir) as stack:
        httpx.post(stack.web_url + "/queue/users/1/welcome-email")

Every process gets free loopback ports, its own log file under `run_dir`, and is
waited for until it answers. Leaving the `with` block (normally, on an error or
on Ctrl-C) stops all of them; so does the interpreter exiting. The chaos
experiments use `kill_*` and `start_*` to crash and restart single parts.
"""
import atexit
import errno
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis

from offload_lab.mailsink import MailSink

STOP_GRACE_SECONDS = 10.0
READY_TIMEOUT_SECONDS = 30.0
ROOT = Path(__file__).resolve().parent.parent


class StackError(RuntimeError):
    """A part of the stack did not start; the message says which and where its log is."""


class PortTaken(StackError):
    """Between choosing a free port and binding it, something else took it."""


PORT_TRIES = 3  # free ports tried per part before giving up


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_server_path() -> str | None:
    return shutil.which("redis-server")


@dataclass
class Process:
    """A child process in its own process group, so that its children die with it."""

    name: str
    argv: list[str]
    log_path: Path
    env: dict[str, str]
    popen: subprocess.Popen | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.popen = subprocess.Popen(
            self.argv, stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=ROOT, start_new_session=True
        )
        log.close()

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal(self, signum: int) -> None:
        if self.running():
            os.killpg(self.popen.pid, signum)

    def wait(self, timeout: float) -> bool:
        try:
            self.popen.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            return False

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """SIGTERM, then SIGKILL after `grace` seconds: nothing is left behind."""
        if self.popen is None:
            return
        if self.running():
            self.signal(signal.SIGTERM)
            if not self.wait(grace):
                self.signal(signal.SIGKILL)
                self.popen.wait()
        try:  # children that outlived their parent (e.g. process workers)
            os.killpg(self.popen.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


@dataclass
class Stack:
    """The demo app's four parts on free loopback ports. See the module docstring."""

    run_dir: Path
    broker: str = "auto"  # auto | redis | sqlite | a BROKER_URL
    workers: int = 2
    worker_type: str = "thread"
    web_workers: int = 1
    mail_latency: float = 2.0
    transient_rate: float = 0.0
    permanent_rate: float = 0.0
    seed: int = 0
    appendfsync: str | None = "everysec"  # None = no AOF at all
    access_log: bool = False
    env: dict[str, str] = field(default_factory=dict)  # extra settings for web and worker
    start_worker: bool = True
    web_port: int = 0  # 0 = any free port
    smtp_port: int = 0

    def __post_init__(self):
        self.run_dir = Path(self.run_dir)
        self.logs = self.run_dir / "logs"
        self.processes: dict[str, Process] = {}
        self.mail_log = self.run_dir / "mail.jsonl"
        self.fixed_ports = {name for name in ("web_port", "smtp_port") if getattr(self, name)}
        self.web_port = self.web_port or free_port()
        self.smtp_port = self.smtp_port or free_port()
        self.redis_port: int | None = None
        self.broker_url = self._choose_broker()
        self.sink = MailSink(
            self.mail_log,
            port=self.smtp_port,
            latency=self.mail_latency,
            transient_rate=self.transient_rate,
            permanent_rate=self.permanent_rate,
            seed=self.seed,
        )

    def _choose_broker(self) -> str:
        if self.broker == "auto":
            self.broker = "redis" if redis_server_path() else "sqlite"
        if self.broker == "redis":
            if not redis_server_path():
                raise StackError("--broker redis needs redis-server on PATH (apt-get install redis-server)")
            self.redis_port = free_port()
            return f"redis://127.0.0.1:{self.redis_port}/0"
        if self.broker == "sqlite":
            return f"sqlite:///{self.run_dir / 'queue.db'}"
        if self.broker.startswith(("redis://", "sqlite:///")):
            url, self.broker = self.broker, self.broker.split(":")[0]
            return url
        raise StackError(f"unknown broker {self.broker!r}: use auto, redis, sqlite or a redis:// / sqlite:/// URL")

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def app_env(self) -> dict[str, str]:
        return {
            **os.environ,
            "BROKER_URL": self.broker_url,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.smtp_port),
            "USERS_DB": str(self.run_dir / "users.db"),
            "PYTHONUNBUFFERED": "1",
            **self.env,
        }

    # --- the whole stack -------------------------------------------------------
    def start(self) -> "Stack":
        atexit.register(self.stop)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        try:
            if self.redis_port:
                self._on_a_free_port(self.start_redis, "redis_port")
            self._on_a_free_port(self.start_sink, "smtp_port")
            self._on_a_free_port(self.start_web, "web_port")
            if self.start_worker:
                self.start_worker_process()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for name in ("worker", "web", "redis"):
            process = self.processes.get(name)
            if process is not None:
                process.stop()
        self.sink.stop()
        atexit.unregister(self.stop)

    def __enter__(self) -> "Stack":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def pids(self) -> list[int]:
        return [p.pid for p in self.processes.values() if p.running()]

    def _on_a_free_port(self, start, port_attribute: str) -> None:
        """Start a part; if its port was taken meanwhile, pick another (only ports we chose)."""
        chosen_by_us = port_attribute not in self.fixed_ports
        for attempt in range(PORT_TRIES):
            try:
                return start()
            except PortTaken:
                if not chosen_by_us or attempt == PORT_TRIES - 1:
                    raise
                setattr(self, port_attribute, free_port())
                if port_attribute == "redis_port":
                    self.broker_url = f"redis://127.0.0.1:{self.redis_port}/0"

    # --- the parts ---------------------------------------------------------------
    def start_sink(self) -> None:
        self.sink.port = self.smtp_port
        try:
            self.sink.start()
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortTaken(f"mail provider port {self.smtp_port} is in use") from error
            raise

    def start_redis(self) -> None:
        data_dir = self.run_dir / "redis"
        data_dir.mkdir(parents=True, exist_ok=True)
        argv = [redis_server_path(), "--port", str(self.redis_port), "--bind", "127.0.0.1",
                "--dir", str(data_dir), "--save", "", "--daemonize", "no"]  # fmt: skip
        if self.appendfsync:
            argv += ["--appendonly", "yes", "--appendfsync", self.appendfsync]
        else:
            argv += ["--appendonly", "no"]
        process = self._spawn("redis", argv)
        client = redis.Redis(port=self.redis_port, socket_timeout=1)
        self._wait_until(process, lambda: client.ping())
        client.close()

    def start_web(self) -> None:
        argv = [sys.executable, "-m", "uvicorn", "demo_app.main:app", "--host", "127.0.0.1",
                "--port", str(self.web_port), "--workers", str(self.web_workers)]  # fmt: skip
        if not self.access_log:
            argv.append("--no-access-log")
        process = self._spawn("web", argv)
        self._wait_until(process, lambda: httpx.get(self.web_url + "/health", timeout=1).status_code == 200)

    def start_worker_process(self) -> None:
        argv = [sys.executable, "-m", "demo_app.worker", "--workers", str(self.workers),
                "--worker-type", self.worker_type, "--max-delay", "0.5"]  # fmt: skip
        log_path = self.logs / "worker.log"
        seen = log_path.stat().st_size if log_path.exists() else 0  # a restart appends to the same log
        process = self._spawn("worker", argv)
        self._wait_until(process, lambda: b"consumer started" in log_path.read_bytes()[seen:])

    def _spawn(self, name: str, argv: list[str]) -> Process:
        process = Process(name, argv, self.logs / f"{name}.log", self.app_env)
        process.start()
        self.processes[name] = process
        return process

    def _wait_until(self, process: Process, ready, timeout: float = READY_TIMEOUT_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not process.running():
                if b"already in use" in process.log_path.read_bytes()[-4000:]:
                    raise PortTaken(f"{process.name}: its port was taken before it could bind it")
                raise StackError(f"{process.name} exited during start-up; its log ({process.log_path}):\n"
                                 f"{process.log_tail()}")  # fmt: skip
            try:
                if ready():
                    return
            except (OSError, httpx.HTTPError, redis.RedisError):
                pass
            time.sleep(0.05)
        raise StackError(f"{process.name} not ready after {timeout}s; its log ({process.log_path}):\n"
                         f"{process.log_tail()}")  # fmt: skip

    # --- chaos -----------------------------------------------------------------------
    def kill(self, name: str, signum: int = signal.SIGKILL, wait: float = STOP_GRACE_SECONDS) -> None:
        """Send `signum` to a part and wait until it has exited (SIGKILL after `wait`)."""
        process = self.processes[name]
        process.signal(signum)
        if not process.wait(wait):
            process.signal(signal.SIGKILL)
            process.wait(STOP_GRACE_SECONDS)

    def restart(self, name: str) -> None:
        starters = {"redis": self.start_redis, "web": self.start_web, "worker": self.start_worker_process}
        if self.processes.get(name) and self.processes[name].running():
            self.processes[name].stop()
        starters[name]()

    def queue_depth(self) -> int:
        """Jobs waiting in the broker (not counting retries scheduled for later)."""
        from demo_app.queue import create_huey  # the lab shares only the queue's name and layout
        from demo_app.settings import Settings

        if not hasattr(self, "_huey"):
            queue_name = self.env.get("QUEUE_NAME", Settings.model_fields["queue_name"].default)
            self._huey = create_huey(Settings(broker_url=self.broker_url, queue_name=queue_name))
        return self._huey.storage.queue_size()

    def redis_client(self) -> redis.Redis:
        return redis.Redis.from_url(self.broker_url, socket_timeout=2)
