"""Findings and the report a validation returns."""

from __future__ import annotations

from dataclasses import dataclass

from .common import ERROR, Problems


@dataclass(frozen=True)
class Finding:
    source: str
    line: int | None
    message: str
    severity: str  # "error" | "warning"

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.source}: {self.message}"
        return f"{self.source}:{self.line}: {self.message}"


@dataclass(frozen=True)
class ValidationReport:
    source: str
    records: int  # non-blank lines seen
    errors: tuple[Finding, ...]  # at most max_errors kept
    error_count: int  # total, including errors not kept
    warnings: tuple[Finding, ...]  # at most max_errors kept, like errors: memory stays flat
    total_estimated_tokens: int  # over valid records
    max_record_tokens: int  # over records whose schema is valid, including ones over the token limit
    bytes_read: int
    warning_count: int = 0  # total, including warnings not kept

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def render(self) -> list[str]:
        """Errors, then warnings (tagged, as compilers do), each list followed by a count of those left out."""
        lines = [str(f) for f in self.errors]
        if self.error_count > len(self.errors):
            lines.append(f"{self.source}: ... and {self.error_count - len(self.errors)} more errors")
        for f in self.warnings:
            where = self.source if f.line is None else f"{self.source}:{f.line}"
            lines.append(f"{where}: warning: {f.message}")
        hidden = max(self.warning_count, len(self.warnings)) - len(self.warnings)
        if hidden:
            lines.append(f"{self.source}: ... and {hidden} more warnings")
        return lines


class Collector:
    """Keeps the first max_kept findings of each severity and counts them all."""

    def __init__(self, source: str, max_kept: int) -> None:
        self.source = source
        self._max = max_kept
        self.errors: list[Finding] = []
        self.warnings: list[Finding] = []
        self.error_count = 0
        self.warning_count = 0
        self.stopped = False  # gave up before the end of the file

    def add(self, severity: str, line: int | None, message: str) -> None:
        if severity == ERROR:
            self.error_count += 1
            kept = self.errors
        else:
            self.warning_count += 1
            kept = self.warnings
        if len(kept) < self._max:
            kept.append(Finding(self.source, line, message, severity))
        elif line is None:
            # file-level findings (size, counts, early stop) come last and matter most: they displace a line's
            for i in range(len(kept) - 1, -1, -1):
                if kept[i].line is not None:
                    del kept[i]
                    kept.append(Finding(self.source, line, message, severity))
                    break

    def flush(self, line: int, out: Problems) -> bool:
        """Record a checker's problems for one line and clear them; True if any was an error."""
        before = self.error_count
        for severity, message in out:
            self.add(severity, line, message)
        out.clear()
        return self.error_count > before
