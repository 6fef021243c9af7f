"""A PostgreSQL server for the tests of the PostgreSQL store (tests/test_pg_*.py).

`ESC_TEST_PG` (a URI whose user may CREATE DATABASE) names a server to use; without
it a private server is started for the session: initdb into a temporary directory,
a unix socket only, fsync off, stopped at the end. No binaries or driver: the tests
skip, unless CI is set, where they fail (the store must be tested there).

Each test gets a database of its own, copied from a template (CREATE DATABASE ...
TEMPLATE) that `esc init` made once, so a test starts from an initialised store in
milliseconds.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest

PG_BIN = Path(os.environ.get("ESC_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
_counter = itertools.count()


def unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL tests cannot run: {reason} (CI is set: they must)")
    pytest.skip(f"PostgreSQL tests need a server: {reason}")


class Server:
    """A server reachable as `base` (a URI without a database name part), able to
    create databases."""

    def __init__(self, base: str, query: str, stop=None):
        self.base = base
        self.query = query
        self._stop = stop

    def uri(self, database: str) -> str:
        return f"{self.base}/{database}{self.query}"

    def admin(self, *statements: str) -> None:
        import psycopg2

        conn = psycopg2.connect(self.uri("postgres"))
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                for statement in statements:
                    cur.execute(statement)
        finally:
            conn.close()

    def fresh(self, template: str | None = None) -> str:
        name = f"esc_t{os.getpid()}_{next(_counter)}"
        clause = f" TEMPLATE {template}" if template else ""
        self.admin(f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}{clause}")
        return self.uri(name)

    def stop(self) -> None:
        if self._stop is not None:
            self._stop()


def _start_private(root: Path) -> Server:
    if not (PG_BIN / "initdb").exists():
        unavailable(f"no PostgreSQL binaries in {PG_BIN}")
    data, sock = root / "data", root / "sock"
    sock.mkdir(parents=True)
    sock.chmod(0o777)
    root.chmod(0o777)
    prefix: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the server as the postgres user
        prefix = ["runuser", "-u", "postgres", "--"]
    port = 20000 + os.getpid() % 20000
    subprocess.run([*prefix, str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust",
                    "-U", "postgres", "--no-sync"], check=True, capture_output=True)
    options = (f"-k {sock} -p {port} -c fsync=off -c synchronous_commit=off "
               "-c full_page_writes=off -c listen_addresses='' -c max_connections=200")
    subprocess.run([*prefix, str(PG_BIN / "pg_ctl"), "-D", str(data), "-l",
                    str(root / "log"), "-o", options, "-w", "start"],
                   check=True, capture_output=True)

    def stop():
        subprocess.run([*prefix, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)

    return Server("postgresql://", f"?host={quote(str(sock))}&port={port}&user=postgres", stop)


def start(root: Path) -> Server:
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        unavailable("the driver is not installed (pip install -e '.[postgres]')")
    given = os.environ.get("ESC_TEST_PG")
    if given:
        from urllib.parse import urlsplit

        parts = urlsplit(given)
        base = f"{parts.scheme}://{parts.netloc}"
        return Server(base, f"?{parts.query}" if parts.query else "")
    return _start_private(root)


def wait_ready(server: Server, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            server.admin("SELECT 1")
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def esc_process(*args: str, db: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """The installed esc as a process against `db`."""
    esc = str(Path(sys.executable).with_name("esc"))
    full = {k: v for k, v in os.environ.items() if not k.startswith("ESC_")}
    full.update({"ESC_DB": db, "ESC_TZ": "UTC"}, **(env or {}))
    return subprocess.run([esc, *args], capture_output=True, text=True, env=full, timeout=120)


# -- fixtures (import them into a test module: from tests.pg_support import ...) --------

@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    import tempfile

    # not under pytest's tmp dir: the server may run as another user (postgres) who
    # must reach it
    server = start(Path(tempfile.mkdtemp(prefix="esc-pg-")))
    try:
        wait_ready(server)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_template(pg_server):
    """A database `esc init` made, copied for each test that wants an initialised store."""
    from tests.conftest import EscRunner

    name = f"esc_template_{os.getpid()}"
    pg_server.admin(f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}")
    EscRunner(pg_server.uri(name)).ok("init")
    return name


@pytest.fixture
def pg_uri(pg_server) -> str:
    """An empty database of this test's own."""
    return pg_server.fresh()


@pytest.fixture
def esc_pg(pg_server, pg_template):
    """An EscRunner on an initialised PostgreSQL store of this test's own."""
    from tests.conftest import EscRunner

    return EscRunner(pg_server.fresh(pg_template))
