"""The SLA policy (SPEC §2, §3): parse and validate the TOML file, and write it back.

A policy arrives as TOML text (`policy load`), as the stored document of a
policy version, or as the default below. `parse_policy` and `policy_from_dict`
check every key and value and name the dotted key of the first problem
(`priorities.high.respond`, `rules[2].then.tier`, `channels[1].url`) in a
`PolicyError`. The result is a frozen `Policy` with spans in seconds; its
`raw()` is the validated document as plain TOML-able data (defaults filled in,
spans as written) that `dump_policy` turns back into TOML.

The parts, each a module of its own, named here for callers:
- `policy_keys.py`: the words a policy uses, its defaults, `PolicyError` and the
  checks of one key's value
- `policy_model.py`: `Policy` and its parts (targets, tiers, rules, channels)
- `policy_calendars.py`: the calendars section checked and parsed (hours, dated
  hours, holidays, public holidays)
- `policy_sections.py`: each other section checked and parsed (categories,
  priorities, tiers, teams, rules, channels)
- `policy_secrets.py`: masking the channels' secrets for display and messages

Importing this module is cheap: `tomli_w` and the calendar module (and so
`holidays`) are imported only when they are used.
"""

from __future__ import annotations

import copy
from typing import Any

from esc_cli.domain.policy_calendars import _calendars
from esc_cli.domain.policy_keys import (
    _WALL_UNITS,
    DEFAULT_CATEGORIES,
    DEFAULT_TIERS,
    _fail,
    _kind,
    _only,
    _span,
    _table,
    _zone,
)
from esc_cli.domain.policy_keys import CALENDAR_24X7 as CALENDAR_24X7
from esc_cli.domain.policy_keys import CASE_CHANNELS as CASE_CHANNELS
from esc_cli.domain.policy_keys import DEFAULT_TIMEOUTS as DEFAULT_TIMEOUTS
from esc_cli.domain.policy_keys import PRIORITIES as PRIORITIES
from esc_cli.domain.policy_keys import PRIORITY_ALIASES as PRIORITY_ALIASES
from esc_cli.domain.policy_keys import WEEKDAYS as WEEKDAYS
from esc_cli.domain.policy_keys import PolicyError as PolicyError
from esc_cli.domain.policy_keys import normalise_priority as normalise_priority
from esc_cli.domain.policy_model import Channel as Channel
from esc_cli.domain.policy_model import Policy
from esc_cli.domain.policy_model import PriorityTarget as PriorityTarget
from esc_cli.domain.policy_model import Rule as Rule
from esc_cli.domain.policy_model import Tier as Tier
from esc_cli.domain.policy_secrets import MASK as MASK
from esc_cli.domain.policy_secrets import mask_text as mask_text
from esc_cli.domain.policy_secrets import mask_url as mask_url
from esc_cli.domain.policy_secrets import masked as masked
from esc_cli.domain.policy_sections import (
    _categories,
    _channels,
    _priorities,
    _rules,
    _teams,
    _tiers,
)
from esc_cli.domain.values import filled

DEFAULT_POLICY_TOML = """\
# esc SLA policy. `esc policy load FILE.toml` replaces it; `esc policy export` prints it.
timezone = "UTC"            # zone of calendars that name none
warn_at = 0.8               # a clock is at risk once this share of its target has elapsed
close_after = "7d"          # resolved cases are closed by sweep after this (wall clock)
categories = ["technical", "billing", "service-delay", "policy", "product-quality", "other"]

# A span is one or more <integer><unit> parts: 15m, 1h30m, 7d (units s, m, h, d, w).
# A target on a business calendar counts opening hours and may use only m and h;
# on "24x7", d is exactly 24 hours.

[calendars.business]
timezone = "UTC"
days = ["mon", "tue", "wed", "thu", "fri"]
hours = "09:00-17:00"       # or a list: ["09:00-12:00", "13:00-17:00"]
holidays = []               # explicit dates, e.g. ["2026-12-25"]
# country = "DE"            # public holidays from the `holidays` package
# subdivision = "BY"

[priorities.urgent]
respond = "15m"
update = "1h"
resolve = "4h"
calendar = "24x7"

[priorities.high]
respond = "1h"
update = "24h"
resolve = "48h"
calendar = "24x7"

[priorities.medium]
respond = "4h"
update = "16h"
resolve = "40h"
calendar = "business"

[priorities.low]
respond = "8h"
resolve = "80h"             # no update target
calendar = "business"

# The escalation ladder: levels run 1, 2, 3 ... without gaps. A breached case
# with no activity at its tier for stale_after (in the case's calendar) moves
# up one more tier; "none" turns that off.

[tiers.1]
name = "Frontline"
stale_after = "4h"

[tiers.2]
name = "Specialist"
stale_after = "4h"

[tiers.3]
name = "Manager"
stale_after = "4h"

[tiers.4]
name = "Senior management"
stale_after = "none"

# Trigger rules run in file order after open, set, feedback, reopen and import.
# when: category, customer, priority, channel, tag (a value or a list of values),
#       csat_at_most (1..5), reopened_at_least (1 or more); all keys must match.
# then: priority (only raises), team, tier (at least that tier), owner, reopen = true.
#
# [[rules]]
# name = "key-accounts"
# when = { customer = ["Globex", "Initech"] }
# then = { priority = "high", tier = 2 }

# Notification channels: every notification goes to every channel.
#
# [[channels]]
# type = "command"
# argv = ["/usr/local/bin/notify-oncall", "--json"]
# timeout = "10s"
# [[channels]]
# type = "webhook"
# url = "https://chat.example.com/hooks/T0KEN"
# headers = { Authorization = "Bearer T0KEN" }
# timeout = "5s"
# [[channels]]
# type = "email"
# host = "smtp.example.com"
# security = "starttls"                 # or "ssl" (port 465) or "none" (port 25)
# from = "Support desk <esc@example.com>"
# to = "recipient"                      # the owner, else a fallback; or a list of addresses
# fallback = { "team:billing" = "billing@example.com", default = "leads@example.com" }
# username = "esc@example.com"
# password_env = "ESC_SMTP_PASSWORD"    # the password itself is never in the policy
"""


def parse_policy(text: str) -> Policy:
    """Validate a policy written in TOML; PolicyError names the first bad key."""
    import tomllib

    try:
        doc = tomllib.loads(text)
        return policy_from_dict(doc)
    except tomllib.TOMLDecodeError as err:
        raise PolicyError("", f"not valid TOML: {err}") from None
    except RecursionError:
        # tomllib recurses once per level of `[`/`{`; no policy nests more than a few
        raise PolicyError("", "nested too deeply to be a policy") from None


def policy_from_dict(doc: dict) -> Policy:
    """Validate a policy document (as `tomllib` returns it); PolicyError names the first bad key."""
    doc = _table(doc, "")
    _only(doc, _TOP_KEYS, "")
    raw: dict[str, Any] = {}

    timezone = _zone(doc.get("timezone", "UTC"), "timezone")
    raw["timezone"] = timezone

    warn_at = doc.get("warn_at", 0.8)
    if isinstance(warn_at, bool) or not isinstance(warn_at, (int, float)):
        _fail("warn_at", f"expected a number between 0 and 1, got {_kind(warn_at)}")
    if not 0 < warn_at < 1:  # also refuses nan
        _fail("warn_at", f"must be greater than 0 and less than 1, got {warn_at!r}")
    raw["warn_at"] = warn_at

    close_text = doc.get("close_after", "7d")
    close_after = _span(close_text, "close_after", _WALL_UNITS)
    raw["close_after"] = close_text

    categories = _categories(doc.get("categories", list(DEFAULT_CATEGORIES)))
    raw["categories"] = list(categories)

    calendar_specs, built = _calendars(doc.get("calendars", {}), timezone)
    raw["calendars"] = copy.deepcopy(calendar_specs)

    if "priorities" not in doc:
        _fail("priorities", "missing: define urgent, high, medium and low")
    priorities, raw["priorities"] = _priorities(doc["priorities"], calendar_specs)

    tiers, raw["tiers"] = _tiers(doc.get("tiers", DEFAULT_TIERS), timezone)
    teams, teams_raw = _teams(doc.get("teams", {}), timezone)
    if teams_raw:
        raw["teams"] = teams_raw

    rules, raw["rules"] = _rules(doc.get("rules", []), categories, max(tiers))

    channels, raw["channels"] = _channels(doc.get("channels", []))

    # Every run parses its policy: filled, not constructed, these classes' __init__ need
    # not be compiled (domain/values.py), ≈ 1.7 ms of each command.
    return filled(
        Policy,
        dict(
            timezone=timezone,
            warn_at=float(warn_at),
            close_after=close_after,
            categories=categories,
            priorities=priorities,
            tiers=tiers,
            rules=rules,
            channels=channels,
            calendar_specs=calendar_specs,
            teams=teams,
            _doc=raw,
            _calendars=built,
        ),
    )


def dump_policy(doc: dict) -> str:
    """The policy as TOML text (validated first); secrets are kept so the file reloads."""
    import tomli_w

    raw = policy_from_dict(doc).raw()
    for name in (
        "calendars",
        "rules",
        "channels",
        "teams",
    ):  # `rules = []` between the scalars reads oddly
        if not raw.get(name):
            raw.pop(name, None)
    return tomli_w.dumps(raw)


def default_policy() -> Policy:
    return parse_policy(DEFAULT_POLICY_TOML)


_TOP_KEYS = (
    "timezone",
    "warn_at",
    "close_after",
    "categories",
    "calendars",
    "priorities",
    "tiers",
    "rules",
    "channels",
    "teams",
)


def with_tier(doc: dict, level: int, name: str, stale_after: int | None | bool = False) -> dict:
    """A new document with tier `level` added (it must be top + 1) or edited; other tiers
    keep their values. `stale_after` False (not given) keeps an edited tier's and gives
    a new one none: `tier add 2 Specialists` renames tier 2 without turning off its
    stale re-escalation."""
    if isinstance(level, bool) or not isinstance(level, int) or level < 1:
        raise ValueError(f"a tier level is a whole number from 1, got {level!r}")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("a tier needs a non-empty name")
    keep = stale_after is False
    if (
        not keep
        and stale_after is not None
        and (isinstance(stale_after, bool) or not isinstance(stale_after, int) or stale_after <= 0)
    ):
        raise ValueError(
            f"stale_after must be a positive number of seconds or None, got {stale_after!r}"
        )
    new = copy.deepcopy(doc)
    tiers = {str(k): v for k, v in new.get("tiers", DEFAULT_TIERS).items()}
    levels = sorted(int(k) for k in tiers if str(k).isdigit())
    top = max(levels, default=0)
    if str(level) not in tiers and level != top + 1:
        raise ValueError(
            f"tier {level} would leave a gap: the ladder ends at {top}, add tier {top + 1} next"
        )
    # an edited tier keeps its other keys (routing: assign, own_within, oncall)
    kept = tiers.get(str(level), {})
    if keep:
        stale = kept.get("stale_after", "none")
    else:
        stale = "none" if stale_after is None else _format_stale(stale_after)
    tiers[str(level)] = {**kept, "name": name, "stale_after": stale}
    new["tiers"] = {k: tiers[k] for k in sorted(tiers, key=lambda k: int(k) if k.isdigit() else 0)}
    policy_from_dict(new)  # a PolicyError (a ValueError) if the result is not a valid policy
    return new


def _format_stale(seconds: int) -> str:
    """Seconds as a span in h, m and s (stale_after may count on a business calendar)."""
    parts = []
    for unit, size in (("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts)
