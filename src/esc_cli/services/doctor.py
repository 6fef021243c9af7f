"""`esc doctor`: every check of SPEC §5 on a store, and the repairs the history allows."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from esc_cli.domain.model import iso
from esc_cli.errors import StoreError


DUE_COLUMNS = (
    "respond_by",
    "respond_warn",
    "update_by",
    "update_warn",
    "resolve_by",
    "resolve_warn",
    "due_at",
    "warn_at",
    # esc report's per-case figures (domain/summary.py)
    "resolution_at",
    "resolve_secs",
    "fcr",
    "feedback_at",
    "feedback_score",
    "resolution_decided_at",
)
SHOWN_PROBLEMS = 20


@dataclass
class Check:
    name: str
    ok: bool = True
    summary: str = ""
    hint: str = ""
    problems: list[tuple[int | None, str]] = field(default_factory=list)
    repaired: str = ""
    stale_documents: list[int] = field(default_factory=list)  # policy: parsed copies to redo

    def fail(self, case_id: int | None, problem: str) -> None:
        self.ok = False
        self.problems.append((case_id, problem))

    def document(self) -> dict:
        cases = sorted({case_id for case_id, _ in self.problems if case_id is not None})
        detail = self.summary
        if self.problems:
            shown = [
                f"#{c}: {p}" if c is not None else p for c, p in self.problems[:SHOWN_PROBLEMS]
            ]
            more = len(self.problems) - len(shown)
            detail += " — " + "; ".join(shown) + (f"; and {more} more" if more > 0 else "")
        if self.hint and not self.ok:
            detail += f". What to do: {self.hint}"
        return {"name": self.name, "ok": self.ok, "detail": detail, "cases": cases}


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

    def read_checks():
        with store.read() as conn:
            totals = _guard(checks, "schema", lambda: integrity.counts(conn))
            bad = _guard(checks, "policy", lambda: _check_policy(conn, checks)) or []
            summaries = _guard(
                checks, "hash_chain", lambda: _check_chains(conn, checks, totals, progress)
            )
            return _guard(
                checks,
                "due_times",
                lambda: _check_due_times(conn, checks, totals, bad, summaries, progress),
            )

    broken = _guard(checks, "integrity", read_checks)
    if repair:
        _guard(checks, "policy", lambda: _repair_policy_documents(store, checks))
    if repair and broken:
        _guard(checks, "due_times", lambda: _repair_due_times(store, checks, broken))
    _guard(checks, "search_index", lambda: _check_search_index(store, checks, repair))
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


def _check_chains(conn, checks: list[Check], totals, progress) -> list[tuple[int, str]]:
    """Every case's events against their hash chain, and against the number of events
    the case has ever had written (removing the newest leaves the chain intact).

    The same walk recomputes each resolved or closed case's report summary, and every
    escalated case's waits for an owner, from the events it has in hand; the
    differences are returned for the due_times check, which reports and repairs them
    (an unresolved case's summary is compared with its due times)."""
    from esc_cli.domain.model import chain_breaks
    from esc_cli.services.policies import Policies
    from esc_cli.store import integrity, owner_times

    check = Check(
        "hash_chain",
        hint=(
            "restore these cases from a backup taken before the "
            "damage (esc backup FILE makes one); their history "
            "can no longer be trusted"
        ),
    )
    checks.append(check)
    total_events = totals[2] if totals else 0
    seen = 0
    cases = integrity.case_facts(conn)
    pending = next(cases, None)
    summaries: list[tuple[int, str]] = []
    # resolved cases whose resolution clock paused or was reopened are replayed here,
    # with the events in hand (the rest are checked in SQL by _check_due_times)
    pols = Policies(conn)
    cycles = integrity.stored_cycles(conn)
    # each escalation's recorded wait for an owner (esc report's time to owner)
    waits = owner_times.stored(conn)

    def missing_history(case_id: int, facts: tuple | None) -> None:
        check.fail(case_id, "has no history: all its events are gone")
        if facts is not None:
            _compare_summary(case_id, [], facts, summaries)

    for case_id, chain in integrity.event_chains(conn):
        _compare_waits(case_id, chain, waits.pop(case_id, []), summaries)
        while pending is not None and pending[0] < case_id:
            missing_history(pending[0], pending[2])
            pending = next(cases, None)
        if pending is None or pending[0] != case_id:
            check.fail(case_id, f"{len(chain)} event(s) belong to a case that does not exist")
        else:
            written = pending[1] or 0
            if pending[2] is not None:
                _compare_summary(case_id, [event for event, _ in chain], pending[2], summaries)
            if pending[3] is not None:
                _compare_decided(
                    case_id,
                    [event for event, _ in chain],
                    pending[3],
                    cycles.get(case_id, ()),
                    pols,
                    summaries,
                )
            pending = next(cases, None)
            index = chain_breaks(case_id, chain)
            if index is not None:
                event = chain[index][0]
                check.fail(
                    case_id,
                    (
                        f"event {index + 1} of {len(chain)} ({event.kind} at {_when(event.at)}) does "
                        "not match its hash: an event was edited, removed or reordered"
                    ),
                )
            elif written > len(chain):
                missing = written - len(chain)
                check.fail(
                    case_id,
                    (
                        f"{missing} of its {written} events {'is' if missing == 1 else 'are'} "
                        "missing: the newest were deleted"
                    ),
                )
        seen += len(chain)
        progress("hash_chain", seen, total_events)
    while pending is not None:
        missing_history(pending[0], pending[2])
        pending = next(cases, None)
    for case_id, rows in waits.items():  # rows of a case without a history
        _compare_waits(case_id, [], rows, summaries)
    damaged = len({c for c, _ in check.problems})
    check.summary = (
        "every case's history verifies"
        if check.ok
        else f"{damaged} case{'s' if damaged != 1 else ''} with damaged history"
    )
    return summaries


def _compare_waits(case_id: int, chain: list, stored: list, found: list) -> None:
    """A case's recorded waits for an owner (store/owner_times.py) against its history."""
    from esc_cli.domain.owner_waits import waits

    if not stored and not any(event.kind == "escalated" for event, _ in chain):
        return
    expected = waits(event for event, _ in chain)
    if [tuple(row) for row in stored] != expected:
        found.append(
            (
                case_id,
                f"time to owner stored {_waits_text(stored)}, recomputed {_waits_text(expected)}",
            )
        )


def _waits_text(rows) -> str:
    if not rows:
        return "none"
    shown = []
    for at, settled, owned in rows:
        end = "waiting" if settled is None else f"{'owned' if owned else 'left'} {_when(settled)}"
        shown.append(f"escalated {_when(at)} {end}")
    return ", ".join(shown)


def _compare_summary(case_id: int, history: list, facts: tuple, found: list) -> None:
    """A resolved or closed case's stored report summary against its history."""
    from esc_cli.domain.summary import SUMMARY_FIELDS, summarise

    opened_at, tier, escalations, reopened, *stored = facts
    expected = summarise(history, opened_at, tier, escalations, reopened)
    differences = [
        f"{name} stored {_shown(name, value)}, recomputed {_shown(name, expected[name])}"
        for name, value in zip(SUMMARY_FIELDS, stored)
        if value != expected[name]
    ]
    if differences:
        found.append((case_id, "; ".join(differences)))


def _compare_decided(
    case_id: int, history: list, clock: tuple, stored_cycles: tuple, pols, found: list
) -> None:
    """A resolved or closed case's resolution decisions (resolution_decided_at and the
    earlier cycles, docs/sla.md) against a replay of its resolution clock."""
    from esc_cli.domain.sla import trace_clocks

    priority, version, opened_at, decided = clock
    try:
        policy = pols.for_version(version)
    except StoreError:
        return  # an invalid policy version: the policy check names it
    try:
        resolution = trace_clocks(policy, priority, opened_at, history)["resolution"]
    except Exception as err:  # a history the domain cannot replay is damage too
        found.append((case_id, f"its SLA decisions cannot be recomputed from its history: {err}"))
        return
    differences = []
    if decided != resolution.decided_at:
        differences.append(
            f"resolution_decided_at stored {_shown('', decided)}, "
            f"recomputed {_shown('', resolution.decided_at)}"
        )
    if tuple(stored_cycles) != tuple(resolution.earlier):
        differences.append(
            f"resolution cycles stored {_cycles_text(stored_cycles)}, "
            f"recomputed {_cycles_text(resolution.earlier)}"
        )
    if differences:
        found.append((case_id, "; ".join(differences)))


def _cycles_text(cycles) -> str:
    if not cycles:
        return "none"
    return ", ".join(f"{'met' if met else 'missed'} {_when(at)}" for at, met in cycles)


def _when(at) -> str:
    try:
        return iso(int(at))  # type: ignore[return-value]  # an int gives a str
    except (TypeError, ValueError, OverflowError, OSError):
        return str(at)


def _check_due_times(
    conn, checks: list[Check], totals, bad_versions, summaries, progress
) -> list[int]:
    """Each unresolved case's stored due times against a replay of its history under its
    policy version: the sweep and the queue trust the stored columns. `summaries`: the
    resolved cases' report summaries that disagree with their history (_check_chains
    compares them; None when that walk could not finish)."""
    from esc_cli.domain import lifecycle
    from esc_cli.services.policies import Policies
    from esc_cli.store import cases as case_rows
    from esc_cli.store import integrity, owner_times

    check = Check("due_times", hint="run esc doctor --repair to recompute them from the history")
    checks.append(check)
    pols = Policies(conn)
    cycles = integrity.stored_cycles(conn)
    total = totals[1] if totals else 0
    done = 0
    broken: list[int] = []
    for case in integrity.unresolved_cases(conn):
        done += 1
        progress("due_times", done, total)
        if bad_versions and case.policy_version in bad_versions:
            check.fail(
                case.id, f"cannot be recomputed: policy version {case.policy_version} is invalid"
            )
            continue
        events = case_rows.get_events(conn, case.id)
        try:
            expected = lifecycle.settle(case, events, pols.for_case(case))
        except (StoreError, sqlite3.DatabaseError):
            raise
        except Exception as err:  # a history the domain cannot replay is damage too
            check.fail(case.id, f"cannot be recomputed from its history: {err}")
            continue
        differences = [
            f"{name} stored {_shown(name, getattr(case, name))}, "
            f"recomputed {_shown(name, getattr(expected, name))}"
            for name in DUE_COLUMNS
            if getattr(case, name) != getattr(expected, name)
        ]
        # The sweep finds work through sweep_at: looking early is harmless (a policy or
        # ladder change asks for that), looking late or never misses an escalation.
        if expected.sweep_at is not None and (
            case.sweep_at is None or case.sweep_at > expected.sweep_at
        ):
            stored = _when(case.sweep_at) if case.sweep_at is not None else "none"
            differences.append(f"sweep_at stored {stored}, due by {_when(expected.sweep_at)}")
        if cycles.get(case.id, ()) != (expected.resolution_cycles or ()):
            differences.append(
                f"resolution cycles stored {_cycles_text(cycles.get(case.id, ()))}, "
                f"recomputed {_cycles_text(expected.resolution_cycles)}"
            )
        if differences:
            broken.append(case.id)
            check.fail(case.id, "; ".join(differences))
    # every resolved case's SLA decisions too (the report counts them): those whose clock
    # ran once against their own due time and resolution, in SQL; the others were
    # replayed by _check_chains (in `summaries`); cycles on a case never reopened
    resolved = list(summaries or ())
    resolved += [
        (
            case_id,
            f"resolution_decided_at stored {_shown('', stored)}, recomputed {_shown('', expected)}",
        )
        for case_id, stored, expected in integrity.decided_mismatches(conn)
    ]
    resolved += [
        (case_id, "has resolution cycles but was never reopened")
        for case_id in integrity.stray_cycles(conn)
    ]
    resolved += [
        (case_id, f"time to owner rows of priority {stored}, the case's is {actual or 'none'}")
        for case_id, stored, actual in owner_times.priority_mismatches(conn)
    ]
    summaries = resolved
    for case_id, problem in resolved:
        broken.append(case_id)
        check.fail(case_id, problem)
    check.summary = (
        f"{done} unresolved case{'s agree' if done != 1 else ' agrees'} with a recomputation"
        if check.ok
        else f"{len(check.problems)} of {done} unresolved cases disagree with a recomputation"
        if not summaries
        else f"{len(check.problems)} cases disagree with a recomputation"
    )
    return broken


def _shown(name: str, value) -> str:
    if value is None:
        return "none"
    return str(value) if name in ("resolve_secs", "fcr", "feedback_score") else _when(value)


def _repair_due_times(store, checks: list[Check], broken: list[int]) -> None:
    from esc_cli.domain import lifecycle
    from esc_cli.errors import NotFound
    from esc_cli.services.policies import Policies
    from esc_cli.store import cases as case_rows
    from esc_cli.store import cycles, owner_times

    check = next(c for c in checks if c.name == "due_times")
    fixed = []
    with store.write() as conn:
        pols = Policies(conn)
        for case_id in dict.fromkeys(broken):
            try:
                case = case_rows.get_case(conn, case_id)
            except NotFound:  # resolution cycles or waits of a case that does not exist
                cycles.save(conn, case_id, ())
                owner_times.replace(conn, case_id, None, [])
                fixed.append(case_id)
                continue
            events = case_rows.get_events(conn, case_id)
            settled = lifecycle.settle(case, events, pols.for_case(case))
            case_rows.update_case(conn, settled)
            cycles.save(conn, case_id, settled.resolution_cycles or ())
            owner_times.replace(conn, case_id, settled.priority, events)
            fixed.append(case_id)
    remaining = [(c, p) for c, p in check.problems if c not in set(fixed)]
    check.problems = remaining
    check.ok = not remaining
    check.repaired = (
        f"recomputed the due times of {len(fixed)} case{'s' if len(fixed) != 1 else ''}"
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


def _check_search_index(store, checks: list[Check], repair: bool) -> None:
    from esc_cli.store import search as fts

    check = Check(
        "search_index",
        summary="the search index is consistent",
        hint="run esc doctor --repair to rebuild it",
    )
    checks.append(check)
    problems = fts.index_problems(store.conn)
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
