"""esc search: FTS5 over titles, descriptions and notes, ranked, with the queue filters."""

import shutil
import sqlite3
from pathlib import Path

import pytest

from esc_cli.store.search import query_terms
from tests.conftest import EscRunner


def _open(esc, title, description="", priority="medium", **options):
    args = ["open", title, "--customer", options.pop("customer", "Globex"), "--priority", priority]
    if description:
        args += ["--description", description]
    for name, value in options.items():
        args += [f"--{name}", str(value)]
    return esc.doc(*args)["id"]


def _ids(esc, *args):
    return [doc["id"] for doc in esc.doc("search", *args)]


def test_title_hits_rank_above_description_and_note_hits(esc):
    in_note = _open(esc, "Cannot log in", "SSO loop on the portal")
    esc.ok("note", str(in_note), "customer says the printer driver also crashed")
    in_title = _open(esc, "Printer jams on every job")
    in_description = _open(esc, "Office hardware", "the printer in room 4 is out of toner")
    _open(esc, "Refund request", "double charge on invoice 1182")

    assert _ids(esc, "printer") == [in_title, in_description, in_note]


def test_more_hits_in_a_case_of_the_same_length_rank_higher(esc):
    once = _open(esc, "Printer offline", "nothing prints from floor two")
    twice = _open(esc, "Printer offline", "printer shows errors on floor two")
    thrice = _open(esc, "Printer offline", "printer shows errors on floor two")
    esc.ok("note", str(thrice), "printer")
    _open(esc, "Unrelated", "filler text")
    assert _ids(esc, "printer") == [thrice, twice, once]


def test_every_word_must_occur_somewhere_in_the_case(esc):
    split = _open(esc, "VPN disconnects", "after ten minutes")
    esc.ok("note", str(split), "happens only on the Berlin gateway", "--customer")
    vpn_only = _open(esc, "VPN slow")
    berlin_only = _open(esc, "Berlin office move")

    assert _ids(esc, "vpn", "berlin") == [split]
    assert _ids(esc, "vpn berlin") == [split]
    assert set(_ids(esc, "vpn")) == {split, vpn_only}
    assert set(_ids(esc, "berlin")) == {split, berlin_only}


def test_notes_customer_updates_resolutions_and_feedback_are_searched(esc):
    case = _open(esc, "Slow dashboard")
    esc.ok("note", str(case), "internal: suspect the reporting replica")
    esc.ok("note", str(case), "we are looking into it", "--customer")
    esc.ok("resolve", str(case), "--resolution", "rebuilt the materialised aggregates")
    esc.ok("feedback", str(case), "--csat", "2", "--comment", "took forever")
    other = _open(esc, "Unrelated")
    esc.ok("escalate", str(other), "--reason", "replica lag suspected")

    for word in ("replica", "looking", "aggregates", "forever"):
        assert _ids(esc, word) == [case], word


def test_searching_finds_stems_prefixes_and_unaccented_forms(esc):
    case = _open(esc, "Café crème machine leaks", "Refunds requested for damaged units")
    assert _ids(esc, "cafe") == [case]
    assert _ids(esc, "refund") == [case]
    assert _ids(esc, "dama*") == [case]
    assert _ids(esc, "CRÈME") == [case]


def test_words_in_any_script_are_words(esc):
    # PostgreSQL cut words with [[:alnum:]] under the "C" collation until migration 0016:
    # "Glöbex" was two words, "gl" and "bex", and 漢字 none
    case = _open(esc, "Glöbex outage at Straße 5", "漢字 in the invoice; naïve résumé")
    _open(esc, "Unrelated", "nothing to see")
    for word in ("glöbex", "GLÖBEX", "globex", "straße", "漢字", "naive", "résumé", "resume", "glö*"):
        assert _ids(esc, word) == [case], word
    assert _ids(esc, "bex") == [] and _ids(esc, "gl") == []


def test_index_follows_title_and_description_changes(esc):
    case = _open(esc, "Wrong invoice address")
    esc.ok("set", str(case), "--title", "Wrong shipping address")
    assert _ids(esc, "invoice") == []
    assert _ids(esc, "shipping") == [case]


@pytest.mark.parametrize("text", [
    '"unbalanced', "AND", "printer AND", "NEAR(printer fire)", "title:printer",
    "printer OR", "(printer", "-printer", "^printer", "printer*fire", 'say "hi" NOT',
    "a' OR 1=1 --", "\\printer\\",
])
def test_fts_syntax_in_the_text_is_just_words(esc, text):
    _open(esc, "Printer on fire")
    result = esc("search", "--json", "--", text)
    assert result.code == 0, result.err
    assert "Traceback" not in result.err and "internal error" not in result.err
    assert isinstance(result.json(), list)


@pytest.mark.parametrize("text", ["", "***", "  ", "!!! ???"])
def test_text_without_words_exits_2(esc, text):
    result = esc("search", text)
    assert result.code == 2
    assert result.err.startswith("error:") and "no words" in result.err


@pytest.mark.parametrize("text", ["y" * 2100, "refund " + "y" * 2100, "y" * 2100 + "*"])
def test_a_word_longer_than_any_index_holds_finds_nothing_on_either_store(esc, text):
    """PostgreSQL's documents hold no word of 2,047 bytes or more, and its tsquery
    refuses one (a store error echoing 2 KB back): no case can hold it, as on SQLite."""
    _open(esc, "Refund request", "double charge")
    result = esc("search", text, "--json")
    assert (result.code, result.err, result.json()) == (0, "", [])


def test_too_many_words_exit_2(esc):
    words = " ".join(f"w{i}" for i in range(40))
    result = esc("search", words)
    assert result.code == 2 and result.err.startswith("error:")


def test_all_states_are_searched_unless_state_narrows_it(esc):
    open_case = _open(esc, "Printer smoke")
    closed_case = _open(esc, "Printer toner")
    esc.ok("resolve", str(closed_case), "--resolution", "printer fixed")
    esc.ok("close", str(closed_case))

    assert set(_ids(esc, "printer")) == {open_case, closed_case}
    assert _ids(esc, "printer", "--state", "closed") == [closed_case]
    assert _ids(esc, "printer", "--state", "new,open,pending") == [open_case]
    bad = esc("search", "printer", "--state", "done")
    assert bad.code == 2 and "unknown state" in bad.err


def test_queue_filters_apply(esc):
    esc.ok("owner", "add", "alice")
    esc.ok("owner", "add", "bob", "--tier", "2", "--team", "billing")
    mine = _open(esc, "Billing portal printer", priority="urgent", owner="alice", team="billing")
    bobs = _open(esc, "Printer in billing", priority="low", owner="bob", tier=2)
    nobody = _open(esc, "Printer queue stuck", category="technical")

    assert _ids(esc, "printer", "--owner", "me") == [mine]
    assert _ids(esc, "printer", "--owner", "bob") == [bobs]
    assert _ids(esc, "printer", "--unassigned") == [nobody]
    assert _ids(esc, "printer", "--priority", "p1") == [mine]
    assert _ids(esc, "printer", "--tier", "2") == [bobs]
    assert _ids(esc, "printer", "--team", "billing") == [mine]
    assert _ids(esc, "printer", "--category", "technical") == [nobody]
    assert len(_ids(esc, "printer", "--limit", "2")) == 2
    assert len(_ids(esc, "printer", "--limit", "0")) == 3
    assert esc("search", "printer", "--limit", "-1").code == 2
    # filters naming nothing are mistakes, as in the queue (docs/leads.md)
    assert _ids(esc, "printer", "--category", "TECHNICAL") == [nobody]
    for args, code in ((("--category", "bogus"), 2), (("--owner", "nobody"), 3),
                       (("--team", "x"), 3)):
        refused = esc("search", "printer", *args)
        assert (refused.code, refused.out, len(refused.err.splitlines())) == (code, "", 1), args
    assert esc("search", "printer", "--tier", "9").code == 2
    assert esc("search", "printer", "--priority", "p9").code == 2


def test_json_is_an_array_of_case_objects(esc):
    case = _open(esc, "Printer on fire", "smoke everywhere", priority="high")
    docs = esc.doc("search", "smoke")
    assert [d["id"] for d in docs] == [case]
    for key in ("id", "title", "description", "customer", "category", "priority", "channel",
                "state", "tier", "tier_name", "team", "owner", "tags", "opened_at",
                "respond_by", "at_risk", "breached", "missed", "escalations", "csat"):
        assert key in docs[0]
    assert docs[0]["title"] == "Printer on fire"
    assert esc.doc("search", "nothing-like-this") == []


def test_pipe_output_is_a_tsv_table(esc):
    case = _open(esc, "Printer\ton fire \x1b[31mred")
    out = esc.ok("search", "printer").out.splitlines()
    assert out[0].split("\t")[0] == "id"
    row = out[1].split("\t")
    assert row[0] == str(case) and "\x1b" not in out[1] and row[-1] == "Printer on fire red"
    assert esc.ok("search", "absent").out.splitlines() == [out[0]]


def test_query_terms_quote_every_word():
    assert query_terms('printer "on" fire*') == ['"printer"', '"on"', '"fire"*']
    assert query_terms("Printer printer PRINTER") == ['"printer"']
    assert query_terms("e-mail NEAR(x)") == ['"e"', '"mail"', '"near"', '"x"']


@pytest.mark.sqlite_only("a SQLite file made by the first schema (the PostgreSQL upgrade is the test below)")
def test_a_first_schema_sqlite_file_is_searchable_after_upgrade(tmp_path):
    db = tmp_path / "old.db"
    shutil.copy(Path(__file__).parent / "fixtures" / "schema_v1.db", db)
    with sqlite3.connect(db) as conn:
        title, case_id = conn.execute("SELECT title, id FROM cases ORDER BY id LIMIT 1").fetchone()
        note = conn.execute(
            "SELECT case_id, reason FROM events WHERE kind = 'note' AND reason IS NOT NULL LIMIT 1"
        ).fetchone()
    esc = EscRunner(db, now="2026-10-03T09:00:00Z")
    word = max(title.split(), key=len)
    assert case_id in _ids(esc, word)
    assert note is not None
    note_word = max(note[1].split(), key=len)
    assert note[0] in _ids(esc, note_word)


def _vocabulary(esc):
    if esc.is_pg:  # each case's row of case_search, and what the text makes of it now
        return (esc.rows("SELECT id, CAST(document AS TEXT), tokens FROM case_search ORDER BY id"),
                esc.rows("SELECT c.id, CAST(r.document AS TEXT), r.tokens FROM cases c, "
                         "esc_search_row(c.id) r WHERE r.document IS NOT NULL ORDER BY c.id"))
    conn = sqlite3.connect(esc.db)
    try:
        conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.vocab USING fts5vocab(main, cases_fts, row)")
        live = sorted(conn.execute("SELECT term, doc FROM temp.vocab").fetchall())
        with conn:
            conn.execute("INSERT INTO cases_fts (cases_fts) VALUES ('rebuild')")
        return live, sorted(conn.execute("SELECT term, doc FROM temp.vocab").fetchall())
    finally:
        conn.close()


def _matches(esc, word):
    if esc.is_pg:
        return sorted(r[0] for r in esc.rows(
            "SELECT id FROM case_search WHERE document @@ plainto_tsquery('esc', ?)", (word,)))
    return sorted(r[0] for r in esc.rows(
        "SELECT rowid FROM cases_fts WHERE cases_fts MATCH ?", (f'"{word}"',)))


def test_the_index_stays_true_to_the_tables_when_events_are_edited_by_hand(esc):
    first = _open(esc, "Printer on fire", "smoke")
    esc.ok("note", str(first), "alpha note")
    esc.ok("note", str(first), "bravo note", "--customer")
    second = _open(esc, "Login loop")
    esc.ok("note", str(second), "charlie note")
    note_ids = [r[0] for r in esc.rows(
        "SELECT id FROM events WHERE kind IN ('note', 'customer_update') ORDER BY id")]
    edits = [
        "UPDATE events SET reason = 'delta note' WHERE id = ?",
        "DELETE FROM events WHERE id = ?",
        "UPDATE events SET id = 9999 WHERE id = ?",
        f"UPDATE events SET case_id = {first} WHERE id = ?",
        "UPDATE events SET kind = 'opened' WHERE id = ?",
    ]
    for sql, event_id in zip(edits, note_ids + [9999, 9999]):
        esc.sql((sql, (event_id,)))
        live, rebuilt = _vocabulary(esc)
        assert live and live == rebuilt, sql
    assert _matches(esc, "delta") == [first]
    assert _matches(esc, "alpha") == [] and _matches(esc, "bravo") == []
    assert _matches(esc, "charlie") == []  # moved to the first case, then no longer a note
    assert _matches(esc, "smoke") == [first] and _matches(esc, "login") == [second]


def test_only_the_newest_matches_are_ranked_past_the_window(esc, monkeypatch):
    import esc_cli.store.search as fts

    best = _open(esc, "Printer", "printer printer")  # the strongest match, and the oldest
    older = _open(esc, "Office hardware", "a printer and a scanner on floor two")
    newer = _open(esc, "Printer offline", "since the weekend")
    monkeypatch.setattr(fts, "RANK_WINDOW", 2)
    assert _ids(esc, "printer", "--limit", "2") == [newer, older]
    assert _ids(esc, "printer", "--limit", "3") == [best, newer, older]
    assert _ids(esc, "printer", "--limit", "0") == [best, newer, older]


def test_a_postgresql_store_from_before_0016_finds_unaccented_words_after_upgrade(pg_store):
    esc = EscRunner(pg_store)
    case = _open(esc, "Café crème machine leaks")
    # the store as 0014 left it: words kept their diacritics, counted by a regex
    esc.sql("""CREATE OR REPLACE FUNCTION esc_words(t text) RETURNS text LANGUAGE sql
               IMMUTABLE AS $$ SELECT regexp_replace(coalesce(t, ''), '[^[:alnum:]]+', ' ', 'g') $$""",
            "SELECT esc_reindex(id) FROM cases",
            # (later migrations are undone too, and re-run by the upgrade)
            "DELETE FROM esc_migrations WHERE name >= '0016'",
            "UPDATE esc_store SET version = 15")
    assert esc.rows("SELECT CAST(document AS TEXT) FROM case_search")[0][0].startswith("'caf':")
    assert _ids(esc, "cafe") == [case]  # the command upgraded the store first
    assert esc.rows("SELECT count(*) FROM esc_migrations WHERE name = '0016_search_diacritics'") == [(1,)]
    assert esc("doctor").code == 0


def test_every_cases_search_row_at_once_is_each_cases_own(pg_store):
    # doctor compares case_search with esc_search_rows() (every case in one query) and
    # --repair rebuilds from it: it must make what esc_search_row makes case by case
    esc = EscRunner(pg_store)
    plain = _open(esc, "Printer on fire", "toner everywhere")
    accented = _open(esc, "Crème brûlée machine", "Grüße aus Köln")
    _open(esc, "日本語 ticket", "")
    _open(esc, "no notes at all")
    for case, text in ((plain, "first note"), (accented, "café noté"), (plain, "third, note!")):
        esc.ok("note", str(case), text)
    esc.ok("note", str(accented), "the customer wrote back", "--customer")
    each = esc.rows("SELECT c.id, CAST(r.document AS TEXT), r.tokens FROM cases c, "
                    "esc_search_row(c.id) r ORDER BY c.id")
    at_once = esc.rows("SELECT id, CAST(document AS TEXT), tokens FROM esc_search_rows() ORDER BY id")
    assert len(each) == 4 and at_once == each
    assert esc.rows("SELECT id, CAST(document AS TEXT), tokens FROM case_search ORDER BY id") == each


def test_capitals_outside_ascii_are_found_whatever_the_databases_ctype(esc):
    # PostgreSQL lower-cased documents by the database's LC_CTYPE, which is C for every new
    # database on many servers (and here): 'Ошибка' stayed 'Ошибка' and `search ошибка`
    # found nothing; esc_words folds them itself now (migration 0030)
    case = _open(esc, "Ошибка входа в Личный кабинет", "Łukasz reports Øystein's Ærø sync")
    _open(esc, "Unrelated", "nothing to see")
    for word in ("ошибка", "Ошибка", "ЛИЧНЫЙ", "личный", "łukasz", "ŁUKASZ", "ærø", "ÆRØ",
                 "øystein", "кабин*"):
        assert _ids(esc, word) == [case], word
    # FTS5 takes marks off Latin letters only: ł is a letter of its own, й keeps its breve
    assert _ids(esc, "lukasz") == [] and _ids(esc, "личныи") == []


def test_numbers_symbols_and_titlecase_are_words_that_count_as_on_sqlite(esc):
    # FTS5 indexes ①, ½, ², Ⅻ (Unicode's other numbers and letter numbers), folds ǅ to ǆ
    # and a final ς to σ; PostgreSQL dropped the first four, so "refund ① ② ③ ④" was a
    # case of one word there and outranked "refund" (newer first on a tie)
    short = _open(esc, "refund")
    longer = _open(esc, "refund ① ② ③ ④")
    odd = _open(esc, "Invoice x² ½ price, step ①, Chapter Ⅻ, ǅemo", "Η ΟΔΥΣΣΕΥΣ")
    assert _ids(esc, "refund") == [short, longer]
    for words in ("½", "x²", "Ⅻ", "ⅻ", "ǆemo", "ǅEMO", "chapter ⅻ", "ΟΔΥΣΣΕΥΣ", "οδυσσευς",
                  "οδυσσευσ", "οδυσσε*"):
        assert _ids(esc, words) == [odd], words
    assert _ids(esc, "①") == [longer, odd]


def _distinct_words(count: int, seed: int, letters: str = "abcdefghijklmnopqrstuvwxyz") -> list[str]:
    import random

    rng, seen = random.Random(seed), set()
    while len(seen) < count:
        seen.add("".join(rng.choice(letters) for _ in range(8)))
    return sorted(seen, key=lambda w: rng.random())


def test_a_case_with_megabytes_of_notes_is_written_and_searched(esc):
    # PostgreSQL refused the 7th note ("string is too long for tsvector", exit 5): a
    # tsvector holds at most 1 MB. A case whose words pass 500,000 bytes keeps its first
    # 500,000 bytes of them in its PostgreSQL document (docs/postgres.md); SQLite keeps all
    case = _open(esc, "Huge notes")
    words = _distinct_words(8 * 13_000, 18)
    notes = [" ".join(words[i * 13_000:(i + 1) * 13_000]) for i in range(8)]
    assert len(notes[0]) > 116_000
    for note in notes:
        esc.ok("note", str(case), note)
    assert _ids(esc, words[0]) == [case] and _ids(esc, words[40_000]) == [case]
    assert _ids(esc, words[-1]) == ([] if esc.is_pg else [case])
    assert all(check["ok"] for check in esc.doc("doctor")["checks"])


def test_an_import_of_megabyte_texts_is_indexed_on_every_path(esc, tmp_path):
    # one all-ASCII case with a 1,000,000-byte description (the import cut its words
    # itself, esc_index_split, and failed), one not all ASCII (the server cuts it,
    # esc_index_texts) and a small one: doctor holds each document to esc_search_row's
    import json

    ascii_words = _distinct_words(111_000, 1)
    other_words = _distinct_words(70_000, 2, "abcdefghijklmnopqrstuvwxyzéøß")
    description = " ".join(ascii_words)
    description += " " + "y" * (1_000_000 - len(description) - 1)
    cases = [{"title": "Huge import", "customer": "A", "priority": "low",
              "description": description, "opened_at": "2026-11-01T00:00:00Z"},
             {"title": "Énorme", "customer": "A", "priority": "low",
              "description": " ".join(other_words), "opened_at": "2026-11-01T00:01:00Z"},
             {"title": "Refund ① small", "customer": "A", "priority": "low",
              "opened_at": "2026-11-01T00:02:00Z"}]
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(cases), encoding="utf-8")
    assert len(description) == 1_000_000
    assert esc.doc("import", str(path))["cases"] == 3
    assert _ids(esc, ascii_words[0]) == [1] and _ids(esc, other_words[0]) == [2]
    assert _ids(esc, "refund", "①") == [3] and _ids(esc, "énorme") == [2]
    assert _ids(esc, ascii_words[-1]) == ([] if esc.is_pg else [1])
    assert all(check["ok"] for check in esc.doc("doctor")["checks"])


def test_a_postgresql_store_from_before_0030_folds_its_words_after_upgrade(pg_store):
    from esc_cli.store import pg, pg_location, pg_migrations

    esc = EscRunner(pg_store)
    case = _open(esc, "Ошибка входа", "x² ½ Ⅻ")
    # the store as 0029 left it: 0021's esc_words, the documents it made
    conn = pg.connect(pg_location.PgLocation(pg_store))
    conn.execute("BEGIN")
    pg_migrations._pg_ascii_words(pg_migrations._PgDDL(conn))
    conn.execute("SELECT esc_reindex(id) FROM cases")
    conn.execute("DELETE FROM esc_migrations WHERE name >= '0030'")
    conn.execute("UPDATE esc_store SET version = 29")
    conn.execute("COMMIT")
    conn.close()
    assert esc.rows("SELECT CAST(document AS TEXT) FROM case_search") == [("'x':3B 'Ошибка':1A 'входа':2A",)]
    assert _ids(esc, "ошибка") == [case] and _ids(esc, "½") == [case]  # the command upgraded it
    assert esc.rows("SELECT count(*) FROM esc_migrations WHERE name = '0030_pg_fts5_words'") == [(1,)]
    assert esc("doctor").code == 0


def test_a_document_of_the_most_words_the_bound_allows_fits_postgresql(pg_store):
    # the costliest words per byte (every distinct word of 1 to 4 characters, in ASCII,
    # Cyrillic and Han) up to pg_search_sql.HUGE bytes, in one text and in all three: the
    # document fits tsvector's 1 MB; past the bound it holds the first HUGE bytes of words
    import itertools
    import string

    from esc_cli.store.pg_search_sql import HUGE, document

    alphabet = string.ascii_lowercase + string.digits
    words = ["".join(p) for n in (1, 2, 3) for p in itertools.product(alphabet, repeat=n)]
    words += [chr(c) for c in range(0x430, 0x450)] + [chr(c) for c in range(0x4E00, 0x9FA0)]
    words += ["".join(p) for p in itertools.product(alphabet, repeat=4)]
    text, size = [], -1
    for word in words:
        if size + 1 + len(word.encode()) > HUGE:
            break
        text.append(word)
        size += 1 + len(word.encode())
    at_bound = " ".join(text)
    assert len(at_bound.encode()) > HUGE - 5
    esc = EscRunner(pg_store)
    sql = (f"SELECT CAST({document('w.t', 'w.d', 'w.n')} AS text) FROM (SELECT "
           "esc_words(CAST(? AS text)) t, esc_words(CAST(? AS text)) d, esc_words(CAST(? AS text)) n) w")
    whole = esc.rows(sql, (at_bound, "", ""))[0][0]
    assert whole == esc.rows(sql, ("", at_bound, ""))[0][0].replace("B", "A")
    assert esc.rows(sql, (at_bound[:HUGE // 3], at_bound[HUGE // 3:2 * HUGE // 3],
                          at_bound[2 * HUGE // 3:]))[0][0]
    assert esc.rows(sql, (at_bound + " more words", "more", "words"))[0][0] == whole
    assert whole.count(" ") > 100_000  # lexemes, each with its position (16383 at most)
