"""Full-text search over the store's cases (`esc search`)."""

from __future__ import annotations

import sqlite3

from esc_cli.domain.model import STATES
from esc_cli.errors import StoreError, UsageError


def search(env, text: str, filters: dict, limit: int) -> list[dict]:
    """Cases matching every word of `text`, best match first. Unlike the queue, every
    state is searched unless `--state` says otherwise: "have we seen this before?" is
    usually answered by a resolved case."""
    from esc_cli.domain.documents import case_document
    from esc_cli.services.filters import checked
    from esc_cli.services.policies import Policies
    from esc_cli.store import search as fts

    if limit < 0:
        raise UsageError("--limit must be 0 (all) or more")
    if limit > 2**62:  # past SQLite's integers
        raise UsageError(f"--limit {limit} is too large (0 means all)")
    terms = fts.query_terms(text)
    store = env.store()
    with store.read() as conn:
        pols = Policies(conn)
        # a filter naming nothing is a mistake, as in the queue (services/filters.py)
        filters = checked(conn, pols.current, filters, env.user)
        if not filters.get("state"):
            filters["state"] = list(STATES)
        try:
            rows = fts.search(conn, terms, filters, limit, env.now)
        except sqlite3.OperationalError as err:
            if "no such table" in str(err):
                raise StoreError("the store has no search index", hint="run esc doctor") from None
            raise
        names = pols.tier_names()
        return [case_document(case, names, env.now) for case in rows]
