"""Driver errors as esc's own: one line saying which failure it is and what to try, never
a password (issue 18), and the retry of a transaction that lost a race."""

from __future__ import annotations

import os
import random
import re
import time

from esc_cli.errors import Conflict, StoreError, UsageError
from esc_cli.store.pg_location import PgLocation, _passwords

BUSY_TIMEOUT_MS = int(os.environ.get("ESC_BUSY_TIMEOUT_MS", "10000"))
RETRIES = 5


def _nul(err: ValueError) -> Exception:
    """The driver refuses text holding NUL before it is sent (PostgreSQL's text cannot
    hold U+0000): a bad value (exit 2), for input no earlier check named."""
    if "NUL" not in str(err):
        return err
    return UsageError(
        "text holding a NUL character (\\x00) cannot be stored: PostgreSQL text cannot hold it"
    )


def _clean(where: PgLocation, text: str) -> str:
    for secret in _passwords(where.uri):
        text = text.replace(secret, "***")
    return " ".join(text.replace(where.uri, where.masked).split())


def connect_error(where: PgLocation, err) -> StoreError:
    """One line saying which failure it is and what to try."""
    text = str(err)
    lower = text.lower()
    at = f"PostgreSQL at {where.masked}"
    if "does not exist" in lower and "database" in lower:
        found = re.search(r'database "([^"]*)" does not exist', text)
        name = found[1] if found else "the database"
        return StoreError(
            f"cannot open {at}: database {name} does not exist",
            hint=f"create it (createdb {name}), then run esc init",
        )
    if (
        "password authentication failed" in lower
        or "no password supplied" in lower
        or "authentication failed" in lower
        or ("role" in lower and "does not exist" in lower)
    ):
        return StoreError(
            f"cannot open {at}: authentication failed",
            hint="check the user and password (URI, PGUSER, PGPASSWORD or ~/.pgpass)",
        )
    if "does not support ssl" in lower:
        return StoreError(
            f"cannot open {at}: the server does not accept SSL, which the URI requires",
            hint="enable SSL on the server, or connect with ?sslmode=prefer in the URI",
        )
    if "ssl" in lower or "no encryption" in lower:
        return StoreError(
            f"cannot open {at}: the server requires SSL",
            hint="connect with ?sslmode=require in the URI (or PGSSLMODE=require)",
        )
    if (
        "connection refused" in lower
        or "no such file or directory" in lower
        or "could not connect" in lower
        or "timeout expired" in lower
        or "could not translate host name" in lower
    ):
        return StoreError(
            f"cannot connect to {at}: connection refused or no server there",
            hint="is the server running? check host and port",
        )
    first = _clean(where, text.strip().splitlines()[0] if text.strip() else type(err).__name__)
    return StoreError(f"cannot open {at}: {first}")


class Retry(Conflict):
    """A deadlock or serialization failure: the transaction was rolled back whole and
    can be run again."""


def error(where: PgLocation, err) -> Exception:
    """A driver error met inside a transaction as esc's own error."""
    code = getattr(err, "pgcode", None)
    if code in ("40001", "40P01"):
        return Retry(
            "the write lost a race with another esc (deadlock or serialization failure)",
            hint="try again",
        )
    if code == "55P03":
        return StoreError(
            f"the store {where.masked} is busy (a lock was held by another esc past "
            f"the {BUSY_TIMEOUT_MS // 1000}s lock timeout)",
            hint="try again",
        )
    if code is not None and code.startswith("23"):
        return Conflict(f"conflicting write: {_clean(where, str(err).strip().splitlines()[0])}")
    if code is None or code.startswith("08") or code.startswith("57P"):
        return StoreError(
            f"lost the connection to PostgreSQL at {where.masked}",
            hint="check the server, then try again",
        )
    first = str(err).strip().splitlines()[0] if str(err).strip() else code
    return StoreError(f"store error on {where.masked}: {_clean(where, first)}")


def retrying(work):
    """Run `work()` (one whole transaction) again after a deadlock or serialization
    failure, a few times with jittered backoff; then the failure goes on up (exit 4)."""
    for attempt in range(RETRIES):
        try:
            return work()
        except Retry:
            if attempt == RETRIES - 1:
                raise
            time.sleep(random.uniform(0.01, 0.05) * (2**attempt))
    return None  # not reached
