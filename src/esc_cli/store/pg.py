"""The PostgreSQL store: a `postgresql://` URI given as --db / ESC_DB.

This module is the only place that knows the driver (psycopg2, the `postgres` extra,
imported on first connection so SQLite runs never pay for it). It gives the rest of
store/ a connection with the API the SQLite modules already use — `execute` with `?`
or `:name` parameters returning rows as tuples, `executemany`, `lastrowid`,
`in_transaction` — and a `dialect` ("postgres") for the few statements that must be
written twice. `translate` rewrites the mechanical differences once per statement
text (cached); docs/postgres.md lists them and why each is safe.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

from esc_cli.errors import StoreError
from esc_cli.store.pg_errors import BUSY_TIMEOUT_MS, _nul, connect_error, error, retrying
from esc_cli.store.pg_location import PgLocation
from esc_cli.store.pg_migrations import LOCK_KEY
from esc_cli.store.pg_sql import translate

INSTALL = "pip install 'esc-cli[postgres]'"


# -- the connection --------------------------------------------------------------------


class PgCursor:
    __slots__ = ("_cursor", "_conn")

    def __init__(self, cursor, conn):
        self._cursor = cursor
        self._conn = conn

    def fetchone(self):
        return self._cursor.fetchone() if self._cursor.description is not None else None

    def fetchall(self):
        return self._cursor.fetchall() if self._cursor.description is not None else []

    def fetchmany(self, size: int):
        return self._cursor.fetchmany(size)

    def __iter__(self):
        return iter(self._cursor) if self._cursor.description is not None else iter(())

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def description(self):
        return self._cursor.description

    @property
    def lastrowid(self):
        # the id the last INSERT drew from its identity column, in this session
        return self._conn.execute("SELECT lastval()").fetchone()[0]

    def close(self) -> None:
        self._cursor.close()


class PgConnection:
    """The sqlite3.Connection subset store/ uses, on a psycopg2 connection in
    autocommit mode (esc issues BEGIN/COMMIT itself, as on SQLite)."""

    dialect = "postgres"

    def __init__(self, raw, location: PgLocation):
        self.raw = raw
        self.location = location
        # appended to the SELECT of a case a write is about to change (store.cases)
        self.row_lock = ""
        # appended to the SELECT of work a sweep claims: rows another sweep holds are
        # that sweep's, never waited for
        self.claim = ""
        # statements sent with the next one that needs an answer (later())
        self._queue: list[bytes] = []
        # within a write transaction: what it read and may read again (store.people's
        # owners; the last event hash of each case it holds locked, store.cases)
        self.owners: dict | None = None
        self.last_hashes: dict | None = None

    def later(self, sql: str, params=()) -> None:
        """Run `sql`, a statement whose answer nobody reads (BEGIN, SAVEPOINT, an
        UPDATE, an INSERT), in the same round trip as the next statement that needs
        one, or the COMMIT: a write of a few statements waits on the server once, not
        once a statement. Its error, if any, comes from that next statement, inside
        the same transaction, which then rolls back as a whole."""
        named = isinstance(params, dict)
        with self.raw.cursor() as cursor:
            try:
                self._queue.append(
                    cursor.mogrify(translate(sql, named), params if params is not None else ())
                )
            except ValueError as err:
                raise _nul(err) from None

    def discard(self) -> None:
        """Forget the statements later() holds (the transaction is being rolled back)."""
        self._queue.clear()

    def _pending(self, cursor, sql: bytes | str, params) -> tuple:
        """The statement to send: `sql` after whatever later() holds, as one text."""
        if not self._queue:
            return sql, params
        queued = self._queue[:]
        self._queue.clear()
        return b"; ".join([*queued, cursor.mogrify(sql, params)]), None

    def execute(self, sql: str, params=()):
        named = isinstance(params, dict)
        cursor = self.raw.cursor()
        try:
            cursor.execute(
                *self._pending(cursor, translate(sql, named), params if params is not None else ())
            )
        except ValueError as err:
            cursor.close()
            raise _nul(err) from None
        except BaseException:
            cursor.close()
            raise
        return PgCursor(cursor, self)

    def executemany(self, sql: str, rows) -> None:
        from psycopg2.extras import execute_batch

        rows = list(rows)
        if not rows:
            return
        named = isinstance(rows[0], dict)
        if self._queue:
            self.execute("SELECT 1")  # what later() holds goes first, in order
        with self.raw.cursor() as cursor:
            try:
                execute_batch(cursor, translate(sql, named), rows, page_size=500)
            except ValueError as err:
                raise _nul(err) from None

    def copy_in(self, sql: str, data: bytes) -> None:
        """`COPY ... FROM STDIN` with `data` (COPY's text format, made by store/pg_bulk.py)
        in one round trip, in the current transaction."""
        from io import BytesIO

        if self._queue:
            self.execute("SELECT 1")  # what later() holds goes first, in order
        with self.raw.cursor() as cursor:
            cursor.copy_expert(sql, BytesIO(data), size=1 << 20)

    def store_lock(self) -> None:
        """Take turns with other clients until this transaction ends, on the lock the
        migrations take (store.policies.add_first: the first policy of a new store)."""
        self.execute("SELECT pg_advisory_xact_lock(?)", (LOCK_KEY,))

    @property
    def in_transaction(self) -> bool:
        import psycopg2.extensions as ext

        # statements later() holds belong to the transaction (a BEGIN among them)
        return bool(self._queue) or self.raw.info.transaction_status != ext.TRANSACTION_STATUS_IDLE

    def interrupt(self) -> None:
        """Cancel the statement running on this connection in another thread, as
        sqlite3.Connection.interrupt does (esc report's second half, on Ctrl-C)."""
        psycopg2 = _driver()
        try:
            self.raw.cancel()
        except psycopg2.Error:
            pass  # nothing running, or the connection is gone

    def close(self) -> None:
        self._queue.clear()
        self.raw.close()


def _driver():
    try:
        import psycopg2
        import psycopg2.extensions
    except ImportError:
        raise StoreError(
            "a postgresql:// store needs the PostgreSQL driver, which is not installed",
            hint=f"install it: {INSTALL}",
        ) from None
    return psycopg2


_CASTS_DONE = False


def _register_casts(psycopg2) -> None:
    """Rows as SQLite gives them: bytea as bytes, numeric (sum/avg of integers) as an
    int when whole, else a float."""
    global _CASTS_DONE
    if _CASTS_DONE:
        return
    ext = psycopg2.extensions

    def number(value, cursor):
        if value is None:
            return None
        if "." in value or "e" in value.lower() or value in ("NaN", "Infinity", "-Infinity"):
            return float(value)
        return int(value)

    def binary(value, cursor):
        found = psycopg2.BINARY(value, cursor)
        return bytes(found) if found is not None else None

    ext.register_type(ext.new_type((1700,), "ESC_NUMERIC", number))
    ext.register_type(ext.new_type(psycopg2.BINARY.values, "ESC_BYTEA", binary))
    _CASTS_DONE = True


def connect(where: PgLocation) -> PgConnection:
    psycopg2 = _driver()
    _register_casts(psycopg2)
    try:
        raw = psycopg2.connect(where.uri, **_settings(psycopg2, where))
    except psycopg2.Error as err:
        raise connect_error(where, err) from None
    raw.autocommit = True
    return PgConnection(raw, where)


def _settings(psycopg2, where: PgLocation) -> dict[str, object]:
    """What esc adds to the URI's connection settings. A keyword given to connect()
    replaces the URI's own and the PG* variable's, so the user's `options` (or
    PGOPTIONS: a search_path for a schema of its own) come first and esc's three
    settings after them (the later -c wins: esc's clocks need UTC and its lock wait);
    a name and a connect timeout only where the user gave none."""
    try:
        given = psycopg2.extensions.parse_dsn(where.uri)
    except psycopg2.Error as err:
        raise connect_error(where, err) from None
    ours = f"-c lock_timeout={BUSY_TIMEOUT_MS} -c TimeZone=UTC -c jit=off"
    theirs = given.get("options", os.environ.get("PGOPTIONS", "")).strip()
    settings: dict[str, object] = {"options": f"{theirs} {ours}" if theirs else ours}
    if "application_name" not in given and not os.environ.get("PGAPPNAME"):
        settings["application_name"] = "esc"
    if "connect_timeout" not in given and not os.environ.get("PGCONNECT_TIMEOUT"):
        settings["connect_timeout"] = 10
    return settings


# -- the store -------------------------------------------------------------------------


class PgStore:
    dialect = "postgres"

    def __init__(self, where: PgLocation, conn: PgConnection):
        self.path = where
        self.conn = conn
        psycopg2 = _driver()
        self.errors = (psycopg2.Error,)

    @classmethod
    def open(cls, where: PgLocation) -> "PgStore":
        store = cls(where, connect(where))
        try:
            version = store._identify()
            if version == 0:
                raise StoreError(f"{where.masked} is not initialised", hint="run esc init")
            from esc_cli.store.migrations import SCHEMA_VERSION

            if version < SCHEMA_VERSION:
                store._migrate()
        except BaseException as err:
            store.close()
            if isinstance(err, store.errors):
                raise error(where, err) from None
            raise
        return store

    @classmethod
    def initialise(cls, where: PgLocation) -> tuple["PgStore", bool]:
        store = cls(where, connect(where))
        try:
            version = store._identify()
            from esc_cli.store.migrations import SCHEMA_VERSION

            if version and version >= SCHEMA_VERSION:
                return store, False
            return store, store._migrate()
        except BaseException as err:
            store.close()
            if isinstance(err, store.errors):
                raise error(where, err) from None
            raise

    def _identify(self) -> int:
        """The schema version; 0 for a database without tables. Refuses a database
        holding tables esc did not make, and a newer schema."""
        from esc_cli.store.migrations import SCHEMA_VERSION

        version = self._version()
        if version is None:
            # one statement, one snapshot: counted apart from _version's look, another
            # `esc init` committing in between made its whole store look foreign
            tables, stores = self.conn.execute(
                "SELECT count(*), count(*) FILTER (WHERE tablename = 'esc_store') "
                "FROM pg_catalog.pg_tables WHERE schemaname = current_schema()"
            ).fetchone()
            if stores:  # that other init has committed since: its store is esc's
                version = self._version()
            elif tables:
                raise StoreError(
                    f"{self.path.masked} is not an esc store (its schema holds "
                    "tables esc did not make)",
                    hint="point --db or ESC_DB at an esc store or an empty database",
                )
            if version is None:
                return 0
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path.masked} has schema version {version}, newer than this "
                f"esc understands ({SCHEMA_VERSION})",
                hint="upgrade esc",
            )
        return version

    def _version(self) -> int | None:
        """esc_store.version, or None when the table is not there."""
        if not self.conn.in_transaction:
            # every command asks first thing: one query, and the catalogue only when it
            # fails (outside a transaction an error spoils nothing)
            try:
                row = self.conn.execute(
                    "SELECT version FROM esc_store WHERE application_id = ?", (LOCK_KEY,)
                ).fetchone()
            except self.errors as err:
                if getattr(err, "pgcode", None) != "42P01":  # undefined_table
                    raise
            else:
                if row is not None:
                    return row[0]
        # pg_tables read with the statement's snapshot, not to_regclass: a name lookup
        # may answer from this session's catalogue cache, which need not have seen the
        # esc_store another client committed while this one waited for the migration
        # lock (eight `esc init` at once on an empty database: "not an esc store")
        found = self.conn.execute(
            "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() "
            "AND tablename = 'esc_store'"
        ).fetchone()[0]
        if not found:
            return None
        row = self.conn.execute(
            "SELECT version FROM esc_store WHERE application_id = ?", (LOCK_KEY,)
        ).fetchone()
        if row is None:
            raise StoreError(
                f"{self.path.masked} is not an esc store",
                hint="point --db or ESC_DB at an esc store",
            )
        return row[0]

    def _migrate(self) -> bool:
        """Bring the schema up to date in one transaction under an advisory lock, so two
        clients upgrading at once take turns; True if this call created it."""
        from esc_cli.store.migrations import SCHEMA_VERSION
        from esc_cli.store.pg_migrations import migrate_postgres

        with self.write() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(?)", (LOCK_KEY,))
            current = self._identify()
            if current >= SCHEMA_VERSION:
                return False
            migrate_postgres(conn, current)
            return current == 0

    # -- transactions ----------------------------------------------------------------

    @contextmanager
    def write(self):
        """One READ COMMITTED transaction; a write locks the rows it changes as it
        reads them (conn.row_lock), so writers to one case queue on that row."""
        conn = self.conn
        conn.later("BEGIN")  # sent with the transaction's first statement
        conn.row_lock = " FOR UPDATE"
        conn.claim = " FOR UPDATE SKIP LOCKED"
        conn.owners, conn.last_hashes = {}, {}
        try:
            yield conn
        except BaseException as err:
            self._rollback()
            if isinstance(err, self.errors):
                raise error(self.path, err) from None
            raise
        else:
            try:
                conn.execute("COMMIT")
            except self.errors as err:
                self._rollback()
                raise error(self.path, err) from None
        finally:
            conn.row_lock = conn.claim = ""
            conn.owners = conn.last_hashes = None
            conn.discard()

    def _rollback(self) -> None:
        self.conn.discard()
        try:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
        except self.errors:
            pass  # the connection is gone: the server rolled back

    @contextmanager
    def read(self):
        """A consistent snapshot for multi-query reads."""
        try:
            # sent with the snapshot's first query
            self.conn.later("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield self.conn
        except self.errors as err:
            raise error(self.path, err) from None
        finally:
            self._rollback()

    @contextmanager
    def read_pair(self):
        """Two connections reading one snapshot, for a read that splits its queries
        between two threads (esc report), as store.db.Store.read_pair does on SQLite:
        the second connection imports the first's snapshot (pg_export_snapshot), so
        both see exactly the same commits, and the server runs each connection's
        statements in its own backend, on its own core. Yields (conn, second), or
        (conn, None) when no second connection can be had; the caller then runs
        everything on conn."""
        with self.read() as conn:
            second = None
            try:
                snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
                second = connect(self.path)
                second.later("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                second.execute("SET TRANSACTION SNAPSHOT ?", (snapshot,))
            except (*self.errors, StoreError):
                if second is not None:
                    second.close()
                second = None
            try:
                yield conn, second
            finally:
                if second is not None:
                    try:
                        second.close()  # its read-only transaction ends with it
                    except self.errors:
                        pass

    def retrying(self, work):
        return retrying(work)

    def copy_into(self, copy) -> None:
        """The whole store into the empty SQLite database `copy` (esc backup)."""
        from esc_cli.store.pg_backup import copy_into

        copy_into(self, copy)

    def tune_for_sweep(self) -> None:
        pass  # nothing to tune: PostgreSQL's savepoints need no setting

    def close(self) -> None:
        try:
            self.conn.close()
        except self.errors:
            pass
