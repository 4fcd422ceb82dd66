"""Security properties of the package source and of file handling.

* No pickle/marshal/shelve, eval/exec/compile, unsafe YAML loaders, shell commands or archive
  extraction anywhere in the package (checked on the syntax tree, so comments and docstrings
  that mention them do not count).
* YAML is read with safe_load: a targets file carrying a python/object tag is refused and
  runs nothing.
* Raw files are read, never written, and outputs stay inside the output folder even when the
  raw folder holds symlinks pointing elsewhere.
"""

from __future__ import annotations

import ast
import dataclasses
import io
import json
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from bad_inputs import Ids, cert_file, cert_rows, patch_xlsx
from stdnum.cn import ric as stdnum_ric
from stdnum.cn import uscc as stdnum_uscc

import tianxin_analysis
from tianxin_analysis import report
from tianxin_analysis._fs import sha256_file
from tianxin_analysis.data import run_clean
from tianxin_analysis.errors import TargetsFileError, TianxinError
from tianxin_analysis.forecast import evaluate_targets
from tianxin_analysis.io import ReadLimits, read_yaml
from tianxin_analysis.targets import load_targets

PACKAGE = Path(tianxin_analysis.__file__).parent
SOURCES = sorted(PACKAGE.rglob("*.py"))

FORBIDDEN_MODULES = {"pickle", "cPickle", "dill", "marshal", "shelve", "cloudpickle", "joblib"}
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__"}
FORBIDDEN_ATTRS = {
    ("yaml", "load"), ("yaml", "unsafe_load"), ("yaml", "full_load"), ("yaml", "load_all"),
    ("yaml", "unsafe_load_all"), ("yaml", "full_load_all"), ("pd", "read_pickle"),
    ("os", "system"), ("os", "popen"), ("pickle", "loads"), ("pickle", "load"),
}  # fmt: skip
FORBIDDEN_METHODS = {"extractall", "to_pickle", "read_pickle"}


def _violations(path: Path, root: Path = PACKAGE) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        where = f"{path.relative_to(root.parent)}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import):
            found += [f"{where} import {a.name}" for a in node.names
                      if a.name.split(".")[0] in FORBIDDEN_MODULES]  # fmt: skip
        elif (
            isinstance(node, ast.ImportFrom)
            and (node.module or "").split(".")[0] in FORBIDDEN_MODULES
        ):
            found.append(f"{where} from {node.module} import")
        elif isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id in FORBIDDEN_CALLS:
                found.append(f"{where} {f.id}()")
            if isinstance(f, ast.Attribute):
                if isinstance(f.value, ast.Name) and (f.value.id, f.attr) in FORBIDDEN_ATTRS:
                    found.append(f"{where} {f.value.id}.{f.attr}()")
                if f.attr in FORBIDDEN_METHODS:
                    found.append(f"{where} .{f.attr}()")
                if f.attr == "load" and isinstance(f.value, ast.Name) and f.value.id == "np":
                    if any(k.arg == "allow_pickle" for k in node.keywords):
                        found.append(f"{where} np.load(allow_pickle=...)")
            for k in node.keywords:
                if k.arg == "shell" and not (
                    isinstance(k.value, ast.Constant) and not k.value.value
                ):
                    found.append(f"{where} shell=True")
    return found


def test_package_source_is_parsed():
    assert len(SOURCES) >= 15
    assert PACKAGE / "io" / "csv.py" in SOURCES and PACKAGE / "data" / "run.py" in SOURCES


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_no_pickle_eval_exec_unsafe_yaml_or_shell(path):
    assert _violations(path) == []


def test_checker_catches_what_it_forbids(tmp_path):
    sample = tmp_path / "pkg" / "bad.py"
    sample.parent.mkdir()
    sample.write_text(
        "import pickle\nimport yaml\nimport subprocess\n"
        "yaml.load(s)\neval(x)\nsubprocess.run(c, shell=True)\nzf.extractall('.')\n",
        encoding="utf-8",
    )
    hits = _violations(sample, root=sample.parent)
    assert len(hits) == 5, hits


def test_yaml_python_tags_are_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "2024.yaml"
    path.write_text(
        f'plan: {{year: 2024}}\ntargets: !!python/object/apply:os.system ["touch {marker}"]\n',
        encoding="utf-8",
    )
    with pytest.raises(TianxinError, match="YAML"):
        load_targets(path)
    assert not marker.exists()


def test_symlinked_raw_file_is_read_not_written_and_outputs_stay_inside(tmp_path):
    outside = tmp_path / "elsewhere" / "名单.xlsx"
    outside.parent.mkdir()
    outside.write_bytes(cert_file(cert_rows(Ids(), 3)))
    digest = sha256_file(outside)
    raw = tmp_path / "raw"
    (raw / "hitech_certificates").mkdir(parents=True)
    (raw / "hitech_certificates" / "链接.xlsx").symlink_to(outside)
    out = tmp_path / "out"
    run = run_clean(raw, out, progress=False)
    assert run.ok and int(run.reconciliation["rows_clean"].sum()) == 3
    assert sha256_file(outside) == digest
    assert sorted(p.name for p in outside.parent.iterdir()) == ["名单.xlsx"]
    for p in out.rglob("*"):
        assert p.resolve().is_relative_to(out.resolve()), p
    lineage = json.loads((out / "lineage.json").read_text(encoding="utf-8"))
    assert [f["path"] for f in lineage["raw_files"]] == ["hitech_certificates/链接.xlsx"]


# ----------------------------------------------------------------------------- issue 17


def _billion_laughs(levels: int = 9) -> str:
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "extra", [_billion_laughs(), "clause: &c [*c]\n"], ids=["alias_bomb", "recursive_alias"]
)
def test_yaml_alias_bomb_is_refused_fast(tmp_path, extra):
    path = tmp_path / "2024.yaml"
    path.write_text("plan: {year: 2024}\n" + extra + "targets: []\n", encoding="utf-8")
    start = time.perf_counter()
    with pytest.raises(TianxinError, match="别名") as err:
        load_targets(path)
    assert time.perf_counter() - start < 2.0
    assert "2024.yaml" in str(err.value)


def test_yaml_size_and_alias_count_bounded(tmp_path):
    path = tmp_path / "2024.yaml"
    path.write_text("plan: {year: 2024}\ntargets: []\n# " + "x" * (2 << 20) + "\n")
    with pytest.raises(TianxinError, match="YAML 文件过大"):
        load_targets(path)
    many = "".join(f"k{i}: *a\n" for i in range(150))
    path.write_text("plan: {year: 2024}\nv: &a 1\n" + many + "targets: []\n")
    with pytest.raises(TianxinError, match="别名"):
        load_targets(path)
    assert read_yaml(path, limits=ReadLimits(max_yaml_aliases=200))["k149"] == 1


_TARGET = (
    "{{id: x, name_zh: a, name_en: a, comparator: '>=', value: {value}, unit: a, unit_en: a, "
    "period: '{period}', kind: {kind}, data_kind: {data_kind}, measure: {measure}, clause: a}}"
)
_GOOD = {"value": 520, "period": "2024-12-31", "kind": "stock",
         "data_kind": "hitech_certificates", "measure": "valid_enterprises"}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "year", "column"),
    [
        ({"value": -520}, 2024, "value"),
        ({"value": 0}, 2024, "value"),
        ({"measure": "valid_enterprize"}, 2024, "measure"),
        ({"data_kind": "tech_contracts"}, 2024, "data_kind"),
        ({"period": "2024-13-31"}, 2024, "period"),
        ({"period": "2042"}, 2024, "period"),
        ({"period": "Q4"}, 2024, "period"),
        ({}, 2025, "plan.year"),
    ],
    ids=["negative", "zero", "mistyped_measure", "wrong_table", "month_13", "far_year",
         "not_a_period", "plan_year_of_another_file"],
)  # fmt: skip
def test_targets_file_values_are_validated(tmp_path, change, year, column):
    path = tmp_path / "2024.yaml"
    target = _TARGET.format(**{**_GOOD, **change})
    path.write_text(f"plan: {{year: {year}}}\ntargets:\n  - {target}\n", encoding="utf-8")
    with pytest.raises(TargetsFileError) as err:
        load_targets(path)
    assert column in str(err.value) and "2024.yaml" in str(err.value)
    path.write_text(f"plan: {{year: 2024}}\ntargets:\n  - {_TARGET.format(**_GOOD)}\n")
    assert load_targets(path)["x"].value == 520


def test_pdf_and_xlsx_cope_with_long_and_control_text(tmp_path):
    from helpers_evaluation import make_evaluation
    from pypdf import PdfReader

    from tianxin_analysis.fonts import find_cjk_font

    if find_cjk_font() is None:
        pytest.skip("no CJK font installed (make fonts)")
    evaluation = make_evaluation(synthetic=True)
    long_name = (
        "长沙市天心区" + "超长名称测试科技创新研究院有限责任公司" * 2 + "第一分公司（长沙）天心区"
    )
    assert len(long_name) >= 56
    frame = evaluation.watch_lists["tech_smes"].assign(
        enterprise_name=[long_name, "退格\x08公司", "x" * 40_000]
    )
    ev = dataclasses.replace(evaluation, watch_lists={"tech_smes": frame})
    pdf = report.render_pdf(ev, [])  # FPDFException before
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert long_name[:12] in text and "…" in text
    book = openpyxl.load_workbook(
        io.BytesIO(report.render_xlsx(ev))
    )  # IllegalCharacterError before
    values = [c.value for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert long_name in values and "退格公司" in values  # full text in the XLSX
    assert "x" * 32_767 in values


def test_control_characters_stripped_on_the_way_in_and_escaped_when_printed(tmp_path):
    rows = cert_rows(Ids(), 3)
    # Excel stores control characters as _xHHHH_ escapes (XML 1.0 cannot hold them)
    rows[0][1] = "长沙BSPACE退格NULBYTE科技有限公司"  # a name with a backspace and a NUL
    rows[1][1] = "BSPACEESCAPE"  # nothing but control characters
    escapes = {"BSPACE": "_x0008_", "NULBYTE": "_x0000_", "ESCAPE": "_x001B_"}

    def with_controls(xml: bytes) -> bytes:
        for word, esc in escapes.items():
            xml = xml.replace(word.encode(), esc.encode())
        return xml

    raw = tmp_path / "raw"
    (raw / "hitech_certificates").mkdir(parents=True)
    evil = raw / "hitech_certificates" / "名单\x1b[2J.xlsx"
    evil.write_bytes(patch_xlsx(cert_file(rows), {"xl/worksheets/sheet1.xml": with_controls}))
    (raw / "hitech_certificates" / "坏\x1b[31m.xlsx").write_bytes(b"not a workbook")
    run = run_clean(raw, tmp_path / "out", progress=False)
    names = run.tables["hitech_certificates"]["enterprise_name"].tolist()
    assert "长沙退格科技有限公司" in names and not any("\x08" in n or "\x00" in n for n in names)
    (q,) = run.quarantine.itertuples()
    assert q.rule == "missing_required" and q.value == "\\x08\\x1b"
    text = run.summary_text()
    assert "\x1b" not in text and "\\x1b[31m" in text and "\\x1b[2J" in text


# A footer row as an export prints it: the person who filled in the form and how to reach them.
_FOOTER = "填表人：张三丰 电话：13812345678 身份证号：110101199003074514 邮箱：zhangsf@example.com"
# not inside a hex digest or run id (run.json, lineage.json hold sha256 values)
_PHONE = re.compile(rb"(?<![0-9A-Za-z])1[3-9][0-9]{9}(?![0-9A-Za-z])")
_ID_CARD = re.compile(rb"(?<![0-9A-Za-z])[1-8][0-9]{16}[0-9Xx](?![0-9A-Za-z])")
_EMAIL = re.compile(rb"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z]{2,}")


def _is_id_card(text: str) -> bool:
    # an all-digit credit code (124301031994323282) has the same shape
    return stdnum_ric.is_valid(text) and not stdnum_uscc.is_valid(text)


def _text_of(path: Path) -> bytes:
    """Everything a reader of ``path`` could see, as bytes to scan."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pandas().to_csv().encode()
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as zf:
            return b"".join(zf.read(n) for n in zf.namelist())
    if path.suffix == ".pdf":
        from pypdf import PdfReader

        return "".join(p.extract_text() for p in PdfReader(path).pages).encode()
    return path.read_bytes()


def test_no_personal_data_in_any_output(tmp_path):
    """clean + report on the sample with a footer row of personal data in two exports: no
    phone number, ID-card number or e-mail address in any file of the outputs."""
    from tianxin_analysis.paths import RAW_DIR

    raw = tmp_path / "raw"
    shutil.copytree(RAW_DIR, raw)
    sme = raw / "tech_sme_registrations" / "科技型中小企业入库名单_2024.csv"
    with sme.open("ab") as fh:
        fh.write((_FOOTER + "\r\n").encode("gb18030"))
    cert = next((raw / "hitech_certificates").glob("*.xlsx"))
    wb = openpyxl.load_workbook(cert)
    wb.worksheets[-1].append([_FOOTER])
    wb.worksheets[-1].append(["联系人", "李四", "手机", "13987654321", "zz@example.org"])
    wb.save(cert)
    processed, reports = tmp_path / "processed", tmp_path / "reports"
    # clean and report as `tianxin clean` / `tianxin report` run them (charts are exported
    # only as embedded in HTML and PDF here: their text is titles and axes, never names)
    run = run_clean(raw, processed, progress=False)
    assert run.ok, run.summary_text()
    evaluation = evaluate_targets(load_targets(raw / "targets" / "2024.yaml"), processed,
                                  as_of="2024-09")  # fmt: skip
    evaluation.write(reports)
    report.build_briefing(evaluation, reports, progress=False, figure_formats=())
    q = pd.read_csv(processed / "quarantine.csv", dtype=str, encoding="utf-8-sig")
    footer = q.loc[q["value"].str.contains("填表人", na=False)]
    assert len(footer) == 2  # the rows keep their place and reason, the values are masked
    assert footer["value"].str.contains("[电话已隐去]", regex=False).all()
    assert not footer["value"].str.contains("张三丰").any()
    found = []
    files = [p for p in [*processed.rglob("*"), *reports.rglob("*")] if p.is_file()]
    assert len(files) > 20
    for path in files:
        if path.suffix == ".png":
            continue
        text = _text_of(path)
        for pattern in (_PHONE, _ID_CARD, _EMAIL):
            found += [(path.name, m.group()) for m in pattern.finditer(text)
                      if pattern is not _ID_CARD or _is_id_card(m.group().decode())]  # fmt: skip
    assert found == []


@pytest.mark.parametrize("as_of", ["1999-01", "2023-12"])
def test_as_of_before_the_plan_year_is_a_message(tmp_path, as_of):
    proc = subprocess.run(
        [sys.executable, "-m", "tianxin_analysis.cli", "--quiet", "forecast",
         "--processed", str(tmp_path / "none"), "--reports", str(tmp_path / "r"),
         "--as-of", as_of, "--year", "2024"],
        capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[1],
    )  # fmt: skip
    # without --year the as-of month picks the plan (issue 15): 1999.yaml does not exist, and
    # that is the message; with --year 2024 the month is checked against the plan year
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "数据截至月份早于计划年度" in proc.stderr and as_of in proc.stderr


def test_stage_probabilities_yaml_is_bounded_too(tmp_path):
    """The pipelines' stage probabilities file goes through the bounded YAML reader (it was
    read with yaml.safe_load, which expands an alias bomb)."""
    from tianxin_analysis.forecast.models import load_stage_probabilities

    path = tmp_path / "stages.yaml"
    path.write_text("评审中: 0.7\n" + _billion_laughs(), encoding="utf-8")
    start = time.perf_counter()
    with pytest.raises(TianxinError, match="别名") as err:
        load_stage_probabilities(path)
    assert time.perf_counter() - start < 2.0 and "stages.yaml" in str(err.value)
    path.write_text("评审中: 0.7\n申报中: 0.4\n", encoding="utf-8")
    assert load_stage_probabilities(path) == {"评审中": 0.7, "申报中": 0.4}
