"""A large synthetic 高新技术企业 certificate registry with the sample's kinds of mess.

``write_registry_csv(path, n_rows, seed)`` writes one UTF-8 CSV export of ``n_rows`` data rows
(plus two title rows, the header, a blank row and two footnote rows) in the layout of the
sample's certificate sheets (``tianxin_analysis.sample``): the same header labels, personal
columns the pipeline must drop, the 数据说明 provenance column, and at fixed rates

* harmless mess the cleaning must absorb: name spellings (有限责任公司, padding spaces, a space
  after 长沙天心), full-width USCCs, lower-case USCCs with spaces, status with a trailing space,
  park "/", technology fields under their long names, dates as ISO text, Excel serials,
  "2021年10月", "2021.10" and "2021/10/12";
* defects that must land in quarantine: wrong USCC check digits, truncated USCCs, a missing
  technology field ("—"), an unknown field, an impossible date (month 13), a future date
  (2204 for 2024), exact duplicate rows and USCC conflicts (same code and batch year, another
  enterprise).

Vectorised with numpy/pandas (a million rows take a few seconds); deterministic in ``seed``.
Everything is made up.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from tianxin_analysis.identifiers import generate_uscc

HEADER = ["序号", "企业名称", "统一社会信用代码", "证书编号", "发证日期", "技术领域", "所属园区",
          "状态", "联系人", "手机", "身份证号", "邮箱", "数据说明"]  # fmt: skip
NOTE = "模拟数据(synthetic sample)"
YEARS = np.arange(2018, 2025)
TECH_FIELDS = np.array(["电子信息", "生物与新医药", "航空航天", "新材料", "高技术服务",
                        "新能源与节能", "资源与环境", "先进制造与自动化"])  # fmt: skip
FIELD_WEIGHTS = np.array([0.34, 0.12, 0.02, 0.10, 0.20, 0.07, 0.06, 0.09])
LONG_FIELD_NAMES = {
    "新材料": "新材料技术",
    "航空航天": "航空航天技术",
    "资源与环境": "资源与环境技术",
}
PARKS = np.array(["天心数谷", "地理信息产业园", "天心软件产业园", "文化广告产业园",
                  "人力资源服务产业园", "大健康产业园", "光学仪器产业园", "天心经开区其他园区"])  # fmt: skip
WORDS = np.array("星澜 芯垣 麓鸣 禾岫 霁川 曜湾 栖梧 沐橙 青穹 岚羽 砚溪 弈光 朔云 汀兰 峻禾 云图 "
                 "星辰 澜舟 烁岚 墨岫 橙芯 岳溪 琥川 翎光 湘穗 枫垣 浔星 柘岚 溯源 璟湾 洵禾 霖图 "
                 "珩宇 曦岸 黛岑 篁溪 瑾穹 穗川 澈岭 蔚橙".split())  # fmt: skip
TRADES = np.array(["信息技术", "软件", "数据科技", "智能科技", "生物科技", "医药科技", "新材料",
                   "技术服务", "检测技术", "能源科技", "环保科技", "智能装备", "光电科技"])  # fmt: skip
PLACES = np.array(["长沙天心", "湖南", "长沙"])
ADMIN_CODES = ("430103",) * 8 + ("430102", "430104", "430105", "430111")
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

# Rates per data row.
MESS_RATES = {
    "name_variant": 0.03, "uscc_fullwidth": 0.015, "uscc_spaced_lower": 0.01,
    "status_space": 0.02, "park_slash": 0.04, "field_long_name": 0.03,
}  # fmt: skip
DEFECT_RATES = {
    "uscc_check_digit": 0.005, "uscc_length": 0.001, "missing_required": 0.003,
    "unknown_category": 0.002, "invalid_date": 0.002, "future_date": 0.001,
    "duplicate_row": 0.005, "duplicate_conflict": 0.001,
}  # fmt: skip
_EXCEL_EPOCH = np.datetime64("1899-12-30")


def _cat(*parts: pd.Series | str) -> pd.Series:
    out = parts[0]
    for p in parts[1:]:
        out = out + p
    return out


def _pick(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    return rng.random(n) < rate


def registry_frame(n_rows: int, seed: int = 7) -> pd.DataFrame:
    """The registry's data rows (strings, columns ``HEADER``) before writing."""
    rng = np.random.default_rng(seed)
    n_dup = int(round(n_rows * DEFECT_RATES["duplicate_row"]))
    n_conf = int(round(n_rows * DEFECT_RATES["duplicate_conflict"]))
    m = n_rows - n_dup - n_conf
    # Enterprises hold certificates in several batch years; (enterprise, year) pairs unique.
    pool = max(int(m / len(YEARS) * 1.6), 1)
    pairs = rng.choice(pool * len(YEARS), m, replace=False)
    ent, year = pairs // len(YEARS), YEARS[pairs % len(YEARS)]

    uscc_pool = generate_uscc(rng, pool, ADMIN_CODES)
    w = rng.integers(0, len(WORDS), (pool, 3))
    name_pool = (PLACES[rng.integers(0, 3, pool)].astype(object) + WORDS[w[:, 0]] + WORDS[w[:, 1]]
                 + WORDS[w[:, 2]] + TRADES[rng.integers(0, len(TRADES), pool)] + "有限公司")  # fmt: skip
    field_pool = TECH_FIELDS[rng.choice(len(TECH_FIELDS), pool, p=FIELD_WEIGHTS)]
    park_pool = PARKS[rng.integers(0, len(PARKS), pool)]

    name = pd.Series(name_pool[ent], dtype="str")
    uscc = pd.Series(uscc_pool[ent], dtype="str")
    tech = pd.Series(field_pool[ent], dtype="str")
    park = pd.Series(park_pool[ent], dtype="str")
    ys = pd.Series(year.astype(str), dtype="str")
    serial = pd.Series(rng.integers(1, 999_999, m).astype(str), dtype="str").str.zfill(6)
    cert_no = _cat("GR", ys, "43", serial)

    # Issue dates: batches announced October to December.
    days = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]") + (
        273 + rng.integers(7, 85, m)
    ).astype("timedelta64[D]")
    iso = pd.Series(np.datetime_as_string(days, unit="D"), dtype="str")
    month_num = iso.str.slice(5, 7)
    style = rng.integers(0, 6, m)
    date = iso.copy()
    date[style == 1] = pd.Series((days - _EXCEL_EPOCH).astype(np.int64).astype(str))[style == 1]
    date[style == 2] = _cat(ys, "年", month_num.str.lstrip("0"), "月")[style == 2]
    date[style == 3] = _cat(ys, ".", month_num)[style == 3]
    date[style == 4] = _cat(ys, "/", month_num.str.lstrip("0"), "/", iso.str.slice(8, 10).str.lstrip("0"))[style == 4]  # fmt: skip
    status = pd.Series(np.where(year >= 2022, "有效", "已过期"), dtype="str")
    odd = rng.random(m)
    status[odd < 0.004] = "已撤销"
    status[(odd >= 0.004) & (odd < 0.007)] = "已迁出"

    # Harmless mess.
    r = MESS_RATES
    variant = _pick(rng, m, r["name_variant"])
    kind = rng.integers(0, 3, m)
    name[variant & (kind == 0)] = name[variant & (kind == 0)].str.replace(
        "有限公司", "有限责任公司"
    )
    name[variant & (kind == 1)] = _cat(" ", name[variant & (kind == 1)], " ")
    name[variant & (kind == 2)] = name[variant & (kind == 2)].str.replace("长沙天心", "长沙天心 ")
    fw = _pick(rng, m, r["uscc_fullwidth"])
    uscc[fw] = uscc[fw].str.translate({ord(c): chr(ord(c) + 0xFEE0) for c in "0123456789"})
    sp = _pick(rng, m, r["uscc_spaced_lower"]) & ~fw
    uscc[sp] = _cat(uscc[sp].str.slice(0, 6), " ", uscc[sp].str.slice(6).str.lower())
    status[_pick(rng, m, r["status_space"])] += " "
    park[_pick(rng, m, r["park_slash"])] = "/"
    long_ = _pick(rng, m, r["field_long_name"]) & tech.isin(list(LONG_FIELD_NAMES))
    tech[long_] = tech[long_].map(LONG_FIELD_NAMES)

    # Defects (disjoint rows so each one's rule is the first that fails).
    d = DEFECT_RATES
    which = rng.random(m)
    edges = np.cumsum([0, d["uscc_check_digit"], d["uscc_length"], d["missing_required"],
                       d["unknown_category"], d["invalid_date"], d["future_date"]])  # fmt: skip
    bad = [(which >= lo) & (which < hi) for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    clean_uscc = pd.Series(uscc_pool[ent], dtype="str")
    broken = clean_uscc[bad[0]]
    last = broken.str.slice(17, 18).map(lambda c: ALPHABET[(ALPHABET.index(c) + 7) % 31])
    uscc[bad[0]] = broken.str.slice(0, 17) + last
    uscc[bad[1]] = clean_uscc[bad[1]].str.slice(0, 16)
    tech[bad[2]] = "—"
    tech[bad[3]] = "人工智能"
    date[bad[4]] = _cat(ys, "-13-05")[bad[4]]
    date[bad[5]] = "2204-11-20"

    frame = pd.DataFrame({
        "序号": pd.Series(np.arange(1, m + 1).astype(str), dtype="str"),
        "企业名称": name, "统一社会信用代码": uscc, "证书编号": cert_no, "发证日期": date,
        "技术领域": tech, "所属园区": park, "状态": status,
    })  # fmt: skip
    # Duplicates: exact copies; conflicts: same code and year under another enterprise's name.
    dups = frame.iloc[rng.integers(0, m, n_dup)]
    conf = frame.iloc[rng.integers(0, m, n_conf)]
    conf = conf.assign(企业名称=pd.Series(name_pool[rng.integers(0, pool, n_conf)], index=conf.index, dtype="str"))  # fmt: skip
    frame = pd.concat([frame, dups, conf], ignore_index=True)
    frame = frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)

    n = len(frame)
    surname = np.array(list("王李张刘陈杨黄赵周吴徐孙胡朱高林何郭马罗"))
    given = np.array(list("明涛静磊婷军芳伟洋丽强敏杰霞勇娜斌超"))
    digits = pd.Series(rng.integers(0, 10_000, n).astype(str), dtype="str").str.zfill(4)
    return frame.assign(
        联系人=pd.Series(
            surname[rng.integers(0, len(surname), n)].astype(object)
            + "*"
            + given[rng.integers(0, len(given), n)],
            dtype="str",
        ),  # fmt: skip
        手机=_cat("139-0000-", digits),
        身份证号=_cat(
            "4301031990", pd.Series(rng.integers(10, 13, n).astype(str), dtype="str"), "XXXX"
        ),
        邮箱=_cat("contact", digits, "@example.com"),
        数据说明=NOTE,
    )[HEADER]


def write_registry_csv(path: str | Path, n_rows: int, seed: int = 7) -> Path:
    """Write the registry export (title rows, header, data, blank row, footnotes) as CSV."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = registry_frame(n_rows, seed)
    blanks = "," * (len(HEADER) - 1)
    head = (f"天心区高新技术企业认定名单（{NOTE}）{blanks}\n"
            f"导出日期：{dt.date(2025, 1, 6).isoformat()}{blanks}\n" + ",".join(HEADER) + "\n")  # fmt: skip
    tail = f"{blanks}\n注：1. 本表为模拟数据，企业名称与代码均为虚构。{blanks}\n2. 状态截至导出日期。{blanks}\n"
    with path.open("wb") as fh:
        fh.write(head.encode("utf-8"))
        # pyarrow's writer is ~10x faster than DataFrame.to_csv; no cell needs quoting.
        pacsv.write_csv(
            pa.Table.from_pandas(frame, preserve_index=False),
            fh,
            pacsv.WriteOptions(include_header=False, quoting_style="none"),
        )
        fh.write(tail.encode("utf-8"))
    return path


def expected_defects(n_rows: int) -> dict[str, float]:
    """Expected number of quarantined rows per rule (for a sanity check of a run)."""
    n_dup = round(n_rows * DEFECT_RATES["duplicate_row"])
    n_conf = round(n_rows * DEFECT_RATES["duplicate_conflict"])
    m = n_rows - n_dup - n_conf
    out = {
        k: v * m
        for k, v in DEFECT_RATES.items()
        if k not in ("duplicate_row", "duplicate_conflict")
    }
    out.update(duplicate_row=n_dup, duplicate_conflict=2 * n_conf, footnote_row=2)
    return out
