"""SQLite's spelling of a statement as PostgreSQL's: store/ writes its SQL once, in
SQLite's dialect, and the PostgreSQL connection (store/pg.py) passes every statement
through `translate`, cached per statement text. docs/postgres.md lists each rewrite and
why it is safe."""

from __future__ import annotations

import re
from collections.abc import Iterator

_PARTS = re.compile(r"('(?:[^']|'')*'|\"[^\"]*\")")
_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_IS_NOT = re.compile(r"\bIS\s+NOT\s+(?!NULL\b|DISTINCT\b|TRUE\b|FALSE\b)", re.IGNORECASE)
_IS = re.compile(r"\bIS\s+(?!NOT\b|NULL\b|DISTINCT\b|TRUE\b|FALSE\b)", re.IGNORECASE)
_INDEXED_BY = re.compile(r"\bINDEXED\s+BY\s+\w+", re.IGNORECASE)
_OR_IGNORE = re.compile(r"^\s*INSERT\s+OR\s+IGNORE\s+INTO\b", re.IGNORECASE)
_ORDER_BY = re.compile(r"\bORDER\s+BY\b", re.IGNORECASE)
_FUNCTION = re.compile(r"\b(max|min|group_concat)\s*\(", re.IGNORECASE)
_CLAUSE_END = re.compile(r"\b(LIMIT|OFFSET|FOR|UNION|EXCEPT|INTERSECT)\b", re.IGNORECASE)
# The report's "priority IN (SELECT priority FROM stored)" (store/report_queries.py: the
# few priorities, for a skip scan of cases_report): PostgreSQL plans an IN (subquery) as
# a join and reads the whole index; given the priorities as an array it seeks each
# one's range of the index, 4-5x faster at a million cases.
_PRIORITY_IN = re.compile(r"\bIN\s*\(\s*SELECT\s+priority\s+FROM\s+stored\s*\)", re.IGNORECASE)
_CACHE: dict[tuple[str, bool], str] = {}


def translate(sql: str, named: bool = False) -> str:
    """SQLite's spelling of a statement as PostgreSQL's, for the differences that are
    mechanical: `?`/`:name` parameters, `%` (the driver's marker), IS [NOT] between
    values, INSERT OR IGNORE, scalar max/min, group_concat, INDEXED BY (and the report's
    priority skip scan, _PRIORITY_IN), and NULLs sorting first in ascending order as
    SQLite sorts them. Quoted text is left alone but for its `%`, which the driver reads
    there too."""
    key = (sql, named)
    done = _CACHE.get(key)
    if done is not None:
        return done
    ignore = _OR_IGNORE.match(sql) is not None
    if ignore:
        sql = _OR_IGNORE.sub("INSERT INTO", sql, count=1)
    # the driver reads every % of a statement sent with parameters, quoted ones too
    pieces = _PARTS.split(sql.replace("%", "%%"))
    for i in range(0, len(pieces), 2):  # even pieces are outside quotes
        text = pieces[i]
        text = _NAMED.sub(r"%(\1)s", text) if named else text.replace("?", "%s")
        text = _IS_NOT.sub("IS DISTINCT FROM ", text)
        text = _IS.sub("IS NOT DISTINCT FROM ", text)
        text = _PRIORITY_IN.sub("= ANY(ARRAY(SELECT priority FROM stored))", text)
        pieces[i] = _INDEXED_BY.sub("", text)
    out = _functions("".join(pieces))
    out = _nulls_first(out)
    if ignore:
        out = out.rstrip().rstrip(";") + " ON CONFLICT DO NOTHING"
    if len(_CACHE) < 4096:
        _CACHE[key] = out
    return out


def _scan(sql: str, start: int = 0) -> Iterator[tuple[int, str, int]]:
    """(index, character, parenthesis depth after it) for each character of `sql` from
    `start` outside quoted text, the depth counted from `start`; the last one yielded is
    the parenthesis that closes one opened before `start` (depth -1), if there is one."""
    depth, quote = 0, None
    for i in range(start, len(sql)):
        ch = sql[i]
        if quote:
            if ch == quote:
                quote = None
            continue
        if ch in "'\"":
            quote = ch
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        yield i, ch, depth
        if depth < 0:
            return


def _close(sql: str, start: int) -> int:
    """The index of the parenthesis closing the one before `start` (quotes skipped)."""
    for i, _, depth in _scan(sql, start):
        if depth < 0:
            return i
    return len(sql)


def _split_top(text: str, sep: str = ",") -> list[str]:
    """`text` cut at each `sep` outside parentheses and quotes."""
    parts, last = [], 0
    for i, ch, depth in _scan(text):
        if ch == sep and depth == 0:
            parts.append(text[last:i])
            last = i + 1
    parts.append(text[last:])
    return parts


def _quoted(sql: str):
    """A test of whether an index of `sql` falls inside quoted text."""
    from bisect import bisect_right

    spans = [bound for found in _PARTS.finditer(sql) for bound in found.span()]
    return lambda index: bisect_right(spans, index) % 2 == 1


def _functions(sql: str) -> str:
    """max(a, b) -> GREATEST(a, b), min(a, b) -> LEAST(a, b) (SQLite's scalar forms;
    one argument stays the aggregate), group_concat(x[, sep]) -> string_agg(text, sep)."""
    out, pos = [], 0
    quoted = _quoted(sql)
    for found in _FUNCTION.finditer(sql):
        if found.start() < pos or quoted(found.start()):
            continue
        end = _close(sql, found.end())
        inner = _functions(sql[found.end() : end])
        args = _split_top(inner)
        name = found[1].lower()
        if name == "group_concat":
            sep = args[1].strip() if len(args) > 1 else "','"
            replacement = f"string_agg(CAST({args[0].strip()} AS TEXT), {sep})"
        elif len(args) > 1:
            replacement = f"{'GREATEST' if name == 'max' else 'LEAST'}({inner})"
        else:
            replacement = f"{found[1]}({inner})"
        out.append(sql[pos : found.start()])
        out.append(replacement)
        pos = end + 1
    out.append(sql[pos:])
    return "".join(out)


def _nulls_first(sql: str) -> str:
    """Each ORDER BY key gets SQLite's NULL placement: first ascending, last descending."""
    if not _ORDER_BY.search(sql):
        return sql
    out, pos = [], 0
    quoted = _quoted(sql)
    for found in _ORDER_BY.finditer(sql):
        if found.start() < pos or quoted(found.start()):
            continue
        start = found.end()
        stop = len(sql)
        for i, ch, depth in _scan(sql, start):
            if depth < 0 or (depth == 0 and ch == ";"):
                stop = i
                break
            if (
                depth == 0
                and ch.isalpha()
                and (i == 0 or not (sql[i - 1].isalnum() or sql[i - 1] == "_"))
                and _CLAUSE_END.match(sql, i)
            ):
                stop = i
                break
        keys = []
        for term in _split_top(sql[start:stop]):
            bare = term.strip()
            upper = bare.upper()
            if not bare or "NULLS" in upper.split():
                keys.append(term)
            elif upper.endswith(" DESC"):
                keys.append(f" {bare} NULLS LAST")
            else:
                keys.append(f" {bare} NULLS FIRST")
        tail = " " if stop < len(sql) and sql[stop] not in ");" else ""
        out.append(sql[pos:start])
        out.append(",".join(keys) + tail)
        pos = stop
    out.append(sql[pos:])
    return "".join(out)
