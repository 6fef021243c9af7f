"""Shell completion read from the store: case ids, owners, teams, tiers, categories."""

from __future__ import annotations

import os
import re

from esc_cli.domain.model import STATES


# A value is offered only when a shell can insert it as one plain word.
_PLAIN_VALUE = re.compile(r"^[\w.@+:/-]+$")
_HELP_UNSAFE = re.compile(r"[\\`$\"'\[\]]")
PRIORITIES = ("urgent", "high", "medium", "low")


def completions(ctx, kind: str, incomplete: str) -> list:
    """Candidates for one parameter, read from the store named by --db / ESC_DB / the
    default path. Completion runs on every TAB: it opens the store read-only, never
    migrates or waits, and says nothing when anything goes wrong."""
    try:
        return _completions(ctx, kind, incomplete or "")
    except Exception:
        return []


def _completions(ctx, kind: str, incomplete: str) -> list:
    if kind == "priority":
        return list(PRIORITIES)
    if kind == "state":
        return list(STATES)
    from esc_cli.store import search as lookups

    where = _completion_db(ctx)
    if getattr(where, "is_postgres", False):
        conn = lookups.connect_readonly_postgres(where)
    else:
        conn = lookups.connect_readonly(where)
    try:
        if kind == "case":
            return _case_candidates(conn, incomplete)
        if kind in ("owner", "owner_or_me"):
            found = [
                (_plain(h), _help(n) if n else None) for h, n in lookups.owner_candidates(conn)
            ]
            if kind == "owner_or_me":
                found.append(("me", "yourself (--as / ESC_USER)"))
            return [(value, help_) if help_ else value for value, help_ in found if value]
        if kind == "team":
            teams = set(lookups.team_candidates(conn)) | set(_policy_doc(conn).get("teams", ()))
            return sorted(t for t in teams if _plain(t))
        if kind == "tier":
            return [(str(level), _help(name)) for level, name in _policy_doc(conn)["tiers"]]
        if kind == "category":
            return [c for c in _policy_doc(conn)["categories"] if _plain(c)]
        return []
    finally:
        conn.close()


def _completion_db(ctx):
    """The store's path, or its PostgreSQL location for a postgresql:// URI."""
    # The root callback does not run while completing; its parsed --db (or ESC_DB,
    # which click resolves into the same parameter) is on the root context.
    root = ctx.find_root()
    db = (root.params or {}).get("db")
    if not db and isinstance(root.obj, dict):
        db = root.obj.get("db")
    db = db or os.environ.get("ESC_DB")
    if db:
        from esc_cli.env import _location

        return _location(db)
    from esc_cli.env import default_db_path

    return default_db_path()


def _case_candidates(conn, incomplete: str) -> list:
    from esc_cli.store import search as lookups

    hashed = incomplete.startswith("#")
    digits = incomplete[1:] if hashed else incomplete
    if digits and not (digits.isascii() and digits.isdigit()):
        return []
    mark = "#" if hashed else ""
    return [
        (f"{mark}{case_id}", _help(f"{state}: {title}"))
        for case_id, state, title in lookups.case_candidates(conn, digits)
    ]


def _policy_doc(conn) -> dict:
    """Tiers, categories and rule teams from the current policy's TOML, read without
    building calendars (completion has no time for that)."""
    import tomllib

    row = conn.execute("SELECT toml FROM policy_versions ORDER BY id DESC LIMIT 1").fetchone()
    doc = tomllib.loads(row[0]) if row else {}
    tiers = []
    for level, spec in (doc.get("tiers") or {}).items():
        if str(level).isdigit():
            name = spec.get("name", "") if isinstance(spec, dict) else ""
            tiers.append((int(level), str(name)))
    teams = []
    for rule in doc.get("rules") or []:
        team = (rule.get("then") or {}).get("team") if isinstance(rule, dict) else None
        if isinstance(team, str):
            teams.append(team)
    categories = doc.get("categories") or [
        "technical",
        "billing",
        "service-delay",
        "policy",
        "product-quality",
        "other",
    ]
    return {
        "tiers": sorted(tiers),
        "teams": teams,
        "categories": [c for c in categories if isinstance(c, str)],
    }


def _plain(value) -> str:
    return value if isinstance(value, str) and _PLAIN_VALUE.match(value) else ""


def _help(text) -> str:
    """Untrusted text made safe as a description: zsh's completion evaluates it inside
    quotes and Typer renders it as Rich markup, so quotes, backslashes, `$`, backticks
    and brackets go too."""
    from esc_cli.text import clean

    value = _HELP_UNSAFE.sub(" ", clean(text))
    value = " ".join(value.split())
    return value if len(value) <= 60 else value[:59] + "…"
