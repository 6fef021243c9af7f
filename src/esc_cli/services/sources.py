"""Reading import files: a CSV or JSON file streamed record by record, the checks every
text field passes on the way in (encoding, lone surrogates, NUL), and the progress the
import and export report as they go."""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path

from esc_cli.errors import NotFound, UsageError

CHUNK = 1 << 20
DOCUMENT_KEYS = ("policy", "owners", "cases", "format", "version", "exported_at", "now")


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


# The longest physical line a CSV may have: room for a row of several 1 MiB text fields
# (4 bytes a character at worst), and a bound on what one line holds in memory, so a
# file without line ends (/dev/zero, a binary file named .csv) is refused, not read whole.
MAX_LINE_BYTES = 16 * 1024 * 1024
# The largest single JSON value (one case with its events, or a document's owners):
# the parser retries a value from its start as each chunk arrives, so time grows with
# its square and the bound keeps a value that never ends from taking minutes.
MAX_JSON_VALUE = 64 * 1024 * 1024


def _lines(handle, path: Path | None = None) -> Iterator[bytes]:
    """The lines of a binary file, each with its ending, ended by LF, CRLF or a lone CR
    (old Mac files): csv wants lines as `newline=''` would give them, and a file read by
    LF alone hands it a CR-only file as one line it cannot parse."""
    number = 0
    while True:
        raw = handle.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE_BYTES:
            raise UsageError(
                f"{path or 'the file'}: line {number}: longer than "
                f"{MAX_LINE_BYTES // (1024 * 1024)} MiB (is it a CSV file?)"
            )
        # a CR anywhere but in a final CRLF or as the last byte: more than one line
        end = len(raw) - 2 if raw.endswith(b"\r\n") else len(raw) - 1
        if raw.find(b"\r", 0, end) != -1:
            parts = [part for part in _LONE_CR.split(raw) if part]
            number += len(parts) - 1
            yield from parts
        else:
            yield raw


class CsvSource:
    """A CSV file read line by line as bytes, so a line that is not UTF-8 is named
    without losing the rest; the header is line 1."""

    refuse_nul = False  # set for a PostgreSQL store, whose text cannot hold NUL

    def __init__(self, path: Path):
        self.path = path
        with _open(path) as handle:
            first = next(_lines(handle, path), b"")
        if first.startswith(codecs.BOM_UTF8):
            first = first[len(codecs.BOM_UTF8) :]
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
            for raw in _lines(handle, self.path):
                number += 1
                progress.advance(len(raw))
                if number == 1 and raw.startswith(codecs.BOM_UTF8):
                    raw = raw[len(codecs.BOM_UTF8) :]
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
                        name = next(c for c, f in zip(self.columns, row) if "\x00" in f)
                        yield Record(
                            label,
                            None,
                            f"{name} holds a NUL character (\\x00), which PostgreSQL cannot store",
                        )
                        continue
                    yield Record(label, dict(zip(self.columns, row)))
            except csv.Error as err:
                raise UsageError(
                    f"{self.path}: line {reader.line_num}: not valid CSV ({err})"
                ) from None


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
        # NaN and Infinity are Python's extension, not JSON: noted here, refused in value()
        self.constant: str | None = None
        self.parser = json.JSONDecoder(parse_constant=self._constant)
        self.buffer = ""
        self.pos = 0
        self.eof = False
        self.first = True

    def _constant(self, name: str) -> float:
        self.constant = self.constant or name
        return 0.0

    def _fill(self) -> bool:
        if self.eof:
            return False
        chunk = self.handle.read(CHUNK)
        self.progress.advance(len(chunk))
        if self.first:
            self.first = False
            if chunk.startswith(codecs.BOM_UTF8):
                chunk = chunk[len(codecs.BOM_UTF8) :]
        try:
            if chunk:
                text = self.decoder.decode(chunk)
            else:
                self.eof = True
                text = self.decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise UsageError(f"{self.path} is not UTF-8 text (save the file as UTF-8)") from None
        self.buffer = self.buffer[self.pos :] + text
        self.pos = 0
        return True

    def peek(self) -> str:
        while True:
            self.pos = self._SPACE.match(self.buffer, self.pos).end()  # type: ignore[union-attr]  # * matches
            if self.pos < len(self.buffer) or not self._fill():
                return self.buffer[self.pos : self.pos + 1]

    def expect(self, char: str, where: str) -> None:
        found = self.peek()
        if found != char:
            shown = repr(found) if found else "the end of the file"
            raise UsageError(
                f"{self.path}: not valid JSON: expected '{char}' {where}, found {shown}"
            )
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
                if len(self.buffer) - self.pos > MAX_JSON_VALUE:
                    raise UsageError(
                        f"{self.path}: {where} is larger than "
                        f"{MAX_JSON_VALUE // (1024 * 1024)} MiB (or never ends)"
                    ) from None
                if self._fill():
                    continue
                raise UsageError(f"{self.path}: {where} is not valid JSON ({err.msg})") from None
            except RecursionError:  # the C parser recurses once per level of nesting
                raise UsageError(
                    f"{self.path}: {where} is nested too deeply to be a case"
                ) from None
            except ValueError as err:  # a number of more than 4300 digits
                raise UsageError(f"{self.path}: {where} is not valid JSON ({err})") from None
            if end == len(self.buffer) and self._fill():
                continue  # a number or literal may go on in the next chunk
            start, self.pos = self.pos, end
            if self.constant is not None:
                constant = f"holds {self.constant}, which is not JSON (a number must be finite)"
                self.constant = None
                if record:
                    return Unreadable(constant)
                raise UsageError(f"{self.path}: {where} {constant}")
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
            self.expect(":", f'after "{key}"')
            yield key
            found = self.peek()
            self.pos += 1
            if found == "}":
                return
            if found != ",":
                raise UsageError(f'{self.path}: not valid JSON after the value of "{key}"')

    def finish(self) -> None:
        if self.peek():
            raise UsageError(
                f"{self.path}: not valid JSON (more data after the end of the document)"
            )


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
                raise UsageError(
                    f"{path} is empty: expected a JSON list of cases or owners, "
                    "or an esc export document"
                )
            else:
                raise UsageError(
                    f"{path}: expected a JSON list of cases or owners, "
                    "or an esc export document {policy, owners, cases}"
                )

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
                    records = (
                        _json_record(f"cases record {position}", value)
                        for position, value in stream.items('"cases"')
                    )
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
