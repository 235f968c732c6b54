"""Check for exercise 05: redelivery, failed sends, and the duplicate window."""
import pytest

pytestmark = pytest.mark.exercise


@pytest.fixture
def ex(exercise):
    return exercise("ex05_idempotent_send")


class Provider:
    def __init__(self, failures: int = 0):
        self.outbox, self.failures = [], failures

    def send(self, message):
        if self.failures:
            self.failures -= 1
            raise ConnectionError("451 try again later")
        self.outbox.append(message)


class CrashOnFirstAdd(set):
    """A store whose first `add` never happens: the worker died right after sending."""

    crashed = False

    def add(self, item):
        if not self.crashed:
            self.crashed = True
            raise SystemExit("worker killed between send and mark")
        super().add(item)


def test_a_redelivered_job_is_sent_once(ex):
    provider, sent = Provider(), set()
    sender = ex.IdempotentSender(provider.send, sent)
    assert sender.deliver("job-1", "hello") is True
    assert sender.deliver("job-1", "hello") is False
    assert sender.deliver("job-2", "hi") is True
    assert provider.outbox == ["hello", "hi"] and sent == {"job-1", "job-2"}


def test_a_failed_send_is_not_remembered(ex):
    provider, sent = Provider(failures=1), set()
    sender = ex.IdempotentSender(provider.send, sent)
    with pytest.raises(ConnectionError):
        sender.deliver("job-1", "hello")
    assert "job-1" not in sent, "remember a job only after its email went out"
    assert sender.deliver("job-1", "hello") is True  # the retry sends it
    assert provider.outbox == ["hello"]


def test_a_crash_between_send_and_mark_still_duplicates(ex):
    provider, sent = Provider(), CrashOnFirstAdd()
    sender = ex.IdempotentSender(provider.send, sent)
    with pytest.raises(SystemExit):
        sender.deliver("job-1", "hello")
    sender.deliver("job-1", "hello")  # the job runs again after its lease ran out
    assert provider.outbox == ["hello", "hello"], "the window lesson 05 teaches: sent twice, never lost"
