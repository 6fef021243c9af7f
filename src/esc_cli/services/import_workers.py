"""A big CSV import of new cases checked, settled and hashed in worker processes.

Checking a row, replaying its history into due times and hash-chaining its events is
about three quarters of an import's CPU time, and each row's work depends on nothing
but the row, its id, the policy and the owners. So for a big one-pass CSV (cases
without ids, SPEC §4) the main process reads the file and hands out batches of rows
with the ids they will get; forked workers send back either the batch's bad rows or
its finished table rows; the main process writes them in file order, in the import's
one transaction, as the single-process import does. Nothing else changes: a bad row
anywhere still imports nothing (its errors come out in file order), a crash or Ctrl-C
still rolls everything back, and the rows written are byte for byte the same
(tests/test_import_workers.py compares the stores).

Workers only compute: they never touch the store (the main process holds its one
connection and the write lock) and ignore Ctrl-C, which the main process handles.
Policies with trigger rules keep the single-process path: a rule's owner pick depends
on the loads the rows before it left.
"""

from __future__ import annotations

import os
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from esc_cli.errors import UsageError

if TYPE_CHECKING:  # annotations only
    from esc_cli.domain.policy import Policy
    from esc_cli.domain.records import Checker

# A smaller file (a few thousand rows) is written before forking workers could pay.
WORKERS_MIN_BYTES = 512 << 10
BATCH = 2000
MAX_WORKERS = 4


@dataclass(frozen=True)
class _Job:
    """What every worker needs, inherited through fork rather than sent."""

    columns: tuple[str, ...]
    checker: Checker
    policy: Policy
    policy_version: int
    actor: str
    now: int
    parent: int  # the main process's pid
    dialect: str  # the store's: how the rows are encoded (bulk_rows.encode_batch)


_JOB: _Job | None = None


def worker_count() -> int:
    """Workers to start: ESC_IMPORT_WORKERS when set (0 or 1: none), else one per core
    this process may run on, up to MAX_WORKERS, and none on a single core."""
    setting = os.environ.get("ESC_IMPORT_WORKERS", "").strip()
    if setting:
        try:
            return max(0, int(setting))
        except ValueError:
            raise UsageError(f"ESC_IMPORT_WORKERS={setting!r} is not a number of workers") from None
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return min(cores, MAX_WORKERS) if cores > 1 else 0


def wanted(importer, source) -> bool:
    import multiprocessing

    workers = worker_count()  # first, so a bad setting is an error whatever the file
    if importer.policy.rules or source.path.stat().st_size < WORKERS_MIN_BYTES:
        return False
    return workers >= 2 and "fork" in multiprocessing.get_all_start_methods()


def _start_pool(workers: int):
    import multiprocessing

    return multiprocessing.get_context("fork").Pool(workers, initializer=_start_worker)


def _start_worker() -> None:
    """Ctrl-C is the main process's to handle (it stops the workers and rolls back);
    and a worker dies with the main process, so one killed outright leaves no workers
    holding its terminal or computing for no one."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() != _JOB.parent:  # type: ignore[union-attr]  # the main process died before prctl took effect
            os._exit(1)
    except (OSError, AttributeError):  # not Linux: workers exit when their queue closes
        pass


def _work(first_id: int, build: bool, items: list[tuple]) -> tuple[list, object, int, int]:
    """(bad rows as (label, reasons), the batch's rows encoded for the store
    (bulk_rows.encode_batch), its case count, its event count); no rows at all once the
    batch (or, as far as the main process knew, the file) has a bad one."""
    from esc_cli.domain import lifecycle
    from esc_cli.domain.records import case_of, check_case, history
    from esc_cli.store import bulk_rows

    job = _JOB
    assert job is not None, "a worker runs with the job set before the fork"
    columns, checker, policy, version = job.columns, job.checker, job.policy, job.policy_version
    actor, now = job.actor, job.now
    bad: list[tuple[str, list[str]]] = []
    cases, event_rows = [], []
    for offset, (label, row, problem) in enumerate(items):
        if problem is not None:
            bad.append((label, [problem]))
            continue
        record, reasons = check_case(dict(zip(columns, row)), checker, False)
        if reasons:
            bad.append((label, reasons))
            continue
        if bad or not build:
            continue
        case_id = first_id + offset
        # no reasons: record is set
        events = history(record, actor, now)  # type: ignore[arg-type]
        cases.append(lifecycle.settle(case_of(record, case_id, version), events, policy))  # type: ignore[arg-type]
        event_rows.extend(bulk_rows.event_rows(case_id, events))
    if bad or not build:
        return bad, None, 0, 0
    case_rows = bulk_rows.counted_case_rows(cases, event_rows)
    return (
        bad,
        bulk_rows.encode_batch(case_rows, event_rows, job.dialect),
        len(cases),
        len(event_rows),
    )


def _batches(records, size: int):
    batch = []
    for record in records:
        fields = record.fields
        batch.append(
            (record.label, None if fields is None else tuple(fields.values()), record.problem)
        )
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class _HeldInterrupt:
    """A Ctrl-C held while the pool's own code runs and raised at the next check, between
    batches. Raised inside the pool (a task being queued, a result being waited for) it
    can leave a lock of the pool's held, and pool.terminate() then waits for it forever:
    the import hung instead of saying "interrupted". (Main thread only; elsewhere the
    signal is not ours to catch.)"""

    def __init__(self):
        self.interrupted = False
        self.previous = None

    def __enter__(self):
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def _handler(self, signum, frame) -> None:
        self.interrupted = True

    def check(self) -> None:
        if self.interrupted:
            raise KeyboardInterrupt

    def __exit__(self, exc_type, *exc) -> None:
        import signal

        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        if exc_type is None:
            self.check()  # one held to the end still rolls the import back


def write(importer, source, progress, defer_indexes: bool) -> bool:
    """Import every row of a one-pass CSV `source` through worker processes; as
    `Importer.write_cases` over `Importer.checked_stream`, bad rows included. False,
    having written nothing, when the workers cannot be started (the caller imports in
    this process instead)."""
    from esc_cli.store import bulk

    global _JOB
    conn = importer.conn
    summary = importer.summary
    bulk.prepare_bulk_write(conn)
    if not bulk.has_event_count(conn):  # an older schema: no reason to be here
        raise RuntimeError("parallel import needs the current schema")
    next_id = max(bulk.max_case_id(conn), importer.max_file_id) + 1
    workers = worker_count()
    _JOB = _Job(
        tuple(source.columns),
        importer.checker(),
        importer.pols.current,
        importer.pols.current_id,
        importer.env.user,
        importer.env.now,
        os.getpid(),
        getattr(conn, "dialect", "sqlite"),
    )
    try:
        pool = _start_pool(workers)
    except OSError:  # out of processes or memory: one process still does the job
        _JOB = None
        return False
    held = _HeldInterrupt()
    try:
        with (
            held,
            bulk.deferred_indexes(conn, defer_indexes) as deferring,
            bulk.batch_writer(conn, deferring) as write_batch,
        ):
            waiting: deque = deque()

            def take_oldest():
                held.check()
                bad, batch, case_count, event_count = waiting.popleft().get()
                for label, reasons in bad:
                    importer.reject(label, reasons)
                if batch is not None and not importer.bad:
                    write_batch(batch)
                    summary["cases"] += case_count
                    summary["events"] += event_count

            records = importer._pass("importing", source.records(progress))
            for batch in _batches(records, BATCH):
                held.check()
                waiting.append(pool.apply_async(_work, (next_id, not importer.bad, batch)))
                next_id += len(batch)
                # enough in flight to keep every worker busy, few enough to stay streamed
                if len(waiting) > 2 * workers:
                    take_oldest()
            while waiting:
                take_oldest()
            held.check()
            if importer.bad:
                # raised inside: the rollback undoes the dropped indexes, none are rebuilt
                raise importer.refusal()
    finally:
        pool.terminate()
        pool.join()
        _JOB = None
    return True
