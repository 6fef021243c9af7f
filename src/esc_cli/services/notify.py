"""Delivering the outbox to the policy's channels (SPEC §3), after the state is committed.

At-least-once: each (notification, channel) is claimed under the write lock with a
lease before it is sent and its outcome recorded after, so sweeps running at once
never send the same thing twice, and a sender killed mid-send only delays a retry.
A channel that fails once in a run is not tried again in that run: a dead webhook
costs one timeout per sweep, not one per notification. A failure that belongs to one
notification alone (`NotificationFailure`: no address for its recipient) does not stop
its channel: the others go out in the same run.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from esc_cli.domain.model import iso
from esc_cli.domain.notices import NotificationFailure, recipient_label

BACKOFF_FIRST = 60
BACKOFF_MAX = 3600
# How long a claim stays ours beyond the channel's own timeout: covers the two short
# transactions around the send and a slow process start.
LEASE_MARGIN = 60
_ERROR_MAX = 500
# `notify retry` remembers, per channel, what failed in the run so as not to claim it
# again (the backoff that keeps a sweep from doing so does not hold there); past this
# many the channel waits for the next run rather than send ever longer queries.
SKIPPED_MAX = 1000


@dataclass(frozen=True)
class Attempt:
    notification_id: str
    case: int
    kind: str
    recipient: str
    channel: str
    delivered: bool
    error: str | None
    attempts: int
    next_attempt_at: int | None
    # the failure was the channel's (down, refused us): nothing more went to it in the run
    channel_failed: bool = False


@dataclass(frozen=True)
class Delivered:
    """What a delivery run did: every attempt in order, and how many deliveries that were
    due it left untried because their channel failed in the run."""

    attempts: list[Attempt]
    not_tried: int = 0


def backoff(attempts: int) -> int:
    """Seconds before the next try after `attempts` failures: 1, 2, 4 ... minutes, at most 1h."""
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


def deliver(store, policy, now: int, ignore_backoff: bool = False) -> Delivered:
    """Send every delivery that is due at `now` (all undelivered ones with
    `ignore_backoff`) to its channel; returns what was tried, in order."""
    from esc_cli.store import outbox

    channels = {c.name: c for c in policy.channels}
    if not channels:
        return Delivered([])
    broken: set[str] = set()  # channels done with for this run
    # with ignore_backoff: what failed in this run, per channel, never claimed again in it
    failed: dict[str, list[str]] = {}
    attempts: list[Attempt] = []
    with store.write() as conn:
        abandoned = [
            (note_id, channel)
            for note_id, channel, real_end, holder in outbox.stranded(conn, list(channels))
            if _abandoned(real_end, holder)
        ]
        if abandoned:
            outbox.take_back(conn, abandoned, now)
    holder = _holder()
    while True:
        live = [name for name in channels if name not in broken]
        if not live:
            break
        lease = max(channels[name].timeout for name in live) + LEASE_MARGIN
        with store.write() as conn:
            claimed = outbox.claim(
                conn,
                live,
                now,
                now + lease,
                ignore_backoff,
                (int(time.time()) + lease, holder),
                skip=failed,
            )
        if claimed is None:
            break
        note_id, channel_name, tries, payload_text = claimed
        payload = json.loads(payload_text)
        channel = channels[channel_name]
        if channel.type == "email":
            from esc_cli.services.email_channel import send_notification

            error = send_notification(store, policy, channel, payload, now)
        else:
            error = send(channel, payload_text.encode("utf-8"))
        channel_failed = error is not None and not isinstance(error, NotificationFailure)
        if error is not None:
            from esc_cli.domain.policy import mask_text

            error = mask_text(error, policy.raw())[:_ERROR_MAX]
            if channel_failed:
                broken.add(channel_name)
            if ignore_backoff:
                failed.setdefault(channel_name, []).append(note_id)
                if len(failed[channel_name]) >= SKIPPED_MAX:
                    broken.add(channel_name)
        tries += 1
        next_at = None if error is None else now + backoff(tries)
        with store.write() as conn:
            outbox.record_attempt(conn, note_id, channel_name, error is None, error, next_at)
        attempts.append(
            Attempt(
                note_id,
                payload.get("case"),
                payload.get("kind"),
                recipient_label(payload.get("recipient") or {}),
                channel_name,
                error is None,
                error,
                tries,
                next_at,
                channel_failed,
            )
        )
    not_tried = 0
    if broken:
        with store.read() as conn:
            not_tried = outbox.due_count(conn, sorted(broken), now, ignore_backoff, failed)
    return Delivered(attempts, not_tried)


# A claim is about a real process sending now, so its lease runs on the real clock:
# --now (a backfill, a test, the probe of issue 20) may hold the commands' "now" still,
# and a claim measured in it would never run out. A claim is abandoned once that real
# lease (the channel's timeout plus LEASE_MARGIN) is over, or at once when its holder
# was a process on this machine that no longer exists (a sweep killed mid-send).
def _holder() -> str:
    import os
    import socket

    return f"{socket.gethostname()}:{os.getpid()}"


def _abandoned(real_end: int | None, holder: str | None) -> bool:
    import os
    import socket

    if real_end is None:  # claimed before leases were recorded: next_attempt_at decides
        return False
    if real_end <= time.time():
        return True
    host, _, pid = (holder or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    from esc_cli.services.leftovers import process_alive

    return not process_alive(int(pid))


# -- channels ------------------------------------------------------------------------


def send(channel, body: bytes) -> str | None:
    """Deliver one payload; None on success, else why not (unmasked)."""
    if channel.type == "command":
        return _run_command(channel, body)
    return _post_webhook(channel, body)


def _run_command(channel, body: bytes) -> str | None:
    import subprocess

    try:
        proc = subprocess.run(
            list(channel.argv),
            input=body,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=channel.timeout,
            close_fds=True,
            shell=False,
        )
    except subprocess.TimeoutExpired:
        return f"{channel.argv[0]}: timed out after {channel.timeout}s"
    except OSError as err:
        return f"cannot run {channel.argv[0]}: {err.strerror or err}"
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = (
            f"exit status {proc.returncode}"
            if proc.returncode > 0
            else f"killed by signal {-proc.returncode}"
        )
        return f"{channel.argv[0]}: {reason}" + (f": {detail[-1]}" if detail else "")
    return None


class _NoRedirect:
    """Built lazily: a redirect answer is a failure, never a re-POST somewhere else."""

    handler = None

    @classmethod
    def opener(cls):
        import urllib.request

        if cls.handler is None:

            class Handler(urllib.request.HTTPRedirectHandler):
                def redirect_request(self, *args, **kwargs):
                    return None

            cls.handler = urllib.request.build_opener(Handler)
        return cls.handler


def _post_webhook(channel, body: bytes) -> str | None:
    import socket
    import urllib.error
    import urllib.request

    from esc_cli import __version__

    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": f"esc/{__version__}",
    }
    url, authorization = _without_userinfo(channel.url)
    if authorization is not None:
        headers["Authorization"] = authorization
    # an Authorization the policy sets itself wins: header names are case-insensitive
    for name, header_value in channel.headers.items():
        if name.lower() == "authorization":
            headers.pop("Authorization", None)
        headers[name] = header_value
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _NoRedirect.opener().open(request, timeout=channel.timeout) as response:
            status = response.status
            response.read(65536)
    except urllib.error.HTTPError as err:
        return f"HTTP {err.code} {err.reason}".rstrip()
    except urllib.error.URLError as err:
        reason = err.reason
        if isinstance(reason, (socket.timeout, TimeoutError)):
            return f"timed out after {channel.timeout}s"
        return f"cannot reach {channel.url}: {reason}"
    except (socket.timeout, TimeoutError):
        return f"timed out after {channel.timeout}s"
    except (OSError, ValueError) as err:
        return f"cannot reach {channel.url}: {err}"
    if not 200 <= status < 300:
        return f"HTTP {status}"
    return None


def _without_userinfo(url: str) -> tuple[str, str | None]:
    """`http://user:pw@host/x` -> (`http://host/x`, the Basic credentials' header value).
    urllib sends a URL's userinfo nowhere: left in, it is looked up as part of the host
    name. The user and password are percent-decoded (RFC 3986) and sent as UTF-8 (RFC 7617)."""
    import base64
    from urllib.parse import unquote, urlsplit, urlunsplit

    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at:
        return url, None
    if not userinfo:  # `http://@host/`: nothing to log in with
        return urlunsplit(parts._replace(netloc=hostport)), None
    user, _, password = userinfo.partition(":")
    pair = f"{unquote(user)}:{unquote(password)}".encode()
    return (
        urlunsplit(parts._replace(netloc=hostport)),
        "Basic " + base64.b64encode(pair).decode("ascii"),
    )


# -- the outbox as a lead reads it ---------------------------------------------------------


def outbox_list(env, pending_only: bool = False, case_id=None, limit: int = 0) -> list[dict]:
    """SPEC §4 `notify list`: every notification and each channel's delivery state."""
    from esc_cli.errors import UsageError
    from esc_cli.services.write_path import parse_case_id
    from esc_cli.store import outbox

    if limit < 0:
        raise UsageError("--limit must be 0 (all) or more")
    if limit > 2**62:  # past SQLite's integers
        raise UsageError(f"--limit {limit} is too large (0 means all)")
    case = parse_case_id(case_id) if case_id is not None else None
    store = env.store()
    with store.read() as conn:
        rows = outbox.listing(conn, limit=limit or None, pending_only=pending_only, case_id=case)
        if case is not None and not rows:
            from esc_cli.store.cases import get_case

            get_case(conn, case)  # a case that does not exist is exit 3, as for `show`
    for row in rows:
        row["created_at"] = iso(row["created_at"])
        for delivery in row["deliveries"]:
            delivery["state"] = _public_state(delivery["state"], delivery["attempts"])
            delivery["next_attempt_at"] = iso(delivery["next_attempt_at"])
    return rows


def _public_state(state: str, attempts: int) -> str:
    # `sending` is a claim in progress: to a reader it is still waiting for its outcome
    if state == "sending":
        return "failed" if attempts else "pending"
    return state


def retry(env) -> dict:
    """`esc notify retry`: deliver everything undelivered now, ignoring the backoff."""
    from esc_cli.services.policies import Policies

    store = env.store()
    with store.read() as conn:
        policy = Policies(conn).current
    done = deliver(store, policy, env.now, ignore_backoff=True)
    return attempts_document(env.now, done, configured=bool(policy.channels))


def attempts_document(now: int, done: Delivered, configured: bool) -> dict:
    attempts = done.attempts
    return {
        "now": iso(now),
        "channels": configured,
        "delivered": sum(1 for a in attempts if a.delivered),
        "failed": sum(1 for a in attempts if not a.delivered),
        "not_tried": done.not_tried,
        "down": [a.channel for a in attempts if a.channel_failed],
        "attempts": [
            {
                "id": a.notification_id,
                "case": a.case,
                "kind": a.kind,
                "recipient": a.recipient,
                "channel": a.channel,
                "delivered": a.delivered,
                "error": a.error,
                "attempts": a.attempts,
                "next_attempt_at": iso(a.next_attempt_at),
            }
            for a in attempts
        ],
    }
