"""Problems found in a city pack or an import, each naming the file, line and field."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where it is and what to do about it."""

    file: str
    message: str
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f", line {self.line}"
        if self.field:
            where += f", field {self.field!r}"
        return f"{where}: {self.message}"


class PackError(Exception):
    """The pack (or import) cannot be used; ``problems`` lists every reason found."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class Collector:
    """Gathers problems while a pack is read, so one run reports all of them."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, file: str, message: str, *, line: int | None = None, field=None) -> None:
        """Record one problem."""
        self.problems.append(Problem(file, message, line, field))

    def raise_if_any(self) -> None:
        """Stop with every problem found so far."""
        if self.problems:
            raise PackError(self.problems)
