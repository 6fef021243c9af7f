"""Routing (issue 21): who an escalation goes to, decided from the policy, the owners and
their loads, and nothing else. The service calls `choose` inside the transaction that
escalates (or opens) the case, and writes what it returns.

Settings live on `[tiers.N]` and `[teams.NAME]`: `assign = "manual" | "least-loaded" |
"round-robin"`, optional `own_within` and an optional `[...oncall]` rotation. A team's
settings decide when the write sent the case to the team (a functional escalation, a
rule or `set` giving it a team, or opening it with one); otherwise its tier's do.

Who can take a case at tier N: active owners of tier N, not away, under capacity, in
the case's team when it has one; when nobody of tier N can, the same of tier N+1, and
so on up the ladder. On call comes first: the rotation's person now, whatever their
load (capacity does not stop on call, being away does), else the rest of the rotation
in order. Then `assign`: least-loaded takes the lowest load relative to capacity (no
capacity set: no limit, so 0), ties by fewest unresolved cases, then handle;
round-robin takes the first handle after the one routing chose last in that scope,
wrapping around.
"""

from __future__ import annotations

from typing import Any

from esc_cli.domain.model import ROUTING_ACTOR, UNRESOLVED, Case, Event, Owner, iso
from esc_cli.domain.values import value

ACTOR = ROUTING_ACTOR
MODES = ("manual", "least-loaded", "round-robin")
KEYS = ("assign", "own_within", "oncall")


@value
class Settings:
    """A tier's or a team's routing settings (`scope` is `tier:2` or `team:billing`)."""

    scope: str
    assign: str = "manual"
    own_within: int | None = None
    oncall: Any = None  # a rotation.Rotation

    @property
    def label(self) -> str:
        kind, _, name = self.scope.partition(":")
        return f"{kind} {name}"

    @property
    def routes(self) -> bool:
        return self.assign != "manual" or self.oncall is not None


@value
class Decision:
    """The owner routing picked (None: nobody could take it) and why, in words a lead
    reads in `show`: `least-loaded in tier 2: bob (3 of 8)`."""

    handle: str | None
    reason: str
    scope: str
    mode: str


def parse_settings(body: dict, key: str, default_zone: str) -> tuple[dict, dict]:
    """The routing keys of a `[tiers.N]` or `[teams.NAME]` table: the values for
    Settings and their TOML-able document (only the keys given). ValueError subclasses
    name the dotted key."""
    from esc_cli.domain.policy_keys import PolicyError
    from esc_cli.domain.rotation import RotationError, parse_rotation
    from esc_cli.domain.spans import parse_span

    values: dict[str, Any] = {}
    raw: dict[str, Any] = {}
    if "assign" in body:
        mode = body["assign"]
        if mode not in MODES:
            raise PolicyError(
                f"{key}.assign", f'expected "manual", "least-loaded" or "round-robin", got {mode!r}'
            )
        values["assign"] = raw["assign"] = mode
    if "own_within" in body:
        text = body["own_within"]
        try:
            seconds = parse_span(text) if isinstance(text, str) else None
        except ValueError as err:
            raise PolicyError(f"{key}.own_within", str(err)) from None
        if not seconds:
            raise PolicyError(
                f"{key}.own_within", f"expected a span longer than zero such as '30m', got {text!r}"
            )
        values["own_within"] = seconds
        raw["own_within"] = text
    if "oncall" in body:
        try:
            values["oncall"], raw["oncall"] = parse_rotation(
                body["oncall"], f"{key}.oncall", default_zone
            )
        except RotationError as err:
            raise PolicyError(err.key, err.message) from None
    return values, raw


def settings_for(policy, case: Case, team_decides: bool) -> Settings:
    """The settings that decide for `case`: its team's when `team_decides` and the
    policy has a table for that team, else its tier's."""
    teams = getattr(policy, "teams", {}) or {}
    if team_decides and case.team is not None and case.team in teams:
        return teams[case.team]
    tier = policy.tiers.get(case.tier)
    return Settings(
        scope=f"tier:{case.tier}",
        assign=getattr(tier, "assign", "manual"),
        own_within=getattr(tier, "own_within", None),
        oncall=getattr(tier, "oncall", None),
    )


def owner_deadline(case: Case, policy) -> int | None:
    """When an unowned case has waited too long for an owner at its tier: `own_within`
    (its team's when the team's table sets one, else its tier's) after it arrived at the
    tier. None when it has an owner, is not being worked (pending, resolved, closed) or
    no own_within applies."""
    if case.owner is not None or case.state not in ("new", "open"):
        return None
    teams = getattr(policy, "teams", None) or {}
    team = teams.get(case.team) if case.team is not None else None
    own = team.own_within if team is not None and team.own_within else None
    if own is None:
        own = getattr(policy.tiers.get(case.tier), "own_within", None)
    return case.tier_since + own if own else None


def trigger(case: Case, new_events: list[Event]) -> tuple[bool, bool] | None:
    """Whether this write asks routing for an owner, and whether the team's settings
    decide: (True, team_decides), or None. Routing runs once the case is escalated (by
    anyone), opened, or sent to a team by a rule, and still has no owner."""
    if case.owner is not None or case.state not in UNRESOLVED:
        return None
    escalated = any(e.kind == "escalated" for e in new_events)
    opened = any(e.kind == "opened" for e in new_events)
    to_team = any(
        (e.kind == "escalated" and e.field == "team")
        or (e.kind == "changed" and e.field == "team" and e.to_value is not None)
        for e in new_events
    )
    if not (escalated or opened or to_team):
        return None
    return True, to_team or (opened and case.team is not None)


def available(owner: Owner, load: int, now: int, *, ignore_capacity: bool = False) -> bool:
    if not owner.active or is_away(owner, now):
        return False
    return ignore_capacity or owner.capacity is None or load < owner.capacity


def is_away(owner: Owner, now: int) -> bool:
    until = getattr(owner, "away_until", None)
    return until is not None and now < until


def _load_text(owner: Owner, load: int) -> str:
    return (
        f"{load} of {owner.capacity}" if owner.capacity is not None else f"{load}, no capacity set"
    )


def choose(
    case: Case,
    settings: Settings,
    owners: list[Owner],
    loads: dict[str, int],
    now: int,
    last: str | None,
    top_tier: int,
) -> Decision:
    """Who takes `case` (already at its new tier and team) under `settings`. `owners`:
    everyone (any state); `loads`: unresolved cases per handle; `last`: the handle
    routing chose last in this scope (round-robin)."""
    by_handle = {o.handle: o for o in owners}
    where = settings.label

    def load(handle: str) -> int:
        return loads.get(handle, 0)

    rotation = settings.oncall
    if rotation is not None:
        scheduled = rotation.on_call(now)
        skipped: list[str] = []
        for handle in [scheduled, *rotation.after(scheduled, now)]:
            owner = by_handle.get(handle)
            if owner is not None and available(owner, load(handle), now, ignore_capacity=True):
                why = f"on call in {where}: {handle}"
                if skipped:
                    why += f" ({'; '.join(skipped)})"
                return Decision(handle, why, settings.scope, "oncall")
            skipped.append(_why_not(handle, owner, now))

    if settings.assign == "manual":
        if rotation is not None:
            return Decision(
                None,
                f"nobody on call in {where} can take it ({'; '.join(skipped)})",
                settings.scope,
                "oncall",
            )
        return Decision(None, f"{where} assigns by hand", settings.scope, "manual")

    team = case.team
    for level in range(case.tier, top_tier + 1):
        pool = [
            o
            for o in owners
            if o.tier == level
            and (team is None or team in o.teams)
            and available(o, load(o.handle), now)
        ]
        if not pool:
            continue
        here = (
            where
            if level == case.tier
            else f"{where} (nobody free at tier {case.tier}; tier {level})"
        )
        if settings.assign == "least-loaded":

            def rank(o: Owner):
                # correctly rounded division: equal shares (1 of 3, 2 of 6) compare equal
                share = load(o.handle) / o.capacity if o.capacity else 0.0
                return share, load(o.handle), o.handle

            pick = min(pool, key=rank)
            return Decision(
                pick.handle,
                f"least-loaded in {here}: {pick.handle} ({_load_text(pick, load(pick.handle))})",
                settings.scope,
                settings.assign,
            )
        ordered = sorted(pool, key=lambda o: o.handle)
        pick = next((o for o in ordered if last is not None and o.handle > last), ordered[0])
        after = f"after {last}" if last is not None else "first"
        return Decision(
            pick.handle,
            f"round-robin in {here}: {pick.handle} ({after})",
            settings.scope,
            settings.assign,
        )
    in_team = (
        f" of team {team}" if team is not None and not settings.scope.startswith("team:") else ""
    )
    return Decision(
        None,
        f"{settings.assign} in {where}: nobody{in_team} free at tier "
        f"{case.tier} or above (away, at capacity or inactive)",
        settings.scope,
        settings.assign,
    )


def _why_not(handle: str, owner: Owner | None, now: int) -> str:
    if owner is None:
        return f"{handle} is not an owner"
    if not owner.active:
        return f"{handle} is inactive"
    return f"{handle} is away until {iso(owner.away_until)}"


def assigned_event(case: Case, decision: Decision, now: int) -> Event:
    return Event(now, ACTOR, "assigned", "owner", case.owner, decision.handle, decision.reason)
