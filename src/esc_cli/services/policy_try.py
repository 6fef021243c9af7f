"""`esc policy try FILE`: every case with activity in a window replayed under the current
policy and under FILE (domain/whatif.py), side by side. Reads only: nothing is written.

A large window on a SQLite store is replayed by two processes, one over the cases of
even id and one over those of odd id (old cases still open cost most: every other one
is an even share), reading one snapshot: the figures are sums and the changed cases are
sorted, so the document is the one a single process makes."""

from __future__ import annotations

import os

from esc_cli.domain.model import iso
from esc_cli.errors import UsageError

DIMENSIONS = ("priority", "tier", "team", "category")
_ORDER = {"priority": ("urgent", "high", "medium", "low")}
# From this many cases in the window a second process replays half of them (forking one
# and opening the store again costs some 20 ms; the replay ~50 µs a case).
WORKERS_FROM = 10_000
# How long the second process may take to open the store before the first goes alone.
_READY_SECONDS = 10.0


def check_dimension(by: str | None) -> str:
    value = (by or "priority").strip().lower()
    if value not in DIMENSIONS:
        raise UsageError(f"unknown --by '{by}' (use {', '.join(DIMENSIONS)})")
    return value


def _group(outcome, dimension: str):
    return getattr(outcome, dimension)


def _lateness(decided: tuple, end: int) -> int:
    """How late a breached clock (`Outcome.response`, a resolution cycle) stopped (or is,
    at the window's end, if it runs on)."""
    _, met, due, stopped = decided
    return 0 if met or due is None else (stopped if stopped is not None else end) - due


def _unchanged(current, candidate) -> frozenset[str] | None:
    """The priorities whose cases replay the same under both policies: the same targets
    and calendar, with the same warn fraction, ladder and rules (None: no priority)."""
    if (
        current.warn_at != candidate.warn_at
        or current.tiers != candidate.tiers
        or current.rules != candidate.rules
    ):
        return None
    same = set()
    for name, target in current.priorities.items():
        other = candidate.priorities.get(name)
        if other == target and (
            current.calendar_specs.get(target.calendar)
            == candidate.calendar_specs.get(target.calendar)
        ):
            same.add(name)
    for rule in current.rules:  # a rule may raise a case to its priority
        wanted = rule.then.get("priority")
        if wanted and wanted not in same:
            return None
    return frozenset(same)


def _priorities(case, events) -> set[str]:
    seen = {case.priority}
    for event in events:
        if event.kind == "changed" and event.field == "priority":
            seen.update(v for v in (event.from_value, event.to_value) if v)
    return seen


class _Replay:
    """What one process replays: the cases of an id range, added up (plain data, so a
    second process can send it back)."""

    def __init__(self, current, candidate, start: int, end: int, now: int, dimension: str):
        from esc_cli.domain import whatif, whatif_figures

        self.current, self.candidate = current, candidate
        self.start, self.end, self.now = start, end, now
        self.horizon = min(end, now + 1)  # the sweep runs up to the window's end, never past now
        self.dimension = dimension
        # a case that only ever had priorities both policies treat alike replays the
        # same under both: replayed once (most of a window, when FILE changes a target)
        self.same = _unchanged(current, candidate)
        # when FILE changes only targets, a case the sweep was done with before they
        # can matter is replayed once (whatif.replay_apart)
        self.apart = whatif.targets_apart(current, candidate)
        self.whatif = whatif
        self.whatif_figures = whatif_figures

    def run(self, conn, part: int, parts: int, tick=None) -> dict:
        from esc_cli.store import replay_queries

        whatif, whatif_figures = self.whatif, self.whatif_figures
        start, end, now, horizon = self.start, self.end, self.now, self.horizon
        current, candidate, same, dimension = (
            self.current,
            self.candidate,
            self.same,
            self.dimension,
        )
        apart = self.apart
        totals = {
            "current": whatif_figures.empty_figures(),
            "candidate": whatif_figures.empty_figures(),
        }
        groups: dict[str, dict] = {"current": {}, "candidate": {}}
        changed: list[tuple] = []
        replayed = 0
        for case, events in replay_queries.histories(conn, start, end, part, parts):
            replayed += 1
            if tick is not None and replayed % 1000 == 0:
                tick(1000)
            if same and _priorities(case, events) <= same:  # (empty: no priority)
                now_outcome = then_outcome = whatif.replay(case, events, current, horizon)
            elif apart is not None:
                now_outcome, then_outcome = whatif.replay_apart(
                    case, events, current, candidate, horizon, apart
                )
            else:
                now_outcome = whatif.replay(case, events, current, horizon)
                then_outcome = whatif.replay(case, events, candidate, horizon)
            pair = {"current": now_outcome, "candidate": then_outcome}
            for side, outcome in pair.items():
                whatif_figures.count(totals[side], outcome, start, end, now)
                value = _group(outcome, dimension)
                figures = groups[side].get(value)
                if figures is None:
                    figures = groups[side][value] = whatif_figures.empty_figures()
                whatif_figures.count(figures, outcome, start, end, now)
            if then_outcome is now_outcome:
                continue  # one replay for both: no outcome changes
            old = whatif_figures.verdict(now_outcome, "response", start, end, now)
            new = whatif_figures.verdict(then_outcome, "response", start, end, now)
            if old is not None and new is not None and old != new:
                changed.append(self._change(case, "response", old, new, pair))
            if not (now_outcome.earlier or then_outcome.earlier):
                old = whatif_figures.verdict(now_outcome, "resolution", start, end, now)
                new = whatif_figures.verdict(then_outcome, "resolution", start, end, now)
                if old is not None and new is not None and old != new:
                    changed.append(self._change(case, "resolution", old, new, pair))
                continue
            # a reopened case: the nth cycle under one policy against the nth under the
            # other (the same resolutions end them; one a rule's reopen adds is unpaired)
            olds = whatif_figures.cycle_verdicts(now_outcome, start, end, now)
            news = whatif_figures.cycle_verdicts(then_outcome, start, end, now)
            for cycle, (old, new) in enumerate(zip(olds, news)):
                if old is not None and new is not None and old != new:
                    changed.append(self._change(case, "resolution", old, new, pair, cycle))
        if tick is not None:
            tick(replayed % 1000)
        return {"cases": replayed, "totals": totals, "groups": groups, "changed": changed}

    def _change(
        self, case, clock: str, old: str, new: str, pair: dict, cycle: int | None = None
    ) -> tuple:
        """(sort key, entry): worst first, what the candidate breaches, latest first;
        then what it rescues. `cycle`: which of a reopened case's resolution cycles."""
        if cycle is None:
            current, candidate = getattr(pair["current"], clock), getattr(pair["candidate"], clock)
        else:
            # due times worked out here only: few cases change, most were never reopened
            current, candidate = (
                self.whatif.resolution_cycle(pair[side], cycle, policy, case.opened_at)
                for side, policy in (("current", self.current), ("candidate", self.candidate))
            )
        decided_by = candidate if new == "breached" else current
        key = (new != "breached", -_lateness(decided_by, self.horizon), case.id, cycle or 0)
        return key, {
            "case": case.id,
            "title": case.title,
            "clock": clock,
            "current": old,
            "candidate": new,
            "current_due": iso(current[2]),
            "candidate_due": iso(candidate[2]),
            "decided_at": iso(decided_by[0]),
        }


def try_policy(
    env,
    file_label: str,
    text: str,
    since: str | None,
    until: str | None,
    by: str | None,
    progress=None,
) -> dict:
    from esc_cli.domain import report as windows
    from esc_cli.domain import whatif_figures
    from esc_cli.domain.policy import PolicyError, parse_policy
    from esc_cli.services.policies import Policies
    from esc_cli.store import replay_queries

    dimension = check_dimension(by)
    try:
        candidate = parse_policy(text)
    except PolicyError as err:
        raise UsageError(f"policy: {err}") from None  # the words of `policy load`
    window = windows.parse_window(since, until, env.now, env.tz)
    start, end, now = window.since, window.until, env.now
    store = env.store()
    # a window worth a second process: counted before the snapshot (its own read)
    wanted = (
        store.dialect == "sqlite"
        and (os.cpu_count() or 1) >= 2
        and replay_queries.count(store.conn, start, end) >= WORKERS_FROM
    )
    lock = replay_queries.hold_commits(store) if wanted else None
    try:
        with store.read() as conn:
            pols = Policies(conn)  # the first read: this process's snapshot begins
            current = pols.for_version(pols.current_id)
            version = pols.current_id
            replay = _Replay(current, candidate, start, end, now, dimension)
            second = _Second.start(store, replay) if lock is not None else None
            if lock is not None:
                lock.close()  # the second process has its snapshot (or none): commits go on
                lock = None
            try:
                parts = _replayed(conn, replay, second, progress)
            finally:
                if second is not None:
                    second.stop()
    finally:
        if lock is not None:
            lock.close()
    replayed = sum(part["cases"] for part in parts)
    if progress:
        progress(replayed, replayed)
    totals, groups, changed = parts[0]["totals"], parts[0]["groups"], parts[0]["changed"]
    for part in parts[1:]:
        for side in ("current", "candidate"):
            whatif_figures.add_figures(totals[side], part["totals"][side])
            for value, figures in part["groups"][side].items():
                if value in groups[side]:
                    whatif_figures.add_figures(groups[side][value], figures)
                else:
                    groups[side][value] = figures
        changed.extend(part["changed"])

    def side_by_side(old: dict, new: dict) -> dict:
        old, new = whatif_figures.headline(old), whatif_figures.headline(new)
        return {"current": old, "candidate": new, "difference": whatif_figures.difference(old, new)}

    values = set(groups["current"]) | set(groups["candidate"])
    order = _ORDER.get(dimension)

    def key(value):
        if value is None:
            return (2, "")
        if order and value in order:
            return (0, order.index(value))
        return (1, value if isinstance(value, int) else str(value).lower())

    changed.sort(key=lambda item: item[0])
    return {
        "since": iso(start),
        "until": iso(end),
        "file": file_label,
        "current_policy_version": version,
        "by": dimension,
        "cases": replayed,
        "all": side_by_side(totals["current"], totals["candidate"]),
        "groups": [
            {
                "value": "(none)" if value is None else value,
                **side_by_side(
                    groups["current"].get(value, whatif_figures.empty_figures()),
                    groups["candidate"].get(value, whatif_figures.empty_figures()),
                ),
            }
            for value in sorted(values, key=key)
        ],
        "changed": [entry for _, entry in changed],
    }


def _replayed(conn, replay: _Replay, second: _Second | None, progress) -> list[dict]:
    """The window's cases added up: by this process alone, or the cases of odd id by
    `second` while this one replays those of even id."""
    from esc_cli.store import replay_queries

    if second is not None:
        second.go(1)  # before the count: it has its snapshot, and the work is the same
    start, end = replay.start, replay.end
    total = replay_queries.count(conn, start, end) if progress else 0
    done = [0]

    def tick(count: int) -> None:
        done[0] += count
        if progress:
            progress(min(done[0] + (second.done if second else 0), total), total)

    if second is None:
        return [replay.run(conn, 0, 1, tick)]
    parts = [replay.run(conn, 0, 2, tick)]
    theirs = second.result()
    parts.append(theirs if theirs is not None else replay.run(conn, 1, 2, tick))
    return parts


class _Second:
    """The second process. It opens the store and begins its snapshot while the first
    process holds the commits back (replay_queries.hold_commits), so both read one
    state of the store; then it replays the cases of the parity it is sent and sends back
    what it added up. Anything going wrong there leaves its cases to the first process."""

    def __init__(self, process, pipe, done):
        self.process, self.pipe, self._done = process, pipe, done

    @staticmethod
    def start(store, replay: _Replay) -> _Second | None:
        import multiprocessing

        try:
            context = multiprocessing.get_context("fork")
        except ValueError:  # no fork on this platform
            return None
        ours, theirs = context.Pipe()
        done = context.RawValue("q", 0)
        process = context.Process(
            target=_second_process, args=(store.path, replay, theirs, done), daemon=True
        )
        process.start()
        theirs.close()
        second = _Second(process, ours, done)
        try:
            if ours.poll(_READY_SECONDS) and ours.recv() == "ready":
                return second
        except (EOFError, OSError):
            pass
        second.stop()
        return None

    @property
    def done(self) -> int:
        """Cases replayed so far (for the progress bar)."""
        return self._done.value

    def go(self, part: int | None) -> None:
        """Replay the cases whose id is `part` modulo 2 (None: nothing, stop)."""
        try:
            self.pipe.send(part)
        except OSError:
            pass  # it is gone: result() says so

    def result(self) -> dict | None:
        try:
            message = self.pipe.recv()
        except (EOFError, OSError):
            return None
        return message if isinstance(message, dict) else None

    def stop(self) -> None:
        self.pipe.close()
        self.process.join(1.0)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join()


def _second_process(path, replay: _Replay, pipe, done) -> None:
    from esc_cli.store.db import Store

    try:
        store = Store.open(path)
        with store.read() as conn:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # its snapshot
            pipe.send("ready")
            part = pipe.recv()
            if part is None:
                return

            def tick(count: int) -> None:
                done.value += count

            pipe.send(replay.run(conn, part, 2, tick))
    except BaseException as err:  # the first process replays these cases itself
        try:
            pipe.send(f"failed: {err!r}")
        except OSError:
            pass
