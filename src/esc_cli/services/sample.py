"""The sample desk `esc demo` loads, as installed with esc, moved to the present.

The package carries its own copy of the repository's `sample_data/` (policy.toml,
owners.csv, demo.json, and cases.json gzipped), so the demo works from a wheel as well as
from a checkout; `python sample_data/generate.py` writes both, and tests/test_demo.py
proves they hold the same data.

The sample's histories end at a fixed instant (`now` in demo.json). A demo that showed
them there would be weeks stale a month later, so `rebase` moves every instant in them
by the same amount, putting the sample's "now" at the demo's: each case keeps its age,
its history and its place in the queue, and the store then ages like a live desk.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from esc_cli.errors import NotFound

FILES = ("policy.toml", "owners.csv", "demo.json", "cases.json.gz")
# The instants in the sample are all written by `iso`: UTC, whole seconds, a Z.
_INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def directory() -> Path:
    """The sample data installed with esc."""
    here = Path(__file__).resolve().parents[1] / "sample_data"
    missing = [name for name in FILES if not (here / name).is_file()]
    if missing:
        raise NotFound(
            f"the sample data is incomplete: {', '.join(missing)} missing from {here}",
            hint="reinstall esc (pip install --force-reinstall esc-cli)",
        )
    return here


def meta(sample: Path) -> dict:
    return json.loads((sample / "demo.json").read_text(encoding="utf-8"))


def cases(sample: Path) -> list:
    import gzip

    return json.loads(gzip.decompress((sample / "cases.json.gz").read_bytes()).decode("utf-8"))


def shift_for(sample_now: int, now: int) -> int:
    """How far to move the sample so its "now" lands on `now`: whole minutes, so the
    stamps in its histories keep their round look (the demo then acts up to a minute
    after the sample's own "now")."""
    return (now - sample_now) // 60 * 60


def rebase(value, shift: int):
    """`value` (the sample's cases, as parsed JSON) with every instant in it moved by
    `shift` seconds: opened_at, each event's `at`, and the due times warnings and
    breaches record in `to`. Titles and notes never hold a bare instant, so a string is
    an instant exactly when it is one whole."""
    if not shift:
        return value
    from datetime import datetime, timezone

    from esc_cli.domain.model import iso

    def move(item):
        if isinstance(item, str):
            if not _INSTANT.fullmatch(item):
                return item
            instant = datetime.strptime(item, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
            return iso(int(instant.timestamp()) + shift)
        if isinstance(item, dict):
            return {key: move(inner) for key, inner in item.items()}
        if isinstance(item, list):
            return [move(inner) for inner in item]
        return item

    return move(value)
