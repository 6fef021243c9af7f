"""A private PostgreSQL for one test run, and the databases each test gets from it.

The test session (tests/conftest.py) calls `server(run_dir)` the first time a test needs
PostgreSQL. Unless ESC_TEST_PG names a server, that starts this module as a supervisor
process (`python -m tests.pgserver serve RUN_DIR OWNER_PID`) which:

- finds Debian's binaries (/usr/lib/postgresql/N/bin; `.ci/postgres` installs them),
- runs `initdb` as a non-root user (as root: `postgres`, created if missing) into a
  fresh temporary directory, C collation (byte order, as SQLite compares text),
- starts the server on 127.0.0.1 at a free port (and a unix socket in that directory)
  with fsync, full-page writes and synchronous commit off: the data dies with the run,
- writes `server.json` ({"uri": ..., "pid": ...}) in RUN_DIR, or `error` saying why not,
- stops the server and removes the directory on SIGTERM (the session's end, even after a
  failure or Ctrl-C) or as soon as OWNER_PID is gone (a killed pytest leaves no server).

With pytest-xdist every worker shares the one server: RUN_DIR is made by the controller
and a file lock in it makes sure only the first process to ask starts it.

Administration (creating and dropping databases) goes through psycopg2 (the test
extra), one kept connection per process to the admin database.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

SERVER_USER = "postgres"
SUPERUSER = "esc"
START_TIMEOUT = 60.0
# A throwaway cluster: durability buys nothing here and costs most of the write time.
SETTINGS = ("fsync=off", "full_page_writes=off", "synchronous_commit=off",
            "max_connections=200", "shared_buffers=64MB")


class Unavailable(Exception):
    """No PostgreSQL binaries and no ESC_TEST_PG: outside CI the PostgreSQL tests skip."""


class Failed(Exception):
    """A server should have started but did not (always a test failure)."""


def bin_dir() -> Path | None:
    """Debian's newest PostgreSQL binaries, or whatever `initdb` is on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def psql_path() -> str:
    directory = bin_dir()
    if directory and (directory / "psql").exists():
        return str(directory / "psql")
    found = shutil.which("psql")
    if not found:
        raise Failed("psql not found: install PostgreSQL's client (apt-get install postgresql-client)")
    return found


def with_database(uri: str, name: str) -> str:
    """The same server and credentials, another database."""
    parts = urlsplit(uri)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def with_netloc(uri: str, user: str | None = None, password: str | None = None,
                 port: int | None = None) -> str:
    """`uri` with its user, password or port changed (the host kept)."""
    parts = urlsplit(uri)
    user = user if user is not None else (parts.username or "")
    host = parts.hostname or ""
    netloc = (f"{user}:{password}@" if password else f"{user}@" if user else "") + host
    if port or parts.port:
        netloc += f":{port or parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


_admin: dict[str, object] = {}


def psql(uri: str, sql: str, timeout: float = 60, keep: bool = False) -> str:
    """Run SQL (autocommit) and return the rows as psql -A -t prints them; raises Failed
    with the server's message. `keep`: reuse one connection per URI in this process (the
    admin database, where every test creates and drops its own: ~0.1 s a test saved)."""
    import psycopg2

    conn = _admin.get(uri) if keep else None
    if conn is None or conn.closed:
        try:
            conn = psycopg2.connect(uri, connect_timeout=int(timeout))
        except psycopg2.Error as exc:
            raise Failed(f"cannot connect to {uri}: {str(exc).strip()}") from None
        conn.autocommit = True
        if keep:
            _admin[uri] = conn
    try:
        with conn.cursor() as cur:
            cur.execute(f"SET statement_timeout = {int(timeout * 1000)}")
            cur.execute(sql)
            rows = cur.fetchall() if cur.description else []
    except psycopg2.Error as exc:
        raise Failed(f"{sql!r} failed: {str(exc).strip()}") from None
    finally:
        if not keep:
            conn.close()
    return "\n".join("|".join("" if v is None else str(v) for v in row) for row in rows)


# --- the supervisor (runs in its own process) -------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_server_user() -> list[str]:
    """initdb refuses root: run the server as `postgres`, creating that user if need be."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        SERVER_USER], check=True, capture_output=True)
    return ["runuser", "-u", SERVER_USER, "--"]


def _run(cmd: list[str], cwd: Path, what: str) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=START_TIMEOUT)
    if proc.returncode:
        raise Failed(f"{what} failed ({proc.returncode}): {(proc.stderr or proc.stdout).strip()[-800:]}")


class Cluster:
    """One initdb'd directory and its server (`settings`: the -c options; the benchmarks
    keep durability on)."""

    def __init__(self, binaries: Path, settings: tuple[str, ...] = SETTINGS):
        self.bin = binaries
        self.settings = settings
        self.prefix = _as_server_user()
        # short path: a unix socket's path must stay under ~100 bytes
        self.home = Path(tempfile.mkdtemp(prefix="esc-pg-", dir="/tmp"))
        self.data = self.home / "data"
        self.log = self.home / "server.log"
        self.port = 0
        if self.prefix:
            entry = pwd.getpwnam(SERVER_USER)
            os.chown(self.home, entry.pw_uid, entry.pw_gid)

    def start(self) -> str:
        _run([*self.prefix, str(self.bin / "initdb"), "--no-sync", "--auth=trust",
              f"--username={SUPERUSER}", "--encoding=UTF8", "--locale=C", "-D", str(self.data)],
             self.home, "initdb")
        for attempt in range(5):
            # another process may take the port between our probe and the server's bind
            self.port = _free_port()
            options = " ".join(f"-c {s}" for s in (*self.settings, f"port={self.port}",
                                                    "listen_addresses=127.0.0.1",
                                                    f"unix_socket_directories={self.home}"))
            proc = subprocess.run([*self.prefix, str(self.bin / "pg_ctl"), "start", "-w", "-s",
                                   "-t", str(int(START_TIMEOUT)), "-D", str(self.data),
                                   "-l", str(self.log), "-o", options],
                                  cwd=self.home, capture_output=True, text=True)
            if proc.returncode == 0:
                return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/postgres"
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            if "could not bind" not in log or attempt == 4:
                raise Failed(f"pg_ctl start failed: {(proc.stderr.strip() + ' ' + log[-800:]).strip()}")
        raise AssertionError("unreachable")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run([*self.prefix, str(self.bin / "pg_ctl"), "stop", "-s", "-m", "immediate",
                            "-D", str(self.data)], cwd=self.home, capture_output=True, timeout=60)
        shutil.rmtree(self.home, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def serve(run_dir: Path, owner: int) -> int:
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(1))
    binaries = bin_dir()
    if binaries is None:
        (run_dir / "error").write_text("no PostgreSQL binaries (initdb) found")
        return 1
    cluster = Cluster(binaries)
    try:
        try:
            uri = cluster.start()
        except Exception as exc:  # any failure goes to the tests as their error message
            (run_dir / "error").write_text(f"{exc}")
            return 1
        tmp = run_dir / "server.json.tmp"
        tmp.write_text(json.dumps({"uri": uri, "pid": os.getpid(), "home": str(cluster.home),
                                   "private": True}))
        tmp.rename(run_dir / "server.json")
        while not stopping and _alive(owner):
            time.sleep(0.5)
        return 0
    finally:
        cluster.stop()


# --- what the test session calls ------------------------------------------------------

@contextlib.contextmanager
def _locked(run_dir: Path):
    with open(run_dir / "lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def server(run_dir: Path, owner: int) -> dict:
    """This run's server: ESC_TEST_PG if set, else the private one (started on first call)."""
    external = os.environ.get("ESC_TEST_PG")
    if external:
        return {"uri": external, "private": False}
    info, error = run_dir / "server.json", run_dir / "error"
    with _locked(run_dir):
        if not info.exists() and not error.exists():
            if bin_dir() is None:
                raise Unavailable("no PostgreSQL server: ESC_TEST_PG is not set and no PostgreSQL "
                                  "binaries are installed (run .ci/postgres as root, or "
                                  "apt-get install postgresql)")
            subprocess.Popen([sys.executable, "-m", "tests.pgserver", "serve", str(run_dir), str(owner)],
                             cwd=Path(__file__).resolve().parent.parent, start_new_session=True,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=open(run_dir / "supervisor.log", "a"))
            deadline = time.monotonic() + START_TIMEOUT
            while not info.exists() and not error.exists():
                if time.monotonic() > deadline:
                    raise Failed(f"the private PostgreSQL did not start in {START_TIMEOUT:.0f} s "
                                 f"(see {run_dir / 'supervisor.log'})")
                time.sleep(0.05)
    if error.exists():
        raise Failed(f"the private PostgreSQL could not start: {error.read_text().strip()}")
    return json.loads(info.read_text())


def template(run_dir: Path, admin_uri: str, name: str, build) -> None:
    """Create database `name` once per run (the first caller builds it, under the lock),
    then mark it a template so CREATE DATABASE … TEMPLATE copies it."""
    done = run_dir / f"template-{name}"
    with _locked(run_dir):
        if done.exists():
            return
        psql(admin_uri, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', keep=True)
        psql(admin_uri, f'CREATE DATABASE "{name}" TEMPLATE template0', keep=True)
        build(with_database(admin_uri, name))
        psql(admin_uri, f"ALTER DATABASE \"{name}\" WITH IS_TEMPLATE true", keep=True)
        done.write_text(name)


def clone(admin_uri: str, template_name: str, name: str) -> str:
    psql(admin_uri, f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"', keep=True)
    return with_database(admin_uri, name)


def drop(admin_uri: str, name: str) -> None:
    psql(admin_uri, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', keep=True)


def finish(run_dir: Path) -> None:
    """The session's end: stop the private server, drop the templates made on an external
    one, and remove the run directory."""
    info = run_dir / "server.json"
    if info.exists():
        pid = json.loads(info.read_text())["pid"]
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while _alive(pid) and time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.05)
    elif os.environ.get("ESC_TEST_PG"):
        for marker in run_dir.glob("template-*"):
            with contextlib.suppress(Exception):
                psql(os.environ["ESC_TEST_PG"], f'ALTER DATABASE "{marker.read_text()}" WITH IS_TEMPLATE false')
                drop(os.environ["ESC_TEST_PG"], marker.read_text())
    shutil.rmtree(run_dir, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        sys.exit(serve(Path(sys.argv[2]), int(sys.argv[3])))
    sys.exit("usage: python -m tests.pgserver serve RUN_DIR OWNER_PID")
