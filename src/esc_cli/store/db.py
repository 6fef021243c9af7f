"""The SQLite connection: opening, identifying, migrating, and write transactions.

`Store.open` / `Store.initialise` given a PostgreSQL location (store/pg.py) open a
PgStore instead: the same interface (write, read, read_pair, close, errors, retrying)
over a connection with the same API, so services never see which backend it is."""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path

from esc_cli.errors import Conflict, StoreError
from esc_cli.store.migrations import APPLICATION_ID, SCHEMA_VERSION

# "ESC1" — marks a file as an esc store, so a foreign SQLite file is refused, not migrated.
BUSY_TIMEOUT_MS = int(os.environ.get("ESC_BUSY_TIMEOUT_MS", "10000"))


class SqliteConnection(sqlite3.Connection):
    """sqlite3's connection with the attributes store modules read from either backend:
    SQLite's write lock covers the whole file, so no row lock or claim clause is needed."""

    dialect = "sqlite"
    row_lock = ""
    claim = ""


def _frozen(path: Path) -> bool:
    """A store in a directory nothing can write (a read-only mount, a laptop's backup on
    read-only media) and with no write-ahead log beside it: SQLite cannot create the
    -shm file a WAL store is read through, so it said only "unable to open database
    file" (and doctor "not an esc store"). Nothing can be writing to it either, so it is
    read as it is (immutable): every read command works, a write says read-only."""
    wal = Path(f"{path}-wal")
    try:
        return not os.access(path.parent, os.W_OK) and (not wal.exists() or not wal.stat().st_size)
    except OSError:
        return False


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN IMMEDIATE ourselves (a deferred BEGIN fails
    # under concurrent writers where IMMEDIATE waits on the busy timeout).
    frozen = _frozen(path)
    try:
        conn = sqlite3.connect(
            path.absolute().as_uri() + "?mode=ro&immutable=1" if frozen else str(path),
            uri=frozen,
            isolation_level=None,
            timeout=BUSY_TIMEOUT_MS / 1000,
            check_same_thread=False,
            factory=SqliteConnection,
        )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    except sqlite3.Error as err:  # unreadable file, unusable directory
        raise StoreError(f"cannot open the store {path}: {err}") from None
    return conn


def _is_locked(err: sqlite3.Error) -> bool:
    text = str(err).lower()
    return "locked" in text or "busy" in text


def _create_private_file(path: Path) -> None:
    """Create an empty store file readable by its owner only; SQLite gives the -wal and
    -shm files the same mode as the database file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)


class Store:
    dialect = "sqlite"
    # the driver's exceptions, for the few callers that must tell them apart
    errors = (sqlite3.Error,)

    def __init__(self, path: Path, conn: sqlite3.Connection):
        self.path = path
        self.conn = conn

    def copy_into(self, copy: sqlite3.Connection) -> None:
        """The whole store into the empty SQLite database `copy` (esc backup)."""
        # pages=-1: the whole store in one step, so one read snapshot; copying in
        # steps restarts whenever another process writes and may never finish.
        self.conn.backup(copy, pages=-1)

    def tune_for_sweep(self) -> None:
        # each case's SAVEPOINT keeps the pages it changes in a sub-journal that otherwise
        # spills to a temporary file past 64 KiB: ten page writes per case, for nothing
        self.conn.execute("PRAGMA temp_store = MEMORY")

    def retrying(self, work):
        """Run one whole write transaction; SQLite's writers queue on the write lock,
        so there is nothing to retry (PgStore retries deadlocks)."""
        return work()

    # -- opening -------------------------------------------------------------

    @classmethod
    def open(cls, path: Path) -> "Store":
        """Open an existing, initialised store, upgrading an older schema in place."""
        if getattr(path, "is_postgres", False):
            from esc_cli.store.pg import PgStore

            # path is a PgLocation (is_postgres); PgStore has Store's interface
            return PgStore.open(path)  # type: ignore[arg-type,return-value]
        if not path.exists():
            raise StoreError(f"no esc store at {path}", hint="run esc init")
        if path.is_dir():
            raise StoreError(f"{path} is a directory, not an esc store")
        conn = _connect(path)
        store = cls(path, conn)
        try:
            version = store._identify()
            if version == 0:
                raise StoreError(f"{path} is not initialised", hint="run esc init")
            if version < SCHEMA_VERSION:
                store._migrate()
            conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.DatabaseError as err:
            conn.close()
            raise store._database_error(err) from None
        except BaseException:
            conn.close()
            raise
        return store

    @classmethod
    def initialise(cls, path: Path) -> tuple["Store", bool]:
        """Open or create a store; returns (store, created)."""
        if getattr(path, "is_postgres", False):
            from esc_cli.store.pg import PgStore

            return PgStore.initialise(path)  # type: ignore[arg-type,return-value]  # as in open
        if path.is_dir():
            raise StoreError(f"{path} is a directory, not an esc store")
        if not path.exists():
            try:
                _create_private_file(path)
            except FileExistsError:
                pass
            except OSError as err:
                raise StoreError(f"cannot create {path}: {err.strerror}") from None
        conn = _connect(path)
        store = cls(path, conn)
        try:
            version = store._identify()
            if version:
                if version < SCHEMA_VERSION:
                    store._migrate()
                return store, False
            conn.execute("PRAGMA journal_mode = WAL")
            created = store._migrate()
            conn.execute("PRAGMA synchronous = NORMAL")
            return store, created
        except sqlite3.DatabaseError as err:
            conn.close()
            raise store._database_error(err) from None
        except BaseException:
            conn.close()
            raise

    def _identify(self) -> int:
        """The store's schema version; 0 for an empty file. Refuses foreign and newer files.

        The three reads share one snapshot: read one by one, a concurrent `esc init`
        could commit between them, and a file seen as "no application id" and then
        "has tables" was called foreign ("not an esc store") while it was being made
        an esc store. In one read transaction it is either still empty or initialised
        (init migrates and stamps the id in one transaction)."""
        began = not self.conn.in_transaction
        if began:
            self.conn.execute("BEGIN")
        try:
            application_id = self.conn.execute("PRAGMA application_id").fetchone()[0]
            version = self.conn.execute("PRAGMA user_version").fetchone()[0]
            has_tables = (
                application_id != APPLICATION_ID
                and self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            )
        finally:
            if began and self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
        if application_id != APPLICATION_ID:
            if application_id == 0 and not has_tables:
                return 0
            raise StoreError(
                f"{self.path} is not an esc store", hint="point --db or ESC_DB at an esc store"
            )
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has schema version {version}, newer than this esc "
                f"understands ({SCHEMA_VERSION})",
                hint="upgrade esc",
            )
        return version

    def _migrate(self) -> bool:
        """Bring the schema up to date under the write lock; True if this call created it."""
        from esc_cli.store.migrations import migrate

        with self.write():
            # Another process may have migrated while we waited for the lock.
            current = self.conn.execute("PRAGMA user_version").fetchone()[0]
            if current >= SCHEMA_VERSION:
                return False
            migrate(self.conn)
            self.conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            return current == 0

    def _database_error(self, err: sqlite3.DatabaseError) -> StoreError:
        if _is_locked(err):
            return StoreError(
                f"the store {self.path} is busy (locked by another esc past the "
                f"{BUSY_TIMEOUT_MS // 1000}s busy timeout)",
                hint="try again",
            )
        text = str(err)
        if "not a database" in text or "file is encrypted" in text:
            return StoreError(f"{self.path} is not an esc store (not a SQLite database)")
        if "readonly" in text:
            return StoreError(
                f"the store {self.path} is read-only: its file or its directory cannot be written",
                hint="read commands work; copy it somewhere writable to change it",
            )
        return StoreError(f"store error on {self.path}: {text}")

    # -- transactions --------------------------------------------------------

    @contextmanager
    def write(self):
        """One BEGIN IMMEDIATE transaction: the write lock is taken up front, so two
        writers queue on the busy timeout instead of failing mid-transaction."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as err:
            raise self._database_error(err) from None
        try:
            yield self.conn
        except BaseException as err:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            if isinstance(err, sqlite3.IntegrityError):
                raise Conflict(f"conflicting write: {err}") from None
            if isinstance(err, sqlite3.DatabaseError):
                raise self._database_error(err) from None
            raise
        else:
            try:
                self.conn.execute("COMMIT")
            except sqlite3.DatabaseError as err:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise self._database_error(err) from None

    @contextmanager
    def read(self):
        """A consistent snapshot for multi-query reads."""
        try:
            self.conn.execute("BEGIN")
            yield self.conn
        except sqlite3.DatabaseError as err:
            raise self._database_error(err) from None
        finally:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")

    @contextmanager
    def read_pair(self):
        """Two connections reading one snapshot, for a read that splits its queries
        between two threads (esc report: SQLite runs each connection's statements on
        its own core). Yields (conn, second), or (conn, None) when no second snapshot
        can be had at once; the caller then runs everything on conn.

        A reader's snapshot is the last commit before its first read, so both first
        reads happen while a third connection holds the write lock, which no commit
        can pass. The lock is held only for those two reads and never waited for: a
        writer mid-transaction (or a store this user cannot write) means one
        connection, not a wait."""
        second = lock = None
        try:
            try:
                lock = _connect(self.path)
                lock.execute("PRAGMA busy_timeout = 0")
                lock.execute("BEGIN IMMEDIATE")
                second = _connect(self.path)
            except (sqlite3.Error, StoreError):
                if second is not None:
                    second.close()
                second = None
            with self.read() as conn:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
                if second is not None:
                    second.execute("BEGIN")
                    second.execute("SELECT count(*) FROM sqlite_master").fetchone()
                if lock is not None:
                    lock.close()  # ends its transaction: writers may go on
                    lock = None
                yield conn, second
        except sqlite3.DatabaseError as err:
            raise self._database_error(err) from None
        finally:
            for extra in (lock, second):
                if extra is not None:
                    extra.close()

    def close(self) -> None:
        self.conn.close()
