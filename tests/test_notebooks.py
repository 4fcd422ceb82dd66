"""The notebook collection as an analyst uses it: papermill runs with other parameters.

nbval (``pytest notebooks --nbval``) checks the committed outputs; these tests check that the
same notebooks serve another month, as their parameters cell promises.
"""

from __future__ import annotations

import json

import nbformat
import pytest

from tianxin_analysis.notebook_runner import NOTEBOOK_DIR, execute_copy, notebook_paths


def _outputs_text(path) -> str:
    nb = json.loads(path.read_text(encoding="utf-8"))
    parts = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            parts.append("".join(out.get("text", "")))
            parts.append("".join(out.get("data", {}).get("text/plain", "")))
            parts.append("".join(out.get("data", {}).get("text/html", "")))
    return "\n".join(parts)


def test_every_notebook_starts_with_a_parameters_cell():
    paths = notebook_paths()
    assert len(paths) == 9
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert "parameters" in code[0].metadata.get("tags", []), path.name
        assert all(len(c.source.splitlines()) <= 14 for c in code), f"{path.name}: a cell grew long"


@pytest.mark.parametrize("name", ["01_目标总览.ipynb", "05_技术合同.ipynb"])
def test_papermill_runs_a_notebook_for_another_month(tmp_path, name):
    out = execute_copy(NOTEBOOK_DIR / name, tmp_path, parameters={"AS_OF": "2024-06"})
    text = _outputs_text(out)
    assert "数据截至 2024年6月" in text
    assert "2024年9月" not in text
    nb = json.loads(out.read_text(encoding="utf-8"))
    assert not any(
        o.get("output_type") == "error" for c in nb["cells"] for o in c.get("outputs", [])
    )


def test_every_parameter_is_used():
    """A parameter an analyst can set but no cell reads would promise a choice that is not there."""
    import ast

    for path in notebook_paths():
        # 09 is reworked on another branch (issue 16); its unused PROCESSED_DIR is left to it.
        if path.name.startswith("09_"):
            continue
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        params = [
            t.id
            for node in ast.parse(code[0].source).body
            if isinstance(node, ast.Assign)
            for t in node.targets
            if isinstance(t, ast.Name)
        ]
        rest = "\n".join(c.source for c in code[1:])
        unused = [p for p in params if p not in rest]
        assert not unused, f"{path.name}: unused parameters {unused}"


def test_tables_are_shown_formatted_not_as_raw_floats():
    """Displayed tables go through tables.format_table / status_display, not .round(3)."""
    for path in notebook_paths():
        if path.name.startswith("09_"):  # the method notebook shows error metrics as computed
            continue
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert ".round(" not in cell.source, f"{path.name}: {cell.source[:60]}"
                assert "labelled_table()" not in cell.source, f"{path.name}: {cell.source[:60]}"


def test_kernel_is_not_interrupted_when_it_is_shut_down(tmp_path):
    """jupyter_client sends SIGINT before every shutdown; when it landed while the kernel was
    answering a message, ipykernel printed ``[IPKernelApp] ERROR | KeyboardInterrupt caught in
    kernel.`` after a good run. Here the kernel records any SIGINT it receives in a file."""
    import time

    from nbclient import NotebookClient

    from tianxin_analysis.notebook_runner import _quiet_shutdown_manager

    mark = tmp_path / "sigint.txt"
    nb = nbformat.v4.new_notebook()
    # Installed from the event loop after the cell: ipykernel restores its own handler when a
    # cell ends, so a handler set inside the cell would not survive.
    nb.cells = [nbformat.v4.new_code_cell(
        "import asyncio, signal\n"
        f"record = lambda *a: open({str(mark)!r}, 'w').write('SIGINT')\n"
        "asyncio.get_running_loop().call_later(0.2, signal.signal, signal.SIGINT, record)"
    )]  # fmt: skip
    for manager, interrupted in ((None, True), (_quiet_shutdown_manager(), False)):
        mark.unlink(missing_ok=True)
        kw = {} if manager is None else {"kernel_manager_class": manager}
        client = NotebookClient(nb, timeout=60, kernel_name="python3", **kw)
        with client.setup_kernel():
            client.execute_cell(nb.cells[0], 0)
            time.sleep(1.0)  # the handler is in place; shutting down follows
        time.sleep(0.5)
        assert mark.exists() is interrupted, manager


def test_pipeline_notebook_names_every_pipelines_candidates(tmp_path):
    """Notebook 08 shows each pipeline target's named candidates and its tally (issue 18:
    leaders want which platform, which stage, when expected, who is responsible)."""
    from tianxin_analysis.paths import RAW_DIR
    from tianxin_analysis.targets import load_targets

    plan = load_targets(RAW_DIR / "targets" / "2024.yaml")
    pipelines = [t for t in plan.targets if t.kind == "pipeline_count"]
    assert pipelines
    out = execute_copy(NOTEBOOK_DIR / "08_平台楼宇与人才.ipynb", tmp_path)
    text = _outputs_text(out)
    for t in pipelines:
        assert f"目标 {t.value:g} {t.unit}：已认定" in text, t.id
    for header in ("所处阶段", "预计认定时间", "责任单位", "年内认定可能性"):
        assert header in text
