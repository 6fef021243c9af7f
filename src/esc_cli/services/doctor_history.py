"""`esc doctor`'s checks that walk each case's history: hash chains, and the due times,
report figures, resolution decisions and owner waits recomputed from the events, with
the repair that rewrites them."""

from __future__ import annotations

import sqlite3

from esc_cli.domain.model import iso
from esc_cli.errors import StoreError
from esc_cli.services.doctor_check import Check

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


def check_chains(conn, checks: list[Check], totals, progress) -> list[tuple[int, str]]:
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
    # with the events in hand (the rest are checked in SQL by check_due_times)
    pols = Policies(conn)
    cycles = integrity.stored_cycles(conn)
    # each escalation's recorded wait for an owner (esc report's time to owner)
    waits = owner_times.stored(conn)

    def missing_history(case_id: int, facts: tuple | None) -> None:
        check.fail(case_id, "has no history: all its events are gone")
        if facts is not None:
            _compare_summary(case_id, [], facts, summaries)

    for case_id, chain in integrity.event_chains(conn):
        while pending is not None and pending[0] < case_id:
            missing_history(pending[0], pending[2])
            pending = next(cases, None)
        if pending is None or pending[0] != case_id:
            _compare_waits(case_id, chain, waits.pop(case_id, []), summaries, None)
            check.fail(case_id, f"{len(chain)} event(s) belong to a case that does not exist")
        else:
            _compare_waits(case_id, chain, waits.pop(case_id, []), summaries, pending[4])
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
        _compare_waits(case_id, [], rows, summaries, None)
    damaged = len({c for c, _ in check.problems})
    check.summary = (
        "every case's history verifies"
        if check.ok
        else f"{damaged} case{'s' if damaged != 1 else ''} with damaged history"
    )
    return summaries


def _compare_waits(
    case_id: int, chain: list, stored: list, found: list, owner_now: str | None
) -> None:
    """A case's recorded waits for an owner (store/owner_times.py) against its history."""
    from esc_cli.domain.owner_waits import waits

    if not stored and not any(event.kind == "escalated" for event, _ in chain):
        return
    expected = waits((event for event, _ in chain), owner_now)
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


def check_due_times(
    conn, checks: list[Check], totals, bad_versions, summaries, progress
) -> list[int]:
    """Each unresolved case's stored due times against a replay of its history under its
    policy version: the sweep and the queue trust the stored columns. `summaries`: the
    resolved cases' report summaries that disagree with their history (check_chains
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
    # replayed by check_chains (in `summaries`); cycles on a case never reopened
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


def repair_due_times(store, checks: list[Check], broken: list[int]) -> None:
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
                owner_times.replace(conn, case_id, None, None, [])
                fixed.append(case_id)
                continue
            events = case_rows.get_events(conn, case_id)
            settled = lifecycle.settle(case, events, pols.for_case(case))
            case_rows.update_case(conn, settled)
            cycles.save(conn, case_id, settled.resolution_cycles or ())
            owner_times.replace(conn, case_id, settled.priority, settled.owner, events)
            fixed.append(case_id)
    remaining = [(c, p) for c, p in check.problems if c not in set(fixed)]
    check.problems = remaining
    check.ok = not remaining
    check.repaired = (
        f"recomputed the due times of {len(fixed)} case{'s' if len(fixed) != 1 else ''}"
    )
    check.summary = check.repaired + ("" if check.ok else "; others still fail")
