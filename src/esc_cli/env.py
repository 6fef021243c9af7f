"""Env: everything a command needs from the outside world, resolved once per process.

Store path, acting user, "now", display zone and output mode come from flags, then
environment variables, then defaults. Nothing else reads the clock or the environment.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from esc_cli.errors import UsageError

if TYPE_CHECKING:  # the annotation only: start-up does not import the store
    from esc_cli.store.db import Store


def default_db_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("esc", appauthor=False)) / "esc.db"


def system_zone() -> str:
    name = os.environ.get("TZ", "").lstrip(":")
    if name and _zone_exists(name):
        return name
    try:
        link = os.readlink("/etc/localtime")
        marker = "zoneinfo/"
        if marker in link:
            candidate = link.split(marker, 1)[1]
            if _zone_exists(candidate):
                return candidate
    except OSError:
        pass
    try:
        candidate = Path("/etc/timezone").read_text().strip()
        if _zone_exists(candidate):
            return candidate
    except OSError:
        pass
    return "UTC"


def _zone_exists(name: str) -> bool:
    try:
        ZoneInfo(name)
        return True
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False


def check_zone(name: str, what: str = "time zone") -> str:
    if not name or not _zone_exists(name):
        raise UsageError(f"unknown {what} '{name}' (use an IANA name such as Europe/Berlin)")
    return name


def parse_instant(text: str, zone: str, what: str = "--now") -> int:
    """An ISO-8601 time as epoch seconds; without an offset it is read in `zone`.
    A local time that does not exist (DST gap) is refused; an ambiguous one takes the
    first occurrence."""
    raw = text.strip()
    try:
        parsed = datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError:
        raise UsageError(
            f"{what}: '{text}' is not an ISO-8601 time (e.g. 2026-11-02T10:15)"
        ) from None
    from esc_cli.domain.model import check_year, local_to_utc

    check_year(parsed.year, what, text)

    utc = local_to_utc(parsed, ZoneInfo(zone))
    if utc is None:
        raise UsageError(f"{what}: {text} does not exist in {zone} (a daylight-saving gap)")
    return int(utc.timestamp())


def _location(db: str):
    """A file path, or a PostgreSQL location for a postgresql:// URI (store/pg.py)."""
    if "://" in db:
        from esc_cli.store.pg_location import location

        found = location(db)
        if found is not None:
            return found
    return Path(db).expanduser()


def _check_acting_user(user: str) -> None:
    """The user --as / ESC_USER names is recorded on every event and is who `take`
    assigns: a handle as `owner add` takes one, and none of esc's own actors."""
    from esc_cli.domain.model import is_esc_actor
    from esc_cli.domain.owner_records import valid_handle

    try:
        user.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError("the acting user (--as / ESC_USER) is not valid UTF-8 text") from None
    if not valid_handle(user):
        raise UsageError(
            f"the acting user (--as / ESC_USER) {user!r} is not a handle "
            "(text without spaces or control characters)"
        )
    if is_esc_actor(user):
        raise UsageError(
            f"the acting user (--as / ESC_USER) {user!r} is esc's own "
            "(the sweep, routing and trigger rules act under it): act as yourself"
        )


@dataclass
class Env:
    db_path: Path  # or a store.pg.PgLocation
    user: str
    now: int
    tz: str
    stdout_tty: bool
    stderr_tty: bool
    no_color: bool
    _store: Store | None = field(default=None, repr=False)

    @classmethod
    def build(cls, db: str | None, user: str | None, now: str | None, tz: str | None) -> "Env":
        # An empty variable is unset (ESC_NOW= is no --now) and an empty option never
        # gets here (commands.common.refuse_blank); a variable of blanks is neither:
        # ESC_DB=" " would be a store file named " ".
        for variable, value in (
            ("ESC_DB", db),
            ("ESC_USER", user),
            ("ESC_NOW", now),
            ("ESC_TZ", tz),
        ):
            if value is not None and not value.strip():
                raise UsageError(f"{variable} is blank: give it a value or leave it empty")
        zone = check_zone(tz) if tz else system_zone()
        if user is None:
            import getpass

            try:
                user = getpass.getuser()
            except Exception:
                user = "unknown"
        else:
            _check_acting_user(user)
        instant = parse_instant(now, zone) if now else int(time.time())
        path = _location(db) if db else default_db_path()
        return cls(
            db_path=path,
            user=user,
            now=instant,
            tz=zone,
            stdout_tty=sys.stdout.isatty(),
            stderr_tty=sys.stderr.isatty(),
            no_color=os.environ.get("NO_COLOR", "") != "",  # no-color.org: set and non-empty
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def store(self):
        """The opened store, refusing a missing, foreign or newer file."""
        if self._store is None:
            from esc_cli.store.db import Store

            self._store = Store.open(self.db_path)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
