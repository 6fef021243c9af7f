"""Bulk out: `esc export` (SPEC §4).

Export walks the store in pages inside one read transaction (a consistent snapshot)
and writes as it goes, so a million cases never sit in memory as one string.
"""

from __future__ import annotations

import json

from esc_cli.errors import UsageError
from esc_cli.services.sources import Progress

EXPORT_FORMAT = "esc-export"
EXPORT_VERSION = 1  # import refuses a document of a later version
CSV_COLUMNS = (
    "id",
    "title",
    "description",
    "customer",
    "category",
    "priority",
    "channel",
    "state",
    "tier",
    "tier_name",
    "team",
    "owner",
    "tags",
    "opened_at",
    "acknowledged_at",
    "resolved_at",
    "closed_at",
    "respond_by",
    "update_by",
    "resolve_by",
    "at_risk",
    "breached",
    "missed",
    "paused_since",
    "escalations",
    "reopened",
    "csat",
)


def export(env, fmt: str, out, progress: Progress | None = None) -> dict:
    """Write the whole store to the text stream `out`: JSON (policy versions, owners, cases
    with their events) or CSV (case fields only). Returns counts."""
    from esc_cli.domain.documents import case_document, owner_document
    from esc_cli.domain.model import iso
    from esc_cli.services.policies import Policies
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
                from esc_cli.text import CsvWriter

                writer = CsvWriter(out)
                writer.writerow(CSV_COLUMNS)
                for page in bulk.iter_case_pages(conn):
                    for case, _ in page:
                        doc = case_document(case, names, env.now)
                        if doc["state"] not in ("resolved", "closed"):
                            # a reopened case's score: a row has no history to say when
                            # it was given, and a csat on an open row is refused on import
                            # (the JSON export keeps it, with its feedback event)
                            doc["csat"] = None
                        writer.writerow([_csv_cell(doc[c]) for c in CSV_COLUMNS])
                    counts["cases"] += len(page)
                    progress.advance(len(page))
                return counts

            from esc_cli.text import json_escape

            def dumps(value) -> str:
                # as --json does: C1 controls and bidi overrides as \uXXXX, so an export
                # shown on a terminal cannot drive it; the value read back is the same
                return json_escape(json.dumps(value, ensure_ascii=False))

            versions = [
                {"version": v, "created_at": iso(at), "actor": actor, "toml": text}
                for v, at, actor, text in policies.all_versions(conn)
            ]
            loads = people.loads(conn)
            owners = [owner_document(o, loads.get(o.handle, 0)) for o in people.list_owners(conn)]
            counts["policy_versions"], counts["owners"] = len(versions), len(owners)
            out.write(
                '{"format": '
                + dumps(EXPORT_FORMAT)
                + ', "version": '
                + dumps(EXPORT_VERSION)
                + ', "exported_at": '
                + dumps(iso(env.now))
                + ",\n"
            )
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
