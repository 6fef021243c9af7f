"""`esc backup`: an online, checked, private copy of the store."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from esc_cli import outfile
from esc_cli.domain.model import iso
from esc_cli.errors import StoreError, UsageError


def backup(env, target: str, force: bool) -> dict:
    """Copy the store to `target` with SQLite's online backup API: one consistent
    snapshot, taken while other esc processes keep writing (WAL readers never block
    writers). The copy is written beside the target and moved into place only once
    checked, so FILE is never a half-written store; it is created 0600."""
    from datetime import datetime, timezone

    store = env.store()
    dest = Path(target).expanduser()
    if dest.is_dir():
        stamp = datetime.fromtimestamp(env.now, timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        dest = dest / f"esc-{stamp}.db"
    part = outfile.store_part(dest, store.path)
    if part is not None:
        raise UsageError(f"{dest} is {part}", hint="back it up to another file")
    if not dest.parent.is_dir():
        raise outfile.no_directory(dest)
    if dest.exists() or dest.is_symlink():
        if not force:
            raise UsageError(f"{dest} already exists", hint="use --force to replace it")
        if dest.is_dir():
            raise UsageError(f"{dest} is a directory")
    from esc_cli.services import leftovers

    leftovers.remove_stale(dest, "partial")  # of backups to this file that were killed
    staging = leftovers.temporary(dest, "partial")
    try:
        _create_private(staging)
        copy = sqlite3.connect(str(staging), isolation_level=None)
        try:
            store.copy_into(copy)
            check = copy.execute("PRAGMA quick_check").fetchone()[0]
            cases = copy.execute("SELECT count(*) FROM cases").fetchone()[0]
            events = copy.execute("SELECT count(*) FROM events").fetchone()[0]
            version = copy.execute("PRAGMA user_version").fetchone()[0]
        finally:
            copy.close()
        if check != "ok":
            raise StoreError(f"the backup failed its check ({check})", hint="run esc doctor")
        _publish(staging, dest, force)
    except OSError as err:
        raise outfile.cannot_write(dest, err) from None
    except sqlite3.DatabaseError as err:
        raise StoreError(f"backup to {dest} failed: {err}") from None
    finally:
        for leftover in (
            staging,
            Path(f"{staging}-wal"),
            Path(f"{staging}-shm"),
            Path(f"{staging}-journal"),
        ):
            try:
                leftover.unlink()
            except OSError:
                pass
    return {
        "file": str(dest),
        "bytes": dest.stat().st_size,
        "cases": cases,
        "events": events,
        "schema_version": version,
        "at": iso(env.now),
    }


def _create_private(path: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)


def _publish(staging: Path, dest: Path, force: bool) -> None:
    if force:
        os.replace(staging, dest)
        return
    try:
        # A hard link never replaces a file that appeared since we looked.
        os.link(staging, dest)
    except FileExistsError:
        raise UsageError(f"{dest} already exists", hint="use --force to replace it") from None
    except OSError:
        if dest.exists():
            raise UsageError(f"{dest} already exists", hint="use --force to replace it") from None
        os.replace(staging, dest)
