"""Owner rows of an import file, and the policy versions of an export document,
checked."""

from __future__ import annotations

from datetime import datetime, timezone

from esc_cli.domain.model import Owner, is_esc_actor
from esc_cli.domain.record_values import (
    DERIVED_OWNER_FIELDS,
    OWNER_FIELDS,
    OWNER_TYPES,
    RowError,
    _blank,
    _boolean,
    _integer,
    _list,
    _string,
    _unknown,
    json_repr,
    mistyped,
)


def valid_handle(handle: str) -> bool:
    """A handle is exact (issue 20): no spaces anywhere, nothing unprintable (control
    characters, bidi overrides), so what is typed, stored and shown are the same."""
    return bool(handle) and all(ch.isprintable() and not ch.isspace() for ch in handle)


def check_owner(raw: dict, policy, typed: bool = False) -> tuple[Owner | None, list[str]]:
    """The row as an Owner, or None and every reason it is bad; `typed` (a JSON file)
    holds each value to its JSON type."""
    wrong = mistyped(raw, OWNER_TYPES) if typed else {}
    errors: list[str] = []
    for key in _unknown(raw, OWNER_FIELDS + DERIVED_OWNER_FIELDS):
        errors.append(f"unknown field '{key}'")
    handle = raw.get("handle")
    if "handle" in wrong:
        errors.append(wrong.pop("handle"))
    elif _blank(handle):
        errors.append("handle is missing" if "handle" not in raw else "handle is empty")
    elif not isinstance(handle, str) or not valid_handle(handle):
        errors.append(f"handle {handle!r} is not valid (text without spaces or control characters)")
    elif is_esc_actor(handle):
        errors.append(f"handle {handle!r} is esc's own actor (the sweep, routing, trigger rules)")
    result: dict = {}
    for name, convert in (
        ("name", lambda v: _string(v, "name")),
        ("email", lambda v: _string(v, "email").strip()),
        ("tier", lambda v: _integer(v, "tier")),
        ("teams", lambda v: _list(v, "teams")),
        ("capacity", lambda v: _integer(v, "capacity", 0)),
        ("active", lambda v: _boolean(v, "active")),
    ):
        value = raw.get(name)
        if name in wrong:
            errors.append(wrong[name])
            continue
        if _blank(value):
            continue
        try:
            result[name] = convert(value)
        except RowError as err:
            errors.append(str(err))
    tier = result.get("tier", 1)
    if "tier" in result and tier not in policy.tiers:
        errors.append(f"unknown tier {tier} (the ladder is 1..{policy.top_tier})")
    if errors:
        return None, errors
    return Owner(
        handle=handle,  # type: ignore[arg-type]  # no errors: handle is a str
        name=result.get("name"),
        email=result.get("email"),
        tier=tier,
        teams=result.get("teams", ()),
        capacity=result.get("capacity"),
        active=result.get("active", True),
    ), []


def is_owner_row(raw: dict) -> bool:
    return "handle" in raw


def check_policy_version(raw, position: int) -> tuple[tuple[int, int, str, str] | None, list[str]]:
    """One element of an export's `policy` list: {version, created_at, actor, toml}."""
    from esc_cli.domain.policy import PolicyError, parse_policy

    if not isinstance(raw, dict):
        return None, ["must be an object {version, created_at, actor, toml}"]
    errors = [
        f"unknown field '{k}'" for k in _unknown(raw, ("version", "created_at", "actor", "toml"))
    ]
    version = raw.get("version", position)
    if type(version) is not int:  # what esc export writes; "2" or 2.0 is not exact
        errors.append(f"version must be a whole number, got {json_repr(version)}")
    else:
        try:
            version = _integer(version, "version", 1)
        except RowError as err:
            errors.append(str(err))
    created = raw.get("created_at")
    instant = 0
    if isinstance(created, str):
        try:
            instant = int(
                datetime.strptime(created.strip(), "%Y-%m-%dT%H:%M:%SZ")
                .replace(tzinfo=timezone.utc)
                .timestamp()
            )
        except ValueError:
            errors.append(f"created_at {created!r} is not a valid time (e.g. 2026-11-02T10:15:00Z)")
    elif created is not None:
        errors.append("created_at must be a time such as 2026-11-02T10:15:00Z")
    actor = raw.get("actor") or "import"
    if not isinstance(actor, str):
        errors.append("actor must be text")
    text = raw.get("toml")
    if not isinstance(text, str):
        errors.append("toml is missing (the policy file's text)")
    else:
        try:
            parse_policy(text)
        except PolicyError as err:
            errors.append(f"policy: {err}")
    if errors:
        return None, errors
    return (version, instant, actor, text), []  # type: ignore[return-value]  # no errors: all checked
