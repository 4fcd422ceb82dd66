"""Child process of the engines benchmark: ``python benchmarks/regions_engines_child.py N``.

Forecasts every target for ``N`` synthetic regions (one long frame, as ``scale.region_frames``
gives it) with ``scale.forecast_all_regions`` on the local pool, Dask (processes) and Spark
(``local[2]``), each on 2 workers, in one process and one run: local, Dask, Spark, local
again, so the ratios see the same spell of host load (the local time is the mean of its two
runs). Spark's session is started before its run and timed apart (a cluster is up already):
``regions_spark_ratio`` leaves it out, ``regions_spark_ratio_with_session`` counts it. Each
engine starts its own worker processes inside its run (the local pool and Dask spawn two,
Spark's session forks its Python workers for the first job), so worker start-up and the
workers' imports are in every engine's time. ``--generator`` also times
``scale.forecast_regions`` fed by the generator (as ``regions_child.py`` does) right after the
first local run; ``benchmarks/run.py`` does not pass it, because ``regions_2900_seconds``
already measures that path and a fourth run would only lengthen the alternation. Checks that
every engine's frame equals the local pool's exactly. Prints one JSON line, with the load
average after each run.
"""

from __future__ import annotations

import argparse
import json
import os
import time


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--generator", action="store_true")
    args = ap.parse_args(argv)

    import pandas as pd

    from tianxin_analysis import scale

    long = pd.concat([pdf.assign(region=name)
                      for name, pdf in scale.synthetic_region_frames(args.n)], ignore_index=True)  # fmt: skip
    kw = {"year": 2024, "as_of_month": 9, "workers": args.workers, "progress": False}
    seconds: dict[str, list[float]] = {}
    results: dict[str, pd.DataFrame] = {}
    loads: list[tuple[str, list[float]]] = []

    def timed(engine: str, **extra) -> None:
        t0 = time.perf_counter()
        results[engine] = scale.forecast_all_regions(long, engine=engine, **kw, **extra)
        seconds.setdefault(engine, []).append(time.perf_counter() - t0)
        loads.append((engine, [round(x, 2) for x in os.getloadavg()]))

    loads.append(("start", [round(x, 2) for x in os.getloadavg()]))
    timed("local")
    if args.generator:
        t0 = time.perf_counter()
        parts = scale.forecast_regions(scale.synthetic_region_frames(args.n), **kw, total=args.n)
        results["generator"] = pd.concat(list(parts), ignore_index=True)
        seconds["generator"] = [time.perf_counter() - t0]
        loads.append(("generator", [round(x, 2) for x in os.getloadavg()]))
    timed("dask")
    t0 = time.perf_counter()
    spark = scale.spark_session(args.workers)
    spark_session_seconds = time.perf_counter() - t0
    timed("spark", spark=spark)
    # Stop the JVM before the second local run: a live session kept the local pool's second
    # run 33% slower than its first (45/61, 52/69, 52/70 s in session 10), which flattered
    # every engine's ratio to the mean of the two.
    spark.stop()
    timed("local")
    identical = {}
    for engine in [e for e in ("generator", "dask", "spark") if e in results]:
        try:
            pd.testing.assert_frame_equal(results[engine], results["local"], check_exact=True)
            identical[engine] = True
        except AssertionError:
            identical[engine] = False
    local = sum(seconds["local"]) / len(seconds["local"])
    print(json.dumps({
        "regions": args.n, "rows_in": len(long), "rows_out": len(results["local"]),
        "workers": args.workers, "local_seconds": seconds["local"],
        "dask_seconds": seconds["dask"][0], "spark_seconds": seconds["spark"][0],
        "spark_session_seconds": spark_session_seconds,
        "regions_dask_ratio": seconds["dask"][0] / local,
        "regions_spark_ratio": seconds["spark"][0] / local,
        "regions_spark_ratio_with_session": (seconds["spark"][0] + spark_session_seconds) / local,
        "generator_seconds": seconds.get("generator", [None])[0],
        "identical": identical, "load_average": os.getloadavg(), "load_after_each_run": loads,
    }))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
