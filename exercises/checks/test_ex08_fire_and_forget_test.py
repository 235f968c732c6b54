"""Check for exercise 08: run the student's test against a real stack, then verify the loss."""
import time

import pytest

from offload_lab.mailsink import read_log

pytestmark = pytest.mark.exercise
SETTLE_SECONDS = 1.0


def test_your_test_proves_the_loss(exercise, held_stack):
    prove = exercise("ex08_fire_and_forget_test").prove_fire_and_forget_loses_a_job
    job_id = prove(held_stack)
    assert isinstance(job_id, str) and job_id, "return the job id of the lost email"
    assert not held_stack.processes["web"].running(), "the web process should be dead: kill it with SIGKILL"
    held_stack.sink.latency = 0.05
    time.sleep(SETTLE_SECONDS)
    delivered = [record["job_id"] for record in read_log(held_stack.mail_log)]
    assert job_id not in delivered, "that email arrived after all: your test did not make it lose the job"
