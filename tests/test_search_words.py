"""Words as SQLite's FTS5 cuts and folds them (`unicode61 remove_diacritics 2`), on both
stores: the table esc keeps of it (store/fts5_chars.py), the query's words
(store/search.py) and PostgreSQL's documents (esc_words, migration 0030)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from esc_cli.store.fts5_chars import DROPPED, FOLD_FROM, FOLD_TO, WORD
from esc_cli.store.search import query_terms

ROOT = Path(__file__).resolve().parent.parent


def _generator():
    spec = importlib.util.spec_from_file_location("gen_fts5_chars", ROOT / "scripts" / "gen_fts5_chars.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_table_is_what_this_sqlites_fts5_makes():
    # read from FTS5 itself, one character at a time: a SQLite whose tokenizer cuts or
    # folds differently fails here, before the stores part
    text = _generator().render()
    assert (ROOT / "src" / "esc_cli" / "store" / "fts5_chars.py").read_text(encoding="utf-8") == text, (
        "store/fts5_chars.py is out of date: run python scripts/gen_fts5_chars.py")


def test_a_query_is_cut_and_folded_as_fts5_does_it():
    # Python's \w and lower() kept ς (FTS5 folds it to σ), lower-cased Cherokee capitals
    # (FTS5 keeps them), and cut a word at a combining mark FTS5 drops
    assert query_terms("ΟΔΥΣΣΕΥΣ Οδυσσευς") == ['"οδυσσευσ"']
    assert query_terms("ǅemo x² ①½ Ⅻ*") == ['"ǆemo"', '"x²"', '"①½"', '"ⅻ"*']
    assert query_terms("Ꭰ ꭰ Ошибка ŁÓDŹ Ærø") == ['"Ꭰ"', '"ꭰ"', '"ошибка"', '"łodz"', '"ærø"']
    assert query_terms("cafe\u0301 ca\u0301fe \u0301 ſt µ") == ['"cafe"', '"st"', '"μ"']
    with pytest.raises(Exception, match="no words"):
        query_terms("\u0301 \u0308")


def _expected(cp: int, starts=tuple(a for a, _ in WORD)) -> str:
    """esc_words('q' || chr(cp) || 'q') as FTS5 would cut and fold it."""
    from bisect import bisect_right

    i = bisect_right(starts, cp) - 1
    if i < 0 or cp > WORD[i][1]:
        return "q q"
    c = chr(cp)
    if c in DROPPED:
        return "qq"
    at = FOLD_FROM.find(c)
    return f"q{FOLD_TO[at] if at >= 0 else c}q"


@pytest.mark.parametrize("collation", ["the server's", "none"])
def test_postgresql_cuts_and_folds_every_character_as_fts5(pg_store, monkeypatch, collation):
    # every character of planes 0 and 1 and the CJK compatibility supplement, and some of
    # the others, alone and in a text that also holds a Latin letter with a mark (which
    # esc_words decomposes and composes again): on a server with no collation that knows
    # Unicode (`none`), every capital is folded from FTS5's table
    from esc_cli.store import pg, pg_location, pg_search_sql

    conn = pg.connect(pg_location.PgLocation(pg_store))
    try:
        if collation == "none":
            monkeypatch.setattr(pg_search_sql, "_COLLATIONS", ())
            conn.execute("BEGIN")
            statements = pg_search_sql.word_functions(conn)
            assert "translate(l, 'µÆ" in statements[0]  # esc_fold_fix folds every capital
            for statement in statements:
                conn.execute(statement)
            conn.execute("COMMIT")
        codes = [c for c in range(0x80, 0x20000) if not 0xD800 <= c <= 0xDFFF]
        codes += list(range(0x2F800, 0x2FA20)) + list(range(0x20000, 0x110000, 97))
        rows = conn.execute(
            "SELECT c, esc_words('q' || chr(c) || 'q'), esc_words('é q' || chr(c) || 'q') "
            "FROM unnest(CAST(? AS int[])) c", (codes,)).fetchall()
    finally:
        conn.close()
    wrong = [(hex(c), alone, beside) for c, alone, beside in rows
             if alone != _expected(c) or beside != "e " + _expected(c)]
    assert len(rows) == len(codes) and wrong == []
