"""What the processed data covers: the date a report was made up to, and the kinds whose latest
clean failed (from ``lineage.json``).

``report_date`` reads the date an export was made up to from its file name or title the way
offices write it (``截至2024年9月30日``, ``_2024-09-30``, ``2024年1-9月``); ``unavailable_kinds``
lists the processed tables downstream steps must not trust, with the reason an analyst reads.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from pathlib import Path

import pandas as pd

from .kinds import KINDS

# 截至 / 截止 + a date or a month; a full date anywhere; a year with 1-N月 or N月.
_AS_OF = re.compile(
    r"截[至止]\s*(20\d{2})\s*[年\-./_]\s*(\d{1,2})(?:\s*[月\-./_]\s*(\d{1,2})(?!\d))?"
)
_FULL_DATE = re.compile(
    r"(?<!\d)(20\d{2})(?:([\-./_])(\d{1,2})\2(\d{1,2})|\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日)(?!\d)"
)
_MONTHS = re.compile(r"(?<!\d)(?:1\s*[-~～—至到]\s*)?(\d{1,2})\s*月")
_YEAR = re.compile(r"(?<!\d)(20\d{2})(?!\d)")

KIND_NAMES_ZH = {
    "hitech_certificates": "高新技术企业认定名单",
    "tech_sme_registrations": "科技型中小企业入库名单",
    "tech_contracts": "技术合同登记月报",
    "hitech_value_added": "高新技术产业增加值",
    "rd_expenditure": "研发经费支出统计",
    "district_gdp": "地区生产总值",
    "pipelines": "科创项目储备台账",
}


def _date(year: int, month: int, day: int | None) -> pd.Timestamp | None:
    if not 1 <= month <= 12:
        return None
    if day is None:
        return pd.Period(year=year, month=month, freq="M").to_timestamp(how="end").normalize()
    try:
        return pd.Timestamp(year=year, month=month, day=day)
    except ValueError:
        return None


def report_date(name: str, title: str = "") -> pd.Timestamp | None:
    """The date a report was made up to, from its title or file name, or None.

    ``截至2024年9月30日`` / ``截至2024-09`` (end of month), a full date ``2024-09-30``, or a
    year with ``1-9月`` / ``9月`` (end of that month). A span of years (``2019-2024``) is no
    report date. Full-width digits are read as digits.
    """
    for text in (title, Path(str(name)).stem if name else ""):
        text = unicodedata.normalize("NFKC", str(text or ""))
        m = _AS_OF.search(text)
        if m:
            d = _date(int(m.group(1)), int(m.group(2)), int(m.group(3)) if m.group(3) else None)
            if d is not None:
                return d
        m = _FULL_DATE.search(text)
        if m:
            month, day = (m.group(3), m.group(4)) if m.group(2) else (m.group(5), m.group(6))
            d = _date(int(m.group(1)), int(month), int(day))
            if d is not None:
                return d
        years = set(_YEAR.findall(text))
        months = _MONTHS.findall(re.sub(r"20\d{2}\s*年?", " ", text))
        if len(years) == 1 and months:
            d = _date(int(years.pop()), int(months[-1]), None)
            if d is not None:
                return d
    return None


def latest_report_date(source_files: pd.Series | None) -> pd.Timestamp | None:
    """The latest ``report_date`` among the distinct file names of a ``source_file`` column."""
    if source_files is None or not len(source_files):
        return None
    dates = [report_date(f) for f in pd.unique(source_files.astype(str))]
    dates = [d for d in dates if d is not None]
    return max(dates) if dates else None


def read_lineage(processed_dir: str | os.PathLike[str]) -> dict:
    """``lineage.json`` of ``processed_dir`` as a dict ({} when absent or unreadable)."""
    path = Path(processed_dir) / "lineage.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def unavailable_kinds(processed_dir: str | os.PathLike[str]) -> dict[str, str]:
    """Kind -> plain-Chinese reason for every processed table the latest clean did not
    produce from all its files: the failures recorded in ``lineage.json`` (file and reason).

    Tolerant of extra fields in the record; entries without a known kind are ignored.
    """
    doc = read_lineage(processed_dir)
    reasons: dict[str, list[str]] = {}
    failures = doc.get("failures") or []
    for f in failures if isinstance(failures, list) else []:
        if not isinstance(f, dict) or f.get("kind") not in KINDS:
            continue
        file = str(f.get("file") or "")
        sheet = str(f.get("sheet") or "")
        message = str(f.get("message") or f.get("reason") or "").splitlines()
        where = Path(file).name + (f"（工作表 {sheet}）" if sheet else "")
        text = f"{where}未能处理：{message[0] if message else '原因未记录'}"
        if text not in reasons.setdefault(f["kind"], []):
            reasons[f["kind"]].append(text)
    return {
        kind: f"最近一次清洗中{KIND_NAMES_ZH.get(kind, kind)}的文件{'；'.join(texts)}"
        for kind, texts in reasons.items()
    }


def revision_notes(processed_dir: str | os.PathLike[str], year: int) -> dict[str, list[str]]:
    """Kind -> plain-Chinese notes on the values of ``year`` that a later report revised
    (``revisions.csv``): ``"7月数据以2024-10-15报表修订值为准"``."""
    from .quality import read_revisions

    rev = read_revisions(processed_dir)
    if rev.empty:
        return {}
    rev = rev[rev["period"].astype(str).str.startswith(str(year))]
    out: dict[str, list[str]] = {}
    for (kind, new_date), g in rev.groupby(["kind", "new_report_date"], sort=True):
        when = f"{new_date}报表" if new_date else "较新报表"
        periods = sorted(set(g["period"].astype(str)))
        if all(len(p) == 7 for p in periods):  # YYYY-MM: monthly series
            months = "、".join(f"{int(p[5:])}月" for p in periods)
            out.setdefault(str(kind), []).append(f"{months}数据以{when}修订值为准")
        else:
            n = g[["key"]].drop_duplicates().shape[0]
            out.setdefault(str(kind), []).append(f"{n}条{year}年记录以{when}修订值为准")
    return out
