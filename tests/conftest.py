"""Shared fixtures. Real yearbook data is read from ../shared/real-data when present."""

from __future__ import annotations

import matplotlib
import pytest

from tianxin_analysis.paths import SHARED_REAL_DATA

matplotlib.use("Agg")

REAL_YEARBOOK = SHARED_REAL_DATA / "yearbook"

needs_real_data = pytest.mark.skipif(
    not REAL_YEARBOOK.is_dir(),
    reason="../shared/real-data/yearbook not present (a user's clone does not have it)",
)
