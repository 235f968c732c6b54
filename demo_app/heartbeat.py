"""A heartbeat: call a function every few seconds on a background thread.

The worker uses two: one renews the leases of the messages it is running
(acks.py), one stamps `heartbeat_at` on the records of the jobs it is running
(tasks.py). When the worker dies, both stop, and that silence is the signal.
"""
import logging
import threading

log = logging.getLogger(__name__)


class Heartbeat:
    def __init__(self, beat, period: float):
        self.beat = beat
        self.period = period
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start beating, once per process. A forked child starts its own thread."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        stopped = threading.Event()  # never set: the thread dies with its process
        while not stopped.wait(self.period):
            try:
                self.beat()
            except Exception:  # the broker may be down for a moment: beat again later
                log.exception("heartbeat failed")
