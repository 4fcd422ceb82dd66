from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tianxin_analysis.data import run_clean
from tianxin_analysis.data.quality import (
    quarantine_summary,
    read_quarantine,
    read_reconciliation,
    reconciliation_by_kind,
)
from tianxin_analysis.errors import InputFileError
from tianxin_analysis.paths import RAW_DIR


@pytest.fixture(scope="module")
def processed(tmp_path_factory):
    out = tmp_path_factory.mktemp("processed")
    run_clean(RAW_DIR, out, progress=False)
    return out


def test_reconciliation_by_kind_balances(processed):
    by_kind = reconciliation_by_kind(read_reconciliation(processed))
    assert by_kind["balanced"].all()
    assert (by_kind["rows_read"] == by_kind["rows_clean"] + by_kind["rows_quarantined"]).all()
    assert by_kind["share_quarantined"].between(0, 1).all()


def test_quarantine_summary_counts_every_row(processed):
    q = read_quarantine(processed)
    summary = quarantine_summary(q)
    assert summary["rows"].sum() == len(q)
    assert summary["rows"].is_monotonic_decreasing
    assert summary["fix_zh"].str.len().gt(0).all()
    assert summary["example"].str.contains("第").all()


def test_empty_quarantine_summary():
    empty = pd.DataFrame(columns=["kind", "rule", "reason_zh", "source_file", "source_row"])
    assert quarantine_summary(empty).empty


def test_missing_outputs_say_run_clean(tmp_path):
    with pytest.raises(InputFileError, match="tianxin clean"):
        read_reconciliation(tmp_path)


def test_uscc_region_review_lists_codes_from_elsewhere_without_dropping_them():
    from bad_inputs import uscc_codes

    from tianxin_analysis.data.quality import uscc_region_review

    codes = uscc_codes(np.arange(4) + 30_000_001)
    codes[1] = uscc_codes(np.array([30_000_002]), admin="110108")[0]  # Beijing Haidian
    codes[2] = uscc_codes(np.array([30_000_003]), admin="430104")[0]  # Changsha Yuelu
    table = pd.DataFrame({
        "enterprise_name": ["甲", "乙", "丙", "丁"], "uscc": codes,
        "source_file": "f.xlsx", "source_row": [2, 3, 4, 5],
    })  # fmt: skip
    review = uscc_region_review({"hitech_certificates": table})
    assert review["region_code"].tolist() == ["110108", "430104"]  # outside Hunan first
    assert review["prominent"].tolist() == [True, False]
    assert review["enterprise_name"].tolist() == ["乙", "丙"]
    assert len(table) == 4  # nothing dropped
    assert uscc_region_review({"hitech_certificates": table.iloc[[0, 3]]}).empty


def test_uscc_region_summary_counts_enterprises_and_rows_outside_hunan_first():
    from bad_inputs import uscc_codes

    from tianxin_analysis.data.quality import uscc_region_review, uscc_region_summary

    beijing = uscc_codes(np.array([30_000_002]), admin="110108")[0]
    yuelu = uscc_codes(np.array([30_000_003, 30_000_004]), admin="430104")
    furong = uscc_codes(np.array([30_000_005]), admin="430102")[0]
    home = uscc_codes(np.array([30_000_006]))[0]
    codes = [home, yuelu[0], yuelu[0], yuelu[1], furong, beijing]  # yuelu[0] listed twice
    table = pd.DataFrame({
        "enterprise_name": list("甲乙乙丙丁戊"), "uscc": codes,
        "source_file": "f.xlsx", "source_row": range(2, 8),
    })  # fmt: skip
    summary = uscc_region_summary(uscc_region_review({"tech_sme_registrations": table}))
    assert summary["scope_zh"].str.startswith(("省外", "省内区外")).tolist() == [True, True]
    assert summary["scope_zh"].iloc[0].startswith("省外")  # outside Hunan comes first
    assert summary[["enterprises", "rows"]].to_numpy().tolist() == [[1, 1], [3, 4]]
    assert summary["top_region_codes"].tolist() == ["110108", "430104、430102"]
    assert uscc_region_summary(uscc_region_review({"x": table.iloc[[0]]})).empty


def test_uscc_region_review_reads_the_columns_a_kind_declares():
    # a toy kind that calls its credit code "credit_code" and its name "firm"
    from bad_inputs import uscc_codes

    from tianxin_analysis.data.declaration import Schema
    from tianxin_analysis.data.quality import uscc_region_review

    toy = Schema(kind="toy_roster", fields=(), key=("credit_code",), columns=("firm", "credit_code"),
                 derive=lambda frame, ctx: frame, identifier="credit_code", entity_name="firm")  # fmt: skip
    codes = [uscc_codes(np.array([30_000_001]))[0],
             uscc_codes(np.array([30_000_002]), admin="110108")[0]]  # fmt: skip
    table = pd.DataFrame({"firm": ["甲", "乙"], "credit_code": codes, "uscc": "not a code",
                          "source_file": "f.csv", "source_row": [2, 3]})  # fmt: skip
    review = uscc_region_review({"toy_roster": table}, schemas={"toy_roster": toy})
    assert review[["enterprise_name", "uscc", "region_code"]].to_numpy().tolist() == [
        ["乙", codes[1], "110108"]
    ]
    # a kind that declares no credit code (or is not declared) is not reviewed
    no_code = Schema(kind="toy_roster", fields=(), key=("firm",), columns=("firm",),
                     derive=lambda frame, ctx: frame)  # fmt: skip
    assert uscc_region_review({"toy_roster": table}, schemas={"toy_roster": no_code}).empty
    assert uscc_region_review({"toy_roster": table}).empty
