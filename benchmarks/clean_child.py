"""Child process of the cleaning benchmark: ``python benchmarks/clean_child.py RAW OUT [--profile F]``.

Runs the library's cleaning end to end (``tianxin_analysis.data.run_clean``: read the raw
export, normalise, validate credit codes, deduplicate, quarantine, write parquet + CSV +
lineage) on ``RAW`` and prints one JSON line: wall seconds, this process's peak RSS (the
generator ran in the parent, so its memory does not count), rows clean and quarantined by rule.
With ``--profile F`` the run is profiled with pyinstrument (if installed) and the text report
written to ``F``; profiling slows the run, so ``run.py`` profiles in a separate run.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time


def peak_rss_mb() -> float:
    """This process's peak resident memory since it started.

    Linux: VmHWM of /proc/self/status, which starts afresh at exec. (ru_maxrss does not: a
    child inherits the high-water mark of the parent it was forked from, here the runner that
    generated the registry.) Elsewhere ru_maxrss (KiB on Linux, bytes on macOS).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / (1024 if sys.platform == "darwin" else 1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("raw")
    ap.add_argument("out")
    ap.add_argument("--profile", default=None)
    args = ap.parse_args(argv)

    # as the tianxin command does first thing (cli.main), before pyarrow loads
    from tianxin_analysis._memory import configure_arrow_jemalloc

    configure_arrow_jemalloc()
    from tianxin_analysis.data import run_clean

    rss_import = peak_rss_mb()
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.005)
        profiler.start()
    t0 = time.perf_counter()
    run = run_clean(args.raw, args.out, progress=False)
    seconds = time.perf_counter() - t0
    if profiler is not None:
        profiler.stop()
        with open(args.profile, "w", encoding="utf-8") as fh:
            fh.write(profiler.output_text(unicode=True, color=False, show_all=False))
    q = run.quarantine
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_rss_mb": peak_rss_mb(),
                "rss_after_import_mb": rss_import,
                "rows_clean": int(sum(len(t) for t in run.tables.values())),
                "rows_quarantined": len(q),
                "quarantine_by_rule": {str(k): int(v) for k, v in q["rule"].value_counts().items()},
                "failures": [str(f) for f in run.failures],
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
