"""Delivering one notification by email (the `email` channel, SPEC §3), with the
standard library's smtplib.

services/notify.py claims the delivery, calls `send_notification` and records the
outcome exactly as for the other channels (outbox, backoff, per-channel state). Here:
who it goes to, what it says (render/email_body.py) and the SMTP conversation, all of it
within the channel's timeout: every step gets only what is left of it, so a server that
accepts the connection and then says nothing costs one timeout, not one per step.

The password is read from the environment variable the policy names, at the moment of
sending; it is never stored, and it is masked out of any error this module returns.
"""

from __future__ import annotations

import os

from esc_cli.domain.notices import NotificationFailure
from esc_cli.domain.policy import MASK


def send_notification(store, policy, channel, payload: dict, now: int) -> str | None:
    """Send `payload` (a notification as stored) through the email `channel`: None when the
    server accepted it, else why not, one line, the password masked out. A reason that is
    this notification's alone (nobody to send it to, its recipients refused) is a
    NotificationFailure: the channel goes on with the others."""
    from esc_cli.domain.email_settings import addresses

    settings = channel.email
    recipients, unresolved = addresses(settings, payload.get("recipient"))
    if not recipients:
        return NotificationFailure(unresolved or "no address to send it to")
    password = None
    if settings.username is not None:
        password = os.environ.get(settings.password_env) or None
        if password is None:
            return (
                f"environment variable {settings.password_env} is not set "
                f"(the SMTP password for {settings.username})"
            )
    message = compose(
        settings, channel, payload, case_context(store, payload, now), policy, now, recipients
    )
    error = transmit(settings, channel.timeout, message, recipients, password)
    if error is not None and password:
        error = type(error)(error.replace(password, MASK))  # still the same kind of failure
    return error


def case_context(store, payload: dict, now: int) -> dict | None:
    """The case as it stands and what the sweep will do next, for the body; None when the
    case cannot be read (the mail then says what the payload says)."""
    from esc_cli.domain.documents import case_document
    from esc_cli.domain.plan import upcoming
    from esc_cli.errors import EscError
    from esc_cli.services.policies import Policies
    from esc_cli.services.write_path import load_case
    from esc_cli.store import people

    case_id = payload.get("case")
    if not isinstance(case_id, int):
        return None
    try:
        with store.read() as conn:
            pols = Policies(conn)
            case, events, policy = load_case(conn, pols, case_id)
            names = pols.tier_names()
            owner = people.get_owner(conn, case.owner) if case.owner else None
            channels = tuple(c.name for c in pols.current.channels)
    except EscError:
        return None
    # What happens next: explain's plan, the sweep's own steps run forward on a copy
    steps = upcoming(case, events, policy, now, owner, channels)
    actor = reason = None
    if payload.get("kind") == "escalation":
        from esc_cli.domain.model import parse_iso

        at = parse_iso(payload.get("at"))
        for event in reversed(events):
            if event.at == at and event.kind == "escalated":
                actor, reason = event.actor, event.reason
                break
    return {
        "case": case_document(case, names, now),
        "steps": steps,
        "tier_names": names,
        "actor": actor,
        "reason": reason,
    }


def compose(
    settings, channel, payload: dict, context: dict | None, policy, now: int, recipients: list[str]
):
    from datetime import datetime, timezone
    import email.policy
    from email.message import EmailMessage
    from email.utils import format_datetime

    from esc_cli.services import email_body

    names = (context or {}).get("tier_names") or {
        level: t.name for level, t in policy.tiers.items()
    }
    # RFC 5322's hard limit, not its advisory 78: at 78 the email package folds an
    # 80-character subject straight after "Subject:", which some readers show indented
    message = EmailMessage(policy=email.policy.SMTP.clone(max_line_length=998))
    message["Subject"] = email_body.subject(payload, names)
    message["From"] = settings.sender
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(datetime.fromtimestamp(now, timezone.utc))
    # The same id on every retry of this notification on this channel: a mail system
    # that has it already can drop the copy an at-least-once retry sends.
    domain = settings.sender_address.rpartition("@")[2]
    message["Message-ID"] = f"<{payload.get('id')}.{channel.name.replace(':', '-')}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
    message["X-Esc-Case"] = str(payload.get("case"))
    message["X-Esc-Kind"] = str(payload.get("kind"))
    message.set_content(email_body.body(payload, context, policy.timezone, channel.name))
    return message


def transmit(
    settings, timeout: int, message, recipients: list[str], password: str | None
) -> str | None:
    """One SMTP conversation: connect (TLS at once for "ssl"), EHLO, STARTTLS and EHLO
    again for "starttls", AUTH when a username is set, the message, QUIT. None when the
    server accepted the message for at least one recipient."""
    import smtplib
    import socket
    import ssl
    import time

    deadline = time.monotonic() + timeout
    where = f"{settings.host}:{settings.port}"
    context = None
    if settings.security != "none":
        try:
            context = ssl.create_default_context(cafile=settings.cafile)
        except (OSError, ssl.SSLError) as err:
            return f"cannot read cafile {settings.cafile}: {getattr(err, 'strerror', None) or err}"
    client: smtplib.SMTP | None = None
    sent = False

    def left() -> float:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        if client is not None and client.sock is not None:
            client.sock.settimeout(remaining)
        return remaining

    try:
        # gethostname, not smtplib's default getfqdn: a DNS lookup outside the timeout
        local = socket.gethostname() or "localhost"
        if settings.security == "ssl":
            client = smtplib.SMTP_SSL(
                settings.host, settings.port, local_hostname=local, timeout=left(), context=context
            )
        else:
            client = smtplib.SMTP(
                settings.host, settings.port, local_hostname=local, timeout=left()
            )
        left()
        client.ehlo()
        if settings.security == "starttls":
            left()
            if not client.has_extn("starttls"):
                return f'{where} does not offer STARTTLS (security = "starttls")'
            client.starttls(context=context)
            left()
            client.ehlo()
        if settings.username is not None:
            left()
            client.login(settings.username, password)  # type: ignore[arg-type]  # send() read it
        left()
        client.send_message(message, from_addr=settings.sender_address, to_addrs=recipients)
        sent = True
    except (TimeoutError, socket.timeout):
        return f"{where}: timed out after {timeout}s"
    except smtplib.SMTPRecipientsRefused as err:
        refused = "; ".join(
            f"{addr} ({_reply(code, text)})" for addr, (code, text) in err.recipients.items()
        )
        # the server is there and answering: it is these addresses it will not take
        return NotificationFailure(f"{where}: every recipient refused: {refused}")
    except smtplib.SMTPResponseException as err:  # 4xx and 5xx answers, AUTH refusals
        return f"{where}: {_reply(err.smtp_code, err.smtp_error)}"
    except smtplib.SMTPNotSupportedError as err:
        return f"{where}: {err}"
    except smtplib.SMTPServerDisconnected as err:
        # smtplib turns a read that timed out into "Connection unexpectedly closed"
        if "timed out" in str(err) or time.monotonic() >= deadline:
            return f"{where}: timed out after {timeout}s"
        return f"{where}: the server closed the connection"
    except ssl.SSLError as err:
        return f"{where}: TLS failed: {err.reason or err}"
    except smtplib.SMTPException as err:
        return f"{where}: {err}"
    except OSError as err:
        return f"cannot reach {where}: {err.strerror or err}"
    finally:
        if client is not None:
            _close(client, sent, deadline)
    return None


def _close(client, sent: bool, deadline: float) -> None:
    """QUIT politely when there is time left; the outcome is already decided (a message
    the server took is delivered even if QUIT fails), so nothing here is an error."""
    import time

    try:
        remaining = deadline - time.monotonic()
        if sent and remaining > 0 and client.sock is not None:
            client.sock.settimeout(min(remaining, 5))
            client.quit()
    except Exception:  # noqa: BLE001 - see the docstring
        pass
    finally:
        client.close()


def _reply(code, text) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return " ".join(f"SMTP {code} {text}".split())
