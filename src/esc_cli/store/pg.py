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
import random
import re
import time
from contextlib import contextmanager

from esc_cli.errors import Conflict, StoreError, UsageError

SCHEMES = ("postgresql", "postgres")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")
BUSY_TIMEOUT_MS = int(os.environ.get("ESC_BUSY_TIMEOUT_MS", "10000"))
# "ESC1": the advisory lock migrations and case numbering are taken under
LOCK_KEY = 0x45534331
INSTALL = "pip install 'esc-cli[postgres]'"
RETRIES = 5


# -- the URI ---------------------------------------------------------------------------


class PgLocation:
    """A PostgreSQL URI given as the store. str() is the masked URI (no password), so
    every message, document and log that prints the store prints it safely."""

    is_postgres = True

    def __init__(self, uri: str):
        self.uri = uri
        self.masked = mask(uri)

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"PgLocation({self.masked!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, PgLocation) and other.uri == self.uri

    def __hash__(self) -> int:
        return hash(self.uri)


def location(text: str):
    """A PgLocation for a postgresql:// or postgres:// URI, None for anything that is
    not a URI (a file path); any other scheme is a usage error."""
    found = _SCHEME.match(text)
    if found is None:
        return None
    scheme = found[1].lower()
    if scheme not in SCHEMES:
        raise UsageError(
            f"--db: unsupported store '{mask(text)}' (use a file path or a postgresql:// URI)"
        )
    return PgLocation(text)


_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*://)([^@/?#]*)@")
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&#]*", re.IGNORECASE)


def mask(uri: str) -> str:
    """The URI with any password (user:PASSWORD@ or ?password=) replaced by ***."""

    def userinfo(found):
        user, colon, _ = found[2].partition(":")
        return f"{found[1]}{user}{':***' if colon else ''}@"

    return _QUERY_PASSWORD.sub(r"\1***", _USERINFO.sub(userinfo, uri, count=1))


def _passwords(uri: str) -> list[str]:
    """Password texts that must never appear in a message, raw or percent-decoded."""
    from urllib.parse import unquote

    found = []
    head = _USERINFO.match(uri)
    if head and ":" in head[2]:
        found.append(head[2].partition(":")[2])
    found += [m[0].split("=", 1)[1] for m in _QUERY_PASSWORD.finditer(uri)]
    if os.environ.get("PGPASSWORD"):
        found.append(os.environ["PGPASSWORD"])
    return [p for text in found if text for p in {text, unquote(text)}]


# -- SQL translation -------------------------------------------------------------------

_PARTS = re.compile(r"('(?:[^']|'')*'|\"[^\"]*\")")
_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_IS_NOT = re.compile(r"\bIS\s+NOT\s+(?!NULL\b|DISTINCT\b|TRUE\b|FALSE\b)", re.IGNORECASE)
_IS = re.compile(r"\bIS\s+(?!NOT\b|NULL\b|DISTINCT\b|TRUE\b|FALSE\b)", re.IGNORECASE)
_INDEXED_BY = re.compile(r"\bINDEXED\s+BY\s+\w+", re.IGNORECASE)
_OR_IGNORE = re.compile(r"^\s*INSERT\s+OR\s+IGNORE\s+INTO\b", re.IGNORECASE)
_ORDER_BY = re.compile(r"\bORDER\s+BY\b", re.IGNORECASE)
_FUNCTION = re.compile(r"\b(max|min|group_concat)\s*\(", re.IGNORECASE)
_CLAUSE_END = re.compile(r"\b(LIMIT|OFFSET|FOR|UNION|EXCEPT|INTERSECT)\b", re.IGNORECASE)
# The report's "priority IN (SELECT priority FROM stored)" (store/report_queries.py: the
# few priorities, for a skip scan of cases_report): PostgreSQL plans an IN (subquery) as
# a join and reads the whole index; given the priorities as an array it seeks each
# one's range of the index, 4-5x faster at a million cases.
_PRIORITY_IN = re.compile(r"\bIN\s*\(\s*SELECT\s+priority\s+FROM\s+stored\s*\)", re.IGNORECASE)
_CACHE: dict[tuple[str, bool], str] = {}


def translate(sql: str, named: bool = False) -> str:
    """SQLite's spelling of a statement as PostgreSQL's, for the differences that are
    mechanical: `?`/`:name` parameters, `%` (the driver's marker), IS [NOT] between
    values, INSERT OR IGNORE, scalar max/min, group_concat, INDEXED BY (and the report's
    priority skip scan, _PRIORITY_IN), and NULLs sorting first in ascending order as
    SQLite sorts them. Quoted text is left alone."""
    key = (sql, named)
    done = _CACHE.get(key)
    if done is not None:
        return done
    ignore = _OR_IGNORE.match(sql) is not None
    if ignore:
        sql = _OR_IGNORE.sub("INSERT INTO", sql, count=1)
    pieces = _PARTS.split(sql)
    for i in range(0, len(pieces), 2):  # even pieces are outside quotes
        text = pieces[i].replace("%", "%%")
        text = _NAMED.sub(r"%(\1)s", text) if named else text.replace("?", "%s")
        text = _IS_NOT.sub("IS DISTINCT FROM ", text)
        text = _IS.sub("IS NOT DISTINCT FROM ", text)
        text = _PRIORITY_IN.sub("= ANY(ARRAY(SELECT priority FROM stored))", text)
        pieces[i] = _INDEXED_BY.sub("", text)
    out = _functions("".join(pieces))
    out = _nulls_first(out)
    if ignore:
        out = out.rstrip().rstrip(";") + " ON CONFLICT DO NOTHING"
    if len(_CACHE) < 4096:
        _CACHE[key] = out
    return out


def _close(sql: str, start: int) -> int:
    """The index of the parenthesis closing the one before `start` (quotes skipped)."""
    depth, i, quote = 1, start, None
    while i < len(sql):
        ch = sql[i]
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return len(sql)


def _split_top(text: str, sep: str = ",") -> list[str]:
    parts, depth, quote, last = [], 0, None, 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[last:i])
            last = i + 1
    parts.append(text[last:])
    return parts


def _functions(sql: str) -> str:
    """max(a, b) -> GREATEST(a, b), min(a, b) -> LEAST(a, b) (SQLite's scalar forms;
    one argument stays the aggregate), group_concat(x[, sep]) -> string_agg(text, sep)."""
    out, pos = [], 0
    for found in _FUNCTION.finditer(sql):
        if found.start() < pos:
            continue
        end = _close(sql, found.end())
        inner = _functions(sql[found.end() : end])
        args = _split_top(inner)
        name = found[1].lower()
        if name == "group_concat":
            sep = args[1].strip() if len(args) > 1 else "','"
            replacement = f"string_agg(CAST({args[0].strip()} AS TEXT), {sep})"
        elif len(args) > 1:
            replacement = f"{'GREATEST' if name == 'max' else 'LEAST'}({inner})"
        else:
            replacement = f"{found[1]}({inner})"
        out.append(sql[pos : found.start()])
        out.append(replacement)
        pos = end + 1
    out.append(sql[pos:])
    return "".join(out)


def _nulls_first(sql: str) -> str:
    """Each ORDER BY key gets SQLite's NULL placement: first ascending, last descending."""
    if not _ORDER_BY.search(sql):
        return sql
    out, pos = [], 0
    for found in _ORDER_BY.finditer(sql):
        if found.start() < pos:
            continue
        start = found.end()
        depth, i, quote, stop = 0, start, None, len(sql)
        while i < len(sql):
            ch = sql[i]
            if quote:
                if ch == quote:
                    quote = None
            elif ch in "'\"":
                quote = ch
            elif ch == "(":
                depth += 1
            elif ch == ")":
                if depth == 0:
                    stop = i
                    break
                depth -= 1
            elif depth == 0 and ch == ";":
                stop = i
                break
            elif (
                depth == 0
                and ch.isalpha()
                and (i == 0 or not (sql[i - 1].isalnum() or sql[i - 1] == "_"))
            ):
                end_word = _CLAUSE_END.match(sql, i)
                if end_word:
                    stop = i
                    break
            i += 1
        keys = []
        for term in _split_top(sql[start:stop]):
            bare = term.strip()
            upper = bare.upper()
            if not bare or "NULLS" in upper.split():
                keys.append(term)
            elif upper.endswith(" DESC"):
                keys.append(f" {bare} NULLS LAST")
            else:
                keys.append(f" {bare} NULLS FIRST")
        tail = " " if stop < len(sql) and sql[stop] not in ");" else ""
        out.append(sql[pos:start])
        out.append(",".join(keys) + tail)
        pos = stop
    out.append(sql[pos:])
    return "".join(out)


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

    def close(self) -> None:
        self._queue.clear()
        self.raw.close()


def _nul(err: ValueError) -> Exception:
    """The driver refuses text holding NUL before it is sent (PostgreSQL's text cannot
    hold U+0000): a bad value (exit 2), for input no earlier check named."""
    if "NUL" not in str(err):
        return err
    return UsageError(
        "text holding a NUL character (\\x00) cannot be stored: PostgreSQL text cannot hold it"
    )


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
    options: dict[str, object] = {
        "application_name": "esc",
        "options": f"-c lock_timeout={BUSY_TIMEOUT_MS} -c TimeZone=UTC -c jit=off",
    }
    if "connect_timeout" not in where.uri:
        options["connect_timeout"] = 10
    try:
        raw = psycopg2.connect(where.uri, **options)
    except psycopg2.Error as err:
        raise connect_error(where, err) from None
    raw.autocommit = True
    return PgConnection(raw, where)


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
    if "ssl" in lower or "no encryption" in lower:
        return StoreError(
            f"cannot open {at}: the server requires SSL or refused it",
            hint="set sslmode in the URI (e.g. ?sslmode=require)",
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
            tables = self.conn.execute(
                "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema()"
            ).fetchone()[0]
            if tables:
                raise StoreError(
                    f"{self.path.masked} is not an esc store (its schema holds "
                    "tables esc did not make)",
                    hint="point --db or ESC_DB at an esc store or an empty database",
                )
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
        from esc_cli.store.migrations import SCHEMA_VERSION, migrate_postgres

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
        """One snapshot, one connection: PostgreSQL runs a report's queries fast enough
        on one (store.db.Store.read_pair splits them on SQLite)."""
        with self.read() as conn:
            yield conn, None

    def retrying(self, work):
        return retrying(work)

    def copy_into(self, copy) -> None:
        """The whole store, as one REPEATABLE READ snapshot, into the empty SQLite
        database `copy` as an esc SQLite store (esc backup: the laptop copy). The
        SQLite schema is made by the same migrations; rows are streamed table by table.
        Events go in before their cases, as an import's do: the event triggers then
        find no case, and each case row carries its count and is indexed for search
        with its notes as it goes in."""
        from esc_cli.store.db import APPLICATION_ID, Store

        lite = Store(None, copy)  # type: ignore[arg-type]  # no file: write() only needs the conn
        with lite.write():
            from esc_cli.store.migrations import migrate

            migrate(copy)
            copy.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        tables = (
            ("policy_versions", "id"),
            ("owners", "handle"),
            ("events", "id"),
            ("cases", "id"),
            ("notifications", "rowid"),
            ("deliveries", "notification_id, channel"),
            ("resolution_cycles", "case_id, cycle"),
            ("routing_state", "scope"),
        )
        with self.read():
            with lite.write():
                for table, order in tables:
                    columns = [row[1] for row in copy.execute(f"PRAGMA table_info({table})")]
                    if table == "notifications":
                        columns.append("rowid")  # the order they were written in
                    names = ", ".join(columns)
                    insert = (
                        f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' for _ in columns)})"
                    )
                    # a server-side cursor: a million events never sit in memory at once
                    self.conn.execute(
                        f"DECLARE esc_backup NO SCROLL CURSOR FOR "
                        f"SELECT {names} FROM {table} ORDER BY {order}"
                    )
                    while True:
                        chunk = self.conn.execute("FETCH 5000 FROM esc_backup").fetchall()
                        if not chunk:
                            break
                        copy.executemany(insert, chunk)
                    self.conn.execute("CLOSE esc_backup")

    def tune_for_sweep(self) -> None:
        pass  # nothing to tune: PostgreSQL's savepoints need no setting

    def close(self) -> None:
        try:
            self.conn.close()
        except self.errors:
            pass
