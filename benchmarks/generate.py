#!/usr/bin/env python3
"""Build a seeded esc store of N realistic support cases, fast, for the benchmarks.

  python benchmarks/generate.py N OUT.db [--seed 42] [--jobs 2]
         [--import-rows K] [--tw TASKS.json] [--now 2026-11-18T14:00:00Z]

Writes next to OUT.db:
  OUT.db.json         manifest: counts, NOW, the sweep window, timings
  OUT.import.csv      K cases (default min(N, 100000)) for `esc import`, with history
  OUT.import-base.db  an initialised store holding only the policy and owners, the
                      target a benchmark imports OUT.import.csv into (owners must exist)
  TASKS.json          (with --tw) the same cases as a taskwarrior 2.6 `task import`
                      array, in the yardstick tw_gen.py format

How the store is made, and why it is trustworthy:
- `services.init_store` creates the schema and the default policy, so the store is
  exactly what `esc init` makes (all migrations, including any search index).
- Every case is played through the domain: `lifecycle` moves for what agents do
  (open, ack, notes, escalate, pending/resume, resolve, feedback, reopen, close),
  and, between them, the sweep's own decisions (`sweep.plan`) at the instants
  `settle` schedules it (`sweep_at`), exactly as a cron job running every minute
  would have written them: warnings, breaches, escalations, closes. Derived
  columns come from `lifecycle.settle`, hashes from `model.event_hash`, and
  notifications from `notices.notifications_for`. So `esc doctor` passes and, at
  NOW, `esc sweep` has nothing to do.
- A case whose life cannot have met a warn or due instant (the common case) is
  settled once; only the rest pay for the step-by-step sweep replay. Work is
  spread over processes; the parent bulk-inserts with executemany in one
  transaction with the indexes dropped and rebuilt afterwards.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import sqlite3
import sys
import time
import uuid
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

DAY = 86400
HOUR = 3600
DEFAULT_NOW = "2026-11-18T14:00:00Z"  # a Wednesday afternoon: business clocks are running
GENERATOR_VERSION = 3  # 2: the report's per-case columns (migration 0008); 3: resolution_decided_at (0012)
BENCH_USER = "bench"

PRIORITIES = (("urgent", 0.07), ("high", 0.23), ("medium", 0.45), ("low", 0.25))
CATEGORIES = (("technical", 0.36), ("billing", 0.2), ("service-delay", 0.12), ("policy", 0.07),
              ("product-quality", 0.15), ("other", 0.1))
CHANNELS = (("email", 0.45), ("chat", 0.2), ("phone", 0.15), ("web", 0.15), ("other", 0.05))
TEAM_OF = {"technical": "platform", "billing": "billing", "service-delay": "logistics",
           "policy": "trust", "product-quality": "quality", "other": None}
TAGS = ("vip", "outage", "refund", "api", "mobile", "eu", "renewal", "onboarding", "security")

CUSTOMER_A = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne",
              "Tyrell", "Cyberdyne", "Soylent", "Wonka", "Gringotts", "Oscorp", "Aperture",
              "Pied Piper", "Massive Dynamic", "Dunder Mifflin", "Blue Sun", "Monarch",
              "Northwind", "Contoso", "Fabrikam", "Tailspin", "Litware", "Adatum", "Proseware",
              "Lucerne", "Wingtip", "Woodgrove", "Alpine", "Bellows", "Cobalt", "Drift",
              "Ember", "Fjord", "Granite", "Harbor", "Ironwood", "Juniper")
CUSTOMER_B = ("Ltd", "GmbH", "Inc", "Labs", "Logistics", "Foods", "Health", "Bank", "Retail",
              "Systems", "Media", "Energy", "Travel", "Insurance", "Telecom", "Studios",
              "Analytics", "Robotics", "Pharma", "Airlines")
PROBLEMS = (
    ("cannot log in with SSO", "SSO login"), ("VPN tunnel drops every few minutes", "VPN tunnel"),
    ("invoice PDF shows the wrong VAT", "invoice PDF"), ("duplicate charge on the card", "duplicate charge"),
    ("CSV export times out", "CSV export"), ("webhook deliveries fail with 502", "webhook deliveries"),
    ("password reset email never arrives", "password reset email"),
    ("mobile app crashes on start", "mobile app"), ("API returns 429 rate limit errors", "API rate limit"),
    ("TLS certificate expired on the custom domain", "TLS certificate"),
    ("refund not received after 14 days", "refund"), ("shipment delayed at customs", "shipment"),
    ("data import stuck at 99%", "data import"), ("2FA codes rejected", "2FA codes"),
    ("dashboard loads forever", "dashboard"), ("license key reported as invalid", "license key"),
    ("calendar sync duplicates events", "calendar sync"), ("search returns stale results", "search index"),
    ("report totals do not match billing", "report totals"), ("user seats not released", "user seats"),
    ("audit log missing entries", "audit log"), ("SAML metadata rejected", "SAML metadata"),
    ("delivery address cannot be changed", "delivery address"), ("contract renewal price wrong", "renewal price"),
    ("printer driver fails to install", "printer driver"), ("Kerberos ticket errors on the gateway", "Kerberos ticket"),
)
NOTE_OPENERS = ("Checked the logs:", "Reproduced it:", "Customer confirms", "Asked the customer for",
                "Escalation desk notes", "Workaround sent:", "Engineering says", "Followed up:",
                "Called the customer:", "Still investigating;")
NOTE_BODIES = (
    "the {thing} fails after the latest release, HAR file attached",
    "{thing} works in a private window, so it looks like a cached session",
    "screenshots and the request id for the {thing} issue",
    "a fix for the {thing} is scheduled for the next deploy window",
    "restarting the connector clears the {thing} problem for about an hour",
    "the {thing} problem only affects accounts migrated last quarter",
    "we rolled back the {thing} configuration change, waiting for confirmation",
    "credited the account while the {thing} issue is open",
    "the {thing} problem matches a known bug, linked to the engineering ticket",
    "the customer will retry the {thing} tomorrow morning and report back",
)
RESOLUTIONS = ("Fixed by configuration change", "Patched in the latest release", "Refund issued",
               "Customer error, explained the setup", "Workaround accepted by the customer",
               "Duplicate of an earlier case", "Replaced the faulty component")
FIRST_NAMES = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
               "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter",
               "yusuf", "zoe", "amara", "bruno", "chen", "dalia", "emeka", "fatima", "goran", "hana",
               "ines", "jonas", "kenji", "leila", "marek", "nadia", "omar", "priya", "quentin",
               "rosa", "sven", "tariq", "uma", "vera", "wanda", "xavier", "yara", "zeno", "aiko",
               "birgit", "carlos")
OWNER_TIERS = (1,) * 30 + (2,) * 12 + (3,) * 6 + (4,) * 2


def iso(instant: int | None) -> str | None:
    if instant is None:
        return None
    return datetime.fromtimestamp(instant, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def pick(rng: random.Random, weighted) -> str:
    r = rng.random()
    for value, weight in weighted:
        r -= weight
        if r < 0:
            return value
    return weighted[-1][0]


def make_owners():
    from esc_cli.domain.model import Owner

    teams = ("platform", "billing", "logistics", "trust", "quality")
    owners = []
    for index, handle in enumerate(FIRST_NAMES):
        tier = OWNER_TIERS[index]
        owners.append(Owner(handle=handle, name=handle.capitalize(), email=f"{handle}@support.example",
                            tier=tier, teams=(teams[index % len(teams)],),
                            capacity=None if tier > 1 else 60, active=True))
    return owners


# -- one case's life ---------------------------------------------------------------------

# Case fields holding instants: a life shifted in time moves exactly these.
INSTANT_FIELDS = ("opened_at", "acknowledged_at", "resolved_at", "closed_at", "respond_by",
                  "respond_warn", "update_by", "update_warn", "resolve_by", "resolve_warn",
                  "due_at", "warn_at", "paused_since", "tier_since", "last_activity_at",
                  "last_event_at", "sweep_at", "resolution_at", "feedback_at",
                  "resolution_decided_at")
WEEK = 7 * DAY
EPOCH_ORDINAL = datetime(1970, 1, 1).toordinal()


def shift_period(calendar) -> int | None:
    """The shifts a calendar is invariant under: any (1) for 24x7, whole weeks for a
    UTC business calendar without holidays, none otherwise."""
    if calendar.name == "24x7":
        return 1
    if (getattr(calendar, "_utc", False) and not getattr(calendar, "holidays", ())
            and not getattr(calendar, "country", None)):
        return WEEK
    return None


class Life:
    """Plays cases through the domain; one per worker process.

    A life is (case, events, batches): the settled case, its events in order, and
    for every write that notifies, the case as it was then and that write's events
    (the notifications are built from them when rows are made)."""

    def __init__(self, policy_text: str, now: int, policy_version: int, seed: int):
        from esc_cli.domain.policy import parse_policy

        self.seed = seed
        self.policy = parse_policy(policy_text)
        self.now = now
        self.version = policy_version
        self.owners = {o.handle: o for o in make_owners()}
        self.by_tier: dict[int, list] = {}
        for owner in self.owners.values():
            self.by_tier.setdefault(owner.tier, []).append(owner)
        self.close_after = self.policy.close_after
        self._prep: dict[int, tuple] = {}
        self.verify = 0  # replay every verify-th settle-once life step by step, to compare
        self.verified = 0

    def cal(self, priority):
        return self.policy.calendar_for(priority)

    def later(self, cal, start: int, seconds: float) -> int:
        return cal.add(start, max(1, int(seconds)))

    def back(self, cal, end: int, seconds: float) -> int:
        """The instant from which `seconds` of working time run up to `end`."""
        seconds = int(seconds)
        if cal.name == "24x7":
            return end - seconds
        if getattr(cal, "_utc", False) and seconds > 0:
            # walk the working intervals backwards, day by day
            ordinal = end // DAY + EPOCH_ORDINAL
            remaining = seconds
            for _ in range(3660):
                for a, b in reversed(cal.day_intervals(ordinal)):
                    b = min(b, end)
                    if b > a:
                        if remaining <= b - a:
                            return b - remaining
                        remaining -= b - a
                ordinal -= 1
        low, high = end - 60 * DAY, end
        while high - low > 1:  # working(start, end) falls as start moves later
            mid = (low + high) // 2
            if cal.working(mid, end) > seconds:
                low = mid
            else:
                high = mid
        return high

    def text(self, rng, thing):
        return f"{rng.choice(NOTE_OPENERS)} {rng.choice(NOTE_BODIES).format(thing=thing)}."

    def rng_for(self, plan_index: int) -> random.Random:
        # keyed by the place in the plan, not the id: phase 1 learns an unresolved case's
        # opening instant and phase 2 replays exactly the same life under its final id
        return random.Random(self.seed * 1_000_003 + plan_index)

    def base(self, rng, case_id: int, opened_at: int):
        priority = pick(rng, PRIORITIES)
        category = pick(rng, CATEGORIES)
        problem, thing = rng.choice(PROBLEMS)
        customer = f"{rng.choice(CUSTOMER_A)} {rng.choice(CUSTOMER_B)}"
        title = f"{customer}: {problem}"
        description = (f"Reported via {pick(rng, CHANNELS)}: {problem}. "
                       f"Affects {rng.choice(('one user', 'several users', 'the whole team', 'all sites'))}.")
        tags = tuple(sorted(set(rng.sample(TAGS, rng.choice((0, 0, 1, 1, 2))))))
        team = TEAM_OF[category] if rng.random() < 0.5 else None
        tier = 2 if rng.random() < 0.05 else 1
        owner = rng.choice(self.by_tier[tier]) if rng.random() < 0.75 else None
        return dict(id=case_id, title=title, customer=customer, priority=priority, category=category,
                    channel=pick(rng, CHANNELS), description=description, tier=tier, team=team,
                    owner=owner, tags=tags, opened_at=opened_at, thing=thing)

    def historical(self, rng, spec) -> list:
        """Human moves of a case that ends resolved (or closed) before NOW. Agents on a
        business-hours priority act in business hours; most cases are answered and
        resolved well inside their targets, a few late (the sweep replay records those)."""
        priority = spec["priority"]
        cal = self.cal(priority)
        target = self.policy.priorities[priority]
        upd = target.update
        o = spec["opened_at"]
        moves = []
        t = self.later(cal, o, target.respond * rng.lognormvariate(-1.3, 0.6))
        if spec["owner"] is None:
            moves.append((t, "assign", rng.choice(self.by_tier[spec["tier"]]).handle))
        moves.append((t, "customer_update" if rng.random() < 0.2 else "ack", None))
        resolve_at = max(self.later(cal, o, target.resolve * rng.lognormvariate(-1.5, 0.7)), t + 300)
        pause = None
        if rng.random() < 0.1:  # waiting on the customer for a while
            start = t + int((resolve_at - t) * rng.uniform(0.1, 0.6))
            pause = (start, start + int(rng.uniform(1, 72) * HOUR))
            moves.append((pause[0], "pending", None))
            moves.append((pause[1], "resume", None))
            resolve_at += pause[1] - pause[0]
        if rng.random() < 0.14:
            moves.append((t + int((resolve_at - t) * rng.uniform(0.2, 0.7)), "escalate", None))
        if rng.random() < 0.6 or upd is None:
            moves.append((t + int((resolve_at - t) * rng.uniform(0.05, 0.95)), "note", None))
        self._updates(rng, cal, upd, t, resolve_at, pause, moves)
        moves.sort(key=lambda m: m[0])
        moves.append((max(resolve_at, moves[-1][0] + 60), "resolve", None))
        end = moves[-1][0]
        if rng.random() < 0.03:  # reopened, then resolved again within an update cycle
            back = end + int(rng.uniform(2, 48) * HOUR)
            moves.append((back, "reopen", None))
            end = self.later(cal, back, (upd or target.resolve // 4) * rng.uniform(0.2, 0.75))
            moves.append((end, "resolve", None))
        if rng.random() < 0.25:
            moves.append((end + int(rng.uniform(1, 72) * HOUR), "feedback", None))
        if rng.random() < 0.15:
            moves.append((end + int(rng.uniform(0.5, 48) * HOUR), "close", None))
        moves.sort(key=lambda m: m[0])
        return moves

    def _updates(self, rng, cal, upd, start, until, pause, moves, most=6):
        """Customer-visible updates, each inside an update cycle of the one before (the
        clock restarts at every update and at resume)."""
        if upd is None:
            return
        cursor, made = start, 0
        while made < most:
            cursor = self.later(cal, cursor, upd * rng.uniform(0.25, 0.78))
            if pause and pause[0] <= cursor < pause[1]:
                cursor = pause[1]
                continue
            if cursor >= until:
                return
            moves.append((cursor, "customer_update", None))
            made += 1

    def unresolved(self, rng, spec, state: str, health: str) -> list:
        """Human moves of a case still new/open/pending at NOW, placed so its clocks are
        ok, at risk or breached at NOW as asked (the sweep replay then records what a
        minutely cron would have)."""
        priority = spec["priority"]
        cal = self.cal(priority)
        target = self.policy.priorities[priority]
        now = self.now
        moves = []
        if state == "new":
            share = {"ok": rng.uniform(0.02, 0.75), "at_risk": rng.uniform(0.83, 0.97),
                     "breached": rng.uniform(1.05, 4.0)}[health]
            spec["opened_at"] = self.back(cal, now - 30, target.respond * share)
            return moves
        if state == "pending":
            o = self.back(cal, now - 60, target.resolve * rng.uniform(0.05, 0.6))
            spec["opened_at"] = o
            t = self.later(cal, o, target.respond * rng.uniform(0.05, 0.6))
            moves.append((t, "ack", None))
            p = t + int((now - t) * rng.uniform(0.3, 0.95))
            moves.append((p, "pending", None))
            return moves
        # open: the resolution clock and (if the priority has one) the update clock run
        upd = target.update
        res_share = rng.uniform(0.05, 0.7)
        upd_share = rng.uniform(0.05, 0.7)
        if health == "at_risk":
            if upd and rng.random() < 0.6:
                upd_share = rng.uniform(0.83, 0.97)
            else:
                res_share = rng.uniform(0.83, 0.97)
        elif health == "breached":
            if upd and rng.random() < 0.3:
                upd_share = rng.uniform(1.05, 3.0)
            else:
                res_share = rng.uniform(1.05, 3.0)
        o = self.back(cal, now - 60, target.resolve * res_share)
        spec["opened_at"] = o
        first = min(self.later(cal, o, target.respond * rng.uniform(0.05, 0.7)), now - 120)
        last_update = self.back(cal, now - 30, upd * upd_share) if upd else first
        if last_update <= first + 60:
            last_update = first  # the first response starts the update clock
        if spec["owner"] is None and rng.random() < 0.7:
            moves.append((first, "assign", rng.choice(self.by_tier[spec["tier"]]).handle))
        moves.append((first, "ack", None))
        if last_update > first:
            middle = first + (last_update - first) // 2
            moves.append((middle, "note", None))
            moves.append((last_update, "customer_update", None))
        else:
            moves.append((min(now - 10, first + int((now - first) * rng.uniform(0.2, 0.9))), "note", None))
        if rng.random() < 0.15:
            moves.append((first + int((now - first) * rng.uniform(0.1, 0.9)), "escalate", None))
        moves.sort(key=lambda m: m[0])
        return moves

    # playing it ----------------------------------------------------------------------

    def spec_and_moves(self, plan_index: int, opened_at: int | None, kind: str):
        rng = self.rng_for(plan_index)
        spec = self.base(rng, 0, opened_at or 0)
        if kind == "historical":
            moves = self._before_now(spec["opened_at"], self.historical(rng, spec))
        else:
            _, state, health = kind.split(":")
            moves = self.unresolved(rng, spec, state, health)
        fixed, last = [], spec["opened_at"]
        for at, move, arg in moves:  # times never go backwards nor past NOW
            at = max(at, last)
            if at > self.now:
                break
            fixed.append((at, move, arg))
            last = at
        return rng, spec, fixed

    def _before_now(self, o: int, moves: list) -> list:
        """A historical case is resolved by NOW: a life that would end later is squeezed
        into the time it had (feedback and closes that fall after NOW are dropped)."""
        end = max(at for at, move, _ in moves if move == "resolve")
        limit = self.now - 60
        if end <= limit:
            return moves
        scale = (limit - o) / (end - o)
        return [(o + int((at - o) * scale) if at <= end else at, move, arg) for at, move, arg in moves]

    def play(self, case_id: int, plan_index: int, opened_at: int | None, kind: str):
        from esc_cli.domain import lifecycle

        rng, spec, moves = self.spec_and_moves(plan_index, opened_at, kind)
        policy = self.policy
        owner = spec["owner"]

        def opened():
            case, events = lifecycle.open_case(
                title=spec["title"], customer=spec["customer"], priority=spec["priority"],
                category=spec["category"], channel=spec["channel"], description=spec["description"],
                tier=spec["tier"], team=spec["team"], owner=owner, tags=spec["tags"], policy=policy,
                policy_version=self.version, now=spec["opened_at"],
                actor=owner.handle if owner else "intake")
            return replace(case, id=case_id), events

        state = rng.getstate()
        case, events = opened()
        life = self._fast(rng, spec, case, events, moves)
        if life is not None and not (self.verify and plan_index % self.verify == 0):
            return life
        rng.setstate(state)  # the same draws again: only the sweep's part may differ
        case, events = opened()
        case = lifecycle.settle(case, events, policy)
        batches: list = []
        for at, move, arg in moves:
            case, events = self._sweep_until(case, events, at, batches)
            if case.state == "closed" and move != "feedback":
                continue
            case, new = self._human(rng, spec, case, move, arg, at)
            if not new:
                continue
            events = events + new
            case = lifecycle.settle(case, events, policy)
            self._batch(case, new, batches)
        case, events = self._sweep_until(case, events, self.now, batches)
        if life is not None and (life[0], life[1], len(life[2])) != (case, events, len(batches)):
            raise AssertionError(f"plan entry {plan_index}: the settle-once life differs from the replay")
        self.verified += life is not None
        return case, events, batches

    def _fast(self, rng, spec, case, events, moves):
        """The human moves and the sweep's close, settled once, when the life provably
        never reached a warn instant up to NOW (so the sweep did nothing else); None
        otherwise, and the caller replays the sweep step by step."""
        from esc_cli.domain import lifecycle
        from esc_cli.domain.sla import timeline

        from esc_cli.domain import sweep as sweep_domain

        policy = self.policy
        closing = sweep_domain.SweepPlan(close=True)
        batches: list = []
        for at, move, arg in moves:
            if case.state == "resolved":
                close_at = case.resolved_at + self.close_after
                if close_at <= at:
                    case, new = sweep_domain.apply(case, closing, policy, close_at, None)
                    events = events + new
            if case.state == "closed" and move != "feedback":
                continue
            case, new = self._human(rng, spec, case, move, arg, at)
            events = events + new
            self._batch(case, new, batches)
            if move in ("resolve", "reopen") and new:
                case = replace(case, resolved_at=at if move == "resolve" else None)
        if case.state == "resolved":
            close_at = case.resolved_at + self.close_after
            if close_at <= self.now:
                case, new = sweep_domain.apply(case, closing, policy, close_at, None)
                events = events + new
        case = lifecycle.settle(case, events, policy)
        now = self.now
        done = case.state in ("resolved", "closed")
        cal = self.cal(case.priority)
        target = policy.priorities[case.priority]
        # the response clock stopped, or still runs, short of its warn instant
        if (case.acknowledged_at if case.acknowledged_at is not None else now) >= case.respond_warn:
            return None
        # the resolution clock ran no longer than up to its stop (or NOW), which is
        # short of the warn instant it had with no pause at all
        if (case.resolved_at if done else now) >= cal.add(
                case.opened_at, int(round(target.resolve * policy.warn_at))):
            return None
        # every update cycle stopped, restarted or (still running) reached NOW before
        # its warn instant
        if target.update is not None:
            line = timeline(events)
            marks = sorted(set(line.update_restarts) | set(line.update_stops))
            warn_span = int(round(target.update * policy.warn_at))
            for start in line.update_restarts:
                after = next((m for m in marks if m > start), None)
                if after is None:
                    if case.state != "open":
                        return None
                    after = now
                if after >= cal.add(start, warn_span):
                    return None
        if case.sweep_at is not None and case.sweep_at <= self.now:
            return None
        return case, events, batches

    def _human(self, rng, spec, case, move, arg, at):
        from esc_cli.domain import lifecycle
        from esc_cli.errors import EscError

        actor = case.owner or "intake"
        policy = self.policy
        try:
            if move == "assign":
                owner = self.owners[arg]
                return lifecycle.assign(case, owner, 0, True, at, owner.handle)
            if move == "ack":
                if case.state != "new":
                    return case, []
                return lifecycle.acknowledge(case, at, actor)
            if move in ("note", "customer_update"):
                return lifecycle.note(case, self.text(rng, spec["thing"]), move == "customer_update", at, actor)
            if move == "escalate":
                if case.tier >= policy.top_tier:
                    return case, []
                new_tier = case.tier + 1
                target = rng.choice(self.by_tier[new_tier]) if rng.random() < 0.6 else None
                current = self.owners.get(case.owner) if case.owner else None
                reason = rng.choice(("needs a specialist", "customer asked for a manager",
                                     "workaround failed", "possible bug, needs engineering",
                                     "key account, high visibility"))
                return lifecycle.escalate(case, policy, reason=reason, to=None, team=None,
                                          owner=target, current_owner=current, now=at, actor=actor)
            if move == "pending":
                if case.state != "open":
                    return case, []
                return lifecycle.set_pending(case, "waiting for logs from the customer", at, actor)
            if move == "resume":
                if case.state != "pending":
                    return case, []
                return lifecycle.resume(case, at, actor)
            if move == "resolve":
                if case.state not in ("new", "open", "pending"):
                    return case, []
                return lifecycle.resolve(case, rng.choice(RESOLUTIONS), at, actor)
            if move == "reopen":
                if case.state != "resolved":
                    return case, []
                return lifecycle.reopen(case, "customer says the problem is back", at, actor)
            if move == "feedback":
                if case.state not in ("resolved", "closed"):
                    return case, []
                csat = pick(rng, ((5, 0.45), (4, 0.3), (3, 0.12), (2, 0.08), (1, 0.05)))
                return lifecycle.feedback(case, csat, None, at, "customer")
            if move == "close":
                if case.state != "resolved":
                    return case, []
                return lifecycle.close(case, at, actor)
        except EscError:
            return case, []
        raise ValueError(move)

    def _sweep_until(self, case, events, limit, batches):
        """What a minutely `esc sweep` writes up to `limit`: the domain's plan, carried
        out by the domain's apply, at each instant `settle` scheduled."""
        from esc_cli.domain import lifecycle
        from esc_cli.domain import sweep as sweep_domain

        policy = self.policy
        for _ in range(64):
            at = case.sweep_at
            if at is None or at > limit:
                break
            at = max(at, case.last_event_at)
            if at > limit:
                break
            plan = sweep_domain.plan(case, events, policy, at)
            if plan.empty:
                break
            current = self.owners.get(case.owner) if case.owner else None
            changed, new = sweep_domain.apply(case, plan, policy, at, current)
            events = events + new
            case = lifecycle.settle(changed, events, policy)
            self._batch(case, new, batches)
        return case, events

    def _batch(self, case, new, batches):
        if any(e.kind in ("escalated", "warned", "breached") for e in new):
            batches.append((case, new))

    def _texts(self, rng, channel: str):
        problem, thing = rng.choice(PROBLEMS)
        customer = f"{rng.choice(CUSTOMER_A)} {rng.choice(CUSTOMER_B)}"
        reach = rng.choice(("one user", "several users", "the whole team", "all sites"))
        return thing, dict(title=f"{customer}: {problem}", customer=customer,
                           description=f"Reported via {channel}: {problem}. Affects {reach}.")

    def instance(self, template, case_id: int, delta: int, plan_index: int):
        """The template's life moved by `delta` seconds, under a new id and with its own
        customer, title and notes. Exact when the calendar is invariant under the shift
        (`shift_period`): every derived column moves by delta, nothing else changes."""
        from esc_cli.domain.model import Event

        case0, events0, batches0 = template
        rng = self.rng_for(plan_index)
        thing, texts = self._texts(rng, case0.channel)
        moved = {name: (None if getattr(case0, name) is None else getattr(case0, name) + delta)
                 for name in INSTANT_FIELDS}
        case = replace(case0, id=case_id, **texts, **moved)
        events, same = [], {}
        for event in events0:
            reason, to = event.reason, event.to_value
            if event.kind in ("note", "customer_update"):
                reason = self.text(rng, thing)
            elif event.kind in ("warned", "breached"):
                to = iso(parse_iso(to) + delta)
            new = Event(event.at + delta, event.actor, event.kind, event.field, event.from_value, to, reason)
            same[id(event)] = new
            events.append(new)
        batches = [(replace(snap, id=case_id, **texts), [same[id(e)] for e in batch])
                   for snap, batch in batches0]
        return case, events, batches

    def _prepared(self, index: int):
        """A template as row values and event tuples, so an instance is a few patches."""
        found = self._prep.get(index)
        if found is None:
            from esc_cli.store.cases import CASE_COLUMNS, _row_values

            case0, events0, batches0 = _TEMPLATES[index]
            positions = {id(e): i for i, e in enumerate(events0)}
            found = (
                _row_values(case0),
                [CASE_COLUMNS.index(name) for name in INSTANT_FIELDS],
                [CASE_COLUMNS.index(name) for name in ("id", "title", "customer", "description")],
                [(e.at, e.actor, e.kind, e.field, e.from_value, e.to_value, e.reason) for e in events0],
                [(snap, [positions[id(e)] for e in batch]) for snap, batch in batches0],
                case0.channel,
            )
            self._prep[index] = found
        return found

    def instance_rows(self, index: int, case_id: int, delta: int, plan_index: int, event_count: bool):
        """`rows(instance(...))` without building a Case or Events: same values, same
        random draws in the same order (checked on a sample by `_worker_chunk`)."""
        from esc_cli.domain.model import Event

        row0, instants, (at_id, at_title, at_customer, at_description), events0, batches0, channel = \
            self._prepared(index)
        rng = self.rng_for(plan_index)
        thing, texts = self._texts(rng, channel)
        row = list(row0)
        for i in instants:
            if row[i] is not None:
                row[i] += delta
        row[at_id] = case_id
        row[at_title], row[at_customer], row[at_description] = texts["title"], texts["customer"], texts["description"]
        previous = b""
        event_rows = []
        for at, actor, kind, field, before, to, reason in events0:
            if kind in ("note", "customer_update"):
                reason = self.text(rng, thing)
            elif kind in ("warned", "breached"):
                to = iso(parse_iso(to) + delta)
            at += delta
            previous = _HASH(previous, case_id, at, actor, kind, field, before, to, reason)
            event_rows.append((case_id, at, actor, kind, field, before, to, reason, previous))
        note_rows = []
        if batches0:
            from esc_cli.domain import notices

            for snap, members in batches0:
                snap = replace(snap, id=case_id, **texts)
                new = [Event(*event_rows[i][1:8]) for i in members]
                owner = self.owners.get(snap.owner) if snap.owner else None
                for payload in notices.notifications_for(snap, new, owner.email if owner else None,
                                                         earlier=members[0]):
                    stored = {k: v for k, v in payload.items() if k != "recipient_label"}
                    note_rows.append((payload["id"], case_id, payload["kind"], payload["recipient_label"],
                                      parse_iso(payload["at"]), json.dumps(stored, ensure_ascii=False)))
        if event_count:
            row.append(len(event_rows))
        return tuple(row), event_rows, note_rows

    def rows(self, life, event_count: bool):
        """Store rows of a life: the case (plus event_count when the schema has it), the
        hash-chained events, and its notifications."""
        from esc_cli.domain import notices
        from esc_cli.domain.model import event_hash
        from esc_cli.store.cases import _row_values

        case, events, batches = life
        previous = b""
        event_rows = []
        for event in events:
            previous = event_hash(previous, case.id, event)
            event_rows.append((case.id, event.at, event.actor, event.kind, event.field,
                               event.from_value, event.to_value, event.reason, previous))
        note_rows = []
        positions = {id(e): i for i, e in enumerate(events)}  # a batch's events are the life's
        for snap, new in batches:
            owner = self.owners.get(snap.owner) if snap.owner else None
            for payload in notices.notifications_for(snap, new, owner.email if owner else None,
                                                     earlier=positions[id(new[0])]):
                stored = {k: v for k, v in payload.items() if k != "recipient_label"}
                note_rows.append((payload["id"], case.id, payload["kind"], payload["recipient_label"],
                                  parse_iso(payload["at"]), json.dumps(stored, ensure_ascii=False)))
        row = _row_values(case)
        if event_count:
            row.append(len(events))
        return tuple(row), event_rows, note_rows

    def check(self, life) -> None:
        """A shifted life must be what the domain makes of its events: re-settle it."""
        from esc_cli.domain import lifecycle

        case, events, _ = life
        again = lifecycle.settle(case, events, self.policy)
        if again != case:
            diff = {f: (getattr(case, f), getattr(again, f)) for f in INSTANT_FIELDS + ("state", "tier")
                    if getattr(case, f) != getattr(again, f)}
            raise AssertionError(f"case #{case.id}: shifted life disagrees with settle: {diff}")


def _fast_case_replace() -> None:
    """`dataclasses.replace` re-runs `__init__` over all 36 fields of a Case (~30 us a
    call, the largest cost of playing a million lives). Case is frozen, with no
    `__post_init__` and no validation, so copying its `__dict__` and overwriting the
    changed fields builds the same object; other dataclasses keep the library's
    replace. Patched only inside this generator's processes."""
    import dataclasses

    from esc_cli.domain import lifecycle, sla, sweep
    from esc_cli.domain.model import Case

    if "__post_init__" in vars(Case):
        return
    names = {f.name for f in dataclasses.fields(Case)}
    slow = dataclasses.replace

    def fast(obj, /, **changes):
        if type(obj) is not Case:
            return slow(obj, **changes)
        unknown = set(changes) - names
        if unknown:
            raise TypeError(f"unknown Case fields {sorted(unknown)}")
        new = object.__new__(Case)
        new.__dict__.update(obj.__dict__)
        new.__dict__.update(changes)
        return new

    for module in (lifecycle, sla, sweep):
        module.replace = fast
    globals()["replace"] = fast


# -- the event hash, fast ---------------------------------------------------------------------

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _fast_hash(previous, case_id, at, actor, kind, field, before, to, reason) -> bytes:
    """`model.event_hash` without building an Event or a JSON encoder per call."""
    import hashlib

    body = _ENCODER.encode([case_id, at, actor, kind, field, before, to, reason])
    return hashlib.sha256(previous + body.encode("utf-8", "surrogatepass")).digest()


def _domain_hash(previous, case_id, at, actor, kind, field, before, to, reason) -> bytes:
    from esc_cli.domain.model import Event, event_hash

    return event_hash(previous, case_id, Event(at, actor, kind, field, before, to, reason))


def _pick_hash():
    """The fast hash only if it agrees with the domain's on awkward samples."""
    samples = [(1, 1795010400, "sweep", "warned", "response", None, "2026-11-18T14:00:00Z", None),
               (99, 0, "zoë", "note", None, None, None, 'quote " back\\ tab\t nl\n ☃ \u2028 \x7f'),
               (7, -5, "a", "changed", "tags", "a;b", None, "")]
    previous = b"\x00" * 32
    for sample in samples:
        if _fast_hash(previous, *sample) != _domain_hash(previous, *sample):
            return _domain_hash
    return _fast_hash


_HASH = _fast_hash


# -- worker processes ------------------------------------------------------------------------

_LIFE: Life | None = None
_TEMPLATES: list = []  # set in the parent before the phase-2 pool forks
_EVENT_COUNT = False


def _worker_init(policy_text: str, now: int, version: int, seed: int, verify: int = 0) -> None:
    global _LIFE, _HASH
    _fast_case_replace()
    _HASH = _pick_hash()
    _LIFE = Life(policy_text, now, version, seed)
    _LIFE.verify = verify


def _worker_opened(items):
    """Phase 1: [(plan_index, kind)] -> [(plan_index, opened_at)] of unresolved cases."""
    return [(index, _LIFE.spec_and_moves(index, None, kind)[1]["opened_at"]) for index, kind in items]


def _worker_templates(items):
    """Phase T: [(plan_index, opened_at)] -> [(plan_index, life, period)], played in full."""
    found = []
    for index, opened in items:
        life = _LIFE.play(0, index, opened, "historical")
        found.append((index, life, shift_period(_LIFE.cal(life[0].priority))))
    return found


def _worker_chunk(items):
    """Phase 2: [(case_id, plan_index, opened_at, kind, template, delta, check)] -> rows."""
    cases, events, notes = [], [], []
    for case_id, index, opened, kind, template, delta, check in items:
        if template is None:
            row, event_rows, note_rows = _LIFE.rows(_LIFE.play(case_id, index, opened, kind), _EVENT_COUNT)
        else:
            row, event_rows, note_rows = _LIFE.instance_rows(template, case_id, delta, index, _EVENT_COUNT)
            if check:
                life = _LIFE.instance(_TEMPLATES[template], case_id, delta, index)
                _LIFE.check(life)
                if _LIFE.rows(life, _EVENT_COUNT) != (row, event_rows, note_rows):
                    raise AssertionError(f"case #{case_id}: fast rows differ from the domain's")
        cases.append(row)
        events.extend(event_rows)
        notes.extend(note_rows)
    return cases, events, notes


# -- the plan of the whole store -------------------------------------------------------

def plan_cases(n: int, now: int, seed: int, unresolved_share: float, breached_share: float,
               at_risk_share: float) -> list:
    """[opened_at or None, kind] for every case. An unresolved case's opening instant
    follows from the clock status it is to have at NOW, so phase 1 computes it."""
    rng = random.Random(seed)
    n_open = round(n * unresolved_share)
    plan = []
    for _ in range(n - n_open):
        # two years of history, busier lately (support volume grows)
        age = 730 * DAY * (1 - math.sqrt(rng.random()))
        plan.append([now - 4 * HOUR - int(age * 0.995), "historical"])
    for _ in range(n_open):
        r = rng.random()
        state = "new" if r < 0.22 else "pending" if r < 0.40 else "open"
        h = rng.random()
        if state == "pending":
            health = "ok"
        elif h < breached_share:
            health = "breached"
        elif h < breached_share + at_risk_share:
            health = "at_risk"
        else:
            health = "ok"
        plan.append([None, f"unresolved:{state}:{health}"])
    return plan


def template_count(historical: int) -> int:
    return min(historical, max(2000, historical // 40), 25_000)


# -- writing ---------------------------------------------------------------------------------

def _schema_objects(conn, tables):
    marks = ",".join("?" for _ in tables)
    return conn.execute(
        f"SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
        f"AND tbl_name IN ({marks}) AND sql IS NOT NULL", tables).fetchall()


def _fts_tables(conn) -> dict[str, bool]:
    """FTS5 tables -> whether they index an external content table ('rebuild' works)."""
    found = {}
    for name, sql in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' "
                                  "AND sql LIKE 'CREATE VIRTUAL TABLE%'"):
        text = " ".join(sql.lower().split())
        if "using fts5" in text:
            found[name] = "content =" in text.replace("content=", "content =") and "content = ''" not in text
    return found


def _load_plan(conn):
    """Which triggers to lift during the bulk load: those feeding an external-content
    search index (rebuilt in one pass after) and the event counter (written directly).
    Any other trigger stays and fires, so the store is never wrong, only slower to make."""
    fts = _fts_tables(conn)
    lifted = []
    for kind, name, sql in _schema_objects(conn, ("cases", "events", "notifications")):
        if kind != "trigger":
            continue
        body = " ".join(sql.lower().split())
        feeds = [t for t, external in fts.items() if external and f"into {t.lower()} " in body]
        if feeds or "set event_count = event_count + 1" in body:
            lifted.append((name, sql))
    columns = [r[1] for r in conn.execute("PRAGMA table_info(cases)")]
    return lifted, [t for t, external in fts.items() if external], "event_count" in columns


def init_store(path: Path, policy_at: int) -> tuple[str, int]:
    """An esc store as `esc init` makes it, plus the owners; returns (policy toml, version)."""
    from esc_cli import services
    from esc_cli.env import Env
    from esc_cli.store import people, policies

    env = Env(db_path=path, user=BENCH_USER, now=policy_at, tz="UTC", stdout_tty=False,
              stderr_tty=False, no_color=True)
    services.init_store(env, None)
    store = env.store()
    with store.write() as conn:
        for owner in make_owners():
            people.save_owner(conn, owner)
        version, text, _ = policies.current_parsed(conn)
    env.close()
    return text, version


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        p = Path(str(path) + suffix)
        if p.exists():
            p.unlink()


def generate(n: int, out: Path, seed: int = 42, now: int | None = None, jobs: int | None = None,
             unresolved_share: float = 0.10, breached_share: float = 0.02,
             at_risk_share: float = 0.02, chunk: int = 2000, progress: bool = True,
             check_share: float = 0.002, verify: bool = False) -> dict:
    """Build the store; returns its manifest. `verify` checks every life against the
    domain (slow: for tests); otherwise a sample of the shifted lives is checked."""
    global _TEMPLATES, _EVENT_COUNT
    started = time.perf_counter()
    now = parse_iso(DEFAULT_NOW) if now is None else now
    _remove(out)
    policy_text, version = init_store(out, now - 800 * DAY)
    jobs = jobs or os.cpu_count() or 1
    tty = progress and sys.stderr.isatty()

    def pool_map(fn, tasks):
        """fn over tasks, in order, in `jobs` forked workers (after the parent's state
        is set, so the children inherit it)."""
        if jobs == 1 or len(tasks) <= 1:
            _worker_init(policy_text, now, version, seed, 1 if verify else 0)
            yield from map(fn, tasks)
            return
        import multiprocessing as mp

        with mp.get_context("fork").Pool(jobs, initializer=_worker_init,
                                         initargs=(policy_text, now, version, seed, 1 if verify else 0)) as pool:
            yield from pool.imap(fn, tasks)

    def chunks(seq, size=chunk):
        return [seq[i:i + size] for i in range(0, len(seq), size)]

    # phase 1: when each unresolved case opened; phase T: the template lives
    plan = plan_cases(n, now, seed, unresolved_share, breached_share, at_risk_share)
    rng = random.Random(seed + 1)
    historical = [i for i, (_, kind) in enumerate(plan) if kind == "historical"]
    chosen = sorted(rng.sample(historical, template_count(len(historical))))
    unresolved = [(i, kind) for i, (opened, kind) in enumerate(plan) if opened is None]
    jobs_1 = [("opened", c) for c in chunks(unresolved)] + \
             [("template", c) for c in chunks([(i, plan[i][0]) for i in chosen], 500)]
    templates, meta, own = [], [], {}
    for kind, result in pool_map(_phase_one, jobs_1):
        if kind == "opened":
            for index, opened in result:
                plan[index][0] = opened
        else:
            for index, life, period in result:
                own[index] = len(templates)
                templates.append(life)
                # a life with sweep work still ahead (a resolved case not yet closed)
                # is only itself: moved earlier, that work would have happened
                meta.append((period if life[0].sweep_at is None else None,
                             life[0].opened_at, life[1][-1].at))

    # every other historical case is a template's life moved to (about) its own time
    items_by_index = {}
    shifted = 0
    for index in historical:
        opened = plan[index][0]
        template = own.get(index)
        if template is None:
            template = rng.randrange(len(templates))
        period, t_opened, t_last = meta[template]
        if period is None:
            if index in own:  # the template itself, as played
                items_by_index[index] = (t_opened, template, 0)
            else:
                items_by_index[index] = (opened, None, 0)
            continue
        delta = (opened - t_opened) if period == 1 else round((opened - t_opened) / period) * period
        if t_last + delta > now - 60:
            items_by_index[index] = (opened, None, 0)  # its life would run past NOW: play it
            continue
        items_by_index[index] = (t_opened + delta, template, delta)
        shifted += 1
    for index, kind in unresolved:
        items_by_index[index] = (plan[index][0], None, 0)
    order = sorted(range(n), key=lambda i, found=items_by_index: (found[i][0], i))
    check_every = 1 if verify else (max(1, int(1 / check_share)) if check_share else 0)
    items = []
    for case_id, index in enumerate(order, 1):
        opened, template, delta = items_by_index[index]
        check = bool(check_every) and template is not None and case_id % check_every == 0
        items.append((case_id, index, opened, plan[index][1], template, delta, check))
    del items_by_index, order
    planned = time.perf_counter()

    conn = sqlite3.connect(str(out), isolation_level=None)
    conn.execute("PRAGMA journal_mode = DELETE")  # leave WAL for the load; restored below
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -262144")
    lifted, rebuild, _EVENT_COUNT = _load_plan(conn)
    indexes = [(name, sql) for kind, name, sql in _schema_objects(conn, ("cases", "events", "notifications"))
               if kind == "index"]
    from esc_cli.store.cases import CASE_COLUMNS

    columns = list(CASE_COLUMNS) + (["event_count"] if _EVENT_COUNT else [])
    insert_case = f"INSERT INTO cases ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    insert_event = ("INSERT INTO events (case_id, at, actor, kind, field, from_value, to_value, "
                    "reason, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
    insert_note = ("INSERT OR IGNORE INTO notifications (id, case_id, kind, recipient, created_at, "
                   "payload) VALUES (?, ?, ?, ?, ?, ?)")
    counts = {"cases": 0, "events": 0, "notifications": 0}
    conn.execute("BEGIN")
    # indexes are built once, sorted, at the end: far faster than row by row
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    for name, _ in lifted:
        conn.execute(f'DROP TRIGGER "{name}"')
    _TEMPLATES = templates
    for cases, events, notes in pool_map(_worker_chunk, chunks(items)):
        conn.executemany(insert_case, cases)
        conn.executemany(insert_event, events)
        if notes:
            conn.executemany(insert_note, notes)
        counts["cases"] += len(cases)
        counts["events"] += len(events)
        counts["notifications"] += len(notes)
        if tty:
            sys.stderr.write(f"\rgenerate: {counts['cases']:,}/{n:,} cases")
            sys.stderr.flush()
    _TEMPLATES = []
    loaded = time.perf_counter()
    for _, sql in indexes:
        conn.execute(sql)
    for table in rebuild:
        conn.execute(f'INSERT INTO "{table}"("{table}") VALUES (\'rebuild\')')
    for _, sql in lifted:
        conn.execute(sql)
    # the reopened cases' earlier resolution cycles, as esc's writes keep them
    from esc_cli.store.cycles import replay

    replay(conn)
    # each escalation's wait for an owner (migration 0018), as esc's writes record them
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'owner_times'").fetchone():
        from esc_cli.store.owner_times import fill

        fill(conn)
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode = WAL")
    if tty:
        sys.stderr.write("\n")
    indexed = time.perf_counter()
    manifest = describe(conn, n, now, seed)
    manifest.update(counts)
    manifest["templates"] = len(templates)
    manifest["shifted_lives"] = shifted
    manifest["checked_lives"] = sum(1 for item in items if item[6])
    manifest["search_indexes_rebuilt"] = rebuild
    manifest["seconds"] = {"plan": round(planned - started, 2), "load": round(loaded - planned, 2),
                           "index": round(indexed - loaded, 2),
                           "total": round(time.perf_counter() - started, 2)}
    conn.close()
    return manifest


def _phase_one(job):
    kind, items = job
    return kind, (_worker_opened(items) if kind == "opened" else _worker_templates(items))



def describe(conn, n, now, seed) -> dict:
    """The manifest: what the runner needs to pick cases and windows, and what a reader
    needs to judge the data (state mix, SLA health at NOW)."""
    states = dict(conn.execute("SELECT state, count(*) FROM cases GROUP BY state").fetchall())
    breached = conn.execute(
        "SELECT count(*) FROM cases WHERE state IN ('new', 'open', 'pending') AND due_at <= ?", (now,)).fetchone()[0]
    at_risk = conn.execute(
        "SELECT count(*) FROM cases WHERE state IN ('new', 'open', 'pending') AND warn_at <= ? AND due_at > ?",
        (now, now)).fetchone()[0]
    due_now = conn.execute("SELECT count(*) FROM cases WHERE sweep_at <= ?", (now,)).fetchone()[0]
    window = conn.execute(
        "SELECT sweep_at FROM cases WHERE sweep_at > ? ORDER BY sweep_at LIMIT 1 OFFSET 999", (now,)).fetchone()
    if window is None:
        window = conn.execute("SELECT max(sweep_at) FROM cases WHERE sweep_at > ?", (now,)).fetchone()
    sweep_until = window[0] if window and window[0] else now + 60
    falling_due = conn.execute(
        "SELECT count(*) FROM cases WHERE sweep_at > ? AND sweep_at <= ?", (now, sweep_until)).fetchone()[0]
    return {
        "generator_version": GENERATOR_VERSION,
        "n": n,
        "seed": seed,
        "now": iso(now),
        "now_epoch": now,
        "states": states,
        "breached_at_now": breached,
        "at_risk_at_now": at_risk,
        "sweep_due_at_now": due_now,
        "sweep_window_until": iso(sweep_until),
        "sweep_window_cases": falling_due,
    }


def write_import_csv(db: Path, path: Path, rows: int) -> int:
    """A sample of the store's cases, spread over all of it (so the state mix holds), as
    an `esc import` CSV: the case fields with the history columns import replays."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    total = conn.execute("SELECT count(*) FROM cases").fetchone()[0]
    step = max(1, total // max(rows, 1))
    fields = ["title", "description", "customer", "category", "priority", "channel", "tier",
              "team", "owner", "state", "tags", "opened_at", "acknowledged_at", "resolved_at",
              "closed_at"]
    written = 0
    with open(path, "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(fields)
        cursor = conn.execute(
            f"SELECT {', '.join(fields)} FROM cases WHERE (id - 1) % ? = 0 ORDER BY id LIMIT ?", (step, rows))
        for row in cursor:
            values = list(row)
            values[fields.index("tags")] = ";".join(json.loads(values[fields.index("tags")] or "[]"))
            for name in ("opened_at", "acknowledged_at", "resolved_at", "closed_at"):
                i = fields.index(name)
                values[i] = iso(values[i]) or ""
            out.writerow(["" if v is None else v for v in values])
            written += 1
    conn.close()
    return written


TW_PRIORITY = {"urgent": "H", "high": "M", "medium": "L", "low": None}


def write_taskwarrior(db: Path, path: Path) -> int:
    """Every case as a task, in the format of the yardstick's tw_gen.py (`--format tw`)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)

    def ts(s):
        return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(s))

    written = 0
    with open(path, "w", encoding="utf-8") as out:
        out.write("[\n")
        cursor = conn.execute(
            "SELECT id, title, state, opened_at, resolved_at, closed_at, category, team, due_at, "
            "resolve_by, tier, escalations, priority FROM cases ORDER BY id")
        for (case_id, title, state, opened, resolved, closed, category, team, due, resolve_by, tier,
             escalations, priority) in cursor:
            done = state in ("resolved", "closed")
            task = {"uuid": str(uuid.UUID(int=case_id, version=4)), "description": title,
                    "status": "completed" if done else "pending", "entry": ts(opened),
                    "modified": ts(closed or resolved or opened), "project": team or category,
                    "due": ts(due or resolve_by or opened),
                    "tags": [f"tier{tier}"] + (["escalated"] if escalations else [])}
            if TW_PRIORITY[priority]:
                task["priority"] = TW_PRIORITY[priority]
            if done and resolved:
                task["end"] = ts(resolved)
            out.write(("" if written == 0 else ",\n") + json.dumps(task))
            written += 1
        out.write("\n]\n")
    conn.close()
    return written


def write_import_base(db: Path, path: Path, now: int) -> None:
    """An initialised store with the same policy and owners and no cases."""
    for suffix in ("", "-wal", "-shm"):
        p = Path(str(path) + suffix)
        if p.exists():
            p.unlink()
    init_store(path, now - 800 * DAY)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("n", type=int, help="number of cases")
    ap.add_argument("out", type=Path, help="the store to create (replaced if it exists)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--now", default=DEFAULT_NOW, help=f"the store's present (default {DEFAULT_NOW})")
    ap.add_argument("--jobs", type=int, default=None, help="worker processes (default: CPU count)")
    ap.add_argument("--unresolved-share", type=float, default=0.10)
    ap.add_argument("--breached-share", type=float, default=0.02,
                    help="share of the new/open cases breached at NOW")
    ap.add_argument("--at-risk-share", type=float, default=0.02,
                    help="share of the new/open cases at risk at NOW")
    ap.add_argument("--import-rows", type=int, default=None,
                    help="rows in OUT.import.csv (default min(N, 100000); 0: none)")
    ap.add_argument("--tw", type=Path, default=None, help="also write a taskwarrior import file")
    ap.add_argument("--verify", action="store_true",
                    help="check every case against the domain (slow; the smoke test does)")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)
    if a.n < 1:
        ap.error("N must be at least 1")
    a.out = a.out.resolve()  # the manifest's paths must work from any directory
    a.tw = a.tw.resolve() if a.tw else None
    now = parse_iso(a.now)
    manifest = generate(a.n, a.out, seed=a.seed, now=now, jobs=a.jobs,
                        unresolved_share=a.unresolved_share, breached_share=a.breached_share,
                        at_risk_share=a.at_risk_share, progress=not a.quiet, verify=a.verify)
    rows = min(a.n, 100_000) if a.import_rows is None else a.import_rows
    if rows:
        t = time.perf_counter()
        csv_path = Path(str(a.out) + ".import.csv")
        manifest["import_csv"] = str(csv_path)
        manifest["import_rows"] = write_import_csv(a.out, csv_path, rows)
        base = Path(str(a.out) + ".import-base.db")
        write_import_base(a.out, base, now)
        manifest["import_base"] = str(base)
        manifest["seconds"]["import_file"] = round(time.perf_counter() - t, 2)
    if a.tw:
        t = time.perf_counter()
        manifest["tw_file"] = str(a.tw)
        manifest["tw_tasks"] = write_taskwarrior(a.out, a.tw)
        manifest["seconds"]["tw_file"] = round(time.perf_counter() - t, 2)
    size = sum(os.path.getsize(p) for p in (a.out, Path(str(a.out) + "-wal")) if os.path.exists(p))
    manifest["bytes"] = size
    manifest["bytes_per_case"] = round(size / a.n, 1)
    Path(str(a.out) + ".json").write_text(json.dumps(manifest, indent=2) + "\n")
    if not a.quiet:
        print(json.dumps(manifest, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
