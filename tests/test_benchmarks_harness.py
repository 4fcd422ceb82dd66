"""The benchmark harness's arithmetic (benchmarks/run.py is a script, not part of the package)."""

import importlib.util
from pathlib import Path

import pytest

_RUN = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"
_spec = importlib.util.spec_from_file_location("tianxin_benchmarks_run", _RUN)
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def test_affine_extrapolation_recovers_fixed_plus_per_row_cost():
    sizes = [10_000, 30_000, 100_000]
    values = [0.3 + 4e-6 * n for n in sizes]  # 0.3 s fixed, 4 µs per row
    assert bench.extrapolate_affine(sizes, values, 1_000_000) == pytest.approx(4.3)
    # Scaling the largest measurement alone would have said 7.3 s.
    assert values[-1] * 10 == pytest.approx(7.0)


def test_affine_extrapolation_returns_a_measured_size_as_measured():
    assert bench.extrapolate_affine([10_000, 1_000_000], [0.35, 4.51], 1_000_000) == 4.51


def test_affine_extrapolation_falls_back_to_scaling_on_a_negative_slope():
    # Noise: the larger run came out faster. No negative per-row cost; scale the last one.
    assert bench.extrapolate_affine([10_000, 100_000], [0.5, 0.4], 1_000_000) == pytest.approx(4.0)
    assert bench.extrapolate_affine([100_000], [0.8], 1_000_000) == pytest.approx(8.0)


def test_goal_checks_match_the_declared_direction():
    assert bench._meets("clean_1m_seconds", 4.9) is True
    assert bench._meets("clean_1m_seconds", 5.1) is False
    assert bench._meets("clean_1m_speedup_vs_rowwise", 19.9) is False
    assert bench._meets("clean_1m_speedup_vs_rowwise", 20.0) is True
    assert bench._meets("nbval_seconds", None) is None


def test_engine_ratios_are_figures_with_goals():
    # issue 20: Spark local[2] within 1.3x and Dask within 1.2x of the local pool
    for key, bound in (("regions_spark_ratio", 1.3), ("regions_dask_ratio", 1.2)):
        assert key in bench.FIGURES
        assert bench._meets(key, bound) is True
        assert bench._meets(key, bound + 0.01) is False


def test_many_region_clean_figures():
    # issue 20: 100 regions' exports cleaned; the Dask path within 1.2x of the local one
    assert {"clean_100_regions_seconds", "clean_100_regions_dask_ratio"} <= set(bench.FIGURES)
    assert bench._meets("clean_100_regions_dask_ratio", 1.2) is True
    assert bench._meets("clean_100_regions_dask_ratio", 1.21) is False
    assert bench._meets("clean_100_regions_seconds", 1e6) is None  # a time without a goal
    result = dict.fromkeys(bench.FIGURES)
    result["meets_goals"] = {k: bench._meets(k, result[k]) for k in bench.FIGURES}
    result["details"] = {}
    assert "clean_100_regions_seconds" in bench._table(result)
