"""The lab's mail provider: a real SMTP server standing in for a slow third-party API.

Every message waits `latency` seconds before the provider answers, and some are
refused, at random but from a seeded generator: 451 (try again later) at
`transient_rate`, 550 (never) at `permanent_rate`. Each accepted message is
appended to a JSON Lines log — the ground truth for "delivered", "lost" and
"duplicated" that every experiment counts from.
"""
import asyncio
import json
import random
import threading
import time
from collections import deque
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path

from aiosmtpd.controller import Controller

ACCEPTED = "250 Message accepted for delivery"
TRANSIENT = "451 4.3.0 Mailbox temporarily unavailable, try again later"
PERMANENT = "550 5.1.1 Mailbox unavailable"


@dataclass(frozen=True)
class Attempt:
    """One DATA command the provider answered: what was sent, when, and the reply code."""

    job_id: str
    to: str
    at: float
    code: int
    headers: str  # the raw header block, as the provider received it


class MailSink:
    def __init__(
        self,
        log_path: Path,
        host: str = "127.0.0.1",
        port: int = 8025,
        latency: float = 2.0,
        transient_rate: float = 0.0,
        permanent_rate: float = 0.0,
        seed: int = 0,
    ):
        for name, rate in (("transient_rate", transient_rate), ("permanent_rate", permanent_rate)):
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {rate}")
        if transient_rate + permanent_rate > 1.0:
            raise ValueError("transient_rate + permanent_rate must not exceed 1")
        if latency < 0:
            raise ValueError(f"latency must be >= 0, got {latency}")
        self.log_path = Path(log_path)
        self.host, self.port = host, port
        self.latency = latency
        self.transient_rate, self.permanent_rate = transient_rate, permanent_rate
        self.random = random.Random(seed)
        self.scripted_replies: deque[str] = deque()  # tests queue exact replies here
        self.attempts: list[Attempt] = []
        self.in_flight = 0  # messages received and not yet answered
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    # aiosmtpd calls this for each message, on its own event loop.
    async def handle_DATA(self, server, session, envelope) -> str:
        self.in_flight += 1
        try:
            await asyncio.sleep(self.latency)
            return self.answer(envelope)
        finally:
            self.in_flight -= 1

    def answer(self, envelope) -> str:
        content = envelope.original_content or envelope.content
        raw_headers = content.split(b"\r\n\r\n", 1)[0].decode("utf-8", errors="replace")
        job_id = str(message_from_bytes(content, policy=policy.default).get("X-Job-Id", ""))
        to = envelope.rcpt_tos[0] if envelope.rcpt_tos else ""
        reply = self.next_reply()
        code = int(reply[:3])
        with self._lock:
            self.attempts.append(Attempt(job_id, to, time.time(), code, raw_headers))
            if code == 250:
                record = {"job_id": job_id, "to": to, "received_at": time.time(), "bytes": len(envelope.content)}
                with self.log_path.open("a", encoding="utf-8") as log:
                    log.write(json.dumps(record) + "\n")
        return reply

    def next_reply(self) -> str:
        with self._lock:
            if self.scripted_replies:
                return self.scripted_replies.popleft()
        draw = self.random.random()
        if draw < self.permanent_rate:
            return PERMANENT
        if draw < self.permanent_rate + self.transient_rate:
            return TRANSIENT
        return ACCEPTED

    def start(self) -> "MailSink":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path.touch()
        self._controller = Controller(self, hostname=self.host, port=self.port, ready_timeout=10)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> "MailSink":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def read_log(log_path: Path) -> list[dict]:
    """The delivered messages, in the order the provider accepted them."""
    path = Path(log_path)
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as log:
        return [json.loads(line) for line in log if line.strip()]
