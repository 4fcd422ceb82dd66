"""Bounds on an untrusted input file (:class:`ReadLimits`), checked before anything large
is allocated, and overridable per run through ``TIANXIN_LIMIT_<NAME>``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from tianxin_analysis.errors import InputFileError


@dataclass(frozen=True)
class ReadLimits:
    """Bounds on an untrusted input file, checked before anything large is allocated.

    The defaults are generous: a national registry (about 600,000 enterprises by 20 columns,
    12 million cells, one sheet of an xlsx) passes. Each can be overridden per run through an
    environment variable ``TIANXIN_LIMIT_<NAME>`` (e.g. ``TIANXIN_LIMIT_MAX_CELLS=80000000``)
    or by passing ``limits=`` to :func:`read_sheets`. Documented in ``data/README.md``.

    ``max_cells``: cells of one sheet's used range (rows x columns as the reader lays them
    out; a lone cell at XFD1048576 makes a range of 1.7e10 cells, 512 GiB). ``max_inflated_bytes``:
    the XML of an xlsx once unzipped (a zip bomb inflates 10 MB into GBs).
    ``max_cell_chars``: characters of one cell (Excel's own limit is 32,767).
    ``max_yaml_bytes`` / ``max_yaml_aliases``: a targets (or clause) YAML file's size and the
    number of ``*alias`` references it may use (an alias bomb expands exponentially).
    """

    max_cells: int = 20_000_000
    max_inflated_bytes: int = 1 << 30
    max_cell_chars: int = 32_767
    max_yaml_bytes: int = 1 << 20
    max_yaml_aliases: int = 100

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ReadLimits:
        """The defaults, each overridden by ``TIANXIN_LIMIT_<NAME>`` when that is set."""
        env = os.environ if environ is None else environ
        values = {}
        for name in cls.__dataclass_fields__:
            text = env.get(f"TIANXIN_LIMIT_{name.upper()}")
            if text is None:
                continue
            try:
                values[name] = int(text.replace("_", "").replace(",", ""))
            except ValueError:
                raise InputFileError(
                    "读取上限设置不是整数", "read limit setting is not an integer",
                    found=f"TIANXIN_LIMIT_{name.upper()}={text!r}", expected="正整数 (a positive integer)",
                ) from None  # fmt: skip
        return cls(**values)

    def refuse(self, name: str, zh: str, en: str, found: int | str, limit: str) -> InputFileError:
        """The error naming ``name`` for a value ``found`` above the bound ``limit``."""
        bound = getattr(self, limit)
        return InputFileError(
            zh, en, file=name, found=f"{found:,}" if isinstance(found, int) else found,
            expected=f"不超过 at most {bound:,} (上限可由 override with TIANXIN_LIMIT_{limit.upper()})",
        )  # fmt: skip


DEFAULT_LIMITS = ReadLimits()


def _limits(limits: ReadLimits | None) -> ReadLimits:
    """The given read limits, or those of the environment (``ReadLimits.from_env``)."""
    return ReadLimits.from_env() if limits is None else limits
