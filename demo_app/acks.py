"""Acknowledged delivery ("acks late") for Huey's Redis storage.

Plain Huey pops a message off the queue and runs it: if the worker dies
mid-task, the message is gone (Huey is at-most-once by design, see
github.com/coleifer/huey/issues/418 and #559). This storage pops it into a
*lease* instead, and a message stays leased until its task has ended:

- dequeue moves the message from the queue to the lease set, scored by the
  lease's expiry, in one Lua script (atomic: no moment where it is in neither);
- a worker thread comes back for its next message only when its task has
  ended (succeeded, failed, or its retry was scheduled), so that same script
  first releases the thread's previous lease: acknowledging costs no extra
  round trip. A graceful stop releases it with `release()` (an on_shutdown hook);
- a heartbeat thread renews the leases of the messages still running, so a
  long task keeps its lease, and in the same script puts back on the queue
  the leases nobody renewed: their worker died. Those messages run again:
  at-least-once, so a task may run twice (see send_welcome_email in tasks.py).

Keys, next to Huey's own `huey.redis.<name>` queue (a sorted set):
    huey.leases.<name>         sorted set: leased message -> lease expiry (Redis time)
    huey.leases.<name>.score   hash: leased message -> its queue score (priority)
"""
import threading
import time

from huey.storage import PriorityRedisStorage

from demo_app.heartbeat import Heartbeat

REAP_BATCH = 100  # expired leases put back on the queue per heartbeat, at most

# KEYS: queue, leases, scores. ARGV: lease seconds, the message to release (or "").
LEASE_NEXT_LUA = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
if ARGV[2] ~= '' then
  redis.call('ZREM', KEYS[2], ARGV[2])
  redis.call('HDEL', KEYS[3], ARGV[2])
end
local next = redis.call('ZPOPMIN', KEYS[1])
if next[1] == nil then return false end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[1]), next[1])
redis.call('HSET', KEYS[3], next[1], next[2])
return next[1]
"""

# KEYS: queue, leases, scores. ARGV: lease seconds, reap batch, this worker's messages.
# Renew our leases (XX: one already put back stays put back), then put back the
# leases nobody renewed, at the priority they were queued with.
HEARTBEAT_LUA = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
for i = 3, #ARGV do
  redis.call('ZADD', KEYS[2], 'XX', now + tonumber(ARGV[1]), ARGV[i])
end
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
for _, message in ipairs(expired) do
  redis.call('ZADD', KEYS[1], redis.call('HGET', KEYS[3], message) or 0, message)
  redis.call('ZREM', KEYS[2], message)
  redis.call('HDEL', KEYS[3], message)
end
return expired
"""

# KEYS: leases, scores. ARGV: message.
RELEASE_LUA = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
"""


class LeasedRedisStorage(PriorityRedisStorage):
    def __init__(self, name="huey", lease_seconds=30.0, poll_seconds=0.1, **kwargs):
        super().__init__(name, **kwargs)
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.lease_key = f"huey.leases.{self.name}"
        self.lease_score_key = f"huey.leases.{self.name}.score"
        self._lease_next = self.conn.register_script(LEASE_NEXT_LUA)
        self._heartbeat = self.conn.register_script(HEARTBEAT_LUA)
        self._release = self.conn.register_script(RELEASE_LUA)
        self.held: dict[int, bytes] = {}  # worker thread -> the message it is running
        self.heartbeat = Heartbeat(self.renew_and_reap, period=lease_seconds / 4)
        self.on_lease_expired = None  # called with the messages a dead worker held, once put back

    def dequeue(self):
        self.heartbeat.start()  # in the worker only: the web app never dequeues
        thread = threading.get_ident()
        keys = [self.queue_key, self.lease_key, self.lease_score_key]
        message = self._lease_next(keys=keys, args=[self.lease_seconds, self.held.get(thread, b"")])
        self.held.pop(thread, None)  # released by the script
        if message is None:
            # A Lua script cannot block like BZPOPMIN does, so an idle worker asks again shortly.
            time.sleep(self.poll_seconds)
            return None
        self.held[thread] = message
        return message[8:]  # without the 8-byte ordering prefix, as Huey expects

    def release(self):
        """Acknowledge the message this thread ran last (used when a worker stops gracefully)."""
        message = self.held.pop(threading.get_ident(), None)
        if message is not None:
            self._release(keys=[self.lease_key, self.lease_score_key], args=[message])

    def renew_and_reap(self):
        keys = [self.queue_key, self.lease_key, self.lease_score_key]
        expired = self._heartbeat(keys=keys, args=[self.lease_seconds, REAP_BATCH, *self.held.values()])
        if expired and self.on_lease_expired:
            self.on_lease_expired([message[8:] for message in expired])

    def leased_count(self) -> int:
        return self.conn.zcard(self.lease_key)
