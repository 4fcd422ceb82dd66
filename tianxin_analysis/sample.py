"""The synthetic sample: exports as the district receives them, with their usual mess.

``write_sample(raw_dir, seed)`` writes one folder per raw kind under ``raw_dir`` (see
``data/README.md`` for every column and every kind of mess). The same seed gives
byte-identical files: workbook timestamps and zip entry times are fixed.

Every file says it is synthetic (a ``数据说明`` column and a title or note line) and every
enterprise, unit and person in it is made up. ``build_sample(seed)`` returns the files'
contents in memory together with the list of seeded defects (which row, which rule), so
tests can check that each one lands in quarantine.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
from openpyxl.styles import Font
from stdnum.cn import uscc as stdnum_uscc

from ._fs import atomic_write_bytes

SYNTHETIC_NOTE = "模拟数据(synthetic sample)"
PROVENANCE_COLUMN = "数据说明"
# The registry snapshot and the monthly reports are exported after the year closed, so the
# whole of 2024 is there; forecasts truncate to their as-of month.
EXPORT_DATE = dt.date(2025, 1, 6)
PIPELINE_SNAPSHOT = dt.date(2024, 9, 30)
_FIXED_TIME = dt.datetime(2025, 1, 6, 9, 0, 0)
_ZIP_TIME = (2025, 1, 6, 9, 0, 0)
_EXCEL_EPOCH = dt.date(1899, 12, 30)

TECH_FIELDS = (
    "电子信息", "生物与新医药", "航空航天", "新材料",
    "高技术服务", "新能源与节能", "资源与环境", "先进制造与自动化",
)  # fmt: skip
PARKS = (
    "天心数谷", "地理信息产业园", "天心软件产业园", "文化广告产业园",
    "人力资源服务产业园", "大健康产业园", "光学仪器产业园", "天心经开区其他园区",
)  # fmt: skip
_FIELD_WEIGHTS = (0.34, 0.12, 0.02, 0.10, 0.20, 0.07, 0.06, 0.09)
_FIELD_TRADE = {
    "电子信息": ("信息技术", "软件", "数据科技", "智能科技"),
    "生物与新医药": ("生物科技", "医药科技", "健康科技"),
    "航空航天": ("航空科技", "空天科技"),
    "新材料": ("新材料", "材料科技"),
    "高技术服务": ("技术服务", "检测技术", "数字传媒"),
    "新能源与节能": ("能源科技", "节能科技"),
    "资源与环境": ("环境科技", "环保科技", "地理信息"),
    "先进制造与自动化": ("智能装备", "自动化科技", "光电科技"),
}
# Made-up two-character words; pairs of them make names that belong to no real enterprise.
_WORDS = (
    "星澜", "芯垣", "麓鸣", "禾岫", "霁川", "曜湾", "栖梧", "沐橙", "青穹", "岚羽",
    "砚溪", "弈光", "朔云", "汀兰", "峻禾", "云图", "星辰", "澜舟", "烁岚", "墨岫",
    "橙芯", "岳溪", "琥川", "翎光", "湘穗", "枫垣", "浔星", "柘岚", "溯源", "璟湾",
    "洵禾", "霖图", "珩宇", "曦岸", "黛岑", "篁溪", "瑾穹", "穗川", "澈岭", "蔚橙",
)  # fmt: skip
_SURNAMES = "王李张刘陈杨黄赵周吴徐孙胡朱高林何郭马罗"
_GIVEN = "明涛静磊婷军芳伟洋丽强敏杰霞勇娜斌超"


@dataclass(frozen=True)
class Defect:
    """One seeded problem: where it is and the quarantine rule that must catch it."""

    kind: str
    file: str  # relative to the raw folder: "<kind>/<name>"
    sheet: str  # "" for CSV
    row: int  # 1-based spreadsheet row
    rule: str


@dataclass
class SampleFile:
    """One generated export: its kind (raw sub-folder), file name and bytes."""

    kind: str
    name: str
    content: bytes

    @property
    def relpath(self) -> str:
        """The file's path under the raw folder, ``<kind>/<name>``."""
        return f"{self.kind}/{self.name}"


@dataclass
class SampleBundle:
    """The generated files and the defects seeded in them."""

    files: list[SampleFile] = field(default_factory=list)
    defects: list[Defect] = field(default_factory=list)


# ----------------------------------------------------------------------------- helpers


def _org_code(rng: np.random.Generator) -> str:
    """A 9-character organisation code with its GB 11714 check character."""
    body = "".join(str(d) for d in rng.integers(0, 10, 8))
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    c = 11 - sum(int(b) * w for b, w in zip(body, weights, strict=True)) % 11
    return body + ("X" if c == 10 else "0" if c == 11 else str(c))


def _uscc(rng: np.random.Generator, admin: str, prefix: str = "91") -> str:
    """A USCC with valid GB 32100 check digit (stdnum computes it)."""
    head = prefix + admin + _org_code(rng)
    return head + stdnum_uscc.calc_check_digit(head)


def _break_check_digit(code: str) -> str:
    """The code with a wrong check digit (the last character shifted by 7 in the alphabet),
    in the width it was written: a code an earlier defect made full-width stays full-width."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    last = unicodedata.normalize("NFKC", code[-1])
    new = alphabet[(alphabet.index(last) + 7) % 31]
    return code[:-1] + (_fullwidth(new) if last != code[-1] else new)


def _fullwidth(text: str) -> str:
    """ASCII digits and brackets as their full-width forms (as some input methods type them)."""
    table = {ord(c): chr(ord(c) + 0xFEE0) for c in "0123456789"}
    table.update({ord("("): "（", ord(")"): "）", ord("."): "．"})
    return text.translate(table)


def _excel_serial(d: dt.date) -> int:
    """Excel serial day number of a date (days since 1899-12-30)."""
    return (d - _EXCEL_EPOCH).days


def _person(rng: np.random.Generator) -> str:
    """A made-up masked name such as 王*明."""
    return _SURNAMES[rng.integers(len(_SURNAMES))] + "*" + _GIVEN[rng.integers(len(_GIVEN))]


def _personal_columns(rng: np.random.Generator, n: int) -> dict[str, list[str]]:
    """Fake personal data: masked names, 0000 phone numbers, 身份证号 with X in the middle."""
    return {
        "contact": [_person(rng) for _ in range(n)],
        "phone": [f"139-0000-{rng.integers(0, 10000):04d}" for _ in range(n)],
        "id_no": [f"4301031990{rng.integers(1, 13):02d}XXXX" for _ in range(n)],
        "email": [f"contact{rng.integers(100, 999)}@example.com" for _ in range(n)],
    }


def _date_cell(rng: np.random.Generator, d: dt.date, styles: tuple[str, ...]) -> object:
    """The same date the ways exports show it: a date cell, text, month text or a serial."""
    style = styles[rng.integers(len(styles))]
    if style == "date":
        return dt.datetime(d.year, d.month, d.day)
    if style == "iso":
        return d.isoformat()
    if style == "slash":
        return f"{d.year}/{d.month}/{d.day}"
    if style == "month_zh":
        return f"{d.year}年{d.month}月"
    if style == "month_dot":
        return f"{d.year}.{d.month:02d}"
    if style == "serial":
        return _excel_serial(d)
    raise ValueError(style)


def _thousands(value: float, decimals: int = 2) -> str:
    """A number as text with thousands separators (``1,234.50``)."""
    return f"{value:,.{decimals}f}"


class _Sheet:
    """Rows of one sheet with their spreadsheet row numbers; merges for titles and headers."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.rows: list[list[object]] = []
        self.merges: list[str] = []

    @property
    def next_row(self) -> int:
        """The 1-based row number the next added row gets."""
        return len(self.rows) + 1

    def add(self, cells: list[object]) -> int:
        """Append a row of cells; returns its 1-based row number."""
        self.rows.append(list(cells))
        return len(self.rows)


def _workbook_bytes(sheets: list[_Sheet]) -> bytes:
    """The sheets as xlsx bytes with fixed properties and zip times (the same sheets give the same
    bytes)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for spec in sheets:
        ws = wb.create_sheet(spec.title)
        for cells in spec.rows:
            ws.append(cells)
        for rng_ in spec.merges:
            ws.merge_cells(rng_)
        ws["A1"].font = Font(bold=True)
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, dt.datetime):
                    cell.number_format = "yyyy-mm-dd"
    wb.properties.creator = "tianxin-analysis sample generator"
    wb.properties.title = SYNTHETIC_NOTE
    wb.properties.created = _FIXED_TIME
    wb.properties.modified = _FIXED_TIME
    buf = io.BytesIO()
    wb.save(buf)
    return _fixed_zip_times(buf.getvalue())


def _fixed_zip_times(data: bytes) -> bytes:
    """Repack an xlsx with fixed entry times so the bytes depend on the content only."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                # openpyxl stamps "modified" with the time of saving; pin it.
                content = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + _FIXED_TIME.isoformat().encode() + rb"Z\g<2>",
                    content,
                )
            dst.writestr(fixed, content)
    return out.getvalue()


# ----------------------------------------------------------------------------- population


@dataclass(frozen=True)
class _Enterprise:
    """A made-up enterprise: name, credit code, technology field and park."""

    name: str
    uscc: str
    field: str
    park: str


def _enterprise_pool(rng: np.random.Generator, n: int) -> list[_Enterprise]:
    """``n`` made-up enterprises with distinct names, most registered in Tianxin (430103)."""
    pool: list[_Enterprise] = []
    seen: set[str] = set()
    admin_other = ("430102", "430104", "430105", "430111", "430112", "430121")
    while len(pool) < n:
        w1, w2 = rng.choice(len(_WORDS), 2, replace=False)
        tech = TECH_FIELDS[rng.choice(len(TECH_FIELDS), p=_FIELD_WEIGHTS)]
        trade = _FIELD_TRADE[tech][rng.integers(len(_FIELD_TRADE[tech]))]
        place = "长沙天心" if rng.random() < 0.55 else ("湖南" if rng.random() < 0.5 else "长沙")
        name = f"{place}{_WORDS[w1]}{_WORDS[w2]}{trade}有限公司"
        if name in seen:
            continue
        seen.add(name)
        admin = "430103" if rng.random() < 0.88 else admin_other[rng.integers(len(admin_other))]
        park = PARKS[rng.integers(len(PARKS))]
        pool.append(_Enterprise(name, _uscc(rng, admin), tech, park))
    return pool


def _name_variant(name: str, rng: np.random.Generator) -> str:
    """A spelling of the same enterprise's name that normalisation must map back."""
    r = rng.random()
    if r < 0.4:
        return name.replace("有限公司", "有限责任公司")
    if r < 0.7:
        return f" {name} "
    return name.replace("长沙天心", "长沙天心 ")


# ----------------------------------------------------------------------------- certificates

# Batch sizes (new + renewed certificates) so that valid certificates (last three batches)
# are about 480 at the end of 2023 and about 520 at the end of 2024.
_CERT_BATCH_SIZE = {2018: 118, 2019: 132, 2020: 146, 2021: 152, 2022: 158, 2023: 178, 2024: 196}
_RENEWAL_RATE = 0.66


def _certificate_holders(rng: np.random.Generator, n_pool: int) -> dict[int, list[int]]:
    """Pool indices of each batch year's certificate holders: renewals of the certificates
    expiring that year, then new holders never certified before."""
    holders: dict[int, list[int]] = {}
    used: set[int] = set()
    for year, size in _CERT_BATCH_SIZE.items():
        expiring = holders.get(year - 3, [])
        n_renew = min(round(_RENEWAL_RATE * len(expiring)), size)
        renew = sorted(rng.choice(expiring, n_renew, replace=False).tolist()) if n_renew else []
        valid_now = {i for y in (year - 1, year - 2) for i in holders.get(y, [])}
        candidates = [i for i in range(n_pool) if i not in used and i not in valid_now]
        new = rng.choice(candidates, size - n_renew, replace=False).tolist()
        used.update(new)
        holders[year] = sorted(renew + new)
    return holders


_CERT_HEADERS = {
    "old": ["序号", "企业名称", "统一社会信用代码", "证书编号", "发证时间", "高新技术领域",
            "所在园区", "证书状态", "联系人", "联系电话", "身份证号", "电子邮箱", PROVENANCE_COLUMN],
    "new": ["序号", "企业名称", "统一社会信用代码", "证书编号", "发证日期", "技术领域",
            "所属园区", "状态", "联系人", "手机", "身份证号", "邮箱", PROVENANCE_COLUMN],
}  # fmt: skip


def _certificate_status(year: int, member: int, revoked: set, moved: set) -> str:
    """A certificate's status on the export date."""
    if (year, member) in revoked:
        return "已撤销"
    if (year, member) in moved:
        return "已迁出"
    return "有效" if year >= EXPORT_DATE.year - 3 else "已过期"


def _certificate_rows(
    rng: np.random.Generator,
    pool: list[_Enterprise],
    year: int,
    members: list[int],
    revoked: set,
    moved: set,
) -> list[list[object]]:
    """One batch year's rows (13 cells each) in a shuffled order, issue dates in the
    batches announced from October to December, dates written in assorted styles."""
    n_batches = 2 if year < 2021 else 3
    batch_days = sorted(dt.date(year, 10 + b, int(rng.integers(8, 26))) for b in range(n_batches))
    serials = sorted(rng.choice(np.arange(1, 3600), len(members), replace=False).tolist())
    order = rng.permutation(len(members))
    personal = _personal_columns(rng, len(members))
    date_styles = ("date", "date", "iso", "serial", "month_zh", "month_dot")
    rows: list[list[object]] = []
    for pos, idx in enumerate(order):
        ent = pool[members[idx]]
        issue = batch_days[int(rng.integers(n_batches))]
        status = _certificate_status(year, members[idx], revoked, moved)
        park = ent.park if rng.random() > 0.04 else "/"
        rows.append([
            pos + 1, ent.name, ent.uscc, f"GR{year}43{serials[pos]:06d}",
            _date_cell(rng, issue, date_styles), ent.field, park, status,
            personal["contact"][pos], personal["phone"][pos], personal["id_no"][pos],
            personal["email"][pos], SYNTHETIC_NOTE,
        ])  # fmt: skip
    return rows


def _certificate_mess(rng: np.random.Generator, rows: list[list[object]]) -> None:
    """Harmless mess that cleaning must absorb (no quarantine): name spellings, full-width
    codes, a trailing space after the status."""
    for r in rng.choice(len(rows), 6, replace=False):
        rows[r][1] = _name_variant(str(rows[r][1]), rng)
    for r in rng.choice(len(rows), 3, replace=False):
        rows[r][2] = _fullwidth(str(rows[r][2]))
    for r in rng.choice(len(rows), 3, replace=False):
        rows[r][7] = str(rows[r][7]) + " "


def _certificate_defects(
    rng: np.random.Generator, rows: list[list[object]], year: int
) -> tuple[list[tuple[int, str]], int | None, int | None]:
    """Seed the year's defects into ``rows``: [(position in rows, rule)], the position of
    the row to repeat (duplicate_row) and of the row to give a twin (duplicate_conflict)."""
    defects: list[tuple[int, str]] = []
    picks = iter(rng.choice(len(rows), 6, replace=False).tolist())
    if year in (2019, 2022, 2024):
        _seed(rows, next(picks), 2, _break_check_digit, "uscc_check_digit", defects)
    if year in (2020, 2023):
        _seed(rows, next(picks), 5, "—", "missing_required", defects)
    if year == 2021:
        _seed(rows, next(picks), 5, "人工智能", "unknown_category", defects)
        _seed(rows, next(picks), 4, f"{year}-13-05", "invalid_date", defects)
    if year == 2023:
        _seed(rows, next(picks), 4, "2034-11-20", "future_date", defects)  # 2024 mistyped
    dup_of = next(picks) if year in (2020, 2023, 2024) else None
    conflict_of = next(picks) if year == 2022 else None
    return defects, dup_of, conflict_of


def _seed(
    rows: list[list[Any]], pos: int, col: int, value: Any, rule: str, defects: list[tuple[int, str]]
) -> None:
    """Seed one defect: cell ``col`` of row ``pos`` becomes ``value`` (or ``value(cell)`` when
    callable), and (pos, rule) is recorded."""
    rows[pos][col] = value(rows[pos][col]) if callable(value) else value
    defects.append((pos, rule))


def _negated(amount: Any) -> Any:
    """An amount with a minus sign: "-" before text, the negative of a number."""
    return f"-{amount}" if isinstance(amount, str) else -amount


def _add_rows(
    sheet: _Sheet, rows: list[list[object]], dup_of: int | None
) -> tuple[dict[int, int], list[tuple[int, str]]]:
    """Write ``rows`` (the row at ``dup_of`` twice in a row): each position's sheet row,
    and the repeated copy as [(-its sheet row, "duplicate_row")]."""
    row_of: dict[int, int] = {}
    found: list[tuple[int, str]] = []
    for pos, cells in enumerate(rows):
        row_of[pos] = sheet.add(cells)
        if pos == dup_of:
            found.append((-sheet.add(list(cells)), "duplicate_row"))
    return row_of, found


def _sheet_rows(defects: list[tuple[int, str]], row_of: dict[int, int]) -> list[tuple[int, str]]:
    """Defects as (sheet row, rule): a position in the rows through ``row_of``, a negative
    number as the sheet row it negates."""
    return [(-pos if pos < 0 else row_of[pos], rule) for pos, rule in defects]


def _certificates(rng: np.random.Generator, pool: list[_Enterprise], bundle: SampleBundle) -> None:
    """The high-tech certificate list: one sheet per batch year 2018-2024."""
    kind = "hitech_certificates"
    fname = "高新技术企业认定名单_2018-2024.xlsx"
    holders = _certificate_holders(rng, len(pool))
    revoked = {(2022, holders[2022][5]), (2023, holders[2023][17]), (2023, holders[2023][40])}
    moved = {(2022, holders[2022][60]), (2024, holders[2024][9])}
    sheets = []
    for year, members in holders.items():
        sheet = _Sheet(f"{year}年")
        ncol = 13
        sheet.add(
            [f"天心区{year}年度高新技术企业认定名单（{SYNTHETIC_NOTE}）"] + [None] * (ncol - 1)
        )
        sheet.merges.append(f"A1:{chr(64 + ncol)}1")
        sheet.add([f"导出日期：{EXPORT_DATE.isoformat()}"] + [None] * (ncol - 1))
        sheet.add(_CERT_HEADERS["old" if year < 2021 else "new"])
        rows = _certificate_rows(rng, pool, year, members, revoked, moved)
        _certificate_mess(rng, rows)
        # Defects: each row below must land in quarantine with the rule recorded.
        defects, dup_of, conflict_of = _certificate_defects(rng, rows, year)
        row_of, found = _add_rows(sheet, rows, dup_of)
        defects += found
        if conflict_of is not None:
            twin = list(rows[conflict_of])
            twin[1] = f"长沙{_WORDS[3]}{_WORDS[11]}信息技术有限公司"
            twin[0] = len(rows) + 1
            # Same USCC and batch year, different enterprise: neither row can be trusted.
            defects.append((-sheet.add(twin), "duplicate_conflict"))
            defects.append((conflict_of, "duplicate_conflict"))
        for row, rule in _sheet_rows(defects, row_of):
            bundle.defects.append(Defect(kind, f"{kind}/{fname}", sheet.title, row, rule))
        sheet.add([None] * ncol)
        for note in ("注：1. 本表为模拟数据，企业名称与代码均为虚构。", "2. 状态截至导出日期。"):
            r = sheet.add([note] + [None] * (ncol - 1))
            bundle.defects.append(Defect(kind, f"{kind}/{fname}", sheet.title, r, "footnote_row"))
        sheets.append(sheet)
    bundle.files.append(SampleFile(kind, fname, _workbook_bytes(sheets)))


# ----------------------------------------------------------------------------- tech SMEs

_SME_TOTAL = {2019: 268, 2020: 322, 2021: 388, 2022: 446, 2023: 502, 2024: 551}
_SME_REREGISTER = 0.8
# Share of a year's registrations by month: the evaluation system opens in spring and most
# enterprises register between March and June.
_SME_MONTH_SHARE = np.array(
    [0.02, 0.03, 0.10, 0.14, 0.16, 0.15, 0.10, 0.08, 0.07, 0.06, 0.05, 0.04]
)


def _sme_members(rng: np.random.Generator, n_pool: int, prev: list[int], total: int) -> list[int]:
    """Pool indices registered in a year: most of last year's again, then others."""
    n_re = min(round(_SME_REREGISTER * len(prev)), total)
    again = rng.choice(prev, n_re, replace=False).tolist() if n_re else []
    others = [i for i in range(n_pool) if i not in set(again)]
    return again + rng.choice(others, total - n_re, replace=False).tolist()


def _sme_header(old: bool) -> list[str]:
    """Column headers: the old system's names up to 2021, the new system's after."""
    first = (
        ["序号", "登记编号", "企业名称", "信用代码", "入库时间", "入库批次", "评价年度"]
        if old
        else ["序号", "入库登记编号", "企业名称", "统一社会信用代码", "入库日期", "批次", "年度"]
    )
    return first + ["联系人", "手机号码", "身份证号", "邮箱", PROVENANCE_COLUMN]


def _sme_rows(
    rng: np.random.Generator, pool: list[_Enterprise], year: int, members: list[int], old: bool
) -> list[list[str]]:
    """One year's registrations (12 text cells each), months drawn by ``_SME_MONTH_SHARE``
    in date order, one batch a month."""
    total = len(members)
    months = np.sort(rng.choice(np.arange(1, 13), total, p=_SME_MONTH_SHARE))
    personal = _personal_columns(rng, total)
    styles = ("iso", "iso", "slash", "month_zh", "month_dot", "serial")
    order = rng.permutation(total)
    rows: list[list[str]] = []
    for pos in range(total):
        ent = pool[members[order[pos]]]
        m = int(months[pos])
        day = int(rng.integers(1, 28))
        reg = dt.date(year, m, day)
        batch = m  # one batch a month
        rows.append([
            str(pos + 1), f"{year}4301030{pos + 1:04d}", ent.name, ent.uscc,
            str(_date_cell(rng, reg, styles)),
            f"第{batch}批" if old else str(batch),
            f"{year}年" if rng.random() < 0.3 else str(year),
            personal["contact"][pos], personal["phone"][pos], personal["id_no"][pos],
            personal["email"][pos], SYNTHETIC_NOTE,
        ])  # fmt: skip
    return rows


def _sme_defects(
    rng: np.random.Generator, rows: list[list[str]], year: int
) -> tuple[list[tuple[int, str]], int | None]:
    """Harmless mess (name spellings, full-width codes), then the year's defects:
    [(position in rows, rule)] and the position of the row to repeat (duplicate_row)."""
    total = len(rows)
    for r in rng.choice(total, 5, replace=False):
        rows[r][2] = _name_variant(rows[r][2], rng)
    for r in rng.choice(total, 3, replace=False):
        rows[r][3] = _fullwidth(rows[r][3])
    defects: list[tuple[int, str]] = []
    picks = iter(rng.choice(total, 4, replace=False).tolist())
    _seed(rows, next(picks), 3, _break_check_digit, "uscc_check_digit", defects)
    if year in (2020, 2023):
        _seed(rows, next(picks), 3, "/", "missing_required", defects)
    if year == 2022:
        _seed(rows, next(picks), 4, "2022-02-30", "invalid_date", defects)
    dup_of = next(picks) if year in (2021, 2024) else None
    return defects, dup_of


def _sme_lines(
    rows: list[list[str]], defects: list[tuple[int, str]], dup_of: int | None, data_start: int
) -> tuple[list[list[str]], list[tuple[int, str]]]:
    """The data lines (the repeated row right after its original) and each defect's file
    line (1-based, from ``data_start``) with its rule."""
    out_rows: list[list[str]] = []
    row_of: dict[int, int] = {}
    found: list[tuple[int, str]] = []  # lines written here: their number, as a negative
    for pos, cells in enumerate(rows):
        out_rows.append(cells)
        row_of[pos] = data_start + len(out_rows) - 1
        if pos == dup_of:
            out_rows.append(list(cells))
            found.append((-(data_start + len(out_rows) - 1), "duplicate_row"))
    located = [(-pos if pos < 0 else row_of[pos], rule) for pos, rule in defects + found]
    return out_rows, located


def _smes(rng: np.random.Generator, pool: list[_Enterprise], bundle: SampleBundle) -> None:
    """The tech-SME registration lists: one GBK CSV per year 2019-2024."""
    kind = "tech_sme_registrations"
    prev: list[int] = []
    for year, total in _SME_TOTAL.items():
        fname = f"科技型中小企业入库名单_{year}.csv"
        members = _sme_members(rng, len(pool), prev, total)
        prev = members
        old = year <= 2021
        lines: list[list[str]] = []
        if old:
            lines.append([f"{year}年科技型中小企业评价入库名单（{SYNTHETIC_NOTE}）"])
        lines.append(_sme_header(old))
        data_start = len(lines) + 1
        rows = _sme_rows(rng, pool, year, members, old)
        defects, dup_of = _sme_defects(rng, rows, year)
        out_rows, located = _sme_lines(rows, defects, dup_of, data_start)
        for row, rule in located:
            bundle.defects.append(Defect(kind, f"{kind}/{fname}", "", row, rule))
        lines.extend(out_rows)
        if not old:
            lines.append([f"注：{SYNTHETIC_NOTE}，企业名称与代码均为虚构。"])
            bundle.defects.append(Defect(kind, f"{kind}/{fname}", "", len(lines), "footnote_row"))
        text = "\r\n".join(",".join(_csv_cell(c) for c in line) for line in lines) + "\r\n"
        bundle.files.append(SampleFile(kind, fname, text.encode("gbk")))


def _csv_cell(value: str) -> str:
    """A CSV field, quoted when it holds a comma, quote or line break."""
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


# ----------------------------------------------------------------------------- contracts

# Annual totals (contracts, 万元); 2024 ends close to the targets of 4,500 and 145亿元.
_CONTRACTS = {
    2019: (3540, 1_012_000), 2020: (3710, 1_078_000), 2021: (3960, 1_174_000),
    2022: (4130, 1_263_000), 2023: (4340, 1_362_000), 2024: (4530, 1_468_000),
}  # fmt: skip
# Monthly profile: slow start around the Spring Festival, quarter ends, strong December.
_CONTRACT_PROFILE = np.array([4, 3.5, 7, 7, 7.5, 10, 7, 7, 8.5, 7, 9, 22.5])
_VALUE_PROFILE = np.array([3.5, 3, 6.5, 6.5, 7, 10, 6.5, 6.5, 8.5, 6.5, 9, 26.5])
_JAN_FEB_COMBINED = {2019, 2021, 2023}


def _split(total: float, profile: np.ndarray, rng: np.random.Generator, integer: bool) -> list:
    """``total`` split over 12 months along ``profile`` with noise (integers summing to it when
    ``integer``)."""
    share = profile / profile.sum() * rng.normal(1, 0.06, 12)
    raw = total * share / share.sum()
    if not integer:
        vals = np.round(raw, 1)
        vals[-1] = round(total - vals[:-1].sum(), 1)
        return vals.tolist()
    vals = np.floor(raw).astype(int)
    vals[-1] += int(total - vals.sum())
    return vals.tolist()


def _contracts(rng: np.random.Generator, bundle: SampleBundle) -> None:
    """The monthly technology-contract report 2019-2024: counts and values (万元), one sheet a
    year."""
    kind = "tech_contracts"
    fname = "技术合同登记月报_2019-2024.xlsx"
    sheets = []
    for year, (n_total, v_total) in _CONTRACTS.items():
        counts = _split(n_total, _CONTRACT_PROFILE, rng, integer=True)
        values = _split(v_total, _VALUE_PROFILE, rng, integer=False)
        unit_yi = year == 2020  # this year's sheet reports 亿元
        unit = "亿元" if unit_yi else "万元"
        sheet = _Sheet(f"{year}年")
        sheet.add(
            [
                f"天心区技术合同登记情况月报（{year}年）{SYNTHETIC_NOTE}",
                None,
                None,
                None,
                None,
                None,
            ]
        )
        sheet.merges.append("A1:F1")
        sheet.add([f"单位：项、{unit}", None, None, None, None, None])
        sheet.add(["月份", "本月", None, "累计", None, PROVENANCE_COLUMN])
        sheet.add(
            [None, "合同数（项）", f"成交额（{unit}）", "合同数（项）", f"成交额（{unit}）", None]
        )
        sheet.merges.extend(["B3:C3", "D3:E3", "A3:A4", "F3:F4"])
        periods: list[tuple[str, int, float]] = []
        if year in _JAN_FEB_COMBINED:
            periods.append(("1-2月", counts[0] + counts[1], values[0] + values[1]))
            start = 2
        else:
            start = 0
        periods += [(f"{m + 1}月", counts[m], values[m]) for m in range(start, 12)]
        cum_n, cum_v = 0, 0.0
        for label, n, v in periods:
            cum_n += n
            cum_v += v
            scale = 1e-4 if unit_yi else 1
            v_cell: object = round(v * scale, 4)
            cv_cell: object = round(cum_v * scale, 4)
            if not unit_yi and rng.random() < 0.4:
                v_cell, cv_cell = _thousands(v, 1), _thousands(cum_v, 1)
            n_cell: object = n
            if rng.random() < 0.1:
                n_cell = _fullwidth(str(n))
            r = sheet.add([label, n_cell, v_cell, cum_n, cv_cell, SYNTHETIC_NOTE])
            if year == 2019 and label == "5月":
                # The cumulative count disagrees with the running sum of the monthly counts.
                sheet.rows[r - 1][3] = cum_n + 40
                bundle.defects.append(
                    Defect(kind, f"{kind}/{fname}", sheet.title, r, "cumulative_mismatch")
                )
        if year == 2022:
            r = sheet.add(["合计", n_total, _thousands(v_total, 1), None, None, SYNTHETIC_NOTE])
            bundle.defects.append(Defect(kind, f"{kind}/{fname}", sheet.title, r, "total_row"))
        r = sheet.add(
            ["注：成交额按登记合同金额统计；本表为模拟数据。", None, None, None, None, None]
        )
        bundle.defects.append(Defect(kind, f"{kind}/{fname}", sheet.title, r, "footnote_row"))
        sheets.append(sheet)
    bundle.files.append(SampleFile(kind, fname, _workbook_bytes(sheets)))


# ----------------------------------------------------------------------------- value added

# Annual value added (亿元) and cumulative growth at comparable prices (%) at year end.
_VA_YEAR = {2019: 402.0, 2020: 431.5, 2021: 478.2, 2022: 519.6, 2023: 571.8, 2024: 628.4}
_VA_GROWTH = {2019: 12.4, 2020: 8.6, 2021: 12.9, 2022: 9.8, 2023: 10.6, 2024: 11.3}


def _value_added(rng: np.random.Generator, bundle: SampleBundle) -> None:
    """High-tech industry value added (亿元) and growth (%), cumulative by month, one sheet a year."""
    kind = "hitech_value_added"
    fname = "高新技术产业增加值_2019-2024.xlsx"
    share = np.cumsum(np.array([0, 13.5, 8.2, 8.0, 8.3, 8.6, 8.0, 8.1, 8.4, 8.3, 8.5, 12.1]))
    share = share / share[-1]
    sheets = []
    for year, total in _VA_YEAR.items():
        sheet = _Sheet(f"{year}年")
        sheet.add([f"{year}年天心区高新技术产业增加值（{SYNTHETIC_NOTE}）", None, None, None])
        sheet.merges.append("A1:D1")
        sheet.add(["时期", "累计增加值（亿元）", "累计增长（%）", PROVENANCE_COLUMN])
        # Cumulative growth drifts from its early-year level towards the year-end figure.
        start = _VA_GROWTH[year] + rng.normal(0.9, 0.4)
        for m in range(2, 13):
            g = start + (_VA_GROWTH[year] - start) * (m - 2) / 10 + rng.normal(0, 0.15)
            if m == 12:
                g = _VA_GROWTH[year]
            va = total * share[m - 1]
            label = f"{year}年1-{m}月"
            va_cell: object = round(va, 2)
            g_cell: object = round(g, 1)
            if rng.random() < 0.25:
                g_cell = f"{g:.1f}%"
            if rng.random() < 0.1:
                va_cell = _fullwidth(f"{va:.2f}")
            if year == 2019 and m == 4:
                va_cell = f"{va * 1e4:,.0f}万元"  # one cell in 万元 instead of 亿元
            r = sheet.add([label, va_cell, g_cell, SYNTHETIC_NOTE])
            if year == 2020 and m == 7:
                sheet.rows[r - 1][2] = round(g * 100)  # decimal point lost: 8.62 -> 862
                bundle.defects.append(
                    Defect(kind, f"{kind}/{fname}", sheet.title, r, "out_of_range")
                )
            if year == 2021 and m == 9:
                sheet.rows[r - 1][0] = f"{year}年1-13月"
                bundle.defects.append(
                    Defect(kind, f"{kind}/{fname}", sheet.title, r, "invalid_period")
                )
            if year == 2022 and m == 6:
                r2 = sheet.add(list(sheet.rows[r - 1]))
                bundle.defects.append(
                    Defect(kind, f"{kind}/{fname}", sheet.title, r2, "duplicate_row")
                )
        r = sheet.add(["注：增速按可比价格计算。", None, None, None])
        bundle.defects.append(Defect(kind, f"{kind}/{fname}", sheet.title, r, "footnote_row"))
        sheets.append(sheet)
    bundle.files.append(SampleFile(kind, fname, _workbook_bytes(sheets)))


# ----------------------------------------------------------------------------- R&D and GDP

_GDP = {2018: 1183.6, 2019: 1262.9, 2020: 1301.7, 2021: 1412.4, 2022: 1456.8, 2023: 1521.3}
_RD_INTENSITY = {2018: 2.36, 2019: 2.45, 2020: 2.53, 2021: 2.62, 2022: 2.70, 2023: 2.82}
_NON_ENTERPRISE_UNITS = (
    ("长沙星澜理工学院", "高校", 0.16), ("湘麓医科学院", "高校", 0.09),
    ("湖南云岫测绘研究院", "科研院所", 0.045), ("长沙禾岫农业科学研究所", "科研院所", 0.02),
    ("湖南曜湾光学仪器研究所", "科研院所", 0.03), ("天心区砚溪生产力促进中心", "其他", 0.006),
    ("长沙朔云医院", "其他", 0.012),
)  # fmt: skip


def _rd_amount_cell(rng: np.random.Generator, val: float) -> object:
    """An R&D amount (万元) as exports write it: a number, or text with thousands
    separators, in 亿元, or with its unit."""
    cell: object = round(float(val), 1)
    r = rng.random()
    if r < 0.2:
        cell = _thousands(val, 1)
    elif r < 0.27:
        cell = f"{val / 1e4:.4f}亿元"
    elif r < 0.33:
        cell = f"{val:.1f}万元"
    return cell


def _rd_entries(
    rng: np.random.Generator,
    pool: list[_Enterprise],
    year: int,
    units: list[tuple[str, str, float, str]],
    firms: list[int],
    firm_weight: np.ndarray,
) -> list[tuple[str, str, str, float]]:
    """(name, code, unit type, R&D expenditure in 万元) of each reporting unit in ``year``:
    the fixed non-enterprise units, then the enterprises active that year, together
    spending the district's GDP times its R&D intensity."""
    total = _GDP[year] * 1e4 * _RD_INTENSITY[year] / 100  # 万元
    active = [f for f in firms if rng.random() < 0.55 + 0.07 * (year - 2018)]
    fixed_share = sum(s for _, _, s, _ in units)
    weights = np.array([firm_weight[firms.index(f)] for f in active])
    firm_vals = total * (1 - fixed_share) * weights / weights.sum()
    entries = [(n, u, t, total * s) for n, t, s, u in units]
    entries += [
        (pool[f].name, pool[f].uscc, "企业", v) for f, v in zip(active, firm_vals, strict=True)
    ]
    return entries


def _rd_defects(
    rng: np.random.Generator, rows: list[list[object]], year: int, n_units: int
) -> tuple[list[tuple[int, str]], int | None]:
    """Name spellings, then the year's defects among the enterprise rows (after the
    ``n_units`` fixed units): [(position in rows, rule)] and the row to repeat."""
    for r in rng.choice(range(n_units, len(rows)), 4, replace=False):
        rows[r][1] = _name_variant(str(rows[r][1]), rng)
    defects: list[tuple[int, str]] = []
    picks = iter(rng.choice(range(n_units, len(rows)), 5, replace=False).tolist())
    if year in (2019, 2022):
        _seed(rows, next(picks), 5, _negated, "negative_amount", defects)
    if year in (2018, 2021, 2023):
        _seed(rows, next(picks), 5, "—", "missing_required", defects)
    if year == 2020:
        _seed(rows, next(picks), 5, "约1200", "invalid_number", defects)
        _seed(rows, next(picks), 3, "个体户", "unknown_category", defects)
    if year == 2021:
        _seed(rows, next(picks), 2, _break_check_digit, "uscc_check_digit", defects)
    dup_of = next(picks) if year == 2022 else None
    return defects, dup_of


def _rd_expenditure(
    rng: np.random.Generator, pool: list[_Enterprise], bundle: SampleBundle
) -> None:
    """R&D expenditure by reporting unit: one sheet per year 2018-2023."""
    kind = "rd_expenditure"
    fname = "研发经费支出统计_2018-2023.xlsx"
    units = [(name, typ, share, _uscc(rng, "430103", prefix="12")) for name, typ, share in
             _NON_ENTERPRISE_UNITS]  # fmt: skip
    firms = rng.choice(len(pool), 190, replace=False).tolist()
    firm_weight = rng.lognormal(0, 1.1, len(firms))
    sheets = []
    for year in _GDP:
        sheet = _Sheet(f"{year}")
        sheet.add(
            [f"{year}年天心区研究与试验发展(R&D)经费支出情况（{SYNTHETIC_NOTE}）"] + [None] * 8
        )
        sheet.merges.append("A1:I1")
        header = ["序号", "单位名称", "统一社会信用代码", "单位类型", "统计年度",
                  "研发经费内部支出（万元）", "填报人", "联系电话", PROVENANCE_COLUMN]  # fmt: skip
        if year <= 2019:
            header[5] = "R&D经费支出（万元）"
        sheet.add(header)
        entries = _rd_entries(rng, pool, year, units, firms, firm_weight)
        personal = _personal_columns(rng, len(entries))
        rows = []
        for pos, (name, code, typ, val) in enumerate(entries):
            cell = _rd_amount_cell(rng, val)
            rows.append([pos + 1, name, code, typ, f"{year}年" if rng.random() < 0.2 else year,
                         cell, personal["contact"][pos], personal["phone"][pos], SYNTHETIC_NOTE])  # fmt: skip
        defects, dup_of = _rd_defects(rng, rows, year, len(units))
        row_of, found = _add_rows(sheet, rows, dup_of)
        for row, rule in _sheet_rows(defects + found, row_of):
            bundle.defects.append(Defect(kind, f"{kind}/{fname}", sheet.title, row, rule))
        r = sheet.add(["注：本表为模拟数据；单位类型按统计制度划分。"] + [None] * 8)
        bundle.defects.append(Defect(kind, f"{kind}/{fname}", sheet.title, r, "footnote_row"))
        sheets.append(sheet)
    bundle.files.append(SampleFile(kind, fname, _workbook_bytes(sheets)))


def _district_gdp(bundle: SampleBundle) -> None:
    """The district's GDP (亿元) by year with growth (%), amounts in assorted notations."""
    kind = "district_gdp"
    fname = "地区生产总值_2018-2023.xlsx"
    sheet = _Sheet("地区生产总值")
    sheet.add([f"天心区地区生产总值（{SYNTHETIC_NOTE}）", None, None, None])
    sheet.merges.append("A1:D1")
    sheet.add(["年份", "地区生产总值（亿元）", "增速（%）", PROVENANCE_COLUMN])
    prev = None
    for year, gdp in _GDP.items():
        growth = "—" if prev is None else round((gdp / prev - 1) * 100 - 1.5, 1)
        cell: object = _thousands(gdp, 2) if year % 2 else round(gdp, 2)
        if year == 2021:
            cell = f"{gdp * 1e4:,.0f}万元"
        sheet.add([f"{year}年", cell, growth, SYNTHETIC_NOTE])
        prev = gdp
    r = sheet.add(["注：2023年为初步核算数；本表为模拟数据。", None, None, None])
    bundle.defects.append(Defect(kind, f"{kind}/{fname}", sheet.title, r, "footnote_row"))
    bundle.files.append(SampleFile(kind, fname, _workbook_bytes([sheet])))


def _rd_and_gdp(rng: np.random.Generator, pool: list[_Enterprise], bundle: SampleBundle) -> None:
    """R&D expenditure and district GDP (the two halves of the R&D intensity)."""
    _rd_expenditure(rng, pool, bundle)
    _district_gdp(bundle)


# ----------------------------------------------------------------------------- pipelines

# (sheet, header for the candidate, categories, stage counts, expected months for open items)
_PIPELINES = {
    "科创平台": ("平台名称", ("市级工程技术研究中心", "省级工程技术研究中心", "市级企业技术中心",
                          "省级重点实验室", "市级新型研发机构"),
                 {"已认定": 7, "评审中": 4, "申报中": 3, "储备": 4, "未通过": 2}),
    "创新创业楼宇": ("楼宇名称", ("创新创业楼宇", "科技企业孵化器", "众创空间"),
                   {"已认定": 1, "评审中": 1, "申报中": 0, "储备": 2, "未通过": 1}),
    "科技副总": ("姓名", ("高校派出", "科研院所派出"),
               {"已认定": 11, "评审中": 0, "申报中": 1, "储备": 2, "未通过": 0}),
    "区级科技创新人才": ("姓名", ("领军人才", "青年英才", "创新团队负责人"),
                       {"已认定": 0, "评审中": 13, "申报中": 0, "储备": 3, "未通过": 0}),
}  # fmt: skip
_BUILDING_WORDS = ("星澜大厦", "云图创新中心", "岳溪科创园B栋", "砚溪智谷", "霁川数字港")


def _pipelines(rng: np.random.Generator, bundle: SampleBundle) -> None:
    """The project pipeline ledger as of ``PIPELINE_SNAPSHOT``: one sheet per pipeline, with
    stages."""
    kind = "pipelines"
    fname = f"科创项目储备台账_{PIPELINE_SNAPSHOT.isoformat()}.xlsx"
    sheets = []
    styles = ("date", "iso", "month_zh", "month_dot", "serial")
    for sheet_name, (cand_header, categories, stages) in _PIPELINES.items():
        sheet = _Sheet(sheet_name)
        ncol = 11
        sheet.add([f"天心区2024年{sheet_name}项目储备台账（截至{PIPELINE_SNAPSHOT:%Y年%m月%d日}）"
                   f"{SYNTHETIC_NOTE}"] + [None] * (ncol - 1))  # fmt: skip
        sheet.merges.append(f"A1:{chr(64 + ncol)}1")
        sheet.add(["序号", cand_header, "类别", "推进阶段", "预计认定时间", "认定时间", "计划年度",
                   "责任单位", "联系人", "联系电话", PROVENANCE_COLUMN])  # fmt: skip
        rows = []
        seen: set[str] = set()
        n = 0
        for stage, count in stages.items():
            for _ in range(count):
                n += 1
                while True:
                    if sheet_name == "科创平台":
                        word = _WORDS[rng.integers(len(_WORDS))]
                        cand = f"长沙{word}{categories[n % len(categories)][2:]}"
                    elif sheet_name == "创新创业楼宇":
                        cand = _BUILDING_WORDS[(n - 1) % len(_BUILDING_WORDS)]
                    else:
                        cand = _person(rng)
                    if cand not in seen:
                        break
                seen.add(cand)
                category = categories[int(rng.integers(len(categories)))]
                if stage == "已认定":
                    rec = dt.date(2024, int(rng.integers(3, 10)), int(rng.integers(1, 28)))
                    exp = rec
                elif stage == "未通过":
                    rec, exp = None, dt.date(2024, int(rng.integers(4, 9)), 15)
                else:
                    rec = None
                    lo = {"评审中": 10, "申报中": 11, "储备": 12}[stage]
                    month = int(rng.integers(lo, 13))
                    year = 2024 if not (sheet_name == "创新创业楼宇" and stage == "储备") else 2025
                    exp = dt.date(year, month if year == 2024 else 3, 30)
                person = _personal_columns(rng, 1)
                rows.append([n, cand, category, stage + (" " if rng.random() < 0.1 else ""),
                             _date_cell(rng, exp, styles),
                             None if rec is None else _date_cell(rng, rec, styles),
                             2024, f"天心区科技{'平台' if n % 2 else '人才'}服务中心",
                             person["contact"][0], person["phone"][0], SYNTHETIC_NOTE])  # fmt: skip
        order = rng.permutation(len(rows))
        rows = [rows[i] for i in order]
        for i, cells in enumerate(rows):
            cells[0] = i + 1
        for cells in rows:
            r = sheet.add(cells)
        if sheet_name == "科创平台":
            r = sheet.add(list(rows[3]))
            bundle.defects.append(Defect(kind, f"{kind}/{fname}", sheet_name, r, "duplicate_row"))
            extra = [len(rows) + 1, "长沙澈岭新型研发机构", "市级新型研发机构", "待定", "2024年12月",
                     None, 2024, "天心区科技平台服务中心", "陈*", "139-0000-0001", SYNTHETIC_NOTE]  # fmt: skip
            r = sheet.add(extra)
            bundle.defects.append(
                Defect(kind, f"{kind}/{fname}", sheet_name, r, "unknown_category")
            )
        sheets.append(sheet)
    bundle.files.append(SampleFile(kind, fname, _workbook_bytes(sheets)))


# ----------------------------------------------------------------------------- public API

SAMPLE_KINDS = (
    "hitech_certificates", "tech_sme_registrations", "tech_contracts", "hitech_value_added",
    "rd_expenditure", "district_gdp", "pipelines",
)  # fmt: skip


def build_sample(seed: int = 2024) -> SampleBundle:
    """Generate every sample file in memory, with the list of defects seeded into them."""
    children = np.random.SeedSequence(seed).spawn(7)
    rngs = [np.random.default_rng(c) for c in children]
    bundle = SampleBundle()
    pool = _enterprise_pool(rngs[0], 1100)
    _certificates(rngs[1], pool, bundle)
    _smes(rngs[2], pool, bundle)
    _contracts(rngs[3], bundle)
    _value_added(rngs[4], bundle)
    _rd_and_gdp(rngs[5], pool, bundle)
    _pipelines(rngs[6], bundle)
    bundle.defects.sort(key=lambda d: (d.kind, d.file, d.sheet, d.row))
    return bundle


def write_sample(raw_dir: str | Path, seed: int = 2024) -> list[Path]:
    """Write the synthetic exports under ``raw_dir/<kind>/``; return the paths written.

    Deterministic: the same seed gives byte-identical files. Only the sample's own file
    names are written; other files in the folders (an analyst's real exports) are left alone.
    """
    raw_dir = Path(raw_dir)
    bundle = build_sample(seed)
    written = []
    for f in bundle.files:
        target = raw_dir / f.kind / f.name
        atomic_write_bytes(target, f.content)
        written.append(target)
    return written


def sample_region_codes(n: int) -> list[str]:
    """``n`` made-up six-digit county codes under Hunan's province code (43), ascending:
    430101…430120, 430201…; for generating many regions' exports."""
    return [f"43{1 + i // 20:02d}{1 + i % 20:02d}" for i in range(n)]


def write_region_sample(raw_dir: str | Path, region_code: str) -> list[Path]:
    """Write one region's synthetic exports under ``raw_dir/<region_code>/<kind>/`` (the
    many-region layout ``tianxin clean`` reads), seeded by the region code: the same code
    gives byte-identical files, two codes different numbers. Labelled synthetic like the
    sample (its titles still name 天心区: made-up data, not the region's)."""
    code = str(region_code)
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        raise ValueError(f"region code must be six digits, got {region_code!r}")
    return write_sample(Path(raw_dir) / code, seed=int(code))
