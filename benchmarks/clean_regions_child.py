"""Child process of the many-region cleaning benchmark:
``python benchmarks/clean_regions_child.py N WORKDIR [--workers 2]``.

Writes ``N`` regions' synthetic exports (``sample.write_region_sample``, one seed per region
code: the whole sample per region, about 30 files each) under ``WORKDIR/raw/<code>/<kind>/``
(not timed), then cleans them with ``run_clean`` on the local path, on Dask (processes, one
region per task) and on the local path again, in one process and one run, so the ratio sees
the same spell of host load (the local time is the mean of its two runs). Checks that the Dask
outputs equal the local ones byte for byte (every file, ``run.json`` and ``lineage.json``
included). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("workdir", type=Path)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)

    from tianxin_analysis._memory import configure_arrow_jemalloc

    configure_arrow_jemalloc()  # as the tianxin command does, before pyarrow loads
    from tianxin_analysis.data import run_clean
    from tianxin_analysis.sample import sample_region_codes, write_region_sample

    raw = args.workdir / "raw"
    t0 = time.perf_counter()
    files = sum(len(write_region_sample(raw, c)) for c in sample_region_codes(args.n))
    sample_seconds = time.perf_counter() - t0
    seconds: dict[str, list[float]] = {}
    runs = {}
    for i, engine in enumerate(("local", "dask", "local")):
        out = args.workdir / f"out_{engine}_{i}"
        t0 = time.perf_counter()
        runs[engine] = run_clean(raw, out, progress=False, engine=engine, workers=args.workers)
        seconds.setdefault(engine, []).append(time.perf_counter() - t0)
    local = _files(args.workdir / "out_local_0")
    dask = _files(args.workdir / "out_dask_1")
    identical = local == dask and local == _files(args.workdir / "out_local_2")
    differ = sorted(k for k in local.keys() | dask.keys() if local.get(k) != dask.get(k))
    run = runs["local"]
    local_seconds = sum(seconds["local"]) / len(seconds["local"])
    print(json.dumps({
        "regions": args.n, "raw_files": files, "sample_seconds": sample_seconds,
        "rows_clean": int(sum(len(t) for t in run.tables.values())),
        "rows_quarantined": len(run.quarantine), "ok": run.ok, "workers": args.workers,
        "local_seconds": seconds["local"], "dask_seconds": seconds["dask"][0],
        "clean_regions_seconds": local_seconds,
        "clean_regions_dask_ratio": seconds["dask"][0] / local_seconds,
        "identical": identical, "differing_files": differ[:10],
        "load_average": os.getloadavg(),
    }))  # fmt: skip
    shutil.rmtree(args.workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
