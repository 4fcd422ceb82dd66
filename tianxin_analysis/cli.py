"""The ``tianxin`` command: thin wiring of library calls. Messages, never tracebacks.

Sub-commands run the pipeline steps; ``tianxin all`` runs them in order (the README's first
Quick start command ends here).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from . import _memory
from .errors import TianxinError
from .paths import PROCESSED_DIR, RAW_DIR, REPORTS_DIR, SHARED_REAL_DATA

DEFAULT_AS_OF = "2024-09"


def _as_of_month(text: str) -> str:
    """argparse type of --as-of: a month ``YYYY-MM`` (months 01-12)."""
    m = re.fullmatch(r"(\d{4})-(\d{1,2})", text.strip())
    if not m or not 1 <= int(m.group(2)) <= 12 or not 1900 <= int(m.group(1)) <= 2199:
        raise argparse.ArgumentTypeError(
            f"数据截至月份应为 YYYY-MM (as-of month must be YYYY-MM, e.g. 2024-09), got {text!r}"
        )
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}"


def _add_paths(p: argparse.ArgumentParser, *names: str) -> None:
    if "raw" in names:
        p.add_argument("--raw", type=Path, default=RAW_DIR, help="原始数据目录 raw data folder")
    if "processed" in names:
        p.add_argument("--processed", "--out", dest="processed", type=Path, default=PROCESSED_DIR,
                       help="清洗结果目录 processed data folder")  # fmt: skip
    if "reports" in names:
        p.add_argument("--reports", type=Path, default=REPORTS_DIR, help="输出目录 reports folder")
    if "as_of" in names:
        p.add_argument("--year", type=int, default=2024, help="计划年度 plan year")
        p.add_argument("--as-of", default=DEFAULT_AS_OF, type=_as_of_month,
                       help="数据截至月份 as-of month, YYYY-MM (default %(default)s)")  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tianxin",
        description="天心区科技创新工作目标监测 (Tianxin S&T work-plan monitoring)",
    )
    parser.add_argument("--quiet", action="store_true", help="不显示进度条 no progress bars")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("sample-data", help="生成模拟样本 write the synthetic sample exports")
    _add_paths(p, "raw")
    p.add_argument("--seed", type=int, default=2024)

    p = sub.add_parser("public-data",
                       help="由年鉴表生成公开序列 derive data/raw/public from the real yearbook tables")  # fmt: skip
    _add_paths(p, "raw")
    p.add_argument("--yearbook", type=Path, default=SHARED_REAL_DATA / "yearbook",
                   help="年鉴表目录 yearbook folder (default %(default)s)")  # fmt: skip

    p = sub.add_parser("clean", help="清洗原始数据 clean raw exports into tidy tables")
    _add_paths(p, "raw", "processed")

    p = sub.add_parser("forecast", help="预测各项目标 forecast every target")
    _add_paths(p, "raw", "processed", "reports", "as_of")

    p = sub.add_parser("report", help="生成简报 write the briefing pack")
    _add_paths(p, "raw", "processed", "reports", "as_of")

    p = sub.add_parser("notebooks", help="执行全部笔记本 execute every notebook")
    _add_paths(p, "reports")
    p.add_argument("--in-place", action="store_true",
                   help="执行并保存到 notebooks/ (developers) execute and save in place")  # fmt: skip

    p = sub.add_parser("all", help="清洗、预测、执行笔记本、生成简报 the whole monthly job")
    _add_paths(p, "raw", "processed", "reports", "as_of")
    return parser


def _run(args: argparse.Namespace) -> int:
    progress = not args.quiet
    if args.command == "sample-data":
        from .sample import write_sample

        written = write_sample(args.raw, seed=args.seed)
        print(
            f"已写入 {len(written)} 个模拟文件 wrote {len(written)} synthetic files to {args.raw}"
        )
        return 0
    if args.command == "public-data":
        from .data.public import write_annual_panels, write_public_series
        from .errors import InputFileError

        if not args.yearbook.is_dir():
            raise InputFileError("找不到年鉴表目录", "yearbook folder not found", file=str(args.yearbook),
                                 expected="../shared/real-data/yearbook")  # fmt: skip
        out = args.raw / "public"
        for path in (write_public_series(args.yearbook, out / "yearbook_series.csv"),
                     write_annual_panels(args.yearbook, out / "yearbook_panels.csv")):  # fmt: skip
            print(f"已写入 wrote {path}")
        return 0
    if args.command in ("clean", "all"):
        from .data import run_clean

        run = run_clean(args.raw, args.processed, progress=progress)
        print(run.summary_text())
        if not run.ok:
            return 1
        if args.command == "clean":
            return 0
    if args.command in ("forecast", "report", "all"):
        from .forecast import evaluate_targets
        from .targets import check_as_of, load_targets

        plan = load_targets(args.raw / "targets" / f"{args.year}.yaml")
        check_as_of(plan, args.as_of)
        evaluation = evaluate_targets(plan, args.processed, as_of=args.as_of)
        print(evaluation.summary_text())
        out = evaluation.write(args.reports)
        print(f"预测表 forecast table: {out}")
        if args.command == "forecast":
            return 0
    if args.command in ("notebooks", "all"):
        from .notebook_runner import execute_notebooks

        for line in execute_notebooks(args.reports / "notebooks",
                                      in_place=getattr(args, "in_place", False),
                                      progress=progress):  # fmt: skip
            print(line)
        if args.command == "notebooks":
            return 0
    if args.command in ("report", "all"):
        from .report import build_briefing

        written = build_briefing(evaluation, args.reports, progress=progress)
        if not progress:  # with progress, build_briefing prints its own summary
            print(f"简报已生成 briefing pack written: {len(written)} files in {args.reports}")
        return 0
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    _memory.configure_arrow_jemalloc()  # before anything loads pyarrow
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except TianxinError as exc:
        print(f"错误 error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("已中断 interrupted; 已有输出保持不变 (previous outputs are intact)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
