"""A hypothesis state machine over the service layer: random command sequences at
randomly advancing instants, with the invariants of SPEC §1-§2 checked after each step.

Budget comes from the hypothesis profile (tests/conftest.py): "ci" by default,
HYPOTHESIS_PROFILE=long for a deeper search.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import tomllib
from dataclasses import replace
from pathlib import Path

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from esc_cli import services
from esc_cli.domain import lifecycle
from esc_cli.domain.model import STATES, UNRESOLVED, chain_breaks
from esc_cli.domain.policy import DEFAULT_POLICY_TOML, PRIORITIES, dump_policy
from esc_cli.env import Env
from esc_cli.errors import Conflict, NotFound, UsageError
from esc_cli.store import cases as case_rows

START = 1_793_613_600  # 2026-11-02T10:00:00Z, a Monday
DUE_FIELDS = ("respond_by", "update_by", "resolve_by")


def _policy(variant: str) -> str:
    doc = tomllib.loads(DEFAULT_POLICY_TOML)
    if variant == "faster":
        doc["priorities"]["urgent"].update(respond="5m", resolve="2h")
        doc["priorities"]["medium"].update(respond="2h", update="8h", resolve="20h")
    elif variant == "berlin":
        doc["calendars"]["business"]["timezone"] = "Europe/Berlin"
        doc["calendars"]["business"]["holidays"] = ["2026-11-11", "2026-12-25"]
        doc["priorities"]["high"]["calendar"] = "business"
        doc["priorities"]["high"]["resolve"] = "30h"
    return dump_policy(doc)


class CaseLifecycle(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="esc-sm-"))
        self.env = Env(db_path=self.dir / "esc.db", user="alice", now=START, tz="UTC",
                       stdout_tty=False, stderr_tty=False, no_color=True)
        services.init_store(self.env, None)
        services.owner_add(self.env, "alice", None, None, 2, None, None)
        services.owner_add(self.env, "bob", None, None, 1, ["billing"], 2)
        self.ids: list[int] = []
        self.seen_events: dict[int, list[tuple]] = {}
        self.seen_due: dict[int, dict[str, int | None]] = {}
        self.exempt: set[int] = set()  # cases whose due times may legitimately move earlier
        self.rechecked_at: set[int] = set()  # instants a policy load re-queued the sweep
        self.variant = "default"

    def teardown(self):
        self.env.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- helpers ---------------------------------------------------------------

    def _dump(self):
        conn = sqlite3.connect(str(self.env.db_path))
        try:
            return (conn.execute("SELECT * FROM cases ORDER BY id").fetchall(),
                    conn.execute("SELECT * FROM events ORDER BY id").fetchall())
        finally:
            conn.close()

    def _case(self, case_id: int):
        with self.env.store().read() as conn:
            return case_rows.get_case(conn, case_id)

    def _try(self, expected: bool | None, call, *args, **kwargs):
        """Run a service call; a refusal must be one of ours and write nothing. When the
        model knows whether the move is legal, the outcome must agree."""
        before = self._dump()
        try:
            result = call(self.env, *args, **kwargs)
        except (Conflict, UsageError, NotFound) as err:
            assert self._dump() == before, f"refused {call.__name__} wrote to the store"
            assert expected is not True, f"{call.__name__} refused unexpectedly: {err.line()}"
            return None
        assert expected is not False, f"{call.__name__} should have been refused: {result}"
        return result

    # -- time ---------------------------------------------------------------------

    @rule(seconds=st.one_of(st.integers(0, 3600), st.integers(0, 4 * 86400)))
    def advance(self, seconds):
        self.env.now += seconds

    # -- commands -----------------------------------------------------------------

    @rule(priority=st.sampled_from(PRIORITIES + ("p1", "p4")), tier=st.integers(1, 4),
          owner=st.sampled_from([None, "alice", "bob"]))
    def open(self, priority, tier, owner):
        # bob takes at most 2 unresolved cases; past that, open --owner bob is refused
        load = sum(1 for cid in self.ids if (c := self._case(cid)).owner == "bob"
                   and c.state in UNRESOLVED)
        doc = self._try(owner != "bob" or load < 2, services.open_case, title="Printer on fire", customer="Globex",
                        priority=priority, category=None, description="", channel=None,
                        owner=owner, tier=tier, team=None, tags=["vip"])
        if doc is not None:
            self.ids.append(doc["id"])

    def _pick(self, index: int) -> int:
        return self.ids[index % len(self.ids)]

    @precondition(lambda self: self.ids)
    @rule(index=st.integers(0, 50),
          move=st.sampled_from(["ack", "pending", "resume", "resolve", "reopen", "close"]))
    def transition(self, index, move):
        case_id = self._pick(index)
        state = self._case(case_id).state
        legal = {
            "ack": state == "new", "pending": state == "open", "resume": state == "pending",
            "resolve": state in UNRESOLVED, "reopen": state == "resolved",
            "close": state == "resolved",
        }[move]
        call, args = {
            "ack": (services.acknowledge, ()), "pending": (services.pending, ("logs",)),
            "resume": (services.resume, ()), "resolve": (services.resolve, ("fixed",)),
            "reopen": (services.reopen, ("again",)), "close": (services.close, ()),
        }[move]
        doc = self._try(legal, call, case_id, *args)
        if doc is not None:
            expected = {"ack": "open", "pending": "pending", "resume": "open",
                        "resolve": "resolved", "reopen": "open", "close": "closed"}[move]
            assert doc["state"] == expected

    @precondition(lambda self: self.ids)
    @rule(index=st.integers(0, 50), back=st.integers(1, 86400),
          move=st.sampled_from(["note", "ack", "resolve", "escalate", "set"]))
    def write_in_the_past(self, index, back, move):
        """A write earlier than the case's last event is refused, whatever the move."""
        case_id = self._pick(index)
        now, self.env.now = self.env.now, self._case(case_id).last_event_at - back
        try:
            call, args, kwargs = {
                "note": (services.note, (case_id, "late", False), {}),
                "ack": (services.acknowledge, (case_id,), {}),
                "resolve": (services.resolve, (case_id, "late"), {}),
                "escalate": (services.escalate, (case_id,), {"reason": "late", "team": "x"}),
                "set": (services.set_fields, (case_id, {"category": "billing"}, [], []), {}),
            }[move]
            self._try(False, call, *args, **kwargs)
        finally:
            self.env.now = now

    @precondition(lambda self: self.ids)
    @rule(index=st.integers(0, 50), customer=st.booleans())
    def note(self, index, customer):
        case_id = self._pick(index)
        state = self._case(case_id).state
        doc = self._try(state != "closed", services.note, case_id, "update", customer)
        if doc is not None and customer and state == "new":
            assert doc["state"] == "open" and doc["acknowledged_at"] is not None

    @precondition(lambda self: self.ids)
    @rule(index=st.integers(0, 50), to=st.one_of(st.none(), st.integers(0, 5)),
          team=st.sampled_from([None, "billing"]), owner=st.sampled_from([None, "alice"]))
    def escalate(self, index, to, team, owner):
        case_id = self._pick(index)
        case = self._case(case_id)
        if to is not None and not case.tier < to <= 4:
            legal = False  # a bad value, whatever the state
        elif to is None and team is not None and team == case.team:
            legal = False  # a functional escalation to the team it is already with
        elif case.state == "closed":
            legal = False
        elif to is None and team is not None:
            legal = True  # functional: allowed even at the top
        else:
            legal = to is not None or case.tier < 4
        doc = self._try(legal, services.escalate, case_id, reason="stuck", to=to, team=team,
                        owner=owner)
        if doc is not None:
            assert doc["escalations"] == case.escalations + 1
            if owner:
                assert doc["owner"] == owner

    @precondition(lambda self: self.ids)
    @rule(index=st.integers(0, 50), to=st.one_of(st.none(), st.integers(0, 4)))
    def deescalate(self, index, to):
        case_id = self._pick(index)
        case = self._case(case_id)
        if to is not None and not 1 <= to < case.tier:
            legal = False
        else:
            legal = case.state != "closed" and case.tier > 1
        doc = self._try(legal, services.deescalate, case_id, reason="handled", to=to)
        if doc is not None:
            assert doc["tier"] == (to if to is not None else case.tier - 1)

    @precondition(lambda self: self.ids)
    @rule(index=st.integers(0, 50), csat=st.integers(0, 6))
    def feedback(self, index, csat):
        case_id = self._pick(index)
        state = self._case(case_id).state
        legal = 1 <= csat <= 5 and state in ("resolved", "closed")
        self._try(legal, services.feedback, case_id, csat, None)

    @precondition(lambda self: self.ids)
    @rule(index=st.integers(0, 50), priority=st.sampled_from(PRIORITIES))
    def set_priority(self, index, priority):
        case_id = self._pick(index)
        case = self._case(case_id)
        # A raise may bring due times forward. So may a lowering under a policy whose
        # lower priority has a shorter target (the "faster" and "berlin" variants); the
        # default policy's targets grow as priority falls, so there it must not.
        if case.state != "closed" and case.priority != priority and (
                lifecycle.raises_priority(case.priority, priority) or self.variant != "default"):
            self.exempt.add(case_id)
        doc = self._try(case.state != "closed", services.set_fields, case_id,
                        {"priority": priority}, [], [])
        if doc is not None:
            assert doc["priority"] == priority

    @precondition(lambda self: self.ids)
    @rule(index=st.integers(0, 50), handle=st.sampled_from(["alice", "bob"]), force=st.booleans())
    def assign(self, index, handle, force):
        case_id = self._pick(index)
        self._try(None, services.assign, case_id, handle, force)

    @rule(variant=st.sampled_from(["default", "faster", "berlin"]), recompute=st.booleans())
    def load_policy(self, variant, recompute):
        before = {cid: self._case(cid) for cid in self.ids}
        result = self._try(True, services.policy_load, _policy(variant), recompute)
        self.variant = variant
        self.rechecked_at.add(self.env.now)
        if recompute:
            self.exempt.update(self.ids)
            moved = sum(1 for cid, case in before.items() if case.state in UNRESOLVED and any(
                getattr(self._case(cid), f) != getattr(case, f) for f in DUE_FIELDS))
            assert result["cases_moved"] == moved
        else:
            for cid, case in before.items():
                after = self._case(cid)
                assert [getattr(after, f) for f in DUE_FIELDS] == [getattr(case, f) for f in DUE_FIELDS]

    # -- invariants -----------------------------------------------------------------

    @invariant()
    def history_and_derived_fields(self):
        store = self.env.store()
        with store.read() as conn:
            pols = services.Policies(conn)
            top = pols.current.top_tier
            for case_id in self.ids:
                case = case_rows.get_case(conn, case_id)
                with_hashes = case_rows.get_events_with_hashes(conn, case_id)
                events = [e for e, _ in with_hashes]
                rows = [(e, h) for e, h in with_hashes]

                # append-only: what we saw before is still there, unchanged, in order
                seen = self.seen_events.get(case_id, [])
                assert rows[:len(seen)] == seen, f"#{case_id}: history was rewritten"
                self.seen_events[case_id] = rows
                assert chain_breaks(case_id, with_hashes) is None
                assert [e.at for e in events] == sorted(e.at for e in events)

                assert case.state in STATES
                assert 1 <= case.tier <= top
                if case.state in ("resolved", "closed"):
                    assert case.resolved_at is not None
                if case.state == "closed":
                    assert case.closed_at is not None
                if case.state in UNRESOLVED:
                    assert case.resolved_at is None
                assert (case.paused_since is not None) == (case.state == "pending")
                if case.state in ("pending", "resolved", "closed"):
                    assert case.update_by is None

                # the stored projection is exactly what the history says
                fresh = lifecycle.settle(case, events, pols.for_case(case))
                if fresh.sweep_at != case.sweep_at:
                    assert case.sweep_at in self.rechecked_at, f"#{case_id}: sweep_at drifted"
                    fresh = replace(fresh, sweep_at=case.sweep_at)
                assert fresh == case, f"#{case_id}: stored fields differ from a replay"

                # due times only move later, unless the priority rose or a recompute ran
                due = {f: getattr(case, f) for f in DUE_FIELDS}
                previous = self.seen_due.get(case_id)
                if previous is not None and case_id not in self.exempt:
                    for name, value in due.items():
                        if value is not None and previous[name] is not None:
                            assert value >= previous[name], f"#{case_id} {name} moved earlier"
                self.seen_due[case_id] = due
        self.exempt.clear()


TestCaseLifecycle = CaseLifecycle.TestCase
