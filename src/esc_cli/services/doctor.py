"""`esc doctor`: every check of SPEC §5 on a store, and the repairs the history allows."""

from __future__ import annotations

import sqlite3

from esc_cli.errors import StoreError
from esc_cli.services.doctor_check import Check
from esc_cli.services.doctor_history import check_chains, check_due_times, repair_due_times


def doctor(env, repair: bool = False, progress=None) -> dict:
    """Every check of SPEC §5 on the store at env.db_path. Returns
    `{ok, checks: [{name, ok, detail, cases}]}` plus, for the views, the checks
    themselves under "_checks". Undelivered notifications are reported, never damage.

    With `repair`, what can be rebuilt from the history is: stored due times that
    disagree with a recomputation, and the search index. A broken hash chain cannot
    be repaired: the history is the evidence."""
    from esc_cli.store import integrity
    from esc_cli.store.db import APPLICATION_ID, Store, _connect
    from esc_cli.store.migrations import MIGRATION_SET, MIGRATIONS, SCHEMA_VERSION

    path = env.db_path
    if getattr(path, "is_postgres", False):
        return _doctor_postgres(env, repair, progress)
    if not path.exists():
        raise StoreError(f"no esc store at {path}", hint="run esc init")
    if path.is_dir():
        raise StoreError(f"{path} is a directory, not an esc store")
    progress = progress or (lambda *args: None)
    checks: list[Check] = []

    conn = _connect(path)
    store = None
    try:
        check = Check("integrity", summary="SQLite integrity check passed")
        checks.append(check)
        try:
            messages = integrity.integrity_messages(conn)
            application_id, version = integrity.identity(conn)
        except sqlite3.DatabaseError as err:
            check.summary = "the file cannot be read as a SQLite database"
            check.fail(None, str(err))
            check.hint = "point --db or ESC_DB at an esc store"
            checks.append(
                Check(
                    "schema",
                    ok=False,
                    summary="not an esc store",
                    hint="point --db or ESC_DB at an esc store",
                )
            )
            return _report(checks)
        if messages:
            check.summary = "SQLite found damage in the file"
            for message in messages:
                check.fail(None, " ".join(message.split())[:300])
            check.hint = (
                "restore the latest backup (esc backup FILE makes one), or "
                "recover what is left with: sqlite3 STORE .recover"
            )

        check = Check("schema")
        checks.append(check)
        if application_id == 0 and not integrity.has_tables(conn):
            check.summary = "the store is not initialised"
            check.fail(None, "the file is empty")
            check.hint = "run esc init"
            return _report(checks)
        if application_id != APPLICATION_ID:
            check.fail(None, f"{path} is not an esc store (application id {application_id:#x})")
            check.summary = "not an esc store"
            check.hint = "point --db or ESC_DB at an esc store"
            return _report(checks)
        if version > SCHEMA_VERSION:
            check.summary = (
                f"schema version {version} is newer than this esc understands ({SCHEMA_VERSION})"
            )
            check.fail(None, "written by a newer esc")
            check.hint = "upgrade esc"
            return _report(checks)
        if version == 0:
            check.summary = "the store is not initialised"
            check.fail(None, "no schema")
            check.hint = "run esc init"
            return _report(checks)
        upgraded = ""
        if version < SCHEMA_VERSION and check_ok(checks):
            conn.close()
            store = Store.open(path)  # every command upgrades an older store; so does doctor
            conn = store.conn
            upgraded = f" (upgraded from version {version})"
            version = SCHEMA_VERSION
        if store is None:
            store = Store(path, conn)
        applied = _guard(
            checks, "schema", lambda: integrity.applied_migrations(store.conn, MIGRATION_SET)
        )
        missing = [name for name, _ in MIGRATIONS[:version] if name not in (applied or [])]
        check.summary = f"schema version {version} of {SCHEMA_VERSION}{upgraded}"
        if missing and applied is not None:
            check.fail(None, "migrations not recorded: " + ", ".join(missing))
            check.hint = "restore the latest backup"
        if version < SCHEMA_VERSION:
            check.fail(None, f"version {version} was not upgraded: the file is damaged")
            check.hint = "restore the latest backup"

        return _store_checks(store, checks, repair, progress)
    finally:
        if store is not None:
            store.close()
        else:
            conn.close()


def _store_checks(store, checks: list[Check], repair: bool, progress) -> dict:
    """The checks of an identified store's contents, on either backend: indexes,
    policy, hash chains, due times, search index, notifications."""
    from esc_cli.store import integrity

    # first: --repair puts a missing index back before the reads that may name it
    _guard(checks, "indexes", lambda: _check_indexes(store, checks, repair))

    def contents(conn):
        totals = _guard(checks, "schema", lambda: integrity.counts(conn))
        bad = _guard(checks, "policy", lambda: _check_policy(conn, checks)) or []
        summaries = _guard(
            checks, "hash_chain", lambda: check_chains(conn, checks, totals, progress)
        )
        return _guard(
            checks,
            "due_times",
            lambda: check_due_times(conn, checks, totals, bad, summaries, progress),
        )

    searched = None  # the search check's problems, when read beside the others

    def read_checks():
        from esc_cli.store import search as fts

        nonlocal searched
        if not fts.index_check_reads(store.conn):
            with store.read() as conn:
                return contents(conn)
        # Where the search check is one query the server runs alone (PostgreSQL: ~40 s
        # at a million cases, the chains and due times ~40 s of esc's Python), it runs on
        # a second connection of the same snapshot: they take the time of the longer.
        from esc_cli.store.two_readers import both, captured

        with store.read_pair() as (conn, second):
            broken, searched = both(conn, second, contents, captured(fts.index_problems))
            return broken

    broken = _guard(checks, "integrity", read_checks)
    if repair:
        _guard(checks, "policy", lambda: _repair_policy_documents(store, checks))
    if repair and broken:
        _guard(checks, "due_times", lambda: repair_due_times(store, checks, broken))
    _guard(checks, "search_index", lambda: _check_search_index(store, checks, repair, searched))
    _guard(checks, "notifications", lambda: _check_notifications(store.conn, checks))
    return _report(checks)


def _doctor_postgres(env, repair: bool, progress) -> dict:
    """doctor on PostgreSQL: the server keeps its own files sound (no file check to
    run); a store that cannot be opened (unreachable, foreign, newer, uninitialised)
    is exit 5 as for every command; then the same checks as on SQLite."""
    from esc_cli.store import integrity
    from esc_cli.store.db import Store
    from esc_cli.store.migrations import MIGRATION_SET, MIGRATIONS, SCHEMA_VERSION

    progress = progress or (lambda *args: None)
    answered = "PostgreSQL answered (the server checks its own files)"
    try:
        store = Store.open(env.db_path)  # upgrades an older schema, as every command does
    except StoreError as err:
        # A database that answers but holds no esc store this esc can use (foreign
        # tables, a newer schema, none yet) is reported as such a SQLite file is; a
        # server that does not answer leaves nothing to report: exit 5 as for any command.
        if not _answers(env.db_path):
            raise
        return _report(
            [
                Check("integrity", summary=answered),
                Check("schema", ok=False, summary=err.message, hint=err.hint or ""),
            ]
        )
    try:
        checks = [Check("integrity", summary=answered)]
        check = Check("schema", summary=f"schema version {SCHEMA_VERSION} of {SCHEMA_VERSION}")
        checks.append(check)
        applied = _guard(
            checks, "schema", lambda: integrity.applied_migrations(store.conn, MIGRATION_SET)
        )
        missing = [name for name, _ in MIGRATIONS if name not in (applied or [])]
        if missing and applied is not None:
            check.fail(None, "migrations not recorded: " + ", ".join(missing))
            check.hint = "restore the latest backup"
        return _store_checks(store, checks, repair, progress)
    finally:
        store.close()


def _answers(where) -> bool:
    from esc_cli.store import pg

    try:
        pg.connect(where).close()
    except StoreError:
        return False
    return True


def check_ok(checks: list[Check]) -> bool:
    return all(c.ok for c in checks)


def _guard(checks: list[Check], name: str, work):
    """Run one check; a store too damaged to read fails that check instead of the run."""
    try:
        return work()
    except Exception as err:
        # PostgreSQL's driver errors met outside a transaction count as SQLite's do
        if not isinstance(err, (sqlite3.DatabaseError, StoreError)) and not type(
            err
        ).__module__.startswith("psycopg2"):
            raise
        check = next((c for c in checks if c.name == name), None)
        if check is None:
            check = Check(name)
            checks.append(check)
        check.summary = check.summary or "could not be checked"
        check.fail(None, f"could not be read: {err}")
        check.hint = "restore the latest backup (esc backup FILE makes one)"
        return None


def _report(checks: list[Check]) -> dict:
    return {"ok": check_ok(checks), "checks": [c.document() for c in checks], "_checks": checks}


def _check_policy(conn, checks: list[Check]) -> list[int]:
    from esc_cli.domain.policy import PolicyError, parse_policy
    from esc_cli.store import integrity, policies

    check = Check(
        "policy",
        hint=(
            "load a valid policy with esc policy load FILE.toml "
            "--recompute, which moves unresolved cases off a broken version"
        ),
    )
    checks.append(check)
    bad: list[int] = []
    total = 0
    for version_id, text, document in policies.documents(conn):
        total += 1
        if not isinstance(text, str):  # a damaged row reads back as NULL or a blob
            bad.append(version_id)
            check.fail(None, f"version {version_id} has no policy text")
            continue
        try:
            parse_policy(text)
        except (PolicyError, ValueError, TypeError) as err:
            bad.append(version_id)
            check.fail(None, f"version {version_id} does not parse: {err}")
            continue
        # every run reads the parsed copy, not the TOML: they must say the same
        if document != policies.encode_document(text):
            check.stale_documents.append(version_id)
            check.fail(None, f"version {version_id}: its parsed copy differs from its TOML")
    if check.stale_documents and not bad:
        check.hint = "run esc doctor --repair to parse the TOML again"
    if total == 0:
        check.fail(None, "the store holds no policy")
        check.hint = "restore the latest backup, or load a policy with esc policy load FILE.toml"
    for case_id, version_id in integrity.cases_on_versions(conn, bad):
        problem = (
            "is on policy version {v}, which does not parse"
            if version_id in bad
            else "is on policy version {v}, which the store does not hold"
        )
        check.fail(case_id, problem.format(v=version_id))
    check.summary = (
        f"{total} policy version{'s' if total != 1 else ''}, all valid"
        if check.ok
        else f"{len(bad)} of {total} policy versions invalid or missing"
        if bad
        else f"{len(check.stale_documents)} of {total} policy versions with a stale parsed copy"
    )
    return bad


def _repair_policy_documents(store, checks: list[Check]) -> None:
    from esc_cli.store import policies

    check = next(c for c in checks if c.name == "policy")
    stale = check.stale_documents
    if not stale:
        return
    with store.write() as conn:
        for version_id, text, _ in policies.documents(conn):
            if version_id in stale:
                policies.set_document(conn, version_id, policies.encode_document(text))
    check.problems = [
        (case_id, problem) for case_id, problem in check.problems if "parsed copy" not in problem
    ]
    check.ok = not check.problems
    check.repaired = (
        f"parsed policy version{'s' if len(stale) != 1 else ''} {', '.join(map(str, stale))} again"
    )
    check.summary = check.repaired + ("" if check.ok else "; others still fail")


def _check_indexes(store, checks: list[Check], repair: bool) -> None:
    """Every index esc's migrations create is there (and, on PostgreSQL, valid): a
    missing one costs every query that needed it a table scan, and a statement that
    names it (SQLite's INDEXED BY) fails. `--repair` makes each again from the
    migration's own statement."""
    from esc_cli.store import integrity

    check = Check("indexes", hint="run esc doctor --repair to make them again")
    checks.append(check)
    expected = integrity.expected_indexes(getattr(store.conn, "dialect", "sqlite"))
    missing = sorted(set(expected) - integrity.present_indexes(store.conn))
    if missing and repair:
        with store.write() as conn:
            for name in missing:
                if getattr(conn, "dialect", "sqlite") == "postgres":
                    conn.execute(f'DROP INDEX IF EXISTS "{name}"')  # an invalid leftover
                conn.execute(expected[name])
        made = len(missing)
        missing = sorted(set(expected) - integrity.present_indexes(store.conn))
        check.repaired = (
            f"made {made - len(missing)} missing index{'es' if made != 1 else ''} again"
        )
    check.summary = check.repaired or f"all {len(expected)} indexes present"
    if missing:
        check.summary = f"{len(missing)} of {len(expected)} indexes missing"
        for name in missing:
            check.fail(None, f"index {name} is missing")


def _check_search_index(store, checks: list[Check], repair: bool, searched=None) -> None:
    """`searched`: a function giving the problems found already (or raising the error
    met finding them), from a read beside the other checks."""
    from esc_cli.store import search as fts

    check = Check(
        "search_index",
        summary="the search index is consistent",
        hint="run esc doctor --repair to rebuild it",
    )
    checks.append(check)
    problems = searched() if searched is not None else fts.index_problems(store.conn)
    if problems is None:
        check.summary = "not checked: the store is read-only"
        return
    if not problems:
        return
    if repair:
        with store.write() as conn:
            fts.rebuild_index(conn)
        problems = fts.index_problems(store.conn)
        if not problems:
            check.repaired = check.summary = "rebuilt the search index"
            return
    check.summary = "the search index is damaged"
    for problem in problems:
        check.fail(None, problem)


def _check_notifications(conn, checks: list[Check]) -> None:
    from esc_cli.store import integrity

    deliveries, notifications = integrity.undelivered(conn)
    summary = (
        "every notification delivered"
        if not deliveries
        else f"{notifications} notification{'s' if notifications != 1 else ''} waiting for "
        f"delivery ({deliveries} deliver{'ies' if deliveries != 1 else 'y'}; "
        "see esc notify list, deliver with esc notify retry) — not damage"
    )
    checks.append(Check("notifications", summary=summary))
