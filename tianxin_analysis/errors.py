"""One small exception hierarchy. Messages are Chinese first, then English.

Every error that reaches an analyst names the file, sheet, row and column where it can, what
was found and what was expected. The CLI prints ``str(err)`` and exits non-zero, never a
traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# C0 and C1 control characters (and DEL): an escape sequence in a file name can rewrite the
# analyst's terminal when printed.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_NOT_SPACE = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")


def printable(text: object, keep_whitespace: bool = False) -> str:
    """``text`` with every control character shown as an escape (``\\x1b``, ``\\n``);
    ``keep_whitespace``: tabs and line breaks stay as they are."""
    pattern = _CONTROL_NOT_SPACE if keep_whitespace else _CONTROL
    return pattern.sub(lambda m: repr(m.group())[1:-1], str(text))


class TianxinError(Exception):
    """Base class of every error the library raises on purpose."""


@dataclass(frozen=True)
class Location:
    """Where in the input a problem sits. Row numbers are 1-based spreadsheet rows."""

    file: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        parts = []
        if self.file is not None:
            parts.append(f"文件 file={printable(self.file)}")
        if self.sheet is not None:
            parts.append(f"工作表 sheet={printable(self.sheet)}")
        if self.row is not None:
            parts.append(f"行 row={self.row}")
        if self.column is not None:
            parts.append(f"列 column={self.column}")
        return ", ".join(parts)


class _LocatedError(TianxinError):
    """An error about a place in an input (file, sheet, row, column) with what was found and
    expected."""

    def __init__(
        self,
        zh: str,
        en: str,
        *,
        file: str | None = None,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
        found: object = None,
        expected: str | None = None,
    ) -> None:
        self.zh = zh
        self.en = en
        self.location = Location(file=file, sheet=sheet, row=row, column=column)
        self.found = found
        self.expected = expected
        super().__init__(self._compose())

    def _compose(self) -> str:
        """The message: Chinese (English), then the location, found and expected."""
        msg = f"{self.zh} ({self.en})"
        loc = str(self.location)
        if loc:
            msg += f" [{loc}]"
        if self.found is not None:
            msg += f"; 实际 found: {self.found!r}"
        if self.expected is not None:
            msg += f"; 应为 expected: {self.expected}"
        return msg


class InputFileError(_LocatedError):
    """A file cannot be read at all: missing, empty, corrupt, unknown format, wrong password."""


class SchemaError(_LocatedError):
    """A file was read but its shape is wrong: missing required column, unknown header."""


class TargetsFileError(_LocatedError):
    """The targets file of a plan year is missing or invalid."""


class OutputError(_LocatedError):
    """Outputs cannot be published: the folder is locked by another run, full, read-only,
    or its processed data is unreadable; what was published before stays as it was."""


class ReconciliationError(TianxinError):
    """Rows read != rows clean + rows quarantined: a row was lost or counted twice."""


class EngineUnavailableError(TianxinError):
    """An optional engine (Dask, Spark: the ``[scale]`` extra) is not installed."""
