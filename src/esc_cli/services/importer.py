"""One import's rows: each checked against the store and the policy, then written.

The Importer carries what the checks learn (new owners, policy versions, the file's
ids, the records kept for the write) over to the write, inside the one transaction
that importing.py opens; _Batch hands the new cases to the store a batch at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from esc_cli.domain.record_values import json_repr
from esc_cli.domain.values import replace
from esc_cli.errors import UsageError
from esc_cli.services.sources import DOCUMENT_KEYS, Progress, Record, _json_record

BATCH = 5000
# Files up to this many cases are parsed once: the checked records wait in memory for
# the write; larger ones are streamed again rather than held.
KEEP_CHECKED = 50_000
# An import file this big into a store without cases builds the indexes once at the end
# (bulk.deferred_indexes); a smaller one is over before that could pay.
DEFER_INDEXES_BYTES = 64 * 1024

ErrorSink = Callable[[str, list[str]], None]


class Importer:
    """One import inside one transaction: check everything, then write everything."""

    def __init__(self, env, conn, source, on_error: ErrorSink, progress: Progress):
        from esc_cli.services.policies import Policies
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
        self.summary = {
            "file": str(source.path),
            "kind": source.kind,
            "dry_run": False,
            "cases": 0,
            "events": 0,
            "owners": 0,
            "policy_versions": 0,
            "rules_fired": 0,
            "notifications": 0,
        }
        self.new_owners: list = []
        self.versions: list[tuple] = []
        self.restore_policy = False
        self.ids: dict[int, str] = {}
        self.max_file_id = 0
        self.checked_cases = 0
        self.kept: list | None = []
        self.policy_by_version: dict = {}

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
            owner, reasons = check_owner(record.fields, self.policy, self.typed)  # type: ignore[arg-type]  # no problem: fields
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
        return Checker(self.policy, owners, self.env.tz, self.env.now, versions, self.typed)

    @property
    def typed(self) -> bool:
        from esc_cli.services.sources import JsonSource

        return isinstance(self.source, JsonSource)

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
                        self.reject(
                            label,
                            [f"id {case_id} is already a case in the store (ids must be new)"],
                        )
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
        if not {"policy", "owners", "cases"} & set(keys):
            # `{}` or `{"format": ...}` alone: importing "nothing" would hide a wrong file
            self.reject(
                "document",
                [
                    "not an esc export: it has none of policy, owners, cases "
                    "(a list of cases or owners is a JSON array)"
                ],
            )
        seen: set[str] = set()
        for key in keys:
            if key not in DOCUMENT_KEYS:
                self.reject(
                    "document", [f'unknown key "{key}" (an export has policy, owners and cases)']
                )
            elif key in seen:
                self.reject("document", [f'"{key}" appears twice'])
            seen.add(key)

    def check_format(self, parts: dict) -> None:
        """An export names itself (`format`, `version`): another program's document, or
        a newer esc's, is refused rather than read as something it is not."""
        from esc_cli.services.export import EXPORT_FORMAT as FORMAT
        from esc_cli.services.export import EXPORT_VERSION as VERSION

        if "format" in parts and parts["format"] != FORMAT:
            self.reject("document", [f'format {json_repr(parts["format"])} is not "{FORMAT}"'])
        if "version" in parts:
            version = parts["version"]
            if type(version) is not int or version < 1:
                self.reject(
                    "document", [f"version must be a whole number, got {json_repr(version)}"]
                )
            elif version > VERSION:
                self.reject(
                    "document",
                    [f"version {version} is newer than this esc reads ({VERSION}): upgrade esc"],
                )

    def check_document_parts(self, parts: dict) -> None:
        from esc_cli.domain.policy import parse_policy
        from esc_cli.domain.records import check_policy_version

        policy = parts.get("policy")
        if policy is not None:
            if isinstance(policy, str):
                policy = [{"version": 1, "toml": policy}]
            if not isinstance(policy, list):
                self.reject(
                    "policy", ["must be a list of versions {version, created_at, actor, toml}"]
                )
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
                self.check_owners(
                    _json_record(f"owners record {i}", raw) for i, raw in enumerate(owners, start=1)
                )

    # -- writing ------------------------------------------------------------------

    def write_owners(self) -> None:
        from esc_cli.services.people import unassign_unresolved
        from esc_cli.store import bulk

        bulk.upsert_owners(self.conn, self.new_owners)
        self.summary["owners"] = len(self.new_owners)
        for owner in self.new_owners:
            if not owner.active and owner.handle in self.owners:
                # as `esc owner deactivate` does: an inactive owner keeps no open case
                unassign_unresolved(self.conn, self.env, self.pols, owner.handle)

    def write_policy(self) -> None:
        from esc_cli.services.policies import Policies
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

        bulk.prepare_bulk_write(self.conn)
        owners = self.checker().owners
        loads = people.loads(self.conn)
        channels = [c.name for c in self.pols.current.channels]
        next_id = max(bulk.max_case_id(self.conn), self.max_file_id) + 1
        # read before the writer takes the connection (PostgreSQL: another thread's)
        self.policy_by_version = self.pols.every_version()
        with (
            bulk.deferred_indexes(self.conn, self.defer_indexes(), one_process=True) as deferring,
            bulk.case_writer(self.conn, deferring, channels, self.env.now) as write_batch,
        ):
            batch = _Batch(write_batch, self.summary)
            for checked in checked_records:
                if checked.id is None:
                    case_id, next_id = next_id, next_id + 1
                else:
                    case_id = checked.id
                batch.add(*self._settled(checked, case_id, owners, loads))
            batch.flush()

    def defer_indexes(self) -> bool:
        return self.store_cases == 0 and self.source.path.stat().st_size >= DEFER_INDEXES_BYTES

    def _settled(self, checked, case_id: int, owners: dict, loads: dict[str, int]):
        """(case, its events, the notifications its rules raised) for a checked record:
        the current policy's rules applied to a new open case (picking owners by the
        `loads` the rows before it left), then settled under its policy version. The
        case counts in `loads` from here on."""
        from esc_cli.domain import lifecycle, notices, rules
        from esc_cli.domain.model import UNRESOLVED
        from esc_cli.domain.records import case_of, history

        env, current, current_id = self.env, self.pols.current, self.pols.current_id
        version = current_id
        if self.restore_policy and checked.policy_version is not None:
            version = checked.policy_version
        policy = self.policy_by_version.get(version, current)
        events = history(checked, env.user, env.now)
        case = case_of(checked, case_id, version)
        payloads: list[dict] = []
        if checked.events is None and current.rules and case.state != "closed":

            def lookup(handle):
                owner = owners.get(handle)
                return owner, loads.get(handle, 0) if owner else 0

            before = case.priority
            case, fired = rules.apply_rules(case, events, current, env.now, lookup)
            if fired:
                self.summary["rules_fired"] += 1
                if case.priority != before:
                    case = replace(case, policy_version=current_id)
                    policy = current
                earlier = len(events)
                events = events + fired
                if any(e.kind == "escalated" for e in fired):
                    owner = owners.get(case.owner) if case.owner else None
                    payloads = notices.notifications_for(
                        case, fired, owner.email if owner else None, earlier=earlier
                    )
        case = lifecycle.settle(case, events, policy)
        if case.owner and case.state in UNRESOLVED:
            loads[case.owner] = loads.get(case.owner, 0) + 1
        return case, events, payloads


class _Batch:
    """New cases, their event rows and the notifications their rules raised, handed to
    the writer (bulk.case_writer) BATCH cases at a time and counted in the summary."""

    def __init__(self, write, summary: dict):
        self.write, self.summary = write, summary
        self.cases: list = []  # of Case
        self.event_rows: list[tuple] = []
        self.payloads: list[dict] = []

    def add(self, case, events: list, payloads: list[dict]) -> None:
        from esc_cli.store import bulk_rows

        self.cases.append(case)
        self.event_rows.extend(bulk_rows.event_rows(case.id, events))
        self.payloads.extend(payloads)
        if len(self.cases) >= BATCH:
            self.flush()

    def flush(self) -> None:
        self.write(self.cases, self.event_rows, self.payloads)
        self.summary["cases"] += len(self.cases)
        self.summary["events"] += len(self.event_rows)
        self.summary["notifications"] += len(self.payloads)
        # the writer is done with them (it copies what it keeps): reused for the next batch
        self.cases.clear()
        self.event_rows.clear()
        self.payloads.clear()
