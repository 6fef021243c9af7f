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
    # libpq knows its schemes in lower case only: POSTGRESQL:// is read as a keyword list
    return PgLocation(scheme + text[len(found[1]) :])


_SECRET_KEYS = frozenset({"password", "sslpassword"})


def _userinfo(uri: str) -> tuple[int, int] | None:
    """Where `user[:password]` sits in the URI (start, and the index of its `@`), or None.

    libpq ends the userinfo at the first `@` met before any `/`, so a password may hold
    `#`, `?` or `:` unencoded. Where that reading is not the whole story (a second `@`
    before the host's end, or a raw `/` in the password, which libpq then fails to
    read), the userinfo is taken to run to the URI's last `@`: a host or query shown
    masked is better than a password shown."""
    head = _SCHEME.match(uri)
    if head is None:
        return None
    start = head.end()
    ends = [i for i in (uri.find("@", start), uri.find("/", start)) if i != -1]
    first = min(ends) if ends else -1
    if first != -1 and uri[first] == "@":
        host_end = uri.find("/", first)
        if "@" not in uri[first + 1 : host_end if host_end != -1 else len(uri)]:
            return start, first
    last = uri.rfind("@", start)
    if last == -1 or ":" not in uri[start:last]:
        return None
    query = uri.find("?", start, last)
    if query != -1 and "=" in uri[query:last] and "/" in uri[start:query]:
        return None  # the @ is in a query value (?user=a@b): a port's colon, no password
    return start, last


def _query_secrets(uri: str, after: int) -> list[tuple[int, int]]:
    """(start, end) of each password= or sslpassword= value in the query (from the first
    `?` at or after `after`), keys read as libpq reads them (percent-decoded); a value
    runs to the next `&`, a `#` in it included."""
    from urllib.parse import unquote

    query = uri.find("?", after)
    if query == -1:
        return []
    spans, position = [], query + 1
    for part in uri[query + 1 :].split("&"):
        key, equals, _ = part.partition("=")
        if equals and unquote(key).strip().lower() in _SECRET_KEYS:
            spans.append((position + len(key) + 1, position + len(part)))
        position += len(part) + 1
    return spans


def mask(uri: str) -> str:
    """The URI with every password (user:PASSWORD@, ?password=, ?sslpassword=) as ***."""
    userinfo = _userinfo(uri)
    after = 0
    if userinfo is not None:
        start, at = userinfo
        user, colon, _ = uri[start:at].partition(":")
        uri = f"{uri[:start]}{user}{':***' if colon else ''}{uri[at:]}"
        after = start + len(user) + (4 if colon else 0)
    for start, end in reversed(_query_secrets(uri, after)):
        uri = f"{uri[:start]}***{uri[end:]}"
    return uri


# A password as any message may quote a URI given where a file was expected (backup,
# export -o, import, policy load): user:PASSWORD@ after a scheme (a path made of a URI
# keeps one slash of its two), and ?password= or &sslpassword=.
_QUOTED_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*:/{1,2}[^\s/@:?#]*:)[^\s/@]+@")
_QUOTED_QUERY = re.compile(r"([?&](?:ssl)?password=)[^&\s'\"]*", re.IGNORECASE)


def hide_passwords(text: str) -> str:
    """`text` with every password a URI in it holds as ***: the last guard before a
    message is printed (app._error)."""
    if "@" not in text and "password" not in text.lower():
        return text
    return _QUOTED_QUERY.sub(r"\1***", _QUOTED_USERINFO.sub(r"\1***@", text))


def _passwords(uri: str) -> list[str]:
    """Password texts that must never appear in a message, raw or percent-decoded."""
    from urllib.parse import unquote

    found = []
    userinfo = _userinfo(uri)
    after = 0
    if userinfo is not None:
        start, at = userinfo
        _, colon, password = uri[start:at].partition(":")
        if colon:
            found.append(password)
        after = at
    found += [uri[start:end] for start, end in _query_secrets(uri, after)]
    if os.environ.get("PGPASSWORD"):
        found.append(os.environ["PGPASSWORD"])
    return [p for text in found if text for p in {text, unquote(text)}]
