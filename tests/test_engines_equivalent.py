"""The fast engine equals the reference engine (``data/engine/reference.py``, the
specification): identical processed frames, quarantine, reconciliation and revisions, and
byte-identical CSV files, on the bundled sample, on the whole bad-input corpus and on a
200,000-row certificate registry with the sample's kinds of mess.
"""

from __future__ import annotations

import sys
from pathlib import Path

import bad_inputs
import pandas as pd
import pytest

from tianxin_analysis.data import run_clean

REPO = Path(__file__).resolve().parents[1]


def _sample(tmp_path: Path) -> Path:
    return REPO / "data" / "raw"


def _corpus(tmp_path: Path) -> Path:
    bad_inputs.write_corpus(tmp_path / "raw")
    return tmp_path / "raw"


def _registry(tmp_path: Path) -> Path:
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import registry
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    registry.write_registry_csv(tmp_path / "raw" / "hitech_certificates" / "registry.csv", 200_000)
    return tmp_path / "raw"


@pytest.mark.parametrize("make_raw", [_sample, _corpus, _registry], ids=["sample", "bad_inputs",
                                                                         "registry_200k"])  # fmt: skip
def test_fast_engine_equals_reference(tmp_path, make_raw):
    raw = make_raw(tmp_path)
    runs = {
        e: run_clean(raw, tmp_path / e, progress=False, engine=e) for e in ("reference", "fast")
    }
    ref, fast = runs["reference"], runs["fast"]
    assert set(fast.tables) == set(ref.tables) and ref.tables
    for kind, table in ref.tables.items():
        pd.testing.assert_frame_equal(fast.tables[kind], table, obj=kind)
    pd.testing.assert_frame_equal(fast.quarantine, ref.quarantine, obj="quarantine")
    pd.testing.assert_frame_equal(fast.reconciliation, ref.reconciliation)
    pd.testing.assert_frame_equal(fast.revisions, ref.revisions)
    assert [str(f) for f in fast.failures] == [str(f) for f in ref.failures]
    csv = sorted(
        p.relative_to(tmp_path / "reference") for p in (tmp_path / "reference").rglob("*.csv")
    )
    assert csv == sorted(
        p.relative_to(tmp_path / "fast") for p in (tmp_path / "fast").rglob("*.csv")
    )
    assert len(csv) >= 4
    for rel in csv:
        assert (tmp_path / "fast" / rel).read_bytes() == (
            tmp_path / "reference" / rel
        ).read_bytes(), rel


def test_unknown_engine_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown engine"):
        run_clean(REPO / "data" / "raw", tmp_path / "out", progress=False, engine="turbo")
