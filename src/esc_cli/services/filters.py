"""The queue filters (`queue`, `search`, the wallboard) checked against the store
before they select anything: a filter naming something that does not exist is a
mistake, not an empty list (docs/leads.md, "Filters that name nothing").

- `--category` must be one of the policy's categories (exit 2, like `open
  --category`); it is matched in any letter case and stored spelling is used.
- `--owner` must be a known owner, active or not (exit 3); `me` is the acting user,
  who must be one too.
- `--team` must be a team something names: the policy (`[teams.NAME]`, a rule's
  `then.team`), an owner's teams, or a case (exit 3).
- `--priority` and `--tier` as before (exit 2).
"""

from __future__ import annotations

from esc_cli.domain import lifecycle
from esc_cli.errors import NotFound


def checked(conn, policy, filters: dict, user: str) -> dict:
    """`filters` with `me`, priority aliases and category case resolved; raises on a
    value that names nothing."""
    filters = dict(filters)
    if filters.get("owner") == "me":
        filters["owner"] = user
    if filters.get("priority"):
        filters["priority"] = lifecycle.check_priority(filters["priority"])
    if filters.get("tier") is not None:
        lifecycle.check_tier(policy, filters["tier"])
    if filters.get("category") is not None:
        filters["category"] = lifecycle.check_category(policy, filters["category"])
    owner = filters.get("owner")
    if (
        owner is not None
        and conn.execute("SELECT 1 FROM owners WHERE handle = ?", (owner,)).fetchone() is None
    ):
        who = f"you ({owner}) are not an owner" if owner == user else f"no owner '{owner}'"
        raise NotFound(who, hint="esc owner list shows them")
    team = filters.get("team")
    if team is not None and not team_exists(conn, policy, team):
        raise NotFound(
            f"no team '{team}': no owner, case or policy names it",
            hint="esc owner list shows the owners' teams",
        )
    return filters


def team_exists(conn, policy, team: str) -> bool:
    """Whether the policy, an owner or a case names `team` (teams are free text). The
    few owners are read first; the cases only when no owner names it."""
    import json

    if team in getattr(policy, "teams", {}):
        return True
    if any(rule.then.get("team") == team for rule in policy.rules):
        return True
    for (teams,) in conn.execute("SELECT teams FROM owners"):
        if team in (json.loads(teams) if teams else ()):
            return True
    return (
        conn.execute("SELECT 1 FROM cases WHERE team = ? LIMIT 1", (team,)).fetchone() is not None
    )
