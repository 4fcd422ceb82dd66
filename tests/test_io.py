"""Readers on small files generated in tmp_path: every container, every way a file can be bad."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import msoffcrypto.format.ooxml
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tianxin_analysis.errors import InputFileError, SchemaError
from tianxin_analysis.io import (
    RawSheet,
    combine_header_rows,
    detect_format,
    find_header_row,
    read_sheet,
    read_sheets,
    read_yearbook_table,
)
from tianxin_analysis.io.csv import _read_csv  # the CSV reader both read paths share

ROWS = [
    ["企业名称", "登记日期", "金额(万元)"],
    ["长沙天心科技有限公司", "2024-03-01", "12.5"],
    ["湖南䶮创新材料有限公司", "2024-04-02", "7"],  # 䶮 is outside GBK, inside GB18030
]


def _xlsx(path, sheets: dict[str, list[list[object]]]) -> None:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    wb.save(path)


def _csv_text(rows) -> str:
    return "\r\n".join(",".join(r) for r in rows) + "\r\n"


# ---------------------------------------------------------------------------------------------
# xlsx
# ---------------------------------------------------------------------------------------------


def test_xlsx_keeps_row_numbers_datetimes_and_blanks(tmp_path):
    path = tmp_path / "contracts.xlsx"
    _xlsx(
        path,
        {
            "月报": [
                ["2024年技术合同登记月报"],
                [],
                ["月份", "合同数", "成交额"],
                [dt.datetime(2024, 2, 29), 31, None],
                [dt.datetime(2024, 3, 31, 12, 30), 40, 1234.5],
            ],
            "CNKI": [["http://www.cnki.net/"]],
        },
    )
    assert detect_format(path) == "xlsx"
    sheets = read_sheets(path)
    assert [s.sheet for s in sheets] == ["月报"]  # the link-only CNKI sheet is skipped
    sheet = sheets[0]
    assert isinstance(sheet, RawSheet) and sheet.file == str(path)
    grid = sheet.grid
    assert list(grid.index) == [1, 2, 3, 4, 5]
    assert list(grid.columns) == [0, 1, 2]
    assert grid.dtypes.eq(object).all()
    assert grid.loc[1, 0] == "2024年技术合同登记月报"
    assert grid.loc[2].isna().all()
    assert grid.loc[3].tolist() == ["月份", "合同数", "成交额"]
    assert grid.loc[4, 0] == dt.datetime(2024, 2, 29)
    assert grid.loc[5, 0] == dt.datetime(2024, 3, 31, 12, 30)
    assert pd.isna(grid.loc[4, 2])
    assert grid.loc[5, 2] == 1234.5


def test_cnki_sheet_with_data_is_kept(tmp_path):
    path = tmp_path / "b.xlsx"
    _xlsx(path, {"data": [["a"]], "CNKI": [["地区", "值"], ["湖南", 1]]})
    assert [s.sheet for s in read_sheets(path)] == ["data", "CNKI"]


def test_read_sheet_by_name_and_missing_sheet(tmp_path):
    path = tmp_path / "b.xlsx"
    _xlsx(path, {"一": [["a"]], "二": [["b"]]})
    assert read_sheet(path, "二").grid.loc[1, 0] == "b"
    assert read_sheet(path).sheet == "一"
    with pytest.raises(SchemaError, match="找不到工作表"):
        read_sheet(path, "三")


def test_csv_detected_by_content_not_extension(tmp_path):
    path = tmp_path / "really_xlsx.csv"
    _xlsx(path, {"s": [["x"]]})
    assert detect_format(path) == "xlsx"
    assert read_sheets(path)[0].grid.loc[1, 0] == "x"


# ---------------------------------------------------------------------------------------------
# CSV encodings
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("gb18030", b""), ("gbk-compatible", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-8", b"")],
)
def test_csv_encodings(tmp_path, encoding, bom):
    rows = ROWS if encoding != "gbk-compatible" else ROWS[:2]
    data = bom + _csv_text(rows).encode("gbk" if encoding == "gbk-compatible" else encoding)
    path = tmp_path / "sme.csv"
    path.write_bytes(data)
    assert detect_format(path) == "csv"
    [sheet] = read_sheets(path)
    assert sheet.sheet is None
    assert sheet.grid.loc[1].tolist() == rows[0]
    assert sheet.grid.loc[len(rows), 0] == rows[-1][0]


def test_csv_blank_cells_and_tabs(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("名称\t金额\n甲\t\n乙\t3\n", encoding="utf-8")
    grid = read_sheets(path)[0].grid
    assert grid.loc[2, 0] == "甲" and grid.loc[2, 1] is None
    assert grid.loc[3].tolist() == ["乙", "3"]


# ---------------------------------------------------------------------------------------------
# HTML saved as .xls
# ---------------------------------------------------------------------------------------------

HTML = """


<!-- 以上这行设定本网页为excel格式的网页 -->
<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}"></head>
<body>
<div id="tti">中国2020年各地区高技术产业生产经营情况统计</div>
<table id="tab0"><tr><td>单位:个.亿元</td></tr></table>
<table id="tab1">
<tr><td rowspan="2">地区</td><td colspan="2">营业收入</td><td rowspan="2">企业数<br>(个)</td></tr>
<tr><td>&nbsp;</td><td>#利润&nbsp;</td></tr>
<tr><td>全国</td><td>174613</td><td>12394</td><td>40194</td></tr>
<tr><td>湖南</td><td>4196</td><td>&nbsp;</td><td>1651</td></tr>
</table>
<table id="tab2"><tr><td>注:表数据口径为规模以上工业企业.</td></tr></table>
<div>摘编自《中国科技统计年鉴2021》</div>
</body></html>
"""


@pytest.mark.parametrize("charset", ["utf-8", "gb2312"])
def test_html_as_xls_one_sheet_per_table_spans_top_left(tmp_path, charset):
    path = tmp_path / "hitech-2020-html.xls"
    path.write_bytes(
        HTML.format(charset=charset).encode("gb18030" if charset != "utf-8" else "utf-8")
    )
    assert detect_format(path) == "html"
    sheets = read_sheets(path)
    assert [s.sheet for s in sheets] == ["tab0", "tab1", "tab2"]
    grid = sheets[1].grid
    assert grid.shape == (4, 4)
    # A spanning cell's text sits in its top-left cell only, as Excel shows it.
    assert grid.loc[1].tolist() == ["地区", "营业收入", None, "企业数\n(个)"]
    assert grid.loc[2].tolist() == [None, None, "#利润", None]
    assert grid.loc[4].tolist() == ["湖南", "4196", None, "1651"]


def test_html_yearbook_page(tmp_path):
    path = tmp_path / "2020-html.xls"
    path.write_text(HTML.format(charset="utf-8"), encoding="utf-8")
    df = read_yearbook_table(path)
    assert df.attrs["table_id"] is None
    assert df.attrs["title"] == "中国2020年各地区高技术产业生产经营情况统计"
    assert df.attrs["notes"] == [
        "注:表数据口径为规模以上工业企业.",
        "摘编自《中国科技统计年鉴2021》",
    ]
    got = df.set_index(["region", "indicator"])
    assert got.loc[("湖南", "营业收入"), "value"] == 4196.0
    assert got.loc[("湖南", "营业收入"), "unit"] == "亿元"
    assert got.loc[("全国", "企业数"), "unit"] == "个"
    assert ("湖南", "利润") not in got.index  # blank cell left out
    assert set(df["year"]) == {2020}
    assert df.loc[df["region"] == "湖南", "region_en"].iloc[0] == "Hunan"


# ---------------------------------------------------------------------------------------------
# Encryption
# ---------------------------------------------------------------------------------------------


def _encrypt(src, dst, password: str) -> None:
    with open(src, "rb") as fh:
        office = msoffcrypto.format.ooxml.OOXMLFile(fh)
        out = io.BytesIO()
        office.encrypt(password, out)
    dst.write_bytes(out.getvalue())


def test_encrypted_xlsx_unknown_password_is_clear_error(tmp_path):
    plain = tmp_path / "plain.xlsx"
    _xlsx(plain, {"s": [["地区", "值"], ["湖南", 1]]})
    locked = tmp_path / "locked.xlsx"
    _encrypt(plain, locked, "s3cret")
    assert detect_format(locked) == "xlsx-encrypted"
    with pytest.raises(InputFileError, match="密码") as err:
        read_sheets(locked)
    assert "password protected" in str(err.value)
    assert str(locked) in str(err.value)
    with pytest.raises(InputFileError, match="password protected"):
        read_sheets(locked, password="wrong")
    # With the right password the workbook reads normally.
    assert read_sheets(locked, password="s3cret")[0].grid.loc[2].tolist() == ["湖南", 1]


def test_encrypted_with_excel_default_key_reads_without_password(tmp_path):
    plain = tmp_path / "plain.xlsx"
    _xlsx(plain, {"s": [["a", 2]]})
    locked = tmp_path / "readonly.xlsx"
    _encrypt(plain, locked, "VelvetSweatshop")
    assert read_sheets(locked)[0].grid.loc[1].tolist() == ["a", 2]


# ---------------------------------------------------------------------------------------------
# Bad files
# ---------------------------------------------------------------------------------------------


def test_renamed_text_file_is_clear_error(tmp_path):
    path = tmp_path / "export.xlsx"
    path.write_text("<error>session expired</error> 请重新登录", encoding="utf-8")
    with pytest.raises(InputFileError, match="纯文本") as err:
        detect_format(path)
    assert str(path) in str(err.value) and "Excel" in str(err.value)
    with pytest.raises(InputFileError):
        read_sheets(path)


def test_image_renamed_xlsx_is_clear_error(tmp_path):
    path = tmp_path / "photo.xlsx"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    with pytest.raises(InputFileError, match="PNG image"):
        read_sheets(path)


def test_truncated_xlsx_is_clear_error(tmp_path):
    good = tmp_path / "good.xlsx"
    _xlsx(good, {"s": [["a"] * 20] * 200})
    data = good.read_bytes()
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputFileError, match="损坏或不完整") as err:
        detect_format(bad)
    assert "truncated" in str(err.value) and str(bad) in str(err.value)


def test_zip_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "report.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("word/document.xml", "<w/>")
    with pytest.raises(InputFileError, match="不是 Excel"):
        detect_format(path)


@pytest.mark.parametrize("name", ["empty.xlsx", "empty.csv", "empty.xls"])
def test_empty_file_is_clear_error(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"")
    with pytest.raises(InputFileError, match="文件为空") as err:
        read_sheets(path)
    assert str(path) in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(InputFileError, match="文件不存在"):
        detect_format(tmp_path / "nope.xlsx")


# ---------------------------------------------------------------------------------------------
# Header helpers
# ---------------------------------------------------------------------------------------------


def _grid(rows) -> pd.DataFrame:
    g = pd.DataFrame(rows, dtype=object)
    g.index = range(1, len(rows) + 1)
    return g


def test_find_header_row_normalises_and_counts_synonyms():
    grid = _grid(
        [
            ["2024年高新技术企业名单", None, None],
            ["填报单位：天心区科技局", None, None],
            ["企业\n名称", "统一社会信用代码", "发证日期"],
            ["甲公司", "91430103MA4L0000X1", "2024-12-01"],
        ]
    )
    required = {
        "enterprise_name": ["企业名称", "单位名称"],
        "uscc": ["统一社会信用代码", "信用代码"],
        "issue_date": ["发证日期", "发证时间"],
    }
    assert find_header_row(grid, required) == 3
    with pytest.raises(SchemaError, match="找不到表头行"):
        find_header_row(grid, {"x": ["不存在的列"]})


def test_combine_header_rows_forward_fills_merged_parents():
    grid = _grid(
        [
            ["年份", "2023年", None, "2024年", None],
            [None, "1-2月", "3月", "1-2月", "3月"],
        ]
    )
    assert combine_header_rows(grid, [1, 2]) == [
        "年份",
        "2023年/1-2月",
        "2023年/3月",
        "2024年/1-2月",
        "2024年/3月",
    ]


# ---------------------------------------------------------------------------------------------
# Yearbook parser on generated tables (the real files are covered in test_yearbook.py)
# ---------------------------------------------------------------------------------------------


def test_yearbook_regions_by_years_layout(tmp_path):
    path = tmp_path / "2021.xlsx"
    _xlsx(
        path,
        {
            "Sheet1": [
                ["8-37  技术市场技术输出地域(合同金额)"],
                ["Value of Contract Exportation from Domestic Technical Markets by Region"],
                [],
                ["单位：万元", None, None, None, "(10 000 yuan)"],
                ["地    区", "Region", "2.019000e+03", 2020.0, "2021 "],
                [],
                ["全    国", "  National Total", 1.5, 2, 3.25],
                [None, "   "],
                ["湖 南", "Hunan", "1,000", None, "—"],
                ["港 澳 台", "Hong Kong,", 5, 6, 7],
                [None, "Macao & Taiwan"],
                ["注：数据已修订。"],
                ["Note: revised."],
            ]
        },
    )
    df = read_yearbook_table(path)
    assert df.attrs["table_id"] == "8-37"
    assert df.attrs["title"] == "技术市场技术输出地域(合同金额)"
    assert df.attrs["title_en"].startswith("Value of Contract Exportation")
    assert df.attrs["notes"] == ["注：数据已修订。", "Note: revised."]
    assert df.attrs["source_file"] == str(path.resolve())
    assert list(df.columns[:7]) == [
        "region",
        "region_en",
        "is_aggregate",
        "year",
        "indicator",
        "indicator_en",
        "unit",
    ]
    assert str(df["year"].dtype) == "int64" and str(df["value"].dtype) == "float64"
    assert df["is_aggregate"].dtype == bool
    wide = df.pivot(index="region", columns="year", values="value")
    assert wide.loc["全国"].tolist() == [1.5, 2.0, 3.25]
    assert wide.loc["湖南", 2019] == 1000.0
    assert wide.loc["湖南"].isna().sum() == 2  # blank and the dash are missing, not zero
    assert set(df["unit"]) == {"万元"}
    assert set(df["indicator"]) == {"技术市场技术输出地域(合同金额)"}
    en = df.drop_duplicates("region").set_index("region")["region_en"]
    assert en["港澳台"] == "Hong Kong, Macao & Taiwan"
    assert en["全国"] == "National Total"
    assert df.set_index("region")["is_aggregate"].groupby(level=0).first().to_dict() == {
        "全国": True,
        "湖南": False,
        "港澳台": False,
    }


def test_yearbook_regions_by_indicators_layout_with_subitems(tmp_path):
    path = tmp_path / "2018.xlsx"
    _xlsx(
        path,
        {
            "1": [
                ["2-10 各地区规上工业 企业R&D经费内部支出(2018年)"],
                ["Intramural Expenditure on R&D by Region(2018)"],
                ["单位:个,万元"],
                ["(unit,10 000 yuan)"],
                [
                    "地 区",
                    "Region",
                    "企业数\r\n(个)\r\nNumber of\r\nEnterprises",
                    "R&D经费\n内部支出",
                    None,
                ],
                [None, None, None, None, "#试验发展\n支出\nExperimental\nDevelopment"],
                ["全 国", "National Total", "10", "129548264", "125246562"],
                ["湖 南", "Hunan", "3", "5167217", "4861563"],
            ],
            "CNKI": [["http://www.cnki.net/"]],
        },
    )
    df = read_yearbook_table(path)
    assert df.attrs["table_id"] == "2-10"
    assert df.attrs["title"] == "各地区规上工业企业R&D经费内部支出(2018年)"
    assert set(df["year"]) == {2018}
    got = df.set_index(["region", "indicator"])
    assert got.loc[("湖南", "试验发展支出"), "value"] == 4861563.0
    assert got.loc[("湖南", "试验发展支出"), "indicator_en"] == "Experimental Development"
    assert got.loc[("湖南", "R&D经费内部支出"), "unit"] == "万元"
    assert got.loc[("湖南", "企业数"), "unit"] == "个"


def test_yearbook_text_in_value_cell_names_the_cell(tmp_path):
    path = tmp_path / "2020.xlsx"
    _xlsx(
        path,
        {
            "s": [
                ["1-8 各地区R&D经费投入强度"],
                ["单位:%"],
                ["地区", "Region", "2019", "2020"],
                ["全国", "National Total", "2.24", "约2.4"],
            ]
        },
    )
    with pytest.raises(SchemaError, match="不是数字") as err:
        read_yearbook_table(path)
    assert "row=4" in str(err.value) and "column=D" in str(err.value)


@pytest.mark.parametrize(
    ("header", "message", "where"),
    [
        (["地区", "Region", "企业数", None], "数据列没有表头", "column=D"),
        (["地区", "Region", "2019", "企业数"], "表头混合了年份和指标", "row=3"),
    ],
)
def test_yearbook_header_problems_name_the_cell(tmp_path, header, message, where):
    path = tmp_path / "2020.xlsx"
    _xlsx(path, {"s": [["1-8 各地区R&D经费投入强度"], ["单位:%"], header,
                       ["全国", "National Total", "2.24", "2.4"]]})  # fmt: skip
    with pytest.raises(SchemaError, match=message) as err:
        read_yearbook_table(path)
    assert where in str(err.value) and "2020.xlsx" in str(err.value)


def test_yearbook_without_region_rows_is_schema_error(tmp_path):
    path = tmp_path / "2020.xlsx"
    _xlsx(path, {"s": [["1-8 标题"], ["项目", "2020"], ["合计", 1]]})
    with pytest.raises(SchemaError, match="找不到地区数据行"):
        read_yearbook_table(path)


# ---------------------------------------------------------------------------------------------
# CSV read by pyarrow (as_text=True): the same cells and row numbers as csv.reader
# ---------------------------------------------------------------------------------------------


def _as_object(grid: pd.DataFrame) -> list[list[object]]:
    return grid.astype(object).where(grid.notna(), None).to_numpy().tolist()


@pytest.mark.parametrize(
    "text",
    [
        "名称,金额\n\n甲,1\n",  # a blank line is a row of blank cells
        "a,b\r\nc,d\r\n",
        "a,b\rc,d\r",
        '"x\ny",b\nc,d\n',  # a line break inside quotes stays in the cell: one row
        '"ab"cd,e\nf,g\n',
        ' "ab",c\nd,e\n',
        'a,"b""c"\nd,e\n',
        "名称,金额\n甲,  \n\u3000,乙\n",  # whitespace-only cells are blank
        "x\ty\n1\t\n",
        "标题,,\n,,\n表头,列2,列3\n",
    ],
)
def test_csv_as_text_matches_object_grid(tmp_path, text):
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode("gb18030"))
    ref = read_sheets(path)[0].grid
    fast = read_sheets(path, as_text=True)[0].grid
    assert all(isinstance(d, pd.StringDtype) for d in fast.dtypes)
    assert list(fast.index) == list(ref.index) and list(fast.columns) == list(ref.columns)
    assert _as_object(fast) == ref.to_numpy().tolist()


def test_csv_as_text_ragged_rows_fall_back(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("标题\n名称,金额\n甲,1,多余\n", encoding="utf-8")
    grid = read_sheets(path, as_text=True)[0].grid
    assert grid.dtypes.eq(object).all()
    assert grid.loc[1].tolist() == ["标题", None, None]
    assert grid.loc[3].tolist() == ["甲", "1", "多余"]


def test_csv_as_text_blank_file_is_an_error(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(",,\n  ,\t,\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="文件为空"):
        read_sheets(path, as_text=True)


@given(
    st.lists(
        st.lists(
            st.sampled_from(["a", "", " ", '"q"', '"a,b"', '"x\ny"', '"s ""t"""', 'b"c', "甲 "]),
            min_size=3,
            max_size=3,
        ),
        min_size=1,
        max_size=6,
    ),
    st.sampled_from(["\n", "\r\n", "\r"]),
)
@settings(max_examples=150, deadline=None)
def test_csv_as_text_property(rows, newline):
    text = newline.join(",".join(r) for r in rows) + newline
    data = text.encode("utf-8")
    try:
        ref = _read_csv(data, "t.csv")[0].grid
    except InputFileError:  # blank cells only: both paths must refuse the file
        with pytest.raises(InputFileError):
            _read_csv(data, "t.csv", as_text=True)
        return
    fast = _read_csv(data, "t.csv", as_text=True)[0].grid
    assert list(fast.index) == list(ref.index)
    assert _as_object(fast) == ref.to_numpy().tolist()
