"""The ``tianxin`` command: messages, not tracebacks; exit codes an analyst can rely on."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tianxin_analysis.cli import build_parser, main
from tianxin_analysis.paths import PROJECT_ROOT


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tianxin_analysis.cli", *args],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300,
    )  # fmt: skip


def test_every_step_has_a_subcommand():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert set(sub.choices) == {
        "sample-data",
        "public-data",
        "clean",
        "forecast",
        "report",
        "notebooks",
        "all",
        "regions",
    }


def test_missing_targets_file_is_a_message(tmp_path, capsys):
    (tmp_path / "targets").mkdir()
    code = main(
        [
            "--quiet",
            "forecast",
            "--raw",
            str(tmp_path),
            "--processed",
            str(tmp_path),
            "--year",
            "2031",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "2031.yaml" in err and "targets file not found" in err


def test_missing_yearbook_folder_is_a_message(tmp_path):
    res = _run("public-data", "--yearbook", str(tmp_path / "nowhere"), "--raw", str(tmp_path))
    assert res.returncode == 2
    assert "yearbook folder not found" in res.stderr and "Traceback" not in res.stderr


def test_forecast_without_processed_data_says_run_clean(tmp_path):
    res = _run(
        "--quiet", "forecast", "--processed", str(tmp_path / "empty"), "--reports", str(tmp_path)
    )
    assert res.returncode == 2
    assert "tianxin clean" in res.stderr and "Traceback" not in res.stderr


@pytest.mark.parametrize("bad", ["2024-13", "September"])
def test_bad_as_of_month_is_a_message(tmp_path, bad):
    res = _run("--quiet", "forecast", "--as-of", bad, "--reports", str(tmp_path))
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr and "as-of" in res.stderr


def test_forecast_writes_the_summary_table(tmp_path):
    processed = tmp_path / "processed"
    assert _run("--quiet", "clean", "--out", str(processed)).returncode == 0
    res = _run("--quiet", "forecast", "--processed", str(processed), "--reports", str(tmp_path))
    assert res.returncode == 0, res.stderr
    assert "高新技术企业数量" in res.stdout
    text = (tmp_path / "forecast_summary.csv").read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("指标代码") and len(text.splitlines()) == 11


def test_unknown_only_name_lists_the_valid_ones(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--quiet", "report", "--only", "html,word"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert "word" in err and "html, pdf, xlsx, docx, figures" in err and "Traceback" not in err


def test_bad_target_value_is_a_message(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--quiet", "forecast", "--target", "tech_contracts_count=lots"])
    assert exit_.value.code == 2 and "id=value" in capsys.readouterr().err


def test_what_if_targets_go_to_a_marked_scenario_folder(tmp_path, capsys):
    processed, reports = tmp_path / "processed", tmp_path / "reports"
    assert main(["--quiet", "clean", "--out", str(processed)]) == 0
    whatif = tmp_path / "whatif.yaml"
    whatif.write_text("tech_contracts_count: 4700\ntech_smes: 560\n", encoding="utf-8")
    capsys.readouterr()
    args = ["--quiet", "forecast", "--processed", str(processed), "--reports", str(reports)]
    code = main([*args, "--targets", str(whatif), "--target", "tech_contracts_count=4800"])
    out = capsys.readouterr().out
    assert code == 0
    assert "情景测算" in out and "4,500 → 4,800 项" in out and "540 → 560 家" in out
    assert (reports / "scenario" / "forecast_summary.csv").is_file()
    assert not (reports / "forecast_summary.csv").exists()  # the published table is untouched
    # An id that is not in the plan: the message names the file and lists the plan's ids.
    whatif.write_text("tech_contract: 4800\n", encoding="utf-8")
    assert main([*args, "--targets", str(whatif)]) == 2
    err = capsys.readouterr().err
    assert "whatif.yaml" in err and "tech_contracts_count" in err and "Traceback" not in err



def _ambiguous_raw(root):
    """A certificate folder with an older export in 旧版/, a byte-identical copy and a
    workbook whose second sheet is hidden (each with rows no other file has)."""
    import bad_inputs

    ids = bad_inputs.Ids()
    head = list(bad_inputs.CERT_HEADER)
    folder = root / "hitech_certificates"
    (folder / "旧版").mkdir(parents=True)
    (folder / "名单.xlsx").write_bytes(bad_inputs.cert_file(bad_inputs.cert_rows(ids, 3)))
    (folder / "名单 - 副本.xlsx").write_bytes((folder / "名单.xlsx").read_bytes())
    (folder / "旧版" / "名单_旧.xlsx").write_bytes(
        bad_inputs.cert_file(bad_inputs.cert_rows(ids, 2, start=50))
    )
    hidden = bad_inputs.patch_xlsx(
        bad_inputs.xlsx_bytes({"2023年": [head, *bad_inputs.cert_rows(ids, 2, start=70)],
                               "旧数据": [head, *bad_inputs.cert_rows(ids, 2, start=90)]}),
        {"xl/workbook.xml": lambda x: x.replace(b'sheetId="2" state="visible"',
                                                 b'sheetId="2" state="hidden"')},
    )  # fmt: skip
    (folder / "含隐藏表.xlsx").write_bytes(hidden)
    return root


SKIPPED_BY_DEFAULT = {
    ("hitech_certificates/旧版/名单_旧.xlsx", ""),
    ("hitech_certificates/名单 - 副本.xlsx", ""),
    ("hitech_certificates/含隐藏表.xlsx", "旧数据"),
}


@pytest.mark.parametrize("command", ["clean", "all"])
def test_clean_options_read_what_is_skipped_by_default(tmp_path, capsys, command):
    """``--include-subfolders/--include-duplicates/--include-hidden-sheets`` on ``tianxin
    clean`` and ``tianxin all`` reach run_clean: what was skipped is read, rows included."""
    import json

    raw = _ambiguous_raw(tmp_path / "raw")
    flags = ["--include-subfolders", "--include-duplicates", "--include-hidden-sheets"]
    clean_rows = {}
    for options in ([], flags):
        out = tmp_path / f"out{len(options)}"
        # `all` goes on to forecast (this raw folder has no targets file): the clean is tested
        main(["--quiet", command, "--raw", str(raw), "--processed", str(out), *options])
        text = capsys.readouterr().out
        lineage = json.loads((out / "lineage.json").read_text(encoding="utf-8"))
        skipped = {(s["file"], s["sheet"]) for s in lineage["skipped"]}
        assert skipped == (set() if options else SKIPPED_BY_DEFAULT), text
        assert lineage["failures"] == [], text
        clean_rows[len(options)] = text
    assert "旧版/名单_旧.xlsx" in clean_rows[3] and "跳过 SKIPPED" not in clean_rows[3]
    assert "跳过 SKIPPED" in clean_rows[0]


def test_clean_options_have_chinese_and_english_help(capsys):
    for command in ("clean", "all"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        for flag, zh, en in (("--include-subfolders", "子文件夹", "subfolders"),
                             ("--include-duplicates", "字节完全相同", "byte-identical"),
                             ("--include-hidden-sheets", "隐藏工作表", "hidden sheets")):  # fmt: skip
            assert flag in text and zh in text and en in text, (command, flag)


@pytest.fixture
def broken_contracts(tmp_path):
    """A processed folder cleaned from a copy of the sample, then the contracts workbook of
    that copy truncated (as a half-copied file)."""
    import shutil

    from tianxin_analysis.paths import RAW_DIR

    raw = tmp_path / "raw"
    shutil.copytree(RAW_DIR, raw, ignore=shutil.ignore_patterns("public"))
    processed = tmp_path / "processed"
    assert main(["--quiet", "clean", "--raw", str(raw), "--out", str(processed)]) == 0
    (book,) = (raw / "tech_contracts").glob("*.xlsx")
    book.write_bytes(book.read_bytes()[:5000])
    return raw, processed


def test_all_stops_after_a_failed_clean_and_says_what_was_kept(broken_contracts, tmp_path, capsys):
    raw, processed = broken_contracts
    before = (processed / "tech_contracts.csv").read_bytes()
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "briefing.html").write_text("last month", encoding="utf-8")
    code = main(["--quiet", "all", "--raw", str(raw), "--processed", str(processed),
                 "--reports", str(reports)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1
    assert "清洗步骤失败" in err and "tech_contracts" in err
    assert "保留上次成功的数据表 kept the last good table: tech_contracts" in err
    assert "预测、笔记本和简报未运行" in err and "--use-last-good" in err
    assert "Traceback" not in err
    assert (processed / "tech_contracts.csv").read_bytes() == before
    assert sorted(p.name for p in reports.iterdir()) == ["briefing.html"]
    assert (reports / "briefing.html").read_text(encoding="utf-8") == "last month"


def test_all_with_use_last_good_goes_on_and_passes_it_downstream(broken_contracts, tmp_path,
                                                                 capsys, monkeypatch):  # fmt: skip
    from tianxin_analysis import cli

    raw, processed = broken_contracts
    seen = {}

    def write_reports(args, stage, progress):  # the notebooks and charts are tested elsewhere
        seen["use_last_good"] = args.use_last_good
        seen["evaluation"] = cli._evaluate(args)

    monkeypatch.setattr(cli, "_write_reports", write_reports)
    code = main(["--quiet", "all", "--raw", str(raw), "--processed", str(processed),
                 "--reports", str(tmp_path / "reports"), "--use-last-good"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "清洗步骤失败" in captured.err and "继续" in captured.err
    assert seen["use_last_good"] is True
    table = seen["evaluation"].table.set_index("target_id")
    assert "沿用此前一次成功清洗的数据表" in table.loc["tech_contracts_count", "data_note"]
