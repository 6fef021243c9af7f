"""Full-text search over cases and their notes, and the small look-ups shell completion
makes. The FTS5 tables and their triggers are made by migration 0002_fts."""

from __future__ import annotations

import re
import sqlite3
from functools import cache
from pathlib import Path

from esc_cli.errors import UsageError
from esc_cli.store.cases import CASE_COLUMNS, case_from_row
from esc_cli.store.queries import case_filters

MAX_TERMS = 32
RANK_WINDOW = 2000
# A title hit says more about a case than a hit in its description, and that more
# than a hit in the notes written while working it.
TITLE_WEIGHT, DESCRIPTION_WEIGHT, NOTES_WEIGHT = 5.0, 2.0, 1.0


@cache
def _words():
    """A query's words as FTS5 cuts them (runs of the characters its `unicode61`
    tokenizer counts as part of a word: store/fts5_chars.py, read from FTS5 itself),
    each with its `*`, and the table that folds a word as FTS5 folds it. A word is then
    exactly one FTS5 token, never a phrase (which the detail=none index cannot
    answer), and folds to what both stores index: Python's \\w and lower() missed ①, ½
    and ², left ς where FTS5 has σ (PostgreSQL's documents hold σ too, migration 0030),
    and lower-cased Cherokee capitals, which FTS5 keeps as they are."""
    from esc_cli.store.fts5_chars import DROPPED, FOLD_FROM, FOLD_TO
    from esc_cli.store.pg_search_sql import WORD_CLASS

    table: dict[int, str | None] = {c: chr(c + 32) for c in range(ord("A"), ord("Z") + 1)}
    table.update({ord(c): f for c, f in zip(FOLD_FROM, FOLD_TO)})
    table.update({ord(c): None for c in DROPPED})
    return re.compile(f"([{WORD_CLASS}]+)(\\*?)"), table


def query_terms(text: str) -> list[str]:
    """The FTS5 terms for what a person typed: each word folded and quoted, so FTS5
    syntax in it (AND, NOT, NEAR, quotes, colons, parentheses) is only text; `word*`
    keeps its star and matches as a prefix. Every term must match (AND). A word of
    combining marks alone folds to nothing, and FTS5 indexes nothing for it: it is left
    out, as a mark between words always was."""
    pattern, fold = _words()
    terms: list[str] = []
    for word, star in pattern.findall(text or ""):
        folded = word.translate(fold)
        if not folded:
            continue
        term = f'"{folded}"' + ("*" if star else "")
        if term not in terms:
            terms.append(term)
    if not terms:
        raise UsageError("search text has no words to look for")
    if len(terms) > MAX_TERMS:
        raise UsageError(f"search text has {len(terms)} different words, more than {MAX_TERMS}")
    return terms


def search(conn: sqlite3.Connection, terms: list[str], filters: dict, limit: int, now: int) -> list:
    """Cases in which every term occurs in the title, the description or the notes
    (migration 0002's search document), best match first: bm25 with a title hit
    weighing most, then the description, then the notes; newer cases first on a tie.

    bm25 costs ~35 µs a case on the detail=none index (FTS5 re-reads the text), so a
    word found in most of a million cases would take seconds to rank. Only the newest
    RANK_WINDOW matches (or `limit`, if larger; all with limit 0) are ranked: any
    search with fewer matches than that, which is nearly every useful one, is ranked
    exactly; a vaguer one ranks the recent cases, the ones people look for."""
    if getattr(conn, "dialect", "sqlite") == "postgres":
        return _search_postgres(conn, terms, filters, limit, now)
    clauses, params = case_filters(filters, now)
    params["query"] = " ".join(terms)
    where = f"cases_fts MATCH :query AND {' AND '.join(clauses)}"
    columns = ", ".join(f"cases.{name}" for name in CASE_COLUMNS)
    ranked = (
        f"ORDER BY bm25(cases_fts, {TITLE_WEIGHT}, {DESCRIPTION_WEIGHT}, {NOTES_WEIGHT}), "
        "cases.id DESC"
    )
    join = "FROM cases_fts JOIN cases ON cases.id = cases_fts.rowid"
    if limit:
        # The window is a rowid range, which FTS5 answers from its index: the oldest
        # of the newest matches bounds it.
        params["skip"] = max(RANK_WINDOW, limit) - 1
        oldest = conn.execute(
            f"SELECT cases_fts.rowid {join} WHERE {where} "
            "ORDER BY cases_fts.rowid DESC LIMIT 1 OFFSET :skip",
            params,
        ).fetchone()
        if oldest is not None:
            where += " AND cases_fts.rowid >= :oldest"
            params["oldest"] = oldest[0]
        params["limit"] = limit
        sql = f"SELECT {columns} {join} WHERE {where} {ranked} LIMIT :limit"
    else:
        sql = f"SELECT {columns} {join} WHERE {where} {ranked}"
    return [case_from_row(row) for row in conn.execute(sql, params)]


def _search_postgres(conn, terms: list[str], filters: dict, limit: int, now: int) -> list:
    """`search` on PostgreSQL's case_search (migration 0002 there): the same matches,
    found through the GIN index, ranked by FTS5's bm25 computed here with FTS5's own
    arithmetic (sqlite's fts5_aux.c) from the same counts — rows, tokens per case, cases
    holding each term, and each term's occurrences per column weighted 5/2/1 — so both
    backends order the same cases the same way; newer cases first on a tie."""
    from math import log

    from esc_cli.store.pg_search_sql import query_lexemes

    words = [(term.rstrip("*").strip('"'), term.endswith("*")) for term in terms]
    # each word as the documents hold it: cut, folded and stemmed by the same functions
    # on the server (store/pg_search_sql.py), so both sides agree on any database
    found = conn.execute(query_lexemes(), ([word for word, _ in words],)).fetchall()
    if any(not lexemes for (lexemes,) in found):
        # to_tsvector leaves a word of 2,047 bytes or more out of every document (and a
        # tsquery refuses it): nothing can match all the words, as on SQLite when no
        # case holds it
        return []
    # one lexeme a word, but for a word the server's parser cuts in two (a database
    # whose LC_CTYPE is not C: docs/postgres.md): each must match
    stems, prefixes = [], []
    for (lexemes,), (_, prefix) in zip(found, words):
        stems += lexemes
        prefixes += [prefix] * len(lexemes)
    # the stems are word characters only (esc_words' output): safe to quote
    each = [f"'{stem}'" + (":*" if prefix else "") for stem, prefix in zip(stems, prefixes)]
    clauses, params = case_filters(filters, now)
    params["query"] = " & ".join(each)
    freq = []
    for i, (stem, prefix) in enumerate(zip(stems, prefixes)):
        params[f"t{i}"] = stem
        test = f"starts_with(u.lexeme, :t{i})" if prefix else f"u.lexeme = :t{i}"
        freq.append(
            f"(SELECT coalesce(sum(CASE w WHEN 'A' THEN {TITLE_WEIGHT} WHEN 'B' THEN "
            f"{DESCRIPTION_WEIGHT} ELSE {NOTES_WEIGHT} END), 0) "
            f"FROM unnest(s.document) u, unnest(u.weights) w WHERE {test})"
        )
    where = f"s.document @@ CAST(:query AS tsquery) AND {' AND '.join(clauses)}"
    window = ""
    if limit:
        # the newest matches only, as on SQLite (see search)
        params["window"] = max(RANK_WINDOW, limit)
        window = " ORDER BY s.id DESC LIMIT :window"
    rows = conn.execute(
        f"SELECT s.id, s.tokens, {', '.join(freq)} FROM case_search s "
        f"JOIN cases ON cases.id = s.id WHERE {where}{window}",
        params,
    ).fetchall()
    if not rows:
        return []
    n_row, n_token = conn.execute(
        "SELECT count(*), coalesce(sum(tokens), 0) FROM case_search"
    ).fetchone()
    idf = []
    for term in each:
        n_hit = conn.execute(
            "SELECT count(*) FROM case_search WHERE document @@ CAST(? AS tsquery)", (term,)
        ).fetchone()[0]
        value = log((n_row - n_hit + 0.5) / (n_hit + 0.5))
        idf.append(value if value > 0.0 else 1e-6)
    k1, b = 1.2, 0.75
    avgdl = float(n_token) / float(n_row)
    ranked = []
    for case_id, tokens, *freqs in rows:
        score = 0.0
        d = float(tokens)
        for weight, f in zip(idf, freqs):
            f = float(f)
            score += weight * ((f * (k1 + 1.0)) / (f + k1 * (1 - b + b * d / avgdl)))
        ranked.append((-1.0 * score, -case_id))
    ranked.sort()
    ids = [-negative for _, negative in (ranked[:limit] if limit else ranked)]
    from esc_cli.store.cases import _SELECT_CASE

    found = {row[0]: row for row in conn.execute(f"{_SELECT_CASE} WHERE id = ANY(?)", (ids,))}
    return [case_from_row(found[case_id]) for case_id in ids]


# -- the search index itself (esc doctor) -------------------------------------------

FTS_TABLES = ("cases_fts",)


def index_problems(conn: sqlite3.Connection) -> list[str] | None:
    """FTS5's own consistency check of each index; None when it cannot run because the
    file is read-only (the check is an INSERT and takes the write lock briefly)."""
    if getattr(conn, "dialect", "sqlite") == "postgres":
        return _index_problems_postgres(conn)
    problems = []
    for table in FTS_TABLES:
        try:
            conn.execute(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')")
        except sqlite3.OperationalError as err:
            if "readonly" in str(err):
                return None
            problems.append(f"{table}: {err}")
        except sqlite3.DatabaseError as err:
            problems.append(f"{table}: {err}")
    return problems


def index_check_reads(conn: sqlite3.Connection) -> bool:
    """Whether index_problems only reads, so it may run on a second connection beside
    other reads (doctor): PostgreSQL's comparison is a query; FTS5's integrity-check is
    an INSERT that takes the write lock."""
    return getattr(conn, "dialect", "sqlite") == "postgres"


def rebuild_index(conn: sqlite3.Connection) -> None:
    """Re-index every case and searched event from the tables; in the caller's transaction."""
    if getattr(conn, "dialect", "sqlite") == "postgres":
        conn.execute("DELETE FROM case_search")
        conn.execute(
            "INSERT INTO case_search (id, document, tokens) "
            "SELECT id, document, tokens FROM esc_search_rows() WHERE document IS NOT NULL"
        )
        return
    for table in FTS_TABLES:
        conn.execute(f"INSERT INTO {table} ({table}) VALUES ('rebuild')")


def _index_problems_postgres(conn) -> list[str]:
    """case_search against the tables: a row for every case and for no other, each as
    the case's text makes it (esc_search_rows: esc_search_row's for every case at once)."""
    problems = []
    missing = [
        row[0]
        for row in conn.execute(
            "SELECT c.id FROM cases c WHERE NOT EXISTS (SELECT 1 FROM case_search s "
            "WHERE s.id = c.id) ORDER BY c.id LIMIT 20"
        )
    ]
    if missing:
        problems.append("cases missing from case_search: " + ", ".join(f"#{i}" for i in missing))
    orphans = [
        row[0]
        for row in conn.execute(
            "SELECT s.id FROM case_search s WHERE NOT EXISTS (SELECT 1 FROM cases c "
            "WHERE c.id = s.id) ORDER BY s.id LIMIT 20"
        )
    ]
    if orphans:
        problems.append("case_search rows without a case: " + ", ".join(f"#{i}" for i in orphans))
    stale = [
        row[0]
        for row in conn.execute(
            "SELECT s.id FROM case_search s JOIN esc_search_rows() r ON r.id = s.id "
            "WHERE s.document IS DISTINCT FROM r.document OR s.tokens IS DISTINCT FROM r.tokens "
            "ORDER BY s.id LIMIT 20"
        )
    ]
    if stale:
        problems.append("case_search rows out of date: " + ", ".join(f"#{i}" for i in stale))
    return problems


# -- shell completion ---------------------------------------------------------------


def connect_readonly(path: Path) -> sqlite3.Connection:
    """A connection that can neither write nor wait: completion runs on every TAB."""
    from esc_cli.store.db import APPLICATION_ID

    uri = Path(path).expanduser().absolute().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=0.2)
    try:
        if conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
            raise sqlite3.DatabaseError("not an esc store")
    except BaseException:
        conn.close()
        raise
    return conn


def connect_readonly_postgres(where):
    """The same for a PostgreSQL store: a read-only session that gives up connecting
    after 2 s (libpq's least), on a statement after 1 s and on a lock at once, and must
    find an esc store there. Driver errors go up as they are: completion says nothing."""
    from esc_cli.store import pg

    psycopg2 = pg._driver()
    pg._register_casts(psycopg2)
    raw = psycopg2.connect(
        where.uri,
        application_name="esc-complete",
        connect_timeout=2,
        options="-c default_transaction_read_only=on -c statement_timeout=1000 -c lock_timeout=1",
    )
    raw.autocommit = True
    conn = pg.PgConnection(raw, where)
    try:
        if (
            conn.execute(
                "SELECT version FROM esc_store WHERE application_id = ?", (pg.LOCK_KEY,)
            ).fetchone()
            is None
        ):
            raise sqlite3.DatabaseError("not an esc store")
    except BaseException:
        conn.close()
        raise
    return conn


UNRESOLVED_SQL = "state IN ('new', 'open', 'pending')"


def case_candidates(conn: sqlite3.Connection, prefix: str, limit: int = 50) -> list[tuple]:
    """(id, state, title) of cases whose id starts with `prefix` (all digits or empty):
    unresolved cases first, newest first; then, for a typed prefix, the others.

    The others are read by id ranges (4, 40-49, 400-499, ...), shortest first, so a
    million-case store is never scanned for them."""
    found: list[tuple] = []
    if prefix:
        # `+id`: sorting the few matches beats walking every case in id order to
        # find them; this way the planner reads a partial index of unresolved cases.
        rows = conn.execute(
            f"SELECT id, state, title FROM cases WHERE {UNRESOLVED_SQL} "
            "AND CAST(id AS TEXT) LIKE ? ORDER BY +id DESC LIMIT ?",
            (prefix + "%", limit),
        ).fetchall()
    else:
        rows = conn.execute(
            f"SELECT id, state, title FROM cases WHERE {UNRESOLVED_SQL} ORDER BY id DESC LIMIT ?",
            (limit,),
        ).fetchall()
    found.extend(rows)
    if not prefix or prefix.startswith("0") or len(found) >= limit:
        return found
    top = conn.execute("SELECT max(id) FROM cases").fetchone()[0] or 0
    low = high = int(prefix)
    while low <= top and len(found) < limit:
        found.extend(
            conn.execute(
                f"SELECT id, state, title FROM cases WHERE id BETWEEN ? AND ? AND NOT {UNRESOLVED_SQL} "
                "ORDER BY id DESC LIMIT ?",
                (low, high, limit - len(found)),
            ).fetchall()
        )
        low, high = low * 10, high * 10 + 9
    return found


def owner_candidates(conn: sqlite3.Connection) -> list[tuple[str, str | None]]:
    return conn.execute(
        "SELECT handle, name FROM owners WHERE active = 1 ORDER BY handle"
    ).fetchall()


def team_candidates(conn: sqlite3.Connection) -> list[str]:
    """Teams people work in, and teams unresolved cases sit with."""
    each = (
        "json_each(owners.teams)"
        if getattr(conn, "dialect", "sqlite") == "sqlite"
        else "json_array_elements_text(CAST(owners.teams AS json)) AS t(value)"
    )
    rows = conn.execute(
        f"SELECT value FROM owners, {each} WHERE owners.active = 1 "
        f"UNION SELECT team FROM cases WHERE {UNRESOLVED_SQL} AND team IS NOT NULL"
    ).fetchall()
    return sorted({row[0] for row in rows if isinstance(row[0], str)})
