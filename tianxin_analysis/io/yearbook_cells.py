"""The cells of a yearbook table read one at a time: a number or a missing mark, a header
year, a packed header label (Chinese, English, unit, sub-item), a unit line, a title's subject."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .headers import _norm

_MISSING_MARKS = {"", "-", "--", "—", "——", "－", "…", "...", "/", "x", "×", "NA", "N/A", "nan"}


_TABLE_NO = re.compile(r"^\s*(\d{1,2})\s*[-－—–]\s*(\d{1,3})\s*(.*)$", re.S)
_CJK = re.compile(r"[\u3400-\u9fff]")
_UNIT_WORD = re.compile(r"^(?:[万亿千百]?(?:元|美元|人|个|项|件|家|台|吨|人年|户|所|种)|%|‰)$")
_PAREN = re.compile(r"\(([^()]*)\)")


def _clean_zh(text: str) -> str:
    """NFKC; drop whitespace next to a CJK character (``全 国``, ``工业 企业``), collapse the rest."""
    t = unicodedata.normalize("NFKC", text).strip()
    t = re.sub(r"(?<=[\u3400-\u9fff])\s+|\s+(?=[\u3400-\u9fff])", "", t)
    return re.sub(r"\s+", " ", t)


def _clean_en(text: str) -> str:
    """English text NFKC-normalised with runs of white space collapsed to one space."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


def _as_year(value: object) -> int | None:
    """A header year from ``2016``, ``2016.0``, ``'2.016000e+03'``, ``'2016 '`` or ``2016年``."""
    if value is None or isinstance(value, bool):
        return None
    text = _norm(value).removesuffix("年")
    try:
        number = float(text)
    except ValueError:
        return None
    if number.is_integer() and 1949 <= number <= 2100:
        return int(number)
    return None


def _as_number(value: object) -> float | None:
    """Cell to float; blank and the yearbook's missing marks give NaN; other text gives None."""
    if value is None:
        return np.nan
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = _norm(value).replace(",", "")
    if text in _MISSING_MARKS:
        return np.nan
    try:
        return float(text)
    except ValueError:
        return None


def _is_value(value: object) -> bool:
    """True for a cell holding a number (not blank, not a missing mark, not text)."""
    number = _as_number(value)
    return number is not None and not np.isnan(number)


@dataclass(frozen=True)
class _Label:
    """A yearbook header cell split into Chinese label, English label, unit and sub-item flag
    (#)."""

    zh: str
    en: str
    unit: str
    subitem: bool


def _parse_label(text: str) -> _Label:
    """Split a packed header cell ``企业数\\n(个)\\nNumber of\\nEnterprises\\n(unit)``."""
    zh_parts: list[str] = []
    en_parts: list[str] = []
    unit = ""
    for raw_line in re.split(r"\r\n|\r|\n", unicodedata.normalize("NFKC", text)):
        line = raw_line.strip()
        if not line:
            continue
        whole = re.fullmatch(r"\((.*)\)", line)
        if whole:
            inner = _norm(whole.group(1))
            if _UNIT_WORD.match(inner):
                unit = unit or inner
            elif _CJK.search(inner):
                zh_parts.append(line)
            # a parenthesised English unit such as "(unit)" carries nothing new
            continue
        if _CJK.search(line) or line.startswith("#"):
            for inner in _PAREN.findall(line):
                if _UNIT_WORD.match(_norm(inner)):
                    unit = unit or _norm(inner)
                    line = line.replace(f"({inner})", "")
            zh_parts.append(line)
        else:
            en_parts.append(line)
    zh = _norm("".join(zh_parts))
    subitem = zh.startswith("#")
    return _Label(zh=zh.lstrip("#"), en=_clean_en(" ".join(en_parts)), unit=unit, subitem=subitem)


def _table_units(text: str) -> list[str]:
    """The units named after ``单位:`` in a table's unit line ("单位: 万元, %" -> ["万元", "%"])."""
    after = re.split(r"单位\s*[:：]?", unicodedata.normalize("NFKC", text), maxsplit=1)[-1]
    return [u for u in (_norm(p) for p in re.split(r"[,，、.;；/]", after)) if u]


def _subject(title: str) -> str:
    """What a regions × years table measures, from its title, without place/period words."""
    t = re.sub(r"\(\s*\d{4}\s*(?:年)?\s*(?:-\s*\d{4}\s*(?:年)?)?\s*\)", "", title)
    t = re.sub(r"\d{4}\s*年", "", t)
    t = re.sub(r"^(?:中国)?(?:历年|主要年份)?(?:各地区)?", "", t)
    t = re.sub(r"统计(?=\(|$)", "", t)
    return t.strip()


def _row_texts(row: Sequence[object]) -> list[tuple[int, str]]:
    """(column index, stripped text) of each non-blank cell of a row."""
    return [(i, str(v).strip()) for i, v in enumerate(row) if v is not None and str(v).strip()]


def _is_ascii_text(text: str) -> bool:
    """True for text with a Latin letter and no CJK character (an English line)."""
    return bool(re.search(r"[A-Za-z]", text)) and not _CJK.search(text)


def _column_letter(index: int) -> str:
    """Excel column letters of a 0-based column index (0 -> "A", 27 -> "AB")."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters
