"""Build the welcome email and hand it to the mail provider over SMTP.

There are two ways to send: `send_email` blocks the calling thread (what a
worker does), `send_email_async` awaits the network (what an async handler
can do). Both turn the provider's reply into one of two errors, because a
retry only makes sense for one of them.
"""
import smtplib
from email.headerregistry import Address
from email.message import EmailMessage

import aiosmtplib

from demo_app.settings import Settings
from demo_app.users import User
from demo_app.welcome_card import render_card_for

SUBJECT = "Welcome to the platform!"


class TransientMailError(Exception):
    """The provider said "try again later" (SMTP 4xx) or could not be reached."""


class PermanentMailError(Exception):
    """The provider refused the message for good (SMTP 5xx): a retry cannot help."""


def build_welcome_email(user: User, job_id: str, settings: Settings) -> EmailMessage:
    # A name is data, never header syntax: folding its whitespace removes any
    # CR/LF that could otherwise start a header of its own.
    display_name = " ".join(user.name.split())
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = Address(display_name=display_name, addr_spec=user.email)
    message["Subject"] = SUBJECT
    message["X-Job-Id"] = job_id
    message.set_content(f"Hi {display_name}, thanks for joining.")
    card = render_card_for(display_name, settings.cpu_work_ms)
    if card is not None:
        message.add_attachment(card, maintype="image", subtype="png", filename="welcome.png")
    return message


def send_email(message: EmailMessage, settings: Settings) -> None:
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout) as smtp:
            smtp.send_message(message)
    except smtplib.SMTPResponseException as error:
        raise provider_error(error.smtp_code, error.smtp_error) from error
    except smtplib.SMTPRecipientsRefused as error:
        code, reply = next(iter(error.recipients.values()))
        raise provider_error(code, reply) from error
    except OSError as error:  # refused, reset or timed out: the provider may come back
        raise TransientMailError(f"mail provider unreachable: {error}") from error


async def send_email_async(message: EmailMessage, settings: Settings) -> None:
    try:
        await aiosmtplib.send(
            message, hostname=settings.smtp_host, port=settings.smtp_port, timeout=settings.smtp_timeout
        )
    except aiosmtplib.SMTPResponseException as error:
        raise provider_error(error.code, error.message) from error
    except aiosmtplib.SMTPRecipientsRefused as error:
        first = error.recipients[0]
        raise provider_error(first.code, first.message) from error
    except (aiosmtplib.SMTPException, OSError) as error:
        raise TransientMailError(f"mail provider unreachable: {error}") from error


def provider_error(code: int, reply: bytes | str) -> Exception:
    if isinstance(reply, bytes):
        reply = reply.decode(errors="replace")
    error_class = TransientMailError if 400 <= code < 500 else PermanentMailError
    return error_class(f"mail provider said {code} {reply}")


def deliver_welcome_email(user: User, job_id: str, settings: Settings) -> None:
    """The whole job, blocking: render, build, send."""
    send_email(build_welcome_email(user, job_id, settings), settings)


async def deliver_welcome_email_async(user: User, job_id: str, settings: Settings) -> None:
    """The same job, awaiting the network. Rendering the card still runs on the event loop."""
    await send_email_async(build_welcome_email(user, job_id, settings), settings)
