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
import json
import time
from pathlib import Path

import pytest
from bad_inputs import Ids, cert_file, cert_rows

import tianxin_analysis
from tianxin_analysis._fs import sha256_file
from tianxin_analysis.data import run_clean
from tianxin_analysis.errors import TargetsFileError, TianxinError
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
    assert PACKAGE / "io.py" in SOURCES and PACKAGE / "data" / "run.py" in SOURCES


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
