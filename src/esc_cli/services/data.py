"""Bulk in and out: `esc import` and `esc export` (SPEC §4).

Import is two passes over the file, both streamed in batches: the first checks every
row against the store and the policy (and writes nothing); only when no row is bad
does the second build the cases, their events and due times in memory, a batch at a
time, and write them with `executemany` — all inside one BEGIN IMMEDIATE transaction,
so a bad row, a crash or Ctrl-C leaves the store exactly as it was.

Export walks the store in pages inside one read transaction (a consistent snapshot)
and writes as it goes, so a million cases never sit in memory as one string.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from esc_cli.domain.values import replace
from esc_cli.errors import EscError, NotFound, UsageError

BATCH = 5000
CHUNK = 1 << 20
# Files up to this many cases are parsed once: the checked records wait in memory for
# the write; larger ones are streamed again rather than held.
KEEP_CHECKED = 50_000
# An import file this big into a store without cases builds the indexes once at the end
# (bulk.deferred_indexes); a smaller one is over before that could pay.
DEFER_INDEXES_BYTES = 64 * 1024
DOCUMENT_KEYS = ("policy", "owners", "cases", "format", "version", "exported_at", "now")
EXPORT_FORMAT = "esc-export"
CSV_COLUMNS = (
    "id", "title", "description", "customer", "category", "priority", "channel", "state",
    "tier", "tier_name", "team", "owner", "tags", "opened_at", "acknowledged_at",
    "resolved_at", "closed_at", "respond_by", "update_by", "resolve_by", "at_risk",
    "breached", "missed", "paused_since", "escalations", "reopened", "csat",
)

ErrorSink = Callable[[str, list[str]], None]


class Progress:
    """What the import and export report as they go; the command gives a Rich bar on a
    terminal and this silent one otherwise."""

    def start(self, description: str, total: int | None) -> None:
        pass

    def advance(self, amount: int) -> None:
        pass

    def stop(self) -> None:
        pass


# -- reading files -------------------------------------------------------------------

class Record:
    """One row of an import file: where it is (for error messages) and its fields."""

    __slots__ = ("label", "fields", "problem")

    def __init__(self, label: str, fields: dict | None, problem: str | None = None):
        self.label = label
        self.fields = fields
        self.problem = problem


def _open(path: Path):
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise NotFound(f"no such file: {path}") from None
    except IsADirectoryError:
        raise UsageError(f"{path} is a directory, not a file to import") from None
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror}") from None


# After a CR that does not start a CRLF: where an old Mac file's lines end.
_LONE_CR = re.compile(rb"(?<=\r)(?!\n)")


def _lines(handle) -> Iterator[bytes]:
    """The lines of a binary file, each with its ending, ended by LF, CRLF or a lone CR
    (old Mac files): csv wants lines as `newline=''` would give them, and a file read by
    LF alone hands it a CR-only file as one line it cannot parse."""
    for raw in handle:
        # a CR anywhere but in a final CRLF or as the last byte: more than one line
        end = len(raw) - 2 if raw.endswith(b"\r\n") else len(raw) - 1
        if raw.find(b"\r", 0, end) != -1:
            yield from (part for part in _LONE_CR.split(raw) if part)
        else:
            yield raw


class CsvSource:
    """A CSV file read line by line as bytes, so a line that is not UTF-8 is named
    without losing the rest; the header is line 1."""

    refuse_nul = False  # set for a PostgreSQL store, whose text cannot hold NUL

    def __init__(self, path: Path):
        self.path = path
        with _open(path) as handle:
            first = next(_lines(handle), b"")
        if first.startswith(codecs.BOM_UTF8):
            first = first[len(codecs.BOM_UTF8):]
        try:
            text = first.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"{path}: line 1 (the header) is not UTF-8 text") from None
        if not text.strip():
            raise UsageError(f"{path} is empty: a CSV file starts with a header row of field names")
        try:
            header = next(csv.reader([text], strict=True))
        except csv.Error as err:
            raise UsageError(f"{path}: line 1 (the header): not valid CSV ({err})") from None
        self.columns = [c.strip().lower() for c in header]

    @property
    def kind(self) -> str:
        return "owners" if "handle" in self.columns else "cases"

    def header_problems(self, known: tuple[str, ...], required: tuple[str, ...]) -> list[str]:
        problems = []
        seen = set()
        for column in self.columns:
            if not column:
                problems.append("a column has no name")
            elif column in seen:
                problems.append(f"column '{column}' appears twice")
            elif column not in known:
                problems.append(f"unknown column '{column}'")
            seen.add(column)
        for column in required:
            if column not in seen:
                problems.append(f"missing required column '{column}'")
        return problems

    def records(self, progress: Progress) -> Iterator[Record]:
        bad_lines: list[int] = []

        def lines(handle):
            number = 0
            for raw in _lines(handle):
                number += 1
                progress.advance(len(raw))
                if number == 1 and raw.startswith(codecs.BOM_UTF8):
                    raw = raw[len(codecs.BOM_UTF8):]
                try:
                    yield raw.decode("utf-8")
                except UnicodeDecodeError:
                    bad_lines.append(number)
                    yield raw.decode("utf-8", "replace")

        # a description may hold 1 MiB; csv's default limit is 128 KiB (too long is a bad row)
        csv.field_size_limit(max(csv.field_size_limit(), 4 * 1024 * 1024))
        with _open(self.path) as handle:
            reader = csv.reader(lines(handle), strict=True)
            width = len(self.columns)
            try:
                next(reader)  # the header, checked already
                last = reader.line_num
                for row in reader:
                    start, last = last + 1, reader.line_num
                    if not row or (len(row) == 1 and not row[0].strip()):
                        continue
                    label = f"line {start}"
                    if bad_lines and bad_lines[-1] >= start:
                        yield Record(label, None, "not UTF-8 text (save the file as UTF-8)")
                        continue
                    if len(row) != width:
                        yield Record(label, None, f"has {len(row)} fields, the header has {width}")
                        continue
                    if self.refuse_nul and any("\x00" in field for field in row):
                        yield Record(label, None, "holds a NUL character (\\x00), which "
                                                  "PostgreSQL cannot store")
                        continue
                    yield Record(label, dict(zip(self.columns, row)))
            except csv.Error as err:
                raise UsageError(f"{self.path}: line {reader.line_num}: not valid CSV ({err})") from None


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE_OR_NUL_ESCAPE = re.compile(r"\\u(?:[dD][89a-fA-F]|0000)")


class Unreadable:
    """A record that decoded as JSON but cannot be text (see JsonStream.value)."""

    __slots__ = ("problem",)

    def __init__(self, problem: str):
        self.problem = problem


def lone_surrogate(value, nul: bool = False) -> str | None:
    """Where `value` (decoded JSON) holds half of a surrogate pair, said for a person;
    None when every string in it is text. Walked with a stack, not recursion: the value
    may be nested as deeply as the C parser allows."""
    stack = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            found = _first_surrogate(item, nul)
            if found is not None:
                return f"{path or 'the value'} holds \\u{ord(found):04x}, {_not_text(found)}"
        elif isinstance(item, dict):
            for key, member in item.items():
                found = _first_surrogate(key, nul)
                if found is not None:
                    return f"a key holds \\u{ord(found):04x}, {_not_text(found)}"
                stack.append((f"{path}.{key}" if path else key, member))
        elif isinstance(item, list):
            stack.extend((f"{path}[{i}]", member) for i, member in enumerate(item, start=1))
    return None


def _not_text(char: str) -> str:
    if char == "\x00":
        return "a NUL character, which PostgreSQL cannot store"
    return "half of a surrogate pair (not text)"


def _first_surrogate(text: str, nul: bool = False) -> str | None:
    """The first lone surrogate in `text` (and with `nul`, a NUL: PostgreSQL refuses it
    in text, SQLite keeps it as given)."""
    if nul and "\x00" in text:
        return "\x00"
    try:
        text.encode("utf-8")
        return None
    except UnicodeEncodeError as err:
        return text[err.start]


class JsonStream:
    """A JSON file read incrementally: one array element or object member at a time,
    decoded by the C parser, so an export of a million cases is never loaded whole."""

    _SPACE = re.compile(r"[ \t\n\r]*")

    def __init__(self, handle, path: Path, progress: Progress, refuse_nul: bool = False):
        self.refuse_nul = refuse_nul
        self.escapes = _SURROGATE_OR_NUL_ESCAPE if refuse_nul else _SURROGATE_ESCAPE
        self.handle = handle
        self.path = path
        self.progress = progress
        self.decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self.parser = json.JSONDecoder()
        self.buffer = ""
        self.pos = 0
        self.eof = False
        self.first = True

    def _fill(self) -> bool:
        if self.eof:
            return False
        chunk = self.handle.read(CHUNK)
        self.progress.advance(len(chunk))
        if self.first:
            self.first = False
            if chunk.startswith(codecs.BOM_UTF8):
                chunk = chunk[len(codecs.BOM_UTF8):]
        try:
            if chunk:
                text = self.decoder.decode(chunk)
            else:
                self.eof = True
                text = self.decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise UsageError(f"{self.path} is not UTF-8 text (save the file as UTF-8)") from None
        self.buffer = self.buffer[self.pos:] + text
        self.pos = 0
        return True

    def peek(self) -> str:
        while True:
            self.pos = self._SPACE.match(self.buffer, self.pos).end()  # type: ignore[union-attr]  # * matches
            if self.pos < len(self.buffer) or not self._fill():
                return self.buffer[self.pos:self.pos + 1]

    def expect(self, char: str, where: str) -> None:
        found = self.peek()
        if found != char:
            shown = repr(found) if found else "the end of the file"
            raise UsageError(f"{self.path}: not valid JSON: expected '{char}' {where}, found {shown}")
        self.pos += 1

    def value(self, where: str, record: bool = False):
        """The next JSON value. A lone surrogate in it (`"\\ud800"`: half of a character,
        which JSON allows and UTF-8 cannot store) makes a record an `Unreadable` one, a
        bad row; anywhere else it refuses the file."""
        self.peek()
        while True:
            try:
                value, end = self.parser.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError as err:
                if self._fill():
                    continue
                raise UsageError(f"{self.path}: {where} is not valid JSON ({err.msg})") from None
            except RecursionError:  # the C parser recurses once per level of nesting
                raise UsageError(f"{self.path}: {where} is nested too deeply to be a case") from None
            except ValueError as err:  # a number of more than 4300 digits
                raise UsageError(f"{self.path}: {where} is not valid JSON ({err})") from None
            if end == len(self.buffer) and self._fill():
                continue  # a number or literal may go on in the next chunk
            start, self.pos = self.pos, end
            # only an escape can make a surrogate (the decoder refuses encoded ones), so
            # the value is searched only when its text has one
            if self.escapes.search(self.buffer, start, end):
                problem = lone_surrogate(value, self.refuse_nul)
                if problem is not None:
                    if record:
                        return Unreadable(problem)
                    raise UsageError(f"{self.path}: {where}: {problem}")
            return value

    def items(self, what: str) -> Iterator[tuple[int, object]]:
        """(1-based position, value) for each element of the array that comes next."""
        self.expect("[", f"at the start of {what}")
        if self.peek() == "]":
            self.pos += 1
            return
        position = 0
        while True:
            position += 1
            yield position, self.value(f"{what} record {position}", record=True)
            found = self.peek()
            self.pos += 1
            if found == "]":
                return
            if found != ",":
                raise UsageError(f"{self.path}: not valid JSON after {what} record {position}")

    def members(self) -> Iterator[str]:
        """The keys of the object that comes next; the caller reads or skips each value."""
        self.expect("{", "at the start of the document")
        if self.peek() == "}":
            self.pos += 1
            return
        while True:
            key = self.value("a key of the document")
            if not isinstance(key, str):
                raise UsageError(f"{self.path}: not valid JSON (a key must be a string)")
            self.expect(":", f"after \"{key}\"")
            yield key
            found = self.peek()
            self.pos += 1
            if found == "}":
                return
            if found != ",":
                raise UsageError(f"{self.path}: not valid JSON after the value of \"{key}\"")

    def finish(self) -> None:
        if self.peek():
            raise UsageError(f"{self.path}: not valid JSON (more data after the end of the document)")


class JsonSource:
    """A JSON file: a list of cases, a list of owners, or an export document
    `{policy, owners, cases}`."""

    refuse_nul = False  # set for a PostgreSQL store, whose text cannot hold NUL

    def __init__(self, path: Path):
        self.path = path
        self.single = False
        self.one_pass = False
        with _open(path) as handle:
            stream = JsonStream(handle, path, Progress())
            start = stream.peek()
            if start == "[":
                self.kind = "cases"
                stream.expect("[", "")
                if stream.peek() == "{":
                    first = stream.value("record 1", record=True)
                    if isinstance(first, dict) and "handle" in first:
                        self.kind = "owners"
            elif start == "{":
                # an export document, or one case object (`esc show ID --json`)
                self.kind = "document"
                if stream.peek() == "{":
                    self._look_inside(stream)
            elif not start:
                raise UsageError(f"{path} is empty: expected a JSON list of cases or owners, "
                                 "or an esc export document")
            else:
                raise UsageError(f"{path}: expected a JSON list of cases or owners, "
                                 "or an esc export document {policy, owners, cases}")

    def _look_inside(self, stream: JsonStream) -> None:
        """Is it one case (`esc show ID --json`) rather than a document? And in a document,
        do the policy and owners come before the cases (as `esc export` writes them), so
        the cases can be checked in the same pass that reads them?"""
        self.one_pass = False
        before: set[str] = set()
        for key in stream.members():
            if not before and key not in DOCUMENT_KEYS:
                self.kind = "cases"
                self.single = True
                return
            if key == "cases":
                self.one_pass = {"policy", "owners"} <= before
                return
            before.add(key)
            stream.value(f'"{key}"')

    def sections(self, progress: Progress) -> Iterator[tuple[str, object]]:
        """(key, value) for each member of a document in file order; the value of "cases"
        is an iterator of its records, to be consumed before the next member is read."""
        with _open(self.path) as handle:
            stream = JsonStream(handle, self.path, progress, self.refuse_nul)
            for key in stream.members():
                if key == "cases":
                    records = (_json_record(f"cases record {position}", value)
                               for position, value in stream.items('"cases"'))
                    yield key, records
                    for _ in records:  # whatever the reader left
                        pass
                else:
                    yield key, stream.value(f'"{key}"')
            stream.finish()

    def records(self, progress: Progress, section: str | None = None) -> Iterator[Record]:
        """Every element of the top-level list, or of one section of a document."""
        with _open(self.path) as handle:
            stream = JsonStream(handle, self.path, progress, self.refuse_nul)
            if self.single:
                yield _json_record("record 1", stream.value("the case", record=True))
                stream.finish()
                return
            if section is None:
                for position, value in stream.items("the list"):
                    yield _json_record(f"record {position}", value)
                stream.finish()
                return
            for key in stream.members():
                if key == section:
                    for position, value in stream.items(f'"{key}"'):
                        yield _json_record(f"{key} record {position}", value)
                else:
                    stream.value(f'"{key}"')
            stream.finish()

    def document_parts(self, progress: Progress) -> dict:
        """The small sections of a document (everything but its cases), and which keys
        it has; the cases are skipped over, to be streamed later."""
        parts: dict = {"keys": []}
        with _open(self.path) as handle:
            stream = JsonStream(handle, self.path, progress, self.refuse_nul)
            for key in stream.members():
                parts["keys"].append(key)
                if key == "cases":
                    for _ in stream.items('"cases"'):
                        pass
                else:
                    parts[key] = stream.value(f'"{key}"')
            stream.finish()
        return parts


def _json_record(label: str, value) -> Record:
    if isinstance(value, Unreadable):
        return Record(label, None, value.problem)
    if not isinstance(value, dict):
        return Record(label, None, f"must be an object, got {type(value).__name__}")
    return Record(label, value)


def open_source(path: Path):
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return CsvSource(path)
    if suffix == ".json":
        return JsonSource(path)
    raise UsageError(f"cannot tell the format of {path}: name it .csv or .json")


# -- import --------------------------------------------------------------------------------

class Importer:
    """One import inside one transaction: check everything, then write everything."""

    def __init__(self, env, conn, source, on_error: ErrorSink, progress: Progress):
        from esc_cli.services import Policies
        from esc_cli.store import bulk, people

        self.env = env
        self.conn = conn
        self.source = source
        self.on_error = on_error
        self.progress = progress
        self.pols = Policies(conn)
        self.policy = self.pols.current
        self.owners = {o.handle: o for o in people.list_owners(conn)}
        self.store_cases = bulk.case_count(conn)
        self.bad = 0
        self.summary = {"file": str(source.path), "kind": source.kind, "dry_run": False,
                        "cases": 0, "events": 0, "owners": 0, "policy_versions": 0,
                        "rules_fired": 0, "notifications": 0}
        self.new_owners: list = []
        self.versions: list[tuple] = []
        self.restore_policy = False
        self.ids: dict[int, str] = {}
        self.max_file_id = 0
        self.checked_cases = 0
        self.kept: list | None = []

    def reject(self, label: str, reasons: list[str]) -> None:
        self.bad += 1
        self.on_error(label, reasons)

    def refusal(self) -> UsageError:
        """The error that ends an import with bad rows (each named already): nothing is
        written."""
        noun = "bad row" if self.bad == 1 else "bad rows"
        return UsageError(f"{self.bad} {noun} in {self.source.path}; nothing imported")

    def _pass(self, description: str, records: Iterator[Record]) -> Iterator[Record]:
        self.progress.start(description, self.source.path.stat().st_size)
        try:
            yield from records
        finally:
            self.progress.stop()

    # -- checking ----------------------------------------------------------------

    def check_owners(self, records: Iterator[Record]) -> None:
        from esc_cli.domain.records import check_owner

        seen: dict[str, str] = {}
        for record in records:
            if record.problem:
                self.reject(record.label, [record.problem])
                continue
            owner, reasons = check_owner(record.fields, self.policy)  # type: ignore[arg-type]  # no problem: fields
            if owner is not None and owner.handle in seen:
                reasons = [f"duplicate handle {owner.handle!r} (also {seen[owner.handle]})"]
            if reasons:
                self.reject(record.label, reasons)
                continue
            seen[owner.handle] = record.label  # type: ignore[union-attr]  # no reasons: an owner
            self.new_owners.append(owner)

    def checker(self):
        from esc_cli.domain.records import Checker

        owners = dict(self.owners)
        owners.update({o.handle: o for o in self.new_owners})
        versions = frozenset(v[0] for v in self.versions) if self.restore_policy else frozenset()
        return Checker(self.policy, owners, self.env.tz, self.env.now, versions)

    def check_cases(self, records: Iterator[Record], allow_events: bool) -> None:
        for case in self.checked_stream(records, allow_events):
            if self.kept is not None:
                self.kept.append(case)
                if len(self.kept) > KEEP_CHECKED:
                    self.kept = None

    def checked_stream(self, records: Iterator[Record], allow_events: bool):
        """Check each record; yield the good ones (bad ones go to `reject`)."""
        from esc_cli.domain.records import check_case
        from esc_cli.store import bulk

        checker = self.checker()
        pending: list[tuple[int, str]] = []

        def flush():
            if pending and self.store_cases:
                taken = bulk.existing_ids(self.conn, [i for i, _ in pending])
                for case_id, label in pending:
                    if case_id in taken:
                        self.reject(label, [f"id {case_id} is already a case in the store (ids must be new)"])
            pending.clear()

        for record in records:
            if record.problem:
                self.reject(record.label, [record.problem])
                continue
            case, reasons = check_case(record.fields, checker, allow_events)  # type: ignore[arg-type]
            if case is not None and case.id is not None:
                if case.id in self.ids:
                    reasons = [f"duplicate id {case.id} (also {self.ids[case.id]})"]
                else:
                    self.ids[case.id] = record.label
                    self.max_file_id = max(self.max_file_id, case.id)
                    pending.append((case.id, record.label))
                    if len(pending) >= BATCH:
                        flush()
            if reasons:
                self.reject(record.label, reasons)
                continue
            self.checked_cases += 1
            yield case
        flush()

    def check_keys(self, keys: list[str]) -> None:
        seen: set[str] = set()
        for key in keys:
            if key not in DOCUMENT_KEYS:
                self.reject("document", [f"unknown key \"{key}\" (an export has policy, owners and cases)"])
            elif key in seen:
                self.reject("document", [f"\"{key}\" appears twice"])
            seen.add(key)

    def check_document_parts(self, parts: dict) -> None:
        from esc_cli.domain.policy import parse_policy
        from esc_cli.domain.records import check_policy_version

        policy = parts.get("policy")
        if policy is not None:
            if isinstance(policy, str):
                policy = [{"version": 1, "toml": policy}]
            if not isinstance(policy, list):
                self.reject("policy", ["must be a list of versions {version, created_at, actor, toml}"])
                policy = []
            seen = set()
            for position, raw in enumerate(policy, start=1):
                version, reasons = check_policy_version(raw, position)
                if version is not None and version[0] in seen:
                    reasons = [f"duplicate version {version[0]}"]
                if reasons:
                    self.reject(f"policy record {position}", reasons)
                    continue
                # no reasons: a version
                seen.add(version[0])  # type: ignore[index]
                self.versions.append(version)  # type: ignore[arg-type]
            self.versions.sort()
            self.restore_policy = bool(self.versions) and self.store_cases == 0
            if self.restore_policy and not self.bad:
                self.policy = parse_policy(self.versions[-1][3])
        owners = parts.get("owners")
        if owners is not None:
            if not isinstance(owners, list):
                self.reject("owners", ["must be a list of owners"])
            else:
                self.check_owners(_json_record(f"owners record {i}", raw)
                                  for i, raw in enumerate(owners, start=1))

    # -- writing ------------------------------------------------------------------

    def write_owners(self) -> None:
        from esc_cli.store import bulk

        bulk.upsert_owners(self.conn, self.new_owners)
        self.summary["owners"] = len(self.new_owners)

    def write_policy(self) -> None:
        from esc_cli.services import Policies
        from esc_cli.store import bulk

        if self.restore_policy:
            bulk.replace_policy_versions(self.conn, self.versions)
            self.summary["policy_versions"] = len(self.versions)
            self.pols = Policies(self.conn)
            self.policy = self.pols.current

    def checked(self, records: Callable[[], Iterator[Record]], allow_events: bool):
        """The checked records again: from memory, or by reading the file once more."""
        from esc_cli.domain.records import check_case

        if self.kept is not None:
            self.progress.start("importing", len(self.kept))
            try:
                for case in self.kept:
                    yield case
                    self.progress.advance(1)
            finally:
                self.progress.stop()
            return
        checker = self.checker()
        for record in self._pass("importing", records()):
            case, reasons = check_case(record.fields, checker, allow_events)  # type: ignore[arg-type]
            if case is None:  # the store changed under us: impossible inside the write lock
                raise UsageError(f"{record.label}: {'; '.join(reasons)}")
            yield case

    def write_cases(self, checked_records) -> None:
        from esc_cli.store import bulk, people

        env = self.env
        bulk.prepare_bulk_write(self.conn)
        checker = self.checker()
        current = self.pols.current
        current_id = self.pols.current_id
        owners = checker.owners
        loads = people.loads(self.conn)
        channels = [c.name for c in current.channels]
        next_id = max(bulk.max_case_id(self.conn), self.max_file_id) + 1

        def lookup(handle):
            owner = owners.get(handle)
            return owner, loads.get(handle, 0) if owner else 0

        cases: list = []  # of Case
        event_rows: list[tuple] = []
        payloads: list[dict] = []

        def flush():
            bulk.insert_cases(self.conn, cases, event_rows, deferring)
            bulk.add_notifications(self.conn, payloads, channels, env.now)
            self.summary["cases"] += len(cases)
            self.summary["events"] += len(event_rows)
            self.summary["notifications"] += len(payloads)
            cases.clear()
            event_rows.clear()
            payloads.clear()

        with bulk.deferred_indexes(self.conn, self.defer_indexes()) as deferring:
            self._write_cases(checked_records, cases, event_rows, payloads, flush, next_id,
                              owners, loads, lookup, current, current_id)

    def defer_indexes(self) -> bool:
        return self.store_cases == 0 and self.source.path.stat().st_size >= DEFER_INDEXES_BYTES

    def _write_cases(self, checked_records, cases, event_rows, payloads, flush, next_id,
                     owners, loads, lookup, current, current_id) -> None:
        from esc_cli.domain import lifecycle, notices, rules
        from esc_cli.domain.model import UNRESOLVED
        from esc_cli.domain.records import case_of, history
        from esc_cli.store import bulk

        env = self.env
        for checked in checked_records:
            if checked.id is None:
                case_id, next_id = next_id, next_id + 1
            else:
                case_id = checked.id
            version = current_id
            if self.restore_policy and checked.policy_version is not None:
                version = checked.policy_version
            policy = self.pols.for_version(version)
            events = history(checked, env.user, env.now)
            case = case_of(checked, case_id, version)
            if checked.events is None and current.rules and case.state != "closed":
                before = case.priority
                case, fired = rules.apply_rules(case, events, current, env.now, lookup)
                if fired:
                    self.summary["rules_fired"] += 1
                    if case.priority != before:
                        case = replace(case, policy_version=current_id)
                        policy = current
                    events = events + fired
                    if any(e.kind == "escalated" for e in fired):
                        owner = owners.get(case.owner) if case.owner else None
                        payloads.extend(notices.notifications_for(
                            case, fired, owner.email if owner else None))
            case = lifecycle.settle(case, events, policy)
            if case.owner and case.state in UNRESOLVED:
                loads[case.owner] = loads.get(case.owner, 0) + 1
            cases.append(case)
            event_rows.extend(bulk.event_rows(case_id, events))
            if len(cases) >= BATCH:
                flush()
        flush()


def import_file(env, path: Path, *, dry_run: bool, on_error: ErrorSink,
                progress: Progress | None = None) -> dict:
    """Check every row of `path`, then (unless dry_run) import all of it in one transaction.
    Bad rows go to `on_error(label, reasons)`; any bad row raises UsageError and writes nothing."""
    progress = progress or Progress()
    source = open_source(path)
    store = env.store()
    # PostgreSQL text cannot hold NUL: a bad row there, in --dry-run as in the import
    source.refuse_nul = getattr(getattr(store, "path", None), "is_postgres", False)
    if dry_run:
        return _import(env, store.read(), path, source, True, on_error, progress)
    with _commit_not_interrupted() as guard:
        return _import(env, store.write(), path, source, False, on_error, progress, guard)


def import_stream(env, stream, *, dry_run: bool, on_error: ErrorSink,
                  progress: Progress | None = None) -> dict:
    """`esc import -`: the file comes down a pipe (`esc export --db a.db | esc import
    --db postgresql://…`). An import reads its file more than once (a document's small
    sections first, then its cases), so the stream is spooled to a private temporary
    file; its format is told by its first byte, as a pipe has no extension: JSON starts
    with `{` or `[`, anything else is CSV."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory(prefix="esc-import-") as folder:
        spooled = Path(folder) / "stdin"
        with open(spooled, "wb") as target:
            shutil.copyfileobj(stream, target, 1 << 20)
        with open(spooled, "rb") as source:
            head = source.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
        named = spooled.with_name("stdin.json" if head[:1] in (b"{", b"[") else "stdin.csv")
        spooled.rename(named)
        try:
            summary = import_file(env, named, dry_run=dry_run, on_error=on_error,
                                  progress=progress)
        except EscError as err:
            # the spool file is ours, not the user's: name what they gave
            err.message = err.message.replace(str(named), "standard input")
            raise
        summary["file"] = "-"
        return summary


class _CommitGuard:
    """Set by the import once every row is written: from then on a Ctrl-C waits until
    the COMMIT is over. SQLite finishes a COMMIT even when Python has a pending Ctrl-C,
    and a big import's COMMIT (writing its pages to the WAL) takes a good part of the
    run: a Ctrl-C raised after it would say "interrupted" about an import that is
    complete. A Ctrl-C that comes while the rows are still going in rolls back."""

    def __init__(self):
        self.armed = False
        self.interrupted = False

    def handler(self, signum, frame):
        if not self.armed:
            raise KeyboardInterrupt
        self.interrupted = True


@contextmanager
def _commit_not_interrupted():
    import signal
    import threading

    guard = _CommitGuard()
    if threading.current_thread() is not threading.main_thread():
        yield guard
        return
    try:
        previous = signal.signal(signal.SIGINT, guard.handler)
    except (ValueError, OSError):
        yield guard
        return
    try:
        yield guard
    finally:
        signal.signal(signal.SIGINT, previous)


def _import(env, transaction, path: Path, source, dry_run: bool, on_error: ErrorSink,
            progress: Progress, guard: _CommitGuard | None = None) -> dict:
    with transaction as conn:
        importer = Importer(env, conn, source, on_error, progress)
        importer.summary["dry_run"] = dry_run
        if dry_run or not _one_pass(source):
            _check(importer, source, progress)
        else:
            _check_header(importer, source)
        if importer.bad:
            raise importer.refusal()
        if dry_run:
            _count_checked(importer)
            return importer.summary
        if source.kind == "owners":
            importer.write_owners()
        elif _one_pass(source):
            # Every row gets an id from the store alone, so nothing in a later row changes
            # how an earlier one is written: check and write in the same pass, and let a
            # bad row roll the whole transaction back when the pass is over.
            from esc_cli.services import import_workers

            if import_workers.wanted(importer, source) and \
                    import_workers.write(importer, source, progress, importer.defer_indexes()):
                guard.armed = True  # type: ignore[union-attr]  # a write has its guard
                return importer.summary
            good = importer.checked_stream(importer._pass("importing", source.records(progress)), False)
            importer.write_cases(case for case in good if not importer.bad)
            if importer.bad:
                raise importer.refusal()
            guard.armed = True  # type: ignore[union-attr]
            return importer.summary
        elif source.kind == "cases":
            events_allowed = isinstance(source, JsonSource)
            importer.write_cases(importer.checked(lambda: source.records(progress), events_allowed))
        else:
            importer.write_policy()
            importer.write_owners()
            importer.write_cases(importer.checked(lambda: source.records(progress, "cases"), True))
        if guard is not None:
            guard.armed = True
        return importer.summary


def _one_pass(source) -> bool:
    """A CSV of cases without ids: each row's id comes from the store, never from a later
    row, so the rows can be checked and written in one pass (two for anything else: an
    id-less row is numbered after the file's highest id)."""
    return isinstance(source, CsvSource) and source.kind == "cases" and "id" not in source.columns


def _check_header(importer: Importer, source) -> bool:
    from esc_cli.domain.records import CASE_FIELDS, DERIVED_FIELDS, DERIVED_OWNER_FIELDS, OWNER_FIELDS

    if isinstance(source, CsvSource):
        if source.kind == "owners":
            problems = source.header_problems(OWNER_FIELDS + DERIVED_OWNER_FIELDS, ("handle",))
        else:
            known = tuple(f for f in CASE_FIELDS if f != "events") + DERIVED_FIELDS
            problems = source.header_problems(known, ("title", "customer", "priority"))
        if problems:
            importer.reject("line 1", problems)
            return False
    return True


def _check(importer: Importer, source, progress: Progress) -> None:
    if not _check_header(importer, source):
        return
    if source.kind == "owners":
        importer.check_owners(importer._pass("checking", source.records(progress)))
    elif source.kind == "cases":
        importer.check_cases(importer._pass("checking", source.records(progress)),
                             isinstance(source, JsonSource))
    elif source.one_pass:
        # policy and owners come first: check the cases as they stream past
        parts: dict = {"keys": []}
        progress.start("checking", source.path.stat().st_size)
        try:
            for key, value in source.sections(progress):
                parts["keys"].append(key)
                if key != "cases":
                    parts[key] = value
                    continue
                importer.check_document_parts(parts)
                if not importer.bad:
                    importer.check_cases(value, True)
            importer.check_keys(parts["keys"])
        finally:
            progress.stop()
    else:
        progress.start("reading", source.path.stat().st_size)
        try:
            parts = source.document_parts(progress)
        finally:
            progress.stop()
        importer.check_keys(parts["keys"])
        importer.check_document_parts(parts)
        if importer.bad:
            return
        importer.check_cases(importer._pass("checking", source.records(progress, "cases")), True)


def _count_checked(importer: Importer) -> None:
    summary = importer.summary
    summary["owners"] = len(importer.new_owners)
    summary["policy_versions"] = len(importer.versions) if importer.restore_policy else 0
    summary["cases"] = importer.checked_cases


# -- export ----------------------------------------------------------------------------------

def export(env, fmt: str, out, progress: Progress | None = None) -> dict:
    """Write the whole store to the text stream `out`: JSON (policy versions, owners, cases
    with their events) or CSV (case fields only). Returns counts."""
    from esc_cli.domain.documents import case_document, owner_document
    from esc_cli.domain.model import iso
    from esc_cli.services import Policies
    from esc_cli.store import bulk, people, policies

    fmt = fmt.lower()
    if fmt not in ("json", "csv"):
        raise UsageError(f"unknown format '{fmt}' (use json or csv)")
    progress = progress or Progress()
    store = env.store()
    counts = {"cases": 0, "events": 0, "owners": 0, "policy_versions": 0}
    with store.read() as conn:
        names = Policies(conn).tier_names()
        total = bulk.case_count(conn)
        progress.start("exporting", total)
        try:
            if fmt == "csv":
                writer = csv.writer(out, lineterminator="\n")
                writer.writerow(CSV_COLUMNS)
                for page in bulk.iter_case_pages(conn):
                    for case, _ in page:
                        doc = case_document(case, names, env.now)
                        writer.writerow([_csv_cell(doc[c]) for c in CSV_COLUMNS])
                    counts["cases"] += len(page)
                    progress.advance(len(page))
                return counts

            from esc_cli.text import json_escape

            def dumps(value) -> str:
                # as --json does: C1 controls and bidi overrides as \uXXXX, so an export
                # shown on a terminal cannot drive it; the value read back is the same
                return json_escape(json.dumps(value, ensure_ascii=False))

            versions = [{"version": v, "created_at": iso(at), "actor": actor, "toml": text}
                        for v, at, actor, text in policies.all_versions(conn)]
            loads = people.loads(conn)
            owners = [owner_document(o, loads.get(o.handle, 0)) for o in people.list_owners(conn)]
            counts["policy_versions"], counts["owners"] = len(versions), len(owners)
            out.write('{"format": ' + dumps(EXPORT_FORMAT) + ', "version": 1, "exported_at": '
                      + dumps(iso(env.now)) + ",\n")
            out.write(' "policy": [\n  ' + ",\n  ".join(dumps(v) for v in versions) + "\n ],\n")
            out.write(' "owners": [\n  ' + ",\n  ".join(dumps(o) for o in owners) + "\n ],\n")
            out.write(' "cases": [')
            separator = "\n  "
            for page in bulk.iter_case_pages(conn):
                lines = []
                for case, events in page:
                    lines.append(dumps(case_document(case, names, env.now, events)))
                    counts["events"] += len(events)
                out.write(separator + ",\n  ".join(lines))
                separator = ",\n  "
                counts["cases"] += len(page)
                progress.advance(len(page))
            out.write("\n ]\n}\n")
        finally:
            progress.stop()
    return counts


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)


# -- the demo ----------------------------------------------------------------------------------

DEMO_QUEUE_LIMIT = 15


def demo_target(into: str | None) -> tuple[Path, Path | None]:
    """The new store's path, and the temporary directory made for it (if one was)."""
    import tempfile

    if into is None:
        directory = Path(tempfile.mkdtemp(prefix="esc-demo-"))
        return directory / "esc.db", directory
    path = Path(into).expanduser()
    if path.exists() or path.is_symlink():
        raise UsageError(f"{path} already exists: --into takes a path for a new store",
                         hint="pick a path that does not exist, or leave --into out for a temporary one")
    if path.parent.exists() and not path.parent.is_dir():
        raise UsageError(f"{path.parent} is not a directory")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UsageError(f"cannot create {path.parent}: {err.strerror}") from None
    return path.absolute(), None


def _remove_demo(path: Path, directory: Path | None, notify_file: Path) -> None:
    """A demo that failed half-way leaves nothing behind: everything here is its own."""
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal"),
                     notify_file):
        try:
            leftover.unlink()
        except OSError:
            pass
    if directory is not None:
        try:
            directory.rmdir()
        except OSError:
            pass


def demo(env, into: str | None, progress: Progress | None = None) -> dict:
    """Load the sample desk into a new store, its timeline moved so that its "now" is
    env.now (the real time, or --now / ESC_NOW), sweep once, and return what the demo
    shows. Never opens env.db_path (ESC_DB / --db)."""
    import dataclasses
    import os
    import shlex
    import tempfile

    from esc_cli import services
    from esc_cli.domain.model import iso
    from esc_cli.env import parse_instant
    from esc_cli.errors import StoreError
    from esc_cli.services import sample as samples

    sample = samples.directory()
    meta = samples.meta(sample)
    shift = samples.shift_for(parse_instant(meta["now"], "UTC"), env.now)
    moved = json.dumps(samples.rebase(samples.cases(sample), shift), ensure_ascii=False)
    path, directory = demo_target(into)
    demo_env = dataclasses.replace(env, db_path=path, _store=None)
    # the moved cases are written here for import to read, and removed with it
    staging = tempfile.TemporaryDirectory(prefix="esc-demo-sample-")
    sources = {"cases.json": Path(staging.name) / "cases.json"}
    notify_file = path.with_name(path.stem + "-notifications.jsonl")
    problems: list[str] = []

    def sample_error(label: str, reasons: list[str]) -> None:
        problems.append(f"{label}: {'; '.join(reasons)}")

    try:
        sources["cases.json"].write_text(moved, encoding="utf-8")
        services.init_store(demo_env, (sample / "policy.toml").read_text(encoding="utf-8"))
        imported = {}
        for name in meta["files"]:
            try:
                imported[name] = import_file(demo_env, sources.get(name, sample / name), dry_run=False,
                                             on_error=sample_error, progress=progress)
            except UsageError as err:
                detail = problems[0] if problems else err.message
                raise StoreError(f"the sample data does not import: {name}: {detail}",
                                 hint="regenerate it with python sample_data/generate.py") from None
        swept = None
        try:
            from esc_cli.services import sweep as sweeping
        except ImportError:
            sweeping = None  # type: ignore[assignment]
        if sweeping is not None:
            # the sample policy's command channel appends each notification to this file
            saved = os.environ.get("ESC_DEMO_NOTIFY")
            os.environ["ESC_DEMO_NOTIFY"] = str(notify_file)
            try:
                swept = sweeping.sweep(demo_env)
            finally:
                if saved is None:
                    os.environ.pop("ESC_DEMO_NOTIFY", None)
                else:
                    os.environ["ESC_DEMO_NOTIFY"] = saved
        filters: dict[str, list] = {"state": []}
        queue = services.queue(demo_env, filters, "urgency", DEMO_QUEUE_LIMIT)
        from esc_cli.store import bulk

        with demo_env.store().read() as conn:
            unresolved = bulk.unresolved_count(conn)
        overdue = sweeping.overdue(demo_env) if sweeping is not None and hasattr(sweeping, "overdue") else None
        try:
            from esc_cli.services import report as reporting
        except ImportError:
            reporting = None  # type: ignore[assignment]
        dashboard = reporting.report(demo_env) if reporting is not None else None
    except BaseException:
        demo_env.close()
        _remove_demo(path, directory, notify_file)
        raise
    finally:
        demo_env.close()
        staging.cleanup()
    return {
        "db": str(path),
        "now": iso(demo_env.now),
        "sample_data": str(sample),
        "notifications_file": str(notify_file),
        "imported": imported,
        "sweep": swept,
        "unresolved": unresolved,
        "queue": queue,
        "overdue": overdue,
        "report": dashboard,
        "command": f"esc --db {shlex.quote(str(path))} queue",
    }
