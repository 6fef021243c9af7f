"""store/pg_sql.translate, the one place SQLite's spelling of a statement becomes
PostgreSQL's: each rewrite docs/postgres.md lists gives, on a real server, the rows
the statement gives on SQLite, on data with the NULLs, duplicates and quoted markers
that tell the two dialects apart. (The rest of the suite runs esc's own statements
through it; these pin each rewrite's meaning on its own.)"""

from __future__ import annotations

import sqlite3

import pytest

from esc_cli.store import pg, pg_location
from esc_cli.store.pg_sql import translate

ROWS = [
    (1, 3, "a%b"),
    (2, None, "x?y"),
    (3, 1, None),
    (4, 3, "it's"),
    (5, None, ":name"),
    (6, 2, "plain"),
]
CREATE = "CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER, s TEXT)"

# (a statement as store/ writes it, its parameters): every one must give SQLite's rows
STATEMENTS = [
    ("SELECT id FROM t ORDER BY k, id", ()),
    ("SELECT id FROM t ORDER BY k DESC, id DESC", ()),
    ("SELECT id, k FROM t ORDER BY (k), s", ()),
    ("SELECT id FROM (SELECT id, k FROM t ORDER BY k, id LIMIT 3) x ORDER BY id DESC", ()),
    ("SELECT id, ROW_NUMBER() OVER (ORDER BY k, id) FROM t ORDER BY id", ()),
    ("SELECT id FROM t ORDER BY k NULLS LAST, id", ()),
    ("SELECT id FROM t WHERE k IS ? ORDER BY id", (None,)),
    ("SELECT id FROM t WHERE k IS ? ORDER BY id", (3,)),
    ("SELECT id FROM t WHERE k IS NOT ? ORDER BY id", (None,)),
    ("SELECT id FROM t WHERE k IS NOT ? ORDER BY id", (3,)),
    ("SELECT id FROM t WHERE k IS NULL OR s IS NOT NULL ORDER BY id", ()),
    ("SELECT id FROM t WHERE s LIKE 'a%' OR s = '?' OR s = ? ORDER BY id", ("x?y",)),
    ("SELECT id FROM t WHERE s = :s OR k = :k ORDER BY id", {"s": ":name", "k": 2}),
    ("SELECT id, s || '?' || ':x' FROM t WHERE s LIKE :p ORDER BY id", {"p": "%'%"}),
    ("SELECT max(coalesce(k, 0), 2), min(coalesce(k, 9), 2) FROM t ORDER BY id", ()),
    ("SELECT max(k), min(k), max(min(coalesce(max(k), 0), 2), 1) FROM t", ()),
    ("SELECT group_concat(s, '|') FROM t WHERE id = 1", ()),
    ("SELECT k, group_concat(id) FROM t WHERE id IN (1, 4) GROUP BY k", ()),
    ("SELECT id FROM t INDEXED BY sqlite_autoindex_t_1 WHERE id > ? ORDER BY id", (4,)),
]


def _sqlite():
    conn = sqlite3.connect(":memory:")
    conn.execute(CREATE.replace("INTEGER PRIMARY KEY", "INTEGER UNIQUE"))
    conn.executemany("INSERT INTO t VALUES (?, ?, ?)", ROWS)
    return conn


@pytest.fixture
def both(pg_database):
    conn = pg.connect(pg_location.PgLocation(pg_database))
    conn.execute(CREATE.replace("INTEGER", "BIGINT").replace("TEXT", 'TEXT COLLATE "C"'))
    conn.executemany("INSERT INTO t VALUES (?, ?, ?)", ROWS)
    yield _sqlite(), conn
    conn.close()


def test_each_rewrite_gives_sqlites_rows_on_postgresql(both):
    lite, postgres = both
    for sql, params in STATEMENTS:
        expected = [tuple(row) for row in lite.execute(sql, params).fetchall()]
        got = [tuple(row) for row in postgres.execute(sql, params).fetchall()]
        assert got == expected, (sql, translate(sql, isinstance(params, dict)))


def test_insert_or_ignore_keeps_the_row_it_meets(both):
    lite, postgres = both
    for conn in both:
        conn.execute("INSERT OR IGNORE INTO t (id, k, s) VALUES (?, ?, ?)", (1, 99, "new"))
        conn.execute("INSERT OR IGNORE INTO t (id, k, s) VALUES (?, ?, ?)", (7, 99, "new"))
    query = "SELECT id, k, s FROM t ORDER BY id"
    assert [tuple(r) for r in postgres.execute(query).fetchall()] == lite.execute(query).fetchall()


def test_quoted_text_and_keywords_inside_it_are_left_alone():
    sql = "SELECT 'ORDER BY x, ?' AS a, \"k\" FROM t WHERE s IS NOT 'IS y' ORDER BY a"
    assert translate(sql) == (
        "SELECT 'ORDER BY x, ?' AS a, \"k\" FROM t WHERE s IS DISTINCT FROM 'IS y' "
        "ORDER BY a NULLS FIRST"
    )
    assert translate("SELECT max(1, 2), 'max(1, 2)' FROM t ORDER BY 1") == (
        "SELECT GREATEST(1, 2), 'max(1, 2)' FROM t ORDER BY 1 NULLS FIRST"
    )
    # the driver reads % in quoted text too: doubled there as well, ? and :name not
    assert translate("SELECT 1 FROM t WHERE s LIKE 'a%:b?' AND k = ?") == (
        "SELECT 1 FROM t WHERE s LIKE 'a%%:b?' AND k = %s"
    )
