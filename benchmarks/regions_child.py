"""Child process of the regions benchmark: ``python benchmarks/regions_child.py N OUT [--workers W]``.

Forecasts every target for ``N`` synthetic county-level regions with
``tianxin_analysis.scale.forecast_regions`` (process pool, tqdm bar on stderr), streaming
each chunk of results to the parquet file ``OUT`` as it arrives, so memory does not grow
with ``N``. Prints one JSON line: wall seconds, peak RSS of this process and of its worker
processes, rows written and the count of each status.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections import Counter


def _mb(kib: int) -> float:
    return kib / 1024 / (1024 if sys.platform == "darwin" else 1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("out")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--chunk-size", type=int, default=25)
    ap.add_argument("--year", type=int, default=2024)
    ap.add_argument("--as-of-month", type=int, default=9)
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)

    import pyarrow as pa
    import pyarrow.parquet as pq
    from clean_child import peak_rss_mb

    from tianxin_analysis.scale import forecast_regions, output_meta, synthetic_region_frames

    schema = pa.Schema.from_pandas(output_meta(), preserve_index=False)
    statuses: Counter[str] = Counter()
    rows = 0
    arrivals: list[tuple[float, int]] = []  # (seconds since start, regions done)
    done = 0
    t0 = time.perf_counter()
    with pq.ParquetWriter(args.out, schema) as writer:
        for part in forecast_regions(
            synthetic_region_frames(args.n),
            year=args.year,
            as_of_month=args.as_of_month,
            workers=args.workers,
            chunk_size=args.chunk_size,
            progress=not args.no_progress,
            total=args.n,
        ):
            writer.write_table(pa.Table.from_pandas(part, schema=schema, preserve_index=False))
            statuses.update(part["status"].tolist())
            rows += len(part)
            done += part["region"].nunique()
            arrivals.append((time.perf_counter() - t0, done))
    seconds = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "seconds": seconds,
                "regions": args.n,
                "workers": args.workers,
                "rows": rows,
                # first chunk back (includes starting the workers) and the steady rate after it
                "first_chunk_seconds": arrivals[0][0] if arrivals else None,
                "steady_regions_per_second": (
                    (arrivals[-1][1] - arrivals[0][1]) / (arrivals[-1][0] - arrivals[0][0])
                    if len(arrivals) > 1 and arrivals[-1][0] > arrivals[0][0]
                    else None
                ),
                "status_counts": dict(sorted(statuses.items())),
                "peak_rss_mb": peak_rss_mb(),
                # ru_maxrss of the workers: an upper bound (a spawned worker starts from a fork
                # of this process, whose high-water mark it inherits).
                "worker_peak_rss_mb": _mb(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
