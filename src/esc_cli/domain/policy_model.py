"""A parsed policy: `Policy` and its parts (priority targets, tiers, rules, channels),
frozen values with spans in seconds; calendars are built from their settings when
first asked for."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import field
from typing import TYPE_CHECKING, Any

from esc_cli.domain.policy_keys import CALENDAR_24X7, normalise_priority
from esc_cli.domain.values import value

if TYPE_CHECKING:  # pragma: no cover
    from esc_cli.domain.calendar import Calendar


@value
class PriorityTarget:
    """A priority's SLA targets in seconds (no update clock: None) and its calendar."""

    name: str
    respond: int
    update: int | None
    resolve: int
    calendar: str


@value
class Tier:
    """A rung of the escalation ladder (stale_after None: never escalated as stale)."""

    level: int
    name: str
    stale_after: int | None
    # routing (domain/routing.py): "manual", "least-loaded" or "round-robin"; how soon an
    # escalation here should have an owner; an on-call rotation (domain/rotation.py)
    assign: str = "manual"
    own_within: int | None = None
    oncall: Any = None


@value
class Rule:
    """A trigger rule; `when` values are tuples of lowercase strings (priorities canonical)."""

    name: str
    when: dict
    then: dict


@value
class Channel:
    """Where notifications go: a program (argv), an HTTP endpoint (url, headers) or an
    SMTP server (email: domain/email_settings.py)."""

    type: str
    argv: tuple[str, ...] | None
    url: str | None
    headers: dict
    timeout: int
    name: str
    email: Any = None


@value
class Policy:
    """One policy version, parsed: SLA targets, ladder, calendars, rules, channels."""

    timezone: str
    warn_at: float
    close_after: int
    categories: tuple[str, ...]
    priorities: dict[str, PriorityTarget]
    tiers: dict[int, Tier]
    rules: tuple[Rule, ...]
    channels: tuple[Channel, ...]
    calendar_specs: dict
    # [teams.NAME] routing settings by team name (domain/routing.Settings)
    teams: dict = field(default_factory=dict)
    _doc: dict = field(default_factory=dict, compare=False, repr=False)
    _calendars: dict = field(default_factory=dict, compare=False, repr=False)

    def calendar(self, name: str) -> Calendar:
        """The calendar called `name` ("24x7" or a defined one), built once per policy."""
        built = self._calendars.get(name)
        if built is None:
            if name != CALENDAR_24X7 and name not in self.calendar_specs:
                raise ValueError(f"unknown calendar {name!r}")
            built = _build_calendar(name, self.calendar_specs.get(name))
            self._calendars[name] = built
        return built

    def calendar_for(self, priority: str) -> Calendar:
        return self.calendar(self.priorities[normalise_priority(priority)].calendar)

    @property
    def top_tier(self) -> int:
        return max(self.tiers)

    def raw(self) -> dict:
        """The validated document as plain TOML-able data (a copy)."""
        return copy.deepcopy(self._doc)


def _build_calendar(name: str, spec: dict | None) -> Calendar:
    from esc_cli.domain import calendar
    from esc_cli.domain.calendar_hours import hours_from_text

    if spec is None:
        return calendar.TWENTY_FOUR_SEVEN
    hours = spec["hours"]
    return calendar.BusinessCalendar(
        name,
        spec["timezone"],
        list(spec["days"]) if "days" in spec else None,
        (
            {day: hours_from_text(h) for day, h in hours.items()}
            if isinstance(hours, dict)
            else hours_from_text(hours)
        ),
        [dt.date.fromisoformat(d) for d in spec["holidays"]],
        spec.get("country"),
        spec.get("subdivision"),
        {
            dt.date.fromisoformat(d): hours_from_text(h) if h else []
            for d, h in spec.get("dates", {}).items()
        },
    )
