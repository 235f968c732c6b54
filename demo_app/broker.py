"""What the app needs from the broker beyond Huey's own (synchronous) API.

The web app talks to the broker from its event loop, so it must never wait on
a blocking socket: it enqueues, reads job records and probes the broker with
async calls that give up after BROKER_TIMEOUT. The worker keeps one record per
job up to date from Huey's signals (see tasks.py), and trims finished records
to the last KEEP_SUCCEEDED / KEEP_FAILED, like BullMQ's removeOnComplete and
removeOnFail.

Two backends carry the same small interface: Redis (the lesson's broker) and
SQLite (no server needed).
"""
import asyncio
import sqlite3
import struct
import time

import redis
import redis.asyncio
from huey import Huey

from demo_app.settings import Settings


class BrokerUnavailable(Exception):
    """The broker did not answer within BROKER_TIMEOUT."""


class BacklogFull(Exception):
    """More jobs are waiting than BACKLOG_LIMIT allows: the client should retry later."""


# --8<-- [start:enqueue-script]
# One round trip, and atomic: check the backlog, add the message, write the
# job's first record. The member layout (8-byte microsecond prefix, score =
# -priority) is the one Huey's PriorityRedisStorage reads back.
ENQUEUE_LUA = """
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[2], 'state', 'queued', 'attempts', 0, 'enqueued_at', ARGV[4])
return 1
"""
# --8<-- [end:enqueue-script]

# Record a finished job and forget the oldest finished records beyond `keep`.
FINISH_LUA = """
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('LPUSH', KEYS[2], ARGV[1])
for _, old_id in ipairs(redis.call('LRANGE', KEYS[2], tonumber(ARGV[2]), -1)) do
  redis.call('DEL', ARGV[3] .. old_id)
end
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[2]) - 1)
"""


# Stamp the records of jobs still running; a finished (or trimmed) record is left alone.
HEARTBEAT_LUA = """
for _, key in ipairs(KEYS) do
  if redis.call('HGET', key, 'state') == 'running' then redis.call('HSET', key, 'heartbeat_at', ARGV[1]) end
end
"""


class SharedRoundTrip:
    """Enqueues that arrive at the same moment share one trip to Redis.

    Under load, many requests reach `enqueue` in the same turn of the event
    loop. The first one opens a batch and schedules it to be sent once the
    loop has run the others, which join it; one pipeline carries them all.
    Each request still waits for its own answer: its job is in Redis before
    its 202 goes out. Alone, a request simply travels on its own.
    """

    def __init__(self, send_batch):
        self.send_batch = send_batch  # async: list of commands -> list of answers
        self.waiting: list[tuple[tuple, asyncio.Future]] = []

    async def __call__(self, command: tuple):
        loop = asyncio.get_running_loop()
        answer = loop.create_future()
        self.waiting.append((command, answer))
        if len(self.waiting) == 1:
            loop.call_soon(self.send_waiting)  # after the requests already running this turn
        return await answer

    def send_waiting(self) -> None:
        batch, self.waiting = self.waiting, []
        asyncio.create_task(self.deliver(batch))

    async def deliver(self, batch) -> None:
        try:
            answers = await self.send_batch([command for command, _ in batch])
        except Exception as error:  # the broker is down: every waiting request hears it
            answers = [error] * len(batch)
        for (_, answer), result in zip(batch, answers):
            if answer.done():  # that request gave up already (BROKER_TIMEOUT)
                continue
            if isinstance(result, Exception):
                answer.set_exception(result)
            else:
                answer.set_result(result)


class RedisBroker:
    def __init__(self, huey: Huey, settings: Settings):
        self.huey = huey
        self.settings = settings
        self.queue_key = huey.storage.queue_key
        self.record_prefix = f"offload.job.{huey.name}."
        self.sync_client = redis.Redis.from_url(settings.broker_url)  # worker side
        self.async_client = redis.asyncio.Redis.from_url(  # web side
            settings.broker_url,
            socket_timeout=settings.broker_timeout,
            socket_connect_timeout=settings.broker_timeout,
        )
        self._enqueue = SharedRoundTrip(self._enqueue_batch)
        self._finish = self.sync_client.register_script(FINISH_LUA)
        self._heartbeat = self.sync_client.register_script(HEARTBEAT_LUA)
        self.sent_prefix = f"offload.sent.{huey.name}."

    # --- web side: async, bounded by BROKER_TIMEOUT ---------------------------
    async def enqueue(self, task) -> None:
        member = struct.pack(">Q", time.time_ns() // 1000) + self.huey.serialize_task(task)
        keys = [self.queue_key, self.record_prefix + task.id]
        args = [member, -(task.priority or 0), self.settings.backlog_limit, time.time()]
        if not await self._call(self._enqueue((keys, args))):
            raise BacklogFull(f"more than {self.settings.backlog_limit} jobs are waiting")

    async def _enqueue_batch(self, commands: list[tuple]) -> list:
        async with self.async_client.pipeline(transaction=False) as pipe:
            for keys, args in commands:
                pipe.eval(ENQUEUE_LUA, len(keys), *keys, *args)  # Redis caches the compiled script
            return await pipe.execute(raise_on_error=False)

    async def job(self, job_id: str) -> dict | None:
        record = await self._call(self.async_client.hgetall(self.record_prefix + job_id))
        return {key.decode(): value.decode() for key, value in record.items()} or None

    async def ping(self) -> bool:
        try:
            return bool(await self._call(self.async_client.ping()))
        except BrokerUnavailable:
            return False

    async def _call(self, awaitable):
        try:
            async with asyncio.timeout(self.settings.broker_timeout):
                return await awaitable
        except (redis.RedisError, OSError, TimeoutError) as error:
            reason = f"{type(error).__name__}: {error}".rstrip(": ")
            raise BrokerUnavailable(f"the broker did not answer within {self.settings.broker_timeout}s ({reason})") from error

    # --- worker side: called from Huey's signal handlers ----------------------
    def record(self, job_id: str, **fields) -> None:
        self.sync_client.hset(self.record_prefix + job_id, mapping=fields)

    def finish(self, job_id: str, state: str, **fields) -> None:
        keep = self.settings.keep_succeeded if state == "succeeded" else self.settings.keep_failed
        fields = {"state": state, "finished_at": time.time(), **fields}
        flat = [item for pair in fields.items() for item in pair]
        finished_list = f"offload.jobs.{state}.{self.huey.name}"
        self._finish(keys=[self.record_prefix + job_id, finished_list], args=[job_id, keep, self.record_prefix, *flat])

    def heartbeat(self, job_ids: list[str]) -> None:
        self._heartbeat(keys=[self.record_prefix + job_id for job_id in job_ids], args=[time.time()])

    def already_sent(self, job_id: str) -> bool:
        return bool(self.sync_client.exists(self.sent_prefix + job_id))

    def mark_sent(self, job_id: str) -> None:
        self.sync_client.set(self.sent_prefix + job_id, time.time(), ex=self.settings.sent_marker_seconds)


class SqliteBroker:
    """The same interface on SQLite: the web's calls run in a thread, as sqlite3 blocks."""

    def __init__(self, huey: Huey, settings: Settings):
        self.huey = huey
        self.settings = settings
        self.path = huey.storage.filename
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS job_record (job_id TEXT PRIMARY KEY, state TEXT NOT NULL,"
                " attempts INTEGER NOT NULL DEFAULT 0, error TEXT, enqueued_at REAL,"
                " started_at REAL, finished_at REAL, heartbeat_at REAL)"
            )
            db.execute("CREATE TABLE IF NOT EXISTS sent_email (job_id TEXT PRIMARY KEY, sent_at REAL NOT NULL)")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=self.settings.broker_timeout * 10, isolation_level=None)

    async def enqueue(self, task) -> None:
        await asyncio.to_thread(self._enqueue, task)

    def _enqueue(self, task) -> None:
        if self.huey.storage.queue_size() >= self.settings.backlog_limit:
            raise BacklogFull(f"more than {self.settings.backlog_limit} jobs are waiting")
        with self._connect() as db:
            db.execute(
                "INSERT INTO job_record (job_id, state, enqueued_at) VALUES (?, 'queued', ?)", (task.id, time.time())
            )
        self.huey.enqueue(task)

    async def job(self, job_id: str) -> dict | None:
        return await asyncio.to_thread(self.job_sync, job_id)

    async def ping(self) -> bool:
        return True  # a file next to the app: there is no server to lose

    def record(self, job_id: str, **fields) -> None:
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self._connect() as db:
            db.execute(f"UPDATE job_record SET {assignments} WHERE job_id = ?", (*fields.values(), job_id))

    def finish(self, job_id: str, state: str, **fields) -> None:
        keep = self.settings.keep_succeeded if state == "succeeded" else self.settings.keep_failed
        self.record(job_id, state=state, finished_at=time.time(), **fields)
        with self._connect() as db:
            db.execute(
                "DELETE FROM job_record WHERE state = ? AND job_id NOT IN"
                " (SELECT job_id FROM job_record WHERE state = ? ORDER BY finished_at DESC LIMIT ?)",
                (state, state, keep),
            )

    def job_sync(self, job_id: str) -> dict | None:
        with self._connect() as db:
            db.row_factory = sqlite3.Row
            row = db.execute("SELECT * FROM job_record WHERE job_id = ?", (job_id,)).fetchone()
        return {key: row[key] for key in row.keys() if row[key] is not None} if row else None

    def heartbeat(self, job_ids: list[str]) -> None:
        marks = ", ".join("?" for _ in job_ids)
        with self._connect() as db:
            db.execute(
                f"UPDATE job_record SET heartbeat_at = ? WHERE state = 'running' AND job_id IN ({marks})",
                (time.time(), *job_ids),
            )

    def already_sent(self, job_id: str) -> bool:
        with self._connect() as db:
            return db.execute("SELECT 1 FROM sent_email WHERE job_id = ?", (job_id,)).fetchone() is not None

    def mark_sent(self, job_id: str) -> None:
        with self._connect() as db:
            db.execute("INSERT OR IGNORE INTO sent_email VALUES (?, ?)", (job_id, time.time()))


def open_broker(huey: Huey, settings: Settings) -> RedisBroker | SqliteBroker:
    if settings.broker_url.startswith("sqlite:"):
        return SqliteBroker(huey, settings)
    return RedisBroker(huey, settings)
