"""One `esc doctor` check's verdict: its problems by case, the hint, what a repair did,
and the line of the report it becomes."""

from __future__ import annotations

from dataclasses import dataclass, field

SHOWN_PROBLEMS = 20


@dataclass
class Check:
    name: str
    ok: bool = True
    summary: str = ""
    hint: str = ""
    problems: list[tuple[int | None, str]] = field(default_factory=list)
    repaired: str = ""
    stale_documents: list[int] = field(default_factory=list)  # policy: parsed copies to redo

    def fail(self, case_id: int | None, problem: str) -> None:
        self.ok = False
        self.problems.append((case_id, problem))

    def document(self) -> dict:
        cases = sorted({case_id for case_id, _ in self.problems if case_id is not None})
        detail = self.summary
        if self.problems:
            shown = [
                f"#{c}: {p}" if c is not None else p for c, p in self.problems[:SHOWN_PROBLEMS]
            ]
            more = len(self.problems) - len(shown)
            detail += " — " + "; ".join(shown) + (f"; and {more} more" if more > 0 else "")
        if self.hint and not self.ok:
            detail += f". What to do: {self.hint}"
        return {"name": self.name, "ok": self.ok, "detail": detail, "cases": cases}
