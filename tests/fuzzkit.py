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


def snapshot(runner) -> tuple:
    """The store behind `runner`, to compare before and after a run: a SQLite store's
    files byte for byte; a PostgreSQL store's every row of every table (its files are
    the server's). A runner may bring its own `snapshot()`."""
    own = getattr(runner, "snapshot", None)
    if callable(own):
        return own()
    if str(runner.db).startswith(("postgresql://", "postgres://")):
        return pg_state(str(runner.db))
    return store_state(runner.db)


def pg_state(uri: str) -> tuple:
    """Every row of every table of a PostgreSQL database, in a stable order, hashed."""
    import psycopg2

    conn = psycopg2.connect(uri)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT table_name FROM information_schema.tables "
                           "WHERE table_schema = 'public' ORDER BY table_name")
            tables = [row[0] for row in cursor.fetchall()]
            state = []
            for table in tables:
                cursor.execute(f'SELECT * FROM "{table}"')
                rows = sorted(repr(row) for row in cursor.fetchall())
                state.append((table, hashlib.sha256("\n".join(rows).encode()).hexdigest()))
        return tuple(state)
    finally:
        conn.close()


def check_refusal_shape(result, *, row_list: bool = False) -> None:
    """The SPEC §5 shape of any outcome: an allowed exit code; on failure `error:` lines
    (exactly one, unless `row_list`: import names each bad row on its own line), never a
    traceback or an internal error."""
    assert result.code in ALLOWED_CODES, (result.code, result.err[-2000:])
    assert "Traceback" not in result.err and "internal error" not in result.err, result.err[-2000:]
    if result.code == 0:
        return
    lines = result.err.splitlines()
    assert lines, f"exit {result.code} with nothing on stderr"
    assert all(line.startswith("error: ") for line in lines), result.err[-2000:]
    if not row_list:
        assert len(lines) == 1, result.err[-2000:]


def run_checked(runner, *args: str, row_list: bool = False, **kwargs):
    """Run esc once on untrusted input and check the property: the outcome's shape, and
    the store byte for byte as it was when the run failed."""
    before = snapshot(runner)
    result = runner(*args, **kwargs)
    check_refusal_shape(result, row_list=row_list)
    if result.code != 0:
        assert snapshot(runner) == before, f"esc {args[:3]} failed ({result.code}) but wrote"
    return result


def check_import(runner, path: Path):
    """`esc import --dry-run FILE` and `esc import FILE` on an untrusted file: both keep
    the property, and they agree on accept or refuse (the dry run runs every check the
    real one does). Returns the real run's result."""
    checked = run_checked(runner, "import", "--dry-run", str(path), row_list=True)
    real = run_checked(runner, "import", str(path), row_list=True)
    assert (checked.code == 0) == (real.code == 0), (
        f"dry run {checked.code} {checked.err[-500:]!r} / import {real.code} {real.err[-500:]!r}")
    if checked.code and real.code:
        assert checked.code == real.code
    return real



def budget(backend: str):
    """The hypothesis settings of a fuzz test on `backend`: four times the profile's
    examples on SQLite (a run in-process costs milliseconds), half on PostgreSQL (every
    run connects to the server), so both stay within seconds in CI and the long profile
    (HYPOTHESIS_PROFILE=long) scales both."""
    from hypothesis import HealthCheck, settings

    scale = 4 if backend == "sqlite" else 0.5
    return settings(max_examples=max(1, int(settings.default.max_examples * scale)),
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.data_too_large])
