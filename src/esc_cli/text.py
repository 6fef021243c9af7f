"""Untrusted text made safe to show: the cleaning every layer needs (views before a
console, services writing completion help or an export), so it lives below all of them."""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, and the bidi embeddings/overrides/isolates that can make text
# display differently from what it is. Newline and tab are kept only in multi-line text.
# Compiled on first use: most runs print only plain ASCII, which clean() passes untouched.
_PATTERNS = {
    "ansi": (
        r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI ... final
        r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL or ST
        r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC strings
        r"|\x1b[@-Z\\-_]"  # other two-byte escapes
        r"|\x9b[0-?]*[ -/]*[@-~]"
    ),
    # U+2028/U+2029 end a line for Unicode (and for str.splitlines): an error must stay
    # one line, and a field one row
    "single": "[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u2028\u2029]",
    "multi": "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u2028\u2029]",
}
_COMPILED: dict = {}


def _pattern(name: str):
    compiled = _COMPILED.get(name)
    if compiled is None:
        compiled = _COMPILED[name] = re.compile(_PATTERNS[name])
    return compiled


JSON_UNSAFE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u2028\u2029]")


def clean(text, multiline: bool = False) -> str:
    """Untrusted text made safe to print: escape sequences and control characters
    removed; in single-line fields newlines and tabs become spaces."""
    if text is None:
        return ""
    value = text if type(text) is str else str(text)
    if value.isascii() and value.isprintable():
        # no escape, control, bidi or line-break character can be in it: the common case,
        # and a pipe of thousands of rows pays for the two regexes below otherwise
        return value
    value = _pattern("ansi").sub("", value)
    if multiline:
        return _pattern("multi").sub("", value)
    value = value.replace("\n", " ").replace("\t", " ").replace("\r", " ")
    return _pattern("single").sub("", value)


def json_escape(text: str) -> str:
    """JSON escapes C0 itself but passes C1 controls and bidi overrides through raw, which
    a terminal may act on; \\uXXXX keeps the value exactly as stored."""
    return JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class CsvWriter:
    """csv.writer for esc's CSV (export, report): "\n" line ends, and a row holding a
    carriage return written with every field quoted. Python's writer quotes a field only
    for the characters of its own line end, so a lone CR went out bare and a reader (esc
    import among them) took it for the end of the row."""

    def __init__(self, out):
        import csv

        self._plain = csv.writer(out, lineterminator="\n")
        self._quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)

    def writerow(self, row) -> None:
        cells = list(row)
        carriage = any(isinstance(cell, str) and "\r" in cell for cell in cells)
        (self._quoted if carriage else self._plain).writerow(cells)
