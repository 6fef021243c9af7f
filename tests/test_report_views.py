"""How the report looks: the Rich dashboard at 80 and 160 columns, --output, and the
HTML page as headless Chromium renders it."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser

import pytest
from rich.console import Console

from esc_cli.render.dashboard import dashboard
from tests.conftest import EscRunner, run_process

NOW = "2026-11-10T18:00:00Z"
HOSTILE = "[bold]Evil[/bold]\x1b[31m Corp\u202e"


@pytest.fixture(scope="module")
def esc(tmp_path_factory) -> EscRunner:
    esc = EscRunner(tmp_path_factory.mktemp("views") / "esc.db", now=NOW)
    esc.ok("init", now="2026-10-01T00:00:00Z")
    # the window is "this week" up to now: [Mon 9 Nov 00:00, Tue 10 Nov 18:00), so the
    # previous one is the 42 hours before. There: one case, answered and resolved in time.
    esc.ok("open", "old", "--customer", "Globex", "--priority", "high", now="2026-11-08T09:00:00Z")
    esc.ok("ack", "1", now="2026-11-08T09:20:00Z")
    esc.ok("resolve", "1", "--resolution", "done", now="2026-11-08T10:00:00Z")
    # this week: three opened, one resolved, one escalated, #3 never answered (due 12:00)
    esc.ok("open", "a", "--customer", HOSTILE, "--priority", "urgent", now="2026-11-09T08:00:00Z")
    esc.ok("ack", "2", now="2026-11-09T08:05:00Z")
    esc.ok("resolve", "2", "--resolution", "done", now="2026-11-09T09:00:00Z")
    esc.ok("feedback", "2", "--csat", "5", now="2026-11-09T10:00:00Z")
    esc.ok("open", "b", "--customer", "<script>alert(1)</script>", "--priority", "high",
           now="2026-11-09T11:00:00Z")
    esc.ok("escalate", "3", "--reason", "stuck", now="2026-11-09T12:00:00Z")
    esc.ok("open", "c", "--customer", "Globex", "--priority", "low", now="2026-11-10T12:00:00Z")
    return esc


WINDOW = ("--since", "this week")


def _render(doc: dict, width: int, by: str | None) -> str:
    console = Console(width=width, record=True, color_system=None, highlight=False)
    dashboard(console, doc, by, "UTC")
    return console.export_text()


@pytest.mark.parametrize("width", (60, 66, 80, 100, 110, 120, 140, 200))
def test_the_sla_table_never_cuts_a_figure(width, tmp_path):
    # the sample desk's times are long (`2h 28m / 4h 22m`): at 80 columns Rich cut every
    # pair ("4h 2…") and at 110 the table beside the backlog's ages cut even "urge…"; at
    # 60 the stacked table cut "100.…" and "1h 1…" (the times now get a table of their own)
    from pathlib import Path

    sample = Path(__file__).resolve().parents[1] / "sample_data"
    desk = EscRunner(tmp_path / "esc.db", now="2026-11-02T15:00:00Z")
    desk.ok("init", "--policy", str(sample / "policy.toml"))
    desk.ok("import", str(sample / "owners.csv"))
    desk.ok("import", str(sample / "cases.json"))
    lines = _render(desk.doc("report"), width, None).splitlines()
    start = lines.index(next(line for line in lines if "SLA and times by priority" in line))
    table = lines[start:lines.index(next(line for line in lines if "Backlog age" in line))]
    table = table or lines[start:start + 20]  # the ages beside the table
    assert all(len(line) <= width for line in lines)
    assert not any("…" in line for line in table), "\n".join(table)
    urgent = [line for line in table if line.startswith("urgent")]
    assert urgent and any("2h 28m" in line for line in urgent), "\n".join(table)
    assert any("2d 1h" in line for line in table)  # urgent resolve p90: a reopened case
    assert any("100.0%" in line for line in table)


@pytest.mark.parametrize("width", (80, 120))
def test_the_heading_never_wraps_mid_phrase(esc, width):
    """The window and "▲/▼ against …" share a line where it fits, else each has its
    own: never a phrase cut by the terminal's edge (a long zone name at 80 columns)."""
    doc = esc.doc("report", *WINDOW)
    console = Console(width=width, record=True, color_system=None, highlight=False)
    dashboard(console, doc, None, "America/Argentina/Buenos_Aires")
    lines = console.export_text().splitlines()
    window = "Sun 08 Nov 2026 21:00 → Tue 10 Nov 2026 15:00 (America/Argentina/Buenos_Aires)"
    against = "▲/▼ against the 1d 18h before"
    assert lines[0] == "Escalation report"
    if width >= len(window) + 3 + len(against):
        assert lines[1] == f"{window} · {against}"
    else:
        assert lines[1:3] == [window, against]


def test_dashboard_fits_80_columns(esc):
    doc = esc.doc("report", *WINDOW, "--by", "customer")
    text = _render(doc, 80, "customer")
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "Escalation report" in text
    assert "Mon 09 Nov 2026 00:00 → Tue 10 Nov 2026 18:00 (UTC)" in text
    # KPI tiles with their change against the previous window
    for title in ("Opened", "Resolved", "Backlog", "Escalation", "FCR", "CSAT",
                  "Response SLA", "Resolution SLA"):
        assert f"─ {title} ─" in text, title
    opened_tile = next(i for i, line in enumerate(lines) if "─ Opened ─" in line)
    assert lines[opened_tile + 1].split("│")[1].strip() == "3"
    assert lines[opened_tile + 2].split("│")[1].strip() == "▲ 2"  # 1 the week before
    assert lines[opened_tile + 3].split("│")[1].strip() == "was 1"
    assert "▼" in text  # response SLA fell from 100% to 50%
    # SLA per priority with human durations, aging bars, sparklines
    assert "SLA and times by priority" in text
    urgent = next(line for line in lines if line.startswith("urgent"))
    assert "100.0%" in urgent and "5m / 5m" in urgent and "1h / 1h" in urgent
    assert "Backlog age (2 open cases)" in text
    assert any(line.startswith("<1d") and "█" in line for line in lines)
    trend = [line for line in lines if line.startswith(("opened ", "resolved ", "escalated "))]
    assert len(trend) == 3 and all(any(c in line for c in "▁▂▃▄▅▆▇█") for line in trend)
    # the breakdown: untrusted names printed as text, never as markup or escapes
    assert "By customer" in text
    assert "\x1b" not in text and "\u202e" not in text
    # long names are cut to keep the columns; a wide terminal shows them whole
    assert "[bold]Evil[/bo" in text and "<script>alert" in text
    wide = _render(doc, 160, "customer")
    assert "[bold]Evil[/bold] Corp" in wide and "<script>alert(1)</script>" in wide


def test_dashboard_uses_a_wide_terminal(esc):
    doc = esc.doc("report", *WINDOW, "--by", "customer")
    narrow = _render(doc, 80, "customer")
    wide = _render(doc, 160, "customer")
    assert max(len(line) for line in wide.splitlines()) <= 160
    assert max(len(line) for line in wide.splitlines()) > 100
    # tiles sit five to a row and the SLA table shares its rows with the aging bars
    assert any("─ Opened ─" in line and "─ FCR ─" in line for line in wide.splitlines())
    assert any("SLA and times by priority" in line and "Backlog age" in line
               for line in wide.splitlines())
    assert len(wide.splitlines()) < len(narrow.splitlines())
    # columns the narrow breakdown had to drop are there on the wide one
    assert "(on a wider terminal also:" in narrow
    assert "(on a wider terminal also:" not in wide


def test_dashboard_without_activity_shows_dashes(esc):
    doc = esc.doc("report", "--since", "2026-06-01", "--until", "2026-06-07")
    text = _render(doc, 80, None)
    assert "–" in text and "By " not in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_output_writes_a_file_and_nothing_to_stdout(esc, tmp_path):
    target = tmp_path / "report.csv"
    result = esc.ok("report", *WINDOW, "--format", "csv", "--output", str(target))
    assert result.out == ""
    assert target.read_text().splitlines()[0].startswith("value,opened,resolved,backlog")
    # a table written to a file is the plain tables, not a terminal drawing
    table = tmp_path / "report.txt"
    esc.ok("report", *WINDOW, "--output", str(table))
    assert table.read_text().startswith("figure\tvalue\tprevious\n")
    # a directory the filesystem does not have is a path to change, as for export and backup
    bad = esc("report", "--output", str(tmp_path / "missing" / "r.html"), "--format", "html")
    assert bad.code == 2 and bad.err.startswith("error: cannot write")
    assert "directory" in bad.err and "does not exist" in bad.err


def test_output_paths_the_filesystem_refuses_exit_2(esc, tmp_path):
    plain = tmp_path / "a.json"
    plain.write_text("keep")
    under_a_file = esc("report", "--output", str(plain / "r.html"))
    assert under_a_file.code == 2
    assert under_a_file.err == f"error: cannot write {plain / 'r.html'}: {plain} is not a directory\n"
    assert plain.read_text() == "keep"
    folder = esc("report", "--output", str(tmp_path))
    assert folder.code == 2 and "is a directory" in folder.err


def test_csv_defuses_formulas_in_names(tmp_path):
    esc = EscRunner(tmp_path / "esc.db", now=NOW)
    esc.ok("init")
    esc.ok("open", "x", "--customer", "=HYPERLINK(\"http://x\")", "--priority", "low",
           now="2026-11-09T08:00:00Z")
    text = esc.ok("report", "--since", "this week", "--by", "customer", "--format", "csv").out
    assert text.splitlines()[1].startswith("\"'=HYPERLINK(\"\"http://x\"\")\",1,")


def test_json_flag_is_format_json_in_a_real_process(esc):
    result = run_process("--db", str(esc.db), "--now", NOW, "--tz", "UTC", "report",
                         *WINDOW, "--json")
    assert result.code == 0, result.err
    assert result.json()["opened"] == 3
    piped = run_process("--db", str(esc.db), "--now", NOW, "--tz", "UTC", "report", *WINDOW)
    assert piped.out.startswith("figure\tvalue\tprevious\n") and "\x1b" not in piped.out


# -- HTML in a real browser --------------------------------------------------------

class _Dom(HTMLParser):
    """Elements by id and the text inside each, from Chromium's serialised DOM."""

    def __init__(self):
        super().__init__()
        self.elements: list[tuple[str, dict]] = []
        self.text_by_id: dict[str, str] = {}
        self._open: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        if tag in ("circle", "line", "rect", "polyline", "meta", "br", "path"):
            # void or commonly self-closed in the serialisation
            if attributes.get("id"):
                self.text_by_id.setdefault(attributes["id"], "")
            return
        self._open.append(attributes.get("id"))
        if attributes.get("id"):
            self.text_by_id[attributes["id"]] = ""

    def handle_endtag(self, tag):
        if tag in ("circle", "line", "rect", "polyline", "meta", "br", "path"):
            return
        if self._open:
            self._open.pop()

    def handle_data(self, data):
        for element_id in self._open:
            if element_id:
                self.text_by_id[element_id] += data


def _chromium_dom(path, profile) -> str:
    browser = shutil.which("chromium")
    if browser is None:
        pytest.skip("chromium is not installed: run `sh .ci/browser` as root to install it "
                    "(Debian's chromium package) and run this HTML test")
    proc = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--dump-dom", path.as_uri()],
        capture_output=True, text=True, timeout=90,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.timeout(120)
def test_html_report_renders_kpis_and_both_charts(esc, tmp_path):
    page = tmp_path / "report.html"
    esc.ok("report", *WINDOW, "--by", "customer", "--format", "html", "--output", str(page))
    source = page.read_text()
    # one self-contained file: nothing fetched from anywhere
    for outside in ("http:", "https:", "<script", "<link", "src=", "@import", "url("):
        assert outside not in source, outside
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in source

    dom = _Dom()
    dom.feed(_chromium_dom(page, tmp_path / "profile"))
    texts = dom.text_by_id
    # KPIs: this week 3 opened (1 the week before), 1 resolved, 2 in the backlog
    assert "3" in texts["kpi-opened"] and "Opened" in texts["kpi-opened"]
    assert "▲ 2" in texts["kpi-opened"]
    assert "1" in texts["kpi-resolved"]
    assert "2" in texts["kpi-backlog"]
    assert "33.3%" in texts["kpi-escalation-rate"]
    assert "5.00" in texts["kpi-csat-avg"]
    assert "50.0%" in texts["kpi-response-sla-met"]
    # the trend chart: one line per series, a point per day (Mon..Tue: 2 days)
    assert any(tag == "svg" and a.get("id") == "trend-chart" for tag, a in dom.elements)
    series = [a["data-series"] for tag, a in dom.elements if tag == "polyline"]
    assert series == ["opened", "resolved", "escalated"]
    assert sum(1 for tag, a in dom.elements if tag == "circle") == 3 * 2
    # the aging chart: one bar per bucket with its count
    assert any(tag == "svg" and a.get("id") == "aging-chart" for tag, a in dom.elements)
    bars = {a["data-bucket"]: a["data-count"] for tag, a in dom.elements
            if tag == "rect" and "bar" in a.get("class", "")}
    assert bars == {"<1d": "1", "1-3d": "1", "3-7d": "0", ">7d": "0"}
    # the breakdown table, with hostile names as text
    assert "<script>alert(1)</script>" in texts["breakdown"]
    assert "[bold]Evil[/bold] Corp" in texts["breakdown"]
