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
# A what-if run (--target / --targets) writes here, under --reports, so the published
# briefing and forecast table are never overwritten by a scenario.
SCENARIO_SUBDIR = "scenario"


def _as_of_month(text: str) -> str:
    """argparse type of --as-of: a month ``YYYY-MM`` (months 01-12)."""
    m = re.fullmatch(r"(\d{4})-(\d{1,2})", text.strip())
    if not m or not 1 <= int(m.group(2)) <= 12 or not 1900 <= int(m.group(1)) <= 2199:
        raise argparse.ArgumentTypeError(
            f"数据截至月份应为 YYYY-MM (as-of month must be YYYY-MM, e.g. 2024-09), got {text!r}"
        )
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}"


def _target_value(text: str) -> tuple[str, float]:
    """argparse type of --target: ``id=value``."""
    from .targets import parse_target_value

    try:
        return parse_target_value(text)
    except TianxinError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _outputs(text: str) -> tuple[str, ...]:
    """argparse type of report --only: a comma-separated subset of the briefing outputs."""
    from .report import briefing_outputs

    try:
        return briefing_outputs(text)
    except TianxinError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_scenario(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", action="append", type=_target_value, default=[], metavar="ID=VALUE",
                   help="情景测算：临时改一个目标值，可重复 what-if target value, repeatable "
                        "(e.g. tech_contracts_count=4800); 计划文件不变 the plan file is not edited")  # fmt: skip
    p.add_argument("--targets", type=Path, metavar="FILE",
                   help="情景测算：YAML 文件，每行 目标代码: 数值 what-if values from a YAML file (id: value)")  # fmt: skip


def _add_paths(p: argparse.ArgumentParser, *names: str) -> None:
    if "raw" in names:
        p.add_argument("--raw", type=Path, default=RAW_DIR, help="原始数据目录 raw data folder")
    if "processed" in names:
        p.add_argument("--processed", "--out", dest="processed", type=Path, default=PROCESSED_DIR,
                       help="清洗结果目录 processed data folder")  # fmt: skip
    if "reports" in names:
        p.add_argument("--reports", type=Path, default=REPORTS_DIR, help="输出目录 reports folder")
    if "as_of" in names:
        p.add_argument("--year", type=int, default=None,
                       help="计划年度 plan year (default: the as-of month's year)")  # fmt: skip
        p.add_argument("--as-of", default=DEFAULT_AS_OF, type=_as_of_month,
                       help="数据截至月份 as-of month, YYYY-MM (default %(default)s)")  # fmt: skip
        p.add_argument("--use-last-good", action="store_true",
                       help="最近一次清洗失败的数据类型沿用上次成功的数据表 use the last good table "
                            "of a kind whose latest clean failed (its targets say so)")  # fmt: skip


def _add_clean_options(p: argparse.ArgumentParser) -> None:
    """Read what ``tianxin clean`` lists and skips by default (``data.run_clean(include_...)``)."""
    p.add_argument("--include-subfolders", action="store_true",
                   help="也读取各类型文件夹的子文件夹中的文件（默认列出并跳过，如 旧版/） "
                        "also read files in subfolders of a kind's folder (listed and skipped by default)")  # fmt: skip
    p.add_argument("--include-duplicates", action="store_true",
                   help="也读取与另一文件字节完全相同的文件（默认跳过） "
                        "also read files byte-identical to another (skipped by default)")  # fmt: skip
    p.add_argument("--include-hidden-sheets", action="store_true",
                   help="也读取工作簿中的隐藏工作表（默认跳过） "
                        "also read hidden sheets of a workbook (skipped by default)")  # fmt: skip


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
    _add_clean_options(p)
    p.add_argument("--engine", choices=("local", "dask"), default="local",
                   help="local（默认）或 dask：多区域时每个区域一个 Dask 进程任务 "
                        "(pip install 'tianxin-analysis[scale]') local (default) or dask: one "
                        "Dask process task per region of data/raw/<区域代码>/<类型>/")  # fmt: skip
    p.add_argument("--workers", type=int, default=2,
                   help="dask 引擎的进程数 Dask processes (default 2)")  # fmt: skip

    p = sub.add_parser("forecast", help="预测各项目标 forecast every target")
    _add_paths(p, "raw", "processed", "reports", "as_of")
    _add_scenario(p)

    p = sub.add_parser("report", help="生成简报 write the briefing pack")
    _add_paths(p, "raw", "processed", "reports", "as_of")
    _add_scenario(p)
    p.add_argument("--only", type=_outputs, default=None, metavar="LIST",
                   help="只生成其中几项，逗号分隔 write only these, comma-separated subset of "
                        "html,pdf,xlsx,docx,figures (e.g. --only html)")  # fmt: skip

    p = sub.add_parser("notebooks", help="执行全部笔记本 execute every notebook")
    _add_paths(p, "reports")
    p.add_argument("--in-place", action="store_true",
                   help="执行并保存到 notebooks/ (developers) execute and save in place")  # fmt: skip

    p = sub.add_parser("regions", help="各区域批量预测 forecast every region of the processed data")
    p.add_argument("--engine", choices=("local", "dask", "spark"), default="local",
                   help="计算引擎 engine: local (default, nothing extra), dask or spark "
                        "(pip install 'tianxin-analysis[scale]')")  # fmt: skip
    p.add_argument("--as-of", required=True, type=_as_of_month,
                   help="数据截至月份 as-of month, YYYY-MM (plan year = its year)")  # fmt: skip
    p.add_argument("--processed", type=Path, default=PROCESSED_DIR,
                   help="清洗结果目录 processed data folder")  # fmt: skip
    p.add_argument("--out", type=Path, default=REPORTS_DIR / "regions",
                   help="输出目录 output folder (default %(default)s)")  # fmt: skip
    p.add_argument("--raw", type=Path, default=RAW_DIR,
                   help="原始数据目录，读取 targets/<年份>.yaml raw folder (for the plan)")  # fmt: skip
    p.add_argument("--workers", type=int, default=2, help="并行进程数 workers (default 2)")

    p = sub.add_parser("all", help="清洗、预测、执行笔记本、生成简报 the whole monthly job")
    _add_paths(p, "raw", "processed", "reports", "as_of")
    _add_clean_options(p)
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
        from .data.public import write_annual_panels, write_annual_vintages, write_public_series
        from .errors import InputFileError

        if not args.yearbook.is_dir():
            raise InputFileError("找不到年鉴表目录", "yearbook folder not found", file=str(args.yearbook),
                                 expected="../shared/real-data/yearbook")  # fmt: skip
        out = args.raw / "public"
        for path in (write_public_series(args.yearbook, out / "yearbook_series.csv"),
                     write_annual_panels(args.yearbook, out / "yearbook_panels.csv"),
                     write_annual_vintages(args.yearbook, out / "yearbook_vintages.csv")):  # fmt: skip
            print(f"已写入 wrote {path}")
        return 0
    if args.command == "regions":
        return _regions(args, progress)
    if args.command in ("clean", "all"):
        from .data import run_clean

        run = run_clean(args.raw, args.processed, progress=progress,
                        include_subfolders=args.include_subfolders,
                        include_duplicates=args.include_duplicates,
                        include_hidden_sheets=args.include_hidden_sheets,
                        engine=getattr(args, "engine", "local"),
                        workers=getattr(args, "workers", 2))  # fmt: skip
        print(run.summary_text())
        if not run.ok and (args.command == "clean" or not _continue_after_failed_clean(args, run)):
            return 1
        if args.command == "clean":
            return 0
    if args.command == "notebooks" and args.in_place:  # developers: notebooks/, not reports
        from .notebook_runner import execute_notebooks

        for line in execute_notebooks(args.reports / "notebooks", in_place=True, progress=progress):
            print(line)
        return 0
    if getattr(args, "target", None) or getattr(args, "targets", None) is not None:
        args.reports = args.reports / SCENARIO_SUBDIR  # a what-if never replaces the briefing
    from .publish import reading

    # One processed set for everything this run reads (forecast and notebooks): a `tianxin
    # clean` publishing meanwhile waits for us before swapping in its set.
    with reading(getattr(args, "processed", PROCESSED_DIR)), _publishing_reports(args) as stage:
        _write_reports(args, stage, progress)
    print(f"已发布 published: {args.reports}（运行编号 run id {stage.run_id}，见 see run.json）")
    return 0


def _regions(args: argparse.Namespace, progress: bool) -> int:
    """``tianxin regions``: every region's forecast at the as-of month, published into
    ``--out`` (the month's parquet partition and overview page) all or nothing."""
    from .data import is_synthetic
    from .publish import publish
    from .regions import FORECASTS_DIR, summary_text, write_regions
    from .scale import forecast_all_regions, region_frames

    year, month = int(args.as_of[:4]), int(args.as_of[5:])
    plan_file = args.raw / "targets" / f"{year}.yaml"
    long = region_frames(args.processed, plan=plan_file if plan_file.is_file() else None)
    inputs = {"targets": plan_file, "processed/run.json": args.processed / "run.json",
              "processed/lineage.json": args.processed / "lineage.json"}  # fmt: skip
    with publish(args.out, "regions", params={"as_of": args.as_of, "year": year},
                 inputs=inputs) as stage:  # fmt: skip
        result = forecast_all_regions(long, year=year, as_of_month=month, engine=args.engine,
                                      workers=args.workers, progress=progress)  # fmt: skip
        stage.discard(f"{FORECASTS_DIR}/as_of={args.as_of}")
        written = write_regions(result, stage.path, as_of=args.as_of,
                                synthetic=is_synthetic(args.processed))  # fmt: skip
        print(summary_text(result))
    for path in written:
        print(f"已写入 wrote {args.out / path.relative_to(stage.path)}")
    print(f"已发布 published: {args.out}（运行编号 run id {stage.run_id}）")
    return 0


def _continue_after_failed_clean(args: argparse.Namespace, run) -> bool:
    """``tianxin all`` after a clean with failed files: say which step failed, what the
    processed folder now holds for the failed kinds and that nothing downstream was touched;
    go on only with ``--use-last-good`` (the briefing then says which targets use old data)."""
    failed = sorted({f.kind for f in run.failures})
    kept = [k for k in failed if k in run.kept_last_good]
    missing = [k for k in failed if k not in run.kept_last_good]
    held = "；".join(filter(None, [
        f"保留上次成功的数据表 kept the last good table: {', '.join(kept)}" if kept else "",
        f"没有可用的数据表 no table at all: {', '.join(missing)}" if missing else "",
    ]))  # fmt: skip
    print(f"清洗步骤失败 the clean step failed: {len(run.failures)} 个文件/工作表未处理 "
          f"file(s) or sheet(s) failed ({', '.join(failed)}; 见上 see FAILED above)。\n"
          f"  {args.processed}：{held}；其余类型已更新 other kinds were updated。", file=sys.stderr)  # fmt: skip
    if args.use_last_good:
        print("  --use-last-good：继续预测、笔记本和简报，受影响的目标注明沿用上次数据 "
              "going on; the affected targets say they use the last good table", file=sys.stderr)  # fmt: skip
        return True
    print(f"  预测、笔记本和简报未运行，{args.reports} 保持不变 forecast, notebooks and briefing "
          f"were not run; {args.reports} is unchanged。\n"
          "  修正上列文件后重新运行；或加 --use-last-good 用上次成功的数据表继续 fix the files and "
          "run again, or add --use-last-good to go on with the last good tables", file=sys.stderr)  # fmt: skip
    return False


def _publishing_reports(args: argparse.Namespace):
    """``publish`` of the reports folder for ``forecast``/``report``/``notebooks``/``all``:
    its run id covers the targets file, the processed set and the notebooks' sources."""
    from .notebook_runner import notebook_paths
    from .publish import publish

    inputs: dict[str, Path] = {}
    params: dict[str, object] = {}
    if args.command != "notebooks":
        params = {"as_of": args.as_of, "year": _plan_year(args)}
        inputs["targets"] = args.raw / "targets" / f"{_plan_year(args)}.yaml"
        processed = getattr(args, "processed", PROCESSED_DIR)
        inputs["processed/run.json"] = processed / "run.json"
        inputs["processed/lineage.json"] = processed / "lineage.json"
    if args.command in ("notebooks", "all"):
        inputs |= {f"notebooks/{p.name}": p for p in notebook_paths()}
    return publish(args.reports, args.command, params=params, inputs=inputs)


def _write_reports(args: argparse.Namespace, stage, progress: bool) -> None:
    """The forecast table, executed notebooks and briefing of ``args.command``, written into
    the staging folder ``stage.path``."""
    out = stage.path
    if args.command != "notebooks":
        evaluation = _evaluate(args)
        name = evaluation.write(out).name
        print(f"预测表 forecast table: {args.reports / name}")
        if changed := stage.changed_inputs():
            from .errors import OutputError

            raise OutputError(
                "读取期间输入被另一次运行替换，本次结果未发布；请重新运行",
                "an input was replaced by another run while this one read it; nothing was "
                "published, run again",
                file=str(args.processed), found=", ".join(changed),
            )  # fmt: skip
    if args.command in ("notebooks", "all"):
        from .notebook_runner import execute_notebooks, notebook_parameters

        parameters = None
        if args.command == "all":  # the notebooks answer the same question as the briefing
            parameters = notebook_parameters(year=_plan_year(args), as_of=args.as_of,
                                             raw=args.raw, processed=args.processed)  # fmt: skip
        stage.discard("notebooks")  # the executed copies form one set
        for line in execute_notebooks(out / "notebooks", progress=progress, parameters=parameters):
            print(line.replace(str(out), str(args.reports)))
    if args.command in ("report", "all"):
        from .report import FIGURES_DIR, build_briefing

        stage.discard(FIGURES_DIR)  # no figure of an earlier briefing survives beside this one
        written = build_briefing(evaluation, out, progress=progress, run_id=stage.run_id,
                                 only=getattr(args, "only", None))  # fmt: skip
        if not progress:  # with progress, build_briefing prints its own summary
            print(f"简报已生成 briefing pack written: {len(written)} files in {args.reports}")


def _plan_year(args: argparse.Namespace) -> int:
    """The plan year: ``--year``, else the as-of month's year."""
    return int(args.year) if args.year is not None else int(args.as_of[:4])


def _evaluate(args: argparse.Namespace):
    """Evaluate the plan year's targets; print the summary and one warning line per target
    with a data note (数据提示)."""
    from .forecast import evaluate_targets
    from .targets import check_as_of, load_targets

    plan = _scenario_plan(load_targets(args.raw / "targets" / f"{_plan_year(args)}.yaml"), args)
    check_as_of(plan, args.as_of)
    evaluation = evaluate_targets(plan, args.processed, as_of=args.as_of,
                                  use_last_good=args.use_last_good)  # fmt: skip
    print(evaluation.summary_text())
    for line in evaluation.warnings():
        print(f"警告 warning: {line}", file=sys.stderr)
    if plan.scenario:
        print(f"情景测算 scenario: 输出写入 outputs go to {args.reports}；计划文件与正式简报不变 "
              "(the plan file and the published briefing are unchanged)")  # fmt: skip
    return evaluation


def _scenario_plan(plan, args: argparse.Namespace):
    """The plan with the what-if values of --targets FILE, then --target (later wins)."""
    from .targets import load_target_values, with_target_values

    if getattr(args, "targets", None) is not None:
        plan = with_target_values(plan, load_target_values(args.targets), source=str(args.targets))
    return with_target_values(plan, dict(getattr(args, "target", None) or []))


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
