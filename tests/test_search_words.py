"""Words as SQLite's FTS5 cuts and folds them (`unicode61 remove_diacritics 2`), on both
stores: the table esc keeps of it (store/fts5_chars.py), the query's words
(store/search.py) and PostgreSQL's documents (esc_words, migration 0029)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

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
