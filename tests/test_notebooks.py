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
