"""Files the user names for esc to write (`export --output`, `report --output`,
`backup`): never the store, and one rule for a path the filesystem refuses.

The rule (docs/operations.md): a path the user must change is an invalid value, exit 2:
what is wrong with the name itself (the store, a directory, an existing file without
--force) and what the filesystem says is wrong with it (no such directory, not a
directory, permission, read-only, a name too long). A path that is fine on a machine
in trouble (full, an I/O error, over quota) is an I/O problem and exits 5, as the
store's own are (SPEC §5)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from esc_cli.errors import EscError, StoreError, UsageError

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


def refuse_target(target: Path | str, store_path: object, instead: str) -> None:
    """A usage error, naming `target` as the user gave it, when it is a directory or any
    part of the SQLite store; `instead` says what to do (`export to another file`)."""

    path = Path(target)
    if path.is_dir():
        raise UsageError(f"{target} is a directory: --output takes a file name")
    part = store_part(path, store_path)
    if part is not None:
        raise UsageError(f"{target} is {part}: {instead}")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def writes_in_place(target: Path) -> bool:
    """Whether `target` must be written into rather than replaced: a symlink (its target
    is what the user means), a FIFO, a device or a socket. Only a regular file, or a
    name not taken yet, can be replaced by a file renamed over it."""
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        return False
    except OSError as err:
        raise cannot_write(target, err) from None
    import stat

    return not stat.S_ISREG(mode)


def open_in_place(target: Path) -> int:
    """A descriptor writing into `target` through any symlink; a file it creates is 0600
    like the store, since an export holds the same customer data."""
    try:
        return os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as err:
        raise cannot_write(target, err) from None


def is_stdout(target: Path) -> bool:
    """Whether `target` is where standard output goes (`--output /dev/stdout`)."""
    import sys

    try:
        out, named = os.fstat(sys.stdout.fileno()), os.stat(target)
    except (OSError, ValueError, AttributeError):  # in-process tests: no descriptor
        return False
    return (out.st_dev, out.st_ino) == (named.st_dev, named.st_ino)


# What the filesystem says about the path itself: naming another one is the fix
_BAD_PATH = frozenset(
    (
        errno.ENOENT,
        errno.ENOTDIR,
        errno.EISDIR,
        errno.EACCES,
        errno.EPERM,
        errno.EROFS,
        errno.ENAMETOOLONG,
        errno.ELOOP,
        errno.EEXIST,
    )
)


def cannot_write(target: Path, err: OSError) -> EscError:
    """The error for a path the filesystem refused, naming what is wrong with it: exit
    2 when the path is the problem, 5 when the machine is (see the module's rule)."""
    reason = err.strerror or str(err)
    if err.errno in (errno.ENOENT, errno.ENOTDIR) and not Path(target).parent.is_dir():
        return no_directory(target)
    if err.errno in _BAD_PATH:
        return UsageError(f"cannot write {target}: {reason}")
    return StoreError(f"cannot write {target}: {reason}")


def no_directory(target: Path) -> UsageError:
    """`target`'s directory is not there: a file where a directory should be (the
    nearest ancestor that exists is not a directory), or a directory that is missing."""
    parent = Path(target).parent
    while not parent.is_dir():
        if parent.exists() or parent.is_symlink():
            return UsageError(f"cannot write {target}: {parent} is not a directory")
        if parent == parent.parent:
            break
        parent = parent.parent
    return UsageError(f"cannot write {target}: directory {Path(target).parent} does not exist")
