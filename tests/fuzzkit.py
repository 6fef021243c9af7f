"""Helpers the fuzz tests and the fault tests share: what a store looks like byte for
byte, and the property every run of esc on untrusted input must keep.

They take a runner (tests/conftest.py's EscRunner, or anything with its call
signature and a `db` path) rather than building one, so the same checks run on
whatever store fixture a test is given."""

from __future__ import annotations

import hashlib
from pathlib import Path

# SPEC §5: 0 ok, 2 usage, 3 not found, 4 conflict, 5 store. Never 1 (a bug).
ALLOWED_CODES = frozenset({0, 2, 3, 4, 5})


def store_state(db: Path | str) -> tuple:
    """The store's files, byte for byte (the database and its write-ahead log): equal
    before and after a run exactly when the run wrote nothing."""
    db = Path(db)
    state = []
    for path in (db, Path(f"{db}-wal"), Path(f"{db}-journal")):
        try:
            state.append(hashlib.sha256(path.read_bytes()).hexdigest())
        except FileNotFoundError:
            state.append(None)
    return tuple(state)
