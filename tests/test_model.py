"""Model-based test of the whole CLI: a hypothesis state machine drives `esc` in-process
(tests.conftest.EscRunner: real argument parsing, real exit codes) with random sequences
of every case command and the sweep, at randomly advancing --now instants, against a
small reference model of each case (state, tier, owner, team, priority, escalation and
reopen counts, CSAT, its resolutions).

After every step:
- the command's exit code is the one the model predicts (0, or 2 for a bad value, 3 for
  an unknown owner or case, 4 for an illegal move), and a refused command changed
  nothing in the store;
- every case in the store equals its model; tiers stay on the ladder;
- events are append-only (what was there is still there, unchanged, in order), in time
  order, acted by whoever ran the command, hash-chained, and every case replays from
  its events to exactly its stored row (due times included; tests/stress.py);
- `esc report --json` over all time agrees with the model's counts.

The sweep is the one command the model does not predict on its own (it depends on SLA
arithmetic): its --json result is checked for plausibility against the model (it only
escalates live cases one tier up, only closes resolved ones past close_after, and keeps
an owner exactly when their tier reaches the new one), then applied to the model; a
second sweep at the same instant must change nothing.

It runs on both stores, each example on a new one. Budget: the hypothesis profile of
tests/conftest.py ("ci": small, derandomized; HYPOTHESIS_PROFILE=long for a deep run),
a quarter of it on PostgreSQL.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from esc_cli.domain.model import iso
from tests import stress
from tests.conftest import EscRunner

START = 1_793_613_600  # 2026-11-02T10:00:00Z, a Monday
TOP = 4
CLOSE_AFTER = 7 * 86400
OWNER_TIERS = {"alice": 2, "bob": 1, "carol": 4}
BOB_CAPACITY = 2
USERS = ("alice", "bob", "carol", "dave")  # dave acts but is not an owner
UNRESOLVED = ("new", "open", "pending")
PRIORITIES = ("urgent", "high", "medium", "low")
ALIASES = {"p1": "urgent", "p2": "high", "p3": "medium", "p4": "low"}


@dataclass
class CaseModel:
    priority: str
    tier: int
    owner: str | None
    team: str | None
    state: str = "new"
    escalations: int = 0
    reopened: int = 0
    csat: int | None = None
    resolved_at: int | None = None  # the latest resolution
    tier_at_resolution: int | None = None
    tags: list[str] = field(default_factory=list)


class EscModel(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.now = START
        self.esc = self.new_store()
        self.esc.ok("owner", "add", "alice", "--tier", "2")
        self.esc.ok("owner", "add", "bob", "--tier", "1", "--team", "billing",
                    "--capacity", str(BOB_CAPACITY))
        self.esc.ok("owner", "add", "carol", "--tier", "4")
        self.cases: dict[int, CaseModel] = {}
        self.seen_events: list[tuple] = []

    def new_store(self) -> EscRunner:
        """An initialised store at START (the test below says on which backend)."""
        raise NotImplementedError

    # -- running commands ----------------------------------------------------------------

    def _run(self, expected: int, *args: str, user: str = "alice"):
        """Run `esc ARGS --json` at the model's now as `user`; the exit code must be the
        one the model expects, and a refusal must leave the store as it was."""
        before = stress.dump(self.esc.db) if expected else None
        result = self.esc(*args, "--json", now=iso(self.now), user=user)
        assert "Traceback" not in result.err
        assert result.code == expected, (
            f"esc {' '.join(args)} as {user}: expected exit {expected}, got {result.code}: "
            f"{result.err.strip()}")
        if expected:
            lines = result.err.splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), result.err
            assert result.out == ""
            assert stress.dump(self.esc.db) == before, f"refused esc {args[0]} wrote to the store"
            return None
        new = self._events()[len(self.seen_events):]
        if args[0] != "sweep":
            assert {e[3] for e in new} <= {user}, f"{args[0]} recorded another actor: {new}"
        return result.json()

    def _events(self) -> list[tuple]:
        return self.esc.rows("SELECT id, case_id, at, actor, kind, field, from_value, "
                             "to_value, reason, hash FROM events ORDER BY id")

    def _load(self, handle: str) -> int:
        return sum(1 for c in self.cases.values() if c.owner == handle and c.state in UNRESOLVED)

    def _pick(self, index: int) -> tuple[int, CaseModel]:
        ids = sorted(self.cases)
        case_id = ids[index % len(ids)]
        return case_id, self.cases[case_id]

    def _owner_after(self, case: CaseModel, new_tier: int, named: str | None) -> str | None:
        if named is not None:
            return named
        if case.owner is not None and OWNER_TIERS[case.owner] >= new_tier:
            return case.owner
        return None

    # -- time -----------------------------------------------------------------------------

    @rule(seconds=st.sampled_from([0, 60, 600, 3600, 3 * 3600, 9 * 3600, 86400, 3 * 86400]))
    def advance(self, seconds):
        self.now += seconds

    # -- commands -------------------------------------------------------------------------

    @rule(priority=st.sampled_from(PRIORITIES + ("p1", "p4", "p9")),
          tier=st.sampled_from([None, 1, 2, 4, 5]),
          owner=st.sampled_from([None, "alice", "bob", "carol", "zed"]),
          team=st.sampled_from([None, "billing"]))
    def open(self, priority, tier, owner, team):
        args = ["open", "Printer on fire", "--customer", "Globex", "--priority", priority]
        for flag, value in (("--tier", tier), ("--owner", owner), ("--team", team)):
            if value is not None:
                args += [flag, str(value)]
        if owner == "zed":
            expected = 3
        elif priority == "p9" or tier == 5:
            expected = 2
        elif owner == "bob" and self._load("bob") >= BOB_CAPACITY:
            expected = 4
        else:
            expected = 0
        doc = self._run(expected, *args)
        if doc is not None:
            assert doc["id"] not in self.cases
            self.cases[doc["id"]] = CaseModel(ALIASES.get(priority, priority), tier or 1, owner, team)

    @precondition(lambda self: self.cases)
    @rule(index=st.integers(0, 30), user=st.sampled_from(USERS))
    def ack(self, index, user):
        case_id, case = self._pick(index)
        if self._run(0 if case.state == "new" else 4, "ack", str(case_id), user=user) is not None:
            case.state = "open"

    def _assign(self, case_id, case, handle, force, *args, user="alice"):
        if handle not in OWNER_TIERS:
            expected = 3
        elif case.state == "closed":
            expected = 4
        elif case.owner == handle:
            expected = 0
        elif handle == "bob" and self._load("bob") >= BOB_CAPACITY and not force:
            expected = 4
        else:
            expected = 0
        if self._run(expected, *args, user=user) is not None:
            case.owner = handle

    @precondition(lambda self: self.cases)
    @rule(index=st.integers(0, 30), handle=st.sampled_from(["alice", "bob", "carol", "zed"]),
          force=st.booleans())
    def assign(self, index, handle, force):
        case_id, case = self._pick(index)
        args = ["assign", str(case_id), handle] + (["--force"] if force else [])
        self._assign(case_id, case, handle, force, *args)

    @precondition(lambda self: self.cases)
    @rule(index=st.integers(0, 30), user=st.sampled_from(USERS))
    def take(self, index, user):
        case_id, case = self._pick(index)
        self._assign(case_id, case, user, False, "take", str(case_id), user=user)

    @precondition(lambda self: self.cases)
    @rule(index=st.integers(0, 30), customer=st.booleans(), user=st.sampled_from(USERS))
    def note(self, index, customer, user):
        case_id, case = self._pick(index)
        args = ["note", str(case_id), "looked at it"] + (["--customer"] if customer else [])
        doc = self._run(4 if case.state == "closed" else 0, *args, user=user)
        if doc is not None and customer and case.state == "new":
            case.state = "open"

    @precondition(lambda self: self.cases)
    @rule(index=st.integers(0, 30), to=st.sampled_from([None, None, 0, 1, 2, 3, 4, 5]),
          team=st.sampled_from([None, None, "billing", "ops"]),
          owner=st.sampled_from([None, None, "alice", "bob", "carol"]))
    def escalate(self, index, to, team, owner):
        case_id, case = self._pick(index)
        args = ["escalate", str(case_id), "--reason", "stuck"]
        for flag, value in (("--to", to), ("--team", team), ("--owner", owner)):
            if value is not None:
                args += [flag, str(value)]
        functional = team is not None and to is None
        if functional and team == case.team:
            expected = 2
        elif to is not None and not case.tier < to <= TOP:
            expected = 2
        elif case.state == "closed":
            expected = 4
        elif owner == "bob" and case.owner != "bob" and self._load("bob") >= BOB_CAPACITY:
            expected = 4
        elif not functional and case.tier >= TOP:
            expected = 4
        else:
            expected = 0
        doc = self._run(expected, *args)
        if doc is not None:
            new_tier = case.tier if functional else (to or case.tier + 1)
            case.owner = self._owner_after(case, new_tier, owner)
            case.tier = new_tier
            case.team = team if team is not None else case.team
            case.escalations += 1

    @precondition(lambda self: self.cases)
    @rule(index=st.integers(0, 30), to=st.sampled_from([None, None, 0, 1, 2, 3, 5]))
    def deescalate(self, index, to):
        case_id, case = self._pick(index)
        args = ["deescalate", str(case_id), "--reason", "handled"]
        if to is not None:
            args += ["--to", str(to)]
        if to is not None and not 1 <= to < case.tier:
            expected = 2
        elif case.state == "closed" or case.tier <= 1:
            expected = 4
        else:
            expected = 0
        if self._run(expected, *args) is not None:
            case.tier = to if to is not None else case.tier - 1

    @precondition(lambda self: self.cases)
    @rule(index=st.integers(0, 30),
          move=st.sampled_from(["pending", "resume", "resolve", "reopen", "close"]),
          user=st.sampled_from(USERS))
    def transition(self, index, move, user):
        case_id, case = self._pick(index)
        legal_from = {"pending": ("open",), "resume": ("pending",), "resolve": UNRESOLVED,
                      "reopen": ("resolved",), "close": ("resolved",)}[move]
        extra = {"pending": ["--reason", "logs"], "resolve": ["--resolution", "fixed"],
                 "reopen": ["--reason", "again"]}.get(move, [])
        doc = self._run(0 if case.state in legal_from else 4, move, str(case_id), *extra, user=user)
        if doc is None:
            return
        case.state = {"pending": "pending", "resume": "open", "resolve": "resolved",
                      "reopen": "open", "close": "closed"}[move]
        if move == "resolve":
            case.resolved_at, case.tier_at_resolution = self.now, case.tier
        if move == "reopen":
            case.reopened += 1

    @precondition(lambda self: self.cases)
    @rule(index=st.integers(0, 30), csat=st.integers(0, 6))
    def feedback(self, index, csat):
        case_id, case = self._pick(index)
        if not 1 <= csat <= 5:
            expected = 2
        elif case.state not in ("resolved", "closed"):
            expected = 4
        else:
            expected = 0
        if self._run(expected, "feedback", str(case_id), "--csat", str(csat)) is not None:
            case.csat = csat

    @precondition(lambda self: self.cases)
    @rule(index=st.integers(0, 30), priority=st.sampled_from([None, "high", "p3", "low", "p9"]),
          team=st.sampled_from([None, "billing", "ops"]), tag=st.sampled_from([None, "vip"]))
    def set(self, index, priority, team, tag):
        case_id, case = self._pick(index)
        args = ["set", str(case_id)]
        for flag, value in (("--priority", priority), ("--team", team), ("--tag", tag)):
            if value is not None:
                args += [flag, value]
        if len(args) == 2 or priority == "p9":
            expected = 2
        elif case.state == "closed":
            expected = 4
        else:
            expected = 0
        if self._run(expected, *args) is not None:
            case.priority = ALIASES.get(priority, priority) if priority else case.priority
            case.team = team or case.team
            if tag and tag not in case.tags:
                case.tags.append(tag)

    @precondition(lambda self: self.cases)
    @rule()
    def unknown_case(self):
        self._run(3, "ack", str(max(self.cases) + 1))

    @rule()
    def sweep(self):
        result = self._run(0, "sweep")
        closed = {entry["case"] for entry in result["closed"]}
        for entry in result["escalated"]:
            case = self.cases[entry["case"]]
            assert case.state in ("new", "open"), entry
            assert (entry["from"], entry["to"]) == (case.tier, case.tier + 1) and entry["to"] <= TOP
            case.owner = self._owner_after(case, entry["to"], None)
            case.tier = entry["to"]
            case.escalations += 1
        for case_id in closed:
            case = self.cases[case_id]
            assert case.state == "resolved" and case.resolved_at + CLOSE_AFTER <= self.now
            case.state = "closed"
        for case_id, case in self.cases.items():
            if case.state == "resolved" and case.resolved_at + CLOSE_AFTER <= self.now:
                assert case_id in closed, f"#{case_id} is past close_after but was not closed"
        # the sweep finished its work: asked case by case (not through the sweep_at index
        # the sweep itself uses), the domain has nothing left to do at this instant
        assert self._left_undone() == []
        # and the same instant again finds nothing
        before = stress.dump(self.esc.db)
        again = self._run(0, "sweep")
        assert not (again["warned"] or again["breached"] or again["escalated"] or again["closed"])
        assert stress.dump(self.esc.db) == before

    def _left_undone(self) -> list[int]:
        from esc_cli import services
        from esc_cli.domain import sweep as sweep_domain

        conn = stress.connect(self.esc.db)
        try:
            pols = services.Policies(conn)
            return [case.id for case, events, _ in stress.cases_and_events(conn)
                    if not sweep_domain.plan(case, events, pols.for_case(case), self.now).empty]
        finally:
            conn.close()

    # -- invariants ------------------------------------------------------------------------

    @invariant()
    def store_matches_the_model(self):
        rows = self.esc.rows(
            "SELECT id, state, tier, owner, team, priority, escalations, reopened, csat, "
            "tags FROM cases ORDER BY id")
        assert [r[0] for r in rows] == sorted(self.cases)
        for case_id, state, tier, owner, team, priority, escalations, reopened, csat, tags in rows:
            case = self.cases[case_id]
            assert 1 <= tier <= TOP
            stored = (state, tier, owner, team, priority, escalations, reopened, csat,
                      json.loads(tags))
            model = (case.state, case.tier, case.owner, case.team, case.priority,
                     case.escalations, case.reopened, case.csat, case.tags)
            assert stored == model, f"#{case_id}: store {stored} != model {model}"

    @invariant()
    def history_is_append_only_and_replays(self):
        events = self._events()
        assert events[:len(self.seen_events)] == self.seen_events, "history was rewritten"
        self.seen_events = events
        assert stress.replay_problems(self.esc.db) == []

    @invariant()
    def report_agrees_with_the_model(self):
        # every case is opened on or after START and acts no later than now: a window
        # from the day before START to the day after now holds all of them (a wider one
        # only adds empty days to the trend)
        doc = self.esc.doc("report", "--since", iso(START - 86400)[:10],
                           "--until", iso(self.now + 86400)[:10], now=iso(self.now))
        cases = list(self.cases.values())
        resolved = [c for c in cases if c.resolved_at is not None]
        scores = [c.csat for c in cases if c.csat is not None]

        def share(part, whole):
            return None if not whole else part / whole

        expected = {
            "opened": len(cases),
            "resolved": len(resolved),
            "backlog": sum(1 for c in cases if c.state in UNRESOLVED),
            "escalation_rate": share(sum(1 for c in cases if c.escalations), len(cases)),
            "reopen_rate": share(sum(1 for c in resolved if c.reopened), len(resolved)),
            "fcr_rate": share(sum(1 for c in resolved if c.tier_at_resolution == 1
                                  and not c.escalations and not c.reopened), len(resolved)),
            "csat_count": len(scores),
            "csat_avg": share(sum(scores), len(scores)),
        }
        for key, value in expected.items():
            got = doc[key]
            if value is None or isinstance(value, int) and not isinstance(got, float):
                assert got == value, f"report {key}: {got} != model {value}"
            else:
                assert got is not None and math.isclose(got, value), f"report {key}: {got} != {value}"


def test_the_cli_keeps_to_its_model(new_store, backend):
    class OnTheBackend(EscModel):
        def new_store(self) -> EscRunner:
            return new_store(now=iso(START))  # START is the runner's default now

    # PostgreSQL: a quarter of the profile's examples (each makes a database, and every
    # command and check connects to the server: ~2.5 s an example under load, 8x SQLite)
    budget = settings.default.max_examples
    run_state_machine_as_test(OnTheBackend, settings=settings(
        max_examples=max(1, budget // 4) if backend == "postgres" else budget))


def test_a_resolution_then_a_deescalation_in_the_same_second_is_not_first_contact(esc):
    """Found by the model (long profile): a case resolved at tier 4 and de-escalated to
    tier 1 within the same second counted as a first-contact resolution, because the
    report compared the de-escalation's time, not its place in the history."""
    esc.ok("open", "Outage", "--customer", "Globex", "--priority", "high", "--tier", "4")
    esc.ok("resolve", "1", "--resolution", "fixed")
    esc.ok("deescalate", "1", "--reason", "back to frontline", "--to", "1")
    doc = esc.doc("report", "--since", "2026-11-01", "--until", "2026-11-03")
    assert (doc["resolved"], doc["fcr_rate"]) == (1, 0.0)


def test_the_sha256_without_openssl_is_sha256():
    import hashlib

    from esc_cli.domain.model import sha256_without_openssl

    for data in (b"", b"abc", "é \U0001F600".encode(), bytes(range(256)) * 9):
        assert sha256_without_openssl()(data).digest() == hashlib.sha256(data).digest()


def test_bulk_event_rows_chain_exactly_as_event_hash_does():
    """The import builds each hashed JSON array from cached fragments for speed: it must
    be byte for byte what event_hash encodes, whatever the text holds."""
    import random

    from esc_cli.domain.model import Event, event_hash
    from esc_cli.store.bulk_rows import event_rows

    rng = random.Random(3)
    texts = [None, "", "plain", "é ü 漢字", "quote \" and \\ backslash", "tab\tnew\nline",
             "\x00\x1f\x7f control", "emoji \U0001F600", "lone \ud800 surrogate", "</script>",
             "1e5", "null", "[1,2]"]
    for case_id in (1, 42, 2**40):
        events = [Event(at=1_790_000_000 + i * 60, actor=rng.choice(texts[2:]),
                        kind=rng.choice(["opened", "note", "assigned", "resolved"]),
                        field=rng.choice(texts), from_value=rng.choice(texts),
                        to_value=rng.choice(texts), reason=rng.choice(texts))
                  for i in range(40)]
        previous = b""
        for event, row in zip(events, event_rows(case_id, events)):
            previous = event_hash(previous, case_id, event)
            assert row[-1] == previous, event


def test_values_built_without_their_init_equal_the_dataclass_built_ones():
    """model.filled / case_with_defaults skip the frozen __init__ for speed: the objects
    must be the ones the constructor makes (equal, same fields in the same order), an
    import's case must set every field Case() requires, and each gets its own `extra`."""
    from dataclasses import fields

    from esc_cli.domain.model import CASE_REQUIRED, Case, Event, case_with_defaults
    from esc_cli.domain.values import filled
    from esc_cli.domain.records import Checker, case_of, check_case
    from esc_cli.domain.sla import _trace, ClockTrace
    from esc_cli.store.cases import _row_values, case_from_row

    required = {name: index for index, name in enumerate(CASE_REQUIRED)}
    built = case_with_defaults(required)
    made = Case(**required)
    assert built == made and list(vars(built)) == list(vars(made))
    assert built.extra == {} and built.extra is not case_with_defaults(required).extra
    assert case_from_row(_row_values(made)) == made
    event = filled(Event, {"at": 1, "actor": "a", "kind": "note", "field": None,
                           "from_value": None, "to_value": None, "reason": "r"})
    assert event == Event(1, "a", "note", reason="r")
    trace = _trace("response", 60, "24x7", "UTC", 1, None, (), 50, 61, "running")
    assert trace == ClockTrace("response", 60, "24x7", "UTC", 1, None, (), 50, 61, "running")
    assert list(vars(trace)) == [f.name for f in fields(ClockTrace)]

    from esc_cli.domain.policy import default_policy

    policy = default_policy()
    record, reasons = check_case({"title": "t", "customer": "c", "priority": "low"},
                                 Checker(policy, {}, "UTC", 1_790_000_000, frozenset()))
    assert reasons == []
    case = case_of(record, 7, 1)
    assert all(getattr(case, name) is not None for name in CASE_REQUIRED)
    assert list(vars(case)) == [f.name for f in fields(Case)]
