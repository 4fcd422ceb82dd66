"""The row-by-row baseline of the cleaning benchmark: the certificate registry cleaned the way a
plain-Python script would do it, one row at a time.

Per row: NFKC and whitespace normalisation of every cell, missing markers, footnote rows,
python-stdnum USCC validation, ``datetime.strptime`` date parsing over the export's styles
(plus Excel serials), category aliases, name display form and matching key by regex; then
deduplication (exact duplicates; the same USCC and batch year under two different names goes
to quarantine) through dicts, and the clean and quarantined rows written as CSV. The same work
as ``run_clean`` on the same file, so the ratio of the two times is the speed-up of
vectorising. Deliberately a loop: it is the thing being compared against.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import unicodedata
from pathlib import Path

from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength

CANONICAL = {
    "企业名称": "enterprise_name", "统一社会信用代码": "uscc", "证书编号": "certificate_no",
    "发证日期": "issue_date", "发证时间": "issue_date", "技术领域": "tech_field",
    "高新技术领域": "tech_field", "所属园区": "park", "所在园区": "park", "状态": "status",
    "证书状态": "status",
}  # fmt: skip
REQUIRED = ("enterprise_name", "uscc", "certificate_no", "issue_date", "tech_field")
TECH_FIELDS = {"电子信息", "生物与新医药", "航空航天", "新材料", "高技术服务", "新能源与节能",
               "资源与环境", "先进制造与自动化"}  # fmt: skip
FIELD_ALIASES = {"生物与新医药技术": "生物与新医药", "航空航天技术": "航空航天", "新材料技术": "新材料",
                 "高新技术服务业": "高技术服务", "新能源及节能技术": "新能源与节能",
                 "资源与环境技术": "资源与环境", "高新技术改造传统产业": "先进制造与自动化"}  # fmt: skip
STATUSES = {"有效", "已过期", "已撤销", "已迁出"}
STATUS_ALIASES = {
    "正常": "有效",
    "过期": "已过期",
    "失效": "已过期",
    "撤销": "已撤销",
    "迁出": "已迁出",
}
MISSING = {"", "-", "--", "—", "——", "/", "无", "N/A", "NA", "NULL", "NONE", "NAN"}
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y年%m月", "%Y.%m", "%Y-%m")
EXCEL_EPOCH = dt.date(1899, 12, 30)
_WS = re.compile(r"\s+")
_OPEN = re.compile(r"[(\[【〔［]")
_CLOSE = re.compile(r"[)\]】〕］]")
_CJK_SPACE = re.compile(r"(?<=[\u3400-\u9fff（）]) | (?=[\u3400-\u9fff（）])")
_FOOTNOTE = re.compile(r"^(注|说明|备注|数据来源|资料来源|[0-9]+[.、])")


def _norm(cell: str) -> str:
    return _WS.sub(" ", unicodedata.normalize("NFKC", cell)).strip()


def _name(text: str) -> tuple[str, str]:
    display = _CJK_SPACE.sub("", _CLOSE.sub("）", _OPEN.sub("（", text)))
    key = display.replace(" ", "").replace("有限责任公司", "有限公司").lower()
    return display, key


def _date(text: str) -> dt.date | None:
    if text.isdigit() and 20000 < int(text) < 80000:
        return EXCEL_EPOCH + dt.timedelta(days=int(text))
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def clean_rowwise(
    src: str | Path, out_dir: str | Path, today: dt.date | None = None
) -> dict[str, int]:
    """Clean the registry CSV ``src`` row by row into ``out_dir``; return counts by outcome."""
    today = today or dt.date.today()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    quarantine: list[tuple[int, str, str, str]] = []  # (row, column, value, rule)
    kept: list[tuple[int, dict]] = []
    seen_rows: set[tuple] = set()
    by_key: dict[tuple[str, int], list[int]] = {}
    names_by_key: dict[tuple[str, int], set[str]] = {}
    columns: dict[int, str] | None = None
    with open(src, encoding="utf-8", newline="") as fh:
        for row_no, raw in enumerate(csv.reader(fh), start=1):
            cells = [_norm(c) for c in raw]
            if columns is None:
                if "统一社会信用代码" in cells:
                    columns = {i: CANONICAL[c] for i, c in enumerate(cells) if c in CANONICAL}
                continue
            present = [c for c in cells if c]
            if not present:
                continue
            if len(present) == 1 and _FOOTNOTE.match(present[0]):
                quarantine.append((row_no, "", present[0], "footnote_row"))
                continue
            rec = {name: cells[i] for i, name in columns.items()}
            missing = next((f for f in REQUIRED if rec[f].upper() in MISSING), None)
            if missing:
                quarantine.append((row_no, missing, rec[missing], "missing_required"))
                continue
            code = rec["uscc"].replace(" ", "").replace("-", "").upper()
            try:
                stdnum_uscc.validate(code)
            except InvalidLength:
                quarantine.append((row_no, "uscc", rec["uscc"], "uscc_length"))
                continue
            except InvalidFormat:
                quarantine.append((row_no, "uscc", rec["uscc"], "uscc_charset"))
                continue
            except InvalidChecksum:
                quarantine.append((row_no, "uscc", rec["uscc"], "uscc_check_digit"))
                continue
            issued = _date(rec["issue_date"])
            if issued is None:
                quarantine.append((row_no, "issue_date", rec["issue_date"], "invalid_date"))
                continue
            if issued > today:
                quarantine.append((row_no, "issue_date", rec["issue_date"], "future_date"))
                continue
            field = FIELD_ALIASES.get(rec["tech_field"], rec["tech_field"])
            if field not in TECH_FIELDS:
                quarantine.append((row_no, "tech_field", rec["tech_field"], "unknown_category"))
                continue
            status = STATUS_ALIASES.get(rec.get("status", ""), rec.get("status", ""))
            if status and status not in STATUSES:
                quarantine.append((row_no, "status", rec["status"], "unknown_category"))
                continue
            display, key = _name(rec["enterprise_name"])
            park = rec.get("park", "")
            out = {
                "enterprise_name": display, "uscc": code, "certificate_no": rec["certificate_no"],
                "issue_date": issued.isoformat(), "year": issued.year,
                "expiry_year": issued.year + 3, "tech_field": field,
                "park": "" if park.upper() in MISSING else park, "status": status,
            }  # fmt: skip
            content = tuple(out.values())
            if content in seen_rows:
                quarantine.append((row_no, "", "", "duplicate_row"))
                continue
            seen_rows.add(content)
            k = (code, issued.year)
            by_key.setdefault(k, []).append(len(kept))
            names_by_key.setdefault(k, set()).add(key)
            kept.append((row_no, out))

    conflict: set[int] = set()
    for k, idx in by_key.items():
        if len(idx) > 1 and len(names_by_key[k]) > 1:
            conflict.update(idx)
    with open(out_dir / "hitech_certificates.csv", "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["enterprise_name", "uscc", "certificate_no", "issue_date", "year",
                    "expiry_year", "tech_field", "park", "status", "source_row"])  # fmt: skip
        for i, (row_no, out) in enumerate(kept):
            if i in conflict:
                quarantine.append((row_no, "uscc", out["uscc"], "duplicate_conflict"))
            else:
                w.writerow([*out.values(), row_no])
    with open(out_dir / "quarantine.csv", "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["source_row", "column", "value", "rule"])
        w.writerows(sorted(quarantine))
    counts: dict[str, int] = {
        "rows_clean": len(kept) - len(conflict),
        "rows_quarantined": len(quarantine),
    }
    for *_, rule in quarantine:
        counts[rule] = counts.get(rule, 0) + 1
    return counts
