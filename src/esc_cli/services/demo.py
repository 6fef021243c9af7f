"""`esc demo`: the sample desk loaded into a new store, its timeline moved to end now,
swept once, and what the demo shows."""

from __future__ import annotations

import json
from pathlib import Path

from esc_cli.errors import UsageError
from esc_cli.services.importing import import_file
from esc_cli.services.sources import Progress

DEMO_QUEUE_LIMIT = 15


def demo_target(into: str | None) -> tuple[Path, Path | None]:
    """The new store's path, and the temporary directory made for it (if one was)."""
    import tempfile

    if into is None:
        directory = Path(tempfile.mkdtemp(prefix="esc-demo-"))
        return directory / "esc.db", directory
    if "://" in into:  # never echoed: a URI may hold a password
        raise UsageError(
            "--into takes a file path for a new SQLite store, not a URI "
            "(the demo never writes to a shared store)"
        )
    path = Path(into).expanduser()
    if path.exists() or path.is_symlink():
        raise UsageError(
            f"{path} already exists: --into takes a path for a new store",
            hint="pick a path that does not exist, or leave --into out for a temporary one",
        )
    log = notifications_file(path)
    if log.exists() or log.is_symlink():
        # the demo's sweep appends its notifications there, and a failed demo removes
        # what it made: neither may happen to a file it did not make
        raise UsageError(
            f"{log} already exists: the demo writes its notifications beside its store",
            hint="pick another path, or move that file away",
        )
    if path.parent.exists() and not path.parent.is_dir():
        raise UsageError(f"{path.parent} is not a directory")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UsageError(f"cannot create {path.parent}: {err.strerror}") from None
    try:
        # a directory esc cannot write (read-only, a read-only mount) is the path's
        # fault, exit 2 as for export -o and backup; SQLite would only say "unable to
        # open database file" once the store was half made
        import tempfile

        with tempfile.TemporaryFile(dir=path.parent):
            pass
    except OSError as err:
        from esc_cli import outfile

        raise outfile.cannot_write(path, err) from None
    return path.absolute(), None


def notifications_file(path: Path) -> Path:
    """Where the sample policy's command channel appends the demo's notifications."""
    return path.with_name(path.stem + "-notifications.jsonl")


def _remove_demo(path: Path, directory: Path | None, notify_file: Path) -> None:
    """A demo that failed half-way leaves nothing behind: everything here is its own."""
    for leftover in (
        path,
        Path(f"{path}-wal"),
        Path(f"{path}-shm"),
        Path(f"{path}-journal"),
        notify_file,
    ):
        try:
            leftover.unlink()
        except OSError:
            pass
    if directory is not None:
        try:
            directory.rmdir()
        except OSError:
            pass


def demo(env, into: str | None, progress: Progress | None = None) -> dict:
    """Load the sample desk into a new store, its timeline moved so that its "now" is
    env.now (the real time, or --now / ESC_NOW), sweep once, and return what the demo
    shows. Never opens env.db_path (ESC_DB / --db)."""
    import dataclasses
    import os
    import shlex
    import tempfile

    from esc_cli import services
    from esc_cli.domain.model import iso
    from esc_cli.env import parse_instant
    from esc_cli.errors import StoreError
    from esc_cli.services import sample as samples

    sample = samples.directory()
    meta = samples.meta(sample)
    shift = samples.shift_for(parse_instant(meta["now"], "UTC"), env.now)
    moved = json.dumps(samples.rebase(samples.cases(sample), shift), ensure_ascii=False)
    path, directory = demo_target(into)
    demo_env = dataclasses.replace(env, db_path=path, _store=None)
    # the moved cases are written here for import to read, and removed with it
    staging = tempfile.TemporaryDirectory(prefix="esc-demo-sample-")
    sources = {"cases.json": Path(staging.name) / "cases.json"}
    notify_file = notifications_file(path)
    problems: list[str] = []

    def sample_error(label: str, reasons: list[str]) -> None:
        problems.append(f"{label}: {'; '.join(reasons)}")

    try:
        sources["cases.json"].write_text(moved, encoding="utf-8")
        services.init_store(demo_env, (sample / "policy.toml").read_text(encoding="utf-8"))
        imported = {}
        for name in meta["files"]:
            try:
                imported[name] = import_file(
                    demo_env,
                    sources.get(name, sample / name),
                    dry_run=False,
                    on_error=sample_error,
                    progress=progress,
                )
            except UsageError as err:
                detail = problems[0] if problems else err.message
                raise StoreError(
                    f"the sample data does not import: {name}: {detail}",
                    hint="regenerate it with python sample_data/generate.py",
                ) from None
        swept = None
        try:
            from esc_cli.services import sweep as sweeping
        except ImportError:
            sweeping = None  # type: ignore[assignment]
        if sweeping is not None:
            # the sample policy's command channel appends each notification to this file
            saved = os.environ.get("ESC_DEMO_NOTIFY")
            os.environ["ESC_DEMO_NOTIFY"] = str(notify_file)
            try:
                swept = sweeping.sweep(demo_env)
            finally:
                if saved is None:
                    os.environ.pop("ESC_DEMO_NOTIFY", None)
                else:
                    os.environ["ESC_DEMO_NOTIFY"] = saved
        filters: dict[str, list] = {"state": []}
        queue = services.queue(demo_env, filters, "urgency", DEMO_QUEUE_LIMIT)
        from esc_cli.store import bulk

        with demo_env.store().read() as conn:
            unresolved = bulk.unresolved_count(conn)
        overdue = (
            sweeping.overdue(demo_env)
            if sweeping is not None and hasattr(sweeping, "overdue")
            else None
        )
        try:
            from esc_cli.services import report as reporting
        except ImportError:
            reporting = None  # type: ignore[assignment]
        dashboard = reporting.report(demo_env) if reporting is not None else None
    except BaseException:
        demo_env.close()
        _remove_demo(path, directory, notify_file)
        raise
    finally:
        demo_env.close()
        staging.cleanup()
    return {
        "db": str(path),
        "now": iso(demo_env.now),
        "sample_data": str(sample),
        "notifications_file": str(notify_file),
        "imported": imported,
        "sweep": swept,
        "unresolved": unresolved,
        "queue": queue,
        "overdue": overdue,
        "report": dashboard,
        "command": f"esc --db {shlex.quote(str(path))} queue",
    }
