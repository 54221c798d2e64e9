"""What happened during a rehearsal, when, and by which component, printed in time order."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass
class Timeline:
    start: datetime = field(default_factory=lambda: datetime.now(UTC))
    entries: list[tuple[datetime, str, str]] = field(default_factory=list)

    def add(self, source: str, text: str, *, when: datetime | None = None) -> None:
        self.entries.append((when or datetime.now(UTC), source, text))

    def render(self) -> str:
        lines = [f"Timeline (mm:ss from {self.start.strftime('%H:%M:%S')} UTC)"]
        for when, source, text in sorted(self.entries, key=lambda e: e[0]):
            seconds = max(0, int((when - self.start).total_seconds()))
            lines.append(f"  {seconds // 60:02d}:{seconds % 60:02d}  {source:<8} {text}")
        return "\n".join(lines)
