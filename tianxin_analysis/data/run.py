"""``run_clean``: every raw file of every kind -> processed tables, quarantine, reconciliation,
lineage. ``load_processed`` reads a processed table back.

Guarantees:

* every non-blank input row below the header ends in the clean table or in quarantine, never
  both and never neither (``reconciliation.csv``; a file that does not balance raises
  :class:`~tianxin_analysis.errors.ReconciliationError`);
* a file that cannot be read or lacks a required column is reported in ``CleanRun.failures``
  and the other files are still processed;
* the outputs are published as one set (:func:`tianxin_analysis.publish.publish`: written
  into a staging folder beside ``out_dir``, then swapped in whole with ``run.json``, under a
  lock that refuses a second writer), so a failed or killed run leaves the previous set;
* a kind with a file (or sheet) that failed keeps its last good table, partitions,
  quarantine and reconciliation rows untouched; ``lineage.json`` records the failure with
  ``kept_last_good`` and, under ``last_good``, the raw files that table came from;
* outputs depend only on the raw files: rerunning gives byte-identical CSV files.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from tqdm import tqdm  # plain text bar: no ipywidgets needed in notebooks

from .. import __version__, _arrowtext
from .._fs import (
    arrow_text,
    atomic_path,
    atomic_write_text,
    sha256_file,
)
from .._memory import arrow_pool_for_bulk_work, numpy_without_huge_pages
from ..errors import (
    EngineUnavailableError,
    InputFileError,
    ReconciliationError,
    SchemaError,
    printable,
)
from ..identifiers import _PROVINCES, _int_offsets
from ..io import read_sheets
from ..publish import Stage, publish
from .declaration import LINEAGE, tidy_types
from .engine import Engine, fast, reference
from .engine.fast.csv import _write_csv
from .engine.fast.sort import _sort
from .kinds import KINDS, SCHEMAS
from .quarantine import empty_quarantine as _empty_quarantine
from .revisions import Revisions, empty_revisions
from .rules import QUARANTINE_COLUMNS
from .sheets import PreparedSheet, prepare_sheet
from .synonyms import SYNONYMS_FILE, schemas_with_synonyms

RECONCILIATION_COLUMNS = (
    "kind", "source_file", "source_sheet", "header_rows", "rows_above_header", "rows_blank",
    "rows_read", "rows_clean", "rows_quarantined", "rows_revised", "balanced",
)  # fmt: skip


@dataclass(frozen=True)
class FileFailure:
    """A file (or one sheet of it) that could not be processed, with the reason."""

    kind: str
    file: str
    sheet: str
    message: str


@dataclass(frozen=True)
class SkippedInput:
    """A file or sheet deliberately not read (it would make the sources ambiguous), with
    the reason and how to read it anyway. Listed, never silent; not a failure."""

    kind: str
    file: str
    sheet: str
    message: str


@dataclass
class CleanRun:
    """What ``run_clean`` did. ``ok`` is False when any file failed."""

    raw_dir: Path
    out_dir: Path
    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    reconciliation: pd.DataFrame
    failures: list[FileFailure] = field(default_factory=list)
    outputs: list[Path] = field(default_factory=list)
    synthetic: bool = False
    revisions: pd.DataFrame = field(default_factory=lambda: empty_revisions())
    # Kinds with a failed file whose previously published outputs were kept (their rows in
    # ``quarantine``/``reconciliation`` are the previous run's; they are not in ``tables``).
    kept_last_good: list[str] = field(default_factory=list)
    run_id: str = ""
    skipped: list[SkippedInput] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary_text(self) -> str:
        """Per-file table: rows read / clean / quarantined / balanced, Chinese with English."""
        lines = [
            "清洗结果 cleaning summary"
            + ("（模拟数据 synthetic sample）" if self.synthetic else ""),
            f"{'类型 kind':<24}{'文件 file':<44}{'读入 read':>10}{'有效 clean':>11}"
            f"{'隔离 quarantined':>17}  平衡 balanced",
        ]
        rec = self.reconciliation
        if len(rec):
            by_file = rec.groupby(["kind", "source_file"], sort=False)[
                ["rows_read", "rows_clean", "rows_quarantined"]
            ].sum()
            balanced = rec.groupby(["kind", "source_file"], sort=False)["balanced"].all()
            for (kind, file), row in by_file.iterrows():
                name = printable(file.split("/", 1)[-1])
                lines.append(
                    f"{kind:<24}{name:<44}{row.rows_read:>10,}{row.rows_clean:>11,}"
                    f"{row.rows_quarantined:>17,}  {'是 yes' if balanced[(kind, file)] else '否 NO'}"
                )
            tot = rec[["rows_read", "rows_clean", "rows_quarantined"]].sum()
            lines.append(
                f"{'合计 total':<68}{tot.rows_read:>10,}{tot.rows_clean:>11,}{tot.rows_quarantined:>17,}"
            )
        if len(self.quarantine):
            counts = self.quarantine.groupby(["rule", "reason_zh"]).size()
            lines.append("隔离原因 quarantine by rule:")
            for (rule, zh), n in counts.items():
                lines.append(f"  {rule:<22}{zh:<24}{n:>6,}")
        if len(self.revisions):
            lines.append(f"修订 revisions: {len(self.revisions):,} 个数值以较新报表为准 "
                         "(later reports revise earlier values; see revisions.csv)")  # fmt: skip
        for s in self.skipped:
            where = printable(s.file + (" / " + s.sheet if s.sheet else ""))
            lines.append(f"跳过 SKIPPED {where}: {s.message}")
        for f in self.failures:
            where = printable(f.file + (" / " + f.sheet if f.sheet else ""))
            lines.append(f"未处理 FAILED {where}: {printable(f.message)}")
        for kind in self.kept_last_good:
            lines.append(
                f"保留上次清洗结果 kept the last good table of {kind} (未被替换 not replaced)"
            )
        lines.append(f"输出目录 output folder: {self.out_dir}")
        return "\n".join(lines)


# Files the operating system or an open Office program leaves in a folder: never data.
_SYSTEM_FILES = frozenset({"thumbs.db", "ehthumbs.db", "desktop.ini", ".ds_store", "icon\r"})
# Names a reader would take for a data file; a folder so named is refused by name.
_DATA_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".xlsb", ".et", ".ett", ".csv", ".txt",
                            ".htm", ".html"})  # fmt: skip


def _ignored(name: str) -> bool:
    """System files, ``~$`` lock files, hidden files and notes: skipped without a word."""
    return (
        name.lower() in _SYSTEM_FILES
        or name.startswith((".", "~$"))
        or name.lower().endswith(".md")
    )


@dataclass
class _RawListing:
    files: list[tuple[str, Path]] = field(default_factory=list)
    failures: list[FileFailure] = field(default_factory=list)
    skipped: list[SkippedInput] = field(default_factory=list)


def _raw_files(raw_dir: Path, kind: str, listing: _RawListing, include_subfolders: bool,
               base: Path | None = None) -> None:  # fmt: skip
    """Add the files of ``base/kind`` (``base``: ``raw_dir`` or a region's folder in it) to
    ``listing``: the data files directly in the folder; files in subfolders (an older export
    kept in ``旧版/``) are listed as skipped unless ``include_subfolders``; a folder named like
    a data file is a failure."""
    folder = (base or raw_dir) / kind
    if not folder.is_dir():
        return
    pending = [folder]
    while pending:
        current = pending.pop()
        for p in sorted(current.iterdir()):
            if _ignored(p.name):
                continue
            rel = p.relative_to(raw_dir).as_posix()
            if p.is_dir():
                if p.suffix.lower() in _DATA_SUFFIXES:
                    listing.failures.append(FileFailure(kind, rel, "", str(InputFileError(
                        "这是文件夹，名字却像数据文件，未读取",
                        "this is a folder named like a data file; not read", file=rel,
                        expected="把文件放在 data/raw/<类型>/ 下，文件夹改名 (put the export "
                        "itself there; rename the folder)"))))  # fmt: skip
                else:
                    pending.append(p)
            elif p.is_file():
                if current != folder and not include_subfolders:
                    listing.skipped.append(SkippedInput(kind, rel, "", (
                        "子文件夹中的文件未读取 (file in a subfolder not read: an older export?); "
                        "要读取请移到上一级或使用 include_subfolders=True (move it up a level "
                        "or pass include_subfolders=True)")))  # fmt: skip
                else:
                    listing.files.append((kind, p))


def _drop_identical(listing: _RawListing, raw_dir: Path) -> dict[Path, str]:
    """Skip every file byte-identical to another of its kind, listed with the file it repeats: the one
    kept is the shortest path (a copy's name has " - 副本" or "(1)" added), then the first in
    kind and name order. Only files of equal size are hashed; returns those hashes."""
    sizes: dict[tuple[str, int], list[Path]] = {}
    for kind, p in listing.files:
        size = p.stat().st_size
        if size:  # empty files are each reported as empty, not as copies of one another
            sizes.setdefault((kind, size), []).append(p)
    hashes = {p: sha256_file(p) for same in sizes.values() if len(same) > 1 for p in same}
    first: dict[tuple[str, str], Path] = {}
    for kind, p in sorted(listing.files, key=lambda job: len(str(job[1]))):  # stable
        if p in hashes:
            first.setdefault((kind, hashes[p]), p)
    kept = []
    for kind, p in listing.files:
        digest = hashes.get(p)
        if digest is not None and first[(kind, digest)] != p:
            listing.skipped.append(SkippedInput(kind, p.relative_to(raw_dir).as_posix(), "", (
                f"与 {first[(kind, digest)].relative_to(raw_dir).as_posix()} 内容完全相同，未重复读取 "
                "(byte-identical to that file; not read twice; pass include_duplicates=True "
                "to read both)")))  # fmt: skip
            continue
        kept.append((kind, p))
    listing.files = kept
    return hashes


# ------------------------------------------------------------------ regions of the raw folder

_REGION_HELP = ("每个区域一个文件夹 data/raw/<六位行政区划代码>/<类型>/，或单一区县的 "
                "data/raw/<类型>/，不能混用 (one folder per region, data/raw/<six-digit "
                "administrative code>/<kind>/, or the single-district data/raw/<kind>/; "
                "not both)")  # fmt: skip


def _is_region_code(name: str) -> bool:
    """Six ASCII digits whose first two are a province code (as in a credit code)."""
    return len(name) == 6 and name.isascii() and name.isdigit() and name[:2] in _PROVINCES


def _kind_folders(folder: Path) -> list[str]:
    """The kinds with a folder holding anything under ``folder``, in processing order."""
    return [k for k in KINDS if (folder / k).is_dir()
            and any(not _ignored(p.name) for p in (folder / k).iterdir())]  # fmt: skip


def region_codes(raw_dir: str | os.PathLike[str]) -> list[str] | None:
    """The regions of a many-region raw folder (``raw_dir/<code>/<kind>/…``, six-digit
    administrative codes, ascending), or None for the single-district layout
    (``raw_dir/<kind>/…``, no folder named by digits).

    Raises :class:`InputFileError` (Chinese, then English; nothing is read) for a folder
    mixing region folders with kind folders, a digit-named folder that is not a region
    code, and a region folder without any kind's folder.
    """
    raw_dir = Path(raw_dir)
    digits = sorted(p.name for p in raw_dir.iterdir() if p.is_dir() and p.name.isdigit())
    if not digits:
        return None
    if kinds := _kind_folders(raw_dir):
        raise InputFileError(
            "原始数据目录混用了区域文件夹和类型文件夹", "the raw folder mixes region folders "
            "with kind folders", file=str(raw_dir),
            found=f"{', '.join(digits[:3])} / {', '.join(kinds)}", expected=_REGION_HELP,
        )  # fmt: skip
    if unknown := [d for d in digits if not _is_region_code(d)]:
        raise InputFileError(
            "未知的区域代码（应为六位行政区划代码）", "unknown region code (a six-digit "
            "administrative division code was expected)", file=str(raw_dir / unknown[0]),
            found=", ".join(unknown), expected="如 430103 (天心区), 430104 (岳麓区)",
        )  # fmt: skip
    for code in digits:
        if not _kind_folders(raw_dir / code):
            found = sorted(p.name for p in (raw_dir / code).iterdir() if not _ignored(p.name))
            raise InputFileError(
                "区域文件夹中没有任何数据类型的文件夹", "the region folder holds no kind's "
                "folder", file=str(raw_dir / code), found=", ".join(found) or "空 empty",
                expected=f"{code}/<类型 kind>/…, 类型 kinds: {', '.join(KINDS)}",
            )  # fmt: skip
    return digits


@dataclass
class _Source:
    """One region's raw files (``region`` None: the single-district layout), listed."""

    region: str | None
    listing: _RawListing
    known: dict[Path, str]  # SHA-256 of the files hashed while listing


def _list_sources(raw_dir: Path, include_subfolders: bool,
                  include_duplicates: bool) -> list[_Source]:  # fmt: skip
    """Listing: the files of every kind of every region of ``raw_dir`` (one source without a
    region for the single-district layout), duplicates dropped within a region's kind."""
    sources = []
    for region in region_codes(raw_dir) or [None]:
        listing = _RawListing()
        base = raw_dir if region is None else raw_dir / region
        for kind in KINDS:
            _raw_files(raw_dir, kind, listing, include_subfolders, base)
        known = {} if include_duplicates else _drop_identical(listing, raw_dir)
        sources.append(_Source(region, listing, known))
    return sources


def run_clean(
    raw_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    progress: bool = True,
    *,
    include_subfolders: bool = False,
    include_duplicates: bool = False,
    include_hidden_sheets: bool = False,
    engine: str = "fast",
    workers: int = 2,
) -> CleanRun:
    """Clean every raw file of every kind in ``raw_dir`` into ``out_dir`` (see module doc).

    ``engine``: "fast" (the default; "local" is the same), "reference"
    (``data.engine.reference``, readable pandas, the same outputs byte for byte; slower on
    large registries) or "dask" (the fast engine, one region per task on ``workers`` Dask
    processes, from the ``[scale]`` extra; the same outputs byte for byte).

    ``raw_dir`` holds one district's exports (``<kind>/…``; tables as before, without a
    region) or many regions' (``<region code>/<kind>/…``, six-digit administrative codes):
    then every table, the quarantine and the reconciliation get a ``region`` column (text,
    first) and the tables are partitioned ``<kind>/region=<code>/year=<YYYY>/``.

    Ambiguous sources are listed in ``CleanRun.skipped`` (and ``lineage.json``) and not read,
    unless the matching option says so: files in subfolders of a kind's folder
    (``include_subfolders``), files byte-identical to another (``include_duplicates``),
    hidden sheets of a workbook (``include_hidden_sheets``). System files (Thumbs.db,
    desktop.ini, .DS_Store, ``~$`` lock files) are ignored silently; a folder named like a
    data file is a failure.

    Raises :class:`~tianxin_analysis.errors.OutputError` when another run is writing
    ``out_dir`` or it cannot take the outputs (full, read-only); nothing published changes;
    :class:`InputFileError` for a raw folder whose regions are laid out wrongly
    (:func:`region_codes`) and ``EngineUnavailableError`` when Dask is not installed.
    """
    options = _Options(include_hidden_sheets, workers)
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    if engine == "dask":
        _require_dask()
    raw = Path(raw_dir)
    sources = _list_sources(raw, include_subfolders, include_duplicates)  # before the lock
    with arrow_pool_for_bulk_work(), numpy_without_huge_pages(), \
            publish(out_dir, "clean") as stage:  # fmt: skip
        return _run_clean(raw, Path(out_dir), progress, stage, sources, options, engine)


@dataclass(frozen=True)
class _Options:
    include_hidden_sheets: bool = False
    workers: int = 2


def _require_dask() -> None:
    try:
        import dask  # noqa: F401
    except ImportError:
        extra = "pip install 'tianxin-analysis[scale]'"
        raise EngineUnavailableError(
            f"未安装 Dask 引擎，请运行 {extra}，或使用 --engine local "
            f"(the Dask engine is not installed: run {extra}, or use --engine local)"
        ) from None


@dataclass
class _Cleaned:
    """What cleaning one source's files gave: tables (kind -> rows, ``region`` first when the
    source has one), quarantine, reconciliation and lineage entries, revisions."""

    region: str | None
    tables: dict[str, pd.DataFrame]
    quarantine: list[pd.DataFrame]
    recon: list[dict]
    files: list[dict]
    failures: list[FileFailure]
    skipped: list[SkippedInput]
    revised: pd.DataFrame
    superseded: list[pd.DataFrame]


def _run_clean(raw_dir: Path, out_dir: Path, progress: bool, stage: Stage,
               sources: list[_Source], options: _Options, engine: str) -> CleanRun:  # fmt: skip
    """Per-source clean -> merge -> reconcile -> keep last good -> write (module doc)."""
    # Built-in header synonyms + data/raw/header_synonyms.yaml; a bad file stops the run here.
    schemas = schemas_with_synonyms(raw_dir)
    today = pd.Timestamp.today().normalize()
    if engine == "dask":
        parts = _clean_on_dask(raw_dir, sources, schemas, today, options, progress)
    else:
        parts = [_clean_source(raw_dir, s, schemas, today, options, ENGINES[engine],
                               progress) for s in sources]  # fmt: skip
    merged = _merge(parts)
    for entry in merged.files:
        stage.inputs[f"raw/{entry['path']}"] = entry["sha256"]
    merged.reconciliation = _reconcile(merged.recon, merged.tables, merged.quarantine,
                                       merged.superseded)  # fmt: skip
    kept = _keep_last_good(stage, merged)
    return _write_run(raw_dir, out_dir, stage, merged, kept, ENGINES[engine].write_csv)


def _clean_source(raw_dir: Path, source: _Source, schemas: dict, today: pd.Timestamp,
                  options: _Options, engine: Engine, progress: bool = False) -> _Cleaned:  # fmt: skip
    """Per-file clean of one source: every file read and its sheets prepared, then each
    kind's rows through ``engine`` (rules, dedupe, sort)."""
    revisions = Revisions(report_times={})
    read = _read_source(raw_dir, source, schemas, options, revisions, progress)
    tables, quarantine = _process_kinds(read.prepared, engine, today, revisions)
    if source.region is not None:
        tables = {k: _with_region(t, source.region) for k, t in tables.items()}
        quarantine = [_with_region(q, source.region) for q in quarantine]
        for row in read.recon:
            row["region"] = source.region
        for entry in read.files:
            entry["region"] = source.region
    revised = revisions.frame()
    return _Cleaned(source.region, tables, quarantine, read.recon, read.files,
                    [*source.listing.failures, *read.failures],
                    [*source.listing.skipped, *read.skipped], revised,
                    revisions.superseded)  # fmt: skip


def _with_region(frame: pd.DataFrame, region: str) -> pd.DataFrame:
    """``frame`` with a first column ``region`` (text) holding ``region`` on every row."""
    column = pd.Series(pd.array([region] * len(frame), dtype="str"), index=frame.index)
    return pd.concat([column.rename("region"), frame], axis=1)


@dataclass
class _ReadFiles:
    prepared: dict[str, list[PreparedSheet]]
    recon: list[dict] = field(default_factory=list)
    files: list[dict] = field(default_factory=list)
    failures: list[FileFailure] = field(default_factory=list)
    skipped: list[SkippedInput] = field(default_factory=list)


def _read_source(raw_dir: Path, source: _Source, schemas: dict, options: _Options,
                 revisions: Revisions, progress: bool) -> _ReadFiles:  # fmt: skip
    """Every file of ``source`` read and its sheets mapped to the kind's columns."""
    jobs = source.listing.files
    read = _ReadFiles(prepared={k: [] for k in KINDS})
    # The raw files' hashes are computed on a second thread while the files are parsed
    # (hashlib releases the GIL): lineage needs them only at the end.
    with ThreadPoolExecutor(max_workers=1) as hasher:
        hashes = [hasher.submit(str, source.known[path]) if path in source.known
                  else hasher.submit(sha256_file, path) for _, path in jobs]  # fmt: skip
        desc = "清洗 cleaning" + (f" {source.region}" if source.region else "")
        for (kind, path), sha in tqdm(zip(jobs, hashes, strict=True), total=len(jobs),
                                      desc=desc, unit="file", disable=not progress):  # fmt: skip
            entry = _read_file(raw_dir, kind, path, schemas[kind], options, revisions, read)
            entry["sha256"] = sha
        for entry in read.files:
            entry["sha256"] = entry["sha256"].result()
    return read


def _read_file(raw_dir: Path, kind: str, path: Path, schema, options: _Options,
               revisions: Revisions, read: _ReadFiles) -> dict:  # fmt: skip
    """One raw file: its sheets prepared into ``read`` (failures and skipped sheets too);
    returns its lineage entry."""
    rel = path.relative_to(raw_dir).as_posix()
    entry = {"path": rel, "kind": kind, "sha256": "",
             "size_bytes": path.stat().st_size, "synthetic": False, "sheets": [],
             "dropped_personal_columns": [], "unmapped_columns": []}  # fmt: skip
    read.files.append(entry)
    try:
        sheets = read_sheets(path, as_text=True)
    except (InputFileError, SchemaError) as exc:
        read.failures.append(FileFailure(kind, rel, "", str(exc)))
        entry["error"] = str(exc)
        return entry
    for raw in sheets:
        sheet = raw.sheet or ""
        if _all_missing(raw.grid):
            continue
        if raw.hidden and not options.include_hidden_sheets:
            read.skipped.append(SkippedInput(kind, rel, sheet, (
                "隐藏的工作表未读取 (hidden sheet not read: earlier figures?); 要读取请取消"
                "隐藏或使用 include_hidden_sheets=True (unhide it or pass "
                "include_hidden_sheets=True)")))  # fmt: skip
            continue
        try:
            prep = prepare_sheet(raw, rel, schema)
        except SchemaError as exc:
            read.failures.append(FileFailure(kind, rel, sheet, str(exc)))
            entry.setdefault("sheet_errors", []).append({"sheet": sheet, "error": str(exc)})
            continue
        read.prepared[kind].append(prep)
        _note_sheet(entry, path, sheet, prep, revisions)
        read.recon.append({"kind": kind, "source_file": rel, "source_sheet": sheet,
                           "header_rows": "+".join(str(r) for r in prep.header_rows),
                           "rows_above_header": prep.rows_above_header,
                           "rows_blank": prep.rows_blank, "rows_read": prep.rows_read})  # fmt: skip
    return entry


def _note_sheet(entry: dict, path: Path, sheet: str, prep: PreparedSheet,
                revisions: Revisions) -> None:  # fmt: skip
    """A prepared sheet's facts in its file's lineage entry."""
    if "report_date" not in entry:
        _note_report_date(entry, path, prep.title, revisions)
    entry["sheets"].append(sheet)
    entry["synthetic"] = entry["synthetic"] or prep.synthetic
    for key, columns in (("dropped_personal_columns", prep.dropped_personal),
                         ("unmapped_columns", prep.unmapped)):  # fmt: skip
        entry[key] += [c for c in dict.fromkeys(columns) if c not in entry[key]]


def _process_kinds(prepared: dict[str, list[PreparedSheet]], engine: Engine, today: pd.Timestamp,
                   revisions: Revisions) -> tuple[dict[str, pd.DataFrame], list[pd.DataFrame]]:  # fmt: skip
    """Each kind's prepared sheets through the engine: rules, dedupe, tidy types, sort."""
    tables: dict[str, pd.DataFrame] = {}
    quarantine: list[pd.DataFrame] = []
    for kind in KINDS:
        if not prepared[kind]:
            continue
        schema = SCHEMAS[kind]
        # The raw cells are not needed once processed: let them go before deduplicating.
        df, q, distinct = engine.process_rows(prepared.pop(kind), schema, today, consume=True)
        quarantine.append(q)
        if not len(df):
            continue
        df, q, in_order = engine.dedupe(kind, schema, df, distinct, revisions)
        distinct = None
        quarantine.append(q)
        tables[kind] = engine.sort(kind, tidy_types(schema, df), known_sorted=in_order)
    return tables, quarantine


def _clean_on_dask(raw_dir: Path, sources: list[_Source], schemas: dict, today: pd.Timestamp,
                   options: _Options, progress: bool) -> list[_Cleaned]:  # fmt: skip
    """:func:`_clean_source` of every source as one task of Dask's process scheduler (the
    fast engine in each), results in the sources' order."""
    import dask
    from dask.diagnostics import ProgressBar

    tasks = [dask.delayed(_clean_source)(raw_dir, s, schemas, today, options, fast.ENGINE)
             for s in sources]  # fmt: skip
    bar = ProgressBar(minimum=1) if progress else contextlib.nullcontext()
    with bar:
        return list(dask.compute(*tasks, scheduler="processes",
                                 num_workers=max(1, options.workers)))  # fmt: skip


@dataclass
class _Merged:
    """Every source's results together (tables concatenated by region, ascending)."""

    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    recon: list[dict]
    files: list[dict]
    failures: list[FileFailure]
    skipped: list[SkippedInput]
    revised: pd.DataFrame
    superseded: list[pd.DataFrame]
    regions: bool
    reconciliation: pd.DataFrame | None = None


def _merge(parts: list[_Cleaned]) -> _Merged:
    """Merge the sources: tables per kind (one source: as it is, no copy), quarantine sorted
    by kind, file, sheet and row, with the contract's dtypes."""
    tables = {}
    for kind in KINDS:
        frames = [p.tables[kind] for p in parts if kind in p.tables]
        if frames:
            tables[kind] = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    regions = any(p.region is not None for p in parts)
    revised = [f for f in _gather(parts, "revised") if len(f)]
    return _Merged(
        tables, _merged_quarantine(_gather(parts, "quarantine"), regions),
        _gather(parts, "recon"), _gather(parts, "files"), _gather(parts, "failures"),
        _gather(parts, "skipped"),
        pd.concat(revised, ignore_index=True) if revised else empty_revisions(),
        _gather(parts, "superseded"), regions,
    )  # fmt: skip


def _gather(parts: list[_Cleaned], name: str) -> list:
    """Attribute ``name`` of every part as one list (lists are joined, frames listed)."""
    out: list = []
    for part in parts:
        value = getattr(part, name)
        out += value if isinstance(value, list) else [value]
    return out


def _merged_quarantine(frames: list[pd.DataFrame], regions: bool) -> pd.DataFrame:
    """The quarantine rows of every source, by kind, file, sheet and row, text as ``str``."""
    q_all = [q for q in frames if len(q)]
    qframe = pd.concat(q_all, ignore_index=True) if q_all else _empty_quarantine()
    if regions and "region" not in qframe.columns:
        qframe = _with_region(qframe, "")  # no row: the column is there all the same
    text = {c: "str" for c in (*QUARANTINE_COLUMNS, "region")
            if c != "source_row" and c in qframe.columns}  # fmt: skip
    return (
        qframe.astype({"source_row": "int64"})
        .sort_values(["kind", "source_file", "source_sheet", "source_row"], kind="stable")
        .reset_index(drop=True)
        .astype(text)
    )


def _keep_last_good(stage: Stage, merged: _Merged) -> list[str]:
    """Merge with the last good: the kinds with a failed file whose previously published
    table is kept whole (their tables, quarantine and reconciliation rows are the published
    ones). Returns those kinds."""
    published = stage.dest
    kept = [k for k in dict.fromkeys(f.kind for f in merged.failures) if _has_table(published, k)]
    for kind in kept:
        merged.tables.pop(kind, None)
    merged.quarantine, merged.reconciliation = _with_previous_rows(
        published, kept, merged.quarantine, merged.reconciliation
    )
    # A kept kind's revisions are those of the failed attempt, not of its published table.
    revised = merged.revised
    merged.revised = revised[~revised["kind"].isin(kept)].reset_index(drop=True)
    # Every kind's outputs are rewritten as a whole or (a failed kind's) carried over whole;
    # the quarantine parquet of earlier versions (top level) is not carried over.
    stage.discard(*[p for kind in KINDS if kind not in kept for p in (kind, f"{kind}.csv")],
                  "quarantine.parquet")  # fmt: skip
    return kept


def _write_run(raw_dir: Path, out_dir: Path, stage: Stage, merged: _Merged, kept: list[str],
               write_csv) -> CleanRun:  # fmt: skip
    """Write: tables, quarantine, reconciliation, revisions and lineage into the stage."""
    work, published = stage.path, stage.dest
    previous = _read_lineage_quietly(published)
    written = _write_outputs(work, merged.tables, merged.quarantine, merged.reconciliation,
                             write_csv, stage.hashed)  # fmt: skip
    write_csv(merged.revised, work / "revisions.csv")
    written.append(work / "revisions.csv")
    written += [work / p.relative_to(published) for kind in kept
                for p in _table_files(published, kind)]  # fmt: skip
    last_good = {kind: _last_good(previous, kind) for kind in kept}
    synthetic = any(e["synthetic"] for e in merged.files)
    lineage = {
        "package": "tianxin-analysis",
        "package_version": __version__,
        "synthetic": synthetic
        or any(e.get("synthetic") for g in last_good.values() for e in g["raw_files"]),  # fmt: skip
        "raw_files": merged.files,
        "failures": [
            {**f.__dict__, "kept_last_good": f.kind in kept, **_region_of(f, merged)}
            for f in merged.failures
        ],  # fmt: skip
        "outputs": [p.relative_to(work).as_posix() for p in written] + ["lineage.json"],
        "run_id": stage.run_id,
        "last_good": last_good,
        "skipped": [{**s.__dict__, **_region_of(s, merged)} for s in merged.skipped],
        "header_synonyms": _synonyms_lineage(raw_dir),
    }
    if merged.regions:
        lineage["regions"] = sorted({e["region"] for e in merged.files})
    atomic_write_text(
        work / "lineage.json", json.dumps(lineage, ensure_ascii=False, indent=2) + "\n"
    )
    stage.extra["failures"] = lineage["failures"]
    outputs = [out_dir / p.relative_to(work) for p in written] + [out_dir / "lineage.json"]
    return CleanRun(raw_dir, out_dir, merged.tables, merged.quarantine, merged.reconciliation,
                    merged.failures, outputs, synthetic, revisions=merged.revised,
                    kept_last_good=kept, run_id=stage.run_id,
                    skipped=merged.skipped)  # fmt: skip


def _region_of(item: FileFailure | SkippedInput, merged: _Merged) -> dict[str, str]:
    """``{"region": code}`` for a failure or skipped input of a many-region run (the first
    folder of its path), else nothing."""
    return {"region": item.file.split("/", 1)[0]} if merged.regions else {}


def _note_report_date(entry: dict, path: Path, title: str, revisions: Revisions) -> None:
    """The date a raw file's report was made up to, from its file name or title (``截至…``,
    ``1-N月``), else the file's modification time; kept in its lineage entry and used to
    tell which of two reports revises the other."""
    from .coverage import report_date

    when, source = report_date(path.name), "file name"
    if when is None and (when := report_date("", title)) is not None:
        source = "title"
    if when is None:
        when, source = pd.Timestamp(path.stat().st_mtime, unit="s").floor("s"), "modification time"
    entry["report_date"] = when.isoformat()
    entry["report_date_source"] = source
    revisions.report_times[entry["path"]] = when


def _read_lineage_quietly(folder: Path) -> dict:
    """The lineage published before this run ({} when none or unreadable)."""
    try:
        return json.loads((folder / "lineage.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _partition_files(folder: Path, kind: str) -> list[Path]:
    """The parquet files of a kind's table: ``<partition>=Y/part-0.parquet`` (``year=``), or
    ``region=R/<partition>=Y/part-0.parquet`` for a many-region table; sorted."""
    kind_dir = folder / kind
    if not kind_dir.is_dir():
        return []
    partition = SCHEMAS[kind].partition
    return sorted([*kind_dir.glob(f"{partition}=*/part-0.parquet"),
                   *kind_dir.glob(f"region=*/{partition}=*/part-0.parquet")])  # fmt: skip


def _has_table(folder: Path, kind: str) -> bool:
    return bool(_partition_files(folder, kind))


def _table_files(folder: Path, kind: str) -> list[Path]:
    files = _partition_files(folder, kind)
    return files + ([folder / f"{kind}.csv"] if (folder / f"{kind}.csv").is_file() else [])


def _last_good(previous: dict, kind: str) -> dict:
    """Where the kept table of ``kind`` came from: the run and raw files of the last clean
    that published it (carried forward through consecutive failures)."""
    if kind in previous.get("last_good", {}):
        return previous["last_good"][kind]
    files = [
        e for e in previous.get("raw_files", []) if e.get("kind") == kind and not e.get("error")
    ]
    return {"run_id": previous.get("run_id", ""), "raw_files": files}


def _with_previous_rows(
    folder: Path, kept: Sequence[str], q: pd.DataFrame, rec: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``q`` and ``rec`` with the rows of the ``kept`` kinds replaced by the previously
    published ones, so that quarantine and reconciliation describe the tables published."""
    if not kept:
        return q, rec
    text = {c: "str" for c in (*QUARANTINE_COLUMNS, "region")
            if c != "source_row" and c in q.columns}  # fmt: skip
    q_path = folder / QUARANTINE_PARQUET
    try:
        # (earlier versions wrote the quarantine parquet at the top of the folder)
        q_old = pd.read_parquet(q_path if q_path.is_file() else folder / q_path.name)
        rec_old = pd.read_csv(folder / "reconciliation.csv", encoding="utf-8-sig",
                              keep_default_na=False,
                              dtype={c: "str" for c in ("region", *RECONCILIATION_COLUMNS[:4])})  # fmt: skip
    except (OSError, ValueError, pa.ArrowException):
        q_old, rec_old = q.iloc[:0], rec.iloc[:0]
    q = pd.concat([q.loc[~q["kind"].isin(kept)], q_old.loc[q_old["kind"].isin(kept)]],
                  ignore_index=True)  # fmt: skip
    q = (
        q.astype({"source_row": "int64", **text})
        .sort_values(["kind", "source_file", "source_sheet", "source_row"], kind="stable")
        .reset_index(drop=True)
    )
    # A table published before revisions were counted has no rows_revised column.
    columns = _columns_with_region(RECONCILIATION_COLUMNS, rec)
    rec_old = rec_old.reindex(columns=columns, fill_value=0)
    rec = pd.concat([rec.loc[~rec["kind"].isin(kept)], rec_old.loc[rec_old["kind"].isin(kept)]],
                    ignore_index=True)  # fmt: skip
    rec = rec.astype({c: "int64" for c in RECONCILIATION_COLUMNS[4:10]} | {"balanced": bool})
    order = {k: i for i, k in enumerate(KINDS)}
    rec = rec.sort_values("kind", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
    return q, rec[columns]


def _columns_with_region(columns: Sequence[str], frame: pd.DataFrame) -> list[str]:
    """``columns`` after ``region`` when ``frame`` has one (a many-region run)."""
    return ["region", *columns] if "region" in frame.columns else list(columns)


def _synonyms_lineage(raw_dir: Path) -> dict | None:
    """Path and hash of the header synonyms file the run used (None: there was none)."""
    path = raw_dir / SYNONYMS_FILE
    if not path.is_file():
        return None
    return {"path": SYNONYMS_FILE, "sha256": sha256_file(path)}


def _all_missing(grid: pd.DataFrame) -> bool:
    """No cell of ``grid`` holds a value (``grid.isna().all().all()``, which builds a bool
    frame of every cell: 25 ms at 10^6 rows). Arrow columns answer from their null count."""
    for i in range(grid.shape[1]):
        s = grid.iloc[:, i]
        if _arrowtext.is_arrow_text(s):
            if pa.array(s.array).null_count < len(s):
                return False
        elif not s.isna().all():
            return False
    return True


def _reconcile(recon: list[dict], tables: dict[str, pd.DataFrame], q: pd.DataFrame,
               superseded: Sequence[pd.DataFrame] = ()) -> pd.DataFrame:  # fmt: skip
    if not recon:
        return pd.DataFrame(columns=list(RECONCILIATION_COLUMNS))
    rec = pd.DataFrame(recon)
    keys = ["kind", "source_file", "source_sheet"]

    def sizes(frame: pd.DataFrame, name: str) -> pd.DataFrame:
        if len(frame) and all(_constant_text(frame[k]) for k in keys[1:]):
            # one file and sheet (a large export): one group, without hashing 10^6 rows
            one = {k: pd.Series([frame[k].iloc[0]], dtype="str") for k in keys[1:]}
            return pd.DataFrame({**one, name: np.array([len(frame)], dtype=np.int64)})
        by = frame[keys[1:]].astype(str)  # no-op for the str lineage columns
        return by.groupby(keys[1:], sort=False).size().rename(name).reset_index()

    # Counted per table (not over one concatenated frame with a kind column: 10^6 copies).
    clean_counts = [sizes(t, "rows_clean").assign(kind=k) for k, t in tables.items()]
    counted = [
        pd.concat(clean_counts, ignore_index=True)
        if clean_counts
        else pd.DataFrame(columns=[*keys, "rows_clean"]),
        q[keys].astype(str).groupby(keys).size().rename("rows_quarantined").reset_index(),
    ]
    gone = [f for f in superseded if len(f)]
    if gone:
        revised = pd.concat(gone, ignore_index=True)[keys]
        counted.append(revised.groupby(keys).size().rename("rows_revised").reset_index())
    for frame in counted:
        rec = rec.merge(frame, on=keys, how="left")
    if "rows_revised" not in rec.columns:
        rec["rows_revised"] = 0
    counts = ["rows_clean", "rows_quarantined", "rows_revised"]
    rec[counts] = rec[counts].fillna(0).astype("int64")
    rec["balanced"] = rec["rows_read"] == rec[counts].sum(axis=1)
    rec = rec[_columns_with_region(RECONCILIATION_COLUMNS, rec)]
    if not rec["balanced"].all():
        bad = rec.loc[~rec["balanced"]].iloc[0]
        raise ReconciliationError(
            f"行数不平衡 rows do not reconcile: {bad.source_file} / {bad.source_sheet}: "
            f"读入 read {bad.rows_read} != 有效 clean {bad.rows_clean} + 隔离 quarantined "
            f"{bad.rows_quarantined} + 被修订 revised {bad.rows_revised}"
        )
    return rec


# Side files that are not tables live here, out of every glob over the tables' folders
# (Spark, pyarrow and Dask skip folders starting with "_"; DuckDB globs say ``[!_]*``).
META_DIR = "_meta"
QUARANTINE_PARQUET = f"{META_DIR}/quarantine.parquet"


def _write_outputs(out_dir: Path, tables: dict[str, pd.DataFrame], q: pd.DataFrame,
                   rec: pd.DataFrame, write_csv=None, record=None) -> list[Path]:  # fmt: skip
    """Write the tables (partitions and CSV), the quarantine (``_meta/quarantine.parquet``
    and CSV) and the reconciliation into ``out_dir``; remove the tables of kinds not in
    ``tables``. Returns the files written. ``record``: called with each file once it is
    written (``Stage.hashed``), on a thread of its own while the others are written."""
    write_csv = write_csv or _write_csv
    out_dir.mkdir(parents=True, exist_ok=True)
    present = [kind for kind in KINDS if kind in tables]
    for kind in KINDS:
        if kind not in tables:
            # The raw folder holds nothing for this kind any more: remove stale outputs.
            if (out_dir / kind).is_dir():
                shutil.rmtree(out_dir / kind)
            (out_dir / f"{kind}.csv").unlink(missing_ok=True)
    # Two threads share the files: writing spends most of its time in Arrow kernels and file
    # writes, which release the GIL. The CSV files, the longest jobs (the quarantine's too:
    # 10^5 rows of object cells), are queued first so the year partitions fill the other
    # thread and then both.
    side = [(_write_parquet, q, QUARANTINE_PARQUET), (write_csv, q, "quarantine.csv"),
            (write_csv, rec, "reconciliation.csv")]  # fmt: skip
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="tianxin-write")
    try:
        jobs = {pool.submit(write_csv, tables[kind], out_dir / f"{kind}.csv"):
                out_dir / f"{kind}.csv" for kind in present}  # fmt: skip
        jobs[pool.submit(write_csv, q, out_dir / "quarantine.csv")] = out_dir / "quarantine.csv"
        parts = {kind: _submit_table(pool, out_dir / kind, tables[kind], SCHEMAS[kind].partition)
                 for kind in present}  # fmt: skip
        jobs.update({f: path for futures in parts.values() for path, f in futures.items()})
        jobs.update({pool.submit(write, frame, out_dir / name): out_dir / name
                     for write, frame, name in side if name != "quarantine.csv"})  # fmt: skip
        _finish_jobs(jobs, record)
    finally:
        # On an error, start no further file; the ones being written finish whole.
        pool.shutdown(wait=True, cancel_futures=True)
    written: list[Path] = []
    for kind in present:
        _remove_stale_partitions(out_dir / kind, parts[kind])
        written += [*parts[kind], out_dir / f"{kind}.csv"]
    return written + [out_dir / name for _, _, name in side]


def _finish_jobs(jobs: dict[Future, Path], record=None) -> None:
    """Wait for the writing ``jobs`` (future -> the file it writes); raise the first failure
    in queue order. ``record`` is called with each file as soon as its job is done, on one
    more thread (hashing the 10^6-row CSV while the partitions are still being written,
    instead of after them all)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tianxin-hash") as hasher:
        recorded = []
        for job in as_completed(jobs):
            if job.exception() is not None:
                break
            if record is not None:
                recorded.append(hasher.submit(record, jobs[job]))
        for job in jobs:  # raise the first failure in queue order
            if job.done():
                job.result()
        for done in recorded:
            done.result()


def _remove_stale_partitions(kind_dir: Path, parts: Sequence[Path]) -> None:
    """Remove the partition folders (``key=value``, one or two levels) of ``kind_dir`` that
    hold none of ``parts``."""
    keep = {p.parent for p in parts} | {p.parent.parent for p in parts}
    for stale in [*kind_dir.glob("*=*/*=*"), *kind_dir.glob("*=*")]:
        if stale not in keep and stale.is_dir():
            shutil.rmtree(stale)


def _submit_table(pool: ThreadPoolExecutor, kind_dir: Path, df: pd.DataFrame,
                  partition: str) -> dict[Path, Future]:  # fmt: skip
    """Queue the partitions of one table: ``kind_dir/<partition>=Y/``, or for a table with a
    ``region`` column ``kind_dir/region=R/<partition>=Y/`` (both without those columns)."""
    if "region" not in df.columns:
        return _submit_partitions(pool, kind_dir, df, partition)
    futures: dict[Path, Future] = {}
    for region, rows in sorted(df.groupby("region", sort=False).indices.items()):
        part = df.take(rows).drop(columns="region")
        futures.update(_submit_partitions(pool, kind_dir / f"region={region}", part, partition))
    return futures


def _submit_partitions(pool: ThreadPoolExecutor, kind_dir: Path, df: pd.DataFrame,
                       partition: str) -> dict[Path, Future]:  # fmt: skip
    """Queue ``kind_dir/<partition>=Y/part-0.parquet`` for each value Y (an integer, as a
    year) of ``df``'s partition column, ascending: its rows in ``df``'s order, without that
    column."""
    year = df[partition].to_numpy()
    # One stable sort instead of a full-frame comparison and filter per year; each job takes
    # its own rows, so only the partitions being written are copies.
    order = np.argsort(_small_ints(year), kind="stable")
    groups = np.split(order, np.flatnonzero(np.diff(year[order])) + 1) if len(order) else []
    body = df.drop(columns=partition)
    constant = [c for c in LINEAGE if c in body.columns and _constant_text(body[c])]
    # The frame as Arrow once (zero-copy for its Arrow columns), with the pandas metadata that
    # ``to_parquet(index=False)`` stores; every partition is a take of it.
    table = pa.Table.from_pandas(body, preserve_index=False)
    dictionary = _dictionary_columns(table)
    statistics = _statistics_columns(table, dictionary)
    parts = [kind_dir / f"{partition}={int(year[rows[0]])}" / "part-0.parquet" for rows in groups]
    # Largest first, so that the two threads finish together instead of one writing the
    # biggest year alone at the end; the returned jobs stay in year order.
    futures: dict[Path, Future] = {}
    for i in sorted(range(len(groups)), key=lambda i: -len(groups[i])):
        futures[parts[i]] = pool.submit(
            _write_partition, table, groups[i], parts[i], constant, dictionary, statistics
        )
    return {part: futures[part] for part in parts}


def _small_ints(v: np.ndarray) -> np.ndarray:
    """Integers ``v`` as int16 offsets from their minimum when their range fits (same order,
    same ties), for which numpy's stable argsort is a radix sort: 3x faster for the years
    of 10^6 rows than the merge sort of int64. Else ``v`` itself."""
    span = _int_offsets(v, np.iinfo(np.int16).max)
    return v if span is None else span[0].astype(np.int16)


def _constant_text(s: pd.Series) -> bool:
    """True for a pyarrow text column holding one value (no missing) in every row: the
    lineage columns of a kind read from one file and sheet."""
    if not _arrowtext.is_arrow_text(s) or not len(s):
        return False
    a = arrow_text(s.array)
    if a.null_count or a[0] != a[len(a) - 1] or a[0] != a[len(a) // 2]:
        return False  # (three probes settle most columns without a pass)
    return pc.all(pc.equal(a, a[0])).as_py()


# Tables with fewer rows keep the parquet writer's default (a dictionary for every column).
_DICTIONARY_SAMPLE = 20_000


def _dictionary_columns(table: pa.Table) -> bool | list[str]:
    """The columns worth parquet's dictionary encoding: all but those whose values (almost)
    never repeat, judged on an evenly spaced sample of rows.

    A dictionary of near-unique values (credit codes, certificate numbers, names, source
    rows) outgrows its 1 MB page and the writer falls back to plain encoding after hashing
    every value: 0.54 s of a 10^6-row registry's 0.86 s of partition writing, against
    0.43 s without those dictionaries, and the files are 10% smaller. The values read back
    the same either way; only the file bytes differ.
    """
    n = table.num_rows
    if n < 4 * _DICTIONARY_SAMPLE:
        return True
    sample = table.take(pa.array(np.arange(0, n, n // _DICTIONARY_SAMPLE)))
    keep = []
    for name, column in zip(sample.column_names, sample.columns, strict=True):
        present = len(column) - column.null_count
        if pc.count_distinct(column).as_py() <= 0.5 * present:
            keep.append(name)
    return keep


def _statistics_columns(table: pa.Table, dictionary: bool | list[str]) -> bool | list[str]:
    """The columns whose min/max the partitions record: all but the text columns that get no
    dictionary (near-unique names, codes, numbers), whose min and max span almost the whole
    alphabet in every file, so no reader can skip a file by them; comparing every such value
    was a sixth of the writing. ``dictionary``: :func:`_dictionary_columns`."""
    if dictionary is True:
        return True
    chosen = set(dictionary)
    return [
        field.name
        for field in table.schema
        if field.name in chosen
        or not (pa.types.is_string(field.type) or pa.types.is_large_string(field.type))
    ]


def _write_partition(
    table: pa.Table,
    rows: np.ndarray,
    target: Path,
    constant: Sequence[str] = (),
    dictionary: bool | list[str] = True,
    statistics: bool | list[str] = True,
) -> Path:
    """``table.take(rows)`` written to ``target`` as ``to_parquet`` writes it (snappy), with
    dictionary encoding for the columns in ``dictionary`` and min/max statistics for those in
    ``statistics``; a column in ``constant`` (one value in every row) is its first
    ``len(rows)`` rows instead, a slice rather than a copy of 10^5+ strings."""
    indices = pa.array(rows)
    columns = [
        column.slice(0, len(rows)) if name in constant else column.take(indices)
        for name, column in zip(table.column_names, table.columns, strict=True)
    ]
    part = pa.Table.from_arrays(columns, schema=table.schema)
    with atomic_path(target) as tmp:
        # Microsecond timestamps (the processed dates are days): Spark cannot read
        # TIMESTAMP(NANOS), which pyarrow writes for pandas' datetime64[ns] by default.
        pq.write_table(
            part, tmp, compression="snappy", use_dictionary=dictionary,
            write_statistics=statistics, coerce_timestamps="us",
        )  # fmt: skip
    return target


def _write_parquet(df: pd.DataFrame, target: Path) -> Path:
    with atomic_path(target) as tmp:
        df.to_parquet(tmp, index=False, coerce_timestamps="us")  # as _write_partition
    return target


def load_processed(kind: str, processed_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """A processed table: ``year`` int64, sorted by the kind's key and lineage. A table of
    many regions (``<kind>/region=<code>/year=<YYYY>/``) has a first column ``region``
    (text) and is sorted by region first.

    Raises :class:`InputFileError` when the table has not been written (run ``tianxin clean``).
    """
    if kind not in SCHEMAS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    kind_dir = Path(processed_dir) / kind
    parts = _partition_files(Path(processed_dir), kind)
    if not parts:
        raise InputFileError(
            "找不到清洗后的数据，请先运行 tianxin clean",
            "processed table not found; run `tianxin clean` first",
            file=str(kind_dir),
        )
    partition = SCHEMAS[kind].partition
    cols = [*SCHEMAS[kind].columns, *LINEAGE]
    frames = [_read_partition(part, kind_dir, cols, partition) for part in parts]
    df = pd.concat(frames, ignore_index=True)
    # Dates are stored in microseconds (_write_partition); the contract's dtype is ns.
    dates = {c: "datetime64[ns]" for c in cols if pd.api.types.is_datetime64_dtype(df[c])}
    if "region" not in df.columns:
        return _sort(kind, df[cols].astype({partition: "int64", **dates}))
    df = _sort(kind, df[["region", *cols]].astype({partition: "int64", "region": "str", **dates}))
    return df.sort_values("region", kind="stable", ignore_index=True)


def _read_partition(part: Path, kind_dir: Path, cols: list[str], partition: str) -> pd.DataFrame:
    """One partition file with its hive keys (``region=…``, ``<partition>=…``) as columns."""
    try:
        keys = dict(d.split("=", 1) for d in part.parent.relative_to(kind_dir).parts)
        frame = pd.read_parquet(part)
        frame[[c for c in cols if c != partition]]  # every column of the contract is there
        year = int(keys.pop(partition))
    except (OSError, ValueError, KeyError, pa.ArrowException) as exc:
        raise InputFileError(
            "清洗后的数据文件已损坏或不完整，请重新运行 tianxin clean",
            "a processed file is corrupt or incomplete; run `tianxin clean` again",
            file=str(part), found=str(exc).splitlines()[0][:160] if str(exc) else None,
        ) from None  # fmt: skip
    return frame.assign(**{partition: year}, **keys)


def read_lineage(processed_dir: str | os.PathLike[str]) -> dict | None:
    """``lineage.json`` of ``processed_dir`` (None when there is none).

    Raises :class:`InputFileError` naming the file when it is not valid JSON (garbled).
    """
    path = Path(processed_dir) / "lineage.json"
    if not path.is_file():
        return None
    try:
        lineage = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(lineage, dict):
            raise ValueError(f"a JSON object was expected, found {type(lineage).__name__}")
    except (OSError, ValueError) as exc:
        raise InputFileError(
            "清洗结果的来源记录已损坏，请重新运行 tianxin clean",
            "the processed data's lineage record is garbled; run `tianxin clean` again",
            file=str(path), found=str(exc)[:160],
        ) from None  # fmt: skip
    return lineage


def is_synthetic(processed_dir: str | os.PathLike[str]) -> bool:
    """True when any raw file behind ``processed_dir`` came from the synthetic sample.

    Missing lineage counts as synthetic: a chart without known provenance must not pass for
    real data.
    """
    lineage = read_lineage(processed_dir)
    return True if lineage is None else bool(lineage.get("synthetic", True))


# "local" and "dask" run the fast engine in this process or one region per Dask process.
ENGINES: dict[str, Engine] = {
    "fast": fast.ENGINE,
    "reference": reference.ENGINE,
    "local": fast.ENGINE,
    "dask": fast.ENGINE,
}
