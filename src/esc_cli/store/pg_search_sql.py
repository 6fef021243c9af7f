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

# The words of `w` (esc_words' output: runs of letters and digits, one space apart)
# that FTS5 stems, and the others. Text that is all ASCII, nearly all a support team
# writes, is cut by one regular expression (a character is a byte there); any other
# is cut word by word on its bytes, as FTS5 counts them.
SPLIT_FUNCTIONS = (
    """CREATE OR REPLACE FUNCTION esc_stemmed(w text) RETURNS text LANGUAGE sql IMMUTABLE
        PARALLEL SAFE AS $$
        SELECT CASE WHEN octet_length(w) = length(w)
            THEN regexp_replace(w, '(^| )([^ ]{1,2}|[^ ]{65,})(?= |$)', ' ', 'g')
            ELSE (SELECT coalesce(string_agg(x, ' '), '') FROM regexp_split_to_table(w, ' ') x
                  WHERE octet_length(x) BETWEEN 3 AND 64) END $$""",
    """CREATE OR REPLACE FUNCTION esc_kept(w text) RETURNS text LANGUAGE sql IMMUTABLE
        PARALLEL SAFE AS $$
        SELECT CASE WHEN octet_length(w) = length(w)
            THEN regexp_replace(w, '(^| )[^ ]{3,64}(?= |$)', ' ', 'g')
            ELSE (SELECT coalesce(string_agg(x, ' '), '') FROM regexp_split_to_table(w, ' ') x
                  WHERE octet_length(x) NOT BETWEEN 3 AND 64) END $$""",
)


def _part(words: str, weight: str) -> str:
    return (
        f"setweight(to_tsvector('esc', esc_stemmed({words})) "
        f"|| to_tsvector('simple', esc_kept({words})), '{weight}')"
    )


def document(title: str, description: str, notes: str) -> str:
    """A case's search document from the words of its three texts: title, description
    and notes weighted A, B and C. Every function that writes case_search or checks
    it (esc_search_row, esc_index_cases, esc_index_words, esc_index_texts,
    esc_search_rows) makes it with this expression."""
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
