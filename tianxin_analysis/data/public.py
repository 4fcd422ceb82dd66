"""Public context series from the *China Statistical Yearbook on Science and Technology*.

The yearbook folder holds one sub-folder per table, one file per edition:
``<yearbook_dir>/<table>/<edition>.xls`` (the edition is the data year of the volume, so the 2022
file ends with 2022 data) and variants of an edition as ``<edition>-<variant>.xls`` (``-html``:
the CNKI web extract of the same table; ``-all``: a sibling table, e.g. all enterprises instead
of industrial ones). :func:`yearbook_panel` stacks the editions of one table into a
region × year panel; :func:`build_public_series` derives the national and Hunan series the
notebooks show as context, committed as ``data/raw/public/yearbook_series.csv`` and read back
with :func:`load_public_series`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from tianxin_analysis._fs import atomic_path
from tianxin_analysis.errors import InputFileError, SchemaError
from tianxin_analysis.io import PROVINCES, REGION_ORDER, read_yearbook_table
from tianxin_analysis.paths import RAW_DIR

__all__ = [
    "ANNUAL_PANEL_TABLES",
    "PUBLIC_PANELS_PATH",
    "PUBLIC_SERIES_PATH",
    "PUBLIC_SERIES_REGIONS",
    "build_annual_panels",
    "build_public_series",
    "load_annual_panels",
    "load_annual_vintages",
    "load_peers",
    "load_public_series",
    "write_annual_panels",
    "write_annual_vintages",
    "write_public_series",
    "yearbook_panel",
]

PUBLIC_SERIES_PATH = RAW_DIR / "public" / "yearbook_series.csv"
PUBLIC_SERIES_REGIONS = ("全国", "湖南")

_FILE_NAME = re.compile(r"^(?P<edition>\d{4})(?:-(?P<variant>[A-Za-z0-9_]+))?$")
_PANEL_COLUMNS = [
    "region",
    "region_en",
    "is_aggregate",
    "year",
    "indicator",
    "indicator_en",
    "unit",
    "value",
    "edition",
    "variant",
    "table_id",
    "title",
    "source_file",
]
_KEY = ["region", "indicator", "year"]

# (series id, table folder, how to pick the indicator, label zh, label en)
_SERIES = (
    ("rd_intensity", "rd-intensity-by-region", None, "R&D经费投入强度", "R&D intensity"),
    (
        "tech_market_outflow_value",
        "tech-market-outflow-value",
        None,
        "技术市场技术输出合同金额",
        "technology-market contract value (outflow)",
    ),
    (
        "tech_market_outflow_contracts",
        "tech-market-outflow-contracts",
        None,
        "技术市场技术输出合同数",
        "technology-market contracts (outflow)",
    ),
    (
        "hitech_revenue",
        "hitech-industry-by-region",
        "收入",
        "高技术产业(主营业务)营业收入",
        "high-tech industry revenue",
    ),
    (
        "hitech_enterprises",
        "hitech-industry-by-region",
        "企业数",
        "高技术产业企业数",
        "high-tech industry enterprises",
    ),
)
_SERIES_COLUMNS = [
    "series",
    "series_zh",
    "series_en",
    "region",
    "region_en",
    "year",
    "value",
    "unit",
    "indicator",
    "edition",
    "table_id",
    "source",
]


def _edition_files(table_dir: Path) -> list[tuple[int, str, Path]]:
    files = []
    for path in sorted(table_dir.iterdir()):
        if not path.is_file() or path.name.startswith("."):
            continue
        m = _FILE_NAME.match(path.stem)
        if m is None:
            raise SchemaError(
                "年鉴文件名不符合 <版本年份>[-<变体>] 格式",
                "yearbook file name does not follow <edition>[-<variant>]",
                file=str(path),
                found=path.name,
                expected="如 2022.xls 或 2020-html.xls (e.g. 2022.xls or 2020-html.xls)",
            )
        files.append((int(m["edition"]), m["variant"] or "", path))
    return files


def yearbook_panel(
    yearbook_dir: str | os.PathLike[str],
    table: str,
    *,
    all_editions: bool = False,
    include_variants: bool = False,
) -> pd.DataFrame:
    """All editions of one yearbook table folder as a tidy region × year panel.

    Columns: ``region`` (Chinese), ``region_en``, ``is_aggregate``, ``year`` (int64),
    ``indicator``, ``indicator_en``, ``unit``, ``value`` (float64), ``edition`` (int64, the
    edition year from the file name), ``variant`` ("" for the edition's own file),
    ``table_id``, ``title`` and ``source_file``.

    By default each (region, indicator, year) keeps the value of the latest edition, because
    later volumes revise earlier years (GDP revisions change R&D intensity). With
    ``all_editions=True`` every edition's value is kept so revisions are visible. Variant files
    (``2020-html.xls``, ``2022-all.xls``) are left out unless ``include_variants=True``; when
    included, an edition's own file wins over its variants for the same key. Indicator names
    are as printed, so a renamed indicator (主营业务收入 → 营业收入) stays two indicators.

    Reads are cached by :func:`tianxin_analysis.io.read_yearbook_table`, so repeated calls in
    a backtest cost little.
    """
    table_dir = Path(yearbook_dir) / table
    if not table_dir.is_dir():
        available = (
            sorted(p.name for p in Path(yearbook_dir).iterdir() if p.is_dir())
            if Path(yearbook_dir).is_dir()
            else []
        )
        raise InputFileError(
            "找不到年鉴表格文件夹",
            "yearbook table folder not found",
            file=str(table_dir),
            expected=f"其中之一 (one of): {', '.join(available) or '(年鉴文件夹不存在 folder missing)'}",
        )
    files = [f for f in _edition_files(table_dir) if include_variants or not f[1]]
    if not files:
        raise InputFileError(
            "年鉴表格文件夹中没有文件",
            "yearbook table folder holds no file",
            file=str(table_dir),
            expected="<版本年份>.xls (<edition>.xls)",
        )
    frames = []
    for edition, variant, path in files:
        df = read_yearbook_table(path)
        frames.append(
            df.assign(
                edition=edition,
                variant=variant,
                table_id=df.attrs["table_id"] or "",
                title=df.attrs["title"],
                source_file=f"{table}/{path.name}",
            )
        )
    panel = pd.concat(frames, ignore_index=True)
    panel = panel.assign(
        edition=panel["edition"].astype("int64"),
        variant=panel["variant"].astype("str"),
        table_id=panel["table_id"].astype("str"),
        title=panel["title"].astype("str"),
        source_file=panel["source_file"].astype("str"),
        _primary=panel["variant"].eq(""),
        _rank=panel["region"].map(REGION_ORDER).fillna(len(REGION_ORDER)).astype("int64"),
    )
    if not all_editions:
        panel = panel.sort_values(["edition", "_primary"], kind="stable").drop_duplicates(
            _KEY, keep="last"
        )
    panel = panel.sort_values(
        ["indicator", "_rank", "region", "year", "edition", "_primary"], kind="stable"
    )
    return panel[_PANEL_COLUMNS].reset_index(drop=True)


def _source_text(table_id: str, title: str, edition: int, source_file: str) -> str:
    number = f"表{table_id} " if table_id else ""
    return (
        f"《中国科技统计年鉴》{edition}年数据版 {number}{title} "
        f"(China S&T Statistical Yearbook, edition {edition}; {source_file})"
    )


def build_public_series(yearbook_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """National (全国) and Hunan (湖南) context series from the yearbook tables.

    One row per series, region and year with the latest edition's value:
    ``rd_intensity`` (% of GDP), ``tech_market_outflow_value`` (万元),
    ``tech_market_outflow_contracts`` (项) and ``hitech_revenue`` (亿元; the table's revenue
    indicator, 主营业务收入 up to the 2016 edition and 营业收入 from 2018). ``source`` names
    the table number, title, edition and file.
    """
    parts = []
    for series, table, pick, label_zh, label_en in _SERIES:
        panel = yearbook_panel(yearbook_dir, table)
        panel = panel[panel["region"].isin(PUBLIC_SERIES_REGIONS)]
        if pick is not None:
            panel = panel[panel["indicator"].str.contains(pick, regex=False)]
        if panel.empty:
            raise SchemaError(
                "年鉴表格中找不到所需序列",
                "required series not found in the yearbook table",
                file=str(Path(yearbook_dir) / table),
                expected=f"{label_zh}: {', '.join(PUBLIC_SERIES_REGIONS)}",
            )
        dup = panel.duplicated(["region", "year"])
        if dup.any():
            raise SchemaError(
                "同一地区和年份有多个指标",
                "several indicators for one region and year",
                file=str(Path(yearbook_dir) / table),
                found=sorted(panel.loc[dup, "indicator"].unique()),
            )
        source = [
            _source_text(t, ti, e, s)
            for t, ti, e, s in zip(
                panel["table_id"],
                panel["title"],
                panel["edition"],
                panel["source_file"],
                strict=True,
            )
        ]
        parts.append(
            panel.assign(series=series, series_zh=label_zh, series_en=label_en, source=source)
        )
    out = pd.concat(parts, ignore_index=True)
    out = out.assign(
        _rank=out["region"].map({r: i for i, r in enumerate(PUBLIC_SERIES_REGIONS)})
    ).sort_values(["series", "_rank", "year"], kind="stable")
    return _typed(out[_SERIES_COLUMNS].reset_index(drop=True))


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    text = [c for c in _SERIES_COLUMNS if c not in ("year", "value", "edition")]
    return frame.astype(
        {**dict.fromkeys(text, "str"), "year": "int64", "value": "float64", "edition": "int64"}
    )


def write_public_series(
    yearbook_dir: str | os.PathLike[str], path: str | os.PathLike[str] | None = None
) -> Path:
    """Build the public series and write them atomically as UTF-8 CSV; return the path."""
    return _write_derived(build_public_series(yearbook_dir), path or PUBLIC_SERIES_PATH)


def _write_derived(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """A derived CSV as committed: UTF-8, no index, 10 significant digits, written atomically."""
    target = Path(path)
    with atomic_path(target) as tmp:
        frame.to_csv(tmp, index=False, encoding="utf-8", float_format="%.10g")
    return target


def load_public_series(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Read the committed national/Hunan yearbook series (``data/raw/public/yearbook_series.csv``)."""
    target = Path(path) if path is not None else PUBLIC_SERIES_PATH
    if not target.is_file():
        raise InputFileError(
            "找不到公开数据序列文件",
            "public series file not found",
            file=str(target),
            expected="由 build_public_series 生成的 CSV (CSV written by write_public_series)",
        )
    frame = pd.read_csv(target, encoding="utf-8", dtype={"table_id": "str"}, keep_default_na=False)
    missing = [c for c in _SERIES_COLUMNS if c not in frame.columns]
    if missing:
        raise SchemaError(
            "公开数据序列文件缺少列",
            "public series file lacks columns",
            file=str(target),
            found=missing,
            expected=", ".join(_SERIES_COLUMNS),
        )
    return _typed(frame[_SERIES_COLUMNS])


# ---- province panels for the forecast backtest ----------------------------------------------

PUBLIC_PANELS_PATH = RAW_DIR / "public" / "yearbook_panels.csv"

# Table folder -> indicators that make one series (the revenue column was renamed from
# 主营业务收入 to 营业收入 in the 2018 edition; the two are chained as one series).
ANNUAL_PANEL_TABLES: dict[str, tuple[str, ...] | None] = {
    "rd-intensity-by-region": None,
    "tech-market-outflow-value": None,
    "hitech-industry-by-region": ("主营业务收入", "营业收入"),
}
# Earlier editions list only every fifth year (2000, 2005, 2010); panels start where the
# years become consecutive.
ANNUAL_PANEL_FIRST_YEAR = 2011
_PANEL_OUT_COLUMNS = ["table", "region", "year", "value", "unit", "indicator", "edition", "source"]


def build_annual_panels(yearbook_dir: str | os.PathLike[str],
                        tables: Mapping[str, tuple[str, ...] | None] | None = None) -> pd.DataFrame:  # fmt: skip
    """The 31 provinces plus 全国 of each backtest table, one value per region and year from
    the latest edition that carries it. Columns: ``table``, ``region``, ``year``, ``value``,
    ``unit``, ``indicator``, ``edition``, ``source`` (table id, title, edition).

    Facts derived from the real yearbook by this code; committed as
    ``data/raw/public/yearbook_panels.csv`` so that the backtest notebook runs on a clone
    without ``../shared/real-data``. ``tables``: table folder -> indicators, default
    ``ANNUAL_PANEL_TABLES`` (the backtest's fresh hold-out passes its own tables).
    """
    frames = []
    for table, indicators in (ANNUAL_PANEL_TABLES if tables is None else tables).items():
        if not (Path(yearbook_dir) / table).is_dir():
            continue
        p = yearbook_panel(yearbook_dir, table)
        keep = p["region"].astype(str).isin([zh for zh, _ in PROVINCES] + ["全国"])
        p = p[keep & p["year"].ge(ANNUAL_PANEL_FIRST_YEAR)]
        if indicators is not None:
            p = p[p["indicator"].astype(str).isin(indicators)]
        latest = (
            p.sort_values("edition", kind="stable")
            .groupby(["region", "year"], as_index=False)
            .last()
        )
        latest = latest.assign(
            table=table,
            source=[
                _source_text(str(t) if isinstance(t, str) else "", str(ti), int(e), str(f))
                for t, ti, e, f in zip(latest["table_id"], latest["title"], latest["edition"],
                                       latest["source_file"], strict=True)
            ],
        )  # fmt: skip
        frames.append(latest[_PANEL_OUT_COLUMNS])
    if not frames:
        return pd.DataFrame(columns=_PANEL_OUT_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["table", "region", "year"], kind="stable").reset_index(drop=True)


def write_annual_panels(
    yearbook_dir: str | os.PathLike[str], path: str | os.PathLike[str] | None = None
) -> Path:
    """Build the backtest panels and write them atomically as UTF-8 CSV; return the path."""
    return _write_derived(build_annual_panels(yearbook_dir), path or PUBLIC_PANELS_PATH)


def load_annual_panels(path: str | os.PathLike[str] | None = None) -> dict[str, pd.DataFrame]:
    """Committed backtest panels as table -> frame (``series`` = region, ``year``, ``value``)."""
    target = Path(path) if path is not None else PUBLIC_PANELS_PATH
    if not target.is_file():
        raise InputFileError(
            "找不到年鉴面板数据文件", "yearbook panels file not found", file=str(target),
            expected="由 write_annual_panels 生成的 CSV (CSV written by write_annual_panels)",
        )  # fmt: skip
    frame = pd.read_csv(target, encoding="utf-8")
    return {
        table: g.rename(columns={"region": "series"})[["series", "year", "value"]].reset_index(
            drop=True
        )
        for table, g in frame.groupby("table", sort=False)
    }


# ---- editions (vintages) of the panels, for real-time backtests ----------------------------

PUBLIC_VINTAGES_PATH = RAW_DIR / "public" / "yearbook_vintages.csv"
_VINTAGE_COLUMNS = ["table", "region", "year", "edition", "value", "source"]


def build_annual_vintages(yearbook_dir: str | os.PathLike[str],
                          tables: Mapping[str, tuple[str, ...] | None] | None = None) -> pd.DataFrame:  # fmt: skip
    """Every edition's value of the backtest panels' tables where one year is printed in more
    than one edition (R&D intensity after GDP revisions, contract values revised or rounded):
    ``table``, ``region``, ``year``, ``edition`` (data year of the volume, published the year
    after), ``value``, ``source``. A forecast made with edition E as the newest volume uses
    edition E's values; it is scored against the latest edition's. ``tables`` as in
    ``build_annual_panels``."""
    frames = []
    for table, indicators in (ANNUAL_PANEL_TABLES if tables is None else tables).items():
        if not (Path(yearbook_dir) / table).is_dir():
            continue
        p = yearbook_panel(yearbook_dir, table, all_editions=True)
        keep = p["region"].astype(str).isin([zh for zh, _ in PROVINCES] + ["全国"])
        p = p[keep & p["year"].ge(ANNUAL_PANEL_FIRST_YEAR)]
        if indicators is not None:
            p = p[p["indicator"].astype(str).isin(indicators)]
        if p.groupby(["region", "year"])["edition"].nunique().max() < 2:
            continue  # one edition per year (e.g. one-year tables): nothing to revise
        frames.append(p.assign(
            table=table,
            source=[f"《中国科技统计年鉴》{int(e)}年数据版 ({f})"
                    for e, f in zip(p["edition"], p["source_file"], strict=True)],
        )[_VINTAGE_COLUMNS])  # fmt: skip
    if not frames:
        return pd.DataFrame(columns=_VINTAGE_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["table", "region", "year", "edition"], kind="stable").reset_index(drop=True)


def write_annual_vintages(
    yearbook_dir: str | os.PathLike[str], path: str | os.PathLike[str] | None = None
) -> Path:
    """Build the panels' editions and write them atomically as UTF-8 CSV; return the path."""
    return _write_derived(build_annual_vintages(yearbook_dir), path or PUBLIC_VINTAGES_PATH)


def load_annual_vintages(path: str | os.PathLike[str] | None = None) -> dict[str, pd.DataFrame]:
    """Committed editions as table -> frame (``series`` = region, ``year``, ``edition``,
    ``value``); an empty dict when the file is absent (vintages are optional)."""
    target = Path(path) if path is not None else PUBLIC_VINTAGES_PATH
    if not target.is_file():
        return {}
    frame = pd.read_csv(target, encoding="utf-8")
    return {
        table: g.rename(columns={"region": "series"})[["series", "year", "edition", "value"]]
        .reset_index(drop=True)
        for table, g in frame.groupby("table", sort=False)
    }


# ---- peers supplied by the user (other districts), for forecast.annual_panel ----------------

PEERS_PATH = RAW_DIR / "public" / "peers.csv"
_PEER_COLUMNS = ["indicator", "series", "year", "value"]


def load_peers(indicator: str, path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Peer series of one ``indicator`` (``rd_intensity``, ``hitech_enterprises``) from the
    optional user file ``data/raw/public/peers.csv`` (UTF-8 CSV: ``indicator``, ``series``
    e.g. another district's name, ``year``, ``value`` in the district series' unit). Returns
    ``series``, ``year``, ``value`` (empty when the file is absent or holds no such
    indicator). Rows with a blank value are left out; a bad year or value is an error naming
    the row."""
    target = Path(path) if path is not None else PEERS_PATH
    empty = pd.DataFrame({"series": pd.Series(dtype="str"), "year": pd.Series(dtype="int64"),
                          "value": pd.Series(dtype="float64")})  # fmt: skip
    if not target.is_file():
        return empty
    frame = pd.read_csv(target, encoding="utf-8", dtype="str", keep_default_na=False)
    missing = [c for c in _PEER_COLUMNS if c not in frame.columns]
    if missing:
        raise SchemaError("同类地区文件缺少列", "peers file lacks columns", file=str(target),
                          found=missing, expected=", ".join(_PEER_COLUMNS))  # fmt: skip
    rows = frame[frame["indicator"].str.strip() == indicator]
    rows = rows[rows["value"].str.strip() != ""]
    year = pd.to_numeric(rows["year"], errors="coerce")
    value = pd.to_numeric(rows["value"], errors="coerce")
    bad = year.isna() | value.isna() | (year != year.round())
    if bad.any():
        i = bad.idxmax()
        raise SchemaError("同类地区文件中年份或数值无效", "invalid year or value in the peers file",
                          file=str(target), row=int(i) + 2, column="year/value",
                          found=f"{frame.loc[i, 'year']!r}, {frame.loc[i, 'value']!r}",
                          expected="整数年份与数值 (an integer year and a number)")  # fmt: skip
    if rows.empty:
        return empty
    return pd.DataFrame({"series": rows["series"].str.strip().to_numpy(), "year": year.astype("int64").to_numpy(),
                         "value": value.astype("float64").to_numpy()})  # fmt: skip
