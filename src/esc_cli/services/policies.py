"""The policy as one transaction reads it: each stored version parsed once, the
case's recorded version for its SLA targets and the current one for everything else."""

from __future__ import annotations

from esc_cli.domain.model import Case
from esc_cli.domain.values import replace
from esc_cli.errors import StoreError
from esc_cli.store import policies


class Policies:
    """Parsed policy versions for one transaction. SLA targets and calendars come from
    the case's recorded version; the ladder, close_after, rules, categories and channels
    always from the current one."""

    def __init__(self, conn):
        self.conn = conn
        self._parsed: dict[int, object] = {}
        self._current_id: int | None = None
        self.current_text = ""  # the current version's TOML, once current_id is read

    def _parse(self, version_id: int, text: str, document: str | None = None):
        from esc_cli.domain.policy import PolicyError, parse_policy

        if version_id not in self._parsed:
            try:
                self._parsed[version_id] = self._from_document(document) or parse_policy(text)
            except PolicyError as err:
                raise StoreError(
                    f"stored policy version {version_id} is invalid: {err}", hint="run esc doctor"
                ) from None
        return self._parsed[version_id]

    @staticmethod
    def _from_document(document: str | None):
        """The policy from its parsed copy; None when there is none or it is damaged (the
        TOML is the source of truth; doctor reports the copy)."""
        from esc_cli.domain.policy import PolicyError, policy_from_dict

        if document is None:
            return None
        try:
            return policy_from_dict(policies.decode_document(document))
        except (PolicyError, ValueError, TypeError, AttributeError, KeyError):
            return None

    @property
    def current_id(self) -> int:
        if self._current_id is None:
            self._current_id, self.current_text, document = policies.current_parsed(self.conn)
            self._parse(self._current_id, self.current_text, document)
        return self._current_id

    @property
    def current(self):
        return self._parsed[self.current_id]

    def for_version(self, version_id: int):
        current = self.current
        if version_id == self.current_id:
            return current
        row = policies.version_parsed(self.conn, version_id)
        if row is None:
            return current
        recorded = self._parse(version_id, *row)
        return replace(
            recorded,
            tiers=current.tiers,
            close_after=current.close_after,
            rules=current.rules,
            channels=current.channels,
            categories=current.categories,
        )

    def every_version(self) -> dict:
        """{version id: for_version(id)} for every stored version, read now: a writer
        that hands the connection to another thread (an import) looks them up here."""
        return {row[0]: self.for_version(row[0]) for row in policies.all_versions(self.conn)}

    def for_case(self, case: Case):
        return self.for_version(case.policy_version)

    def tier_names(self) -> dict[int, str]:
        return {level: tier.name for level, tier in self.current.tiers.items()}
