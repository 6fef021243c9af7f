"""The resolution clock's earlier cycles (domain/cycles.py, docs/sla.md): one row per
cycle that ended before the case's latest one, (case_id, cycle, decided_at, met).

The latest cycle lives on the case row (resolution_decided_at: the report's covering
index reads it); only a reopened case has earlier cycles, so this table is small and
the report adds the ones decided in its window through the index on decided_at."""

from __future__ import annotations

_INSERT = "INSERT INTO resolution_cycles (case_id, cycle, decided_at, met) VALUES (?, ?, ?, ?)"


def save(conn, case_id: int, cycles) -> None:
    """The case's earlier cycles as given, replacing what was stored (nothing is
    written when they are unchanged: most writes to a reopened case move no cycle)."""
    wanted = [(decided, int(bool(met))) for decided, met in cycles]
    stored = [
        tuple(row)
        for row in conn.execute(
            "SELECT decided_at, met FROM resolution_cycles WHERE case_id = ? ORDER BY cycle",
            (case_id,),
        )
    ]
    if stored == wanted:
        return
    conn.execute("DELETE FROM resolution_cycles WHERE case_id = ?", (case_id,))
    conn.executemany(
        _INSERT,
        [(case_id, index, decided, met) for index, (decided, met) in enumerate(wanted, start=1)],
    )


def insert_new(conn, cases) -> None:
    """New cases' earlier cycles (an import of histories with reopens)."""
    conn.executemany(
        _INSERT,
        [
            (case.id, index, decided, int(bool(met)))
            for case in cases
            if case.resolution_cycles
            for index, (decided, met) in enumerate(case.resolution_cycles, start=1)
        ],
    )


def replay(conn, where: str = "reopened > 0") -> None:
    """Settle resolution_decided_at and the earlier cycles of the cases matching
    `where` from their events under their policy versions (migration 0017, and doctor's
    repair). One ordered pass over those cases' events; a version that does not parse
    or a history the domain cannot replay is left for doctor to report."""
    from esc_cli.domain import sla
    from esc_cli.domain.model import Event
    from esc_cli.domain.policy import PolicyError, parse_policy

    parsed: dict = {}
    for version_id, toml in conn.execute("SELECT id, toml FROM policy_versions").fetchall():
        try:
            parsed[version_id] = parse_policy(toml)
        except PolicyError:
            pass
    rows = conn.execute(
        f"""SELECT c.id, c.priority, c.opened_at, c.policy_version,
                  e.at, e.actor, e.kind, e.field, e.from_value, e.to_value, e.reason
           FROM cases c JOIN events e ON e.case_id = c.id
           WHERE c.id IN (SELECT id FROM cases WHERE {where})
           ORDER BY c.id, e.id"""
    ).fetchall()
    decided: list[tuple] = []
    earlier: list[tuple] = []
    ids: list[tuple] = []

    def settle(case_id, priority, opened_at, version, events) -> None:
        policy = parsed.get(version)
        if policy is None or priority not in policy.priorities:
            return
        try:
            resolution = sla.trace_clocks(policy, priority, opened_at, events)["resolution"]
        except Exception:  # a history the domain cannot replay: doctor reports it
            return
        ids.append((case_id,))
        decided.append((resolution.decided_at, case_id))
        earlier.extend(
            (case_id, index, at, int(bool(met)))
            for index, (at, met) in enumerate(resolution.earlier, start=1)
        )

    current: tuple | None = None
    events: list = []
    for row in rows:
        if current is None or row[0] != current[0]:
            if current is not None:
                settle(current[0], current[1], current[2], current[3], events)
            current, events = tuple(row[:4]), []
        events.append(Event(*row[4:]))
    if current is not None:
        settle(current[0], current[1], current[2], current[3], events)
    conn.executemany("UPDATE cases SET resolution_decided_at = ? WHERE id = ?", decided)
    conn.executemany("DELETE FROM resolution_cycles WHERE case_id = ?", ids)
    conn.executemany(_INSERT, earlier)
