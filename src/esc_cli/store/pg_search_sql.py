"""The SQL that makes a case's search document on PostgreSQL, shared by every function
that writes case_search or checks it (store/pg_migrations.py), so their documents
cannot drift apart; and migration 0027, which made them stem words as FTS5 does.

FTS5's porter tokenizer (SQLite) stems a token only when it is 3 to 64 bytes long and
keeps any other as it is; PostgreSQL's snowball stemmer stems every word, so "is"
became "i" and "us" "u" there: `search us*` found "update" on PostgreSQL only, and
`search ies` 164 cases against none. Each text's words (as esc_words cuts them) are
now split: those of 3 to 64 bytes go through the stemmer ('esc'), the others through
'simple' (lower-cased only), as FTS5 does; store/search.py stems a query's words the
same way."""

from __future__ import annotations


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


def _part(words: str, weight: str) -> str:
    return (
        f"setweight(to_tsvector('esc', esc_stemmed({words})) "
        f"|| to_tsvector('simple', esc_kept({words})), '{weight}')"
    )


def document(title: str, description: str, notes: str) -> str:
    """A case's search document from the words of its three texts: title, description
    and notes weighted A, B and C. Every function that writes case_search or checks
    it (esc_search_row, esc_index_cases, esc_index_texts, esc_search_rows) makes it with
    this expression; esc_index_split makes the same from words split by the import."""
    return (
        f"{_part(title, 'A')}\n                || {_part(description, 'B')}"
        f"\n                || {_part(notes, 'C')}"
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
    the triggers; doctor compares)."""
    return f"""CREATE OR REPLACE FUNCTION esc_search_row(cid BIGINT, OUT document tsvector,
                                              OUT tokens BIGINT)
            LANGUAGE sql STABLE AS $$
            SELECT {document("esc_words(c.title)", "esc_words(c.description)", "esc_words(n.notes)")},
                esc_token_count(c.title) + esc_token_count(c.description)
                + esc_token_count(n.notes)
            FROM cases c, LATERAL (
                SELECT string_agg(e.reason, ' ' ORDER BY e.id) AS notes FROM events e
                WHERE e.case_id = c.id AND e.kind IN ({kinds}) AND e.reason IS NOT NULL) n
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
