"""Shared fixtures. Real yearbook data is read from ../shared/real-data when present."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib
import pytest

from tianxin_analysis.paths import SHARED_REAL_DATA

matplotlib.use("Agg")

REAL_YEARBOOK = SHARED_REAL_DATA / "yearbook"

needs_real_data = pytest.mark.skipif(
    not REAL_YEARBOOK.is_dir(),
    reason="../shared/real-data/yearbook not present (a user's clone does not have it)",
)


# ---- docs/scale.md: its code blocks and the engines they run on (test_engines, test_scale_docs)

SCALE_DOC = Path(__file__).resolve().parent.parent / "docs" / "scale.md"


def scale_doc_blocks() -> list[str]:
    """The ```python blocks of docs/scale.md, in order."""
    return re.findall(r"```python\n(.*?)```", SCALE_DOC.read_text(encoding="utf-8"), flags=re.S)


@pytest.fixture(scope="session")
def scale_workdir(tmp_path_factory):
    """A folder laid out as docs/scale.md's code expects: ``data/processed`` (the sample,
    cleaned) and ``dist/`` (this package as a wheel, for ``spark.submit.pyFiles``)."""
    from tianxin_analysis.data import run_clean
    from tianxin_analysis.paths import PROJECT_ROOT, RAW_DIR

    root = tmp_path_factory.mktemp("scale_doc")
    run_clean(RAW_DIR, root / "data" / "processed", progress=False)
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", str(PROJECT_ROOT),
         "-w", str(root / "dist")], capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    if build.returncode != 0:
        pytest.skip(f"the package could not be built as a wheel: {build.stderr[-300:]}")
    return root


@pytest.fixture(scope="session")
def spark(scale_workdir):
    """The Spark session of docs/scale.md's first block (local[2], the wheel shipped)."""
    pytest.importorskip("pyspark", reason="pyspark comes with the [scale] extra (make test)")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("no Java for Spark (make test installs default-jre-headless)")
    block = next(b for b in scale_doc_blocks() if "SparkSession.builder" in b)
    namespace: dict = {}
    cwd = os.getcwd()
    # Spark's JVM and its Python workers start without our PYTHONPATH (as an executor has no
    # copy of the source): the workers can import the package only from the shipped wheel.
    pythonpath = os.environ.pop("PYTHONPATH", None)
    os.chdir(scale_workdir)
    try:
        exec(compile(block, str(SCALE_DOC), "exec"), namespace)
    finally:
        os.chdir(cwd)
        if pythonpath is not None:
            os.environ["PYTHONPATH"] = pythonpath
    session = namespace["spark"]
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
