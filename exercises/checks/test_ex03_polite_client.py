"""Check for exercise 03: scripted answers through httpx.MockTransport, no server needed."""
import httpx
import pytest

pytestmark = pytest.mark.exercise


@pytest.fixture
def ex(exercise):
    return exercise("ex03_polite_client")


def scripted_client(*answers: httpx.Response) -> tuple[httpx.Client, list[str]]:
    script, paths = list(answers), []

    def answer(request: httpx.Request) -> httpx.Response:
        paths.append(f"{request.method} {request.url.path}")
        return script.pop(0)

    return httpx.Client(base_url="http://app.test", transport=httpx.MockTransport(answer)), paths


BUSY = httpx.Response(503, headers={"Retry-After": "2"}, json={"detail": "more than 10000 jobs are waiting"})
QUEUED = httpx.Response(202, headers={"Location": "/jobs/abc"}, json={"job_id": "abc", "status": "queued"})


def test_accepted_at_once(ex):
    client, paths = scripted_client(QUEUED)
    slept = []
    assert ex.enqueue_politely(client, 7, sleep=slept.append) == "/jobs/abc"
    assert paths == ["POST /queue/users/7/welcome-email"] and slept == []


def test_waits_as_told_then_succeeds(ex):
    client, paths = scripted_client(BUSY, BUSY, QUEUED)
    slept = []
    assert ex.enqueue_politely(client, 7, sleep=slept.append) == "/jobs/abc"
    assert len(paths) == 3
    assert slept == [2, 2], "wait exactly Retry-After seconds before each new try"


def test_gives_up_after_max_tries(ex):
    client, paths = scripted_client(*[BUSY] * 3)
    slept = []
    with pytest.raises(ex.TooBusy):
        ex.enqueue_politely(client, 7, max_tries=3, sleep=slept.append)
    assert len(paths) == 3
    assert len(slept) <= 3


def test_a_client_error_is_not_retried(ex):
    client, paths = scripted_client(httpx.Response(404, json={"detail": "user 7 not found"}))
    with pytest.raises(httpx.HTTPStatusError):
        ex.enqueue_politely(client, 7, sleep=lambda seconds: None)
    assert len(paths) == 1
