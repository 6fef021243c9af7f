"""Where a PostgreSQL store is: the `postgresql://` URI given as --db / ESC_DB, and its
masked form, so that every message, document and log that names the store names it
without its password (issue 18). Imported by esc_cli.env for every --db that holds
"://", so it imports nothing heavy."""

from __future__ import annotations

import os
import re

from esc_cli.errors import UsageError

SCHEMES = ("postgresql", "postgres")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")


class PgLocation:
    """A PostgreSQL URI given as the store. str() is the masked URI (no password), so
    every message, document and log that prints the store prints it safely."""

    is_postgres = True

    def __init__(self, uri: str):
        self.uri = uri
        self.masked = mask(uri)

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"PgLocation({self.masked!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, PgLocation) and other.uri == self.uri

    def __hash__(self) -> int:
        return hash(self.uri)


def location(text: str):
    """A PgLocation for a postgresql:// or postgres:// URI, None for anything that is
    not a URI (a file path); any other scheme is a usage error."""
    found = _SCHEME.match(text)
    if found is None:
        return None
    scheme = found[1].lower()
    if scheme not in SCHEMES:
        raise UsageError(
            f"--db: unsupported store '{mask(text)}' (use a file path or a postgresql:// URI)"
        )
    return PgLocation(text)


_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*://)([^@/?#]*)@")
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&#]*", re.IGNORECASE)


def mask(uri: str) -> str:
    """The URI with any password (user:PASSWORD@ or ?password=) replaced by ***."""

    def userinfo(found):
        user, colon, _ = found[2].partition(":")
        return f"{found[1]}{user}{':***' if colon else ''}@"

    return _QUERY_PASSWORD.sub(r"\1***", _USERINFO.sub(userinfo, uri, count=1))


def _passwords(uri: str) -> list[str]:
    """Password texts that must never appear in a message, raw or percent-decoded."""
    from urllib.parse import unquote

    found = []
    head = _USERINFO.match(uri)
    if head and ":" in head[2]:
        found.append(head[2].partition(":")[2])
    found += [m[0].split("=", 1)[1] for m in _QUERY_PASSWORD.finditer(uri)]
    if os.environ.get("PGPASSWORD"):
        found.append(os.environ["PGPASSWORD"])
    return [p for text in found if text for p in {text, unquote(text)}]
