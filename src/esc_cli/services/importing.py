"""Bulk in: `esc import` (SPEC §4).

Import is two passes over the file, both streamed in batches: the first checks every
row against the store and the policy (and writes nothing); only when no row is bad
does the second build the cases, their events and due times in memory, a batch at a
time, and write them with `executemany` — all inside one BEGIN IMMEDIATE transaction,
so a bad row, a crash or Ctrl-C leaves the store exactly as it was. Which passes a
file gets is decided here; the checks and writes of its rows are the Importer's
(importer.py).
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from esc_cli.errors import EscError, UsageError
from esc_cli.services.importer import ErrorSink, Importer
from esc_cli.services.sources import CsvSource, JsonSource, Progress, open_source


def import_file(
    env, path: Path, *, dry_run: bool, on_error: ErrorSink, progress: Progress | None = None
) -> dict:
    """Check every row of `path`, then (unless dry_run) import all of it in one transaction.
    Bad rows go to `on_error(label, reasons)`; any bad row raises UsageError and writes nothing."""
    progress = progress or Progress()
    source = open_source(path)
    store = env.store()
    # PostgreSQL text cannot hold NUL: a bad row there, in --dry-run as in the import
    source.refuse_nul = getattr(getattr(store, "path", None), "is_postgres", False)
    if dry_run:
        return _import(env, store.read(), path, source, True, on_error, progress)
    with _commit_not_interrupted() as guard:
        return _import(env, store.write(), path, source, False, on_error, progress, guard)


def import_stream(
    env, stream, *, dry_run: bool, on_error: ErrorSink, progress: Progress | None = None
) -> dict:
    """`esc import -`: the file comes down a pipe (`esc export --db a.db | esc import
    --db postgresql://…`). An import reads its file more than once (a document's small
    sections first, then its cases), so the stream is spooled to a private temporary
    file; its format is told by its first byte, as a pipe has no extension: JSON starts
    with `{` or `[`, anything else is CSV."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory(prefix="esc-import-") as folder:
        spooled = Path(folder) / "stdin"
        with open(spooled, "wb") as target:
            shutil.copyfileobj(stream, target, 1 << 20)
        with open(spooled, "rb") as source:
            head = source.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
        named = spooled.with_name("stdin.json" if head[:1] in (b"{", b"[") else "stdin.csv")
        spooled.rename(named)
        try:
            summary = import_file(env, named, dry_run=dry_run, on_error=on_error, progress=progress)
        except EscError as err:
            # the spool file is ours, not the user's: name what they gave
            err.message = err.message.replace(str(named), "standard input")
            raise
        summary["file"] = "-"
        return summary


class _CommitGuard:
    """Set by the import once every row is written: from then on a Ctrl-C is held until
    the process exits (the COMMIT, then the summary printed). SQLite finishes a COMMIT even when Python has a pending Ctrl-C,
    and a big import's COMMIT (writing its pages to the WAL) takes a good part of the
    run: a Ctrl-C raised after it would say "interrupted" about an import that is
    complete. A Ctrl-C that comes while the rows are still going in rolls back."""

    def __init__(self):
        self.armed = False
        self.interrupted = False

    def handler(self, signum, frame):
        if not self.armed:
            raise KeyboardInterrupt
        self.interrupted = True


@contextmanager
def _commit_not_interrupted():
    import signal
    import threading

    guard = _CommitGuard()
    if threading.current_thread() is not threading.main_thread():
        yield guard
        return
    try:
        previous = signal.signal(signal.SIGINT, guard.handler)
    except (ValueError, OSError):
        yield guard
        return
    try:
        yield guard
    finally:
        # Once armed, the import is committing or has committed: a Ctrl-C from here until
        # the process exits is recorded, never raised, so a committed import never says
        # "interrupted" (app.main ignores SIGINT at its end, and gives an in-process
        # caller its own handler back). Not armed: the import rolled back; Ctrl-C as before.
        if not guard.armed:
            signal.signal(signal.SIGINT, previous)


def _import(
    env,
    transaction,
    path: Path,
    source,
    dry_run: bool,
    on_error: ErrorSink,
    progress: Progress,
    guard: _CommitGuard | None = None,
) -> dict:
    with transaction as conn:
        importer = Importer(env, conn, source, on_error, progress)
        importer.summary["dry_run"] = dry_run
        if dry_run or not _one_pass(source):
            _check(importer, source, progress)
        else:
            _check_header(importer, source)
        if importer.bad:
            raise importer.refusal()
        if dry_run:
            _count_checked(importer)
            return importer.summary
        if source.kind == "owners":
            importer.write_owners()
        elif _one_pass(source):
            # Every row gets an id from the store alone, so nothing in a later row changes
            # how an earlier one is written: check and write in the same pass, and let a
            # bad row roll the whole transaction back when the pass is over.
            from esc_cli.services import import_workers

            if import_workers.wanted(importer, source) and import_workers.write(
                importer, source, progress, importer.defer_indexes()
            ):
                _ids_within_bounds(importer)
                guard.armed = True  # type: ignore[union-attr]  # a write has its guard
                return importer.summary
            good = importer.checked_stream(
                importer._pass("importing", source.records(progress)), False
            )
            importer.write_cases(case for case in good if not importer.bad)
            if importer.bad:
                raise importer.refusal()
            _ids_within_bounds(importer)
            guard.armed = True  # type: ignore[union-attr]
            return importer.summary
        elif source.kind == "cases":
            events_allowed = isinstance(source, JsonSource)
            importer.write_cases(importer.checked(lambda: source.records(progress), events_allowed))
        else:
            importer.write_policy()
            importer.write_owners()
            importer.write_cases(importer.checked(lambda: source.records(progress, "cases"), True))
        _ids_within_bounds(importer)
        if guard is not None:
            guard.armed = True
        return importer.summary


def _ids_within_bounds(importer: Importer) -> None:
    """Rows without an id are numbered after the highest: past the largest id an import
    accepts (2^62) the store's own export would no longer import. The whole import
    rolls back, as for any bad row."""
    from esc_cli.domain.record_values import MAX_ID
    from esc_cli.store import bulk

    if bulk.max_case_id(importer.conn) > MAX_ID:
        raise UsageError(f"the file's cases without an id would be numbered past {MAX_ID:,}")


def _one_pass(source) -> bool:
    """A CSV of cases without ids: each row's id comes from the store, never from a later
    row, so the rows can be checked and written in one pass (two for anything else: an
    id-less row is numbered after the file's highest id)."""
    return isinstance(source, CsvSource) and source.kind == "cases" and "id" not in source.columns


def _check_header(importer: Importer, source) -> bool:
    from esc_cli.domain.records import (
        CASE_FIELDS,
        DERIVED_FIELDS,
        DERIVED_OWNER_FIELDS,
        OWNER_FIELDS,
    )

    if isinstance(source, CsvSource):
        if source.kind == "owners":
            problems = source.header_problems(OWNER_FIELDS + DERIVED_OWNER_FIELDS, ("handle",))
        else:
            known = tuple(f for f in CASE_FIELDS if f != "events") + DERIVED_FIELDS
            problems = source.header_problems(known, ("title", "customer", "priority"))
        if problems:
            importer.reject("line 1", problems)
            return False
    return True


def _check(importer: Importer, source, progress: Progress) -> None:
    if not _check_header(importer, source):
        return
    if source.kind == "owners":
        importer.check_owners(importer._pass("checking", source.records(progress)))
    elif source.kind == "cases":
        importer.check_cases(
            importer._pass("checking", source.records(progress)), isinstance(source, JsonSource)
        )
    elif source.one_pass:
        # policy and owners come first: check the cases as they stream past
        parts: dict = {"keys": []}
        progress.start("checking", source.path.stat().st_size)
        try:
            for key, value in source.sections(progress):
                parts["keys"].append(key)
                if key != "cases":
                    parts[key] = value
                    continue
                importer.check_document_parts(parts)
                if not importer.bad:
                    importer.check_cases(value, True)
            importer.check_keys(parts["keys"])
            importer.check_format(parts)
        finally:
            progress.stop()
    else:
        progress.start("reading", source.path.stat().st_size)
        try:
            parts = source.document_parts(progress)
        finally:
            progress.stop()
        importer.check_keys(parts["keys"])
        importer.check_format(parts)
        importer.check_document_parts(parts)
        if importer.bad:
            return
        importer.check_cases(importer._pass("checking", source.records(progress, "cases")), True)


def _count_checked(importer: Importer) -> None:
    summary = importer.summary
    summary["owners"] = len(importer.new_owners)
    summary["policy_versions"] = len(importer.versions) if importer.restore_policy else 0
    summary["cases"] = importer.checked_cases
