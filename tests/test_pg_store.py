"""The PostgreSQL store: choosing it, refusing what it cannot open, and the same
commands giving the same answers as on SQLite."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests import pgserver
from tests.conftest import EscRunner


@pytest.fixture
def esc_pg(pg_store) -> EscRunner:
    """An EscRunner on an initialised PostgreSQL store of this test's own."""
    return EscRunner(pg_store)


def test_init_creates_the_schema_on_an_empty_database(pg_database):
    esc = EscRunner(pg_database)
    result = esc.ok("init")
    assert "initialised" in result.out
    again = esc.ok("init")
    assert "initialised" not in again.out or again.out != result.out
    assert esc.ok("open", "Printer on fire", "-c", "acme", "-p", "high").out.strip() == "1"
    assert esc.doc("show", "1")["title"] == "Printer on fire"


def test_a_database_holding_foreign_tables_is_refused(pg_database):
    import psycopg2

    conn = psycopg2.connect(pg_database)
    conn.autocommit = True
    conn.cursor().execute("CREATE TABLE invoices (id int)")
    conn.close()
    result = EscRunner(pg_database)("init")
    assert result.code == 5
    assert "not an esc store" in result.err
    assert "Traceback" not in result.err


def test_doctor_reports_a_database_that_is_no_esc_store_and_an_unreachable_server_is_one_line(pg_database):
    import psycopg2

    empty = EscRunner(pg_database)("doctor", "--json")
    assert empty.code == 5 and empty.err.startswith("error:")
    schema = {c["name"]: c for c in empty.json()["checks"]}["schema"]
    assert schema["ok"] is False and "esc init" in schema["detail"]
    conn = psycopg2.connect(pg_database)
    conn.autocommit = True
    conn.cursor().execute("CREATE TABLE invoices (id int)")
    conn.close()
    foreign = EscRunner(pg_database)("doctor", "--json")
    assert foreign.code == 5 and "Traceback" not in foreign.err
    schema = {c["name"]: c for c in foreign.json()["checks"]}["schema"]
    assert schema["ok"] is False and "not an esc store" in schema["detail"]
    gone = EscRunner(pgserver.with_netloc(pg_database, port=1))("doctor", "--json")
    assert (gone.code, gone.out) == (5, "") and len(gone.err.splitlines()) == 1


def test_other_schemes_are_a_usage_error(tmp_path):
    result = EscRunner("mysql://u:hunter2@db/esc")("queue")
    assert result.code == 2
    assert "postgresql://" in result.err
    assert "hunter2" not in result.err


def test_a_newer_schema_is_refused(esc_pg):
    import psycopg2

    conn = psycopg2.connect(str(esc_pg.db))
    conn.autocommit = True
    conn.cursor().execute("UPDATE esc_store SET version = version + 1")
    conn.close()
    result = esc_pg("queue")
    assert result.code == 5
    assert "newer than this esc understands" in result.err


def test_connection_failures_are_one_line_exit_5_without_the_password(pg_server):
    refused = EscRunner("postgresql://bob:s3cret@127.0.0.1:1/esc")("queue")
    assert refused.code == 5
    assert "connection refused" in refused.err
    assert "s3cret" not in refused.err and "bob:***@" in refused.err
    missing = EscRunner(pgserver.with_database(pg_server["uri"], "no_such_db"))("queue")
    assert missing.code == 5
    assert "database no_such_db does not exist" in missing.err
    assert len(missing.err.strip().splitlines()) == 1


def test_ssl_either_way_is_named_with_what_to_do(pg_server):
    # the test server has no SSL: a URI that requires it is refused by the client (over
    # TCP, as the run's private server listens; a unix socket never uses SSL)
    server = urlsplit(pg_server["uri"])
    if server.hostname:
        uri = (f"postgresql://{server.username}:pw@{server.hostname}:{server.port}/postgres"
               "?sslmode=require")
        required = EscRunner(uri)("queue")
        assert required.code == 5 and len(required.err.strip().splitlines()) == 1
        assert "does not accept SSL, which the URI requires" in required.err
        assert "sslmode=prefer" in required.err and ":pw@" not in required.err
    # a server that only takes SSL refuses a plain connection in pg_hba.conf's words
    from esc_cli.store.pg_errors import connect_error
    from esc_cli.store.pg_location import location

    refused = connect_error(location("postgresql://esc:pw@db.example/support"), Exception(
        'FATAL:  no pg_hba.conf entry for host "10.0.0.7", user "esc", database "support", '
        "no encryption"))
    assert refused.message.endswith("pg_hba.conf lets no connection in for this host, user "
                                    "and database")
    assert "sslmode=require" in refused.hint and "pw" not in refused.message
    # a URI that already asks for SSL is not told to; other SSL failures are named as
    # they are, not as "the server requires SSL" (the hint would weaken verify-full)
    secure = location("postgresql://esc:pw@db.example/support?sslmode=verify-full")
    rejected = connect_error(secure, Exception(
        'FATAL:  pg_hba.conf rejects connection for host "10.0.0.7", user "esc", database '
        '"support", SSL encryption'))
    assert "pg_hba.conf" in rejected.message and "sslmode" not in rejected.hint
    unverified = connect_error(secure, Exception("SSL error: certificate verify failed"))
    assert "certificate could not be verified (SSL error: certificate verify failed)" in \
        unverified.message and "sslrootcert" in unverified.hint
    bad = connect_error(location("postgresql://esc@db.example/x?sslmode=bogus"),
                        Exception('invalid sslmode value: "bogus"'))
    assert bad.exit_code == 2 and bad.message.endswith('invalid sslmode value: "bogus"')


def test_a_bad_uri_value_is_exit_2_and_the_scheme_any_case(pg_server):
    bogus = EscRunner(pg_server["uri"] + "?sslmode=bogus")("queue")
    assert bogus.code == 2 and bogus.err.startswith("error: --db: the PostgreSQL URI is not valid")
    upper = EscRunner("PostgreSQL" + pg_server["uri"][len("postgresql"):])("queue")
    assert upper.code == 5 and "is not initialised" in upper.err  # libpq read it


def test_the_demo_never_takes_a_uri(tmp_path):
    from tests.conftest import run_process

    demo = run_process("demo", "--into", "postgresql://u:Sup3rSecret@127.0.0.1:1/x")
    assert demo.code == 2 and "not a URI" in demo.err and "Sup3rSecret" not in demo.err


def test_an_uninitialised_database_says_run_init(pg_database):
    result = EscRunner(pg_database)("queue")
    assert result.code == 5
    assert "esc init" in result.err


def test_the_write_path_and_reads(esc_pg):
    esc_pg.ok("open", "Printer on fire", "-c", "acme", "-p", "high", "-d", "smoke")
    esc_pg.ok("open", "Login broken", "-c", "globex", "-p", "urgent")
    esc_pg.ok("ack", "1")
    esc_pg.ok("note", "1", "called the customer")
    shown = esc_pg.doc("show", "1")
    assert [e["kind"] for e in shown["events"]] == ["opened", "acknowledged", "note"]
    assert [c["id"] for c in esc_pg.doc("queue")] == [2, 1]
    early = esc_pg("ack", "1", now="2026-11-01T00:00:00Z")
    assert early.code == 4


def test_doctor_checks_a_postgres_store_and_repairs_its_search_index(esc_pg):
    import psycopg2

    esc_pg.ok("open", "Printer on fire", "-c", "acme", "-p", "high")
    esc_pg.ok("note", "1", "toner everywhere")
    report = esc_pg.doc("doctor")
    assert report["ok"] is True
    assert [c["name"] for c in report["checks"]] == [
        "integrity", "schema", "indexes", "policy", "hash_chain", "due_times", "search_index",
        "notifications"]
    conn = psycopg2.connect(str(esc_pg.db))
    conn.autocommit = True
    conn.cursor().execute("UPDATE case_search SET tokens = tokens + 1")
    conn.cursor().execute("ALTER TABLE events DISABLE TRIGGER USER")
    conn.cursor().execute("UPDATE events SET reason = 'edited' WHERE kind = 'note'")
    conn.close()
    damaged = esc_pg("doctor", "--json")
    assert damaged.code == 5
    failed = {c["name"] for c in damaged.json()["checks"] if not c["ok"]}
    assert failed == {"hash_chain", "search_index"}
    repaired = esc_pg("doctor", "--repair", "--json").json()
    assert {c["name"] for c in repaired["checks"] if not c["ok"]} == {"hash_chain"}


def test_backup_of_a_postgres_store_is_an_esc_sqlite_store(esc_pg, tmp_path):
    esc_pg.ok("open", "Printer on fire", "-c", "acme", "-p", "high", "-d", "smoke")
    esc_pg.ok("note", "1", "toner everywhere")
    esc_pg.ok("escalate", "1", "--reason", "needs hardware")
    esc_pg.ok("open", "Login broken", "-c", "globex", "-p", "urgent")
    target = tmp_path / "laptop.db"
    made = esc_pg.doc("backup", str(target))
    events = sum(len(esc_pg.doc("show", case)["events"]) for case in ("1", "2"))
    assert (made["cases"], made["events"]) == (2, events)
    assert target.stat().st_mode & 0o777 == 0o600
    offline = EscRunner(target)
    assert offline.doc("doctor")["ok"] is True
    for command in (["export"], ["queue", "--json"], ["search", "toner", "--json"],
                    ["show", "1", "--json"]):
        assert offline.ok(*command).out == esc_pg.ok(*command).out, command
    # the copy is a store of its own: writes go on offline
    offline.ok("note", "1", "written on the plane")


def test_without_the_driver_a_postgres_uri_names_the_install_command(tmp_path):
    import subprocess
    import sys

    code = ("import sys; sys.modules['psycopg2'] = None\n"
            "from esc_cli.app import main\n"
            "main(['--db', 'postgresql://u:pw@localhost/esc', 'queue'])\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 5
    assert "pip install 'esc-cli[postgres]'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "pw" not in result.stderr


@pytest.mark.parametrize("uri, secrets", [
    # libpq ends the userinfo at the first @ before any /: # ? : need no encoding
    ("postgresql://u:abc#def?ghi@h:5/db", ["abc#def?ghi"]),
    ("postgresql://u:p@ss@h/db", ["p@ss"]),
    ("postgresql://u:pa/ssword@h:5/db", ["pa/ssword"]),  # libpq cannot read it; masked still
    ("postgresql://u:s%40cret@h/db", ["s%40cret"]),
    ("postgresql://u@h/db?password=pw99#x&sslmode=require", ["pw99#x"]),
    ("postgresql://u@h/db?sslpassword=KeyPass1", ["KeyPass1"]),
    ("postgresql://u@h/db?pass%77ord=Secret123", ["Secret123"]),  # a key libpq decodes
    ("postgres://u:Xa1@h/d?password=Yb2&sslpassword=Zc3", ["Xa1", "Yb2", "Zc3"]),
])
def test_every_password_form_libpq_reads_is_masked(uri, secrets):
    from esc_cli.store.pg_location import _passwords, mask

    shown = mask(uri)
    assert "***" in shown
    for secret in secrets:
        assert secret not in shown.replace("***", ""), shown
        assert secret in _passwords(uri)


@pytest.mark.parametrize("uri", [
    "postgresql://esc@127.0.0.1:55433/postgres", "postgresql:///db?host=/tmp/sock",
    "postgresql://me@host:5432/db?application_name=x@y", "postgresql://host:5432/db?user=a@b",
])
def test_a_uri_without_a_password_is_shown_as_it_is(uri):
    from esc_cli.store.pg_location import mask

    assert mask(uri) == uri


def test_a_password_with_libpq_s_own_characters_is_never_printed(pg_database):
    # `#` and `?` in a password need no encoding for libpq: the masking once stopped at
    # them and printed the whole URI (the test server trusts the connection)
    user = urlsplit(pg_database).username or "esc"
    raw = pg_database.replace(f"://{user}@", f"://{user}:abc#def?ghi@", 1)
    assert raw != pg_database
    esc = EscRunner(raw)
    for result in (esc("init"), esc("init", "--json"), esc("doctor", "--json"),
                   EscRunner(raw.replace("?ghi@", "?ghiX@").rsplit("/", 1)[0] + "/nosuch")("queue")):
        assert "abc#def" not in result.out + result.err and "ghi" not in result.out + result.err


def test_a_password_in_the_uri_is_never_printed(pg_database):
    # the private test server trusts local connections, so any password is accepted
    user = urlsplit(pg_database).username or "esc"
    with_password = pgserver.with_netloc(pg_database, user=user, password="Sup3rSecret")
    esc = EscRunner(with_password)
    made = esc.ok("init")
    report = esc("doctor", "--json")
    failing = EscRunner(pgserver.with_netloc(with_password, password="Sup3rSecret", port=1))("queue")
    for text in (made.out, made.err, report.out, report.err, failing.err):
        assert "Sup3rSecret" not in text
    assert f"{user}:***@" in made.out
    assert failing.code == 5 and f"{user}:***@" in failing.err


@pytest.mark.parametrize("version", [2, 14, 22, 26, 28, 29])
def test_an_older_postgres_store_upgrades_to_the_newest(pg_database, monkeypatch, version):
    # an older store runs every later migration's body on upgrade, in order: one that
    # calls a function a later migration makes (0027's esc_stemmed, in the search
    # documents 0022-0025 make) failed there, "function esc_stemmed(text) does not
    # exist", while a new store, made at the newest schema at once, never showed it
    from esc_cli.store import pg, pg_location, pg_migrations
    from esc_cli.store.migrations import SCHEMA_VERSION

    conn = pg.connect(pg_location.PgLocation(pg_database))
    conn.execute("BEGIN")
    with monkeypatch.context() as patch:
        patch.setattr(pg_migrations, "MIGRATIONS", pg_migrations.MIGRATIONS[:version])
        patch.setattr(pg_migrations, "SCHEMA_VERSION", version)
        pg_migrations.migrate_postgres(conn, 0)
    # functions made by migrations after `version` did not exist in such a store
    if version < 27:
        conn.execute("DROP FUNCTION esc_stemmed(text), esc_kept(text)")
    conn.execute("DROP FUNCTION esc_heads(text, text, text), esc_head(text, bigint)")  # 0030's
    conn.execute("COMMIT")
    conn.close()
    esc = EscRunner(pg_database)
    upgraded = esc("queue")  # the upgrade, then the want of a policy init would write
    assert upgraded.err == "error: the store has no policy (run esc doctor)\n", upgraded.err
    from esc_cli.domain.policy import DEFAULT_POLICY_TOML
    from esc_cli.store import policies

    conn = pg.connect(pg_location.PgLocation(pg_database))
    policies.add(conn, DEFAULT_POLICY_TOML, 0, "test")  # what init writes after the schema
    conn.close()
    esc.ok("open", "Usage report is wrong", "-c", "acme", "-p", "high")
    checks = {check["name"]: check for check in esc.doc("doctor", "--json")["checks"]}
    assert checks["schema"]["detail"] == f"schema version {SCHEMA_VERSION} of {SCHEMA_VERSION}"
    assert [c["id"] for c in esc.doc("search", "us*")] == [1]
    assert [c["id"] for c in esc.doc("search", "is")] == [1]
    # 0030: words folded whatever the database's LC_CTYPE (this server's is C)
    esc.ok("open", "Ошибка входа в Личный кабинет", "-c", "acme", "-p", "low")
    assert [c["id"] for c in esc.doc("search", "ошибка")] == [2]
    assert all(check["ok"] for check in esc.doc("doctor", "--json")["checks"])


def test_the_uri_s_options_and_pgoptions_reach_the_server(pg_database, monkeypatch):
    # libpq conventions hold: a search_path in the URI's `options` (a schema of esc's own
    # beside another app's tables) or in PGOPTIONS. esc's own options replaced them, so
    # init refused the database for the other app's table in public.
    import psycopg2

    conn = psycopg2.connect(pg_database)
    conn.autocommit = True
    conn.cursor().execute("CREATE TABLE invoices (id int); CREATE SCHEMA desk")
    separator = "&" if "?" in pg_database else "?"
    in_desk = f"{pg_database}{separator}options=-csearch_path%3Ddesk"
    EscRunner(in_desk).ok("init")
    EscRunner(in_desk).ok("open", "Printer on fire", "-c", "acme", "-p", "high")
    cur = conn.cursor()
    cur.execute("SELECT count(*) FROM desk.cases")
    assert cur.fetchone()[0] == 1
    cur.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
    assert cur.fetchone()[0] == 1  # invoices alone
    monkeypatch.setenv("PGOPTIONS", "-c search_path=desk")
    assert EscRunner(pg_database).doc("show", "1")["title"] == "Printer on fire"
    monkeypatch.delenv("PGOPTIONS")
    assert EscRunner(pg_database)("show", "1").code == 5  # public: not an esc store
    conn.close()


def test_a_connection_value_libpq_cannot_read_is_a_usage_error(pg_database):
    separator = "&" if "?" in pg_database else "?"
    result = EscRunner(f"{pg_database}{separator}connect_timeout=abc")("queue")
    assert result.code == 2 and "connect_timeout" in result.err, result
