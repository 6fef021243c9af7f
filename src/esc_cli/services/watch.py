"""The wallboard's reads (`esc queue --watch`, `esc overdue --watch`): one frame of a
list and its headline counts at one instant. Reads only: a wallboard never sweeps, so
leaving one running on a team screen changes nothing in the store."""

from __future__ import annotations

DEFAULT_EVERY = "30s"


def parse_every(text: str) -> int:
    """`--watch 10s`: the refresh interval in seconds (at least one)."""
    from esc_cli.domain.spans import parse_span
    from esc_cli.errors import UsageError

    if text.strip().startswith("-"):
        raise UsageError(
            f"--watch: the interval must be a positive span, got {text.strip()!r}",
            "e.g. --watch 10s or --watch 1m",
        )
    try:
        seconds = parse_span(text.strip())
    except ValueError as err:
        raise UsageError(f"--watch: {err}", "e.g. --watch 10s or --watch 1m") from None
    if seconds < 1:
        raise UsageError("--watch: the interval must be at least 1s")
    return seconds


def queue_frame(env, filters: dict, sort: str, limit: int, now: int) -> dict:
    """The queue at `now` and the counts over every case its filters match."""
    from esc_cli import services
    from esc_cli.store import queries

    from esc_cli.services.filters import checked

    env.now = now
    docs = services.queue(env, filters, sort, limit)
    with env.store().read() as conn:
        filters = checked(conn, services.Policies(conn).current, filters, env.user)
        counts = queries.counts(conn, filters, now)
    return {"now": now, "docs": docs, "counts": counts}


def overdue_frame(env, tier: int | None, team: str | None, within: str | None, now: int) -> dict:
    """The overdue list at `now` and the counts over the unresolved cases of its tier
    and team."""
    from esc_cli.services import sweep
    from esc_cli.store import queries

    env.now = now
    docs = sweep.overdue(env, tier=tier, team=team, within=within, documents=False)
    team = team.strip() if team is not None else None
    filters = {"tier": tier, "team": team or None}
    with env.store().read() as conn:
        counts = queries.counts(conn, filters, now)
    return {"now": now, "docs": docs, "counts": counts}
