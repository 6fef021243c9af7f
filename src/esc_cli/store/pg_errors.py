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
    secrets = _passwords(where.uri)
    for secret in secrets:
        text = text.replace(secret, "***")

    # libpq quotes a piece of the URI it could not read: a password holding a raw "/"
    # comes back cut (invalid integer value "pa" for connection option "port")
    def piece(found) -> str:
        return '"***"' if any(found[1] in secret for secret in secrets) else found[0]

    text = re.sub(r'"([^"]+)"', piece, text)
    return " ".join(text.replace(where.uri, where.masked).split())


def connect_error(where: PgLocation, err) -> StoreError | UsageError:
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
    if "certificate" in lower or "root.crt" in lower:
        return StoreError(
            f"cannot open {at}: the server's SSL certificate could not be verified "
            f"({_first_line(where, text)})",
            hint="point sslrootcert in the URI at the CA that signed the server's certificate",
        )
    if "pg_hba.conf" in lower:
        # "no encryption" alone may be a server that takes SSL connections only, or one
        # with no rule for this host at all: both are said
        asks_ssl = re.search(r"sslmode=(require|verify)", where.uri) or os.environ.get(
            "PGSSLMODE", ""
        ).startswith(("require", "verify"))
        return StoreError(
            f"cannot open {at}: the server's pg_hba.conf lets no connection in for this "
            "host, user and database",
            hint="ask its administrator to allow this host and user"
            if asks_ssl
            else "if it takes SSL connections only, connect with ?sslmode=require; "
            "else ask its administrator to allow this host and user",
        )
    if (
        lower.startswith("invalid ")
        or 'missing "="' in lower
        or "invalid connection option" in lower
        or "for connection option" in lower  # invalid integer value "abc" for ...
        or "invalid uri" in lower
    ):
        return UsageError(f"--db: the PostgreSQL URI is not valid: {_first_line(where, text)}")
    if "ssl" in lower:
        return StoreError(f"cannot open {at}: SSL failed ({_first_line(where, text)})")
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
    return StoreError(f"cannot open {at}: {_first_line(where, text) or type(err).__name__}")


def _first_line(where: PgLocation, text: str) -> str:
    """The driver's first line of `text`, without any password, trailing dot or prefix."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    line = re.sub(r"^(connection to server .*? failed: )?(FATAL:\s*)?", "", line)
    return _clean(where, line).rstrip(".")


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
            # SQLite's words (store/db.py), so a script or a person sees one message
            f"the store {where.masked} is busy (locked by another esc past the "
            f"{BUSY_TIMEOUT_MS // 1000}s busy timeout)",
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
