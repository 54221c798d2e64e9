"""User-facing errors: every problem names where, what, and what is allowed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    source: str  # file (or other origin) the problem is in
    path: str  # dotted path inside it, e.g. jobs.support-bot.hyperparameters.epochCount
    message: str  # what is wrong and what is allowed

    def __str__(self) -> str:
        return ": ".join(part for part in (self.source, self.path, self.message) if part)


class UserError(Exception):
    """One or more mistakes in something a user wrote. Printed without a traceback."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]):
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class Problems:
    """Collects every problem in one pass so a user sees them all at once, not one per run."""

    def __init__(self, source: str):
        self.source = source
        self._items: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self._items.append(Problem(self.source, path, message))

    def extend(self, problems: Problems | list[Problem] | tuple[Problem, ...]) -> None:
        self._items.extend(problems._items if isinstance(problems, Problems) else problems)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __len__(self) -> int:
        return len(self._items)

    @property
    def items(self) -> tuple[Problem, ...]:
        return tuple(self._items)

    def raise_if_any(self) -> None:
        if self._items:
            raise UserError(self._items)


def show(value: object, limit: int = 80) -> str:
    """A short, quoted rendering of a bad value for messages."""
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= limit else text[: limit - 3] + "..."
