"""The SQL that makes a case's search document on PostgreSQL, shared by every function
that writes case_search or checks it (store/pg_migrations.py), so their documents
cannot drift apart; and migration 0027, which made them stem words as FTS5 does.

FTS5's porter tokenizer (SQLite) stems a token only when it is 3 to 64 bytes long and
keeps any other as it is; PostgreSQL's snowball stemmer stems every word, so "is"
became "i" and "us" "u" there: `search us*` found "update" on PostgreSQL only, and
`search ies` 164 cases against none. Each text's words (as esc_words cuts them) are
now split: those of 3 to 64 bytes go through the stemmer ('esc'), the others through
'simple' (lower-cased only), as FTS5 does; store/search.py stems a query's words the
same way.

Migration 0030 cuts and folds words from FTS5's own tables (store/fts5_chars.py;
`word_functions`) and bounds a huge case's document (HUGE)."""

from __future__ import annotations

from esc_cli.store.fts5_chars import DROPPED, FOLD_FROM, FOLD_TO, WORD


def stemmed(word: str) -> bool:
    """Whether FTS5's porter stems `word`: only a word of 3 to 64 bytes (the rule the
    SQL below spells out, and store/pg_bulk.py's expressions for ASCII words)."""
    return 3 <= len(word.encode()) <= 64


# The words of `w` (esc_words' output: runs of letters and digits, one space apart)
# that FTS5 stems, and the others. Text that is all ASCII with no word past 64
# characters, nearly all a support team writes, is cut by one regular expression of
# word boundaries (a character is a byte there; \m \M are cheap, where a bounded
# repeat like {3,64} or a lookahead made an import's server work 5x); any other text
# is cut word by word on its bytes, as FTS5 counts them (esc_split_words).
SPLIT_FUNCTIONS = (
    """CREATE OR REPLACE FUNCTION esc_split_words(w text, stemmed boolean) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT coalesce(string_agg(x, ' '), '') FROM regexp_split_to_table(w, ' ') x
        WHERE x <> '' AND (octet_length(x) BETWEEN 3 AND 64) = stemmed $$""",
    """CREATE OR REPLACE FUNCTION esc_stemmed(w text) RETURNS text LANGUAGE sql IMMUTABLE
        PARALLEL SAFE AS $$
        SELECT CASE WHEN octet_length(w) = length(w) AND w !~ '\\w{65}'
            THEN regexp_replace(w, '\\m\\w{1,2}\\M', '', 'g')
            ELSE esc_split_words(w, true) END $$""",
    """CREATE OR REPLACE FUNCTION esc_kept(w text) RETURNS text LANGUAGE sql IMMUTABLE
        PARALLEL SAFE AS $$
        SELECT CASE WHEN octet_length(w) = length(w) AND w !~ '\\w{65}'
            THEN regexp_replace(w, '\\w{3,}', '', 'g')
            ELSE esc_split_words(w, false) END $$""",
)


def _lexemes(words: str) -> str:
    return f"to_tsvector('esc', esc_stemmed({words})) || to_tsvector('simple', esc_kept({words}))"


def _part(words: str, weight: str) -> str:
    return f"setweight({_lexemes(words)}, '{weight}')"


# A tsvector's lexemes and positions must fit in 1 MB (2^20 - 1 bytes): to_tsvector
# refused a case whose notes had grown past ~500 KB of distinct words ("string is too
# long for tsvector", exit 5), where FTS5 takes any text. Words (esc_words' output) of
# HUGE bytes or fewer always fit: a distinct lexeme costs its bytes padded to even, a
# position count and a position, at most twice its word and the space after it (a
# lexeme is never longer than its word), a repeat one 2-byte position; only the 36
# one-character words cost more (6 bytes for 2). A case with more words keeps its first
# HUGE bytes of them (whole words: the title's, then the description's, then the
# notes'; esc_heads) in its document, whichever function makes it; its token count is
# still of every word. Below the bound the document is made as before, with no extra
# work but the sum of three lengths.
HUGE = 500_000
HEAD_FUNCTIONS = (
    """CREATE OR REPLACE FUNCTION esc_head(w text, budget bigint) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT coalesce(string_agg(x, ' ' ORDER BY i), '') FROM (
            SELECT x, i, sum(octet_length(x) + 1) OVER (ORDER BY i) AS upto
            FROM regexp_split_to_table(w, ' ') WITH ORDINALITY AS s(x, i) WHERE x <> '') k
        WHERE upto <= budget + 1 $$""",
    f"""CREATE OR REPLACE FUNCTION esc_heads(t text, d text, n text) RETURNS text[]
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT ARRAY[a.t, b.d, esc_head(n, {HUGE} - octet_length(a.t) - octet_length(b.d))]
        FROM (SELECT esc_head(t, {HUGE}) AS t) a,
            LATERAL (SELECT esc_head(d, {HUGE} - octet_length(a.t)) AS d) b $$""",
)


def _whole(title: str, description: str, notes: str) -> str:
    return (
        f"{_part(title, 'A')}\n                || {_part(description, 'B')}"
        f"\n                || {_part(notes, 'C')}"
    )


def document(title: str, description: str, notes: str) -> str:
    """A case's search document from the words of its three texts: title, description
    and notes weighted A, B and C (only their first HUGE bytes for a huge case). Every
    function that writes case_search or checks it (esc_search_row, esc_index_cases,
    esc_index_texts, esc_search_rows) makes it with this expression, each text's words
    a column cut once; esc_index_split makes the same from words split by the import,
    which sends it no huge case."""
    heads = _whole("h.w[1]", "h.w[2]", "h.w[3]")
    return (
        f"CASE WHEN octet_length({title}) + octet_length({description}) "
        f"+ octet_length({notes}) <= {HUGE}\n                THEN {_whole(title, description, notes)}"
        f"\n                ELSE (SELECT {heads} FROM (SELECT esc_heads({title}, "
        f"{description}, {notes}) AS w) h) END"
    )


def query_lexemes() -> str:
    """The lexemes each of a query's words (the array parameter) makes, in order: what
    esc_words and the documents' expression make of it, so a word is looked up as the
    documents hold it, through the same functions on the same server (esc_words' case
    folding is the server's lower() plus what migration 0030 found it missed)."""
    return (
        f"SELECT tsvector_to_array({_lexemes('w.words')}) FROM unnest(CAST(? AS text[])) "
        "WITH ORDINALITY AS q(word, n), LATERAL (SELECT esc_words(q.word) AS words OFFSET 0) w "
        "ORDER BY q.n"
    )


def cut_documents(kinds: str, ids: str | None = None) -> str:
    """id, document and token count of every case (or of the cases in the array `ids`
    names), each text cut into words once: the notes of a case joined in event order,
    the three texts cut in a LATERAL that OFFSET 0 keeps from being flattened back
    into one esc_words call per use, and counted from the words (esc_words_count)."""
    events = f"e.case_id = ANY({ids}) AND " if ids else ""
    cases = f"\n            WHERE c.id = ANY({ids})" if ids else ""
    return f"""SELECT c.id,
                {document("w.title", "w.description", "w.notes")},
                esc_words_count(w.title) + esc_words_count(w.description)
                + esc_words_count(w.notes)
            FROM cases c LEFT JOIN (
                SELECT e.case_id, string_agg(e.reason, ' ' ORDER BY e.id) AS notes FROM events e
                WHERE {events}e.kind IN ({kinds}) AND e.reason IS NOT NULL
                GROUP BY e.case_id) n ON n.case_id = c.id,
            LATERAL (SELECT esc_words(c.title) AS title, esc_words(c.description) AS description,
                            esc_words(n.notes) AS notes OFFSET 0) w{cases}"""


def search_row(kinds: str) -> str:
    """esc_search_row: a case's row of case_search as its text makes it (esc_reindex,
    the triggers; doctor compares). Each text is cut once (the LATERAL, which OFFSET 0
    keeps from being flattened back into one esc_words call per use)."""
    return f"""CREATE OR REPLACE FUNCTION esc_search_row(cid BIGINT, OUT document tsvector,
                                              OUT tokens BIGINT)
            LANGUAGE sql STABLE AS $$
            SELECT {document("w.title", "w.description", "w.notes")},
                esc_token_count(c.title) + esc_token_count(c.description)
                + esc_token_count(n.notes)
            FROM cases c, LATERAL (
                SELECT string_agg(e.reason, ' ' ORDER BY e.id) AS notes FROM events e
                WHERE e.case_id = c.id AND e.kind IN ({kinds}) AND e.reason IS NOT NULL) n,
            LATERAL (SELECT esc_words(c.title) AS title, esc_words(c.description) AS description,
                            esc_words(n.notes) AS notes OFFSET 0) w
            WHERE c.id = cid $$"""


def index_cases(kinds: str) -> str:
    return f"""CREATE OR REPLACE FUNCTION esc_index_cases(ids BIGINT[]) RETURNS void
            LANGUAGE sql AS $$
            DELETE FROM case_search WHERE id = ANY(ids);
            INSERT INTO case_search (id, document, tokens)
            {cut_documents(kinds, "ids")} $$"""


def index_split() -> str:
    """esc_index_split: an import's search documents from words esc cut and split itself
    (store/pg_bulk.py: for the new cases whose texts are all ASCII, each text's words
    to stem and words to keep, and the token count), the documents esc_search_row makes
    from the rows. Splitting there, in the import's worker processes, costs ~0.4 s of
    CPU per 100,000 cases; the server's regular expressions cost 1.6 s."""
    return """CREATE OR REPLACE FUNCTION esc_index_split(ids BIGINT[], titles TEXT[],
                title_kept TEXT[], descriptions TEXT[], description_kept TEXT[],
                notes TEXT[], notes_kept TEXT[], tokens BIGINT[])
            RETURNS void LANGUAGE sql AS $$
            INSERT INTO case_search (id, document, tokens)
            SELECT w.id,
                setweight(to_tsvector('esc', w.t) || to_tsvector('simple', w.tk), 'A')
                || setweight(to_tsvector('esc', w.d) || to_tsvector('simple', w.dk), 'B')
                || setweight(to_tsvector('esc', w.n) || to_tsvector('simple', w.nk), 'C'),
                w.tokens
            FROM unnest(ids, titles, title_kept, descriptions, description_kept, notes,
                        notes_kept, tokens) AS w(id, t, tk, d, dk, n, nk, tokens) $$"""


def index_texts() -> str:
    """esc_index_texts: an import's search documents for new cases whose texts are not
    all ASCII (or are huge), from the texts it sends: esc_search_row's documents and
    token counts, each text cut once."""
    return f"""CREATE OR REPLACE FUNCTION esc_index_texts(ids BIGINT[], titles TEXT[],
                                          descriptions TEXT[], notes TEXT[])
            RETURNS void LANGUAGE sql AS $$
            INSERT INTO case_search (id, document, tokens)
            SELECT t.id,
                {document("w.title", "w.description", "w.notes")},
                esc_words_count(w.title) + esc_words_count(w.description)
                + esc_words_count(w.notes)
            FROM unnest(ids, titles, descriptions, notes) AS t(id, title, description, notes),
            LATERAL (SELECT esc_words(t.title) AS title, esc_words(t.description) AS description,
                            esc_words(t.notes) AS notes OFFSET 0) w $$"""


# -- words as FTS5 cuts and folds them (migration 0030) --------------------------------
# FTS5 (`unicode61 remove_diacritics 2`) cuts and folds text by its own tables
# (store/fts5_chars.py): ①, ½, ², Ⅻ are word characters there, ς folds to σ and ǅ to
# ǆ, and only Latin letters lose their marks (й and ά keep theirs). Until 0030 esc_words
# cut with ICU's [[:alnum:]] (letters and decimal digits only), took marks off every
# letter, and left case to to_tsvector, which lower-cases by the database's LC_CTYPE:
# under C (the default of many servers) 'Ошибка' stayed 'Ошибка' and `search ошибка`
# found nothing. Now esc_words drops the combining marks FTS5 drops, cuts at every
# character FTS5 does not count as part of a word, and folds each word (esc_fold):
#   - text holding a Latin letter with marks (é, ł is not one) is decomposed, the marks
#     after an ASCII letter taken off, and composed again, as 0016 did for every letter;
#   - then lower() under a collation that knows Unicode (whichever the server has:
#     _COLLATIONS), then the few folds lower() misses (ς, µ, ϐ: esc_fold_fix).
# Which characters lower() and that composition get wrong for FTS5 is asked of the
# server itself when the functions are made (`word_functions`: every character of
# planes 0-1 and the CJK compatibility supplement): any text holding one (Cherokee
# capitals, which FTS5 does not fold; letters newer than its tables; characters that
# composing changes, such as compatibility ideographs) is folded character by
# character from FTS5's table instead (translate(), slower: ~1,300 characters to look
# through for each). A server with none of those collations folds every text holding a
# capital outside ASCII that way.
_COLLATIONS = ("pg_c_utf8", "und-x-icu", "unicode", "C.utf8", "C.UTF-8")
# planes 0 and 1 (every script with case, every mark) and the CJK compatibility
# ideographs supplement (which composing changes); the other planes hold neither
_PROBED = ((0x80, 0x1FFFF), (0x2F800, 0x2FA1F))


def _escaped(cp: int) -> str:
    return f"\\u{cp:04x}" if cp <= 0xFFFF else f"\\U{cp:08x}"


def _ranges(cps) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for cp in sorted(set(cps)):
        if out and out[-1][1] == cp - 1:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return [(a, b) for a, b in out]


def char_class(ranges) -> str:
    """A regular expression's bracket body for codepoint ranges, PostgreSQL's escapes
    (Python's re reads them too)."""
    return "".join(_escaped(a) if a == b else f"{_escaped(a)}-{_escaped(b)}" for a, b in ranges)


WORD_CLASS = "A-Za-z0-9" + char_class(WORD)
DROPPED_CLASS = char_class(_ranges(map(ord, DROPPED)))


def _unlatin(text: str) -> str:
    """`text` with the marks FTS5 drops taken off the ASCII letters they decompose to."""
    return (
        f"normalize(regexp_replace(normalize({text}, NFD), '([A-Za-z])[{DROPPED_CLASS}]+', "
        "'\\1', 'g'), NFC)"
    )


def _literal(chars: str) -> str:
    return "'" + chars.replace("'", "''") + "'"


def _probe(db, collation: str) -> tuple[dict[str, str], dict[str, str]]:
    """What the server makes of each character that it changes (of _PROBED): lower()
    alone, and lower() after _unlatin."""
    lower = f'lower(chr(c) COLLATE "{collation}")'
    both = f'lower({_unlatin("chr(c)")} COLLATE "{collation}")'
    probed = " UNION ALL ".join(f"SELECT generate_series({a}, {b})" for a, b in _PROBED)
    rows = db.execute(
        f"SELECT c, {lower}, {both} FROM ({probed}) AS p(c) "
        f"WHERE c NOT BETWEEN 55296 AND 57343 AND ({lower} <> chr(c) OR {both} <> chr(c))"
    ).fetchall()
    return {chr(c): low for c, low, _ in rows}, {chr(c): low for c, _, low in rows}


_STARTS = [a for a, _ in WORD]


def _is_word(c: str) -> bool:
    from bisect import bisect_right

    i = bisect_right(_STARTS, ord(c)) - 1
    return i >= 0 and ord(c) <= WORD[i][1]


def word_functions(db) -> tuple[str, ...]:
    """esc_fold_fix, esc_fold and esc_words for this server (see above); none in a
    database not in UTF8, whose esc_words stays 0021's (normalize() needs UTF8)."""
    encoding = db.execute("SELECT current_setting('server_encoding')").fetchone()
    if encoding is None or encoding[0] != "UTF8":
        return ()
    found = {
        row[0]
        for row in db.execute(
            "SELECT collname FROM pg_collation WHERE collname = ANY(CAST(? AS text[]))",
            (list(_COLLATIONS),),
        ).fetchall()
    }
    collation = next((name for name in _COLLATIONS if name in found), "C")
    folds = dict(zip(FOLD_FROM, FOLD_TO))
    latin = "".join(c for c, f in folds.items() if f.isascii())
    lowered, unlatined = _probe(db, collation)
    # what lower() and _unlatin leave as it is and FTS5 folds (ς, µ, ſ; under "C",
    # every capital)
    fix = {c: f for c, f in folds.items() if lowered.get(c, c) == c and unlatined.get(c, c) == c}

    def right(c: str) -> bool:
        want = folds.get(c, c)
        # a text holding a Latin letter with marks is composed again, every character
        if "".join(fix.get(x, x) for x in unlatined.get(c, c)) != want:
            return False
        return c in latin or "".join(fix.get(x, x) for x in lowered.get(c, c)) == want

    # any other character is itself before and after, and to FTS5
    changed = (set(lowered) | set(unlatined) | set(folds)) - set(DROPPED)
    slow = sorted(ord(c) for c in changed if _is_word(c) and not right(c))
    latin_class = char_class(_ranges(map(ord, latin)))
    folded = (
        f"lower(CASE WHEN w ~ '[{latin_class}]' THEN {_unlatin('w')} ELSE w END "
        f'COLLATE "{collation}")'
    )
    statements = []
    if fix:
        keys = "".join(sorted(fix))
        statements.append(
            f"""CREATE OR REPLACE FUNCTION esc_fold_fix(l text) RETURNS text LANGUAGE sql
                IMMUTABLE PARALLEL SAFE AS $$
                SELECT CASE WHEN l ~ '[{char_class(_ranges(map(ord, keys)))}]'
                    THEN translate(l, {_literal(keys)}, {_literal("".join(fix[c] for c in keys))})
                    ELSE l END $$"""
        )
        folded = f"esc_fold_fix({folded})"
    if slow:
        upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        folded = (
            f"CASE WHEN w ~ '[{char_class(_ranges(slow))}]' THEN translate(w, "
            f"{_literal(upper + FOLD_FROM)}, {_literal(upper.lower() + FOLD_TO)}) "
            f"ELSE {folded} END"
        )
    statements.append(
        f"""CREATE OR REPLACE FUNCTION esc_fold(w text) RETURNS text LANGUAGE sql IMMUTABLE
            PARALLEL SAFE AS $$ SELECT {folded} $$"""
    )
    statements.append(
        f"""CREATE OR REPLACE FUNCTION esc_words(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
            SELECT CASE WHEN octet_length(t) = length(t)
                        THEN regexp_replace(t, '[^A-Za-z0-9]+', ' ', 'g')
                        ELSE esc_fold(regexp_replace(regexp_replace(coalesce(t, ''),
                            '[{DROPPED_CLASS}]+', '', 'g'), '[^{WORD_CLASS}]+', ' ', 'g'))
                   END $$"""
    )
    return tuple(statements)
