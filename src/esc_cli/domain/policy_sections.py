"""Each section of a policy checked and parsed: categories, priorities, tiers, teams
(routing), rules and channels (calendars in `policy_calendars.py`). Each returns its
parsed values and its part of the validated document."""

from __future__ import annotations

import copy
from typing import Any

from esc_cli.domain.policy_keys import (
    _BUSINESS_UNITS,
    _CONTROL,
    _HEADER_NAME,
    _MAX_TIMEOUT,
    _NAME,
    _STALE_UNITS,
    _WALL_UNITS,
    CALENDAR_24X7,
    CASE_CHANNELS,
    DEFAULT_TIMEOUTS,
    PRIORITIES,
    _fail,
    _int,
    _kind,
    _only,
    _priority_value,
    _span,
    _string_or_list,
    _table,
)
from esc_cli.domain.policy_model import Channel, PriorityTarget, Rule, Tier
from esc_cli.domain.values import filled


def _categories(value: Any) -> tuple[str, ...]:
    key = "categories"
    if not isinstance(value, list) or not value:
        _fail(key, f"expected a non-empty list of names, got {_kind(value)}")
    seen: set[str] = set()
    for i, name in enumerate(value):
        if not isinstance(name, str) or not name.strip():
            _fail(key, f"entry {i + 1} must be a non-empty string, got {name!r}")
        if _CONTROL.search(name):
            _fail(key, f"entry {i + 1} contains a control character")
        folded = name.lower()
        if folded in seen:
            _fail(key, f"{name!r} is listed twice")
        seen.add(folded)
    return tuple(value)


def _priorities(value: Any, calendars: dict) -> tuple[dict[str, PriorityTarget], dict]:
    table = _table(value, "priorities")
    for name in table:
        if name not in PRIORITIES:
            _fail(
                f"priorities.{name}",
                "unknown priority (define exactly urgent, high, medium and low)",
            )
    targets: dict[str, PriorityTarget] = {}
    raw: dict[str, dict] = {}
    for name in PRIORITIES:
        key = f"priorities.{name}"
        if name not in table:
            _fail(key, "missing: every priority needs respond, resolve and calendar")
        body = _table(table[name], key)
        _only(body, ("respond", "update", "resolve", "calendar"), key)
        if "calendar" not in body:
            _fail(f"{key}.calendar", "missing: '24x7' or the name of a [calendars] table")
        calendar = body["calendar"]
        if not isinstance(calendar, str):
            _fail(f"{key}.calendar", f"expected a calendar name, got {_kind(calendar)}")
        if calendar != CALENDAR_24X7 and calendar not in calendars:
            known = ", ".join([CALENDAR_24X7, *calendars])
            _fail(f"{key}.calendar", f"unknown calendar {calendar!r} (defined: {known})")
        units = _WALL_UNITS if calendar == CALENDAR_24X7 else _BUSINESS_UNITS
        spans: dict[str, int | None] = {}
        entry: dict[str, Any] = {}
        for part in ("respond", "update", "resolve"):
            if part not in body:
                if part == "update":
                    spans[part] = None
                    continue
                _fail(f"{key}.{part}", "missing")
            if part == "update" and body[part] == "none":
                spans[part] = None
                continue
            spans[part] = _span(body[part], f"{key}.{part}", units)
            entry[part] = body[part]
        entry["calendar"] = calendar
        raw[name] = entry
        targets[name] = filled(
            PriorityTarget,
            dict(
                name=name,
                respond=spans["respond"],
                update=spans["update"],
                resolve=spans["resolve"],
                calendar=calendar,
            ),
        )
    return targets, raw


def _tiers(value: Any, zone: str = "UTC") -> tuple[dict[int, Tier], dict]:
    table = _table(value, "tiers")
    if not table:
        _fail("tiers", "define at least one tier")
    levels: dict[int, Any] = {}
    for level_key, body in table.items():
        text = str(level_key)
        if (
            isinstance(level_key, bool)
            or not text.isdigit()
            or text != str(int(text))
            or int(text) < 1
        ):
            _fail(f"tiers.{text}", "tier levels are whole numbers 1, 2, 3 ...")
        if int(text) in levels:
            _fail(f"tiers.{text}", "defined twice")
        levels[int(text)] = body
    for level in range(1, len(levels) + 1):
        if level not in levels:
            _fail(f"tiers.{level}", f"missing: levels run from 1 to {max(levels)} without gaps")
    tiers: dict[int, Tier] = {}
    raw: dict[str, dict] = {}
    for level in sorted(levels):
        key = f"tiers.{level}"
        body = _table(levels[level], key)
        _only(body, ("name", "stale_after", *_ROUTING_KEYS), key)
        if "name" not in body:
            _fail(f"{key}.name", "missing: every tier needs a name")
        name = body["name"]
        if not isinstance(name, str) or not name.strip():
            _fail(f"{key}.name", f"expected a non-empty string, got {_kind(name)}")
        if _CONTROL.search(name):
            _fail(f"{key}.name", "contains a control character")
        stale_text = body.get("stale_after", "none")
        stale = (
            None if stale_text == "none" else _span(stale_text, f"{key}.stale_after", _STALE_UNITS)
        )
        routing, routing_raw = _routing(body, key, zone)
        tiers[level] = filled(
            Tier,
            dict(level=level, name=name, stale_after=stale, **{**_ROUTING_DEFAULTS, **routing}),
        )
        raw[str(level)] = {"name": name, "stale_after": stale_text, **routing_raw}
    return tiers, raw


# routing keys of [tiers.N] and [teams.NAME], parsed by domain/routing.py (imported only
# when a table has one)
_ROUTING_KEYS = ("assign", "own_within", "oncall")
_ROUTING_DEFAULTS = {"assign": "manual", "own_within": None, "oncall": None}


def _routing(body: dict, key: str, zone: str) -> tuple[dict, dict]:
    if not any(name in body for name in _ROUTING_KEYS):
        return {}, {}
    from esc_cli.domain.routing import parse_settings

    return parse_settings(body, key, zone)


def _teams(value: Any, zone: str) -> tuple[dict, dict]:
    """[teams.NAME]: a team's routing settings (the team is the case's free-text team)."""
    table = _table(value, "teams")
    teams: dict = {}
    raw: dict = {}
    for name, body in table.items():
        key = f"teams.{name}"
        if not name.strip() or _CONTROL.search(name):
            _fail(key, "a team name must be non-empty text without control characters")
        body = _table(body, key)
        _only(body, _ROUTING_KEYS, key)
        routing, raw[name] = _routing(body, key, zone)
        from esc_cli.domain.routing import Settings

        teams[name] = Settings(scope=f"team:{name}", **routing)
    return teams, raw


_WHEN_LISTS = ("category", "customer", "priority", "channel", "tag")
_WHEN_KEYS = (*_WHEN_LISTS, "csat_at_most", "reopened_at_least")
_THEN_KEYS = ("priority", "team", "tier", "owner", "reopen")


def _rules(value: Any, categories: tuple[str, ...], top_tier: int) -> tuple[tuple[Rule, ...], list]:
    if not isinstance(value, list):
        _fail("rules", f"expected a list of [[rules]] tables, got {_kind(value)}")
    rules: list[Rule] = []
    raw: list[dict] = []
    names: set[str] = set()
    known_categories = {c.lower() for c in categories}
    for index, body in enumerate(value, start=1):
        key = f"rules[{index}]"
        body = _table(body, key)
        _only(body, ("name", "when", "then"), key)
        name = body.get("name")
        if name is None:
            _fail(f"{key}.name", "missing: every rule needs a name")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            _fail(
                f"{key}.name",
                f"expected a name of letters, digits, '.', '_' and '-' (at most 64), got {name!r}",
            )
        if name in names:
            _fail(f"{key}.name", f"another rule is already called {name!r}")
        names.add(name)

        if "when" not in body:
            _fail(f"{key}.when", "missing: what a case must match")
        when_in = _table(body["when"], f"{key}.when")
        _only(when_in, _WHEN_KEYS, f"{key}.when")
        if not when_in:
            _fail(f"{key}.when", f"give at least one of {', '.join(_WHEN_KEYS)}")
        when: dict[str, Any] = {}
        for part, item in when_in.items():
            part_key = f"{key}.when.{part}"
            if part in _WHEN_LISTS:
                values = _string_or_list(item, part_key)
                if part == "priority":
                    values = tuple(dict.fromkeys(_priority_value(v, part_key) for v in values))
                else:
                    values = tuple(dict.fromkeys(v.lower() for v in values))
                if part == "channel":
                    for v in values:
                        if v not in CASE_CHANNELS:
                            _fail(
                                part_key, f"unknown channel {v!r} (use {', '.join(CASE_CHANNELS)})"
                            )
                if part == "category":
                    for v in values:
                        if v not in known_categories:
                            _fail(
                                part_key,
                                f"unknown category {v!r} (categories: {', '.join(categories)})",
                            )
                when[part] = values
            elif part == "csat_at_most":
                when[part] = _int(item, part_key, 1, 5)
            else:
                when[part] = _int(item, part_key, 1, None)

        if "then" not in body:
            _fail(f"{key}.then", "missing: what the rule changes")
        then_in = _table(body["then"], f"{key}.then")
        _only(then_in, _THEN_KEYS, f"{key}.then")
        if not then_in:
            _fail(f"{key}.then", f"give at least one of {', '.join(_THEN_KEYS)}")
        then: dict[str, Any] = {}
        for part, item in then_in.items():
            part_key = f"{key}.then.{part}"
            if part == "priority":
                if not isinstance(item, str):
                    _fail(part_key, f"expected a priority, got {_kind(item)}")
                then[part] = _priority_value(item, part_key)
            elif part in ("team", "owner"):
                if not isinstance(item, str) or not item.strip():
                    _fail(part_key, f"expected a non-empty string, got {_kind(item)}")
                if _CONTROL.search(item):
                    _fail(part_key, "contains a control character")
                then[part] = item.strip()
            elif part == "tier":
                then[part] = _int(item, part_key, 1, top_tier)
            else:  # reopen
                if item is not True:
                    _fail(part_key, f"only `reopen = true` is meaningful, got {item!r}")
                then[part] = True
        rules.append(Rule(name=name, when=when, then=then))
        raw.append({"name": name, "when": copy.deepcopy(when_in), "then": copy.deepcopy(then_in)})
    return tuple(rules), raw


def _channels(value: Any) -> tuple[tuple[Channel, ...], list]:
    if not isinstance(value, list):
        _fail("channels", f"expected a list of [[channels]] tables, got {_kind(value)}")
    channels: list[Channel] = []
    raw: list[dict] = []
    for index, body in enumerate(value, start=1):
        key = f"channels[{index}]"
        body = _table(body, key)
        kind = body.get("type")
        if kind is None:
            _fail(f"{key}.type", 'missing: "command", "webhook" or "email"')
        if kind not in ("command", "webhook", "email"):
            _fail(f"{key}.type", f'expected "command", "webhook" or "email", got {kind!r}')
        timeout_text = body.get("timeout", f"{DEFAULT_TIMEOUTS[kind]}s")
        if kind == "command":
            _only(body, ("type", "argv", "timeout"), key)
            argv = body.get("argv")
            if argv is None:
                _fail(
                    f"{key}.argv",
                    'missing: the program and its arguments, e.g. ["/usr/local/bin/notify"]',
                )
            if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
                _fail(f"{key}.argv", f"expected a non-empty list of strings, got {_kind(argv)}")
            if not argv[0].strip():
                _fail(f"{key}.argv", "the program (first element) is empty")
            if any("\x00" in a for a in argv):
                _fail(f"{key}.argv", "contains a NUL character")
            timeout = _timeout(timeout_text, f"{key}.timeout")
            channels.append(Channel("command", tuple(argv), None, {}, timeout, f"command:{index}"))
            raw.append({"type": "command", "argv": list(argv), "timeout": timeout_text})
        elif kind == "email":
            from esc_cli.domain.email_settings import parse_email_channel

            settings, entry = parse_email_channel(body, key, timeout_text)
            timeout = _timeout(timeout_text, f"{key}.timeout")
            channels.append(Channel("email", None, None, {}, timeout, f"email:{index}", settings))
            raw.append(entry)
        else:
            _only(body, ("type", "url", "headers", "timeout"), key)
            url = body.get("url")
            if url is None:
                _fail(f"{key}.url", "missing: the http(s) address to POST to")
            _check_url(url, f"{key}.url")
            headers = _table(body.get("headers", {}), f"{key}.headers")
            for header, header_value in headers.items():
                header_key = f"{key}.headers.{header}"
                if not _HEADER_NAME.fullmatch(header):
                    _fail(header_key, "not a valid HTTP header name")
                if not isinstance(header_value, str):
                    _fail(header_key, f"expected a string, got {_kind(header_value)}")
                if _CONTROL.search(header_value.replace("\t", " ")):
                    _fail(header_key, "contains a control character")
            timeout = _timeout(timeout_text, f"{key}.timeout")
            channels.append(
                Channel("webhook", None, url, dict(headers), timeout, f"webhook:{index}")
            )
            entry = {"type": "webhook", "url": url}
            if headers:
                entry["headers"] = dict(headers)
            entry["timeout"] = timeout_text
            raw.append(entry)
    return tuple(channels), raw


def _check_url(url: Any, key: str) -> None:
    from urllib.parse import urlsplit

    if not isinstance(url, str):
        _fail(key, f"expected an http(s) URL, got {_kind(url)}")
    if _CONTROL.search(url) or " " in url:
        _fail(key, "contains whitespace or a control character")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as err:
        _fail(key, f"not a valid URL ({err})")
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        _fail(key, "expected an http:// or https:// URL with a host")


def _timeout(value: Any, key: str) -> int:
    seconds = _span(value, key, _WALL_UNITS)
    if seconds > _MAX_TIMEOUT:
        _fail(key, "must be at most 1h")
    return seconds
