"""Files the user names for esc to write (`export --output`, `report --output`,
`backup`): never the store."""

from __future__ import annotations

import os
from pathlib import Path

# What SQLite keeps beside a database: writing over the WAL (or a hot journal) loses
# transactions already committed, as surely as writing over the file itself.
_SIDES = {
    "": "the store itself",
    "-wal": "the store's WAL",
    "-shm": "the store's WAL index",
    "-journal": "the store's journal",
}


def store_part(target: Path, store_path: object) -> str | None:
    """What of the SQLite store `target` would write over ("the store itself", "the
    store's WAL", ...), by whatever name it is reached (a relative path, a symlink, a
    hard link), or None. A PostgreSQL store has no file to protect."""
    if not isinstance(store_path, Path):
        return None
    real = os.path.realpath(target)
    # SQLite names the WAL after the database's resolved path; the name as given is
    # compared too, in case it did not resolve it
    for base in (store_path.expanduser().absolute(), Path(os.path.realpath(store_path))):
        for side, what in _SIDES.items():
            other = Path(f"{base}{side}")
            if real == os.path.realpath(other) or _same_file(target, other):
                return what
    return None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False
