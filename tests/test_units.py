"""Unit tests of the pure parts: the message, the user store, the provider's dice, the settings."""
import email
import smtplib
import subprocess
import sys
import time
from email import policy

import pytest

from demo_app.mailer import PermanentMailError, TransientMailError, build_welcome_email, provider_error
from demo_app.settings import Settings
from demo_app.users import SEED_USERS, User, ensure_seeded, get_user
from demo_app.welcome_card import render_card_for
from offload_lab.mailsink import ACCEPTED, PERMANENT, TRANSIENT, MailSink, read_log


def parse(message) -> email.message.EmailMessage:
    return email.message_from_bytes(message.as_bytes(), policy=policy.default)


def test_the_message_carries_the_job_id_and_a_clean_recipient():
    user = User(6, "Evil\r\nBcc: victim@example.com", "user6@example.test")
    sent = parse(build_welcome_email(user, "job-123", Settings()))
    assert sent["X-Job-Id"] == "job-123"
    assert sent["Bcc"] is None
    assert sent["To"].addresses[0].addr_spec == "user6@example.test"
    assert "\n" not in sent["To"].addresses[0].display_name
    assert sent["Subject"] == "Welcome to the platform!"


def test_non_ascii_names_survive_the_round_trip():
    sent = parse(build_welcome_email(User(4, "李小龍", "user4@example.test"), "j", Settings()))
    assert sent["To"].addresses[0].display_name == "李小龍"
    assert "李小龍" in sent.get_body().get_content()


def test_cpu_work_attaches_a_rendered_card():
    without = parse(build_welcome_email(User(1, "A", "a@example.test"), "j", Settings(cpu_work_ms=0)))
    assert not list(without.iter_attachments())
    started = time.thread_time()
    card = render_card_for("Zoë", 30)
    assert time.thread_time() - started >= 0.03  # it really spent the CPU time
    assert card.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("code", "error_class"),
    [(421, TransientMailError), (451, TransientMailError), (550, PermanentMailError), (554, PermanentMailError)],
)
def test_provider_replies_map_to_retryable_or_not(code, error_class):
    assert isinstance(provider_error(code, b"reply"), error_class)


def test_user_store_is_seeded_once_with_special_names(tmp_path):
    db = tmp_path / "users.db"
    ensure_seeded(db)
    ensure_seeded(db)  # a second start keeps the file
    assert get_user(db, 1) == User(1, "User 1", "user1@example.test")
    assert get_user(db, SEED_USERS).id == SEED_USERS
    assert get_user(db, SEED_USERS + 1) is None
    assert "\r\n" in get_user(db, 6).name
    assert not list(tmp_path.glob("*.tmp"))


def test_unknown_broker_url_is_a_clear_error():
    from demo_app.queue import create_huey

    with pytest.raises(ValueError, match="BROKER_URL must start with"):
        create_huey(Settings(broker_url="amqp://localhost"))


@pytest.mark.parametrize(
    "options",
    [{"transient_rate": 1.5}, {"permanent_rate": -0.1}, {"transient_rate": 0.6, "permanent_rate": 0.6}, {"latency": -1}],
)
def test_mail_provider_rejects_bad_settings(tmp_path, options):
    with pytest.raises(ValueError):
        MailSink(tmp_path / "log.jsonl", **options)


def test_mail_provider_failure_draws_follow_the_rates_and_the_seed(tmp_path):
    def replies(seed):
        sink = MailSink(tmp_path / "log.jsonl", transient_rate=0.2, permanent_rate=0.1, seed=seed)
        return [sink.next_reply() for _ in range(5000)]

    drawn = replies(7)
    assert drawn == replies(7)  # a seed repeats a run
    assert 0.17 < drawn.count(TRANSIENT) / 5000 < 0.23
    assert 0.08 < drawn.count(PERMANENT) / 5000 < 0.12
    assert drawn.count(ACCEPTED) + drawn.count(TRANSIENT) + drawn.count(PERMANENT) == 5000


def test_mail_provider_logs_accepted_messages_only(tmp_path):
    from offload_lab.stack import free_port

    port = free_port()
    with MailSink(tmp_path / "log.jsonl", port=port, latency=0.0) as sink:
        sink.scripted_replies.append(TRANSIENT)
        message = build_welcome_email(User(1, "A", "user1@example.test"), "job-1", Settings())
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            with pytest.raises(smtplib.SMTPDataError):
                smtp.send_message(message)
            smtp.send_message(message)
    (record,) = read_log(tmp_path / "log.jsonl")
    assert record["job_id"] == "job-1" and record["to"] == "user1@example.test" and record["received_at"] > 0
    assert [attempt.code for attempt in sink.attempts] == [451, 250]


def test_mailsink_command_refuses_bad_input(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "offload_lab.cli", "mailsink", "--transient-rate", "2"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "between 0 and 1" in result.stderr


def test_concurrent_enqueues_share_one_round_trip():
    import asyncio

    from demo_app.broker import SharedRoundTrip

    batches = []

    async def send_batch(commands):
        batches.append(commands)
        await asyncio.sleep(0.01)
        return [command * 10 for command in commands]

    async def scenario():
        shared = SharedRoundTrip(send_batch)
        together = await asyncio.gather(*(shared(n) for n in range(5)))
        alone = await shared(7)
        return together, alone

    together, alone = asyncio.run(scenario())
    assert together == [0, 10, 20, 30, 40] and alone == 70  # everyone gets their own answer
    assert [len(batch) for batch in batches] == [5, 1]


def test_a_failed_round_trip_fails_every_waiting_request():
    import asyncio

    from demo_app.broker import SharedRoundTrip

    async def send_batch(commands):
        raise ConnectionError("broker down")

    async def scenario():
        shared = SharedRoundTrip(send_batch)
        return await asyncio.gather(*(shared(n) for n in range(3)), return_exceptions=True)

    assert all(isinstance(result, ConnectionError) for result in asyncio.run(scenario()))
