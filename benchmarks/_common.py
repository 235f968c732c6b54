"""What the benchmark users share (Locust skips `_` files when it loads a folder).

Three extra Locust options, settable on the command line, in `[tool.locust]` of
pyproject.toml or as LOCUST_<NAME> environment variables:

    --pace N             requests per second per endpoint user; 0 = no pause (saturation)
    --request-timeout S  seconds before a request counts as failed
    --job-log PATH       append the job_id of every accepted request to PATH, so the lab
                         can match what was promised with what the mail provider received
    --request-log PATH   append one line per request to PATH: started_at,name,response_ms,ok
                         (Locust's own history is per second and smoothed over 10 s)
"""
import random
import time

import gevent
from locust import FastHttpUser, constant_throughput, events

# The demo app seeds users 1 to 1000.
FIRST_USER_ID, LAST_USER_ID = 1, 1000


@events.init_command_line_parser.add_listener
def add_options(parser):
    parser.add_argument("--pace", type=float, default=1.0, include_in_web_ui=True,
                        help="requests per second per endpoint user (0 = as fast as possible)")  # fmt: skip
    parser.add_argument("--request-timeout", type=float, default=60.0, include_in_web_ui=False,
                        help="seconds before a request counts as failed")  # fmt: skip
    parser.add_argument("--job-log", default="", include_in_web_ui=False,
                        help="file that receives the job_id of each accepted request")  # fmt: skip
    parser.add_argument("--request-log", default="", include_in_web_ui=False,
                        help="file that receives one line per request: started_at,name,response_ms,ok")  # fmt: skip


def random_user_id() -> int:
    return random.randint(FIRST_USER_ID, LAST_USER_ID)


class LabUser(FastHttpUser):
    """A FastHttpUser with the lab's timeout and pace."""

    abstract = True

    def __init__(self, environment):
        options = environment.parsed_options
        if options is not None:  # the timeouts must be set before FastHttpUser builds its client
            self.network_timeout = self.connection_timeout = options.request_timeout
        super().__init__(environment)

    def wait_time(self) -> float:
        options = self.environment.parsed_options
        pace = options.pace if options is not None else 1.0
        return constant_throughput(pace)(self) if pace > 0 else 0


job_log = None  # the open --job-log file, if any
request_log = None  # the open --request-log file, if any


@events.init.add_listener
def start_the_clock(environment, **kwargs):
    # gevent's loop reads the clock only when it runs; during Locust's start-up
    # it has not run yet, and a short --run-time would end early by that much.
    gevent.get_hub().loop.update_now()


@events.init.add_listener
def open_logs(environment, **kwargs):
    global job_log, request_log
    options = environment.parsed_options
    if options is not None and options.job_log:
        job_log = open(options.job_log, "a", buffering=1, encoding="utf-8")  # line-buffered: one id per write
    if options is not None and options.request_log:
        request_log = open(options.request_log, "a", buffering=1, encoding="utf-8")


@events.request.add_listener
def record_request(name, response_time, exception, start_time=None, **kwargs):
    if request_log is not None:
        started_at = start_time if start_time is not None else time.time() - response_time / 1000
        request_log.write(f"{started_at:.4f},{name},{response_time:.2f},{int(exception is None)}\n")


@events.request.add_listener
def record_job_id(response, exception, **kwargs):
    if job_log is None or exception is not None or response is None:
        return
    if response.status_code in (200, 202) and '"job_id"' in response.text:
        job_log.write(response.json()["job_id"] + "\n")
