"""Write the sample data `esc demo` loads: owners.csv, cases.json and demo.json.

    python sample_data/generate.py              # rewrites the files beside this script,
                                                # and esc's installed copy of them
    python sample_data/generate.py --out DIR    # writes them to DIR instead

esc carries a copy of what the demo needs in src/esc_cli/sample_data/ (package data, so
`esc demo` works after a plain `pip install`): policy.toml, owners.csv and demo.json as
they are here, and cases.json gzipped. tests/test_demo.py fails when the two differ.

Seeded and deterministic: the same code writes the same bytes. Each case's history is
played through esc's own domain functions -- the lifecycle moves an agent makes, the
trigger rules of policy.toml, and the sweep (warnings, breaches, escalations, closes) as a
cron job every five minutes would have run it -- so every history is one esc could have
written. The sweep is simulated up to 90 minutes before the sample's "now"; `esc demo`
runs the real one at "now", so the last warnings and escalations happen live.
"""

from __future__ import annotations

import csv
import heapq
import json
import random
import sys
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from esc_cli.domain import lifecycle, rules, sweep  # noqa: E402
from esc_cli.domain.model import Case, Event, Owner, iso  # noqa: E402
from esc_cli.domain.policy import parse_policy  # noqa: E402
from esc_cli.errors import EscError  # noqa: E402

SEED = 20261102
NOW = int(datetime(2026, 11, 2, 15, 0, tzinfo=timezone.utc).timestamp())  # Mon 10:00 in New York
START = NOW - 61 * 86400
MINUTE, HOUR, DAY = 60, 3600, 86400
SWEEP_END = NOW - 90 * MINUTE
CRON = 300
FIRST_ID = 1001
PACKAGE_COPY = HERE.parent / "src" / "esc_cli" / "sample_data"
ZONE = ZoneInfo("America/New_York")

OWNERS = [
    # handle, name, tier, teams, capacity, active
    ("alice", "Alice Moreau", 1, ("general",), 12, True),
    ("bob", "Bob Okafor", 1, ("general",), 12, True),
    ("carmen", "Carmen Ruiz", 1, ("billing",), 10, True),
    ("dmitri", "Dmitri Volkov", 1, ("network",), 10, True),
    ("emma", "Emma Lindqvist", 1, ("general", "platform"), 12, True),
    ("farid", "Farid Haddad", 1, ("billing",), 10, True),
    ("olaf", "Olaf Berg", 1, ("general",), None, False),
    ("grace", "Grace Chen", 2, ("network",), 8, True),
    ("hiro", "Hiro Tanaka", 2, ("platform",), 8, True),
    ("ines", "Ines Duarte", 2, ("billing",), 8, True),
    ("jamal", "Jamal Wright", 2, ("platform", "network"), 8, True),
    ("kate", "Kate Sullivan", 3, ("general", "platform", "network"), None, True),
    ("luis", "Luis Romero", 3, ("billing",), None, True),
    ("maria", "Maria Rossi", 4, (), None, True),
]

CUSTOMERS = [  # weight: a few accounts raise most of the cases
    ("Globex", 4), ("Initech", 3), ("Umbrella Health", 8), ("Stark Logistics", 7),
    ("Wayne Foods", 6), ("Hooli", 6), ("Vandelay Imports", 5), ("Soylent Labs", 4),
    ("Tyrell Systems", 4), ("Cyberdyne Retail", 4), ("Wonka Confections", 3),
    ("Acme Rockets", 3), ("Pied Piper", 3), ("Massive Dynamic", 3), ("Oscorp Media", 2),
    ("Gringotts Finance", 2), ("Aperture Science", 2), ("Duff Beverages", 2),
    ("Nakatomi Trading", 2), ("Monarch Airlines", 2), ("Dunder Mifflin", 2),
    ("Blue Sun", 1), ("Virtucon", 1), ("Prestige Worldwide", 1),
]

TITLES = {
    "technical": [
        "Login fails with SSO error", "API returns 502 on /v2/orders",
        "Webhook deliveries delayed by hours", "Dashboard shows stale data",
        "Mobile app crashes on launch", "Cannot export report to PDF",
        "Password reset email never arrives", "Slow page loads in EU region",
        "Salesforce integration stopped syncing", "2FA codes rejected",
        "Bulk upload times out above 10k rows", "Rate limit errors since last release",
    ],
    "billing": [
        "Charged twice for October", "Invoice shows wrong VAT number", "Refund not received",
        "Cannot update credit card", "Seat count on invoice is wrong",
        "Discount missing from renewal", "Need invoices in EUR",
    ],
    "service-delay": [
        "Onboarding call still not scheduled", "Data migration overdue",
        "Custom domain setup pending for a week", "Replacement hardware not shipped",
        "Promised feature flag not enabled",
    ],
    "policy": [
        "Request to extend trial", "Data retention question for audit",
        "GDPR data deletion request", "Contract terms clarification",
        "Security questionnaire for procurement",
    ],
    "product-quality": [
        "Search results miss recent items", "CSV export has garbled characters",
        "Notifications sent twice", "Calendar sync drops events",
        "Charts render blank in Safari",
    ],
    "other": [
        "Question about the roadmap", "Account manager change request",
        "Feedback on the new UI", "Training session for new team",
    ],
}
OUTAGE_TITLES = ["Service unreachable for all users", "Total outage of the EU cluster",
                 "Checkout down since the deploy"]
CATEGORY_WEIGHTS = [("technical", 42), ("billing", 18), ("service-delay", 10), ("policy", 8),
                    ("product-quality", 14), ("other", 8)]
PRIORITY_WEIGHTS = [("urgent", 6), ("high", 22), ("medium", 46), ("low", 26)]
CHANNEL_WEIGHTS = [("email", 40), ("chat", 24), ("phone", 16), ("web", 15), ("other", 5)]
TEAM_OF = {"technical": "platform", "product-quality": "platform", "billing": "billing"}
CSAT_WEIGHTS = [(5, 40), (4, 30), (3, 14), (2, 9), (1, 7)]

RESOLUTIONS = [
    "Fixed the configuration and confirmed with the customer",
    "Applied the workaround from the knowledge base", "Deployed the fix; customer confirmed",
    "Refund issued", "Explained the behaviour; customer satisfied", "Credentials reset",
    "Corrected the account settings", "Escalated bug fixed in release 4.12",
]
NOTES = [
    "Reproduced in staging", "Asked engineering for logs", "Checked the audit trail",
    "Similar to last month's incident", "Collected HAR file", "Waiting on the vendor",
]
UPDATES = [
    "We are still working on this and will update you shortly",
    "Our engineers have identified the cause", "A fix is being tested",
    "Thanks for the details, we are investigating",
]


def pick(rng: random.Random, weighted):
    values, weights = zip(*weighted)
    return rng.choices(values, weights)[0]


class Simulation:
    """One case's life: actions in time order, with the sweep run between them."""

    def __init__(self, rng: random.Random, policy, owners: dict[str, Owner], case: Case):
        self.rng = rng
        self.policy = policy
        self.owners = owners
        self.case = case
        self.events: list[Event] = []
        self.queue: list = []
        self.sequence = 0

    # -- plumbing ---------------------------------------------------------------

    def at(self, when: int, action, *args) -> None:
        self.sequence += 1
        heapq.heappush(self.queue, (when, self.sequence, action, args))

    def commit(self, changed: Case, new_events: list[Event], now: int, run_rules: bool) -> None:
        events = self.events + new_events
        if run_rules and changed.state != "closed":
            changed, fired = rules.apply_rules(changed, events, self.policy, now, self.lookup)
            events += fired
            if any(e.kind == "escalated" for e in fired) and changed.owner is None:
                self.at(now + self.rng.randint(10, 45) * MINUTE, self.take_at_tier)
        self.events = events
        self.case = lifecycle.settle(changed, events, self.policy)

    def lookup(self, handle):
        return self.owners.get(handle), 0

    def sweep_until(self, limit: int) -> None:
        """What a five-minute cron sweep would have done before `limit`."""
        while True:
            due = self.case.sweep_at
            if due is None:
                return
            tick = -(-due // CRON) * CRON
            if tick >= limit or tick > SWEEP_END:
                return
            plan = sweep.plan(self.case, self.events, self.policy, tick)
            if plan.skipped or plan.empty:
                return
            current = self.owners.get(self.case.owner) if self.case.owner else None
            changed, new_events = sweep.apply(self.case, plan, self.policy, tick, current)
            self.commit(changed, new_events, tick, run_rules=False)
            if plan.escalate_to is not None and self.case.owner is None:
                self.at(tick + self.rng.randint(10, 90) * MINUTE, self.take_at_tier)

    def run(self) -> None:
        while self.queue:
            when, _, action, args = heapq.heappop(self.queue)
            if when > NOW - 5 * MINUTE:
                break
            self.sweep_until(when)
            when = max(when, self.case.last_event_at)
            try:
                action(when, *args)
            except EscError:
                pass  # the case moved on (say, the sweep closed it): the agent has nothing to do
        self.sweep_until(SWEEP_END + 1)

    # -- what people do -------------------------------------------------------------

    def owner_for(self, tier: int, team: str | None = None) -> Owner:
        candidates = [o for o in self.owners.values()
                      if o.active and o.tier == tier and (team is None or team in o.teams)]
        if not candidates:
            candidates = [o for o in self.owners.values() if o.active and o.tier == tier]
        return self.rng.choice(candidates)

    def actor(self) -> str:
        return self.case.owner or self.owner_for(min(self.case.tier, 3)).handle

    def take_at_tier(self, now: int) -> None:
        if self.case.owner is None and self.case.state in ("new", "open", "pending"):
            owner = self.owner_for(self.case.tier, self.case.team)
            self.commit(*lifecycle.assign(self.case, owner, 0, True, now, owner.handle), now, False)

    def assign(self, now: int, handle: str) -> None:
        owner = self.owners[handle]
        self.commit(*lifecycle.assign(self.case, owner, 0, True, now, "dispatch"), now, False)

    def respond(self, now: int) -> None:
        if self.case.owner is None:
            self.take_at_tier(now)
        if self.rng.random() < 0.35:
            moved = lifecycle.note(self.case, self.rng.choice(UPDATES), True, now, self.actor())
        else:
            moved = lifecycle.acknowledge(self.case, now, self.actor())
        self.commit(*moved, now, False)

    def note(self, now: int, customer: bool) -> None:
        text = self.rng.choice(UPDATES if customer else NOTES)
        self.commit(*lifecycle.note(self.case, text, customer, now, self.actor()), now, False)

    def pending(self, now: int) -> None:
        reason = self.rng.choice(["Waiting for the customer's logs", "Asked for a screenshot",
                                  "Customer checking with their IT team",
                                  "Waiting for the customer to confirm the fix"])
        self.commit(*lifecycle.set_pending(self.case, reason, now, self.actor()), now, False)

    def resume(self, now: int) -> None:
        self.commit(*lifecycle.resume(self.case, now, self.actor()), now, False)

    def escalate(self, now: int, team: str | None) -> None:
        current = self.owners.get(self.case.owner) if self.case.owner else None
        if team is None:
            if self.case.tier >= 3:
                return
            reason = self.rng.choice(["Needs a specialist", "Beyond frontline permissions",
                                      "Customer asked for a supervisor",
                                      "Root cause in the product, not configuration"])
        else:
            reason = f"Needs the {team} team"
        moved = lifecycle.escalate(self.case, self.policy, reason=reason, to=None, team=team,
                                   owner=None, current_owner=current, now=now, actor=self.actor())
        self.commit(*moved, now, False)
        if self.case.owner is None:
            self.at(now + self.rng.randint(5, 60) * MINUTE, self.take_at_tier)
        elif team is not None:
            member = self.owner_for(self.case.tier, team)
            self.at(now + self.rng.randint(5, 40) * MINUTE, self.assign, member.handle)

    def resolve(self, now: int) -> None:
        resolution = self.rng.choice(RESOLUTIONS)
        self.commit(*lifecycle.resolve(self.case, resolution, now, self.actor()), now, False)

    def reopen(self, now: int) -> None:
        moved = lifecycle.reopen(self.case, "Customer reports the problem is back", now,
                                 self.actor())
        self.commit(*moved, now, True)

    def feedback(self, now: int, csat: int) -> None:
        comment = {5: "Great support, thanks!", 4: "Quick and helpful", 3: None,
                   2: "Took far too long", 1: "Still not working, very disappointed"}[csat]
        self.commit(*lifecycle.feedback(self.case, csat, comment, now, self.actor()), now, True)
        if self.case.state == "open":  # the unhappy-customer rule reopened it
            self.at(now + self.rng.randint(1, 6) * HOUR, self.note, True)
            calendar = self.policy.calendar_for(self.case.priority)
            self.at(calendar.add(now, self.rng.randint(1, 5) * HOUR), self.resolve)


def arrivals(rng: random.Random) -> list[int]:
    """When cases are opened: mostly New York office hours on weekdays, a trickle at night
    and at weekends."""
    instants = []
    day = datetime.fromtimestamp(START, ZONE).date()
    last = datetime.fromtimestamp(NOW, ZONE).date()
    while day <= last:
        weekend = day.weekday() >= 5
        count = rng.choice([0, 1, 1, 2, 2, 3]) if weekend else rng.randint(5, 9)
        for _ in range(count):
            if weekend or rng.random() < 0.12:
                hour = rng.randint(0, 23)
            else:
                hour = rng.choice([8, 9, 9, 10, 10, 11, 11, 12, 13, 14, 14, 15, 15, 16, 17])
            local = datetime(day.year, day.month, day.day, hour, rng.randint(0, 59), tzinfo=ZONE)
            instant = int(local.timestamp())
            if START <= instant <= NOW - 20 * MINUTE:
                instants.append(instant)
        day += timedelta(days=1)
    # Monday morning: the inbox the demo opens on, mostly not answered yet
    instants.extend(NOW - rng.randint(8, 170) * MINUTE for _ in range(9))
    return sorted(instants)


def plan_case(sim: Simulation, rng: random.Random) -> None:
    """Schedule what people will do to the case; the sweep fills in the rest."""
    case, policy = sim.case, sim.policy
    target = policy.priorities[case.priority]
    calendar = policy.calendar_for(case.priority)
    t0 = case.opened_at

    def later(start: int, seconds: float) -> int:
        return calendar.add(start, max(60, int(seconds)))

    if case.owner is None and rng.random() < 0.55:
        team = case.team or TEAM_OF.get(case.category)
        owner = sim.owner_for(case.tier, team)
        if t0 < NOW - 45 * DAY and case.tier == 1 and rng.random() < 0.3:
            owner = sim.owners["olaf"]  # olaf left in October: only old cases are his
        sim.at(t0 + rng.randint(2, 20) * MINUTE, sim.assign, owner.handle)

    late_response = rng.random() < 0.06
    share = rng.uniform(1.1, 2.6) if late_response else rng.uniform(0.08, 0.75)
    if t0 > NOW - 3 * HOUR:
        share = rng.uniform(0.3, 2.5)
    respond_at = later(t0, target.respond * share)
    sim.at(respond_at, sim.respond)

    late_resolution = rng.random() < 0.08
    share = rng.uniform(1.05, 2.2) if late_resolution else rng.uniform(0.15, 0.9)
    resolve_at = later(t0, target.resolve * share)
    if resolve_at <= respond_at:
        resolve_at = respond_at + rng.randint(20, 180) * MINUTE
    # a long-running case, or one waiting on the customer: still unresolved at "now"
    stuck = t0 > NOW - 21 * DAY and rng.random() < 0.25

    cursor = respond_at
    if rng.random() < 0.25:  # waits on the customer for a while
        pause = cursor + rng.randint(20, 240) * MINUTE
        sim.at(pause, sim.pending)
        if stuck:
            return
        back = pause + rng.randint(2, 72) * HOUR
        sim.at(back, sim.resume)
        # the pause moves the resolution due time: plan the rest of the work after it
        remaining = target.resolve * share - calendar.working(t0, pause)
        resolve_at = later(back, max(remaining, 30 * MINUTE))
        cursor = back
    if rng.random() < 0.12:
        sim.at(cursor + rng.randint(15, 180) * MINUTE, sim.escalate, None)
    elif rng.random() < 0.09:
        team = {"billing": "billing", "service-delay": "platform"}.get(case.category, "network")
        sim.at(cursor + rng.randint(15, 180) * MINUTE, sim.escalate, team)
    if target.update is not None:
        moment = cursor
        while True:
            moment += int(target.update * rng.uniform(0.45, 1.04))
            if moment >= (NOW if stuck else resolve_at - 10 * MINUTE):
                break
            sim.at(moment, sim.note, True)
    for _ in range(rng.choice([0, 0, 1, 1, 2])):
        sim.at(rng.randint(respond_at, max(respond_at + 60, resolve_at - 60)), sim.note, False)
    if late_resolution or stuck:
        # a late case is still being worked: notes keep it from looking abandoned
        moment = cursor
        while moment < (NOW if stuck else resolve_at):
            moment = calendar.add(moment, int(rng.uniform(1, 3) * HOUR))
            sim.at(moment, sim.note, False)
    if stuck:
        return
    sim.at(resolve_at, sim.resolve)
    if rng.random() < 0.06:
        again = resolve_at + rng.randint(6, 96) * HOUR
        sim.at(again, sim.reopen)
        resolve_at = later(again, rng.uniform(0.3, 3) * HOUR)
        sim.at(resolve_at, sim.resolve)
    if rng.random() < 0.58:
        sim.at(resolve_at + rng.randint(1, 48) * HOUR, sim.feedback, pick(rng, CSAT_WEIGHTS))


def package_copy(source: Path = HERE) -> dict[str, bytes]:
    """What src/esc_cli/sample_data/ must hold for the sample in `source`."""
    import gzip

    files = {name: (source / name).read_bytes() for name in ("policy.toml", "owners.csv", "demo.json")}
    # mtime 0 and no file name: the same bytes every time
    files["cases.json.gz"] = gzip.compress((source / "cases.json").read_bytes(), 9, mtime=0)
    return files


def write_package_copy() -> None:
    PACKAGE_COPY.mkdir(parents=True, exist_ok=True)
    for name, data in package_copy().items():
        (PACKAGE_COPY / name).write_bytes(data)


# Cases on the round-the-clock calendar that are at risk at "now" whatever day `esc demo`
# moves the sample to (business-hours clocks shift with the weekday; 24x7 ones do not):
# (title, customer, category, priority, opened before now, owner, minutes after opening
# of each customer update). The demo's sweep warns each of them.
AT_RISK_NOW = [
    # respond due in 8 minutes, not answered yet
    ("Payments API returns 429s", "Stark Logistics", "technical", "high", 52 * MINUTE, "grace", []),
    # the customer last heard from us 10.5 hours ago; high's update target is 12h
    ("Orders stuck in 'processing'", "Vandelay Imports", "technical", "high", 30 * HOUR, "jamal",
     [25, 6 * 60 + 10, 19 * 60 + 30]),
    # resolution due in 35 minutes, the update clock fresh
    ("Card payments declined at checkout", "Wayne Foods", "technical", "urgent", 3 * HOUR + 25 * MINUTE,
     "hiro", [8, 55, 100, 150]),
]


def at_risk_now(policy, owners: dict[str, Owner], first_id: int) -> list[tuple[Case, list[Event]]]:
    """AT_RISK_NOW played through the domain like every other case (with their own
    random stream, so the cases before them stay as they were)."""
    rng = random.Random(SEED + 1)
    made = []
    for number, (title, customer, category, priority, age, owner, updates) in enumerate(AT_RISK_NOW):
        opened = NOW - age
        case, events = lifecycle.open_case(
            title=title, customer=customer, priority=priority, category=category,
            channel="phone", description=f"{customer} reports: {title.lower()}.",
            tier=1, team=None, owner=None, tags=(), policy=policy, policy_version=1,
            now=opened, actor="intake",
        )
        case = replace(case, id=first_id + number)
        sim = Simulation(rng, policy, owners, lifecycle.settle(case, [], policy))
        sim.commit(sim.case, events, opened, run_rules=True)
        sim.at(opened + 4 * MINUTE, sim.assign, owner)
        for minutes in updates:
            sim.at(opened + minutes * MINUTE, sim.note, True)
        sim.run()
        made.append((sim.case, sim.events))
    return made


def main(out: Path = HERE) -> None:
    rng = random.Random(SEED)
    policy = parse_policy((HERE / "policy.toml").read_text(encoding="utf-8"))
    owners = {h: Owner(h, n, f"{h}@support.example.com", t, teams, cap, active)
              for h, n, t, teams, cap, active in OWNERS}
    cases = []
    for number, opened in enumerate(arrivals(rng)):
        category = pick(rng, CATEGORY_WEIGHTS)
        priority = pick(rng, PRIORITY_WEIGHTS)
        if opened > NOW - 3 * HOUR:  # what came in overnight and this morning runs 24x7
            priority = pick(rng, [("urgent", 2), ("high", 5), ("medium", 2), ("low", 1)])
        tags: tuple[str, ...] = ()
        title = rng.choice(TITLES[category])
        if category == "technical" and rng.random() < 0.05:
            title, tags = rng.choice(OUTAGE_TITLES), ("outage",)
        elif rng.random() < 0.15:
            tags = (rng.choice(["vip", "renewal", "onboarding", "mobile", "api"]),)
        customer = pick(rng, CUSTOMERS)
        channel = pick(rng, CHANNEL_WEIGHTS)
        case, events = lifecycle.open_case(
            title=title, customer=customer, priority=priority, category=category,
            channel=channel, description=f"{customer} reports: {title.lower()}.",
            tier=1, team=None, owner=None, tags=tags, policy=policy, policy_version=1,
            now=opened, actor=rng.choice(["alice", "bob", "emma", "carmen", "intake"]),
        )
        case = replace(case, id=FIRST_ID + number)
        sim = Simulation(rng, policy, owners, lifecycle.settle(case, [], policy))
        sim.commit(sim.case, events, opened, run_rules=True)
        plan_case(sim, rng)
        sim.run()
        cases.append((sim.case, sim.events))
    cases.extend(at_risk_now(policy, owners, FIRST_ID + len(cases)))

    out.mkdir(parents=True, exist_ok=True)
    with open(out / "owners.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["handle", "name", "email", "tier", "teams", "capacity", "active"])
        for owner in owners.values():
            writer.writerow([owner.handle, owner.name, owner.email, owner.tier,
                             ";".join(owner.teams), "" if owner.capacity is None else owner.capacity,
                             "true" if owner.active else "false"])

    records = []
    for case, events in cases:
        records.append({
            "id": case.id, "title": case.title, "description": case.description,
            "customer": case.customer, "category": case.category, "priority": case.priority,
            "channel": case.channel, "state": case.state, "tier": case.tier, "team": case.team,
            "owner": case.owner, "tags": list(case.tags), "csat": case.csat,
            "opened_at": iso(case.opened_at), "events": [e.document() for e in events],
        })
    with open(out / "cases.json", "w", encoding="utf-8") as handle:
        handle.write("[\n")
        handle.write(",\n".join(json.dumps(r, ensure_ascii=False) for r in records))
        handle.write("\n]\n")

    demo = {"now": iso(NOW), "files": ["owners.csv", "cases.json"], "seed": SEED,
            "about": "Sample support desk for esc demo; regenerate with python sample_data/generate.py"}
    (out / "demo.json").write_text(json.dumps(demo, indent=2) + "\n", encoding="utf-8")
    states: dict[str, int] = {}
    for case, _ in cases:
        states[case.state] = states.get(case.state, 0) + 1
    print(f"wrote {len(cases)} cases ({sum(len(e) for _, e in cases)} events) and "
          f"{len(owners)} owners to {out}: {states}")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Write the sample data esc demo loads.")
    parser.add_argument("--out", type=Path, default=HERE, help="directory to write to")
    target = parser.parse_args().out
    main(target)
    if target.resolve() == HERE:
        write_package_copy()
        print(f"copied the sample into {PACKAGE_COPY}")
