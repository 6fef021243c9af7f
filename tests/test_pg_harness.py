"""The PostgreSQL test harness itself: the run's server is up and reachable by URI, a
template clones into a fresh database per test, the `backend` parameter reaches both
stores, and the private server goes away when its owner does."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import psycopg2
import pytest

from tests import pgserver


def test_server_answers_over_its_uri(pg_server):
    version = pgserver.psql(pg_server["uri"], "SHOW server_version_num")
    assert int(version) >= 130000  # DROP DATABASE … WITH (FORCE) needs 13
    if pg_server["private"]:
        # a throwaway cluster: durability is off, text compares bytewise as in SQLite
        settings = pgserver.psql(pg_server["uri"], "SELECT current_setting('fsync') || ' ' || "
                                 "current_setting('full_page_writes') || ' ' || "
                                 "current_setting('synchronous_commit') || ' ' || datcollate "
                                 "FROM pg_database WHERE datname = current_database()")
        assert settings == "off off off C"


def test_psql_and_psycopg2_reach_the_server_by_tcp_and_by_unix_socket(pg_server, pg_database):
    psql = subprocess.run([pgserver.psql_path(), "-X", "-A", "-t", "-d", pg_database, "-c", "SELECT 6 * 7"],
                          capture_output=True, text=True, timeout=60)
    assert (psql.returncode, psql.stdout.strip()) == (0, "42"), psql.stderr
    with psycopg2.connect(pg_database) as conn, conn.cursor() as cur:
        cur.execute("SELECT current_database()")
        assert cur.fetchone()[0] == pg_database.rpartition("/")[2]
    conn.close()
    if not pg_server["private"]:
        return
    home = json.loads((Path(os.environ["ESC_TEST_PG_RUN"]) / "server.json").read_text())["home"]
    port = pg_server["uri"].rpartition(":")[2].partition("/")[0]
    socket_uri = f"postgresql://esc@{quote(home, safe='')}:{port}/{pg_database.rpartition('/')[2]}"
    with psycopg2.connect(socket_uri) as conn, conn.cursor() as cur:
        cur.execute("SELECT inet_server_addr() IS NULL")  # NULL over a unix socket
        assert cur.fetchone()[0] is True
    conn.close()


def test_a_template_clones_into_fresh_databases(pg_server, tmp_path):
    run_dir = Path(os.environ["ESC_TEST_PG_RUN"])
    name = f"probe_{os.getpid()}"

    def build(uri):
        pgserver.psql(uri, "CREATE TABLE probe (id INTEGER PRIMARY KEY, v TEXT); "
                           "INSERT INTO probe VALUES (1, 'from the template')")

    pgserver.template(run_dir, pg_server["uri"], name, build)
    pgserver.template(run_dir, pg_server["uri"], name, pytest.fail)  # built once per run
    try:
        first = pgserver.clone(pg_server["uri"], name, name + "_a")
        second = pgserver.clone(pg_server["uri"], name, name + "_b")
        pgserver.psql(first, "UPDATE probe SET v = 'changed in a'")
        assert pgserver.psql(first, "SELECT v FROM probe") == "changed in a"
        assert pgserver.psql(second, "SELECT v FROM probe") == "from the template"
    finally:
        for db in (name + "_a", name + "_b"):
            pgserver.drop(pg_server["uri"], db)
        pgserver.psql(pg_server["uri"], f'ALTER DATABASE "{name}" WITH IS_TEMPLATE false')
        pgserver.drop(pg_server["uri"], name)
    names = pgserver.psql(pg_server["uri"], f"SELECT count(*) FROM pg_database WHERE datname LIKE '{name}%'")
    assert names == "0"


def test_each_test_gets_its_own_database_and_it_is_dropped(pg_server):
    from tests.conftest import _fresh_database

    seen = []
    for _ in range(2):
        name, uri = _fresh_database(pg_server, "template0")
        seen.append(name)
        pgserver.psql(uri, "CREATE TABLE mine (x INTEGER)")
        pgserver.drop(pg_server["uri"], name)
    assert seen[0] != seen[1]
    left = pgserver.psql(pg_server["uri"], "SELECT count(*) FROM pg_database WHERE datname IN "
                         f"('{seen[0]}', '{seen[1]}')")
    assert left == "0"


def test_the_backend_parameter_reaches_both_stores(backend, request, tmp_path):
    if backend == "sqlite":
        assert request.node.callspec.params["backend"] == "sqlite"
        return
    uri = request.getfixturevalue("pg_database")
    assert uri.startswith("postgresql://")
    assert pgserver.psql(uri, "SELECT 1") == "1"


def test_the_private_server_stops_when_its_owner_dies(tmp_path):
    """A killed pytest must not leave a server behind: the supervisor watches its owner."""
    if pgserver.bin_dir() is None:
        if os.environ.get("CI"):
            pytest.fail("CI must test PostgreSQL: no binaries (run .ci/postgres as root)")
        pytest.skip("no PostgreSQL binaries to start a private server with")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        env_before = os.environ.pop("ESC_TEST_PG", None)
        try:
            info = pgserver.server(run_dir, owner.pid)
        finally:
            if env_before is not None:
                os.environ["ESC_TEST_PG"] = env_before
        assert pgserver.psql(info["uri"], "SELECT 1") == "1"
        home = Path(info["home"])
        assert home.exists()
        owner.send_signal(signal.SIGKILL)
        owner.wait()
        deadline = time.monotonic() + 30
        while home.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not home.exists(), "the data directory outlived its owner"
        with pytest.raises(pgserver.Failed):
            pgserver.psql(info["uri"], "SELECT 1", timeout=10)
    finally:
        owner.kill()
        owner.wait()


def test_without_binaries_or_a_uri_the_harness_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.delenv("ESC_TEST_PG", raising=False)
    monkeypatch.setattr(pgserver, "bin_dir", lambda: None)
    with pytest.raises(pgserver.Unavailable, match="ESC_TEST_PG is not set.*apt-get install postgresql"):
        pgserver.server(tmp_path, os.getpid())
    assert not (tmp_path / "server.json").exists()
