"""The synthetic sample: deterministic, fictional, labelled synthetic, carrying its mess."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from tianxin_analysis.identifiers import validate_uscc
from tianxin_analysis.io import read_sheets
from tianxin_analysis.paths import RAW_DIR
from tianxin_analysis.sample import SAMPLE_KINDS, build_sample, write_sample


@pytest.fixture(scope="module")
def bundle():
    return build_sample(2024)


def test_same_seed_gives_identical_bytes(tmp_path, bundle):
    again = build_sample(2024)
    assert [(f.relpath, f.content) for f in again.files] == [
        (f.relpath, f.content) for f in bundle.files
    ]
    written = write_sample(tmp_path, seed=2024)
    assert {p.relative_to(tmp_path).as_posix() for p in written} == {
        f.relpath for f in bundle.files
    }
    for f in bundle.files:
        assert (tmp_path / f.relpath).read_bytes() == f.content


def test_other_seed_differs(bundle):
    other = build_sample(7)
    assert [f.content for f in other.files] != [f.content for f in bundle.files]


def test_committed_sample_is_current(bundle):
    """data/raw holds exactly what `tianxin sample-data --seed 2024` writes."""
    for f in bundle.files:
        committed = RAW_DIR / f.relpath
        assert committed.is_file(), committed
        assert (
            hashlib.sha256(committed.read_bytes()).hexdigest()
            == hashlib.sha256(f.content).hexdigest()
        ), f"{f.relpath} is stale: run `tianxin sample-data --raw data/raw`"


def test_every_kind_present_and_labelled_synthetic(tmp_path, bundle):
    assert {f.kind for f in bundle.files} == set(SAMPLE_KINDS)
    for f in bundle.files:
        path = tmp_path / f.relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f.content)
        texts = [
            str(v) for s in read_sheets(path) for v in s.grid.to_numpy().ravel() if v is not None
        ]
        assert any("模拟数据" in t for t in texts), f.relpath


def test_personal_data_columns_present_in_raw(tmp_path, bundle):
    """The sample carries personal-data columns so that dropping them is exercised."""
    f = next(f for f in bundle.files if f.kind == "hitech_certificates")
    path = tmp_path / "c.xlsx"
    path.write_bytes(f.content)
    header = [str(v) for v in read_sheets(path)[0].grid.loc[3] if v is not None]
    assert {"联系人", "身份证号"} <= set(header)
    assert any(h in header for h in ("联系电话", "手机"))


def test_uscc_mostly_valid_and_in_tianxin(tmp_path, bundle):
    f = next(f for f in bundle.files if f.relpath.endswith("2024.csv"))
    path = tmp_path / "s.csv"
    path.write_bytes(f.content)
    grid = read_sheets(path)[0].grid
    codes = grid.loc[2:, 3]
    v = validate_uscc(codes)
    assert v["valid"].mean() > 0.98
    assert (v.loc[v["valid"], "admin_code"] == "430103").mean() > 0.8
    assert v.loc[v["valid"], "admin_code"].str.startswith("4301").all()


def test_defects_listed_with_known_rules(bundle):
    from tianxin_analysis.data.rules import reasons

    rules = pd.Series([d.rule for d in bundle.defects])
    assert set(rules) <= set(reasons())
    # every kind carries at least its footnote
    assert {d.kind for d in bundle.defects} == set(SAMPLE_KINDS)
