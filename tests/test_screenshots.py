"""The pictures in the README (docs/img/*.svg) are what esc draws today: re-rendered
from the demo at the script's fixed --now and width, they must equal the committed
files byte for byte. When a view changes on purpose, run python scripts/screenshots.py
and commit the new pictures with the change."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _script():
    spec = importlib.util.spec_from_file_location("screenshots", ROOT / "scripts" / "screenshots.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_pictures_are_current():
    pictures = _script().render()
    assert sorted(pictures) == ["queue.svg", "report.svg"]
    for name, svg in pictures.items():
        committed = ROOT / "docs" / "img" / name
        assert committed.exists(), f"docs/img/{name} is missing: run python scripts/screenshots.py"
        assert committed.read_text() == svg, (
            f"docs/img/{name} is stale (the view changed): run python scripts/screenshots.py")


def test_pictures_show_the_views_a_person_reads():
    pictures = _script().render()
    # Rich's SVG holds the text with spaces as &#160;, one <text> per styled run.
    queue = pictures["queue.svg"].replace("&#160;", " ")
    report = pictures["report.svg"].replace("&#160;", " ")
    assert "esc queue" in queue and ">title" in queue and "over" in queue
    assert "Escalation report" in report and "Backlog age" in report
    assert "Daily trend" in report
