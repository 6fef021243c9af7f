"""Temporary files a killed command leaves behind, and whose process is gone.

`esc backup FILE` stages its copy as `.FILE.PID.partial` (SQLite adds `-wal`, `-shm`
or `-journal` beside it) and `esc export --output FILE` as `.FILE.PID.tmp`, each then
moved into place. A SIGKILL between the two leaves the temporary behind, up to the
size of the store. The next run for the same target removes those whose PID names no
living process; a temporary of a run still going (its PID alive) is left alone.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

# what SQLite puts beside a database it writes
_SQLITE_SIDES = ("", "-wal", "-shm", "-journal")


def process_alive(pid: int) -> bool:
    """Is `pid` a process on this machine? (It may be another one that took the number
    since: then a temporary is kept until that one ends, which is only ever safe.)"""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    except OSError:
        return True
    return True


def temporary(target: Path, suffix: str) -> Path:
    """This process's temporary for `target`."""
    return target.with_name(f".{target.name}.{os.getpid()}.{suffix}")


def remove_stale(target: Path, suffix: str) -> list[Path]:
    """Remove the temporaries for `target` (with `suffix`, and SQLite's side files) of
    processes that no longer exist; returns what was removed."""
    pattern = re.compile(
        re.escape(f".{target.name}.")
        + r"([0-9]+)"
        + re.escape(f".{suffix}")
        + "("
        + "|".join(re.escape(s) for s in _SQLITE_SIDES)
        + ")"
    )
    removed: list[Path] = []
    try:
        names = os.listdir(target.parent)
    except OSError:
        return removed
    prefix = f".{target.name}."
    for name in names:
        if not name.startswith(prefix):
            continue
        found = pattern.fullmatch(name)
        # our own PID: a process killed before us had it, since this run has made none yet
        pid = int(found.group(1)) if found else 0
        if found is None or (pid != os.getpid() and process_alive(pid)):
            continue
        path = target.parent / name
        try:
            if path.is_file() and not path.is_symlink():
                path.unlink()
                removed.append(path)
        except OSError:
            pass  # another run removed it first, or it is not ours to remove
    return removed
