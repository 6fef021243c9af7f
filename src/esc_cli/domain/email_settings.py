"""The `email` notification channel's settings (SPEC §3 channels): parsed and checked with
the rest of the policy, and who a notification is addressed to.

The policy names the SMTP server, how the connection is secured, the sender and the
recipients, and at most the NAME of an environment variable holding the password: a
password is never part of a policy, so it is never stored, exported or shown.
"""

from __future__ import annotations

import re
from typing import Any

from esc_cli.domain.values import value

SECURITY_MODES = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
RECIPIENT = "recipient"
FALLBACK_DEFAULT = "default"

_KEYS = (
    "type",
    "host",
    "port",
    "security",
    "from",
    "to",
    "fallback",
    "username",
    "password_env",
    "cafile",
    "timeout",
)
# A host name, an IPv4 address or a bare IPv6 one (two colons at least): no scheme,
# port, path or spaces ("host:25" is refused: the port has a key of its own).
_HOST = re.compile(r"[A-Za-z0-9._-]{1,253}|[0-9A-Fa-f.]*:[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
# Deliberately plain: one @, something either side, no spaces, controls, commas or angle
# brackets (which would let one "address" carry several, or a header).
_ADDRESS = re.compile(r"[^@\s<>,;\"\x00-\x1f\x7f]{1,64}@[^@\s<>,;\"\x00-\x1f\x7f]{1,253}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NAMED = re.compile(r"[^<>\"\x00-\x1f\x7f]{1,100}<([^<>]+)>")
_FALLBACK_KEY = re.compile(r"(team:[A-Za-z0-9][A-Za-z0-9._-]{0,63})|(tier:[1-9][0-9]{0,2})|default")


@value
class EmailSettings:
    """Where and how an `email` channel sends. `to` holds addresses and the word
    "recipient" (the notification's owner, else `fallback` by team, tier or default)."""

    host: str
    port: int
    security: str
    sender: str
    to: tuple[str, ...]
    fallback: dict
    username: str | None
    password_env: str | None
    cafile: str | None

    @property
    def sender_address(self) -> str:
        """The envelope sender: `from` without its display name."""
        named = _NAMED.fullmatch(self.sender)
        return named.group(1) if named else self.sender


def is_address(text: Any) -> bool:
    return isinstance(text, str) and len(text) <= 254 and _ADDRESS.fullmatch(text) is not None


def addresses(settings: EmailSettings, recipient: dict | None) -> tuple[list[str], str | None]:
    """The addresses one notification goes to, in order and without repeats, and when that
    is none at all, why (for the delivery's last_error).

    "recipient" means the owner's email from the notification (SPEC §3 payload), else the
    first of `fallback["team:TEAM"]`, `fallback["tier:N"]`, `fallback["default"]` that is
    configured. An owner's address that is not a plain address counts as missing."""
    recipient = recipient or {}
    found: list[str] = []
    unresolved = None
    for entry in settings.to:
        if entry != RECIPIENT:
            found.append(entry)
            continue
        address = recipient.get("email")
        if not (recipient.get("owner") and is_address(address)):
            keys = []
            if recipient.get("team"):
                keys.append(f"team:{recipient['team']}")
            if recipient.get("tier") is not None:
                keys.append(f"tier:{recipient['tier']}")
            keys.append(FALLBACK_DEFAULT)
            address = next((settings.fallback[k] for k in keys if k in settings.fallback), None)
            if address is None:
                who = (
                    f"owner {recipient['owner']} has no email address"
                    if recipient.get("owner")
                    else "the case has no owner"
                )
                unresolved = (
                    f"{who} and no fallback matches ({', '.join(keys)}); "
                    "add one under the channel's `fallback`"
                )
                continue
        found.append(address)  # type: ignore[arg-type]  # is_address() held: a str
    unique = list(dict.fromkeys(found))
    return unique, (unresolved if not unique else None)


# --------------------------------------------------------------------- parsing


def parse_email_channel(body: dict, key: str, timeout_text: str) -> tuple[EmailSettings, dict]:
    """Check one `[[channels]]` table of type "email"; returns its settings and its entry
    in the validated document (defaults filled in). Failures name the dotted key."""
    from esc_cli.domain.policy_keys import _fail, _int, _kind, _only, _table

    if "password" in body:
        # the value is never echoed: this error may be printed
        _fail(
            f"{key}.password",
            "a password is never kept in the policy: put it in an "
            "environment variable and name that variable with password_env",
        )
    _only(body, _KEYS, key)

    host = body.get("host")
    if host is None:
        _fail(f"{key}.host", 'missing: the SMTP server\'s host name, e.g. "smtp.example.com"')
    if not isinstance(host, str) or not _HOST.fullmatch(host):
        _fail(
            f"{key}.host",
            f"expected a host name or IP address (no scheme or port), got {_kind(host)}",
        )

    security = body.get("security", "starttls")
    if security not in SECURITY_MODES:
        _fail(f"{key}.security", f'expected "starttls", "ssl" or "none", got {_kind(security)}')
    port = _int(body.get("port", DEFAULT_PORTS[security]), f"{key}.port", 1, 65535)

    sender = body.get("from")
    if sender is None:
        _fail(
            f"{key}.from",
            'missing: the sender, e.g. "esc@example.com" or "Support desk <esc@example.com>"',
        )
    _check_sender(sender, f"{key}.from")

    to_in = body.get("to")
    if to_in is None:
        _fail(f"{key}.to", 'missing: "recipient" or a list of addresses (may include "recipient")')
    items = [to_in] if isinstance(to_in, str) else to_in
    if not isinstance(items, list) or not items:
        _fail(
            f"{key}.to",
            f'expected "recipient", an address or a non-empty list of them, got {_kind(to_in)}',
        )
    for position, item in enumerate(items, start=1):
        if item != RECIPIENT and not is_address(item):
            _fail(
                f"{key}.to[{position}]",
                f'expected an address such as "oncall@example.com" '
                f'or "recipient", got {_kind(item)}',
            )

    fallback_in = _table(body.get("fallback", {}), f"{key}.fallback")
    if fallback_in and RECIPIENT not in items:
        _fail(f"{key}.fallback", 'is used only when `to` includes "recipient"')
    for name, address in fallback_in.items():
        if not _FALLBACK_KEY.fullmatch(name):
            _fail(
                f"{key}.fallback.{name}", 'expected "team:NAME", "tier:N" or "default" as the key'
            )
        if not is_address(address):
            _fail(f"{key}.fallback.{name}", f"expected an address, got {_kind(address)}")

    username = body.get("username")
    password_env = body.get("password_env")
    if username is not None:
        if not isinstance(username, str) or not username or _CONTROL.search(username):
            _fail(f"{key}.username", f"expected a user name, got {_kind(username)}")
        if password_env is None:
            _fail(
                f"{key}.password_env",
                "missing: the environment variable holding the "
                'password for username (e.g. "ESC_SMTP_PASSWORD")',
            )
        if security == "none":
            _fail(
                f"{key}.security",
                '"none" would send the password unencrypted: use '
                '"starttls" or "ssl" with a username',
            )
    if password_env is not None:
        if username is None:
            _fail(f"{key}.password_env", "needs a username to log in with")
        if not isinstance(password_env, str) or not _ENV_NAME.fullmatch(password_env):
            _fail(
                f"{key}.password_env",
                f"expected an environment variable name such as "
                f'"ESC_SMTP_PASSWORD", got {_kind(password_env)}',
            )

    cafile = body.get("cafile")
    if cafile is not None:
        if not isinstance(cafile, str) or not cafile.strip() or _CONTROL.search(cafile):
            _fail(
                f"{key}.cafile",
                f"expected the path of a PEM file of CA certificates, got {_kind(cafile)}",
            )
        if security == "none":
            _fail(f"{key}.cafile", 'means nothing with security = "none"')

    settings = EmailSettings(
        host,
        port,
        security,
        sender,
        tuple(items),
        dict(fallback_in),
        username,
        password_env,
        cafile,
    )
    entry: dict[str, Any] = {
        "type": "email",
        "host": host,
        "port": port,
        "security": security,
        "from": sender,
        "to": to_in if isinstance(to_in, str) else list(items),
    }
    if fallback_in:
        entry["fallback"] = dict(fallback_in)
    for name, given in (("username", username), ("password_env", password_env), ("cafile", cafile)):
        if given is not None:
            entry[name] = given
    entry["timeout"] = timeout_text  # checked by the caller, as for every channel
    return settings, entry


def _check_sender(sender: Any, key: str) -> None:
    from esc_cli.domain.policy_keys import _fail, _kind

    named = _NAMED.fullmatch(sender) if isinstance(sender, str) else None
    if not (is_address(sender) or (named and is_address(named.group(1)))):
        _fail(key, f'expected "esc@example.com" or "Name <esc@example.com>", got {_kind(sender)}')
